//! `palisade verify`: is what we install what the author published?
//!
//! Per registry package of the inventory: the tarball's bytes against the lockfile's (or SBOM's)
//! integrity, that integrity against the registry's `dist.integrity`, the `resolved` URL
//! against palisade.toml `[registry] allowed`, the registry signature (`dist.signatures`), the
//! Sigstore attestations (when the registry lists them; required for `[provenance] require`),
//! and provenance/publisher downgrades. All judging is in palisade-verify; fetching (and
//! caching) is palisade-registry's; the policy file is palisade-policy's.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};

use palisade_core::{Inventory, PackageId, Severity, SourceKind};
use palisade_policy::{config, Config, PackageSpec};
use palisade_registry::{IntegrityError, NpmrcConfig, PackumentKind, RegistryClient, RegistryError};
use palisade_verify::downgrade::{analyze_version, DowngradeOptions, Packument};
use palisade_verify::signature::verify_registry_signatures;
use palisade_verify::{
    verify_attestations, AttestationStatus, Integrity, RegistryKeys, TarballCheck, TrustedRoot, VerifyContext,
    VerifyReport,
};
use time::format_description::well_known::Rfc3339;

use crate::args::{ReportFormat, VerifyArgs};
use crate::exit::{CliError, Outcome};
use crate::input;
use crate::render::{sarif, stdout, Table};

/// One registry package to verify, with where it was declared (for SARIF locations).
struct Entry {
    id: PackageId,
    integrity: Option<String>,
    resolved: Option<String>,
    lockfile: String,
    line: Option<u32>,
    /// Inside its parent's tarball (`bundleDependencies`): the parent's integrity covers it.
    bundled: bool,
    /// yarn berry's `checksum` pins the content, but hashes yarn's zip, not the tarball.
    berry_checksum: bool,
}

/// What palisade.toml and the input kind decide for every package.
struct Settings<'a> {
    /// `lockfile` or `SBOM`: whose integrity is being checked, for messages.
    origin: &'static str,
    allowed: &'a [String],
    require: &'a [PackageSpec],
    no_downgrade: bool,
}

pub fn run(args: &VerifyArgs, home: &Path) -> Result<Outcome, CliError> {
    let inventories = input::load(&args.input)?;
    let project = project_dir(args);
    let config = load_config(&project)?;
    let client = client(args, home, &project)?;
    let keys = registry_keys(args, &client)?;
    let root = match &args.trusted_root {
        Some(file) => {
            let bytes = std::fs::read(file)
                .map_err(|error| CliError::input(anyhow::anyhow!("failed to read `{}`: {error}", file.display())))?;
            TrustedRoot::from_json(&bytes).map_err(|error| {
                CliError::input(anyhow::anyhow!(
                    "failed to read trusted root `{}`: {error}",
                    file.display()
                ))
            })?
        }
        None => TrustedRoot::embedded().map_err(CliError::internal)?,
    };
    let entries = registry_packages(&inventories);
    let context = VerifyContext {
        trusted_root: &root,
        registry_keys: keys.as_ref().unwrap_or(&EMPTY_KEYS),
    };
    let settings = Settings {
        origin: if args.input.sbom.is_some() { "SBOM" } else { "lockfile" },
        allowed: &config.registry.allowed,
        require: &config.provenance.require,
        no_downgrade: config.provenance.no_downgrade,
    };

    // Network-bound (packuments, attestations, tarballs): a bounded pool of workers, each with
    // its own report, merged in package order.
    let workers = std::thread::available_parallelism().map_or(4, |n| n.get()).clamp(2, 8);
    let chunk = entries.len().div_ceil(workers).max(1);
    let partials: Vec<VerifyReport> = std::thread::scope(|scope| {
        let handles: Vec<_> = entries
            .chunks(chunk)
            .map(|chunk| {
                let client = &client;
                let keys = keys.as_ref();
                let settings = &settings;
                scope.spawn(move || {
                    let mut report = VerifyReport::default();
                    for entry in chunk {
                        verify_one(client, keys, context, settings, entry, &mut report);
                    }
                    report
                })
            })
            .collect();
        handles.into_iter().filter_map(|handle| handle.join().ok()).collect()
    });
    let mut report = VerifyReport::default();
    for partial in partials {
        report.summary.add(&partial.summary);
        report.findings.extend(partial.findings);
    }
    if report.summary.integrity_unchecked > 0 {
        let why = if args.offline {
            "not in the Palisade or npm cache (offline)"
        } else {
            "could not be read from the caches or the registry"
        };
        eprintln!(
            "warning: {} tarball(s) {why}: integrity NOT checked",
            report.summary.integrity_unchecked
        );
    }

    let mut out = stdout();
    match args.format {
        ReportFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &report).map_err(CliError::internal)?;
            writeln!(out).map_err(CliError::internal)?;
        }
        ReportFormat::Sarif => {
            let document = sarif_document(&report, &entries);
            serde_json::to_writer_pretty(&mut out, &document).map_err(CliError::internal)?;
            writeln!(out).map_err(CliError::internal)?;
        }
        ReportFormat::Table => render_table(&mut out, &report).map_err(CliError::internal)?,
    }
    out.flush().map_err(CliError::internal)?;
    let failing = report.max_severity().is_some_and(|severity| severity >= args.fail_on);
    Ok(if failing { Outcome::Findings } else { Outcome::Clean })
}

static EMPTY_KEYS: std::sync::LazyLock<RegistryKeys> = std::sync::LazyLock::new(RegistryKeys::default);

/// The project directory: where .npmrc and palisade.toml are looked for.
fn project_dir(args: &VerifyArgs) -> PathBuf {
    let given = args.input.path.as_deref().or(args.input.sbom.as_deref());
    match given {
        Some(path) if path.is_file() => path
            .parent()
            .filter(|parent| !parent.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf),
        Some(path) => path.to_path_buf(),
        None => PathBuf::from("."),
    }
}

/// palisade.toml of the project (or a parent), through palisade-policy's loader so errors
/// point at the line; the default policy when there is none.
fn load_config(project: &Path) -> Result<Config, CliError> {
    match config::find(project) {
        Some(path) => {
            let config = Config::load(&path).map_err(|error| {
                CliError::input(error)
                    .with_hint("see docs/check.md for every key; `palisade init` writes a commented file")
            })?;
            tracing::info!("policy from {}", path.display());
            Ok(config)
        }
        None => Ok(Config::default()),
    }
}

/// npm's content cache: `$npm_config_cache/_cacache`, else `~/.npm/_cacache` (npm's default;
/// `%LocalAppData%/npm-cache` on Windows).
fn npm_cache_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("npm_config_cache").filter(|dir| !dir.is_empty()) {
        return Some(PathBuf::from(dir).join("_cacache"));
    }
    if cfg!(windows) {
        return dirs::data_local_dir().map(|dir| dir.join("npm-cache").join("_cacache"));
    }
    dirs::home_dir().map(|home| home.join(".npm").join("_cacache"))
}

fn client(args: &VerifyArgs, home: &Path, project: &Path) -> Result<RegistryClient, CliError> {
    let npmrc = NpmrcConfig::load(project).map_err(CliError::input)?;
    let mut builder = RegistryClient::builder()
        .npmrc(npmrc)
        .cache_dir(palisade_registry::default_cache_dir(home))
        .offline(args.offline);
    if let Some(dir) = npm_cache_dir() {
        builder = builder.npm_cache_dir(dir);
    }
    if let Some(registry) = &args.registry {
        builder = builder.registry(registry.clone());
    }
    builder.build().map_err(CliError::input)
}

/// The registry keys from `--keys FILE`, the registry (cached), or else the npm keys shipped
/// in the binary (offline, or a mirror without `/-/npm/v1/keys`). `None` only when even the
/// shipped keys are unusable.
fn registry_keys(args: &VerifyArgs, client: &RegistryClient) -> Result<Option<RegistryKeys>, CliError> {
    if let Some(file) = &args.keys {
        let bytes = std::fs::read(file)
            .map_err(|error| CliError::input(anyhow::anyhow!("failed to read `{}`: {error}", file.display())))?;
        return RegistryKeys::from_json(&bytes)
            .map(Some)
            .map_err(|error| CliError::input(anyhow::anyhow!("failed to read keys `{}`: {error}", file.display())));
    }
    match client.signing_keys() {
        Ok(keys) => {
            let entries: Vec<serde_json::Value> = keys
                .keys
                .iter()
                .map(|key| {
                    serde_json::json!({
                        "keyid": key.keyid,
                        "keytype": key.keytype,
                        "key": key.key,
                        "expires": key.expires.and_then(|t| t.format(&Rfc3339).ok()),
                    })
                })
                .collect();
            let document = serde_json::json!({ "keys": entries });
            let bytes = serde_json::to_vec(&document).map_err(CliError::internal)?;
            RegistryKeys::from_json(&bytes)
                .map(Some)
                .map_err(|error| CliError::input(anyhow::anyhow!("the registry's signing keys are unusable: {error}")))
        }
        Err(error) => match RegistryKeys::npm_public() {
            Ok(keys) => {
                eprintln!(
                    "note: the registry's signing keys are unavailable ({error}); using the npm registry keys shipped with palisade"
                );
                Ok(Some(keys))
            }
            Err(shipped) => {
                tracing::warn!(
                    "registry signing keys unavailable ({error}) and the shipped keys are unusable ({shipped}); registry signatures are not checked"
                );
                Ok(None)
            }
        },
    }
}

/// Unique registry packages with the lockfile's integrity and where they were declared.
fn registry_packages(inventories: &[Inventory]) -> Vec<Entry> {
    let mut seen = BTreeSet::new();
    let mut entries = Vec::new();
    for inventory in inventories {
        for package in &inventory.packages {
            if package.source != SourceKind::Registry {
                continue;
            }
            if seen.insert((package.name.clone(), package.version.clone())) {
                entries.push(Entry {
                    id: PackageId::new(&package.name, &package.version),
                    integrity: package.integrity.clone(),
                    resolved: package.resolved.clone(),
                    lockfile: inventory.lockfile.clone(),
                    line: package.line,
                    bundled: package.bundled,
                    berry_checksum: package.checksum.is_some(),
                });
            }
        }
    }
    entries
}

fn verify_one(
    client: &RegistryClient,
    keys: Option<&RegistryKeys>,
    context: VerifyContext<'_>,
    settings: &Settings<'_>,
    entry: &Entry,
    report: &mut VerifyReport,
) {
    let package = &entry.id;
    let origin = settings.origin;
    // What the lockfile says, checked before anything is fetched.
    let ours = entry.integrity.as_deref().filter(|text| Integrity::parse(text).is_ok());
    if ours.is_none() && !entry.bundled && !entry.berry_checksum {
        report.record_integrity_missing(package, origin);
    }
    // pnpm and bun leave `resolved` out for the configured registry, and yarn berry writes a
    // locator, not a URL: only URLs are compared (as `palisade check`'s sources check does).
    let resolved_url = entry
        .resolved
        .as_deref()
        .filter(|url| url.starts_with("https://") || url.starts_with("http://"));
    let resolved_allowed =
        resolved_url.is_none_or(|url| settings.allowed.iter().any(|prefix| url.starts_with(prefix.as_str())));
    if let (Some(url), false) = (resolved_url, resolved_allowed) {
        report.record_resolved_not_allowed(package, url, settings.allowed);
    }
    let required = settings
        .require
        .iter()
        .find(|spec| spec.matches(&package.name, &package.version));

    let packument: Packument = match client
        .packument_bytes(&package.name, PackumentKind::Full)
        .map_err(|error| error.to_string())
        .and_then(|fetched| serde_json::from_slice(&fetched.body).map_err(|error| error.to_string()))
    {
        Ok(packument) => packument,
        Err(error) => {
            tracing::warn!("{package}: packument unavailable, not verified: {error}");
            if let Some(spec) = required {
                report.record_provenance_required(package, &spec.text, "its packument is unavailable");
            }
            if let Some(integrity) = ours.filter(|_| resolved_allowed) {
                // The tarball can still come from a cache (or the lockfile's allowed URL).
                check_tarball(client, entry, resolved_url, integrity, origin, report);
            } else if ours.is_some() {
                report.record_tarball(package, origin, &unchecked("no tarball URL"));
            }
            return;
        }
    };
    let Some(manifest) = packument.versions.get(&package.version) else {
        tracing::warn!("{package}: the registry does not list this version");
        if let Some(spec) = required {
            report.record_provenance_required(package, &spec.text, "the registry does not list this version");
        }
        if ours.is_some() {
            report.record_tarball(package, origin, &unchecked("version not in the registry"));
        }
        return;
    };
    let registry_integrity = manifest.dist.integrity.clone();

    // The lockfile's integrity against the registry's: when they disagree, fetching the tarball
    // proves nothing more (the registry would serve its own), so that is the finding.
    let registry_parsed = registry_integrity
        .as_deref()
        .and_then(|text| Integrity::parse(text).ok());
    let disagrees = match (ours.and_then(|text| Integrity::parse(text).ok()), &registry_parsed) {
        (Some(lockfile), Some(registry)) => lockfile.agrees_with(registry) == Some(false),
        _ => false,
    };
    if let Some(integrity) = ours {
        if disagrees {
            report.record_registry_disagreement(
                package,
                origin,
                integrity,
                registry_integrity.as_deref().unwrap_or_default(),
            );
        } else {
            // The registry's tarball URL (what a mirror-configured npm fetches); the lockfile's
            // only when the registry gives none and it is an allowed one.
            let url = manifest
                .dist
                .tarball
                .as_deref()
                .or(resolved_url.filter(|_| resolved_allowed));
            check_tarball(client, entry, url, integrity, origin, report);
        }
    }

    // Registry signature.
    if let (Some(keys), Some(integrity)) = (keys, registry_integrity.as_deref()) {
        let outcome = verify_registry_signatures(
            &package.name,
            &package.version,
            integrity,
            &manifest.dist.signatures,
            packument.published(&package.version),
            keys,
        );
        report.record_signature(package, &outcome);
    }

    // Attestations, when the registry says there are some.
    let mut provenance_verified = false;
    if manifest.dist.attestations.is_some() {
        match client.attestations(&package.name, &package.version) {
            Ok(attestations) => match serde_json::to_vec(&attestations) {
                Ok(bytes) => {
                    let outcome = verify_attestations(
                        &bytes,
                        &package.name,
                        &package.version,
                        registry_integrity.as_deref().unwrap_or_default(),
                        context,
                    );
                    provenance_verified = outcome.status == AttestationStatus::Verified;
                    report.record_attestations(package, &outcome);
                }
                Err(error) => tracing::warn!("{package}: {error}"),
            },
            Err(error) => {
                tracing::warn!("{package}: attestations listed but unavailable: {error}");
                report.record_attestations(package, &palisade_verify::AttestationsOutcome::missing());
            }
        }
    } else {
        report.record_attestations(package, &palisade_verify::AttestationsOutcome::missing());
    }
    if let (Some(spec), false) = (required, provenance_verified) {
        let why = if manifest.dist.attestations.is_some() {
            "its attestations did not verify"
        } else {
            "the registry lists no attestations for it"
        };
        report.record_provenance_required(package, &spec.text, why);
    }

    if settings.no_downgrade {
        report.record_downgrades(analyze_version(
            &packument,
            &package.version,
            &DowngradeOptions::default(),
        ));
    }
}

fn unchecked(reason: &str) -> TarballCheck {
    TarballCheck::Unchecked {
        reason: reason.to_owned(),
    }
}

/// The tarball's bytes (Palisade's content cache, npm's `_cacache`, then `url` unless offline)
/// against `integrity`. The client returns cached bytes only when they match, so a tampered
/// cache entry is a miss, and a fetched tarball that does not match is the mismatch.
fn check_tarball(
    client: &RegistryClient,
    entry: &Entry,
    url: Option<&str>,
    integrity: &str,
    origin: &str,
    report: &mut VerifyReport,
) {
    let package = &entry.id;
    let Ok(parsed) = palisade_registry::Integrity::parse(integrity) else {
        // palisade-verify accepted it; the registry crate's parser is the stricter one.
        report.record_tarball(package, origin, &unchecked("integrity not understood"));
        return;
    };
    // With no URL the caches can still answer: any URL works for a content-addressed lookup,
    // and offline nothing is fetched.
    let Some(url) = url else {
        report.record_tarball(package, origin, &unchecked("no tarball URL"));
        return;
    };
    let url = replace_registry_host(client, &package.name, url);
    let check = match client.tarball(&url, Some(&parsed)) {
        Ok(_) => TarballCheck::Verified,
        Err(RegistryError::Integrity {
            source:
                IntegrityError::Mismatch {
                    algorithm,
                    expected,
                    actual,
                },
            ..
        }) => TarballCheck::Mismatch {
            expected,
            actual: format!("{algorithm}-{actual}"),
        },
        Err(error) => {
            tracing::warn!("{package}: tarball unavailable, integrity not checked: {error}");
            unchecked(&error.to_string())
        }
    };
    report.record_tarball(package, origin, &check);
}

/// npm's `replace-registry-host` (default `npmjs`): a tarball URL on registry.npmjs.org is
/// fetched from the configured registry instead, so a mirror (or `--registry`) serves it.
/// https://docs.npmjs.com/cli/v10/using-npm/config#replace-registry-host
fn replace_registry_host(client: &RegistryClient, package_name: &str, url: &str) -> String {
    const NPMJS: &str = "https://registry.npmjs.org/";
    let registry = client.registry_for(package_name).as_str();
    match url.strip_prefix(NPMJS) {
        Some(rest) if registry != NPMJS => format!("{}/{rest}", registry.trim_end_matches('/')),
        _ => url.to_owned(),
    }
}

/// Code scanning resolves `uri` against the repository root: relative to the working
/// directory (where CI runs), forward slashes, no `./`.
fn relative_uri(file: &str) -> String {
    let path = Path::new(file);
    let relative = std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok())
        .filter(|relative| !relative.as_os_str().is_empty())
        .unwrap_or(path);
    relative.to_string_lossy().trim_start_matches("./").replace('\\', "/")
}

/// SARIF for code scanning: every finding points at the lockfile (or SBOM) and, when the
/// extractor kept it, the package's line.
fn sarif_document(report: &VerifyReport, entries: &[Entry]) -> serde_json::Value {
    let places: BTreeMap<&PackageId, (&str, Option<u32>)> = entries
        .iter()
        .map(|entry| (&entry.id, (entry.lockfile.as_str(), entry.line)))
        .collect();
    let rules: Vec<sarif::Rule> = palisade_verify::report::rules()
        .into_iter()
        .map(|rule| sarif::Rule {
            id: rule.id.to_owned(),
            short_description: rule.description.to_owned(),
            full_description: rule.description.to_owned(),
            help_uri: None,
            severity: rule.severity,
        })
        .collect();
    let findings: Vec<sarif::Finding> = report
        .findings
        .iter()
        .map(|finding| {
            let (uri, line) = places
                .get(&finding.package)
                .copied()
                .unwrap_or(("package-lock.json", None));
            sarif::Finding {
                rule_id: finding.rule.clone(),
                severity: finding.severity,
                message: format!("{}: {}", finding.package, finding.message),
                uri: relative_uri(uri),
                line,
                fingerprint: format!("{}/{}", finding.rule, finding.package),
            }
        })
        .collect();
    sarif::document(&rules, &findings)
}

fn render_table(out: &mut impl Write, report: &VerifyReport) -> std::io::Result<()> {
    let s = report.summary;
    writeln!(
        out,
        "integrity: {} verified, {} mismatched, {} unchecked",
        s.integrity_verified, s.integrity_mismatched, s.integrity_unchecked
    )?;
    writeln!(
        out,
        "signatures: {} verified, {} invalid, {} missing",
        s.signatures_verified, s.signatures_invalid, s.signatures_missing
    )?;
    writeln!(
        out,
        "attestations: {} verified, {} invalid, {} missing",
        s.attestations_verified, s.attestations_invalid, s.attestations_missing
    )?;
    if report.findings.is_empty() {
        return writeln!(out, "no findings");
    }
    let mut findings: Vec<_> = report.findings.iter().collect();
    findings.sort_by(|a, b| b.severity.cmp(&a.severity).then_with(|| a.package.cmp(&b.package)));
    let mut table = Table::new(["SEVERITY", "RULE", "PACKAGE", "MESSAGE"]);
    for finding in findings {
        table.row([
            severity_label(finding.severity).to_owned(),
            finding.rule.clone(),
            finding.package.to_string(),
            finding.message.clone(),
        ]);
    }
    table.write(out)
}

fn severity_label(severity: Severity) -> &'static str {
    severity.as_str()
}
