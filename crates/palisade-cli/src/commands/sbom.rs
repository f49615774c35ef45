//! `palisade sbom`: the inventory as a CycloneDX 1.6 or SPDX 2.3 document.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use palisade_core::Inventory;
use palisade_sbom::{RootComponent, SbomInput, WriteOptions};

use crate::args::{SbomArgs, SbomFormat};
use crate::exit::{CliError, Outcome};
use crate::input;
use crate::render::stdout;

pub fn run(args: &SbomArgs) -> Result<Outcome, CliError> {
    let inventories = input::load(&args.input)?;
    let inventory = palisade_sbom::merge_inventories(&inventories);
    let project_dir = project_dir(args);
    let root = RootComponent::discover(project_dir.as_deref(), &inventory);
    let licenses = licenses(args, &inventories, &inventory, project_dir.as_deref());
    let sbom_input = SbomInput {
        inventory: &inventory,
        root,
        licenses: &licenses,
    };
    let options = WriteOptions {
        reproducible: args.reproducible,
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
    };
    let bytes = match args.format {
        SbomFormat::Cyclonedx => palisade_sbom::cyclonedx::write(&sbom_input, &options),
        SbomFormat::Spdx => palisade_sbom::spdx::write(&sbom_input, &options),
    }
    .map_err(CliError::internal)?;
    match &args.output {
        Some(path) => std::fs::write(path, &bytes)
            .with_context(|| format!("failed to write `{}`", path.display()))
            .map_err(CliError::input)?,
        None => {
            let mut out = stdout();
            out.write_all(&bytes).map_err(CliError::internal)?;
            out.flush().map_err(CliError::internal)?;
        }
    }
    let partial = input::report_warnings(&inventories, args.input.allow_partial);
    Ok(if partial && !args.input.allow_partial {
        Outcome::Partial
    } else {
        Outcome::Clean
    })
}

/// The project directory the inventory came from: where its package.json and
/// node_modules are. None for an SBOM given as input.
fn project_dir(args: &SbomArgs) -> Option<PathBuf> {
    if args.input.sbom.is_some() {
        return None;
    }
    let parent = |file: &Path| match file.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if let Some(first) = args.input.lockfile.first() {
        return Some(parent(first));
    }
    let base = args.input.path.clone().unwrap_or_else(|| PathBuf::from("."));
    // A lockfile or a node_modules directory names the project by its parent.
    if base.is_file() || base.file_name().is_some_and(|name| name == "node_modules") {
        Some(parent(&base))
    } else {
        Some(base)
    }
}

/// Declared licenses: always those an npm lockfile records; those of the
/// installed packages' package.json with --licenses or when node_modules is the input.
fn licenses(
    args: &SbomArgs,
    inventories: &[Inventory],
    merged: &Inventory,
    project_dir: Option<&Path>,
) -> BTreeMap<palisade_core::PackageId, String> {
    let mut licenses = BTreeMap::new();
    if args.input.sbom.is_some() {
        return licenses;
    }
    if let Some(dir) = project_dir.filter(|_| args.licenses || args.input.node_modules) {
        licenses.extend(palisade_sbom::licenses::from_node_modules(dir, merged));
    }
    for inventory in inventories {
        for (id, license) in palisade_sbom::licenses::from_npm_lockfile(Path::new(&inventory.lockfile), inventory) {
            licenses.entry(id).or_insert(license);
        }
    }
    licenses
}
