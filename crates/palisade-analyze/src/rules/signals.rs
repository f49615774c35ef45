//! Small, shared vocabulary for H4's behaviour rules (wallet-hijack, worm-publish, persistence,
//! native-dropper, destructive, ai-agent-dropper): which canonical callees write or delete
//! files, run processes or talk to the network, and how to read a call's folded arguments
//! as text.
//!
//! These helpers only classify facts; each rule decides what a combination of them means.

use palisade_core::{Confidence, Finding, Severity};

use crate::facts::{Blob, Call, FileFacts, StrConst, Value};
use crate::rules::{flag, RuleInfo};

/// The last segment of a canonical callee: `fs.promises.writeFile` → `writeFile`.
pub(crate) fn method(callee: &str) -> &str {
    match last_dot(callee) {
        Some(dot) => &callee[dot + 1..],
        None => callee,
    }
}

/// The receiver of a canonical callee: `fs.promises.writeFile` → `fs.promises`.
pub(crate) fn receiver(callee: &str) -> &str {
    match last_dot(callee) {
        Some(dot) => &callee[..dot],
        None => "",
    }
}

/// The last `.` of a callee. Callees are short and every rule asks for every call's method:
/// a plain backwards loop beats `rsplit`'s vectorised search, whose set-up dominates here.
fn last_dot(callee: &str) -> Option<usize> {
    callee.bytes().rposition(|b| b == b'.')
}

use super::sinks::normalize;

const FS_MODULES: &[&str] = &["fs", "fs.promises", "fs/promises", "fs-extra", "graceful-fs", "?"];

pub(crate) const WRITE_METHODS: &[&str] = &[
    "writeFile",
    "writeFileSync",
    "appendFile",
    "appendFileSync",
    "createWriteStream",
    "copyFile",
    "copyFileSync",
    "cp",
    "cpSync",
    "outputFile",
    "outputFileSync",
    "outputJson",
    "outputJsonSync",
    "writeJson",
    "writeJsonSync",
    "symlink",
    "symlinkSync",
    "rename",
    "renameSync",
];

/// A call that writes (or copies, moves, links) a file: `fs.writeFileSync`, `fs.promises.appendFile`,
/// `fs-extra.outputFile`, `Bun.write`, and the same methods on an unknown receiver.
pub(crate) fn classify_write(call: &Call) -> bool {
    let callee = normalize(&call.callee);
    if matches!(callee, "Bun.write" | "Deno.writeTextFile" | "Deno.writeFile") {
        return true;
    }
    let receiver = receiver(callee);
    WRITE_METHODS.contains(&method(callee)) && (FS_MODULES.contains(&receiver) || receiver.starts_with('?'))
}

pub(crate) const DELETE_METHODS: &[&str] = &[
    "rm",
    "rmSync",
    "rmdir",
    "rmdirSync",
    "remove",
    "removeSync",
    "emptyDir",
    "emptyDirSync",
    "unlink",
    "unlinkSync",
];

/// A call that deletes files: `fs.rmSync`, `fs.promises.rm`, `fs-extra.remove`, `rimraf`, `del`.
pub(crate) fn classify_delete(call: &Call) -> bool {
    let callee = normalize(&call.callee);
    let root = callee.split('.').next().unwrap_or(callee);
    match root {
        "rimraf" | "del" | "trash" | "premove" => return true,
        "shelljs" => return method(callee) == "rm",
        _ => {}
    }
    let receiver = receiver(callee);
    DELETE_METHODS.contains(&method(callee)) && (FS_MODULES.contains(&receiver) || receiver.starts_with('?'))
}

/// A call that starts a process: `child_process.*`, `execa`, `cross-spawn`, `shelljs.exec`, `Bun.spawn`.
pub(crate) fn classify_exec(call: &Call) -> bool {
    let callee = normalize(&call.callee);
    let root = callee.split('.').next().unwrap_or(callee);
    match root {
        "child_process" => {
            matches!(
                method(callee),
                "exec" | "execSync" | "spawn" | "spawnSync" | "execFile" | "execFileSync" | "fork"
            )
        }
        "execa" | "cross-spawn" | "zx" | "spawn-sync" | "tinyexec" | "nano-spawn" => true,
        "shelljs" => method(callee) == "exec",
        "Bun" => matches!(method(callee), "spawn" | "spawnSync" | "$"),
        "Deno" => callee == "Deno.Command" || callee == "Deno.run",
        _ => false,
    }
}

/// A call that sends or fetches over the network.
pub(crate) fn classify_network(call: &Call) -> bool {
    let callee = normalize(&call.callee);
    let root = callee.split('.').next().unwrap_or(callee);
    match root {
        "fetch" | "node-fetch" | "cross-fetch" | "undici" | "axios" | "got" | "request" | "needle" | "superagent"
        | "ky" | "phin" | "bent" | "ws" | "WebSocket" | "EventSource" => true,
        "http" | "https" | "http2" => matches!(method(callee), "request" | "get" | "connect"),
        "navigator" => method(callee) == "sendBeacon",
        "XMLHttpRequest" => true,
        _ => matches!(method(callee), "open" | "send") && callee.contains("XMLHttpRequest"),
    }
}

/// [`classify_write`], as decided when the call was recorded.
pub(crate) fn is_write_call(call: &Call) -> bool {
    call.flags & flag::WRITE != 0
}

/// [`classify_delete`], as decided when the call was recorded.
pub(crate) fn is_delete_call(call: &Call) -> bool {
    call.flags & flag::DELETE != 0
}

/// [`classify_exec`], as decided when the call was recorded.
pub(crate) fn is_exec_call(call: &Call) -> bool {
    call.flags & flag::EXEC != 0
}

/// [`classify_network`], as decided when the call was recorded.
pub(crate) fn is_network_call(call: &Call) -> bool {
    call.flags & flag::NETWORK != 0
}

/// Every known string inside a value (recursively through arrays and objects), and the names
/// of identifiers and member paths (so `path.join(home, '.bashrc')` still shows `.bashrc`).
pub(crate) fn value_text(value: &Value, out: &mut String) {
    match value {
        Value::Str { value, .. } => {
            out.push_str(value);
            out.push(' ');
        }
        Value::Object { entries } => {
            for (key, value) in entries {
                out.push_str(key);
                out.push(':');
                value_text(value, out);
            }
        }
        Value::Array { items } => {
            for item in items {
                value_text(item, out);
            }
        }
        Value::Member { path } => {
            out.push_str(path);
            out.push(' ');
        }
        Value::CallResult { callee } => {
            out.push_str(callee);
            out.push_str("() ");
        }
        Value::Ident { name } => {
            out.push_str(name);
            out.push(' ');
        }
        Value::Num { .. } | Value::Bool { .. } | Value::Function | Value::Unknown => {}
    }
}

/// A call's folded arguments and its source excerpt, lower-cased, as one string to match
/// path and command fragments against. Folded values come first so decoded strings count.
pub(crate) fn call_text(call: &Call) -> String {
    let mut out = String::new();
    for arg in &call.args {
        value_text(arg, &mut out);
    }
    out.push_str(" | ");
    out.push_str(&call.excerpt);
    out.to_lowercase()
}

/// The folded value of argument `index` as text (lower-cased), or "" when unknown.
pub(crate) fn arg_text(call: &Call, index: usize) -> String {
    let mut out = String::new();
    if let Some(arg) = call.args.get(index) {
        value_text(arg, &mut out);
    }
    out.to_lowercase()
}

/// The source text of a call's first argument, cut from its excerpt:
/// `fs.writeFileSync(path.join(home, '.bashrc'), data)` → `path.join(home, '.bashrc')`.
pub(crate) fn first_arg_source(excerpt: &str) -> &str {
    let Some(open) = excerpt.find('(') else { return "" };
    let rest = &excerpt[open + 1..];
    let mut depth = 0usize;
    for (index, ch) in rest.char_indices() {
        match ch {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' if depth == 0 => return &rest[..index],
            ')' | ']' | '}' => depth -= 1,
            ',' if depth == 0 => return &rest[..index],
            _ => {}
        }
    }
    rest
}

/// Top-level argument source texts of a call excerpt: `f(a, g(b, c), 'd')` → `a`, `g(b, c)`, `'d'`.
pub(crate) fn call_arguments(excerpt: &str) -> Vec<&str> {
    let Some(open) = excerpt.find('(') else {
        return Vec::new();
    };
    let rest = &excerpt[open + 1..];
    let mut out = Vec::new();
    let (mut depth, mut start, mut quote) = (0usize, 0usize, None::<char>);
    let mut escaped = false;
    for (index, ch) in rest.char_indices() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if ch == '\\' {
                escaped = true;
            } else if ch == q {
                quote = None;
            }
            continue;
        }
        match ch {
            '\'' | '"' | '`' => quote = Some(ch),
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' if depth == 0 => {
                out.push(rest[start..index].trim());
                return out;
            }
            ')' | ']' | '}' => depth -= 1,
            ',' if depth == 0 => {
                out.push(rest[start..index].trim());
                start = index + 1;
            }
            _ => {}
        }
        if out.len() >= 8 {
            return out;
        }
    }
    out.push(rest[start..].trim());
    out
}

/// Whether `needle` (lower-case, no whitespace in it) occurs in `haystack` with any whitespace
/// between its characters, ignoring ASCII case: `a[i - 1][j - 1]` contains `[i-1][j-1]`.
/// Candidates start at each occurrence of the needle's first byte (found with `memchr`), so
/// plain text costs little.
pub(crate) fn contains_ignoring_whitespace(haystack: &str, needle: &str) -> bool {
    let (hay, needle) = (haystack.as_bytes(), needle.as_bytes());
    let Some(&first) = needle.first() else { return true };
    memchr::memchr2_iter(first, first.to_ascii_uppercase(), hay).any(|start| {
        let mut at = start + 1;
        for &expected in &needle[1..] {
            while at < hay.len() && hay[at].is_ascii_whitespace() {
                at += 1;
            }
            if hay.get(at).map(u8::to_ascii_lowercase) != Some(expected) {
                return false;
            }
            at += 1;
        }
        true
    })
}

/// Whether `haystack` contains `needle` (lower-case ASCII), ignoring ASCII case: candidates
/// start at each occurrence of the needle's first letter in either case (`memchr2`).
pub(crate) fn contains_ignore_ascii_case(haystack: &str, needle: &str) -> bool {
    let (hay, needle) = (haystack.as_bytes(), needle.as_bytes());
    let Some(&first) = needle.first() else { return true };
    if hay.len() < needle.len() {
        return false;
    }
    let last_start = hay.len() - needle.len();
    memchr::memchr2_iter(first, first.to_ascii_uppercase(), &hay[..=last_start])
        .any(|start| hay[start + 1..start + needle.len()].eq_ignore_ascii_case(&needle[1..]))
}

/// Whether `haystack` contains any of `needles` (lower-case ASCII), ignoring ASCII case.
pub(crate) fn contains_any_ignore_ascii_case(haystack: &str, needles: &[&str]) -> bool {
    found_ignore_ascii_case(haystack, needles, true).contains(&true)
}

/// Which of `needles` (lower-case ASCII) `haystack` contains, ignoring ASCII case; with
/// `first_only`, the search stops at the first needle found. The haystack is lower-cased a
/// cache-sized block at a time (blocks overlap by the longest needle) and each block searched
/// with `memmem`, so a large file needs no lower-cased copy and a common first letter costs
/// nothing.
pub(crate) fn found_ignore_ascii_case(haystack: &str, needles: &[&str], first_only: bool) -> Vec<bool> {
    const BLOCK: usize = 64 * 1024;
    debug_assert!(needles.iter().all(|n| !n.bytes().any(|b| b.is_ascii_uppercase())));
    let hay = haystack.as_bytes();
    let mut found: Vec<bool> = needles.iter().map(|n| n.is_empty()).collect();
    let longest = needles.iter().map(|n| n.len()).max().unwrap_or(0);
    if first_only && found.contains(&true) {
        return found;
    }
    let finders: Vec<memchr::memmem::Finder<'_>> = needles
        .iter()
        .map(|n| memchr::memmem::Finder::new(n.as_bytes()))
        .collect();
    let mut block = Vec::with_capacity(BLOCK.min(hay.len()) + longest);
    let mut start = 0;
    loop {
        let end = (start + BLOCK + longest - 1).min(hay.len());
        block.clear();
        block.extend_from_slice(&hay[start..end]);
        block.make_ascii_lowercase();
        for (index, finder) in finders.iter().enumerate() {
            if !found[index] && finder.find(&block).is_some() {
                found[index] = true;
                if first_only {
                    return found;
                }
            }
        }
        if end == hay.len() || !found.contains(&false) {
            return found;
        }
        start += BLOCK;
    }
}

/// Whether `text` contains any of `needles` (needles are lower-case).
pub(crate) fn contains_any(text: &str, needles: &[&str]) -> bool {
    needles.iter().any(|needle| text.contains(needle))
}

/// The first needle of `needles` found in `text`.
pub(crate) fn first_match<'a>(text: &str, needles: &[&'a str]) -> Option<&'a str> {
    needles.iter().copied().find(|needle| text.contains(needle))
}

/// The file's first string constant that contains any of `needles` (ignoring ASCII case).
pub(crate) fn first_string_matching<'a>(file: &'a FileFacts, needles: &Needles) -> Option<&'a StrConst> {
    needles
        .first_item(file.strings_blob())
        .and_then(|index| file.strings.get(index))
}

/// Decodes a short standard-base64 string to printable UTF-8 text, if it is one. Packages hide
/// single words this way (node-ipc: `Buffer.from("cnVzc2lh", "base64")` → `russia`) even when
/// the decoding goes through a helper the extractor does not fold.
pub(crate) fn decode_base64_word(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    if bytes.len() < 4 || bytes.len() > 512 || bytes.len() % 4 != 0 {
        return None;
    }
    let digit = |b: u8| -> Option<u32> {
        Some(match b {
            b'A'..=b'Z' => (b - b'A') as u32,
            b'a'..=b'z' => (b - b'a') as u32 + 26,
            b'0'..=b'9' => (b - b'0') as u32 + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        })
    };
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    for (index, chunk) in bytes.chunks(4).enumerate() {
        let last = index == bytes.len() / 4 - 1;
        let padding = chunk.iter().rev().take_while(|b| **b == b'=').count();
        if padding > 2 || (padding > 0 && !last) {
            return None;
        }
        let mut n = 0u32;
        for b in &chunk[..4 - padding] {
            n = (n << 6) | digit(*b)?;
        }
        n <<= 6 * padding as u32;
        let decoded = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&decoded[..3 - padding]);
    }
    let text = String::from_utf8(out).ok()?;
    let printable = text.chars().all(|c| !c.is_control() || c == '\n' || c == '\t');
    (printable && !text.trim().is_empty()).then_some(text)
}

/// The string constants, lower-cased, each followed by its base64-decoded text when it decodes
/// to printable text: what [`FileFacts::lower_strings`] computes once per file.
pub(crate) fn lower_strings_with_decoded(strings: &[StrConst]) -> Vec<(u32, String)> {
    let mut out = Vec::with_capacity(strings.len());
    for string in strings {
        out.push((string.line, string.value.to_lowercase()));
        if let Some(decoded) = decode_base64_word(&string.value) {
            out.push((string.line, decoded.to_lowercase()));
        }
    }
    out
}

/// A constant list of lower-case ASCII needles with one automaton over all of them (ASCII
/// case-insensitive), built on first use: one pass per haystack instead of one `contains`
/// per needle. Declare as a `static` next to the list.
pub(crate) struct Needles {
    list: &'static [&'static str],
    automaton: std::sync::OnceLock<Option<aho_corasick::AhoCorasick>>,
    finders: std::sync::OnceLock<Vec<memchr::memmem::Finder<'static>>>,
}

impl Needles {
    pub(crate) const fn new(list: &'static [&'static str]) -> Needles {
        Needles {
            list,
            automaton: std::sync::OnceLock::new(),
            finders: std::sync::OnceLock::new(),
        }
    }

    fn automaton(&self) -> Option<&aho_corasick::AhoCorasick> {
        self.automaton
            .get_or_init(|| {
                aho_corasick::AhoCorasick::builder()
                    .kind(Some(aho_corasick::AhoCorasickKind::DFA))
                    .prefilter(false)
                    .ascii_case_insensitive(true)
                    .build(self.list)
                    .ok()
            })
            .as_ref()
    }

    /// One `memmem` searcher per needle (the needles are lower-case, like a [`Blob`]).
    fn finders(&self) -> &[memchr::memmem::Finder<'static>] {
        self.finders.get_or_init(|| {
            self.list
                .iter()
                .map(|n| memchr::memmem::Finder::new(n.as_bytes()))
                .collect()
        })
    }

    /// The items of `blob` that contain a needle (ignoring ASCII case), in order, each once:
    /// one vectorised pass over the blob per needle.
    pub(crate) fn items(&self, blob: &Blob) -> Vec<usize> {
        debug_assert!(self.list.iter().all(|n| !n.bytes().any(|b| b.is_ascii_uppercase())));
        let mut found: Vec<usize> = Vec::new();
        for finder in self.finders() {
            let mut last = None;
            for at in finder.find_iter(blob.text().as_bytes()) {
                let index = blob.item_at(at);
                if last != Some(index) {
                    found.push(index);
                    last = Some(index);
                }
            }
        }
        found.sort_unstable();
        found.dedup();
        found
    }

    /// The first item of `blob` that contains a needle (ignoring ASCII case).
    pub(crate) fn first_item(&self, blob: &Blob) -> Option<usize> {
        let text = blob.text().as_bytes();
        self.finders()
            .iter()
            .filter_map(|finder| finder.find(text))
            .min()
            .map(|at| blob.item_at(at))
    }

    /// Whether any needle occurs in `haystack` (ignoring ASCII case).
    pub(crate) fn any_in(&self, haystack: &str) -> bool {
        match self.automaton() {
            Some(automaton) => automaton.is_match(haystack),
            // Built from constants, the automaton does not fail to build; if it did, search.
            None => first_match(&haystack.to_ascii_lowercase(), self.list).is_some(),
        }
    }

    /// The first needle, in list order, that occurs in `haystack` (ignoring ASCII case):
    /// what `first_match(&haystack.to_ascii_lowercase(), list)` gives.
    pub(crate) fn first_in(&self, haystack: &str) -> Option<&'static str> {
        let Some(automaton) = self.automaton() else {
            return first_match(&haystack.to_ascii_lowercase(), self.list);
        };
        // Cheap rejection first: almost every haystack has none.
        let first = automaton.find(haystack)?;
        let mut best = first.pattern().as_usize();
        if best > 0 {
            // Another needle earlier in the list may occur too (overlapping or later).
            let lower = haystack.to_ascii_lowercase();
            if let Some(index) = self.list[..best].iter().position(|needle| lower.contains(needle)) {
                best = index;
            }
        }
        self.list.get(best).copied()
    }
}

/// A finding of `info`'s rule at a line of `file`, with `evidence` (or the line's text) as evidence.
pub(crate) fn finding(
    info: &'static RuleInfo,
    file: &FileFacts,
    line: u32,
    severity: Severity,
    confidence: Confidence,
    message: String,
    evidence: &str,
) -> Finding {
    let evidence = if evidence.is_empty() {
        file.line_text(line).unwrap_or_default()
    } else {
        evidence.to_string()
    };
    // A lone capability (moderate and below) lists only the rule's primary capability: a
    // release tool running `npm publish` publishes, it does not thereby talk to the network
    // or read credentials, and the scorer combines capabilities across findings.
    let capabilities = if severity >= Severity::High {
        info.capabilities
    } else {
        info.capabilities.get(..1).unwrap_or(&[])
    };
    let mut finding = Finding::new(info.id, severity, confidence, message)
        .at(file.path.clone(), (line > 0).then_some(line))
        .with_capabilities(capabilities);
    if !evidence.is_empty() {
        finding = finding.with_evidence(evidence);
    }
    finding
}

/// Whether two lines are close enough to belong to the same piece of code. Minified files
/// put everything on a few lines, so there "close" means the same line.
/// 1-based lines of `text` that assign the plain identifier `name` (`const name = …`,
/// `name = …`, `name += …`), not comparisons or arrow functions.
pub(crate) fn assignment_lines(text: &str, name: &str) -> Vec<u32> {
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '$';
    if name.is_empty() || !name.chars().all(is_ident) {
        return Vec::new();
    }
    let mut lines = Vec::new();
    for (index, line) in text.lines().enumerate().take(20_000) {
        let mut from = 0;
        while let Some(at) = line[from..].find(name).map(|i| i + from) {
            from = at + name.len();
            let before_ok = !line[..at].chars().next_back().is_some_and(|c| is_ident(c) || c == '.');
            let rest = line[from..].trim_start();
            let rest = rest.strip_prefix('+').unwrap_or(rest);
            let after_ok = !rest.chars().next().is_some_and(is_ident)
                && rest.starts_with('=')
                && !rest.starts_with("==")
                && !rest.starts_with("=>");
            if before_ok && after_ok {
                lines.push(u32::try_from(index + 1).unwrap_or(u32::MAX));
                break;
            }
        }
    }
    lines
}

pub(crate) fn near(file: &FileFacts, a: u32, b: u32, window: u32) -> bool {
    if file.metrics.minified {
        a == b
    } else {
        a.abs_diff(b) <= window
    }
}

/// The package files that lifecycle scripts (`preinstall`, `install`, `postinstall`, `prepare`)
/// run with node or bun: `"postinstall": "node setup.js"` → `setup.js`.
pub(crate) fn install_script_files(manifest: Option<&serde_json::Value>) -> Vec<String> {
    let Some(scripts) = manifest.and_then(|m| m.get("scripts")).and_then(|s| s.as_object()) else {
        return Vec::new();
    };
    let mut files = Vec::new();
    for key in ["preinstall", "install", "postinstall", "prepare"] {
        let Some(script) = scripts.get(key).and_then(|s| s.as_str()) else {
            continue;
        };
        for word in script.split(|c: char| c.is_whitespace() || matches!(c, '&' | '|' | ';' | '"' | '\'')) {
            let word = word.trim_start_matches("./");
            if [".js", ".cjs", ".mjs", ".ts"].iter().any(|ext| word.ends_with(ext)) {
                files.push(word.to_string());
            }
        }
    }
    files
}

#[cfg(test)]
mod tests {
    #[test]
    fn assignment_lines_find_assignments_not_comparisons() {
        let text = "const out = 1;\nif (out == 2) {}\nconst f = (out) => out;\nlet about = 3;\nout = 4;\nout += 6;\nx.out = 5;";
        assert_eq!(assignment_lines(text, "out"), vec![1, 5, 6]);
        assert!(assignment_lines(text, "a.b").is_empty());
    }

    use super::*;

    #[test]
    fn block_search_ignoring_case_is_contains_on_the_lowered_text() {
        let needles = ["levenshtein", "editdistance"];
        let reference = |hay: &str| needles.iter().any(|n| hay.to_ascii_lowercase().contains(n));
        // Needles across every block boundary, in any case.
        let filler = "x".repeat(64 * 1024 - 5);
        for cut in 0..12 {
            let hay = format!("{}{}", &filler[cut..], "LevenShtein");
            assert!(contains_any_ignore_ascii_case(&hay, &needles), "{cut}");
            assert_eq!(contains_any_ignore_ascii_case(&hay, &needles), reference(&hay));
            let miss = format!("{}{}", &filler[cut..], "levenshteiN".replace('N', "_"));
            assert!(!contains_any_ignore_ascii_case(&miss, &needles), "{cut}");
        }
        for hay in ["", "edit", "EDITDISTANCE", "é levenshtein", "levenshtei"] {
            assert_eq!(contains_any_ignore_ascii_case(hay, &needles), reference(hay), "{hay}");
        }
        // Each needle on its own, shorter than the longest, and in a haystack shorter than it.
        assert_eq!(
            found_ignore_ascii_case("xEDIT", &["edit", "levenshtein"], false),
            vec![true, false]
        );
        assert_eq!(found_ignore_ascii_case("ab", &["", "abc"], false), vec![true, false]);
        let big = format!("{}editDistance{}", "y".repeat(200_000), "z".repeat(70_000));
        assert!(contains_any_ignore_ascii_case(&big, &needles));
        assert!(!contains_any_ignore_ascii_case(&big, &["levenshtein"]));
    }

    #[test]
    fn method_and_receiver_split_at_the_last_dot() {
        assert_eq!(method("fs.promises.writeFile"), "writeFile");
        assert_eq!(receiver("fs.promises.writeFile"), "fs.promises");
        assert_eq!(method("eval"), "eval");
        assert_eq!(receiver("eval"), "");
        assert_eq!(method("a."), "");
        assert_eq!(receiver(".b"), "");
        assert_eq!(method("résumé.ouvrir"), "ouvrir");
    }

    #[test]
    fn needles_find_items_in_a_blob_like_contains_on_each() {
        static NEEDLES: Needles = Needles::new(&["/-/whoami", ".npmrc", "npm_token"]);
        let items = [
            "plain",
            "cat ~/.NPMRC",
            "",
            "GET /-/WhoAmI",
            "x\0.npmrc",
            "NPM_TOKEN and .npmrc",
            "nothing",
        ];
        let blob = Blob::new(items.iter().copied());
        let expected: Vec<usize> = items
            .iter()
            .enumerate()
            .filter(|(_, item)| first_match(&item.to_ascii_lowercase(), NEEDLES.list).is_some())
            .map(|(index, _)| index)
            .collect();
        assert_eq!(NEEDLES.items(&blob), expected);
        assert_eq!(NEEDLES.first_item(&blob), Some(1));
        assert_eq!(NEEDLES.first_item(&Blob::new(["a", "b"].into_iter())), None);
        assert!(NEEDLES.items(&Blob::new(std::iter::empty())).is_empty());
        // List order, not text order, for one haystack.
        assert_eq!(NEEDLES.first_in("npm_token then /-/whoami"), Some("/-/whoami"));
        assert_eq!(NEEDLES.first_in("NPM_TOKEN"), Some("npm_token"));
        assert!(NEEDLES.any_in("~/.Npmrc") && !NEEDLES.any_in("npm token"));
    }

    #[test]
    fn case_and_whitespace_insensitive_contains() {
        assert!(contains_ignore_ascii_case("wallet.SecretKey", "key"));
        assert!(contains_ignore_ascii_case("KEY", "key"));
        assert!(!contains_ignore_ascii_case("ke", "key"));
        assert!(!contains_ignore_ascii_case("monkey business", "mnemonic"));
        // Short and long haystacks (plain loop and vector search) agree with the lowered text.
        for len in [0, 1, 2, 3, 62, 63, 64, 65, 200] {
            for at in 0..len {
                let mut hay = "x".repeat(len);
                if at + 3 <= len {
                    hay.replace_range(at..at + 3, "kEy");
                }
                let expected = hay.to_ascii_lowercase().contains("key");
                assert_eq!(contains_ignore_ascii_case(&hay, "key"), expected, "{len} {at}");
            }
        }
        assert!(contains_ignoring_whitespace("d[i - 1][j - 1] + 1", "[i-1][j-1]"));
        assert!(contains_ignoring_whitespace("d[I - 1][J - 1] + 1", "[i-1][j-1]"));
        assert!(contains_ignoring_whitespace("d[i-1][j-1]", "[i-1][j-1]"));
        assert!(!contains_ignoring_whitespace("d[i-1][j]", "[i-1][j-1]"));
        assert!(!contains_ignoring_whitespace("[i-1][j-", "[i-1][j-1]"));
    }

    fn call(callee: &str) -> Call {
        let mut call = Call::bare(callee);
        call.flags = crate::rules::call_flags(&call);
        call
    }

    #[test]
    fn classifies_callees() {
        assert!(is_write_call(&call("fs.appendFileSync")));
        assert!(is_write_call(&call("fs.promises.writeFile")));
        assert!(!is_write_call(&call("stream.write")));
        assert!(is_exec_call(&call("child_process.execSync")));
        assert!(is_exec_call(&call("node:child_process.spawn")));
        assert!(!is_exec_call(&call("?.exec")), "RegExp.prototype.exec is not a process");
        assert!(is_network_call(&call("https.request")));
        assert!(is_network_call(&call("window.fetch")));
        assert!(is_delete_call(&call("fs.rmSync")));
        assert!(is_delete_call(&call("rimraf")));
        assert!(is_delete_call(&call("rimraf.sync")));
        assert!(!is_delete_call(&call("map.delete")));
    }

    #[test]
    fn decodes_base64_words() {
        assert_eq!(decode_base64_word("cnVzc2lh").as_deref(), Some("russia"));
        assert_eq!(decode_base64_word("Lw==").as_deref(), Some("/"));
        assert_eq!(decode_base64_word("4p2k77iP").as_deref(), Some("\u{2764}\u{fe0f}"));
        assert_eq!(decode_base64_word("utf8"), None);
        assert_eq!(decode_base64_word("data"), None);
        assert_eq!(decode_base64_word("abc"), None);
    }

    #[test]
    fn cuts_the_first_argument() {
        assert_eq!(
            first_arg_source("fs.writeFileSync(path.join(home, '.bashrc'), data)"),
            "path.join(home, '.bashrc')"
        );
        assert_eq!(first_arg_source("f(a)"), "a");
        assert_eq!(first_arg_source("nothing"), "");
    }

    #[test]
    fn reads_install_script_files() {
        let manifest =
            serde_json::json!({"scripts": {"postinstall": "node ./setup.js && echo ok", "test": "node t.js"}});
        assert_eq!(install_script_files(Some(&manifest)), vec!["setup.js".to_string()]);
    }
}
