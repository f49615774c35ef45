//! `palisade verify`: is what we install what the author published?
//!
//! Per registry package of the inventory: the lockfile integrity against the registry's
//! `dist.integrity`, the registry signature (`dist.signatures`), the Sigstore attestations
//! (when the registry lists them), and provenance/publisher downgrades. All judging is in
//! palisade-verify; fetching (and caching) is palisade-registry's.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use palisade_core::{Inventory, PackageId, Severity, SourceKind};
use palisade_registry::{NpmrcConfig, PackumentKind, RegistryClient};
use palisade_verify::downgrade::{analyze_version, DowngradeOptions, Packument};
use palisade_verify::signature::verify_registry_signatures;
use palisade_verify::{verify_attestations, Integrity, RegistryKeys, TrustedRoot, VerifyContext, VerifyReport};
use time::format_description::well_known::Rfc3339;

use crate::args::{ReportFormat, VerifyArgs};
use crate::exit::{CliError, Outcome};
use crate::input;
use crate::render::{stdout, Table};

pub fn run(args: &VerifyArgs, home: &Path) -> Result<Outcome, CliError> {
    let inventories = input::load(&args.input)?;
    let client = client(args, home)?;
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
    let packages = registry_packages(&inventories);
    let context = VerifyContext {
        trusted_root: &root,
        registry_keys: keys.as_ref().unwrap_or(&EMPTY_KEYS),
    };

    // Network-bound: a few workers, each with its own report, merged in package order.
    let workers = std::thread::available_parallelism().map_or(4, |n| n.get()).clamp(2, 8);
    let chunk = packages.len().div_ceil(workers).max(1);
    let partials: Vec<VerifyReport> = std::thread::scope(|scope| {
        let handles: Vec<_> = packages
            .chunks(chunk)
            .map(|chunk| {
                let client = &client;
                let keys = keys.as_ref();
                scope.spawn(move || {
                    let mut report = VerifyReport::default();
                    for (package, lockfile_integrity) in chunk {
                        verify_one(
                            client,
                            keys,
                            context,
                            package,
                            lockfile_integrity.as_deref(),
                            &mut report,
                        );
                    }
                    report
                })
            })
            .collect();
        handles.into_iter().filter_map(|handle| handle.join().ok()).collect()
    });
    let mut report = VerifyReport::default();
    for partial in partials {
        let s = partial.summary;
        report.summary.signatures_verified += s.signatures_verified;
        report.summary.signatures_invalid += s.signatures_invalid;
        report.summary.signatures_missing += s.signatures_missing;
        report.summary.attestations_verified += s.attestations_verified;
        report.summary.attestations_invalid += s.attestations_invalid;
        report.summary.attestations_missing += s.attestations_missing;
        report.findings.extend(partial.findings);
    }

    let mut out = stdout();
    match args.format {
        ReportFormat::Json | ReportFormat::Sarif => {
            if args.format == ReportFormat::Sarif {
                tracing::warn!("SARIF output for `verify` is not implemented yet; writing JSON");
            }
            serde_json::to_writer_pretty(&mut out, &report).map_err(CliError::internal)?;
            writeln!(out).map_err(CliError::internal)?;
        }
        ReportFormat::Table => render_table(&mut out, &report).map_err(CliError::internal)?,
    }
    out.flush().map_err(CliError::internal)?;
    let failing = report.max_severity().is_some_and(|severity| severity >= args.fail_on);
    Ok(if failing { Outcome::Findings } else { Outcome::Clean })
}

static EMPTY_KEYS: std::sync::LazyLock<RegistryKeys> = std::sync::LazyLock::new(RegistryKeys::default);

fn client(args: &VerifyArgs, home: &Path) -> Result<RegistryClient, CliError> {
    let project: PathBuf = match args.input.path.as_deref() {
        Some(path) if path.is_file() => path.parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf),
        Some(path) => path.to_path_buf(),
        None => PathBuf::from("."),
    };
    let npmrc = NpmrcConfig::load(&project).map_err(CliError::input)?;
    let mut builder = RegistryClient::builder()
        .npmrc(npmrc)
        .cache_dir(palisade_registry::default_cache_dir(home))
        .offline(args.offline);
    if let Some(registry) = &args.registry {
        builder = builder.registry(registry.clone());
    }
    builder.build().map_err(CliError::input)
}

/// The registry keys from `--keys FILE` or the registry. `None` when the registry does not
/// publish them (mirrors): signatures are then not checked rather than all reported invalid.
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
        Err(error) => {
            tracing::warn!("registry signing keys unavailable ({error}); registry signatures are not checked");
            Ok(None)
        }
    }
}

/// Unique registry packages with the lockfile's integrity.
fn registry_packages(inventories: &[Inventory]) -> Vec<(PackageId, Option<String>)> {
    let mut seen = BTreeSet::new();
    let mut packages = Vec::new();
    for package in inventories.iter().flat_map(|inventory| &inventory.packages) {
        if package.source != SourceKind::Registry {
            continue;
        }
        if seen.insert((package.name.clone(), package.version.clone())) {
            packages.push((
                PackageId::new(&package.name, &package.version),
                package.integrity.clone(),
            ));
        }
    }
    packages
}

fn verify_one(
    client: &RegistryClient,
    keys: Option<&RegistryKeys>,
    context: VerifyContext<'_>,
    package: &PackageId,
    lockfile_integrity: Option<&str>,
    report: &mut VerifyReport,
) {
    let packument: Packument = match client
        .packument_bytes(&package.name, PackumentKind::Full)
        .map_err(|error| error.to_string())
        .and_then(|fetched| serde_json::from_slice(&fetched.body).map_err(|error| error.to_string()))
    {
        Ok(packument) => packument,
        Err(error) => {
            tracing::warn!("{package}: packument unavailable, not verified: {error}");
            return;
        }
    };
    let Some(manifest) = packument.versions.get(&package.version) else {
        tracing::warn!("{package}: the registry does not list this version");
        return;
    };
    let registry_integrity = manifest.dist.integrity.clone();

    // Lockfile integrity against the registry's.
    let lockfile = lockfile_integrity.and_then(|text| Integrity::parse(text).ok());
    match (
        &lockfile,
        registry_integrity
            .as_deref()
            .and_then(|text| Integrity::parse(text).ok()),
    ) {
        (None, _) => report.record_integrity(package, None),
        (Some(lockfile), Some(registry)) if lockfile.agrees_with(&registry) == Some(false) => {
            report.record_integrity(
                package,
                Some(&palisade_verify::IntegrityOutcome::Mismatch {
                    algorithm: registry
                        .strongest()
                        .unwrap_or(palisade_verify::integrity::Algorithm::Sha512),
                    expected: registry_integrity.clone().unwrap_or_default(),
                    actual: lockfile_integrity.unwrap_or_default().to_owned(),
                }),
            );
        }
        _ => {}
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

    report.record_downgrades(analyze_version(
        &packument,
        &package.version,
        &DowngradeOptions::default(),
    ));
}

fn render_table(out: &mut impl Write, report: &VerifyReport) -> std::io::Result<()> {
    let s = report.summary;
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
