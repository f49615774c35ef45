//! Runs `facts::extract` on files, for profiling and throughput measurement:
//! `cargo run --release -p palisade-analyze --example extract_file -- [-n RUNS] [--json] FILE...`
//! (e.g. under `perf stat -e task-clock` or `valgrind --tool=callgrind`). Prints one line
//! per file with the fact counts; `--json` prints the facts instead (to diff before/after).

// The same allocator as the `palisade` binary, so the figures are what users get.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let mut runs = 1usize;
    let mut json = false;
    let mut files = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-n" => runs = args.next().and_then(|n| n.parse().ok()).unwrap_or(1),
            "--json" => json = true,
            _ => files.push(arg),
        }
    }
    if files.is_empty() {
        eprintln!("usage: extract_file [-n RUNS] [--json] FILE...");
        return std::process::ExitCode::from(2);
    }
    for path in &files {
        let data = match std::fs::read(path) {
            Ok(data) => data,
            Err(error) => {
                eprintln!("{path}: {error}");
                return std::process::ExitCode::from(2);
            }
        };
        let started = std::time::Instant::now();
        for run in 0..runs {
            let facts = palisade_analyze::facts::extract(path, std::hint::black_box(&data), 0o644);
            if run + 1 < runs {
                continue;
            }
            if json {
                match serde_json::to_string_pretty(&facts) {
                    Ok(text) => println!("{text}"),
                    Err(error) => eprintln!("{path}: {error}"),
                }
            } else {
                let seconds = started.elapsed().as_secs_f64();
                println!(
                    "{path}: {} bytes, parsed {}, {} calls, {} assignments, {} member reads, {} strings, {} imports; {:.1} MB/s wall",
                    data.len(),
                    facts.parsed,
                    facts.calls.len(),
                    facts.assignments.len(),
                    facts.member_reads.len(),
                    facts.strings.len(),
                    facts.imports.len(),
                    (data.len() * runs) as f64 / seconds / 1e6
                );
            }
        }
    }
    std::process::ExitCode::SUCCESS
}
