//! `palisade check --scan`: the static analyzer's verdicts on the packages a change adds,
//! turned into diagnostics. The caller (the CLI) picks the packages (new or changed since a
//! base lockfile), fetches and scans them; this module only decides what a verdict means for
//! the gate: malicious fails, suspicious warns, a package that could not be scanned fails
//! (never silently passes).

pub mod diags;

use palisade_core::{PackageId, Severity, Verdict};

use crate::diag::{Diagnostic, Label, Level};

/// What the analyzer said about one package, and where the lockfile declares it.
#[derive(Debug, Clone)]
pub struct ScanVerdict {
    pub package: PackageId,
    pub verdict: Verdict,
    pub score: f64,
    /// The analyzer's one-sentence explanation.
    pub summary: String,
    /// Rule ids of the findings, worst first.
    pub rules: Vec<String>,
    pub lockfile: String,
    pub line: Option<u32>,
    /// Set when the package could not be scanned; `verdict` is then meaningless.
    pub error: Option<String>,
}

/// One diagnostic per malicious, suspicious or unscanned package.
pub fn diagnostics(verdicts: &[ScanVerdict]) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for scanned in verdicts {
        let label = Label::new(scanned.lockfile.clone(), scanned.line);
        let rules = if scanned.rules.is_empty() {
            String::new()
        } else {
            format!(" [{}]", scanned.rules.join(", "))
        };
        let diagnostic = if let Some(error) = &scanned.error {
            Diagnostic::new(
                &diags::UNSCANNED,
                Level::Error,
                Severity::High,
                format!("{} was not scanned: {error}", scanned.package),
            )
            .help("a package that cannot be verified and read is not let through; check the registry and the lockfile integrity")
        } else {
            match scanned.verdict {
                Verdict::Malicious => Diagnostic::new(
                    &diags::MALICIOUS,
                    Level::Error,
                    Severity::Critical,
                    format!(
                        "{} looks malicious (score {:.2}): {}{rules}",
                        scanned.package, scanned.score, scanned.summary
                    ),
                )
                .help(format!(
                    "`palisade scan {}` shows the evidence; do not install it",
                    scanned.package
                )),
                Verdict::Suspicious => Diagnostic::new(
                    &diags::SUSPICIOUS,
                    Level::Warning,
                    Severity::High,
                    format!(
                        "{} looks suspicious (score {:.2}): {}{rules}",
                        scanned.package, scanned.score, scanned.summary
                    ),
                )
                .help(format!("review `palisade scan {}` before merging", scanned.package)),
                Verdict::Clean => continue,
            }
        };
        out.push(diagnostic.package(scanned.package.clone()).label(label));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(version: &str, verdict: Verdict, error: Option<&str>) -> ScanVerdict {
        ScanVerdict {
            package: PackageId::new("p", version),
            verdict,
            score: 0.5,
            summary: "why".into(),
            rules: vec!["rule-a".into()],
            lockfile: "package-lock.json".into(),
            line: Some(3),
            error: error.map(str::to_string),
        }
    }

    #[test]
    fn verdicts_map_to_levels() {
        let out = diagnostics(&[
            verdict("1.0.0", Verdict::Malicious, None),
            verdict("2.0.0", Verdict::Suspicious, None),
            verdict("3.0.0", Verdict::Clean, None),
            verdict("4.0.0", Verdict::Clean, Some("integrity mismatch")),
        ]);
        let codes: Vec<(&str, Level)> = out.iter().map(|d| (d.code, d.level)).collect();
        assert_eq!(
            codes,
            vec![
                ("scan-malicious", Level::Error),
                ("scan-suspicious", Level::Warning),
                ("scan-failed", Level::Error)
            ]
        );
        assert_eq!(out[0].labels[0].line, Some(3));
        assert!(out[0].message.contains("[rule-a]"));
    }
}
