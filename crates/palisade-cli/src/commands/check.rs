//! `palisade check`: palisade.toml policy × project → diagnostics (the CI gate).

mod scan;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::anyhow;
use palisade_advisory::{AdvisoryMatch, Database};
use palisade_core::{Inventory, PackageId, Severity};
use palisade_policy::{config, Config, Diagnostic, Input, Level, RegistryScripts, Report};
use serde::Serialize;
use time::OffsetDateTime;

use crate::args::{CheckArgs, ReportFormat};
use crate::exit::{CliError, Outcome};
use crate::input;
use crate::render::{sarif, stdout};

/// The JSON document of `palisade check --format json` (docs/check.md).
#[derive(Serialize)]
struct CheckReport<'a> {
    /// The palisade.toml used; `null` when the defaults applied.
    config: Option<&'a str>,
    failed: bool,
    packages_checked: usize,
    errors: usize,
    warnings: usize,
    diagnostics: &'a [Diagnostic],
    install_scripts: &'a [palisade_policy::InstallScript],
    lockfiles: Vec<LockfileRef<'a>>,
    lockfile_warnings: Vec<&'a palisade_core::Warning>,
    /// With `--base-lockfile`: packages the base lockfile does not have.
    #[serde(skip_serializing_if = "Option::is_none")]
    new_packages: Option<&'a [PackageId]>,
}

#[derive(Serialize)]
struct LockfileRef<'a> {
    lockfile: &'a str,
    format: &'a str,
}

pub fn run(args: &CheckArgs, home: &Path) -> Result<Outcome, CliError> {
    let given = args.path.clone().unwrap_or_else(|| PathBuf::from("."));
    if !given.exists() {
        return Err(CliError::input(anyhow!("`{}` does not exist", given.display())));
    }
    // A lockfile as PATH means its project directory, with that lockfile.
    let (project_dir, mut lockfiles) = if given.is_file() {
        let parent = given
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        (parent, vec![given.clone()])
    } else {
        (given.clone(), Vec::new())
    };
    lockfiles.extend(args.lockfile.iter().cloned());

    let mut config = load_config(args, &project_dir)?;
    if let Some(fail_on) = args.fail_on {
        config.advisories.fail_on = fail_on;
    }

    if lockfiles.is_empty() {
        // No lockfile is a policy finding (`lockfile-missing`), not an input error.
        lockfiles = palisade_lockfile::find_lockfiles(&project_dir);
    }
    let inventories = lockfiles
        .iter()
        .map(|path| {
            palisade_lockfile::extract_file(path).map_err(|error| {
                CliError::input(error).with_hint("fix or regenerate the lockfile; see `palisade deps` for what is read")
            })
        })
        .collect::<Result<Vec<Inventory>, CliError>>()?;
    let manifests = palisade_policy::manifest::load_for(&project_dir, &inventories).map_err(CliError::input)?;

    let database = Database::open(home).map_err(|error| {
        CliError::input(error).with_hint(format!(
            "rebuild it with `palisade db sync` or `palisade db import`, or remove `{}`",
            home.display()
        ))
    })?;
    let mut advisories: Vec<Vec<AdvisoryMatch>> = Vec::with_capacity(inventories.len());
    for inventory in &inventories {
        let ids: Vec<PackageId> = inventory
            .packages
            .iter()
            .chain(&inventory.tooling)
            .map(|p| p.id())
            .collect();
        advisories.push(
            database.matches(&ids).map_err(|error| {
                CliError::internal(error).with_hint("run `palisade db sync` to rebuild the database")
            })?,
        );
    }
    let installed_scripts = palisade_policy::install_scripts::read_installed(&inventories);
    let registry = registry_data(args, &config, &project_dir, home, &inventories, &installed_scripts);

    let project = project_dir.display().to_string();
    let input = Input {
        project: &project,
        inventories: &inventories,
        advisories: &advisories,
        manifests: &manifests,
        installed_scripts: &installed_scripts,
        publish_times: registry
            .as_ref()
            .filter(|_| config.release_age.minimum.is_some())
            .map(|r| &r.times as &dyn palisade_policy::PublishTimes),
        registry_scripts: registry.as_ref().map(|r| &r.scripts),
        now: OffsetDateTime::now_utc(),
    };
    let mut report = palisade_policy::check(&config, &input);
    let base = scan::base_inventories(args.base_lockfile.as_deref(), args.base_ref.as_deref(), &lockfiles)?;
    let new_packages = base.as_ref().map(|base| scan::new_since(base, &inventories));
    if args.scan {
        let upstream = config
            .registry
            .upstream_configured
            .then_some(config.registry.upstream.as_str());
        let client = palisade_registry::client_for_project(&project_dir, home, upstream).map_err(|error| {
            CliError::input(error).with_hint("--scan fetches the new packages' tarballs from the registry")
        })?;
        let verdicts = scan::scan_packages(&client, &inventories, new_packages.as_deref());
        report.diagnostics.extend(palisade_policy::scan::diagnostics(&verdicts));
        // Same order as palisade_policy::check: errors first, then by code and package.
        report.diagnostics.sort_by(|a, b| {
            (std::cmp::Reverse(a.level), a.code, &a.package, &a.message).cmp(&(
                std::cmp::Reverse(b.level),
                b.code,
                &b.package,
                &b.message,
            ))
        });
        eprintln!(
            "note: scanned {} package(s){}",
            verdicts.len(),
            if new_packages.is_some() {
                " new or changed since the base"
            } else {
                ""
            }
        );
    }

    let mut out = stdout();
    match args.format {
        ReportFormat::Json => {
            let document = CheckReport {
                config: config.file.as_deref(),
                failed: report.failed(),
                packages_checked: report.packages_checked,
                errors: count(&report, Level::Error),
                warnings: count(&report, Level::Warning),
                diagnostics: &report.diagnostics,
                install_scripts: &report.install_scripts,
                lockfiles: inventories
                    .iter()
                    .map(|i| LockfileRef {
                        lockfile: &i.lockfile,
                        format: &i.format,
                    })
                    .collect(),
                lockfile_warnings: inventories.iter().flat_map(|i| &i.warnings).collect(),
                new_packages: new_packages.as_deref(),
            };
            serde_json::to_writer_pretty(&mut out, &document).map_err(CliError::internal)?;
            writeln!(out).map_err(CliError::internal)?;
        }
        ReportFormat::Sarif => {
            serde_json::to_writer_pretty(&mut out, &to_sarif(&report)).map_err(CliError::internal)?;
            writeln!(out).map_err(CliError::internal)?;
        }
        ReportFormat::Table => {
            render_table(&mut out, &report, &config, new_packages.as_deref()).map_err(CliError::internal)?
        }
    }
    out.flush().map_err(CliError::internal)?;

    let partial = input::report_warnings(&inventories, args.allow_partial);
    if partial && !args.allow_partial {
        return Ok(Outcome::Partial);
    }
    Ok(if report.failed() {
        Outcome::Findings
    } else {
        Outcome::Clean
    })
}

fn load_config(args: &CheckArgs, project_dir: &Path) -> Result<Config, CliError> {
    let path = match &args.config {
        Some(path) => Some(path.clone()),
        None => config::find(project_dir),
    };
    match path {
        Some(path) => {
            let path = relative_to_cwd(&path);
            let config = Config::load(&path).map_err(|error| {
                CliError::input(error)
                    .with_hint("see docs/check.md for every key; `palisade init` writes a commented file")
            })?;
            tracing::info!("policy from {}", path.display());
            Ok(config)
        }
        None => {
            eprintln!("note: no palisade.toml in `{}` or above; checking with the default policy (`palisade init` writes one)", project_dir.display());
            Ok(Config::default())
        }
    }
}

/// How many packuments are fetched at once.
const FETCH_THREADS: usize = 16;

/// What `palisade check` asks the registry: publish times for
/// `[release-age]` (the packuments' `time` maps) and, for lockfiles that do
/// not record install scripts, each version's `hasInstallScript`/`scripts`.
/// One packument fetch per name serves both, through the disk cache, from
/// `[registry] upstream` when palisade.toml sets it, else from the registry
/// the project's .npmrc names (what npm installs from). `None` (reported as
/// not checked, a visible warning) with `--offline`, when nothing needs the
/// registry, or when no client can be built; packages whose packument cannot
/// be fetched are listed as unchecked by the checks.
fn registry_data(
    args: &CheckArgs,
    config: &Config,
    project_dir: &Path,
    home: &Path,
    inventories: &[Inventory],
    installed: &BTreeMap<PackageId, BTreeMap<String, String>>,
) -> Option<RegistryData> {
    use palisade_core::SourceKind;
    use palisade_policy::install_scripts::needs_outside_evidence;
    if args.offline {
        return None;
    }
    let cooldown = config.release_age.minimum.is_some();
    let mut names: Vec<&str> = Vec::new();
    // Versions whose install scripts only the registry can tell, by name.
    let mut script_versions: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for inventory in inventories {
        for package in inventory.packages.iter().chain(&inventory.tooling) {
            if package.source != SourceKind::Registry {
                continue;
            }
            if cooldown
                && !config
                    .release_age
                    .exclude
                    .iter()
                    .any(|s| s.matches(&package.name, &package.version))
            {
                names.push(&package.name);
            }
            if needs_outside_evidence(&inventory.format, package.source)
                && !package.has_install_script
                && !installed.contains_key(&package.id())
            {
                names.push(&package.name);
                script_versions.entry(&package.name).or_default().push(&package.version);
            }
        }
    }
    if !cooldown && script_versions.is_empty() {
        return None;
    }
    names.sort_unstable();
    names.dedup();
    let upstream = config
        .registry
        .upstream_configured
        .then_some(config.registry.upstream.as_str());
    let client = match palisade_registry::client_for_project(project_dir, home, upstream) {
        Ok(client) => client,
        Err(error) => {
            eprintln!("warning: release age and install scripts not looked up: cannot use the registry: {error}");
            return None;
        }
    };
    if !names.is_empty() {
        tracing::info!(
            "fetching {} packuments from {} (publish times, install scripts)",
            names.len(),
            client.registry_url()
        );
    }
    type Fetched = (
        String,
        BTreeMap<String, OffsetDateTime>,
        Vec<(PackageId, RegistryScripts)>,
    );
    let fetch = || {
        use rayon::prelude::*;
        names
            .par_iter()
            .filter_map(|name| match client.packument(name) {
                Ok(packument) => {
                    let scripts = script_versions
                        .get(name)
                        .into_iter()
                        .flatten()
                        .filter_map(|version| {
                            let manifest = packument.versions.get(*version)?;
                            Some((
                                PackageId::new(*name, *version),
                                RegistryScripts::new(manifest.runs_install_scripts(), &manifest.scripts),
                            ))
                        })
                        .collect();
                    Some((name.to_string(), packument.time, scripts))
                }
                Err(error) => {
                    tracing::warn!("no registry data for {name}: {error}");
                    None
                }
            })
            .collect::<Vec<Fetched>>()
    };
    let fetched = match rayon::ThreadPoolBuilder::new().num_threads(FETCH_THREADS).build() {
        Ok(pool) => pool.install(fetch),
        Err(_) => fetch(),
    };
    let mut data = RegistryData {
        times: RegistryTimes { times: BTreeMap::new() },
        scripts: BTreeMap::new(),
    };
    for (name, times, scripts) in fetched {
        data.times.times.insert(name, times);
        data.scripts.extend(scripts);
    }
    Some(data)
}

/// Registry answers for one run of the check.
struct RegistryData {
    times: RegistryTimes,
    scripts: BTreeMap<PackageId, RegistryScripts>,
}

/// Publish times fetched from the registry, by name then version.
struct RegistryTimes {
    times: BTreeMap<String, BTreeMap<String, OffsetDateTime>>,
}

impl palisade_policy::PublishTimes for RegistryTimes {
    fn published(&self, name: &str, version: &str) -> Option<OffsetDateTime> {
        self.times.get(name)?.get(version).copied()
    }
}

fn count(report: &Report, level: Level) -> usize {
    report.diagnostics.iter().filter(|d| d.level == level).count()
}

/// `file:line:column` as far as known.
fn location(label: &palisade_policy::Label) -> String {
    match (label.line, label.column) {
        (Some(line), Some(column)) => format!("{}:{line}:{column}", label.file),
        (Some(line), None) => format!("{}:{line}", label.file),
        _ => label.file.clone(),
    }
}

fn render_table(
    out: &mut impl Write,
    report: &Report,
    config: &Config,
    new_packages: Option<&[PackageId]>,
) -> std::io::Result<()> {
    let color = crate::render::color();
    let paint = |text: &str, code: &str| {
        if color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    };
    for diagnostic in &report.diagnostics {
        let level = match diagnostic.level {
            Level::Error => paint("error", "1;31"),
            Level::Warning => paint("warning", "33"),
            Level::Note => paint("note", "2"),
        };
        let primary = diagnostic
            .labels
            .first()
            .map_or_else(|| "palisade".to_string(), location);
        writeln!(out, "{primary}: {level}[{}]: {}", diagnostic.code, diagnostic.message)?;
        for label in diagnostic.labels.iter().skip(1) {
            writeln!(out, "  see: {}", location(label))?;
        }
        for path in diagnostic.paths.iter().take(3) {
            writeln!(out, "  via: {path}")?;
        }
        if diagnostic.paths.len() > 3 {
            writeln!(out, "  via: … and {} more paths", diagnostic.paths.len() - 3)?;
        }
        if let Some(help) = &diagnostic.help {
            writeln!(out, "  help: {help}")?;
        }
    }
    if !report.install_scripts.is_empty() {
        writeln!(out)?;
        writeln!(out, "Install scripts that would run on install:")?;
        for entry in &report.install_scripts {
            let status = match &entry.allowed_by {
                Some(spec) => format!("allowed by \"{spec}\""),
                None => paint("not allowed", "31"),
            };
            writeln!(out, "  {}  ({status})", entry.package)?;
            if entry.scripts.is_empty() {
                let source = if entry.recorded_in_lockfile {
                    entry.lockfile.as_str()
                } else {
                    "the registry's `hasInstallScript`"
                };
                writeln!(out, "    (recorded in {source}; install the tree to see the commands)")?;
            }
            for (name, command) in &entry.scripts {
                writeln!(out, "    {name}: {command}")?;
            }
        }
    }
    if let Some(new_packages) = new_packages {
        writeln!(out)?;
        writeln!(
            out,
            "New since the base lockfile: {}",
            plural(new_packages.len(), "package")
        )?;
        for package in new_packages {
            writeln!(out, "  {package}")?;
        }
    }
    writeln!(out)?;
    let policy = config.file.as_deref().unwrap_or("the default policy");
    let errors = count(report, Level::Error);
    let warnings = count(report, Level::Warning);
    let verdict = if errors > 0 {
        paint("FAILED", "1;31")
    } else {
        paint("passed", "32")
    };
    writeln!(
        out,
        "{} checked against {policy}: {}, {}: {verdict}",
        plural(report.packages_checked, "package"),
        plural(errors, "error"),
        plural(warnings, "warning"),
    )?;
    Ok(())
}

fn to_sarif(report: &Report) -> serde_json::Value {
    // Every code is a rule, so rule indices stay stable between runs.
    let rules: Vec<sarif::Rule> = palisade_policy::all_codes()
        .into_iter()
        .map(|code| sarif::Rule {
            id: code.code.to_string(),
            short_description: code.description.to_string(),
            full_description: format!("{} (palisade check: {})", code.description, code.check),
            help_uri: None,
            severity: rule_severity(code.code),
        })
        .collect();
    let mut levels = Vec::new();
    let findings: Vec<sarif::Finding> = report
        .diagnostics
        .iter()
        .map(|diagnostic| {
            let label = diagnostic.labels.first();
            let subject = diagnostic
                .package
                .as_ref()
                .map_or_else(|| diagnostic.message.clone(), ToString::to_string);
            levels.push(diagnostic.level);
            let mut message = diagnostic.message.clone();
            if let Some(path) = diagnostic.paths.first() {
                message.push_str(&format!(" (via {path})"));
            }
            if let Some(help) = &diagnostic.help {
                message.push_str(&format!(". Help: {help}"));
            }
            sarif::Finding {
                rule_id: diagnostic.code.to_string(),
                severity: diagnostic.severity,
                message,
                uri: label.map_or_else(|| ".".to_string(), |l| relative_uri(&l.file)),
                line: label.and_then(|l| l.line),
                fingerprint: format!("{}:{subject}", diagnostic.code),
            }
        })
        .collect();
    let mut document = sarif::document(&rules, &findings);
    // The shared renderer derives the level from the severity; a check
    // decides it from policy (a high vulnerability under `fail-on = "critical"`
    // is a warning), so the diagnostic's own level wins.
    if let Some(results) = document["runs"][0]["results"].as_array_mut() {
        for ((result, level), diagnostic) in results.iter_mut().zip(levels).zip(&report.diagnostics) {
            result["level"] = serde_json::json!(match level {
                Level::Error => "error",
                Level::Warning => "warning",
                Level::Note => "note",
            });
            // Secondary places (the palisade.toml entry behind a finding).
            let related: Vec<serde_json::Value> = diagnostic
                .labels
                .iter()
                .skip(1)
                .enumerate()
                .map(|(id, label)| {
                    let mut location = serde_json::json!({"artifactLocation": {"uri": relative_uri(&label.file)}});
                    if let Some(line) = label.line {
                        let mut region = serde_json::json!({"startLine": line});
                        if let Some(column) = label.column {
                            region["startColumn"] = serde_json::json!(column);
                        }
                        location["region"] = region;
                    }
                    serde_json::json!({
                        "id": id,
                        "physicalLocation": location,
                        "message": {"text": label.message.clone().unwrap_or_else(|| "configured here".to_string())},
                    })
                })
                .collect();
            if !related.is_empty() {
                result["relatedLocations"] = serde_json::json!(related);
            }
        }
    }
    document
}

/// GitHub code scanning resolves `uri` against the repository root: make
/// absolute paths under the working directory relative.
fn relative_uri(file: &str) -> String {
    relative_to_cwd(Path::new(file))
        .to_string_lossy()
        .trim_start_matches("./")
        .replace('\\', "/")
}

fn rule_severity(code: &str) -> Severity {
    match code {
        "advisory-malicious" | "scan-malicious" => Severity::Critical,
        "advisory-vulnerable"
        | "scan-suspicious"
        | "scan-failed"
        | "source-not-allowed"
        | "source-git"
        | "source-tarball"
        | "install-script-not-allowed"
        | "package-denied"
        | "lockfile-missing" => Severity::High,
        "advisory-ignored" | "advisory-ignore-unused" | "release-age-unchecked" | "install-scripts-unchecked" => {
            Severity::Low
        }
        _ => Severity::Moderate,
    }
}

/// `path` relative to the working directory when it is under it, so messages
/// and SARIF locations read like what the user typed.
fn relative_to_cwd(path: &Path) -> PathBuf {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .filter(|relative| !relative.as_os_str().is_empty())
        .unwrap_or_else(|| path.to_path_buf())
}

fn plural(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}
