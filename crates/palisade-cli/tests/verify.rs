//! `palisade verify` end to end through the registry client, against a loopback registry
//! replaying the real recorded vectors of palisade-verify (keys, signatures, a Sigstore
//! attestations response; see crates/palisade-verify/tests/fixtures/README.md).

use std::path::Path;
use std::process::{Command, Output};

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/../palisade-verify/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("reading {path}: {error}"))
}

fn vector(name: &str, version: &str) -> serde_json::Value {
    fixture("signatures.jsonl")
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).expect("vector parses"))
        .find(|v| v["name"] == name && v["version"] == version)
        .expect("vector present")
}

/// sigstore@1.0.0 (genuine signature, provenance) and 1.0.1 (the tampered-version vector:
/// the 1.0.0 signature checked as 1.0.1, and no provenance).
fn packument() -> serde_json::Value {
    let good = vector("sigstore", "1.0.0");
    let bad = vector("sigstore", "1.0.1");
    serde_json::json!({
        "name": "sigstore",
        "versions": {
            "1.0.0": {"name": "sigstore", "version": "1.0.0", "_npmUser": {"name": "maintainer"},
                "dist": {"tarball": "https://registry.npmjs.org/sigstore/-/sigstore-1.0.0.tgz",
                    "integrity": good["integrity"],
                    "signatures": [{"keyid": good["keyid"], "sig": good["sig"]}],
                    "attestations": {"url": "u", "provenance": {"predicateType": "https://slsa.dev/provenance/v0.2"}}}},
            "1.0.1": {"name": "sigstore", "version": "1.0.1", "_npmUser": {"name": "maintainer"},
                "dist": {"tarball": "https://registry.npmjs.org/sigstore/-/sigstore-1.0.1.tgz",
                    "integrity": bad["integrity"],
                    "signatures": [{"keyid": bad["keyid"], "sig": bad["sig"]}]}}
        },
        "time": {"1.0.0": "2023-02-09T17:56:00Z", "1.0.1": "2023-03-01T00:00:00Z"}
    })
}

/// A loopback registry routing by path, until the test ends.
fn serve(attestations_file: &'static str) -> String {
    use std::io::{Read, Write};
    let keys = fixture("keys.json");
    let attestations = fixture(attestations_file);
    let packument = packument().to_string();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let address = listener.local_addr().expect("local address");
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut request = [0u8; 8192];
            let read = stream.read(&mut request).unwrap_or(0);
            let text = String::from_utf8_lossy(&request[..read]);
            let path = text.split_whitespace().nth(1).unwrap_or("/").to_owned();
            let body = if path.ends_with("/-/npm/v1/keys") {
                Some(&keys)
            } else if path.contains("/-/npm/v1/attestations/sigstore@1.0.0") {
                Some(&attestations)
            } else if path.trim_end_matches('/').ends_with("/sigstore") {
                Some(&packument)
            } else {
                None
            };
            let response = match body {
                Some(body) => format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                ),
                None => "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_owned(),
            };
            let _ = stream.write_all(response.as_bytes());
        }
    });
    format!("http://{address}/")
}

fn project(version: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let vector = vector("sigstore", version);
    let lockfile = serde_json::json!({
        "name": "p", "version": "1.0.0", "lockfileVersion": 3, "requires": true,
        "packages": {
            "": {"name": "p", "version": "1.0.0", "dependencies": {"sigstore": "^1.0.0"}},
            "node_modules/sigstore": {"version": version,
                "resolved": format!("https://registry.npmjs.org/sigstore/-/sigstore-{version}.tgz"),
                "integrity": vector["integrity"]}
        }
    });
    std::fs::write(dir.path().join("package-lock.json"), lockfile.to_string()).expect("write");
    std::fs::write(
        dir.path().join("package.json"),
        r#"{"name": "p", "version": "1.0.0", "dependencies": {"sigstore": "^1.0.0"}}"#,
    )
    .expect("write");
    dir
}

fn verify(project: &Path, home: &Path, registry: &str) -> (Output, serde_json::Value) {
    let output = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .current_dir(project)
        .env_remove("PALISADE_LOG")
        .args(["--home"])
        .arg(home)
        .args(["verify", "--format", "json", "--registry", registry])
        .output()
        .expect("palisade runs");
    let report = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|error| panic!("{error}: {}", String::from_utf8_lossy(&output.stderr)));
    (output, report)
}

fn rules(report: &serde_json::Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|finding| finding["rule"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn genuine_signature_and_provenance_verify() {
    let home = tempfile::tempdir().expect("temp dir");
    let registry = serve("attestations/sigstore@1.0.0.json");
    let (output, report) = verify(project("1.0.0").path(), home.path(), &registry);
    assert_eq!(output.status.code(), Some(0), "{report}");
    assert_eq!(
        report["summary"],
        serde_json::json!({"signatures_verified": 1, "signatures_invalid": 0, "signatures_missing": 0,
            "attestations_verified": 1, "attestations_invalid": 0, "attestations_missing": 0})
    );
    assert_eq!(rules(&report), Vec::<String>::new());
}

#[test]
fn tampered_signature_and_provenance_downgrade_fail() {
    let home = tempfile::tempdir().expect("temp dir");
    let registry = serve("attestations/sigstore@1.0.0.json");
    let (output, report) = verify(project("1.0.1").path(), home.path(), &registry);
    assert_eq!(output.status.code(), Some(1), "{report}");
    assert_eq!(report["summary"]["signatures_invalid"], 1);
    assert_eq!(report["summary"]["attestations_missing"], 1);
    assert_eq!(rules(&report), ["signature-invalid", "provenance-downgrade"]);
    assert_eq!(report["findings"][1]["earlier_version"], "1.0.0");
}

#[test]
fn tampered_attestations_fail() {
    let home = tempfile::tempdir().expect("temp dir");
    let registry = serve("attestations/neg-integrated-time-moved-sigstore@1.0.0.json");
    let (output, report) = verify(project("1.0.0").path(), home.path(), &registry);
    assert_eq!(output.status.code(), Some(1), "{report}");
    assert_eq!(report["summary"]["attestations_invalid"], 1);
    assert_eq!(rules(&report), ["attestation-invalid"]);
    let message = report["findings"][0]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("certificate-validity") && message.contains("tlog-promise"),
        "{message}"
    );
}
