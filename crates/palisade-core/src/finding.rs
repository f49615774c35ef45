//! Findings of the package analyzers (static and dynamic) and the verdict they add up to.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::Severity;

/// What a package as a whole is judged to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Clean,
    Suspicious,
    Malicious,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Clean => "clean",
            Verdict::Suspicious => "suspicious",
            Verdict::Malicious => "malicious",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How sure a rule is that what it matched is what it looks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

impl Confidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }
}

/// A kind of power a package uses. Reported per package so a reviewer sees at a glance
/// that, say, a colour library now talks to the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Capability {
    Network,
    Shell,
    Filesystem,
    Env,
    Eval,
    InstallScript,
    Native,
    Obfuscation,
    Credentials,
    Persistence,
    Publish,
    Destructive,
    Wallet,
}

impl Capability {
    pub fn as_str(self) -> &'static str {
        match self {
            Capability::Network => "network",
            Capability::Shell => "shell",
            Capability::Filesystem => "filesystem",
            Capability::Env => "env",
            Capability::Eval => "eval",
            Capability::InstallScript => "install-script",
            Capability::Native => "native",
            Capability::Obfuscation => "obfuscation",
            Capability::Credentials => "credentials",
            Capability::Persistence => "persistence",
            Capability::Publish => "publish",
            Capability::Destructive => "destructive",
            Capability::Wallet => "wallet",
        }
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One piece of evidence: which rule matched, where, and what it saw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable rule id, e.g. `install-script-download`. `palisade explain RULE` documents it.
    pub rule: String,
    pub severity: Severity,
    pub confidence: Confidence,
    /// Path inside the package (`index.js`, `package.json`), when the finding has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// 1-based line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// 1-based column.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
    /// One sentence a developer understands.
    pub message: String,
    /// A short excerpt of the code or data that matched (bounded, single line).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub capabilities: Vec<Capability>,
}

impl Finding {
    pub fn new(
        rule: impl Into<String>,
        severity: Severity,
        confidence: Confidence,
        message: impl Into<String>,
    ) -> Self {
        Finding {
            rule: rule.into(),
            severity,
            confidence,
            file: None,
            line: None,
            column: None,
            message: message.into(),
            evidence: None,
            capabilities: Vec::new(),
        }
    }

    pub fn at(mut self, file: impl Into<String>, line: Option<u32>) -> Self {
        self.file = Some(file.into());
        self.line = line;
        self
    }

    pub fn with_evidence(mut self, evidence: impl AsRef<str>) -> Self {
        self.evidence = Some(bounded_excerpt(evidence.as_ref(), 200));
        self
    }

    pub fn with_capabilities(mut self, capabilities: &[Capability]) -> Self {
        self.capabilities.extend_from_slice(capabilities);
        self
    }
}

/// A single-line excerpt of at most `max` characters (whitespace collapsed, `…` when cut).
pub fn bounded_excerpt(text: &str, max: usize) -> String {
    let mut out = String::new();
    let mut count = 0;
    let mut last_space = false;
    for ch in text.chars() {
        let ch = if ch.is_whitespace() { ' ' } else { ch };
        if ch == ' ' && last_space {
            continue;
        }
        last_space = ch == ' ';
        if count == max {
            out.push('…');
            break;
        }
        out.push(ch);
        count += 1;
    }
    out.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpt_is_single_line_and_bounded() {
        assert_eq!(bounded_excerpt("a\n\n  b", 10), "a b");
        assert_eq!(bounded_excerpt("abcdef", 3), "abc…");
    }

    #[test]
    fn verdicts_order_by_badness() {
        assert!(Verdict::Malicious > Verdict::Suspicious && Verdict::Suspicious > Verdict::Clean);
        assert_eq!(
            serde_json::to_string(&Capability::InstallScript).unwrap_or_default(),
            "\"install-script\""
        );
    }
}
