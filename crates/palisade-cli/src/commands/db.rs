//! `palisade db import|sync|status`.

use std::io::{IsTerminal, Write};
use std::path::Path;

use palisade_advisory::{Database, ImportOptions, ImportProgress, ImportSummary};

use crate::args::{DbImportArgs, DbStatusArgs, DbSyncArgs, DepsFormat};
use crate::exit::{CliError, Outcome};
use crate::render::stdout;

pub fn import(args: &DbImportArgs, home: &Path) -> Result<Outcome, CliError> {
    for source in &args.sources {
        if !source.exists() {
            return Err(CliError::input(anyhow::anyhow!(
                "`{}` does not exist",
                source.display()
            )));
        }
    }
    let progress = progress_printer();
    let options = ImportOptions {
        replace: args.replace,
        progress: Some(&progress),
        ..ImportOptions::default()
    };
    let summary = palisade_advisory::import(home, &args.sources, options).map_err(|error| {
        CliError::input(error).with_hint("the previous database (if any) is unchanged and still in use")
    })?;
    finish_progress();
    print_summary(&summary);
    Ok(Outcome::Clean)
}

pub fn sync(args: &DbSyncArgs, home: &Path) -> Result<Outcome, CliError> {
    eprintln!("downloading {}", args.url);
    let progress = progress_printer();
    let options = ImportOptions {
        replace: true,
        progress: Some(&progress),
        ..ImportOptions::default()
    };
    let summary = palisade_advisory::sync(home, &args.url, options).map_err(|error| {
        CliError::input(error).with_hint("the previous database (if any) is unchanged and still in use")
    })?;
    finish_progress();
    print_summary(&summary);
    Ok(Outcome::Clean)
}

pub fn status(args: &DbStatusArgs, home: &Path) -> Result<Outcome, CliError> {
    let database = Database::open(home).map_err(|error| {
        CliError::input(error).with_hint("rebuild it with `palisade db sync` or `palisade db import`")
    })?;
    let status = database.status().map_err(CliError::internal)?;
    let mut out = stdout();
    let result = match args.format {
        DepsFormat::Json => serde_json::to_writer_pretty(&mut out, &status)
            .map_err(std::io::Error::other)
            .and_then(|()| writeln!(out)),
        DepsFormat::Table => {
            let mut write = || -> std::io::Result<()> {
                match &status.path {
                    Some(path) if !status.is_baseline => writeln!(out, "database:   {}", path.display())?,
                    _ => writeln!(
                        out,
                        "database:   built-in baseline snapshot (no local database under {})",
                        home.display()
                    )?,
                }
                writeln!(out, "records:    {}", status.advisories)?;
                for (kind, count) in &status.by_kind {
                    writeln!(out, "  {kind:<24} {count}")?;
                }
                writeln!(out, "sources:")?;
                for (source, count) in &status.by_source {
                    writeln!(out, "  {source:<24} {count}")?;
                }
                writeln!(
                    out,
                    "newest:     {}",
                    status.newest_modified.as_deref().unwrap_or("(no records)")
                )?;
                writeln!(
                    out,
                    "imported:   {}",
                    status
                        .imported_at
                        .as_deref()
                        .unwrap_or("never (baseline shipped with this binary)")
                )?;
                writeln!(
                    out,
                    "synced:     {}{}",
                    status.synced_at.as_deref().unwrap_or("never"),
                    status
                        .sync_url
                        .as_deref()
                        .map(|url| format!(" from {url}"))
                        .unwrap_or_default()
                )?;
                if status.sync_due {
                    writeln!(
                        out,
                        "sync due:   yes — run `palisade db sync` (or `palisade db import FILE`) for current data"
                    )?;
                } else {
                    writeln!(out, "sync due:   no")?;
                }
                Ok(())
            };
            write()
        }
    };
    result.and_then(|()| out.flush()).map_err(CliError::internal)?;
    Ok(Outcome::Clean)
}

/// Progress on stderr, only when stderr is a terminal (DESIGN.md).
fn progress_printer() -> impl Fn(ImportProgress) {
    let tty = std::io::stderr().is_terminal();
    move |progress: ImportProgress| {
        if !tty {
            return;
        }
        let line = match progress {
            ImportProgress::Downloading {
                bytes,
                total: Some(total),
            } => {
                format!("downloading: {} / {} MiB", bytes >> 20, total >> 20)
            }
            ImportProgress::Downloading { bytes, total: None } => format!("downloading: {} MiB", bytes >> 20),
            ImportProgress::Source { path, entries } => match entries {
                Some(entries) => format!("reading {} ({entries} entries)", path.display()),
                None => format!("reading {}", path.display()),
            },
            ImportProgress::Records { done } => format!("records read: {done}"),
            ImportProgress::Finishing => "writing the index".to_string(),
        };
        eprint!("\r{line}\x1b[K");
    }
}

fn finish_progress() {
    if std::io::stderr().is_terminal() {
        eprint!("\r\x1b[K");
    }
}

fn print_summary(summary: &ImportSummary) {
    eprintln!(
        "imported {} records ({} unchanged, {} withdrawn, {} not npm, {} skipped) in {:.2} s; the database now holds {} records",
        summary.imported,
        summary.unchanged,
        summary.withdrawn,
        summary.not_npm,
        summary.skipped,
        summary.elapsed.as_secs_f64(),
        summary.total
    );
    if summary.invalid_ranges > 0 {
        eprintln!(
            "warning: {} ranges with invalid versions were skipped",
            summary.invalid_ranges
        );
    }
    for reason in &summary.skipped_reasons {
        eprintln!("warning: skipped {reason}");
    }
    if summary.skipped > summary.skipped_reasons.len() as u64 {
        eprintln!(
            "warning: … and {} more skipped",
            summary.skipped - summary.skipped_reasons.len() as u64
        );
    }
    if summary.rebuilt {
        eprintln!("note: the previous database had another schema version and was rebuilt");
    }
    eprintln!("database: {}", summary.path.display());
}
