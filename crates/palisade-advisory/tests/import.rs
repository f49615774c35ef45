//! Import, atomicity and sync tests on the real shared OSV data
//! (`../shared/data/osv`, beside the repository; CI always has it).

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::Instant;

use palisade_advisory::{import, sync, AdvisoryError, AdvisoryKind, Database, ImportOptions, Limits, DATABASE_FILE};
use palisade_core::{PackageId, Severity};

fn shared_osv() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/osv");
    assert!(
        dir.is_dir(),
        "the shared OSV data is missing at {} (CI keeps ../shared beside the repository)",
        dir.display()
    );
    dir
}

fn sample_zip() -> PathBuf {
    shared_osv().join("ghsa-npm-sample.zip")
}

fn malicious_zip() -> PathBuf {
    shared_osv().join("ossf-malicious-npm.zip")
}

fn exact() -> ImportOptions<'static> {
    ImportOptions {
        without_baseline: true,
        ..ImportOptions::default()
    }
}

fn find(db: &Database, name: &str, version: &str) -> Vec<palisade_advisory::AdvisoryMatch> {
    db.matches(&[PackageId::new(name, version)]).expect("query")
}

#[test]
fn imports_the_ghsa_sample() {
    let home = tempfile::tempdir().expect("tempdir");
    let summary = import(home.path(), &[sample_zip()], exact()).expect("import");
    assert_eq!(summary.records_read, 21);
    assert_eq!(summary.imported, 21);
    assert_eq!(
        (
            summary.skipped,
            summary.withdrawn,
            summary.not_npm,
            summary.invalid_ranges
        ),
        (0, 0, 0, 0)
    );
    assert_eq!(summary.total, 21);

    let db = Database::open(home.path()).expect("open");
    assert!(!db.is_baseline());
    let lodash = find(&db, "lodash", "4.17.20");
    assert_eq!(lodash.len(), 1, "{lodash:#?}");
    assert_eq!(lodash[0].advisory.id, "GHSA-35jh-r3h4-6jhm");
    assert_eq!(lodash[0].advisory.fixed_in, ["4.17.21"]);
    assert_eq!(lodash[0].advisory.kind, AdvisoryKind::Vulnerability);
    assert_eq!(lodash[0].advisory.severity, Severity::High);
    assert_eq!(lodash[0].advisory.aliases, ["CVE-2021-23337"]);
    assert!(find(&db, "lodash", "4.17.21").is_empty());

    let flatmap = find(&db, "flatmap-stream", "0.1.1");
    assert_eq!(flatmap.len(), 1);
    assert_eq!(
        (flatmap[0].advisory.kind, flatmap[0].advisory.severity),
        (AdvisoryKind::Malicious, Severity::Critical)
    );
    assert!(flatmap[0].advisory.fixed_in.is_empty());
    assert_eq!(find(&db, "event-stream", "3.3.6")[0].advisory.fixed_in, ["4.0.0"]);
    assert!(find(&db, "event-stream", "3.3.5").is_empty());

    // Split ranges: every qs line has its own fix.
    assert_eq!(find(&db, "qs", "6.9.4")[0].advisory.fixed_in, ["6.9.7"]);
    assert_eq!(find(&db, "qs", "6.5.2")[0].advisory.fixed_in, ["6.5.3"]);
    assert!(find(&db, "qs", "6.11.0").is_empty());
    // Prerelease inside a range: express 5.0.0-beta.1 is in [5.0.0-alpha.1, 5.0.0).
    assert_eq!(find(&db, "express", "5.0.0-beta.1")[0].advisory.fixed_in, ["5.0.0"]);
    assert!(find(&db, "express", "5.0.0").is_empty());
    // The CVSS v4 record keeps GitHub's severity.
    assert_eq!(find(&db, "express", "4.19.2")[0].advisory.severity, Severity::Moderate);
    // Malware by CWE-506.
    for (name, version) in [
        ("ua-parser-js", "0.7.29"),
        ("ua-parser-js", "1.0.0"),
        ("node-ipc", "10.1.2"),
    ] {
        let found = find(&db, name, version);
        assert_eq!(found[0].advisory.kind, AdvisoryKind::Malicious, "{name}@{version}");
    }
    assert!(find(&db, "ua-parser-js", "0.7.30").is_empty());

    let status = db.status().expect("status");
    assert_eq!(status.advisories, 21);
    assert_eq!(status.by_source.get("ghsa"), Some(&21));
    assert_eq!(status.by_kind.get("malicious"), Some(&3), "{status:#?}");
    assert!(status.sync_due, "never synced");
    assert_eq!(
        db.get("CVE-2021-23337").expect("get").map(|a| a.id),
        Some("GHSA-35jh-r3h4-6jhm".into())
    );
}

#[test]
fn imports_the_full_malicious_packages_data() {
    let home = tempfile::tempdir().expect("tempdir");
    let started = Instant::now();
    let summary = import(home.path(), &[malicious_zip(), sample_zip()], exact()).expect("import");
    let elapsed = started.elapsed();
    assert_eq!(summary.records_read, 22_241 + 21);
    assert_eq!(summary.imported, 22_241 + 21);
    assert_eq!(summary.skipped, 0, "{:?}", summary.skipped_reasons);
    assert_eq!(summary.total, 22_241 + 21);
    // Debug builds are several times slower than release; release is the acceptance number (see benches/).
    assert!(elapsed.as_secs() < 60, "import took {elapsed:?}");

    let db = Database::open(home.path()).expect("open");
    let status = db.status().expect("status");
    assert_eq!(status.by_source.get("ossf-malicious-packages"), Some(&22_241));
    assert_eq!(status.by_kind.get("malicious"), Some(&(22_241 + 3)));
    assert_eq!(status.newest_modified.as_deref().map(|m| &m[..4]), Some("2025"));
    assert!(find(&db, "flatmap-stream", "0.1.1")
        .iter()
        .all(|m| m.advisory.kind == AdvisoryKind::Malicious));

    // A real MAL report, matched by name and version.
    let some_mal = db.get("MAL-2025-4664").expect("get").expect("present");
    assert_eq!(some_mal.kind, AdvisoryKind::Malicious);

    // Importing the same data again changes nothing and keeps the count.
    let again = import(home.path(), &[sample_zip()], exact()).expect("re-import");
    assert_eq!((again.imported, again.total), (21, 22_241 + 21));
}

#[test]
fn a_corrupt_zip_leaves_the_previous_database_intact() {
    let home = tempfile::tempdir().expect("tempdir");
    import(home.path(), &[sample_zip()], exact()).expect("good import");
    let before = std::fs::read(home.path().join(DATABASE_FILE)).expect("database written");

    // A truncated copy of the sample: the central directory is gone.
    let bytes = std::fs::read(sample_zip()).expect("sample");
    let truncated = home.path().join("truncated.zip");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).expect("write");
    let error =
        import(home.path(), std::slice::from_ref(&truncated), ImportOptions::default()).expect_err("corrupt zip");
    assert!(matches!(error, AdvisoryError::Zip { .. }), "{error}");
    assert!(error.to_string().contains("truncated.zip"), "{error}");

    // A zip whose entry data is corrupt (central directory intact).
    let mut corrupt = bytes.clone();
    let middle = corrupt.len() / 3;
    for byte in &mut corrupt[middle..middle + 64] {
        *byte ^= 0x5a;
    }
    let corrupt_path = home.path().join("corrupt.zip");
    std::fs::write(&corrupt_path, &corrupt).expect("write");
    assert!(import(home.path(), &[sample_zip(), corrupt_path], ImportOptions::default()).is_err());

    assert_eq!(
        std::fs::read(home.path().join(DATABASE_FILE)).expect("still there"),
        before
    );
    let db = Database::open(home.path()).expect("old database still opens");
    assert_eq!(find(&db, "lodash", "4.17.20")[0].advisory.id, "GHSA-35jh-r3h4-6jhm");
    let leftovers: Vec<_> = std::fs::read_dir(home.path())
        .expect("list")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(".advisories-"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left behind: {leftovers:?}");
}

#[test]
fn bad_records_are_skipped_and_reported() {
    let home = tempfile::tempdir().expect("tempdir");
    let dir = home.path().join("records");
    std::fs::create_dir_all(dir.join("nested/deeper")).expect("mkdir");
    let good = r#"{"id":"GHSA-good","modified":"2024-01-01T00:00:00Z",
      "affected":[{"package":{"ecosystem":"npm","name":"good"},"ranges":[
        {"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.0.0"}]},
        {"type":"SEMVER","events":[{"introduced":"2.0.0"},{"fixed":"2.x"}]}]}]}"#;
    std::fs::write(dir.join("nested/deeper/good.json"), good).expect("write");
    std::fs::write(dir.join("bad.json"), "{ not json").expect("write");
    std::fs::write(dir.join("deep.json"), "[".repeat(50_000)).expect("write");
    std::fs::write(dir.join("array.json"), "[1, 2]").expect("write");
    std::fs::write(
        dir.join("big.json"),
        format!(r#"{{"id":"X-1","details":"{}"}}"#, "a".repeat(4096)),
    )
    .expect("write");
    std::fs::write(
        dir.join("pypi.json"),
        r#"{"id":"PYSEC-1","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"PyPI","name":"x"}}]}"#,
    )
    .expect("write");
    std::fs::write(
        dir.join("withdrawn.json"),
        r#"{"id":"MAL-w","modified":"2024-01-01T00:00:00Z","withdrawn":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":"w"},"versions":["1.0.0"]}]}"#,
    )
    .expect("write");
    std::fs::write(dir.join("readme.txt"), "ignored").expect("write");

    let options = ImportOptions {
        limits: Limits {
            max_entry_bytes: 1024,
            ..Limits::default()
        },
        ..exact()
    };
    let summary = import(home.path(), &[dir], options).expect("import");
    assert_eq!(summary.records_read, 7);
    assert_eq!(summary.imported, 1);
    assert_eq!(summary.skipped, 4, "{:?}", summary.skipped_reasons);
    assert!(
        summary.skipped_reasons.iter().any(|r| r.contains("bad.json")),
        "{:?}",
        summary.skipped_reasons
    );
    assert!(summary
        .skipped_reasons
        .iter()
        .any(|r| r.contains("big.json") && r.contains("larger")));
    assert_eq!((summary.withdrawn, summary.not_npm, summary.invalid_ranges), (1, 1, 1));

    let db = Database::open(home.path()).expect("open");
    assert_eq!(find(&db, "good", "0.5.0").len(), 1);
    assert!(
        find(&db, "good", "2.5.0").is_empty(),
        "the invalid range is skipped, not guessed"
    );
    assert!(find(&db, "w", "1.0.0").is_empty());
}

/// Builds a zip in memory from `(name, bytes)` entries.
fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in entries {
        writer.start_file(*name, options).expect("zip entry");
        writer.write_all(bytes).expect("zip write");
    }
    writer.finish().expect("zip finish").into_inner()
}

#[test]
fn hostile_zips_are_bounded() {
    let home = tempfile::tempdir().expect("tempdir");
    let record = br#"{"id":"GHSA-t","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":"t"},"versions":["1.0.0"]}]}"#;
    // A bomb entry (16 MiB of zeros compresses to ~16 KiB) and path-traversal names.
    let bomb = vec![b' '; 17 << 20];
    let bytes = zip_of(&[
        ("../../etc/evil.json", record),
        ("/abs/bomb.json", &bomb),
        ("dir/../x.json", b"{}"),
    ]);
    let path = home.path().join("hostile.zip");
    std::fs::write(&path, bytes).expect("write");
    let summary = import(home.path(), std::slice::from_ref(&path), exact()).expect("import");
    assert_eq!(summary.imported, 1);
    assert_eq!(summary.skipped, 2, "{:?}", summary.skipped_reasons);
    assert!(!home.path().join("../etc/evil.json").exists());

    // Too many entries or too many bytes in total: refused, old DB kept.
    let too_many = ImportOptions {
        limits: Limits {
            max_entries: 2,
            ..Limits::default()
        },
        ..exact()
    };
    assert!(matches!(
        import(home.path(), std::slice::from_ref(&path), too_many),
        Err(AdvisoryError::Limit { .. })
    ));
    let too_big = ImportOptions {
        limits: Limits {
            max_total_bytes: 100,
            ..Limits::default()
        },
        ..exact()
    };
    assert!(matches!(
        import(home.path(), &[path], too_big),
        Err(AdvisoryError::Limit { .. })
    ));
    let db = Database::open(home.path()).expect("open");
    assert_eq!(find(&db, "t", "1.0.0").len(), 1);

    // A 22-byte end-of-central-directory record that claims 60,000 entries is
    // refused from the declared count, before any entry is parsed.
    let mut eocd = vec![0x50, 0x4b, 0x05, 0x06, 0, 0, 0, 0];
    eocd.extend_from_slice(&60_000u16.to_le_bytes());
    eocd.extend_from_slice(&60_000u16.to_le_bytes());
    eocd.extend_from_slice(&[0; 10]);
    let claims = home.path().join("claims.zip");
    std::fs::write(&claims, eocd).expect("write");
    let limited = ImportOptions {
        limits: Limits {
            max_entries: 1000,
            ..Limits::default()
        },
        ..exact()
    };
    let error = import(home.path(), &[claims], limited).expect_err("declared count over the limit");
    assert!(matches!(error, AdvisoryError::Limit { .. }), "{error}");
}

#[test]
fn unknown_sources_and_missing_files_are_errors() {
    let home = tempfile::tempdir().expect("tempdir");
    let text = home.path().join("notes.txt");
    std::fs::write(&text, "hello").expect("write");
    assert!(matches!(
        import(home.path(), &[text], exact()),
        Err(AdvisoryError::UnknownSource { .. })
    ));
    let missing = home.path().join("missing.zip");
    let error = import(home.path(), &[missing], exact()).expect_err("missing");
    assert!(error.to_string().contains("missing.zip"), "{error}");
    assert!(!home.path().join(DATABASE_FILE).exists());
}

#[test]
fn baseline_is_the_fallback_and_seeds_new_imports() {
    let home = tempfile::tempdir().expect("tempdir");
    let db = Database::open(home.path()).expect("baseline fallback");
    assert!(db.is_baseline());
    assert!(db.status().expect("status").sync_due);

    let summary = import(home.path(), &[sample_zip()], ImportOptions::default()).expect("import");
    let db = Database::open(home.path()).expect("open");
    assert!(!db.is_baseline());
    let baseline = Database::baseline()
        .expect("baseline")
        .status()
        .expect("status")
        .advisories;
    assert!(summary.total >= baseline && summary.total >= 21, "{summary:?}");
    assert!(!find(&db, "flatmap-stream", "0.1.1").is_empty());
}

#[test]
fn newer_schema_versions_are_refused_with_a_hint() {
    let home = tempfile::tempdir().expect("tempdir");
    import(home.path(), &[sample_zip()], exact()).expect("import");
    let path = home.path().join(DATABASE_FILE);
    {
        let conn = rusqlite::Connection::open(&path).expect("open");
        conn.execute("UPDATE meta SET value = '999' WHERE key = 'schema_version'", [])
            .expect("update");
    }
    let error = Database::open(home.path()).expect_err("newer schema");
    assert!(
        matches!(error, AdvisoryError::SchemaVersion { found: 999, .. }),
        "{error}"
    );
    assert!(error.to_string().contains("palisade db sync"), "{error}");
    // An import rebuilds it.
    let summary = import(home.path(), &[sample_zip()], exact()).expect("rebuild");
    assert!(summary.rebuilt);
    assert!(Database::open(home.path()).is_ok());

    std::fs::write(&path, b"this is not sqlite").expect("write");
    assert!(Database::open(home.path()).is_err());
}

/// Serves `responses` (one per connection) on 127.0.0.1 and returns the URL.
fn serve(responses: Vec<Vec<u8>>) -> (String, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let url = format!("http://{}/npm/all.zip", listener.local_addr().expect("address"));
    let handle = std::thread::spawn(move || {
        for response in responses {
            let Ok((mut stream, _)) = listener.accept() else { return };
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request);
            let _ = stream.write_all(&response);
            let _ = stream.flush();
        }
    });
    (url, handle)
}

fn http_response(status: &str, declared_length: usize, body: &[u8]) -> Vec<u8> {
    let mut response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/zip\r\nContent-Length: {declared_length}\r\nConnection: close\r\n\r\n"
    )
    .into_bytes();
    response.extend_from_slice(body);
    response
}

#[test]
fn sync_from_a_local_server() {
    let home = tempfile::tempdir().expect("tempdir");
    let body = std::fs::read(sample_zip()).expect("sample");
    let (url, server) = serve(vec![
        http_response("200 OK", body.len(), &body),
        http_response("500 Internal Server Error", 5, b"oops!"),
        http_response("200 OK", body.len(), &body[..body.len() / 2]),
    ]);
    let reports = std::cell::Cell::new(0);
    let progress = |_: palisade_advisory::ImportProgress<'_>| reports.set(reports.get() + 1);
    let summary = sync(
        home.path(),
        &url,
        ImportOptions {
            progress: Some(&progress),
            ..exact()
        },
    )
    .expect("sync");
    assert_eq!(summary.imported, 21);
    assert!(reports.get() > 0);
    let status = Database::open(home.path()).expect("open").status().expect("status");
    assert_eq!(status.sync_url.as_deref(), Some(url.as_str()));
    assert!(status.synced_at.is_some());
    assert!(!status.sync_due);
    let before = std::fs::read(home.path().join(DATABASE_FILE)).expect("db");

    let error = sync(home.path(), &url, exact()).expect_err("500");
    assert!(matches!(error, AdvisoryError::Download { .. }), "{error}");
    assert!(
        error.to_string().contains("500") && error.to_string().contains(&url),
        "{error}"
    );

    let error = sync(home.path(), &url, exact()).expect_err("truncated body");
    assert!(
        matches!(error, AdvisoryError::Download { .. } | AdvisoryError::Zip { .. }),
        "{error}"
    );
    server.join().expect("server thread");

    assert_eq!(std::fs::read(home.path().join(DATABASE_FILE)).expect("db"), before);
    let db = Database::open(home.path()).expect("open");
    assert_eq!(find(&db, "lodash", "4.17.20").len(), 1);

    // Nobody listening: a clear connection error.
    let closed = {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        format!("http://{}/all.zip", listener.local_addr().expect("addr"))
    };
    let error = sync(home.path(), &closed, exact()).expect_err("refused");
    assert!(error.to_string().contains(&closed), "{error}");
}
