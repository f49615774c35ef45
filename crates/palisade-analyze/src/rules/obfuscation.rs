//! `obfuscation`: javascript-obfuscator output, JSFuck, packed eval, code hidden off-screen
//! behind whitespace, extreme string entropy. Minified bundles are not obfuscation.

use palisade_core::{Capability, Confidence, Finding, Severity};

use super::sinks;
use super::{FileRule, RuleInfo};
use crate::facts::{FileFacts, FileKind};

pub struct Obfuscation;

static INFO: RuleInfo = RuleInfo {
    id: "obfuscation",
    severity: Severity::High,
    confidence: Confidence::Medium,
    capabilities: &[Capability::Obfuscation],
    summary: "Code deliberately made unreadable (javascript-obfuscator, JSFuck, packed eval) or hidden off-screen",
    docs: r#"## What it detects

- **javascript-obfuscator** output: identifiers renamed to `_0x1a2b3c`, a string array (often
  rotated with `push`/`shift`) and a decoder function that every string goes through;
- **JSFuck**: code written only with `[]()!+`;
- **packed eval**: Dean Edwards' packer, `eval(function(p,a,c,k,e,d){…})`;
- **off-screen code**: a line that continues after hundreds of spaces or tabs, so the payload is
  invisible in an editor or a diff view without wrapping;
- **extreme entropy**: many long, random-looking string literals in a hand-written (not minified)
  file (low).

Obfuscation alone is high: legitimate open-source packages have no reason to hide their code. It
is critical when the hidden strings name what malware uses (`child_process`, `eval`, `https`,
`process.env`, `.npmrc`, webhook hosts) or the off-screen part runs code.

## Real attacks

- Shai-Hulud 2 (November 2025): `bun_environment.js`, a 10 MB javascript-obfuscator bundle.
- nx s1ngularity and most credential stealers on npm (2023–2025) ship javascript-obfuscator output;
  the eslint-config-prettier "Scavenger" loader and the rspack miner were obfuscated too.
- Typosquats that pad `index.js` with thousands of spaces before an `eval(…)`, and packed or
  JSFuck droppers that evade keyword scanners.

## Known false positives

Minified bundles (terser, esbuild, webpack, uglify: short identifiers, long lines) are not
reported: minifiers do not produce `_0x` identifiers with string-array decoders. Commercial
packages that obfuscate their licence check are reported high. Generated data files with long
base64 strings may be reported low for entropy.
"#,
};

/// Markers in the hidden strings of an obfuscated file that raise it to critical.
const DANGEROUS_STRINGS: &[&str] = &[
    "child_process",
    "execSync",
    "spawn",
    "eval",
    "process.env",
    ".npmrc",
    "_authToken",
    "webhook",
    "api.telegram.org",
    "discord",
    "https.get",
    "XMLHttpRequest",
    "/bin/sh",
    "powershell",
    "homedir",
    "Login Data",
    "wallet",
    "curl ",
];

impl FileRule for Obfuscation {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, file: &FileFacts, out: &mut Vec<Finding>) {
        // JavaScript only: Markdown tables and data files pad lines with spaces legitimately.
        if !matches!(file.kind, FileKind::JavaScript | FileKind::TypeScript) {
            return;
        }
        let Some(text) = file.text.as_deref() else {
            return;
        };
        // Only read when a finding is made (it searches every string).
        let danger_note = |base: Severity| -> (Severity, String) {
            let dangerous = dangerous_strings(file);
            if dangerous.is_empty() {
                (base, String::new())
            } else {
                (
                    Severity::Critical,
                    format!("; its hidden strings include {}", dangerous.join(", ")),
                )
            }
        };

        // Off-screen code needs a line of at least 300 characters (the pre-scan measured the
        // longest line).
        let long_lines = file.metrics.max_line_len >= 300 || file.metrics.lines == 0;
        let off_screen = if long_lines { off_screen_code(text) } else { None };
        if let Some((line, padding)) = off_screen {
            let hidden = text.lines().nth(line as usize - 1).map(|l| l.trim()).unwrap_or("");
            let runs = ["eval(", "require(", "Function(", "child_process", "exec(", "import("]
                .iter()
                .any(|m| hidden.contains(m));
            // Bundlers keep template literals and embedded sources whose lines start with
            // hundreds of spaces; a payload pushed off-screen also runs something.
            let (severity, confidence) = match (runs, sinks::is_bundle(file)) {
                (true, _) => (Severity::Critical, Confidence::High),
                (false, false) => (Severity::High, Confidence::High),
                (false, true) => (Severity::Moderate, Confidence::Low),
            };
            out.push(sinks::finding(
                &INFO,
                file,
                line,
                severity,
                confidence,
                format!("Hides code off-screen after {padding} whitespace characters on one line"),
                Some(hidden),
            ));
            return;
        }

        if is_packed(text) {
            let (severity, note) = danger_note(Severity::High);
            let line = line_of(text, "eval(function(p,a,c,k,e,");
            out.push(sinks::finding(
                &INFO,
                file,
                line,
                severity,
                Confidence::High,
                format!("Packed with eval(function(p,a,c,k,e,d)…): the code only exists after unpacking{note}"),
                None,
            ));
            return;
        }

        let jsfuck = if file.metrics.jsfuck_ratio > 0.0 {
            file.metrics.jsfuck_ratio
        } else {
            jsfuck_ratio(text)
        };
        if jsfuck >= 0.9 && text.len() >= 500 {
            out.push(sinks::finding(
                &INFO,
                file,
                1,
                Severity::High,
                Confidence::High,
                format!("Written in JSFuck ({:.0}% of the file is only []()!+)", jsfuck * 100.0),
                None,
            ));
            return;
        }

        let (hex_identifiers, identifiers) = if file.metrics.identifiers > 0 {
            (file.metrics.hex_identifiers, file.metrics.identifiers)
        } else {
            count_hex_identifiers(text)
        };
        let hex_share = hex_identifiers as f64 / identifiers.max(1) as f64;
        if hex_identifiers >= 20 && hex_share >= 0.1 {
            let rotation = text.contains("'push'") && text.contains("'shift'")
                || text.contains("[\"push\"]") && text.contains("[\"shift\"]")
                || text.contains("\\x70\\x75\\x73\\x68");
            let string_array = file.metrics.max_string_array >= 10 || rotation;
            let (severity, note) = danger_note(Severity::High);
            let line = line_of(text, "_0x");
            out.push(sinks::finding(
                &INFO,
                file,
                line,
                severity,
                if string_array { Confidence::High } else { Confidence::Medium },
                format!(
                    "Obfuscated with javascript-obfuscator: {hex_identifiers} `_0x…` identifiers ({:.0}% of identifiers){}{note}",
                    hex_share * 100.0,
                    if string_array { " and a string-array decoder" } else { "" }
                ),
                None,
            ));
            return;
        }

        if !file.metrics.minified && file.metrics.string_entropy >= 5.5 && file.metrics.long_encoded_strings >= 5 {
            out.push(sinks::finding(
                &INFO,
                file,
                1,
                Severity::Low,
                Confidence::Low,
                format!(
                    "Holds {} long random-looking strings (entropy {:.1} bits/char) in hand-written code",
                    file.metrics.long_encoded_strings, file.metrics.string_entropy
                ),
                None,
            ));
        }
    }
}

/// Names from the file's strings that malware hides (the obfuscator's string array).
fn dangerous_strings(file: &FileFacts) -> Vec<&'static str> {
    let mut found: Vec<&'static str> = Vec::new();
    for s in &file.strings {
        if s.value.len() > 2000 {
            continue;
        }
        for marker in DANGEROUS_STRINGS {
            if !found.contains(marker) && s.value.contains(marker) {
                found.push(marker);
            }
        }
        if found.len() >= 4 {
            break;
        }
    }
    // Network hosts of exfiltration services also count.
    if found.len() < 4
        && file.strings.iter().any(|s| {
            sinks::url_hosts(&s.value)
                .iter()
                .any(|h| sinks::exfil_service(h, &s.value).is_some())
        })
    {
        found.push("an exfiltration host");
    }
    found
}

/// The first line where at least 300 whitespace characters are followed by more code (after
/// code on the same line, or after 1,000 or more). A run of 300 spaces or tabs covers two
/// multiples of 150, so only every 150th byte is looked at until one is a space or tab.
fn off_screen_code(text: &str) -> Option<(u32, usize)> {
    const STEP: usize = 150;
    let bytes = text.as_bytes();
    let blank = |b: u8| b == b' ' || b == b'\t';
    let mut probe = 0usize;
    while probe < bytes.len() {
        if !blank(bytes[probe]) {
            probe += STEP;
            continue;
        }
        // The whole run of spaces and tabs around the probe.
        let start = bytes[..probe].iter().rposition(|b| !blank(*b)).map_or(0, |i| i + 1);
        let end = bytes[probe..]
            .iter()
            .position(|b| !blank(*b))
            .map_or(bytes.len(), |n| probe + n);
        let run = end - start;
        if run >= 300 {
            // Code after the run on the same line (a `\r` before `\n` ends the line).
            let code_after = match bytes.get(end) {
                None | Some(b'\n') => false,
                Some(b'\r') => bytes.get(end + 1) != Some(&b'\n'),
                Some(_) => true,
            };
            let line_start = memchr::memrchr(b'\n', &bytes[..start]).map_or(0, |i| i + 1);
            let code_before = start > line_start;
            if code_after && (code_before || run >= 1000) {
                let line = memchr::memchr_iter(b'\n', &bytes[..start]).count() + 1;
                return Some((line as u32, run));
            }
        }
        // The next probe after this run.
        probe = (end / STEP + 1) * STEP;
    }
    None
}

fn is_packed(text: &str) -> bool {
    let compact_hit = |needle: &str| text.contains(needle);
    compact_hit("eval(function(p,a,c,k,e,")
        || compact_hit("eval(function (p,a,c,k,e,")
        || compact_hit("eval(function(p, a, c, k, e,")
}

fn jsfuck_ratio(text: &str) -> f64 {
    let mut total = 0usize;
    let mut fuck = 0usize;
    for b in text.bytes().take(1 << 20) {
        if b.is_ascii_whitespace() {
            continue;
        }
        total += 1;
        if matches!(b, b'[' | b']' | b'(' | b')' | b'!' | b'+') {
            fuck += 1;
        }
    }
    if total == 0 {
        0.0
    } else {
        fuck as f64 / total as f64
    }
}

/// Fallback when the extractor did not count identifiers: `_0x` tokens against all word tokens.
fn count_hex_identifiers(text: &str) -> (usize, usize) {
    let mut hex = 0usize;
    let mut words = 0usize;
    for token in text
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '$'))
        .take(2_000_000)
    {
        let Some(first) = token.chars().next() else {
            continue;
        };
        if first.is_ascii_digit() {
            continue;
        }
        words += 1;
        if let Some(rest) = token.strip_prefix("_0x") {
            if rest.len() >= 4 && rest.bytes().all(|b| b.is_ascii_hexdigit()) {
                hex += 1;
            }
        }
    }
    (hex, words)
}

fn line_of(text: &str, needle: &str) -> u32 {
    text.find(needle)
        .map_or(1, |pos| text[..pos].bytes().filter(|&b| b == b'\n').count() as u32 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts;

    fn run(path: &str, source: &str) -> Vec<Finding> {
        let file = facts::extract(path, source.as_bytes(), 0o644);
        let mut out = Vec::new();
        Obfuscation.check(&file, &mut out);
        out
    }

    fn worst(source: &str) -> Severity {
        run("index.js", source)
            .iter()
            .map(|f| f.severity)
            .max()
            .unwrap_or(Severity::Unknown)
    }

    /// The shape javascript-obfuscator emits (identifiers, string array, rotation, decoder).
    fn obfuscator_output(strings: &[&str]) -> String {
        let array = strings.iter().map(|s| format!("'{s}'")).collect::<Vec<_>>().join(",");
        let mut out = format!(
            "var _0x4f2a=[{array}];(function(_0x1b3c4d,_0x5e6f7a){{var _0x2c8d9e=function(_0x3a4b5c){{while(--_0x3a4b5c){{_0x1b3c4d['push'](_0x1b3c4d['shift']());}}}};_0x2c8d9e(++_0x5e6f7a);}}(_0x4f2a,0x1a3));var _0x5b1c=function(_0x1d2e3f,_0x4a5b6c){{_0x1d2e3f=_0x1d2e3f-0x0;var _0x7c8d9e=_0x4f2a[_0x1d2e3f];return _0x7c8d9e;}};\n"
        );
        for i in 0..12 {
            out.push_str(&format!(
                "function _0x{i:04x}ab(_0x{i:04x}cd,_0x{i:04x}ef){{var _0x{i:04x}aa=_0x5b1c('0x{i:x}');return _0x{i:04x}cd[_0x{i:04x}aa](_0x{i:04x}ef);}}\n"
            ));
        }
        out
    }

    /// The line-by-line definition of off-screen code, for comparison.
    fn off_screen_reference(text: &str) -> Option<(u32, usize)> {
        for (index, line) in text.lines().enumerate() {
            let mut run = 0usize;
            let mut seen_code_before = false;
            for &b in line.as_bytes() {
                if b == b' ' || b == b'\t' {
                    run += 1;
                    continue;
                }
                if run >= 300 && (seen_code_before || run >= 1000) {
                    return Some((index as u32 + 1, run));
                }
                run = 0;
                seen_code_before = true;
            }
        }
        None
    }

    #[test]
    fn off_screen_probe_matches_the_line_by_line_definition() {
        // Deterministic pseudo-random texts made of code, runs of spaces/tabs and line ends.
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        for _ in 0..400 {
            let mut text = String::new();
            for _ in 0..next(12) {
                match next(6) {
                    0 => text.push('\n'),
                    1 => text.push_str("\r\n"),
                    2 => text.push('\r'),
                    3 => text.push_str(&"x=1;".repeat(next(40) as usize)),
                    _ => {
                        let len = [10, 299, 300, 301, 999, 1000, 1200][next(7) as usize];
                        for _ in 0..len {
                            text.push(if next(9) == 0 { '\t' } else { ' ' });
                        }
                    }
                }
            }
            assert_eq!(off_screen_code(&text), off_screen_reference(&text), "{text:?}");
        }
    }

    #[test]
    fn readable_code_is_quiet() {
        assert!(run("index.js", "const add = (a, b) => a + b;\nmodule.exports = { add };\n").is_empty());
    }

    #[test]
    fn minified_code_is_quiet() {
        let minified = "!function(e,t){\"object\"==typeof exports&&\"undefined\"!=typeof module?t(exports):\"function\"==typeof define&&define.amd?define([\"exports\"],t):t((e=e||self).lib={})}(this,function(e){\"use strict\";function t(e,t){for(var n=0;n<t.length;n++){var r=t[n];r.enumerable=r.enumerable||!1}}e.a=t;var n=[1,2,3].map(function(e){return e*2});e.b=n});".repeat(20);
        assert!(run("dist/lib.min.js", &minified).is_empty());
    }

    #[test]
    fn real_minified_bundle_is_quiet() {
        // preact 10.19.3 dist/preact.min.js (MIT), unmodified, from `npm pack preact@10.19.3`.
        let preact = include_str!("../../tests/fixtures/synthetic/benign/preact-minified-bundle/dist/preact.min.js");
        let file = facts::extract("dist/preact.min.js", preact.as_bytes(), 0o644);
        assert!(file.parsed, "{:?}", file.parse_error);
        let mut out = Vec::new();
        Obfuscation.check(&file, &mut out);
        assert!(out.is_empty(), "{out:?}");
    }

    #[test]
    fn javascript_obfuscator_output_is_high() {
        let findings = run("index.js", &obfuscator_output(&["log", "Hello", "toString", "length"]));
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert_eq!(findings[0].severity, Severity::High);
        assert_eq!(findings[0].capabilities, vec![Capability::Obfuscation]);
    }

    #[test]
    fn obfuscated_with_dangerous_strings_is_critical() {
        assert_eq!(
            worst(&obfuscator_output(&[
                "child_process",
                "execSync",
                "process.env",
                "toString"
            ])),
            Severity::Critical
        );
    }

    #[test]
    fn jsfuck_is_high() {
        let jsfuck = "[][(![]+[])[+[]]+(![]+[])[!+[]+!+[]]+(![]+[])[+!+[]]+(!![]+[])[+[]]]".repeat(20);
        assert_eq!(worst(&jsfuck), Severity::High);
    }

    #[test]
    fn packed_eval_is_high() {
        let packed = "eval(function(p,a,c,k,e,d){e=function(c){return c};if(!''.replace(/^/,String)){while(c--){d[c]=k[c]||c}k=[function(e){return d[e]}];e=function(){return'\\\\w+'};c=1};while(c--){if(k[c]){p=p.replace(new RegExp('\\\\b'+e(c)+'\\\\b','g'),k[c])}}return p}('0.1(\"2\")',3,3,'console|log|hi'.split('|'),0,{}))";
        assert_eq!(worst(packed), Severity::High);
    }

    #[test]
    fn code_after_whitespace_padding_is_critical() {
        let source = format!(
            "module.exports = {{}};{}eval(atob('Y29uc29sZS5sb2coMSk='));\n",
            " ".repeat(2000)
        );
        let findings = run("index.js", &source);
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert_eq!(findings[0].severity, Severity::Critical);
        assert_eq!(findings[0].line, Some(1));
    }

    #[test]
    fn padded_markdown_tables_are_not_code() {
        let source = format!("| Code | Definition |{}| --- |\n", " ".repeat(400));
        assert!(run("README.md", &source).is_empty());
    }

    #[test]
    fn trailing_whitespace_is_not_padding() {
        let source = format!("module.exports = {{}};{}\nconst x = 1;\n", " ".repeat(2000));
        assert!(run("index.js", &source).is_empty());
    }
}
