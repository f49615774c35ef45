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

mod classify;
mod decode;
mod text;
mod walk;

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
    Str {
        value: String,
        decoded: bool,
    },
    Num {
        value: f64,
    },
    Bool {
        value: bool,
    },
    /// An object literal: its keys (string or identifier) and folded values.
    Object {
        entries: Vec<(String, Value)>,
    },
    Array {
        items: Vec<Value>,
    },
    /// A member path that resolves to something known (`process.env`, `os.homedir`).
    Member {
        path: String,
    },
    /// The result of calling something: `callee` is canonical.
    CallResult {
        callee: String,
    },
    /// A function expression or arrow function.
    Function,
    /// An identifier the analyzer could not resolve.
    Ident {
        name: String,
    },
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
    /// What kind of sink the call is (`rules::flag` bits), decided once when it is recorded.
    #[serde(skip)]
    pub(crate) flags: u8,
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
    /// Deepest bracket nesting (plus prefix-operator runs) seen by the text pre-scan.
    pub max_nesting: usize,
    /// Some facts were not recorded because a per-file cap was reached (calls, strings,
    /// fold budget, walk depth). Rules should treat the facts as incomplete.
    pub facts_truncated: bool,
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
    /// Views the rules share, computed on first use (see [`FileFacts::lower_strings`]).
    #[serde(skip)]
    pub(crate) derived: Derived,
}

/// Views of one file that several rules need, computed once on first use. (Whole-text
/// searches ignoring case go through `signals::found_ignore_ascii_case`, a block at a time,
/// rather than a lower-cased copy of the text.)
#[derive(Debug, Clone, Default)]
pub(crate) struct Derived {
    lower_strings: std::sync::OnceLock<Vec<(u32, String)>>,
    strings_blob: std::sync::OnceLock<Blob>,
    lower_strings_blob: std::sync::OnceLock<Blob>,
    excerpts_blob: std::sync::OnceLock<Blob>,
    string_marks: std::sync::OnceLock<crate::rules::StringMarks>,
}

/// Many short texts joined into one and lower-cased (ASCII), so that a needle list is searched
/// with one vectorised `memmem` pass per needle (`rules::signals::Needles::items`) instead of
/// one call per text: in a minified bundle with 60,000 string literals the per-call overhead
/// was most of the cost.
#[derive(Debug, Clone, Default)]
pub(crate) struct Blob {
    /// The items, ASCII lower-cased, each followed by a NUL byte.
    text: String,
    /// Where each item starts in `text` (items are separated by a NUL byte).
    starts: Vec<usize>,
}

impl Blob {
    pub(crate) fn new<'a>(items: impl Iterator<Item = &'a str> + Clone) -> Blob {
        let (count, bytes) = items.clone().fold((0, 0), |(n, b), item| (n + 1, b + item.len() + 1));
        let mut blob = Blob {
            text: String::with_capacity(bytes),
            starts: Vec::with_capacity(count),
        };
        for item in items {
            blob.starts.push(blob.text.len());
            blob.text.push_str(item);
            blob.text.push('\0');
        }
        blob.text.make_ascii_lowercase();
        blob
    }

    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    /// The number of items.
    pub(crate) fn len(&self) -> usize {
        self.starts.len()
    }

    /// The item that byte `offset` of the text belongs to.
    pub(crate) fn item_at(&self, offset: usize) -> usize {
        self.starts.partition_point(|start| *start <= offset).saturating_sub(1)
    }
}

#[cfg(test)]
impl Call {
    /// A call to `callee` with no arguments at line 1, unclassified (`flags` 0), for tests.
    pub(crate) fn bare(callee: &str) -> Call {
        Call {
            callee: callee.to_string(),
            args: Vec::new(),
            is_new: false,
            line: 1,
            column: 1,
            excerpt: String::new(),
            flags: 0,
        }
    }
}

impl FileFacts {
    /// The 1-based line's text, bounded, for evidence.
    pub fn line_text(&self, line: u32) -> Option<String> {
        let text = self.text.as_deref()?;
        let line = text.lines().nth(line.checked_sub(1)? as usize)?;
        Some(palisade_core::bounded_excerpt(line, 200))
    }

    /// The string constants lower-cased, each followed by its base64-decoded text when it
    /// decodes to a printable word (`rules::lower_strings_with_decoded`), computed once.
    pub(crate) fn lower_strings(&self) -> &[(u32, String)] {
        self.derived
            .lower_strings
            .get_or_init(|| crate::rules::lower_strings_with_decoded(&self.strings))
    }

    /// The string constants' values as one [`Blob`] (item `i` is `strings[i]`).
    pub(crate) fn strings_blob(&self) -> &Blob {
        self.derived
            .strings_blob
            .get_or_init(|| Blob::new(self.strings.iter().map(|s| s.value.as_str())))
    }

    /// The calls' excerpts as one [`Blob`] (item `i` is `calls[i].excerpt`).
    pub(crate) fn excerpts_blob(&self) -> &Blob {
        self.derived
            .excerpts_blob
            .get_or_init(|| Blob::new(self.calls.iter().map(|c| c.excerpt.as_str())))
    }

    /// Which string constants name a credential path, a start-up location or the runner
    /// (`rules::StringMarks`), found once for all the rules that ask.
    pub(crate) fn string_marks(&self) -> &crate::rules::StringMarks {
        self.derived
            .string_marks
            .get_or_init(|| crate::rules::string_marks(self.strings_blob()))
    }

    /// [`FileFacts::lower_strings`] as one [`Blob`] (item `i` is `lower_strings()[i]`).
    pub(crate) fn lower_strings_blob(&self) -> &Blob {
        self.derived
            .lower_strings_blob
            .get_or_init(|| Blob::new(self.lower_strings().iter().map(|(_, s)| s.as_str())))
    }

    /// The calls whose classification has any bit of `mask` (`rules::flag`).
    pub(crate) fn calls_flagged(&self, mask: u8) -> impl Iterator<Item = &Call> + '_ {
        self.calls.iter().filter(move |call| call.flags & mask != 0)
    }

    /// Calls whose canonical callee is one of `names`.
    pub fn calls_to<'a>(&'a self, names: &'a [&'a str]) -> impl Iterator<Item = &'a Call> + 'a {
        self.calls.iter().filter(move |c| names.contains(&c.callee.as_str()))
    }
}

/// Nesting deeper than this is refused before parsing: the file is kept for textual rules
/// with `parse_error` set. Real code stays far below (the deepest in popular packages are
/// generated parsers at a few hundred).
pub const MAX_NESTING: usize = 1_000;

/// Files at least this large (or nested deeper than [`INLINE_MAX_NESTING`]) are parsed on
/// a dedicated thread with a large stack: oxc's parser and the visitor recurse.
const INLINE_MAX_BYTES: usize = 2 * 1024;
const INLINE_MAX_NESTING: usize = 64;
const PARSE_STACK_BYTES: usize = 512 << 20;

/// Packages with at least this many bytes are extracted on rayon's pool, one file per task.
const PARALLEL_MIN_BYTES: usize = 1 << 20;

/// Extracts every file of a package, spreading large packages over rayon's thread pool
/// (files are independent; the order of the result is the order of `files`).
pub fn extract_all(files: &[palisade_tarball::PackageFile]) -> Vec<FileFacts> {
    let total: usize = files.iter().map(|f| f.data.len()).sum();
    if total < PARALLEL_MIN_BYTES || files.len() < 2 {
        return files.iter().map(|f| extract(&f.path, &f.data, f.mode)).collect();
    }
    use rayon::prelude::*;
    files.par_iter().map(|f| extract(&f.path, &f.data, f.mode)).collect()
}

/// Extracts facts from one file. Never panics, bounded in time and memory.
pub fn extract(path: &str, data: &[u8], mode: u32) -> FileFacts {
    extract_as(path, data, mode, classify::classify(path, data))
}

/// Extracts facts from text known to be JavaScript whatever its name says: the inline code of
/// a lifecycle script (`node -e "…"`), named after the script (`package.json#preinstall`).
pub fn extract_inline_js(path: &str, code: &str) -> FileFacts {
    extract_as(path, code.as_bytes(), 0o644, FileKind::JavaScript)
}

fn extract_as(path: &str, data: &[u8], mode: u32, kind: FileKind) -> FileFacts {
    let textual = !matches!(kind, FileKind::NativeExecutable | FileKind::Image | FileKind::Binary);
    // Textual kinds are valid UTF-8 without NUL bytes (classify checked).
    let text: Option<String> = if textual {
        let data = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
        std::str::from_utf8(data).ok().map(str::to_owned)
    } else {
        None
    };
    let mut facts = FileFacts {
        path: path.to_string(),
        kind,
        size: data.len() as u64,
        mode,
        parsed: false,
        parse_error: None,
        text: None,
        calls: Vec::new(),
        assignments: Vec::new(),
        member_reads: Vec::new(),
        strings: Vec::new(),
        imports: Vec::new(),
        metrics: Metrics {
            bytes: data.len(),
            ..Metrics::default()
        },
        derived: Derived::default(),
    };
    let Some(text) = text else { return facts };
    let scan = text::scan(&text);
    facts.metrics.lines = scan.lines();
    facts.metrics.max_line_len = scan.max_line_len;
    facts.metrics.max_nesting = scan.max_nesting;
    facts.metrics.jsfuck_ratio = if scan.non_space == 0 {
        0.0
    } else {
        scan.jsfuck_chars as f64 / scan.non_space as f64
    };
    if matches!(kind, FileKind::JavaScript | FileKind::TypeScript) {
        facts.metrics.minified = looks_minified(text.len(), scan.lines(), scan.max_line_len);
        if scan.max_nesting > MAX_NESTING {
            facts.parse_error = Some(format!(
                "nesting deeper than {MAX_NESTING} levels ({} found); the file was not parsed",
                scan.max_nesting
            ));
        } else {
            // A `#!` line below the first (after a comment) is a syntax error for oxc: the
            // parser sees a copy with such lines blanked, the rules the original text.
            let (parse_text, original) = match blank_late_shebangs(&text) {
                Some(blanked) => (blanked, Some(text)),
                None => (text, None),
            };
            let returned = analyze_ast(&mut facts, path, parse_text, scan);
            // The text comes back from the parse thread; should it not, decode it again.
            facts.text = original.or(returned).or_else(|| {
                let data = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
                std::str::from_utf8(data).ok().map(str::to_owned)
            });
            return facts;
        }
    }
    facts.text = Some(text);
    facts
}

/// `text` with every line that starts with `#!`, other than the first, replaced by spaces
/// (byte offsets, and so lines and columns, unchanged); `None` when there is none.
fn blank_late_shebangs(text: &str) -> Option<String> {
    if !text.contains("\n#!") {
        return None;
    }
    let mut bytes = text.as_bytes().to_vec();
    let mut search = 0;
    while let Some(pos) = text[search..].find("\n#!") {
        let start = search + pos + 1;
        let end = text[start..].find('\n').map_or(text.len(), |n| start + n);
        for byte in &mut bytes[start..end] {
            if *byte != b'\r' {
                *byte = b' ';
            }
        }
        search = end;
    }
    // Whole lines of ASCII spaces replaced whole lines: still UTF-8.
    String::from_utf8(bytes).ok()
}

#[cfg(test)]
#[test]
fn esm_hint() {
    assert!(looks_like_esm("import fs from 'fs';"));
    assert!(looks_like_esm("'use strict';\nexport { a };"));
    assert!(looks_like_esm("var a=1;export{a as b};import\"./x.css\";"));
    assert!(looks_like_esm("if (x) {}\n  export * from './y'"));
    assert!(!looks_like_esm("module.exports = require('./a'); exports.b = 1;"));
    assert!(!looks_like_esm("const m = await import('./m.js');"));
    assert!(!looks_like_esm(
        "/**\n * import the thing\n */\nvar s = 'export default';"
    ));
}

fn looks_minified(bytes: usize, lines: usize, max_line_len: usize) -> bool {
    bytes >= 512 && (bytes / lines.max(1) >= 250 || (max_line_len >= 5_000 && max_line_len * 2 >= bytes))
}

/// Source types to try, in order: what the extension says, then the other module kind.
/// Files with no sign of ESM syntax are parsed as scripts first: oxc's `unambiguous` mode
/// costs up to twice a plain script parse (react-dom's production bundle: 37 vs 61 MB/s).
fn source_types(path: &str, kind: FileKind, text: &str) -> Vec<oxc_span::SourceType> {
    use oxc_span::SourceType;
    let lower = path.to_ascii_lowercase();
    if kind == FileKind::TypeScript {
        let base = if lower.ends_with(".tsx") {
            SourceType::tsx()
        } else {
            SourceType::ts()
        };
        let base = base.with_typescript_definition(lower.ends_with(".d.ts"));
        return vec![base.with_module(true), base.with_script(true), SourceType::tsx()];
    }
    if lower.ends_with(".mjs") {
        return vec![
            SourceType::mjs().with_jsx(true),
            SourceType::mjs(),
            SourceType::script(),
        ];
    }
    if !looks_like_esm(text) {
        return vec![
            SourceType::script().with_jsx(true),
            SourceType::mjs().with_jsx(true),
            SourceType::script(),
            SourceType::cjs(),
        ];
    }
    vec![
        SourceType::unambiguous().with_jsx(true),
        SourceType::script(),
        SourceType::mjs().with_jsx(true),
        SourceType::cjs(),
    ]
}

/// Whether `text` may use ESM syntax: `import` or `export` starting a statement (at the
/// start of the text or a line, or after `;`, `{`, `}` or `)`, spaces allowed) and followed
/// by a space, `{`, `*` or a quote. `exports.x`, `module.exports`, dynamic `import(` (valid
/// in scripts) and the words in comments or strings do not count. A false positive only
/// costs the slower `unambiguous` parse; a false negative a second parse (the script
/// attempt fails, the module one follows).
fn looks_like_esm(text: &str) -> bool {
    let bytes = text.as_bytes();
    let word_at = |at: usize, len: usize| {
        let before = bytes[..at].iter().rev().find(|b| !matches!(b, b' ' | b'\t' | b'\r'));
        let after = bytes.get(at + len).copied();
        before.is_none_or(|b| matches!(b, b'\n' | b';' | b'{' | b'}' | b')'))
            && after.is_some_and(|b| b.is_ascii_whitespace() || matches!(b, b'{' | b'*' | b'"' | b'\''))
    };
    memchr::memmem::find_iter(bytes, b"import").any(|at| word_at(at, 6))
        || memchr::memmem::find_iter(bytes, b"export").any(|at| word_at(at, 6))
}

/// Parses and walks `text` into `facts`; returns the text (moved to the parse thread and
/// back), `None` only if that thread was lost.
fn analyze_ast(facts: &mut FileFacts, path: &str, text: String, scan: text::TextScan) -> Option<String> {
    let types = source_types(path, facts.kind, &text);
    let inline = text.len() < INLINE_MAX_BYTES && scan.max_nesting <= INLINE_MAX_NESTING;
    let (text, outcome) = if inline {
        let outcome = INLINE_ARENA
            .try_with(|cell| match cell.try_borrow_mut() {
                Ok(mut arena) => parse_and_walk_caught(&mut arena, &text, &scan, &types),
                Err(_) => parse_and_walk_caught(&mut None, &text, &scan, &types),
            })
            .unwrap_or_else(|_| parse_and_walk_caught(&mut None, &text, &scan, &types));
        (Some(text), outcome)
    } else {
        run_on_worker(ParseJob { text, scan, types })
    };
    let Some((ast, parsed, error)) = outcome else {
        facts.parse_error = Some("internal error while parsing; the file was not analysed".to_string());
        return text;
    };
    facts.parsed = parsed;
    facts.parse_error = error;
    if let Some(ast) = ast {
        let metrics = &mut facts.metrics;
        metrics.identifiers = ast.identifiers;
        metrics.hex_identifiers = ast.hex_identifiers;
        metrics.max_string_array = ast.max_string_array;
        metrics.long_encoded_strings = ast.long_encoded_strings;
        metrics.string_entropy = entropy(&ast.string_histogram);
        metrics.facts_truncated = ast.truncated;
        facts.calls = ast.calls;
        facts.assignments = ast.assignments;
        facts.member_reads = ast.member_reads;
        facts.strings = ast.strings;
        facts.imports = ast.imports;
    }
    text
}

/// What parsing and walking one file gives: the facts of the best parse, whether it parsed
/// cleanly, and the first parse error.
type Outcome = (Option<walk::AstFacts>, bool, Option<String>);

/// Arenas up to this size are kept for the next file (reset, not freed); larger ones, left
/// by a rare huge file (the arena is 8-11 times the source: 67 MB for typescript.js), are freed so
/// that idle threads (one parse thread per rayon worker) do not hold more than this each.
const ARENA_RETAIN_BYTES: usize = 128 << 20;

/// Parses `text` with each source type in turn until one parses cleanly, walking the
/// first clean parse (or, failing that, the first that did not panic). `arena` is reset
/// before each attempt and kept for the next file.
fn parse_and_walk(
    arena: &mut oxc_allocator::Allocator,
    text: &str,
    scan: &text::TextScan,
    types: &[oxc_span::SourceType],
) -> Outcome {
    let mut best: Option<walk::AstFacts> = None;
    let mut first_error: Option<String> = None;
    for &source_type in types {
        arena.reset();
        let options = oxc_parser::ParseOptions {
            allow_return_outside_function: true,
            // No `ParenthesizedExpression` nodes: fewer nodes to build and walk (minified code
            // is full of `(0, f)(x)` and `!(function(){…})()`), and the walker looks through
            // parentheses anyway.
            preserve_parens: false,
            ..Default::default()
        };
        let parsed = oxc_parser::Parser::new(arena, text, source_type)
            .with_options(options)
            .parse();
        let error = parsed.diagnostics.errors().next().map(|e| e.message.to_string());
        if parsed.panicked {
            first_error.get_or_insert_with(|| error.unwrap_or_else(|| "parse failed".to_string()));
            continue;
        }
        match error {
            None => {
                let ast = walk::Walker::new(text, scan, walk::WalkLimits::default()).run(&parsed.program);
                return (Some(ast), true, None);
            }
            Some(error) => {
                first_error.get_or_insert(error);
                if best.is_none() {
                    best = Some(walk::Walker::new(text, scan, walk::WalkLimits::default()).run(&parsed.program));
                }
            }
        }
    }
    (best, false, first_error)
}

/// [`parse_and_walk`] with a per-thread arena, unwinding caught: `None` after a panic
/// (the arena is then dropped, not reused).
fn parse_and_walk_caught(
    arena: &mut Option<oxc_allocator::Allocator>,
    text: &str,
    scan: &text::TextScan,
    types: &[oxc_span::SourceType],
) -> Option<Outcome> {
    let mut allocator = arena.take().unwrap_or_default();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        parse_and_walk(&mut allocator, text, scan, types)
    }))
    .ok()?;
    let needed = allocator.capacity();
    if needed <= ARENA_RETAIN_BYTES {
        allocator.reset();
        // `reset` keeps only the last chunk; a file that needed several would fault in fresh
        // chunks on every parse. One chunk as large as everything this file used instead.
        if allocator.capacity() < needed {
            allocator = oxc_allocator::Allocator::with_capacity(needed);
        }
        *arena = Some(allocator);
    }
    Some(outcome)
}

/// A file handed to the parse thread, and what comes back (the text and scan are moved
/// there and back, not copied).
struct ParseJob {
    text: String,
    scan: text::TextScan,
    types: Vec<oxc_span::SourceType>,
}

struct ParseDone {
    text: String,
    outcome: Option<Outcome>,
}

/// A long-lived thread with a large stack that parses and walks files for one calling
/// thread, reusing its arena: spawning a thread and faulting in a fresh arena per file
/// cost more than the parse of a mid-sized file.
struct ParseWorker {
    jobs: std::sync::mpsc::Sender<ParseJob>,
    done: std::sync::mpsc::Receiver<ParseDone>,
}

impl ParseWorker {
    fn spawn() -> Option<ParseWorker> {
        let (jobs, job_receiver) = std::sync::mpsc::channel::<ParseJob>();
        let (done_sender, done) = std::sync::mpsc::channel::<ParseDone>();
        std::thread::Builder::new()
            .name("palisade-parse".to_string())
            .stack_size(PARSE_STACK_BYTES)
            .spawn(move || {
                let mut arena = None;
                while let Ok(job) = job_receiver.recv() {
                    let outcome = parse_and_walk_caught(&mut arena, &job.text, &job.scan, &job.types);
                    let reply = ParseDone {
                        text: job.text,
                        outcome,
                    };
                    if done_sender.send(reply).is_err() {
                        break;
                    }
                }
            })
            .ok()?;
        Some(ParseWorker { jobs, done })
    }

    /// Runs `job` on the worker. `Err` gives the job back when the worker is gone;
    /// `Ok(None)` means it died while working (it catches unwinding, so only if killed).
    fn run(&self, job: ParseJob) -> Result<Option<ParseDone>, ParseJob> {
        if let Err(std::sync::mpsc::SendError(job)) = self.jobs.send(job) {
            return Err(job);
        }
        Ok(self.done.recv().ok())
    }
}

thread_local! {
    /// The calling thread's parse worker, spawned on first use.
    static PARSE_WORKER: std::cell::RefCell<Option<ParseWorker>> = const { std::cell::RefCell::new(None) };
    /// The calling thread's arena for small files parsed inline.
    static INLINE_ARENA: std::cell::RefCell<Option<oxc_allocator::Allocator>> = const { std::cell::RefCell::new(None) };
}

/// Parses on this thread's parse worker (spawning it, or a replacement for a dead one).
fn run_on_worker(job: ParseJob) -> (Option<String>, Option<Outcome>) {
    let attempt = |mut job: ParseJob, worker: &mut Option<ParseWorker>| -> (Option<String>, Option<Outcome>) {
        // A worker found dead is replaced once.
        for _ in 0..2 {
            if worker.is_none() {
                *worker = ParseWorker::spawn();
            }
            let Some(current) = worker.as_ref() else {
                return (Some(job.text), None);
            };
            match current.run(job) {
                Ok(Some(done)) => return (Some(done.text), done.outcome),
                Ok(None) => {
                    *worker = None;
                    return (None, None);
                }
                Err(returned) => {
                    *worker = None;
                    job = returned;
                }
            }
        }
        (Some(job.text), None)
    };
    let mut pending = Some(job);
    let result = PARSE_WORKER.try_with(|cell| match cell.try_borrow_mut() {
        Ok(mut worker) => pending.take().map(|job| attempt(job, &mut worker)),
        Err(_) => None,
    });
    match (result, pending) {
        (Ok(Some(result)), _) => result,
        // No thread-local worker (thread exiting, or re-entered): a one-off worker.
        (_, Some(job)) => attempt(job, &mut None),
        (_, None) => (None, None),
    }
}

/// Shannon entropy in bits per byte of a byte histogram.
fn entropy(histogram: &[u64; 256]) -> f64 {
    let total: u64 = histogram.iter().sum();
    if total == 0 {
        return 0.0;
    }
    let total = total as f64;
    histogram
        .iter()
        .filter(|&&count| count > 0)
        .map(|&count| {
            let p = count as f64 / total;
            -p * p.log2()
        })
        .sum()
}
