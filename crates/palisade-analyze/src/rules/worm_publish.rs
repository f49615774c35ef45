//! `worm-publish`: code that republishes packages or spreads through GitHub, as the
//! Shai-Hulud worms did.

use palisade_core::{Capability, Confidence, Finding, Severity};

use super::signals::{self, call_text, contains_any, finding, first_string_matching, Needles};
use super::{FileRule, RuleInfo};
use crate::facts::{Call, FileFacts, Value};

pub struct WormPublish;

static INFO: RuleInfo = RuleInfo {
    id: "worm-publish",
    severity: Severity::Critical,
    confidence: Confidence::High,
    capabilities: &[Capability::Publish, Capability::Credentials, Capability::Network],
    summary: "Publishes npm packages or creates GitHub repositories from code, with the token theft and package tampering of a worm",
    docs: r#"## What it detects

A self-propagating package uses the victim's credentials to spread. This rule combines, in one
file:

- **publishing**: `npm publish` / `npm version` run through `child_process`, or an HTTP `PUT` to
  the registry (`registry.npmjs.org/<package>`), or `libnpmpublish`;
- **credentials and recon**: reading `~/.npmrc` or `_authToken`, `NPM_TOKEN`, `npm whoami` or
  `/-/whoami`;
- **enumeration** of the maintainer's other packages (`/-/v1/search?text=maintainer:…`,
  `/-/user/<name>/package`);
- **tampering** with another package before republishing it: unpacking a tarball, writing its
  `package.json` with a new `postinstall`, packing it again;
- **GitHub spreading**: creating repositories through the API (`POST /user/repos`,
  `repos.createForAuthenticatedUser`), repositories named "Shai-Hulud", pushing workflow files.

Publishing together with enumeration or tampering, or repository creation together with a pushed
workflow or the worm's marker, is critical. Publishing alone is reported as a moderate
capability (release tools do it on purpose).

## Real attacks

- Shai-Hulud (September 2025): `bundle.js` read the npm token, called `/-/whoami`, searched the
  registry for the maintainer's packages, and for each one downloaded the tarball, added
  `"postinstall": "node bundle.js"`, bumped the version and ran `npm publish`; it created public
  "Shai-Hulud" repositories with stolen secrets and pushed `.github/workflows/shai-hulud-workflow.yml`.
- Shai-Hulud 2 (November 2025): the same republishing loop from `bun_environment.js`, GitHub
  repositories with the description "Sha1-Hulud: The Second Coming."

## Known false positives

Release tools (lerna, semantic-release, np, changesets) run `npm publish` and `npm whoami`;
they publish the workspace's own packages and are reported at most as a moderate capability
unless they also enumerate a maintainer's packages from the registry search and rewrite their
install scripts.
"#,
};

impl FileRule for WormPublish {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, file: &FileFacts, out: &mut Vec<Finding>) {
        if file.text.is_none() {
            return;
        }
        // Yarn Berry's own release (`.yarn/releases/yarn-4.x.cjs`), committed to repositories
        // and sometimes published with them, implements `npm publish` and `whoami` itself.
        let path = file.path.to_ascii_lowercase();
        if (path.starts_with(".yarn/releases/") || path.contains("/.yarn/releases/"))
            && file.text.as_deref().is_some_and(|t| t.contains("@yarnpkg/"))
        {
            return;
        }
        let signals = Signals::collect(file);
        report(file, &signals, out);
    }
}

#[derive(Default)]
struct Signals<'a> {
    publish: Option<&'a Call>,
    token: Option<(u32, String)>,
    whoami: Option<u32>,
    enumerate: Option<(u32, String)>,
    tamper: Option<(u32, String)>,
    repo_create: Option<(u32, String)>,
    workflow_push: Option<(u32, String)>,
    marker: Option<u32>,
}

/// Whether an exec call runs `<package manager> <subcommand>`.
fn runs_npm(call: &Call, text: &str, subcommand: &str) -> bool {
    let managers = ["npm", "pnpm", "yarn", "bun", "npm.cmd"];
    if managers.iter().any(|m| text.contains(&format!("{m} {subcommand}"))) {
        return true;
    }
    let program = call.args.first().and_then(Value::as_str).unwrap_or("");
    let argv_has = |word: &str| match call.args.get(1) {
        Some(Value::Array { items }) => items.iter().any(|item| item.as_str() == Some(word)),
        _ => false,
    };
    managers.contains(&program) && argv_has(subcommand)
}

fn method_is_put(call: &Call) -> bool {
    call.args.iter().any(|arg| match arg {
        Value::Object { entries } => entries
            .iter()
            .any(|(key, value)| key == "method" && value.as_str().is_some_and(|m| m.eq_ignore_ascii_case("put"))),
        _ => false,
    })
}

impl<'a> Signals<'a> {
    fn collect(file: &'a FileFacts) -> Signals<'a> {
        let mut s = Signals::default();
        // Calls whose excerpt names the GitHub repository or workflow endpoints, found in one
        // pass over all excerpts.
        static GITHUB_PATHS: Needles = Needles::new(&["/user/repos", "/contents/.github/workflows"]);
        let mut names_github = vec![false; file.calls.len()];
        for index in GITHUB_PATHS.items(file.excerpts_blob()) {
            if let Some(slot) = names_github.get_mut(index) {
                *slot = true;
            }
        }
        for (index, call) in file.calls.iter().enumerate() {
            // Only calls that can publish, write, run or reach the network are read as text.
            let method = signals::method(&call.callee);
            let relevant = signals::is_exec_call(call)
                || signals::is_network_call(call)
                || signals::is_write_call(call)
                || call.callee.starts_with("libnpmpublish")
                || matches!(
                    method,
                    "createForAuthenticatedUser" | "createInOrg" | "createOrUpdateFileContents"
                )
                || names_github.get(index).copied().unwrap_or(true);
            if !relevant {
                continue;
            }
            let text = call_text(call);
            if signals::is_exec_call(call) {
                if s.publish.is_none() && (runs_npm(call, &text, "publish") || runs_npm(call, &text, "version")) {
                    s.publish = Some(call);
                }
                if s.whoami.is_none() && runs_npm(call, &text, "whoami") {
                    s.whoami = Some(call.line);
                }
                if s.enumerate.is_none() && (runs_npm(call, &text, "search") || text.contains("access ls-packages")) {
                    s.enumerate = Some((call.line, call.excerpt.clone()));
                }
                if s.tamper.is_none() && text.contains("tar ") && contains_any(&text, &["-xzf", "-czf", "xzf ", "czf "])
                {
                    s.tamper = Some((call.line, call.excerpt.clone()));
                }
                if s.workflow_push.is_none() && text.contains("git push") && contains_any(&text, &[".github/workflows"])
                {
                    s.workflow_push = Some((call.line, call.excerpt.clone()));
                }
            }
            if signals::is_network_call(call) {
                if s.publish.is_none() && text.contains("registry.npmjs.org") && method_is_put(call) {
                    s.publish = Some(call);
                }
                if s.enumerate.is_none() && contains_any(&text, &["maintainer:", "/-/user/"]) {
                    s.enumerate = Some((call.line, call.excerpt.clone()));
                }
                if s.repo_create.is_none() && text.contains("/user/repos") {
                    s.repo_create = Some((call.line, call.excerpt.clone()));
                }
                if s.workflow_push.is_none() && text.contains("/contents/.github/workflows") {
                    s.workflow_push = Some((call.line, call.excerpt.clone()));
                }
            }
            // Through a local helper: `gh('POST', '/user/repos', token, …)`.
            if s.repo_create.is_none() && text.contains("/user/repos") && text.contains("post") {
                s.repo_create = Some((call.line, call.excerpt.clone()));
            }
            if s.workflow_push.is_none() && text.contains("/contents/.github/workflows") {
                s.workflow_push = Some((call.line, call.excerpt.clone()));
            }
            let method = signals::method(&call.callee);
            if s.publish.is_none() && call.callee.starts_with("libnpmpublish") && method == "publish" {
                s.publish = Some(call);
            }
            if s.repo_create.is_none() && (method == "createForAuthenticatedUser" || method == "createInOrg") {
                s.repo_create = Some((call.line, call.excerpt.clone()));
            }
            if s.workflow_push.is_none() && method == "createOrUpdateFileContents" && text.contains(".github/workflows")
            {
                s.workflow_push = Some((call.line, call.excerpt.clone()));
            }
            if s.tamper.is_none() && signals::is_write_call(call) && signals::arg_text(call, 0).contains("package.json")
            {
                static INJECTS: Needles = Needles::new(&["node bundle.js", "postinstall", "preinstall"]);
                if let Some(string) = first_string_matching(file, &INJECTS) {
                    s.tamper = Some((call.line, format!("{} … {}", call.excerpt, string.value)));
                }
            }
        }
        static TOKENS: Needles = Needles::new(&[".npmrc", "_authtoken", "npm_token"]);
        static WHOAMI: Needles = Needles::new(&["/-/whoami"]);
        static ENUMERATE: Needles = Needles::new(&["maintainer:", "/-/user/", "/-/v1/search?text=maintainer"]);
        static MARKER: Needles = Needles::new(&["shai-hulud", "sha1-hulud", "shai hulud"]);
        if let Some(string) = first_string_matching(file, &TOKENS) {
            s.token = Some((string.line, string.value.clone()));
        }
        if s.token.is_none() {
            if let Some(read) = file.member_reads.iter().find(|r| r.path.ends_with("NPM_TOKEN")) {
                s.token = Some((read.line, read.path.clone()));
            }
        }
        if s.whoami.is_none() {
            s.whoami = first_string_matching(file, &WHOAMI).map(|string| string.line);
        }
        if s.enumerate.is_none() {
            if let Some(string) = first_string_matching(file, &ENUMERATE) {
                s.enumerate = Some((string.line, string.value.clone()));
            }
        }
        s.marker = first_string_matching(file, &MARKER).map(|string| string.line);
        s
    }
}

fn report(file: &FileFacts, s: &Signals<'_>, out: &mut Vec<Finding>) {
    if let Some(publish) = s.publish {
        if let Some((_, how)) = s.enumerate.as_ref().or(s.tamper.as_ref()) {
            let what = if s.enumerate.is_some() {
                "lists the maintainer's other packages"
            } else {
                "rewrites a package's manifest or tarball"
            };
            out.push(finding(
                &INFO,
                file,
                publish.line,
                Severity::Critical,
                Confidence::High,
                format!(
                    "Publishes packages from code and {what} ({}): the self-propagation loop of the Shai-Hulud worm.",
                    palisade_core::bounded_excerpt(how, 80)
                ),
                &publish.excerpt,
            ));
            return;
        }
        if s.token.is_some() && s.whoami.is_some() {
            out.push(finding(
                &INFO,
                file,
                publish.line,
                Severity::High,
                Confidence::Medium,
                "Reads the npm token, asks the registry who it belongs to and publishes from code.".to_string(),
                &publish.excerpt,
            ));
            return;
        }
        out.push(finding(
            &INFO,
            file,
            publish.line,
            Severity::Moderate,
            Confidence::Low,
            "Runs npm publish (or npm version) from code.".to_string(),
            &publish.excerpt,
        ));
        return;
    }
    if let Some((line, excerpt)) = &s.repo_create {
        if s.workflow_push.is_some() || s.marker.is_some() {
            out.push(finding(
                &INFO,
                file,
                *line,
                Severity::Critical,
                Confidence::High,
                format!(
                    "Creates GitHub repositories with the victim's token and {}: how Shai-Hulud published stolen secrets and spread.",
                    if s.workflow_push.is_some() { "pushes workflow files" } else { "names them after Shai-Hulud" }
                ),
                excerpt,
            ));
        } else {
            out.push(finding(
                &INFO,
                file,
                *line,
                Severity::Moderate,
                Confidence::Low,
                "Creates GitHub repositories through the API.".to_string(),
                excerpt,
            ));
        }
        return;
    }
    if let Some((line, excerpt)) = &s.workflow_push {
        let severity = if s.token.is_some() || s.marker.is_some() {
            Severity::High
        } else {
            Severity::Moderate
        };
        out.push(finding(
            &INFO,
            file,
            *line,
            severity,
            Confidence::Medium,
            "Pushes GitHub Actions workflow files to a repository from code.".to_string(),
            excerpt,
        ));
        return;
    }
    if let (Some((line, _)), Some(_), Some((_, how))) = (&s.token, s.whoami, &s.enumerate) {
        out.push(finding(
            &INFO,
            file,
            *line,
            Severity::High,
            Confidence::Medium,
            format!(
                "Reads the npm token, asks who it belongs to and lists that maintainer's packages ({}): the reconnaissance step of a publishing worm.",
                palisade_core::bounded_excerpt(how, 60)
            ),
            "",
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts;

    fn run(source: &str) -> Vec<Finding> {
        let file = facts::extract("bundle.js", source.as_bytes(), 0o644);
        let mut out = Vec::new();
        WormPublish.check(&file, &mut out);
        out
    }

    fn worst(findings: &[Finding]) -> Option<Severity> {
        findings.iter().map(|f| f.severity).max()
    }

    #[test]
    fn flags_republishing_loop() {
        let source = r#"
const { execSync } = require('child_process');
const fs = require('fs');
async function spread(user, token) {
  const res = await fetch(`https://registry.npmjs.org/-/v1/search?text=maintainer:${user}&size=250`);
  for (const pkg of (await res.json()).objects) {
    execSync(`tar -xzf ${pkg.package.name}.tgz -C /tmp/w`);
    const manifest = JSON.parse(fs.readFileSync('/tmp/w/package/package.json', 'utf8'));
    manifest.scripts = { ...manifest.scripts, postinstall: 'node bundle.js' };
    fs.writeFileSync('/tmp/w/package/package.json', JSON.stringify(manifest));
    execSync('npm publish /tmp/w/package', { stdio: 'ignore' });
  }
}
"#;
        let findings = run(source);
        assert_eq!(worst(&findings), Some(Severity::Critical), "{findings:#?}");
    }

    #[test]
    fn flags_repo_creation_with_workflow() {
        let source = r#"
const { Octokit } = require('@octokit/rest');
async function go(token, data) {
  const octokit = new Octokit({ auth: token });
  await octokit.repos.createForAuthenticatedUser({ name: 'Shai-Hulud', private: false });
  await octokit.repos.createOrUpdateFileContents({ owner: 'me', repo: 'x', path: '.github/workflows/ci.yml', content: data });
}
"#;
        assert_eq!(worst(&run(source)), Some(Severity::Critical));
    }

    #[test]
    fn release_tool_publish_is_only_moderate() {
        let source = r#"
const { spawnSync } = require('child_process');
module.exports = function release(dir, tag) {
  const result = spawnSync('npm', ['publish', '--tag', tag], { cwd: dir, stdio: 'inherit' });
  if (result.status !== 0) throw new Error('publish failed');
};
"#;
        let findings = run(source);
        assert_eq!(worst(&findings), Some(Severity::Moderate), "{findings:#?}");
    }

    #[test]
    fn quiet_on_registry_reads() {
        let source = r#"
const https = require('https');
module.exports = (name) => new Promise((resolve) => https.get(`https://registry.npmjs.org/${name}`, resolve));
"#;
        assert!(run(source).is_empty());
    }
}
