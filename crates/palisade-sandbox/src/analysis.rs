//! Dynamic findings: the timeline judged in the static analyzer's finding model.

use std::collections::BTreeSet;

use palisade_core::{Capability, Confidence, Finding, Severity, Verdict};

use crate::honeytokens::HOME;
use crate::model::{Event, EventKind, SandboxReport};

/// Every dynamic rule id with one line on what it means. Ids are stable forever.
pub fn rule_ids() -> &'static [(&'static str, &'static str)] {
    &[
        ("sandbox-network-exfil", "a planted canary credential left the sandbox in network traffic (DNS or TCP)"),
        ("sandbox-honeytoken-read", "a planted credential file (~/.npmrc, ~/.aws/credentials, ~/.ssh/id_rsa, wallet) was opened"),
        ("sandbox-persistence-write", "a write to a persistence location: shell rc files, cron, systemd, .github/workflows, git hooks, authorized_keys"),
        ("sandbox-npm-publish", "the install ran `npm publish` (or yarn/pnpm): a worm republishing packages"),
        ("sandbox-shell-exec", "a shell was started by package code rather than by the lifecycle script runner"),
        ("sandbox-suspicious-exec", "a download, network or scripting tool was run (curl, wget, nc, python, …)"),
        ("sandbox-download-exec", "a file written during the install was made executable or executed"),
        ("sandbox-sensitive-read", "a credential or secret store that is not a honeytoken was opened (.git-credentials, .docker/config.json, /proc/N/environ, browser profiles)"),
        ("sandbox-network-connect", "the install looked up names or opened connections"),
        ("sandbox-write-outside", "files were written outside the package, /tmp and the npm cache (other packages, the project)"),
        ("sandbox-destructive", "files of the home or the project were deleted (wiper behaviour)"),
        ("sandbox-limit", "a sandbox limit was hit: wall time, CPU, process count, file size or output"),
    ]
}

/// Critical findings make a package malicious; high and moderate ones suspicious.
pub fn verdict_of(findings: &[Finding]) -> Verdict {
    if findings.iter().any(|finding| finding.severity >= Severity::Critical) {
        Verdict::Malicious
    } else if findings.iter().any(|finding| finding.severity >= Severity::Moderate) {
        Verdict::Suspicious
    } else {
        Verdict::Clean
    }
}

const SHELLS: &[&str] = &[
    "sh", "bash", "dash", "zsh", "ash", "ksh", "fish", "csh", "tcsh", "busybox",
];
const TOOLS: &[&str] = &[
    "curl",
    "wget",
    "nc",
    "ncat",
    "netcat",
    "socat",
    "telnet",
    "python",
    "python3",
    "perl",
    "ruby",
    "php",
    "ssh",
    "scp",
    "openssl",
    "base64",
    "gh",
    "trufflehog",
    "crontab",
    "systemctl",
    "nohup",
    "setsid",
    "powershell",
    "pwsh",
    "git",
];
const PACKAGE_MANAGERS: &[&str] = &["npm", "npm-cli.js", "yarn", "yarn.js", "pnpm", "pnpm.cjs"];

fn persistence_kind(path: &str) -> Option<&'static str> {
    let home = |suffix: &str| path == format!("{HOME}/{suffix}");
    if [
        ".bashrc",
        ".bash_profile",
        ".bash_login",
        ".profile",
        ".zshrc",
        ".zprofile",
        ".zshenv",
        ".bash_logout",
    ]
    .iter()
    .any(|file| home(file))
        || path.starts_with("/etc/profile")
        || path == "/etc/bash.bashrc"
        || path.starts_with(&format!("{HOME}/.config/fish/"))
    {
        return Some("shell startup file");
    }
    if path.starts_with("/etc/cron") || path.starts_with("/var/spool/cron") || path == "/etc/crontab" {
        return Some("cron");
    }
    if path.contains("/systemd/") {
        return Some("systemd unit");
    }
    if path.contains("/.github/workflows/") {
        return Some("GitHub Actions workflow");
    }
    if path.contains("/.git/hooks/") {
        return Some("git hook");
    }
    if path.ends_with("/.ssh/authorized_keys") {
        return Some("SSH authorized_keys");
    }
    if path.contains("/.config/autostart/") || path == "/etc/rc.local" || path.starts_with("/etc/init.d/") {
        return Some("autostart");
    }
    if path == format!("{HOME}/.npmrc") || path.ends_with("/.yarnrc") || path.ends_with("/.yarnrc.yml") {
        return Some("package manager configuration");
    }
    None
}

fn sensitive_kind(path: &str) -> Option<&'static str> {
    const HOME_SECRETS: &[(&str, &str)] = &[
        (".git-credentials", "git credentials"),
        (".netrc", "netrc credentials"),
        (".docker/config.json", "docker credentials"),
        (".kube/config", "Kubernetes credentials"),
        (".config/gcloud", "Google Cloud credentials"),
        (".azure", "Azure credentials"),
        (".bash_history", "shell history"),
        (".zsh_history", "shell history"),
        (".ssh/", "SSH keys"),
        (".gnupg", "GnuPG keys"),
        (".config/google-chrome", "browser profile"),
        (".config/chromium", "browser profile"),
        (".mozilla", "browser profile"),
        (".config/BraveSoftware", "browser profile"),
        (".config/Exodus", "wallet"),
        (".electrum", "wallet"),
        (".bitcoin", "wallet"),
        (".ethereum", "wallet"),
        (".config/solana", "wallet"),
        (".aws/", "AWS configuration"),
        (".config/gh", "GitHub CLI credentials"),
        (".yarnrc", "package manager credentials"),
    ];
    if let Some(relative) = path.strip_prefix(&format!("{HOME}/")) {
        if let Some((_, kind)) = HOME_SECRETS.iter().find(|(prefix, _)| relative.starts_with(prefix)) {
            return Some(kind);
        }
    }
    if path == "/etc/shadow" || path == "/etc/gshadow" {
        return Some("password hashes");
    }
    if path.starts_with("/proc/") && path.ends_with("/environ") {
        return Some("process environment");
    }
    if path.ends_with("/.env") || path.contains("/.env.") {
        return Some("dotenv secrets");
    }
    None
}

/// The path of a file event (`/x (chmod 755)` → `/x`).
fn event_path(event: &Event) -> &str {
    event.detail.split(" (").next().unwrap_or(&event.detail)
}

fn list(items: &BTreeSet<String>, max: usize) -> String {
    let mut shown: Vec<&str> = items.iter().take(max).map(String::as_str).collect();
    let more = items.len().saturating_sub(max);
    let tail = format!("+{more} more");
    if more > 0 {
        shown.push(&tail);
    }
    shown.join(", ")
}

pub(crate) fn summary(report: &SandboxReport) -> crate::model::Summary {
    let count = |kind: EventKind| report.events.iter().filter(|event| event.kind == kind).count();
    let mut honeytokens: BTreeSet<String> = report
        .events
        .iter()
        .filter(|event| event.kind == EventKind::Honeytoken)
        .filter_map(|event| event.detail.split(' ').nth(1).map(str::to_string))
        .collect();
    honeytokens.extend(report.network.iter().flat_map(|record| record.canaries.iter().cloned()));
    let capabilities: BTreeSet<Capability> = report
        .findings
        .iter()
        .flat_map(|finding| finding.capabilities.iter().copied())
        .collect();
    crate::model::Summary {
        processes: count(EventKind::Exec),
        files_read: count(EventKind::FileRead),
        files_written: count(EventKind::FileWrite),
        dns_queries: report.network.iter().filter(|record| record.protocol == "dns").count(),
        connections: report.network.iter().filter(|record| record.protocol != "dns").count(),
        honeytokens: honeytokens.len(),
        limits_hit: count(EventKind::Limit),
        capabilities: capabilities.into_iter().collect(),
    }
}

pub(crate) fn findings(report: &SandboxReport, package_dir: &str) -> Vec<Finding> {
    let mut findings = Vec::new();
    let events = &report.events;
    let network_used = report
        .network
        .iter()
        .any(|record| record.protocol == "tcp" || !record.host.is_empty())
        || events.iter().any(|event| event.kind == EventKind::Connect);

    // Canaries in traffic.
    let mut exfil = BTreeSet::new();
    let mut exfil_where = BTreeSet::new();
    for record in &report.network {
        if !record.canaries.is_empty() {
            exfil.extend(record.canaries.iter().cloned());
            let shown = record
                .http
                .as_ref()
                .map(|http| format!("{} http://{}{}", http.method, http.host, http.path))
                .unwrap_or_else(|| format!("{} {}:{}", record.protocol, record.host, record.port));
            exfil_where.insert(shown);
        }
    }
    if !exfil.is_empty() {
        findings.push(
            Finding::new(
                "sandbox-network-exfil",
                Severity::Critical,
                Confidence::High,
                format!("planted credentials ({}) were sent over the network", list(&exfil, 6)),
            )
            .with_evidence(list(&exfil_where, 4))
            .with_capabilities(&[Capability::Network, Capability::Credentials]),
        );
    }

    // Honeytoken files opened.
    let tokens: BTreeSet<String> = events
        .iter()
        .filter(|event| event.kind == EventKind::Honeytoken && event.detail.starts_with("read "))
        .map(|event| event.detail.clone())
        .collect();
    if !tokens.is_empty() {
        let (severity, message) = if network_used {
            (
                Severity::Critical,
                "planted credential files were read, and the install used the network",
            )
        } else {
            (Severity::High, "planted credential files were read")
        };
        let mut capabilities = vec![Capability::Credentials];
        if tokens.iter().any(|detail| detail.contains("wallet")) {
            capabilities.push(Capability::Wallet);
        }
        findings.push(
            Finding::new("sandbox-honeytoken-read", severity, Confidence::High, message)
                .with_evidence(list(&tokens, 6))
                .with_capabilities(&capabilities),
        );
    }

    // Writes: persistence, outside the package, executables.
    let mut persistence = BTreeSet::new();
    let mut outside = BTreeSet::new();
    let mut written = BTreeSet::new();
    let mut executable = BTreeSet::new();
    let mut deleted = BTreeSet::new();
    for event in events.iter().filter(|event| event.kind == EventKind::FileWrite) {
        let path = event_path(event);
        if event.detail.ends_with("(delete)") {
            if !path.starts_with(package_dir) && !path.starts_with("/tmp/") {
                deleted.insert(path.to_string());
            }
            continue;
        }
        if let Some(kind) = persistence_kind(path) {
            persistence.insert(format!("{path} ({kind})"));
        } else if !path.starts_with(package_dir)
            && !path.starts_with("/tmp/")
            && !path.starts_with(&format!("{HOME}/.npm/"))
            && !path.starts_with(&format!("{HOME}/.cache/"))
        {
            outside.insert(path.to_string());
        }
        if let Some(mode) = event
            .detail
            .rsplit_once("(chmod ")
            .and_then(|(_, mode)| mode.strip_suffix(')'))
        {
            if u32::from_str_radix(mode, 8).is_ok_and(|mode| mode & 0o111 != 0) {
                executable.insert(path.to_string());
            }
        } else {
            written.insert(path.to_string());
        }
    }
    if !persistence.is_empty() {
        findings.push(
            Finding::new(
                "sandbox-persistence-write",
                Severity::Critical,
                Confidence::High,
                "the install wrote to a persistence location",
            )
            .with_evidence(list(&persistence, 6))
            .with_capabilities(&[Capability::Persistence, Capability::Filesystem]),
        );
    }

    if !deleted.is_empty() {
        let home_or_project = deleted
            .iter()
            .filter(|path| path.starts_with(&format!("{HOME}/")) || path.starts_with("/app/"))
            .count();
        let severity = if home_or_project >= 3 {
            Severity::Critical
        } else {
            Severity::High
        };
        findings.push(
            Finding::new(
                "sandbox-destructive",
                severity,
                Confidence::High,
                format!("the install deleted {} files outside its own directory", deleted.len()),
            )
            .with_evidence(list(&deleted, 6))
            .with_capabilities(&[Capability::Destructive, Capability::Filesystem]),
        );
    }

    // Programs run.
    let mut shells = BTreeSet::new();
    let mut shells_from_node = false;
    let mut tools = BTreeSet::new();
    let mut publish = BTreeSet::new();
    for event in events.iter().filter(|event| event.kind == EventKind::Exec) {
        let mut argv = event.detail.split(' ');
        let program = argv.next().unwrap_or_default().rsplit('/').next().unwrap_or_default();
        let started_by_init = event.ppid == Some(1);
        let parent = event.parent.as_deref().unwrap_or_default();
        if SHELLS.contains(&program) && !started_by_init {
            shells_from_node |= parent == "node";
            shells.insert(format!("{} (from {parent})", event.detail));
        }
        let base = program.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
        if TOOLS.contains(&program) || TOOLS.contains(&base) {
            tools.insert(event.detail.clone());
        }
        let is_node_running_pm = program == "node"
            && event
                .detail
                .split(' ')
                .nth(1)
                .is_some_and(|script| PACKAGE_MANAGERS.contains(&script.rsplit('/').next().unwrap_or_default()));
        if (PACKAGE_MANAGERS.contains(&program) || is_node_running_pm)
            && event.detail.split(' ').any(|arg| arg == "publish")
        {
            publish.insert(event.detail.clone());
        }
        let path = event.detail.split(' ').next().unwrap_or_default();
        if written.contains(path) {
            executable.insert(path.to_string());
        }
    }
    if !publish.is_empty() {
        findings.push(
            Finding::new(
                "sandbox-npm-publish",
                Severity::Critical,
                Confidence::High,
                "the install tried to publish packages",
            )
            .with_evidence(list(&publish, 3))
            .with_capabilities(&[Capability::Publish, Capability::Shell]),
        );
    }
    if !shells.is_empty() {
        let (severity, message) = if shells_from_node {
            (Severity::High, "JavaScript code of the package started a shell")
        } else {
            (Severity::Moderate, "a shell was started by a program the install ran")
        };
        findings.push(
            Finding::new("sandbox-shell-exec", severity, Confidence::High, message)
                .with_evidence(list(&shells, 4))
                .with_capabilities(&[Capability::Shell]),
        );
    }
    if !tools.is_empty() {
        findings.push(
            Finding::new(
                "sandbox-suspicious-exec",
                Severity::Moderate,
                Confidence::Medium,
                "the install ran download, network or scripting tools",
            )
            .with_evidence(list(&tools, 4))
            .with_capabilities(&[Capability::Shell]),
        );
    }
    let executable: BTreeSet<String> = executable
        .into_iter()
        .filter(|path| written.contains(path) || !path.starts_with(package_dir))
        .collect();
    if !executable.is_empty() {
        let message = if network_used {
            "a file written during the install (after network use) was made executable or run"
        } else {
            "a file written during the install was made executable or run"
        };
        findings.push(
            Finding::new("sandbox-download-exec", Severity::High, Confidence::High, message)
                .with_evidence(list(&executable, 4))
                .with_capabilities(&[Capability::Filesystem, Capability::Shell]),
        );
    }

    // Reads of secrets that are not honeytokens.
    let sensitive: BTreeSet<String> = events
        .iter()
        .filter(|event| event.kind == EventKind::FileRead)
        .filter_map(|event| sensitive_kind(event_path(event)).map(|kind| format!("{} ({kind})", event_path(event))))
        .collect();
    if !sensitive.is_empty() {
        findings.push(
            Finding::new(
                "sandbox-sensitive-read",
                Severity::High,
                Confidence::Medium,
                "the install tried to read credentials or secrets",
            )
            .with_evidence(list(&sensitive, 6))
            .with_capabilities(&[Capability::Credentials]),
        );
    }

    // Network use without canaries.
    let mut hosts = BTreeSet::new();
    for record in &report.network {
        hosts.insert(if record.protocol == "dns" {
            format!("dns {}", record.host)
        } else {
            format!("{}:{}", record.host, record.port)
        });
    }
    for event in events.iter().filter(|event| event.kind == EventKind::Connect) {
        if let Some(address) = event.detail.strip_prefix("connect ") {
            hosts.insert(address.split(" (").next().unwrap_or(address).to_string());
        }
    }
    if !hosts.is_empty() {
        findings.push(
            Finding::new(
                "sandbox-network-connect",
                Severity::Moderate,
                Confidence::High,
                format!("the install used the network ({} destinations)", hosts.len()),
            )
            .with_evidence(list(&hosts, 6))
            .with_capabilities(&[Capability::Network]),
        );
    }
    if !outside.is_empty() {
        findings.push(
            Finding::new(
                "sandbox-write-outside",
                Severity::Low,
                Confidence::Medium,
                "the install wrote files outside its own directory",
            )
            .with_evidence(list(&outside, 6))
            .with_capabilities(&[Capability::Filesystem]),
        );
    }
    let limits: BTreeSet<String> = events
        .iter()
        .filter(|event| event.kind == EventKind::Limit)
        .map(|event| event.detail.clone())
        .collect();
    if !limits.is_empty() {
        findings.push(
            Finding::new(
                "sandbox-limit",
                Severity::Moderate,
                Confidence::Medium,
                "the install hit a sandbox limit and was cut off",
            )
            .with_evidence(list(&limits, 4))
            .with_capabilities(&[Capability::Destructive]),
        );
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_ids_are_unique_kebab_case_and_prefixed() {
        let ids: BTreeSet<&str> = rule_ids().iter().map(|(id, _)| *id).collect();
        assert_eq!(ids.len(), rule_ids().len());
        for id in ids {
            assert!(id.starts_with("sandbox-"), "{id}");
            assert!(id.chars().all(|c| c.is_ascii_lowercase() || c == '-'), "{id}");
        }
    }

    #[test]
    fn persistence_locations() {
        assert_eq!(persistence_kind("/home/node/.bashrc"), Some("shell startup file"));
        assert_eq!(
            persistence_kind("/app/.github/workflows/x.yml"),
            Some("GitHub Actions workflow")
        );
        assert_eq!(persistence_kind("/app/.git/hooks/pre-commit"), Some("git hook"));
        assert_eq!(persistence_kind("/etc/cron.d/job"), Some("cron"));
        assert_eq!(persistence_kind("/tmp/x"), None);
    }

    #[test]
    fn verdict_follows_the_worst_finding() {
        let finding = |severity| Finding::new("x", severity, Confidence::High, "m");
        assert_eq!(verdict_of(&[]), Verdict::Clean);
        assert_eq!(verdict_of(&[finding(Severity::Low)]), Verdict::Clean);
        assert_eq!(verdict_of(&[finding(Severity::Moderate)]), Verdict::Suspicious);
        assert_eq!(verdict_of(&[finding(Severity::Critical)]), Verdict::Malicious);
    }
}
