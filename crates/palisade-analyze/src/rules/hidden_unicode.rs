//! `hidden-unicode`: code hidden in characters an editor does not show: payloads encoded as
//! runs of variation selectors, tag or private-use characters and decoded at run time,
//! identifiers made of Hangul fillers, and bidirectional overrides ("Trojan Source").

use palisade_core::{Capability, Confidence, Finding, Severity};

use super::signals::finding;
use super::sinks;
use super::{FileRule, RuleInfo};
use crate::facts::{FileFacts, FileKind};

pub struct HiddenUnicode;

static INFO: RuleInfo = RuleInfo {
    id: "hidden-unicode",
    severity: Severity::High,
    confidence: Confidence::Medium,
    capabilities: &[Capability::Obfuscation],
    summary: "Hides code in invisible characters: variation-selector or private-use payloads, invisible identifiers, bidirectional overrides",
    docs: r#"## What it detects

- **Invisible payloads**: a run of 16 or more characters that render as nothing (variation
  selectors U+FE00–FE0F and U+E0100–E01EF, tag characters U+E0000–E007F, private-use
  characters, zero-width spaces and joiners, word joiners, Hangul fillers), in the source or in
  a decoded string. Each character carries a byte of a payload that a few lines of code turn
  back into text with `codePointAt`. **Critical** when the file also evaluates or runs code
  (`eval`, `Function`, `vm`, `child_process`), **high** when it reads code points to decode
  them, **moderate** otherwise. In minified bundles and files over 50 KB, which evaluate code
  and read code points for their own reasons, high with low confidence at most.
- **Invisible identifiers**: Hangul filler characters (U+3164, U+FFA0, U+115F, U+1160) outside
  string literals are valid identifier characters that show as blank space, so
  `const { timeout,ㅤ} = req.query; exec(ㅤ)` looks like it runs nothing. **High**, critical
  when the file runs commands or code.
- **Trojan Source** (CVE-2021-42574): bidirectional override and isolate characters
  (U+202A–202E, U+2066–2069) written raw in the source, which reorder how code is displayed
  so that reviewers read something other than what runs. **Moderate**.

## Real attacks

- os-info-checker-es6 (March–May 2025): its payload was a string of private-use and
  variation-selector characters decoded with `codePointAt` and passed to `eval`; follow-up
  packages depended on it.
- GlassWorm (October 2025): invisible variation-selector payloads in VS Code extensions and
  the packages they pulled, decoded and evaluated at start-up.
- "The Invisible Backdoor" (Certitude, 2021) and Trojan Source (Boucher and Anderson, 2021):
  Hangul-filler parameters and bidi overrides that make malicious code look harmless in review.

## Known false positives

Unicode data packages list every private-use or variation-selector character; they are
reported moderate at most unless they also evaluate code. Text written raw in right-to-left
scripts uses bidi marks, but seldom the override and isolate controls in source files.
"#,
};

/// Characters that render as nothing (or blank space).
fn is_invisible(c: char) -> bool {
    matches!(c as u32,
        0xFE00..=0xFE0F
        | 0xE0100..=0xE01EF
        | 0xE0000..=0xE007F
        | 0xE000..=0xF8FF
        | 0xF0000..=0x10FFFD
        | 0x200B..=0x200D
        | 0x2060..=0x2064
        | 0x180E
        | 0x115F
        | 0x1160
        | 0x3164
        | 0xFFA0)
}

/// Hangul fillers: identifier characters that show as blank space.
fn is_filler(c: char) -> bool {
    matches!(c as u32, 0x115F | 0x1160 | 0x3164 | 0xFFA0)
}

fn is_bidi_control(c: char) -> bool {
    matches!(c as u32, 0x202A..=0x202E | 0x2066..=0x2069)
}

/// What one pass over a text finds: the longest run of invisible characters and the line
/// where it starts, and the first lines holding a Hangul filler or a bidi control.
#[derive(Default)]
struct Scan {
    run: usize,
    run_line: u32,
    filler_line: Option<u32>,
    bidi_line: Option<u32>,
}

/// Scans `text` once. Every character of interest is three or four bytes long in UTF-8 with a
/// lead byte of 0xE1 or more, so other bytes (ASCII, Latin and Greek letters) are skipped
/// without decoding; newlines are counted only when needed, from the last position.
fn scan(text: &str) -> Scan {
    let bytes = text.as_bytes();
    let mut out = Scan::default();
    let (mut run, mut run_start_line, mut run_end) = (0usize, 0u32, usize::MAX);
    let (mut line, mut counted_to) = (1u32, 0usize);
    let mut line_at = |at: usize| {
        line += u32::try_from(memchr::memchr_iter(b'\n', &bytes[counted_to..at]).count()).unwrap_or(0);
        counted_to = at;
        line
    };
    let mut index = 0;
    while index < bytes.len() {
        let lead = bytes[index];
        if lead < 0xE1 {
            index += 1;
            continue;
        }
        let width = if lead >= 0xF0 { 4 } else { 3 };
        let Some(c) = text.get(index..index + width).and_then(|s| s.chars().next()) else {
            index += 1;
            continue;
        };
        if is_invisible(c) {
            if run_end != index {
                run = 0;
                run_start_line = line_at(index);
            }
            run += 1;
            run_end = index + width;
            if run > out.run {
                out.run = run;
                out.run_line = run_start_line;
            }
        }
        if is_filler(c) && out.filler_line.is_none() {
            out.filler_line = Some(line_at(index));
        }
        if is_bidi_control(c) && out.bidi_line.is_none() {
            out.bidi_line = Some(line_at(index));
        }
        index += width;
    }
    out
}

/// The longest run of invisible characters in `text`, with the 1-based line where it starts.
fn longest_invisible_run(text: &str) -> (usize, u32) {
    let found = scan(text);
    (found.run, found.run_line)
}

/// A run at least this long is a payload, not a stray joiner or an emoji's selector.
const MIN_RUN: usize = 16;

impl FileRule for HiddenUnicode {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, file: &FileFacts, out: &mut Vec<Finding>) {
        if !matches!(file.kind, FileKind::JavaScript | FileKind::TypeScript) {
            return;
        }
        let Some(text) = file.text.as_deref() else { return };
        let strings_ascii = file.strings.iter().all(|s| s.value.is_ascii());
        if text.is_ascii() && strings_ascii {
            return;
        }
        let runs = file
            .calls
            .iter()
            .any(|c| sinks::is_eval(c) || sinks::is_exec_call(c) || c.callee.ends_with("._compile"));
        let reads_code_points = text.contains("codePointAt") || text.contains("charCodeAt");

        // Invisible payloads, raw in the source or decoded from escapes.
        let source = scan(text);
        let (mut run, mut line) = (source.run, source.run_line);
        if run < MIN_RUN && !strings_ascii {
            for string in file.strings.iter().filter(|s| !s.value.is_ascii()) {
                let (length, _) = longest_invisible_run(&string.value);
                if length > run {
                    (run, line) = (length, string.line);
                }
            }
        }
        if run >= MIN_RUN {
            let small = sinks::is_small_handwritten(file);
            let (severity, confidence, then) = if !small {
                // Bundles evaluate code and read code points for their own reasons, and some
                // carry Unicode tables: a lead, not a verdict.
                if runs && reads_code_points {
                    (
                        Severity::High,
                        Confidence::Low,
                        " in a bundle that reads code points and evaluates code",
                    )
                } else {
                    (Severity::Moderate, Confidence::Low, "")
                }
            } else if runs && reads_code_points {
                (
                    Severity::Critical,
                    Confidence::High,
                    ", decoded with code-point arithmetic and run",
                )
            } else if runs {
                (
                    Severity::High,
                    Confidence::Medium,
                    " in a file that evaluates or runs code",
                )
            } else if reads_code_points {
                (
                    Severity::High,
                    Confidence::Medium,
                    ", read back with code-point arithmetic",
                )
            } else {
                (Severity::Moderate, Confidence::Low, "")
            };
            out.push(finding(
                &INFO,
                file,
                line,
                severity,
                confidence,
                format!("Hides {run} invisible characters (variation selectors, tag or private-use characters) in one run{then}: a payload no editor or diff shows"),
                &format!("{run} invisible code points"),
            ));
        }

        if text.is_ascii() {
            return;
        }
        // Invisible identifiers: fillers in the source that are not inside a string constant.
        if let Some(line) = source.filler_line {
            if !file.strings.iter().any(|s| s.value.chars().any(is_filler)) {
                let (severity, confidence) = if runs {
                    (Severity::Critical, Confidence::Medium)
                } else {
                    (Severity::High, Confidence::Medium)
                };
                out.push(finding(
                    &INFO,
                    file,
                    line,
                    severity,
                    confidence,
                    "Uses an invisible identifier (a Hangul filler character, shown as blank space): code that reads as doing nothing passes a hidden value".to_string(),
                    "",
                ));
            }
        }
        // Trojan Source: bidi overrides written raw in the source.
        if let Some(line) = source.bidi_line {
            out.push(finding(
                &INFO,
                file,
                line,
                Severity::Moderate,
                Confidence::Medium,
                "Contains raw bidirectional override characters (Trojan Source, CVE-2021-42574): the code is displayed in a different order than it runs".to_string(),
                "",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts;

    fn run(source: &str) -> Vec<Finding> {
        let file = facts::extract("index.js", source.as_bytes(), 0o644);
        let mut out = Vec::new();
        HiddenUnicode.check(&file, &mut out);
        out
    }

    fn encode(code: &str) -> String {
        code.bytes()
            .map(|b| {
                let point = if b < 16 {
                    0xFE00 + u32::from(b)
                } else {
                    0xE0100 + u32::from(b) - 16
                };
                char::from_u32(point).unwrap_or(' ')
            })
            .collect()
    }

    #[test]
    fn variation_selector_payload_decoded_and_evaluated_is_critical() {
        let payload = encode("require('child_process').exec('id')");
        let source = format!(
            "const s = \"{payload}\";\nconst d = (t) => Buffer.from([...t].map((c) => c.codePointAt(0) - 0xE0100 + 16));\neval(d(s).toString());\n"
        );
        let found = run(&source);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].severity, Severity::Critical);
        assert_eq!(found[0].line, Some(1));
        // The same payload written with escapes is decoded by the extractor and still found.
        let escaped: String = payload.chars().map(|c| format!("\\u{{{:X}}}", c as u32)).collect();
        let source = format!("const s = \"{escaped}\";\nconst d = (t) => [...t].map((c) => c.codePointAt(0));\nnew Function(String.fromCharCode(...d(s)))();\n");
        let found = run(&source);
        assert_eq!(
            found.first().map(|f| f.severity),
            Some(Severity::Critical),
            "{found:#?}"
        );
    }

    #[test]
    fn invisible_identifiers_and_bidi_overrides() {
        let filler = "const { exec } = require('child_process');\napp.get('/network_health', async (req, res) => {\n  const { timeout,\u{3164}} = req.query;\n  exec(\u{3164}, () => res.send('ok'));\n});\n";
        let found = run(filler);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].severity, Severity::Critical);
        assert_eq!(found[0].line, Some(3));
        let bidi = "const isAdmin = false;\n/*\u{202E} } \u{2066}if (isAdmin)\u{2069} \u{2066} begin admins only */\nconsole.log('x');\n";
        let found = run(bidi);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].severity, Severity::Moderate);
    }

    #[test]
    fn text_emoji_and_icon_fonts_are_quiet() {
        for source in [
            "module.exports = { hello: 'Grüße, 世界', ok: '✔️', flag: '🏳️‍🌈', family: '👨‍👩‍👧' };",
            // Icon fonts map names to single private-use characters.
            "export const icons = { home: '\u{E88A}', search: '\u{E8B6}', menu: '\u{E5D2}' };",
            // A filler character inside a string is text.
            "const blank = '\u{3164}';\nmodule.exports = () => blank;",
            "const rtl = '\\u202B' + text + '\\u202C';",
        ] {
            assert!(run(source).is_empty(), "{source}: {:#?}", run(source));
        }
        // A Unicode table listing private-use characters, with no decoder and nothing run.
        let table: String = (0xE000u32..0xE040).filter_map(char::from_u32).collect();
        let found = run(&format!("module.exports = \"{table}\";"));
        assert!(found.iter().all(|f| f.severity <= Severity::Moderate), "{found:#?}");
    }
}
