//! The rules: one per file, each with a stable id and its documentation.
//!
//! A [`FileRule`] looks at the facts of one file; a [`PackageRule`] at the package as a
//! whole (its manifest, its file list, every file's facts). Severity guide for rule
//! authors: `critical` — on its own, this is what malware does (process.env sent to a
//! webhook, wallet hijack); `high` — strongly suspicious (decoded payload executed,
//! ~/.npmrc read); `moderate` — a risky capability worth a look (shell with a computed
//! command, install script running a file); `low` — a capability worth listing.

use palisade_core::{Capability, Confidence, Finding, Severity};
use palisade_tarball::PackageContents;
use serde::Serialize;

use crate::facts::{self, FileFacts};
use crate::ScanOptions;

mod ai_agent_dropper;
mod destructive;
mod native_dropper;
mod persistence;
mod sabotage;
mod signals;
mod wallet_hijack;
mod worm_publish;

mod credential_files;
mod dynamic_code;
mod encoded_payload;
mod env_harvest;
mod exfil_sink;
mod obfuscation;
mod shell_exec;
mod sinks;
pub(crate) use sinks::{string_marks, StringMarks};

mod archive_anomaly;
mod bin_shadowing;
mod clipboard_hijack;
mod dependency_confusion_version;
mod hidden_unicode;
mod host_recon;
pub mod install_script;
mod install_script_binary;
mod install_script_download;
mod install_script_inline_code;
mod install_script_persistence;
mod install_script_runs_file;
mod manifest_confusion;
pub mod phantom_dependency;
mod remote_code;
mod remote_dependency;
mod sandbox_evasion;
pub mod typosquat;

/// A rule's documentation, printed by `palisade explain RULE`.
#[derive(Debug, Clone, Serialize)]
pub struct RuleInfo {
    /// Stable id, kebab-case.
    pub id: &'static str,
    pub severity: Severity,
    pub confidence: Confidence,
    pub capabilities: &'static [Capability],
    /// One line.
    pub summary: &'static str,
    /// Markdown: what it detects, the real attacks it catches, known false positives.
    pub docs: &'static str,
}

pub trait FileRule: Sync {
    fn info(&self) -> &'static RuleInfo;
    fn check(&self, file: &FileFacts, out: &mut Vec<Finding>);
}

pub trait PackageRule: Sync {
    fn info(&self) -> &'static RuleInfo;
    fn check(&self, package: &PackageFacts<'_>, out: &mut Vec<Finding>);
}

/// Everything known about a package.
pub struct PackageFacts<'a> {
    pub contents: &'a PackageContents,
    pub options: &'a ScanOptions,
    /// The root package.json, parsed (None when missing or invalid).
    pub manifest: Option<serde_json::Value>,
    pub name: String,
    pub version: String,
    pub files: Vec<FileFacts>,
}

pub fn package_facts<'a>(contents: &'a PackageContents, options: &'a ScanOptions) -> PackageFacts<'a> {
    let manifest: Option<serde_json::Value> = contents
        .manifest_bytes()
        .and_then(|bytes| serde_json::from_slice(bytes).ok());
    let field = |key: &str| {
        manifest
            .as_ref()
            .and_then(|m| m.get(key))
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_string()
    };
    let name = field("name");
    let version = field("version");
    let files = facts::extract_all(&contents.files);
    let mut package = PackageFacts {
        contents,
        options,
        manifest,
        name,
        version,
        files,
    };
    // Inline `node -e` code of lifecycle scripts is read like a file of the package.
    for (name, code) in install_script::inline_js(&package) {
        package.files.push(facts::extract_inline_js(&name, &code));
    }
    package
}

fn file_rules() -> Vec<&'static dyn FileRule> {
    vec![
        &shell_exec::ShellExec,
        &dynamic_code::DynamicCode,
        &encoded_payload::EncodedPayload,
        &obfuscation::Obfuscation,
        &env_harvest::EnvHarvest,
        &credential_files::CredentialFiles,
        &exfil_sink::ExfilSink,
        &wallet_hijack::WalletHijack,
        &worm_publish::WormPublish,
        &persistence::Persistence,
        &destructive::Destructive,
        &sabotage::Sabotage,
        &sandbox_evasion::SandboxEvasion,
        &remote_code::RemoteCode,
        &hidden_unicode::HiddenUnicode,
        &clipboard_hijack::ClipboardHijack,
    ]
}

fn package_rules() -> Vec<&'static dyn PackageRule> {
    vec![
        &native_dropper::NativeDropper,
        &ai_agent_dropper::AiAgentDropper,
        &install_script::InstallScript,
        &install_script_download::InstallScriptDownload,
        &install_script_runs_file::InstallScriptRunsFile,
        &install_script_inline_code::InstallScriptInlineCode,
        &install_script_binary::InstallScriptBinary,
        &install_script_persistence::InstallScriptPersistence,
        &bin_shadowing::BinShadowing,
        &remote_dependency::RemoteDependency,
        &host_recon::HostRecon,
        &typosquat::Typosquat,
        &dependency_confusion_version::DependencyConfusionVersion,
        &manifest_confusion::ManifestConfusion,
        &phantom_dependency::PhantomDependency,
        &archive_anomaly::ArchiveAnomaly,
    ]
}

/// Bits of [`call_flags`]: what kind of sink a call is, decided once per call.
pub(crate) mod flag {
    /// `signals::is_exec_call`.
    pub const EXEC: u8 = 1;
    /// `signals::is_network_call`.
    pub const NETWORK: u8 = 1 << 1;
    /// `signals::is_write_call`.
    pub const WRITE: u8 = 1 << 2;
    /// `signals::is_delete_call`.
    pub const DELETE: u8 = 1 << 3;
    /// `sinks::is_exec` on the callee.
    pub const SINK_EXEC: u8 = 1 << 4;
    /// `sinks::is_network` on the callee.
    pub const SINK_NETWORK: u8 = 1 << 5;
    /// `sinks::is_eval`.
    pub const EVAL: u8 = 1 << 6;
}

pub(crate) use signals::lower_strings_with_decoded;

/// Module roots and method names that some classifier in [`call_flags`] accepts: a call with
/// neither (`?.push`, `Array.isArray`, a local helper) is no sink, decided with two lookups
/// instead of seven classifiers. `call_flags_prefilter_keeps_every_sink` checks the lists.
const SINK_ROOTS: &[&str] = &[
    "child_process",
    "execa",
    "cross-spawn",
    "zx",
    "spawn-sync",
    "tinyexec",
    "nano-spawn",
    "shelljs",
    "Bun",
    "Deno",
    "fetch",
    "node-fetch",
    "cross-fetch",
    "undici",
    "axios",
    "got",
    "request",
    "needle",
    "superagent",
    "ky",
    "phin",
    "bent",
    "ws",
    "WebSocket",
    "EventSource",
    "http",
    "https",
    "http2",
    "net",
    "tls",
    "dgram",
    "dns",
    "navigator",
    "XMLHttpRequest",
    "socket",
    "rimraf",
    "del",
    "trash",
    "premove",
    "eval",
    "Function",
    "vm",
    "process",
    "util",
];
/// Method names outside the classifiers' write and delete lists that a classifier accepts
/// (`XMLHttpRequest…open/send`, `module._compile`).
const OTHER_SINK_METHODS: &[&str] = &["open", "send", "_compile"];

fn may_be_sink(callee: &str) -> bool {
    static ROOTS: std::sync::OnceLock<rustc_hash::FxHashSet<&'static str>> = std::sync::OnceLock::new();
    static METHODS: std::sync::OnceLock<rustc_hash::FxHashSet<&'static str>> = std::sync::OnceLock::new();
    let callee = sinks::normalize(callee);
    let root = callee.find('.').map_or(callee, |dot| &callee[..dot]);
    ROOTS
        .get_or_init(|| SINK_ROOTS.iter().copied().collect())
        .contains(root)
        || METHODS
            .get_or_init(|| {
                signals::WRITE_METHODS
                    .iter()
                    .chain(signals::DELETE_METHODS)
                    .chain(OTHER_SINK_METHODS)
                    .copied()
                    .collect()
            })
            .contains(signals::method(callee))
}

/// Classifies one call (stored in `Call::flags` when the extractor records it).
pub(crate) fn call_flags(call: &facts::Call) -> u8 {
    if !may_be_sink(&call.callee) {
        return 0;
    }
    call_flags_exact(call)
}

fn call_flags_exact(call: &facts::Call) -> u8 {
    let mut flags = 0;
    for (yes, bit) in [
        (signals::classify_exec(call), flag::EXEC),
        (signals::classify_network(call), flag::NETWORK),
        (signals::classify_write(call), flag::WRITE),
        (signals::classify_delete(call), flag::DELETE),
        (sinks::is_exec(&call.callee), flag::SINK_EXEC),
        (sinks::is_network(&call.callee), flag::SINK_NETWORK),
        (sinks::classify_eval(call), flag::EVAL),
    ] {
        if yes {
            flags |= bit;
        }
    }
    flags
}

/// Runs every rule.
pub fn run_all(package: &PackageFacts<'_>, out: &mut Vec<Finding>) {
    let file_rules = file_rules();
    for file in &package.files {
        for rule in &file_rules {
            rule.check(file, out);
        }
    }
    for rule in package_rules() {
        rule.check(package, out);
    }
}

/// Every rule's documentation, in id order.
pub fn rules() -> Vec<&'static RuleInfo> {
    let mut all: Vec<&'static RuleInfo> = file_rules().into_iter().map(|r| r.info()).collect();
    all.extend(package_rules().into_iter().map(|r| r.info()));
    all.sort_by_key(|r| r.id);
    all
}

pub fn rule_info(id: &str) -> Option<&'static RuleInfo> {
    rules().into_iter().find(|r| r.id == id)
}

/// Runs every rule like [`run_all`], timing each one (summed over the package's files), for
/// profiling: `examples/scan_tgz`. Returns `(rule id, seconds)` in run order.
pub fn run_all_timed(package: &PackageFacts<'_>, out: &mut Vec<Finding>) -> Vec<(&'static str, f64)> {
    let file_rules = file_rules();
    let mut times: Vec<(&'static str, f64)> = file_rules.iter().map(|r| (r.info().id, 0.0)).collect();
    for file in &package.files {
        for (rule, time) in file_rules.iter().zip(times.iter_mut()) {
            let started = std::time::Instant::now();
            rule.check(file, out);
            time.1 += started.elapsed().as_secs_f64();
        }
    }
    for rule in package_rules() {
        let started = std::time::Instant::now();
        rule.check(package, out);
        times.push((rule.info().id, started.elapsed().as_secs_f64()));
    }
    times
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every callee any classifier accepts passes the prefilter: the callees from the
    /// classifiers' own lists, in the spellings the extractor produces.
    #[test]
    fn call_flags_prefilter_keeps_every_sink() {
        let callees = [
            "child_process.exec",
            "node:child_process.spawn",
            "child_process.promises.exec",
            "execa",
            "execa.sync",
            "execa.$",
            "cross-spawn",
            "cross-spawn.sync",
            "zx",
            "shelljs.exec",
            "shelljs.rm",
            "Bun.spawn",
            "Bun.$",
            "Bun.write",
            "Deno.Command",
            "Deno.run",
            "Deno.writeTextFile",
            "fetch",
            "globalThis.fetch",
            "window.fetch",
            "node-fetch",
            "axios.post",
            "got",
            "request",
            "https.request",
            "http.get",
            "http2.connect",
            "net.connect",
            "tls.connect",
            "dgram.createSocket",
            "dns.lookup",
            "navigator.sendBeacon",
            "XMLHttpRequest",
            "XMLHttpRequest.prototype.open",
            "socket.io-client",
            "ws",
            "WebSocket",
            "EventSource",
            "fs.writeFileSync",
            "fs.promises.writeFile",
            "fs/promises.appendFile",
            "fs-extra.outputFile",
            "?.rename",
            "fs.rmSync",
            "fs.unlinkSync",
            "rimraf",
            "rimraf.sync",
            "del",
            "trash",
            "premove",
            "?.rm",
            "eval",
            "Function",
            "vm.runInThisContext",
            "vm.Script",
            "module._compile",
            "?._compile",
            "process.binding",
            "util.promisify(child_process.exec)",
            "self.fetch",
            "global.eval",
        ];
        for callee in callees {
            let call = facts::Call::bare(callee);
            assert_eq!(call_flags(&call), call_flags_exact(&call), "{callee}");
            assert_ne!(call_flags(&call), 0, "{callee} should be some kind of sink");
        }
        for callee in [
            "?.open",
            "?.send",
            "?.push",
            "Array.isArray",
            "helper",
            "JSON.stringify",
            "?.exec",
            "Object.defineProperty",
        ] {
            let call = facts::Call::bare(callee);
            assert_eq!(call_flags(&call), call_flags_exact(&call), "{callee}");
        }
    }
}
