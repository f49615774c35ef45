//! `palisade scan --dynamic`: the behavioural sandbox (palisade-sandbox) run on the same
//! package contents the static analyzer read, and the two merged.
//!
//! Merge rules (docs/scan.md, "Dynamic analysis"):
//! - the result's `verdict` is the worse of the static and the dynamic verdict (a sandbox run
//!   cannot clear a package the analyzer flagged, nor the other way round); `score` stays the
//!   analyzer's;
//! - the sandbox's findings (rule ids `sandbox-*`) are appended to the result's `findings`, and
//!   their capabilities to its `capabilities`;
//! - `dynamic` keeps the sandbox's own verdict, findings, steps and counts, and the agreement:
//!   per capability, whether both analyses saw it, only the static one (code that never ran in
//!   the sandbox, or ran down another path) or only the sandbox (decoded, downloaded or computed
//!   at run time, invisible to the analyzer).

use palisade_core::{Capability, Finding, Verdict};
use palisade_sandbox::{EventKind, Options, SandboxReport, Stage, Target};
use palisade_tarball::PackageContents;
use serde::Serialize;

use super::Entry;

/// What the sandbox saw for one package, and how it compares with the static analysis.
#[derive(Debug, Clone, Serialize)]
pub struct Dynamic {
    /// The sandbox's verdict on its own; `null` when the run failed (`error`).
    pub verdict: Option<Verdict>,
    /// The static analyzer's verdict on its own (the result's `verdict` is the worse of both).
    pub static_verdict: Verdict,
    /// The sandbox's findings (also in the result's `findings`).
    pub findings: Vec<Finding>,
    /// Events recorded in the timeline (plus those over the sandbox's event limit).
    pub events_count: u64,
    pub duration_ms: u64,
    /// The lifecycle steps run (`preinstall`, `install`, `postinstall`, `load`) and their outcome.
    pub stages: Vec<Stage>,
    pub agreement: Agreement,
    /// Set when the package could not be run in the sandbox (the static result stands).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Capabilities compared between the two analyses. Capabilities the sandbox cannot observe
/// (`eval`, `obfuscation`, `env`, `native`: it sees syscalls, files and traffic, not code) are
/// listed apart in `not_observable`, never as a disagreement.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Agreement {
    pub both: Vec<Behaviour>,
    pub static_only: Vec<Behaviour>,
    pub dynamic_only: Vec<Behaviour>,
    pub not_observable: Vec<Capability>,
}

impl Agreement {
    pub fn is_empty(&self) -> bool {
        self.both.is_empty()
            && self.static_only.is_empty()
            && self.dynamic_only.is_empty()
            && self.not_observable.is_empty()
    }
}

/// One capability and the rules that reported it on each side.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Behaviour {
    pub capability: Capability,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub static_rules: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dynamic_rules: Vec<String>,
}

/// Capabilities the sandbox has no way to see.
const NOT_OBSERVABLE: [Capability; 4] = [
    Capability::Eval,
    Capability::Obfuscation,
    Capability::Env,
    Capability::Native,
];

/// The lifecycle steps that make `install-script` observed when the sandbox ran one.
const LIFECYCLE: [&str; 3] = ["preinstall", "install", "postinstall"];

/// Runs the sandbox on `contents` and merges its report into `entry`. A sandbox failure is
/// kept in `dynamic.error`; the static result is left as it is.
pub fn attach(entry: &mut Entry, contents: PackageContents, options: &Options) {
    let outcome = palisade_sandbox::run(&Target::Contents(contents), options);
    merge(entry, outcome.map_err(|error| error.to_string()));
}

/// Merges a sandbox report (or the reason there is none) into a static result.
pub fn merge(entry: &mut Entry, outcome: Result<SandboxReport, String>) {
    let static_verdict = entry.result.verdict;
    let report = match outcome {
        Ok(report) => report,
        Err(error) => {
            entry.dynamic = Some(Dynamic {
                verdict: None,
                static_verdict,
                findings: Vec::new(),
                events_count: 0,
                duration_ms: 0,
                stages: Vec::new(),
                agreement: Agreement::default(),
                error: Some(error),
            });
            return;
        }
    };
    let agreement = compare(&entry.result.findings, &report);
    let result = &mut entry.result;
    result.verdict = result.verdict.max(report.verdict);
    result.findings.extend(report.findings.iter().cloned());
    result.capabilities.extend(report.summary.capabilities.iter().copied());
    result.capabilities.sort();
    result.capabilities.dedup();
    if report.verdict != static_verdict {
        // The first of the worst (the sandbox lists its most telling finding first).
        let worst = report
            .findings
            .iter()
            .min_by_key(|finding| std::cmp::Reverse(finding.severity));
        let what = match worst {
            Some(worst) => format!(": {} ({})", worst.message, worst.rule),
            None => String::new(),
        };
        result.summary = format!(
            "{} In the sandbox it was {}{what}.",
            result.summary.trim_end(),
            report.verdict
        )
        .trim_start()
        .to_string();
    }
    entry.dynamic = Some(Dynamic {
        verdict: Some(report.verdict),
        static_verdict,
        findings: report.findings,
        events_count: report.events.len() as u64 + report.events_dropped,
        duration_ms: report.duration_ms,
        stages: report.stages,
        agreement,
        error: None,
    });
}

/// Per capability: the static rules (every finding's capabilities) against the dynamic ones
/// (the sandbox findings' capabilities, and `install-script` when a lifecycle step ran).
fn compare(static_findings: &[Finding], report: &SandboxReport) -> Agreement {
    use std::collections::{BTreeMap, BTreeSet};
    let mut sides: BTreeMap<Capability, (BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
    for finding in static_findings {
        for capability in &finding.capabilities {
            sides.entry(*capability).or_default().0.insert(finding.rule.clone());
        }
    }
    for finding in &report.findings {
        for capability in &finding.capabilities {
            sides.entry(*capability).or_default().1.insert(finding.rule.clone());
        }
    }
    for stage in report
        .stages
        .iter()
        .filter(|stage| LIFECYCLE.contains(&stage.name.as_str()))
    {
        sides
            .entry(Capability::InstallScript)
            .or_default()
            .1
            .insert(format!("{} step ran", stage.name));
    }
    // Files outside the package opened or written (honeytoken files included): what the
    // analyzer's `filesystem` capability stands for.
    let files = report
        .events
        .iter()
        .filter(|event| match event.kind {
            EventKind::FileRead | EventKind::FileWrite => true,
            EventKind::Honeytoken => event.detail.starts_with("read "),
            _ => false,
        })
        .count();
    if files > 0 {
        sides
            .entry(Capability::Filesystem)
            .or_default()
            .1
            .insert(format!("{files} file access(es) outside the package"));
    }
    let mut agreement = Agreement::default();
    for (capability, (static_rules, dynamic_rules)) in sides {
        if NOT_OBSERVABLE.contains(&capability) {
            agreement.not_observable.push(capability);
            continue;
        }
        let behaviour = Behaviour {
            capability,
            static_rules: static_rules.into_iter().collect(),
            dynamic_rules: dynamic_rules.into_iter().collect(),
        };
        match (behaviour.static_rules.is_empty(), behaviour.dynamic_rules.is_empty()) {
            (false, false) => agreement.both.push(behaviour),
            (false, true) => agreement.static_only.push(behaviour),
            (true, false) => agreement.dynamic_only.push(behaviour),
            (true, true) => {}
        }
    }
    agreement
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_analyze::{PackageRef, ScanResult};
    use palisade_core::{Confidence, PackageId, Severity};

    fn finding(rule: &str, severity: Severity, capabilities: &[Capability]) -> Finding {
        Finding::new(rule, severity, Confidence::High, format!("{rule} matched")).with_capabilities(capabilities)
    }

    fn entry(verdict: Verdict, findings: Vec<Finding>) -> Entry {
        let mut capabilities: Vec<Capability> = findings.iter().flat_map(|f| f.capabilities.clone()).collect();
        capabilities.sort();
        capabilities.dedup();
        Entry {
            result: ScanResult {
                package: PackageRef {
                    name: "demo".into(),
                    version: "1.0.0".into(),
                },
                verdict,
                score: 0.3,
                findings,
                capabilities,
                summary: "Static summary.".into(),
                files_scanned: 2,
                bytes_scanned: 100,
                unparsed_files: Vec::new(),
            },
            target: "demo".into(),
            scan_ms: 1.0,
            error: None,
            previous: None,
            dynamic: None,
        }
    }

    fn report(verdict: Verdict, findings: Vec<Finding>, stages: &[&str]) -> SandboxReport {
        let mut capabilities: Vec<Capability> = findings.iter().flat_map(|f| f.capabilities.clone()).collect();
        capabilities.sort();
        capabilities.dedup();
        SandboxReport {
            package: PackageId::new("demo", "1.0.0"),
            events: Vec::new(),
            findings,
            verdict,
            stages: stages
                .iter()
                .map(|name| Stage {
                    name: name.to_string(),
                    command: "node x.js".into(),
                    exit_code: Some(0),
                    outcome: "exit 0".into(),
                    started_ms: 0,
                    duration_ms: 5,
                })
                .collect(),
            network: Vec::new(),
            output: String::new(),
            duration_ms: 120,
            events_dropped: 3,
            summary: palisade_sandbox::Summary {
                capabilities,
                ..Default::default()
            },
            dropped_files: Vec::new(),
        }
    }

    #[test]
    fn the_worse_verdict_wins_and_dynamic_findings_join_the_static_ones() {
        let mut scanned = entry(
            Verdict::Suspicious,
            vec![
                finding(
                    "eval-decoded",
                    Severity::High,
                    &[Capability::Eval, Capability::Obfuscation],
                ),
                finding("fs-write-home", Severity::Moderate, &[Capability::Filesystem]),
            ],
        );
        let dynamic = report(
            Verdict::Malicious,
            vec![finding(
                "sandbox-network-exfil",
                Severity::Critical,
                &[Capability::Network, Capability::Credentials],
            )],
            &["postinstall", "load"],
        );
        merge(&mut scanned, Ok(dynamic));
        assert_eq!(scanned.result.verdict, Verdict::Malicious);
        assert!(scanned
            .result
            .findings
            .iter()
            .any(|f| f.rule == "sandbox-network-exfil"));
        assert!(scanned.result.capabilities.contains(&Capability::Network));
        assert!(scanned
            .result
            .summary
            .starts_with("Static summary. In the sandbox it was malicious"));
        let dynamic = scanned.dynamic.as_ref().expect("merged");
        assert_eq!(dynamic.verdict, Some(Verdict::Malicious));
        assert_eq!(dynamic.static_verdict, Verdict::Suspicious);
        assert_eq!(dynamic.events_count, 3);
        let agreement = &dynamic.agreement;
        let capabilities = |list: &[Behaviour]| list.iter().map(|b| b.capability).collect::<Vec<_>>();
        assert_eq!(
            capabilities(&agreement.dynamic_only),
            [Capability::InstallScript, Capability::Network, Capability::Credentials]
                .into_iter()
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect::<Vec<_>>()
        );
        assert_eq!(capabilities(&agreement.static_only), [Capability::Filesystem]);
        assert!(agreement.both.is_empty());
        assert_eq!(agreement.not_observable, [Capability::Eval, Capability::Obfuscation]);
        let install = agreement
            .dynamic_only
            .iter()
            .find(|b| b.capability == Capability::InstallScript)
            .expect("install-script observed");
        assert_eq!(install.dynamic_rules, ["postinstall step ran"]);
        assert!(install.static_rules.is_empty());
    }

    #[test]
    fn a_clean_sandbox_run_never_lowers_the_static_verdict() {
        let mut scanned = entry(
            Verdict::Malicious,
            vec![finding(
                "install-script-network",
                Severity::Critical,
                &[Capability::Network, Capability::InstallScript],
            )],
        );
        merge(&mut scanned, Ok(report(Verdict::Clean, Vec::new(), &["postinstall"])));
        assert_eq!(scanned.result.verdict, Verdict::Malicious);
        let agreement = &scanned.dynamic.as_ref().expect("merged").agreement;
        assert_eq!(agreement.both.len(), 1);
        assert_eq!(agreement.both[0].capability, Capability::InstallScript);
        assert_eq!(agreement.static_only[0].capability, Capability::Network);
        assert_eq!(agreement.static_only[0].static_rules, ["install-script-network"]);
    }

    #[test]
    fn a_failed_run_keeps_the_static_result_and_says_why() {
        let mut scanned = entry(Verdict::Clean, Vec::new());
        merge(&mut scanned, Err("node was not found".into()));
        assert_eq!(scanned.result.verdict, Verdict::Clean);
        let dynamic = scanned.dynamic.as_ref().expect("merged");
        assert_eq!(dynamic.verdict, None);
        assert_eq!(dynamic.error.as_deref(), Some("node was not found"));
        let json = serde_json::to_value(&scanned).expect("serializable");
        assert_eq!(json["dynamic"]["verdict"], serde_json::Value::Null);
        assert_eq!(json["verdict"], "clean");
    }
}
