//! Renderers of `palisade scan`: table, SARIF and draft OSV records (JSON is the report itself).

use std::io::Write;

use palisade_core::{Severity, Verdict};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::sarif;
use crate::commands::scan::dynamic::{Behaviour, Dynamic};
use crate::commands::scan::{Entry, ScanReport};

fn paint(text: &str, code: &str, color: bool) -> String {
    if color {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

fn location(file: Option<&str>, line: Option<u32>) -> String {
    match (file, line) {
        (Some(file), Some(line)) => format!("{file}:{line}"),
        (Some(file), None) => file.to_string(),
        _ => "-".to_string(),
    }
}

/// One block per package that is not clean (verdict, score, the summary sentence, findings
/// with evidence, capabilities), one line per clean package, worst first; then totals.
pub fn table(out: &mut impl Write, report: &ScanReport, color: bool) -> std::io::Result<()> {
    let mut order: Vec<&Entry> = report.results.iter().collect();
    order.sort_by_key(|e| std::cmp::Reverse(e.result.verdict));
    for entry in &order {
        let result = &entry.result;
        let package = if result.package.version.is_empty() {
            result.package.name.clone()
        } else {
            format!("{}@{}", result.package.name, result.package.version)
        };
        let origin = if entry.target == package {
            String::new()
        } else {
            format!("  ({})", entry.target)
        };
        let verdict = match result.verdict {
            Verdict::Malicious => paint("MALICIOUS ", "1;31", color),
            Verdict::Suspicious => paint("SUSPICIOUS", "1;33", color),
            Verdict::Clean => paint("clean     ", "32", color),
        };
        if result.verdict == Verdict::Clean {
            let notes = if result.findings.is_empty() {
                String::new()
            } else {
                format!("  [{} low-severity finding(s)]", result.findings.len())
            };
            let sandbox = match &entry.dynamic {
                Some(dynamic) if dynamic.error.is_none() => {
                    format!("  [sandbox: clean, {} events]", dynamic.events_count)
                }
                Some(_) => "  [sandbox: not run]".to_string(),
                None => String::new(),
            };
            writeln!(
                out,
                "{verdict}  {package}  score {:.2}{origin}{notes}{sandbox}",
                result.score
            )?;
            if let Some(dynamic) = &entry.dynamic {
                if dynamic.error.is_some() || !dynamic.agreement.is_empty() {
                    dynamic_block(out, dynamic)?;
                }
            }
            continue;
        }
        writeln!(out, "{verdict}  {package}  score {:.2}{origin}", result.score)?;
        if !result.summary.is_empty() {
            writeln!(out, "  {}", result.summary)?;
        }
        let mut findings: Vec<_> = result.findings.iter().collect();
        findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
        for finding in findings {
            let severity = match finding.severity {
                Severity::Critical => paint("critical", "31", color),
                Severity::High => paint("high    ", "33", color),
                other => format!("{:<8}", other.as_str()),
            };
            writeln!(
                out,
                "  {severity}  {}  {}  {}",
                finding.rule,
                location(finding.file.as_deref(), finding.line),
                finding.message
            )?;
            if let Some(evidence) = &finding.evidence {
                writeln!(out, "            evidence: {evidence}")?;
            }
        }
        if !result.capabilities.is_empty() {
            let capabilities: Vec<&str> = result.capabilities.iter().map(|c| c.as_str()).collect();
            writeln!(out, "  capabilities: {}", capabilities.join(", "))?;
        }
        if !result.unparsed_files.is_empty() {
            writeln!(
                out,
                "  not parsed (checked as text): {}",
                palisade_core::bounded_excerpt(&result.unparsed_files.join(", "), 200)
            )?;
        }
        if let Some(dynamic) = &entry.dynamic {
            dynamic_block(out, dynamic)?;
        }
        if let Some(previous) = &entry.previous {
            let what = if previous.high_risk {
                paint("a HIGH-RISK update", "1;31", color)
            } else {
                "no high-risk change".to_string()
            };
            writeln!(out, "  against {}: {what}", previous.version)?;
            if let Some(reasons) = previous.diff.get("reasons").and_then(Value::as_array) {
                for reason in reasons {
                    let text = |key: &str| reason.get(key).and_then(Value::as_str).unwrap_or_default().to_string();
                    writeln!(out, "    ! {} ({})", text("message"), text("code"))?;
                }
            }
        }
        writeln!(out)?;
    }
    // Clean results with a diff still show whether the update is risky.
    for entry in order.iter().filter(|e| e.result.verdict == Verdict::Clean) {
        if let Some(previous) = entry.previous.as_ref().filter(|p| p.high_risk) {
            writeln!(
                out,
                "note: {}@{} against {}: {}",
                entry.result.package.name,
                entry.result.package.version,
                previous.version,
                paint("a HIGH-RISK update", "1;31", color)
            )?;
        }
    }
    let count = |verdict: Verdict| report.results.iter().filter(|e| e.result.verdict == verdict).count();
    let mut totals = format!(
        "{} scanned: {} malicious, {} suspicious, {} clean",
        plural(report.results.len(), "package"),
        count(Verdict::Malicious),
        count(Verdict::Suspicious),
        count(Verdict::Clean)
    );
    if !report.errors.is_empty() {
        totals.push_str(&format!("; {} could not be read", plural(report.errors.len(), "input")));
    }
    if report.results.len() > 1 || !report.errors.is_empty() {
        writeln!(out, "{totals}")?;
    }
    Ok(())
}

/// `--dynamic`: the sandbox's verdict next to the analyzer's, the steps it ran, and where the
/// two analyses agree.
fn dynamic_block(out: &mut impl Write, dynamic: &Dynamic) -> std::io::Result<()> {
    let Some(verdict) = dynamic.verdict else {
        let reason = dynamic.error.as_deref().unwrap_or_default();
        return writeln!(out, "  sandbox: not run ({reason}); static result only");
    };
    let steps: Vec<String> = dynamic
        .stages
        .iter()
        .map(|stage| format!("{} {}", stage.name, stage.outcome))
        .collect();
    writeln!(
        out,
        "  sandbox: {verdict} (static: {}), {} events in {} ms; steps: {}",
        dynamic.static_verdict,
        dynamic.events_count,
        dynamic.duration_ms,
        if steps.is_empty() {
            "none".to_string()
        } else {
            steps.join(", ")
        }
    )?;
    let agreement = &dynamic.agreement;
    let line = |list: &[Behaviour], rules: fn(&Behaviour) -> Vec<String>| -> String {
        list.iter()
            .map(|behaviour| format!("{} ({})", behaviour.capability, rules(behaviour).join(", ")))
            .collect::<Vec<_>>()
            .join("; ")
    };
    let both = |b: &Behaviour| b.static_rules.iter().chain(&b.dynamic_rules).cloned().collect();
    if !agreement.both.is_empty() {
        writeln!(out, "    agree: {}", line(&agreement.both, both))?;
    }
    if !agreement.static_only.is_empty() {
        writeln!(
            out,
            "    static only (did not happen in the sandbox): {}",
            line(&agreement.static_only, |b| b.static_rules.clone())
        )?;
    }
    if !agreement.dynamic_only.is_empty() {
        writeln!(
            out,
            "    sandbox only (not visible to static analysis): {}",
            line(&agreement.dynamic_only, |b| b.dynamic_rules.clone())
        )?;
    }
    if !agreement.not_observable.is_empty() {
        let list: Vec<&str> = agreement.not_observable.iter().map(|c| c.as_str()).collect();
        writeln!(out, "    static, not observable in a sandbox: {}", list.join(", "))?;
    }
    Ok(())
}

fn plural(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

/// SARIF 2.1.0: every analyzer rule (from its documentation) as a SARIF rule, every finding a
/// result whose location is the file inside the package (`name@version/path`, or the real path
/// for a scanned directory).
pub fn sarif(results: &[Entry]) -> Value {
    let mut rules: Vec<sarif::Rule> = palisade_analyze::all_rules()
        .into_iter()
        .map(|rule| sarif::Rule {
            id: rule.id.to_string(),
            short_description: rule.summary.to_string(),
            full_description: rule.docs.trim().to_string(),
            help_uri: None,
            severity: rule.severity,
        })
        .collect();
    for (id, severity, docs) in crate::commands::explain::CLI_RULES {
        rules.push(sarif::Rule {
            id: id.to_string(),
            short_description: docs.split("\n\n").next().unwrap_or_default().to_string(),
            full_description: docs.to_string(),
            help_uri: None,
            severity: severity.parse().unwrap_or(Severity::High),
        });
    }
    // `--dynamic`: the sandbox's rules, when one of them was reported.
    let dynamic = results
        .iter()
        .filter_map(|entry| entry.dynamic.as_ref())
        .flat_map(|dynamic| &dynamic.findings);
    let mut sandbox_rules = std::collections::BTreeMap::new();
    for finding in dynamic {
        sandbox_rules.entry(finding.rule.as_str()).or_insert(finding.severity);
    }
    for (id, description) in palisade_sandbox::rule_ids() {
        if let Some(severity) = sandbox_rules.get(id) {
            rules.push(sarif::Rule {
                id: id.to_string(),
                short_description: description.to_string(),
                full_description: format!("{description} (observed in the palisade sandbox; see docs/sandbox.md)"),
                help_uri: None,
                severity: *severity,
            });
        }
    }
    let known: std::collections::HashSet<String> = rules.iter().map(|r| r.id.clone()).collect();
    let mut extra = std::collections::BTreeMap::new();
    let mut findings = Vec::new();
    for entry in results {
        let result = &entry.result;
        let package = format!("{}@{}", result.package.name, result.package.version);
        let directory = std::path::Path::new(&entry.target).is_dir();
        for finding in &result.findings {
            if !known.contains(&finding.rule) {
                extra.entry(finding.rule.clone()).or_insert(finding.severity);
            }
            let file = finding.file.as_deref().unwrap_or("package.json");
            let uri = if directory {
                format!("{}/{file}", entry.target.trim_end_matches('/'))
            } else if finding.rule == crate::commands::scan::INTEGRITY_MISMATCH {
                file.to_string()
            } else {
                format!("{package}/{file}")
            };
            let mut message = format!("{package}: {}", finding.message);
            if let Some(evidence) = &finding.evidence {
                message.push_str(&format!(" (evidence: {evidence})"));
            }
            findings.push(sarif::Finding {
                rule_id: finding.rule.clone(),
                severity: finding.severity,
                message,
                uri: uri_reference(&uri),
                line: finding.line,
                fingerprint: format!("{}:{}:{file}", finding.rule, result.package.name),
            });
        }
    }
    // Rules a finding used that the registry does not document (should not happen; keeps the
    // document valid: every ruleId has a rule).
    for (id, severity) in extra {
        rules.push(sarif::Rule {
            short_description: id.clone(),
            full_description: id.clone(),
            id,
            help_uri: None,
            severity,
        });
    }
    sarif::document(&rules, &findings)
}

/// Percent-encodes what may not appear in a URI reference (spaces, `%`, controls, non-ASCII).
fn uri_reference(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/@:!$&'()*+,;=".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Draft OSV records (schema 1.6, in the style of the OpenSSF malicious-packages repository)
/// for every malicious result: `affected` with the version, the evidence in `details`, the
/// rule ids in `database_specific`. The id is a placeholder (`MAL-0000-` + a stable hash) for
/// the database to replace when the report is accepted.
pub fn osv(results: &[Entry]) -> Value {
    let now = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default();
    let records: Vec<Value> = results
        .iter()
        .filter(|entry| entry.result.verdict == Verdict::Malicious)
        .map(|entry| record(entry, &now))
        .collect();
    Value::Array(records)
}

fn record(entry: &Entry, now: &str) -> Value {
    let result = &entry.result;
    let name = &result.package.name;
    let version = &result.package.version;
    let digest = Sha256::digest(format!("npm/{name}@{version}").as_bytes());
    let id: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
    let how = if entry.dynamic.as_ref().is_some_and(|d| d.verdict.is_some()) {
        "Static and dynamic (sandbox) analysis"
    } else {
        "Static analysis"
    };
    let mut details = format!(
        "{how} by palisade found malicious behaviour in `{name}@{version}` (score {:.2}).\n\n{}\n\nEvidence:\n",
        result.score, result.summary
    );
    let mut findings: Vec<_> = result.findings.iter().collect();
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    for finding in &findings {
        details.push_str(&format!(
            "- [{}] {} ({}): {}",
            finding.severity,
            finding.rule,
            location(finding.file.as_deref(), finding.line),
            finding.message
        ));
        if let Some(evidence) = &finding.evidence {
            details.push_str(&format!(" — `{}`", evidence.replace('`', "'")));
        }
        details.push('\n');
    }
    details.push_str(
        "\nAny computer that has this package installed or running should be considered fully compromised. \
         All secrets and keys stored on that computer should be rotated immediately from a different computer. \
         The package should be removed, but as full control of the computer may have been given to an outside \
         entity, there is no guarantee that removing the package will remove all malicious software resulting \
         from installing it.\n",
    );
    let mut rules: Vec<&str> = result.findings.iter().map(|f| f.rule.as_str()).collect();
    rules.sort_unstable();
    rules.dedup();
    let capabilities: Vec<&str> = result.capabilities.iter().map(|c| c.as_str()).collect();
    json!({
        "schema_version": "1.6.0",
        "id": format!("MAL-0000-{id}"),
        "modified": now,
        "published": now,
        "summary": format!("Malicious code in {name} (npm)"),
        "details": details,
        "affected": [{
            "package": {"ecosystem": "npm", "name": name},
            "versions": [version],
        }],
        "credits": [{"name": "palisade", "type": "FINDER"}],
        "database_specific": {
            "malicious-packages-origins": [{
                "source": "palisade",
                "import_time": now,
                "versions": [version],
            }],
            "palisade": {
                "draft": true,
                "score": result.score,
                "rules": rules,
                "capabilities": capabilities,
                "target": entry.target,
            },
        },
    })
}
