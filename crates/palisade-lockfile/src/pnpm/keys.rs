//! pnpm dependency paths ("depPaths"): the keys of `packages`/`snapshots` and
//! the references that point at them.
//!
//! Three spellings exist, one per lockfile generation:
//! - 5.x: `/name/1.0.0`, `/@scope/name/1.0.0_react@18.2.0` (peers after `_`),
//!   `registry.example.com/name/1.0.0` (non-default registry: host, no slash);
//! - 6.x: `/name@1.0.0`, `/@scope/name@1.0.0(react@18.2.0)` (peers in parentheses);
//! - 9.x: `name@1.0.0(react@18.2.0)`, no leading slash, `(patch_hash=…)` suffixes.
//!
//! The rules follow pnpm's own `@pnpm/dependency-path` (2.x for 5/6, 1001.x for
//! 9) so that the name@version we derive is the one pnpm derives.

/// Name and version spelled by a 5.x/6.x key, or `None` when the key does not
/// carry a semver version (git, tarball, `file:` keys carry `name`/`version`
/// fields in the entry instead).
pub(crate) fn parse_legacy_key(key: &str, v6: bool) -> Option<(String, String)> {
    let converted;
    let key = if v6 {
        converted = v6_key_to_v5(key);
        converted.as_str()
    } else {
        key
    };
    // A key without the leading slash is "absolute": its first segment is a
    // registry host (or `github.com`, …), which is not part of the name.
    let rest = match key.strip_prefix('/') {
        Some(rest) => rest,
        None => key.split_once('/')?.1,
    };
    let mut parts = rest.split('/');
    let first = parts.next()?;
    let name = if first.starts_with('@') {
        let second = parts.next()?;
        format!("{first}/{second}")
    } else {
        first.to_string()
    };
    let remainder: Vec<&str> = parts.collect();
    let mut version = remainder.join("/");
    if version.is_empty() || name.is_empty() {
        return None;
    }
    if version.contains('(') && version.ends_with(')') {
        if let Some(index) = version.find('(') {
            version.truncate(index);
        }
    } else if let Some(index) = version.find('_') {
        version.truncate(index);
    }
    is_semver(&version).then_some((name, version))
}

/// pnpm 8 reads a 6.x lockfile by rewriting `/name@1.0.0` into the 5.x
/// `/name/1.0.0` form; doing the same keeps one parser for both.
fn v6_key_to_v5(key: &str) -> String {
    if key.starts_with("file:") || key.get(2..).is_none_or(|tail| !tail.contains('@')) {
        return key.to_string();
    }
    let search_from = key.find("/@").map_or(0, |index| index + 2);
    let Some(at) = key
        .get(search_from..)
        .and_then(|tail| tail.find('@'))
        .map(|index| index + search_from)
    else {
        return key.to_string();
    };
    if key.contains('(') {
        if let Some(open) = key.find('(') {
            if at > open {
                return key.to_string();
            }
        }
    }
    format!("{}/{}", &key[..at], &key[at + 1..])
}

/// The key a 5.x/6.x dependency reference points at. `None` for `link:`
/// references, which point at directories (workspace members), not packages.
pub(crate) fn legacy_ref_to_key(reference: &str, dependency_name: &str, v6: bool) -> Option<String> {
    if reference.starts_with("link:") {
        return None;
    }
    if reference.starts_with('/') || reference.starts_with("file:") {
        return Some(reference.to_string());
    }
    let without_peers = strip_trailing_parens(reference);
    if !without_peers.contains('/') {
        let separator = if v6 { '@' } else { '/' };
        return Some(format!("/{dependency_name}{separator}{reference}"));
    }
    Some(reference.to_string())
}

fn strip_trailing_parens(reference: &str) -> &str {
    let mut text = reference;
    while text.ends_with(')') {
        match text.rfind('(') {
            Some(open) => text = &text[..open],
            None => break,
        }
    }
    text
}

/// Splits a 9.x key into name and the version text after the `@`, with the
/// peer and patch suffixes removed (`@pnpm/dependency-path`'s `parse`).
pub(crate) fn parse_v9_key(key: &str) -> Option<(&str, &str)> {
    let at = key.get(1..)?.find('@')? + 1;
    let name = &key[..at];
    let version = &key[at + 1..];
    if name.is_empty() || version.is_empty() {
        return None;
    }
    Some((name, &version[..suffix_start(version)]))
}

/// The key of the `packages` (metadata) entry for a `snapshots` key: the key
/// without its peer suffix and patch hash.
pub(crate) fn v9_package_id(key: &str) -> &str {
    &key[..suffix_start(key)]
}

/// Index where the `(…)(…)` suffix of a depPath starts (its length if none):
/// scanning back from the closing parenthesis, the first character outside
/// every group ends the suffix (`indexOfDepPathSuffix` in pnpm).
fn suffix_start(text: &str) -> usize {
    let bytes = text.as_bytes();
    if bytes.last() != Some(&b')') {
        return text.len();
    }
    let mut open = 1usize;
    for index in (0..bytes.len() - 1).rev() {
        match bytes[index] {
            b'(' => open = open.saturating_sub(1),
            b')' => open += 1,
            _ if open == 0 => return index + 1,
            _ => {}
        }
    }
    text.len()
}

/// The key a 9.x dependency reference points at (`refToRelative`): `1.0.0`
/// under `foo` is `foo@1.0.0`; an alias `bar@1.0.0` is itself a key.
pub(crate) fn v9_ref_to_key(reference: &str, dependency_name: &str) -> Option<String> {
    if reference.starts_with("link:") {
        return None;
    }
    if reference.starts_with('@') {
        return Some(reference.to_string());
    }
    let Some(at) = reference.find('@') else {
        return Some(format!("{dependency_name}@{reference}"));
    };
    let colon = reference.find(':');
    let paren = reference.find('(');
    if colon.is_none_or(|colon| at < colon) && paren.is_none_or(|paren| at < paren) {
        return Some(reference.to_string());
    }
    Some(format!("{dependency_name}@{reference}"))
}

/// Strict semver 2.0 as node-semver's `valid()` accepts it (no leading `v`
/// here: pnpm never writes one in keys).
pub(crate) fn is_semver(version: &str) -> bool {
    let (core, build) = match version.split_once('+') {
        Some((core, build)) => (core, Some(build)),
        None => (version, None),
    };
    let (release, prerelease) = match core.split_once('-') {
        Some((release, prerelease)) => (release, Some(prerelease)),
        None => (core, None),
    };
    let mut numbers = release.split('.');
    for _ in 0..3 {
        match numbers.next() {
            Some(number) if is_numeric_identifier(number) => {}
            _ => return false,
        }
    }
    if numbers.next().is_some() {
        return false;
    }
    let identifier_ok = |identifier: &str| {
        !identifier.is_empty()
            && identifier
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-')
    };
    if let Some(prerelease) = prerelease {
        for identifier in prerelease.split('.') {
            if !identifier_ok(identifier) {
                return false;
            }
            if identifier.bytes().all(|byte| byte.is_ascii_digit()) && !is_numeric_identifier(identifier) {
                return false;
            }
        }
    }
    if let Some(build) = build {
        if !build.split('.').all(identifier_ok) {
            return false;
        }
    }
    true
}

fn is_numeric_identifier(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|byte| byte.is_ascii_digit()) && (text == "0" || !text.starts_with('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_keys() {
        let parse = |key, v6| parse_legacy_key(key, v6);
        assert_eq!(
            parse("/lodash/4.17.21", false),
            Some(("lodash".into(), "4.17.21".into()))
        );
        assert_eq!(
            parse("/@babel/core/7.0.0_react@18.2.0", false),
            Some(("@babel/core".into(), "7.0.0".into()))
        );
        assert_eq!(
            parse("registry.example.com/foo/1.0.0", false),
            Some(("foo".into(), "1.0.0".into()))
        );
        assert_eq!(parse("github.com/user/repo/abcdef", false), None);
        assert_eq!(
            parse("/@scope/name@1.0.0(react@18.2.0)", true),
            Some(("@scope/name".into(), "1.0.0".into()))
        );
        assert_eq!(
            parse("/foo@1.0.0-rc.1", true),
            Some(("foo".into(), "1.0.0-rc.1".into()))
        );
    }

    #[test]
    fn v9_keys() {
        assert_eq!(parse_v9_key("foo@1.0.0(react@18.2.0)(b@1.0.0)"), Some(("foo", "1.0.0")));
        assert_eq!(
            parse_v9_key("@s/foo@1.0.0(patch_hash=abc)(react@1.0.0)"),
            Some(("@s/foo", "1.0.0"))
        );
        assert_eq!(
            parse_v9_key("foo@https://codeload.github.com/a/b/tar.gz/c"),
            Some(("foo", "https://codeload.github.com/a/b/tar.gz/c"))
        );
        assert_eq!(v9_package_id("foo@1.0.0(react@18.2.0)"), "foo@1.0.0");
        assert_eq!(parse_v9_key("@"), None);
    }

    #[test]
    fn references() {
        assert_eq!(
            v9_ref_to_key("1.0.0(react@18.2.0)", "foo").as_deref(),
            Some("foo@1.0.0(react@18.2.0)")
        );
        assert_eq!(v9_ref_to_key("bar@1.0.0", "foo").as_deref(), Some("bar@1.0.0"));
        assert_eq!(v9_ref_to_key("link:../a", "foo"), None);
        assert_eq!(
            legacy_ref_to_key("1.0.0_react@18.2.0", "foo", false).as_deref(),
            Some("/foo/1.0.0_react@18.2.0")
        );
        assert_eq!(
            legacy_ref_to_key("/bar/1.0.0", "foo", false).as_deref(),
            Some("/bar/1.0.0")
        );
        assert_eq!(
            legacy_ref_to_key("1.0.0(react@18.2.0)", "foo", true).as_deref(),
            Some("/foo@1.0.0(react@18.2.0)")
        );
    }

    #[test]
    fn semver() {
        assert!(is_semver("1.0.0"));
        assert!(is_semver("1.0.0-beta.1+build.5"));
        assert!(!is_semver("01.0.0"));
        assert!(!is_semver("1.0"));
        assert!(!is_semver("abcdef"));
    }
}
