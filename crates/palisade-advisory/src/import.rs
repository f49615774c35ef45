//! Atomic import of OSV records from zips, directories and JSON files.
//!
//! The new index is written to a temporary file in `PALISADE_HOME` (a copy of
//! the current index unless `replace`), then renamed over
//! `advisories.sqlite3`. Rename is atomic on one filesystem, so readers see
//! either the old index or the new one, and any failure before the rename
//! (corrupt zip, full disk, crash) leaves the old one untouched.
//!
//! Every source is hostile input: zip entries are only read into memory, never
//! extracted (entry names are not paths to us), with caps on the size of each
//! entry, the number of entries and the total bytes read.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rusqlite::Connection;
use time::format_description::well_known::Rfc3339;

use crate::record::{self, Parsed};
use crate::store::{self, Upsert};
use crate::{AdvisoryError, DATABASE_FILE};

/// How many skip reasons an [`ImportSummary`] keeps.
const MAX_REASONS: usize = 10;

/// Caps on what one import reads. The defaults fit osv.dev's npm `all.zip`
/// many times over while stopping zip bombs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest single JSON document (uncompressed), in bytes; larger entries are skipped.
    pub max_entry_bytes: u64,
    /// Most entries in one zip; more is an error.
    pub max_entries: usize,
    /// Most bytes read (uncompressed) across all sources; more is an error.
    pub max_total_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_entry_bytes: 16 << 20,
            max_entries: 2_000_000,
            max_total_bytes: 8 << 30,
        }
    }
}

/// Progress reported during an import or sync.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportProgress<'a> {
    /// Download progress of a sync; `total` from `Content-Length` when sent.
    Downloading { bytes: u64, total: Option<u64> },
    /// Started reading a source; `entries` is known for zips.
    Source { path: &'a Path, entries: Option<u64> },
    /// Records read so far from the current source.
    Records { done: u64 },
    /// All sources read; the index is being finalised.
    Finishing,
}

/// Options of [`import`] and [`crate::sync`].
#[derive(Clone, Copy, Default)]
pub struct ImportOptions<'a> {
    /// Start from an empty index instead of a copy of the current one.
    pub replace: bool,
    /// Do not seed a new index with the embedded baseline records. By default a
    /// new index (no current one, or `replace`) starts with the baseline, so
    /// importing a partial source never loses the notable compromises; imported
    /// records with the same id and a newer-or-equal `modified` replace them.
    pub without_baseline: bool,
    pub limits: Limits,
    pub progress: Option<&'a dyn Fn(ImportProgress<'_>)>,
}

impl std::fmt::Debug for ImportOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImportOptions")
            .field("replace", &self.replace)
            .field("without_baseline", &self.without_baseline)
            .field("limits", &self.limits)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportSummary {
    /// The index written.
    pub path: PathBuf,
    /// JSON documents read.
    pub records_read: u64,
    /// Records inserted or replacing an older copy.
    pub imported: u64,
    /// Records whose stored copy had a newer `modified`.
    pub unchanged: u64,
    /// Documents that were not usable OSV records (bad JSON, too large, …).
    pub skipped: u64,
    /// The first few reasons for `skipped`, each naming the file or zip entry.
    pub skipped_reasons: Vec<String>,
    /// `withdrawn` records (never matched; an older stored copy is removed).
    pub withdrawn: u64,
    /// Records with no npm `affected` entry.
    pub not_npm: u64,
    /// Ranges skipped because a version in them was not valid SemVer.
    pub invalid_ranges: u64,
    /// Records in the index after the import.
    pub total: u64,
    /// The existing index had another schema version and was rebuilt from scratch.
    pub rebuilt: bool,
    #[serde(serialize_with = "serialize_duration")]
    pub elapsed: Duration,
}

fn serialize_duration<S: serde::Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64(duration.as_secs_f64())
}

impl ImportSummary {
    fn skip(&mut self, reason: String) {
        self.skipped += 1;
        if self.skipped_reasons.len() < MAX_REASONS {
            self.skipped_reasons.push(reason);
        }
    }
}

/// Imports `sources` (osv.dev `all.zip`-layout zips, directories searched
/// recursively for `*.json`, single `.json` files) into `<home>/advisories.sqlite3`,
/// atomically. Records are upserted by id: a newer (or equal) `modified` wins.
pub fn import(home: &Path, sources: &[PathBuf], options: ImportOptions<'_>) -> Result<ImportSummary, AdvisoryError> {
    import_with_meta(home, sources, options, &[])
}

/// [`import`], also writing `meta` entries (the sync records its URL and time).
pub(crate) fn import_with_meta(
    home: &Path,
    sources: &[PathBuf],
    options: ImportOptions<'_>,
    meta: &[(&str, &str)],
) -> Result<ImportSummary, AdvisoryError> {
    let started = Instant::now();
    std::fs::create_dir_all(home).map_err(|e| AdvisoryError::io("create directory", home, e))?;
    let final_path = home.join(DATABASE_FILE);
    let temp = tempfile::Builder::new()
        .prefix(".advisories-")
        .suffix(".sqlite3.partial")
        .tempfile_in(home)
        .map_err(|e| AdvisoryError::io("create a temporary file in", home, e))?;
    let temp_path = temp.path().to_path_buf();
    let mut summary = ImportSummary {
        path: final_path.clone(),
        ..ImportSummary::default()
    };

    // Start from a copy of the current index (unless asked not to, or it is
    // unreadable by this version: then rebuild).
    let mut fresh = true;
    if !options.replace && final_path.exists() {
        let compatible = Connection::open_with_flags(&final_path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .ok()
            .is_some_and(|conn| store::check_schema(&conn, &final_path).is_ok());
        if compatible {
            std::fs::copy(&final_path, &temp_path)
                .map_err(|e| AdvisoryError::io("copy the advisory database to", &temp_path, e))?;
            fresh = false;
        } else {
            summary.rebuilt = true;
        }
    }

    let conn = Connection::open(&temp_path).map_err(|e| AdvisoryError::sqlite("create", &temp_path, e))?;
    let sql = |action: &'static str| {
        let path = temp_path.clone();
        move |e| AdvisoryError::sqlite(action, path.clone(), e)
    };
    // Durability comes from the rename, not from SQLite's journal: the file is
    // not visible until it is complete and synced.
    conn.execute_batch("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -65536;")
        .map_err(sql("configure"))?;
    if fresh {
        store::create_schema(&conn, &temp_path)?;
    }
    conn.execute_batch("BEGIN").map_err(sql("start a transaction on"))?;
    if fresh && !options.without_baseline {
        for (name, text) in crate::baseline::FILES {
            let parsed = record::parse(text.as_bytes()).map_err(|reason| AdvisoryError::Baseline {
                file: (*name).to_string(),
                reason,
            })?;
            if let Parsed::Record { record, .. } = parsed {
                store::upsert(&conn, &record).map_err(sql("write"))?;
            }
        }
    }
    let mut total_bytes = 0u64;
    for source in sources {
        read_source(&conn, source, &options, &mut summary, &mut total_bytes)?;
    }
    if let Some(progress) = options.progress {
        progress(ImportProgress::Finishing);
    }
    let now = time::OffsetDateTime::now_utc().format(&Rfc3339).unwrap_or_default();
    store::set_meta(&conn, &temp_path, "imported_at", &now)?;
    for (key, value) in meta {
        store::set_meta(&conn, &temp_path, key, value)?;
    }
    store::write_name_filter(&conn).map_err(sql("index"))?;
    store::write_statistics(&conn, &temp_path)?;
    conn.execute_batch("COMMIT").map_err(sql("commit"))?;
    let total: i64 = conn
        .query_row("SELECT COUNT(*) FROM advisory", [], |row| row.get(0))
        .map_err(sql("count"))?;
    summary.total = u64::try_from(total).unwrap_or(0);
    conn.close()
        .map_err(|(_, e)| AdvisoryError::sqlite("close", &temp_path, e))?;

    temp.as_file()
        .sync_all()
        .map_err(|e| AdvisoryError::io("flush", &temp_path, e))?;
    temp.persist(&final_path)
        .map_err(|e| AdvisoryError::io("replace the advisory database with", &final_path, e.error))?;
    // Make the rename itself durable; a failure here is not worth failing the import.
    if let Ok(dir) = File::open(home) {
        let _ = dir.sync_all();
    }
    summary.elapsed = started.elapsed();
    Ok(summary)
}

fn read_source(
    conn: &Connection,
    source: &Path,
    options: &ImportOptions<'_>,
    summary: &mut ImportSummary,
    total_bytes: &mut u64,
) -> Result<(), AdvisoryError> {
    let metadata = std::fs::metadata(source).map_err(|e| AdvisoryError::io("read", source, e))?;
    if metadata.is_dir() {
        return read_directory(conn, source, options, summary, total_bytes);
    }
    let mut magic = [0u8; 4];
    let mut file = File::open(source).map_err(|e| AdvisoryError::io("open", source, e))?;
    let read = file
        .read(&mut magic)
        .map_err(|e| AdvisoryError::io("read", source, e))?;
    if read == 4 && &magic[..2] == b"PK" {
        return read_zip(conn, source, options, summary, total_bytes);
    }
    let is_json = source.extension().is_some_and(|ext| ext.eq_ignore_ascii_case("json"));
    if !is_json {
        return Err(AdvisoryError::UnknownSource {
            path: source.to_path_buf(),
        });
    }
    if let Some(progress) = options.progress {
        progress(ImportProgress::Source {
            path: source,
            entries: Some(1),
        });
    }
    read_json_file(conn, source, options, summary, total_bytes)
}

fn read_directory(
    conn: &Connection,
    root: &Path,
    options: &ImportOptions<'_>,
    summary: &mut ImportSummary,
    total_bytes: &mut u64,
) -> Result<(), AdvisoryError> {
    if let Some(progress) = options.progress {
        progress(ImportProgress::Source {
            path: root,
            entries: None,
        });
    }
    // Symlinks are not followed: no loops, no escaping the directory given.
    let walker = walkdir::WalkDir::new(root)
        .follow_links(false)
        .max_depth(64)
        .sort_by_file_name();
    let mut done = 0u64;
    for entry in walker {
        let entry = entry.map_err(|e| {
            let path = e.path().unwrap_or(root).to_path_buf();
            AdvisoryError::io("walk", path, std::io::Error::other(e.to_string()))
        })?;
        let is_json = entry
            .path()
            .extension()
            .is_some_and(|ext| ext.eq_ignore_ascii_case("json"));
        if !entry.file_type().is_file() || !is_json {
            continue;
        }
        read_json_file(conn, entry.path(), options, summary, total_bytes)?;
        done += 1;
        if done % 1000 == 0 {
            if let Some(progress) = options.progress {
                progress(ImportProgress::Records { done });
            }
        }
    }
    Ok(())
}

fn read_json_file(
    conn: &Connection,
    path: &Path,
    options: &ImportOptions<'_>,
    summary: &mut ImportSummary,
    total_bytes: &mut u64,
) -> Result<(), AdvisoryError> {
    let file = File::open(path).map_err(|e| AdvisoryError::io("open", path, e))?;
    let mut bytes = Vec::new();
    let limit = options.limits.max_entry_bytes;
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| AdvisoryError::io("read", path, e))?;
    let label = path.display().to_string();
    account(path, bytes.len() as u64, &options.limits, total_bytes)?;
    if bytes.len() as u64 > limit {
        summary.records_read += 1;
        summary.skip(format!("{label}: larger than {limit} bytes"));
        return Ok(());
    }
    ingest(conn, path, &label, &bytes, summary)
}

fn read_zip(
    conn: &Connection,
    path: &Path,
    options: &ImportOptions<'_>,
    summary: &mut ImportSummary,
    total_bytes: &mut u64,
) -> Result<(), AdvisoryError> {
    let zip_error = |source| AdvisoryError::Zip {
        path: path.to_path_buf(),
        source,
    };
    let mut file = File::open(path).map_err(|e| AdvisoryError::io("open", path, e))?;
    // The zip reader loads the whole central directory before we can count
    // entries, so check the count the archive declares first: a small hostile
    // zip must not make us allocate millions of entry records.
    if let Some(declared) = declared_entries(&mut file).map_err(|e| AdvisoryError::io("read", path, e))? {
        if declared > options.limits.max_entries as u64 {
            return Err(AdvisoryError::Limit {
                path: path.to_path_buf(),
                reason: format!(
                    "{declared} entries, more than the limit of {}",
                    options.limits.max_entries
                ),
            });
        }
    }
    file.seek(SeekFrom::Start(0))
        .map_err(|e| AdvisoryError::io("read", path, e))?;
    let mut archive = zip::ZipArchive::new(BufReader::new(file)).map_err(zip_error)?;
    let entries = archive.len();
    if entries > options.limits.max_entries {
        return Err(AdvisoryError::Limit {
            path: path.to_path_buf(),
            reason: format!(
                "{entries} entries, more than the limit of {}",
                options.limits.max_entries
            ),
        });
    }
    if let Some(progress) = options.progress {
        progress(ImportProgress::Source {
            path,
            entries: Some(entries as u64),
        });
    }
    let limit = options.limits.max_entry_bytes;
    let mut bytes = Vec::new();
    for index in 0..entries {
        let mut entry = archive.by_index(index).map_err(zip_error)?;
        // The name is only used in messages; nothing is written to disk.
        let name = String::from_utf8_lossy(entry.name_raw()).into_owned();
        if entry.is_dir() || !name.to_ascii_lowercase().ends_with(".json") {
            continue;
        }
        let label = format!("{}:{name}", path.display());
        if entry.size() > limit {
            summary.records_read += 1;
            summary.skip(format!(
                "{label}: declares {} bytes, more than the limit of {limit}",
                entry.size()
            ));
            continue;
        }
        bytes.clear();
        // The declared size can lie; cap what is actually inflated too.
        (&mut entry).take(limit + 1).read_to_end(&mut bytes).map_err(|e| {
            AdvisoryError::io(
                "decompress an entry of",
                path,
                std::io::Error::other(format!("{name}: {e}")),
            )
        })?;
        account(path, bytes.len() as u64, &options.limits, total_bytes)?;
        if bytes.len() as u64 > limit {
            summary.records_read += 1;
            summary.skip(format!("{label}: larger than {limit} bytes"));
            continue;
        }
        ingest(conn, path, &label, &bytes, summary)?;
        if (index + 1) % 1000 == 0 {
            if let Some(progress) = options.progress {
                progress(ImportProgress::Records { done: index as u64 + 1 });
            }
        }
    }
    Ok(())
}

/// The entry count in the zip's end-of-central-directory record (APPNOTE.TXT
/// § 4.3.16, and § 4.3.14–15 for zip64), or `None` when there is no such record
/// (the zip reader then reports the archive as invalid).
fn declared_entries(file: &mut File) -> std::io::Result<Option<u64>> {
    const EOCD: [u8; 4] = [0x50, 0x4b, 0x05, 0x06];
    const ZIP64_LOCATOR: [u8; 4] = [0x50, 0x4b, 0x06, 0x07];
    const ZIP64_EOCD: [u8; 4] = [0x50, 0x4b, 0x06, 0x06];
    let length = file.metadata()?.len();
    // EOCD is 22 bytes plus a comment of at most 65,535 bytes.
    let tail_length = length.min(22 + 65_535);
    let mut tail = vec![0u8; tail_length as usize];
    file.seek(SeekFrom::Start(length - tail_length))?;
    file.read_exact(&mut tail)?;
    let Some(position) = (0..tail.len().saturating_sub(21))
        .rev()
        .find(|&i| tail[i..i + 4] == EOCD)
    else {
        return Ok(None);
    };
    let entries = u64::from(u16::from_le_bytes([tail[position + 10], tail[position + 11]]));
    if entries != 0xFFFF || position < 20 || tail[position - 20..position - 16] != ZIP64_LOCATOR {
        return Ok(Some(entries));
    }
    let locator = &tail[position - 20..position];
    let mut offset = [0u8; 8];
    offset.copy_from_slice(&locator[8..16]);
    let zip64_offset = u64::from_le_bytes(offset);
    if zip64_offset.saturating_add(56) > length {
        return Ok(Some(u64::MAX));
    }
    let mut record = [0u8; 56];
    file.seek(SeekFrom::Start(zip64_offset))?;
    file.read_exact(&mut record)?;
    if record[..4] != ZIP64_EOCD {
        return Ok(Some(u64::MAX));
    }
    let mut count = [0u8; 8];
    count.copy_from_slice(&record[32..40]);
    Ok(Some(u64::from_le_bytes(count)))
}

fn account(path: &Path, bytes: u64, limits: &Limits, total_bytes: &mut u64) -> Result<(), AdvisoryError> {
    *total_bytes += bytes;
    if *total_bytes > limits.max_total_bytes {
        return Err(AdvisoryError::Limit {
            path: path.to_path_buf(),
            reason: format!("more than {} bytes of records in total", limits.max_total_bytes),
        });
    }
    Ok(())
}

fn ingest(
    conn: &Connection,
    path: &Path,
    label: &str,
    bytes: &[u8],
    summary: &mut ImportSummary,
) -> Result<(), AdvisoryError> {
    summary.records_read += 1;
    let write_error = |e| AdvisoryError::sqlite("write records from", path, e);
    match record::parse(bytes) {
        Err(reason) => summary.skip(format!("{label}: {reason}")),
        Ok(Parsed::NotNpm) => summary.not_npm += 1,
        Ok(Parsed::Withdrawn { id, modified_ts }) => {
            summary.withdrawn += 1;
            store::withdraw(conn, &id, modified_ts).map_err(write_error)?;
        }
        Ok(Parsed::Record { record, invalid_ranges }) => {
            summary.invalid_ranges += invalid_ranges as u64;
            match store::upsert(conn, &record).map_err(write_error)? {
                Upsert::Inserted | Upsert::Replaced => summary.imported += 1,
                Upsert::Kept => summary.unchanged += 1,
            }
        }
    }
    Ok(())
}
