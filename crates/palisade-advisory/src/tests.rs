//! Matching and alias-merging tests on small hand-written records (the real
//! records are exercised in `tests/`).

use std::path::Path;

use super::*;
use crate::record::Parsed;

fn database(records: &[&str]) -> Database {
    let label = Path::new("<test>");
    let conn = Connection::open_in_memory().expect("in-memory SQLite");
    store::create_schema(&conn, label).expect("schema");
    for text in records {
        match record::parse(text.as_bytes()).expect("test records parse") {
            Parsed::Record { record, .. } => {
                store::upsert(&conn, &record).expect("insert");
            }
            Parsed::Withdrawn { id, modified_ts } => {
                store::withdraw(&conn, &id, modified_ts).expect("withdraw");
            }
            Parsed::NotNpm => {}
        }
    }
    store::write_name_filter(&conn).expect("name filter");
    Database::from_connection(conn, None, false).expect("filter readable")
}

fn ids(database: &Database, name: &str, version: &str) -> Vec<String> {
    database
        .matches(&[PackageId::new(name, version)])
        .expect("query")
        .into_iter()
        .map(|m| m.advisory.id)
        .collect()
}

const SPLIT: &str = r#"{"id":"GHSA-split","modified":"2024-01-01T00:00:00Z","aliases":["CVE-2024-1"],
  "database_specific":{"severity":"HIGH"},
  "affected":[
    {"package":{"ecosystem":"npm","name":"qs"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"6.10.0"},{"fixed":"6.10.3"}]}]},
    {"package":{"ecosystem":"npm","name":"qs"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"6.2.4"}]}]}]}"#;

#[test]
fn split_affected_entries_for_one_package() {
    let db = database(&[SPLIT]);
    assert_eq!(ids(&db, "qs", "6.10.1"), ["GHSA-split"]);
    assert_eq!(ids(&db, "qs", "6.1.0"), ["GHSA-split"]);
    assert!(ids(&db, "qs", "6.5.0").is_empty());
    assert!(ids(&db, "qs", "6.10.3").is_empty());
    let found = db.matches(&[PackageId::new("qs", "6.10.1")]).expect("query");
    assert_eq!(found[0].advisory.fixed_in, ["6.10.3"]);
    assert_eq!(found[0].advisory.severity, Severity::High);
}

#[test]
fn versions_lists_match_exact_strings_only() {
    let db = database(&[r#"{"id":"MAL-2024-7","modified":"2024-01-01T00:00:00Z",
      "affected":[{"package":{"ecosystem":"npm","name":"evil"},"versions":["1.0.0","github:evil/evil#abc"]}]}"#]);
    assert_eq!(ids(&db, "evil", "1.0.0"), ["MAL-2024-7"]);
    assert_eq!(ids(&db, "evil", "github:evil/evil#abc"), ["MAL-2024-7"]);
    assert!(ids(&db, "evil", "1.0.1").is_empty());
    assert!(
        ids(&db, "evil", "v1.0.0").is_empty(),
        "versions lists are exact string matches (OSV § versions)"
    );
    assert!(ids(&db, "other", "1.0.0").is_empty());
}

#[test]
fn non_semver_versions_match_only_through_versions_lists() {
    let db = database(&[r#"{"id":"GHSA-all","modified":"2024-01-01T00:00:00Z",
      "affected":[{"package":{"ecosystem":"npm","name":"x"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"}]}]}]}"#]);
    assert_eq!(ids(&db, "x", "0.0.1"), ["GHSA-all"]);
    assert!(ids(&db, "x", "github:user/x#deadbeef").is_empty());
    assert!(ids(&db, "x", "file:../x").is_empty());
}

#[test]
fn withdrawn_records_are_not_matched() {
    let live = r#"{"id":"GHSA-w","modified":"2024-01-01T00:00:00Z",
      "affected":[{"package":{"ecosystem":"npm","name":"w"},"versions":["1.0.0"]}]}"#;
    let withdrawn = r#"{"id":"GHSA-w","modified":"2024-02-01T00:00:00Z","withdrawn":"2024-02-01T00:00:00Z",
      "affected":[{"package":{"ecosystem":"npm","name":"w"},"versions":["1.0.0"]}]}"#;
    assert_eq!(ids(&database(&[live]), "w", "1.0.0"), ["GHSA-w"]);
    assert!(ids(&database(&[live, withdrawn]), "w", "1.0.0").is_empty());
    assert!(ids(&database(&[withdrawn]), "w", "1.0.0").is_empty());
}

#[test]
fn newer_modified_wins() {
    let old = r#"{"id":"GHSA-n","modified":"2024-01-01T00:00:00Z","summary":"old",
      "affected":[{"package":{"ecosystem":"npm","name":"n"},"versions":["1.0.0"]}]}"#;
    let new = r#"{"id":"GHSA-n","modified":"2024-03-01T00:00:00+00:00","summary":"new",
      "affected":[{"package":{"ecosystem":"npm","name":"n"},"versions":["2.0.0"]}]}"#;
    for order in [[old, new], [new, old]] {
        let db = database(&order);
        assert_eq!(ids(&db, "n", "2.0.0"), ["GHSA-n"]);
        assert!(ids(&db, "n", "1.0.0").is_empty());
        assert_eq!(
            db.get("GHSA-n").expect("query").map(|a| a.summary),
            Some("new".to_string())
        );
    }
}

#[test]
fn aliases_merge_into_one_finding_with_ghsa_primary() {
    let mal = r#"{"id":"MAL-2025-46969","modified":"2025-09-12T01:13:34Z","aliases":["GHSA-2v46-p5h4-248w"],
      "affected":[{"package":{"ecosystem":"npm","name":"chalk"},"versions":["5.6.1"]}]}"#;
    let ghsa = r#"{"id":"GHSA-2v46-p5h4-248w","modified":"2025-09-10T00:00:00Z","aliases":["CVE-2025-0000"],
      "database_specific":{"severity":"LOW"},
      "affected":[{"package":{"ecosystem":"npm","name":"chalk"},"ranges":[{"type":"SEMVER","events":[{"introduced":"5.6.1"},{"fixed":"5.6.2"}]}]}]}"#;
    let other = r#"{"id":"GHSA-other","modified":"2025-09-10T00:00:00Z",
      "database_specific":{"severity":"MODERATE"},
      "affected":[{"package":{"ecosystem":"npm","name":"chalk"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"}]}]}]}"#;
    let db = database(&[mal, ghsa, other]);
    let found = db.matches(&[PackageId::new("chalk", "5.6.1")]).expect("query");
    assert_eq!(found.len(), 2, "{found:#?}");
    let merged = &found[0].advisory;
    assert_eq!(merged.id, "GHSA-2v46-p5h4-248w");
    assert_eq!(merged.kind, AdvisoryKind::Malicious);
    assert_eq!(merged.severity, Severity::Critical);
    assert_eq!(merged.aliases, ["CVE-2025-0000", "MAL-2025-46969"]);
    assert_eq!(merged.fixed_in, ["5.6.2"]);
    assert_eq!(found[1].advisory.id, "GHSA-other");
    assert_eq!(found[1].advisory.kind, AdvisoryKind::Vulnerability);
}

#[test]
fn merging_is_transitive_and_unions_fixes() {
    let advisory = |id: &str, aliases: &[&str], severity: Severity, fixed: &[&str]| Advisory {
        id: id.into(),
        kind: AdvisoryKind::Vulnerability,
        summary: String::new(),
        details: String::new(),
        severity,
        cvss_vector: None,
        aliases: aliases.iter().map(ToString::to_string).collect(),
        fixed_in: fixed.iter().map(ToString::to_string).collect(),
        published: None,
        modified: String::new(),
        references: Vec::new(),
        source: String::new(),
    };
    let merged = merge_aliases(vec![
        advisory("A-1", &["CVE-1"], Severity::Low, &["1.10.0"]),
        advisory("GHSA-b", &["CVE-2"], Severity::High, &["1.2.0"]),
        advisory("C-3", &["CVE-1", "CVE-2"], Severity::Moderate, &["1.9.0"]),
        advisory("D-4", &[], Severity::Low, &[]),
    ]);
    assert_eq!(merged.len(), 2);
    let first = merged.iter().find(|a| a.id == "GHSA-b").expect("GHSA is the primary");
    assert_eq!(first.aliases, ["A-1", "C-3", "CVE-1", "CVE-2"]);
    assert_eq!(first.severity, Severity::High);
    assert_eq!(first.fixed_in, ["1.2.0", "1.9.0", "1.10.0"]);
}

#[test]
fn get_by_id_and_alias() {
    let db = database(&[SPLIT]);
    let by_id = db.get("GHSA-split").expect("query").expect("present");
    assert_eq!(by_id.fixed_in, ["6.2.4", "6.10.3"]);
    assert_eq!(
        db.get("CVE-2024-1").expect("query").map(|a| a.id),
        Some("GHSA-split".to_string())
    );
    assert_eq!(db.get("GHSA-none").expect("query"), None);
}

fn package_ids(list: &[(&str, &str)]) -> Vec<PackageId> {
    list.iter()
        .map(|(name, version)| PackageId::new(*name, *version))
        .collect()
}

#[test]
fn baseline_builds_and_knows_the_notable_compromises() {
    let started = std::time::Instant::now();
    let db = Database::baseline().expect("baseline builds");
    let elapsed = started.elapsed();
    assert!(db.is_baseline());
    let status = db.status().expect("status");
    assert!(status.sync_due);
    assert_eq!(status.advisories as usize, baseline::FILES.len());
    // Every compromise the baseline promises (baseline/README.md), malicious and critical.
    let compromised = package_ids(&[
        ("flatmap-stream", "0.1.1"),
        ("event-stream", "3.3.6"),
        ("ua-parser-js", "0.7.29"),
        ("ua-parser-js", "0.8.0"),
        ("ua-parser-js", "1.0.0"),
        ("coa", "2.0.3"),
        ("coa", "2.0.4"),
        ("coa", "2.1.1"),
        ("coa", "2.1.3"),
        ("coa", "3.0.1"),
        ("coa", "3.1.3"),
        ("rc", "1.2.9"),
        ("rc", "1.3.9"),
        ("rc", "2.3.9"),
        ("node-ipc", "10.1.1"),
        ("node-ipc", "10.1.2"),
        ("node-ipc", "9.2.3"),
        ("node-ipc", "12.0.1"),
        ("chalk", "5.6.1"),
        ("debug", "4.4.2"),
        ("ansi-styles", "6.2.2"),
        ("supports-color", "10.2.1"),
        ("strip-ansi", "7.1.1"),
        ("ansi-regex", "6.2.1"),
        ("wrap-ansi", "9.0.1"),
        ("color-convert", "3.1.1"),
        ("color-name", "2.0.1"),
        ("is-arrayish", "0.3.3"),
        ("slice-ansi", "7.1.1"),
        ("error-ex", "1.3.3"),
        ("simple-swizzle", "0.2.3"),
        ("color-string", "2.1.1"),
        ("has-ansi", "6.0.1"),
        ("supports-hyperlinks", "4.1.1"),
        ("chalk-template", "1.1.1"),
        ("backslash", "0.2.1"),
        ("@ctrl/tinycolor", "4.1.1"),
        ("@ctrl/tinycolor", "4.1.2"),
        ("nx", "20.9.0"),
        ("nx", "21.8.0"),
        ("@nx/key", "3.2.0"),
        ("@nx/eslint", "21.5.0"),
        ("@nx/devkit", "20.9.0"),
        ("@nx/js", "21.5.0"),
        ("@nx/node", "20.9.0"),
        ("@nx/workspace", "21.5.0"),
        ("@nx/enterprise-cloud", "3.2.0"),
        ("eslint-scope", "3.7.2"),
        ("eslint-config-eslint", "5.0.2"),
    ]);
    let found = db.matches(&compromised).expect("query");
    for package in &compromised {
        let hits: Vec<_> = found.iter().filter(|m| &m.package == package).collect();
        assert_eq!(hits.len(), 1, "{package}: {hits:#?}");
        assert_eq!(
            (hits[0].advisory.kind, hits[0].advisory.severity),
            (AdvisoryKind::Malicious, Severity::Critical)
        );
    }
    // The clean neighbours of those releases are not flagged.
    let clean = package_ids(&[
        ("chalk", "5.6.0"),
        ("chalk", "5.6.2"),
        ("debug", "4.4.1"),
        ("nx", "21.4.1"),
        ("coa", "2.0.2"),
        ("rc", "1.2.8"),
        ("node-ipc", "10.1.3"),
    ]);
    let flagged = db.matches(&clean).expect("query");
    assert!(flagged.is_empty(), "{flagged:#?}");
    // colors' and faker's protestware are filed by GitHub as high-severity
    // vulnerabilities (denial of service, removed functionality).
    for (name, version) in [("colors", "1.4.1"), ("colors", "1.4.2"), ("faker", "6.6.6")] {
        let found = db.matches(&[PackageId::new(name, version)]).expect("query");
        assert!(!found.is_empty(), "{name}@{version}");
        assert!(
            found.iter().all(|m| m.advisory.severity == Severity::High),
            "{found:#?}"
        );
    }
    assert!(db
        .matches(&package_ids(&[("colors", "1.4.0"), ("faker", "5.5.3")]))
        .expect("query")
        .is_empty());
    // One finding per issue: the MAL record carries GitHub's id as an alias.
    let chalk = db.matches(&[PackageId::new("chalk", "5.6.1")]).expect("query");
    assert_eq!(chalk[0].advisory.id, "MAL-2025-46969");
    assert_eq!(chalk[0].advisory.aliases, ["GHSA-2v46-p5h4-248w"]);
    // Generous bound for debug builds on a loaded CI machine; release is a few ms.
    assert!(elapsed.as_millis() < 2000, "baseline took {elapsed:?}");
}
