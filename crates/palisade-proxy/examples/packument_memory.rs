//! Peak memory and time of the packument filter on a real document:
//! `cargo run --release -p palisade-proxy --example packument_memory -- next.json`
//! (fetch one with `curl -o next.json https://registry.npmjs.org/next`).
//! Prints the process's peak RSS (VmHWM) after each step.

use std::time::Instant;

use bytes::Bytes;
use palisade_proxy::packument::{Form, Packument};

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("VmHWM:"))
                .and_then(|line| line.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: packument_memory <packument.json>");
        std::process::exit(2);
    };
    let before = peak_rss_kib();
    let body = match std::fs::read(&path) {
        Ok(body) => Bytes::from(body),
        Err(error) => {
            eprintln!("{path}: {error}");
            std::process::exit(2);
        }
    };
    let read = peak_rss_kib();
    if std::env::args().nth(2).as_deref() == Some("--value") {
        // The baseline this design avoids: one serde_json::Value tree of the document.
        let started = Instant::now();
        let value: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        println!(
            "{path}: serde_json::Value parse {:.1} ms, peak RSS {} KiB (document {} KiB; peak / document = {:.2}), {} versions",
            started.elapsed().as_secs_f64() * 1e3,
            peak_rss_kib(),
            body.len() / 1024,
            peak_rss_kib().saturating_sub(before) as f64 / (body.len() as f64 / 1024.0),
            value["versions"].as_object().map_or(0, |v| v.len())
        );
        return;
    }
    let started = Instant::now();
    let doc = match Packument::parse(body.clone()) {
        Ok(doc) => doc,
        Err(error) => {
            eprintln!("{path}: {error}");
            std::process::exit(1);
        }
    };
    let parse_time = started.elapsed();
    let parsed = peak_rss_kib();
    // Hide every other version, as a worst-case policy.
    let keep: Vec<bool> = (0..doc.versions.len()).map(|i| i % 2 == 0).collect();
    let tags = doc.dist_tags.clone();
    let mut sizes = Vec::new();
    let mut times = Vec::new();
    for form in [Form::Full, Form::Abbreviated] {
        let started = Instant::now();
        let out = doc.render(form, &keep, &tags, "http://127.0.0.1:4873");
        times.push(started.elapsed());
        sizes.push(out.len());
    }
    let rendered = peak_rss_kib();
    println!(
        "{path}: {} bytes, {} versions\n  parse once: {:.1} ms; render full: {:.1} ms ({} bytes); render abbreviated: {:.1} ms ({} bytes)\n  peak RSS: start {} KiB, after read {} KiB, after parse {} KiB, after both renders {} KiB (document {} KiB; peak / document = {:.2})",
        body.len(),
        doc.versions.len(),
        parse_time.as_secs_f64() * 1e3,
        times[0].as_secs_f64() * 1e3,
        sizes[0],
        times[1].as_secs_f64() * 1e3,
        sizes[1],
        before,
        read,
        parsed,
        rendered,
        body.len() / 1024,
        (rendered.saturating_sub(before)) as f64 / (body.len() as f64 / 1024.0),
    );
}
