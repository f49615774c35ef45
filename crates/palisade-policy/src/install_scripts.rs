//! Packages that run code on install must be allowlisted. Detection uses the
//! lockfile's own flag (npm `hasInstallScript`, pnpm 5–8 `requiresBuild`)
//! and, when the tree is installed, the scripts in each package.json.

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
    /// The `[install-scripts] allow` entry that allows it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_by: Option<String>,
    pub lockfile: String,
}

/// Lifecycle scripts of the installed packages, read from
/// `node_modules/**/package.json` next to each lockfile (npm-style install
/// paths only). Missing or unreadable files are skipped: this is extra
/// evidence on top of the lockfile, not the primary source.
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
        for package in &inventory.packages {
            for path in package.paths.iter().filter(|p| p.starts_with("node_modules/")) {
                if path.split('/').any(|part| part == "..") {
                    continue;
                }
                let dir = base.join(path);
                if let Some(scripts) = scripts_of(&dir, package.source) {
                    if !scripts.is_empty() {
                        found.insert(package.id(), scripts);
                    }
                    break;
                }
            }
        }
    }
    found
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
        for package in inventory.packages.iter().chain(&inventory.tooling) {
            let id = package.id();
            let scripts = input.installed_scripts.get(&id).cloned().unwrap_or_default();
            if !package.has_install_script && scripts.is_empty() {
                continue;
            }
            let allowed_by = config
                .install_scripts
                .allow
                .iter()
                .find(|spec| spec.matches(&package.name, &package.version))
                .map(|spec| spec.text.clone());
            if allowed_by.is_none() {
                let what = if scripts.is_empty() {
                    "the lockfile records install scripts".to_string()
                } else {
                    scripts
                        .iter()
                        .map(|(name, command)| format!("{name}: `{command}`"))
                        .collect::<Vec<_>>()
                        .join("; ")
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
                allowed_by,
                lockfile: inventory.lockfile.clone(),
            });
        }
    }
    list
}
