//! The baseline: real OSV records compiled into the binary (see
//! `baseline/README.md` for what each file is and where it comes from), so
//! `palisade audit` knows the notable npm compromises before any sync.

use rusqlite::Connection;
use std::path::Path;

use crate::record::{self, Parsed};
use crate::{store, AdvisoryError};

/// `(file name, JSON text)` of every baseline record.
pub(crate) const FILES: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/baseline_files.rs"));

/// Builds the baseline index in memory.
pub(crate) fn build() -> Result<Connection, AdvisoryError> {
    let label = Path::new("<embedded baseline>");
    let conn = Connection::open_in_memory().map_err(|e| AdvisoryError::sqlite("create", label, e))?;
    store::create_schema(&conn, label)?;
    conn.execute_batch("BEGIN")
        .map_err(|e| AdvisoryError::sqlite("write", label, e))?;
    for (name, text) in FILES {
        let parsed = record::parse(text.as_bytes()).map_err(|reason| AdvisoryError::Baseline {
            file: (*name).to_string(),
            reason,
        })?;
        match parsed {
            Parsed::Record { record, .. } => {
                store::upsert(&conn, &record).map_err(|e| AdvisoryError::sqlite("write", label, e))?;
            }
            Parsed::Withdrawn { .. } | Parsed::NotNpm => {
                return Err(AdvisoryError::Baseline {
                    file: (*name).to_string(),
                    reason: "not a live npm record".into(),
                })
            }
        }
    }
    store::write_name_filter(&conn).map_err(|e| AdvisoryError::sqlite("index", label, e))?;
    store::set_meta(&conn, label, "baseline", "true")?;
    store::write_statistics(&conn, label)?;
    conn.execute_batch("COMMIT")
        .map_err(|e| AdvisoryError::sqlite("write", label, e))?;
    Ok(conn)
}
