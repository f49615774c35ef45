//! Package specs as written in palisade.toml: `name`, `name@range`,
//! `@scope/*`, `@scope/*@range` and `*`. Ranges follow npm's semver rules
//! (nodejs-semver), so `sharp@0.33.x` means what it means in package.json.

use std::fmt;

use nodejs_semver::{Range, Version};

/// Which package names a spec covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NamePattern {
    /// One package.
    Exact(String),
    /// Every package of a scope: `@scope/*` (stored as `@scope/`).
    Scope(String),
    /// Every package: `*`.
    Any,
}

/// A parsed `name[@range]` spec.
#[derive(Debug, Clone)]
pub struct PackageSpec {
    pub name: NamePattern,
    pub range: Option<Range>,
    /// The spec as the user wrote it, for messages.
    pub text: String,
}

impl PartialEq for PackageSpec {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl fmt::Display for PackageSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl PackageSpec {
    /// Parse `name`, `name@range`, `@scope/name@range`, `@scope/*` or `*`.
    pub fn parse(text: &str) -> Result<PackageSpec, String> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err("an empty package spec".into());
        }
        // A scoped name starts with `@`, so the version separator is the
        // first `@` after the first character.
        let first = trimmed.chars().next().map_or(0, char::len_utf8);
        let split = trimmed[first..].find('@').map(|position| position + first);
        let (name, range_text) = match split {
            Some(position) => (&trimmed[..position], Some(&trimmed[position + 1..])),
            None => (trimmed, None),
        };
        let name = parse_name(name)?;
        let range = match range_text {
            None => None,
            Some(range) if range.trim().is_empty() => {
                return Err(format!("`{trimmed}` ends with `@` but gives no version range"))
            }
            Some(range) => {
                Some(Range::parse(range).map_err(|_| format!("`{range}` in `{trimmed}` is not an npm version range"))?)
            }
        };
        Ok(PackageSpec {
            name,
            range,
            text: trimmed.to_string(),
        })
    }

    /// Whether `name@version` is covered. A spec with a range never covers a
    /// version that is not semver (a git commit, a file path).
    pub fn matches(&self, name: &str, version: &str) -> bool {
        self.matches_name(name)
            && match &self.range {
                None => true,
                Some(range) => Version::parse(version).is_ok_and(|version| range.satisfies(&version)),
            }
    }

    pub fn matches_name(&self, name: &str) -> bool {
        match &self.name {
            NamePattern::Exact(exact) => exact == name,
            NamePattern::Scope(scope) => name.starts_with(scope.as_str()),
            NamePattern::Any => true,
        }
    }
}

fn parse_name(name: &str) -> Result<NamePattern, String> {
    if name == "*" {
        return Ok(NamePattern::Any);
    }
    if let Some(scope) = name.strip_suffix("/*") {
        if scope.len() > 1 && scope.starts_with('@') && valid_part(&scope[1..]) {
            return Ok(NamePattern::Scope(format!("{scope}/")));
        }
        return Err(format!("`{name}` is not a scope glob: write `@scope/*`"));
    }
    if name.contains('*') {
        return Err(format!("`{name}`: only `@scope/*` and `*` are supported as globs"));
    }
    let valid = match name.strip_prefix('@') {
        Some(scoped) => scoped
            .split_once('/')
            .is_some_and(|(scope, base)| valid_part(scope) && valid_part(base)),
        None => valid_part(name),
    };
    if valid {
        Ok(NamePattern::Exact(name.to_string()))
    } else {
        Err(format!("`{name}` is not a valid npm package name"))
    }
}

/// The characters npm accepts in a (new) package name part; upper case is
/// allowed because old packages have it.
fn valid_part(part: &str) -> bool {
    !part.is_empty()
        && !part.starts_with('.')
        && part
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs() {
        let spec = PackageSpec::parse("sharp@0.33.x").expect("valid");
        assert!(spec.matches("sharp", "0.33.5"));
        assert!(!spec.matches("sharp", "0.34.0"));
        let scoped = PackageSpec::parse("@myorg/*").expect("valid");
        assert!(scoped.matches("@myorg/a", "1.0.0"));
        assert!(!scoped.matches("@other/a", "1.0.0"));
        let exact_scoped = PackageSpec::parse("@babel/core@^7").expect("valid");
        assert!(exact_scoped.matches("@babel/core", "7.24.0"));
        assert!(!exact_scoped.matches("@babel/core", "git+https://x"));
        assert!(PackageSpec::parse("left-pad")
            .expect("valid")
            .matches("left-pad", "1.3.0"));
        assert!(PackageSpec::parse("foo*").is_err());
        assert!(PackageSpec::parse("foo@").is_err());
        assert!(PackageSpec::parse("foo@not a range!").is_err());
        assert!(PackageSpec::parse("has space").is_err());
        assert!(PackageSpec::parse("@scope").is_err());
        // A multi-byte first character once made the `@` search slice mid-character.
        assert!(PackageSpec::parse("é@1").is_err());
    }
}
