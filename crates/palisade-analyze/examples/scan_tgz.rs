//! Whole-package throughput, split into fact extraction and rules, with a per-rule breakdown:
//! `cargo run --release -p palisade-analyze --example scan_tgz -- [-n RUNS] [--findings] PKG.tgz...`
//! (`--findings` prints every finding as JSON, to diff before/after a rule optimisation).

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let mut runs = 1usize;
    let mut print_findings = false;
    let mut paths = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-n" => runs = args.next().and_then(|n| n.parse().ok()).unwrap_or(1),
            "--findings" => print_findings = true,
            _ => paths.push(arg),
        }
    }
    if paths.is_empty() {
        eprintln!("usage: scan_tgz [-n RUNS] [--findings] PKG.tgz...");
        return std::process::ExitCode::from(2);
    }
    let limits = palisade_tarball::Limits::default();
    let options = palisade_analyze::ScanOptions::default();
    let (mut total_bytes, mut total_extract, mut total_rules) = (0u64, 0.0f64, 0.0f64);
    let mut per_rule: Vec<(&'static str, f64)> = Vec::new();
    for path in &paths {
        let contents = match std::fs::read(path)
            .map_err(|e| e.to_string())
            .and_then(|b| palisade_tarball::read_tgz(&b, path, &limits).map_err(|e| e.to_string()))
        {
            Ok(contents) => contents,
            Err(error) => {
                eprintln!("{path}: {error}");
                return std::process::ExitCode::from(2);
            }
        };
        let bytes: u64 = contents.files.iter().map(|f| f.data.len() as u64).sum();
        let (mut extract, mut rules) = (0.0, 0.0);
        for run in 0..runs {
            let started = std::time::Instant::now();
            let package = palisade_analyze::rules::package_facts(&contents, &options);
            extract += started.elapsed().as_secs_f64();
            let started = std::time::Instant::now();
            let mut findings = Vec::new();
            let times = palisade_analyze::rules::run_all_timed(&package, &mut findings);
            rules += started.elapsed().as_secs_f64();
            for (id, t) in times {
                match per_rule.iter_mut().find(|(i, _)| *i == id) {
                    Some(slot) => slot.1 += t,
                    None => per_rule.push((id, t)),
                }
            }
            if print_findings && run == 0 {
                findings.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
                for finding in &findings {
                    println!("{path}: {}", serde_json::to_string(finding).unwrap_or_default());
                }
            }
        }
        let mb = (bytes * runs as u64) as f64 / 1e6;
        eprintln!(
            "{path}: {:.1} MB, extract {:.3} s ({:.1} MB/s), rules {:.3} s ({:.1} MB/s), whole {:.1} MB/s",
            bytes as f64 / 1e6,
            extract,
            mb / extract,
            rules,
            mb / rules,
            mb / (extract + rules)
        );
        total_bytes += bytes * runs as u64;
        total_extract += extract;
        total_rules += rules;
    }
    let mb = total_bytes as f64 / 1e6;
    eprintln!(
        "total: {mb:.1} MB, extract {total_extract:.3} s, rules {total_rules:.3} s, whole {:.1} MB/s",
        mb / (total_extract + total_rules)
    );
    per_rule.sort_by(|a, b| b.1.total_cmp(&a.1));
    for (id, t) in per_rule.iter().take(12) {
        eprintln!("  {id:<32} {t:.3} s");
    }
    std::process::ExitCode::SUCCESS
}
