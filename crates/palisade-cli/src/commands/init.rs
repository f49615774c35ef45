//! `palisade init`: write the commented default palisade.toml.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{anyhow, Context};
use palisade_policy::config::{DEFAULT_FILE, FILE_NAME};

use crate::args::InitArgs;
use crate::exit::{CliError, Outcome};

pub fn run(args: &InitArgs) -> Result<Outcome, CliError> {
    let dir = args.path.clone().unwrap_or_else(|| PathBuf::from("."));
    if !dir.is_dir() {
        return Err(CliError::input(anyhow!("`{}` is not a directory", dir.display())));
    }
    let path = dir.join(FILE_NAME);
    if path.exists() && !args.force {
        return Err(
            CliError::input(anyhow!("`{}` already exists", path.display())).with_hint("pass --force to overwrite it")
        );
    }
    // create_new without --force closes the race between the check above and the write.
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if args.force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    let mut file = options
        .open(&path)
        .with_context(|| format!("failed to create `{}`", path.display()))
        .map_err(CliError::input)?;
    file.write_all(DEFAULT_FILE.as_bytes())
        .with_context(|| format!("failed to write `{}`", path.display()))
        .map_err(CliError::input)?;
    eprintln!("wrote {} (every key is optional; see docs/check.md)", path.display());
    Ok(Outcome::Clean)
}
