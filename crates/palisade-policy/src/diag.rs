//! Diagnostics: what a check found, with a stable code and labels pointing
//! into the user's files (the lockfile, package.json, palisade.toml).

use palisade_core::{PackageId, Severity};
use serde::Serialize;

/// Whether a diagnostic fails the check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Note,
    Warning,
    Error,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Note => "note",
            Level::Warning => "warning",
            Level::Error => "error",
        }
    }
}

/// A diagnostic code: stable forever once released (scripts and SARIF alert
/// tracking key on it), with a one-line description.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Code {
    pub code: &'static str,
    /// The check (module) that emits it.
    pub check: &'static str,
    pub description: &'static str,
}

/// A place in a file the diagnostic is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Label {
    pub file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl Label {
    pub fn new(file: impl Into<String>, line: Option<u32>) -> Self {
        Label {
            file: file.into(),
            line,
            column: None,
            message: None,
        }
    }

    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub code: &'static str,
    pub level: Level,
    /// How bad it is for security tooling (SARIF `security-severity`):
    /// malicious is critical, a vulnerability has its own severity.
    pub severity: Severity,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package: Option<PackageId>,
    /// Dependency paths from the project to the package, shortest first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,
    /// The first label is the primary location.
    pub labels: Vec<Label>,
}

impl Diagnostic {
    pub fn new(code: &Code, level: Level, severity: Severity, message: impl Into<String>) -> Self {
        Diagnostic {
            code: code.code,
            level,
            severity,
            message: message.into(),
            help: None,
            package: None,
            paths: Vec::new(),
            labels: Vec::new(),
        }
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn package(mut self, package: PackageId) -> Self {
        self.package = Some(package);
        self
    }

    pub fn paths(mut self, paths: Vec<String>) -> Self {
        self.paths = paths;
        self
    }

    pub fn label(mut self, label: Label) -> Self {
        self.labels.push(label);
        self
    }
}

/// Every code of every check, in check order.
pub fn all_codes() -> Vec<Code> {
    [
        crate::advisories::diags::CODES,
        crate::pinning::diags::CODES,
        crate::sources::diags::CODES,
        crate::install_scripts::diags::CODES,
        crate::release_age::diags::CODES,
        crate::bans::diags::CODES,
        crate::scan::diags::CODES,
    ]
    .concat()
}

/// The description of a code, for renderers (SARIF rules).
pub fn describe(code: &str) -> Option<Code> {
    all_codes().into_iter().find(|c| c.code == code)
}
