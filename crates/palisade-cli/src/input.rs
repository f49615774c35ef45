//! Turning `PATH` / `--lockfile` / `--node-modules` into inventories.

use std::path::{Path, PathBuf};

use anyhow::anyhow;
use palisade_core::{Inventory, Warning};
use palisade_lockfile::{LockfileError, LockfileKind};

use crate::args::{InputArgs, Omit};
use crate::exit::CliError;

/// Read the inventories the arguments name, with `--omit` applied.
pub fn load(args: &InputArgs) -> Result<Vec<Inventory>, CliError> {
    let base = args.path.clone().unwrap_or_else(|| PathBuf::from("."));
    let mut inventories = if let Some(file) = &args.sbom {
        vec![read_sbom(file)?]
    } else if args.node_modules {
        vec![walk_node_modules(&base)?]
    } else if !args.lockfile.is_empty() {
        args.lockfile
            .iter()
            .map(|file| read_lockfile(file))
            .collect::<Result<Vec<_>, _>>()?
    } else if base.is_file() {
        vec![read_lockfile(&base)?]
    } else {
        discover(&base)?
    };
    for inventory in &mut inventories {
        apply_omit(inventory, &args.omit);
    }
    Ok(inventories)
}

/// An SBOM as input (`--sbom FILE`). Components of other ecosystems are
/// left out with a note on stderr; they are not npm packages.
fn read_sbom(path: &Path) -> Result<Inventory, CliError> {
    let outcome = palisade_sbom::read_file(path).map_err(|error| {
        let hint = match &error {
            palisade_sbom::SbomError::Unrecognised { .. } | palisade_sbom::SbomError::UnsupportedVersion { .. } => {
                Some("Palisade reads CycloneDX JSON 1.2 to 1.6 and SPDX JSON 2.2/2.3 (XML and tag-value are not read)")
            }
            _ => None,
        };
        let cli_error = CliError::input(error);
        match hint {
            Some(hint) => cli_error.with_hint(hint),
            None => cli_error,
        }
    })?;
    if outcome.non_npm_components > 0 {
        eprintln!(
            "note: {}: {} non-npm components left out",
            outcome.inventory.lockfile, outcome.non_npm_components
        );
    }
    Ok(outcome.inventory)
}

fn read_lockfile(path: &Path) -> Result<Inventory, CliError> {
    palisade_lockfile::extract_file(path).map_err(lockfile_error)
}

fn walk_node_modules(base: &Path) -> Result<Inventory, CliError> {
    let root = if base.file_name().is_some_and(|name| name == "node_modules") {
        base.to_path_buf()
    } else {
        base.join("node_modules")
    };
    if !root.is_dir() {
        return Err(
            CliError::input(anyhow!("no node_modules directory at `{}`", root.display()))
                .with_hint("run the package manager's install first, or drop --node-modules to read the lockfile"),
        );
    }
    palisade_lockfile::walk_node_modules(&root).map_err(lockfile_error)
}

/// The lockfile(s) of a project directory. Several lockfiles of different
/// package managers in one directory are all read: each may be what some
/// developer or CI job installs from.
fn discover(dir: &Path) -> Result<Vec<Inventory>, CliError> {
    if !dir.exists() {
        return Err(CliError::input(anyhow!("`{}` does not exist", dir.display())));
    }
    let mut found = palisade_lockfile::find_lockfiles(dir);
    if found.is_empty() {
        // npm's hidden lockfile describes what is installed; use it only when nothing else exists.
        let hidden = dir.join("node_modules").join(".package-lock.json");
        if hidden.is_file() {
            found.push(hidden);
        }
    }
    if found.is_empty() {
        let mut error = CliError::input(anyhow!(
            "no lockfile in `{}` (looked for {})",
            dir.display(),
            LockfileKind::FILE_NAMES.join(", ")
        ));
        error = if dir.join("bun.lockb").is_file() {
            error.with_hint("bun.lockb is binary: run `bun install --save-text-lockfile` to write bun.lock")
        } else if dir.join("node_modules").is_dir() {
            error.with_hint("pass --node-modules to inventory the installed tree instead")
        } else {
            error.with_hint("run `npm install --package-lock-only` (or your package manager's equivalent) first, or pass --lockfile FILE")
        };
        return Err(error);
    }
    found.iter().map(|path| read_lockfile(path)).collect()
}

fn lockfile_error(error: LockfileError) -> CliError {
    let hint = match &error {
        LockfileError::UnsupportedVersion { .. } => {
            Some("regenerate the lockfile with a supported package manager version, or report the format")
        }
        LockfileError::TooLarge { .. } => Some("a lockfile this large is almost certainly not genuine"),
        LockfileError::Unrecognised { .. } => Some(
            "Palisade reads package-lock.json, npm-shrinkwrap.json, yarn.lock, pnpm-lock.yaml and bun.lock \
             (bun.lockb is binary: run `bun install --save-text-lockfile` to write bun.lock)",
        ),
        _ => None,
    };
    let mut cli_error = CliError::input(error);
    if let Some(hint) = hint {
        cli_error = cli_error.with_hint(hint);
    }
    cli_error
}

fn apply_omit(inventory: &mut Inventory, omit: &[Omit]) {
    if omit.is_empty() {
        return;
    }
    let omit_dev = omit.contains(&Omit::Dev);
    let omit_optional = omit.contains(&Omit::Optional);
    inventory
        .packages
        .retain(|package| !((omit_dev && package.dev) || (omit_optional && package.optional)));
}

/// Print an inventory's warnings to stderr; true when there were any.
pub fn report_warnings(inventories: &[Inventory], allow_partial: bool) -> bool {
    let mut any = false;
    for inventory in inventories {
        for Warning { message, line } in &inventory.warnings {
            any = true;
            match line {
                Some(line) => eprintln!("warning: {}:{line}: {message}", inventory.lockfile),
                None => eprintln!("warning: {}: {message}", inventory.lockfile),
            }
        }
    }
    if any && allow_partial {
        eprintln!("warning: some entries were not understood; the results above are incomplete");
    } else if any {
        eprintln!(
            "warning: some entries were not understood; the results above are incomplete (exit 2; pass --allow-partial to exit normally)"
        );
    }
    any
}
