//! From findings to a score and a verdict.
//!
//! The model (documented for users in docs/scan.md, section "Scoring"):
//!
//! 1. Each finding weighs `severity × confidence` ([`finding_weight`]).
//! 2. Repeats of one rule add little: the strongest finding of a rule counts in full, the
//!    next ones a quarter, a sixteenth (at most [`MAX_PER_RULE`] count at all). Twenty
//!    `eval` calls in one bundle are one behaviour, not twenty.
//! 3. Behaviours that together make an attack add a combination weight ([`Combination`]):
//!    an install script that runs a file which itself talks to the network or reads
//!    credentials; credentials or environment read and a network sink; a decoded payload
//!    and dynamic code; obfuscation and a network sink or an install hook.
//! 4. Weights combine as a noisy-OR: `score = 1 − Π(1 − wᵢ)`, so the score is in [0, 1],
//!    grows with every independent piece of evidence and never double-counts to above 1.
//! 5. `score ≥ MALICIOUS` is `malicious`, `score ≥ SUSPICIOUS` is `suspicious`.

use palisade_core::{Capability, Confidence, Finding, Severity, Verdict};

use crate::facts::FileKind;
use crate::rules::install_script;
use crate::rules::PackageFacts;
use crate::{PackageRef, ScanResult};

/// At or above: `malicious`.
pub const MALICIOUS: f64 = 0.7;
/// At or above: `suspicious`.
pub const SUSPICIOUS: f64 = 0.35;
/// Findings of one rule that count towards the score (the rest are still reported).
pub const MAX_PER_RULE: usize = 3;

/// The weight of one finding on its own.
pub fn finding_weight(severity: Severity, confidence: Confidence) -> f64 {
    let severity = match severity {
        Severity::Critical => 0.85,
        Severity::High => 0.5,
        Severity::Moderate => 0.15,
        Severity::Low => 0.03,
        Severity::Unknown => 0.01,
    };
    let confidence = match confidence {
        Confidence::High => 1.0,
        Confidence::Medium => 0.8,
        Confidence::Low => 0.55,
    };
    severity * confidence
}

/// A set of behaviours that together are more than their parts.
#[derive(Debug, Clone, PartialEq)]
pub struct Combination {
    pub weight: f64,
    /// For people: what the package does, as a clause ("it reads secrets and has a
    /// network sink").
    pub reason: String,
}

/// The score and verdict of a set of findings, with the combinations that raised it.
#[derive(Debug, Clone)]
pub struct Assessment {
    pub score: f64,
    pub verdict: Verdict,
    pub combinations: Vec<Combination>,
}

pub fn verdict_for(score: f64) -> Verdict {
    if score >= MALICIOUS {
        Verdict::Malicious
    } else if score >= SUSPICIOUS {
        Verdict::Suspicious
    } else {
        Verdict::Clean
    }
}

/// Scores findings. `install_files` are the package files that lifecycle scripts run.
pub fn assess(findings: &[Finding], install_files: &[String]) -> Assessment {
    let mut weights = per_rule_weights(findings);
    let combinations = combinations(findings, install_files);
    weights.extend(combinations.iter().map(|c| c.weight));
    let remaining: f64 = weights.iter().map(|w| 1.0 - w.clamp(0.0, 1.0)).product();
    let score = ((1.0 - remaining) * 1000.0).round() / 1000.0;
    Assessment {
        score,
        verdict: verdict_for(score),
        combinations,
    }
}

fn per_rule_weights(findings: &[Finding]) -> Vec<f64> {
    let mut by_rule: Vec<(&str, Vec<f64>)> = Vec::new();
    for finding in findings {
        let weight = finding_weight(finding.severity, finding.confidence);
        match by_rule.iter_mut().find(|(rule, _)| *rule == finding.rule) {
            Some((_, weights)) => weights.push(weight),
            None => by_rule.push((finding.rule.as_str(), vec![weight])),
        }
    }
    let mut out = Vec::new();
    for (_, mut weights) in by_rule {
        weights.sort_by(|a, b| b.total_cmp(a));
        let mut factor = 1.0;
        for weight in weights.into_iter().take(MAX_PER_RULE) {
            out.push(weight * factor);
            factor /= 8.0;
        }
    }
    out
}

/// Capability groups, for combinations.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Group {
    Network,
    Secrets,
    Exec,
    Decoded,
    Obfuscated,
}

fn groups_of(finding: &Finding) -> Vec<Group> {
    let mut groups = Vec::new();
    for capability in &finding.capabilities {
        let group = match capability {
            Capability::Network => Group::Network,
            Capability::Env | Capability::Credentials => Group::Secrets,
            Capability::Shell | Capability::Eval | Capability::Native => Group::Exec,
            Capability::Obfuscation => Group::Obfuscated,
            _ => continue,
        };
        if !groups.contains(&group) {
            groups.push(group);
        }
    }
    if finding.rule == "encoded-payload" && !groups.contains(&Group::Decoded) {
        groups.push(Group::Decoded);
    }
    groups
}

/// Findings that count for combinations: at least moderate, not low-confidence listings.
fn significant(finding: &Finding) -> bool {
    finding.severity >= Severity::Moderate && !finding.rule.starts_with("install-script")
}

fn combinations(findings: &[Finding], install_files: &[String]) -> Vec<Combination> {
    let significant: Vec<(&Finding, Vec<Group>)> = findings
        .iter()
        .filter(|f| significant(f))
        .map(|f| (f, groups_of(f)))
        .collect();
    let has = |group: Group| significant.iter().any(|(_, groups)| groups.contains(&group));
    let same_file = |a: Group, b: Group| {
        significant.iter().any(|(fa, ga)| {
            ga.contains(&a)
                && fa.file.is_some()
                && significant.iter().any(|(fb, gb)| gb.contains(&b) && fb.file == fa.file)
        })
    };
    let mut out = Vec::new();

    // 1. The install hook runs a file that does something risky itself.
    let in_install_files: Vec<&(&Finding, Vec<Group>)> = significant
        .iter()
        .filter(|(f, _)| {
            f.file
                .as_ref()
                .is_some_and(|file| install_files.iter().any(|i| i == file))
        })
        .collect();
    if !in_install_files.is_empty() {
        let mut groups: Vec<Group> = Vec::new();
        for (_, g) in &in_install_files {
            for group in g {
                if !groups.contains(group) {
                    groups.push(*group);
                }
            }
        }
        let file = in_install_files[0].0.file.clone().unwrap_or_default();
        let risky = groups
            .iter()
            .filter(|g| matches!(g, Group::Network | Group::Secrets | Group::Exec))
            .count();
        let weight = match (
            groups.contains(&Group::Network),
            groups.contains(&Group::Secrets),
            risky,
        ) {
            (true, true, _) => 0.6,
            (_, _, n) if n >= 2 => 0.35,
            _ if groups.contains(&Group::Decoded) || groups.contains(&Group::Obfuscated) => 0.35,
            (_, _, 1) => 0.15,
            _ => 0.1,
        };
        out.push(Combination {
            weight,
            reason: format!("its install script runs {file}, which {}", describe(&groups)),
        });
    }
    // 2. Secrets read and a network sink.
    if has(Group::Secrets) && has(Group::Network) {
        let together = same_file(Group::Secrets, Group::Network);
        out.push(Combination {
            weight: if together { 0.5 } else { 0.3 },
            reason: if together {
                "it reads secrets and sends data over the network from the same file".to_string()
            } else {
                "it reads secrets and has a network sink".to_string()
            },
        });
    }
    // 3. A decoded payload and dynamic code.
    if has(Group::Decoded) && has(Group::Exec) {
        let together = same_file(Group::Decoded, Group::Exec);
        out.push(Combination {
            weight: if together { 0.5 } else { 0.25 },
            reason: "it decodes a hidden payload and executes code".to_string(),
        });
    }
    // 4. A name that imitates another package (typosquat, dependency-confusion version)
    //    and an install hook that runs code: the classic shape of npm malware.
    let imitates = findings.iter().any(|f| {
        matches!(f.rule.as_str(), "typosquat" | "dependency-confusion-version") && f.severity >= Severity::Moderate
    });
    let runs_code_on_install = findings
        .iter()
        .any(|f| f.rule.starts_with("install-script-") && f.severity >= Severity::Moderate);
    if imitates && runs_code_on_install {
        out.push(Combination {
            weight: 0.4,
            reason: "it imitates another package's name and runs code on install".to_string(),
        });
    }
    // 5. Obfuscation with a network sink or an install hook.
    if has(Group::Obfuscated) {
        let obfuscated_install = in_install_files.iter().any(|(_, g)| g.contains(&Group::Obfuscated));
        if has(Group::Network) || obfuscated_install {
            out.push(Combination {
                weight: if obfuscated_install { 0.5 } else { 0.3 },
                reason: if obfuscated_install {
                    "it runs obfuscated code on install".to_string()
                } else {
                    "it hides obfuscated code next to a network sink".to_string()
                },
            });
        }
    }
    out
}

fn describe(groups: &[Group]) -> String {
    let mut parts = Vec::new();
    if groups.contains(&Group::Secrets) {
        parts.push("reads credentials or the environment");
    }
    if groups.contains(&Group::Network) {
        parts.push("talks to the network");
    }
    if groups.contains(&Group::Exec) {
        parts.push("runs commands or dynamic code");
    }
    if groups.contains(&Group::Decoded) {
        parts.push("decodes a hidden payload");
    }
    if groups.contains(&Group::Obfuscated) {
        parts.push("is obfuscated");
    }
    if parts.is_empty() {
        return "has risky code".to_string();
    }
    join_clauses(&parts)
}

fn join_clauses(parts: &[&str]) -> String {
    match parts {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// The one sentence people read first.
pub fn summarize(
    verdict: Verdict,
    findings: &[Finding],
    combinations: &[Combination],
    install_commands: &[String],
) -> String {
    if findings.is_empty() {
        return "No risky behaviour found.".to_string();
    }
    let mut clauses: Vec<String> = Vec::new();
    if let Some(command) = install_commands.first() {
        clauses.push(format!(
            "runs `{}` on install",
            palisade_core::bounded_excerpt(command, 60)
        ));
    }
    // The strongest findings, one per rule, install-script listings left to the clause above.
    let mut ranked: Vec<&Finding> = findings
        .iter()
        .filter(|f| install_commands.is_empty() || !f.rule.starts_with("install-script"))
        .collect();
    ranked
        .sort_by(|a, b| finding_weight(b.severity, b.confidence).total_cmp(&finding_weight(a.severity, a.confidence)));
    let mut seen_rules: Vec<&str> = Vec::new();
    for finding in ranked {
        if seen_rules.len() == 3 || seen_rules.contains(&finding.rule.as_str()) {
            continue;
        }
        if verdict != Verdict::Clean && finding.severity < Severity::Moderate {
            continue;
        }
        seen_rules.push(&finding.rule);
        let message = finding.message.trim().trim_end_matches('.');
        let clause = lowercase_first(message);
        clauses.push(match &finding.file {
            Some(file) if file != "package.json" => format!("{clause} ({file})"),
            _ => clause,
        });
    }
    let prefix = match verdict {
        Verdict::Malicious => "Malicious",
        Verdict::Suspicious => "Suspicious",
        Verdict::Clean => "Nothing conclusive",
    };
    let mut sentence = format!("{prefix}: {}", clauses.join("; "));
    if let Some(strongest) = combinations.iter().max_by(|a, b| a.weight.total_cmp(&b.weight)) {
        if verdict != Verdict::Clean {
            sentence.push_str(&format!(" — {}", strongest.reason));
        }
    }
    sentence.push('.');
    sentence
}

fn lowercase_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        // Keep acronyms and identifiers (`NPM_TOKEN`, `XMLHttpRequest`) as written.
        Some(first) if first.is_uppercase() && !chars.next().is_some_and(char::is_uppercase) => {
            first.to_lowercase().chain(text.chars().skip(1)).collect()
        }
        _ => text.to_string(),
    }
}

pub fn assemble(package: &PackageFacts<'_>, findings: Vec<Finding>) -> ScanResult {
    let mut capabilities: Vec<Capability> = findings.iter().flat_map(|f| f.capabilities.iter().copied()).collect();
    capabilities.sort();
    capabilities.dedup();
    let install_files = install_script::install_entry_files(package);
    let install_commands: Vec<String> = install_script::lifecycle_scripts(package)
        .into_iter()
        .filter(|s| s.event != "prepare")
        .map(|s| s.command)
        .collect();
    let assessment = assess(&findings, &install_files);
    let summary = summarize(
        assessment.verdict,
        &findings,
        &assessment.combinations,
        &install_commands,
    );
    let unparsed_files = package
        .files
        .iter()
        .filter(|f| matches!(f.kind, FileKind::JavaScript | FileKind::TypeScript) && !f.parsed)
        .map(|f| f.path.clone())
        .collect();
    ScanResult {
        package: PackageRef {
            name: package.name.clone(),
            version: package.version.clone(),
        },
        verdict: assessment.verdict,
        score: assessment.score,
        summary,
        files_scanned: package.files.len(),
        bytes_scanned: package.files.iter().map(|f| f.size).sum(),
        unparsed_files,
        findings,
        capabilities,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(rule: &str, severity: Severity, confidence: Confidence, file: &str, caps: &[Capability]) -> Finding {
        Finding::new(rule, severity, confidence, format!("{rule} message"))
            .at(file, Some(1))
            .with_capabilities(caps)
    }

    #[test]
    fn one_critical_high_confidence_finding_is_malicious() {
        let findings = [finding(
            "wallet-hijack",
            Severity::Critical,
            Confidence::High,
            "a.js",
            &[Capability::Wallet],
        )];
        let assessment = assess(&findings, &[]);
        assert_eq!(assessment.verdict, Verdict::Malicious);
        assert!((assessment.score - 0.85).abs() < 1e-9);
    }

    #[test]
    fn one_high_finding_is_suspicious_and_low_findings_are_clean() {
        let high = [finding(
            "dynamic-code",
            Severity::High,
            Confidence::High,
            "a.js",
            &[Capability::Eval],
        )];
        assert_eq!(assess(&high, &[]).verdict, Verdict::Suspicious);
        let lows: Vec<Finding> = [
            "install-script",
            "shell-exec",
            "dynamic-code",
            "exfil-sink",
            "env-harvest",
        ]
        .iter()
        .map(|r| finding(r, Severity::Low, Confidence::High, "a.js", &[]))
        .collect();
        assert_eq!(assess(&lows, &[]).verdict, Verdict::Clean);
    }

    #[test]
    fn repeats_of_one_rule_are_capped() {
        let many: Vec<Finding> = (0..50)
            .map(|_| {
                finding(
                    "dynamic-code",
                    Severity::High,
                    Confidence::Low,
                    "a.js",
                    &[Capability::Eval],
                )
            })
            .collect();
        let one = assess(&many[..1], &[]).score;
        let fifty = assess(&many, &[]).score;
        assert!(fifty < one + 0.2, "{one} {fifty}");
        assert_eq!(assess(&many, &[]).verdict, Verdict::Clean);
    }

    #[test]
    fn combinations_raise_the_score() {
        let secrets = finding(
            "credential-files",
            Severity::High,
            Confidence::Low,
            "index.js",
            &[Capability::Credentials],
        );
        let network = finding(
            "exfil-sink",
            Severity::High,
            Confidence::Low,
            "index.js",
            &[Capability::Network],
        );
        let alone = assess(std::slice::from_ref(&secrets), &[]);
        assert_eq!(alone.verdict, Verdict::Clean);
        let both = assess(&[secrets.clone(), network.clone()], &[]);
        assert_eq!(both.verdict, Verdict::Malicious, "{both:?}");
        // In different files the combination weighs less.
        let mut elsewhere = network.clone();
        elsewhere.file = Some("lib/http.js".to_string());
        let apart = assess(&[secrets.clone(), elsewhere], &[]);
        assert!(apart.score < both.score);
        // Run from an install script: more still.
        let installed = assess(&[secrets, network], &["index.js".to_string()]);
        assert!(installed.score > both.score);
        assert!(installed
            .combinations
            .iter()
            .any(|c| c.reason.contains("its install script runs index.js")));
    }

    #[test]
    fn decoded_payload_and_eval_combine() {
        let decoded = finding("encoded-payload", Severity::Moderate, Confidence::Medium, "x.js", &[]);
        let eval = finding(
            "dynamic-code",
            Severity::Moderate,
            Confidence::Medium,
            "x.js",
            &[Capability::Eval],
        );
        let apart = assess(std::slice::from_ref(&decoded), &[]).score + assess(std::slice::from_ref(&eval), &[]).score;
        let together = assess(&[decoded, eval], &[]);
        assert!(together.score > apart);
        assert!(together.combinations.iter().any(|c| c.reason.contains("decodes")));
    }

    #[test]
    fn summary_names_the_install_command_and_the_evidence() {
        let findings = [
            finding(
                "install-script-runs-file",
                Severity::Moderate,
                Confidence::High,
                "package.json",
                &[],
            ),
            Finding::new(
                "credential-files",
                Severity::High,
                Confidence::High,
                "Reads ~/.npmrc (npm tokens)",
            )
            .at("index.js", Some(3))
            .with_capabilities(&[Capability::Credentials]),
            Finding::new(
                "exfil-sink",
                Severity::Critical,
                Confidence::High,
                "Sends data to a Discord webhook",
            )
            .at("index.js", Some(9))
            .with_capabilities(&[Capability::Network]),
        ];
        let install_files = vec!["index.js".to_string()];
        let assessment = assess(&findings, &install_files);
        let summary = summarize(
            assessment.verdict,
            &findings,
            &assessment.combinations,
            &["node index.js".to_string()],
        );
        assert_eq!(
            summary,
            "Malicious: runs `node index.js` on install; sends data to a Discord webhook (index.js); reads ~/.npmrc \
             (npm tokens) (index.js) — its install script runs index.js, which reads credentials or the \
             environment and talks to the network."
        );
        assert_eq!(summarize(Verdict::Clean, &[], &[], &[]), "No risky behaviour found.");
    }

    #[test]
    fn an_imitating_name_that_runs_code_on_install_combines() {
        let squat = finding("typosquat", Severity::Moderate, Confidence::Medium, "package.json", &[]);
        let hook = finding(
            "install-script-runs-file",
            Severity::Moderate,
            Confidence::Medium,
            "package.json",
            &[],
        );
        let listing = finding("install-script", Severity::Low, Confidence::High, "package.json", &[]);
        let without_hook = assess(&[squat.clone(), listing.clone()], &[]);
        assert!(without_hook.combinations.is_empty());
        let with_hook = assess(&[squat, hook, listing], &[]);
        assert!(with_hook.combinations.iter().any(|c| c.reason.contains("imitates")));
        assert_eq!(with_hook.verdict, Verdict::Suspicious, "{with_hook:?}");
    }

    #[test]
    fn thresholds_are_ordered() {
        assert_eq!(verdict_for(0.0), Verdict::Clean);
        assert_eq!(verdict_for(SUSPICIOUS), Verdict::Suspicious);
        assert_eq!(verdict_for(MALICIOUS), Verdict::Malicious);
        assert_eq!(verdict_for(1.0), Verdict::Malicious);
    }
}
