//! `palisade hunt`: the incident sweep (palisade-hunt), rendered.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{IsTerminal as _, Write as _};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use palisade_advisory::Database;
use palisade_hunt::{Evidence, Hit, HuntError, HuntOptions, HuntReport, Indicators};

use crate::args::{HuntArgs, HuntFormat};
use crate::exit::{CliError, Outcome};

pub fn run(args: &HuntArgs, home: &Path) -> Result<Outcome, CliError> {
    let database =
        if args.no_advisories {
            None
        } else {
            Some(Database::open(home).map_err(|error| {
                CliError::internal(error).with_hint("run `palisade db sync` to rebuild the database")
            })?)
        };
    let indicators = Indicators::load(database, &args.ioc).map_err(hunt_error)?;
    let roots = if args.roots.is_empty() {
        palisade_hunt::default_roots()
    } else {
        args.roots.clone()
    };
    if roots.is_empty() {
        return Err(
            CliError::input(anyhow::anyhow!("no root to sweep: the home directory was not found"))
                .with_hint("name the folders to sweep: `palisade hunt DIR...`"),
        );
    }
    tracing::info!(roots = ?roots, "sweeping");
    // A spinner with the entries seen so far, only when stderr is a terminal.
    let progress = std::io::stderr().is_terminal().then(|| Arc::new(AtomicU64::new(0)));
    let options = HuntOptions {
        roots,
        threads: args.threads,
        progress: progress.clone(),
        ..HuntOptions::default()
    };
    let done = Arc::new(AtomicBool::new(false));
    let spinner = progress.map(|progress| {
        let done = Arc::clone(&done);
        std::thread::spawn(move || {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.set_style(
                indicatif::ProgressStyle::with_template("{spinner} sweeping: {msg} ({elapsed})")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
            );
            while !done.load(Ordering::Relaxed) {
                bar.set_message(format!("{} files and folders", progress.load(Ordering::Relaxed)));
                bar.tick();
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            bar.finish_and_clear();
        })
    });
    let result = palisade_hunt::hunt(&options, &indicators);
    done.store(true, Ordering::Relaxed);
    if let Some(spinner) = spinner {
        let _ = spinner.join();
    }
    let report = result.map_err(hunt_error)?;
    let text = match args.format {
        HuntFormat::Json => serde_json::to_string_pretty(&report).map_err(CliError::internal)? + "\n",
        HuntFormat::Osv => {
            serde_json::to_string_pretty(&palisade_hunt::to_osv(&report)).map_err(CliError::internal)? + "\n"
        }
        HuntFormat::Table => table(&report),
    };
    match &args.output {
        Some(path) => std::fs::write(path, text).map_err(|error| {
            CliError::input(anyhow::Error::new(error).context(format!("failed to write `{}`", path.display())))
        })?,
        None => {
            let mut stdout = crate::render::stdout();
            stdout
                .write_all(text.as_bytes())
                .and_then(|()| stdout.flush())
                .map_err(CliError::internal)?;
        }
    }
    Ok(if report.found_anything() {
        Outcome::Findings
    } else {
        Outcome::Clean
    })
}

fn hunt_error(error: HuntError) -> CliError {
    match error {
        HuntError::Advisory(_) => CliError::internal(error),
        HuntError::Io { .. } | HuntError::Ioc { .. } => CliError::input(error),
    }
}

fn table(report: &HuntReport) -> String {
    let mut out = String::new();
    let seconds = report.duration_ms as f64 / 1000.0;
    let _ = writeln!(
        out,
        "palisade hunt on {} at {}: {} roots, {} files in {seconds:.2} s",
        report.host,
        report.started_at,
        report.roots.len(),
        report.files_scanned
    );
    let database = match &report.indicators.advisory_database {
        Some(db) if db.baseline => format!("built-in baseline ({} malicious records)", db.malicious_records),
        Some(db) => format!("advisory database ({} malicious records)", db.malicious_records),
        None => "no advisory database".to_string(),
    };
    let _ = writeln!(
        out,
        "indicators: {database}; {} IOC files ({} OSV records, {} package specs, {} sha256, {} path globs, {} strings)",
        report.indicators.ioc_files.len(),
        report.indicators.osv_records,
        report.indicators.package_specs,
        report.indicators.sha256,
        report.indicators.path_globs,
        report.indicators.strings
    );

    if report.hits.is_empty() {
        let _ = writeln!(out, "\nNo compromised package version or file indicator found.");
    } else {
        let mut by_package: BTreeMap<String, Vec<&Hit>> = BTreeMap::new();
        for hit in &report.hits {
            let key = match &hit.package {
                Some(package) if hit.evidence != Evidence::File => format!("{}@{}", package.name, package.version),
                _ => String::from("\u{10FFFF}files"), // sorts last
            };
            by_package.entry(key).or_default().push(hit);
        }
        let _ = writeln!(
            out,
            "\nHITS ({} locations, {} packages)",
            report.hits.len(),
            by_package.len()
        );
        for (key, hits) in by_package {
            let first = hits[0];
            if key.ends_with("files") && first.evidence == Evidence::File {
                let _ = writeln!(out, "  file indicators");
                for hit in hits {
                    let package = hit
                        .package
                        .as_ref()
                        .map(|p| format!("  (in {}@{})", p.name, p.version))
                        .unwrap_or_default();
                    let _ = writeln!(out, "    {}  {}{package}", hit.path, hit.indicator);
                    let _ = writeln!(out, "      {}", hit.summary);
                }
                continue;
            }
            let _ = writeln!(
                out,
                "  {key}  {}  {}",
                first.indicators.join(", "),
                one_line(&first.summary)
            );
            for hit in hits {
                let when = hit.observed_at.as_deref().unwrap_or("time unknown");
                let project = hit
                    .project
                    .as_deref()
                    .map(|p| format!("  project {p}"))
                    .unwrap_or_default();
                let _ = writeln!(out, "    {:<9} {}  {when}{project}", hit.evidence.as_str(), hit.path);
            }
        }
    }

    if !report.persistence.is_empty() {
        let _ = writeln!(out, "\nPERSISTENCE ({})", report.persistence.len());
        for item in &report.persistence {
            let _ = writeln!(out, "  {:<6} {:<19} {}", item.severity, item.kind.as_str(), item.path);
            let _ = writeln!(out, "         {}", item.indicator);
        }
    }
    if !report.credentials_at_risk.is_empty() {
        let _ = writeln!(
            out,
            "\nCREDENTIALS ON THIS MACHINE ({}; values never read into this report)",
            report.credentials_at_risk.len()
        );
        for credential in &report.credentials_at_risk {
            let _ = writeln!(out, "  {:<20} {}", credential.kind, credential.path);
        }
    }
    if !report.response.is_empty() {
        let _ = writeln!(out, "\nRESPONSE, IN THIS ORDER");
        for step in &report.response {
            let _ = writeln!(out, "  {}. {}", step.step, step.action);
            for detail in &step.details {
                let _ = writeln!(out, "     - {detail}");
            }
        }
    }

    let _ = writeln!(out, "\nPER ROOT");
    for root in &report.root_summaries {
        let _ = writeln!(
            out,
            "  {}: {} files, {} folders, {} node_modules trees, {} lockfiles, {} cache entries, {} package locations; {} hits, {} persistence, {} credentials, {} problems ({:.2} s)",
            root.root,
            root.files_scanned,
            root.directories,
            root.node_modules_trees,
            root.lockfiles,
            root.cache_entries,
            root.package_locations,
            root.hits,
            root.persistence,
            root.credentials,
            root.problems,
            root.duration_ms as f64 / 1000.0
        );
    }
    let problems = &report.problems;
    if problems.total() > 0 {
        let counts = [
            ("unreadable", problems.unreadable),
            ("broken symlinks", problems.broken_symlinks),
            ("symlink loops", problems.symlink_loops),
            ("special files", problems.special_files),
            ("malformed package.json", problems.malformed_manifests),
            ("oversized files", problems.oversized_files),
            ("non-UTF-8 names", problems.non_utf8_paths),
            ("unparsed lockfiles", problems.unparsed_lockfiles),
            ("partly read lockfiles", problems.partly_read_lockfiles),
            ("malformed cache entries", problems.malformed_cache_entries),
            ("other", problems.other),
        ];
        let listed: Vec<String> = counts
            .iter()
            .filter(|(_, count)| *count > 0)
            .map(|(label, count)| format!("{count} {label}"))
            .collect();
        let _ = writeln!(
            out,
            "\nNOT FULLY READ (skipped, the sweep went on): {}",
            listed.join(", ")
        );
        for warning in report.warnings.iter().take(10) {
            let _ = writeln!(out, "  {warning}");
        }
        if report.warnings.len() > 10 {
            let _ = writeln!(out, "  … {} more in --format json", report.warnings.len() - 10);
        }
    }
    out
}

fn one_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default();
    if line.chars().count() > 100 {
        line.chars().take(99).collect::<String>() + "…"
    } else {
        line.to_string()
    }
}
