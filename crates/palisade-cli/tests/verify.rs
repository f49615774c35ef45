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

/// A loopback registry answering `routes` (exact path → body), 404 otherwise, until the test
/// ends. `routes` gets the registry's base URL, so documents can point at its own tarballs.
fn serve_routes(routes: impl FnOnce(&str) -> Vec<(String, Vec<u8>)>) -> String {
    use std::io::{Read, Write};
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
                    "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
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

/// The recorded sigstore vectors, and their attestations response from `attestations_file`.
fn serve(attestations_file: &'static str) -> String {
    serve_routes(|_| {
        vec![
            ("/-/npm/v1/keys".to_owned(), fixture("keys.json").into_bytes()),
            (
                "/-/npm/v1/attestations/sigstore@1.0.0".to_owned(),
                fixture(attestations_file).into_bytes(),
            ),
            ("/sigstore".to_owned(), packument().to_string().into_bytes()),
        ]
    })
}

const GENUINE: &[u8] = b"genuine tarball bytes of tiny@1.0.0";
const TAMPERED: &[u8] = b"tampered tarball bytes of tiny@1.0.0";

fn sri(bytes: &[u8]) -> String {
    palisade_registry::Integrity::compute(palisade_registry::Algorithm::Sha512, bytes).to_string()
}

/// A synthetic package `tiny@1.0.0` whose registry integrity is that of [`GENUINE`], served
/// with `tarball` as its bytes (the recorded vectors have no tarballs). No signatures: the
/// tarball check is what is tested.
fn serve_tiny(tarball: &'static [u8]) -> String {
    serve_routes(|base| {
        let packument = serde_json::json!({
            "name": "tiny",
            "versions": {"1.0.0": {"name": "tiny", "version": "1.0.0", "_npmUser": {"name": "maintainer"},
                "dist": {"tarball": format!("{base}tiny/-/tiny-1.0.0.tgz"), "integrity": sri(GENUINE)}}},
            "time": {"1.0.0": "2024-01-01T00:00:00Z"}
        });
        vec![
            ("/-/npm/v1/keys".to_owned(), fixture("keys.json").into_bytes()),
            ("/tiny".to_owned(), packument.to_string().into_bytes()),
            ("/tiny/-/tiny-1.0.0.tgz".to_owned(), tarball.to_vec()),
        ]
    })
}

/// A project whose lockfile has `entries` (`node_modules/NAME` → entry) besides the root.
fn project_with(entries: serde_json::Value, palisade_toml: Option<&str>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut packages = serde_json::json!({"": {"name": "p", "version": "1.0.0"}});
    if let (Some(packages), Some(entries)) = (packages.as_object_mut(), entries.as_object()) {
        packages.extend(entries.clone());
    }
    let lockfile = serde_json::json!({
        "name": "p", "version": "1.0.0", "lockfileVersion": 3, "requires": true, "packages": packages
    });
    std::fs::write(
        dir.path().join("package-lock.json"),
        serde_json::to_string_pretty(&lockfile).expect("serialises"),
    )
    .expect("write");
    std::fs::write(dir.path().join("package.json"), r#"{"name": "p", "version": "1.0.0"}"#).expect("write");
    if let Some(text) = palisade_toml {
        std::fs::write(dir.path().join("palisade.toml"), text).expect("write");
    }
    dir
}

fn tiny_entry(integrity: &str) -> serde_json::Value {
    serde_json::json!({"node_modules/tiny": {"version": "1.0.0",
        "resolved": "https://registry.npmjs.org/tiny/-/tiny-1.0.0.tgz", "integrity": integrity}})
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
    verify_with(project, home, registry, &["--format", "json"])
}

fn verify_with(project: &Path, home: &Path, registry: &str, extra: &[&str]) -> (Output, serde_json::Value) {
    let output = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .current_dir(project)
        .env_remove("PALISADE_LOG")
        // npm's own cache is consulted for tarballs: keep the developer's out of the tests.
        .env("npm_config_cache", home.join("npm-cache"))
        .args(["--home"])
        .arg(home)
        .args(["verify", "--registry", registry])
        .args(extra)
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
            "attestations_verified": 1, "attestations_invalid": 0, "attestations_missing": 0,
            // The recorded vectors come without tarballs: not checked, and counted as such.
            "integrity_verified": 0, "integrity_mismatched": 0, "integrity_unchecked": 1})
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

fn finding<'a>(report: &'a serde_json::Value, rule: &str) -> &'a serde_json::Value {
    report["findings"]
        .as_array()
        .and_then(|findings| findings.iter().find(|finding| finding["rule"] == rule))
        .unwrap_or_else(|| panic!("no `{rule}` finding in {report}"))
}

#[test]
fn genuine_tarball_verifies_then_comes_from_the_cache_offline() {
    let home = tempfile::tempdir().expect("temp dir");
    let registry = serve_tiny(GENUINE);
    let project = project_with(tiny_entry(&sri(GENUINE)), None);
    let (output, report) = verify(project.path(), home.path(), &registry);
    assert_eq!(output.status.code(), Some(0), "{report}");
    assert_eq!(report["summary"]["integrity_verified"], 1, "{report}");
    assert_eq!(rules(&report), Vec::<String>::new());

    // Offline: the tarball comes from Palisade's content cache, still checked.
    let (output, report) = verify_with(
        project.path(),
        home.path(),
        &registry,
        &["--format", "json", "--offline"],
    );
    assert_eq!(output.status.code(), Some(0), "{report}");
    assert_eq!(report["summary"]["integrity_verified"], 1, "{report}");

    // Offline with nothing cached: unchecked, counted and said on stderr, never passed silently.
    let empty = tempfile::tempdir().expect("temp dir");
    let (_, report) = verify_with(
        project.path(),
        empty.path(),
        &registry,
        &["--format", "json", "--offline"],
    );
    assert_eq!(report["summary"]["integrity_unchecked"], 1, "{report}");
    assert_eq!(report["summary"]["integrity_verified"], 0, "{report}");
}

#[test]
fn tarball_from_npm_cacache_is_used_offline() {
    // npm's content-v2 layout: sha512/<hex[0..2]>/<hex[2..4]>/<hex[4..]>.
    let home = tempfile::tempdir().expect("temp dir");
    let registry = serve_tiny(TAMPERED);
    let integrity = palisade_registry::Integrity::compute(palisade_registry::Algorithm::Sha512, GENUINE);
    let hex = integrity.hashes()[0].hex();
    let dir = home
        .path()
        .join("npm-cache/_cacache/content-v2/sha512")
        .join(&hex[..2])
        .join(&hex[2..4]);
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(dir.join(&hex[4..]), GENUINE).expect("write");
    let project = project_with(tiny_entry(&sri(GENUINE)), None);
    let (output, report) = verify_with(
        project.path(),
        home.path(),
        &registry,
        &["--format", "json", "--offline"],
    );
    assert_eq!(output.status.code(), Some(0), "{report}");
    assert_eq!(report["summary"]["integrity_verified"], 1, "{report}");
}

#[test]
fn tampered_tarball_is_an_integrity_mismatch() {
    let home = tempfile::tempdir().expect("temp dir");
    let registry = serve_tiny(TAMPERED);
    let project = project_with(tiny_entry(&sri(GENUINE)), None);
    let (output, report) = verify(project.path(), home.path(), &registry);
    assert_eq!(output.status.code(), Some(1), "{report}");
    assert_eq!(report["summary"]["integrity_mismatched"], 1, "{report}");
    assert_eq!(rules(&report), ["integrity-mismatch"]);
    let mismatch = finding(&report, "integrity-mismatch");
    assert_eq!(mismatch["severity"], "critical");
    let message = mismatch["message"].as_str().unwrap_or_default();
    let actual = &sri(TAMPERED)[..23];
    let expected = &sri(GENUINE)[..23];
    assert_eq!(
        message,
        format!("the tarball hashes to {actual}…, the lockfile says {expected}…")
    );
}

#[test]
fn lockfile_disagreeing_with_the_registry_is_an_integrity_mismatch() {
    let home = tempfile::tempdir().expect("temp dir");
    let registry = serve_tiny(GENUINE);
    let project = project_with(tiny_entry(&sri(TAMPERED)), None);
    let (output, report) = verify(project.path(), home.path(), &registry);
    assert_eq!(output.status.code(), Some(1), "{report}");
    let message = finding(&report, "integrity-mismatch")["message"]
        .as_str()
        .unwrap_or_default();
    assert!(message.contains("registry's dist.integrity"), "{message}");
}

#[test]
fn missing_integrity_and_foreign_resolved_are_reported() {
    let home = tempfile::tempdir().expect("temp dir");
    let registry = serve_tiny(GENUINE);
    let entries = serde_json::json!({
        "node_modules/tiny": {"version": "1.0.0",
            "resolved": "https://registry.npmjs.org/tiny/-/tiny-1.0.0.tgz"},
        "node_modules/other": {"version": "2.0.0",
            "resolved": "https://registry.npmjs.org.evil.test/other/-/other-2.0.0.tgz",
            "integrity": sri(b"other")},
        // Bundled: inside its parent's tarball, covered by the parent's integrity.
        "node_modules/other/node_modules/inner": {"version": "3.0.0", "inBundle": true}
    });
    let project = project_with(entries, None);
    let (output, report) = verify(project.path(), home.path(), &registry);
    assert_eq!(output.status.code(), Some(1), "{report}");
    let missing = finding(&report, "integrity-missing");
    assert_eq!(missing["package"]["name"], "tiny");
    let missing_count = rules(&report)
        .iter()
        .filter(|rule| *rule == "integrity-missing")
        .count();
    assert_eq!(missing_count, 1, "{report}");
    let foreign = finding(&report, "resolved-not-allowed");
    assert_eq!(foreign["package"]["name"], "other");
    assert_eq!(foreign["severity"], "high");

    // The host is allowed once palisade.toml says so.
    std::fs::write(
        project.path().join("palisade.toml"),
        "[registry]\nallowed = [\"https://registry.npmjs.org/\", \"https://registry.npmjs.org.evil.test/\"]\n",
    )
    .expect("write");
    let (_, report) = verify(project.path(), home.path(), &registry);
    assert!(!rules(&report).contains(&"resolved-not-allowed".to_owned()), "{report}");
}

#[test]
fn provenance_required_and_no_downgrade_from_palisade_toml() {
    let home = tempfile::tempdir().expect("temp dir");
    let registry = serve_tiny(GENUINE);
    let tiny = project_with(
        tiny_entry(&sri(GENUINE)),
        Some("[provenance]\nrequire = [\"tiny\", \"@myorg/*\"]\n"),
    );
    let (output, report) = verify(tiny.path(), home.path(), &registry);
    assert_eq!(output.status.code(), Some(1), "{report}");
    assert_eq!(rules(&report), ["provenance-required"]);
    let required = finding(&report, "provenance-required");
    assert_eq!(required["severity"], "high");
    assert!(
        required["message"]
            .as_str()
            .is_some_and(|m| m.contains("`tiny`") && m.contains("no attestations")),
        "{required}"
    );

    // sigstore@1.0.1 has verified provenance at 1.0.0 and none itself: a provenance
    // downgrade, unless `no-downgrade = false`.
    let registry = serve("attestations/sigstore@1.0.0.json");
    let sigstore = project("1.0.1");
    std::fs::write(
        sigstore.path().join("palisade.toml"),
        "[provenance]\nno-downgrade = false\n",
    )
    .expect("write");
    let (_, report) = verify(sigstore.path(), home.path(), &registry);
    assert_eq!(rules(&report), ["signature-invalid"]);
}

#[test]
fn sarif_points_at_the_lockfile_line() {
    let home = tempfile::tempdir().expect("temp dir");
    let registry = serve_tiny(TAMPERED);
    let project = project_with(tiny_entry(&sri(GENUINE)), None);
    let (output, sarif) = verify_with(project.path(), home.path(), &registry, &["--format", "sarif"]);
    assert_eq!(output.status.code(), Some(1), "{sarif}");
    let schema_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sarif/sarif-schema-2.1.0.json");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(schema_path).expect("the schema fixture is present"))
            .expect("the schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
    let errors: Vec<String> = validator.iter_errors(&sarif).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "SARIF schema violations: {errors:#?}");
    assert_eq!(sarif["version"], "2.1.0");
    let run = &sarif["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "palisade");
    let rule_ids: Vec<&str> = run["tool"]["driver"]["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .filter_map(|rule| rule["id"].as_str())
        .collect();
    assert!(rule_ids.contains(&"integrity-mismatch") && rule_ids.contains(&"provenance-required"));
    let result = &run["results"][0];
    assert_eq!(result["ruleId"], "integrity-mismatch");
    assert_eq!(result["level"], "error");
    let location = &result["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], "package-lock.json", "{location}");
    // The pretty-printed lockfile has `"node_modules/tiny": {` on line 9.
    let lockfile = std::fs::read_to_string(project.path().join("package-lock.json")).expect("read");
    let line = lockfile
        .lines()
        .position(|line| line.contains("\"node_modules/tiny\""))
        .map(|index| index + 1);
    assert_eq!(
        location["region"]["startLine"].as_u64(),
        line.map(|l| l as u64),
        "{location}"
    );
}

#[test]
fn sbom_hashes_are_checked_against_the_registry() {
    let home = tempfile::tempdir().expect("temp dir");
    let registry = serve_tiny(GENUINE);
    let dir = tempfile::tempdir().expect("temp dir");
    let sbom = |bytes: &[u8]| {
        let hex = palisade_registry::Integrity::compute(palisade_registry::Algorithm::Sha512, bytes).hashes()[0].hex();
        serde_json::json!({
            "bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
            "components": [{"type": "library", "name": "tiny", "version": "1.0.0",
                "purl": "pkg:npm/tiny@1.0.0", "hashes": [{"alg": "SHA-512", "content": hex}]}]
        })
        .to_string()
    };
    let good = dir.path().join("good.cdx.json");
    let bad = dir.path().join("bad.cdx.json");
    std::fs::write(&good, sbom(GENUINE)).expect("write");
    std::fs::write(&bad, sbom(TAMPERED)).expect("write");

    let (output, report) = verify_with(
        dir.path(),
        home.path(),
        &registry,
        &["--format", "json", "--sbom", "good.cdx.json"],
    );
    assert_eq!(output.status.code(), Some(0), "{report}");
    assert_eq!(report["summary"]["integrity_verified"], 1, "{report}");

    let (output, report) = verify_with(
        dir.path(),
        home.path(),
        &registry,
        &["--format", "json", "--sbom", "bad.cdx.json"],
    );
    assert_eq!(output.status.code(), Some(1), "{report}");
    let message = finding(&report, "integrity-mismatch")["message"]
        .as_str()
        .unwrap_or_default();
    assert!(message.starts_with("the SBOM says sha512-"), "{message}");
}

/// A mirror without `/-/npm/v1/keys` (like the one these machines reach): the npm keys shipped
/// in the binary still verify the recorded signature.
#[test]
fn shipped_npm_keys_verify_signatures_when_the_registry_has_no_keys_endpoint() {
    let home = tempfile::tempdir().expect("temp dir");
    let registry = serve_routes(|_| {
        vec![
            (
                "/-/npm/v1/attestations/sigstore@1.0.0".to_owned(),
                fixture("attestations/sigstore@1.0.0.json").into_bytes(),
            ),
            ("/sigstore".to_owned(), packument().to_string().into_bytes()),
        ]
    });
    let (output, report) = verify(project("1.0.0").path(), home.path(), &registry);
    assert_eq!(output.status.code(), Some(0), "{report}");
    assert_eq!(report["summary"]["signatures_verified"], 1, "{report}");
    assert_eq!(report["summary"]["signatures_invalid"], 0, "{report}");
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("shipped with palisade"),
        "the fallback is announced"
    );
}
