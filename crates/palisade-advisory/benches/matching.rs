//! Hot paths of the advisory database, on the real shared data
//! (`../shared/data/osv`: 22,241 OpenSSF malicious-package reports plus the
//! GHSA sample): opening the index and matching 2,000 packages, and
//! evaluating one OSV range.
//!
//! Run: `cargo bench -p palisade-advisory --bench matching`.

use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion};
use palisade_advisory::{import, parse_version, Database, EventKind, ImportOptions, Range};
use palisade_core::PackageId;

/// 2,000 packages like a large lockfile's: mostly names with no advisory,
/// 10% names that have one (at versions that may or may not be affected).
fn inventory(database: &Database) -> Vec<PackageId> {
    let known = database.package_names().expect("names");
    let mut packages = Vec::with_capacity(2000);
    for index in 0..2000 {
        if index % 10 == 0 {
            let name = &known[(index * 7919) % known.len()];
            packages.push(PackageId::new(name.clone(), format!("1.{}.0", index % 5)));
        } else {
            packages.push(PackageId::new(
                format!("benign-package-{index}"),
                format!("{}.2.3", index % 9),
            ));
        }
    }
    for (name, version) in [
        ("lodash", "4.17.20"),
        ("qs", "6.9.4"),
        ("flatmap-stream", "0.1.1"),
        ("express", "4.19.2"),
    ] {
        packages.push(PackageId::new(name, version));
    }
    packages
}

fn benches(c: &mut Criterion) {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/osv");
    let home = tempfile::tempdir().expect("tempdir");
    let sources = [
        shared.join("ossf-malicious-npm.zip"),
        shared.join("ghsa-npm-sample.zip"),
    ];
    let started = std::time::Instant::now();
    let summary = import(home.path(), &sources, ImportOptions::default()).expect("import the shared data");
    eprintln!("import of {} records: {:?}", summary.records_read, started.elapsed());

    let database = Database::open(home.path()).expect("open");
    let packages = inventory(&database);
    let found = database.matches(&packages).expect("match");
    eprintln!("{} packages → {} matches", packages.len(), found.len());

    c.bench_function("open + matches (2000 packages, full shared data)", |b| {
        b.iter(|| {
            let database = Database::open(home.path()).expect("open");
            black_box(database.matches(black_box(&packages)).expect("match"))
        })
    });
    c.bench_function("matches (2000 packages, open database)", |b| {
        b.iter(|| black_box(database.matches(black_box(&packages)).expect("match")))
    });
    c.bench_function("open baseline (in memory)", |b| {
        b.iter(|| black_box(Database::baseline().expect("baseline")))
    });

    let events: Vec<(EventKind, String)> = [
        (EventKind::Introduced, "0"),
        (EventKind::Fixed, "4.17.12"),
        (EventKind::Introduced, "5.0.0-alpha.1"),
        (EventKind::LastAffected, "5.2.0"),
    ]
    .into_iter()
    .map(|(kind, version)| (kind, version.to_string()))
    .collect();
    let range = Range::new(&events).expect("valid range");
    let version = parse_version("4.17.11").expect("valid version");
    c.bench_function("range contains (parsed)", |b| {
        b.iter(|| black_box(range.contains(black_box(&version))))
    });
    c.bench_function("range parse + contains", |b| {
        b.iter(|| {
            let range = Range::new(black_box(&events)).expect("valid range");
            let version = parse_version(black_box("5.1.0-rc.2")).expect("valid version");
            black_box(range.contains(&version))
        })
    });
}

criterion_group!(matching, benches);
criterion_main!(matching);
