//! Errors of the advisory database. Each names the file or URL and what was
//! being done to it, so the CLI can print it as is.

use std::path::PathBuf;

/// Everything that can go wrong opening, querying, importing or syncing the
/// advisory database.
///
/// A bad record inside a good source is *not* an error: it is skipped and
/// reported in [`crate::ImportSummary::skipped`].
#[derive(Debug, thiserror::Error)]
pub enum AdvisoryError {
    #[error("failed to {action} `{path}`: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("failed to {action} advisory database `{path}`: {source}")]
    Sqlite {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },

    #[error(
        "advisory database `{path}` has schema version {found}, this palisade understands version {expected}\nhint: run `palisade db sync` (or `palisade db import <zip>`) to rebuild it"
    )]
    SchemaVersion { path: PathBuf, found: i64, expected: i64 },

    #[error("`{path}` is not a Palisade advisory database ({reason})\nhint: run `palisade db sync` (or `palisade db import <zip>`) to rebuild it")]
    NotADatabase { path: PathBuf, reason: String },

    #[error("failed to read zip archive `{path}`: {source}")]
    Zip {
        path: PathBuf,
        #[source]
        source: zip::result::ZipError,
    },

    #[error("refusing to import `{path}`: {reason}")]
    Limit { path: PathBuf, reason: String },

    #[error("`{path}` is neither a zip archive, a directory nor a .json file")]
    UnknownSource { path: PathBuf },

    #[error("failed to download advisories from `{url}`: {reason}")]
    Download { url: String, reason: String },

    #[error("the embedded baseline advisory `{file}` is invalid: {reason}")]
    Baseline { file: String, reason: String },
}

impl AdvisoryError {
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        AdvisoryError::Io {
            action,
            path: path.into(),
            source,
        }
    }

    pub(crate) fn sqlite(action: &'static str, path: impl Into<PathBuf>, source: rusqlite::Error) -> Self {
        AdvisoryError::Sqlite {
            action,
            path: path.into(),
            source,
        }
    }
}
