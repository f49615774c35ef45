//! Lockfile extractors: every npm-ecosystem lockfile format in, one
//! [`Inventory`] out.
//!
//! Follows the osv-scalibr extractor contract: [`LockfileKind::detect`] decides
//! from the file name alone (no I/O) whether a file is wanted, and the
//! extractors parse what they are given. The caller walks the filesystem.
//!
//! Lockfiles are untrusted input. Sizes are bounded ([`MAX_LOCKFILE_BYTES`]),
//! parsers recurse only as deep as the format needs, and an entry that cannot be
//! understood becomes a [`Warning`](palisade_core::Warning) on the inventory
//! rather than being dropped: a caller must never report "no issues" for a file
//! it only partly read.

mod bun;
mod error;
mod node_modules;
mod npm;
mod pnpm;
mod yarn;

use std::io::Read;
use std::path::{Path, PathBuf};

pub use error::LockfileError;
pub use node_modules::walk_node_modules;
use palisade_core::Inventory;

/// Lockfiles larger than this are refused: the largest real lockfiles are tens
/// of megabytes, so this only stops hostile input from exhausting memory.
pub const MAX_LOCKFILE_BYTES: u64 = 512 * 1024 * 1024;

/// The lockfile formats Palisade reads, by file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockfileKind {
    /// `package-lock.json`, `npm-shrinkwrap.json` and the hidden lockfile
    /// `node_modules/.package-lock.json` (v1, v2, v3).
    Npm,
    /// `yarn.lock`, classic (v1) or berry (v2+); told apart by content.
    Yarn,
    /// `pnpm-lock.yaml` 5.x, 6.x, 9.x, including pnpm 11's multi-document files.
    Pnpm,
    /// `bun.lock` (text format).
    Bun,
}

impl LockfileKind {
    /// The kind of lockfile a path names, from its file name only.
    pub fn detect(path: &Path) -> Option<Self> {
        let file_name = path.file_name()?.to_str()?;
        match file_name {
            "package-lock.json" | "npm-shrinkwrap.json" | ".package-lock.json" => Some(Self::Npm),
            "yarn.lock" => Some(Self::Yarn),
            "pnpm-lock.yaml" => Some(Self::Pnpm),
            "bun.lock" => Some(Self::Bun),
            _ => None,
        }
    }

    /// File names searched for in a project directory, in order of preference.
    pub const FILE_NAMES: &'static [&'static str] = &[
        "npm-shrinkwrap.json",
        "package-lock.json",
        "pnpm-lock.yaml",
        "yarn.lock",
        "bun.lock",
    ];
}

/// Parse lockfile text. `display_path` is used in the inventory and in errors.
pub fn extract_str(kind: LockfileKind, display_path: &str, contents: &str) -> Result<Inventory, LockfileError> {
    let mut inventory = match kind {
        LockfileKind::Npm => npm::extract(display_path, contents)?,
        LockfileKind::Yarn => yarn::extract(display_path, contents)?,
        LockfileKind::Pnpm => pnpm::extract(display_path, contents)?,
        LockfileKind::Bun => bun::extract(display_path, contents)?,
    };
    inventory.normalize();
    Ok(inventory)
}

/// Read and parse one lockfile; its kind comes from its file name.
pub fn extract_file(path: &Path) -> Result<Inventory, LockfileError> {
    let display_path = path.display().to_string();
    let kind = LockfileKind::detect(path).ok_or_else(|| LockfileError::Unrecognised {
        path: display_path.clone(),
    })?;
    let contents = read_bounded(path)?;
    extract_str(kind, &display_path, &contents)
}

/// Read a file as UTF-8 with the [`MAX_LOCKFILE_BYTES`] bound.
pub fn read_bounded(path: &Path) -> Result<String, LockfileError> {
    let display_path = path.display().to_string();
    let io_error = |source| LockfileError::Io {
        path: display_path.clone(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io_error)?;
    let size = file.metadata().map_err(io_error)?.len();
    if size > MAX_LOCKFILE_BYTES {
        return Err(LockfileError::TooLarge {
            path: display_path,
            size,
            limit: MAX_LOCKFILE_BYTES,
        });
    }
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    file.take(MAX_LOCKFILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io_error)?;
    String::from_utf8(bytes).map_err(|error| LockfileError::Syntax {
        path: display_path.clone(),
        line: 0,
        column: 0,
        message: format!("not valid UTF-8 (byte offset {})", error.utf8_error().valid_up_to()),
    })
}

/// The lockfiles directly inside `dir`, in [`LockfileKind::FILE_NAMES`] order.
/// `npm-shrinkwrap.json` wins over `package-lock.json` as it does for npm.
pub fn find_lockfiles(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for name in LockfileKind::FILE_NAMES {
        let candidate = dir.join(name);
        if candidate.is_file() {
            if *name == "package-lock.json" && found.iter().any(|p: &PathBuf| p.ends_with("npm-shrinkwrap.json")) {
                continue;
            }
            found.push(candidate);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_by_file_name_only() {
        assert_eq!(
            LockfileKind::detect(Path::new("a/package-lock.json")),
            Some(LockfileKind::Npm)
        );
        assert_eq!(
            LockfileKind::detect(Path::new("node_modules/.package-lock.json")),
            Some(LockfileKind::Npm)
        );
        assert_eq!(
            LockfileKind::detect(Path::new("pnpm-lock.yaml")),
            Some(LockfileKind::Pnpm)
        );
        assert_eq!(LockfileKind::detect(Path::new("bun.lockb")), None);
        assert_eq!(LockfileKind::detect(Path::new("package.json")), None);
    }
}
