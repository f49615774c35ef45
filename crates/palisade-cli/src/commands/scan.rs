//! `palisade scan`: is this package doing something it should not?
//!
//! Targets are turned into jobs (a registry package, a tarball, a directory, a zip of package
//! trees, every package of a lockfile), read into memory by palisade-tarball (fetched through
//! palisade-registry, which caches tarballs by integrity under PALISADE_HOME), analysed by
//! palisade-analyze in parallel, and rendered (render/scan.rs). Nothing is written out or run.
//!
//! How a directory target is read: a directory holding a lockfile is a project (every package
//! of its inventory is scanned); one holding a package.json and no lockfile is an unpacked
//! package. `--package-dir` and `--project` override that.

pub mod dynamic;
pub mod fetch;

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use palisade_analyze::{scan_package, PackageRef, ScanOptions, ScanResult};
use palisade_core::{Confidence, Finding, Severity, Verdict};
use palisade_tarball::{Limits, PackageContents};
use serde::Serialize;

use crate::args::{FailOnVerdict, ScanArgs, ScanFormat};
use crate::exit::{CliError, Outcome};
use crate::render::{self, stdout};

/// One unit of work: something that yields one or more packages to scan.
#[derive(Debug, Clone)]
pub enum Job {
    /// `name[@version-or-tag-or-range]` from the registry.
    Registry { name: String, requested: Option<String> },
    /// A `.tgz` file.
    Tarball(PathBuf),
    /// An unpacked package directory.
    Directory(PathBuf),
    /// A zip archive of package trees.
    Zip(PathBuf),
    /// One package of a lockfile, fetched by its resolved URL and checked against its integrity.
    Locked(fetch::LockedPackage),
}

impl Job {
    /// The input as the user named it, for messages.
    pub fn label(&self) -> String {
        match self {
            Job::Registry { name, requested } => match requested {
                Some(requested) => format!("{name}@{requested}"),
                None => name.clone(),
            },
            Job::Tarball(path) | Job::Directory(path) | Job::Zip(path) => path.display().to_string(),
            Job::Locked(package) => format!("{}@{} ({})", package.name, package.version, package.lockfile),
        }
    }
}

/// One scanned package, with what the CLI adds to the analyzer's result.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    #[serde(flatten)]
    pub result: ScanResult,
    /// The input it came from: the target as given, a zip member, or `name@version (lockfile)`.
    pub target: String,
    /// Milliseconds spent extracting and analysing (not fetching).
    pub scan_ms: f64,
    /// Set when the package could not be scanned (e.g. its tarball failed the lockfile integrity).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// With `--against-previous`: the diff against the version published before.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<Previous>,
    /// With `--dynamic`: the sandbox's run and how it compares with the static analysis.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dynamic: Option<dynamic::Dynamic>,
}

/// `--against-previous`: what this version adds compared with the one before it.
#[derive(Debug, Clone, Serialize)]
pub struct Previous {
    pub version: String,
    pub high_risk: bool,
    pub diff: serde_json::Value,
}

/// An input that could not be read at all.
#[derive(Debug, Clone, Serialize)]
pub struct InputError {
    pub target: String,
    pub message: String,
}

/// Everything one `palisade scan` produced.
#[derive(Debug, Default, Serialize)]
pub struct ScanReport {
    pub results: Vec<Entry>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<InputError>,
}

pub fn run(args: &ScanArgs, home: Option<&Path>) -> Result<Outcome, CliError> {
    // Like every other command: no target means the project in the current directory.
    let here = vec![".".to_string()];
    let targets = if args.targets.is_empty() && args.lockfile.is_empty() {
        &here
    } else {
        &args.targets
    };
    let mut jobs = Vec::new();
    let mut report = ScanReport::default();
    let needs_registry = plan(args, targets, &mut jobs, &mut report.errors)?;
    // `--dynamic` never falls back to static-only: no sandbox on this machine is a usage error.
    let sandbox = if args.dynamic {
        if let Some(Job::Zip(path)) = jobs.iter().find(|job| matches!(job, Job::Zip(_))) {
            return Err(CliError::input(anyhow::anyhow!(
                "--dynamic does not run packages from zip archives ({}): zips are how malware corpora are kept, and they are analysed statically only; scan it without --dynamic",
                path.display()
            )));
        }
        palisade_sandbox::check_support().map_err(|error| {
            let hint = error.hint().map(str::to_string);
            let cli = CliError::input(anyhow::anyhow!("--dynamic: {error}"));
            match hint {
                Some(hint) => cli.with_hint(hint),
                None => cli,
            }
        })?;
        Some(palisade_sandbox::Options::default())
    } else {
        None
    };
    let client = if needs_registry {
        let home = crate::home::resolve(home)?;
        Some(fetch::client(args.registry.as_deref(), args.offline, &home)?)
    } else {
        None
    };
    let settings = fetch::Settings {
        client: client.as_ref(),
        zip_password: args.zip_password.as_deref(),
        against_previous: args.against_previous,
        limits: Limits::default(),
    };
    let (entries, errors) = run_jobs_with(&jobs, &settings, args.jobs, sandbox.as_ref());
    report.results = entries;
    report.errors.extend(errors);

    let mut out = stdout();
    let written = match args.format {
        ScanFormat::Json => serde_json::to_writer_pretty(&mut out, &report)
            .map_err(std::io::Error::other)
            .and_then(|()| writeln!(out)),
        ScanFormat::Sarif => serde_json::to_writer_pretty(&mut out, &render::scan::sarif(&report.results))
            .map_err(std::io::Error::other)
            .and_then(|()| writeln!(out)),
        ScanFormat::Osv => serde_json::to_writer_pretty(&mut out, &render::scan::osv(&report.results))
            .map_err(std::io::Error::other)
            .and_then(|()| writeln!(out)),
        ScanFormat::Table => render::scan::table(&mut out, &report, render::color()),
    };
    written.and_then(|()| out.flush()).map_err(CliError::internal)?;

    for error in &report.errors {
        eprintln!("error: {}: {}", error.target, error.message);
    }
    let unscanned = report.results.iter().filter(|entry| entry.error.is_some()).count();
    let unsandboxed: Vec<&Entry> = report
        .results
        .iter()
        .filter(|entry| entry.error.is_none())
        .filter(|entry| entry.dynamic.as_ref().is_some_and(|dynamic| dynamic.error.is_some()))
        .collect();
    for entry in &unsandboxed {
        let reason = entry.dynamic.as_ref().and_then(|dynamic| dynamic.error.as_deref());
        eprintln!(
            "error: {}: not run in the sandbox (static result only): {}",
            entry.target,
            reason.unwrap_or_default()
        );
    }
    let unscanned = unscanned + unsandboxed.len();
    if !report.errors.is_empty() || unscanned > 0 {
        let total = report.errors.len() + unscanned;
        if args.allow_partial {
            eprintln!("warning: {total} input(s) could not be scanned; the results above are incomplete");
        } else {
            eprintln!(
                "warning: {total} input(s) could not be scanned; the results above are incomplete (exit 2; pass --allow-partial to exit by verdict)"
            );
            return Ok(Outcome::Partial);
        }
    }
    Ok(if failing(&report.results, args.fail_on) {
        Outcome::Findings
    } else {
        Outcome::Clean
    })
}

/// Whether any result reaches `--fail-on`.
pub fn failing(results: &[Entry], fail_on: FailOnVerdict) -> bool {
    let threshold = match fail_on {
        FailOnVerdict::Never => return false,
        FailOnVerdict::Suspicious => Verdict::Suspicious,
        FailOnVerdict::Malicious => Verdict::Malicious,
    };
    results.iter().any(|entry| entry.result.verdict >= threshold)
}

/// Turns the targets into jobs. Returns whether any job needs the registry. Targets that are
/// neither a path nor a package name are input errors (recorded, the others still run); a
/// lockfile that cannot be read is one too.
fn plan(
    args: &ScanArgs,
    targets: &[String],
    jobs: &mut Vec<Job>,
    errors: &mut Vec<InputError>,
) -> Result<bool, CliError> {
    let mut lockfiles: Vec<PathBuf> = args.lockfile.clone();
    for target in targets {
        let path = Path::new(target);
        if path.is_dir() {
            let lockfiles_here = palisade_lockfile::find_lockfiles(path);
            let is_project = if args.project {
                true
            } else if args.package_dir {
                false
            } else {
                !lockfiles_here.is_empty() || !path.join("package.json").is_file()
            };
            if !is_project {
                jobs.push(Job::Directory(path.to_path_buf()));
            } else if lockfiles_here.is_empty() {
                errors.push(InputError {
                    target: target.clone(),
                    message: if path.join("package.json").is_file() {
                        "no lockfile in this project directory (drop --project to scan it as a package)".into()
                    } else {
                        "neither a package (no package.json) nor a project (no lockfile)".into()
                    },
                });
            } else {
                lockfiles.extend(lockfiles_here);
            }
        } else if path.is_file() {
            let lower = target.to_ascii_lowercase();
            if lower.ends_with(".zip") {
                jobs.push(Job::Zip(path.to_path_buf()));
            } else if palisade_lockfile::LockfileKind::detect(path).is_some() {
                lockfiles.push(path.to_path_buf());
            } else {
                jobs.push(Job::Tarball(path.to_path_buf()));
            }
        } else if let Some((name, requested)) = fetch::parse_spec(target).filter(|_| !looks_like_a_file(target)) {
            jobs.push(Job::Registry { name, requested });
        } else {
            errors.push(InputError {
                target: target.clone(),
                message: "no such file or directory, and not a package name (name or name@version)".into(),
            });
        }
    }
    for lockfile in &lockfiles {
        match palisade_lockfile::extract_file(lockfile) {
            Ok(mut inventory) => {
                let omit_dev = args.omit.contains(&crate::args::Omit::Dev);
                let omit_optional = args.omit.contains(&crate::args::Omit::Optional);
                inventory
                    .packages
                    .retain(|p| !((omit_dev && p.dev) || (omit_optional && p.optional)));
                for warning in &inventory.warnings {
                    eprintln!("warning: {}: {}", inventory.lockfile, warning.message);
                }
                let (locked, skipped) = fetch::locked_packages(&inventory);
                if skipped > 0 {
                    eprintln!(
                        "note: {}: {skipped} package(s) not from a registry or tarball URL (git, file, link, bundled) are not scanned",
                        inventory.lockfile
                    );
                }
                jobs.extend(locked.into_iter().map(Job::Locked));
            }
            Err(error) => errors.push(InputError {
                target: lockfile.display().to_string(),
                message: error.to_string(),
            }),
        }
    }
    // Deduplicate registry and lockfile jobs naming the same package version.
    let mut seen = std::collections::HashSet::new();
    jobs.retain(|job| match job {
        Job::Locked(package) => seen.insert((package.name.clone(), package.version.clone())),
        _ => true,
    });
    Ok(jobs
        .iter()
        .any(|job| matches!(job, Job::Registry { .. } | Job::Locked(_))))
}

/// `foo.tgz` is a valid npm name, but a missing file is the likelier mistake.
fn looks_like_a_file(target: &str) -> bool {
    let lower = target.to_ascii_lowercase();
    [".tgz", ".tar.gz", ".tar", ".zip", ".json", ".lock", ".yaml"]
        .iter()
        .any(|suffix| lower.ends_with(suffix))
}

/// Runs every job on a rayon pool (`--jobs`), with a progress bar when stderr is a terminal.
/// Results keep the jobs' order.
pub fn run_jobs(jobs: &[Job], settings: &fetch::Settings<'_>, threads: Option<usize>) -> (Vec<Entry>, Vec<InputError>) {
    run_jobs_with(jobs, settings, threads, None)
}

/// [`run_jobs`], and with `sandbox` every scanned package is also run in the behavioural
/// sandbox (on the same pool, so at most `threads` sandboxes at once) and the two merged.
pub fn run_jobs_with(
    jobs: &[Job],
    settings: &fetch::Settings<'_>,
    threads: Option<usize>,
    sandbox: Option<&palisade_sandbox::Options>,
) -> (Vec<Entry>, Vec<InputError>) {
    use rayon::prelude::*;
    let progress = if std::io::stderr().is_terminal() && jobs.len() > 1 {
        let bar = indicatif::ProgressBar::new(jobs.len() as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} scanning [{bar:30}] {pos}/{len} {wide_msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        Some(bar)
    } else {
        None
    };
    let work = || {
        jobs.par_iter()
            .map(|job| {
                let outcome = run_job(job, settings, sandbox);
                if let Some(bar) = &progress {
                    bar.set_message(job.label());
                    bar.inc(1);
                }
                outcome
            })
            .collect::<Vec<_>>()
    };
    let outcomes = match rayon::ThreadPoolBuilder::new()
        .num_threads(threads.unwrap_or(0))
        .build()
    {
        Ok(pool) => pool.install(work),
        Err(_) => work(),
    };
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    let mut entries = Vec::new();
    let mut errors = Vec::new();
    for outcome in outcomes {
        match outcome {
            Ok(mut scanned) => entries.append(&mut scanned),
            Err(error) => errors.push(error),
        }
    }
    (entries, errors)
}

/// Reads and scans one job.
fn run_job(
    job: &Job,
    settings: &fetch::Settings<'_>,
    sandbox: Option<&palisade_sandbox::Options>,
) -> Result<Vec<Entry>, InputError> {
    let label = job.label();
    let fail = |message: String| InputError {
        target: label.clone(),
        message,
    };
    match job {
        Job::Tarball(path) => {
            let started = Instant::now();
            let bytes = read_bounded(path, settings.limits.max_total_bytes).map_err(fail)?;
            let contents = palisade_tarball::read_tgz(&bytes, &label, &settings.limits)
                .map_err(|error| fail(error.to_string()))?;
            let mut entry = scan_contents(&contents, &ScanOptions::default(), &label, started);
            run_dynamic(&mut entry, contents, sandbox);
            Ok(vec![entry])
        }
        Job::Directory(path) => {
            let started = Instant::now();
            let contents =
                palisade_tarball::read_dir(path, &settings.limits).map_err(|error| fail(error.to_string()))?;
            let mut entry = scan_contents(&contents, &ScanOptions::default(), &label, started);
            run_dynamic(&mut entry, contents, sandbox);
            Ok(vec![entry])
        }
        Job::Zip(path) => {
            let started = Instant::now();
            let bytes = read_bounded(path, settings.limits.max_total_bytes).map_err(fail)?;
            let password = settings.zip_password.map(str::as_bytes);
            let packages = palisade_tarball::read_zip(&bytes, &label, password, &settings.limits)
                .map_err(|error| fail(error.to_string()))?;
            if packages.is_empty() {
                return Err(fail("no package (package.json) inside this zip".into()));
            }
            let single = packages.len() == 1;
            let mut entries = Vec::new();
            for contents in &packages {
                let target = if single {
                    label.clone()
                } else {
                    format!("{label}:{}", contents.origin)
                };
                entries.push(scan_contents(contents, &ScanOptions::default(), &target, started));
            }
            Ok(entries)
        }
        Job::Registry { name, requested } => {
            let client = settings
                .client
                .ok_or_else(|| fail("no registry client (internal error)".into()))?;
            let fetched = fetch::registry_package(client, name, requested.as_deref(), settings)
                .map_err(|error| fail(format!("{error:#}")))?;
            let started = Instant::now();
            let contents = palisade_tarball::read_tgz(&fetched.tarball, &fetched.origin, &settings.limits)
                .map_err(|error| fail(error.to_string()))?;
            let options = ScanOptions {
                registry_manifest: Some(fetched.manifest),
            };
            let mut entry = scan_contents(&contents, &options, &fetched.origin, started);
            fill_package(&mut entry.result, name, &fetched.version);
            if let Some(previous) = fetched.previous {
                entry.previous = fetch::previous_diff(&previous, &contents, &options, &settings.limits)
                    .map_err(|error| {
                        eprintln!("warning: {label}: no diff against {}: {error}", previous.version);
                    })
                    .ok();
            }
            run_dynamic(&mut entry, contents, sandbox);
            Ok(vec![entry])
        }
        Job::Locked(package) => {
            let client = settings
                .client
                .ok_or_else(|| fail("no registry client (internal error)".into()))?;
            match fetch::locked_tarball(client, package) {
                Ok(bytes) => {
                    let started = Instant::now();
                    let origin = format!("{}@{}", package.name, package.version);
                    let contents = palisade_tarball::read_tgz(&bytes, &origin, &settings.limits)
                        .map_err(|error| fail(error.to_string()))?;
                    let mut entry = scan_contents(&contents, &ScanOptions::default(), &label, started);
                    fill_package(&mut entry.result, &package.name, &package.version);
                    run_dynamic(&mut entry, contents, sandbox);
                    Ok(vec![entry])
                }
                Err(fetch::LockedError::Integrity(message)) => Ok(vec![integrity_mismatch(package, &label, message)]),
                Err(fetch::LockedError::Other(message)) => Err(fail(message)),
            }
        }
    }
}

/// `--dynamic`: the sandbox on the contents just scanned (zips never get here: refused up front).
fn run_dynamic(entry: &mut Entry, contents: PackageContents, sandbox: Option<&palisade_sandbox::Options>) {
    if let Some(options) = sandbox {
        dynamic::attach(entry, contents, options);
    }
}

fn scan_contents(contents: &PackageContents, options: &ScanOptions, target: &str, started: Instant) -> Entry {
    let mut result = scan_package(contents, options);
    if result.package.name.is_empty() {
        result.package.name = target.to_string();
    }
    Entry {
        result,
        target: target.to_string(),
        scan_ms: started.elapsed().as_secs_f64() * 1000.0,
        error: None,
        previous: None,
        dynamic: None,
    }
}

/// Registry and lockfile packages are reported under the name and version that were asked
/// for, whatever the tarball's package.json claims (a manifest that lies is the analyzer's
/// business: manifest confusion).
fn fill_package(result: &mut ScanResult, name: &str, version: &str) {
    result.package.name = name.to_string();
    result.package.version = version.to_string();
}

/// The stable rule id of a lockfile tarball whose bytes do not match the lockfile integrity.
pub const INTEGRITY_MISMATCH: &str = "integrity-mismatch";

/// A tarball that does not match its lockfile integrity is never reported clean: it is a
/// finding (the bytes are not what was locked; a tampered cache, mirror or registry), and the
/// package counts as not scanned.
fn integrity_mismatch(package: &fetch::LockedPackage, label: &str, message: String) -> Entry {
    let finding = Finding::new(
        INTEGRITY_MISMATCH,
        Severity::Critical,
        Confidence::High,
        format!("the tarball's bytes do not match the lockfile integrity; not scanned: {message}"),
    )
    .at(package.lockfile.clone(), package.line)
    .with_evidence(package.integrity.as_deref().unwrap_or_default());
    Entry {
        result: ScanResult {
            package: PackageRef {
                name: package.name.clone(),
                version: package.version.clone(),
            },
            verdict: Verdict::Suspicious,
            score: 1.0,
            findings: vec![finding],
            capabilities: Vec::new(),
            summary: "The tarball served for this package is not the one the lockfile pins, so it was not scanned."
                .into(),
            files_scanned: 0,
            bytes_scanned: 0,
            unparsed_files: Vec::new(),
        },
        target: label.to_string(),
        scan_ms: 0.0,
        error: Some(message),
        previous: None,
        dynamic: None,
    }
}

/// A local file, refusing anything larger than `limit` before reading it.
fn read_bounded(path: &Path, limit: u64) -> Result<Vec<u8>, String> {
    let metadata = std::fs::metadata(path).map_err(|error| format!("cannot read: {error}"))?;
    if metadata.len() > limit {
        return Err(format!("{} bytes is over the {limit}-byte limit", metadata.len()));
    }
    std::fs::read(path).map_err(|error| format!("cannot read: {error}"))
}
