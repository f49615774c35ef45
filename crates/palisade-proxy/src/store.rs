//! Storage behind two traits, so a deployment with several replicas can
//! swap in PostgreSQL and S3-compatible object storage:
//!
//! - [`Store`]: verdicts (by integrity), operators' decisions, the
//!   append-only audit log, held-back versions and the last good packument of
//!   each package. [`SqliteStore`] keeps them in one SQLite file (WAL,
//!   `synchronous = FULL`, so an acknowledged write survives a crash); the
//!   audit table refuses `UPDATE` and `DELETE` by trigger.
//! - [`BlobStore`]: tarballs by content. [`DiskBlobs`] writes
//!   `<dir>/<algorithm>/<hex[..2]>/<hex>` through a temp file, `fsync` and
//!   rename, so a crash never leaves a partial file under a final name; every
//!   read is re-verified against the integrity and a mismatch is deleted and
//!   reported as a miss.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use palisade_core::Verdict;
use palisade_registry::Integrity;
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("storage: {action}: {source}")]
    Sqlite {
        action: &'static str,
        #[source]
        source: rusqlite::Error,
    },
    #[error("storage: {action} `{path}`: {source}")]
    Io {
        action: &'static str,
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("storage: the database lock is poisoned")]
    Poisoned,
}

fn sqlite(action: &'static str) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |source| StoreError::Sqlite { action, source }
}

fn io<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> StoreError + 'a {
    move |source| StoreError::Io {
        action,
        path: path.display().to_string(),
        source,
    }
}

/// The analyzer's verdict on one tarball, cached by its integrity.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VerdictRecord {
    pub integrity: String,
    pub package: String,
    pub version: String,
    pub verdict: Verdict,
    pub score: f64,
    pub summary: String,
    pub scanned_at: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DecisionState {
    Quarantined,
    Approved,
    Denied,
}

impl DecisionState {
    pub fn as_str(self) -> &'static str {
        match self {
            DecisionState::Quarantined => "quarantined",
            DecisionState::Approved => "approved",
            DecisionState::Denied => "denied",
        }
    }

    fn parse(text: &str) -> Option<DecisionState> {
        match text {
            "quarantined" => Some(DecisionState::Quarantined),
            "approved" => Some(DecisionState::Approved),
            "denied" => Some(DecisionState::Denied),
            _ => None,
        }
    }
}

/// The current decision on one version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub package: String,
    pub version: String,
    pub state: DecisionState,
    pub reason: String,
    pub actor: String,
    pub at: String,
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Assigned by the store; 0 before it is written.
    pub id: i64,
    pub at: String,
    /// Who: the client address, or `admin` for the admin API.
    pub actor: String,
    /// `serve`, `refuse`, `quarantine`, `scan`, `approve`, `deny`, `held-back`, `error`.
    pub action: String,
    pub package: String,
    pub version: String,
    pub detail: String,
}

/// A version removed from a packument, as last seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldBack {
    pub package: String,
    pub version: String,
    pub rule: String,
    pub reason: String,
    pub first_seen: String,
    pub last_seen: String,
}

/// The last packument fetched for a package, served when upstream is down.
#[derive(Debug, Clone)]
pub struct StoredPackument {
    pub body: Vec<u8>,
    pub etag: Option<String>,
    pub fetched_at: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreStats {
    pub verdicts: u64,
    pub verdicts_malicious: u64,
    pub verdicts_suspicious: u64,
    pub quarantined: u64,
    pub approved: u64,
    pub denied: u64,
    pub held_back: u64,
    pub audit_entries: u64,
    pub packuments: u64,
}

/// Metadata storage. Blocking; the server calls it from `spawn_blocking`.
pub trait Store: Send + Sync {
    fn verdict(&self, integrity: &str) -> Result<Option<VerdictRecord>, StoreError>;
    fn verdicts_of(&self, package: &str) -> Result<Vec<VerdictRecord>, StoreError>;
    fn put_verdict(&self, record: &VerdictRecord) -> Result<(), StoreError>;
    fn all_verdicts(&self, refused_only: bool) -> Result<Vec<VerdictRecord>, StoreError>;
    fn decisions(&self) -> Result<Vec<Decision>, StoreError>;
    /// Sets a decision and appends its audit entry in one transaction.
    fn put_decision(&self, decision: &Decision, audit: &AuditEntry) -> Result<(), StoreError>;
    /// Records a quarantine unless the version already has a decision; true when it was new.
    fn quarantine(&self, decision: &Decision, audit: &AuditEntry) -> Result<bool, StoreError>;
    fn append_audit(&self, entries: &[AuditEntry]) -> Result<(), StoreError>;
    /// The newest `limit` entries, newest first, optionally for one package.
    fn audit(&self, limit: usize, package: Option<&str>) -> Result<Vec<AuditEntry>, StoreError>;
    fn record_held_back(&self, entries: &[HeldBack]) -> Result<(), StoreError>;
    fn held_back(&self, limit: usize) -> Result<Vec<HeldBack>, StoreError>;
    fn packument(&self, package: &str) -> Result<Option<StoredPackument>, StoreError>;
    fn put_packument(&self, package: &str, packument: &StoredPackument) -> Result<(), StoreError>;
    fn stats(&self) -> Result<StoreStats, StoreError>;
}

/// Tarball storage by content.
pub trait BlobStore: Send + Sync {
    /// The bytes, only if they match `integrity`.
    fn get(&self, integrity: &Integrity) -> Result<Option<Vec<u8>>, StoreError>;
    /// Stores bytes already checked against `integrity`.
    fn put(&self, integrity: &Integrity, bytes: &[u8]) -> Result<(), StoreError>;
}

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS verdicts (
    integrity TEXT PRIMARY KEY, package TEXT NOT NULL, version TEXT NOT NULL,
    verdict TEXT NOT NULL, score REAL NOT NULL, summary TEXT NOT NULL, scanned_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS verdicts_package ON verdicts(package);
CREATE TABLE IF NOT EXISTS decisions (
    package TEXT NOT NULL, version TEXT NOT NULL, state TEXT NOT NULL, reason TEXT NOT NULL,
    actor TEXT NOT NULL, at TEXT NOT NULL, PRIMARY KEY (package, version));
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
    package TEXT NOT NULL, version TEXT NOT NULL, detail TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS audit_package ON audit(package);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TABLE IF NOT EXISTS held_back (
    package TEXT NOT NULL, version TEXT NOT NULL, rule TEXT NOT NULL, reason TEXT NOT NULL,
    first_seen TEXT NOT NULL, last_seen TEXT NOT NULL, PRIMARY KEY (package, version));
CREATE TABLE IF NOT EXISTS packuments (
    package TEXT PRIMARY KEY, body BLOB NOT NULL, etag TEXT, fetched_at TEXT NOT NULL);
"#;

/// [`Store`] on one SQLite file.
pub struct SqliteStore {
    conn: Mutex<Connection>,
}

impl SqliteStore {
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io("create", parent))?;
        }
        let conn = Connection::open(path).map_err(sqlite("open the firewall database"))?;
        Self::init(conn)
    }

    /// An in-memory store (tests).
    pub fn in_memory() -> Result<SqliteStore, StoreError> {
        Self::init(Connection::open_in_memory().map_err(sqlite("open an in-memory database"))?)
    }

    fn init(conn: Connection) -> Result<SqliteStore, StoreError> {
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;",
        )
        .map_err(sqlite("configure the firewall database"))?;
        conn.execute_batch(SCHEMA).map_err(sqlite("create the schema"))?;
        Ok(SqliteStore { conn: Mutex::new(conn) })
    }

    fn with<T>(&self, f: impl FnOnce(&mut Connection) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let mut conn = self.conn.lock().map_err(|_| StoreError::Poisoned)?;
        f(&mut conn)
    }
}

fn verdict_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<VerdictRecord> {
    let verdict: String = row.get(3)?;
    Ok(VerdictRecord {
        integrity: row.get(0)?,
        package: row.get(1)?,
        version: row.get(2)?,
        verdict: match verdict.as_str() {
            "clean" => Verdict::Clean,
            "suspicious" => Verdict::Suspicious,
            // Anything unreadable is treated as the worst case.
            _ => Verdict::Malicious,
        },
        score: row.get(4)?,
        summary: row.get(5)?,
        scanned_at: row.get(6)?,
    })
}

fn audit_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<AuditEntry> {
    Ok(AuditEntry {
        id: row.get(0)?,
        at: row.get(1)?,
        actor: row.get(2)?,
        action: row.get(3)?,
        package: row.get(4)?,
        version: row.get(5)?,
        detail: row.get(6)?,
    })
}

fn insert_audit(conn: &Connection, entry: &AuditEntry) -> rusqlite::Result<usize> {
    conn.execute(
        "INSERT INTO audit (at, actor, action, package, version, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            entry.at,
            entry.actor,
            entry.action,
            entry.package,
            entry.version,
            entry.detail
        ],
    )
}

const VERDICT_COLUMNS: &str = "integrity, package, version, verdict, score, summary, scanned_at";

impl Store for SqliteStore {
    fn verdict(&self, integrity: &str) -> Result<Option<VerdictRecord>, StoreError> {
        self.with(|conn| {
            conn.query_row(
                &format!("SELECT {VERDICT_COLUMNS} FROM verdicts WHERE integrity = ?1"),
                [integrity],
                verdict_from_row,
            )
            .optional()
            .map_err(sqlite("read a verdict"))
        })
    }

    fn verdicts_of(&self, package: &str) -> Result<Vec<VerdictRecord>, StoreError> {
        self.with(|conn| {
            let mut statement = conn
                .prepare_cached(&format!("SELECT {VERDICT_COLUMNS} FROM verdicts WHERE package = ?1"))
                .map_err(sqlite("read verdicts"))?;
            let rows = statement
                .query_map([package], verdict_from_row)
                .map_err(sqlite("read verdicts"))?;
            rows.collect::<Result<Vec<_>, _>>().map_err(sqlite("read verdicts"))
        })
    }

    fn put_verdict(&self, record: &VerdictRecord) -> Result<(), StoreError> {
        self.with(|conn| {
            conn.execute(
                &format!("INSERT OR REPLACE INTO verdicts ({VERDICT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
                params![
                    record.integrity,
                    record.package,
                    record.version,
                    record.verdict.as_str(),
                    record.score,
                    record.summary,
                    record.scanned_at
                ],
            )
            .map(|_| ())
            .map_err(sqlite("write a verdict"))
        })
    }

    fn all_verdicts(&self, refused_only: bool) -> Result<Vec<VerdictRecord>, StoreError> {
        self.with(|conn| {
            let filter = if refused_only { "WHERE verdict != 'clean'" } else { "" };
            let mut statement = conn
                .prepare(&format!(
                    "SELECT {VERDICT_COLUMNS} FROM verdicts {filter} ORDER BY scanned_at DESC LIMIT 10000"
                ))
                .map_err(sqlite("read verdicts"))?;
            let rows = statement
                .query_map([], verdict_from_row)
                .map_err(sqlite("read verdicts"))?;
            rows.collect::<Result<Vec<_>, _>>().map_err(sqlite("read verdicts"))
        })
    }

    fn decisions(&self) -> Result<Vec<Decision>, StoreError> {
        self.with(|conn| {
            let mut statement = conn
                .prepare("SELECT package, version, state, reason, actor, at FROM decisions ORDER BY at DESC")
                .map_err(sqlite("read decisions"))?;
            let rows = statement
                .query_map([], |row| {
                    let state: String = row.get(2)?;
                    Ok(Decision {
                        package: row.get(0)?,
                        version: row.get(1)?,
                        // An unreadable state is the safe one.
                        state: DecisionState::parse(&state).unwrap_or(DecisionState::Denied),
                        reason: row.get(3)?,
                        actor: row.get(4)?,
                        at: row.get(5)?,
                    })
                })
                .map_err(sqlite("read decisions"))?;
            rows.collect::<Result<Vec<_>, _>>().map_err(sqlite("read decisions"))
        })
    }

    fn put_decision(&self, decision: &Decision, audit: &AuditEntry) -> Result<(), StoreError> {
        self.with(|conn| {
            let tx = conn.transaction().map_err(sqlite("begin"))?;
            tx.execute(
                "INSERT OR REPLACE INTO decisions (package, version, state, reason, actor, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![decision.package, decision.version, decision.state.as_str(), decision.reason, decision.actor, decision.at],
            )
            .map_err(sqlite("write a decision"))?;
            insert_audit(&tx, audit).map_err(sqlite("append to the audit log"))?;
            tx.commit().map_err(sqlite("commit a decision"))
        })
    }

    fn quarantine(&self, decision: &Decision, audit: &AuditEntry) -> Result<bool, StoreError> {
        self.with(|conn| {
            let tx = conn.transaction().map_err(sqlite("begin"))?;
            let inserted = tx
                .execute(
                    "INSERT OR IGNORE INTO decisions (package, version, state, reason, actor, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![decision.package, decision.version, decision.state.as_str(), decision.reason, decision.actor, decision.at],
                )
                .map_err(sqlite("write a quarantine"))?;
            if inserted > 0 {
                insert_audit(&tx, audit).map_err(sqlite("append to the audit log"))?;
            }
            tx.commit().map_err(sqlite("commit a quarantine"))?;
            Ok(inserted > 0)
        })
    }

    fn append_audit(&self, entries: &[AuditEntry]) -> Result<(), StoreError> {
        if entries.is_empty() {
            return Ok(());
        }
        self.with(|conn| {
            let tx = conn.transaction().map_err(sqlite("begin"))?;
            for entry in entries {
                insert_audit(&tx, entry).map_err(sqlite("append to the audit log"))?;
            }
            tx.commit().map_err(sqlite("commit the audit log"))
        })
    }

    fn audit(&self, limit: usize, package: Option<&str>) -> Result<Vec<AuditEntry>, StoreError> {
        self.with(|conn| {
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            let columns = "id, at, actor, action, package, version, detail";
            let rows = match package {
                Some(package) => {
                    let mut statement = conn
                        .prepare(&format!(
                            "SELECT {columns} FROM audit WHERE package = ?1 ORDER BY id DESC LIMIT ?2"
                        ))
                        .map_err(sqlite("read the audit log"))?;
                    let rows = statement
                        .query_map(params![package, limit], audit_from_row)
                        .map_err(sqlite("read the audit log"))?;
                    rows.collect::<Result<Vec<_>, _>>()
                }
                None => {
                    let mut statement = conn
                        .prepare(&format!("SELECT {columns} FROM audit ORDER BY id DESC LIMIT ?1"))
                        .map_err(sqlite("read the audit log"))?;
                    let rows = statement
                        .query_map([limit], audit_from_row)
                        .map_err(sqlite("read the audit log"))?;
                    rows.collect::<Result<Vec<_>, _>>()
                }
            };
            rows.map_err(sqlite("read the audit log"))
        })
    }

    fn record_held_back(&self, entries: &[HeldBack]) -> Result<(), StoreError> {
        if entries.is_empty() {
            return Ok(());
        }
        self.with(|conn| {
            let tx = conn.transaction().map_err(sqlite("begin"))?;
            for entry in entries {
                tx.execute(
                    "INSERT INTO held_back (package, version, rule, reason, first_seen, last_seen) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                     ON CONFLICT(package, version) DO UPDATE SET rule = excluded.rule, reason = excluded.reason, last_seen = excluded.last_seen",
                    params![entry.package, entry.version, entry.rule, entry.reason, entry.first_seen, entry.last_seen],
                )
                .map_err(sqlite("record a held-back version"))?;
            }
            tx.commit().map_err(sqlite("commit held-back versions"))
        })
    }

    fn held_back(&self, limit: usize) -> Result<Vec<HeldBack>, StoreError> {
        self.with(|conn| {
            let mut statement = conn
                .prepare(
                    "SELECT package, version, rule, reason, first_seen, last_seen FROM held_back ORDER BY last_seen DESC, package, version LIMIT ?1",
                )
                .map_err(sqlite("read held-back versions"))?;
            let rows = statement
                .query_map([i64::try_from(limit).unwrap_or(i64::MAX)], |row| {
                    Ok(HeldBack {
                        package: row.get(0)?,
                        version: row.get(1)?,
                        rule: row.get(2)?,
                        reason: row.get(3)?,
                        first_seen: row.get(4)?,
                        last_seen: row.get(5)?,
                    })
                })
                .map_err(sqlite("read held-back versions"))?;
            rows.collect::<Result<Vec<_>, _>>().map_err(sqlite("read held-back versions"))
        })
    }

    fn packument(&self, package: &str) -> Result<Option<StoredPackument>, StoreError> {
        self.with(|conn| {
            conn.query_row(
                "SELECT body, etag, fetched_at FROM packuments WHERE package = ?1",
                [package],
                |row| {
                    Ok(StoredPackument {
                        body: row.get(0)?,
                        etag: row.get(1)?,
                        fetched_at: row.get(2)?,
                    })
                },
            )
            .optional()
            .map_err(sqlite("read a cached packument"))
        })
    }

    fn put_packument(&self, package: &str, packument: &StoredPackument) -> Result<(), StoreError> {
        self.with(|conn| {
            conn.execute(
                "INSERT OR REPLACE INTO packuments (package, body, etag, fetched_at) VALUES (?1, ?2, ?3, ?4)",
                params![package, packument.body, packument.etag, packument.fetched_at],
            )
            .map(|_| ())
            .map_err(sqlite("cache a packument"))
        })
    }

    fn stats(&self) -> Result<StoreStats, StoreError> {
        self.with(|conn| {
            let count = |sql: &str| -> Result<u64, StoreError> {
                let n: i64 = conn.query_row(sql, [], |row| row.get(0)).map_err(sqlite("count"))?;
                Ok(u64::try_from(n).unwrap_or(0))
            };
            Ok(StoreStats {
                verdicts: count("SELECT COUNT(*) FROM verdicts")?,
                verdicts_malicious: count("SELECT COUNT(*) FROM verdicts WHERE verdict = 'malicious'")?,
                verdicts_suspicious: count("SELECT COUNT(*) FROM verdicts WHERE verdict = 'suspicious'")?,
                quarantined: count("SELECT COUNT(*) FROM decisions WHERE state = 'quarantined'")?,
                approved: count("SELECT COUNT(*) FROM decisions WHERE state = 'approved'")?,
                denied: count("SELECT COUNT(*) FROM decisions WHERE state = 'denied'")?,
                held_back: count("SELECT COUNT(*) FROM held_back")?,
                audit_entries: count("SELECT COUNT(*) FROM audit")?,
                packuments: count("SELECT COUNT(*) FROM packuments")?,
            })
        })
    }
}

/// [`BlobStore`] on a directory.
pub struct DiskBlobs {
    dir: PathBuf,
    max_bytes: u64,
}

impl DiskBlobs {
    pub fn open(dir: &Path, max_bytes: u64) -> Result<DiskBlobs, StoreError> {
        std::fs::create_dir_all(dir.join("tmp")).map_err(io("create", dir))?;
        Ok(DiskBlobs {
            dir: dir.to_path_buf(),
            max_bytes,
        })
    }

    /// The path of a hash: only the algorithm name and hex digits, never
    /// anything from a request, so no traversal is possible.
    fn path(&self, hash: &palisade_registry::integrity::Hash) -> PathBuf {
        let hex = hash.hex();
        let prefix = hex.get(..2).unwrap_or("00");
        self.dir.join(hash.algorithm.as_str()).join(prefix).join(&hex)
    }
}

impl BlobStore for DiskBlobs {
    fn get(&self, integrity: &Integrity) -> Result<Option<Vec<u8>>, StoreError> {
        for hash in integrity.strongest() {
            let path = self.path(hash);
            let bytes = match std::fs::metadata(&path) {
                Ok(meta) if meta.len() <= self.max_bytes => std::fs::read(&path).map_err(io("read", &path))?,
                Ok(_) => continue,
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => continue,
                Err(error) => return Err(io("read", &path)(error)),
            };
            if integrity.check(&bytes).is_ok() {
                return Ok(Some(bytes));
            }
            // Corrupted on disk: drop it so the next request refetches.
            tracing::warn!(path = %path.display(), "cached tarball failed its integrity check; removed");
            let _ = std::fs::remove_file(&path);
        }
        Ok(None)
    }

    fn put(&self, integrity: &Integrity, bytes: &[u8]) -> Result<(), StoreError> {
        for hash in integrity.strongest() {
            let path = self.path(hash);
            let parent = path.parent().unwrap_or(&self.dir);
            std::fs::create_dir_all(parent).map_err(io("create", parent))?;
            let tmp_dir = self.dir.join("tmp");
            let mut file = tempfile::NamedTempFile::new_in(&tmp_dir).map_err(io("create a temp file in", &tmp_dir))?;
            file.write_all(bytes).map_err(io("write", &tmp_dir))?;
            file.as_file().sync_all().map_err(io("sync", &tmp_dir))?;
            file.persist(&path)
                .map_err(|error| io("rename into", &path)(error.error))?;
            // The rename is durable once the directory is synced.
            if let Ok(dir) = std::fs::File::open(parent) {
                let _ = dir.sync_all();
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(action: &str) -> AuditEntry {
        AuditEntry {
            id: 0,
            at: "2026-01-01T00:00:00Z".into(),
            actor: "test".into(),
            action: action.into(),
            package: "a".into(),
            version: "1.0.0".into(),
            detail: String::new(),
        }
    }

    #[test]
    fn audit_log_is_append_only() {
        let store = SqliteStore::in_memory().expect("store");
        store.append_audit(&[entry("serve"), entry("refuse")]).expect("append");
        let conn = store.conn.lock().expect("lock");
        assert!(conn.execute("UPDATE audit SET action = 'serve'", []).is_err());
        assert!(conn.execute("DELETE FROM audit", []).is_err());
        drop(conn);
        let log = store.audit(10, None).expect("read");
        assert_eq!(log.len(), 2);
        assert_eq!(log[0].action, "refuse", "newest first");
    }

    #[test]
    fn quarantine_does_not_override_a_decision() {
        let store = SqliteStore::in_memory().expect("store");
        let decision = |state| Decision {
            package: "a".into(),
            version: "1.0.0".into(),
            state,
            reason: "r".into(),
            actor: "admin".into(),
            at: "t".into(),
        };
        store
            .put_decision(&decision(DecisionState::Approved), &entry("approve"))
            .expect("approve");
        assert!(!store
            .quarantine(&decision(DecisionState::Quarantined), &entry("quarantine"))
            .expect("quarantine"));
        assert_eq!(store.decisions().expect("read")[0].state, DecisionState::Approved);
    }

    #[test]
    fn blobs_are_verified_on_read() {
        let dir = tempfile::tempdir().expect("temp");
        let blobs = DiskBlobs::open(dir.path(), 1 << 20).expect("open");
        let integrity = Integrity::compute(palisade_registry::Algorithm::Sha512, b"tarball");
        blobs.put(&integrity, b"tarball").expect("put");
        assert_eq!(blobs.get(&integrity).expect("get").as_deref(), Some(&b"tarball"[..]));
        // Corrupt the file in place: the next read is a miss, and the file is gone.
        let hash = integrity.hashes()[0].clone();
        let path = blobs.path(&hash);
        std::fs::write(&path, b"tampered").expect("tamper");
        assert_eq!(blobs.get(&integrity).expect("get"), None);
        assert!(!path.exists());
        // Nothing is left in tmp after a put.
        assert_eq!(std::fs::read_dir(dir.path().join("tmp")).expect("tmp").count(), 0);
    }
}
