//! Versions younger than the configured cooldown are flagged, including ones
//! locked before the cooldown was added.

pub mod cfg;
pub mod diags;

use palisade_core::{DependencyGraph, Severity, SourceKind};
use time::OffsetDateTime;

use crate::diag::{Diagnostic, Label, Level};
use crate::duration;
use crate::{lockfile_label, Config, Input, MAX_PATHS};

/// Where publish times come from: the registry's packument `time` map in
/// production, fixed data in tests.
pub trait PublishTimes {
    /// When `name@version` was published; `None` when unknown.
    fn published(&self, name: &str, version: &str) -> Option<OffsetDateTime>;
}

impl<F> PublishTimes for F
where
    F: Fn(&str, &str) -> Option<OffsetDateTime>,
{
    fn published(&self, name: &str, version: &str) -> Option<OffsetDateTime> {
        self(name, version)
    }
}

pub(crate) fn check(config: &Config, input: &Input<'_>, out: &mut Vec<Diagnostic>) {
    let Some(minimum) = config.release_age.minimum else {
        return;
    };
    let config_label = || {
        config
            .file
            .clone()
            .map(|file| Label::new(file, None))
            .unwrap_or_else(|| Label::new(input.project.to_string(), None))
    };
    let Some(times) = input.publish_times else {
        // Never fail green silently: say that the cooldown was not enforced.
        out.push(
            Diagnostic::new(
                &diags::UNCHECKED,
                Level::Warning,
                Severity::Low,
                format!(
                    "release age not checked: no registry data (minimum is {})",
                    duration::display(minimum)
                ),
            )
            .help("publish times come from the npm registry: run the check where it is reachable (not offline)")
            .label(config_label()),
        );
        return;
    };
    let mut unknown = Vec::new();
    for inventory in input.inventories {
        let graph = DependencyGraph::new(inventory);
        for package in inventory.packages.iter().chain(&inventory.tooling) {
            if package.source != SourceKind::Registry
                || config
                    .release_age
                    .exclude
                    .iter()
                    .any(|spec| spec.matches(&package.name, &package.version))
            {
                continue;
            }
            let Some(published) = times.published(&package.name, &package.version) else {
                unknown.push(package.id().to_string());
                continue;
            };
            let age = input.now - published;
            if age < minimum {
                let hours = age.whole_hours().max(0);
                out.push(
                    Diagnostic::new(
                        &diags::TOO_NEW,
                        Level::Error,
                        Severity::Moderate,
                        format!(
                            "{} was published {hours}h ago, less than the {} cooldown",
                            package.id(),
                            duration::display(minimum)
                        ),
                    )
                    .help(format!(
                        "wait until {} is {} old, pin an older version, or add it to `[release-age] exclude`",
                        package.id(),
                        duration::display(minimum)
                    ))
                    .package(package.id())
                    .paths(graph.paths_to(&package.id(), MAX_PATHS))
                    .label(lockfile_label(inventory, package.line)),
                );
            }
        }
    }
    if !unknown.is_empty() {
        let (count, listed) = crate::count_and_name(&mut unknown);
        out.push(
            Diagnostic::new(
                &diags::UNCHECKED,
                Level::Warning,
                Severity::Low,
                format!("release age not checked for {count} without a publish time: {listed}"),
            )
            .label(config_label()),
        );
    }
}
