//! `palisade audit`: inventory × advisory database → findings.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use nodejs_semver::Version;
use palisade_advisory::{Advisory, AdvisoryKind, Database};
use palisade_core::{DependencyGraph, PackageId, Severity, Warning};
use serde::Serialize;

use crate::args::{AuditArgs, ReportFormat};
use crate::exit::{CliError, Outcome};
use crate::input;
use crate::render::{sarif, stdout};

/// How many dependency paths a finding lists; the shortest come first.
const MAX_PATHS: usize = 5;

/// The JSON document of `palisade audit --format json` (docs/json.md).
#[derive(Debug, Serialize)]
struct AuditReport<'a> {
    packages_scanned: usize,
    findings: Vec<Finding>,
    ignored: Vec<IgnoredFinding>,
    lockfiles: Vec<LockfileRef<'a>>,
    database: DatabaseRef,
    warnings: Vec<&'a Warning>,
}

#[derive(Debug, Serialize)]
struct LockfileRef<'a> {
    lockfile: &'a str,
    format: &'a str,
}

#[derive(Debug, Serialize)]
struct DatabaseRef {
    baseline: bool,
    records: u64,
    newest_record: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
struct Finding {
    id: String,
    kind: AdvisoryKind,
    package: PackageId,
    severity: Severity,
    summary: String,
    fixed_in: Vec<String>,
    aliases: Vec<String>,
    /// The lowest version that fixes every advisory on this package, when there is one.
    recommended_version: Option<String>,
    /// Dependency paths from the project (or a workspace member) to the package.
    paths: Vec<String>,
    dev: bool,
    cvss_vector: Option<String>,
    url: String,
    lockfile: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<u32>,
}

#[derive(Debug, Serialize)]
struct IgnoredFinding {
    id: String,
    package: PackageId,
    reason: Option<String>,
}

struct Ignore {
    id: String,
    reason: Option<String>,
}

impl Ignore {
    fn parse(text: &str) -> Self {
        match text.split_once('=') {
            Some((id, reason)) => Ignore {
                id: id.trim().to_string(),
                reason: Some(reason.trim().to_string()).filter(|r| !r.is_empty()),
            },
            None => Ignore {
                id: text.trim().to_string(),
                reason: None,
            },
        }
    }

    fn covers(&self, advisory: &Advisory) -> bool {
        advisory.id.eq_ignore_ascii_case(&self.id) || advisory.aliases.iter().any(|a| a.eq_ignore_ascii_case(&self.id))
    }
}

pub fn run(args: &AuditArgs, home: &Path) -> Result<Outcome, CliError> {
    let inventories = input::load(&args.input)?;
    let database = open_database(home)?;
    let ignores: Vec<Ignore> = args.ignore.iter().map(|text| Ignore::parse(text)).collect();

    let mut findings = Vec::new();
    let mut ignored = Vec::new();
    let mut packages_scanned = 0;
    for inventory in &inventories {
        // Tooling (pnpm's env document) is installed code too.
        let all_packages = || inventory.packages.iter().chain(&inventory.tooling);
        packages_scanned += inventory.packages.len() + inventory.tooling.len();
        let ids: Vec<PackageId> = all_packages().map(|p| p.id()).collect();
        let matches = database
            .matches(&ids)
            .map_err(|error| CliError::internal(error).with_hint("run `palisade db sync` to rebuild the database"))?;
        let graph = DependencyGraph::new(inventory);
        let mut by_package: BTreeMap<PackageId, Vec<Advisory>> = BTreeMap::new();
        for matched in matches {
            if let Some(ignore) = ignores.iter().find(|ignore| ignore.covers(&matched.advisory)) {
                ignored.push(IgnoredFinding {
                    id: matched.advisory.id.clone(),
                    package: matched.package.clone(),
                    reason: ignore.reason.clone(),
                });
                continue;
            }
            by_package.entry(matched.package).or_default().push(matched.advisory);
        }
        for (package_id, advisories) in by_package {
            let package = all_packages().find(|p| p.name == package_id.name && p.version == package_id.version);
            let recommended_version = recommend(&package_id.version, &advisories);
            let paths = graph.paths_to(&package_id, MAX_PATHS);
            for advisory in advisories {
                let severity = if advisory.kind == AdvisoryKind::Malicious {
                    Severity::Critical
                } else {
                    advisory.severity
                };
                findings.push(Finding {
                    url: format!("https://osv.dev/vulnerability/{}", advisory.id),
                    id: advisory.id,
                    kind: advisory.kind,
                    package: package_id.clone(),
                    severity,
                    summary: advisory.summary,
                    fixed_in: advisory.fixed_in,
                    aliases: advisory.aliases,
                    recommended_version: recommended_version.clone(),
                    paths: paths.clone(),
                    dev: package.is_some_and(|p| p.dev),
                    cvss_vector: advisory.cvss_vector,
                    lockfile: inventory.lockfile.clone(),
                    line: package.and_then(|p| p.line),
                });
            }
        }
    }
    findings.sort_by(|a, b| {
        (b.kind == AdvisoryKind::Malicious, b.severity, &a.package, &a.id).cmp(&(
            a.kind == AdvisoryKind::Malicious,
            a.severity,
            &b.package,
            &b.id,
        ))
    });

    let status = database.status().map_err(CliError::internal)?;
    let report = AuditReport {
        packages_scanned,
        findings,
        ignored,
        lockfiles: inventories
            .iter()
            .map(|i| LockfileRef {
                lockfile: &i.lockfile,
                format: &i.format,
            })
            .collect(),
        database: DatabaseRef {
            baseline: status.is_baseline,
            records: status.advisories,
            newest_record: status.newest_modified.clone(),
        },
        warnings: inventories.iter().flat_map(|i| &i.warnings).collect(),
    };

    let mut out = stdout();
    match args.format {
        ReportFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &report).map_err(CliError::internal)?;
            writeln!(out).map_err(CliError::internal)?;
        }
        ReportFormat::Sarif => {
            let document = to_sarif(&report.findings);
            serde_json::to_writer_pretty(&mut out, &document).map_err(CliError::internal)?;
            writeln!(out).map_err(CliError::internal)?;
        }
        ReportFormat::Table => render_table(&mut out, &report, args.fail_on).map_err(CliError::internal)?,
    }
    out.flush().map_err(CliError::internal)?;

    if status.is_baseline && args.format == ReportFormat::Table {
        eprintln!(
            "note: using the baseline advisory snapshot built into palisade ({} records); run `palisade db sync` for the full database",
            status.advisories
        );
    }
    let partial = input::report_warnings(&inventories, args.input.allow_partial);
    if partial && !args.input.allow_partial {
        return Ok(Outcome::Partial);
    }
    let failing = report.findings.iter().any(|f| f.severity >= args.fail_on);
    Ok(if failing { Outcome::Findings } else { Outcome::Clean })
}

fn open_database(home: &Path) -> Result<Database, CliError> {
    Database::open(home).map_err(|error| {
        CliError::input(error).with_hint(format!(
            "rebuild it with `palisade db sync` or `palisade db import`, or remove `{}`",
            home.display()
        ))
    })
}

/// The lowest version that is at or above the smallest fix of every advisory
/// (and above the installed version); `None` when some advisory has no fix.
fn recommend(current: &str, advisories: &[Advisory]) -> Option<String> {
    let current = Version::parse(current).ok();
    let mut needed: Option<Version> = None;
    for advisory in advisories {
        let mut fixes: Vec<Version> = advisory
            .fixed_in
            .iter()
            .filter_map(|v| Version::parse(v).ok())
            .filter(|v| current.as_ref().is_none_or(|c| v > c))
            .collect();
        fixes.sort();
        let smallest = fixes.into_iter().next()?;
        needed = Some(match needed {
            Some(existing) if existing >= smallest => existing,
            _ => smallest,
        });
    }
    needed.map(|v| v.to_string())
}

fn to_sarif(findings: &[Finding]) -> serde_json::Value {
    let mut rules: BTreeMap<&str, sarif::Rule> = BTreeMap::new();
    let mut results = Vec::new();
    for finding in findings {
        rules.entry(&finding.id).or_insert_with(|| sarif::Rule {
            id: finding.id.clone(),
            short_description: finding.summary.clone(),
            full_description: if finding.aliases.is_empty() {
                finding.summary.clone()
            } else {
                format!("{} (aliases: {})", finding.summary, finding.aliases.join(", "))
            },
            help_uri: Some(finding.url.clone()),
            severity: finding.severity,
        });
        let what = match finding.kind {
            AdvisoryKind::Malicious => "is a known-malicious version".to_string(),
            AdvisoryKind::Vulnerability => format!("has a {} vulnerability", finding.severity),
        };
        let fix = match &finding.recommended_version {
            Some(version) => format!("; upgrade to {version}"),
            None if finding.kind == AdvisoryKind::Malicious => {
                "; remove it and rotate any credentials it could reach".into()
            }
            None => "; no fixed version is published".into(),
        };
        results.push(sarif::Finding {
            rule_id: finding.id.clone(),
            severity: finding.severity,
            message: format!(
                "{} {} ({}): {}{fix}",
                finding.package, what, finding.id, finding.summary
            ),
            uri: finding.lockfile.clone(),
            line: finding.line,
            fingerprint: format!("{}:{}", finding.id, finding.package),
        });
    }
    let rules: Vec<sarif::Rule> = rules.into_values().collect();
    sarif::document(&rules, &results)
}

fn render_table(out: &mut impl Write, report: &AuditReport, fail_on: Severity) -> std::io::Result<()> {
    let color = crate::render::color();
    let paint = |text: &str, code: &str| {
        if color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    };
    let mut grouped: BTreeMap<&PackageId, Vec<&Finding>> = BTreeMap::new();
    for finding in &report.findings {
        grouped.entry(&finding.package).or_default().push(finding);
    }
    // Malicious packages first, then by worst severity.
    let mut groups: Vec<(&PackageId, Vec<&Finding>)> = grouped.into_iter().collect();
    groups.sort_by_key(|(package, findings)| {
        let malicious = findings.iter().any(|f| f.kind == AdvisoryKind::Malicious);
        let worst = findings.iter().map(|f| f.severity).max().unwrap_or(Severity::Unknown);
        (
            std::cmp::Reverse(malicious),
            std::cmp::Reverse(worst),
            (*package).clone(),
        )
    });
    for (package, findings) in &groups {
        let malicious = findings.iter().any(|f| f.kind == AdvisoryKind::Malicious);
        let headline = if malicious {
            paint("MALICIOUS", "1;31")
        } else {
            let worst = findings.iter().map(|f| f.severity).max().unwrap_or(Severity::Unknown);
            paint(worst.as_str(), severity_color(worst))
        };
        let dev = if findings.iter().all(|f| f.dev) { " (dev)" } else { "" };
        writeln!(out, "{}  {headline}{dev}", paint(&package.to_string(), "1"))?;
        for finding in findings {
            let fixed = if finding.fixed_in.is_empty() {
                String::new()
            } else {
                format!("  fixed in {}", finding.fixed_in.join(", "))
            };
            writeln!(
                out,
                "  {:<9} {}  {}{fixed}",
                paint(finding.severity.as_str(), severity_color(finding.severity)),
                finding.id,
                finding.summary
            )?;
        }
        let first = findings[0];
        match (&first.recommended_version, malicious) {
            (_, true) => writeln!(
                out,
                "  action: remove {package} now, then rotate every credential the machine that installed it could reach"
            )?,
            (Some(version), false) => writeln!(out, "  action: upgrade {} to {version}", package.name)?,
            (None, false) => writeln!(
                out,
                "  action: no fixed version; replace {} or accept the risk with --ignore",
                package.name
            )?,
        }
        for path in first.paths.iter().take(3) {
            writeln!(out, "  via: {path}")?;
        }
        if first.paths.len() > 3 {
            writeln!(out, "  via: … and {} more paths", first.paths.len() - 3)?;
        }
        writeln!(out)?;
    }
    let mut counts: BTreeMap<Severity, usize> = BTreeMap::new();
    for finding in &report.findings {
        *counts.entry(finding.severity).or_default() += 1;
    }
    let malicious = groups
        .iter()
        .filter(|(_, findings)| findings.iter().any(|f| f.kind == AdvisoryKind::Malicious))
        .count();
    let breakdown: Vec<String> = counts
        .iter()
        .rev()
        .map(|(severity, n)| format!("{n} {severity}"))
        .collect();
    if report.findings.is_empty() {
        writeln!(
            out,
            "{} packages scanned: no known vulnerabilities or malicious versions.",
            report.packages_scanned
        )?;
    } else {
        writeln!(
            out,
            "{} packages scanned: {} affected packages, {} malicious; {} findings ({}). Failing at {fail_on} and above.",
            report.packages_scanned,
            groups.len(),
            malicious,
            report.findings.len(),
            breakdown.join(", ")
        )?;
    }
    for ignored in &report.ignored {
        writeln!(
            out,
            "ignored: {} on {} ({})",
            ignored.id,
            ignored.package,
            ignored.reason.as_deref().unwrap_or("no reason given")
        )?;
    }
    Ok(())
}

fn severity_color(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "1;31",
        Severity::High => "31",
        Severity::Moderate => "33",
        Severity::Low | Severity::Unknown => "2",
    }
}
