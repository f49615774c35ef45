//! Safe, in-memory extraction of npm packages.
//!
//! Package contents are attacker-controlled. Everything here reads into memory under hard
//! limits (entry count, per-file and total uncompressed size, compression ratio); nothing is
//! written to disk and nothing is executed. Entries that could escape a directory or are not
//! plain files (absolute paths, `..`, symlinks, hard links, devices) are skipped and reported
//! as [`ExtractIssue`]s so the analyzer can turn them into findings.

use std::path::Path;

use serde::Serialize;

/// Hard limits for one package.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_entries: usize,
    pub max_file_bytes: u64,
    pub max_total_bytes: u64,
    /// Largest allowed ratio of uncompressed to compressed bytes, once past `ratio_grace_bytes`.
    pub max_ratio: u64,
    pub ratio_grace_bytes: u64,
    pub max_path_len: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_entries: 50_000,
            max_file_bytes: 64 << 20,
            max_total_bytes: 512 << 20,
            max_ratio: 200,
            ratio_grace_bytes: 16 << 20,
            max_path_len: 1024,
        }
    }
}

/// One regular file of a package.
#[derive(Debug, Clone)]
pub struct PackageFile {
    /// Path relative to the package root, `/`-separated, without the tarball's top folder
    /// (`package/index.js` → `index.js`).
    pub path: String,
    pub data: Vec<u8>,
    /// Unix mode bits as recorded in the archive (0 when unknown).
    pub mode: u32,
}

/// Why an entry was skipped or the extraction was cut short.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum IssueKind {
    AbsolutePath,
    PathTraversal,
    Symlink,
    HardLink,
    Device,
    FileTooLarge,
    TooManyEntries,
    TotalTooLarge,
    CompressionRatio,
    InvalidPath,
    DuplicatePath,
    Truncated,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExtractIssue {
    pub kind: IssueKind,
    /// The entry's name as written in the archive (lossy UTF-8, bounded).
    pub path: String,
    pub message: String,
}

/// The files of one package, read into memory.
#[derive(Debug, Clone, Default)]
pub struct PackageContents {
    /// Where it came from, for messages: a file path, `name@version`, a URL.
    pub origin: String,
    pub files: Vec<PackageFile>,
    pub issues: Vec<ExtractIssue>,
    pub compressed_bytes: u64,
    pub unpacked_bytes: u64,
}

impl PackageContents {
    /// The file at `path` (relative to the package root).
    pub fn file(&self, path: &str) -> Option<&PackageFile> {
        self.files.iter().find(|f| f.path == path)
    }

    /// The root `package.json`, if the package has one.
    pub fn manifest_bytes(&self) -> Option<&[u8]> {
        self.file("package.json").map(|f| f.data.as_slice())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TarballError {
    #[error("{origin}: {message}")]
    Malformed { origin: String, message: String },
    #[error("{origin}: {message}")]
    Limit { origin: String, message: String },
    #[error("{origin}: {source}")]
    Io { origin: String, source: std::io::Error },
    #[error("{origin}: wrong or missing zip password")]
    Password { origin: String },
}

/// Reads a gzip-compressed npm tarball.
pub fn read_tgz(_bytes: &[u8], origin: &str, _limits: &Limits) -> Result<PackageContents, TarballError> {
    Err(TarballError::Malformed { origin: origin.to_string(), message: "tarball reader not built yet".into() })
}

/// Reads an unpacked package directory (symlinks are reported, never followed).
pub fn read_dir(path: &Path, _limits: &Limits) -> Result<PackageContents, TarballError> {
    Err(TarballError::Malformed { origin: path.display().to_string(), message: "directory reader not built yet".into() })
}

/// Reads a zip archive of package trees; one [`PackageContents`] per package root found
/// (a top `package/` folder, or each folder holding a `package.json`).
pub fn read_zip(
    _bytes: &[u8],
    origin: &str,
    _password: Option<&[u8]>,
    _limits: &Limits,
) -> Result<Vec<PackageContents>, TarballError> {
    Err(TarballError::Malformed { origin: origin.to_string(), message: "zip reader not built yet".into() })
}
