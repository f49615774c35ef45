//! Getting package bytes for `palisade scan` and `palisade diff`: registry targets, lockfile
//! entries (by resolved URL, checked against the lockfile integrity), and the registry client.

use std::path::Path;

use anyhow::{anyhow, Context};
use palisade_core::{Inventory, SourceKind};
use palisade_registry::{Integrity, NpmrcConfig, RegistryClient, RegistryError, VersionManifest};
use palisade_tarball::Limits;

use crate::exit::CliError;

/// What every job may need.
pub struct Settings<'a> {
    pub client: Option<&'a RegistryClient>,
    pub zip_password: Option<&'a str>,
    pub against_previous: bool,
    pub limits: Limits,
}

/// The registry client: the working directory's .npmrc (and the user's), `--registry`,
/// tarballs cached by integrity under PALISADE_HOME, npm's own cache as a read-only source.
pub fn client(registry: Option<&str>, offline: bool, home: &Path) -> Result<RegistryClient, CliError> {
    let npmrc = NpmrcConfig::load(Path::new(".")).map_err(CliError::input)?;
    let mut builder = RegistryClient::builder()
        .npmrc(npmrc)
        .cache_dir(palisade_registry::default_cache_dir(home))
        .offline(offline);
    if let Some(dir) = npm_cache_dir() {
        builder = builder.npm_cache_dir(dir);
    }
    if let Some(registry) = registry {
        builder = builder.registry(registry.to_string());
    }
    builder.build().map_err(CliError::input)
}

/// npm's content cache (`$npm_config_cache/_cacache`, else `~/.npm/_cacache`).
fn npm_cache_dir() -> Option<std::path::PathBuf> {
    if let Some(dir) = std::env::var_os("npm_config_cache").filter(|dir| !dir.is_empty()) {
        return Some(std::path::PathBuf::from(dir).join("_cacache"));
    }
    dirs::home_dir().map(|home| home.join(".npm").join("_cacache"))
}

/// `name`, `name@version`, `@scope/name@tag` → (name, requested). `None` when it is not a
/// valid npm package name.
pub fn parse_spec(text: &str) -> Option<(String, Option<String>)> {
    let split = if let Some(rest) = text.strip_prefix('@') {
        rest.find('@').map(|at| at + 1)
    } else {
        text.find('@')
    };
    let (name, requested) = match split {
        Some(at) => (&text[..at], Some(&text[at + 1..])),
        None => (text, None),
    };
    palisade_registry::escape_package_name(name).ok()?;
    let requested = requested.filter(|r| !r.is_empty()).map(str::to_string);
    Some((name.to_string(), requested))
}

/// A registry package's tarball and version document.
pub struct Fetched {
    pub tarball: Vec<u8>,
    /// `name@version`.
    pub origin: String,
    pub version: String,
    /// The version document as JSON (for manifest-confusion checks).
    pub manifest: serde_json::Value,
    /// With `--against-previous`: the version published before, when there is one.
    pub previous: Option<PreviousTarball>,
}

pub struct PreviousTarball {
    pub version: String,
    pub tarball: Vec<u8>,
    /// Its version document, for the diff's manifest checks.
    pub manifest: serde_json::Value,
}

/// Resolves `requested` (none = `latest`; an exact version, a dist-tag or a semver range) and
/// fetches the tarball, checked against the registry's integrity.
pub fn registry_package(
    client: &RegistryClient,
    name: &str,
    requested: Option<&str>,
    settings: &Settings<'_>,
) -> anyhow::Result<Fetched> {
    let exact = requested.filter(|r| nodejs_semver::Version::parse(r).is_ok());
    let (manifest, packument) = match exact {
        // One small document is enough.
        Some(version) if !settings.against_previous => (client.version_document(name, version)?, None),
        _ => {
            let packument = client.packument(name)?;
            let manifest = resolve(&packument, requested)
                .ok_or_else(|| {
                    anyhow!(
                        "the registry has no version of `{name}` matching `{}`",
                        requested.unwrap_or("latest")
                    )
                })?
                .clone();
            (manifest, Some(packument))
        }
    };
    let version = manifest.version.clone();
    let tarball = tarball_of(client, &manifest).with_context(|| format!("{name}@{version}"))?;
    let previous = match (&packument, settings.against_previous) {
        (Some(packument), true) => match packument.previous_published(&version) {
            Some(before) => Some(PreviousTarball {
                version: before.version.clone(),
                tarball: tarball_of(client, before).with_context(|| format!("{name}@{}", before.version))?,
                manifest: serde_json::to_value(before)?,
            }),
            None => {
                eprintln!("note: {name}@{version}: no earlier version by publish time; nothing to diff against");
                None
            }
        },
        _ => None,
    };
    Ok(Fetched {
        tarball,
        origin: format!("{name}@{version}"),
        version,
        manifest: serde_json::to_value(&manifest)?,
        previous,
    })
}

/// The version a request names: `latest` when none, else an exact version or a dist-tag, else
/// the highest version satisfying a range (prereleases only when the range names one).
pub fn resolve<'a>(
    packument: &'a palisade_registry::Packument,
    requested: Option<&str>,
) -> Option<&'a VersionManifest> {
    let requested = requested.unwrap_or("latest");
    if let Some(manifest) = packument.version_or_tag(requested) {
        return Some(manifest);
    }
    let range = nodejs_semver::Range::parse(requested).ok()?;
    packument
        .versions
        .values()
        .filter_map(|manifest| Some((nodejs_semver::Version::parse(&manifest.version).ok()?, manifest)))
        .filter(|(version, _)| range.satisfies(version))
        .max_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, manifest)| manifest)
}

/// A version's tarball, checked against its `dist.integrity` (or legacy `shasum`).
pub fn tarball_of(client: &RegistryClient, manifest: &VersionManifest) -> anyhow::Result<Vec<u8>> {
    if manifest.dist.tarball.is_empty() {
        return Err(anyhow!("the registry lists no tarball"));
    }
    let integrity = match (&manifest.dist.integrity, &manifest.dist.shasum) {
        (Some(sri), _) => Some(Integrity::parse(sri)?),
        (None, Some(shasum)) => Some(Integrity::from_hex_sha1(shasum)?),
        (None, None) => None,
    };
    Ok(client.tarball(&manifest.dist.tarball, integrity.as_ref())?)
}

/// One package of a lockfile to fetch and scan.
#[derive(Debug, Clone)]
pub struct LockedPackage {
    pub name: String,
    pub version: String,
    /// An http(s) URL, or `None` for registry packages whose lockfile leaves it out (pnpm, bun,
    /// npm with `omit-lockfile-registry-resolved`): the registry's conventional URL is used.
    pub resolved: Option<String>,
    pub integrity: Option<String>,
    pub lockfile: String,
    pub line: Option<u32>,
}

/// The registry and tarball-URL packages of an inventory (deduplicated), and how many others
/// (git, file, link, bundled inside a parent) were left out.
pub fn locked_packages(inventory: &Inventory) -> (Vec<LockedPackage>, usize) {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    let mut skipped = 0;
    for package in &inventory.packages {
        let url = package
            .resolved
            .as_deref()
            .filter(|url| url.starts_with("https://") || url.starts_with("http://"));
        let fetchable = !package.bundled
            && match package.source {
                SourceKind::Registry => true,
                SourceKind::Tarball => url.is_some(),
                _ => false,
            };
        if !fetchable {
            skipped += 1;
            continue;
        }
        if !seen.insert((package.name.clone(), package.version.clone())) {
            continue;
        }
        out.push(LockedPackage {
            name: package.name.clone(),
            version: package.version.clone(),
            resolved: url.map(str::to_string),
            integrity: package.integrity.clone(),
            lockfile: inventory.lockfile.trim_start_matches("./").to_string(),
            line: package.line,
        });
    }
    (out, skipped)
}

pub enum LockedError {
    /// The bytes do not match the lockfile's integrity.
    Integrity(String),
    Other(String),
}

/// A lockfile package's tarball, fetched by its resolved URL (else the registry's conventional
/// one) and only returned when it matches the lockfile integrity.
pub fn locked_tarball(client: &RegistryClient, package: &LockedPackage) -> Result<Vec<u8>, LockedError> {
    let integrity = match package.integrity.as_deref().map(Integrity::parse).transpose() {
        Ok(integrity) => integrity,
        Err(error) => return Err(LockedError::Other(format!("unreadable lockfile integrity: {error}"))),
    };
    let url = match &package.resolved {
        Some(url) => url.clone(),
        None => conventional_url(client, &package.name, &package.version),
    };
    if integrity.is_none() {
        tracing::warn!(
            "{}@{}: no integrity in the lockfile; scanning what the registry serves",
            package.name,
            package.version
        );
    }
    match client.tarball(&url, integrity.as_ref()) {
        Ok(bytes) => Ok(bytes),
        Err(RegistryError::Integrity { url, source }) => Err(LockedError::Integrity(format!("{url}: {source}"))),
        Err(error) => Err(LockedError::Other(error.to_string())),
    }
}

/// `<registry>/<name>/-/<basename>-<version>.tgz`, how npm registries lay tarballs out.
fn conventional_url(client: &RegistryClient, name: &str, version: &str) -> String {
    let registry = client.registry_for(name).as_str().trim_end_matches('/').to_string();
    let basename = name.rsplit('/').next().unwrap_or(name);
    format!("{registry}/{name}/-/{basename}-{version}.tgz")
}

/// `--against-previous`: the analyzer's diff of the previous version against this one.
pub fn previous_diff(
    previous: &PreviousTarball,
    current: &palisade_tarball::PackageContents,
    current_options: &palisade_analyze::ScanOptions,
    limits: &Limits,
) -> anyhow::Result<super::Previous> {
    let old = palisade_tarball::read_tgz(&previous.tarball, &previous.version, limits)?;
    let options = palisade_analyze::diff::DiffOptions {
        from: palisade_analyze::ScanOptions {
            registry_manifest: Some(previous.manifest.clone()),
        },
        to: current_options.clone(),
    };
    let outcome = crate::commands::diff::diff_contents(&old, current, &options);
    Ok(super::Previous {
        version: previous.version.clone(),
        high_risk: outcome.high_risk,
        diff: outcome.report,
    })
}

#[cfg(test)]
mod tests {
    use super::parse_spec;

    #[test]
    fn specs() {
        assert_eq!(parse_spec("left-pad"), Some(("left-pad".into(), None)));
        assert_eq!(
            parse_spec("left-pad@1.3.0"),
            Some(("left-pad".into(), Some("1.3.0".into())))
        );
        assert_eq!(
            parse_spec("@types/node@^20"),
            Some(("@types/node".into(), Some("^20".into())))
        );
        assert_eq!(parse_spec("@types/node"), Some(("@types/node".into(), None)));
        assert_eq!(parse_spec("../etc/passwd"), None);
        assert_eq!(parse_spec("a b"), None);
    }
}
