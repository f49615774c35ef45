//! The upstream registry, asynchronously: retries with exponential backoff on
//! timeouts, connection errors, 429 and 5xx; bodies capped while they stream
//! in; the upstream token sent only to the upstream's origin, marked
//! sensitive, never logged.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use reqwest::header::{HeaderValue, ACCEPT, AUTHORIZATION, ETAG, IF_NONE_MATCH};
use reqwest::StatusCode;
use url::Url;

#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    #[error("upstream answered {status} for {url}")]
    Status { status: u16, url: String },
    #[error("upstream unreachable for {url}: {message}")]
    Unreachable { url: String, message: String },
    #[error("upstream response for {url} is larger than {limit} bytes")]
    TooLarge { url: String, limit: u64 },
    #[error("invalid upstream URL: {0}")]
    Url(String),
}

impl UpstreamError {
    pub fn is_not_found(&self) -> bool {
        matches!(self, UpstreamError::Status { status: 404, .. })
    }
}

pub enum Fetch {
    Body { body: Bytes, etag: Option<String> },
    NotModified,
}

#[derive(Clone)]
pub struct Upstream {
    client: reqwest::Client,
    base: Url,
    token: Option<HeaderValue>,
    retries: u32,
    backoff: Duration,
    pub max_document: u64,
    pub max_tarball: u64,
}

impl std::fmt::Debug for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upstream")
            .field("base", &palisade_registry::error::redact_url(&self.base))
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// Upstream connection settings.
#[derive(Debug, Clone)]
pub struct UpstreamOptions {
    pub timeout: Duration,
    pub retries: u32,
    pub backoff: Duration,
    pub max_document: u64,
    pub max_tarball: u64,
}

impl Default for UpstreamOptions {
    fn default() -> Self {
        UpstreamOptions {
            timeout: Duration::from_secs(60),
            retries: 3,
            backoff: Duration::from_millis(200),
            max_document: palisade_registry::DEFAULT_MAX_DOCUMENT_SIZE,
            max_tarball: palisade_registry::DEFAULT_MAX_TARBALL_SIZE,
        }
    }
}

impl Upstream {
    pub fn new(base: &str, token: Option<String>, options: &UpstreamOptions) -> Result<Upstream, UpstreamError> {
        let mut base = Url::parse(base).map_err(|e| UpstreamError::Url(e.to_string()))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(UpstreamError::Url(format!("`{}` is not http(s)", base.scheme())));
        }
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let token = match token {
            Some(token) => {
                let mut value = HeaderValue::from_str(&format!("Bearer {}", token.trim()))
                    .map_err(|_| UpstreamError::Url("the upstream token is not a valid header value".into()))?;
                value.set_sensitive(true);
                Some(value)
            }
            None => None,
        };
        let mut builder = reqwest::Client::builder();
        // Extra roots the way node (hence npm) and most Linux setups name them:
        // a TLS-inspecting proxy or a private registry's CA.
        for name in ["NODE_EXTRA_CA_CERTS", "SSL_CERT_FILE"] {
            let Some(path) = std::env::var_os(name) else { continue };
            let Ok(pem) = std::fs::read(&path) else { continue };
            match reqwest::Certificate::from_pem_bundle(&pem) {
                Ok(certificates) => {
                    for certificate in certificates {
                        builder = builder.add_root_certificate(certificate);
                    }
                }
                Err(error) => tracing::warn!(variable = name, %error, "not a PEM bundle; ignored"),
            }
        }
        let client = builder
            .user_agent(concat!("palisade-serve/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .timeout(options.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(32)
            .build()
            .map_err(|e| UpstreamError::Url(e.to_string()))?;
        Ok(Upstream {
            client,
            base,
            token,
            retries: options.retries,
            backoff: options.backoff,
            max_document: options.max_document,
            max_tarball: options.max_tarball,
        })
    }

    pub fn base(&self) -> &Url {
        &self.base
    }

    /// `<upstream>/<escaped name>`.
    pub fn packument_url(&self, name: &str) -> Result<Url, UpstreamError> {
        let escaped = palisade_registry::escape_package_name(name).map_err(|e| UpstreamError::Url(e.to_string()))?;
        self.base.join(&escaped).map_err(|e| UpstreamError::Url(e.to_string()))
    }

    /// Where to fetch a tarball: the packument's URL when it is on the
    /// upstream's origin; otherwise the upstream's own `<name>/-/<file>` (a
    /// packument cannot send the firewall to fetch from arbitrary hosts).
    pub fn tarball_url(&self, name: &str, upstream_tarball: &str, file: &str) -> Result<Url, UpstreamError> {
        if let Ok(url) = Url::parse(upstream_tarball) {
            if url.origin() == self.base.origin() && url.username().is_empty() && url.password().is_none() {
                return Ok(url);
            }
        }
        self.base
            .join(&format!("{name}/-/{file}"))
            .map_err(|e| UpstreamError::Url(e.to_string()))
    }

    fn redacted(url: &Url) -> String {
        palisade_registry::error::redact_url(url)
    }

    /// GET with retries. `etag` makes it conditional.
    pub async fn get(&self, url: &Url, accept: &str, limit: u64, etag: Option<&str>) -> Result<Fetch, UpstreamError> {
        let mut attempt = 0;
        loop {
            match self.get_once(url, accept, limit, etag).await {
                Ok(fetch) => return Ok(fetch),
                Err((error, retryable)) => {
                    if !retryable || attempt >= self.retries {
                        return Err(error);
                    }
                    let delay = self
                        .backoff
                        .saturating_mul(2u32.saturating_pow(attempt))
                        .min(Duration::from_secs(5));
                    tracing::debug!(url = %Self::redacted(url), attempt, ?delay, %error, "retrying upstream");
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
            }
        }
    }

    async fn get_once(
        &self,
        url: &Url,
        accept: &str,
        limit: u64,
        etag: Option<&str>,
    ) -> Result<Fetch, (UpstreamError, bool)> {
        let mut request = self.client.get(url.clone()).header(ACCEPT, accept);
        if let Some(token) = &self.token {
            if url.origin() == self.base.origin() {
                request = request.header(AUTHORIZATION, token.clone());
            }
        }
        if let Some(etag) = etag {
            if let Ok(value) = HeaderValue::from_str(etag) {
                request = request.header(IF_NONE_MATCH, value);
            }
        }
        let unreachable = |error: reqwest::Error| {
            (
                UpstreamError::Unreachable {
                    url: Self::redacted(url),
                    message: error.without_url().to_string(),
                },
                true,
            )
        };
        let mut response = request.send().await.map_err(unreachable)?;
        let status = response.status();
        if status == StatusCode::NOT_MODIFIED {
            return Ok(Fetch::NotModified);
        }
        if !status.is_success() {
            let retryable = status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS;
            return Err((
                UpstreamError::Status {
                    status: status.as_u16(),
                    url: Self::redacted(url),
                },
                retryable,
            ));
        }
        let too_large = || {
            (
                UpstreamError::TooLarge {
                    url: Self::redacted(url),
                    limit,
                },
                false,
            )
        };
        if response.content_length().is_some_and(|length| length > limit) {
            return Err(too_large());
        }
        let etag = response
            .headers()
            .get(ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let mut body =
            BytesMut::with_capacity(usize::try_from(response.content_length().unwrap_or(0).min(limit)).unwrap_or(0));
        while let Some(chunk) = response.chunk().await.map_err(unreachable)? {
            if (body.len() + chunk.len()) as u64 > limit {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Fetch::Body {
            body: body.freeze(),
            etag,
        })
    }
}
