//! `install-script-binary`: an install script that runs a shipped executable, a Windows
//! script host or loader, or PowerShell with an encoded or hidden command.

use palisade_core::{Capability, Confidence, Finding, Severity};

use super::install_script::{lifecycle_scripts, Action};
use super::{PackageFacts, PackageRule, RuleInfo};

pub struct InstallScriptBinary;

static INFO: RuleInfo = RuleInfo {
    id: "install-script-binary",
    severity: Severity::High,
    confidence: Confidence::Medium,
    capabilities: &[Capability::InstallScript, Capability::Native, Capability::Shell],
    summary: "An install script runs a shipped executable, a Windows script host, or encoded PowerShell",
    docs: r#"## What it detects

- a lifecycle script whose command is a file of the package that is a native executable
  (ELF, PE, Mach-O) or other binary data (`./bin/setup`, `start /b helper.exe`);
- `powershell -enc <base64>` / `-EncodedCommand`, PowerShell with `-WindowStyle Hidden`;
- Windows living-off-the-land binaries: `wscript`, `cscript`, `mshta`, `rundll32`,
  `regsvr32`, `msiexec`, `schtasks`.

High; **critical** (high confidence) for encoded or hidden PowerShell and for
`rundll32`/`mshta`/`regsvr32`, which no legitimate package runs from an install script.

## Real attacks

- ua-parser-js 0.7.29 (October 2021): `preinstall.bat` started `jsextension.exe` (a Monero
  miner) and a DLL password stealer through `rundll32`.
- Numerous Windows droppers on npm (2022–2025, e.g. the "lazarus" fake-interview packages)
  run `powershell -w hidden -enc …` from `postinstall`.

## Known false positives

Packages that ship a prebuilt helper and run it to finish installation (rare; most use
`node-gyp-build` or `node install.js`).
"#,
};

impl PackageRule for InstallScriptBinary {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, package: &PackageFacts<'_>, out: &mut Vec<Finding>) {
        for script in lifecycle_scripts(package) {
            for action in &script.actions {
                let Action::Binary {
                    command,
                    reason,
                    critical,
                } = action
                else {
                    continue;
                };
                let message = format!("`{}` script {reason}", script.event);
                // Encoded or hidden PowerShell and script-host binaries leave little doubt.
                let (severity, confidence) = if *critical {
                    (Severity::Critical, Confidence::High)
                } else {
                    (INFO.severity, INFO.confidence)
                };
                out.push(
                    Finding::new(INFO.id, severity, confidence, message)
                        .at("package.json", script.line)
                        .with_evidence(command)
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

    const ELF: &[u8] = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x02\0\x3e\0\xff\xfe";

    #[test]
    fn shipped_executables_and_encoded_powershell() {
        for (command, severity) in [
            ("./bin/installer", Severity::High),
            ("powershell.exe -NoProfile -EncodedCommand SQBFAFgA", Severity::Critical),
            ("powershell -w hidden -c Start-Sleep 1", Severity::Critical),
            ("start /B jsextension.exe -k", Severity::High),
            ("rundll32.exe create.dll,DllRegisterServer", Severity::Critical),
            ("msiexec /i setup.msi /qn", Severity::High),
        ] {
            let manifest = manifest_with_scripts(&[("preinstall", command)]);
            let findings = run(
                &InstallScriptBinary,
                &[("package.json", &manifest), ("bin/installer", ELF)],
            );
            assert_eq!(findings.len(), 1, "{command}: {findings:?}");
            assert_eq!(findings[0].severity, severity, "{command}");
            // The critical shapes are certain enough to call the package malicious alone.
            let expected = if severity == Severity::Critical {
                Confidence::High
            } else {
                Confidence::Medium
            };
            assert_eq!(findings[0].confidence, expected, "{command}");
        }
    }

    #[test]
    fn scripts_and_tools_are_not_binaries() {
        for command in [
            "./scripts/setup.sh",
            "node-gyp rebuild",
            "node install.js",
            "prebuild-install",
        ] {
            let manifest = manifest_with_scripts(&[("install", command)]);
            let files: &[(&str, &[u8])] = &[
                ("package.json", &manifest),
                ("scripts/setup.sh", b"#!/bin/sh\necho hi\n"),
                ("install.js", b"1"),
            ];
            assert!(run(&InstallScriptBinary, files).is_empty(), "{command}");
        }
    }
}
