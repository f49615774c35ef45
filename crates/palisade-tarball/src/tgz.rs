//! gzip-compressed (or plain) tar archives, streamed under limits.
//!
//! The decompressed stream passes through a [`Meter`] that counts real bytes: it fails the
//! read once the stream exceeds `max_total_bytes`, or once, past `ratio_grace_bytes`, it
//! has produced more than `max_ratio` times the compressed bytes consumed so far (a gzip
//! bomb). Entry sizes declared in headers are never used to allocate.

use std::cell::Cell;
use std::io::{self, Read};
use std::rc::Rc;

use flate2::read::MultiGzDecoder;
use tar::EntryType;

use crate::collect::{AddError, Collector};
use crate::path::{sanitize, PathVerdict};
use crate::{IssueKind, Limits, PackageContents, TarballError};

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

pub(crate) fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&GZIP_MAGIC)
}

/// A POSIX/GNU tar header: `ustar` magic at 257, or a valid header checksum (old v7 tars).
pub(crate) fn is_tar(bytes: &[u8]) -> bool {
    let Some(header) = bytes.get(..512) else { return false };
    if header.get(257..262) == Some(b"ustar") {
        return true;
    }
    let Some(recorded) = parse_octal(&header[148..156]) else {
        return false;
    };
    let computed: u64 = header
        .iter()
        .enumerate()
        .map(|(i, b)| if (148..156).contains(&i) { 32 } else { u64::from(*b) })
        .sum();
    recorded == computed && header[0] != 0
}

fn parse_octal(field: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(field)
        .ok()?
        .trim_matches(|c: char| c == '\0' || c == ' ');
    u64::from_str_radix(text, 8).ok()
}

/// Counts the compressed bytes the decoder has consumed.
struct Counted<'a> {
    inner: &'a [u8],
    consumed: Rc<Cell<u64>>,
}

impl Read for Counted<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.consumed.set(self.consumed.get() + n as u64);
        Ok(n)
    }
}

/// Counts decompressed bytes and trips on the total and ratio limits.
struct Meter<R> {
    inner: R,
    produced: u64,
    /// Compressed bytes consumed so far; `None` for an uncompressed tar.
    consumed: Option<Rc<Cell<u64>>>,
    max_total: u64,
    max_ratio: u64,
    grace: u64,
    tripped: Rc<Cell<Option<IssueKind>>>,
}

impl<R: Read> Read for Meter<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.tripped.get().is_some() {
            return Err(io::Error::other("extraction limit reached"));
        }
        let n = self.inner.read(buf)?;
        self.produced += n as u64;
        if self.produced > self.max_total {
            self.tripped.set(Some(IssueKind::TotalTooLarge));
        } else if let Some(consumed) = &self.consumed {
            if self.produced > self.grace && self.produced > consumed.get().max(1).saturating_mul(self.max_ratio) {
                self.tripped.set(Some(IssueKind::CompressionRatio));
            }
        }
        if self.tripped.get().is_some() {
            return Err(io::Error::other("extraction limit reached"));
        }
        Ok(n)
    }
}

/// Reads a gzip-compressed tarball, or a plain tar (sniffed by content).
pub(crate) fn read(bytes: &[u8], origin: &str, limits: &Limits) -> Result<PackageContents, TarballError> {
    let gzip = is_gzip(bytes);
    if !gzip && !is_tar(bytes) {
        return Err(TarballError::Malformed {
            origin: origin.to_string(),
            message: "not a gzip-compressed tarball or a tar archive".into(),
        });
    }
    let consumed = Rc::new(Cell::new(0u64));
    let tripped = Rc::new(Cell::new(None));
    let source: Box<dyn Read + '_> = if gzip {
        Box::new(MultiGzDecoder::new(Counted {
            inner: bytes,
            consumed: Rc::clone(&consumed),
        }))
    } else {
        Box::new(bytes)
    };
    let meter = Meter {
        inner: source,
        produced: 0,
        consumed: gzip.then(|| Rc::clone(&consumed)),
        max_total: limits.max_total_bytes,
        max_ratio: limits.max_ratio,
        grace: limits.ratio_grace_bytes,
        tripped: Rc::clone(&tripped),
    };
    let mut archive = tar::Archive::new(meter);
    let mut collector = Collector::new(origin, limits);
    let failure = extract_entries(&mut archive, &mut collector);
    if let Some(error) = failure {
        match tripped.get() {
            Some(kind) => {
                let message = match kind {
                    IssueKind::CompressionRatio => format!(
                        "decompresses to more than {} times its compressed size (compression bomb); extraction stopped",
                        limits.max_ratio
                    ),
                    _ => format!(
                        "archive exceeds {} unpacked bytes; extraction stopped",
                        limits.max_total_bytes
                    ),
                };
                collector.issue(kind, "", message);
            }
            None if collector.has_files() => {
                collector.issue(
                    IssueKind::Truncated,
                    "",
                    format!("archive is truncated or corrupt: {error}"),
                );
            }
            None => {
                let what = if gzip {
                    "truncated or corrupt gzip/tar data"
                } else {
                    "truncated or corrupt tar data"
                };
                return Err(TarballError::Malformed {
                    origin: origin.to_string(),
                    message: format!("{what}: {error}"),
                });
            }
        }
    }
    Ok(collector.finish(bytes.len() as u64))
}

/// Walks the entries; returns the read error that ended the walk early, if any.
fn extract_entries<R: Read>(archive: &mut tar::Archive<R>, collector: &mut Collector<'_>) -> Option<io::Error> {
    let max_path_len = collector.limits().max_path_len;
    let entries = match archive.entries() {
        Ok(entries) => entries,
        Err(error) => return Some(error),
    };
    for entry in entries {
        let mut entry = match entry {
            Ok(entry) => entry,
            Err(error) => return Some(error),
        };
        if collector.count_entry().is_err() {
            return None;
        }
        let raw = entry.path_bytes().into_owned();
        let shown = String::from_utf8_lossy(&raw).into_owned();
        let header = entry.header();
        let entry_type = header.entry_type();
        let mode = header.mode().unwrap_or(0);
        let link = entry
            .link_name_bytes()
            .map(|l| String::from_utf8_lossy(&l).into_owned())
            .unwrap_or_default();
        match entry_type {
            EntryType::Regular | EntryType::Continuous if !raw.ends_with(b"/") => {}
            EntryType::Directory | EntryType::Regular | EntryType::Continuous => continue,
            EntryType::XGlobalHeader | EntryType::XHeader | EntryType::GNULongName | EntryType::GNULongLink => continue,
            EntryType::Symlink => {
                collector.issue(
                    IssueKind::Symlink,
                    &shown,
                    format!("symbolic link to `{link}`; skipped"),
                );
                continue;
            }
            EntryType::Link => {
                collector.issue(IssueKind::HardLink, &shown, format!("hard link to `{link}`; skipped"));
                continue;
            }
            EntryType::Char | EntryType::Block | EntryType::Fifo => {
                collector.issue(IssueKind::Device, &shown, "device or FIFO entry; skipped");
                continue;
            }
            other => {
                let message = format!(
                    "unsupported entry type `{}`; skipped",
                    char::from(other.as_byte()).escape_default()
                );
                collector.issue(IssueKind::UnsupportedEntry, &shown, message);
                continue;
            }
        }
        let clean = match sanitize(&raw, true, max_path_len) {
            PathVerdict::Keep(clean) => clean,
            PathVerdict::OutsidePackage => {
                collector.issue(
                    IssueKind::InvalidPath,
                    &shown,
                    "file outside the package folder (npm ignores it); skipped",
                );
                continue;
            }
            PathVerdict::Refuse(kind, message) => {
                collector.issue(kind, &shown, format!("{message}; skipped"));
                continue;
            }
        };
        if let Some((kind, message)) = clean.warning {
            collector.issue(kind, &shown, message);
        }
        match collector.add_file(clean.path, mode, &mut entry) {
            Ok(()) => {}
            Err(AddError::Stop) => return None,
            Err(AddError::Io(error)) => return Some(error),
        }
    }
    None
}
