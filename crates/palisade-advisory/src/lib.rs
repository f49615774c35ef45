//! The OSV advisory database for npm: import, embedded index, version-range
//! matching.
//!
//! Palisade keeps OSV records (GitHub advisories, OpenSSF malicious-packages
//! `MAL-` reports, anything in osv.dev's npm `all.zip`) in a SQLite index at
//! `<PALISADE_HOME>/advisories.sqlite3`, and ships a small baseline of real
//! records compiled into the binary so that an audit works before any sync.
//!
//! # Public API
//!
//! ```no_run
//! use std::path::Path;
//! use palisade_advisory::{Database, ImportOptions, DEFAULT_SYNC_URL};
//! use palisade_core::PackageId;
//!
//! # fn main() -> Result<(), palisade_advisory::AdvisoryError> {
//! let home = Path::new("/home/me/.cache/palisade");
//! // Refresh from osv.dev (atomic: a failure leaves the old index in place).
//! let summary = palisade_advisory::sync(home, DEFAULT_SYNC_URL, ImportOptions::default())?;
//! println!("{} records imported", summary.imported);
//!
//! // Open it (falls back to the embedded baseline when there is none) and match.
//! let database = Database::open(home)?;
//! let found = database.matches(&[PackageId::new("chalk", "5.6.1")])?;
//! for m in &found {
//!     println!("{} {} {:?} {}", m.package, m.advisory.id, m.advisory.kind, m.advisory.severity);
//! }
//! let status = database.status()?; // counts, newest record, sync_due
//! # let _ = status;
//! # Ok(()) }
//! ```
//!
//! - [`Database::open`], [`Database::baseline`], [`Database::status`],
//!   [`Database::matches`], [`Database::get`] read the index.
//! - [`import()`] loads zips (osv.dev `all.zip` layout), directories (every
//!   `*.json` below, recursively) and single `.json` files; [`sync()`]
//!   downloads a zip and imports it. Both build the new index beside the old one
//!   and rename it over, so a crash, a corrupt zip or a full disk leaves the
//!   previous index intact.
//! - Progress is reported through [`ImportOptions::progress`]; this crate never
//!   prints.
//!
//! # Matching
//!
//! Follows the OSV schema's § Evaluation exactly, for `affected` entries whose
//! ecosystem is `npm`: `SEMVER` and `ECOSYSTEM` ranges (npm orders versions by
//! SemVer precedence) with `introduced`, `fixed`, `last_affected` (inclusive)
//! and `limit` events, events sorted first, `introduced: "0"`; exact `versions`
//! lists; `GIT` ranges ignored; `withdrawn` records never matched. A version
//! that is not SemVer (a git ref in a lockfile) matches only through a
//! `versions` list. A range with an unparseable version is skipped at import
//! and counted in [`ImportSummary::invalid_ranges`].
//!
//! Matches for the same package whose ids and aliases intersect are merged
//! into one [`AdvisoryMatch`]: a GHSA id is the primary id when there is one,
//! it is malicious if any part is, and it has the highest severity and the
//! union of fixed versions.
//!
//! # Kind and severity
//!
//! An advisory is [`AdvisoryKind::Malicious`] when its id starts with `MAL-`,
//! it aliases a `MAL-` id, or `database_specific.cwe_ids` contains CWE-506
//! (embedded malicious code); malicious advisories are always critical.
//! Otherwise the severity is GitHub's `database_specific.severity` when present,
//! else the CVSS v3.x base score of a `CVSS_V3` vector mapped to its band. A
//! record with only a CVSS v4.0 vector is [`Severity::Unknown`]: v4 scoring is a
//! lookup table, not implemented here (the vector is still reported).
//!
//! # Storage and speed
//!
//! SQLite (bundled) at `<home>/advisories.sqlite3`: one row per advisory with
//! the fields of [`Advisory`], one row per npm `affected` entry (indexed by
//! package name) with its validated ranges as compact JSON, an alias table for
//! [`Database::get`], a `meta` table (schema version, import and sync times)
//! and a filter of package-name hashes. [`Database::matches`] binary-searches
//! the filter first and queries SQLite only for names that have an advisory,
//! so most packages of a lockfile cost a hash and a search. Measured on the
//! shared data (22,262 records, release build, 2-core VM): `open` + `matches`
//! for 2,000 packages ≈ 4 ms; import ≈ 1–2 s; the baseline builds in ≈ 1.5 ms
//! (`benches/matching.rs`).
//!
//! Untrusted input: zip entries are read into memory, never extracted, with
//! caps on entry size, entry count and total bytes ([`Limits`]); a bad record
//! in a good zip is skipped and reported, a corrupt zip fails the import and
//! leaves the previous index in place.

mod baseline;
mod cvss;
mod error;
mod import;
mod range;
mod record;
mod store;
mod sync;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

pub use palisade_core::{PackageId, Severity};
use rusqlite::{Connection, OpenFlags};
use serde::{Deserialize, Serialize};

pub use cvss::base_score_v3;
pub use error::AdvisoryError;
pub use import::{import, ImportOptions, ImportProgress, ImportSummary, Limits};
pub use range::{parse_version, EventKind, InvalidRange, Range};
pub use sync::{sync, DEFAULT_SYNC_URL, MAX_DOWNLOAD_BYTES};

use record::StoredAffected;

/// File name of the index inside `PALISADE_HOME`.
pub const DATABASE_FILE: &str = "advisories.sqlite3";

/// How long after the last sync [`Status::sync_due`] turns true.
pub const SYNC_INTERVAL_SECONDS: i64 = 24 * 60 * 60;

/// Malicious package or vulnerability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AdvisoryKind {
    Malicious,
    Vulnerability,
}

impl AdvisoryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AdvisoryKind::Malicious => "malicious",
            AdvisoryKind::Vulnerability => "vulnerability",
        }
    }
}

/// One advisory as the CLI reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Advisory {
    /// The primary id (GHSA when the advisory has one, else `MAL-…`, …).
    pub id: String,
    pub kind: AdvisoryKind,
    pub summary: String,
    pub details: String,
    pub severity: Severity,
    /// The CVSS vector string (v3 preferred, else v4), as published.
    pub cvss_vector: Option<String>,
    /// Other ids of the same issue (CVE, GHSA, MAL), sorted.
    pub aliases: Vec<String>,
    /// Versions that fix it: for a match, the next `fixed` above the matched
    /// version in each range that contains it; for [`Database::get`], every
    /// `fixed` version of every npm package. Sorted by SemVer.
    pub fixed_in: Vec<String>,
    pub published: Option<String>,
    pub modified: String,
    pub references: Vec<String>,
    /// The database the record comes from: `ghsa`, `ossf-malicious-packages`, or
    /// the lower-cased id prefix.
    pub source: String,
}

/// A package of the inventory that an advisory affects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdvisoryMatch {
    pub package: PackageId,
    pub advisory: Advisory,
}

/// What [`Database::status`] reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// The index file; `None` for the embedded baseline.
    pub path: Option<PathBuf>,
    pub is_baseline: bool,
    pub schema_version: i64,
    pub advisories: u64,
    /// Keyed by `malicious` / `vulnerability`.
    pub by_kind: BTreeMap<String, u64>,
    /// Keyed by source (`ghsa`, `ossf-malicious-packages`, …).
    pub by_source: BTreeMap<String, u64>,
    /// The newest `modified` timestamp of any record.
    pub newest_modified: Option<String>,
    /// When the index was last written by an import or a sync (RFC 3339).
    pub imported_at: Option<String>,
    /// When the index was last written by a sync (RFC 3339).
    pub synced_at: Option<String>,
    pub sync_url: Option<String>,
    /// True for the baseline, for an index never synced, and when the last
    /// sync is older than [`SYNC_INTERVAL_SECONDS`].
    pub sync_due: bool,
}

/// An opened advisory index.
///
/// Holds one SQLite connection (read-only for a file, in memory for the
/// baseline). Not `Sync`: open one per thread if needed; opening is cheap.
pub struct Database {
    conn: Connection,
    path: Option<PathBuf>,
    is_baseline: bool,
    /// Sorted hashes of every package name with an advisory (see `store::write_name_filter`).
    name_filter: Vec<u64>,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("path", &self.path)
            .field("is_baseline", &self.is_baseline)
            .finish()
    }
}

impl Database {
    /// Opens `<home>/advisories.sqlite3`; when it does not exist, the embedded
    /// baseline. A file that exists but is not a readable index of this
    /// schema version is an error (with a hint to run `palisade db sync`), never
    /// a silent fallback.
    pub fn open(home: &Path) -> Result<Database, AdvisoryError> {
        let path = home.join(DATABASE_FILE);
        if !path.exists() {
            return Database::baseline();
        }
        Database::open_file(&path)
    }

    /// Opens an index file at an explicit path.
    pub fn open_file(path: &Path) -> Result<Database, AdvisoryError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(|e| AdvisoryError::sqlite("open", path, e))?;
        // The exclusive locking mode keeps the shared lock after the first
        // read, so each query skips the lock/unlock and change-counter syscalls
        // (they dominated the per-package cost). Safe because nothing writes
        // this file in place: imports write a new file and rename it over.
        // No mmap: unmapping on close cost more than it saved on a 2000-package match.
        conn.execute_batch("PRAGMA query_only = 1; PRAGMA locking_mode = EXCLUSIVE;")
            .map_err(|e| AdvisoryError::sqlite("configure", path, e))?;
        store::check_schema(&conn, path)?;
        Database::from_connection(conn, Some(path.to_path_buf()), false)
    }

    /// The snapshot compiled into the binary, built in memory (a few ms).
    pub fn baseline() -> Result<Database, AdvisoryError> {
        let conn = baseline::build()?;
        Database::from_connection(conn, None, true)
    }

    fn from_connection(conn: Connection, path: Option<PathBuf>, is_baseline: bool) -> Result<Database, AdvisoryError> {
        let label = path.clone().unwrap_or_else(|| PathBuf::from("<embedded baseline>"));
        let name_filter =
            store::read_name_filter(&conn).map_err(|e| AdvisoryError::sqlite("read the name index of", label, e))?;
        Ok(Database {
            conn,
            path,
            is_baseline,
            name_filter,
        })
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    pub fn is_baseline(&self) -> bool {
        self.is_baseline
    }

    fn display_path(&self) -> PathBuf {
        self.path
            .clone()
            .unwrap_or_else(|| PathBuf::from("<embedded baseline>"))
    }

    fn sql_error(&self, action: &'static str) -> impl Fn(rusqlite::Error) -> AdvisoryError + '_ {
        move |e| AdvisoryError::sqlite(action, self.display_path(), e)
    }

    pub fn status(&self) -> Result<Status, AdvisoryError> {
        let path = self.display_path();
        let store::Statistics {
            advisories,
            by_kind,
            by_source,
            newest_modified,
        } = store::read_statistics(&self.conn, &path)?;
        let imported_at = store::get_meta(&self.conn, &path, "imported_at")?;
        let synced_at = store::get_meta(&self.conn, &path, "synced_at")?;
        let sync_url = store::get_meta(&self.conn, &path, "sync_url")?;
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let sync_due = self.is_baseline
            || synced_at
                .as_deref()
                .and_then(record::parse_timestamp)
                .is_none_or(|synced| now - synced > SYNC_INTERVAL_SECONDS);
        Ok(Status {
            path: self.path.clone(),
            is_baseline: self.is_baseline,
            schema_version: store::schema_version(&self.conn, &path)?,
            advisories,
            by_kind,
            by_source,
            newest_modified,
            imported_at,
            synced_at,
            sync_url,
            sync_due,
        })
    }

    /// Every advisory that affects one of `packages`, aliases merged, sorted by
    /// package, then malicious first, then severity (highest first), then id.
    ///
    /// One indexed lookup per distinct package name; ranges are evaluated only
    /// for names that have advisories.
    pub fn matches(&self, packages: &[PackageId]) -> Result<Vec<AdvisoryMatch>, AdvisoryError> {
        let err = self.sql_error("query");
        let mut by_name: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for package in packages {
            by_name
                .entry(package.name.as_str())
                .or_default()
                .insert(package.version.as_str());
        }
        let mut rows_cache: HashMap<i64, store::AdvisoryRow> = HashMap::new();
        let mut entries = Vec::new();
        let mut out = Vec::new();
        for (name, versions) in by_name {
            if self.name_filter.binary_search(&store::name_hash(name)).is_err() {
                continue; // no advisory names this package
            }
            entries.clear();
            store::affected_for_package(&self.conn, name, &mut entries).map_err(&err)?;
            if entries.is_empty() {
                continue;
            }
            // Ranges parsed once per entry, not once per version.
            let compiled: Vec<(i64, CompiledAffected)> = entries
                .iter()
                .map(|(rowid, spec)| (*rowid, CompiledAffected::new(spec)))
                .collect();
            for version in versions {
                let parsed = range::parse_version(version);
                // advisory rowid → fixed versions found for this package version
                let mut hits: BTreeMap<i64, BTreeSet<String>> = BTreeMap::new();
                for (rowid, affected) in &compiled {
                    if let Some(fixes) = affected.evaluate(version, parsed.as_ref()) {
                        hits.entry(*rowid).or_default().extend(fixes);
                    }
                }
                if hits.is_empty() {
                    continue;
                }
                let mut found = Vec::with_capacity(hits.len());
                for (rowid, fixes) in hits {
                    let row = match rows_cache.get(&rowid) {
                        Some(row) => row.clone(),
                        None => {
                            let Some(row) = store::advisory_row(&self.conn, rowid).map_err(&err)? else {
                                continue;
                            };
                            rows_cache.insert(rowid, row.clone());
                            row
                        }
                    };
                    found.push(to_advisory(row, fixes.into_iter().collect()));
                }
                let package = PackageId::new(name, version);
                out.extend(merge_aliases(found).into_iter().map(|advisory| AdvisoryMatch {
                    package: package.clone(),
                    advisory,
                }));
            }
        }
        out.sort_by(|a, b| {
            (
                &a.package,
                a.advisory.kind,
                std::cmp::Reverse(a.advisory.severity),
                &a.advisory.id,
            )
                .cmp(&(
                    &b.package,
                    b.advisory.kind,
                    std::cmp::Reverse(b.advisory.severity),
                    &b.advisory.id,
                ))
        });
        Ok(out)
    }

    /// One advisory by id, or else by alias (`CVE-…`). `fixed_in` lists every
    /// `fixed` version of every npm package it names.
    pub fn get(&self, id: &str) -> Result<Option<Advisory>, AdvisoryError> {
        let err = self.sql_error("query");
        let Some(rowid) = store::find_rowid(&self.conn, id).map_err(&err)? else {
            return Ok(None);
        };
        let Some(row) = store::advisory_row(&self.conn, rowid).map_err(&err)? else {
            return Ok(None);
        };
        let mut fixed = BTreeSet::new();
        for (_, spec) in store::affected_for_advisory(&self.conn, rowid).map_err(&err)? {
            for events in &spec.ranges {
                if let Ok(range) = Range::new(events) {
                    fixed.extend(range.fixed_versions().map(ToString::to_string));
                }
            }
        }
        Ok(Some(to_advisory(row, fixed.into_iter().collect())))
    }

    /// Names of every package the index has an advisory for (for hunts and
    /// firewall deny-lists). Sorted, distinct.
    pub fn package_names(&self) -> Result<Vec<String>, AdvisoryError> {
        let err = self.sql_error("query");
        let mut statement = self
            .conn
            .prepare("SELECT DISTINCT package FROM affected ORDER BY package")
            .map_err(&err)?;
        let names = statement.query_map([], |row| row.get(0)).map_err(&err)?;
        names.collect::<Result<Vec<String>, _>>().map_err(&err)
    }
}

/// An affected entry with its ranges parsed.
struct CompiledAffected<'a> {
    ranges: Vec<Range>,
    versions: &'a [String],
}

impl<'a> CompiledAffected<'a> {
    fn new(spec: &'a StoredAffected) -> Self {
        // Ranges were validated at import; one that fails now is skipped as it was then.
        let ranges = spec
            .ranges
            .iter()
            .filter_map(|events| Range::new(events).ok())
            .collect();
        CompiledAffected {
            ranges,
            versions: &spec.versions,
        }
    }

    /// OSV § Evaluation for one `affected` entry: `Some(fixes)` when `version`
    /// is affected (by the exact `versions` list or by a range), with the next
    /// fix of each range that contains it.
    fn evaluate(&self, version: &str, parsed: Option<&nodejs_semver::Version>) -> Option<Vec<String>> {
        let mut affected = self.versions.iter().any(|listed| listed == version);
        let mut fixes = Vec::new();
        if let Some(parsed) = parsed {
            for range in &self.ranges {
                if range.contains(parsed) {
                    affected = true;
                    fixes.extend(range.fix_above(parsed).map(ToString::to_string));
                }
            }
        }
        affected.then_some(fixes)
    }
}

fn to_advisory(row: store::AdvisoryRow, mut fixed_in: Vec<String>) -> Advisory {
    sort_versions(&mut fixed_in);
    Advisory {
        id: row.id,
        kind: row.kind,
        summary: row.summary,
        details: row.details,
        severity: row.severity,
        cvss_vector: row.cvss_vector,
        aliases: row.aliases,
        fixed_in,
        published: row.published,
        modified: row.modified,
        references: row.references,
        source: row.source,
    }
}

fn sort_versions(versions: &mut Vec<String>) {
    versions.sort_by(|a, b| match (range::parse_version(a), range::parse_version(b)) {
        (Some(x), Some(y)) => x.cmp(&y).then_with(|| a.cmp(b)),
        _ => a.cmp(b),
    });
    versions.dedup();
}

/// Merges advisories (all matching one package version) whose ids and aliases
/// intersect, transitively, so one issue is one finding.
pub(crate) fn merge_aliases(advisories: Vec<Advisory>) -> Vec<Advisory> {
    let count = advisories.len();
    if count < 2 {
        return advisories;
    }
    // Union-find over advisories, joined through every identifier they carry.
    let mut parent: Vec<usize> = (0..count).collect();
    fn root(parent: &mut [usize], mut index: usize) -> usize {
        while parent[index] != index {
            parent[index] = parent[parent[index]];
            index = parent[index];
        }
        index
    }
    let mut owner: HashMap<&str, usize> = HashMap::new();
    for (index, advisory) in advisories.iter().enumerate() {
        for identifier in std::iter::once(&advisory.id).chain(&advisory.aliases) {
            match owner.get(identifier.as_str()) {
                Some(&other) => {
                    let (a, b) = (root(&mut parent, index), root(&mut parent, other));
                    parent[a] = b;
                }
                None => {
                    owner.insert(identifier, index);
                }
            }
        }
    }
    let mut groups: BTreeMap<usize, Vec<Advisory>> = BTreeMap::new();
    let roots: Vec<usize> = (0..count).map(|index| root(&mut parent, index)).collect();
    for (advisory, group) in advisories.into_iter().zip(roots) {
        groups.entry(group).or_default().push(advisory);
    }
    groups.into_values().map(merge_group).collect()
}

fn merge_group(mut group: Vec<Advisory>) -> Advisory {
    // Primary: a GHSA id if there is one (GitHub's record has the fullest
    // text and the fix versions), else the smallest id, for stable output.
    group.sort_by(|a, b| (!a.id.starts_with("GHSA-"), &a.id).cmp(&(!b.id.starts_with("GHSA-"), &b.id)));
    let mut parts = group.into_iter();
    let Some(mut primary) = parts.next() else {
        unreachable!("groups are built from at least one advisory")
    };
    let mut aliases: BTreeSet<String> = primary.aliases.drain(..).collect();
    for other in parts {
        if other.kind == AdvisoryKind::Malicious {
            primary.kind = AdvisoryKind::Malicious;
        }
        primary.severity = primary.severity.max(other.severity);
        primary.fixed_in.extend(other.fixed_in);
        aliases.insert(other.id);
        aliases.extend(other.aliases);
        for reference in other.references {
            if !primary.references.contains(&reference) {
                primary.references.push(reference);
            }
        }
        if primary.cvss_vector.is_none() {
            primary.cvss_vector = other.cvss_vector;
        }
    }
    if primary.kind == AdvisoryKind::Malicious {
        primary.severity = Severity::Critical;
    }
    aliases.remove(&primary.id);
    primary.aliases = aliases.into_iter().collect();
    sort_versions(&mut primary.fixed_in);
    primary
}

#[cfg(test)]
mod tests;

/// Parse one OSV JSON document the way an import does, without storing it.
/// `Ok` carries whether it would be stored (`true`) or ignored as withdrawn or
/// not npm (`false`); `Err` is the reason it would be skipped. Used by the fuzz
/// target and by anyone checking a record before importing it.
pub fn check_record(bytes: &[u8]) -> Result<bool, String> {
    match record::parse(bytes)? {
        record::Parsed::Record { .. } => Ok(true),
        record::Parsed::Withdrawn { .. } | record::Parsed::NotNpm => Ok(false),
    }
}
