//! SARIF 2.1.0 output, in the subset GitHub code scanning reads.
//! Spec: https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html

use palisade_core::Severity;
use serde_json::{json, Value};

/// A rule (one per advisory id or analyzer rule).
pub struct Rule {
    pub id: String,
    pub short_description: String,
    pub full_description: String,
    pub help_uri: Option<String>,
    pub severity: Severity,
}

/// One result: a rule that fired on a package at a place in a file.
pub struct Finding {
    pub rule_id: String,
    pub severity: Severity,
    pub message: String,
    /// File the finding points into, relative to the repository root when possible.
    pub uri: String,
    pub line: Option<u32>,
    /// Stable identity across runs, so code scanning can track the alert.
    pub fingerprint: String,
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Moderate => "warning",
        Severity::Low | Severity::Unknown => "note",
    }
}

/// GitHub's `security-severity` property: a CVSS-like score string that picks
/// the alert's severity band.
fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Moderate => "5.5",
        Severity::Low => "2.0",
        Severity::Unknown => "0.0",
    }
}

pub fn document(rules: &[Rule], findings: &[Finding]) -> Value {
    let rules: Vec<Value> = rules
        .iter()
        .map(|rule| {
            let mut value = json!({
                "id": rule.id,
                "name": rule.id,
                "shortDescription": {"text": rule.short_description},
                "fullDescription": {"text": rule.full_description},
                "defaultConfiguration": {"level": level(rule.severity)},
                "properties": {
                    "security-severity": security_severity(rule.severity),
                    "tags": ["security", "supply-chain"],
                },
            });
            if let Some(uri) = &rule.help_uri {
                value["helpUri"] = json!(uri);
                value["help"] = json!({"text": format!("See {uri}")});
            }
            value
        })
        .collect();
    let results: Vec<Value> = findings
        .iter()
        .map(|finding| {
            let mut region = json!({});
            if let Some(line) = finding.line {
                region = json!({"startLine": line});
            }
            let mut location = json!({"artifactLocation": {"uri": finding.uri}});
            if finding.line.is_some() {
                location["region"] = region;
            }
            json!({
                "ruleId": finding.rule_id,
                "level": level(finding.severity),
                "message": {"text": finding.message},
                "locations": [{"physicalLocation": location}],
                "partialFingerprints": {"palisade/v1": finding.fingerprint},
            })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "palisade",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "results": results,
        }],
    })
}
