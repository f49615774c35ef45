//! False-positive budget of the per-file rules on real popular packages.
//!
//! Needs a directory of real npm tarballs (`PALISADE_POPULAR_DIR`, e.g. the packages of
//! ../shared/bench/popular-1000.tsv downloaded with curl), so it is `#[ignore]`d:
//!
//! ```text
//! PALISADE_POPULAR_DIR=/tmp/popular cargo test -p palisade-analyze --test popular_quiet -- --ignored --nocapture
//! ```
//!
//! Prints, per rule, how many packages get a finding at each severity, and the packages behind
//! critical/high findings; fails when any rule puts more than 1% of the packages at critical or
//! more than 5% at high or above (issue 3's targets for the whole verdict).

use std::collections::BTreeMap;
use std::path::PathBuf;

use palisade_analyze::{scan_package, ScanOptions};
use palisade_core::Severity;
use palisade_tarball::{read_tgz, Limits};

#[test]
#[ignore = "needs PALISADE_POPULAR_DIR with real npm tarballs"]
fn rules_stay_quiet_on_popular_packages() {
    let Some(dir) = std::env::var_os("PALISADE_POPULAR_DIR").map(PathBuf::from) else {
        panic!("set PALISADE_POPULAR_DIR to a directory of .tgz files");
    };
    let mut tarballs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|ext| ext == "tgz"))
        .collect();
    tarballs.sort();
    assert!(!tarballs.is_empty(), "no .tgz files in {}", dir.display());

    // rule -> severity -> packages
    let mut hits: BTreeMap<String, BTreeMap<Severity, Vec<String>>> = BTreeMap::new();
    let mut scanned = 0usize;
    let started = std::time::Instant::now();
    let mut bytes = 0u64;
    for path in &tarballs {
        let Ok(data) = std::fs::read(path) else { continue };
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let Ok(contents) = read_tgz(&data, &name, &Limits::default()) else {
            continue;
        };
        let result = scan_package(&contents, &ScanOptions::default());
        scanned += 1;
        bytes += result.bytes_scanned;
        let mut worst: BTreeMap<String, Severity> = BTreeMap::new();
        for finding in &result.findings {
            let entry = worst.entry(finding.rule.clone()).or_insert(finding.severity);
            if finding.severity > *entry {
                *entry = finding.severity;
            }
        }
        for (rule, severity) in worst {
            hits.entry(rule)
                .or_default()
                .entry(severity)
                .or_default()
                .push(name.clone());
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!("{scanned} packages, {:.1} MB in {elapsed:.1} s", bytes as f64 / 1e6);

    let mut over_budget = Vec::new();
    for (rule, by_severity) in &hits {
        let count = |s: Severity| by_severity.get(&s).map_or(0, Vec::len);
        println!(
            "{rule:28} critical {:4}  high {:4}  moderate {:4}  low {:4}",
            count(Severity::Critical),
            count(Severity::High),
            count(Severity::Moderate),
            count(Severity::Low)
        );
        for severity in [Severity::Critical, Severity::High] {
            for package in by_severity.get(&severity).into_iter().flatten() {
                println!("    {severity:?}: {package}");
            }
        }
        let critical = count(Severity::Critical) as f64 / scanned as f64;
        let high_or_worse = (count(Severity::Critical) + count(Severity::High)) as f64 / scanned as f64;
        if critical > 0.01 || high_or_worse > 0.05 {
            over_budget.push(format!(
                "{rule}: critical {:.1}%, high+ {:.1}%",
                critical * 100.0,
                high_or_worse * 100.0
            ));
        }
    }
    assert!(
        over_budget.is_empty(),
        "rules over the false-positive budget: {over_budget:?}"
    );
}
