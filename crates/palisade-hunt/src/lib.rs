//! Incident sweep: where on this machine is a compromised package, since when,
//! and what to do about it.
//!
//! [`hunt`] walks each root once, in parallel ([`walk`]), and collects package
//! versions from four kinds of evidence — `installed` (every `node_modules`
//! tree, through palisade-lockfile's walker), `locked` (every lockfile, through
//! its extractors), `cached` (npm `_cacache`, yarn berry and classic caches,
//! the pnpm store, bun's cache: [`cache`]) and `file` (SHA-256, path and
//! script-string indicators) — then matches the versions against
//! [`Indicators`]: the advisory database's malicious records and `--ioc` files.
//! It also reports persistence the npm malware classes install and the
//! credentials they steal ([`persistence`]), and a response order that removes
//! persistence and isolates the machine before credentials are rotated.
//!
//! Read-only: files are opened for reading, nothing is written, executed or
//! followed through a symlink. Problems (unreadable folders, broken links,
//! malformed manifests, non-UTF-8 names) are counted in [`Problems`], never fatal.

pub mod cache;
mod ioc;
pub mod persistence;
mod roots;
mod walk;

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use palisade_core::PackageId;
use serde::Serialize;

pub use ioc::{DatabaseSummary, Indicator, IndicatorSummary, Indicators};
pub use persistence::PersistenceKind;
pub use roots::default_roots;

/// Version of the JSON document; bumped only for incompatible changes.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum HuntError {
    #[error("failed to {action} `{path}`")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}:{line}: {message}", path.display())]
    Ioc {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error(transparent)]
    Advisory(#[from] palisade_advisory::AdvisoryError),
}

/// What to sweep and how.
#[derive(Debug, Clone)]
pub struct HuntOptions {
    pub roots: Vec<PathBuf>,
    /// Walker threads (0: one per core).
    pub threads: usize,
    /// Files larger than this are not hashed for `sha256:` indicators.
    pub max_hash_bytes: u64,
    /// Entries looked at so far, updated as the walk goes (in batches), for a
    /// progress display; the library itself never prints.
    pub progress: Option<std::sync::Arc<std::sync::atomic::AtomicU64>>,
}

impl Default for HuntOptions {
    fn default() -> Self {
        HuntOptions {
            roots: Vec::new(),
            threads: 0,
            max_hash_bytes: 64 * 1024 * 1024,
            progress: None,
        }
    }
}

/// Where a package version was seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Evidence {
    /// In a `node_modules` tree (a project's, a global prefix's).
    Installed,
    /// Pinned by a lockfile: exposure even when not installed here.
    Locked,
    /// In a package-manager cache: downloaded by this machine.
    Cached,
    /// A file matched a SHA-256, path or string indicator.
    File,
}

impl Evidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Evidence::Installed => "installed",
            Evidence::Locked => "locked",
            Evidence::Cached => "cached",
            Evidence::File => "file",
        }
    }
}

/// The `palisade hunt --format json` document (docs/json.md).
#[derive(Debug, Clone, Serialize)]
pub struct HuntReport {
    pub schema_version: u32,
    pub host: String,
    pub started_at: String,
    pub finished_at: String,
    pub duration_ms: u64,
    pub roots: Vec<String>,
    pub files_scanned: u64,
    pub hits: Vec<Hit>,
    pub persistence: Vec<Persistence>,
    pub credentials_at_risk: Vec<Credential>,
    pub response: Vec<ResponseStep>,
    pub root_summaries: Vec<RootSummary>,
    pub projects: Vec<ProjectSummary>,
    pub problems: Problems,
    pub warnings: Vec<String>,
    pub indicators: IndicatorSummary,
}

impl HuntReport {
    /// Anything that calls for a response: a hit or persistence.
    pub fn found_anything(&self) -> bool {
        !self.hits.is_empty() || !self.persistence.is_empty()
    }
}

/// One location of a bad package version (or a matching file).
#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    /// `null` for a file indicator outside any package.
    pub package: Option<PackageId>,
    pub evidence: Evidence,
    pub path: String,
    /// Cache fetch time, else the modification time of the install folder,
    /// lockfile, cache entry or file (RFC 3339, UTC).
    pub observed_at: Option<String>,
    /// The advisory id or IOC line that matched (the first, when several did).
    pub indicator: String,
    /// Every indicator that matched.
    pub indicators: Vec<String>,
    /// `advisory-database` or `ioc-file`.
    pub indicator_source: String,
    pub summary: String,
    /// The project folder the location belongs to (`null` for caches).
    pub project: Option<String>,
    pub root: String,
    /// Extra detail: the cache key, the lockfile line.
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Persistence {
    pub kind: PersistenceKind,
    pub path: String,
    /// The reasons, joined.
    pub indicator: String,
    pub reasons: Vec<String>,
    /// `high` (a known-malicious pattern) or `review` (e.g. an ordinary runner registration).
    pub severity: &'static str,
    pub observed_at: Option<String>,
}

/// A credential file that exists; never its value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Credential {
    pub kind: &'static str,
    pub path: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ResponseStep {
    pub step: usize,
    pub action: String,
    pub details: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RootSummary {
    pub root: String,
    pub files_scanned: u64,
    pub directories: u64,
    pub node_modules_trees: u64,
    pub lockfiles: u64,
    pub cache_entries: u64,
    pub package_locations: u64,
    pub hits: u64,
    pub persistence: u64,
    pub credentials: u64,
    pub problems: u64,
    pub duration_ms: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProjectSummary {
    pub project: String,
    pub packages: Vec<PackageId>,
    /// Lockfiles that pin a bad version: fix these.
    pub lockfiles: Vec<String>,
    pub installed: bool,
}

/// What could not be looked at, counted (and the first messages in `warnings`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Problems {
    /// Folders and files that could not be read (permissions, I/O errors).
    pub unreadable: u64,
    pub broken_symlinks: u64,
    pub symlink_loops: u64,
    /// FIFOs, sockets, devices: never opened.
    pub special_files: u64,
    pub malformed_manifests: u64,
    pub oversized_files: u64,
    pub non_utf8_paths: u64,
    pub unparsed_lockfiles: u64,
    pub partly_read_lockfiles: u64,
    pub malformed_cache_entries: u64,
    pub other: u64,
}

impl Problems {
    fn add(&mut self, other: &Problems) {
        self.unreadable += other.unreadable;
        self.broken_symlinks += other.broken_symlinks;
        self.symlink_loops += other.symlink_loops;
        self.special_files += other.special_files;
        self.malformed_manifests += other.malformed_manifests;
        self.oversized_files += other.oversized_files;
        self.non_utf8_paths += other.non_utf8_paths;
        self.unparsed_lockfiles += other.unparsed_lockfiles;
        self.partly_read_lockfiles += other.partly_read_lockfiles;
        self.malformed_cache_entries += other.malformed_cache_entries;
        self.other += other.other;
    }

    pub fn total(&self) -> u64 {
        self.unreadable
            + self.broken_symlinks
            + self.symlink_loops
            + self.special_files
            + self.malformed_manifests
            + self.oversized_files
            + self.non_utf8_paths
            + self.unparsed_lockfiles
            + self.partly_read_lockfiles
            + self.malformed_cache_entries
            + self.other
    }
}

pub(crate) fn format_time(time: time::OffsetDateTime) -> Option<String> {
    time.to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(0)
        .ok()?
        .format(&time::format_description::well_known::Rfc3339)
        .ok()
}

fn format_millis(millis: i64) -> Option<String> {
    let time = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000).ok()?;
    format_time(time)
}

/// Sweeps `options.roots` (each must exist) and matches what it finds.
pub fn hunt(options: &HuntOptions, indicators: &Indicators) -> Result<HuntReport, HuntError> {
    let started = Instant::now();
    let started_at = format_time(time::OffsetDateTime::now_utc()).unwrap_or_default();
    let threads = if options.threads == 0 {
        std::thread::available_parallelism().map_or(2, std::num::NonZero::get)
    } else {
        options.threads
    };
    let walk = walk::Walk {
        indicators: &indicators.files,
        threads,
        max_hash_bytes: options.max_hash_bytes,
        progress: options.progress.as_deref(),
    };
    let mut roots = Vec::new();
    for root in &options.roots {
        std::fs::symlink_metadata(root).map_err(|source| HuntError::Io {
            action: "read root",
            path: root.clone(),
            source,
        })?;
        let absolute = std::path::absolute(root).unwrap_or_else(|_| root.clone());
        // A root given as a symlink is followed (once): it is what the user named.
        let absolute = if std::fs::symlink_metadata(&absolute).is_ok_and(|m| m.file_type().is_symlink()) {
            std::fs::canonicalize(&absolute).unwrap_or(absolute)
        } else {
            absolute
        };
        if !roots.contains(&absolute) {
            roots.push(absolute);
        }
    }

    let mut per_root = Vec::new();
    for root in &roots {
        let root_started = Instant::now();
        let found = walk.run(root);
        per_root.push((root.clone(), found, root_started.elapsed()));
    }

    // Match every distinct version once.
    let distinct: BTreeSet<&PackageId> = per_root
        .iter()
        .flat_map(|(_, found, _)| found.evidence.iter().map(|e| &e.package))
        .collect();
    let distinct: Vec<PackageId> = distinct.into_iter().cloned().collect();
    let matched = indicators.match_packages(&distinct)?;

    let mut report = HuntReport {
        schema_version: SCHEMA_VERSION,
        host: gethostname::gethostname().to_string_lossy().into_owned(),
        started_at,
        finished_at: String::new(),
        duration_ms: 0,
        roots: roots.iter().map(|r| r.display().to_string()).collect(),
        files_scanned: 0,
        hits: Vec::new(),
        persistence: Vec::new(),
        credentials_at_risk: Vec::new(),
        response: Vec::new(),
        root_summaries: Vec::new(),
        projects: Vec::new(),
        problems: Problems::default(),
        warnings: Vec::new(),
        indicators: indicators.summary.clone(),
    };
    let mut seen_credentials = HashSet::new();
    for (root, found, elapsed) in per_root {
        let root_text = root.display().to_string();
        let hits_before = report.hits.len();
        for evidence in &found.evidence {
            let Some(list) = matched.get(&evidence.package) else {
                continue;
            };
            let Some(first) = list.first() else { continue };
            report.hits.push(Hit {
                package: Some(evidence.package.clone()),
                evidence: evidence.kind,
                path: evidence.path.display().to_string(),
                observed_at: evidence
                    .observed_ms
                    .and_then(format_millis)
                    .or_else(|| walk::mtime(&evidence.path)),
                indicator: first.id.clone(),
                indicators: list.iter().map(|i| i.id.clone()).collect(),
                indicator_source: first.source.to_string(),
                summary: first.summary.clone(),
                project: evidence.project.as_ref().map(|p| p.display().to_string()),
                root: root_text.clone(),
                detail: evidence.detail.clone(),
            });
        }
        for file_hit in &found.file_hits {
            let (package, project) = enclosing_package(&file_hit.path, &root);
            report.hits.push(Hit {
                package,
                evidence: Evidence::File,
                path: file_hit.path.display().to_string(),
                observed_at: walk::mtime(&file_hit.path),
                indicator: file_hit.indicator.clone(),
                indicators: vec![file_hit.indicator.clone()],
                indicator_source: "ioc-file".to_string(),
                summary: file_hit.summary.clone(),
                project: project.map(|p| p.display().to_string()),
                root: root_text.clone(),
                detail: None,
            });
        }
        let credentials: Vec<Credential> = found
            .credentials
            .into_iter()
            .filter(|c| seen_credentials.insert(c.path.clone()))
            .collect();
        report.root_summaries.push(RootSummary {
            root: root_text,
            files_scanned: found.files,
            directories: found.directories,
            node_modules_trees: found.node_modules_trees,
            lockfiles: found.lockfiles,
            cache_entries: found.cache_entries,
            package_locations: found.evidence.len() as u64,
            hits: (report.hits.len() - hits_before) as u64,
            persistence: found.persistence.len() as u64,
            credentials: credentials.len() as u64,
            problems: found.problems.total(),
            duration_ms: u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
        });
        report.files_scanned += found.files;
        report.persistence.extend(found.persistence);
        report.credentials_at_risk.extend(credentials);
        report.problems.add(&found.problems);
        report.warnings.extend(found.warnings);
    }
    report.hits.sort_by(|a, b| {
        (&a.package, a.evidence, &a.path, &a.indicator).cmp(&(&b.package, b.evidence, &b.path, &b.indicator))
    });
    report
        .hits
        .dedup_by(|a, b| a.package == b.package && a.evidence == b.evidence && a.path == b.path);
    report
        .persistence
        .sort_by(|a, b| (a.kind, &a.path).cmp(&(b.kind, &b.path)));
    report.credentials_at_risk.sort();
    report.projects = projects(&report.hits);
    report.response = response(&report);
    report.finished_at = format_time(time::OffsetDateTime::now_utc()).unwrap_or_default();
    report.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    Ok(report)
}

/// The package folder a file belongs to (`…/node_modules/[@scope/]name/…`)
/// and its project (the folder holding the outermost `node_modules`, else the
/// nearest folder with a package.json or .git, within the root).
fn enclosing_package(path: &Path, root: &Path) -> (Option<PackageId>, Option<PathBuf>) {
    let mut package = None;
    let mut project = None;
    let mut previous: Option<&Path> = None;
    for ancestor in path.ancestors().skip(1) {
        if ancestor.file_name().is_some_and(|n| n == "node_modules") {
            if package.is_none() {
                package = previous.and_then(read_package_id);
            }
            project = ancestor.parent().map(Path::to_path_buf);
        }
        let is_scope = ancestor
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('@'));
        if !is_scope {
            previous = Some(ancestor);
        }
        if !ancestor.starts_with(root) {
            break;
        }
    }
    if project.is_none() {
        project = path
            .ancestors()
            .skip(1)
            .take_while(|a| a.starts_with(root))
            .find(|a| a.join("package.json").is_file() || a.join(".git").exists())
            .map(Path::to_path_buf);
    }
    (package, project)
}

fn read_package_id(folder: &Path) -> Option<PackageId> {
    let text = palisade_lockfile::read_bounded(&folder.join("package.json")).ok()?;
    let value: serde_json::Value = serde_json::from_str(text.trim_start_matches('\u{feff}')).ok()?;
    Some(PackageId::new(
        value.get("name")?.as_str()?,
        value.get("version")?.as_str()?,
    ))
}

fn projects(hits: &[Hit]) -> Vec<ProjectSummary> {
    let mut by_project: BTreeMap<&str, (BTreeSet<PackageId>, BTreeSet<String>, bool)> = BTreeMap::new();
    for hit in hits {
        let Some(project) = hit.project.as_deref() else {
            continue;
        };
        let entry = by_project.entry(project).or_default();
        if let Some(package) = &hit.package {
            entry.0.insert(package.clone());
        }
        match hit.evidence {
            Evidence::Locked => {
                entry.1.insert(hit.path.clone());
            }
            Evidence::Installed => entry.2 = true,
            _ => {}
        }
    }
    by_project
        .into_iter()
        .map(|(project, (packages, lockfiles, installed))| ProjectSummary {
            project: project.to_string(),
            packages: packages.into_iter().collect(),
            lockfiles: lockfiles.into_iter().collect(),
            installed,
        })
        .collect()
}

/// The response order: persistence out and the machine isolated before any
/// credential is rotated, because some payloads (Shai-Hulud 2.0) destroy the
/// home directory when their stolen token stops working.
fn response(report: &HuntReport) -> Vec<ResponseStep> {
    let mut steps: Vec<(String, Vec<String>)> = Vec::new();
    if !report.found_anything() {
        return Vec::new();
    }
    steps.push((
        "Isolate the machine from the network; keep it running and do not revoke tokens yet: some payloads \
         wipe the home directory when their stolen token is revoked (dead-man's switch)."
            .to_string(),
        Vec::new(),
    ));
    if !report.persistence.is_empty() {
        steps.push((
            "Remove persistence before anything else, and stop any process it started.".to_string(),
            report
                .persistence
                .iter()
                .map(|p| {
                    format!(
                        "{} ({}): {}; {}",
                        p.path,
                        p.kind.as_str(),
                        p.indicator,
                        p.kind.removal()
                    )
                })
                .collect(),
        ));
    }
    let installed: BTreeSet<&str> = report
        .hits
        .iter()
        .filter(|h| h.evidence == Evidence::Installed)
        .filter_map(|h| h.project.as_deref())
        .collect();
    let cached = report.hits.iter().any(|h| h.evidence == Evidence::Cached);
    if !installed.is_empty() || cached {
        let mut details: Vec<String> = installed
            .iter()
            .map(|p| format!("delete {p}/node_modules and reinstall with --ignore-scripts once the lockfile is fixed"))
            .collect();
        if cached {
            details.push(
                "clear the caches that hold it: npm cache clean --force; yarn cache clean; pnpm store prune; bun pm cache rm"
                    .to_string(),
            );
        }
        steps.push(("Remove the compromised packages.".to_string(), details));
    }
    let lockfiles: BTreeSet<&str> = report
        .hits
        .iter()
        .filter(|h| h.evidence == Evidence::Locked)
        .map(|h| h.path.as_str())
        .collect();
    if !lockfiles.is_empty() {
        steps.push((
            "Fix the lockfiles: pin a version published before the compromise, and commit.".to_string(),
            lockfiles.iter().map(|l| (*l).to_string()).collect(),
        ));
    }
    let file_hits: Vec<String> = report
        .hits
        .iter()
        .filter(|h| h.evidence == Evidence::File)
        .map(|h| format!("{} ({})", h.path, h.indicator))
        .collect();
    if !file_hits.is_empty() {
        steps.push((
            "Preserve, then delete the files that match an indicator.".to_string(),
            file_hits,
        ));
    }
    steps.push((
        "Then rotate, from a clean machine, every credential this machine held.".to_string(),
        if report.credentials_at_risk.is_empty() {
            vec![
                "no credential files were found under the swept roots; check keychains and environment variables"
                    .to_string(),
            ]
        } else {
            report
                .credentials_at_risk
                .iter()
                .map(|c| format!("{}: {}", c.kind, c.path))
                .collect()
        },
    ));
    steps.push((
        "Review what the credentials could reach: npm publish history, GitHub audit log (new public repositories, \
         new branches and workflows, self-hosted runners), cloud audit logs."
            .to_string(),
        Vec::new(),
    ));
    steps
        .into_iter()
        .enumerate()
        .map(|(index, (action, details))| ResponseStep {
            step: index + 1,
            action,
            details,
        })
        .collect()
}

/// The hits as OSV records (<https://ossf.github.io/osv-schema/>), one per
/// package name, for sharing with other teams; `palisade hunt --ioc` reads
/// them back. Locations stay in `database_specific` as counts per evidence
/// kind, not paths: paths describe this machine, the versions are what others need.
pub fn to_osv(report: &HuntReport) -> serde_json::Value {
    /// Versions, indicator ids, locations per evidence kind, summaries.
    type Seen<'a> = (
        BTreeSet<&'a str>,
        BTreeSet<&'a str>,
        BTreeMap<&'a str, u64>,
        BTreeSet<&'a str>,
    );
    let mut by_name: BTreeMap<&str, Seen<'_>> = BTreeMap::new();
    for hit in &report.hits {
        let Some(package) = &hit.package else { continue };
        let entry = by_name.entry(package.name.as_str()).or_default();
        entry.0.insert(package.version.as_str());
        for indicator in &hit.indicators {
            entry.1.insert(indicator.as_str());
        }
        *entry.2.entry(hit.evidence.as_str()).or_default() += 1;
        if !hit.summary.is_empty() {
            entry.3.insert(hit.summary.as_str());
        }
    }
    let records: Vec<serde_json::Value> = by_name
        .into_iter()
        .map(|(name, (versions, indicators, evidence, summaries))| {
            let advisory_ids: Vec<&str> = indicators
                .iter()
                .copied()
                .filter(|id| id.starts_with("MAL-") || id.starts_with("GHSA-"))
                .collect();
            serde_json::json!({
                "schema_version": "1.6.0",
                "id": format!("PALISADE-HUNT-{}", name.trim_start_matches('@').replace('/', "-")),
                "modified": report.finished_at,
                "published": report.started_at,
                "aliases": advisory_ids,
                "summary": format!("{name}: versions found by palisade hunt on {}", report.host),
                "details": summaries.into_iter().collect::<Vec<_>>().join("\n"),
                "affected": [{
                    "package": {"ecosystem": "npm", "name": name, "purl": purl(name)},
                    "versions": versions,
                }],
                "database_specific": {
                    "palisade_hunt": {"host": report.host, "indicators": indicators, "evidence": evidence},
                },
            })
        })
        .collect();
    serde_json::Value::Array(records)
}

fn purl(name: &str) -> String {
    match name.strip_prefix('@').and_then(|scoped| scoped.split_once('/')) {
        Some((scope, rest)) => format!("pkg:npm/%40{scope}/{rest}"),
        None => format!("pkg:npm/{name}"),
    }
}
