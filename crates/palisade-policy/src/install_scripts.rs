//! Packages that run code on install must be allowlisted. Detection uses the
//! lockfile's own flag (npm `hasInstallScript`, pnpm 5–8 `requiresBuild`),
//! when the tree is installed the scripts in each package.json, and for
//! lockfiles that record nothing (pnpm 9, yarn, bun, npm v1) the registry's
//! version document. What none of them can tell is reported as unchecked.

pub mod cfg;
pub mod diags;

use std::collections::BTreeMap;
use std::path::Path;

use palisade_core::{DependencyGraph, Inventory, PackageId, Severity, SourceKind};
use serde::Serialize;

use crate::diag::{Diagnostic, Level};
use crate::{lockfile_label, Config, Input, MAX_PATHS};

/// The scripts npm runs on `npm install` (https://docs.npmjs.com/cli/using-npm/scripts#npm-install).
const LIFECYCLE: [&str; 3] = ["preinstall", "install", "postinstall"];

/// Largest installed package.json read.
const MAX_MANIFEST_BYTES: u64 = 1024 * 1024;

/// One package whose scripts would run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InstallScript {
    pub package: PackageId,
    /// Script name → command, when the installed package.json was read.
    pub scripts: BTreeMap<String, String>,
    /// The lockfile records that the package has install scripts.
    pub recorded_in_lockfile: bool,
    /// The registry's version document records install scripts (for
    /// lockfiles that do not).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub recorded_in_registry: bool,
    /// The `[install-scripts] allow` entry that allows it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_by: Option<String>,
    pub lockfile: String,
}

/// What the registry's version document says about install scripts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegistryScripts {
    /// `hasInstallScript`, or a lifecycle script in `scripts`.
    pub runs: bool,
    /// Lifecycle script name → command, when the document lists `scripts`
    /// (abbreviated documents carry only `hasInstallScript`).
    pub scripts: BTreeMap<String, String>,
}

impl RegistryScripts {
    /// Keeps only the scripts npm runs on install.
    pub fn new(has_install_script: bool, scripts: &BTreeMap<String, String>) -> Self {
        let scripts: BTreeMap<String, String> = scripts
            .iter()
            .filter(|(name, _)| LIFECYCLE.contains(&name.as_str()))
            .map(|(name, command)| (name.clone(), command.clone()))
            .collect();
        RegistryScripts {
            runs: has_install_script || !scripts.is_empty(),
            scripts,
        }
    }
}

/// Whether a lockfile format records which packages have install scripts:
/// npm v2/v3 (`hasInstallScript`) and pnpm 5–8 (`requiresBuild`). pnpm 9,
/// yarn, bun and npm v1 lockfiles do not.
pub fn lockfile_records_scripts(format: &str) -> bool {
    let major = |prefix: &str| {
        format
            .strip_prefix(prefix)
            .and_then(|v| v.split('.').next())
            .and_then(|v| v.parse::<u32>().ok())
    };
    major("npm-v").is_some_and(|m| m >= 2) || major("pnpm-v").is_some_and(|m| m < 9)
}

/// Packages whose install scripts only outside evidence (registry,
/// node_modules) can tell: project code (workspace, local files, links) is
/// not third-party and is never looked up.
pub fn needs_outside_evidence(format: &str, source: SourceKind) -> bool {
    !lockfile_records_scripts(format) && matches!(source, SourceKind::Registry | SourceKind::Git | SourceKind::Tarball)
}

/// Lifecycle scripts of the installed packages, read from
/// `node_modules/**/package.json` next to each lockfile (npm-style install
/// paths, and pnpm's `node_modules/.pnpm/<name>@<version>/node_modules/<name>`).
/// A package whose package.json was read maps to its scripts, possibly none.
/// Missing or unreadable files are skipped: this is extra evidence on top of
/// the lockfile, not the primary source.
pub fn read_installed(inventories: &[Inventory]) -> BTreeMap<PackageId, BTreeMap<String, String>> {
    let mut found = BTreeMap::new();
    for inventory in inventories {
        let lockfile = Path::new(&inventory.lockfile);
        let Some(base) = lockfile.parent() else { continue };
        // node_modules/.package-lock.json lives inside node_modules already.
        let base = if base.file_name().is_some_and(|name| name == "node_modules") {
            base.parent().unwrap_or(base)
        } else {
            base
        };
        let pnpm = inventory.format.starts_with("pnpm-");
        for package in &inventory.packages {
            let mut candidates: Vec<String> = package
                .paths
                .iter()
                .filter(|p| p.starts_with("node_modules/"))
                .cloned()
                .collect();
            if pnpm {
                candidates.extend(pnpm_store_dirs(&package.name, &package.version, &package.paths));
            }
            for path in candidates {
                if path.split('/').any(|part| part == ".." || part == ".") || path.contains('\\') {
                    continue;
                }
                let dir = base.join(&path);
                if let Some(scripts) = scripts_of(&dir, package.source) {
                    found.insert(package.id(), scripts);
                    break;
                }
            }
        }
    }
    found
}

/// Where pnpm's virtual store keeps a package: `node_modules/.pnpm/<dir>/node_modules/<name>`,
/// `<dir>` being `name@version` with `/` written `+`, and for peer-resolved
/// variants the lockfile key with `(…)` folded into `_…`. (pnpm hashes very
/// long directory names; those are not found and count as unread.)
fn pnpm_store_dirs(name: &str, version: &str, keys: &[String]) -> Vec<String> {
    let mut dirs = vec![format!("{name}@{version}").replace('/', "+")];
    for key in keys {
        let key = key.trim_start_matches('/');
        if key.contains('(') {
            dirs.push(
                key.replace('/', "+")
                    .replace(")(", "_")
                    .replace('(', "_")
                    .replace(')', ""),
            );
        }
    }
    dirs.into_iter()
        .map(|dir| format!("node_modules/.pnpm/{dir}/node_modules/{name}"))
        .collect()
}

fn scripts_of(dir: &Path, source: SourceKind) -> Option<BTreeMap<String, String>> {
    let manifest = dir.join("package.json");
    let metadata = std::fs::metadata(&manifest).ok()?;
    if metadata.len() > MAX_MANIFEST_BYTES {
        return None;
    }
    let text = std::fs::read_to_string(&manifest).ok()?;
    let value: serde_json::Value = serde_json::from_str(&text).ok()?;
    let mut scripts = BTreeMap::new();
    if let Some(map) = value.get("scripts").and_then(|s| s.as_object()) {
        for (name, command) in map {
            // npm also runs `prepare` when it installs from git.
            let runs = LIFECYCLE.contains(&name.as_str()) || (name == "prepare" && source == SourceKind::Git);
            if let (true, Some(command)) = (runs, command.as_str()) {
                scripts.insert(name.clone(), command.to_string());
            }
        }
    }
    // npm runs `node-gyp rebuild` for a binding.gyp when there is no install script.
    if !scripts.contains_key("install") && !scripts.contains_key("preinstall") && dir.join("binding.gyp").is_file() {
        scripts.insert("install".into(), "node-gyp rebuild (implicit: binding.gyp)".into());
    }
    Some(scripts)
}

pub(crate) fn check(config: &Config, input: &Input<'_>, out: &mut Vec<Diagnostic>) -> Vec<InstallScript> {
    let mut list = Vec::new();
    for inventory in input.inventories {
        let graph = DependencyGraph::new(inventory);
        let mut unchecked = Vec::new();
        for package in inventory.packages.iter().chain(&inventory.tooling) {
            let id = package.id();
            let installed = input.installed_scripts.get(&id);
            let outside = needs_outside_evidence(&inventory.format, package.source);
            let registry = match (outside, installed) {
                (true, None) => input.registry_scripts.and_then(|map| map.get(&id)),
                _ => None,
            };
            if outside && installed.is_none() && registry.is_none() && !package.has_install_script {
                unchecked.push(id.to_string());
                continue;
            }
            let scripts = installed.or(registry.map(|r| &r.scripts)).cloned().unwrap_or_default();
            let recorded_in_registry = registry.is_some_and(|r| r.runs);
            if !package.has_install_script && !recorded_in_registry && scripts.is_empty() {
                continue;
            }
            let allowed_by = config
                .install_scripts
                .allow
                .iter()
                .find(|spec| spec.matches(&package.name, &package.version))
                .map(|spec| spec.text.clone());
            if allowed_by.is_none() {
                let what = if !scripts.is_empty() {
                    scripts
                        .iter()
                        .map(|(name, command)| format!("{name}: `{command}`"))
                        .collect::<Vec<_>>()
                        .join("; ")
                } else if package.has_install_script {
                    "the lockfile records install scripts".to_string()
                } else {
                    "the registry sets `hasInstallScript`".to_string()
                };
                out.push(
                    Diagnostic::new(
                        &diags::NOT_ALLOWED,
                        Level::Error,
                        Severity::High,
                        format!("{id} runs code on install ({what})"),
                    )
                    .help(format!(
                        "review the scripts, then add \"{}\" (or \"{}@{}\") to `[install-scripts] allow`, or install with --ignore-scripts",
                        package.name, package.name, package.version
                    ))
                    .package(id.clone())
                    .paths(graph.paths_to(&id, MAX_PATHS))
                    .label(lockfile_label(inventory, package.line)),
                );
            }
            list.push(InstallScript {
                package: id,
                scripts,
                recorded_in_lockfile: package.has_install_script,
                recorded_in_registry,
                allowed_by,
                lockfile: inventory.lockfile.clone(),
            });
        }
        if !unchecked.is_empty() {
            // Never pass silently: a lockfile that records nothing, offline and
            // not installed, tells nothing about install scripts.
            let format = &inventory.format;
            let (count, listed) = crate::count_and_name(&mut unchecked);
            out.push(
                Diagnostic::new(
                    &diags::UNCHECKED,
                    Level::Warning,
                    Severity::Low,
                    format!(
                        "install scripts not checked for {count}: the {format} lockfile does not record them and neither the registry nor node_modules could tell: {listed}"
                    ),
                )
                .help("run the check where the registry is reachable (not --offline), or after installing the tree")
                .label(lockfile_label(inventory, None)),
            );
        }
    }
    list
}
