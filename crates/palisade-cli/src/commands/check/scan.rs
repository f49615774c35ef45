//! `palisade check --scan` and `--base-ref`: the base lockfile (a file, or the lockfile as it is
//! at a git ref), the packages new or changed since it, and the analyzer run on them.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::anyhow;
use palisade_core::{Inventory, PackageId};
use palisade_policy::scan::ScanVerdict;
use palisade_tarball::Limits;

use crate::commands::scan::{self, fetch, Job};
use crate::exit::CliError;

/// The base inventories: `--base-lockfile FILE`, or each of `lockfiles` as it is at `--base-ref`.
/// `None` when neither was given.
pub fn base_inventories(
    base_lockfile: Option<&Path>,
    base_ref: Option<&str>,
    lockfiles: &[PathBuf],
) -> Result<Option<Vec<Inventory>>, CliError> {
    if let Some(file) = base_lockfile {
        let inventory = palisade_lockfile::extract_file(file).map_err(|error| {
            CliError::input(error)
                .with_hint("--base-lockfile takes a lockfile, e.g. `git show main:package-lock.json > base.json`")
        })?;
        return Ok(Some(vec![inventory]));
    }
    let Some(reference) = base_ref else {
        return Ok(None);
    };
    if lockfiles.is_empty() {
        return Err(CliError::input(anyhow!(
            "--base-ref {reference}: the project has no lockfile to compare"
        )));
    }
    let mut inventories = Vec::new();
    for lockfile in lockfiles {
        let text = git_show(reference, lockfile)?;
        let display = format!("{}@{reference}", lockfile.display());
        let kind = palisade_lockfile::LockfileKind::detect(lockfile)
            .or_else(|| palisade_lockfile::LockfileKind::sniff(&text))
            .ok_or_else(|| CliError::input(anyhow!("`{display}` is not a lockfile Palisade reads")))?;
        let inventory = palisade_lockfile::extract_str(kind, &display, &text).map_err(CliError::input)?;
        inventories.push(inventory);
    }
    Ok(Some(inventories))
}

/// `git show REF:./FILE`, run in the lockfile's directory so the path is relative to it.
fn git_show(reference: &str, lockfile: &Path) -> Result<String, CliError> {
    let directory = lockfile
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let file_name = lockfile
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if reference.starts_with('-') || reference.contains(':') {
        return Err(CliError::input(anyhow!("`{reference}` is not a git ref")));
    }
    let inside = Command::new("git")
        .arg("-C")
        .arg(directory)
        .args(["rev-parse", "--is-inside-work-tree"])
        .output()
        .map_err(|error| CliError::input(anyhow!("--base-ref needs git: {error}")))?;
    if !inside.status.success() {
        return Err(CliError::input(anyhow!(
            "--base-ref {reference}: `{}` is not in a git repository",
            directory.display()
        ))
        .with_hint("use --base-lockfile FILE instead"));
    }
    let verify = Command::new("git")
        .arg("-C")
        .arg(directory)
        .args(["rev-parse", "--verify", "--quiet", &format!("{reference}^{{commit}}")])
        .output()
        .map_err(|error| CliError::input(anyhow!("--base-ref needs git: {error}")))?;
    if !verify.status.success() {
        return Err(
            CliError::input(anyhow!("--base-ref: no commit `{reference}` in this repository"))
                .with_hint("fetch the base branch first (e.g. `git fetch origin main` in CI, with enough depth)"),
        );
    }
    let shown = Command::new("git")
        .arg("-C")
        .arg(directory)
        .arg("show")
        .arg(format!("{reference}:./{file_name}"))
        .output()
        .map_err(|error| CliError::input(anyhow!("--base-ref needs git: {error}")))?;
    if !shown.status.success() {
        return Err(CliError::input(anyhow!(
            "--base-ref: `{}` does not exist at `{reference}`",
            lockfile.display()
        ))
        .with_hint("a lockfile added by this change has no base: use --base-lockfile with an empty lockfile, or drop the base to scan every package"));
    }
    String::from_utf8(shown.stdout)
        .map_err(|_| CliError::input(anyhow!("`{}` at `{reference}` is not UTF-8", lockfile.display())))
}

/// Packages of `inventories` (name@version) that the base lacks, sorted. An upgrade counts as
/// new: the new version is new code.
pub fn new_since(base: &[Inventory], inventories: &[Inventory]) -> Vec<PackageId> {
    let known: std::collections::BTreeSet<PackageId> = base
        .iter()
        .flat_map(|i| i.packages.iter().chain(&i.tooling))
        .map(|p| p.id())
        .collect();
    let mut new: Vec<PackageId> = inventories
        .iter()
        .flat_map(|i| i.packages.iter().chain(&i.tooling))
        .map(|p| p.id())
        .filter(|id| !known.contains(id))
        .collect();
    new.sort();
    new.dedup();
    new
}

/// Fetches (checked against the lockfile integrity) and scans `packages` (all registry and
/// tarball-URL packages when `None`), in parallel.
pub fn scan_packages(
    client: &palisade_registry::RegistryClient,
    inventories: &[Inventory],
    packages: Option<&[PackageId]>,
) -> Vec<ScanVerdict> {
    let mut jobs = Vec::new();
    for inventory in inventories {
        let (locked, _) = fetch::locked_packages(inventory);
        for package in locked {
            let id = PackageId::new(&package.name, &package.version);
            if packages.is_none_or(|wanted| wanted.binary_search(&id).is_ok()) {
                jobs.push(Job::Locked(package));
            }
        }
    }
    let settings = fetch::Settings {
        client: Some(client),
        zip_password: None,
        against_previous: false,
        limits: Limits::default(),
    };
    let (entries, errors) = scan::run_jobs(&jobs, &settings, None);
    let mut verdicts: Vec<ScanVerdict> = entries
        .into_iter()
        .map(|entry| {
            let (lockfile, line) =
                where_declared(inventories, &entry.result.package.name, &entry.result.package.version);
            let mut findings = entry.result.findings.clone();
            findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
            let mut rules: Vec<String> = Vec::new();
            for finding in findings {
                if !rules.contains(&finding.rule) {
                    rules.push(finding.rule);
                }
            }
            ScanVerdict {
                package: PackageId::new(&entry.result.package.name, &entry.result.package.version),
                verdict: entry.result.verdict,
                score: entry.result.score,
                summary: entry.result.summary,
                rules,
                lockfile,
                line,
                error: entry.error,
            }
        })
        .collect();
    // Jobs that failed outright are named by their label; match them back to their package.
    for error in &errors {
        if let Some(Job::Locked(package)) = jobs.iter().find(|job| job.label() == error.target) {
            verdicts.push(ScanVerdict {
                package: PackageId::new(&package.name, &package.version),
                verdict: palisade_core::Verdict::Clean,
                score: 0.0,
                summary: String::new(),
                rules: Vec::new(),
                lockfile: package.lockfile.clone(),
                line: package.line,
                error: Some(error.message.clone()),
            });
        }
    }
    verdicts
}

fn where_declared(inventories: &[Inventory], name: &str, version: &str) -> (String, Option<u32>) {
    for inventory in inventories {
        if let Some(package) = inventory
            .packages
            .iter()
            .find(|p| p.name == name && p.version == version)
        {
            return (inventory.lockfile.clone(), package.line);
        }
    }
    (String::new(), None)
}
