//! What a lockfile string refers to: a registry version, git, a remote or
//! local tarball, a local directory or an alias. Follows the classification of
//! npm-package-arg (and hosted-git-info for git shortcuts) closely enough for
//! the strings npm writes into lockfiles; it does not fetch or normalise.

use std::borrow::Cow;

use palisade_core::SourceKind;

pub(super) enum Spec<'a> {
    /// A semver version, range or dist-tag from the registry.
    Registry(Cow<'a, str>),
    /// `npm:real-name@version`.
    Alias {
        name: String,
        version: String,
    },
    /// A git URL or a hosted-git shortcut (`github:user/repo`, `user/repo`).
    Git(Cow<'a, str>),
    /// An http(s) tarball URL.
    Remote(Cow<'a, str>),
    /// A local tarball, as a path relative to the project root.
    FileTarball(String),
    /// A local directory (installed as a symlink), relative to the project root.
    Directory(String),
    Unknown,
}

impl Spec<'_> {
    pub(super) fn is_registry(&self) -> bool {
        matches!(self, Spec::Registry(_) | Spec::Alias { .. })
    }
}

/// Classify `text`, a `version`, `from` or `resolved` value of a v1 entry.
pub(super) fn classify<'a>(text: &Cow<'a, str>) -> Spec<'a> {
    let trimmed = text.trim();
    if let Some(aliased) = trimmed.strip_prefix("npm:") {
        let (real_name, version) = split_name_version(aliased);
        if real_name.is_empty() {
            return Spec::Unknown;
        }
        return Spec::Alias {
            name: real_name.to_string(),
            version: if version.is_empty() {
                "*".to_string()
            } else {
                version.to_string()
            },
        };
    }
    if let Some(path) = local_path(trimmed) {
        let path = normalize_relative(path);
        let lower = path.to_ascii_lowercase();
        return if lower.ends_with(".tgz") || lower.ends_with(".tar.gz") || lower.ends_with(".tar") {
            Spec::FileTarball(path)
        } else {
            Spec::Directory(path)
        };
    }
    if is_git(trimmed) {
        return Spec::Git(text.clone());
    }
    if trimmed.starts_with("http://") || trimmed.starts_with("https://") {
        return Spec::Remote(text.clone());
    }
    if has_url_scheme(trimmed) {
        return Spec::Unknown;
    }
    Spec::Registry(text.clone())
}

/// `name@version` where the name may be scoped (`@scope/name@1.0.0`).
fn split_name_version(text: &str) -> (&str, &str) {
    let search_from = usize::from(text.starts_with('@'));
    match text[search_from..].find('@') {
        Some(at) => (&text[..search_from + at], &text[search_from + at + 1..]),
        None => (text, ""),
    }
}

/// The path of a `file:` spec or of a bare local path (`./x`, `../x`, `/x`, `~/x`).
fn local_path(text: &str) -> Option<&str> {
    if let Some(rest) = text.strip_prefix("file:") {
        // `file://x` and `file:///abs` are URLs; keep the path part.
        return Some(rest.strip_prefix("//").unwrap_or(rest));
    }
    let bytes = text.as_bytes();
    let drive_letter = bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' && !text.contains("://");
    if text.starts_with('.')
        || text.starts_with("~/")
        || text.starts_with('/')
        || text.starts_with('\\')
        || drive_letter
    {
        return Some(text);
    }
    None
}

/// Normalise a project-relative path the way `path.relative(root, resolve(root, p))`
/// would: no `./`, `a/../b` folded, backslashes as slashes.
pub(super) fn normalize_relative(path: &str) -> String {
    let path = path.replace('\\', "/");
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if matches!(parts.last(), Some(last) if *last != "..") {
                    parts.pop();
                } else {
                    parts.push("..");
                }
            }
            other => parts.push(other),
        }
    }
    parts.join("/")
}

fn has_url_scheme(text: &str) -> bool {
    match text.find(':') {
        Some(colon) => {
            colon > 0
                && text[..colon]
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'-' || b == b'.')
        }
        None => false,
    }
}

const HOSTED_SHORTCUTS: &[&str] = &["github:", "gitlab:", "bitbucket:", "gist:"];
const HOSTED_HOSTS: &[&str] = &["github.com", "gitlab.com", "bitbucket.org", "gist.github.com"];

/// A git URL or a hosted-git reference as hosted-git-info recognises them.
pub(super) fn is_git(text: &str) -> bool {
    if text.starts_with("git+") || text.starts_with("git://") || text.starts_with("git@") || text.starts_with("ssh://")
    {
        return true;
    }
    if HOSTED_SHORTCUTS.iter().any(|prefix| text.starts_with(prefix)) {
        return true;
    }
    if let Some(rest) = text.strip_prefix("https://").or_else(|| text.strip_prefix("http://")) {
        // `https://github.com/user/repo(.git)(#ref)` is a hosted git repo,
        // `https://github.com/user/repo/archive/x.tar.gz` a plain tarball.
        let host_end = rest.find('/').unwrap_or(rest.len());
        let host = &rest[..host_end];
        let host = host.rsplit('@').next().unwrap_or(host);
        if !HOSTED_HOSTS.contains(&host) {
            return false;
        }
        let without_ref = rest.split('#').next().unwrap_or(rest);
        let mut segments = without_ref.split('/');
        let _host = segments.next();
        let path: Vec<&str> = segments.filter(|segment| !segment.is_empty()).collect();
        return HOSTED_HOSTS.contains(&host) && path.len() == 2;
    }
    is_github_shorthand(text)
}

/// `user/repo` or `user/repo#ref`: npm's GitHub shorthand.
fn is_github_shorthand(text: &str) -> bool {
    let without_ref = text.split('#').next().unwrap_or(text);
    let mut parts = without_ref.split('/');
    let (Some(user), Some(repo), None) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let valid = |part: &str| !part.is_empty() && !part.contains([':', '@', '%', ' ']);
    valid(user) && valid(repo) && !user.starts_with(['.', '-', '@'])
}

/// Where a `resolved` value of a v2/v3 entry points; `None` when it is
/// nothing npm writes.
pub(super) fn source_of_resolved(resolved: &str) -> Option<SourceKind> {
    // Registry tarballs are nearly every entry: settle them first.
    if resolved.starts_with("https://") || resolved.starts_with("http://") {
        return Some(if is_git(resolved) {
            SourceKind::Git
        } else {
            source_of_url(resolved)
        });
    }
    if resolved.starts_with("file:") {
        return Some(SourceKind::File);
    }
    if is_git(resolved) {
        return Some(SourceKind::Git);
    }
    None
}

/// A registry tarball (`…/name/-/name-1.2.3.tgz`, under any registry host or
/// path prefix, or GitHub Packages' download URLs) or some other tarball
/// (codeload.github.com, a CDN, an arbitrary `.tgz`).
pub(super) fn source_of_url(url: &str) -> SourceKind {
    let path = url_path(url);
    if (path.contains("/-/") && path.ends_with(".tgz")) || url.starts_with("https://npm.pkg.github.com/download/") {
        SourceKind::Registry
    } else {
        SourceKind::Tarball
    }
}

/// The path of an http(s) URL, without query or fragment.
fn url_path(url: &str) -> &str {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let path = after_scheme.find('/').map_or("", |slash| &after_scheme[slash..]);
    let end = path.find(['?', '#']).unwrap_or(path.len());
    &path[..end]
}

/// The package name and version a tarball's file name encodes, as arborist's
/// `version-from-tgz.js` reads them: registry URLs `/@scope/name/-/name-1.2.3.tgz`
/// first, then `name-1.2.3.tgz` against the dependency name.
pub(super) fn version_from_tgz(name: &str, tgz: &str) -> Option<(String, String)> {
    let base = tgz.rsplit(['/', '\\']).next().unwrap_or(tgz);
    if !base.ends_with(".tgz") {
        return None;
    }
    if tgz.starts_with("http:/") || tgz.starts_with("https:/") {
        let path = url_path(tgz);
        let path = path.strip_prefix('/').unwrap_or(path);
        let pieces: Vec<&str> = path.split("/-/").collect();
        if pieces.len() > 1 && pieces.last() == Some(&base) {
            let before = pieces[pieces.len() - 2];
            let (scope, project) = scope_and_project(before);
            return version_from_base(base, scope, project);
        }
    }
    let (scope, project) = scope_and_project(name);
    version_from_base(base, scope, project)
}

/// The last two `/` (or `%2f`) separated parts of a name or path.
fn scope_and_project(text: &str) -> (Option<String>, String) {
    let lower = text.to_ascii_lowercase();
    let mut parts = Vec::new();
    let mut start = 0;
    let mut index = 0;
    while index < text.len() {
        if text.as_bytes()[index] == b'/' {
            parts.push(&text[start..index]);
            index += 1;
            start = index;
        } else if lower[index..].starts_with("%2f") {
            parts.push(&text[start..index]);
            index += 3;
            start = index;
        } else {
            index += 1;
        }
    }
    parts.push(&text[start..]);
    let project = parts.pop().unwrap_or_default().to_string();
    let scope = parts.pop().map(str::to_string);
    (scope, project)
}

fn version_from_base(base: &str, scope: Option<String>, project: String) -> Option<(String, String)> {
    let version_part = base
        .strip_prefix(project.as_str())?
        .strip_prefix('-')?
        .strip_suffix(".tgz")?;
    let version = parse_strict_semver(version_part)?;
    let name = match scope {
        Some(scope) if scope.starts_with('@') => format!("{scope}/{project}"),
        _ => project,
    };
    Some((name, version))
}

/// node-semver's strict `parse(...).version`: `v?MAJOR.MINOR.PATCH(-pre)?(+build)?`,
/// returned without the `v` and the build metadata.
pub(super) fn parse_strict_semver(text: &str) -> Option<String> {
    let text = text.trim();
    if text.len() > 256 {
        return None;
    }
    let text = text.strip_prefix('v').unwrap_or(text);
    let (main_and_pre, build) = match text.split_once('+') {
        Some((head, build)) => (head, Some(build)),
        None => (text, None),
    };
    if let Some(build) = build {
        if build
            .split('.')
            .any(|id| id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        {
            return None;
        }
    }
    let (main, pre) = match main_and_pre.split_once('-') {
        Some((main, pre)) => (main, Some(pre)),
        None => (main_and_pre, None),
    };
    let numbers: Vec<&str> = main.split('.').collect();
    if numbers.len() != 3 || !numbers.iter().all(|number| is_numeric_id(number)) {
        return None;
    }
    if let Some(pre) = pre {
        let valid = pre.split('.').all(|id| {
            !id.is_empty()
                && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && (!id.bytes().all(|b| b.is_ascii_digit()) || is_numeric_id(id))
        });
        if !valid {
            return None;
        }
        return Some(format!("{main}-{pre}"));
    }
    Some(main.to_string())
}

fn is_numeric_id(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 15
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'))
}

/// npm-package-arg's `version` type: `semver.valid(spec, loose)`.
pub(super) fn is_exact_semver(text: &str) -> bool {
    let text = text.trim_start_matches(['v', '=', ' ', '\t']).trim_end();
    let (head, _build) = text.split_once('+').unwrap_or((text, ""));
    let (main, _pre) = match head.find(['-']) {
        Some(dash) => (&head[..dash], &head[dash..]),
        None => (head, ""),
    };
    let numbers: Vec<&str> = main.split('.').collect();
    numbers.len() == 3
        && numbers
            .iter()
            .all(|number| !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tarball_versions_follow_arborist() {
        assert_eq!(
            version_from_tgz("x", "https://registry.npmjs.org/@babel/core/-/core-7.1.0.tgz"),
            Some(("@babel/core".to_string(), "7.1.0".to_string()))
        );
        assert_eq!(
            version_from_tgz("foo", "https://example.com/dl/foo-1.2.3-beta.1.tgz"),
            Some(("foo".to_string(), "1.2.3-beta.1".to_string()))
        );
        assert_eq!(version_from_tgz("foo", "https://example.com/dl/foo.tar.gz"), None);
        assert_eq!(version_from_tgz("foo", "https://example.com/foo-01.2.3.tgz"), None);
    }

    #[test]
    fn classifies_v1_versions() {
        let spec = |text: &'static str| classify(&Cow::Borrowed(text));
        assert!(matches!(spec("1.2.3"), Spec::Registry(_)));
        assert!(matches!(spec("github:a/b#abc"), Spec::Git(_)));
        assert!(matches!(spec("git+https://github.com/a/b.git#abc"), Spec::Git(_)));
        assert!(matches!(spec("a/b"), Spec::Git(_)));
        assert!(matches!(
            spec("https://codeload.github.com/a/b/tar.gz/abc"),
            Spec::Remote(_)
        ));
        assert!(matches!(spec("file:packages/x"), Spec::Directory(path) if path == "packages/x"));
        assert!(matches!(spec("file:./vendor/x-1.0.0.tgz"), Spec::FileTarball(path) if path == "vendor/x-1.0.0.tgz"));
        assert!(
            matches!(spec("npm:@scope/real@2.0.0"), Spec::Alias { name, version } if name == "@scope/real" && version == "2.0.0")
        );
    }

    #[test]
    fn registry_urls_are_told_from_other_tarballs() {
        assert_eq!(
            source_of_url("https://registry.npmjs.org/a/-/a-1.0.0.tgz"),
            SourceKind::Registry
        );
        assert_eq!(
            source_of_url("https://corp.jfrog.io/artifactory/api/npm/npm/@s/a/-/a-1.0.0.tgz"),
            SourceKind::Registry
        );
        assert_eq!(
            source_of_url("https://codeload.github.com/a/b/tar.gz/abc"),
            SourceKind::Tarball
        );
        assert_eq!(
            source_of_resolved("git+ssh://git@github.com/a/b.git#abc"),
            Some(SourceKind::Git)
        );
    }
}
