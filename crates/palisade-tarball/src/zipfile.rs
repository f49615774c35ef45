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
