//! Analyzer throughput on large real bundles (issue 3 target: >= 50 MB/s of JavaScript
//! per core). Fetch the bundles once with `bench/fetch-bundles.sh`; without them the
//! benchmark has nothing to measure and says so.

use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

// The same allocator as the `palisade` binary, so the figures are what users get.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn bundles() -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../bench/bundles");
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "js") {
                if let Ok(data) = std::fs::read(&path) {
                    let name = path
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    out.push((name, data));
                }
            }
        }
    }
    out.sort();
    out
}

fn extract(c: &mut Criterion) {
    let bundles = bundles();
    if bundles.is_empty() {
        eprintln!("no bundles under bench/bundles: run bench/fetch-bundles.sh first; skipping");
        return;
    }
    let mut group = c.benchmark_group("extract");
    group.sample_size(10);
    for (name, data) in &bundles {
        group.throughput(Throughput::Bytes(data.len() as u64));
        group.bench_function(name.as_str(), |b| {
            b.iter(|| palisade_analyze::facts::extract(name, std::hint::black_box(data), 0o644))
        });
    }
    group.finish();
}

/// oxc's parser alone, for comparison: the floor the extractor cannot beat.
fn parse_only(c: &mut Criterion) {
    let bundles = bundles();
    let mut group = c.benchmark_group("oxc-parse");
    group.sample_size(10);
    for (name, data) in &bundles {
        let Ok(text) = std::str::from_utf8(data) else { continue };
        group.throughput(Throughput::Bytes(data.len() as u64));
        // One arena reset per iteration, as `facts::extract` reuses its parse thread's arena.
        let mut allocator = oxc_allocator::Allocator::default();
        group.bench_function(name.as_str(), |b| {
            b.iter(|| {
                allocator.reset();
                let parsed = oxc_parser::Parser::new(&allocator, text, oxc_span::SourceType::cjs()).parse();
                std::hint::black_box(parsed.program.body.len())
            })
        });
    }
    group.finish();
}

/// A bundle as a package of one file.
fn one_file_package(name: &str, data: &[u8]) -> palisade_tarball::PackageContents {
    palisade_tarball::PackageContents {
        origin: name.to_string(),
        files: vec![palisade_tarball::PackageFile {
            path: name.to_string(),
            data: data.to_vec(),
            mode: 0o644,
        }],
        ..Default::default()
    }
}

/// The whole analyzer: facts plus every rule and the scoring, one bundle as a one-file package.
fn scan(c: &mut Criterion) {
    let bundles = bundles();
    let mut group = c.benchmark_group("scan");
    group.sample_size(10);
    let options = palisade_analyze::ScanOptions::default();
    for (name, data) in &bundles {
        let contents = one_file_package(name, data);
        group.throughput(Throughput::Bytes(data.len() as u64));
        group.bench_function(name.as_str(), |b| {
            b.iter(|| palisade_analyze::scan_package(std::hint::black_box(&contents), &options))
        });
    }
    group.finish();
}

/// The whole analyzer over every bundle in turn, as one throughput figure: what a core
/// sustains across large real bundles of both kinds (minified and not).
fn scan_all(c: &mut Criterion) {
    let bundles = bundles();
    if bundles.is_empty() {
        return;
    }
    let options = palisade_analyze::ScanOptions::default();
    let packages: Vec<palisade_tarball::PackageContents> = bundles
        .iter()
        .map(|(name, data)| one_file_package(name, data))
        .collect();
    let bytes: u64 = bundles.iter().map(|(_, data)| data.len() as u64).sum();
    let mut group = c.benchmark_group("scan-all");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(bytes));
    group.bench_function("all-bundles", |b| {
        b.iter(|| {
            for package in &packages {
                std::hint::black_box(palisade_analyze::scan_package(std::hint::black_box(package), &options));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, extract, parse_only, scan, scan_all);
criterion_main!(benches);
