//! End-to-end tests of `palisade check` and `palisade init`: exit codes, what
//! a CI log shows, and SARIF that validates against the official schema.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn example() -> PathBuf {
    repo_root().join("examples/compromised")
}

/// Runs palisade in `cwd` with an empty PALISADE_HOME (the built-in baseline database).
fn palisade(cwd: &Path, home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(args)
        .current_dir(cwd)
        .env("PALISADE_HOME", home)
        .env_remove("PALISADE_LOG")
        .env("NO_COLOR", "1")
        .output()
        .expect("the palisade binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "stdout is not JSON ({error}):\n{}\nstderr:\n{}",
            stdout(output),
            stderr(output)
        )
    })
}

fn codes(report: &Value) -> Vec<String> {
    report["diagnostics"]
        .as_array()
        .expect("diagnostics array")
        .iter()
        .map(|d| d["code"].as_str().unwrap_or_default().to_string())
        .collect()
}

const CLEAN_PACKAGE_JSON: &str = r#"{
  "name": "clean",
  "version": "1.0.0",
  "dependencies": {
    "is-number": "^7.0.0"
  }
}
"#;

const CLEAN_LOCKFILE: &str = r#"{
  "name": "clean",
  "version": "1.0.0",
  "lockfileVersion": 3,
  "requires": true,
  "packages": {
    "": {
      "name": "clean",
      "version": "1.0.0",
      "dependencies": {
        "is-number": "^7.0.0"
      }
    },
    "node_modules/is-number": {
      "version": "7.0.0",
      "resolved": "https://registry.npmjs.org/is-number/-/is-number-7.0.0.tgz",
      "integrity": "sha512-41Cifkg6e8TylSpdtTpeLVMqvSBEVzTttHvERD741+pnZ8ANv0004MRL43QKPDlK9cGvNp6NZWZUBlbGXYxxng=="
    }
  }
}
"#;

/// A temp project with a clean lockfile, and optionally a palisade.toml.
fn clean_project(policy: Option<&str>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("package.json"), CLEAN_PACKAGE_JSON).expect("write");
    std::fs::write(dir.path().join("package-lock.json"), CLEAN_LOCKFILE).expect("write");
    if let Some(policy) = policy {
        std::fs::write(dir.path().join("palisade.toml"), policy).expect("write");
    }
    dir
}

#[test]
fn a_clean_project_passes_with_exit_0() {
    let home = tempfile::tempdir().expect("temp dir");
    let project = clean_project(Some(""));
    let output = palisade(project.path(), home.path(), &["check"]);
    assert_eq!(output.status.code(), Some(0), "{}{}", stdout(&output), stderr(&output));
    insta::assert_snapshot!(stdout(&output), @"

1 package checked against palisade.toml: 0 errors, 0 warnings: passed
");
}

#[test]
fn the_compromised_example_fails_with_exit_1() {
    let home = tempfile::tempdir().expect("temp dir");
    let example = example();
    let output = palisade(
        &example,
        home.path(),
        &["check", "--format", "json", "--config", "/dev/null"],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let report = json(&output);
    assert_eq!(report["failed"], true);
    let codes = codes(&report);
    assert!(codes.iter().any(|c| c == "advisory-malicious"), "{codes:?}");
    let event_stream = report["diagnostics"]
        .as_array()
        .expect("array")
        .iter()
        .find(|d| d["code"] == "advisory-malicious" && d["package"]["name"] == "flatmap-stream")
        .expect("flatmap-stream is reported");
    assert_eq!(
        event_stream["paths"][0],
        "palisade-example-compromised > event-stream@3.3.6 > flatmap-stream@0.1.1"
    );
    assert_eq!(event_stream["labels"][0]["file"], "./package-lock.json");
    assert!(event_stream["labels"][0]["line"].as_u64().is_some());
}

#[test]
fn a_missing_lockfile_is_a_policy_error() {
    let home = tempfile::tempdir().expect("temp dir");
    let project = tempfile::tempdir().expect("temp dir");
    std::fs::write(project.path().join("package.json"), CLEAN_PACKAGE_JSON).expect("write");
    std::fs::write(project.path().join("palisade.toml"), "").expect("write");
    let output = palisade(project.path(), home.path(), &["check", "--format", "json"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_eq!(codes(&json(&output)), vec!["lockfile-missing"]);
}

#[test]
fn a_bad_config_exits_2_and_points_at_the_line() {
    let home = tempfile::tempdir().expect("temp dir");
    let project = clean_project(Some(
        "[release-age]\nminimum = 72\n\n[packages]\ndeny = [\"left pad\"]\nmode = \"strict\"\n[oops]\n",
    ));
    let output = palisade(project.path(), home.path(), &["check"]);
    assert_eq!(output.status.code(), Some(2));
    insta::assert_snapshot!(stderr(&output), @"
error: invalid `palisade.toml`
  palisade.toml:7:2: unknown field `oops`, expected one of `registry`, `packages`, `advisories`, `release-age`, `install-scripts`, `scan`, `provenance`, `serve`
hint: see docs/check.md for every key; `palisade init` writes a commented file
");
    std::fs::write(
        project.path().join("palisade.toml"),
        "[release-age]\nminimum = 72\n\n[packages]\ndeny = [\"left pad\"]\nmode = \"strict\"\n",
    )
    .expect("write");
    let output = palisade(project.path(), home.path(), &["check"]);
    assert_eq!(output.status.code(), Some(2));
    insta::assert_snapshot!(stderr(&output), @r#"
error: invalid `palisade.toml`
  palisade.toml:2:11: `minimum = 72` has no unit: a unit is mandatory: m (minutes), h (hours) or d (days), e.g. "72h" or "3d"
    help: write minimum = "72h" for 72 hours
  palisade.toml:5:9: bad package spec in `packages.deny`: `left pad` is not a valid npm package name
    help: write `name`, `name@range` (npm semver), `@scope/*` or `*`
  palisade.toml:6:8: `mode = "strict"` is not a mode
    help: expected "denylist" or "allowlist"
hint: see docs/check.md for every key; `palisade init` writes a commented file
"#);
}

#[test]
fn config_flag_overrides_the_file_found_by_walking_up() {
    let home = tempfile::tempdir().expect("temp dir");
    // The project's own file denies is-number; the --config file does not.
    let project = clean_project(Some("[packages]\ndeny = [\"is-number\"]\n"));
    let output = palisade(project.path(), home.path(), &["check", "--format", "json"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(codes(&json(&output)), vec!["package-denied"]);

    let other = project.path().join("other.toml");
    std::fs::write(&other, "").expect("write");
    let output = palisade(
        project.path(),
        home.path(),
        &["check", "--format", "json", "--config", "other.toml"],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));

    // Walking up: a palisade.toml in a parent directory applies to a nested project.
    let parent = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        parent.path().join("palisade.toml"),
        "[packages]\ndeny = [\"is-number\"]\n",
    )
    .expect("write");
    let nested = parent.path().join("app");
    std::fs::create_dir(&nested).expect("mkdir");
    std::fs::write(nested.join("package.json"), CLEAN_PACKAGE_JSON).expect("write");
    std::fs::write(nested.join("package-lock.json"), CLEAN_LOCKFILE).expect("write");
    let output = palisade(&nested, home.path(), &["check", "--format", "json"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(codes(&json(&output)), vec!["package-denied"]);
}

#[test]
fn an_expired_ignore_fails_and_names_the_entry() {
    let home = tempfile::tempdir().expect("temp dir");
    let project = clean_project(Some(
        "[advisories]\nignore = [\n  { id = \"GHSA-0000-0000-0000\", reason = \"was fine\", until = 2020-01-31 },\n]\n",
    ));
    let output = palisade(project.path(), home.path(), &["check"]);
    assert_eq!(output.status.code(), Some(1));
    insta::assert_snapshot!(stdout(&output), @"
palisade.toml:3:3: error[advisory-ignore-expired]: the ignore of `GHSA-0000-0000-0000` expired on 2020-01-31 (reason was: was fine)
  help: fix or replace the affected package, or extend `until` after reviewing the advisory again

1 package checked against palisade.toml: 1 error, 0 warnings: FAILED
");
}

#[test]
fn fail_on_flag_overrides_the_config() {
    let home = tempfile::tempdir().expect("temp dir");
    let project = tempfile::tempdir().expect("temp dir");
    // Only the vulnerable (not malicious) packages of the example: lodash 4.17.20 is high.
    let lockfile = r#"{
  "name": "v", "version": "1.0.0", "lockfileVersion": 3, "requires": true,
  "packages": {
    "": { "name": "v", "version": "1.0.0", "dependencies": { "lodash": "4.17.20" } },
    "node_modules/lodash": {
      "version": "4.17.20",
      "resolved": "https://registry.npmjs.org/lodash/-/lodash-4.17.20.tgz",
      "integrity": "sha512-PlhdFcillOINfeV7Ni6oF1TAEayyZBoZ8bcshTHqOYJYlrqzRK5hagpagky5o4HfCzzd1TRkXPMFq6cKk9rGmA=="
    }
  }
}"#;
    std::fs::write(project.path().join("package-lock.json"), lockfile).expect("write");
    std::fs::write(
        project.path().join("package.json"),
        r#"{"dependencies": {"lodash": "4.17.20"}}"#,
    )
    .expect("write");
    std::fs::write(
        project.path().join("palisade.toml"),
        "[advisories]\nfail-on = \"low\"\n",
    )
    .expect("write");
    let output = palisade(project.path(), home.path(), &["check", "--format", "json"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let output = palisade(
        project.path(),
        home.path(),
        &["check", "--format", "json", "--fail-on", "critical"],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    let report = json(&output);
    assert!(report["warnings"].as_u64().is_some_and(|n| n > 0));
}

#[test]
fn sarif_validates_against_the_official_schema() {
    let home = tempfile::tempdir().expect("temp dir");
    let schema_text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sarif/sarif-schema-2.1.0.json"),
    )
    .expect("the schema fixture is present");
    let schema: Value = serde_json::from_str(&schema_text).expect("the schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
    // The example project, plus a policy whose findings have a second
    // location in palisade.toml.
    let project = tempfile::tempdir().expect("temp dir");
    for file in ["package.json", "package-lock.json"] {
        std::fs::copy(example().join(file), project.path().join(file)).expect("copy the example");
    }
    std::fs::write(
        project.path().join("palisade.toml"),
        "[packages]\ndeny = [{ spec = \"lodash\", reason = \"use lodash-es\" }]\n\n[advisories]\nignore = [{ id = \"GHSA-35jh-r3h4-6jhm\", reason = \"not reachable\", until = 2020-01-01 }]\n",
    )
    .expect("write");
    let output = palisade(project.path(), home.path(), &["check", "--format", "sarif"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let document = json(&output);
    let errors: Vec<String> = validator.iter_errors(&document).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "SARIF schema violations: {errors:#?}");
    let denied = document["runs"][0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|r| r["ruleId"] == "package-denied")
        .expect("lodash is denied");
    assert_eq!(
        denied["relatedLocations"][0]["physicalLocation"]["region"],
        serde_json::json!({"startLine": 2, "startColumn": 9})
    );
    let results = document["runs"][0]["results"].as_array().expect("results");
    assert!(results.iter().any(|r| r["ruleId"] == "advisory-malicious"));
    let rules = document["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .expect("rules");
    assert_eq!(rules.len(), palisade_policy::all_codes().len());
    // GitHub resolves locations against the repository root: never absolute.
    for result in results {
        let uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .expect("uri");
        assert!(!uri.starts_with('/'), "{uri}");
    }
}

#[test]
fn init_writes_a_file_that_check_reads_and_refuses_to_overwrite() {
    let home = tempfile::tempdir().expect("temp dir");
    let project = clean_project(None);
    let output = palisade(project.path(), home.path(), &["init"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let written = std::fs::read_to_string(project.path().join("palisade.toml")).expect("written");
    for section in [
        "[registry]",
        "[packages]",
        "[advisories]",
        "[release-age]",
        "[install-scripts]",
        "[scan]",
        "[provenance]",
        "[serve]",
    ] {
        assert!(written.contains(section), "{section} missing");
    }
    let output = palisade(project.path(), home.path(), &["check"]);
    assert_eq!(output.status.code(), Some(0), "{}{}", stdout(&output), stderr(&output));

    let output = palisade(project.path(), home.path(), &["init"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("already exists"), "{}", stderr(&output));
    assert!(stderr(&output).contains("--force"));

    std::fs::write(project.path().join("palisade.toml"), "garbage = [").expect("write");
    let output = palisade(project.path(), home.path(), &["init", "--force"]);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(project.path().join("palisade.toml")).expect("read"),
        written
    );
}

#[test]
fn install_scripts_are_listed_and_fail_unless_allowed() {
    let home = tempfile::tempdir().expect("temp dir");
    let project = clean_project(Some(""));
    let lockfile = CLEAN_LOCKFILE.replace(
        "\"resolved\": \"https://registry.npmjs.org/is-number",
        "\"hasInstallScript\": true,\n      \"resolved\": \"https://registry.npmjs.org/is-number",
    );
    std::fs::write(project.path().join("package-lock.json"), lockfile).expect("write");
    let installed = project.path().join("node_modules/is-number");
    std::fs::create_dir_all(&installed).expect("mkdir");
    std::fs::write(
        installed.join("package.json"),
        r#"{"name": "is-number", "version": "7.0.0", "scripts": {"postinstall": "node setup.js", "test": "mocha"}}"#,
    )
    .expect("write");
    let output = palisade(project.path(), home.path(), &["check"]);
    assert_eq!(output.status.code(), Some(1));
    insta::assert_snapshot!(stdout(&output), @r#"
./package-lock.json:14: error[install-script-not-allowed]: is-number@7.0.0 runs code on install (postinstall: `node setup.js`)
  via: clean > is-number@7.0.0
  help: review the scripts, then add "is-number" (or "is-number@7.0.0") to `[install-scripts] allow`, or install with --ignore-scripts

Install scripts that would run on install:
  is-number@7.0.0  (not allowed)
    postinstall: node setup.js

1 package checked against palisade.toml: 1 error, 0 warnings: FAILED
"#);
    std::fs::write(
        project.path().join("palisade.toml"),
        "[install-scripts]\nallow = [\"is-number@^7\"]\n",
    )
    .expect("write");
    let output = palisade(project.path(), home.path(), &["check"]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(stdout(&output).contains("is-number@7.0.0  (allowed by \"is-number@^7\")"));
}

#[test]
fn a_configured_cooldown_without_registry_data_is_a_visible_warning() {
    let home = tempfile::tempdir().expect("temp dir");
    let project = clean_project(Some("[release-age]\nminimum = \"3d\"\n"));
    let output = palisade(project.path(), home.path(), &["check", "--offline", "--format", "json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report = json(&output);
    assert_eq!(codes(&report), vec!["release-age-unchecked"]);
    assert_eq!(
        report["diagnostics"][0]["message"],
        "release age not checked: no registry data (minimum is 3d)"
    );
}

/// A loopback registry serving one packument for every request, until the test ends.
fn serve_packument(body: String) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let address = listener.local_addr().expect("local address");
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut request = [0u8; 8192];
            let _ = stream.read(&mut request);
            let header = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(header.as_bytes());
            let _ = stream.write_all(body.as_bytes());
        }
    });
    format!("http://{address}/")
}

#[test]
fn release_age_uses_registry_publish_times() {
    use time::format_description::well_known::Rfc3339;
    let home = tempfile::tempdir().expect("temp dir");
    let project = clean_project(Some("[release-age]\nminimum = \"3d\"\n"));
    let published = (time::OffsetDateTime::now_utc() - time::Duration::hours(5))
        .format(&Rfc3339)
        .expect("formattable");
    let packument = serde_json::json!({
        "name": "is-number",
        "dist-tags": {"latest": "7.0.0"},
        "versions": {"7.0.0": {"name": "is-number", "version": "7.0.0",
            "dist": {"tarball": "http://127.0.0.1/is-number-7.0.0.tgz"}}},
        "time": {"created": published, "modified": published, "7.0.0": published},
    });
    let registry = serve_packument(packument.to_string());
    std::fs::write(project.path().join(".npmrc"), format!("registry={registry}\n")).expect("write");
    let output = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(["check", "--format", "json"])
        .current_dir(project.path())
        .env("PALISADE_HOME", home.path())
        .env("HOME", home.path())
        .env_remove("npm_config_registry")
        .env_remove("NPM_CONFIG_REGISTRY")
        .env_remove("npm_config_userconfig")
        .env_remove("NPM_CONFIG_USERCONFIG")
        .env("NO_COLOR", "1")
        .output()
        .expect("the palisade binary runs");
    assert_eq!(output.status.code(), Some(1), "{}{}", stdout(&output), stderr(&output));
    let report = json(&output);
    assert_eq!(codes(&report), vec!["release-too-new"]);
    assert_eq!(
        report["diagnostics"][0]["message"],
        "is-number@7.0.0 was published 5h ago, less than the 3d cooldown"
    );

    // Excluded packages are not looked up and pass.
    std::fs::write(
        project.path().join("palisade.toml"),
        "[release-age]\nminimum = \"3d\"\nexclude = [\"is-number\"]\n",
    )
    .expect("write");
    let output = palisade(project.path(), home.path(), &["check", "--format", "json"]);
    assert_eq!(output.status.code(), Some(0), "{}{}", stdout(&output), stderr(&output));
}

#[test]
fn base_lockfile_lists_what_is_new() {
    let home = tempfile::tempdir().expect("temp dir");
    let project = clean_project(Some(""));
    let base = project.path().join("base.json");
    std::fs::write(
        &base,
        r#"{"name": "clean", "version": "1.0.0", "lockfileVersion": 3, "requires": true,
            "packages": {"": {"name": "clean", "version": "1.0.0"}}}"#,
    )
    .expect("write");
    let output = palisade(
        project.path(),
        home.path(),
        &["check", "--format", "json", "--base-lockfile", "base.json"],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        json(&output)["new_packages"],
        serde_json::json!([{"name": "is-number", "version": "7.0.0"}])
    );
    let output = palisade(project.path(), home.path(), &["check", "--base-lockfile", "base.json"]);
    assert!(stdout(&output).contains("New since the base lockfile: 1 package\n  is-number@7.0.0\n"));
}

const CLEAN_YARN_LOCK: &str = r#"# THIS IS AN AUTOGENERATED FILE. DO NOT EDIT THIS FILE DIRECTLY.
# yarn lockfile v1


is-number@^7.0.0:
  version "7.0.0"
  resolved "https://registry.yarnpkg.com/is-number/-/is-number-7.0.0.tgz#7535345b896734d5f80c4d06c50955527a14f12b"
  integrity sha512-41Cifkg6e8TylSpdtTpeLVMqvSBEVzTttHvERD741+pnZ8ANv0004MRL43QKPDlK9cGvNp6NZWZUBlbGXYxxng==
"#;

/// The clean project locked by yarn classic, which records no install scripts.
fn yarn_project(policy: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("package.json"), CLEAN_PACKAGE_JSON).expect("write");
    std::fs::write(dir.path().join("yarn.lock"), CLEAN_YARN_LOCK).expect("write");
    std::fs::write(dir.path().join("palisade.toml"), policy).expect("write");
    dir
}

/// Runs palisade with only the project's own .npmrc (no user config, no env registry).
fn palisade_isolated(cwd: &Path, home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(args)
        .current_dir(cwd)
        .env("PALISADE_HOME", home)
        .env("HOME", home)
        .env_remove("PALISADE_LOG")
        .env_remove("npm_config_registry")
        .env_remove("NPM_CONFIG_REGISTRY")
        .env_remove("npm_config_userconfig")
        .env_remove("NPM_CONFIG_USERCONFIG")
        .env("NO_COLOR", "1")
        .output()
        .expect("the palisade binary runs")
}

#[test]
fn install_scripts_unrecorded_by_the_lockfile_are_unchecked_offline() {
    let home = tempfile::tempdir().expect("temp dir");
    let project = yarn_project("");
    let output = palisade(project.path(), home.path(), &["check", "--offline", "--format", "json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report = json(&output);
    assert_eq!(codes(&report), vec!["install-scripts-unchecked"]);
    assert_eq!(
        report["diagnostics"][0]["message"],
        "install scripts not checked for 1 package: the yarn-v1 lockfile does not record them and neither the registry nor node_modules could tell: is-number@7.0.0"
    );
}

#[test]
fn install_scripts_unrecorded_by_the_lockfile_come_from_the_upstream_packument() {
    use time::format_description::well_known::Rfc3339;
    let home = tempfile::tempdir().expect("temp dir");
    let published = (time::OffsetDateTime::now_utc() - time::Duration::hours(5))
        .format(&Rfc3339)
        .expect("formattable");
    let packument = serde_json::json!({
        "name": "is-number",
        "dist-tags": {"latest": "7.0.0"},
        "versions": {"7.0.0": {"name": "is-number", "version": "7.0.0",
            "scripts": {"postinstall": "node setup.js", "test": "mocha"},
            "dist": {"tarball": "http://127.0.0.1/is-number-7.0.0.tgz"}}},
        "time": {"created": published, "modified": published, "7.0.0": published},
    });
    let registry = serve_packument(packument.to_string());
    // `[registry] upstream` wins over the project's .npmrc (which points nowhere).
    let project = yarn_project(&format!(
        "[registry]\nupstream = \"{registry}\"\n\n[release-age]\nminimum = \"3d\"\n"
    ));
    std::fs::write(project.path().join(".npmrc"), "registry=http://127.0.0.1:9/\n").expect("write");
    let output = palisade_isolated(project.path(), home.path(), &["check", "--format", "json"]);
    assert_eq!(output.status.code(), Some(1), "{}{}", stdout(&output), stderr(&output));
    let report = json(&output);
    // Both from the one packument: the release age and the install script.
    assert_eq!(codes(&report), vec!["install-script-not-allowed", "release-too-new"]);
    assert_eq!(
        report["diagnostics"][0]["message"],
        "is-number@7.0.0 runs code on install (postinstall: `node setup.js`)"
    );
    assert_eq!(report["install_scripts"][0]["recorded_in_registry"], true);
}

#[test]
fn pnpm_installed_package_json_tells_the_install_scripts() {
    let home = tempfile::tempdir().expect("temp dir");
    let project = tempfile::tempdir().expect("temp dir");
    std::fs::write(project.path().join("package.json"), CLEAN_PACKAGE_JSON).expect("write");
    std::fs::write(project.path().join("palisade.toml"), "").expect("write");
    std::fs::write(
        project.path().join("pnpm-lock.yaml"),
        r#"lockfileVersion: '9.0'

settings:
  autoInstallPeers: true
  excludeLinksFromLockfile: false

importers:

  .:
    dependencies:
      is-number:
        specifier: ^7.0.0
        version: 7.0.0

packages:

  is-number@7.0.0:
    resolution: {integrity: sha512-41Cifkg6e8TylSpdtTpeLVMqvSBEVzTttHvERD741+pnZ8ANv0004MRL43QKPDlK9cGvNp6NZWZUBlbGXYxxng==}
    engines: {node: '>=0.12.0'}

snapshots:

  is-number@7.0.0: {}
"#,
    )
    .expect("write");
    let installed = project
        .path()
        .join("node_modules/.pnpm/is-number@7.0.0/node_modules/is-number");
    std::fs::create_dir_all(&installed).expect("mkdir");
    std::fs::write(
        installed.join("package.json"),
        r#"{"name": "is-number", "version": "7.0.0", "scripts": {"install": "node-gyp rebuild"}}"#,
    )
    .expect("write");
    let output = palisade(project.path(), home.path(), &["check", "--offline", "--format", "json"]);
    assert_eq!(output.status.code(), Some(1), "{}{}", stdout(&output), stderr(&output));
    let report = json(&output);
    assert_eq!(codes(&report), vec!["install-script-not-allowed"]);
    assert_eq!(report["install_scripts"][0]["scripts"]["install"], "node-gyp rebuild");
}
