//! `palisade diff`: what a release adds compared with another (palisade-analyze's version
//! diff), for two registry versions or two local tarballs/directories.

use std::io::Write;
use std::path::Path;

use anyhow::anyhow;
use palisade_analyze::diff::{DiffOptions, DiffReport};
use palisade_analyze::ScanOptions;
use palisade_tarball::{Limits, PackageContents};
use serde_json::Value;

use crate::args::{DepsFormat, DiffArgs};
use crate::commands::scan::fetch;
use crate::exit::{CliError, Outcome};
use crate::render::stdout;

/// The analyzer's diff, and the same as JSON (what `--against-previous` attaches).
pub struct DiffOutcome {
    pub high_risk: bool,
    pub report: Value,
    pub typed: DiffReport,
}

pub fn diff_contents(old: &PackageContents, new: &PackageContents, options: &DiffOptions) -> DiffOutcome {
    let typed = palisade_analyze::diff::diff_packages(old, new, options);
    DiffOutcome {
        high_risk: typed.high_risk,
        report: serde_json::to_value(&typed).unwrap_or(Value::Null),
        typed,
    }
}

pub fn run(args: &DiffArgs, home: Option<&Path>) -> Result<Outcome, CliError> {
    let limits = Limits::default();
    let (old, new, options) = match args.args.as_slice() {
        [name, from, to] => {
            let home = crate::home::resolve(home)?;
            let client = fetch::client(args.registry.as_deref(), args.offline, &home)?;
            let packument = client.packument(name).map_err(CliError::input)?;
            let read = |requested: &str| -> Result<(PackageContents, ScanOptions), CliError> {
                let manifest = fetch::resolve(&packument, Some(requested)).ok_or_else(|| {
                    CliError::input(anyhow!(
                        "the registry has no version of `{name}` matching `{requested}`"
                    ))
                })?;
                let bytes = fetch::tarball_of(&client, manifest).map_err(CliError::input)?;
                let contents = palisade_tarball::read_tgz(&bytes, &format!("{name}@{}", manifest.version), &limits)
                    .map_err(CliError::input)?;
                let options = ScanOptions {
                    registry_manifest: serde_json::to_value(manifest).ok(),
                };
                Ok((contents, options))
            };
            let (old, from_options) = read(from)?;
            let (new, to_options) = read(to)?;
            (
                old,
                new,
                DiffOptions {
                    from: from_options,
                    to: to_options,
                },
            )
        }
        [old, new] => (
            read_local(Path::new(old), &limits)?,
            read_local(Path::new(new), &limits)?,
            DiffOptions::default(),
        ),
        _ => {
            return Err(CliError::input(anyhow!(
                "expected NAME FROM TO (registry versions) or OLD NEW (tarballs or directories)"
            )))
        }
    };
    let outcome = diff_contents(&old, &new, &options);
    let mut out = stdout();
    let written = match args.format {
        DepsFormat::Json => serde_json::to_writer_pretty(&mut out, &outcome.report)
            .map_err(std::io::Error::other)
            .and_then(|()| writeln!(out)),
        DepsFormat::Table => render_table(&mut out, &outcome.typed),
    };
    written.and_then(|()| out.flush()).map_err(CliError::internal)?;
    Ok(if outcome.high_risk {
        Outcome::Findings
    } else {
        Outcome::Clean
    })
}

fn read_local(path: &Path, limits: &Limits) -> Result<PackageContents, CliError> {
    let label = path.display().to_string();
    if path.is_dir() {
        return palisade_tarball::read_dir(path, limits).map_err(CliError::input);
    }
    if !path.is_file() {
        return Err(CliError::input(anyhow!("`{label}` does not exist")).with_hint(
            "two arguments are local tarballs or directories; use `palisade diff NAME FROM TO` for registry versions",
        ));
    }
    let bytes = std::fs::read(path).map_err(|error| CliError::input(anyhow!("failed to read `{label}`: {error}")))?;
    palisade_tarball::read_tgz(&bytes, &label, limits).map_err(CliError::input)
}

/// Human rendering: whether the update is high-risk and why, then what TO adds.
pub fn render_table(out: &mut impl Write, report: &DiffReport) -> std::io::Result<()> {
    let color = crate::render::color();
    let side = |s: &palisade_analyze::diff::SideSummary| format!("{}@{}", s.package.name, s.package.version);
    let verdict = if report.high_risk {
        paint("HIGH-RISK UPDATE", "1;31", color)
    } else {
        paint("no high-risk change", "32", color)
    };
    writeln!(out, "{} → {}: {verdict}", side(&report.from), side(&report.to))?;
    for reason in &report.reasons {
        writeln!(out, "  ! {} ({})", reason.message, reason.code)?;
    }
    writeln!(
        out,
        "verdict: {} ({:.2}) → {} ({:.2})",
        report.from.verdict, report.from.score, report.to.verdict, report.to.score
    )?;
    writeln!(
        out,
        "files: {} added, {} removed, {} changed",
        report.files_added.len(),
        report.files_removed.len(),
        report.files_changed.len()
    )?;
    const SHOWN: usize = 20;
    for (sign, files) in [
        ("+", &report.files_added),
        ("-", &report.files_removed),
        ("~", &report.files_changed),
    ] {
        for file in files.iter().take(SHOWN) {
            writeln!(out, "  {sign} {file}")?;
        }
        if files.len() > SHOWN {
            writeln!(out, "  {sign} … and {} more", files.len() - SHOWN)?;
        }
    }
    if !report.scripts_changed.is_empty() {
        writeln!(out, "lifecycle scripts:")?;
        for change in &report.scripts_changed {
            writeln!(
                out,
                "  {}: {} → {}",
                change.event,
                change.from.as_deref().unwrap_or("(none)"),
                change.to.as_deref().unwrap_or("(none)")
            )?;
        }
    }
    for (title, changes) in [
        ("dependencies added", &report.dependencies_added),
        ("dependencies removed", &report.dependencies_removed),
    ] {
        if !changes.is_empty() {
            let list: Vec<String> = changes
                .iter()
                .map(|d| format!("{}@{} ({})", d.name, d.range, d.kind))
                .collect();
            writeln!(out, "{title}: {}", list.join(", "))?;
        }
    }
    if !report.capabilities_added.is_empty() {
        let list: Vec<&str> = report.capabilities_added.iter().map(|c| c.as_str()).collect();
        writeln!(out, "capabilities added: {}", list.join(", "))?;
    }
    if !report.findings_added.is_empty() {
        writeln!(out, "findings new in {}:", report.to.package.version)?;
        for finding in &report.findings_added {
            let place = match (&finding.file, finding.line) {
                (Some(file), Some(line)) => format!("{file}:{line}"),
                (Some(file), None) => file.clone(),
                _ => "-".into(),
            };
            writeln!(
                out,
                "  {:<8}  {}  {place}  {}",
                finding.severity.as_str(),
                finding.rule,
                finding.message
            )?;
        }
    }
    Ok(())
}

fn paint(text: &str, code: &str, color: bool) -> String {
    if color {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}
