//! What the analyzer extracts from one file: the vocabulary every rule works with.
//!
//! Callees and member paths are canonical: module aliases are resolved
//! (`const cp = require('node:child_process'); cp.exec(x)` → `child_process.exec`,
//! `import { exec } from 'child_process'` → `child_process.exec`), globals keep their
//! name (`eval`, `fetch`, `Function`, `process.env`), `new X(...)` is a call with
//! `is_new`. Values are constant-folded where the analyzer can (concatenation, template
//! literals, `Buffer.from(…,'base64'|'hex').toString()`, `atob`, `String.fromCharCode`,
//! `[…].join('')`, `.split('').reverse().join('')`, escapes, `const` bindings); a folded
//! value that went through a decoder carries `decoded: true`. `os.homedir()`,
//! `process.env.HOME` and `process.env.USERPROFILE` fold to `~` so paths read as `~/.npmrc`.

use serde::Serialize;

/// What kind of file this is, by name and content sniffing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FileKind {
    JavaScript,
    TypeScript,
    Json,
    Shell,
    PowerShell,
    /// ELF, PE or Mach-O.
    NativeExecutable,
    Image,
    /// Other binary data (invalid UTF-8 or NUL bytes).
    Binary,
    Text,
}

/// A constant-folded (or not) value.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Value {
    Str { value: String, decoded: bool },
    Num { value: f64 },
    Bool { value: bool },
    /// An object literal: its keys (string or identifier) and folded values.
    Object { entries: Vec<(String, Value)> },
    Array { items: Vec<Value> },
    /// A member path that resolves to something known (`process.env`, `os.homedir`).
    Member { path: String },
    /// The result of calling something: `callee` is canonical.
    CallResult { callee: String },
    /// A function expression or arrow function.
    Function,
    /// An identifier the analyzer could not resolve.
    Ident { name: String },
    Unknown,
}

impl Value {
    /// The string, when this is a known string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str { value, .. } => Some(value),
            _ => None,
        }
    }

    pub fn is_decoded(&self) -> bool {
        matches!(self, Value::Str { decoded: true, .. })
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Call {
    /// Canonical callee: `child_process.exec`, `eval`, `fetch`, `https.request`,
    /// `fs.writeFileSync`, `require`, `import` (dynamic import), `Function` (with
    /// `is_new`), `XMLHttpRequest.prototype.open.apply`, `?.send` for an unknown receiver.
    pub callee: String,
    pub args: Vec<Value>,
    pub is_new: bool,
    pub line: u32,
    pub column: u32,
    /// The source text of the call, single line, bounded.
    pub excerpt: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Assignment {
    /// Canonical target: `window.fetch`, `XMLHttpRequest.prototype.send`,
    /// `window.ethereum.request`, `module.exports`, `process.env.X`.
    pub target: String,
    pub value: Value,
    pub line: u32,
    pub excerpt: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct MemberRead {
    /// Canonical path read: `process.env`, `process.env.NPM_TOKEN`, `os.homedir`.
    pub path: String,
    /// True when the whole object is used as a value (serialised, iterated, spread, passed
    /// to a function), not just one property read from it.
    pub whole: bool,
    pub line: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct StrConst {
    pub value: String,
    pub decoded: bool,
    pub line: u32,
}

/// Text metrics for obfuscation and minification decisions.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Metrics {
    pub bytes: usize,
    pub lines: usize,
    pub max_line_len: usize,
    pub identifiers: usize,
    /// Identifiers shaped like `_0x1a2b3c`.
    pub hex_identifiers: usize,
    /// Longest array literal made only of string literals.
    pub max_string_array: usize,
    /// Shannon entropy (bits/char) of the concatenated string literals.
    pub string_entropy: f64,
    /// String literals longer than 200 characters that look like base64 or hex.
    pub long_encoded_strings: usize,
    /// Share of the text that is only `[]()!+` (JSFuck).
    pub jsfuck_ratio: f64,
    /// Looks like the output of a minifier (long lines, short identifiers, few comments).
    pub minified: bool,
}

/// Everything the rules see of one file.
#[derive(Debug, Clone, Serialize)]
pub struct FileFacts {
    pub path: String,
    pub kind: FileKind,
    pub size: u64,
    pub mode: u32,
    /// Whether oxc parsed it (JavaScript/TypeScript only).
    pub parsed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parse_error: Option<String>,
    /// The text (lossy UTF-8) for textual rules; `None` for binary files.
    #[serde(skip)]
    pub text: Option<String>,
    pub calls: Vec<Call>,
    pub assignments: Vec<Assignment>,
    pub member_reads: Vec<MemberRead>,
    pub strings: Vec<StrConst>,
    /// Module specifiers imported/required with a known (folded) value.
    pub imports: Vec<String>,
    pub metrics: Metrics,
}

impl FileFacts {
    /// The 1-based line's text, bounded, for evidence.
    pub fn line_text(&self, line: u32) -> Option<String> {
        let text = self.text.as_deref()?;
        let line = text.lines().nth(line.checked_sub(1)? as usize)?;
        Some(palisade_core::bounded_excerpt(line, 200))
    }

    /// Calls whose canonical callee is one of `names`.
    pub fn calls_to<'a>(&'a self, names: &'a [&'a str]) -> impl Iterator<Item = &'a Call> + 'a {
        self.calls.iter().filter(move |c| names.contains(&c.callee.as_str()))
    }
}

/// Extracts facts from one file. Never panics, bounded in time and memory.
pub fn extract(path: &str, data: &[u8], mode: u32) -> FileFacts {
    let text = std::str::from_utf8(data).ok().map(str::to_string);
    FileFacts {
        path: path.to_string(),
        kind: if text.is_some() { FileKind::Text } else { FileKind::Binary },
        size: data.len() as u64,
        mode,
        parsed: false,
        parse_error: None,
        text,
        calls: Vec::new(),
        assignments: Vec::new(),
        member_reads: Vec::new(),
        strings: Vec::new(),
        imports: Vec::new(),
        metrics: Metrics::default(),
    }
}
