//! yarn berry (v2+) lockfiles: YAML with a `__metadata` section.
//!
//! Yarn writes the file with its own serializer (`stringifySyml` in
//! yarnpkg/berry `packages/yarnpkg-parsers`): two-space indentation,
//! `key: value` lines, values either plain or JSON-quoted, and it reads it
//! back with js-yaml's FAILSAFE schema (every scalar is a string). A fast
//! line-based reader handles exactly that canonical form; anything else
//! (a hand-edited file, flow collections, anchors, syntax errors) goes to
//! `serde_norway`, a full YAML parser, whose errors carry line and column.
//!
//! `checksum` is not put in `integrity`: it is a hash of the zip archive yarn
//! builds from the package (prefixed by the cache key), not of the registry
//! tarball, so it cannot be compared with an npm SRI string. It is kept in
//! `Package::checksum` instead.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

use palisade_core::{Inventory, Package, SourceKind, Warning};
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

use super::classic::{is_git_spec, unescape_json};
use super::{percent_decode, split_descriptor, Entry, EntryKind, Field, Keys, Value, MAX_DEPTH};
use crate::LockfileError;

/// `__metadata.version` values read. Lockfile versions 4 (yarn 2/3.0), 5–6
/// (yarn 3), 8 (yarn 4) and 10 (yarn 4.10+) have been checked on real files;
/// 3, 7 and 9 share their structure.
const SUPPORTED_VERSIONS: std::ops::RangeInclusive<u32> = 3..=10;
const SUPPORTED: &str = "yarn berry lockfile versions 3 to 10 (yarn 2.x to 4.x), yarn lockfile v1 (yarn classic)";

/// A line `__metadata:` at the start of a line, where berry writes it.
pub(super) fn looks_like_berry(text: &str) -> bool {
    text.starts_with("__metadata:") || text.contains("\n__metadata:")
}

pub(super) fn extract(display_path: &str, text: &str) -> Result<Inventory, LockfileError> {
    let fields = match parse_canonical(text) {
        Some(fields) => fields,
        None => parse_yaml(display_path, text)?,
    };

    let metadata = fields.iter().find(|field| field.keys.first() == "__metadata");
    let Some(metadata) = metadata else {
        return Err(LockfileError::Invalid {
            path: display_path.to_string(),
            line: None,
            message: "yarn berry lockfile without a `__metadata` section".to_string(),
        });
    };
    let version_text = match &metadata.value {
        Value::Map(items) => items
            .iter()
            .find(|item| item.keys.first() == "version")
            .and_then(|item| item.value.as_scalar()),
        _ => None,
    };
    let Some(version_text) = version_text else {
        return Err(LockfileError::Invalid {
            path: display_path.to_string(),
            line: Some(metadata.line as usize),
            message: "`__metadata` has no `version`".to_string(),
        });
    };
    let version = version_text
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|version| SUPPORTED_VERSIONS.contains(version));
    let Some(version) = version else {
        return Err(LockfileError::UnsupportedVersion {
            path: display_path.to_string(),
            found: format!("{version_text} (yarn berry `__metadata.version`)"),
            supported: SUPPORTED,
        });
    };

    let mut inventory = Inventory::new(display_path, format!("yarn-berry-v{version}"));
    let mut entries = Vec::with_capacity(fields.len());
    for field in fields {
        if field.keys.first() == "__metadata" {
            continue;
        }
        interpret_entry(field, &mut entries, &mut inventory.warnings);
    }
    Ok(super::assemble(inventory, entries, true))
}

/// Read the canonical form yarn writes; `None` when the text is anything else.
fn parse_canonical(text: &str) -> Option<Vec<Field<'_>>> {
    struct Frame<'a> {
        key: Cow<'a, str>,
        line: u32,
        fields: Vec<Field<'a>>,
    }
    fn close(stack: &mut Vec<Frame<'_>>) {
        if stack.len() < 2 {
            return;
        }
        if let Some(frame) = stack.pop() {
            if let Some(parent) = stack.last_mut() {
                parent.fields.push(Field {
                    keys: Keys::one(frame.key),
                    line: frame.line,
                    value: Value::Map(frame.fields),
                });
            }
        }
    }
    let mut stack = vec![Frame {
        key: Cow::Borrowed(""),
        line: 0,
        fields: Vec::new(),
    }];
    // A block just opened must get at least one field (YAML reads an empty
    // `key:` as null, which the canonical form never writes).
    let mut open_pending = false;
    let mut seen_top_level: HashMap<Cow<'_, str>, ()> = HashMap::new();
    for (index, raw_line) in text.split('\n').enumerate() {
        let line = raw_line.strip_suffix('\r').unwrap_or(raw_line);
        let indent = line.bytes().take_while(|&byte| byte == b' ').count();
        let rest = &line[indent..];
        if rest.is_empty() || rest.starts_with('#') {
            continue;
        }
        if indent % 2 != 0 || rest.starts_with('\t') {
            return None;
        }
        let level = indent / 2;
        let depth = stack.len() - 1;
        if level > depth || (open_pending && level != depth) {
            return None;
        }
        for _ in level..depth {
            close(&mut stack);
        }
        open_pending = false;
        let (key, after_key) = canonical_key(rest)?;
        let line_number = u32::try_from(index + 1).unwrap_or(u32::MAX);
        if level == 0 && seen_top_level.insert(key.clone(), ()).is_some() {
            // Duplicate keys: let the YAML parser decide.
            return None;
        }
        let value_text = &rest[after_key..];
        if value_text.is_empty() {
            if stack.len() > MAX_DEPTH {
                return None;
            }
            stack.push(Frame {
                key,
                line: line_number,
                // Entries hold a handful of fields; one allocation, not three.
                fields: Vec::with_capacity(if level == 0 { 8 } else { 4 }),
            });
            open_pending = true;
            continue;
        }
        let value = canonical_value(value_text.strip_prefix(' ')?)?;
        stack.last_mut()?.fields.push(Field {
            keys: Keys::one(key),
            line: line_number,
            value: Value::Scalar(value),
        });
    }
    if open_pending {
        return None;
    }
    while stack.len() > 1 {
        close(&mut stack);
    }
    stack.pop().map(|frame| frame.fields)
}

/// A canonical key followed by `:`; returns the key and the offset after `:`.
fn canonical_key(rest: &str) -> Option<(Cow<'_, str>, usize)> {
    if rest.starts_with('"') {
        let (value, end) = quoted(rest)?;
        if rest.as_bytes().get(end) != Some(&b':') {
            return None;
        }
        return Some((value, end + 1));
    }
    let colon = rest.find(':')?;
    let key = &rest[..colon];
    if !is_plain(key) {
        return None;
    }
    Some((Cow::Borrowed(key), colon + 1))
}

fn canonical_value(text: &str) -> Option<Cow<'_, str>> {
    if text.starts_with('"') {
        let (value, end) = quoted(text)?;
        return (end == text.len()).then_some(value);
    }
    is_plain(text).then_some(Cow::Borrowed(text))
}

/// A JSON-quoted string at the start of `text`: its value and the offset after it.
fn quoted(text: &str) -> Option<(Cow<'_, str>, usize)> {
    let bytes = text.as_bytes();
    let mut position = 1;
    let mut escaped = false;
    while position < bytes.len() {
        match bytes[position] {
            b'\\' => {
                escaped = true;
                position += 2;
            }
            b'"' => {
                let inner = &text[1..position];
                let value = if escaped {
                    Cow::Owned(unescape_json(inner)?)
                } else {
                    Cow::Borrowed(inner)
                };
                return Some((value, position + 1));
            }
            _ => position += 1,
        }
    }
    None
}

/// What yarn writes unquoted (its `simpleStringPattern`): no leading YAML
/// indicator, no `:`, `#`, `,`, brackets or braces, no surrounding spaces.
fn is_plain(text: &str) -> bool {
    let Some(first) = text.bytes().next() else {
        return false;
    };
    if b"-?:,][{}#&*!|>'\"%@` \t".contains(&first) {
        return false;
    }
    if text.ends_with(' ') || text.ends_with('\t') {
        return false;
    }
    !text
        .bytes()
        .any(|byte| matches!(byte, b':' | b'#' | b',' | b'[' | b']' | b'{' | b'}' | b'\t'))
}

/// Flow collections (`[`, `{`) nested deeper than this are refused before
/// the YAML parser sees them: its time grows with the square of the depth
/// (40 000 levels take seconds), and yarn never writes flow collections.
const MAX_FLOW_DEPTH: usize = 64;

/// The line and column where flow nesting first exceeds [`MAX_FLOW_DEPTH`].
/// Quotes and comments are skipped, approximately as YAML reads them; an
/// error here errs towards refusing.
fn excessive_flow_nesting(text: &str) -> Option<(usize, usize)> {
    let mut depth = 0usize;
    for (index, line) in text.split('\n').enumerate() {
        let bytes = line.as_bytes();
        let mut position = 0;
        let mut previous = b' ';
        while position < bytes.len() {
            let byte = bytes[position];
            match byte {
                b'#' if previous == b' ' || previous == b'\t' => break,
                b'"' => {
                    position += 1;
                    while position < bytes.len() && bytes[position] != b'"' {
                        position += if bytes[position] == b'\\' { 2 } else { 1 };
                    }
                }
                b'\'' if matches!(previous, b' ' | b'\t' | b'[' | b'{' | b',' | b':') => {
                    position += 1;
                    while position < bytes.len() && bytes[position] != b'\'' {
                        position += 1;
                    }
                }
                b'[' | b'{' => {
                    depth += 1;
                    if depth > MAX_FLOW_DEPTH {
                        return Some((index + 1, position + 1));
                    }
                }
                b']' | b'}' => depth = depth.saturating_sub(1),
                _ => {}
            }
            previous = byte;
            position += 1;
        }
    }
    None
}

/// Parse with a full YAML parser, for files not in yarn's canonical form.
fn parse_yaml(display_path: &str, text: &str) -> Result<Vec<Field<'static>>, LockfileError> {
    if let Some((line, column)) = excessive_flow_nesting(text) {
        return Err(LockfileError::Syntax {
            path: display_path.to_string(),
            line,
            column,
            message: format!("flow collections nested deeper than {MAX_FLOW_DEPTH} levels"),
        });
    }
    let document: YamlNode = serde_norway::from_str(text).map_err(|error| {
        let (line, column) = error
            .location()
            .map_or((0, 0), |location| (location.line(), location.column()));
        LockfileError::Syntax {
            path: display_path.to_string(),
            line,
            column,
            message: error.to_string(),
        }
    })?;
    let Value::Map(mut fields) = document.0 else {
        return Err(LockfileError::Invalid {
            path: display_path.to_string(),
            line: None,
            message: "expected a mapping of lockfile entries at the top level".to_string(),
        });
    };
    // The YAML parser does not report where each key is; yarn writes every
    // top-level key at the start of a line, so find them there.
    let lines = top_level_key_lines(text);
    for field in &mut fields {
        field.line = lines.get(field.keys.first()).copied().unwrap_or(0);
    }
    Ok(fields)
}

fn top_level_key_lines(text: &str) -> HashMap<String, u32> {
    let mut lines = HashMap::new();
    for (index, line) in text.lines().enumerate() {
        let Some(first) = line.bytes().next() else { continue };
        if matches!(first, b' ' | b'\t' | b'#') {
            continue;
        }
        let key = if line.starts_with('"') {
            quoted(line).map(|(key, _)| key.into_owned())
        } else if let Some(body) = line.strip_prefix('\'') {
            // YAML single quotes: `''` is a quote, nothing else is escaped.
            let mut key = String::new();
            let mut rest = body;
            loop {
                match rest.find('\'') {
                    Some(at) if rest[at + 1..].starts_with('\'') => {
                        key.push_str(&rest[..=at]);
                        rest = &rest[at + 2..];
                    }
                    Some(at) => {
                        key.push_str(&rest[..at]);
                        break Some(key);
                    }
                    None => break None,
                }
            }
        } else {
            line.find(':').map(|colon| line[..colon].trim().to_string())
        };
        if let Some(key) = key {
            lines.entry(key).or_insert(u32::try_from(index + 1).unwrap_or(u32::MAX));
        }
    }
    lines
}

/// A YAML node read into the shared tree, scalars as text (yarn reads with
/// the FAILSAFE schema, so `1.10` is the string `1.10`; the YAML parser has
/// already made numbers of plain scalars by then, which only a hand-edited
/// file would hit).
struct YamlNode(Value<'static>);

impl<'de> Deserialize<'de> for YamlNode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = YamlNode;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a YAML value")
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
        Ok(YamlNode(Value::Scalar(Cow::Owned(value.to_string()))))
    }

    fn visit_string<E: de::Error>(self, value: String) -> Result<Self::Value, E> {
        Ok(YamlNode(Value::Scalar(Cow::Owned(value))))
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<Self::Value, E> {
        Ok(YamlNode(Value::Scalar(Cow::Owned(value.to_string()))))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Self::Value, E> {
        Ok(YamlNode(Value::Scalar(Cow::Owned(value.to_string()))))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Self::Value, E> {
        Ok(YamlNode(Value::Scalar(Cow::Owned(value.to_string()))))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Self::Value, E> {
        Ok(YamlNode(Value::Scalar(Cow::Owned(value.to_string()))))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(YamlNode(Value::Other))
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(YamlNode(Value::Other))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut sequence: A) -> Result<Self::Value, A::Error> {
        while sequence.next_element::<de::IgnoredAny>()?.is_some() {}
        Ok(YamlNode(Value::Other))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut fields = Vec::new();
        while let Some(key) = map.next_key::<YamlNode>()? {
            let value = map.next_value::<YamlNode>()?;
            let key = match key.0 {
                Value::Scalar(text) => text,
                _ => continue,
            };
            fields.push(Field {
                keys: Keys::one(key),
                line: 0,
                value: value.0,
            });
        }
        Ok(YamlNode(Value::Map(fields)))
    }
}

/// Turn one top-level berry entry into an [`Entry`].
fn interpret_entry<'a>(field: Field<'a>, entries: &mut Vec<Entry<'a>>, warnings: &mut Vec<Warning>) {
    let line = field.line;
    let key = field.keys.first;
    let Value::Map(body) = field.value else {
        warnings.push(Warning::at_line(
            format!("ignored top-level value `{key}`: expected an entry block"),
            line,
        ));
        return;
    };
    let mut version = None;
    let mut resolution = None;
    let mut checksum = None;
    let mut dependencies = Vec::new();
    let mut optional_names: std::collections::HashSet<&str> = std::collections::HashSet::new();
    for item in &body {
        match (item.keys.first(), &item.value) {
            ("version", Value::Scalar(text)) => version = Some(text.to_string()),
            ("resolution", Value::Scalar(text)) => resolution = Some(text.clone()),
            ("checksum", Value::Scalar(text)) if !text.is_empty() => checksum = Some(text.to_string()),
            ("dependencies", Value::Map(deps)) => {
                for dep in deps {
                    if let Value::Scalar(range) = &dep.value {
                        dependencies.push((dep.keys.first.clone(), range.clone(), false));
                    }
                }
            }
            ("dependenciesMeta", Value::Map(metas)) => {
                for meta in metas {
                    let Value::Map(flags) = &meta.value else { continue };
                    let optional = flags
                        .iter()
                        .any(|flag| flag.keys.first() == "optional" && flag.value.as_scalar() == Some("true"));
                    if optional {
                        // Keys are names, or `name@version` for one version.
                        let meta_key = meta.keys.first();
                        optional_names.insert(split_descriptor(meta_key).map_or(meta_key, |(name, _)| name));
                    }
                }
            }
            _ => {}
        }
    }
    if !optional_names.is_empty() {
        for dependency in &mut dependencies {
            dependency.2 = optional_names.contains(dependency.0.as_ref());
        }
    }

    let descriptors: Vec<Cow<'a, str>> = match &key {
        Cow::Borrowed(text) => text.split(", ").map(Cow::Borrowed).collect(),
        Cow::Owned(text) => text.split(", ").map(|part| Cow::Owned(part.to_string())).collect(),
    };
    let (Some(version), Some(resolution)) = (version, resolution) else {
        warnings.push(Warning::at_line(
            format!("entry `{key}` has no `version` or no `resolution`; skipped"),
            line,
        ));
        return;
    };
    let Some((name, reference)) = split_descriptor(&resolution) else {
        warnings.push(Warning::at_line(
            format!("entry `{key}` has a resolution `{resolution}` that is not `name@reference`; skipped"),
            line,
        ));
        return;
    };
    let source = classify(reference, 0);
    let kind = if source == Some(SourceKind::Workspace) {
        let path = reference.strip_prefix("workspace:").unwrap_or(reference);
        EntryKind::Workspace {
            path: if path.is_empty() {
                ".".to_string()
            } else {
                path.to_string()
            },
            name: name.to_string(),
        }
    } else {
        let source = source.unwrap_or_else(|| {
            warnings.push(Warning::at_line(
                format!("entry `{key}` resolves through an unknown protocol (`{resolution}`); reported as a tarball"),
                line,
            ));
            SourceKind::Tarball
        });
        let mut package = Package::new(name, version);
        package.source = source;
        package.resolved = Some(resolution.to_string());
        package.checksum = checksum;
        package.paths = vec![key.to_string()];
        package.line = Some(line);
        let mut aliases: Vec<String> = descriptors
            .iter()
            .filter_map(|descriptor| split_descriptor(descriptor).map(|(alias, _)| alias))
            .filter(|alias| *alias != name)
            .map(str::to_string)
            .collect();
        aliases.dedup();
        package.aliases = aliases;
        EntryKind::Package(Box::new(package))
    };
    entries.push(Entry {
        descriptors,
        line,
        kind,
        dependencies,
        resolution: Some(resolution),
    });
}

/// The source of a berry resolution reference (what follows `name@`).
/// `None` for a protocol yarn does not ship.
fn classify(reference: &str, depth: usize) -> Option<SourceKind> {
    let protocol_end = reference.find(':');
    let protocol = protocol_end.map(|end| &reference[..=end]);
    match protocol {
        Some("npm:") => Some(SourceKind::Registry),
        Some("workspace:") => Some(SourceKind::Workspace),
        Some("portal:" | "link:") => Some(SourceKind::Link),
        // `exec:` builds the package by running a local script;
        // `condition:` (the yarn-plugin-conditions protocol) is a package yarn
        // generates locally to switch between dependencies.
        Some("file:" | "exec:" | "condition:") => Some(SourceKind::File),
        Some("patch:") => {
            // `patch:<encoded base locator>#<patch>::<params>`: the package is
            // the base one with a diff applied, so it comes from where the
            // base comes from.
            let inner = &reference["patch:".len()..];
            let base = percent_decode(inner.split('#').next().unwrap_or(inner));
            let (_, base_reference) = split_descriptor(&base)?;
            if depth >= 4 {
                return None;
            }
            classify(base_reference, depth + 1)
        }
        _ if reference.contains("#commit=") || is_git_spec(reference) => Some(SourceKind::Git),
        Some("http:" | "https:") => Some(SourceKind::Tarball),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_protocols() {
        assert_eq!(classify("npm:1.2.3", 0), Some(SourceKind::Registry));
        assert_eq!(
            classify(
                "patch:resolve@npm%3A1.22.1#~builtin<compat/resolve>::version=1.22.1&hash=07638b",
                0
            ),
            Some(SourceKind::Registry)
        );
        assert_eq!(
            classify("https://github.com/ethereumjs/ethereumjs-abi.git#commit=1cfbb13", 0),
            Some(SourceKind::Git)
        );
        assert_eq!(classify("https://example.com/x.tgz", 0), Some(SourceKind::Tarball));
        assert_eq!(
            classify("portal:../x::locator=a%40workspace%3A.", 0),
            Some(SourceKind::Link)
        );
        assert_eq!(classify("workspace:packages/a", 0), Some(SourceKind::Workspace));
        assert_eq!(classify("weird:thing", 0), None);
    }

    #[test]
    fn canonical_reader_defers_non_canonical_yaml() {
        assert!(parse_canonical("__metadata:\n  version: 6\n").is_some());
        assert!(parse_canonical("__metadata: {version: 6}\n").is_none());
        assert!(parse_canonical("a:\n  b: 'x'\n").is_none());
        assert!(parse_canonical("a:\nb: 1\n").is_none());
    }
}
