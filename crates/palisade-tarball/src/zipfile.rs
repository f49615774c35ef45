//! Zip archives of package trees, decrypted (ZipCrypto/AES) and read in memory.
//!
//! Malware collections ship samples as password-protected zips (`infected`), one package
//! under a top `package/` folder, or several package folders side by side. Each package
//! root becomes one [`PackageContents`]: the zip root when it holds `package.json`, else
//! every top folder holding one, else a lone top folder, else the zip root.

use std::collections::BTreeSet;
use std::io::Cursor;

use zip::result::ZipError;
use zip::ZipArchive;

use crate::collect::{AddError, Collector};
use crate::path::{sanitize, PathVerdict};
use crate::{IssueKind, Limits, PackageContents, TarballError};

const ZIP_MAGICS: [&[u8]; 3] = [b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08"];

pub(crate) fn is_zip(bytes: &[u8]) -> bool {
    ZIP_MAGICS.iter().any(|magic| bytes.starts_with(magic))
}

enum Entry {
    File {
        index: usize,
        path: String,
        mode: u32,
        warning: Option<(IssueKind, String)>,
    },
    Issue {
        kind: IssueKind,
        shown: String,
        message: String,
    },
}

pub(crate) fn read(
    bytes: &[u8],
    origin: &str,
    password: Option<&[u8]>,
    limits: &Limits,
) -> Result<Vec<PackageContents>, TarballError> {
    let malformed = |message: String| TarballError::Malformed {
        origin: origin.to_string(),
        message,
    };
    if let Some(declared) = declared_entries(bytes) {
        // Every central directory entry takes at least 46 bytes: a larger count is a lie
        // that would make the zip reader reserve memory for it.
        if declared.saturating_mul(46) > bytes.len() as u64 {
            return Err(malformed(format!(
                "declares {declared} entries, more than its {} bytes can hold",
                bytes.len()
            )));
        }
    }
    let mut archive = ZipArchive::new(Cursor::new(bytes))
        .map_err(|error| malformed(format!("not a readable zip archive: {error}")))?;

    // First pass, names only (no decryption): classify entries, find the package roots.
    let mut entries = Vec::new();
    let total_entries = archive.len();
    for index in 0..total_entries.min(limits.max_entries.saturating_add(1)) {
        let file = archive
            .by_index_raw(index)
            .map_err(|error| malformed(format!("entry {index}: {error}")))?;
        let shown = String::from_utf8_lossy(file.name_raw()).into_owned();
        if file.is_dir() {
            continue;
        }
        if file.is_symlink() {
            let message = "symbolic link; skipped".to_string();
            entries.push(Entry::Issue {
                kind: IssueKind::Symlink,
                shown,
                message,
            });
            continue;
        }
        let mode = file.unix_mode().unwrap_or(0);
        let file_type = mode & 0o170000;
        if file_type != 0 && file_type != 0o100000 {
            let message = "device, FIFO or socket; skipped".to_string();
            entries.push(Entry::Issue {
                kind: IssueKind::Device,
                shown,
                message,
            });
            continue;
        }
        match sanitize(file.name_raw(), false, limits.max_path_len) {
            PathVerdict::Keep(clean) => entries.push(Entry::File {
                index,
                path: clean.path,
                mode: mode & 0o7777,
                warning: clean.warning,
            }),
            PathVerdict::OutsidePackage => {}
            PathVerdict::Refuse(kind, message) => entries.push(Entry::Issue {
                kind,
                shown,
                message: format!("{message}; skipped"),
            }),
        }
    }
    let roots = package_roots(&entries);

    let mut packages = Vec::new();
    let mut produced: u64 = 0;
    let compressed = bytes.len() as u64;
    for root in &roots {
        let package_origin = if roots.len() == 1 {
            origin.to_string()
        } else {
            format!("{origin}:{root}")
        };
        let mut collector = Collector::new(&package_origin, limits);
        if total_entries > limits.max_entries {
            let message = format!(
                "zip has {total_entries} entries, over the limit of {}",
                limits.max_entries
            );
            collector.issue(IssueKind::TooManyEntries, "", message);
        }
        for entry in &entries {
            match entry {
                Entry::Issue { kind, shown, message } if in_root(shown, root) => {
                    collector.issue(*kind, shown, message.clone());
                }
                Entry::Issue { .. } => {}
                Entry::File {
                    index,
                    path,
                    mode,
                    warning,
                } => {
                    let Some(relative) = strip_root(path, root) else {
                        continue;
                    };
                    if collector.count_entry().is_err() {
                        break;
                    }
                    if let Some((kind, message)) = warning {
                        collector.issue(*kind, path, message.clone());
                    }
                    let file = match password {
                        Some(password) => archive.by_index_decrypt(*index, password),
                        None => archive.by_index(*index),
                    };
                    let file = match file {
                        Ok(file) => file,
                        Err(ZipError::InvalidPassword) => {
                            return Err(TarballError::Password {
                                origin: origin.to_string(),
                            })
                        }
                        Err(ZipError::UnsupportedArchive(message)) if message == ZipError::PASSWORD_REQUIRED => {
                            return Err(TarballError::Password {
                                origin: origin.to_string(),
                            })
                        }
                        Err(error) => {
                            collector.issue(IssueKind::Truncated, path, format!("could not be read: {error}"));
                            continue;
                        }
                    };
                    let encrypted = file.encrypted();
                    let before = collector.bytes_read();
                    let result = collector.add_file(relative.to_string(), *mode, file);
                    produced += collector.bytes_read() - before;
                    match result {
                        Ok(()) => {}
                        Err(AddError::Stop) => break,
                        // ZipCrypto checks one byte of the password: a wrong one passes 1 time
                        // in 256 and then fails on the data.
                        Err(AddError::Io(_)) if encrypted => {
                            return Err(TarballError::Password {
                                origin: origin.to_string(),
                            })
                        }
                        Err(AddError::Io(error)) => {
                            collector.issue(IssueKind::Truncated, path, format!("could not be read: {error}"));
                        }
                    }
                    if produced > limits.ratio_grace_bytes && produced > compressed.saturating_mul(limits.max_ratio) {
                        let message = format!(
                            "decompresses to more than {} times its compressed size (compression bomb); extraction stopped",
                            limits.max_ratio
                        );
                        collector.issue(IssueKind::CompressionRatio, "", message);
                        break;
                    }
                }
            }
        }
        packages.push(collector.finish(compressed));
    }
    Ok(packages)
}

/// The entry count the end-of-central-directory record declares (the zip64 record's when
/// present). `None` when no record is found (the zip reader then reports the error).
/// Layout: APPNOTE.TXT 4.3.16 (EOCD), 4.3.14/4.3.15 (zip64 EOCD and its locator).
fn declared_entries(bytes: &[u8]) -> Option<u64> {
    const EOCD: &[u8] = b"PK\x05\x06";
    let search_from = bytes.len().saturating_sub(22 + 65_535);
    let at = bytes[search_from..].windows(4).rposition(|w| w == EOCD)? + search_from;
    let u16_at = |offset: usize| {
        bytes
            .get(offset..offset + 2)
            .map(|b| u64::from(u16::from_le_bytes([b[0], b[1]])))
    };
    let u64_at = |offset: usize| {
        let b = bytes.get(offset..offset + 8)?;
        Some(u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
    };
    let entries = u16_at(at + 10)?;
    // A zip64 locator sits right before the EOCD and points at the zip64 EOCD record.
    if at >= 20 && bytes.get(at - 20..at - 16) == Some(b"PK\x06\x07") {
        let record = usize::try_from(u64_at(at - 12)?).ok()?;
        if bytes.get(record..record.saturating_add(4)) == Some(b"PK\x06\x06") {
            return u64_at(record + 32);
        }
    }
    // 0xFFFF means "see the zip64 record"; without one the count is unknown.
    (entries != u64::from(u16::MAX)).then_some(entries)
}

/// Package roots: `""` for the zip root, else top folder names.
fn package_roots(entries: &[Entry]) -> Vec<String> {
    let files: Vec<&str> = entries
        .iter()
        .filter_map(|e| match e {
            Entry::File { path, .. } => Some(path.as_str()),
            Entry::Issue { .. } => None,
        })
        .collect();
    if files.contains(&"package.json") {
        return vec![String::new()];
    }
    let with_manifest: BTreeSet<&str> = files
        .iter()
        .filter_map(|p| p.strip_suffix("/package.json"))
        .filter(|dir| !dir.contains('/'))
        .collect();
    if !with_manifest.is_empty() {
        return with_manifest.into_iter().map(str::to_string).collect();
    }
    let tops: BTreeSet<Option<&str>> = files.iter().map(|p| p.split_once('/').map(|(top, _)| top)).collect();
    match tops.into_iter().collect::<Vec<_>>().as_slice() {
        [Some(top)] => vec![(*top).to_string()],
        _ => vec![String::new()],
    }
}

fn strip_root<'p>(path: &'p str, root: &str) -> Option<&'p str> {
    if root.is_empty() {
        Some(path)
    } else {
        path.strip_prefix(root)?.strip_prefix('/')
    }
}

fn in_root(shown: &str, root: &str) -> bool {
    root.is_empty() || shown.trim_start_matches(['/', '.']).starts_with(&format!("{root}/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(paths: &[&str]) -> Vec<Entry> {
        paths
            .iter()
            .map(|p| Entry::File {
                index: 0,
                path: p.to_string(),
                mode: 0,
                warning: None,
            })
            .collect()
    }

    #[test]
    fn lying_entry_counts_are_refused() {
        // An empty zip whose end record claims 60,000 entries.
        let mut eocd = b"PK\x05\x06\0\0\0\0".to_vec();
        eocd.extend_from_slice(&60_000u16.to_le_bytes());
        eocd.extend_from_slice(&60_000u16.to_le_bytes());
        eocd.extend_from_slice(&[0; 10]);
        assert_eq!(declared_entries(&eocd), Some(60_000));
        let error = read(&eocd, "lie.zip", None, &Limits::default())
            .err()
            .map(|e| e.to_string());
        assert!(error.is_some_and(|e| e.contains("declares 60000 entries")));
        // A zip64 record claiming 2^40 entries behind its locator.
        let mut zip64 = b"PK\x06\x06".to_vec();
        zip64.extend_from_slice(&[0; 28]);
        zip64.extend_from_slice(&(1u64 << 40).to_le_bytes());
        zip64.extend_from_slice(&(1u64 << 40).to_le_bytes());
        zip64.extend_from_slice(&[0; 16]);
        zip64.extend_from_slice(b"PK\x06\x07\0\0\0\0");
        zip64.extend_from_slice(&0u64.to_le_bytes());
        zip64.extend_from_slice(&1u32.to_le_bytes());
        zip64.extend_from_slice(b"PK\x05\x06\0\0\0\0\xff\xff\xff\xff");
        zip64.extend_from_slice(&[0xff; 8]);
        zip64.extend_from_slice(&[0; 2]);
        assert_eq!(declared_entries(&zip64), Some(1 << 40));
        assert!(read(&zip64, "lie.zip", None, &Limits::default()).is_err());
        // 0xFFFF without a zip64 record: unknown, left to the zip reader.
        let mut placeholder = b"PK\x05\x06\0\0\0\0\xff\xff\xff\xff".to_vec();
        placeholder.extend_from_slice(&[0; 10]);
        assert_eq!(declared_entries(&placeholder), None);
        assert_eq!(declared_entries(b"not a zip"), None);
    }

    #[test]
    fn roots() {
        assert_eq!(
            package_roots(&files(&["package/package.json", "package/index.js"])),
            ["package"]
        );
        assert_eq!(package_roots(&files(&["package.json", "a/package.json"])), [""]);
        assert_eq!(
            package_roots(&files(&["a/package.json", "b/package.json", "b/x.js", "README"])),
            ["a", "b"]
        );
        assert_eq!(package_roots(&files(&["src/index.js", "src/x.js"])), ["src"]);
        assert_eq!(package_roots(&files(&["index.js", "src/x.js"])), [""]);
    }
}
