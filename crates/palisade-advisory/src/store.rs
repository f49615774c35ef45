//! The SQLite layout of the index and the statements that read and write it.
//!
//! One row per advisory with everything [`crate::Advisory`] needs, one row per
//! npm `affected` entry (indexed by package name) holding its validated
//! ranges as compact JSON, and one row per alias for lookups by CVE/GHSA/MAL id.

use std::collections::BTreeMap;
use std::path::Path;

use palisade_core::Severity;
use rusqlite::{params, Connection, OptionalExtension};

use crate::record::{Record, StoredAffected};
use crate::{AdvisoryError, AdvisoryKind};

/// Bumped whenever the layout below changes; a database with another version
/// is rebuilt by the next import, and refused (with a hint) when opened.
pub(crate) const SCHEMA_VERSION: i64 = 2;

const SCHEMA: &str = "
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE advisory (
    rowid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    severity TEXT NOT NULL,
    cvss_vector TEXT,
    summary TEXT NOT NULL,
    details TEXT NOT NULL,
    aliases TEXT NOT NULL,
    published TEXT,
    modified TEXT NOT NULL,
    modified_ts INTEGER NOT NULL,
    refs TEXT NOT NULL,
    source TEXT NOT NULL
);
CREATE TABLE affected (advisory INTEGER NOT NULL, package TEXT NOT NULL, spec TEXT NOT NULL);
CREATE INDEX affected_package ON affected (package);
CREATE INDEX affected_advisory ON affected (advisory);
CREATE TABLE alias (alias TEXT NOT NULL, advisory INTEGER NOT NULL);
CREATE INDEX alias_alias ON alias (alias);
CREATE INDEX alias_advisory ON alias (advisory);
CREATE TABLE name_filter (id INTEGER PRIMARY KEY CHECK (id = 1), hashes BLOB NOT NULL);
";

pub(crate) fn create_schema(conn: &Connection, path: &Path) -> Result<(), AdvisoryError> {
    conn.execute_batch(SCHEMA)
        .map_err(|e| AdvisoryError::sqlite("create the schema of", path, e))?;
    set_meta(conn, path, "schema_version", &SCHEMA_VERSION.to_string())
}

pub(crate) fn set_meta(conn: &Connection, path: &Path, key: &str, value: &str) -> Result<(), AdvisoryError> {
    conn.execute(
        "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
        params![key, value],
    )
    .map(drop)
    .map_err(|e| AdvisoryError::sqlite("write metadata to", path, e))
}

pub(crate) fn get_meta(conn: &Connection, path: &Path, key: &str) -> Result<Option<String>, AdvisoryError> {
    conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |row| row.get(0))
        .optional()
        .map_err(|e| AdvisoryError::sqlite("read metadata from", path, e))
}

/// The schema version recorded in the database; an error when the file is
/// not one of ours at all.
pub(crate) fn schema_version(conn: &Connection, path: &Path) -> Result<i64, AdvisoryError> {
    let value: Option<String> = conn
        .query_row("SELECT value FROM meta WHERE key = 'schema_version'", [], |row| {
            row.get(0)
        })
        .optional()
        .map_err(|e| AdvisoryError::NotADatabase {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
    let value = value.ok_or_else(|| AdvisoryError::NotADatabase {
        path: path.to_path_buf(),
        reason: "no schema version recorded".into(),
    })?;
    value.parse().map_err(|_| AdvisoryError::NotADatabase {
        path: path.to_path_buf(),
        reason: format!("schema version `{value}` is not a number"),
    })
}

pub(crate) fn check_schema(conn: &Connection, path: &Path) -> Result<(), AdvisoryError> {
    let found = schema_version(conn, path)?;
    if found != SCHEMA_VERSION {
        return Err(AdvisoryError::SchemaVersion {
            path: path.to_path_buf(),
            found,
            expected: SCHEMA_VERSION,
        });
    }
    Ok(())
}

/// FNV-1a, 64 bit: a stable hash of a package name for the name filter
/// (stable across builds and platforms, unlike `std`'s `DefaultHasher`).
pub(crate) fn name_hash(name: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in name.as_bytes() {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// Rewrites the name filter: the sorted hashes of every package name that has
/// an advisory. `matches` binary-searches it and queries SQLite only for
/// names that may have one — most packages of a lockfile have none, and one
/// in-memory search is far cheaper than one indexed query.
pub(crate) fn write_name_filter(conn: &Connection) -> rusqlite::Result<()> {
    let mut hashes = Vec::new();
    {
        let mut statement = conn.prepare("SELECT DISTINCT package FROM affected")?;
        let mut rows = statement.query([])?;
        while let Some(row) = rows.next()? {
            hashes.push(name_hash(row.get_ref(0)?.as_str()?));
        }
    }
    hashes.sort_unstable();
    hashes.dedup();
    let bytes: Vec<u8> = hashes.iter().flat_map(|hash| hash.to_le_bytes()).collect();
    conn.execute(
        "INSERT OR REPLACE INTO name_filter (id, hashes) VALUES (1, ?1)",
        [bytes],
    )?;
    Ok(())
}

/// The name filter as written by [`write_name_filter`].
pub(crate) fn read_name_filter(conn: &Connection) -> rusqlite::Result<Vec<u64>> {
    let bytes: Vec<u8> = conn.query_row("SELECT hashes FROM name_filter WHERE id = 1", [], |row| row.get(0))?;
    Ok(bytes
        .chunks_exact(8)
        .map(|chunk| {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            u64::from_le_bytes(word)
        })
        .collect())
}

/// What an upsert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Upsert {
    Inserted,
    Replaced,
    /// The stored copy is newer; nothing changed.
    Kept,
}

/// Inserts `record`, replacing a stored record with the same id unless the
/// stored one has a newer `modified` (on a tie the record being imported wins).
pub(crate) fn upsert(conn: &Connection, record: &Record) -> rusqlite::Result<Upsert> {
    let existing = existing(conn, &record.id)?;
    let outcome = match existing {
        Some((_, stored_ts)) if stored_ts > record.modified_ts => return Ok(Upsert::Kept),
        Some((rowid, _)) => {
            delete(conn, rowid)?;
            Upsert::Replaced
        }
        None => Upsert::Inserted,
    };
    let aliases = serde_json::to_string(&record.aliases).unwrap_or_else(|_| "[]".into());
    let references = serde_json::to_string(&record.references).unwrap_or_else(|_| "[]".into());
    conn.prepare_cached(
        "INSERT INTO advisory (id, kind, severity, cvss_vector, summary, details, aliases, published, modified,
                               modified_ts, refs, source)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?
    .execute(params![
        record.id,
        record.kind.as_str(),
        record.severity.as_str(),
        record.cvss_vector,
        record.summary,
        record.details,
        aliases,
        record.published,
        record.modified,
        record.modified_ts,
        references,
        record.source,
    ])?;
    let rowid = conn.last_insert_rowid();
    let mut insert_affected =
        conn.prepare_cached("INSERT INTO affected (advisory, package, spec) VALUES (?1, ?2, ?3)")?;
    for entry in &record.affected {
        let spec = serde_json::to_string(&entry.spec).unwrap_or_else(|_| "{}".into());
        insert_affected.execute(params![rowid, entry.package, spec])?;
    }
    let mut insert_alias = conn.prepare_cached("INSERT INTO alias (alias, advisory) VALUES (?1, ?2)")?;
    for alias in &record.aliases {
        insert_alias.execute(params![alias, rowid])?;
    }
    Ok(outcome)
}

/// OSV § withdrawn: removes a stored record unless it is newer than the
/// withdrawal. Returns whether a row was removed.
pub(crate) fn withdraw(conn: &Connection, id: &str, modified_ts: i64) -> rusqlite::Result<bool> {
    match existing(conn, id)? {
        Some((rowid, stored_ts)) if stored_ts <= modified_ts => {
            delete(conn, rowid)?;
            Ok(true)
        }
        _ => Ok(false),
    }
}

fn existing(conn: &Connection, id: &str) -> rusqlite::Result<Option<(i64, i64)>> {
    conn.prepare_cached("SELECT rowid, modified_ts FROM advisory WHERE id = ?1")?
        .query_row([id], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()
}

fn delete(conn: &Connection, rowid: i64) -> rusqlite::Result<()> {
    conn.prepare_cached("DELETE FROM affected WHERE advisory = ?1")?
        .execute([rowid])?;
    conn.prepare_cached("DELETE FROM alias WHERE advisory = ?1")?
        .execute([rowid])?;
    conn.prepare_cached("DELETE FROM advisory WHERE rowid = ?1")?
        .execute([rowid])?;
    Ok(())
}

/// An advisory row as stored (record-level fields only).
#[derive(Debug, Clone)]
pub(crate) struct AdvisoryRow {
    pub id: String,
    pub kind: AdvisoryKind,
    pub severity: Severity,
    pub cvss_vector: Option<String>,
    pub summary: String,
    pub details: String,
    pub aliases: Vec<String>,
    pub published: Option<String>,
    pub modified: String,
    pub references: Vec<String>,
    pub source: String,
}

pub(crate) fn advisory_row(conn: &Connection, rowid: i64) -> rusqlite::Result<Option<AdvisoryRow>> {
    conn.prepare_cached(
        "SELECT id, kind, severity, cvss_vector, summary, details, aliases, published, modified, refs, source
         FROM advisory WHERE rowid = ?1",
    )?
    .query_row([rowid], |row| {
        let kind: String = row.get(1)?;
        let severity: String = row.get(2)?;
        let aliases: String = row.get(6)?;
        let references: String = row.get(9)?;
        Ok(AdvisoryRow {
            id: row.get(0)?,
            kind: if kind == "malicious" {
                AdvisoryKind::Malicious
            } else {
                AdvisoryKind::Vulnerability
            },
            severity: severity.parse().unwrap_or(Severity::Unknown),
            cvss_vector: row.get(3)?,
            summary: row.get(4)?,
            details: row.get(5)?,
            aliases: serde_json::from_str(&aliases).unwrap_or_default(),
            published: row.get(7)?,
            modified: row.get(8)?,
            references: serde_json::from_str(&references).unwrap_or_default(),
            source: row.get(10)?,
        })
    })
    .optional()
}

/// `(advisory rowid, spec)` of every affected entry for `package`.
pub(crate) fn affected_for_package(
    conn: &Connection,
    package: &str,
    out: &mut Vec<(i64, StoredAffected)>,
) -> rusqlite::Result<()> {
    let mut statement = conn.prepare_cached("SELECT advisory, spec FROM affected WHERE package = ?1")?;
    let mut rows = statement.query([package])?;
    while let Some(row) = rows.next()? {
        let rowid: i64 = row.get(0)?;
        let spec = row.get_ref(1)?.as_str()?;
        // A spec we cannot read was written by a broken import; treat the entry
        // as "every version", never as clean (fail closed).
        let spec = serde_json::from_str(spec).unwrap_or_else(|_| StoredAffected {
            ranges: vec![vec![(crate::range::EventKind::Introduced, "0".into())]],
            versions: Vec::new(),
        });
        out.push((rowid, spec));
    }
    Ok(())
}

/// `(package, spec)` of every affected entry of one advisory.
pub(crate) fn affected_for_advisory(conn: &Connection, rowid: i64) -> rusqlite::Result<Vec<(String, StoredAffected)>> {
    let mut statement = conn.prepare_cached("SELECT package, spec FROM affected WHERE advisory = ?1")?;
    let rows = statement.query_map([rowid], |row| {
        let spec: String = row.get(1)?;
        Ok((row.get(0)?, serde_json::from_str(&spec).unwrap_or_default()))
    })?;
    rows.collect()
}

/// The rowid of an advisory by id, or else by alias.
pub(crate) fn find_rowid(conn: &Connection, id: &str) -> rusqlite::Result<Option<i64>> {
    if let Some((rowid, _)) = existing(conn, id)? {
        return Ok(Some(rowid));
    }
    conn.prepare_cached("SELECT advisory FROM alias WHERE alias = ?1 ORDER BY advisory LIMIT 1")?
        .query_row([id], |row| row.get(0))
        .optional()
}

/// Counts that `Database::status` reports, computed once when an index is
/// written: counting 20k+ rows on every audit would cost more than the audit.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct Statistics {
    pub(crate) advisories: u64,
    pub(crate) by_kind: BTreeMap<String, u64>,
    pub(crate) by_source: BTreeMap<String, u64>,
    pub(crate) newest_modified: Option<String>,
}

const STATISTICS_KEY: &str = "statistics";

pub(crate) fn compute_statistics(conn: &Connection) -> rusqlite::Result<Statistics> {
    let mut statistics = Statistics::default();
    let mut statement = conn.prepare("SELECT kind, source, COUNT(*) FROM advisory GROUP BY kind, source")?;
    let mut rows = statement.query([])?;
    while let Some(row) = rows.next()? {
        let kind: String = row.get(0)?;
        let source: String = row.get(1)?;
        let count = u64::try_from(row.get::<_, i64>(2)?).unwrap_or(0);
        *statistics.by_kind.entry(kind).or_insert(0) += count;
        *statistics.by_source.entry(source).or_insert(0) += count;
        statistics.advisories += count;
    }
    statistics.newest_modified = conn
        .query_row(
            "SELECT modified FROM advisory ORDER BY modified_ts DESC LIMIT 1",
            [],
            |row| row.get(0),
        )
        .optional()?;
    Ok(statistics)
}

/// Store the statistics in `meta`; call inside the transaction that wrote the records.
pub(crate) fn write_statistics(conn: &Connection, path: &Path) -> Result<(), AdvisoryError> {
    let statistics = compute_statistics(conn).map_err(|e| AdvisoryError::sqlite("count the records of", path, e))?;
    let text = serde_json::to_string(&statistics).unwrap_or_default();
    set_meta(conn, path, STATISTICS_KEY, &text)
}

/// The stored statistics, or a fresh count when the index has none (or they do not parse).
pub(crate) fn read_statistics(conn: &Connection, path: &Path) -> Result<Statistics, AdvisoryError> {
    if let Some(text) = get_meta(conn, path, STATISTICS_KEY)? {
        if let Ok(statistics) = serde_json::from_str(&text) {
            return Ok(statistics);
        }
    }
    compute_statistics(conn).map_err(|e| AdvisoryError::sqlite("count the records of", path, e))
}
