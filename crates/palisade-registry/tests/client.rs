//! The client against a loopback server replaying recorded registry
//! responses (tests/fixtures: recorded from the registry mirror on
//! 2026-11-22; keys and attestations from ../shared/data/verify).

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{closed_port, fixture, Response, Server};
use palisade_registry::{
    Integrity, NpmrcConfig, PackumentKind, RegistryClient, RegistryClientBuilder, RegistryError, ACCEPT_ABBREVIATED,
};

const TOKEN: &str = "npm_SECRETtoken0123456789";

/// Replays the recorded registry: routes by path.
fn registry_server() -> Server {
    Server::start(|request, _| match request.path.as_str() {
        "/is-number" => {
            let accept = request.header("accept").unwrap_or_default();
            let name = if accept.starts_with("application/vnd.npm.install-v1+json") {
                "is-number.abbreviated.json"
            } else {
                "is-number.full.json"
            };
            Response::json(fixture(name))
        }
        "/@sindresorhus%2fis" => Response::json(fixture("sindresorhus-is.abbreviated.json")),
        "/is-number/7.0.0" => Response::json(fixture("is-number.7.0.0.version.json")),
        "/is-number/-/is-number-7.0.0.tgz" => {
            Response::new(200, fixture("is-number-7.0.0.tgz")).header("Content-Type", "application/octet-stream")
        }
        "/streamed.tgz" => Response::new(200, fixture("is-number-7.0.0.tgz")).without_length(),
        "/-/npm/v1/keys" => Response::json(fixture("keys.json")),
        "/-/npm/v1/attestations/gundam-visor@1.0.1" => Response::json(fixture("attestations.gundam-visor@1.0.1.json")),
        "/not-json" => Response::json("<html>oops</html>"),
        "/-/ping" => Response::json("{}"),
        "/private-thing" => Response::new(401, "{\"error\":\"unauthorized\"}"),
        _ => Response::new(404, "{\"error\":\"Not found\"}"),
    })
}

fn builder(server: &Server) -> RegistryClientBuilder {
    RegistryClient::builder()
        .registry(server.url("/"))
        .retry_backoff(Duration::from_millis(1))
}

fn tarball_integrity() -> Integrity {
    Integrity::parse("sha512-41Cifkg6e8TylSpdtTpeLVMqvSBEVzTttHvERD741+pnZ8ANv0004MRL43QKPDlK9cGvNp6NZWZUBlbGXYxxng==")
        .expect("recorded integrity parses")
}

#[test]
fn full_and_abbreviated_packuments() {
    let server = registry_server();
    let client = builder(&server).build().expect("client");

    let full = client.packument("is-number").expect("full packument");
    assert_eq!(full.name, "is-number");
    assert_eq!(full.dist_tags.get("latest").map(String::as_str), Some("7.0.0"));
    assert_eq!(full.versions.len(), 15);
    let latest = full.latest().expect("latest");
    assert_eq!(
        latest.dist.integrity.as_deref(),
        Some(tarball_integrity().to_string().as_str())
    );
    assert_eq!(
        latest.dist.shasum.as_deref(),
        Some("7535345b896734d5f80c4d06c50955527a14f12b")
    );
    // The mirror writes `…411000+00:00`.
    let published = full.published_at("7.0.0").expect("time parsed");
    assert_eq!(published.unix_timestamp(), 1_709_051_233);

    assert_eq!(full.version_or_tag("latest").map(|v| v.version.as_str()), Some("7.0.0"));
    assert_eq!(full.version_or_tag("6.0.0").map(|v| v.version.as_str()), Some("6.0.0"));
    assert!(full.version_or_tag("9.9.9").is_none());
    // The mirror's own times: 7.0.0 (2024-02-27) is the earliest, then 3.0.0, then 4.0.0.
    assert!(full.previous_published("7.0.0").is_none());
    assert_eq!(
        full.previous_published("4.0.0").map(|v| v.version.as_str()),
        Some("3.0.0")
    );

    let abbreviated = client
        .abbreviated_packument("is-number")
        .expect("abbreviated packument");
    assert_eq!(abbreviated.name, "is-number");

    let requests = server.requests();
    assert_eq!(requests[0].header("accept"), Some("application/json"));
    assert_eq!(requests[1].header("accept"), Some(ACCEPT_ABBREVIATED));
    assert!(requests[0]
        .header("user-agent")
        .is_some_and(|agent| agent.starts_with("palisade/")));
}

#[test]
fn scoped_names_are_escaped() {
    let server = registry_server();
    let client = builder(&server).build().expect("client");
    let packument = client
        .abbreviated_packument("@sindresorhus/is")
        .expect("scoped packument");
    assert_eq!(packument.name, "@sindresorhus/is");
    assert_eq!(packument.versions.len(), 60);
    assert_eq!(server.requests()[0].path, "/@sindresorhus%2fis");
    assert!(matches!(
        client.packument("../etc/passwd"),
        Err(RegistryError::InvalidPackageName { .. })
    ));
}

#[test]
fn ping() {
    let server = registry_server();
    assert!(builder(&server).build().expect("client").ping().is_ok());
    let down = RegistryClient::builder()
        .registry(format!("http://127.0.0.1:{}/", closed_port()))
        .max_retries(0)
        .build()
        .expect("client");
    assert!(down.ping().is_err());
}

#[test]
fn version_document() {
    let server = registry_server();
    let client = builder(&server).build().expect("client");
    let version = client.version_document("is-number", "7.0.0").expect("version document");
    assert_eq!(version.version, "7.0.0");
    assert_eq!(
        version.dist.tarball,
        "https://registry.npmjs.org/is-number/-/is-number-7.0.0.tgz"
    );
    assert!(!version.runs_install_scripts());
}

#[test]
fn tarball_integrity_pass_fail_and_size_cap() {
    let server = registry_server();
    let client = builder(&server).build().expect("client");
    let url = server.url("/is-number/-/is-number-7.0.0.tgz");

    let bytes = client
        .tarball(&url, Some(&tarball_integrity()))
        .expect("tarball matches");
    assert_eq!(bytes.len(), 3730);
    let shasum = Integrity::from_hex_sha1("7535345b896734d5f80c4d06c50955527a14f12b").expect("hex");
    assert!(client.tarball(&url, Some(&shasum)).is_ok());

    let wrong = Integrity::compute(palisade_registry::Algorithm::Sha512, b"something else");
    let error = client.tarball(&url, Some(&wrong)).expect_err("mismatch");
    assert!(matches!(error, RegistryError::Integrity { .. }), "{error}");

    // The cap applies with a Content-Length (refused before reading) and
    // without one (stops reading one byte past the limit).
    let small = builder(&server).max_tarball_size(1000).build().expect("client");
    for path in ["/is-number/-/is-number-7.0.0.tgz", "/streamed.tgz"] {
        let error = small.tarball(&server.url(path), None).expect_err("too large");
        assert!(
            matches!(error, RegistryError::TooLarge { limit: 1000, .. }),
            "{path}: {error}"
        );
    }
    let exact = builder(&server).max_tarball_size(3730).build().expect("client");
    assert!(exact.tarball(&server.url("/streamed.tgz"), None).is_ok());

    let documents = builder(&server).max_document_size(10_000).build().expect("client");
    assert!(matches!(
        documents.packument("is-number"),
        Err(RegistryError::TooLarge { .. })
    ));
}

#[test]
fn not_found_auth_and_bad_json() {
    let server = registry_server();
    let client = builder(&server).build().expect("client");

    let error = client.packument("no-such-package").expect_err("404");
    assert!(error.is_not_found(), "{error}");
    assert!(error.to_string().contains("no-such-package"), "{error}");

    let error = client.packument("private-thing").expect_err("401");
    assert!(matches!(error, RegistryError::Auth { status: 401, .. }));
    assert!(error.to_string().contains(".npmrc"), "{error}");

    let error = client.packument("not-json").expect_err("html");
    assert!(matches!(error, RegistryError::Json { .. }), "{error}");
}

#[test]
fn retries_server_errors_then_succeeds() {
    let server = Server::start(|_, index| {
        if index < 2 {
            Response::new(if index == 0 { 500 } else { 503 }, "busy")
        } else {
            Response::json(fixture("is-number.full.json"))
        }
    });
    let client = builder(&server).max_retries(2).build().expect("client");
    assert!(client.packument("is-number").is_ok());
    assert_eq!(server.requests().len(), 3);

    // Bounded: with one retry the second 5xx is the answer.
    let server = Server::start(|_, _| Response::new(502, "down"));
    let client = builder(&server).max_retries(1).build().expect("client");
    let error = client.packument("is-number").expect_err("still failing");
    assert!(matches!(error, RegistryError::Status { status: 502, .. }), "{error}");
    assert_eq!(server.requests().len(), 2);

    // 4xx other than 429 is not retried.
    let server = Server::start(|_, _| Response::new(400, "bad"));
    let client = builder(&server).max_retries(3).build().expect("client");
    assert!(client.packument("is-number").is_err());
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn connection_errors_are_retried_and_reported() {
    let port = closed_port();
    let client = RegistryClient::builder()
        .registry(format!("http://127.0.0.1:{port}/"))
        .retry_backoff(Duration::from_millis(1))
        .max_retries(1)
        .build()
        .expect("client");
    let error = client.packument("is-number").expect_err("nothing listens");
    assert!(matches!(error, RegistryError::Transport { .. }), "{error}");
    assert!(
        error.to_string().contains(&format!("127.0.0.1:{port}/is-number")),
        "{error}"
    );
}

#[test]
fn etag_revalidation_and_offline_cache() {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&hits);
    let server = Server::start(move |request, _| {
        counter.fetch_add(1, Ordering::SeqCst);
        if request.header("if-none-match") == Some("\"v1\"") {
            Response::new(304, "").header("ETag", "\"v1\"")
        } else {
            Response::json(fixture("is-number.full.json")).header("ETag", "\"v1\"")
        }
    });
    let cache = tempfile::tempdir().expect("temp dir");
    let client = builder(&server).cache_dir(cache.path()).build().expect("client");

    let first = client
        .packument_bytes("is-number", PackumentKind::Full)
        .expect("first fetch");
    assert!(!first.from_cache);
    assert_eq!(first.etag.as_deref(), Some("\"v1\""));
    let second = client
        .packument_bytes("is-number", PackumentKind::Full)
        .expect("revalidated");
    assert!(second.from_cache, "a 304 is served from the cache");
    assert_eq!(first.body, second.body);
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].header("if-none-match"), None);
    assert_eq!(requests[1].header("if-none-match"), Some("\"v1\""));

    // The abbreviated form is a different cache entry.
    client.abbreviated_packument("is-number").expect("abbreviated");
    assert_eq!(server.requests()[2].header("if-none-match"), None);

    // Offline: served from the cache without a request; a miss is a clear error.
    let offline = builder(&server)
        .cache_dir(cache.path())
        .offline(true)
        .build()
        .expect("client");
    let before = hits.load(Ordering::SeqCst);
    let packument = offline.packument("is-number").expect("offline hit");
    assert_eq!(packument.name, "is-number");
    assert_eq!(hits.load(Ordering::SeqCst), before, "offline never touches the network");
    let error = offline.packument("left-pad").expect_err("offline miss");
    assert!(matches!(error, RegistryError::OfflineMiss { .. }), "{error}");
    assert!(error.to_string().contains("offline"), "{error}");
    assert!(matches!(
        offline.bulk_advisories(&BTreeMap::new()),
        Err(RegistryError::OfflineMiss { .. })
    ));

    // A corrupted cache body is a miss, not bad data.
    let corrupt_dir = tempfile::tempdir().expect("temp dir");
    let online = builder(&server).cache_dir(corrupt_dir.path()).build().expect("client");
    online.packument("is-number").expect("fill cache");
    for entry in walk(corrupt_dir.path()) {
        if entry.extension().is_some_and(|ext| ext == "body") {
            std::fs::write(&entry, b"{\"name\":\"evil\"}").expect("corrupt");
        }
    }
    let offline = builder(&server)
        .cache_dir(corrupt_dir.path())
        .offline(true)
        .build()
        .expect("client");
    assert!(matches!(
        offline.packument("is-number"),
        Err(RegistryError::OfflineMiss { .. })
    ));
}

#[test]
fn tarballs_are_content_addressed_and_rechecked() {
    let server = registry_server();
    let cache = tempfile::tempdir().expect("temp dir");
    let client = builder(&server).cache_dir(cache.path()).build().expect("client");
    let url = server.url("/is-number/-/is-number-7.0.0.tgz");
    client.tarball(&url, Some(&tarball_integrity())).expect("fetch");
    assert_eq!(server.requests().len(), 1);

    // Same integrity, another URL (a firewall, a lockfile `resolved`): no request.
    let offline = builder(&server)
        .cache_dir(cache.path())
        .offline(true)
        .build()
        .expect("client");
    let bytes = offline
        .tarball("https://elsewhere.example/x.tgz", Some(&tarball_integrity()))
        .expect("content hit");
    assert_eq!(bytes.len(), 3730);
    assert_eq!(server.requests().len(), 1);
    // Another integrity is a miss, not the wrong bytes.
    let wrong = Integrity::compute(palisade_registry::Algorithm::Sha512, b"x");
    assert!(matches!(
        offline.tarball(&url, Some(&wrong)),
        Err(RegistryError::OfflineMiss { .. })
    ));

    // A tampered cache file is never served: refetched when online.
    for path in walk(cache.path()) {
        std::fs::write(&path, b"tampered").expect("tamper");
    }
    assert!(matches!(
        offline.tarball(&url, Some(&tarball_integrity())),
        Err(RegistryError::OfflineMiss { .. })
    ));
    assert_eq!(
        client.tarball(&url, Some(&tarball_integrity())).expect("refetch").len(),
        3730
    );
    assert_eq!(server.requests().len(), 2);
}

#[test]
fn tarballs_from_the_npm_cache() {
    // npm's cacache: content-v2/sha512/<2 hex>/<2 hex>/<rest of the hex>.
    let npm_cache = tempfile::tempdir().expect("temp dir");
    let hex = tarball_integrity().hashes()[0].hex();
    let path = npm_cache
        .path()
        .join("content-v2/sha512")
        .join(&hex[..2])
        .join(&hex[2..4])
        .join(&hex[4..]);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(&path, fixture("is-number-7.0.0.tgz")).expect("write");
    let client = RegistryClient::builder()
        .registry(format!("http://127.0.0.1:{}/", closed_port()))
        .npm_cache_dir(npm_cache.path())
        .offline(true)
        .build()
        .expect("client");
    let bytes = client.tarball(
        "https://registry.npmjs.org/is-number/-/is-number-7.0.0.tgz",
        Some(&tarball_integrity()),
    );
    assert_eq!(bytes.expect("from npm cache").len(), 3730);
}

#[test]
fn signing_keys_attestations_and_bulk_advisories() {
    let server = registry_server();
    let client = builder(&server).build().expect("client");

    let keys = client.signing_keys().expect("keys");
    assert_eq!(keys.keys.len(), 2);
    assert_eq!(keys.keys[0].keyid, "SHA256:jl3bwswu80PjjokCgh0o2w5c2U4LhQAE57gj9cz1kzA");
    assert!(keys.keys[0].expires.is_some());
    assert!(keys.keys[1].expires.is_none());

    let attestations = client.attestations("gundam-visor", "1.0.1").expect("attestations");
    assert!(!attestations.attestations.is_empty());
    assert!(attestations.attestations.iter().all(|a| a.bundle.is_object()));

    let bulk = Server::start(|request, _| {
        assert_eq!(request.method, "POST");
        assert_eq!(request.path, "/-/npm/v1/security/advisories/bulk");
        let body: serde_json::Value = serde_json::from_slice(&request.body).expect("json body");
        assert_eq!(body, serde_json::json!({"lodash": ["4.17.20"]}));
        Response::json(
            r#"{"lodash":[{"id":1106913,"url":"https://github.com/advisories/GHSA-35jh-r3h4-6jhm",
                "title":"Command Injection in lodash","severity":"high","vulnerable_versions":"<4.17.21",
                "cwe":["CWE-77","CWE-94"],"cvss":{"score":7.2,"vectorString":"CVSS:3.1/AV:N"}}]}"#,
        )
    });
    let client = builder(&bulk).build().expect("client");
    let query = BTreeMap::from([("lodash".to_owned(), vec!["4.17.20".to_owned()])]);
    let advisories = client.bulk_advisories(&query).expect("bulk");
    let lodash = &advisories["lodash"][0];
    assert_eq!(lodash.severity, "high");
    assert_eq!(lodash.vulnerable_versions, "<4.17.21");
}

#[test]
fn credentials_follow_the_longest_nerf_dart_and_never_leak() {
    let server = registry_server();
    let other = registry_server();
    let port = server.port;
    let env = move |name: &str| match name {
        "PAL_TEST_TOKEN" => Some(TOKEN.to_owned()),
        _ => None,
    };
    let npmrc = NpmrcConfig::parse(
        &format!(
            "registry=http://127.0.0.1:{port}/\n\
             //127.0.0.1:{port}/:_authToken=${{PAL_TEST_TOKEN}}\n\
             @private:registry=http://127.0.0.1:{port}/private/\n\
             //127.0.0.1:{port}/private/:_auth=dXNlcjpwYXNz\n"
        ),
        &env,
    )
    .expect("npmrc");
    let client = RegistryClient::builder().npmrc(npmrc).build().expect("client");

    client.packument("is-number").expect("default registry");
    let _ = client.packument("@private/thing"); // 404, but look at what was sent
    let _ = client.tarball(&other.url("/is-number/-/is-number-7.0.0.tgz"), None);

    let requests = server.requests();
    let expected_bearer = format!("Bearer {TOKEN}");
    assert_eq!(requests[0].header("authorization"), Some(expected_bearer.as_str()));
    assert_eq!(requests[1].path, "/private/@private%2fthing");
    assert_eq!(requests[1].header("authorization"), Some("Basic dXNlcjpwYXNz"));
    // A different host (here: another port) gets no credentials.
    assert_eq!(other.requests()[0].header("authorization"), None);

    // Never in Debug output or error messages.
    let shown = format!("{client:?} {:?}", client.npmrc());
    assert!(!shown.contains(TOKEN), "{shown}");
    assert!(!shown.contains("dXNlcjpwYXNz"), "{shown}");
    let error = client.packument("private-thing").expect_err("401");
    assert!(!format!("{error} {error:?}").contains(TOKEN));
    let error = client
        .tarball(&format!("http://user:{TOKEN}@127.0.0.1:{port}/missing.tgz"), None)
        .expect_err("404");
    assert!(!format!("{error} {error:?}").contains(TOKEN), "{error}");
}

#[test]
fn usable_from_many_threads() {
    let server = registry_server();
    let client = builder(&server).build().expect("client");
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let client = client.clone();
                scope.spawn(move || client.packument("is-number").map(|p| p.versions.len()))
            })
            .collect();
        for handle in handles {
            assert_eq!(handle.join().expect("thread").expect("fetch"), 15);
        }
    });
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn rate_limits_truncated_bodies_and_timeouts_are_retried() {
    // 429 with Retry-After: 0, then success.
    let server = Server::start(|_, index| {
        if index == 0 {
            Response::new(429, "slow down").header("Retry-After", "0")
        } else {
            Response::json(fixture("is-number.full.json"))
        }
    });
    assert!(builder(&server).build().expect("client").packument("is-number").is_ok());
    assert_eq!(server.requests().len(), 2);

    // A body cut short (the connection closes before Content-Length bytes).
    let server = Server::start(|_, index| {
        if index == 0 {
            Response::new(200, &b"{\"name\":"[..])
                .without_length()
                .header("Content-Length", "5000")
        } else {
            Response::json(fixture("is-number.full.json"))
        }
    });
    assert!(builder(&server).build().expect("client").packument("is-number").is_ok());
    assert_eq!(server.requests().len(), 2);

    // A server slower than the timeout: bounded attempts, a transport error.
    let server = Server::start(|_, _| {
        std::thread::sleep(Duration::from_millis(600));
        Response::json("{}")
    });
    let client = builder(&server)
        .timeout(Duration::from_millis(150))
        .max_retries(1)
        .build()
        .expect("client");
    let error = client.packument("is-number").expect_err("timeout");
    assert!(matches!(error, RegistryError::Transport { .. }), "{error}");
    assert_eq!(server.requests().len(), 2);
}

#[test]
fn stale_if_error_serves_the_cached_copy_when_the_registry_fails() {
    let server = Server::start(|_, index| {
        if index == 0 {
            Response::json(fixture("is-number.full.json"))
        } else {
            Response::new(503, "down")
        }
    });
    let cache = tempfile::tempdir().expect("temp dir");
    let strict = builder(&server)
        .cache_dir(cache.path())
        .max_retries(0)
        .build()
        .expect("client");
    strict.packument("is-number").expect("fills the cache");
    // Off by default: the failure is reported.
    assert!(matches!(
        strict.packument("is-number"),
        Err(RegistryError::Status { status: 503, .. })
    ));
    let lenient = builder(&server)
        .cache_dir(cache.path())
        .max_retries(0)
        .stale_if_error(true)
        .build()
        .expect("client");
    let fetched = lenient
        .packument_bytes("is-number", PackumentKind::Full)
        .expect("stale copy");
    assert!(fetched.stale && fetched.from_cache);
    // Nothing cached: the failure stands.
    assert!(lenient.packument("left-pad").is_err());
}

#[test]
fn redirects_to_another_host_drop_credentials() {
    let target = registry_server();
    let target_url = target.url("/is-number");
    let origin = Server::start(move |_, _| Response::new(302, "").header("Location", &target_url));
    let npmrc = NpmrcConfig::parse(
        &format!(
            "registry={}\n//127.0.0.1:{}/:_authToken={TOKEN}\n",
            origin.url("/"),
            origin.port
        ),
        &|_: &str| None,
    )
    .expect("npmrc");
    let client = RegistryClient::builder().npmrc(npmrc).build().expect("client");
    assert_eq!(client.packument("is-number").expect("followed").name, "is-number");
    assert_eq!(
        origin.requests()[0].header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert_eq!(target.requests()[0].header("authorization"), None);
}

#[test]
fn npmrc_proxy_is_used_and_redacted() {
    // The "proxy" is the loopback server: an http request through a proxy is
    // sent to it in absolute form.
    let proxy = Server::start(|request, _| {
        if request.path == "http://registry.invalid/is-number" {
            Response::json(fixture("is-number.full.json"))
        } else {
            Response::new(404, "")
        }
    });
    let npmrc = NpmrcConfig::parse(
        &format!(
            "registry=http://registry.invalid/\nproxy=http://alice:pr0xypass@127.0.0.1:{}/\n",
            proxy.port
        ),
        &|_: &str| None,
    )
    .expect("npmrc");
    assert!(!format!("{npmrc:?}").contains("pr0xypass"));
    let client = RegistryClient::builder().npmrc(npmrc).build().expect("client");
    assert_eq!(
        client.packument("is-number").expect("through the proxy").name,
        "is-number"
    );
    let request = &proxy.requests()[0];
    assert_eq!(request.path, "http://registry.invalid/is-number");
    // Proxy credentials go to the proxy (Proxy-Authorization), from the URL.
    assert!(request
        .header("proxy-authorization")
        .is_some_and(|value| value.starts_with("Basic ")));

    // noproxy bypasses it (here: the host then fails to resolve).
    let npmrc = NpmrcConfig::parse(
        &format!(
            "registry=http://registry.invalid/\nproxy=http://127.0.0.1:{}/\nnoproxy=registry.invalid\n",
            proxy.port
        ),
        &|_: &str| None,
    )
    .expect("npmrc");
    let client = RegistryClient::builder()
        .npmrc(npmrc)
        .max_retries(0)
        .build()
        .expect("client");
    assert!(client.packument("is-number").is_err());
    assert_eq!(proxy.requests().len(), 1);
}
