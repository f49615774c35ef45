//! The palisade.toml model and the policy checks it drives (`palisade check`).
//!
//! Modelled on cargo-deny: one module per check, each with its own validated
//! configuration (`cfg.rs`) and its own diagnostics (`diags.rs`), every
//! diagnostic with a stable kebab-case code. The crate does no rendering and
//! no network access: callers hand in the inventories, the advisory matches,
//! the manifests and (optionally) publish times, and get a [`Report`] back.
//!
//! Policy applies to everything in the lockfile, not only to new entries: a
//! cooldown or a ban added today flags what is already locked.

pub mod advisories;
pub mod bans;
pub mod config;
pub mod diag;
pub mod duration;
pub mod install_scripts;
pub mod manifest;
pub mod pinning;
pub mod release_age;
pub mod scan;
pub mod sources;
pub mod spec;

use std::collections::BTreeMap;

use palisade_advisory::AdvisoryMatch;
use palisade_core::{Inventory, PackageId};
use serde::Serialize;
use time::OffsetDateTime;

pub use config::{Config, ConfigError, ConfigIssue};
pub use diag::{all_codes, Code, Diagnostic, Label, Level};
pub use install_scripts::{InstallScript, RegistryScripts};
pub use manifest::Manifest;
pub use release_age::PublishTimes;
pub use spec::PackageSpec;

/// How many dependency paths a diagnostic lists.
pub const MAX_PATHS: usize = 5;

/// Everything the checks look at. The caller gathers it (files, database,
/// registry) so the checks themselves are pure and testable.
pub struct Input<'a> {
    /// Where the project is, as displayed (for `lockfile-missing`).
    pub project: &'a str,
    /// Every lockfile of the project; empty when there is none.
    pub inventories: &'a [Inventory],
    /// Advisory matches, one list per inventory (same order).
    pub advisories: &'a [Vec<AdvisoryMatch>],
    /// package.json of the root and of every workspace member found.
    pub manifests: &'a [Manifest],
    /// Lifecycle scripts read from installed `node_modules/*/package.json`;
    /// an empty map means the package.json was read and runs nothing.
    pub installed_scripts: &'a BTreeMap<PackageId, BTreeMap<String, String>>,
    /// Install scripts per version from the registry's packuments, for
    /// lockfiles that do not record them; `None` when there is no registry
    /// data (offline). A package missing from the map was not looked up.
    pub registry_scripts: Option<&'a BTreeMap<PackageId, RegistryScripts>>,
    /// Publish times for the release-age check; `None` when there is no registry data.
    pub publish_times: Option<&'a dyn PublishTimes>,
    /// "Now", injected so expiry and age are testable.
    pub now: OffsetDateTime,
}

/// The result of every check.
#[derive(Debug, Serialize)]
pub struct Report {
    pub packages_checked: usize,
    pub diagnostics: Vec<Diagnostic>,
    /// Packages whose lifecycle scripts would run on install, allowed or not.
    pub install_scripts: Vec<InstallScript>,
}

impl Report {
    /// True when any diagnostic is an error (exit 1).
    pub fn failed(&self) -> bool {
        self.diagnostics.iter().any(|d| d.level == Level::Error)
    }
}

/// Run every check.
pub fn check(config: &Config, input: &Input<'_>) -> Report {
    let mut diagnostics = Vec::new();
    advisories::check(config, input, &mut diagnostics);
    pinning::check(config, input, &mut diagnostics);
    sources::check(config, input, &mut diagnostics);
    let install_scripts = install_scripts::check(config, input, &mut diagnostics);
    release_age::check(config, input, &mut diagnostics);
    bans::check(config, input, &mut diagnostics);
    // Errors first, then by code and package, so output is stable.
    diagnostics.sort_by(|a, b| {
        (std::cmp::Reverse(a.level), a.code, &a.package, &a.message).cmp(&(
            std::cmp::Reverse(b.level),
            b.code,
            &b.package,
            &b.message,
        ))
    });
    Report {
        packages_checked: input.inventories.iter().map(|i| i.packages.len()).sum(),
        diagnostics,
        install_scripts,
    }
}

/// The label pointing at a package's lockfile entry.
/// For every "these were not checked" warning: `("3 packages", "a@1, b@2, c@3")`,
/// naming at most ten and counting the rest (`"… and 5 more"`). Sorts and dedups `names`.
pub(crate) fn count_and_name(names: &mut Vec<String>) -> (String, String) {
    const SHOWN: usize = 10;
    names.sort();
    names.dedup();
    let noun = if names.len() == 1 { "package" } else { "packages" };
    let mut listed = names
        .iter()
        .take(SHOWN)
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    let more = names.len().saturating_sub(SHOWN);
    if more > 0 {
        listed.push_str(&format!(" and {more} more"));
    }
    (format!("{} {noun}", names.len()), listed)
}

pub(crate) fn lockfile_label(inventory: &Inventory, line: Option<u32>) -> Label {
    Label::new(inventory.lockfile.clone(), line)
}

/// The label pointing at a palisade.toml entry.
pub(crate) fn config_label(config: &Config, location: Option<config::Location>) -> Option<Label> {
    let file = config.file.clone()?;
    Some(Label {
        file,
        line: location.map(|l| l.line),
        column: location.map(|l| l.column),
        message: None,
    })
}
