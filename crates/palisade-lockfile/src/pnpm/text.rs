//! Cheap passes over the raw text of a pnpm-lock.yaml: where each entry key
//! sits (for line numbers, which serde's value tree does not keep) and whether
//! the file uses YAML anchors (which pnpm never writes).

use std::borrow::Cow;
use std::collections::HashMap;

use super::KeyMap;

/// Line of every entry key of the `packages`, `snapshots` and `importers`
/// sections, per YAML document.
#[derive(Default)]
pub(crate) struct LineIndex<'a> {
    /// Keys borrow from the text unless unquoting changed them.
    lines: HashMap<(usize, Section), KeyMap<Cow<'a, str>, u32>>,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Section {
    Packages,
    Snapshots,
    Importers,
}

impl<'a> LineIndex<'a> {
    /// pnpm writes sections at column 0 and their entries indented by two
    /// spaces; anything else (hand edits, flow style) just gets no line.
    pub(crate) fn build(contents: &'a str) -> Self {
        let mut index = LineIndex::default();
        let mut document = 0usize;
        let mut document_has_content = false;
        // Counted as `yaml::parse_fast` counts documents: a `---` after
        // content or after another `---` starts a new one.
        let mut seen_marker = false;
        let mut section = None;
        for (number, line) in contents.lines().enumerate() {
            let line_number = u32::try_from(number + 1).unwrap_or(u32::MAX);
            if line == "---" || line.starts_with("--- ") {
                if document_has_content || seen_marker {
                    document += 1;
                    document_has_content = false;
                }
                seen_marker = true;
                section = None;
                continue;
            }
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            document_has_content = true;
            if !line.starts_with(' ') {
                section = match line.trim_end() {
                    "packages:" => Some(Section::Packages),
                    "snapshots:" => Some(Section::Snapshots),
                    "importers:" => Some(Section::Importers),
                    _ => None,
                };
                continue;
            }
            let Some(section) = section else { continue };
            let Some(rest) = line.strip_prefix("  ") else { continue };
            if rest.starts_with(' ') || rest.starts_with('#') {
                continue;
            }
            if let Some(key) = entry_key(rest) {
                index
                    .lines
                    .entry((document, section))
                    .or_default()
                    .entry(key)
                    .or_insert(line_number);
            }
        }
        index
    }

    pub(crate) fn line(&self, document: usize, section: Section, key: &str) -> Option<u32> {
        self.lines.get(&(document, section))?.get(key).copied()
    }
}

/// The key of a `key:` or `key: value` line, unquoted.
fn entry_key(rest: &str) -> Option<Cow<'_, str>> {
    if let Some(quoted) = rest.strip_prefix('\'') {
        if let Some(end) = quoted.find('\'') {
            if !quoted[end + 1..].starts_with('\'') {
                return Some(Cow::Borrowed(&quoted[..end]));
            }
        }
        // Single-quoted with `''` escapes.
        let mut key = String::new();
        let mut chars = quoted.chars().peekable();
        while let Some(character) = chars.next() {
            if character == '\'' {
                if chars.peek() == Some(&'\'') {
                    chars.next();
                    key.push('\'');
                } else {
                    return Some(Cow::Owned(key));
                }
            } else {
                key.push(character);
            }
        }
        return None;
    }
    if let Some(quoted) = rest.strip_prefix('"') {
        // pnpm only double-quotes keys without escapes worth decoding.
        return quoted.find('"').map(|end| Cow::Borrowed(&quoted[..end]));
    }
    if let Some(key) = rest.strip_suffix(':') {
        return Some(Cow::Borrowed(key));
    }
    rest.find(": ").map(|end| Cow::Borrowed(&rest[..end]))
}

/// Whether the text defines an anchor (`&name`) that is also used as an
/// alias (`*name`). pnpm never writes either; a hostile file can use them
/// for a "billion laughs" expansion, which serde_norway bounds only to a
/// multiple of the document size. The scan looks only at node starts, so
/// `&` and `*` inside plain text rarely count; a false positive would need
/// both spellings with the same name.
pub(crate) fn uses_anchor_aliases(contents: &str) -> bool {
    if !contents.contains('&') || !contents.contains('*') {
        return false;
    }
    let mut anchors: Vec<&str> = Vec::new();
    let mut aliases: Vec<&str> = Vec::new();
    let bytes = contents.as_bytes();
    for (index, &byte) in bytes.iter().enumerate() {
        if byte != b'&' && byte != b'*' {
            continue;
        }
        if !at_node_start(bytes, index) {
            continue;
        }
        let name_start = index + 1;
        let name_end = bytes[name_start..]
            .iter()
            .position(|&next| next.is_ascii_whitespace() || matches!(next, b',' | b'[' | b']' | b'{' | b'}'))
            .map_or(bytes.len(), |offset| name_start + offset);
        let Some(name) = contents.get(name_start..name_end) else {
            continue;
        };
        if name.is_empty() {
            continue;
        }
        if byte == b'&' {
            anchors.push(name);
        } else {
            aliases.push(name);
        }
        if anchors.len() + aliases.len() > 10_000 {
            // Nobody writes thousands of anchors by hand: treat as hostile.
            return true;
        }
    }
    aliases.iter().any(|alias| anchors.contains(alias))
}

/// The line where `[`/`{` nesting first goes deeper than `limit`, if it
/// does. libyaml (under serde_norway) spends time quadratic in the depth of
/// flow collections before its own recursion limit triggers: 200,000 `[`
/// take minutes. pnpm never nests flow collections more than two deep.
/// Brackets inside quoted strings are counted too, which only matters for
/// text no lockfile contains.
pub(crate) fn flow_nesting_exceeds(contents: &str, limit: usize) -> Option<u32> {
    let mut depth = 0usize;
    let mut line = 1u32;
    for byte in contents.bytes() {
        match byte {
            b'[' | b'{' => {
                depth += 1;
                if depth > limit {
                    return Some(line);
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b'\n' => line = line.saturating_add(1),
            _ => {}
        }
    }
    None
}

/// A YAML node starts after indentation, `- `, `: `, `? `, `[`, `{` or `,`.
fn at_node_start(bytes: &[u8], index: usize) -> bool {
    let mut cursor = index;
    let mut saw_space = false;
    while cursor > 0 && matches!(bytes[cursor - 1], b' ' | b'\t') {
        cursor -= 1;
        saw_space = true;
    }
    if cursor == 0 {
        return true;
    }
    match bytes[cursor - 1] {
        b'\n' | b'\r' | b'[' | b'{' | b',' => true,
        b'-' | b':' | b'?' => saw_space,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_entry_lines_per_document() {
        let text = "lockfileVersion: '9.0'\npackages:\n\n  foo@1.0.0:\n    resolution: {integrity: x}\n  '@s/a@2.0.0': {}\n---\nlockfileVersion: '9.0'\nsnapshots:\n  foo@1.0.0: {}\n";
        let index = LineIndex::build(text);
        assert_eq!(index.line(0, Section::Packages, "foo@1.0.0"), Some(4));
        assert_eq!(index.line(0, Section::Packages, "@s/a@2.0.0"), Some(6));
        assert_eq!(index.line(1, Section::Snapshots, "foo@1.0.0"), Some(10));
    }

    #[test]
    fn detects_anchor_alias_pairs_only() {
        assert!(uses_anchor_aliases("a: &a [x]\nb: [*a, *a]\n"));
        assert!(!uses_anchor_aliases("deprecated: use this & that, *really*\n"));
        assert!(!uses_anchor_aliases("specifier: '>=1 <2 || *'\n"));
    }
}
