//! Data-driven detection test: every package under `tests/fixtures/synthetic/malicious/` must
//! scan as malicious and every package under `tests/fixtures/synthetic/benign/` as clean.
//!
//! The packages imitate techniques of real incidents (written from public analyses, harmless:
//! fake hosts, no runnable payloads) and legitimate look-alikes. Adding a directory adds a case.

use std::path::{Path, PathBuf};

use palisade_analyze::{scan_package, ScanOptions, ScanResult};
use palisade_core::Verdict;
use palisade_tarball::{read_dir, Limits};

fn fixtures(kind: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/synthetic")
        .join(kind);
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("reading {}: {e}", root.display()))
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.is_dir())
        .collect();
    dirs.sort();
    dirs
}

fn scan(dir: &Path) -> ScanResult {
    let contents = read_dir(dir, &Limits::default()).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()));
    scan_package(&contents, &ScanOptions::default())
}

fn describe(dir: &Path, result: &ScanResult) -> String {
    let mut text = format!(
        "{} → {} (score {:.2})\n",
        dir.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        result.verdict,
        result.score
    );
    for finding in &result.findings {
        text.push_str(&format!(
            "    {} {:?} {}:{} {}\n",
            finding.rule,
            finding.severity,
            finding.file.as_deref().unwrap_or("-"),
            finding.line.unwrap_or(0),
            finding.message
        ));
    }
    text
}

fn check(kind: &str, expected: Verdict) {
    let dirs = fixtures(kind);
    assert!(
        dirs.len() >= 5,
        "expected synthetic {kind} packages, found {}",
        dirs.len()
    );
    let mut failures = Vec::new();
    for dir in &dirs {
        let result = scan(dir);
        if result.verdict != expected {
            failures.push(describe(dir, &result));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} {kind} packages did not scan as {expected}:\n{}",
        failures.len(),
        dirs.len(),
        failures.join("")
    );
}

#[test]
fn every_malicious_package_is_malicious() {
    check("malicious", Verdict::Malicious);
}

#[test]
fn every_benign_package_is_clean() {
    check("benign", Verdict::Clean);
}

/// The rules must point at the file and line of what they found, with evidence.
#[test]
fn malicious_findings_carry_location_and_evidence() {
    for dir in fixtures("malicious") {
        let result = scan(&dir);
        let worst = result.findings.iter().max_by_key(|f| f.severity);
        let Some(worst) = worst else {
            panic!("{}: no findings", dir.display());
        };
        assert!(worst.file.is_some(), "{}", describe(&dir, &result));
        assert!(!result.capabilities.is_empty(), "{}", describe(&dir, &result));
    }
}
