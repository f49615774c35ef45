//! Exit codes (DESIGN.md) and the error type every command returns.

use std::fmt::Display;

/// Nothing at or above `--fail-on` was found.
pub const CLEAN: u8 = 0;
/// Findings at or above `--fail-on`.
pub const FINDINGS: u8 = 1;
/// Usage or input error: bad arguments, unreadable or partly understood lockfile, bad config.
pub const USAGE: u8 = 2;
/// A bug or an environment failure that is not the user's input.
pub const INTERNAL: u8 = 3;

/// How a command that ran to completion ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Clean,
    Findings,
    /// The command produced output but the input was only partly understood.
    Partial,
}

impl Outcome {
    pub fn code(self) -> u8 {
        match self {
            Outcome::Clean => CLEAN,
            Outcome::Findings => FINDINGS,
            Outcome::Partial => USAGE,
        }
    }
}

/// An error with the exit code it maps to and an optional hint for the user.
#[derive(Debug)]
pub struct CliError {
    pub code: u8,
    pub error: anyhow::Error,
    pub hint: Option<String>,
}

impl CliError {
    /// The user's input or arguments are at fault (exit 2).
    pub fn input(error: impl Into<anyhow::Error>) -> Self {
        Self {
            code: USAGE,
            error: error.into(),
            hint: None,
        }
    }

    /// Something went wrong that the user did not cause (exit 3).
    pub fn internal(error: impl Into<anyhow::Error>) -> Self {
        Self {
            code: INTERNAL,
            error: error.into(),
            hint: None,
        }
    }

    pub fn with_hint(mut self, hint: impl Display) -> Self {
        self.hint = Some(hint.to_string());
        self
    }

    /// `error: what failed` then one `  caused by:` line per source, then the hint.
    pub fn report(&self) {
        eprintln!("error: {}", self.error);
        for cause in self.error.chain().skip(1) {
            eprintln!("  caused by: {cause}");
        }
        if let Some(hint) = &self.hint {
            eprintln!("hint: {hint}");
        }
    }
}
