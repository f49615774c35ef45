//! Denied packages and the allowlist mode, each finding with the dependency
//! path that pulls the package in.

pub mod cfg;
pub mod diags;

use palisade_core::{DependencyGraph, Severity, SourceKind};

use crate::diag::{Diagnostic, Level};
use crate::{config_label, lockfile_label, Config, Input, MAX_PATHS};

pub(crate) fn check(config: &Config, input: &Input<'_>, out: &mut Vec<Diagnostic>) {
    let bans = &config.bans;
    for inventory in input.inventories {
        let graph = DependencyGraph::new(inventory);
        for package in inventory.packages.iter().chain(&inventory.tooling) {
            let id = package.id();
            if let Some(deny) = bans
                .deny
                .iter()
                .find(|d| d.spec.matches(&package.name, &package.version))
            {
                let reason = deny.reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default();
                let mut diagnostic = Diagnostic::new(
                    &diags::DENIED,
                    Level::Error,
                    Severity::High,
                    format!("{id} is denied by `{}`{reason}", deny.spec),
                )
                .help("remove the dependency that pulls it in, or override it to an allowed version")
                .package(id.clone())
                .paths(graph.paths_to(&id, MAX_PATHS))
                .label(lockfile_label(inventory, package.line));
                if let Some(label) = config_label(config, Some(deny.location)) {
                    diagnostic = diagnostic.label(label);
                }
                out.push(diagnostic);
                continue;
            }
            // Local folders and workspace members are the project's own code.
            let own_code = matches!(
                package.source,
                SourceKind::Workspace | SourceKind::Link | SourceKind::File
            );
            if bans.mode == cfg::Mode::Allowlist
                && !own_code
                && !bans
                    .allow
                    .iter()
                    .any(|spec| spec.matches(&package.name, &package.version))
            {
                out.push(
                    Diagnostic::new(
                        &diags::NOT_ALLOWED,
                        Level::Error,
                        Severity::Moderate,
                        format!("{id} is not in `[packages] allow`"),
                    )
                    .help(format!(
                        "review {} and add it (or a range) to `[packages] allow`",
                        package.name
                    ))
                    .package(id.clone())
                    .paths(graph.paths_to(&id, MAX_PATHS))
                    .label(lockfile_label(inventory, package.line)),
                );
            }
        }
    }
}
