//! End-to-end tests of the `palisade` binary: what a user runs, what they see,
//! which exit code a CI job gets.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn shared() -> PathBuf {
    repo_root().join("../shared")
}

fn example() -> PathBuf {
    repo_root().join("examples/compromised")
}

/// Runs palisade with a fresh, empty PALISADE_HOME unless `home` is given.
fn palisade(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(args)
        .env("PALISADE_HOME", home)
        .env_remove("PALISADE_LOG")
        .env("NO_COLOR", "1")
        .output()
        .expect("the palisade binary runs")
}

fn json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "stdout is not JSON ({error}):\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn finding<'a>(report: &'a Value, name: &str, version: &str) -> Vec<&'a Value> {
    report["findings"]
        .as_array()
        .expect("findings is an array")
        .iter()
        .filter(|f| f["package"]["name"] == name && f["package"]["version"] == version)
        .collect()
}

#[test]
fn deps_json_follows_the_contract() {
    let home = tempfile::tempdir().expect("temp dir");
    let example = example();
    let output = palisade(
        home.path(),
        &["deps", example.to_str().expect("utf-8 path"), "--format", "json"],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report = json(&output);
    assert!(report["lockfile"]
        .as_str()
        .is_some_and(|l| l.ends_with("package-lock.json")));
    assert_eq!(report["format"], "npm-v3");
    let packages = report["packages"].as_array().expect("packages array");
    assert_eq!(packages.len(), 65);
    let lodash = packages.iter().find(|p| p["name"] == "lodash").expect("lodash listed");
    assert_eq!(lodash["version"], "4.17.20");
    assert_eq!(lodash["source"], "registry");
    assert_eq!(lodash["dev"], false);
    assert_eq!(lodash["optional"], false);
    assert_eq!(lodash["paths"], serde_json::json!(["node_modules/lodash"]));
    assert!(lodash["integrity"].as_str().is_some_and(|i| i.starts_with("sha512-")));
    let chalk = packages.iter().find(|p| p["name"] == "chalk").expect("chalk listed");
    assert_eq!(chalk["dev"], true);
    assert!(
        packages.iter().all(|p| p["name"] != "palisade-example-compromised"),
        "the root project is not a package"
    );
}

#[test]
fn audit_finds_the_compromised_versions_and_exits_1() {
    let home = tempfile::tempdir().expect("temp dir");
    let example = example();
    let output = palisade(
        home.path(),
        &["audit", example.to_str().expect("utf-8 path"), "--format", "json"],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let report = json(&output);
    assert_eq!(report["packages_scanned"], 65);
    for (name, version) in [
        ("flatmap-stream", "0.1.1"),
        ("event-stream", "3.3.6"),
        ("ua-parser-js", "0.7.29"),
    ] {
        let found = finding(&report, name, version);
        assert!(!found.is_empty(), "{name}@{version} is reported");
        assert!(found
            .iter()
            .all(|f| f["kind"] == "malicious" && f["severity"] == "critical"));
    }
    let lodash = finding(&report, "lodash", "4.17.20");
    assert!(!lodash.is_empty(), "lodash 4.17.20 has known vulnerabilities");
    assert!(lodash.iter().all(|f| f["kind"] == "vulnerability"));
    assert!(lodash.iter().any(|f| f["fixed_in"]
        .as_array()
        .is_some_and(|v| v.iter().any(|v| v == "4.17.21"))));
    assert_eq!(lodash[0]["recommended_version"], "4.17.21");
    let qs = finding(&report, "qs", "6.7.0");
    assert_eq!(
        qs[0]["paths"][0],
        "palisade-example-compromised > express@4.17.1 > qs@6.7.0"
    );
    assert!(report["database"]["baseline"].as_bool().expect("baseline flag"));
}

#[test]
fn fail_on_and_omit_dev_change_the_exit_code_and_the_findings() {
    let home = tempfile::tempdir().expect("temp dir");
    let example = example();
    let path = example.to_str().expect("utf-8 path");
    // Critical findings exist (malicious versions), so --fail-on critical still fails.
    let output = palisade(
        home.path(),
        &["audit", path, "--fail-on", "critical", "--format", "json"],
    );
    assert_eq!(output.status.code(), Some(1));
    let all = json(&output)["findings"].as_array().map_or(0, Vec::len);
    let output = palisade(home.path(), &["audit", path, "--omit", "dev", "--format", "json"]);
    let report = json(&output);
    assert_eq!(
        report["packages_scanned"].as_u64(),
        Some(65 - 3),
        "chalk, debug and ms are dev-only"
    );
    assert!(report["findings"].as_array().map_or(0, Vec::len) <= all);
    assert!(finding(&report, "debug", "4.4.2").is_empty());
}

#[test]
fn ignored_advisories_are_listed_with_their_reason() {
    let home = tempfile::tempdir().expect("temp dir");
    let example = example();
    let output = palisade(
        home.path(),
        &[
            "audit",
            example.to_str().expect("utf-8 path"),
            "--format",
            "json",
            "--ignore",
            "GHSA-35jh-r3h4-6jhm=template strings are never user input",
        ],
    );
    let report = json(&output);
    assert!(finding(&report, "lodash", "4.17.20")
        .iter()
        .all(|f| f["id"] != "GHSA-35jh-r3h4-6jhm"));
    let ignored = report["ignored"].as_array().expect("ignored array");
    assert!(ignored
        .iter()
        .any(|i| i["id"] == "GHSA-35jh-r3h4-6jhm" && i["reason"] == "template strings are never user input"));
}

#[test]
fn sarif_output_has_a_rule_and_a_located_result_per_finding() {
    let home = tempfile::tempdir().expect("temp dir");
    let example = example();
    let output = palisade(
        home.path(),
        &["audit", example.to_str().expect("utf-8 path"), "--format", "sarif"],
    );
    assert_eq!(output.status.code(), Some(1));
    let sarif = json(&output);
    assert_eq!(sarif["version"], "2.1.0");
    let run = &sarif["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "palisade");
    let results = run["results"].as_array().expect("results");
    assert!(!results.is_empty());
    let rule_ids: Vec<&str> = run["tool"]["driver"]["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .filter_map(|r| r["id"].as_str())
        .collect();
    for result in results {
        assert!(rule_ids.contains(&result["ruleId"].as_str().expect("ruleId")));
        let location = &result["locations"][0]["physicalLocation"];
        assert!(location["artifactLocation"]["uri"]
            .as_str()
            .is_some_and(|u| u.ends_with("package-lock.json")));
        assert!(location["region"]["startLine"].as_u64().is_some_and(|line| line > 1));
    }
}

#[test]
fn a_malformed_lockfile_is_an_input_error_naming_file_line_and_column() {
    let home = tempfile::tempdir().expect("temp dir");
    let project = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        project.path().join("package-lock.json"),
        "{\n  \"lockfileVersion\": 3,\n  \"packages\": {\n    \"node_modules/a\": {\"version\": \"1.0.0\",,}\n",
    )
    .expect("write fixture");
    let output = palisade(home.path(), &["audit", project.path().to_str().expect("utf-8 path")]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(message.contains("package-lock.json"), "{message}");
    assert!(message.contains("line 4"), "{message}");
    assert!(message.contains("column"), "{message}");
    assert!(
        output.stdout.is_empty(),
        "nothing on stdout when the input cannot be read"
    );
}

#[test]
fn an_unsupported_lockfile_version_names_the_supported_ones() {
    let home = tempfile::tempdir().expect("temp dir");
    let project = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        project.path().join("package-lock.json"),
        r#"{"lockfileVersion": 9, "packages": {}}"#,
    )
    .expect("write fixture");
    let output = palisade(home.path(), &["deps", project.path().to_str().expect("utf-8 path")]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(message.contains("9") && message.contains("1, 2, 3"), "{message}");
}

#[test]
fn a_directory_without_a_lockfile_is_an_input_error_with_a_hint() {
    let home = tempfile::tempdir().expect("temp dir");
    let project = tempfile::tempdir().expect("temp dir");
    let output = palisade(home.path(), &["audit", project.path().to_str().expect("utf-8 path")]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(message.contains("no lockfile"), "{message}");
    assert!(message.contains("hint:"), "{message}");
}

#[test]
fn usage_errors_exit_2_and_help_exits_0() {
    let home = tempfile::tempdir().expect("temp dir");
    assert_eq!(
        palisade(home.path(), &["audit", "--fail-on", "severe"]).status.code(),
        Some(2)
    );
    assert_eq!(palisade(home.path(), &["frobnicate"]).status.code(), Some(2));
    let help = palisade(home.path(), &["audit", "--help"]);
    assert_eq!(help.status.code(), Some(0));
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(text.contains("Examples:") && text.contains("--fail-on"), "{text}");
}

#[test]
fn db_import_then_status_then_audit_uses_the_imported_records() {
    let home = tempfile::tempdir().expect("temp dir");
    let sample = shared().join("data/osv/ghsa-npm-sample.zip");
    let output = palisade(home.path(), &["db", "import", sample.to_str().expect("utf-8 path")]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let output = palisade(home.path(), &["db", "status", "--format", "json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let status = json(&output);
    assert_eq!(status["is_baseline"], false);
    assert!(status["advisories"].as_u64().is_some_and(|n| n >= 21));
    let example = example();
    let output = palisade(
        home.path(),
        &["audit", example.to_str().expect("utf-8 path"), "--format", "json"],
    );
    let report = json(&output);
    assert_eq!(report["database"]["baseline"], false);
    assert!(!finding(&report, "lodash", "4.17.20").is_empty());
}

#[test]
fn a_corrupt_import_leaves_the_previous_database_usable() {
    let home = tempfile::tempdir().expect("temp dir");
    let sample = shared().join("data/osv/ghsa-npm-sample.zip");
    let output = palisade(home.path(), &["db", "import", sample.to_str().expect("utf-8 path")]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let bytes = std::fs::read(&sample).expect("read sample zip");
    let corrupt = home.path().join("corrupt.zip");
    std::fs::write(&corrupt, &bytes[..bytes.len() / 2]).expect("write truncated zip");
    let output = palisade(home.path(), &["db", "import", corrupt.to_str().expect("utf-8 path")]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("corrupt.zip"), "{}", stderr(&output));
    let example = example();
    let output = palisade(
        home.path(),
        &["audit", example.to_str().expect("utf-8 path"), "--format", "json"],
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(!finding(&json(&output), "lodash", "4.17.20").is_empty());
}

/// `db sync` against a one-shot HTTP server on loopback serving the shared sample zip.
#[test]
fn db_sync_downloads_and_imports_from_a_url() {
    let home = tempfile::tempdir().expect("temp dir");
    let body = std::fs::read(shared().join("data/osv/ghsa-npm-sample.zip")).expect("read sample zip");
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let address = listener.local_addr().expect("local address");
    let server = std::thread::spawn(move || {
        if let Ok((mut stream, _)) = listener.accept() {
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request);
            let header = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/zip\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(header.as_bytes());
            let _ = stream.write_all(&body);
        }
    });
    let url = format!("http://{address}/npm/all.zip");
    let output = palisade(home.path(), &["db", "sync", "--url", &url]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    server.join().expect("server thread");
    let status = json(&palisade(home.path(), &["db", "status", "--format", "json"]));
    assert_eq!(status["sync_due"], false);
    assert!(status["sync_url"].as_str().is_some_and(|u| u == url));
}

/// Never fail green: entries that were not understood are shown, and the exit
/// code says the result is incomplete even when no finding was made.
#[test]
fn a_partly_understood_lockfile_warns_and_exits_2_unless_allowed() {
    let home = tempfile::tempdir().expect("temp dir");
    let project = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        project.path().join("package-lock.json"),
        r#"{"name":"p","lockfileVersion":3,"packages":{"":{"name":"p"},"node_modules/a":{"version":"1.0.0"},"node_modules/c":5}}"#,
    )
    .expect("write fixture");
    let path = project.path().to_str().expect("utf-8 path");
    let output = palisade(home.path(), &["audit", path]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(
        message.contains("node_modules/c") && message.contains("incomplete"),
        "{message}"
    );
    let output = palisade(home.path(), &["audit", path, "--allow-partial", "--format", "json"]);
    assert_eq!(output.status.code(), Some(0));
    let report = json(&output);
    assert_eq!(
        report["warnings"].as_array().map_or(0, Vec::len),
        1,
        "warnings are in the JSON report too"
    );
}

/// A lockfile passed under another name (a CI artefact, a renamed copy) is
/// recognised by its content.
#[test]
fn a_renamed_lockfile_is_recognised_by_its_content() {
    let home = tempfile::tempdir().expect("temp dir");
    let copy = home.path().join("lockfile-from-ci.txt");
    std::fs::copy(example().join("package-lock.json"), &copy).expect("copy lockfile");
    let output = palisade(
        home.path(),
        &[
            "deps",
            "--lockfile",
            copy.to_str().expect("utf-8 path"),
            "--format",
            "json",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(json(&output)["format"], "npm-v3");
    let readme = example().join("README.md");
    let output = palisade(
        home.path(),
        &["deps", "--lockfile", readme.to_str().expect("utf-8 path")],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("not a lockfile Palisade recognises"),
        "{}",
        stderr(&output)
    );
}
