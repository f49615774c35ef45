//! One parallel walk of a root: every entry is looked at once, by name first,
//! and read only when its name or place says it matters.
//!
//! The walk never follows symlinks (so loops cannot trap it), never enters
//! `/proc`, `/sys` or `/dev`, applies no ignore files (hunt must see
//! everything), and only opens files for reading. Each walker thread keeps its
//! own [`Found`] and merges it into the shared one when the thread ends.

use std::ffi::OsStr;
use std::io::Read;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use ignore::{DirEntry, ParallelVisitor, ParallelVisitorBuilder, WalkBuilder, WalkState};
use palisade_core::{Inventory, PackageId};
use palisade_lockfile::LockfileKind;
use sha2::{Digest, Sha256};

use crate::cache;
use crate::ioc::FileIndicators;
use crate::persistence::{self, CredentialCheck};
use crate::{Credential, Evidence, Persistence, Problems};

/// Persistence and credential candidates, cache index files: read at most this much.
const MAX_SMALL_FILE_BYTES: u64 = 4 * 1024 * 1024;
/// `package.json` files read for `string:` indicators: the lockfile crate's bound.
const MAX_MANIFEST_BYTES: u64 = 4 * 1024 * 1024;
/// Warnings kept verbatim per root; the rest are only counted.
const MAX_WARNINGS: usize = 200;

/// A package version found somewhere.
#[derive(Debug, Clone)]
pub(crate) struct RawEvidence {
    pub package: PackageId,
    pub kind: Evidence,
    pub path: PathBuf,
    pub observed_ms: Option<i64>,
    pub project: Option<PathBuf>,
    pub detail: Option<String>,
}

/// A file matched by a file-level indicator.
#[derive(Debug, Clone)]
pub(crate) struct RawFileHit {
    pub path: PathBuf,
    pub indicator: String,
    pub summary: String,
}

#[derive(Debug, Default)]
pub(crate) struct Found {
    pub evidence: Vec<RawEvidence>,
    pub file_hits: Vec<RawFileHit>,
    pub persistence: Vec<Persistence>,
    pub credentials: Vec<Credential>,
    pub files: u64,
    pub directories: u64,
    pub node_modules_trees: u64,
    pub lockfiles: u64,
    pub cache_entries: u64,
    pub problems: Problems,
    pub warnings: Vec<String>,
}

impl Found {
    fn merge(&mut self, other: Found) {
        self.evidence.extend(other.evidence);
        self.file_hits.extend(other.file_hits);
        self.persistence.extend(other.persistence);
        self.credentials.extend(other.credentials);
        self.files += other.files;
        self.directories += other.directories;
        self.node_modules_trees += other.node_modules_trees;
        self.lockfiles += other.lockfiles;
        self.cache_entries += other.cache_entries;
        self.problems.add(&other.problems);
        for warning in other.warnings {
            if self.warnings.len() < MAX_WARNINGS {
                self.warnings.push(warning);
            }
        }
    }

    fn warn(&mut self, message: String) {
        if self.warnings.len() < MAX_WARNINGS {
            self.warnings.push(message);
        }
    }
}

pub(crate) struct Walk<'a> {
    pub indicators: &'a FileIndicators,
    pub threads: usize,
    pub max_hash_bytes: u64,
    pub progress: Option<&'a AtomicU64>,
}

/// Entries counted locally before being added to the shared progress counter.
const PROGRESS_BATCH: u64 = 1024;

impl Walk<'_> {
    pub fn run(&self, root: &Path) -> Found {
        let sink = Mutex::new(Found::default());
        let walker = WalkBuilder::new(root)
            .standard_filters(false)
            .follow_links(false)
            .threads(self.threads)
            .filter_entry(|entry| !is_pseudo_filesystem(entry.path()))
            .build_parallel();
        let mut builder = VisitorBuilder {
            walk: self,
            sink: &sink,
        };
        walker.visit(&mut builder);
        sink.into_inner().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// `/proc`, `/sys` and `/dev` hold no packages, and reading them can hang or
/// have effects.
fn is_pseudo_filesystem(path: &Path) -> bool {
    path == Path::new("/proc") || path == Path::new("/sys") || path == Path::new("/dev")
}

struct VisitorBuilder<'a, 'w> {
    walk: &'a Walk<'w>,
    sink: &'a Mutex<Found>,
}

impl<'s> ParallelVisitorBuilder<'s> for VisitorBuilder<'s, '_> {
    fn build(&mut self) -> Box<dyn ParallelVisitor + 's> {
        Box::new(Visitor {
            walk: self.walk,
            sink: self.sink,
            found: Found::default(),
            unreported: 0,
        })
    }
}

struct Visitor<'a, 'w> {
    walk: &'a Walk<'w>,
    sink: &'a Mutex<Found>,
    found: Found,
    /// Entries not yet added to the progress counter.
    unreported: u64,
}

impl Drop for Visitor<'_, '_> {
    fn drop(&mut self) {
        if let Some(progress) = self.walk.progress {
            progress.fetch_add(self.unreported, Ordering::Relaxed);
        }
        let found = std::mem::take(&mut self.found);
        let mut sink = self.sink.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        sink.merge(found);
    }
}

impl ParallelVisitor for Visitor<'_, '_> {
    fn visit(&mut self, entry: Result<DirEntry, ignore::Error>) -> WalkState {
        self.unreported += 1;
        if self.unreported >= PROGRESS_BATCH {
            if let Some(progress) = self.walk.progress {
                progress.fetch_add(self.unreported, Ordering::Relaxed);
            }
            self.unreported = 0;
        }
        match entry {
            Ok(entry) => self.entry(&entry),
            Err(error) => self.walk_error(&error),
        }
        WalkState::Continue
    }
}

impl Visitor<'_, '_> {
    fn walk_error(&mut self, error: &ignore::Error) {
        let io_kind = error.io_error().map(std::io::Error::kind);
        if matches!(error, ignore::Error::Loop { .. }) {
            self.found.problems.symlink_loops += 1;
        } else if io_kind == Some(std::io::ErrorKind::PermissionDenied) {
            self.found.problems.unreadable += 1;
        } else {
            self.found.problems.other += 1;
        }
        self.found.warn(error.to_string());
    }

    fn entry(&mut self, entry: &DirEntry) {
        let path = entry.path();
        let Some(file_type) = entry.file_type() else {
            return;
        };
        let raw_name = entry.file_name();
        if raw_name.to_str().is_none() {
            self.found.problems.non_utf8_paths += 1;
            self.found.warn(format!(
                "`{}` is not a UTF-8 name; read under its lossy form",
                path.display()
            ));
        }
        let name = raw_name.to_string_lossy();
        if let Some(globs) = &self.walk.indicators.globs {
            for index in globs.matches(path) {
                if let Some((pattern, origin)) = self.walk.indicators.glob_texts.get(index) {
                    self.found.file_hits.push(RawFileHit {
                        path: path.to_path_buf(),
                        indicator: format!("path-glob:{pattern}"),
                        summary: format!("path matches {origin}"),
                    });
                }
            }
        }
        if file_type.is_dir() {
            self.found.directories += 1;
            self.directory(path, &name);
        } else if file_type.is_file() {
            self.found.files += 1;
            self.file(entry, path, &name);
        } else if file_type.is_symlink() {
            // Never followed; only checked, so broken links and loops are counted.
            if let Err(error) = std::fs::metadata(path) {
                if error.raw_os_error() == Some(40) {
                    self.found.problems.symlink_loops += 1;
                } else {
                    self.found.problems.broken_symlinks += 1;
                }
            }
        } else {
            // FIFOs, sockets, devices: never opened (a FIFO would block).
            self.found.problems.special_files += 1;
        }
    }

    fn directory(&mut self, path: &Path, name: &str) {
        if name == "node_modules" && !path.parent().is_some_and(inside_node_modules) {
            self.node_modules_tree(path);
            return;
        }
        // bun's cache: ~/.bun/install/cache/<name>@<version>@@@1, scoped under @scope/.
        let parent = parent_name(path, 1);
        let in_bun_cache = |up: usize| {
            parent_name(path, up) == Some("cache")
                && parent_name(path, up + 1) == Some("install")
                && parent_name(path, up + 2) == Some(".bun")
        };
        let package = if in_bun_cache(1) && !name.starts_with('@') {
            cache::bun_cache_dir(name, None)
        } else if in_bun_cache(2) && parent.is_some_and(|p| p.starts_with('@')) {
            cache::bun_cache_dir(name, parent)
        } else {
            None
        };
        if let Some(package) = package {
            self.found.cache_entries += 1;
            self.found.evidence.push(RawEvidence {
                package,
                kind: Evidence::Cached,
                path: path.to_path_buf(),
                observed_ms: None,
                project: None,
                detail: Some("bun cache".to_string()),
            });
        }
    }

    /// A top-level `node_modules`: its packages through palisade-lockfile's
    /// walker. yarn classic keeps its cache as
    /// `…/yarn/v6/npm-<name>-<version>-<hash>-integrity/node_modules/<name>`: cached, not installed.
    fn node_modules_tree(&mut self, path: &Path) {
        self.found.node_modules_trees += 1;
        let yarn_cache = parent_name(path, 1).is_some_and(|p| p.starts_with("npm-"))
            && parent_name(path, 2).is_some_and(|p| p.starts_with('v') && p[1..].bytes().all(|b| b.is_ascii_digit()));
        let inventory = match palisade_lockfile::walk_node_modules(path) {
            Ok(inventory) => inventory,
            Err(error) => {
                self.found.problems.unreadable += 1;
                self.found.warn(error.to_string());
                return;
            }
        };
        self.inventory_warnings(&inventory);
        let (kind, project, detail) = if yarn_cache {
            self.found.cache_entries += 1;
            (Evidence::Cached, None, Some("yarn classic cache".to_string()))
        } else {
            (Evidence::Installed, path.parent().map(Path::to_path_buf), None)
        };
        for package in inventory.packages.iter().chain(&inventory.tooling) {
            for location in &package.paths {
                self.found.evidence.push(RawEvidence {
                    package: package.id(),
                    kind,
                    path: path.join(location),
                    observed_ms: None,
                    project: project.clone(),
                    detail: detail.clone(),
                });
            }
        }
    }

    /// Sorts the node_modules walker's warnings into the problem counters.
    fn inventory_warnings(&mut self, inventory: &Inventory) {
        for warning in &inventory.warnings {
            let message = &warning.message;
            let problems = &mut self.found.problems;
            if message.contains("not valid JSON") {
                problems.malformed_manifests += 1;
            } else if message.contains("-byte limit") {
                problems.oversized_files += 1;
            } else if message.contains("holds a name that is not UTF-8") {
                // The walk counts every non-UTF-8 name itself.
                continue;
            } else if message.contains("not UTF-8") {
                problems.malformed_manifests += 1;
            } else if message.contains("not a regular file") {
                // Already counted by the walk as a special file or a link.
            } else if message.contains("cannot read") || message.contains("cannot be read") {
                problems.unreadable += 1;
            } else if message.contains("has no package.json") {
                // npm leaves such folders after failed installs: not a problem of the sweep.
                continue;
            } else {
                problems.other += 1;
            }
            self.found.warn(format!("{}: {message}", inventory.lockfile));
        }
    }

    fn file(&mut self, entry: &DirEntry, path: &Path, name: &str) {
        let indicators = self.walk.indicators;
        let in_node_modules = inside_node_modules(path);
        if !indicators.sha256.is_empty() {
            self.hash(entry, path);
        }
        if name == "package.json" && !indicators.strings.is_empty() {
            self.scripts(path);
        }
        if LockfileKind::detect(path).is_some() && !in_node_modules && !inside_cache(path) {
            self.lockfile(path);
            return;
        }
        if self.cache_file(path, name) {
            return;
        }
        if in_node_modules || inside_vendored_sources(path) {
            return;
        }
        if let Some(kind) = persistence::candidate(path, name) {
            if let Some(text) = self.read_small(path) {
                if let Some((reasons, high)) = persistence::evaluate(kind, path, &text, &indicators.strings) {
                    self.found.persistence.push(Persistence {
                        kind,
                        path: path.display().to_string(),
                        indicator: reasons.join("; "),
                        reasons,
                        severity: if high { "high" } else { "review" },
                        observed_at: mtime(path),
                    });
                }
            }
        }
        match persistence::credential_candidate(path, name) {
            Some(CredentialCheck::Exists(kind)) => self.credential(kind, path),
            // The text is dropped at once: only whether a key is present is kept.
            Some(CredentialCheck::IfContains(kind, keys))
                if self
                    .read_small(path)
                    .is_some_and(|text| persistence::has_key(&text, keys)) =>
            {
                self.credential(kind, path);
            }
            _ => {}
        }
    }

    fn credential(&mut self, kind: &'static str, path: &Path) {
        self.found.credentials.push(Credential {
            kind,
            path: path.display().to_string(),
        });
    }

    fn lockfile(&mut self, path: &Path) {
        self.found.lockfiles += 1;
        match palisade_lockfile::extract_file(path) {
            Ok(inventory) => {
                if !inventory.warnings.is_empty() {
                    self.found.problems.partly_read_lockfiles += 1;
                    self.found.warn(format!(
                        "`{}` was only partly understood ({} warnings; first: {})",
                        path.display(),
                        inventory.warnings.len(),
                        inventory.warnings[0].message
                    ));
                }
                let project = path.parent().map(Path::to_path_buf);
                for package in inventory.packages.iter().chain(&inventory.tooling) {
                    self.found.evidence.push(RawEvidence {
                        package: package.id(),
                        kind: Evidence::Locked,
                        path: path.to_path_buf(),
                        observed_ms: None,
                        project: project.clone(),
                        detail: package.line.map(|line| format!("line {line}")),
                    });
                }
            }
            Err(error) => {
                self.found.problems.unparsed_lockfiles += 1;
                self.found.warn(error.to_string());
            }
        }
    }

    /// npm `_cacache` buckets, yarn berry archives, pnpm store index files.
    fn cache_file(&mut self, path: &Path, name: &str) -> bool {
        let parent = parent_name(path, 1);
        let grandparent = parent_name(path, 2);
        // _cacache/index-v5/<xx>/<yy>/<hash>
        if name.len() >= 20 && name.bytes().all(|b| b.is_ascii_hexdigit()) && parent_name(path, 3) == Some("index-v5") {
            self.found.cache_entries += 1;
            if let Some(text) = self.read_small(path) {
                let (entries, malformed) = cache::npm_cacache_bucket(&text);
                self.found.problems.malformed_cache_entries += malformed as u64;
                for cached in entries {
                    self.found.evidence.push(RawEvidence {
                        package: cached.package,
                        kind: Evidence::Cached,
                        path: path.to_path_buf(),
                        observed_ms: cached.fetched_at_ms,
                        project: None,
                        detail: Some(redact_userinfo(&cached.detail)),
                    });
                }
            }
            return true;
        }
        if name.ends_with(".zip") && parent == Some("cache") && matches!(grandparent, Some(".yarn" | "berry")) {
            self.found.cache_entries += 1;
            if let Some(package) = cache::yarn_berry_zip(path) {
                self.cached(package, path, "yarn berry cache");
            }
            return true;
        }
        let pnpm_v3 = name.ends_with("-index.json") && parent_name(path, 2) == Some("files");
        let pnpm_v10 = (name.ends_with(".json") || name.ends_with(".mpk")) && grandparent == Some("index");
        if (pnpm_v3 || pnpm_v10) && parent_name(path, 3).is_some_and(|v| v.starts_with('v')) {
            self.found.cache_entries += 1;
            let json = if name.ends_with(".json") {
                self.read_small(path)
            } else {
                None
            };
            let package = cache::pnpm_index(name, json.as_deref()).or_else(|| {
                // pnpm 7–8 index files without `name`: read the package.json they point at.
                let files_dir = path.parent()?.parent()?;
                let content = cache::pnpm_manifest_path(files_dir, json.as_deref()?)?;
                let text = self.read_bounded(&content, MAX_MANIFEST_BYTES)?;
                cache::pnpm_index("-index.json", Some(&text))
            });
            if let Some(package) = package {
                self.cached(package, path, "pnpm store");
            }
            return true;
        }
        false
    }

    fn cached(&mut self, package: PackageId, path: &Path, detail: &str) {
        self.found.evidence.push(RawEvidence {
            package,
            kind: Evidence::Cached,
            path: path.to_path_buf(),
            observed_ms: None,
            project: None,
            detail: Some(detail.to_string()),
        });
    }

    fn hash(&mut self, entry: &DirEntry, path: &Path) {
        let Ok(metadata) = entry.metadata() else {
            return;
        };
        if metadata.len() > self.walk.max_hash_bytes {
            return;
        }
        let mut file = match std::fs::File::open(path) {
            Ok(file) => file,
            Err(error) => {
                self.unreadable(path, &error);
                return;
            }
        };
        let mut hasher = Sha256::new();
        let mut buffer = [0u8; 64 * 1024];
        loop {
            match file.read(&mut buffer) {
                Ok(0) => break,
                Ok(read) => hasher.update(&buffer[..read]),
                Err(error) => {
                    self.unreadable(path, &error);
                    return;
                }
            }
        }
        let digest: [u8; 32] = hasher.finalize().into();
        if let Some(origin) = self.walk.indicators.sha256.get(&digest) {
            let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
            self.found.file_hits.push(RawFileHit {
                path: path.to_path_buf(),
                indicator: format!("sha256:{hex}"),
                summary: format!("file content listed in {origin}"),
            });
        }
    }

    /// `string:` indicators in a package.json's `scripts`.
    fn scripts(&mut self, path: &Path) {
        let Some(text) = self.read_bounded(path, MAX_MANIFEST_BYTES) else {
            return;
        };
        let Ok(manifest) = serde_json::from_str::<serde_json::Value>(text.trim_start_matches('\u{feff}')) else {
            return; // counted by the node_modules walker when it is a package
        };
        let Some(scripts) = manifest.get("scripts").and_then(|s| s.as_object()) else {
            return;
        };
        for (script, body) in scripts {
            let Some(body) = body.as_str() else { continue };
            for (needle, origin) in &self.walk.indicators.strings {
                if body.contains(needle.as_str()) {
                    self.found.file_hits.push(RawFileHit {
                        path: path.to_path_buf(),
                        indicator: format!("string:{needle}"),
                        summary: format!("scripts.{script} contains it ({origin})"),
                    });
                }
            }
        }
    }

    fn read_small(&mut self, path: &Path) -> Option<String> {
        self.read_bounded(path, MAX_SMALL_FILE_BYTES)
    }

    fn read_bounded(&mut self, path: &Path, limit: u64) -> Option<String> {
        let file = match std::fs::File::open(path) {
            Ok(file) => file,
            Err(error) => {
                self.unreadable(path, &error);
                return None;
            }
        };
        let mut bytes = Vec::new();
        if let Err(error) = file.take(limit + 1).read_to_end(&mut bytes) {
            self.unreadable(path, &error);
            return None;
        }
        if bytes.len() as u64 > limit {
            self.found.problems.oversized_files += 1;
            self.found
                .warn(format!("`{}` is over the {limit}-byte limit; not read", path.display()));
            return None;
        }
        Some(String::from_utf8_lossy(&bytes).into_owned())
    }

    fn unreadable(&mut self, path: &Path, error: &std::io::Error) {
        self.found.problems.unreadable += 1;
        self.found.warn(format!("cannot read `{}`: {error}", path.display()));
    }
}

pub(crate) fn parent_name(path: &Path, up: usize) -> Option<&str> {
    path.ancestors().nth(up)?.file_name()?.to_str()
}

/// Some component of `path` is `node_modules`.
pub(crate) fn inside_node_modules(path: &Path) -> bool {
    path.components()
        .any(|c| matches!(c, Component::Normal(part) if part == OsStr::new("node_modules")))
}

/// Inside a package-manager cache, where lockfiles are packages' own files.
fn inside_cache(path: &Path) -> bool {
    let parts: Vec<&OsStr> = path
        .components()
        .filter_map(|c| match c {
            Component::Normal(part) => Some(part),
            _ => None,
        })
        .collect();
    parts.iter().any(|p| *p == "_cacache" || *p == ".pnpm-store")
        || parts.windows(2).any(|w| {
            (w[0] == ".bun" && w[1] == "install")
                || (w[0] == "berry" && w[1] == "cache")
                || (w[0] == "pnpm" && w[1] == "store")
        })
}

/// Other ecosystems' package sources (cargo registry, rustup, Go module cache,
/// Python site-packages): their workflows and dotfiles are upstream files,
/// not something planted on this machine.
fn inside_vendored_sources(path: &Path) -> bool {
    let parts: Vec<&OsStr> = path
        .components()
        .filter_map(|c| match c {
            Component::Normal(part) => Some(part),
            _ => None,
        })
        .collect();
    parts.iter().any(|p| *p == ".rustup" || *p == "site-packages")
        || parts.windows(2).any(|w| {
            (w[0] == ".cargo" && w[1] == "registry")
                || (w[0] == "pkg" && w[1] == "mod")
                || (w[0] == ".cargo" && w[1] == "git")
        })
}

/// `https://user:secret@host/…` → `https://***@host/…`: a private registry's
/// credentials can sit in a URL, and reports never carry credentials.
pub(crate) fn redact_userinfo(text: &str) -> String {
    let Some(scheme_end) = text.find("://") else {
        return text.to_string();
    };
    let authority_start = scheme_end + 3;
    let rest = &text[authority_start..];
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{}***{}", &text[..authority_start], &rest[at..]),
        None => text.to_string(),
    }
}

/// A file's modification time, RFC 3339.
pub(crate) fn mtime(path: &Path) -> Option<String> {
    let modified = std::fs::symlink_metadata(path).ok()?.modified().ok()?;
    crate::format_time(time::OffsetDateTime::from(modified))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userinfo_is_redacted() {
        assert_eq!(
            redact_userinfo("make-fetch-happen:request-cache:https://ci:s3cret@npm.corp/x/-/x-1.0.0.tgz"),
            "make-fetch-happen:request-cache:https://***@npm.corp/x/-/x-1.0.0.tgz"
        );
        assert_eq!(
            redact_userinfo("https://registry.npmjs.org/@s/x/-/x-1.0.0.tgz"),
            "https://registry.npmjs.org/@s/x/-/x-1.0.0.tgz"
        );
        assert_eq!(
            redact_userinfo("pacote:tarball:@s/x@1.0.0"),
            "pacote:tarball:@s/x@1.0.0"
        );
    }
}
