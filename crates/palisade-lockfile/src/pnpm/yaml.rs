//! The YAML tree the pnpm extractor reads, and a fast parser for the subset
//! of YAML that pnpm writes.
//!
//! pnpm serialises its lockfile with js-yaml in block style: two-space
//! indented mappings, single-line flow collections (`{integrity: …}`,
//! `[x64]`), plain or quoted scalars and scalar-only block sequences. A
//! general YAML parser spends most of its time on everything else: on a
//! 5 MB lockfile serde_norway alone takes ~250 ms, this subset parser a
//! small fraction of that. Anything outside the subset (anchors, tags, block
//! scalars, multi-line scalars or flow collections, tabs, complex keys) makes
//! [`parse_fast`] give up, and the caller falls back to serde_norway, so the
//! subset only decides speed, never what a file means.

use std::borrow::Cow;

use serde_norway::Value;

/// A YAML node. Scalars keep their text (YAML 1.2 types are decided by the
/// reader: `true` is a boolean where a boolean is expected).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node<'a> {
    Null,
    Scalar { text: Cow<'a, str>, plain: bool },
    Map(Map<'a>),
    Seq(Vec<Node<'a>>),
}

/// A mapping in document order.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Map<'a> {
    entries: Vec<(Cow<'a, str>, Node<'a>)>,
}

impl<'a> Node<'a> {
    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Node::Scalar { text, plain } => {
                if *plain && matches!(text.as_ref(), "~" | "null" | "Null" | "NULL") {
                    None
                } else {
                    Some(text)
                }
            }
            _ => None,
        }
    }

    pub(crate) fn as_bool(&self) -> Option<bool> {
        match self {
            Node::Scalar { text, plain: true } => match text.as_ref() {
                "true" | "True" | "TRUE" => Some(true),
                "false" | "False" | "FALSE" => Some(false),
                _ => None,
            },
            _ => None,
        }
    }

    pub(crate) fn as_mapping(&self) -> Option<&Map<'a>> {
        match self {
            Node::Map(map) => Some(map),
            _ => None,
        }
    }

    pub(crate) fn is_null(&self) -> bool {
        match self {
            Node::Null => true,
            Node::Scalar { text, plain: true } => matches!(text.as_ref(), "~" | "null" | "Null" | "NULL"),
            _ => false,
        }
    }

    /// The scalar's text whatever its type, for `lockfileVersion: 5.4`.
    pub(crate) fn scalar_text(&self) -> Option<&str> {
        match self {
            Node::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    /// From serde_norway's tree (the fallback path).
    pub(crate) fn from_value(value: Value) -> Node<'static> {
        match value {
            Value::Null => Node::Null,
            Value::Bool(flag) => Node::Scalar {
                text: Cow::Owned(flag.to_string()),
                plain: true,
            },
            Value::Number(number) => Node::Scalar {
                text: Cow::Owned(number.to_string()),
                plain: true,
            },
            Value::String(text) => Node::Scalar {
                text: Cow::Owned(text),
                plain: false,
            },
            Value::Sequence(items) => Node::Seq(items.into_iter().map(Node::from_value).collect()),
            Value::Mapping(mapping) => Node::Map(Map {
                entries: mapping
                    .into_iter()
                    .filter_map(|(key, value)| {
                        let key = match key {
                            Value::String(text) => text,
                            Value::Number(number) => number.to_string(),
                            Value::Bool(flag) => flag.to_string(),
                            _ => return None,
                        };
                        Some((Cow::Owned(key), Node::from_value(value)))
                    })
                    .collect(),
            }),
            Value::Tagged(tagged) => Node::from_value(tagged.value),
        }
    }
}

impl<'a> Map<'a> {
    /// Linear: mappings looked up by key are small; large sections are
    /// iterated or indexed by the caller.
    pub(crate) fn get(&self, key: &str) -> Option<&Node<'a>> {
        self.entries
            .iter()
            .find(|(candidate, _)| candidate == key)
            .map(|(_, value)| value)
    }

    pub(crate) fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &Node<'a>)> {
        self.entries.iter().map(|(key, value)| (key.as_ref(), value))
    }

    pub(crate) fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(key, _)| key.as_ref())
    }

    pub(crate) fn values(&self) -> impl Iterator<Item = &Node<'a>> {
        self.entries.iter().map(|(_, value)| value)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// The subset parser could not read the text; use the general parser.
#[derive(Debug)]
pub(crate) struct Unsupported;

type Parsed<T> = Result<T, Unsupported>;

/// Nesting deeper than this leaves the fast path (pnpm nests four levels);
/// serde_norway then applies its own recursion limit. Keeps hostile input
/// from exhausting the stack.
const MAX_DEPTH: usize = 32;

/// Every document of `text`, or [`Unsupported`] when the text leaves the
/// subset pnpm writes (including any YAML error: the general parser then
/// reports it with its position).
pub(crate) fn parse_fast(text: &str) -> Parsed<Vec<Node<'_>>> {
    let mut documents = Vec::new();
    let mut lines: Vec<Line<'_>> = Vec::new();
    let mut started = false;
    for raw in text.split('\n') {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        if raw == "---" {
            if started || !lines.is_empty() {
                documents.push(parse_document(&lines)?);
            }
            lines.clear();
            started = true;
            continue;
        }
        if raw.starts_with("---") || raw.starts_with("...") || raw.starts_with('%') {
            return Err(Unsupported);
        }
        let content = raw.trim_start_matches(' ');
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        if content.starts_with('\t') {
            return Err(Unsupported);
        }
        lines.push(Line {
            indent: raw.len() - content.len(),
            content: content.trim_end(),
        });
    }
    if started || !lines.is_empty() {
        documents.push(parse_document(&lines)?);
    }
    Ok(documents)
}

struct Line<'a> {
    indent: usize,
    content: &'a str,
}

fn parse_document<'a>(lines: &[Line<'a>]) -> Parsed<Node<'a>> {
    if lines.is_empty() {
        return Ok(Node::Null);
    }
    let mut parser = BlockParser {
        lines,
        position: 0,
        depth: 0,
    };
    let first_indent = lines[0].indent;
    let node = parser.block(first_indent)?;
    if parser.position != lines.len() {
        return Err(Unsupported);
    }
    Ok(node)
}

struct BlockParser<'l, 'a> {
    lines: &'l [Line<'a>],
    position: usize,
    depth: usize,
}

fn is_sequence_item(content: &str) -> bool {
    content == "-" || content.starts_with("- ")
}

impl<'a> BlockParser<'_, 'a> {
    fn block(&mut self, indent: usize) -> Parsed<Node<'a>> {
        if self.depth >= MAX_DEPTH {
            return Err(Unsupported);
        }
        self.depth += 1;
        let node = self.block_inner(indent);
        self.depth -= 1;
        node
    }

    fn block_inner(&mut self, indent: usize) -> Parsed<Node<'a>> {
        let line = &self.lines[self.position];
        if is_sequence_item(line.content) {
            self.sequence(indent)
        } else if self.lines.len() == 1 && !looks_like_entry(line.content) {
            // A document that is a single scalar or flow collection.
            self.position += 1;
            inline_value(line.content)
        } else {
            self.mapping(indent)
        }
    }

    fn mapping(&mut self, indent: usize) -> Parsed<Node<'a>> {
        let mut entries = Vec::new();
        while let Some(line) = self.lines.get(self.position) {
            if line.indent < indent {
                break;
            }
            if line.indent > indent || is_sequence_item(line.content) {
                return Err(Unsupported);
            }
            let (key, rest) = split_entry(line.content)?;
            self.position += 1;
            let value = if rest.is_empty() {
                match self.lines.get(self.position) {
                    Some(next) if next.indent > indent => self.block(next.indent)?,
                    // YAML lets a block sequence sit at its key's indentation.
                    Some(next) if next.indent == indent && is_sequence_item(next.content) => self.sequence(indent)?,
                    _ => Node::Null,
                }
            } else {
                inline_value(rest)?
            };
            entries.push((key, value));
        }
        Ok(Node::Map(Map { entries }))
    }

    fn sequence(&mut self, indent: usize) -> Parsed<Node<'a>> {
        let mut items = Vec::new();
        while let Some(line) = self.lines.get(self.position) {
            if line.indent != indent || !is_sequence_item(line.content) {
                if line.indent > indent {
                    return Err(Unsupported);
                }
                break;
            }
            let item = line.content[1..].trim_start_matches(' ');
            // Nested blocks and mappings inside sequences: not written by pnpm.
            if item.is_empty() || looks_like_entry(item) {
                return Err(Unsupported);
            }
            self.position += 1;
            items.push(inline_value(item)?);
        }
        Ok(Node::Seq(items))
    }
}

/// `key: value` or `key:`, with the key plain or quoted.
fn looks_like_entry(content: &str) -> bool {
    split_entry(content).is_ok()
}

fn split_entry(content: &str) -> Parsed<(Cow<'_, str>, &str)> {
    let (key, after) = match content.as_bytes().first() {
        Some(b'\'') => {
            let (key, consumed) = single_quoted(content)?;
            (key, &content[consumed..])
        }
        Some(b'"') => {
            let (key, consumed) = double_quoted(content)?;
            (key, &content[consumed..])
        }
        Some(first) if starts_plain(*first) => {
            let end = if let Some(stripped) = content.strip_suffix(':') {
                match stripped.find(": ") {
                    Some(index) => index,
                    None => stripped.len(),
                }
            } else {
                content.find(": ").ok_or(Unsupported)?
            };
            let key = &content[..end];
            if key.contains(" #") || key.ends_with(' ') {
                return Err(Unsupported);
            }
            (Cow::Borrowed(key), &content[end..])
        }
        _ => return Err(Unsupported),
    };
    let rest = after.strip_prefix(':').ok_or(Unsupported)?;
    if !rest.is_empty() && !rest.starts_with(' ') {
        return Err(Unsupported);
    }
    Ok((key, rest.trim_start_matches(' ')))
}

/// Characters a plain scalar may start with (YAML's indicators excluded;
/// `-`, `?` and `:` only when not followed by a space).
fn starts_plain(byte: u8) -> bool {
    !matches!(
        byte,
        b'-' | b'?'
            | b':'
            | b','
            | b'['
            | b']'
            | b'{'
            | b'}'
            | b'#'
            | b'&'
            | b'*'
            | b'!'
            | b'|'
            | b'>'
            | b'\''
            | b'"'
            | b'%'
            | b'@'
            | b'`'
            | b' '
    )
}

/// A value on the rest of a line: flow collection, quoted or plain scalar.
fn inline_value(text: &str) -> Parsed<Node<'_>> {
    let bytes = text.as_bytes();
    match bytes.first() {
        None => Ok(Node::Null),
        Some(b'{' | b'[') => {
            let mut flow = FlowParser {
                text,
                position: 0,
                depth: 0,
            };
            let node = flow.node()?;
            flow.skip_spaces();
            if flow.position != text.len() && !text[flow.position..].starts_with('#') {
                return Err(Unsupported);
            }
            Ok(node)
        }
        Some(b'\'') => {
            let (value, consumed) = single_quoted(text)?;
            trailing_comment_only(&text[consumed..])?;
            Ok(Node::Scalar {
                text: value,
                plain: false,
            })
        }
        Some(b'"') => {
            let (value, consumed) = double_quoted(text)?;
            trailing_comment_only(&text[consumed..])?;
            Ok(Node::Scalar {
                text: value,
                plain: false,
            })
        }
        Some(b'-' | b'?' | b':') if bytes.get(1).is_none_or(|next| *next == b' ') => Err(Unsupported),
        Some(first) if starts_plain(*first) || matches!(first, b'-' | b'?' | b':') => {
            let value = match text.find(" #") {
                Some(index) => text[..index].trim_end_matches(' '),
                None => text,
            };
            // `a: b: c` is an error in YAML; let the general parser say so.
            if value.contains(": ") || value.ends_with(':') {
                return Err(Unsupported);
            }
            Ok(Node::Scalar {
                text: Cow::Borrowed(value),
                plain: true,
            })
        }
        _ => Err(Unsupported),
    }
}

fn trailing_comment_only(rest: &str) -> Parsed<()> {
    let rest = rest.trim_start_matches(' ');
    if rest.is_empty() || rest.starts_with('#') {
        Ok(())
    } else {
        Err(Unsupported)
    }
}

/// `'text'` with `''` for a quote; returns the value and the bytes used.
fn single_quoted(text: &str) -> Parsed<(Cow<'_, str>, usize)> {
    let body = &text[1..];
    let mut owned: Option<String> = None;
    let mut start = 0;
    let bytes = body.as_bytes();
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'\'' {
            if bytes.get(index + 1) == Some(&b'\'') {
                let buffer = owned.get_or_insert_with(String::new);
                buffer.push_str(&body[start..=index]);
                index += 2;
                start = index;
                continue;
            }
            let value = match owned {
                Some(mut buffer) => {
                    buffer.push_str(&body[start..index]);
                    Cow::Owned(buffer)
                }
                None => Cow::Borrowed(&body[..index]),
            };
            return Ok((value, index + 2));
        }
        index += 1;
    }
    Err(Unsupported)
}

/// `"text"` with the escapes JSON also has; others go to the general parser.
fn double_quoted(text: &str) -> Parsed<(Cow<'_, str>, usize)> {
    let body = &text[1..];
    let bytes = body.as_bytes();
    let Some(first_special) = bytes.iter().position(|byte| *byte == b'"' || *byte == b'\\') else {
        return Err(Unsupported);
    };
    if bytes[first_special] == b'"' {
        return Ok((Cow::Borrowed(&body[..first_special]), first_special + 2));
    }
    let mut value = String::from(&body[..first_special]);
    let mut chars = body[first_special..].char_indices();
    while let Some((offset, character)) = chars.next() {
        match character {
            '"' => return Ok((Cow::Owned(value), first_special + offset + 2)),
            '\\' => {
                let (_, escaped) = chars.next().ok_or(Unsupported)?;
                value.push(match escaped {
                    '"' => '"',
                    '\\' => '\\',
                    '/' => '/',
                    'n' => '\n',
                    't' => '\t',
                    'r' => '\r',
                    _ => return Err(Unsupported),
                });
            }
            other => value.push(other),
        }
    }
    Err(Unsupported)
}

struct FlowParser<'a> {
    text: &'a str,
    position: usize,
    depth: usize,
}

impl<'a> FlowParser<'a> {
    fn skip_spaces(&mut self) {
        while self.text.as_bytes().get(self.position) == Some(&b' ') {
            self.position += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.position).copied()
    }

    fn node(&mut self) -> Parsed<Node<'a>> {
        if self.depth >= MAX_DEPTH {
            return Err(Unsupported);
        }
        self.depth += 1;
        let node = self.node_inner();
        self.depth -= 1;
        node
    }

    fn node_inner(&mut self) -> Parsed<Node<'a>> {
        self.skip_spaces();
        match self.peek() {
            Some(b'{') => {
                self.position += 1;
                let mut entries = Vec::new();
                loop {
                    self.skip_spaces();
                    if self.peek() == Some(b'}') {
                        self.position += 1;
                        return Ok(Node::Map(Map { entries }));
                    }
                    let key = self.scalar(true)?;
                    self.skip_spaces();
                    if self.peek() != Some(b':') {
                        return Err(Unsupported);
                    }
                    self.position += 1;
                    self.skip_spaces();
                    let value = match self.peek() {
                        Some(b',' | b'}') => Node::Null,
                        _ => self.node()?,
                    };
                    let Node::Scalar { text: key, .. } = key else {
                        return Err(Unsupported);
                    };
                    entries.push((key, value));
                    self.skip_spaces();
                    match self.peek() {
                        Some(b',') => self.position += 1,
                        Some(b'}') => {}
                        _ => return Err(Unsupported),
                    }
                }
            }
            Some(b'[') => {
                self.position += 1;
                let mut items = Vec::new();
                loop {
                    self.skip_spaces();
                    if self.peek() == Some(b']') {
                        self.position += 1;
                        return Ok(Node::Seq(items));
                    }
                    items.push(self.node()?);
                    self.skip_spaces();
                    match self.peek() {
                        Some(b',') => self.position += 1,
                        Some(b']') => {}
                        _ => return Err(Unsupported),
                    }
                }
            }
            _ => self.scalar(false),
        }
    }

    /// A scalar in a flow collection; a key ends at `: ` (or `:` before a
    /// flow indicator), a value at `,`, `]` or `}`.
    fn scalar(&mut self, key: bool) -> Parsed<Node<'a>> {
        let rest = &self.text[self.position..];
        match rest.as_bytes().first() {
            Some(b'\'') => {
                let (value, consumed) = single_quoted(rest)?;
                self.position += consumed;
                Ok(Node::Scalar {
                    text: value,
                    plain: false,
                })
            }
            Some(b'"') => {
                let (value, consumed) = double_quoted(rest)?;
                self.position += consumed;
                Ok(Node::Scalar {
                    text: value,
                    plain: false,
                })
            }
            Some(first) if starts_plain(*first) || (*first == b'-' && rest.len() > 1 && rest.as_bytes()[1] != b' ') => {
                let bytes = rest.as_bytes();
                let mut end = 0;
                while end < bytes.len() {
                    match bytes[end] {
                        b',' | b']' | b'}' | b'[' | b'{' => break,
                        b':' if key
                            && bytes
                                .get(end + 1)
                                .is_none_or(|next| matches!(next, b' ' | b',' | b'}' | b']')) =>
                        {
                            break
                        }
                        b'#' if end > 0 && bytes[end - 1] == b' ' => return Err(Unsupported),
                        _ => end += 1,
                    }
                }
                let value = rest[..end].trim_end_matches(' ');
                if !key && value.contains(": ") {
                    return Err(Unsupported);
                }
                self.position += end;
                Ok(Node::Scalar {
                    text: Cow::Borrowed(value),
                    plain: true,
                })
            }
            _ => Err(Unsupported),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    /// The subset parser must agree with serde_norway wherever it answers.
    fn agrees(text: &str) {
        let fast = parse_fast(text).expect("in the subset");
        let slow: Vec<Node<'static>> = serde_norway::Deserializer::from_str(text)
            .map(|document| Node::from_value(Value::deserialize(document).expect("valid YAML")))
            .collect();
        assert_eq!(normalize(&fast), normalize(&slow), "{text}");
    }

    /// Compare ignoring the plain flag (serde knows only strings there) and
    /// typed scalars' spelling.
    fn normalize(nodes: &[Node<'_>]) -> String {
        fn write(node: &Node<'_>, out: &mut String) {
            match node {
                Node::Null => out.push('~'),
                Node::Scalar { text, plain } => {
                    if *plain && matches!(text.as_ref(), "~" | "null") {
                        out.push('~');
                    } else {
                        out.push_str(&format!("{text:?}"));
                    }
                }
                Node::Map(map) => {
                    out.push('{');
                    for (key, value) in map.iter() {
                        out.push_str(&format!("{key:?}:"));
                        write(value, out);
                        out.push(',');
                    }
                    out.push('}');
                }
                Node::Seq(items) => {
                    out.push('[');
                    for item in items {
                        write(item, out);
                        out.push(',');
                    }
                    out.push(']');
                }
            }
        }
        let mut out = String::new();
        for node in nodes {
            write(node, &mut out);
            out.push('\n');
        }
        out
    }

    #[test]
    fn agrees_with_serde_norway_on_pnpm_shapes() {
        agrees("lockfileVersion: '9.0'\n\nsettings:\n  autoInstallPeers: true\n\nimporters:\n\n  .:\n    dependencies:\n      '@a/b':\n        specifier: ^1.0.0\n        version: 1.0.0(react@18.2.0)\n");
        agrees("packages:\n  /a/1.0.0:\n    resolution: {integrity: sha512-x==, tarball: https://r.example/a/-/a-1.0.0.tgz}\n    engines: {node: '>= 0.8', npm: 1.2.8000 || >= 1.4.16}\n    cpu: [x64, arm64]\n    os: []\n    transitivePeerDependencies:\n      - supports-color\n      - '@types/node'\n    dev: false\n");
        agrees("deprecated: 'It''s gone'\nother: \"a \\\"b\\\" c\"\nempty:\nlist:\n- a\n- b\n");
        agrees("---\nlockfileVersion: '9.0'\n---\nlockfileVersion: '9.0'\nimporters: {}\n");
        agrees("peerDependenciesMeta:\n  react-dom:\n    optional: true\n  x: {optional: true}\n");
    }

    #[test]
    fn leaves_the_subset_for_anything_else() {
        for text in [
            "a: &x 1\nb: *x\n",
            "a: !tag 1\n",
            "a: |\n  text\n",
            "a: [1,\n  2]\n",
            "a: 'open\n  close'\n",
            "a:\n\t- x\n",
            "? complex\n: key\n",
            "- a: 1\n",
            "a: b: c\n",
            "a: 1\n  b: 2\n",
        ] {
            assert!(parse_fast(text).is_err(), "{text:?}");
        }
        let deep_flow = format!("a: {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
        let deep_block: String = (0..5_000).map(|depth| format!("{}k:\n", " ".repeat(depth))).collect();
        for text in [deep_flow.as_str(), deep_block.as_str()] {
            assert!(parse_fast(text).is_err(), "{text:?}");
        }
    }

    /// Every real and scenario fixture pnpm wrote must stay on the fast path
    /// and read exactly as serde_norway reads it.
    #[test]
    fn real_lockfiles_take_the_fast_path_and_agree() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let mut checked = 0;
        for dir in [root.join("real/pnpm"), root.join("pnpm")] {
            let Ok(entries) = std::fs::read_dir(&dir) else { continue };
            for entry in entries.filter_map(Result::ok) {
                let path = entry.path();
                if path.extension().is_some_and(|extension| extension == "yaml")
                    && !path.to_string_lossy().contains("unsupported")
                {
                    let text = std::fs::read_to_string(&path).expect("fixture");
                    agrees(&text);
                    checked += 1;
                }
            }
        }
        assert!(checked > 0);
    }
}
