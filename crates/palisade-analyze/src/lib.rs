//! Static analysis of npm packages.
//!
//! Pipeline per package: every file is classified and, when it is JavaScript or TypeScript,
//! parsed with oxc into [`facts::FileFacts`] (calls with resolved callees and constant-folded
//! arguments, assignments, member reads, string constants, text metrics). Rules under
//! [`rules`] (one per file) turn facts into [`Finding`]s; [`score`] turns findings into a
//! score and a [`Verdict`]. Nothing is executed.

pub mod diff;
pub mod facts;
pub mod rules;
pub mod score;

use palisade_core::{Capability, Finding, Verdict};
use palisade_tarball::PackageContents;
use serde::Serialize;

pub use diff::{diff_packages, DiffOptions, DiffReport};
pub use rules::{rule_info, rules as all_rules, RuleInfo};

/// What the analyzer knows about a package besides its files.
#[derive(Debug, Clone, Default)]
pub struct ScanOptions {
    /// The registry's manifest for this version (the version document), used to detect
    /// manifest confusion (tarball `package.json` differing from what the registry shows).
    pub registry_manifest: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PackageRef {
    pub name: String,
    pub version: String,
}

/// The analysis of one package.
#[derive(Debug, Clone, Serialize)]
pub struct ScanResult {
    pub package: PackageRef,
    pub verdict: Verdict,
    /// 0.0 (nothing of note) to 1.0 (certainly malicious).
    pub score: f64,
    pub findings: Vec<Finding>,
    pub capabilities: Vec<Capability>,
    /// A sentence that says why, for people.
    pub summary: String,
    pub files_scanned: usize,
    pub bytes_scanned: u64,
    /// Files that could not be parsed (still checked by textual rules).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unparsed_files: Vec<String>,
}

/// Analyzes one package: classify and parse every file, run every rule, score. Cheap to
/// call from many threads at once (no shared state); scanning many packages in parallel is
/// the caller's job. Large or deeply nested files are parsed on a short-lived thread of
/// their own with a large stack (see `facts::extract`).
pub fn scan_package(contents: &PackageContents, options: &ScanOptions) -> ScanResult {
    let package = rules::package_facts(contents, options);
    let mut findings = Vec::new();
    rules::run_all(&package, &mut findings);
    score::assemble(&package, findings)
}
