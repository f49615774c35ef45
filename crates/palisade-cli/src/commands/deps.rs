//! `palisade deps`: the inventory.

use std::io::Write;

use palisade_core::{Importer, Inventory, Package, Warning};
use serde::Serialize;

use crate::args::{DepsArgs, DepsFormat};
use crate::exit::{CliError, Outcome};
use crate::input;
use crate::render::{stdout, Table};

/// The JSON document of `palisade deps --format json` (docs/json.md).
#[derive(Debug, Serialize)]
pub struct DepsReport<'a> {
    pub lockfile: &'a str,
    pub format: &'a str,
    pub packages: Vec<&'a Package>,
    pub importers: Vec<&'a Importer>,
    /// Packages the package manager installs for itself (pnpm's env document).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tooling: Vec<&'a Package>,
    pub warnings: Vec<&'a Warning>,
    /// Present when more than one lockfile was read; `packages` is then their union.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub lockfiles: Vec<LockfileSummary<'a>>,
}

#[derive(Debug, Serialize)]
pub struct LockfileSummary<'a> {
    pub lockfile: &'a str,
    pub format: &'a str,
    pub package_count: usize,
}

impl<'a> DepsReport<'a> {
    pub fn new(inventories: &'a [Inventory]) -> Self {
        let first = inventories.first();
        let mut packages: Vec<&Package> = inventories.iter().flat_map(|i| &i.packages).collect();
        if inventories.len() > 1 {
            packages.sort_by(|a, b| (&a.name, &a.version).cmp(&(&b.name, &b.version)));
        }
        Self {
            lockfile: first.map_or("", |i| i.lockfile.as_str()),
            format: first.map_or("", |i| i.format.as_str()),
            packages,
            importers: inventories.iter().flat_map(|i| &i.importers).collect(),
            tooling: inventories.iter().flat_map(|i| &i.tooling).collect(),
            warnings: inventories.iter().flat_map(|i| &i.warnings).collect(),
            lockfiles: if inventories.len() > 1 {
                inventories
                    .iter()
                    .map(|i| LockfileSummary {
                        lockfile: &i.lockfile,
                        format: &i.format,
                        package_count: i.packages.len(),
                    })
                    .collect()
            } else {
                Vec::new()
            },
        }
    }
}

pub fn run(args: &DepsArgs) -> Result<Outcome, CliError> {
    let inventories = input::load(&args.input)?;
    let mut out = stdout();
    match args.format {
        DepsFormat::Json => {
            let report = DepsReport::new(&inventories);
            serde_json::to_writer_pretty(&mut out, &report).map_err(CliError::internal)?;
            writeln!(out).map_err(CliError::internal)?;
        }
        DepsFormat::Table => render_table(&mut out, &inventories).map_err(CliError::internal)?,
    }
    out.flush().map_err(CliError::internal)?;
    let partial = input::report_warnings(&inventories, args.input.allow_partial);
    Ok(if partial && !args.input.allow_partial {
        Outcome::Partial
    } else {
        Outcome::Clean
    })
}

fn render_table(out: &mut impl Write, inventories: &[Inventory]) -> std::io::Result<()> {
    for inventory in inventories {
        let mut table = Table::new(["NAME", "VERSION", "SOURCE", "FLAGS", "LOCATION"]);
        for package in &inventory.packages {
            let mut flags = Vec::new();
            if package.dev {
                flags.push("dev");
            }
            if package.optional {
                flags.push("optional");
            }
            let location = match package.paths.as_slice() {
                [] => String::new(),
                [one] => one.clone(),
                [first, rest @ ..] => format!("{first} (+{} more)", rest.len()),
            };
            table.row([
                package.name.clone(),
                package.version.clone(),
                package.source.to_string(),
                flags.join(","),
                location,
            ]);
        }
        table.write(out)?;
        if !inventory.tooling.is_empty() {
            writeln!(
                out,
                "\npackage-manager tooling (installed for the package manager, not the project):"
            )?;
            for package in &inventory.tooling {
                writeln!(out, "  {}@{}", package.name, package.version)?;
            }
        }
        let direct: usize = inventory.importers.iter().map(|i| i.dependencies.len()).sum();
        writeln!(
            out,
            "\n{}: {} ({} packages; {} importers, i.e. root and workspace members, with {} direct dependencies)\n",
            inventory.lockfile,
            inventory.format,
            inventory.packages.len(),
            inventory.importers.len(),
            direct
        )?;
    }
    Ok(())
}
