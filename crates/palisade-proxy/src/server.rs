//! The firewall: state, the npm read API and the decision flow.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use palisade_core::PackageId;
use palisade_registry::Integrity;
use serde::Serialize;
use sha2::Digest as _;
use time::OffsetDateTime;
use tokio::sync::mpsc;

use crate::flights::Flights;
use crate::packument::{Form, Packument};
use crate::policy::{self, AdvisoryHit, Context, Refusal, Rule};
use crate::scanner::Scanner;
use crate::store::{AuditEntry, BlobStore, Decision, DecisionState, HeldBack, Store, StoredPackument, VerdictRecord};
use crate::upstream::{Fetch, Upstream, UpstreamError};
use crate::Settings;

/// How long a rendered (filtered) packument is reused before policy is
/// evaluated again (release ages move with the clock).
const RENDER_TTL: Duration = Duration::from_secs(30);
/// How long a stale packument is served before upstream is asked again.
const STALE_RETRY_MS: u64 = 10_000;
/// Longest request path accepted.
const MAX_PATH: usize = 2048;
/// Bodies above this are gzipped when the client accepts it.
const GZIP_ABOVE: usize = 1024;
/// Audit entries waiting to be written.
const AUDIT_QUEUE: usize = 65_536;

/// An error response: status and a message npm prints (`{"error": "…"}`).
#[derive(Debug, Clone)]
pub struct Failure {
    pub status: StatusCode,
    pub message: String,
    pub rule: Option<&'static str>,
}

impl Failure {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Failure {
        Failure {
            status,
            message: message.into(),
            rule: None,
        }
    }

    fn internal(message: impl std::fmt::Display) -> Failure {
        Failure::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("palisade: internal error: {message}"),
        )
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    rule: Option<&'a str>,
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&ErrorBody {
            error: &self.message,
            rule: self.rule,
        })
        .unwrap_or_default();
        let mut response = (self.status, body).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        response
    }
}

/// Counters for `palisade admin stats`.
#[derive(Debug, Default, Serialize)]
pub struct Counters {
    pub requests: AtomicU64,
    pub packuments_served: AtomicU64,
    pub tarballs_served: AtomicU64,
    pub refused: AtomicU64,
    pub upstream_fetches: AtomicU64,
    pub upstream_errors: AtomicU64,
    pub scans: AtomicU64,
    pub stale_served: AtomicU64,
    pub not_modified: AtomicU64,
    pub audit_dropped: AtomicU64,
}

/// A parsed packument in memory.
pub(crate) struct Cached {
    pub doc: Packument,
    pub advisories: HashMap<String, Vec<AdvisoryHit>>,
    pub etag: Option<String>,
    /// Milliseconds since the firewall started, when upstream last confirmed it.
    fetched_ms: AtomicU64,
    stale: AtomicBool,
}

/// A filtered packument, ready to send.
struct Rendered {
    source: Arc<Cached>,
    generation: u64,
    made: Instant,
    stale: bool,
    body: Bytes,
    gzip: OnceLock<Bytes>,
    etag: String,
    notice: Option<HeaderValue>,
}

/// The result of applying policy to every version of a packument.
pub(crate) struct Evaluation {
    pub keep: Vec<bool>,
    pub refusals: Vec<Option<Refusal>>,
    pub tags: Vec<(String, String)>,
    pub moved_latest: Option<(String, String)>,
}

type FetchResult<T> = Result<T, Failure>;

pub struct Firewall {
    pub(crate) settings: Settings,
    pub(crate) store: Arc<dyn Store>,
    blobs: Arc<dyn BlobStore>,
    scanner: Arc<dyn Scanner>,
    advisories: Mutex<palisade_advisory::Database>,
    upstream: Upstream,
    started: Instant,
    packuments: RwLock<HashMap<String, Arc<Cached>>>,
    rendered: RwLock<HashMap<(String, Form, String), Arc<Rendered>>>,
    decisions: RwLock<HashMap<String, HashMap<String, DecisionState>>>,
    /// Verdicts per package (by integrity); a package is loaded from the store on first use.
    verdicts: RwLock<HashMap<String, HashMap<String, VerdictRecord>>>,
    generation: AtomicU64,
    packument_flights: Flights<FetchResult<Arc<Cached>>>,
    tarball_flights: Flights<FetchResult<(VerdictRecord, Option<Bytes>)>>,
    audit_tx: mpsc::Sender<AuditEntry>,
    pub counters: Counters,
}

impl std::fmt::Debug for Firewall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Firewall").field("upstream", &self.upstream).finish()
    }
}

pub(crate) fn now_text() -> String {
    OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

impl Firewall {
    /// Builds the firewall and starts its audit writer (needs a tokio runtime).
    pub fn new(
        settings: Settings,
        store: Arc<dyn Store>,
        blobs: Arc<dyn BlobStore>,
        scanner: Arc<dyn Scanner>,
        advisories: palisade_advisory::Database,
    ) -> Result<Arc<Firewall>, crate::Error> {
        let upstream = Upstream::new(
            &settings.upstream,
            settings.upstream_token.clone(),
            &settings.upstream_options,
        )?;
        let mut decisions: HashMap<String, HashMap<String, DecisionState>> = HashMap::new();
        for decision in store.decisions()? {
            decisions
                .entry(decision.package)
                .or_default()
                .insert(decision.version, decision.state);
        }
        let (audit_tx, audit_rx) = mpsc::channel(AUDIT_QUEUE);
        let firewall = Arc::new(Firewall {
            settings,
            store,
            blobs,
            scanner,
            advisories: Mutex::new(advisories),
            upstream,
            started: Instant::now(),
            packuments: RwLock::new(HashMap::new()),
            rendered: RwLock::new(HashMap::new()),
            decisions: RwLock::new(decisions),
            verdicts: RwLock::new(HashMap::new()),
            generation: AtomicU64::new(0),
            packument_flights: Flights::default(),
            tarball_flights: Flights::default(),
            audit_tx,
            counters: Counters::default(),
        });
        tokio::spawn(audit_writer(firewall.store.clone(), audit_rx));
        Ok(firewall)
    }

    fn elapsed_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Queues an audit entry (written in batches by the audit writer).
    pub(crate) fn audit(&self, actor: &str, action: &str, package: &str, version: &str, detail: &str) {
        let entry = AuditEntry {
            id: 0,
            at: now_text(),
            actor: actor.to_string(),
            action: action.to_string(),
            package: package.to_string(),
            version: version.to_string(),
            detail: detail.to_string(),
        };
        if self.audit_tx.try_send(entry).is_err() {
            self.counters.audit_dropped.fetch_add(1, Ordering::Relaxed);
            tracing::warn!("audit queue full; entry dropped");
        }
    }

    pub(crate) fn bump_generation(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// Records an operator's decision (synchronously, before answering).
    pub(crate) fn decide(&self, decision: Decision) -> Result<(), Failure> {
        let audit = AuditEntry {
            id: 0,
            at: decision.at.clone(),
            actor: decision.actor.clone(),
            action: match decision.state {
                DecisionState::Approved => "approve",
                DecisionState::Denied => "deny",
                DecisionState::Quarantined => "quarantine",
            }
            .to_string(),
            package: decision.package.clone(),
            version: decision.version.clone(),
            detail: decision.reason.clone(),
        };
        self.store.put_decision(&decision, &audit).map_err(Failure::internal)?;
        if let Ok(mut decisions) = self.decisions.write() {
            decisions
                .entry(decision.package.clone())
                .or_default()
                .insert(decision.version.clone(), decision.state);
        }
        self.bump_generation();
        Ok(())
    }

    fn decisions_of(&self, name: &str) -> HashMap<String, DecisionState> {
        self.decisions
            .read()
            .ok()
            .and_then(|d| d.get(name).cloned())
            .unwrap_or_default()
    }

    fn verdicts_of(&self, name: &str) -> Result<HashMap<String, VerdictRecord>, Failure> {
        if let Some(found) = self.verdicts.read().ok().and_then(|v| v.get(name).cloned()) {
            return Ok(found);
        }
        let loaded: HashMap<String, VerdictRecord> = self
            .store
            .verdicts_of(name)
            .map_err(Failure::internal)?
            .into_iter()
            .map(|record| (record.integrity.clone(), record))
            .collect();
        if let Ok(mut verdicts) = self.verdicts.write() {
            verdicts.entry(name.to_string()).or_insert_with(|| loaded.clone());
        }
        Ok(loaded)
    }

    fn remember_verdict(&self, record: &VerdictRecord) {
        if let Ok(mut verdicts) = self.verdicts.write() {
            if let Some(map) = verdicts.get_mut(&record.package) {
                map.insert(record.integrity.clone(), record.clone());
            }
        }
        self.bump_generation();
    }

    /// Applies policy to every version (call from a blocking context: it may read the store).
    pub(crate) fn evaluate(&self, cached: &Cached) -> Result<Evaluation, Failure> {
        let name = cached.doc.name.as_str();
        let decisions = self.decisions_of(name);
        let verdicts = self.verdicts_of(name)?;
        let context = Context {
            advisories: Some(&cached.advisories),
            decisions: Some(&decisions),
            verdicts: Some(&verdicts),
        };
        let now = OffsetDateTime::now_utc();
        let refusals: Vec<Option<Refusal>> = cached
            .doc
            .versions
            .iter()
            .map(|entry| {
                policy::version_refusal(
                    &self.settings.config,
                    self.settings.config.serve.refuse_vulnerable,
                    name,
                    entry,
                    &context,
                    now,
                )
            })
            .collect();
        let keep: Vec<bool> = refusals.iter().map(Option::is_none).collect();
        let (tags, moved_latest) = policy::filtered_dist_tags(&cached.doc.dist_tags, &cached.doc.versions, &keep);
        Ok(Evaluation {
            keep,
            refusals,
            tags,
            moved_latest,
        })
    }

    /// The packument of `name`: from memory while fresh, else upstream
    /// (revalidated with its ETag), else the last stored copy (stale).
    pub(crate) async fn packument(self: &Arc<Self>, name: &str) -> FetchResult<Arc<Cached>> {
        let max_age = u64::try_from(self.settings.config.serve.packument_max_age.whole_milliseconds()).unwrap_or(0);
        let existing = self.packuments.read().ok().and_then(|map| map.get(name).cloned());
        if let Some(cached) = &existing {
            let age = self
                .elapsed_ms()
                .saturating_sub(cached.fetched_ms.load(Ordering::Relaxed));
            // A stale copy (upstream failed) is served for a short while
            // before upstream is tried again, so an outage does not make every
            // request wait for the retries.
            let fresh_for = if cached.stale.load(Ordering::Relaxed) {
                max_age.min(STALE_RETRY_MS)
            } else {
                max_age
            };
            if age < fresh_for {
                return Ok(cached.clone());
            }
        }
        let this = self.clone();
        let key = name.to_string();
        self.packument_flights
            .run(
                name,
                move || async move { this.refresh_packument(key, existing).await },
                |message| Err(Failure::internal(message)),
            )
            .await
    }

    async fn refresh_packument(
        self: Arc<Self>,
        name: String,
        existing: Option<Arc<Cached>>,
    ) -> FetchResult<Arc<Cached>> {
        let url = self
            .upstream
            .packument_url(&name)
            .map_err(|e| Failure::new(StatusCode::BAD_REQUEST, e.to_string()))?;
        let etag = existing.as_ref().and_then(|c| c.etag.clone());
        self.counters.upstream_fetches.fetch_add(1, Ordering::Relaxed);
        let fetched = self
            .upstream
            .get(&url, "application/json", self.upstream.max_document, etag.as_deref())
            .await;
        match fetched {
            Ok(Fetch::NotModified) if existing.is_some() => {
                let cached = existing.ok_or_else(|| Failure::internal("no cached packument"))?;
                cached.fetched_ms.store(self.elapsed_ms(), Ordering::Relaxed);
                cached.stale.store(false, Ordering::Relaxed);
                Ok(cached)
            }
            Ok(Fetch::NotModified) => Err(Failure::new(
                StatusCode::BAD_GATEWAY,
                "palisade: upstream answered 304 to an unconditional request",
            )),
            Ok(Fetch::Body { body, etag }) => {
                let this = self.clone();
                let stored = StoredPackument {
                    body: body.to_vec(),
                    etag: etag.clone(),
                    fetched_at: now_text(),
                };
                let cached = tokio::task::spawn_blocking(move || {
                    let cached = this.parse_packument(&name, body, etag, false)?;
                    // Kept for when upstream is down; a failure to store is logged, not fatal.
                    if let Err(error) = this.store.put_packument(&name, &stored) {
                        tracing::warn!(%error, "could not store a packument");
                    }
                    Ok::<_, Failure>(cached)
                })
                .await
                .map_err(Failure::internal)??;
                self.insert_packument(cached.clone());
                Ok(cached)
            }
            Err(error) if error.is_not_found() => Err(Failure::new(
                StatusCode::NOT_FOUND,
                format!("palisade: `{name}` is not in the registry"),
            )),
            Err(UpstreamError::Url(message)) => Err(Failure::new(StatusCode::BAD_REQUEST, message)),
            Err(error) => {
                self.counters.upstream_errors.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(%error, "upstream failed; serving the cached packument if there is one");
                if let Some(cached) = existing {
                    cached.stale.store(true, Ordering::Relaxed);
                    cached.fetched_ms.store(self.elapsed_ms(), Ordering::Relaxed);
                    return Ok(cached);
                }
                let this = self.clone();
                let fallback = tokio::task::spawn_blocking(move || {
                    let stored = this.store.packument(&name).map_err(Failure::internal)?;
                    match stored {
                        Some(stored) => this
                            .parse_packument(&name, Bytes::from(stored.body), stored.etag, true)
                            .map(Some),
                        None => Ok(None),
                    }
                })
                .await
                .map_err(Failure::internal)??;
                match fallback {
                    Some(cached) => {
                        self.insert_packument(cached.clone());
                        Ok(cached)
                    }
                    None => Err(Failure::new(
                        StatusCode::BAD_GATEWAY,
                        format!("palisade: the upstream registry is unavailable and nothing is cached ({error})"),
                    )),
                }
            }
        }
    }

    fn parse_packument(&self, name: &str, body: Bytes, etag: Option<String>, stale: bool) -> FetchResult<Arc<Cached>> {
        let mut doc = Packument::parse(body).map_err(|error| {
            Failure::new(
                StatusCode::BAD_GATEWAY,
                format!("palisade: the upstream packument of `{name}` is unreadable: {error}"),
            )
        })?;
        // The name is the one asked for; a document claiming another is not trusted for it.
        if doc.name != name {
            tracing::debug!(claimed = %doc.name, %name, "packument name differs from the request");
            doc.name = name.to_string();
        }
        let ids: Vec<PackageId> = doc
            .versions
            .iter()
            .map(|entry| PackageId::new(name, entry.version.as_str()))
            .collect();
        let matches = {
            let database = self
                .advisories
                .lock()
                .map_err(|_| Failure::internal("advisory database lock poisoned"))?;
            database.matches(&ids).map_err(|error| {
                Failure::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!("palisade: the advisory database could not be read: {error}"),
                )
            })?
        };
        let mut advisories: HashMap<String, Vec<AdvisoryHit>> = HashMap::new();
        for found in matches {
            advisories
                .entry(found.package.version.clone())
                .or_default()
                .push(AdvisoryHit {
                    malicious: found.advisory.kind == palisade_advisory::AdvisoryKind::Malicious,
                    severity: found.advisory.severity,
                    aliases: found.advisory.aliases.clone(),
                    id: found.advisory.id,
                });
        }
        Ok(Arc::new(Cached {
            doc,
            advisories,
            etag,
            fetched_ms: AtomicU64::new(self.elapsed_ms()),
            stale: AtomicBool::new(stale),
        }))
    }

    fn insert_packument(&self, cached: Arc<Cached>) {
        let Ok(mut map) = self.packuments.write() else { return };
        // Bounded memory: past the budget, forget the least recently fetched.
        let budget = self.settings.memory_budget;
        let mut total: usize = map.values().map(|c| c.doc.body_len()).sum::<usize>() + cached.doc.body_len();
        while total > budget && !map.is_empty() {
            let oldest = map
                .iter()
                .min_by_key(|(_, c)| c.fetched_ms.load(Ordering::Relaxed))
                .map(|(k, c)| (k.clone(), c.doc.body_len()));
            let Some((key, len)) = oldest else { break };
            map.remove(&key);
            total -= len;
        }
        map.insert(cached.doc.name.clone(), cached);
    }

    /// The filtered document for a client, reused while policy and the source are unchanged.
    async fn rendered(self: &Arc<Self>, name: &str, form: Form, base: &str) -> FetchResult<Arc<Rendered>> {
        let cached = self.packument(name).await?;
        let generation = self.generation.load(Ordering::SeqCst);
        let stale = cached.stale.load(Ordering::Relaxed);
        let key = (name.to_string(), form, base.to_string());
        if let Some(found) = self.rendered.read().ok().and_then(|map| map.get(&key).cloned()) {
            if Arc::ptr_eq(&found.source, &cached)
                && found.generation == generation
                && found.made.elapsed() < RENDER_TTL
                && found.stale == stale
            {
                return Ok(found);
            }
        }
        let this = self.clone();
        let base = base.to_string();
        let rendered = tokio::task::spawn_blocking(move || {
            let evaluation = this.evaluate(&cached)?;
            let body = cached.doc.render(form, &evaluation.keep, &evaluation.tags, &base);
            let etag = format!("\"{}\"", hex::encode(&sha2::Sha256::digest(&body)[..16]));
            let notice = this.held_back_notice(&cached, &evaluation);
            Ok::<_, Failure>(Arc::new(Rendered {
                source: cached,
                generation,
                made: Instant::now(),
                stale,
                body: Bytes::from(body),
                gzip: OnceLock::new(),
                etag,
                notice,
            }))
        })
        .await
        .map_err(Failure::internal)??;
        if let Ok(mut map) = self.rendered.write() {
            if map.len() > 10_000 {
                map.clear();
            }
            map.insert(key, rendered.clone());
        }
        Ok(rendered)
    }

    /// Records held-back versions and builds the `npm-notice` header (npm
    /// prints it) naming the versions newer than what is served and why.
    fn held_back_notice(&self, cached: &Cached, evaluation: &Evaluation) -> Option<HeaderValue> {
        let name = &cached.doc.name;
        let now = now_text();
        let held: Vec<HeldBack> = cached
            .doc
            .versions
            .iter()
            .zip(&evaluation.refusals)
            .filter_map(|(entry, refusal)| {
                let refusal = refusal.as_ref()?;
                Some(HeldBack {
                    package: name.clone(),
                    version: entry.version.clone(),
                    rule: refusal.rule.code().to_string(),
                    reason: refusal.reason.clone(),
                    first_seen: now.clone(),
                    last_seen: now.clone(),
                })
            })
            .collect();
        if held.is_empty() {
            return None;
        }
        let served_latest = evaluation
            .tags
            .iter()
            .find(|(tag, _)| tag == "latest")
            .and_then(|(_, v)| nodejs_semver::Version::parse(v).ok());
        // The ones a client would otherwise have got: newer than the served latest.
        let mut relevant: Vec<(&crate::packument::VersionEntry, &Refusal)> = cached
            .doc
            .versions
            .iter()
            .zip(&evaluation.refusals)
            .filter_map(|(entry, refusal)| Some((entry, refusal.as_ref()?)))
            .filter(|(entry, _)| match (&served_latest, &entry.semver) {
                (Some(latest), Some(version)) => version > latest,
                _ => true,
            })
            .collect();
        relevant.sort_by(|a, b| b.0.semver.cmp(&a.0.semver));
        let store = self.store.clone();
        let count = held.len();
        // Upserted in the background: the notice does not wait for the disk.
        tokio::task::spawn_blocking(move || {
            if let Err(error) = store.record_held_back(&held) {
                tracing::warn!(%error, "could not record held-back versions");
            }
        });
        if relevant.is_empty() {
            return None;
        }
        let mut text = String::from("palisade held back ");
        for (i, (entry, refusal)) in relevant.iter().take(3).enumerate() {
            if i > 0 {
                text.push_str("; ");
            }
            text.push_str(&format!(
                "{name}@{} ({}: {})",
                entry.version,
                refusal.rule.code(),
                refusal.reason
            ));
        }
        if relevant.len() > 3 {
            text.push_str(&format!("; and {} more", relevant.len() - 3));
        }
        if let Some((from, to)) = &evaluation.moved_latest {
            text.push_str(&format!(". latest is {to} instead of {from}"));
        }
        text.push_str(&format!(
            ". {count} version(s) of {name} held back in all; ask an administrator for an exception (palisade admin approve)"
        ));
        header_value(&text)
    }
}

/// A header value from text: printable ASCII only, bounded.
fn header_value(text: &str) -> Option<HeaderValue> {
    let clean: String = text
        .chars()
        .map(|c| if c.is_ascii() && !c.is_ascii_control() { c } else { '?' })
        .take(1500)
        .collect();
    HeaderValue::from_str(&clean).ok()
}

async fn audit_writer(store: Arc<dyn Store>, mut rx: mpsc::Receiver<AuditEntry>) {
    let mut batch = Vec::with_capacity(1024);
    while rx.recv_many(&mut batch, 1024).await > 0 {
        let entries = std::mem::take(&mut batch);
        let store = store.clone();
        let result = tokio::task::spawn_blocking(move || store.append_audit(&entries)).await;
        match result {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::error!(%error, "could not write the audit log"),
            Err(error) => tracing::error!(%error, "audit writer task failed"),
        }
    }
}

// ---- requests ----

/// What a path asks for.
#[derive(Debug, PartialEq, Eq)]
enum Target {
    Ping,
    DistTags(String),
    Packument(String),
    Version(String, String),
    Tarball(String, String),
}

fn percent_decode(segment: &str) -> Option<String> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = segment.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Splits a request path into what it asks for; `None` when it is not a
/// registry path. Names are validated by the caller.
fn route(path: &str) -> Option<Target> {
    if path.len() > MAX_PATH {
        return None;
    }
    let segments: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(percent_decode)
        .collect::<Option<_>>()?;
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    let (name, rest) = match segments.as_slice() {
        ["-", "ping"] => return Some(Target::Ping),
        ["-", "package", rest @ ..] => {
            let (name, rest) = take_name(rest)?;
            return match rest {
                ["dist-tags"] => Some(Target::DistTags(name)),
                _ => None,
            };
        }
        ["-", ..] => return None,
        all => take_name(all)?,
    };
    match rest {
        [] => Some(Target::Packument(name)),
        [version] => Some(Target::Version(name, (*version).to_string())),
        ["-", file] => Some(Target::Tarball(name, (*file).to_string())),
        // Some clients put the scope in tarball paths: `@scope/name/-/@scope/name-1.0.0.tgz`.
        ["-", scope, file] if scope.starts_with('@') => Some(Target::Tarball(name, (*file).to_string())),
        _ => None,
    }
}

fn take_name<'a>(segments: &'a [&'a str]) -> Option<(String, &'a [&'a str])> {
    let first = segments.first()?;
    if first.starts_with('@') {
        if first.contains('/') {
            // `@scope%2fname`, decoded.
            return Some((first.to_string(), &segments[1..]));
        }
        let second = segments.get(1)?;
        return Some((format!("{first}/{second}"), &segments[2..]));
    }
    Some((first.to_string(), &segments[1..]))
}

/// `http://host:port` for tarball URLs: the configured public URL, or the
/// request's `Host` when it is a plain host name.
fn base_url(firewall: &Firewall, headers: &HeaderMap) -> Result<String, Failure> {
    if let Some(url) = &firewall.settings.config.serve.public_url {
        return Ok(url.clone());
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    let valid = !host.is_empty()
        && host.len() <= 255
        && host.bytes().all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b));
    if !valid {
        return Err(Failure::new(StatusCode::BAD_REQUEST, "palisade: invalid Host header"));
    }
    Ok(format!("http://{host}"))
}

fn wants_abbreviated(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|h| h.to_str().ok())
        .is_some_and(|accept| accept.contains("application/vnd.npm.install-v1+json"))
}

fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|h| h.to_str().ok())
        .is_some_and(|accept| accept.split(',').any(|part| part.trim().starts_with("gzip")))
}

fn not_modified(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get(header::IF_NONE_MATCH)
        .and_then(|h| h.to_str().ok())
        .is_some_and(|value| {
            value
                .split(',')
                .map(|tag| tag.trim().trim_start_matches("W/"))
                .any(|tag| tag == etag || tag == "*")
        })
}

fn gzip(body: &[u8]) -> Bytes {
    use std::io::Write as _;
    let mut encoder = flate2::write::GzEncoder::new(Vec::with_capacity(body.len() / 4), flate2::Compression::new(6));
    // Writing to a Vec cannot fail.
    let _ = encoder.write_all(body);
    Bytes::from(encoder.finish().unwrap_or_default())
}

fn json_response(status: StatusCode, body: Bytes, content_type: &'static str) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

fn validate_name(name: &str) -> Result<(), Failure> {
    palisade_registry::escape_package_name(name)
        .map(|_| ())
        .map_err(|_| Failure::new(StatusCode::BAD_REQUEST, "palisade: not a valid package name"))
}

fn refusal_failure(name: &str, version: &str, refusal: &Refusal) -> Failure {
    let how = if refusal.rule.approvable() {
        format!(
            "To request an exception, ask a firewall administrator to run `palisade admin approve {name}@{version} --reason \"...\"`."
        )
    } else {
        "This version cannot be approved.".to_string()
    };
    Failure {
        status: StatusCode::FORBIDDEN,
        message: format!(
            "palisade refused {name}@{version} ({}): {}. {how}",
            refusal.rule.code(),
            refusal.reason
        ),
        rule: Some(refusal.rule.code()),
    }
}

/// The single entry point for every registry path (GET and HEAD).
pub(crate) async fn registry_handler(
    State(firewall): State<Arc<Firewall>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    firewall.counters.requests.fetch_add(1, Ordering::Relaxed);
    if method != Method::GET && method != Method::HEAD {
        let mut response = Failure::new(
            StatusCode::METHOD_NOT_ALLOWED,
            format!(
                "palisade: {method} is not supported; this registry firewall is read-only (publish to the upstream registry)"
            ),
        )
        .into_response();
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return response;
    }
    let actor = peer.ip().to_string();
    let Some(target) = route(uri.path()) else {
        return Failure::new(StatusCode::NOT_FOUND, "palisade: not found").into_response();
    };
    let result = match target {
        Target::Ping => Ok(json_response(
            StatusCode::OK,
            Bytes::from_static(b"{}"),
            "application/json",
        )),
        Target::DistTags(name) => dist_tags(&firewall, &name).await,
        Target::Packument(name) => packument_response(&firewall, &name, &headers, &actor).await,
        Target::Version(name, version) => version_response(&firewall, &name, &version, &headers, &actor).await,
        Target::Tarball(name, file) => tarball_response(&firewall, &name, &file, &actor).await,
    };
    let mut response = result.unwrap_or_else(IntoResponse::into_response);
    if response.status() == StatusCode::FORBIDDEN {
        firewall.counters.refused.fetch_add(1, Ordering::Relaxed);
    }
    response
        .headers_mut()
        .insert("x-palisade", HeaderValue::from_static(env!("CARGO_PKG_VERSION")));
    response
}

async fn dist_tags(firewall: &Arc<Firewall>, name: &str) -> Result<Response, Failure> {
    validate_name(name)?;
    if let Some(refusal) = policy::package_refusal(&firewall.settings.config, name) {
        return Err(refusal_failure(name, "*", &refusal));
    }
    let cached = firewall.packument(name).await?;
    let this = firewall.clone();
    let evaluation = tokio::task::spawn_blocking(move || this.evaluate(&cached))
        .await
        .map_err(Failure::internal)??;
    let tags: serde_json::Map<String, serde_json::Value> = evaluation
        .tags
        .into_iter()
        .map(|(tag, version)| (tag, serde_json::Value::String(version)))
        .collect();
    let body = serde_json::to_vec(&tags).map_err(Failure::internal)?;
    Ok(json_response(StatusCode::OK, Bytes::from(body), "application/json"))
}

async fn packument_response(
    firewall: &Arc<Firewall>,
    name: &str,
    headers: &HeaderMap,
    actor: &str,
) -> Result<Response, Failure> {
    validate_name(name)?;
    if let Some(refusal) = policy::package_refusal(&firewall.settings.config, name) {
        firewall.audit(actor, "refuse", name, "", refusal.rule.code());
        return Err(Failure {
            status: StatusCode::FORBIDDEN,
            message: format!(
                "palisade refused {name} ({}): {}. To request an exception, ask a firewall administrator to add it to packages.allow in palisade.toml.",
                refusal.rule.code(),
                refusal.reason
            ),
            rule: Some(refusal.rule.code()),
        });
    }
    let form = if wants_abbreviated(headers) {
        Form::Abbreviated
    } else {
        Form::Full
    };
    let base = base_url(firewall, headers)?;
    let rendered = firewall.rendered(name, form, &base).await?;
    firewall.counters.packuments_served.fetch_add(1, Ordering::Relaxed);
    let mut response = if not_modified(headers, &rendered.etag) {
        firewall.counters.not_modified.fetch_add(1, Ordering::Relaxed);
        let mut response = Response::new(Body::empty());
        *response.status_mut() = StatusCode::NOT_MODIFIED;
        response
    } else if accepts_gzip(headers) && rendered.body.len() > GZIP_ABOVE {
        let body = rendered.gzip.get_or_init(|| gzip(&rendered.body)).clone();
        let mut response = Response::new(Body::from(body));
        response
            .headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        response
    } else {
        Response::new(Body::from(rendered.body.clone()))
    };
    let response_headers = response.headers_mut();
    response_headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(match form {
            Form::Full => "application/json",
            Form::Abbreviated => "application/vnd.npm.install-v1+json",
        }),
    );
    if let Ok(etag) = HeaderValue::from_str(&rendered.etag) {
        response_headers.insert(header::ETAG, etag);
    }
    response_headers.insert(header::VARY, HeaderValue::from_static("accept, accept-encoding"));
    if let Some(notice) = &rendered.notice {
        response_headers.insert("npm-notice", notice.clone());
        // npm prints `npm-notice` only for responses that did not go through
        // its cache (make-fetch-happen marks cached ones `x-local-cache`), so a
        // document that holds versions back is not stored by the client.
        response_headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    } else {
        response_headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=0"));
    }
    if rendered.stale {
        firewall.counters.stale_served.fetch_add(1, Ordering::Relaxed);
        response_headers.insert("x-palisade-stale", HeaderValue::from_static("true"));
        response_headers.insert(
            header::WARNING,
            HeaderValue::from_static("110 palisade \"upstream unavailable; cached packument\""),
        );
    }
    Ok(response)
}

async fn version_response(
    firewall: &Arc<Firewall>,
    name: &str,
    spec: &str,
    headers: &HeaderMap,
    actor: &str,
) -> Result<Response, Failure> {
    validate_name(name)?;
    if let Some(refusal) = policy::package_refusal(&firewall.settings.config, name) {
        firewall.audit(actor, "refuse", name, spec, refusal.rule.code());
        return Err(refusal_failure(name, spec, &refusal));
    }
    let base = base_url(firewall, headers)?;
    let cached = firewall.packument(name).await?;
    let this = firewall.clone();
    let source = cached.clone();
    let evaluation = tokio::task::spawn_blocking(move || this.evaluate(&source))
        .await
        .map_err(Failure::internal)??;
    let version = match cached.doc.version(spec) {
        Some(_) => spec.to_string(),
        None => match evaluation.tags.iter().find(|(tag, _)| tag == spec) {
            Some((_, version)) => version.clone(),
            None => {
                return Err(Failure::new(
                    StatusCode::NOT_FOUND,
                    format!("palisade: `{name}` has no version or tag `{spec}` that can be served"),
                ))
            }
        },
    };
    let Some((index, _)) = cached.doc.version(&version) else {
        return Err(Failure::new(StatusCode::NOT_FOUND, "palisade: no such version"));
    };
    if let Some(Some(refusal)) = evaluation.refusals.get(index) {
        firewall.audit(actor, "refuse", name, &version, refusal.rule.code());
        return Err(refusal_failure(name, &version, refusal));
    }
    let body = cached.doc.render_version(index, Form::Full, &base);
    Ok(json_response(StatusCode::OK, Bytes::from(body), "application/json"))
}

async fn tarball_response(firewall: &Arc<Firewall>, name: &str, file: &str, actor: &str) -> Result<Response, Failure> {
    validate_name(name)?;
    if let Some(refusal) = policy::package_refusal(&firewall.settings.config, name) {
        firewall.audit(actor, "refuse", name, "", refusal.rule.code());
        return Err(refusal_failure(name, "*", &refusal));
    }
    let cached = firewall.packument(name).await?;
    let Some((index, entry)) = cached.doc.by_tarball_file(file) else {
        return Err(Failure::new(
            StatusCode::NOT_FOUND,
            format!("palisade: `{file}` is not a tarball of `{name}`"),
        ));
    };
    let version = entry.version.clone();
    let this = firewall.clone();
    let source = cached.clone();
    let evaluation = tokio::task::spawn_blocking(move || this.evaluate(&source))
        .await
        .map_err(Failure::internal)??;
    if let Some(Some(refusal)) = evaluation.refusals.get(index) {
        firewall.audit(actor, "refuse", name, &version, &refusal.reason);
        return Err(refusal_failure(name, &version, refusal));
    }
    let integrity_text = entry.integrity.clone().unwrap_or_default();
    let integrity = Integrity::parse(&integrity_text).map_err(|_| {
        refusal_failure(
            name,
            &version,
            &Refusal {
                rule: Rule::NoIntegrity,
                reason: "its registry integrity is not a usable SRI hash".into(),
            },
        )
    })?;

    // The verdict: cached by integrity, else one fetch and one scan for all concurrent requests.
    let known = firewall.verdicts_of(name)?.get(&integrity_text).cloned();
    let (record, fresh_bytes) = match known {
        Some(record) => (record, None),
        None => {
            let this = firewall.clone();
            let cached_for_scan = cached.clone();
            let key = format!("scan:{integrity_text}");
            firewall
                .tarball_flights
                .run(
                    &key,
                    move || async move { this.fetch_and_scan(cached_for_scan, index).await },
                    |message| Err(Failure::internal(message)),
                )
                .await?
        }
    };
    if let Some(refusal) = policy::verdict_refusal(&firewall.settings.config, name, &version, &record) {
        let approved = firewall.decisions_of(name).get(&version) == Some(&DecisionState::Approved);
        if !approved {
            if refusal.rule == Rule::Quarantined {
                let decision = Decision {
                    package: name.to_string(),
                    version: version.clone(),
                    state: DecisionState::Quarantined,
                    reason: record.summary.clone(),
                    actor: "palisade".into(),
                    at: now_text(),
                };
                let audit = AuditEntry {
                    id: 0,
                    at: decision.at.clone(),
                    actor: actor.to_string(),
                    action: "quarantine".into(),
                    package: name.to_string(),
                    version: version.clone(),
                    detail: record.summary.clone(),
                };
                let store = firewall.store.clone();
                let stored = decision.clone();
                let inserted = tokio::task::spawn_blocking(move || store.quarantine(&stored, &audit))
                    .await
                    .map_err(Failure::internal)?
                    .map_err(Failure::internal)?;
                if inserted {
                    if let Ok(mut decisions) = firewall.decisions.write() {
                        decisions
                            .entry(name.to_string())
                            .or_default()
                            .insert(version.clone(), DecisionState::Quarantined);
                    }
                    firewall.bump_generation();
                }
            } else {
                firewall.audit(actor, "refuse", name, &version, &refusal.reason);
            }
            return Err(refusal_failure(name, &version, &refusal));
        }
    }

    let bytes = match fresh_bytes {
        Some(bytes) => bytes,
        None => firewall.cached_or_fetch(&cached, index, &integrity).await?,
    };
    firewall.counters.tarballs_served.fetch_add(1, Ordering::Relaxed);
    firewall.audit(actor, "serve", name, &version, record.verdict.as_str());
    let etag = integrity
        .strongest()
        .next()
        .map(|hash| format!("\"{}\"", &hash.hex()[..hash.hex().len().min(32)]));
    let mut response = Response::new(Body::from(bytes));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    if let Some(etag) = etag.and_then(|e| HeaderValue::from_str(&e).ok()) {
        headers.insert(header::ETAG, etag);
    }
    Ok(response)
}

impl Firewall {
    /// The tarball from the blob cache (re-verified), or fetched and verified.
    async fn cached_or_fetch(
        self: &Arc<Self>,
        cached: &Arc<Cached>,
        index: usize,
        integrity: &Integrity,
    ) -> Result<Bytes, Failure> {
        let blobs = self.blobs.clone();
        let wanted = integrity.clone();
        let hit = tokio::task::spawn_blocking(move || blobs.get(&wanted))
            .await
            .map_err(Failure::internal)?
            .map_err(Failure::internal)?;
        if let Some(bytes) = hit {
            return Ok(Bytes::from(bytes));
        }
        let this = self.clone();
        let source = cached.clone();
        let wanted = integrity.clone();
        let key = format!("fetch:{integrity}");
        self.tarball_flights
            .run(
                &key,
                move || async move {
                    let bytes = this.fetch_verified(&source, index, &wanted).await?;
                    Ok((
                        VerdictRecord {
                            integrity: String::new(),
                            package: String::new(),
                            version: String::new(),
                            verdict: palisade_core::Verdict::Clean,
                            score: 0.0,
                            summary: String::new(),
                            scanned_at: String::new(),
                        },
                        Some(bytes),
                    ))
                },
                |message| Err(Failure::internal(message)),
            )
            .await?
            .1
            .ok_or_else(|| Failure::internal("fetch returned no bytes"))
    }

    /// Fetches a tarball from upstream, checks it against its integrity and stores it.
    async fn fetch_verified(
        self: &Arc<Self>,
        cached: &Cached,
        index: usize,
        integrity: &Integrity,
    ) -> Result<Bytes, Failure> {
        let entry = cached
            .doc
            .versions
            .get(index)
            .ok_or_else(|| Failure::internal("version index out of range"))?;
        let name = &cached.doc.name;
        let file = entry.tarball_file.as_deref().unwrap_or_default();
        let url = self
            .upstream
            .tarball_url(name, &entry.upstream_tarball, file)
            .map_err(|e| Failure::new(StatusCode::BAD_GATEWAY, e.to_string()))?;
        self.counters.upstream_fetches.fetch_add(1, Ordering::Relaxed);
        let body = match self.upstream.get(&url, "*/*", self.upstream.max_tarball, None).await {
            Ok(Fetch::Body { body, .. }) => body,
            Ok(Fetch::NotModified) => {
                return Err(Failure::new(
                    StatusCode::BAD_GATEWAY,
                    "palisade: unexpected 304 from upstream",
                ))
            }
            Err(error) => {
                self.counters.upstream_errors.fetch_add(1, Ordering::Relaxed);
                // Fail closed: nothing unverified and unscanned is ever served.
                return Err(Failure::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!(
                        "palisade: {name}@{} is not cached and the upstream registry failed ({error}); nothing unscanned is served",
                        entry.version
                    ),
                ));
            }
        };
        if integrity.check(&body).is_err() {
            self.audit("palisade", "refuse", name, &entry.version, "integrity-mismatch");
            return Err(Failure {
                status: StatusCode::FORBIDDEN,
                message: format!(
                    "palisade refused {name}@{} (integrity-mismatch): the upstream tarball does not match the registry's integrity `{}`",
                    entry.version,
                    entry.integrity.as_deref().unwrap_or_default()
                ),
                rule: Some("integrity-mismatch"),
            });
        }
        let blobs = self.blobs.clone();
        let wanted = integrity.clone();
        let stored = body.clone();
        tokio::task::spawn_blocking(move || blobs.put(&wanted, &stored))
            .await
            .map_err(Failure::internal)?
            .map_err(Failure::internal)?;
        Ok(body)
    }

    async fn fetch_and_scan(
        self: Arc<Self>,
        cached: Arc<Cached>,
        index: usize,
    ) -> FetchResult<(VerdictRecord, Option<Bytes>)> {
        let entry = cached
            .doc
            .versions
            .get(index)
            .ok_or_else(|| Failure::internal("version index out of range"))?;
        let integrity_text = entry.integrity.clone().unwrap_or_default();
        let integrity = Integrity::parse(&integrity_text).map_err(Failure::internal)?;
        let blobs = self.blobs.clone();
        let wanted = integrity.clone();
        let hit = tokio::task::spawn_blocking(move || blobs.get(&wanted))
            .await
            .map_err(Failure::internal)?
            .map_err(Failure::internal)?;
        let bytes = match hit {
            Some(bytes) => Bytes::from(bytes),
            None => self.fetch_verified(&cached, index, &integrity).await?,
        };
        let name = cached.doc.name.clone();
        let version = entry.version.clone();
        let manifest: Option<serde_json::Value> =
            serde_json::from_slice(&cached.doc.render_version(index, Form::Full, "")).ok();
        let scanner = self.scanner.clone();
        let scanned = bytes.clone();
        let (scan_name, scan_version) = (name.clone(), version.clone());
        self.counters.scans.fetch_add(1, Ordering::Relaxed);
        let outcome =
            tokio::task::spawn_blocking(move || scanner.scan(&scan_name, &scan_version, &scanned, manifest.as_ref()))
                .await
                .map_err(Failure::internal)?;
        let outcome = match outcome {
            Ok(outcome) => outcome,
            Err(message) => {
                self.audit(
                    "palisade",
                    "error",
                    &name,
                    &version,
                    &format!("analysis failed: {message}"),
                );
                return Err(Failure {
                    status: StatusCode::SERVICE_UNAVAILABLE,
                    message: format!(
                        "palisade refused {name}@{version} (analysis-failed): it could not be analysed ({message}); nothing unscanned is served"
                    ),
                    rule: Some("analysis-failed"),
                });
            }
        };
        let record = VerdictRecord {
            integrity: integrity_text,
            package: name.clone(),
            version: version.clone(),
            verdict: outcome.verdict,
            score: outcome.score,
            summary: outcome.summary,
            scanned_at: now_text(),
        };
        let store = self.store.clone();
        let saved = record.clone();
        tokio::task::spawn_blocking(move || store.put_verdict(&saved))
            .await
            .map_err(Failure::internal)?
            .map_err(Failure::internal)?;
        self.audit(
            "palisade",
            "scan",
            &name,
            &version,
            &format!("{} ({:.2}): {}", record.verdict.as_str(), record.score, record.summary),
        );
        self.remember_verdict(&record);
        Ok((record, Some(bytes)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert_eq!(route("/-/ping"), Some(Target::Ping));
        assert_eq!(route("/lodash"), Some(Target::Packument("lodash".into())));
        assert_eq!(route("/@types/node"), Some(Target::Packument("@types/node".into())));
        assert_eq!(route("/@types%2fnode"), Some(Target::Packument("@types/node".into())));
        assert_eq!(route("/@types%2Fnode"), Some(Target::Packument("@types/node".into())));
        assert_eq!(
            route("/@types/node/1.0.0"),
            Some(Target::Version("@types/node".into(), "1.0.0".into()))
        );
        assert_eq!(
            route("/a/-/a-1.0.0.tgz"),
            Some(Target::Tarball("a".into(), "a-1.0.0.tgz".into()))
        );
        assert_eq!(
            route("/@s/a/-/a-1.0.0.tgz"),
            Some(Target::Tarball("@s/a".into(), "a-1.0.0.tgz".into()))
        );
        assert_eq!(
            route("/-/package/@s%2fa/dist-tags"),
            Some(Target::DistTags("@s/a".into()))
        );
        assert_eq!(route("/-/whoami"), None);
        assert_eq!(route("/a/b/c/d"), None);
        assert_eq!(route("/%zz"), None);
        // Traversal attempts decode to names the registry crate refuses.
        let Some(Target::Packument(name)) = route("/..%2f..%2fetc") else {
            panic!("routes to a packument name")
        };
        assert!(validate_name(&name).is_err());
        assert!(validate_name("..").is_err());
        assert!(validate_name("@s/..").is_err());
    }

    #[test]
    fn if_none_match() {
        let mut headers = HeaderMap::new();
        headers.insert(header::IF_NONE_MATCH, HeaderValue::from_static("W/\"abc\", \"def\""));
        assert!(not_modified(&headers, "\"abc\""));
        assert!(not_modified(&headers, "\"def\""));
        assert!(!not_modified(&headers, "\"x\""));
    }
}
