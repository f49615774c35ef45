//! `palisade diff`: what a release adds compared with another (palisade-analyze's version
//! diff), for two registry versions or two local tarballs/directories.

use std::io::Write;
use std::path::Path;

use anyhow::anyhow;
use palisade_analyze::ScanOptions;
use palisade_tarball::{Limits, PackageContents};
use serde_json::Value;

use crate::args::{DepsFormat, DiffArgs};
use crate::commands::scan::fetch;
use crate::exit::{CliError, Outcome};
use crate::render::stdout;

/// The analyzer's diff as JSON, and whether it is a high-risk update.
pub struct DiffOutcome {
    pub high_risk: bool,
    pub report: Value,
}

pub fn diff_contents(old: &PackageContents, new: &PackageContents) -> anyhow::Result<DiffOutcome> {
    // palisade-analyze's `diff::diff_packages` is being written (issue 3); until it lands the
    // diff is reported as unavailable rather than as "no change".
    let _ = (old, new, ScanOptions::default());
    Err(anyhow!("the analyzer's version diff is not available in this build"))
}

pub fn run(args: &DiffArgs, home: Option<&Path>) -> Result<Outcome, CliError> {
    let limits = Limits::default();
    let (old, new) = match args.args.as_slice() {
        [name, from, to] => {
            let home = crate::home::resolve(home)?;
            let client = fetch::client(args.registry.as_deref(), args.offline, &home)?;
            let packument = client.packument(name).map_err(CliError::input)?;
            let read = |requested: &str| -> Result<PackageContents, CliError> {
                let manifest = fetch::resolve(&packument, Some(requested)).ok_or_else(|| {
                    CliError::input(anyhow!(
                        "the registry has no version of `{name}` matching `{requested}`"
                    ))
                })?;
                let bytes = fetch::tarball_of(&client, manifest).map_err(CliError::input)?;
                palisade_tarball::read_tgz(&bytes, &format!("{name}@{}", manifest.version), &limits)
                    .map_err(CliError::input)
            };
            (read(from)?, read(to)?)
        }
        [old, new] => (
            read_local(Path::new(old), &limits)?,
            read_local(Path::new(new), &limits)?,
        ),
        _ => {
            return Err(CliError::input(anyhow!(
                "expected NAME FROM TO (registry versions) or OLD NEW (tarballs or directories)"
            )))
        }
    };
    let outcome = diff_contents(&old, &new).map_err(CliError::internal)?;
    let mut out = stdout();
    let written = match args.format {
        DepsFormat::Json => serde_json::to_writer_pretty(&mut out, &outcome.report)
            .map_err(std::io::Error::other)
            .and_then(|()| writeln!(out)),
        DepsFormat::Table => render_table(&mut out, &old.origin, &new.origin, &outcome),
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

/// Human rendering of the diff document: the verdict and its reasons first, then every
/// non-empty list of the report under its own heading.
pub fn render_table(out: &mut impl Write, old: &str, new: &str, outcome: &DiffOutcome) -> std::io::Result<()> {
    let color = crate::render::color();
    let verdict = if outcome.high_risk {
        paint("HIGH-RISK UPDATE", "1;31", color)
    } else {
        paint("no high-risk change", "32", color)
    };
    writeln!(out, "{old} → {new}: {verdict}")?;
    let Some(object) = outcome.report.as_object() else {
        return Ok(());
    };
    if let Some(reasons) = object.get("reasons").and_then(Value::as_array) {
        for reason in reasons {
            writeln!(out, "  ! {}", one_line(reason))?;
        }
    }
    for (key, value) in object {
        if matches!(key.as_str(), "reasons" | "high_risk") {
            continue;
        }
        match value {
            Value::Array(items) if !items.is_empty() => {
                writeln!(out, "{}:", key.replace('_', " "))?;
                for item in items {
                    writeln!(out, "  {}", one_line(item))?;
                }
            }
            Value::Object(map) if !map.is_empty() => {
                writeln!(out, "{}:", key.replace('_', " "))?;
                for (name, item) in map {
                    writeln!(out, "  {name}: {}", one_line(item))?;
                }
            }
            Value::String(text) if !text.is_empty() => writeln!(out, "{}: {text}", key.replace('_', " "))?,
            Value::Number(number) => writeln!(out, "{}: {number}", key.replace('_', " "))?,
            _ => {}
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

/// A JSON value as one readable line: strings bare; objects as `key: value` pairs, with the
/// usual identifying fields (`rule`, `path`, `file`, `name`) first.
pub fn one_line(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Object(map) => {
            let mut parts = Vec::new();
            for key in ["rule", "severity", "path", "file", "line", "name", "message"] {
                if let Some(field) = map.get(key) {
                    parts.push(match field {
                        Value::String(text) => text.clone(),
                        other => other.to_string(),
                    });
                }
            }
            for (key, field) in map {
                if ["rule", "severity", "path", "file", "line", "name", "message"].contains(&key.as_str())
                    || field.is_null()
                {
                    continue;
                }
                let text = match field {
                    Value::String(text) => text.clone(),
                    other => other.to_string(),
                };
                parts.push(format!("{key}={text}"));
            }
            palisade_core::bounded_excerpt(&parts.join("  "), 300)
        }
        other => palisade_core::bounded_excerpt(&other.to_string(), 300),
    }
}
