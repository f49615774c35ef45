use thiserror::Error;

/// Why a lockfile could not be read. A package the extractor did not
/// understand is not an error but a [`Warning`](palisade_core::Warning).
#[derive(Debug, Error)]
pub enum LockfileError {
    #[error("failed to read `{path}`")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("`{path}` is {size} bytes, over the {limit}-byte limit for a lockfile")]
    TooLarge { path: String, size: u64, limit: u64 },
    /// The text is not valid JSON/YAML/yarn syntax. Lines and columns are 1-based.
    #[error("failed to parse `{path}` at line {line}, column {column}: {message}")]
    Syntax {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
    /// Well-formed text whose structure is not what the format requires.
    #[error("`{path}`{}: {message}", line.map(|l| format!(" line {l}")).unwrap_or_default())]
    Invalid {
        path: String,
        line: Option<usize>,
        message: String,
    },
    #[error("`{path}` has lockfile version {found}, which Palisade does not read (supported: {supported})")]
    UnsupportedVersion {
        path: String,
        found: String,
        supported: &'static str,
    },
    #[error("`{path}` is not a lockfile Palisade recognises (expected one of package-lock.json, npm-shrinkwrap.json, yarn.lock, pnpm-lock.yaml, bun.lock)")]
    Unrecognised { path: String },
}

impl LockfileError {
    /// The file the error is about.
    pub fn path(&self) -> &str {
        match self {
            LockfileError::Io { path, .. }
            | LockfileError::TooLarge { path, .. }
            | LockfileError::Syntax { path, .. }
            | LockfileError::Invalid { path, .. }
            | LockfileError::UnsupportedVersion { path, .. }
            | LockfileError::Unrecognised { path } => path,
        }
    }
}
