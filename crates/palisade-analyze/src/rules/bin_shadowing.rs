//! `bin-shadowing`: a package whose `bin` entries take the names of package managers,
//! runtimes or system tools, so that its code runs when someone types `npm`, `node` or `git`.

use palisade_core::{Capability, Confidence, Finding, Severity};

use super::{PackageFacts, PackageRule, RuleInfo};

pub struct BinShadowing;

static INFO: RuleInfo = RuleInfo {
    id: "bin-shadowing",
    severity: Severity::High,
    confidence: Confidence::Medium,
    capabilities: &[Capability::Persistence],
    summary: "Declares a command (`bin`) named like a package manager, runtime or system tool",
    docs: r#"## What it detects

A `bin` entry in package.json named like a command the user already has:

- package managers and runtimes: `npm`, `npx`, `node`, `yarn`, `pnpm`, `bun`, `deno`,
  `corepack` (high, high confidence: these see registry tokens and run every script);
- shells and system tools: `sh`, `bash`, `sudo`, `git`, `ssh`, `curl`, `python`, `docker`, …
  (high).

npm links `bin` entries into `node_modules/.bin`, which comes first on `PATH` in every
`npm run` script of the project, and into the global prefix on `npm install -g`: from then on
typing the command runs the package's file, which can pass through to the real tool while it
copies tokens and arguments.

The real owners are left out: `npm` declaring `npm`/`npx`, `yarn` declaring `yarn`,
`corepack` declaring its shims, and any package whose own name is the command.

## Real attacks

- "Bin script confusion" (reported to npm in 2024): packages that declared `bin` entries named
  `npm` or `node` overwrote those commands on global install or shadowed them in a project.
- Typosquats of CLI tools routinely declare the tool's command name so that the victim keeps
  typing it without noticing.

## Known false positives

Version managers and shims that deliberately stand in for `node` or `npm` (volta, nvm-like
tools) under a different package name.
"#,
};

/// Commands that see registry tokens and run every script.
const PACKAGE_MANAGERS: &[&str] = &[
    "npm", "npx", "node", "nodejs", "yarn", "yarnpkg", "pnpm", "pnpx", "bun", "bunx", "deno", "corepack",
];

/// Shells and system tools.
const SYSTEM_TOOLS: &[&str] = &[
    "sh",
    "bash",
    "zsh",
    "dash",
    "fish",
    "env",
    "sudo",
    "su",
    "ls",
    "cat",
    "cp",
    "mv",
    "rm",
    "chmod",
    "chown",
    "curl",
    "wget",
    "ssh",
    "scp",
    "git",
    "python",
    "python3",
    "pip",
    "pip3",
    "docker",
    "kubectl",
    "gpg",
    "openssl",
    "powershell",
    "pwsh",
    "cmd",
];

/// Packages that are the real owners of some of those commands.
const OWNERS: &[(&str, &[&str])] = &[
    ("npm", &["npm", "npx"]),
    ("npx", &["npx"]),
    ("yarn", &["yarn", "yarnpkg"]),
    ("@yarnpkg/cli-dist", &["yarn", "yarnpkg"]),
    ("pnpm", &["pnpm", "pnpx"]),
    ("@pnpm/exe", &["pnpm", "pnpx"]),
    ("bun", &["bun", "bunx"]),
    (
        "corepack",
        &["corepack", "yarn", "yarnpkg", "pnpm", "pnpx", "npm", "npx"],
    ),
];

/// The command names a manifest's `bin` declares (a string `bin` is named after the package).
fn bin_names(manifest: &serde_json::Value, package: &str) -> Vec<String> {
    match manifest.get("bin") {
        Some(serde_json::Value::String(_)) => {
            vec![package.rsplit('/').next().unwrap_or(package).to_string()]
        }
        Some(serde_json::Value::Object(map)) => map.keys().take(1000).cloned().collect(),
        _ => Vec::new(),
    }
}

impl PackageRule for BinShadowing {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, package: &PackageFacts<'_>, out: &mut Vec<Finding>) {
        let Some(manifest) = package.manifest.as_ref() else {
            return;
        };
        let name = package.name.as_str();
        let own_command = name.rsplit('/').next().unwrap_or(name);
        let owned: &[&str] = OWNERS
            .iter()
            .find(|(owner, _)| *owner == name)
            .map_or(&[], |(_, commands)| commands);
        let line = package
            .contents
            .manifest_bytes()
            .map(String::from_utf8_lossy)
            .and_then(|text| super::install_script::key_line(&text, "bin"));
        for command in bin_names(manifest, name) {
            // `bin/npm` and `npm.cmd` shadow `npm` as well once linked.
            let bare = command
                .rsplit(['/', '\\'])
                .next()
                .unwrap_or(&command)
                .to_ascii_lowercase();
            let bare = bare
                .strip_suffix(".cmd")
                .or_else(|| bare.strip_suffix(".exe"))
                .unwrap_or(&bare);
            if bare == own_command || owned.contains(&bare) {
                continue;
            }
            let (severity, confidence, what) = if PACKAGE_MANAGERS.contains(&bare) {
                (
                    Severity::High,
                    Confidence::High,
                    "a package manager or runtime: it sees registry tokens and runs every script",
                )
            } else if SYSTEM_TOOLS.contains(&bare) {
                (INFO.severity, INFO.confidence, "a shell or system tool")
            } else {
                continue;
            };
            out.push(
                Finding::new(
                    INFO.id,
                    severity,
                    confidence,
                    format!(
                        "Declares the command `{bare}` ({what}): installed, typing `{bare}` runs this package's code instead"
                    ),
                )
                .at("package.json", line)
                .with_evidence(format!("\"bin\": {{ \"{command}\": … }}"))
                .with_capabilities(INFO.capabilities),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::install_script::testing::run;
    use super::*;

    fn findings(manifest: &str) -> Vec<Finding> {
        run(
            &BinShadowing,
            &[("package.json", manifest.as_bytes()), ("cli.js", b"1")],
        )
    }

    #[test]
    fn package_manager_and_tool_names_are_reported() {
        let found =
            findings(r#"{"name":"fast-npm-helper","version":"1.0.0","bin":{"npm":"./cli.js","git":"./cli.js"}}"#);
        assert_eq!(found.len(), 2, "{found:#?}");
        assert!(found.iter().all(|f| f.severity == Severity::High));
        let confidence_of = |command: &str| {
            found
                .iter()
                .find(|f| f.message.contains(&format!("`{command}`")))
                .map(|f| f.confidence)
        };
        assert_eq!(confidence_of("npm"), Some(Confidence::High));
        assert_eq!(confidence_of("git"), Some(Confidence::Medium));
        // A string `bin` is the package's own name: `node` shadows node.
        let found = findings(r#"{"name":"@evil/node","version":"1.0.0","bin":"./cli.js"}"#);
        assert_eq!(found.len(), 0, "a package called node owns `node`: {found:#?}");
    }

    #[test]
    fn owners_and_ordinary_commands_are_quiet() {
        for manifest in [
            r#"{"name":"npm","version":"10.0.0","bin":{"npm":"bin/npm-cli.js","npx":"bin/npx-cli.js"}}"#,
            r#"{"name":"corepack","version":"0.29.0","bin":{"corepack":"./dist/corepack.js","pnpm":"./dist/pnpm.js","yarn":"./dist/yarn.js"}}"#,
            r#"{"name":"typescript","version":"5.0.0","bin":{"tsc":"./bin/tsc","tsserver":"./bin/tsserver"}}"#,
            r#"{"name":"which","version":"4.0.0","bin":{"node-which":"./bin/which.js"}}"#,
            r#"{"name":"x","version":"1.0.0"}"#,
        ] {
            assert!(findings(manifest).is_empty(), "{manifest}: {:#?}", findings(manifest));
        }
    }
}
