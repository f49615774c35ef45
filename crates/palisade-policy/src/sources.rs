//! Every package comes from an allowed place, and registry packages carry an
//! integrity hash.

pub mod cfg;
pub mod diags;

use palisade_core::{DependencyGraph, Severity, SourceKind};

use crate::diag::{Diagnostic, Level};
use crate::{lockfile_label, Config, Input, MAX_PATHS};

pub(crate) fn check(config: &Config, input: &Input<'_>, out: &mut Vec<Diagnostic>) {
    let registry = &config.registry;
    for inventory in input.inventories {
        let graph = DependencyGraph::new(inventory);
        for package in inventory.packages.iter().chain(&inventory.tooling) {
            let finding = match package.source {
                SourceKind::Registry => {
                    // pnpm and bun leave `resolved` out for the configured
                    // registry, and yarn berry writes a locator
                    // (`name@npm:1.2.3`), not a URL: nothing to compare then.
                    let url = package
                        .resolved
                        .as_ref()
                        .filter(|r| r.starts_with("https://") || r.starts_with("http://"));
                    if let Some(resolved) = url {
                        let allowed = registry
                            .allowed
                            .iter()
                            .any(|prefix| resolved.starts_with(prefix.as_str()));
                        if !allowed {
                            out.push(
                                Diagnostic::new(
                                    &diags::NOT_ALLOWED,
                                    Level::Error,
                                    Severity::High,
                                    format!("{} is resolved from `{resolved}`, outside the allowed registries", package.id()),
                                )
                                .help(format!(
                                    "install from an allowed registry ({}), or add the registry to `[registry] allowed`",
                                    registry.allowed.join(", ")
                                ))
                                .package(package.id())
                                .paths(graph.paths_to(&package.id(), MAX_PATHS))
                                .label(lockfile_label(inventory, package.line)),
                            );
                        }
                    }
                    // Bundled packages come inside their parent's tarball, and
                    // yarn berry pins content with its own `checksum` (not SRI,
                    // but a pin all the same): neither lacks integrity. A berry
                    // entry without a checksum (`checksumBehavior: ignore`,
                    // a hand-edited file) does.
                    let pinned_elsewhere =
                        package.bundled || package.checksum.as_deref().is_some_and(|c| !c.is_empty());
                    if !pinned_elsewhere && package.integrity.as_deref().is_none_or(str::is_empty) {
                        out.push(
                            Diagnostic::new(
                                &diags::INTEGRITY_MISSING,
                                Level::Error,
                                Severity::Moderate,
                                format!("{} has no integrity hash in the lockfile", package.id()),
                            )
                            .help("regenerate the lockfile with a current package manager so every registry entry records `integrity`")
                            .package(package.id())
                            .label(lockfile_label(inventory, package.line)),
                        );
                    }
                    None
                }
                SourceKind::Git if !registry.allow_git.iter().any(|s| s.matches_name(&package.name)) => {
                    Some((&diags::GIT, "a git repository", "allow-git"))
                }
                SourceKind::Tarball if !registry.allow_tarball.iter().any(|s| s.matches_name(&package.name)) => {
                    Some((&diags::TARBALL, "a tarball URL outside any registry", "allow-tarball"))
                }
                _ => None,
            };
            if let Some((code, what, key)) = finding {
                let from = package.resolved.as_deref().unwrap_or("an unrecorded location");
                out.push(
                    Diagnostic::new(
                        code,
                        Level::Error,
                        Severity::High,
                        format!("{} comes from {what} (`{from}`)", package.id()),
                    )
                    .help(format!(
                        "depend on a published registry version, or add \"{}\" to `[registry] {key}`",
                        package.name
                    ))
                    .package(package.id())
                    .paths(graph.paths_to(&package.id(), MAX_PATHS))
                    .label(lockfile_label(inventory, package.line)),
                );
            }
        }
    }
}
