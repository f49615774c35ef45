//! `[registry]`: where packages may come from.

use crate::config::{RawRegistry, Validator};
use crate::PackageSpec;

pub const NPM_REGISTRY: &str = "https://registry.npmjs.org/";
/// Yarn classic writes this host for the same registry; it is the npm registry.
pub const YARN_REGISTRY: &str = "https://registry.yarnpkg.com/";

#[derive(Debug, Clone)]
pub struct Config {
    pub upstream: String,
    /// `upstream` was written in palisade.toml (not the default): registry
    /// lookups of `palisade check` then go there instead of to `.npmrc`'s registry.
    pub upstream_configured: bool,
    /// `resolved` URLs must start with one of these (each ends with `/`).
    pub allowed: Vec<String>,
    /// Packages that may come from git.
    pub allow_git: Vec<PackageSpec>,
    /// Packages that may come from a non-registry tarball URL.
    pub allow_tarball: Vec<PackageSpec>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            upstream: NPM_REGISTRY.into(),
            upstream_configured: false,
            allowed: vec![NPM_REGISTRY.into(), YARN_REGISTRY.into()],
            allow_git: Vec::new(),
            allow_tarball: Vec::new(),
        }
    }
}

/// A registry URL as a prefix: with a trailing slash, so that
/// `https://registry.npmjs.org` does not also allow `https://registry.npmjs.org.evil.test/`.
fn as_prefix(url: &str) -> String {
    let trimmed = url.trim();
    if trimmed.ends_with('/') {
        trimmed.to_string()
    } else {
        format!("{trimmed}/")
    }
}

fn valid_url(url: &str) -> bool {
    (url.starts_with("https://") || url.starts_with("http://"))
        && url
            .split_once("://")
            .is_some_and(|(_, rest)| !rest.trim_matches('/').is_empty())
        && !url.contains(char::is_whitespace)
}

pub(crate) fn validate(raw: &RawRegistry, validator: &mut Validator<'_>) -> Config {
    let mut config = Config::default();
    if let Some(upstream) = &raw.upstream {
        if valid_url(upstream.get_ref()) {
            config.upstream = as_prefix(upstream.get_ref());
            config.upstream_configured = true;
        } else {
            validator.error(
                &upstream.span(),
                format!("`upstream = \"{}\"` is not an http(s) URL", upstream.get_ref()),
                None,
            );
        }
    }
    if let Some(allowed) = &raw.allowed {
        config.allowed.clear();
        for url in allowed {
            if valid_url(url.get_ref()) {
                config.allowed.push(as_prefix(url.get_ref()));
            } else {
                validator.error(
                    &url.span(),
                    format!("`{}` in `allowed` is not an http(s) URL", url.get_ref()),
                    Some("write the registry's base URL, e.g. \"https://registry.npmjs.org/\""),
                );
            }
        }
    }
    // The upstream is where the firewall fetches from: always an allowed source.
    if !config.allowed.contains(&config.upstream) {
        config.allowed.push(config.upstream.clone());
    }
    config.allow_git = validator.specs("registry.allow-git", &raw.allow_git);
    config.allow_tarball = validator.specs("registry.allow-tarball", &raw.allow_tarball);
    config
}
