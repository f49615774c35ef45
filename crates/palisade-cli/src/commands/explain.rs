//! `palisade explain [RULE]`: an analyzer rule's documentation, or the list of rules.

use std::io::Write;

use anyhow::anyhow;
use palisade_analyze::RuleInfo;
use serde_json::json;

use crate::args::{DepsFormat, ExplainArgs};
use crate::exit::{CliError, Outcome};
use crate::render::{stdout, Table};

/// Rules the CLI itself reports (not analyzer rules), documented here so `explain` knows them.
pub const CLI_RULES: &[(&str, &str, &str)] = &[(
    crate::commands::scan::INTEGRITY_MISMATCH,
    "critical",
    "A lockfile package's tarball does not match the lockfile integrity (not scanned).\n\n\
     The bytes served for a package are not the bytes that were locked: a tampered cache, \
     mirror or registry, or a republished version. `palisade scan` never reports such a package \
     as clean; it is not scanned and the run exits 2 unless --allow-partial.",
)];

pub fn run(args: &ExplainArgs) -> Result<Outcome, CliError> {
    let rules = palisade_analyze::all_rules();
    let mut out = stdout();
    let written = match &args.rule {
        None => list(&mut out, &rules, args.format),
        Some(id) => match palisade_analyze::rule_info(id) {
            Some(rule) => show(&mut out, rule, args.format),
            None => match CLI_RULES.iter().find(|(rule, _, _)| rule == id) {
                Some((rule, severity, docs)) => match args.format {
                    DepsFormat::Json => {
                        serde_json::to_writer_pretty(&mut out, &json!({"id": rule, "severity": severity, "docs": docs}))
                            .map_err(std::io::Error::other)
                            .and_then(|()| writeln!(out))
                    }
                    DepsFormat::Table => writeln!(out, "{rule} ({severity})\n\n{docs}"),
                },
                None => {
                    let mut ids: Vec<&str> = rules.iter().map(|r| r.id).collect();
                    ids.extend(CLI_RULES.iter().map(|(rule, _, _)| *rule));
                    let close = closest(id, &ids);
                    let error = CliError::input(anyhow!("no rule `{id}`"));
                    return Err(if close.is_empty() {
                        error.with_hint("`palisade explain` lists every rule")
                    } else {
                        error.with_hint(format!("did you mean {}?", close.join(", ")))
                    });
                }
            },
        },
    };
    written.and_then(|()| out.flush()).map_err(CliError::internal)?;
    Ok(Outcome::Clean)
}

fn list(out: &mut impl Write, rules: &[&'static RuleInfo], format: DepsFormat) -> std::io::Result<()> {
    match format {
        DepsFormat::Json => {
            let rules: Vec<_> = rules
                .iter()
                .map(|r| {
                    json!({"id": r.id, "severity": r.severity, "confidence": r.confidence,
                           "capabilities": r.capabilities, "summary": r.summary})
                })
                .collect();
            serde_json::to_writer_pretty(&mut *out, &json!({ "rules": rules })).map_err(std::io::Error::other)?;
            writeln!(out)
        }
        DepsFormat::Table => {
            let mut table = Table::new(["RULE", "SEVERITY", "SUMMARY"]);
            for rule in rules {
                table.row([rule.id.to_string(), rule.severity.to_string(), rule.summary.to_string()]);
            }
            for (id, severity, docs) in CLI_RULES {
                let summary = docs.split("\n\n").next().unwrap_or_default();
                table.row([id.to_string(), severity.to_string(), summary.to_string()]);
            }
            table.write(out)?;
            writeln!(
                out,
                "\n{} rules; `palisade explain RULE` prints one rule's documentation.",
                rules.len() + CLI_RULES.len()
            )
        }
    }
}

fn show(out: &mut impl Write, rule: &RuleInfo, format: DepsFormat) -> std::io::Result<()> {
    match format {
        DepsFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, rule).map_err(std::io::Error::other)?;
            writeln!(out)
        }
        DepsFormat::Table => {
            writeln!(out, "{} — {}", rule.id, rule.summary)?;
            let capabilities: Vec<&str> = rule.capabilities.iter().map(|c| c.as_str()).collect();
            writeln!(
                out,
                "severity: {}   confidence: {}   capabilities: {}",
                rule.severity,
                rule.confidence.as_str(),
                if capabilities.is_empty() {
                    "-".to_string()
                } else {
                    capabilities.join(", ")
                }
            )?;
            writeln!(out)?;
            writeln!(out, "{}", rule.docs.trim_end())
        }
    }
}

/// Up to three ids closest to `wanted`: by edit distance (at most a third of the length), or
/// containing it.
pub fn closest<'a>(wanted: &str, ids: &[&'a str]) -> Vec<&'a str> {
    let wanted = wanted.to_ascii_lowercase();
    let limit = (wanted.chars().count() / 3).max(2);
    let mut scored: Vec<(usize, &str)> = ids
        .iter()
        .filter_map(|id| {
            let distance = levenshtein(&wanted, id);
            if distance <= limit {
                Some((distance, *id))
            } else if wanted.len() >= 3 && id.contains(wanted.as_str()) {
                Some((limit + 1, *id))
            } else {
                None
            }
        })
        .collect();
    scored.sort();
    scored.into_iter().take(3).map(|(_, id)| id).collect()
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::closest;

    #[test]
    fn closest_ids() {
        let ids = ["install-script-download", "eval-decoded", "env-exfiltration"];
        assert_eq!(closest("instal-script-download", &ids), vec!["install-script-download"]);
        assert_eq!(closest("eval", &ids), vec!["eval-decoded"]);
        assert!(closest("zzzzzzzz", &ids).is_empty());
    }
}
