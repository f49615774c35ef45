//! The npm registry read API as the firewall speaks it (HTTP level).
#![expect(clippy::unwrap_used, reason = "tests: a failed unwrap is a failed test")]

mod common;

use std::sync::atomic::Ordering;

use common::*;
use palisade_core::Verdict;

const ABBREVIATED: &str = "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*";

#[test]
fn packuments_full_and_abbreviated_with_tarballs_pointing_at_the_firewall() {
    let harness = Harness::start(Options::default());
    let full: serde_json::Value = harness.get("/is-odd").json().unwrap();
    assert_eq!(full["dist-tags"]["latest"], "3.0.1");
    assert_eq!(
        full["versions"]["3.0.1"]["dist"]["tarball"],
        format!("{}/is-odd/-/is-odd-3.0.1.tgz", harness.url)
    );
    assert!(full["versions"]["3.0.1"].get("description").is_some());
    assert!(full["time"]["3.0.1"].is_string());

    let response = harness
        .http()
        .get(format!("{}/is-odd", harness.url))
        .header("accept", ABBREVIATED)
        .send()
        .unwrap();
    assert_eq!(
        response.headers()["content-type"],
        "application/vnd.npm.install-v1+json"
    );
    let abbreviated: serde_json::Value = response.json().unwrap();
    assert!(abbreviated["versions"]["3.0.1"].get("description").is_none());
    assert_eq!(abbreviated["versions"]["3.0.1"]["dependencies"]["is-number"], "^6.0.0");
    assert!(abbreviated.get("time").is_none());
    assert_eq!(
        abbreviated["versions"]["3.0.1"]["dist"]["tarball"],
        format!("{}/is-odd/-/is-odd-3.0.1.tgz", harness.url)
    );
    // Requests for both forms cost one upstream fetch.
    assert_eq!(harness.upstream.hits("/is-odd"), 1);
}

#[test]
fn scoped_names_in_both_encodings_version_documents_dist_tags_and_ping() {
    let harness = Harness::start(Options::default());
    harness.publish("@demo/scoped", vec![Version::new("@demo/scoped", "1.0.0", 10)]);
    for path in ["/@demo%2fscoped", "/@demo/scoped", "/@demo%2Fscoped"] {
        let doc: serde_json::Value = harness.get(path).json().unwrap();
        assert_eq!(doc["name"], "@demo/scoped", "{path}");
        assert_eq!(
            doc["versions"]["1.0.0"]["dist"]["tarball"],
            format!("{}/@demo/scoped/-/scoped-1.0.0.tgz", harness.url)
        );
    }
    let version: serde_json::Value = harness.get("/@demo/scoped/1.0.0").json().unwrap();
    assert_eq!(version["version"], "1.0.0");
    let latest: serde_json::Value = harness.get("/@demo%2fscoped/latest").json().unwrap();
    assert_eq!(latest["version"], "1.0.0");
    let tags: serde_json::Value = harness.get("/-/package/@demo%2fscoped/dist-tags").json().unwrap();
    assert_eq!(tags, serde_json::json!({"latest": "1.0.0"}));
    let tarball = harness.get("/@demo/scoped/-/scoped-1.0.0.tgz");
    assert_eq!(tarball.status(), 200);
    assert_eq!(tarball.bytes().unwrap().len(), {
        let doc = harness.upstream.tarballs.lock().unwrap();
        doc["/@demo/scoped/-/scoped-1.0.0.tgz"].len()
    });
    let ping = harness.get("/-/ping");
    assert_eq!(ping.status(), 200);
    assert_eq!(harness.get("/-/whoami").status(), 404);
    assert_eq!(harness.get("/is-odd/9.9.9").status(), 404);
}

#[test]
fn head_etag_gzip_and_writes() {
    let harness = Harness::start(Options::default());
    let client = harness.http();
    let first = client.get(format!("{}/is-number", harness.url)).send().unwrap();
    let etag = first.headers()["etag"].to_str().unwrap().to_string();
    let length = first.bytes().unwrap().len();
    let again = client
        .get(format!("{}/is-number", harness.url))
        .header("if-none-match", &etag)
        .send()
        .unwrap();
    assert_eq!(again.status(), 304);
    let head = client.head(format!("{}/is-number", harness.url)).send().unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(head.headers()["etag"].to_str().unwrap(), etag);
    assert!(head.bytes().unwrap().is_empty());
    let gzipped = client
        .get(format!("{}/is-number", harness.url))
        .header("accept-encoding", "gzip")
        .send()
        .unwrap();
    assert_eq!(gzipped.headers()["content-encoding"], "gzip");
    let compressed = gzipped.bytes().unwrap();
    assert!(compressed.len() < length);
    let mut decoded = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&compressed[..]), &mut decoded).unwrap();
    assert_eq!(decoded.len(), length);

    for method in [reqwest::Method::PUT, reqwest::Method::POST, reqwest::Method::DELETE] {
        let response = client
            .request(method.clone(), format!("{}/is-number", harness.url))
            .body("{}")
            .send()
            .unwrap();
        assert_eq!(response.status(), 405, "{method}");
        let body: serde_json::Value = response.json().unwrap();
        assert!(body["error"].as_str().unwrap().contains("read-only"));
    }
}

#[test]
fn a_refused_version_stays_refused_through_every_path() {
    let harness = Harness::start(Options {
        toml: "[packages]\ndeny = [{ spec = \"demo-deny@1.1.0\", reason = \"compromised release\" }]\n".into(),
        ..Options::default()
    });
    harness.publish(
        "demo-deny",
        vec![
            Version::new("demo-deny", "1.0.0", 30),
            Version::new("demo-deny", "1.1.0", 20),
        ],
    );
    let response = harness.get("/demo-deny");
    let notice = response.headers()["npm-notice"].to_str().unwrap().to_string();
    assert!(notice.contains("demo-deny@1.1.0 (denied"), "{notice}");
    assert!(notice.contains("latest is 1.0.0 instead of 1.1.0"), "{notice}");
    let doc: serde_json::Value = response.json().unwrap();
    assert!(doc["versions"].get("1.1.0").is_none());
    assert_eq!(doc["dist-tags"]["latest"], "1.0.0");
    for path in ["/demo-deny/1.1.0", "/demo-deny/-/demo-deny-1.1.0.tgz"] {
        let response = harness.get(path);
        assert_eq!(response.status(), 403, "{path}");
        let body: serde_json::Value = response.json().unwrap();
        let message = body["error"].as_str().unwrap();
        assert!(
            message.contains("palisade refused demo-deny@1.1.0 (denied)"),
            "{message}"
        );
        assert!(message.contains("compromised release"), "{message}");
        assert!(message.contains("palisade admin approve demo-deny@1.1.0"), "{message}");
        assert_eq!(body["rule"], "denied");
    }
    assert_eq!(harness.upstream.hits("/demo-deny/-/demo-deny-1.1.0.tgz"), 0);
    let tags: serde_json::Value = harness.get("/-/package/demo-deny/dist-tags").json().unwrap();
    assert_eq!(tags["latest"], "1.0.0");
    let held = harness.admin().held_back(10).unwrap();
    assert!(held
        .iter()
        .any(|h| h.package == "demo-deny" && h.version == "1.1.0" && h.rule == "denied"));
}

#[test]
fn install_scripts_are_refused_unless_allowlisted() {
    let harness = Harness::start(Options {
        toml: "[install-scripts]\nallow = [\"demo-built\"]\n".into(),
        ..Options::default()
    });
    let mut scripted = Version::new("demo-scripts", "1.0.0", 30);
    scripted.scripts = Some(serde_json::json!({"postinstall": "node steal.js"}));
    harness.publish("demo-scripts", vec![scripted]);
    let mut allowed = Version::new("demo-built", "1.0.0", 30);
    allowed.scripts = Some(serde_json::json!({"install": "node-gyp rebuild"}));
    harness.publish("demo-built", vec![allowed]);
    let refused = harness.get("/demo-scripts/-/demo-scripts-1.0.0.tgz");
    assert_eq!(refused.status(), 403);
    assert!(refused.text().unwrap().contains("install-scripts"));
    assert_eq!(harness.get("/demo-built/-/demo-built-1.0.0.tgz").status(), 200);
}

#[test]
fn concurrent_requests_for_one_tarball_fetch_and_scan_once() {
    let harness = Harness::start(Options::default());
    harness.publish("demo-burst", vec![Version::new("demo-burst", "1.0.0", 30)]);
    let url = format!("{}/demo-burst/-/demo-burst-1.0.0.tgz", harness.url);
    let threads: Vec<_> = (0..16)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || reqwest::blocking::get(url).unwrap().status().as_u16())
        })
        .collect();
    for thread in threads {
        assert_eq!(thread.join().unwrap(), 200);
    }
    assert_eq!(harness.upstream.hits("/demo-burst/-/demo-burst-1.0.0.tgz"), 1);
    assert_eq!(harness.scanner.scans.load(Ordering::SeqCst), 1);
}

#[test]
fn malicious_verdicts_are_refused_and_cached_by_integrity() {
    let harness = Harness::start(Options::default());
    harness.publish("demo-evil", vec![Version::new("demo-evil", "1.0.0", 30)]);
    harness
        .scanner
        .verdicts
        .lock()
        .unwrap()
        .insert("demo-evil@1.0.0".into(), Verdict::Malicious);
    for _ in 0..3 {
        let response = harness.get("/demo-evil/-/demo-evil-1.0.0.tgz");
        assert_eq!(response.status(), 403);
        assert!(response.text().unwrap().contains("scan-malicious"));
    }
    assert_eq!(harness.scanner.scans.load(Ordering::SeqCst), 1);
    // Once known, it is also gone from the packument.
    let doc: serde_json::Value = harness.get("/demo-evil").json().unwrap();
    assert!(doc["versions"].get("1.0.0").is_none());
    let listed = harness.admin().list().unwrap();
    assert!(listed
        .refused_verdicts
        .iter()
        .any(|v| v.package == "demo-evil" && v.verdict == "malicious"));
}

#[test]
fn upstream_errors_are_retried_and_when_down_only_cached_scanned_data_is_served() {
    let harness = Harness::start(Options {
        packument_max_age: Some(time::Duration::ZERO),
        ..Options::default()
    });
    harness.publish(
        "demo-down",
        vec![
            Version::new("demo-down", "1.0.0", 30),
            Version::new("demo-down", "1.1.0", 20),
        ],
    );
    // Two 502s, then success: retried with backoff.
    harness.upstream.fail_next.store(2, Ordering::SeqCst);
    let response = harness.get("/demo-down");
    assert_eq!(response.status(), 200);
    assert!(response.headers().get("x-palisade-stale").is_none());
    assert_eq!(harness.get("/demo-down/-/demo-down-1.0.0.tgz").status(), 200);

    harness.upstream.down.store(true, Ordering::SeqCst);
    let stale = harness.get("/demo-down");
    assert_eq!(stale.status(), 200);
    assert_eq!(stale.headers()["x-palisade-stale"], "true");
    // Cached and scanned: served. Never fetched: refused (fail closed).
    assert_eq!(harness.get("/demo-down/-/demo-down-1.0.0.tgz").status(), 200);
    let unscanned = harness.get("/demo-down/-/demo-down-1.1.0.tgz");
    assert_eq!(unscanned.status(), 503);
    assert!(unscanned.text().unwrap().contains("nothing unscanned is served"));
    // A package never fetched: an error, not an empty document.
    assert_eq!(harness.get("/is-odd").status(), 502);
}

#[test]
fn the_upstream_token_is_sent_upstream_and_never_echoed() {
    let token = "npm_SECRET0123456789abcdef";
    let harness = Harness::start(Options {
        upstream_token: Some(token.into()),
        ..Options::default()
    });
    let response = harness.get("/is-odd");
    let headers = format!("{:?}", response.headers());
    let body = response.text().unwrap();
    assert!(!body.contains(token) && !headers.contains(token));
    assert!(harness
        .upstream
        .authorization
        .lock()
        .unwrap()
        .iter()
        .all(|a| a == &format!("Bearer {token}")));
    assert!(!harness.upstream.authorization.lock().unwrap().is_empty());
    assert!(!format!("{:?}", harness.firewall).contains(token));
}

#[test]
fn admin_api_needs_the_token_and_does_not_exist_without_one() {
    let harness = Harness::start(Options::default());
    let client = harness.http();
    let url = format!("{}/-/palisade/admin/stats", harness.url);
    assert_eq!(client.get(&url).send().unwrap().status(), 401);
    assert_eq!(client.get(&url).bearer_auth("wrong").send().unwrap().status(), 401);
    assert_eq!(
        client
            .get(&url)
            .bearer_auth(&harness.admin_token)
            .send()
            .unwrap()
            .status(),
        200
    );
    harness.get("/-/ping");
    harness.get("/-/ping");
    let stats = harness.admin().stats().unwrap();
    assert_eq!(stats.requests, 2, "registry requests only: {stats:?}");
    let reason_missing = client
        .post(format!("{}/-/palisade/admin/approve", harness.url))
        .bearer_auth(&harness.admin_token)
        .json(&serde_json::json!({"package": "a", "version": "1.0.0", "reason": " "}))
        .send()
        .unwrap();
    assert_eq!(reason_missing.status(), 400);

    let closed = Harness::start(Options {
        admin: false,
        ..Options::default()
    });
    let response = closed
        .http()
        .get(format!("{}/-/palisade/admin/stats", closed.url))
        .bearer_auth("anything")
        .send()
        .unwrap();
    assert_eq!(response.status(), 404);
}

#[test]
fn hostile_paths_are_refused() {
    let harness = Harness::start(Options::default());
    for path in [
        "/..%2f..%2fetc%2fpasswd",
        "/%2e%2e/x",
        "/@scope/..%2f..",
        "/is-odd/-/..%2f..%2fsecret.tgz",
        "/a%00b",
    ] {
        let status = harness.get(path).status().as_u16();
        assert!(matches!(status, 400 | 404), "{path}: {status}");
    }
    let long = format!("/{}", "a".repeat(5000));
    assert!(matches!(harness.get(&long).status().as_u16(), 400 | 404 | 414));
}

#[test]
fn upstream_responses_are_bounded() {
    let harness = Harness::start(Options {
        max_document: Some(4096),
        max_tarball: Some(64),
        ..Options::default()
    });
    // is-odd.json is over 4 KiB: refused, never parsed.
    let response = harness.get("/is-odd");
    assert_eq!(response.status(), 502);
    assert!(response.text().unwrap().contains("larger than 4096 bytes"));
    harness.publish("demo-big", vec![Version::new("demo-big", "1.0.0", 30)]);
    let tarball = harness.get("/demo-big/-/demo-big-1.0.0.tgz");
    assert_eq!(tarball.status(), 503);
    assert_eq!(harness.scanner.scans.load(Ordering::SeqCst), 0);
}
