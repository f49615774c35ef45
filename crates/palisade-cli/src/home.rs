//! `PALISADE_HOME`: where the advisory database and caches live.

use std::path::{Path, PathBuf};

use crate::exit::CliError;

/// `--home`, else `PALISADE_HOME`, else the platform cache directory + `/palisade`.
pub fn resolve(flag: Option<&Path>) -> Result<PathBuf, CliError> {
    if let Some(path) = flag {
        return Ok(path.to_path_buf());
    }
    if let Some(value) = std::env::var_os("PALISADE_HOME").filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(value));
    }
    dirs::cache_dir().map(|dir| dir.join("palisade")).ok_or_else(|| {
        CliError::input(anyhow::anyhow!(
            "cannot find a cache directory for the advisory database"
        ))
        .with_hint("set PALISADE_HOME to a writable directory")
    })
}
