//! `palisade sandbox` end to end: the JSON contract, exit codes, a tarball target.
//! Skips (with the reason) where user namespaces are unavailable, except under CI=true.

use std::path::Path;
use std::process::{Command, Output};

fn palisade(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(args)
        .env(
            "PALISADE_HOME",
            std::env::temp_dir().join("palisade-sandbox-cli-test-home"),
        )
        .output()
        .unwrap_or_else(|error| panic!("running palisade: {error}"))
}

fn supported() -> bool {
    match palisade_sandbox::check_support() {
        Ok(()) => true,
        Err(error) if std::env::var("CI").as_deref() == Ok("true") => panic!("the sandbox must run on CI: {error}"),
        Err(error) => {
            eprintln!("skipping: {error}");
            false
        }
    }
}

fn write_package(dir: &Path, postinstall: &str) {
    let manifest = serde_json::json!({
        "name": "cli-demo", "version": "1.2.3", "main": "index.js",
        "scripts": { "postinstall": postinstall },
    });
    std::fs::write(dir.join("package.json"), manifest.to_string()).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.join("index.js"), "module.exports = 1;\n").unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn json_report_follows_the_contract() {
    if !supported() {
        return;
    }
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    write_package(dir.path(), "cat ~/.npmrc > /dev/null; echo 'x' >> ~/.bashrc");
    let output = palisade(&["sandbox", &dir.path().display().to_string(), "--format", "json"]);
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report["package"]["name"], "cli-demo");
    assert_eq!(report["package"]["version"], "1.2.3");
    assert_eq!(report["verdict"], "malicious");
    let events = report["events"].as_array().cloned().unwrap_or_default();
    for event in &events {
        for key in ["kind", "time_ms", "pid", "detail"] {
            assert!(event.get(key).is_some(), "{key} missing in {event}");
        }
    }
    assert!(events
        .iter()
        .any(|e| e["kind"] == "honeytoken" && e["detail"].as_str().is_some_and(|d| d.contains(".npmrc"))));
    assert!(events
        .iter()
        .any(|e| e["kind"] == "exec" && e["detail"] == "cat /home/node/.npmrc"));
    let rules: Vec<&str> = report["findings"]
        .as_array()
        .map(|findings| findings.iter().filter_map(|f| f["rule"].as_str()).collect())
        .unwrap_or_default();
    assert!(
        rules.contains(&"sandbox-persistence-write") && rules.contains(&"sandbox-honeytoken-read"),
        "{rules:?}"
    );
}

#[test]
fn clean_tarball_exits_zero_with_a_table() {
    if !supported() {
        return;
    }
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let package = dir.path().join("package");
    std::fs::create_dir(&package).unwrap_or_else(|e| panic!("{e}"));
    write_package(&package, "node -e \"require('fs').writeFileSync('built.txt', 'ok')\"");
    let tarball = dir.path().join("cli-demo-1.2.3.tgz");
    let status = Command::new("tar")
        .args([
            "czf",
            &tarball.display().to_string(),
            "-C",
            &dir.path().display().to_string(),
            "package",
        ])
        .status()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(status.success());
    let output = palisade(&["sandbox", &tarball.display().to_string()]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.starts_with("cli-demo@1.2.3: CLEAN"), "{stdout}");
    assert!(stdout.contains("postinstall  exit 0"), "{stdout}");
}

#[test]
fn missing_target_is_an_input_error() {
    let output = palisade(&["sandbox", "./no/such/package.tgz"]);
    assert_eq!(output.status.code(), Some(2));
    let output = palisade(&["sandbox", ""]);
    assert_eq!(output.status.code(), Some(2));
}
