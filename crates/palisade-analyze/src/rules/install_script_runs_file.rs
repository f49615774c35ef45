//! `install-script-runs-file`: an install script that runs a file of the package with an
//! interpreter. The file is what runs on every install, so scoring weighs that file's own
//! findings with this one (see [`super::install_script::install_entry_files`]).

use palisade_core::{Capability, Confidence, Finding, Severity};

use super::install_script::{lifecycle_scripts, Action};
use super::{PackageFacts, PackageRule, RuleInfo};

pub struct InstallScriptRunsFile;

static INFO: RuleInfo = RuleInfo {
    id: "install-script-runs-file",
    severity: Severity::Moderate,
    confidence: Confidence::Medium,
    capabilities: &[Capability::InstallScript],
    summary: "An install script runs a file shipped in the package (node/bun/sh/python file.js)",
    docs: r#"## What it detects

`node install.js`, `node ./scripts/postinstall`, `bun setup.js`, `sh setup.sh`,
`python x.py`, `powershell -File x.ps1`, or a shell script run by path, from a
`preinstall`/`install`/`postinstall`/`prepare` script. The finding's evidence names the file
(`file: install.js`); the file's own findings (network, credentials, obfuscation, …) are
what decides the verdict, since that code runs on every `npm install`. A script that runs a
file the package does not ship is reported too (it may be fetched or written first).

## Real attacks

- Shai-Hulud (September 2025): `postinstall: node bundle.js`, a 3 MB webpack bundle that
  harvested tokens, ran TruffleHog and republished the victim's packages.
- Shai-Hulud 2 (November 2025): `preinstall: node setup_bun.js`, which installed Bun and ran
  the 10 MB `bun_environment.js`.
- nx 21.5.0 "s1ngularity" (August 2025): `postinstall: node telemetry.js`, abusing installed
  AI CLIs to find secrets.
- electorn (2018, typosquat of electron): `preinstall: node preinstall.js`.

## Known false positives

Many legitimate packages download or check a prebuilt binary this way (esbuild's
`node install.js`, core-js's banner, puppeteer's browser download). Alone this is moderate
and does not make a package suspicious.
"#,
};

impl PackageRule for InstallScriptRunsFile {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, package: &PackageFacts<'_>, out: &mut Vec<Finding>) {
        for script in lifecycle_scripts(package) {
            for action in &script.actions {
                let Action::RunsFile {
                    interpreter,
                    path,
                    present,
                } = action
                else {
                    continue;
                };
                let message = if *present {
                    format!(
                        "`{}` script runs `{path}` with {interpreter} on every install",
                        script.event
                    )
                } else {
                    format!(
                        "`{}` script runs `{path}` with {interpreter}, a file the package does not ship",
                        script.event
                    )
                };
                out.push(
                    Finding::new(INFO.id, INFO.severity, INFO.confidence, message)
                        .at("package.json", script.line)
                        .with_evidence(format!("file: {path}; command: {}", script.command))
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

    #[test]
    fn reports_the_file_run() {
        let manifest = manifest_with_scripts(&[("preinstall", "node setup_bun.js")]);
        let findings = run(
            &InstallScriptRunsFile,
            &[("package.json", &manifest), ("setup_bun.js", b"x()")],
        );
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].severity, Severity::Moderate);
        assert!(findings[0]
            .evidence
            .as_deref()
            .is_some_and(|e| e.starts_with("file: setup_bun.js")));
        assert!(findings[0].message.contains("on every install"));

        let manifest = manifest_with_scripts(&[("postinstall", "node ./dist/missing.js")]);
        let findings = run(&InstallScriptRunsFile, &[("package.json", &manifest)]);
        assert!(findings[0].message.contains("does not ship"));
    }

    #[test]
    fn tools_and_inline_code_are_not_files() {
        for command in [
            "node-gyp rebuild",
            "node -e \"console.log(1)\"",
            "husky install",
            "npm run build",
        ] {
            let manifest = manifest_with_scripts(&[("postinstall", command)]);
            assert!(
                run(&InstallScriptRunsFile, &[("package.json", &manifest)]).is_empty(),
                "{command}"
            );
        }
    }
}
