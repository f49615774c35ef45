//! Errors of the registry client. Every message names what was being done
//! and the URL, with credentials and query strings stripped; tokens never
//! appear in an error.

use url::Url;

use crate::integrity::IntegrityError;

/// Something went wrong talking to a registry, reading the cache or reading
/// `.npmrc`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// A bad `.npmrc` value or `--registry` argument.
    #[error("invalid registry configuration in {source_name}: {message}")]
    Config {
        /// The file or variable it came from.
        source_name: String,
        /// What is wrong.
        message: String,
    },
    /// A package name that is not a valid npm name (and could escape the
    /// registry path if used in a URL).
    #[error("`{name}` is not a valid npm package name")]
    InvalidPackageName {
        /// The name, truncated.
        name: String,
    },
    /// A version or dist-tag that cannot be put in a URL.
    #[error("`{version}` is not a valid version or dist-tag")]
    InvalidVersion {
        /// The version, truncated.
        version: String,
    },
    /// A URL that cannot be fetched (not http/https, unparseable).
    #[error("cannot fetch `{url}`: {reason}")]
    InvalidUrl {
        /// The URL, redacted.
        url: String,
        /// Why.
        reason: String,
    },
    /// The registry answered 404.
    #[error("not found: {action} (`{url}` answered 404)")]
    NotFound {
        /// What was being fetched.
        action: String,
        /// The URL, redacted.
        url: String,
    },
    /// The registry answered 401 or 403.
    #[error(
        "{action}: `{url}` answered {status}\nhint: the registry wants credentials; check the `//host/:_authToken` \
         line for this registry in your .npmrc (project or ~/.npmrc), or `npm login --registry` to it"
    )]
    Auth {
        /// What was being fetched.
        action: String,
        /// The URL, redacted.
        url: String,
        /// 401 or 403.
        status: u16,
    },
    /// Any other unsuccessful HTTP status (after retries, for 5xx).
    #[error("{action}: `{url}` answered HTTP {status}")]
    Status {
        /// What was being fetched.
        action: String,
        /// The URL, redacted.
        url: String,
        /// The status code.
        status: u16,
    },
    /// A connection, TLS or timeout error (after retries).
    #[error("{action}: request to `{url}` failed: {source}")]
    Transport {
        /// What was being fetched.
        action: String,
        /// The URL, redacted.
        url: String,
        /// The underlying error, with its URL removed.
        #[source]
        source: reqwest::Error,
    },
    /// The response was larger than the configured limit.
    #[error("{action}: `{url}` is larger than the limit of {limit} bytes")]
    TooLarge {
        /// What was being fetched.
        action: String,
        /// The URL, redacted.
        url: String,
        /// The limit, in bytes.
        limit: u64,
    },
    /// The response was not the JSON document expected.
    #[error("{action}: `{url}` did not return a valid document: {source}")]
    Json {
        /// What was being fetched.
        action: String,
        /// The URL, redacted.
        url: String,
        /// The parse error.
        #[source]
        source: serde_json::Error,
    },
    /// A tarball did not match its integrity.
    #[error("tarball `{url}` failed its integrity check: {source}")]
    Integrity {
        /// The URL, redacted.
        url: String,
        /// The mismatch.
        #[source]
        source: IntegrityError,
    },
    /// Offline mode, and the document is not in the cache.
    #[error(
        "{action}: offline and `{url}` is not in the cache\nhint: run once with network access to fill the cache \
         under {cache_dir}"
    )]
    OfflineMiss {
        /// What was being fetched.
        action: String,
        /// The URL, redacted.
        url: String,
        /// The cache directory (or "(no cache configured)").
        cache_dir: String,
    },
    /// Reading or writing a file (cache, `.npmrc`).
    #[error("failed to {action}: {source}")]
    Io {
        /// What was being done, naming the path.
        action: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

impl RegistryError {
    /// Whether this is a 404 from the registry.
    pub fn is_not_found(&self) -> bool {
        matches!(self, RegistryError::NotFound { .. })
    }
}

/// A URL safe to show: no user name, no password, no query (private
/// registries put tokens in query strings), no fragment.
pub fn redact_url(url: &Url) -> String {
    let mut shown = url.clone();
    let had_credentials = !shown.username().is_empty() || shown.password().is_some();
    // These only fail for URLs that cannot have credentials, which then have none.
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    let had_query = shown.query().is_some();
    shown.set_query(None);
    shown.set_fragment(None);
    let mut text = shown.to_string();
    if had_credentials {
        text = text.replacen("://", "://<redacted>@", 1);
    }
    if had_query {
        text.push_str("?<redacted>");
    }
    text
}

/// [`redact_url`] for a string that may not parse as a URL: when it does not
/// parse, show only its first characters up to any `@`, `?` or `#`.
pub fn redact_url_str(text: &str) -> String {
    match Url::parse(text.trim()) {
        Ok(url) => redact_url(&url),
        Err(_) => {
            let cut = text.find(['@', '?', '#']).unwrap_or(text.len()).min(100);
            let mut shown: String = text.chars().take(cut).collect();
            if cut < text.len() {
                shown.push('…');
            }
            shown
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction() {
        let url = Url::parse("https://user:s3cret@registry.example.com/npm/pkg?token=s3cret#frag").expect("valid");
        let shown = redact_url(&url);
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(!shown.contains("user"), "{shown}");
        assert_eq!(shown, "https://<redacted>@registry.example.com/npm/pkg?<redacted>");
        assert_eq!(redact_url_str("not a url with @secret"), "not a url with …");
    }
}
