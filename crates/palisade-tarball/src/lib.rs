//! Safe, in-memory extraction of npm packages.
//!
//! Package contents are attacker-controlled. Everything here reads into memory under hard
//! limits (entry count, per-file and total uncompressed size, compression ratio); nothing is
//! written to disk and nothing is executed. Entries that could escape a directory or are not
//! plain files (absolute paths, `..`, symlinks, hard links, devices) are skipped and reported
//! as [`ExtractIssue`]s so the analyzer can turn them into findings.

mod collect;
mod dir;
mod path;
mod tgz;
mod zipfile;

use std::io::Read;
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
    /// A tar entry type npm does not unpack (GNU sparse files, vendor extensions).
    UnsupportedEntry,
    /// A directory entry that could not be read (permissions, I/O error).
    Unreadable,
}

impl IssueKind {
    /// Stable kebab-case name, as serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            IssueKind::AbsolutePath => "absolute-path",
            IssueKind::PathTraversal => "path-traversal",
            IssueKind::Symlink => "symlink",
            IssueKind::HardLink => "hard-link",
            IssueKind::Device => "device",
            IssueKind::FileTooLarge => "file-too-large",
            IssueKind::TooManyEntries => "too-many-entries",
            IssueKind::TotalTooLarge => "total-too-large",
            IssueKind::CompressionRatio => "compression-ratio",
            IssueKind::InvalidPath => "invalid-path",
            IssueKind::DuplicatePath => "duplicate-path",
            IssueKind::Truncated => "truncated",
            IssueKind::UnsupportedEntry => "unsupported-entry",
            IssueKind::Unreadable => "unreadable",
        }
    }

    /// Whether extraction stopped early because of this (the package was only partly read).
    pub fn stops_extraction(self) -> bool {
        matches!(
            self,
            IssueKind::TooManyEntries | IssueKind::TotalTooLarge | IssueKind::CompressionRatio | IssueKind::Truncated
        )
    }
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

/// Reads a gzip-compressed npm tarball, or an uncompressed tar (sniffed by content).
///
/// The first path component is stripped whatever its name, as npm does. Entries that are
/// not regular files, or whose names escape the package, are skipped and recorded in
/// [`PackageContents::issues`]. Limits: a file over `max_file_bytes` is skipped with an
/// issue; exceeding `max_entries`, `max_total_bytes` or `max_ratio` stops extraction and
/// returns what was read so far with an issue saying why (so an archive bomb becomes a
/// finding, not an error). A stream that breaks after some files were read yields a
/// `Truncated` issue; one that yields no file at all is an error.
pub fn read_tgz(bytes: &[u8], origin: &str, limits: &Limits) -> Result<PackageContents, TarballError> {
    tgz::read(bytes, origin, limits)
}

/// Reads an unpacked package directory (symlinks are reported, never followed; `.git` and
/// `node_modules` are skipped).
pub fn read_dir(path: &Path, limits: &Limits) -> Result<PackageContents, TarballError> {
    dir::read(path, limits)
}

/// Reads a zip archive of package trees; one [`PackageContents`] per package root found
/// (the zip root when it holds `package.json`, else each top folder holding one, else a
/// lone top folder). Encrypted entries need `password` (ZipCrypto or AES); a wrong or
/// missing one is [`TarballError::Password`].
pub fn read_zip(
    bytes: &[u8],
    origin: &str,
    password: Option<&[u8]>,
    limits: &Limits,
) -> Result<Vec<PackageContents>, TarballError> {
    zipfile::read(bytes, origin, password, limits)
}

/// What [`read_path`] and [`read_bytes`] recognise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveKind {
    Gzip,
    Tar,
    Zip,
}

/// Sniffs an archive format from its first bytes.
pub fn sniff(bytes: &[u8]) -> Option<ArchiveKind> {
    if tgz::is_gzip(bytes) {
        Some(ArchiveKind::Gzip)
    } else if zipfile::is_zip(bytes) {
        Some(ArchiveKind::Zip)
    } else if tgz::is_tar(bytes) {
        Some(ArchiveKind::Tar)
    } else {
        None
    }
}

/// Reads an archive held in memory, whatever its format (gzip/tar/zip by content).
pub fn read_bytes(
    bytes: &[u8],
    origin: &str,
    password: Option<&[u8]>,
    limits: &Limits,
) -> Result<Vec<PackageContents>, TarballError> {
    match sniff(bytes) {
        Some(ArchiveKind::Zip) => read_zip(bytes, origin, password, limits),
        Some(ArchiveKind::Gzip | ArchiveKind::Tar) => Ok(vec![read_tgz(bytes, origin, limits)?]),
        None => Err(TarballError::Malformed {
            origin: origin.to_string(),
            message: "not a package archive (expected a .tgz, .tar or .zip) or a directory".into(),
        }),
    }
}

/// Reads a package from disk: a directory, a `.tgz`/`.tar.gz`/`.tar` or a `.zip` (the format
/// is sniffed from the content, not the extension). Files larger than `max_total_bytes`
/// are refused before being read.
pub fn read_path(path: &Path, password: Option<&[u8]>, limits: &Limits) -> Result<Vec<PackageContents>, TarballError> {
    let origin = path.display().to_string();
    let io_error = |source| TarballError::Io {
        origin: origin.clone(),
        source,
    };
    let metadata = std::fs::metadata(path).map_err(io_error)?;
    if metadata.is_dir() {
        return Ok(vec![read_dir(path, limits)?]);
    }
    if metadata.len() > limits.max_total_bytes {
        return Err(TarballError::Limit {
            origin,
            message: format!(
                "{} bytes, over the limit of {} bytes",
                metadata.len(),
                limits.max_total_bytes
            ),
        });
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|file| {
            file.take(limits.max_total_bytes.saturating_add(1))
                .read_to_end(&mut bytes)
        })
        .map_err(io_error)?;
    read_bytes(&bytes, &origin, password, limits)
}
