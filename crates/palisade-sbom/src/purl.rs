//! Package URLs for npm packages, per the purl specification
//! (<https://github.com/package-url/purl-spec>, PURL-SPECIFICATION.rst and
//! PURL-TYPES.rst, type `npm`): `pkg:npm/%40scope/name@version`, where the
//! scope is the namespace and its `@` is percent-encoded like any other
//! character outside the unreserved set.

use std::collections::BTreeMap;

/// A parsed package URL, reduced to what an npm inventory needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Purl {
    /// The purl type, lowercased (`npm`, `maven`, …).
    pub purl_type: String,
    /// `@scope` for scoped npm packages, decoded.
    pub namespace: Option<String>,
    pub name: String,
    pub version: Option<String>,
    /// Decoded qualifier values by (lowercased) key.
    pub qualifiers: BTreeMap<String, String>,
}

impl Purl {
    /// The npm package name: `@scope/name` or `name`.
    pub fn npm_name(&self) -> String {
        match &self.namespace {
            Some(namespace) => format!("{namespace}/{}", self.name),
            None => self.name.clone(),
        }
    }
}

/// The purl of an npm package. `qualifiers` are appended sorted by key, as
/// the specification's canonical form requires.
pub fn npm(name: &str, version: &str, qualifiers: &[(&str, &str)]) -> String {
    let mut purl = String::from("pkg:npm/");
    match split_scope(name) {
        Some((scope, bare)) => {
            encode_into(&mut purl, scope, false);
            purl.push('/');
            encode_into(&mut purl, bare, false);
        }
        None => encode_into(&mut purl, name, false),
    }
    if !version.is_empty() {
        purl.push('@');
        encode_into(&mut purl, version, false);
    }
    let mut qualifiers: Vec<_> = qualifiers.iter().filter(|(_, value)| !value.is_empty()).collect();
    qualifiers.sort_by_key(|(key, _)| *key);
    for (index, (key, value)) in qualifiers.iter().enumerate() {
        purl.push(if index == 0 { '?' } else { '&' });
        purl.push_str(key);
        purl.push('=');
        encode_into(&mut purl, value, true);
    }
    purl
}

/// `@scope/name` → `("@scope", "name")`.
pub fn split_scope(name: &str) -> Option<(&str, &str)> {
    if name.starts_with('@') {
        name.split_once('/')
    } else {
        None
    }
}

/// Percent-encode everything but the unreserved characters of RFC 3986 §2.3;
/// qualifier values also keep `:` and `/`, which cannot be mistaken for
/// separators there (the specification's own examples leave them bare).
fn encode_into(out: &mut String, text: &str, qualifier_value: bool) {
    for byte in text.bytes() {
        let keep = byte.is_ascii_alphanumeric()
            || matches!(byte, b'-' | b'.' | b'_' | b'~')
            || (qualifier_value && matches!(byte, b':' | b'/'));
        if keep {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
}

fn decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' {
            let hex = text.get(index + 1..index + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            index += 3;
        } else {
            out.push(bytes[index]);
            index += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Parse a package URL. `None` when it is not one.
pub fn parse(text: &str) -> Option<Purl> {
    // Scheme, then (tolerated) slashes after it: `pkg://npm/…` is read like `pkg:npm/…`.
    let rest = text.strip_prefix("pkg:")?.trim_start_matches('/');
    let rest = rest.split_once('#').map_or(rest, |(before, _subpath)| before);
    let (rest, qualifier_text) = match rest.split_once('?') {
        Some((before, after)) => (before, Some(after)),
        None => (rest, None),
    };
    let (purl_type, rest) = rest.split_once('/')?;
    if purl_type.is_empty() {
        return None;
    }
    // The version follows the last `@` of the remainder; a leading `@` is an
    // unencoded npm scope, which some producers write.
    let (path, version) = match rest.rfind('@') {
        Some(at) if at > 0 => (&rest[..at], Some(decode(&rest[at + 1..])?)),
        _ => (rest, None),
    };
    let path = path.trim_end_matches('/');
    let (namespace, name) = match path.rsplit_once('/') {
        Some((namespace, name)) => (Some(decode(namespace)?), decode(name)?),
        None => (None, decode(path)?),
    };
    if name.is_empty() {
        return None;
    }
    let mut qualifiers = BTreeMap::new();
    for pair in qualifier_text.unwrap_or("").split('&').filter(|pair| !pair.is_empty()) {
        let (key, value) = pair.split_once('=')?;
        qualifiers.insert(key.to_ascii_lowercase(), decode(value)?);
    }
    Some(Purl {
        purl_type: purl_type.to_ascii_lowercase(),
        namespace: namespace.filter(|namespace| !namespace.is_empty()),
        name,
        version: version.filter(|version| !version.is_empty()),
        qualifiers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scoped_names_encode_the_at_sign() {
        assert_eq!(npm("@babel/core", "7.24.0", &[]), "pkg:npm/%40babel/core@7.24.0");
        assert_eq!(npm("lodash", "4.17.21", &[]), "pkg:npm/lodash@4.17.21");
        assert_eq!(npm("x", "1.0.0+build.1", &[]), "pkg:npm/x@1.0.0%2Bbuild.1");
    }

    #[test]
    fn qualifiers_are_sorted_and_encoded() {
        assert_eq!(
            npm(
                "x",
                "1.0.0",
                &[("vcs_url", "git+https://h/r.git#abc"), ("download_url", "")]
            ),
            "pkg:npm/x@1.0.0?vcs_url=git%2Bhttps://h/r.git%23abc"
        );
    }

    #[test]
    fn parse_round_trips() {
        for (name, version) in [("@babel/core", "7.24.0"), ("lodash", "4.17.21"), ("x", "1.0.0+b")] {
            let purl = parse(&npm(name, version, &[("download_url", "https://h/x.tgz")])).expect("parses");
            assert_eq!(purl.purl_type, "npm");
            assert_eq!(purl.npm_name(), name);
            assert_eq!(purl.version.as_deref(), Some(version));
            assert_eq!(purl.qualifiers["download_url"], "https://h/x.tgz");
        }
    }

    #[test]
    fn parse_accepts_unencoded_scope_and_rejects_non_purls() {
        let purl = parse("pkg:npm/@types/node@20.1.0").expect("parses");
        assert_eq!(purl.npm_name(), "@types/node");
        assert_eq!(purl.version.as_deref(), Some("20.1.0"));
        assert_eq!(parse("pkg:maven/org.x/y@1").map(|p| p.purl_type), Some("maven".into()));
        assert!(parse("npm:lodash@1").is_none());
        assert!(parse("pkg:npm/%zz@1").is_none());
    }
}
