//! `palisade hunt` end to end: exit codes, the JSON contract (docs/json.md),
//! OSV output, and credential values never reaching any output.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

const CANARY: &str = "npm_CANARYcli000000000000000000000000000";

fn write(path: &Path, contents: &str) {
    fs::create_dir_all(path.parent().expect("has a parent")).expect("mkdir");
    fs::write(path, contents).expect("write");
}

fn package(dir: &Path, name: &str, version: &str) {
    write(
        &dir.join("package.json"),
        &serde_json::json!({"name": name, "version": version}).to_string(),
    );
}

fn hunt(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_palisade"))
        .arg("hunt")
        .args(args)
        .arg("--home")
        .arg(home.join("palisade-home"))
        .env_remove("PALISADE_HOME")
        .output()
        .expect("palisade runs")
}

/// A small compromised machine: chalk 5.6.1 installed, debug 4.4.2 locked, a
/// planted rc line and credential files holding the canary.
fn compromised(root: &Path) {
    package(&root.join("app/node_modules/chalk"), "chalk", "5.6.1");
    package(&root.join("app/node_modules/ok"), "ok", "1.0.0");
    write(
        &root.join("app/yarn.lock"),
        "# yarn lockfile v1\n\n\ndebug@^4.4.0:\n  version \"4.4.2\"\n  resolved \"https://registry.yarnpkg.com/debug/-/debug-4.4.2.tgz\"\n",
    );
    write(&root.join(".zshrc"), "sudo shutdown -h 0\n");
    write(
        &root.join(".npmrc"),
        &format!("//registry.npmjs.org/:_authToken={CANARY}\n"),
    );
    write(
        &root.join(".aws/credentials"),
        &format!("[default]\naws_secret_access_key={CANARY}\n"),
    );
    write(&root.join("app/.env"), &format!("TOKEN={CANARY}\n"));
}

#[test]
fn json_report_follows_the_contract_and_exits_1() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("machine");
    compromised(&root);
    let output = hunt(dir.path(), &[root.to_str().expect("utf-8"), "--format", "json"]);
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).expect("utf-8");
    assert!(!stdout.contains(CANARY));
    assert!(!String::from_utf8_lossy(&output.stderr).contains(CANARY));
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    // The DESIGN.md contract: these fields, these names.
    for field in [
        "host",
        "started_at",
        "roots",
        "files_scanned",
        "hits",
        "persistence",
        "credentials_at_risk",
    ] {
        assert!(report.get(field).is_some(), "missing {field}");
    }
    assert!(!report["host"].as_str().expect("host").is_empty());
    assert!(report["started_at"].as_str().expect("time").ends_with('Z'));
    assert_eq!(report["roots"][0], root.display().to_string());
    let hits = report["hits"].as_array().expect("hits");
    let find = |name: &str, evidence: &str| {
        hits.iter()
            .find(|h| h["package"]["name"] == name && h["evidence"] == evidence)
            .unwrap_or_else(|| panic!("{name} {evidence} in {hits:#?}"))
    };
    let chalk = find("chalk", "installed");
    assert_eq!(chalk["package"]["version"], "5.6.1");
    assert_eq!(chalk["indicator"], "MAL-2025-46969");
    assert!(chalk["path"]
        .as_str()
        .expect("path")
        .ends_with("app/node_modules/chalk"));
    assert!(chalk["observed_at"].is_string());
    assert_eq!(chalk["project"], root.join("app").display().to_string());
    let debug = find("debug", "locked");
    assert!(debug["path"].as_str().expect("path").ends_with("app/yarn.lock"));
    assert_eq!(report["persistence"][0]["kind"], "shell-rc");
    let credentials: Vec<(&str, &str)> = report["credentials_at_risk"]
        .as_array()
        .expect("list")
        .iter()
        .map(|c| (c["kind"].as_str().expect("kind"), c["path"].as_str().expect("path")))
        .collect();
    assert_eq!(credentials.len(), 3, "{credentials:?}");
    assert!(credentials
        .iter()
        .any(|(kind, path)| *kind == "npm-token" && path.ends_with("/.npmrc")));
    assert_eq!(report["root_summaries"][0]["hits"], 2);
}

#[test]
fn table_says_what_to_do_in_order_without_values() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("machine");
    compromised(&root);
    let output = hunt(dir.path(), &[root.to_str().expect("utf-8")]);
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8(output.stdout).expect("utf-8");
    assert!(!text.contains(CANARY));
    assert!(text.contains("chalk@5.6.1  MAL-2025-46969"), "{text}");
    let isolate = text.find("1. Isolate").expect("isolate step");
    let persistence = text.find("2. Remove persistence").expect("persistence step");
    let rotate = text.find("rotate").expect("rotate step");
    assert!(isolate < persistence && persistence < rotate, "{text}");
    assert!(text.contains("aws-credentials"), "{text}");
}

#[test]
fn osv_output_is_a_list_of_records_and_feeds_ioc() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("machine");
    compromised(&root);
    let output = hunt(dir.path(), &[root.to_str().expect("utf-8"), "--format", "osv"]);
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8(output.stdout).expect("utf-8");
    assert!(!stdout.contains(CANARY));
    let records: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    let names: Vec<&str> = records
        .as_array()
        .expect("list")
        .iter()
        .map(|r| r["affected"][0]["package"]["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, vec!["chalk", "debug"]);

    // Another machine sweeps with the shared file only.
    let shared = dir.path().join("shared.osv.json");
    fs::write(&shared, &stdout).expect("write");
    let other = dir.path().join("other");
    package(&other.join("svc/node_modules/debug"), "debug", "4.4.2");
    let output = hunt(
        dir.path(),
        &[
            other.to_str().expect("utf-8"),
            "--no-advisories",
            "--ioc",
            shared.to_str().expect("utf-8"),
            "--format",
            "json",
        ],
    );
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(report["hits"][0]["package"]["name"], "debug");
    assert_eq!(report["hits"][0]["indicator_source"], "ioc-file");
}

#[test]
fn clean_tree_exits_0() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("machine");
    package(&root.join("app/node_modules/chalk"), "chalk", "5.6.0");
    let output = hunt(dir.path(), &[root.to_str().expect("utf-8")]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("No compromised package version"));
}

#[test]
fn missing_root_and_bad_ioc_exit_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = hunt(dir.path(), &[dir.path().join("nope").to_str().expect("utf-8")]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("nope"));

    let ioc = dir.path().join("iocs.txt");
    fs::write(&ioc, "chalk@5.6.1\nsha256:not-hex\n").expect("write");
    let output = hunt(
        dir.path(),
        &[
            dir.path().to_str().expect("utf-8"),
            "--ioc",
            ioc.to_str().expect("utf-8"),
        ],
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("iocs.txt:2"), "{stderr}");
}

#[test]
fn ioc_lines_find_what_the_database_does_not_know() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("machine");
    package(&root.join("app/node_modules/@acme/widgets"), "@acme/widgets", "2.3.4");
    let ioc = dir.path().join("vendor.txt");
    fs::write(&ioc, "# from the vendor advisory\n@acme/widgets@>=2.3.0 <2.4.0\n").expect("write");
    let output = hunt(
        dir.path(),
        &[
            root.to_str().expect("utf-8"),
            "--ioc",
            ioc.to_str().expect("utf-8"),
            "--format",
            "json",
        ],
    );
    assert_eq!(output.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(report["hits"][0]["indicator"], "@acme/widgets@>=2.3.0 <2.4.0");
}

/// Paths, the host name, times and durations out of a table, for a snapshot.
fn normalize(text: &str, root: &Path) -> String {
    let host = gethostname_from_json(root);
    let mut out = text.replace(&root.display().to_string(), "[ROOT]");
    if !host.is_empty() {
        out = out.replace(&format!(" on {host} at "), " on [HOST] at ");
    }
    // RFC 3339 UTC times (`2025-09-16T09:12:03Z`) and `1.23 s` durations.
    let bytes: Vec<char> = out.chars().collect();
    let mut result = String::new();
    let mut index = 0;
    while index < bytes.len() {
        let window: String = bytes[index..(index + 20).min(bytes.len())].iter().collect();
        let is_time = window.len() == 20
            && window.char_indices().all(|(i, c)| match i {
                4 | 7 => c == '-',
                10 => c == 'T',
                13 | 16 => c == ':',
                19 => c == 'Z',
                _ => c.is_ascii_digit(),
            });
        if is_time {
            result.push_str("[TIME]");
            index += 20;
            continue;
        }
        let window: String = bytes[index..(index + 6).min(bytes.len())].iter().collect();
        let is_duration = window.len() == 6
            && window.char_indices().all(|(i, c)| match i {
                1 => c == '.',
                4 => c == ' ',
                5 => c == 's',
                _ => c.is_ascii_digit(),
            })
            && (index == 0 || !bytes[index - 1].is_ascii_digit());
        if is_duration {
            result.push_str("[SECONDS] s");
            index += 6;
            continue;
        }
        result.push(bytes[index]);
        index += 1;
    }
    result
}

/// The host name as hunt reports it (from a JSON run of the same machine).
fn gethostname_from_json(root: &Path) -> String {
    let home = root.parent().expect("root has a parent");
    let output = hunt(home, &[root.to_str().expect("utf-8"), "--format", "json"]);
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    report["host"].as_str().unwrap_or_default().to_string()
}

#[test]
fn table_snapshot() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("machine");
    compromised(&root);
    let output = hunt(dir.path(), &[root.to_str().expect("utf-8")]);
    let text = String::from_utf8(output.stdout).expect("utf-8");
    insta::assert_snapshot!(normalize(&text, &root));
}
