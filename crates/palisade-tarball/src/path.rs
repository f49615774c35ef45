//! Entry names from archives, made safe to use as package-relative paths.
//!
//! npm (node-tar) strips the first path component of every entry whatever it is called
//! (`package/`, `node/`, `pkg-1.0.0/`), ignores entries that have nothing left after that,
//! and refuses to write outside the target folder. We follow the same reading and refuse,
//! rather than repair, anything that tries to leave the package: an absolute path, a drive
//! letter, or a `..` component (with `/` or `\` as separator, since `\` is a separator on
//! Windows installs).

use crate::IssueKind;

/// A usable package-relative path, with a note when the name needed a lossy conversion.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct CleanPath {
    pub path: String,
    pub warning: Option<(IssueKind, String)>,
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum PathVerdict {
    Keep(CleanPath),
    /// Nothing left after stripping the top folder (the folder itself, or a file beside it).
    OutsidePackage,
    Refuse(IssueKind, String),
}

/// Cleans a raw entry name. `strip_first` drops the first component (tarballs).
pub(crate) fn sanitize(raw: &[u8], strip_first: bool, max_len: usize) -> PathVerdict {
    if raw.len() > max_len {
        return PathVerdict::Refuse(
            IssueKind::InvalidPath,
            format!("name is {} bytes long, over the limit of {max_len}", raw.len()),
        );
    }
    if raw.contains(&0) {
        return PathVerdict::Refuse(IssueKind::InvalidPath, "name contains a NUL byte".into());
    }
    let text = String::from_utf8_lossy(raw);
    let mut warning = None;
    if matches!(text, std::borrow::Cow::Owned(_)) {
        warning = Some((
            IssueKind::InvalidPath,
            "name is not valid UTF-8 (read with replacement characters)".into(),
        ));
    }
    let bytes = text.as_bytes();
    let drive = bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':';
    if text.starts_with('/') || text.starts_with('\\') || drive {
        return PathVerdict::Refuse(IssueKind::AbsolutePath, "absolute path".into());
    }
    let components: Vec<&str> = text.split(['/', '\\']).filter(|c| !c.is_empty() && *c != ".").collect();
    if components.contains(&"..") {
        return PathVerdict::Refuse(IssueKind::PathTraversal, "path contains a `..` component".into());
    }
    if text.contains('\\') && warning.is_none() {
        warning = Some((IssueKind::InvalidPath, "name uses `\\` as a separator".into()));
    }
    let keep = if strip_first {
        components.get(1..).unwrap_or(&[])
    } else {
        &components[..]
    };
    if keep.is_empty() {
        return PathVerdict::OutsidePackage;
    }
    PathVerdict::Keep(CleanPath {
        path: keep.join("/"),
        warning,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kept(raw: &str, strip: bool) -> Option<String> {
        match sanitize(raw.as_bytes(), strip, 1024) {
            PathVerdict::Keep(clean) => Some(clean.path),
            _ => None,
        }
    }

    #[test]
    fn strips_whatever_top_folder() {
        assert_eq!(kept("package/index.js", true).as_deref(), Some("index.js"));
        assert_eq!(kept("node/lib/a.js", true).as_deref(), Some("lib/a.js"));
        assert_eq!(kept("./package/./lib//a.js", true).as_deref(), Some("lib/a.js"));
        assert_eq!(sanitize(b"package/", true, 1024), PathVerdict::OutsidePackage);
        assert_eq!(sanitize(b"index.js", true, 1024), PathVerdict::OutsidePackage);
        assert_eq!(kept("index.js", false).as_deref(), Some("index.js"));
    }

    #[test]
    fn refuses_escapes() {
        for (raw, kind) in [
            ("/etc/passwd", IssueKind::AbsolutePath),
            ("\\evil", IssueKind::AbsolutePath),
            ("C:/Windows/x", IssueKind::AbsolutePath),
            ("package/../../x", IssueKind::PathTraversal),
            ("package\\..\\..\\x", IssueKind::PathTraversal),
            ("package/a/..", IssueKind::PathTraversal),
        ] {
            assert!(
                matches!(sanitize(raw.as_bytes(), true, 1024), PathVerdict::Refuse(k, _) if k == kind),
                "{raw}"
            );
        }
        assert!(matches!(
            sanitize(b"package/a\0b", true, 1024),
            PathVerdict::Refuse(IssueKind::InvalidPath, _)
        ));
        assert!(matches!(
            sanitize(&[b'a'; 2000], true, 1024),
            PathVerdict::Refuse(IssueKind::InvalidPath, _)
        ));
    }

    #[test]
    fn keeps_odd_names_with_a_warning() {
        let PathVerdict::Keep(clean) = sanitize(b"package/\xff\xfe.js", true, 1024) else {
            panic!("invalid UTF-8 names are kept");
        };
        assert_eq!(clean.path, "\u{fffd}\u{fffd}.js");
        assert!(clean.warning.is_some());
        let PathVerdict::Keep(clean) = sanitize(b"package\\lib\\a.js", true, 1024) else {
            panic!("backslash names are kept");
        };
        assert_eq!(clean.path, "lib/a.js");
        assert!(clean.warning.is_some());
        assert_eq!(kept("package/...js", true).as_deref(), Some("...js"));
    }
}
