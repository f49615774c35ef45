//! Lockfile parsing throughput on the real fixtures (the hot path of every
//! command). `cargo bench -p palisade-lockfile`.

use std::path::Path;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use palisade_lockfile::{extract_str, LockfileKind};

const FIXTURES: &[(&str, LockfileKind)] = &[
    ("npm/create-react-app.2.json", LockfileKind::Npm),
    ("npm/insomnia.3.json", LockfileKind::Npm),
    ("yarn/sentry-javascript.v1.lock", LockfileKind::Yarn),
    ("yarn/outline.berry-v8.lock", LockfileKind::Yarn),
    ("pnpm/hoppscotch.v9.yaml", LockfileKind::Pnpm),
    ("pnpm/hoppscotch.v5.yaml", LockfileKind::Pnpm),
    ("bun/midday.lock", LockfileKind::Bun),
];

fn parse(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/real");
    let mut group = c.benchmark_group("extract");
    group.sample_size(20);
    for (file, kind) in FIXTURES {
        let Ok(text) = std::fs::read_to_string(root.join(file)) else {
            eprintln!("skipping {file}: not found");
            continue;
        };
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(file), &text, |b, text| {
            b.iter(|| extract_str(*kind, file, text).map(|inventory| inventory.packages.len()))
        });
    }
    group.finish();
}

criterion_group!(benches, parse);
criterion_main!(benches);
