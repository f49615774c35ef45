//! Unpacked package directories. Symlinks are reported and never followed; `.git` and
//! `node_modules` folders (dependencies, not the package) are skipped.

use std::fs::File;
use std::path::Path;

use walkdir::WalkDir;

use crate::collect::{AddError, Collector};
use crate::path::{sanitize, PathVerdict};
use crate::{IssueKind, Limits, PackageContents, TarballError};

pub(crate) fn read(root: &Path, limits: &Limits) -> Result<PackageContents, TarballError> {
    let origin = root.display().to_string();
    let metadata = std::fs::metadata(root).map_err(|source| TarballError::Io {
        origin: origin.clone(),
        source,
    })?;
    if !metadata.is_dir() {
        return Err(TarballError::Malformed {
            origin,
            message: "not a directory".into(),
        });
    }
    let mut collector = Collector::new(&origin, limits);
    let walker = WalkDir::new(root)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|entry| {
            entry.depth() == 0 || {
                let name = entry.file_name();
                !(name == ".git" || (name == "node_modules" && entry.file_type().is_dir()))
            }
        });
    for entry in walker {
        let entry = match entry {
            Ok(entry) => entry,
            Err(error) => {
                let shown = error.path().map(|p| p.display().to_string()).unwrap_or_default();
                collector.issue(IssueKind::Unreadable, &shown, format!("could not be read: {error}"));
                continue;
            }
        };
        if entry.depth() == 0 {
            continue;
        }
        if collector.count_entry().is_err() {
            break;
        }
        let relative = entry.path().strip_prefix(root).unwrap_or(entry.path());
        let raw = os_bytes(relative);
        let shown = relative.display().to_string();
        let file_type = entry.file_type();
        if file_type.is_dir() {
            continue;
        }
        if file_type.is_symlink() {
            let target = std::fs::read_link(entry.path())
                .map(|t| t.display().to_string())
                .unwrap_or_default();
            collector.issue(
                IssueKind::Symlink,
                &shown,
                format!("symbolic link to `{target}`; not followed"),
            );
            continue;
        }
        if !file_type.is_file() {
            collector.issue(IssueKind::Device, &shown, "device, FIFO or socket; skipped");
            continue;
        }
        let clean = match sanitize(&raw, false, limits.max_path_len) {
            PathVerdict::Keep(clean) => clean,
            PathVerdict::OutsidePackage => continue,
            PathVerdict::Refuse(kind, message) => {
                collector.issue(kind, &shown, format!("{message}; skipped"));
                continue;
            }
        };
        if let Some((kind, message)) = clean.warning {
            collector.issue(kind, &shown, message);
        }
        let file = match File::open(entry.path()) {
            Ok(file) => file,
            Err(error) => {
                collector.issue(IssueKind::Unreadable, &shown, format!("could not be opened: {error}"));
                continue;
            }
        };
        match collector.add_file(clean.path, mode_of(&entry), file) {
            Ok(()) => {}
            Err(AddError::Stop) => break,
            Err(AddError::Io(error)) => {
                collector.issue(IssueKind::Unreadable, &shown, format!("could not be read: {error}"));
            }
        }
    }
    Ok(collector.finish(0))
}

#[cfg(unix)]
fn os_bytes(path: &Path) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    path.as_os_str().as_bytes().to_vec()
}

#[cfg(not(unix))]
fn os_bytes(path: &Path) -> Vec<u8> {
    path.to_string_lossy().into_owned().into_bytes()
}

#[cfg(unix)]
fn mode_of(entry: &walkdir::DirEntry) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    entry.metadata().map(|m| m.permissions().mode() & 0o7777).unwrap_or(0)
}

#[cfg(not(unix))]
fn mode_of(_entry: &walkdir::DirEntry) -> u32 {
    0
}
