use thiserror::Error;

/// Why an SBOM could not be read or written.
#[derive(Debug, Error)]
pub enum SbomError {
    #[error("failed to read `{path}`")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("`{path}` is {size} bytes, over the {limit}-byte limit for an SBOM")]
    TooLarge { path: String, size: u64, limit: u64 },
    /// Not JSON. Lines and columns are 1-based.
    #[error("failed to parse `{path}` at line {line}, column {column}: {message}")]
    Syntax {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
    /// JSON, but neither CycloneDX nor SPDX.
    #[error("`{path}` is not a CycloneDX or SPDX JSON document (expected `bomFormat: \"CycloneDX\"` or `spdxVersion: \"SPDX-2.x\"`)")]
    Unrecognised { path: String },
    #[error("`{path}` is {format} {found}, which Palisade does not read (supported: {supported})")]
    UnsupportedVersion {
        path: String,
        format: &'static str,
        found: String,
        supported: &'static str,
    },
    /// Well-formed JSON whose structure is not what the specification requires.
    #[error("`{path}`: {message}")]
    Invalid { path: String, message: String },
    #[error("failed to serialise the SBOM")]
    Serialise(#[source] serde_json::Error),
}

impl SbomError {
    /// The file the error is about (empty for [`SbomError::Serialise`]).
    pub fn path(&self) -> &str {
        match self {
            SbomError::Io { path, .. }
            | SbomError::TooLarge { path, .. }
            | SbomError::Syntax { path, .. }
            | SbomError::Unrecognised { path }
            | SbomError::UnsupportedVersion { path, .. }
            | SbomError::Invalid { path, .. } => path,
            SbomError::Serialise(_) => "",
        }
    }
}
