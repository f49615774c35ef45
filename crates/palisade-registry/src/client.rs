//! The blocking registry client.
//!
//! # Why blocking
//!
//! `scan`, `verify`, `audit` and `sbom` fetch in parallel with rayon; a
//! blocking client that is `Clone + Send + Sync` (an `Arc` around one
//! connection pool) fits that directly. The firewall (`palisade serve`,
//! tokio/axum) calls it from `tokio::task::spawn_blocking`; it needs one
//! upstream fetch per uncached document, so the blocking pool is not its
//! bottleneck. Note that `reqwest::blocking` runs its own runtime thread:
//! build and drop a [`RegistryClient`] outside async contexts (or inside
//! `spawn_blocking`). Everything that is not I/O (URLs, `.npmrc`, cache
//! format, models, SRI) is independent of the transport, so an async client
//! can be added beside this one without changing callers' types.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use reqwest::blocking::{Client, Response};
use reqwest::header::{
    HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION, ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED,
};
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use url::Url;

use crate::cache::DiskCache;
use crate::error::{redact_url, RegistryError};
use crate::integrity::Integrity;
use crate::model::{Attestations, BulkAdvisories, Packument, SigningKeys, VersionManifest};
use crate::npmrc::NpmrcConfig;

/// Default cap on a JSON document (packument, keys, attestations). The
/// biggest real packuments are tens of MB.
pub const DEFAULT_MAX_DOCUMENT_SIZE: u64 = 64 * 1024 * 1024;
/// Default cap on a tarball.
pub const DEFAULT_MAX_TARBALL_SIZE: u64 = 256 * 1024 * 1024;
/// `Accept` for full documents.
pub const ACCEPT_FULL: &str = "application/json";
/// `Accept` for abbreviated packuments, exactly as npm sends it
/// (<https://github.com/npm/registry/blob/main/docs/responses/package-metadata.md>).
pub const ACCEPT_ABBREVIATED: &str = "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8";
/// Redirects followed per request.
const MAX_REDIRECTS: usize = 5;
/// Longest wait between retries.
const MAX_BACKOFF: Duration = Duration::from_secs(8);
/// Cache key "accept" for tarballs (not sent).
const ACCEPT_TARBALL: &str = "*/*";

/// The cache directory under a `PALISADE_HOME`: `<home>/cache/registry`.
pub fn default_cache_dir(palisade_home: &Path) -> PathBuf {
    palisade_home.join("cache").join("registry")
}

/// Which packument form to ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PackumentKind {
    /// `Accept: application/json`: every field.
    Full,
    /// `Accept: application/vnd.npm.install-v1+json`: what installers need.
    Abbreviated,
}

impl PackumentKind {
    /// The `Accept` header for this kind.
    pub fn accept(self) -> &'static str {
        match self {
            PackumentKind::Full => ACCEPT_FULL,
            PackumentKind::Abbreviated => ACCEPT_ABBREVIATED,
        }
    }
}

/// A raw response body, for callers that forward or filter documents
/// themselves (the firewall).
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The URL it came from (may carry credentials only if the caller's URL did).
    pub url: Url,
    /// The body, at most the configured limit.
    pub body: Vec<u8>,
    /// The `ETag` the registry gave, if any.
    pub etag: Option<String>,
    /// The `Last-Modified` the registry gave, if any.
    pub last_modified: Option<String>,
    /// Whether the body came from the disk cache (offline, a 304, or stale).
    pub from_cache: bool,
    /// Whether it is a cached copy served because the registry failed
    /// (see [`RegistryClientBuilder::stale_if_error`]). The firewall marks
    /// such responses as stale.
    pub stale: bool,
}

/// Builder for [`RegistryClient`].
#[derive(Debug, Clone)]
pub struct RegistryClientBuilder {
    npmrc: NpmrcConfig,
    registry_override: Option<String>,
    user_agent: String,
    connect_timeout: Duration,
    timeout: Duration,
    max_retries: u32,
    retry_backoff: Duration,
    cache_dir: Option<PathBuf>,
    offline: bool,
    stale_if_error: bool,
    npm_cache: Option<PathBuf>,
    max_document_size: u64,
    max_tarball_size: u64,
}

impl Default for RegistryClientBuilder {
    fn default() -> Self {
        RegistryClientBuilder {
            npmrc: NpmrcConfig::default(),
            registry_override: None,
            user_agent: format!("palisade/{}", env!("CARGO_PKG_VERSION")),
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(120),
            max_retries: 2,
            retry_backoff: Duration::from_millis(250),
            cache_dir: None,
            offline: false,
            stale_if_error: false,
            npm_cache: None,
            max_document_size: DEFAULT_MAX_DOCUMENT_SIZE,
            max_tarball_size: DEFAULT_MAX_TARBALL_SIZE,
        }
    }
}

impl RegistryClientBuilder {
    /// The `.npmrc` settings (registry, scoped registries, credentials).
    /// Default: none, the public registry.
    pub fn npmrc(mut self, npmrc: NpmrcConfig) -> Self {
        self.npmrc = npmrc;
        self
    }

    /// Override the default registry (`--registry`); wins over `.npmrc` and
    /// the environment. Scoped registries still apply to their scopes, as in npm.
    pub fn registry(mut self, registry: impl Into<String>) -> Self {
        self.registry_override = Some(registry.into());
        self
    }

    /// `User-Agent` header.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// TCP/TLS connect timeout (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Whole-request timeout, body included (default 120 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Retries after a connection error, a timeout, a 429 or a 5xx (default
    /// 2, capped at 10). Other statuses are not retried.
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.max_retries = retries.min(10);
        self
    }

    /// First backoff delay; doubled on each retry, capped at 8 s (default 250 ms).
    pub fn retry_backoff(mut self, delay: Duration) -> Self {
        self.retry_backoff = delay;
        self
    }

    /// Cache documents and tarballs under `dir` (see [`default_cache_dir`]).
    /// Default: no cache.
    pub fn cache_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cache_dir = Some(dir.into());
        self
    }

    /// Serve only from the cache; never touch the network.
    pub fn offline(mut self, offline: bool) -> Self {
        self.offline = offline;
        self
    }

    /// When the registry cannot be reached or answers 5xx/429 (after
    /// retries), serve the cached copy instead, with [`Fetched::stale`] set
    /// (RFC 5861 `stale-if-error`). Off by default: a CLI should say the
    /// registry is down; the firewall turns it on (issue 4: "if upstream is
    /// down, cached packuments are served, marked stale").
    pub fn stale_if_error(mut self, enabled: bool) -> Self {
        self.stale_if_error = enabled;
        self
    }

    /// Also look for tarballs (by integrity, read-only) in npm's cache,
    /// usually `~/.npm/_cacache`: its `content-v2/<algorithm>/<hex>` layout
    /// (cacache) is content-addressed, so a hit is checked like any other.
    pub fn npm_cache_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.npm_cache = Some(dir.into());
        self
    }

    /// Cap on JSON documents (default [`DEFAULT_MAX_DOCUMENT_SIZE`]).
    pub fn max_document_size(mut self, bytes: u64) -> Self {
        self.max_document_size = bytes;
        self
    }

    /// Cap on tarballs (default [`DEFAULT_MAX_TARBALL_SIZE`]).
    pub fn max_tarball_size(mut self, bytes: u64) -> Self {
        self.max_tarball_size = bytes;
        self
    }

    /// Build the client.
    pub fn build(self) -> Result<RegistryClient, RegistryError> {
        let mut npmrc = self.npmrc;
        if let Some(registry) = &self.registry_override {
            npmrc.set_registry(registry)?;
        }
        let mut http = Client::builder();
        for certificate in load_certificates(&npmrc)? {
            http = http.add_root_certificate(certificate);
        }
        for scheme in ["https", "http"] {
            if let Some(proxy) = npmrc.proxy_for_scheme(scheme) {
                let made = if scheme == "https" {
                    reqwest::Proxy::https(proxy.expose())
                } else {
                    reqwest::Proxy::http(proxy.expose())
                };
                let proxy = made.map_err(|error| RegistryError::Config {
                    source_name: ".npmrc".to_owned(),
                    message: format!(
                        "proxy `{}` is not a valid URL ({})",
                        crate::error::redact_url_str(proxy.expose()),
                        error.without_url()
                    ),
                })?;
                let no_proxy = npmrc.noproxy().and_then(reqwest::NoProxy::from_string);
                http = http.proxy(proxy.no_proxy(no_proxy));
            }
        }
        let http = http
            .user_agent(self.user_agent)
            .connect_timeout(self.connect_timeout)
            .timeout(self.timeout)
            // reqwest drops `Authorization` on redirects to another host or
            // port; we also refuse https → http, which would send it in clear.
            .redirect(reqwest::redirect::Policy::custom(|attempt| {
                let downgrade = attempt.url().scheme() == "http"
                    && attempt.previous().iter().any(|previous| previous.scheme() == "https");
                if downgrade {
                    attempt.error("refused a redirect from https to http")
                } else if attempt.previous().len() > MAX_REDIRECTS {
                    attempt.error("too many redirects")
                } else {
                    attempt.follow()
                }
            }))
            .build()
            .map_err(|error| RegistryError::Transport {
                action: "create the HTTP client".to_owned(),
                url: npmrc.registry().to_string(),
                source: error.without_url(),
            })?;
        Ok(RegistryClient {
            inner: Arc::new(Inner {
                http,
                npmrc,
                cache: self.cache_dir.map(DiskCache::new),
                offline: self.offline,
                stale_if_error: self.stale_if_error,
                npm_cache: self.npm_cache,
                max_retries: self.max_retries,
                retry_backoff: self.retry_backoff,
                max_document_size: self.max_document_size,
                max_tarball_size: self.max_tarball_size,
            }),
        })
    }
}

/// The npm registry client. Cheap to clone (shared connection pool), `Send
/// + Sync`: use one per process and share it across threads.
#[derive(Debug, Clone)]
pub struct RegistryClient {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    http: Client,
    npmrc: NpmrcConfig,
    cache: Option<DiskCache>,
    offline: bool,
    stale_if_error: bool,
    npm_cache: Option<PathBuf>,
    max_retries: u32,
    retry_backoff: Duration,
    max_document_size: u64,
    max_tarball_size: u64,
}

/// What one attempt produced.
enum Attempt {
    Done(Result<Fetched, RegistryError>),
    /// Retry, after at least the server's `Retry-After` when it gave one.
    Retry(RegistryError, Option<Duration>),
}

impl RegistryClient {
    /// A builder with defaults.
    pub fn builder() -> RegistryClientBuilder {
        RegistryClientBuilder::default()
    }

    /// The default registry.
    pub fn registry_url(&self) -> &Url {
        self.inner.npmrc.registry()
    }

    /// The registry serving `package_name` (its scope's, or the default).
    pub fn registry_for(&self, package_name: &str) -> &Url {
        self.inner.npmrc.registry_for(package_name)
    }

    /// The `.npmrc` settings in use.
    pub fn npmrc(&self) -> &NpmrcConfig {
        &self.inner.npmrc
    }

    /// Whether the client is in offline mode.
    pub fn is_offline(&self) -> bool {
        self.inner.offline
    }

    /// The packument URL: `<registry>/<name>`, a scoped name written
    /// `@scope%2fname` (npm-package-arg's `escapedName`).
    pub fn packument_url(&self, package_name: &str) -> Result<Url, RegistryError> {
        let escaped = escape_package_name(package_name)?;
        join(self.registry_for(package_name), &escaped)
    }

    /// The full packument.
    pub fn packument(&self, package_name: &str) -> Result<Packument, RegistryError> {
        self.packument_of_kind(package_name, PackumentKind::Full)
    }

    /// The abbreviated packument (`application/vnd.npm.install-v1+json`).
    /// Registries that do not implement it answer with the full document,
    /// which parses into the same type.
    pub fn abbreviated_packument(&self, package_name: &str) -> Result<Packument, RegistryError> {
        self.packument_of_kind(package_name, PackumentKind::Abbreviated)
    }

    fn packument_of_kind(&self, package_name: &str, kind: PackumentKind) -> Result<Packument, RegistryError> {
        let fetched = self.packument_bytes(package_name, kind)?;
        parse_json(&fetched, &format!("read the packument of `{package_name}`"))
    }

    /// The packument as bytes, for forwarding or streaming filters.
    pub fn packument_bytes(&self, package_name: &str, kind: PackumentKind) -> Result<Fetched, RegistryError> {
        let url = self.packument_url(package_name)?;
        self.get(
            &url,
            kind.accept(),
            self.inner.max_document_size,
            &format!("fetch the packument of `{package_name}`"),
        )
    }

    /// One version's document: `<registry>/<name>/<version-or-tag>`.
    pub fn version_document(&self, package_name: &str, version: &str) -> Result<VersionManifest, RegistryError> {
        check_version(version)?;
        let escaped = escape_package_name(package_name)?;
        let url = join(self.registry_for(package_name), &format!("{escaped}/{version}"))?;
        let action = format!("fetch the version document of `{package_name}@{version}`");
        let fetched = self.get(&url, ACCEPT_FULL, self.inner.max_document_size, &action)?;
        parse_json(&fetched, &action)
    }

    /// A tarball's bytes, at most the tarball size cap.
    ///
    /// With an `integrity` (see [`Integrity::check`]) the tarball is
    /// content-addressed: it is looked up first in this client's cache
    /// (`<cache>/content/<algorithm>/<hex>`), then in npm's own cache when
    /// one is set ([`RegistryClientBuilder::npm_cache_dir`]), whatever URL
    /// it was first fetched from; it is only returned, and only stored, when
    /// it matches. Without an integrity the tarball is cached by URL.
    pub fn tarball(&self, url: &str, integrity: Option<&Integrity>) -> Result<Vec<u8>, RegistryError> {
        let url = parse_fetch_url(url)?;
        let action = "fetch a tarball";
        let limit = self.inner.max_tarball_size;
        let Some(integrity) = integrity else {
            return Ok(self.get(&url, ACCEPT_TARBALL, limit, action)?.body);
        };
        if let Some(bytes) = self.cached_content(integrity) {
            tracing::debug!(url = %redact_url(&url), "tarball served from the content cache");
            return Ok(bytes);
        }
        if self.inner.offline {
            return Err(self.offline_miss(&url, action));
        }
        let fetched = self.request(&url, ACCEPT_TARBALL, limit, action, None)?;
        let algorithm = integrity
            .check(&fetched.body)
            .map_err(|source| RegistryError::Integrity {
                url: redact_url(&url),
                source,
            })?;
        if let Some(cache) = &self.inner.cache {
            let hash = Integrity::compute(algorithm, &fetched.body);
            if let Some(hash) = hash.hashes().first() {
                cache.store_content(hash, &fetched.body)?;
            }
        }
        Ok(fetched.body)
    }

    /// A verified tarball from the content caches, if any has it.
    fn cached_content(&self, integrity: &Integrity) -> Option<Vec<u8>> {
        let limit = self.inner.max_tarball_size;
        for hash in integrity.strongest() {
            let ours = self
                .inner
                .cache
                .as_ref()
                .and_then(|cache| cache.load_content(hash, limit));
            let npm = || {
                self.inner
                    .npm_cache
                    .as_deref()
                    .and_then(|dir| crate::cache::load_npm_cacache(dir, hash, limit))
            };
            if let Some(bytes) = ours.or_else(npm) {
                if integrity.check(&bytes).is_ok() {
                    return Some(bytes);
                }
            }
        }
        None
    }

    /// `GET <registry>/-/ping` (what `npm ping` does): `Ok` when the
    /// default registry answers 2xx. Never cached; an error offline.
    pub fn ping(&self) -> Result<(), RegistryError> {
        let url = join(self.registry_url(), "-/ping")?;
        let action = "ping the registry";
        if self.inner.offline {
            return Err(self.offline_miss(&url, action));
        }
        self.request(&url, ACCEPT_FULL, self.inner.max_document_size, action, None)
            .map(|_| ())
    }

    /// The default registry's signing keys (`/-/npm/v1/keys`).
    pub fn signing_keys(&self) -> Result<SigningKeys, RegistryError> {
        self.signing_keys_of(self.registry_url())
    }

    /// A given registry's signing keys.
    pub fn signing_keys_of(&self, registry: &Url) -> Result<SigningKeys, RegistryError> {
        let url = join(registry, "-/npm/v1/keys")?;
        let action = "fetch the registry signing keys";
        let fetched = self.get(&url, ACCEPT_FULL, self.inner.max_document_size, action)?;
        parse_json(&fetched, action)
    }

    /// A version's attestations (`/-/npm/v1/attestations/<escaped-name>@<version>`,
    /// as `npm audit signatures` requests them), from the package's registry.
    pub fn attestations(&self, package_name: &str, version: &str) -> Result<Attestations, RegistryError> {
        check_version(version)?;
        let escaped = escape_package_name(package_name)?;
        let url = join(
            self.registry_for(package_name),
            &format!("-/npm/v1/attestations/{escaped}@{version}"),
        )?;
        let action = format!("fetch the attestations of `{package_name}@{version}`");
        let fetched = self.get(&url, ACCEPT_FULL, self.inner.max_document_size, &action)?;
        parse_json(&fetched, &action)
    }

    /// `POST /-/npm/v1/security/advisories/bulk` with `{name: [versions]}`,
    /// the query `npm audit` makes. Never cached; unavailable offline.
    pub fn bulk_advisories(
        &self,
        packages: &std::collections::BTreeMap<String, Vec<String>>,
    ) -> Result<BulkAdvisories, RegistryError> {
        let url = join(self.registry_url(), "-/npm/v1/security/advisories/bulk")?;
        let action = "query the bulk advisory endpoint";
        if self.inner.offline {
            return Err(self.offline_miss(&url, action));
        }
        let body = serde_json::to_vec(packages).map_err(|source| RegistryError::Json {
            action: action.to_owned(),
            url: redact_url(&url),
            source,
        })?;
        let fetched = self.with_retries(&url, action, || {
            let request = self
                .inner
                .http
                .post(url.clone())
                .headers(self.headers(&url, ACCEPT_FULL))
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.clone());
            self.attempt(request, &url, self.inner.max_document_size, action)
        })?;
        parse_json(&fetched, action)
    }

    /// GET with the cache: offline → cache or error; online → revalidate a
    /// cached entry with its validators, store what comes back.
    fn get(&self, url: &Url, accept: &str, limit: u64, action: &str) -> Result<Fetched, RegistryError> {
        let cache_url = redact_url_for_key(url);
        let cached = self
            .inner
            .cache
            .as_ref()
            .and_then(|cache| cache.load(&cache_url, accept, limit));
        if self.inner.offline {
            return match cached {
                Some(entry) => {
                    tracing::debug!(url = %redact_url(url), "served from cache (offline)");
                    Ok(Fetched {
                        url: url.clone(),
                        body: entry.body,
                        etag: entry.meta.etag,
                        last_modified: entry.meta.last_modified,
                        from_cache: true,
                        stale: false,
                    })
                }
                None => Err(self.offline_miss(url, action)),
            };
        }
        let fetched = match self.request(url, accept, limit, action, cached.as_ref()) {
            Ok(fetched) => fetched,
            Err(error) if self.inner.stale_if_error && is_upstream_failure(&error) => match cached {
                Some(entry) => {
                    tracing::debug!(url = %redact_url(url), error = %error, "registry failed; serving stale copy");
                    return Ok(Fetched {
                        url: url.clone(),
                        body: entry.body,
                        etag: entry.meta.etag,
                        last_modified: entry.meta.last_modified,
                        from_cache: true,
                        stale: true,
                    });
                }
                None => return Err(error),
            },
            Err(error) => return Err(error),
        };
        if !fetched.from_cache {
            self.store(url, accept, &fetched)?;
        }
        Ok(fetched)
    }

    fn store(&self, url: &Url, accept: &str, fetched: &Fetched) -> Result<(), RegistryError> {
        if let Some(cache) = &self.inner.cache {
            cache.store(
                &redact_url_for_key(url),
                accept,
                fetched.etag.clone(),
                fetched.last_modified.clone(),
                &fetched.body,
            )?;
        }
        Ok(())
    }

    fn request(
        &self,
        url: &Url,
        accept: &str,
        limit: u64,
        action: &str,
        cached: Option<&crate::cache::Entry>,
    ) -> Result<Fetched, RegistryError> {
        self.with_retries(url, action, || {
            let mut headers = self.headers(url, accept);
            if let Some(entry) = cached {
                // RFC 9110 §13.1: If-None-Match takes precedence; send both
                // so a server that only knows dates can still answer 304.
                if let Some(value) = entry.meta.etag.as_deref().and_then(|v| HeaderValue::from_str(v).ok()) {
                    headers.insert(IF_NONE_MATCH, value);
                }
                if let Some(value) = entry
                    .meta
                    .last_modified
                    .as_deref()
                    .and_then(|v| HeaderValue::from_str(v).ok())
                {
                    headers.insert(IF_MODIFIED_SINCE, value);
                }
            }
            let request = self.inner.http.get(url.clone()).headers(headers);
            match self.attempt(request, url, limit, action) {
                Attempt::Done(Err(RegistryError::Status { status: 304, .. })) => match cached {
                    Some(entry) => {
                        tracing::debug!(url = %redact_url(url), "not modified; served from cache");
                        Attempt::Done(Ok(Fetched {
                            url: url.clone(),
                            body: entry.body.clone(),
                            etag: entry.meta.etag.clone(),
                            last_modified: entry.meta.last_modified.clone(),
                            from_cache: true,
                            stale: false,
                        }))
                    }
                    None => Attempt::Done(Err(RegistryError::Status {
                        action: action.to_owned(),
                        url: redact_url(url),
                        status: 304,
                    })),
                },
                other => other,
            }
        })
    }

    fn headers(&self, url: &Url, accept: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if accept != ACCEPT_TARBALL {
            if let Ok(value) = HeaderValue::from_str(accept) {
                headers.insert(ACCEPT, value);
            }
        }
        if let Some(auth) = self.inner.npmrc.auth_for(url) {
            if let Ok(mut value) = HeaderValue::from_str(&auth.header_value()) {
                // Keeps it out of reqwest's and hyper's Debug output.
                value.set_sensitive(true);
                headers.insert(AUTHORIZATION, value);
            }
        }
        headers
    }

    fn with_retries(
        &self,
        url: &Url,
        action: &str,
        mut attempt: impl FnMut() -> Attempt,
    ) -> Result<Fetched, RegistryError> {
        let mut delay = self.inner.retry_backoff;
        let mut tries = 0;
        loop {
            match attempt() {
                Attempt::Done(result) => return result,
                Attempt::Retry(error, retry_after) => {
                    if tries >= self.inner.max_retries {
                        return Err(error);
                    }
                    tries += 1;
                    tracing::debug!(url = %redact_url(url), action, tries, error = %error, "retrying");
                    // Honour Retry-After (RFC 9110 §10.2.3), within the same cap.
                    let wait = retry_after.map_or(delay, |after| after.max(delay)).min(MAX_BACKOFF);
                    std::thread::sleep(wait);
                    delay = (delay * 2).min(MAX_BACKOFF);
                }
            }
        }
    }

    fn attempt(&self, request: reqwest::blocking::RequestBuilder, url: &Url, limit: u64, action: &str) -> Attempt {
        let shown = redact_url(url);
        let response = match request.send() {
            Ok(response) => response,
            Err(error) => {
                let retryable = error.is_connect() || error.is_timeout() || error.is_request() || error.is_body();
                let error = RegistryError::Transport {
                    action: action.to_owned(),
                    url: shown,
                    source: error.without_url(),
                };
                return if retryable {
                    Attempt::Retry(error, None)
                } else {
                    Attempt::Done(Err(error))
                };
            }
        };
        let status = response.status();
        tracing::debug!(url = %shown, status = status.as_u16(), "registry response");
        if status.is_success() {
            return match read_body(response, limit, action, &shown) {
                Ok(Body {
                    body,
                    etag,
                    last_modified,
                }) => Attempt::Done(Ok(Fetched {
                    url: url.clone(),
                    body,
                    etag,
                    last_modified,
                    from_cache: false,
                    stale: false,
                })),
                // The connection broke while reading: worth another try.
                Err(error @ RegistryError::Io { .. }) => Attempt::Retry(error, None),
                Err(error) => Attempt::Done(Err(error)),
            };
        }
        let action = action.to_owned();
        match status {
            StatusCode::NOT_FOUND => Attempt::Done(Err(RegistryError::NotFound { action, url: shown })),
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Attempt::Done(Err(RegistryError::Auth {
                action,
                url: shown,
                status: status.as_u16(),
            })),
            status if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS => {
                // Only the delay-seconds form; an HTTP date is rare from registries.
                let retry_after = response
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|value| value.to_str().ok())
                    .and_then(|value| value.trim().parse::<u64>().ok())
                    .map(Duration::from_secs);
                Attempt::Retry(
                    RegistryError::Status {
                        action,
                        url: shown,
                        status: status.as_u16(),
                    },
                    retry_after,
                )
            }
            status => Attempt::Done(Err(RegistryError::Status {
                action,
                url: shown,
                status: status.as_u16(),
            })),
        }
    }

    fn offline_miss(&self, url: &Url, action: &str) -> RegistryError {
        RegistryError::OfflineMiss {
            action: action.to_owned(),
            url: redact_url(url),
            cache_dir: match &self.inner.cache {
                Some(cache) => format!("`{}`", cache.dir().display()),
                None => "(no cache configured)".to_owned(),
            },
        }
    }
}

/// Failures of the registry itself (not of the request or the document).
fn is_upstream_failure(error: &RegistryError) -> bool {
    match error {
        RegistryError::Transport { .. } | RegistryError::Io { .. } => true,
        RegistryError::Status { status, .. } => *status >= 500 || *status == 429,
        _ => false,
    }
}

/// The extra roots of `cafile`, `ca`, `NODE_EXTRA_CA_CERTS`, `SSL_CERT_FILE`.
fn load_certificates(npmrc: &NpmrcConfig) -> Result<Vec<reqwest::Certificate>, RegistryError> {
    let mut certificates = Vec::new();
    for ca in npmrc.ca_files() {
        let bytes = match std::fs::read(&ca.path) {
            Ok(bytes) => bytes,
            Err(error) if !ca.required && error.kind() == std::io::ErrorKind::NotFound => continue,
            Err(error) => {
                return Err(RegistryError::Io {
                    action: format!("read CA file `{}`", ca.path.display()),
                    source: error,
                })
            }
        };
        let bundle = reqwest::Certificate::from_pem_bundle(&bytes).map_err(|error| RegistryError::Config {
            source_name: ca.path.display().to_string(),
            message: format!("not a PEM certificate bundle ({})", error.without_url()),
        })?;
        certificates.extend(bundle);
    }
    for pem in npmrc.ca_pems() {
        let bundle = reqwest::Certificate::from_pem_bundle(pem.as_bytes()).map_err(|error| RegistryError::Config {
            source_name: "`ca` in .npmrc".to_owned(),
            message: format!("not a PEM certificate ({})", error.without_url()),
        })?;
        certificates.extend(bundle);
    }
    Ok(certificates)
}

/// Read at most `limit` bytes: refuse early on a larger `Content-Length`,
/// and stop reading one byte past the limit otherwise (a gzip body is
/// bounded after decompression).
fn read_body(response: Response, limit: u64, action: &str, shown: &str) -> Result<Body, RegistryError> {
    let too_large = || RegistryError::TooLarge {
        action: action.to_owned(),
        url: shown.to_owned(),
        limit,
    };
    if response.content_length().is_some_and(|length| length > limit) {
        return Err(too_large());
    }
    let header = |name| {
        response
            .headers()
            .get(name)
            .and_then(|value: &HeaderValue| value.to_str().ok())
            .map(str::to_owned)
    };
    let etag = header(ETAG);
    let last_modified = header(LAST_MODIFIED);
    let mut body = Vec::new();
    response
        .take(limit.saturating_add(1))
        .read_to_end(&mut body)
        .map_err(|error| RegistryError::Io {
            action: format!("{action}: read the body of `{shown}`"),
            source: error,
        })?;
    if body.len() as u64 > limit {
        return Err(too_large());
    }
    Ok(Body {
        body,
        etag,
        last_modified,
    })
}

struct Body {
    body: Vec<u8>,
    etag: Option<String>,
    last_modified: Option<String>,
}

fn parse_json<T: DeserializeOwned>(fetched: &Fetched, action: &str) -> Result<T, RegistryError> {
    serde_json::from_slice(&fetched.body).map_err(|source| RegistryError::Json {
        action: action.to_owned(),
        url: redact_url(&fetched.url),
        source,
    })
}

/// The cache key URL: never with credentials in it.
fn redact_url_for_key(url: &Url) -> String {
    let mut key = url.clone();
    let _ = key.set_username("");
    let _ = key.set_password(None);
    key.set_fragment(None);
    key.to_string()
}

fn join(base: &Url, path: &str) -> Result<Url, RegistryError> {
    // Registry URLs always end in `/` (NpmrcConfig guarantees it), and
    // `path` is validated, so this cannot climb out of the registry path.
    Url::parse(&format!("{}{path}", base.as_str())).map_err(|error| RegistryError::InvalidUrl {
        url: redact_url(base),
        reason: error.to_string(),
    })
}

fn parse_fetch_url(text: &str) -> Result<Url, RegistryError> {
    let url = Url::parse(text).map_err(|error| RegistryError::InvalidUrl {
        url: crate::error::redact_url_str(text),
        reason: error.to_string(),
    })?;
    if url.scheme() != "https" && url.scheme() != "http" {
        return Err(RegistryError::InvalidUrl {
            url: redact_url(&url),
            reason: "not an http(s) URL".to_owned(),
        });
    }
    Ok(url)
}

/// Characters allowed in a package name part: those `encodeURIComponent`
/// leaves alone, which is npm's rule for new names (validate-npm-package-name:
/// "name can only contain URL-friendly characters"). Upper case is allowed
/// for old packages.
fn valid_name_part(part: &str) -> bool {
    !part.is_empty()
        && part != "."
        && part != ".."
        && part
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"-._~!*'()".contains(&byte))
}

/// `@scope/name` → `@scope%2fname`; `name` → `name`. Refuses anything that
/// could change the URL path (`..`, `/`, `%`, `?`, `#`, spaces).
pub fn escape_package_name(package_name: &str) -> Result<String, RegistryError> {
    let invalid = || RegistryError::InvalidPackageName {
        name: package_name.chars().take(214).collect(),
    };
    if package_name.len() > 214 {
        return Err(invalid());
    }
    match package_name.strip_prefix('@') {
        Some(scoped) => {
            let (scope, name) = scoped.split_once('/').ok_or_else(invalid)?;
            if !valid_name_part(scope) || !valid_name_part(name) {
                return Err(invalid());
            }
            Ok(format!("@{scope}%2f{name}"))
        }
        None if valid_name_part(package_name) => Ok(package_name.to_owned()),
        None => Err(invalid()),
    }
}

fn check_version(version: &str) -> Result<(), RegistryError> {
    // SemVer versions and dist-tags (`latest`, `next`, `beta-2`).
    let valid = !version.is_empty()
        && version.len() <= 256
        && version != "."
        && version != ".."
        && version
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b".-+_".contains(&byte));
    if valid {
        Ok(())
    } else {
        Err(RegistryError::InvalidVersion {
            version: version.chars().take(100).collect(),
        })
    }
}

/// Convenience: a client for a project directory from its `.npmrc` files and
/// the environment, caching under `palisade_home`, with an optional
/// `--registry` override.
pub fn client_for_project(
    project_dir: &Path,
    palisade_home: &Path,
    registry_override: Option<&str>,
) -> Result<RegistryClient, RegistryError> {
    let mut builder = RegistryClient::builder()
        .npmrc(NpmrcConfig::load(project_dir)?)
        .cache_dir(default_cache_dir(palisade_home));
    if let Some(registry) = registry_override {
        builder = builder.registry(registry);
    }
    builder.build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_escaping() {
        assert_eq!(escape_package_name("is-number").ok().as_deref(), Some("is-number"));
        assert_eq!(
            escape_package_name("@types/node").ok().as_deref(),
            Some("@types%2fnode")
        );
        assert_eq!(escape_package_name("JSONStream").ok().as_deref(), Some("JSONStream"));
        for bad in [
            "", "..", "../etc", "@scope", "@scope/", "@/x", "a/b", "a b", "a%2f", "a?x", "a#b", "@../x",
        ] {
            assert!(escape_package_name(bad).is_err(), "{bad:?}");
        }
        assert!(check_version("1.2.3-beta.1+build").is_ok());
        assert!(check_version("latest").is_ok());
        assert!(check_version("../x").is_err());
        assert!(check_version("..").is_err());
    }

    #[test]
    fn client_is_send_sync_clone() {
        fn assert_traits<T: Send + Sync + Clone + 'static>() {}
        assert_traits::<RegistryClient>();
    }
}
