//! Known-malicious versions always fail; vulnerabilities fail at or above
//! `fail-on`; ignores need a reason and expire.

pub mod cfg;
pub mod diags;

use palisade_advisory::{Advisory, AdvisoryKind};
use palisade_core::{DependencyGraph, Severity};

use crate::diag::{Diagnostic, Level};
use crate::{config_label, lockfile_label, Config, Input, MAX_PATHS};

fn covers(ignore: &cfg::Ignore, advisory: &Advisory) -> bool {
    advisory.id.eq_ignore_ascii_case(&ignore.id) || advisory.aliases.iter().any(|a| a.eq_ignore_ascii_case(&ignore.id))
}

pub(crate) fn check(config: &Config, input: &Input<'_>, out: &mut Vec<Diagnostic>) {
    let today = input.now.date();
    let mut used = vec![false; config.advisories.ignore.len()];
    for (position, ignore) in config.advisories.ignore.iter().enumerate() {
        if let Some(until) = ignore.until.filter(|until| *until < today) {
            // An expired ignore no longer hides anything, and fails on its own
            // so the decision is revisited rather than forgotten.
            used[position] = true;
            let mut diagnostic = Diagnostic::new(
                &diags::IGNORE_EXPIRED,
                Level::Error,
                Severity::Moderate,
                format!(
                    "the ignore of `{}` expired on {until} (reason was: {})",
                    ignore.id, ignore.reason
                ),
            )
            .help("fix or replace the affected package, or extend `until` after reviewing the advisory again");
            if let Some(label) = config_label(config, Some(ignore.location)) {
                diagnostic = diagnostic.label(label);
            }
            out.push(diagnostic);
        }
    }
    for (inventory, matches) in input.inventories.iter().zip(input.advisories) {
        let graph = DependencyGraph::new(inventory);
        for matched in matches {
            let advisory = &matched.advisory;
            let package = inventory
                .packages
                .iter()
                .chain(&inventory.tooling)
                .find(|p| p.name == matched.package.name && p.version == matched.package.version);
            let line = package.and_then(|p| p.line);
            let paths = graph.paths_to(&matched.package, MAX_PATHS);
            let active_ignore = config
                .advisories
                .ignore
                .iter()
                .enumerate()
                .find(|(_, ignore)| ignore.until.is_none_or(|until| until >= today) && covers(ignore, advisory));
            let malicious = advisory.kind == AdvisoryKind::Malicious;
            if let (Some((position, ignore)), false) = (active_ignore, malicious) {
                used[position] = true;
                let mut diagnostic = Diagnostic::new(
                    &diags::IGNORED,
                    Level::Note,
                    advisory.severity,
                    format!("{} on {} is ignored: {}", advisory.id, matched.package, ignore.reason),
                )
                .package(matched.package.clone())
                .label(lockfile_label(inventory, line));
                if let Some(label) = config_label(config, Some(ignore.location)) {
                    diagnostic = diagnostic.label(label);
                }
                out.push(diagnostic);
                continue;
            }
            if let Some((position, _)) = active_ignore {
                // Malicious code is never acceptable; the ignore is still "used".
                used[position] = true;
            }
            let diagnostic = if malicious {
                Diagnostic::new(
                    &diags::MALICIOUS,
                    Level::Error,
                    Severity::Critical,
                    format!(
                        "{} is a known-malicious version ({}): {}",
                        matched.package, advisory.id, advisory.summary
                    ),
                )
                .help(format!(
                    "remove {} now and rotate every credential the machines that installed it could reach",
                    matched.package.name
                ))
            } else {
                let level = if advisory.severity >= config.advisories.fail_on {
                    Level::Error
                } else {
                    Level::Warning
                };
                let fix = if advisory.fixed_in.is_empty() {
                    "no fixed version is published; replace the package or add an `[advisories] ignore` with a reason and an `until` date".to_string()
                } else {
                    format!("upgrade {} to {}", matched.package.name, advisory.fixed_in.join(" or "))
                };
                Diagnostic::new(
                    &diags::VULNERABLE,
                    level,
                    advisory.severity,
                    format!(
                        "{} has a {} vulnerability ({}): {}",
                        matched.package, advisory.severity, advisory.id, advisory.summary
                    ),
                )
                .help(fix)
            };
            out.push(
                diagnostic
                    .package(matched.package.clone())
                    .paths(paths)
                    .label(lockfile_label(inventory, line)),
            );
        }
    }
    for (ignore, used) in config.advisories.ignore.iter().zip(used) {
        if used {
            continue;
        }
        let mut diagnostic = Diagnostic::new(
            &diags::IGNORE_UNUSED,
            Level::Warning,
            Severity::Low,
            format!(
                "the ignore of `{}` matches no advisory of any locked package",
                ignore.id
            ),
        )
        .help("remove the entry: the package was upgraded or removed");
        if let Some(label) = config_label(config, Some(ignore.location)) {
            diagnostic = diagnostic.label(label);
        }
        out.push(diagnostic);
    }
}
