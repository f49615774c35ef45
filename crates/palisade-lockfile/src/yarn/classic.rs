//! yarn classic (v1) lockfiles.
//!
//! The format is yarn's own, not YAML: indentation by two spaces, keys and
//! values separated by a space (`version "1.2.3"`), a trailing `:` opening a
//! block, several comma-separated keys sharing one value
//! (`"a@^1", a@^1.1:`), JSON-quoted or bare strings, `#` comments. The
//! grammar is the one yarn's tokenizer accepts (yarnpkg/yarn
//! `src/lockfile/parse.js`); this parser is line-based, which that grammar
//! allows since every token ends at a newline, and linear in the input.

use std::borrow::Cow;

use palisade_core::{Inventory, Package, SourceKind, Warning};

use super::{split_descriptor, Entry, EntryKind, Field, Keys, Value, MAX_DEPTH};
use crate::LockfileError;

pub(super) const SUPPORTED: &str = "yarn lockfile v1 (yarn classic), yarn berry lockfile versions 3 to 10";

/// The `N` of a `# yarn lockfile vN` comment among the leading comments.
pub(super) fn header_version(text: &str) -> Option<&str> {
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let comment = line.strip_prefix('#')?.trim();
        if let Some(version) = comment.strip_prefix("yarn lockfile v") {
            return Some(version.trim());
        }
    }
    None
}

pub(super) fn extract(display_path: &str, text: &str) -> Result<Inventory, LockfileError> {
    let mut inventory = Inventory::new(display_path, "yarn-v1");
    // Every entry has a `version` line: a cheap, close upper bound.
    let mut entries = Vec::with_capacity(text.matches("\n  version ").count());
    // Entries are interpreted as soon as their block closes, so the syntax
    // tree of the whole file never exists at once.
    parse_streaming(text, |field| {
        interpret_entry(field, &mut entries, &mut inventory.warnings)
    })
    .map_err(|error| LockfileError::Syntax {
        path: display_path.to_string(),
        line: error.line,
        column: error.column,
        message: error.message,
    })?;
    Ok(super::assemble(inventory, entries, false))
}

#[derive(Debug)]
pub(super) struct SyntaxError {
    pub(super) line: usize,
    pub(super) column: usize,
    pub(super) message: String,
}

fn syntax_error(line: usize, column: usize, message: impl Into<String>) -> SyntaxError {
    SyntaxError {
        line,
        column,
        message: message.into(),
    }
}

/// An open block while parsing: its keys, line and the fields read so far.
struct Frame<'a> {
    keys: Keys<'a>,
    line: u32,
    fields: Vec<Field<'a>>,
}

/// Parse the whole file into its top-level fields.
#[cfg(test)]
fn parse(text: &str) -> Result<Vec<Field<'_>>, SyntaxError> {
    let mut fields = Vec::new();
    parse_streaming(text, |field| fields.push(field))?;
    Ok(fields)
}

/// Parse the file, handing each top-level field to `on_field` when it is complete.
fn parse_streaming<'a>(text: &'a str, mut on_field: impl FnMut(Field<'a>)) -> Result<(), SyntaxError> {
    let mut stack: Vec<Frame> = vec![Frame {
        keys: Keys::one(Cow::Borrowed("")),
        line: 0,
        fields: Vec::new(),
    }];
    // The block a `key:` line just opened must not stay empty at top level,
    // but yarn accepts empty nested blocks; nothing to track for that.
    for (index, raw_line) in text.split('\n').enumerate() {
        let line_number = index + 1;
        let line = raw_line.strip_suffix('\r').unwrap_or(raw_line);
        let indent = line.bytes().take_while(|&byte| byte == b' ').count();
        let rest = &line[indent..];
        if rest.is_empty() || rest.starts_with('#') || rest.bytes().all(|byte| byte == b' ' || byte == b'\t') {
            continue;
        }
        if rest.starts_with('\t') {
            return Err(syntax_error(
                line_number,
                indent + 1,
                "tab in indentation; yarn.lock indents with spaces",
            ));
        }
        if indent == 0 && (rest.starts_with("<<<<<<<") || rest.starts_with("=======") || rest.starts_with(">>>>>>>")) {
            return Err(syntax_error(
                line_number,
                1,
                "unresolved git merge conflict marker; resolve the conflict (or run `yarn install`) first",
            ));
        }
        if indent % 2 != 0 {
            return Err(syntax_error(
                line_number,
                1,
                format!("invalid indentation of {indent} spaces (yarn.lock indents by two)"),
            ));
        }
        let level = indent / 2;
        let depth = stack.len() - 1;
        if level > depth {
            return Err(syntax_error(line_number, indent + 1, "unexpected indentation"));
        }
        for _ in level..depth {
            close_frame(&mut stack, &mut on_field);
        }
        let parsed = parse_line(rest, line_number, indent)?;
        let line_u32 = u32::try_from(line_number).unwrap_or(u32::MAX);
        match parsed {
            Line::Open(keys) => {
                if stack.len() > MAX_DEPTH {
                    return Err(syntax_error(line_number, indent + 1, "nesting too deep"));
                }
                stack.push(Frame {
                    keys,
                    line: line_u32,
                    // Entries hold a handful of fields; one allocation, not three.
                    fields: Vec::with_capacity(if level == 0 { 6 } else { 4 }),
                });
            }
            Line::Scalar(keys, value) => {
                let field = Field {
                    keys,
                    line: line_u32,
                    value: Value::Scalar(value),
                };
                let nested = stack.len() > 1;
                match stack.last_mut() {
                    Some(frame) if nested => frame.fields.push(field),
                    _ => on_field(field),
                }
            }
        }
    }
    while stack.len() > 1 {
        close_frame(&mut stack, &mut on_field);
    }
    Ok(())
}

/// Close the innermost block: it becomes a field of its parent, or a finished
/// top-level field.
fn close_frame<'a>(stack: &mut Vec<Frame<'a>>, on_field: &mut impl FnMut(Field<'a>)) {
    if stack.len() < 2 {
        return;
    }
    if let Some(frame) = stack.pop() {
        let field = Field {
            keys: frame.keys,
            line: frame.line,
            value: Value::Map(frame.fields),
        };
        let nested = stack.len() > 1;
        match stack.last_mut() {
            Some(parent) if nested => parent.fields.push(field),
            _ => on_field(field),
        }
    }
}

enum Line<'a> {
    /// `keys:` opening a block.
    Open(Keys<'a>),
    /// `keys value`.
    Scalar(Keys<'a>, Cow<'a, str>),
}

/// Parse the content of one line (after its indentation).
fn parse_line(rest: &str, line_number: usize, indent: usize) -> Result<Line<'_>, SyntaxError> {
    let bytes = rest.as_bytes();
    let column = |offset: usize| indent + offset + 1;
    let mut position = 0;
    let mut keys: Option<Keys<'_>> = None;
    loop {
        let (key, next) = read_string(rest, position)
            .map_err(|(offset, message)| syntax_error(line_number, column(offset), message))?;
        if key.is_empty() {
            return Err(syntax_error(line_number, column(position), "empty key"));
        }
        match &mut keys {
            None => keys = Some(Keys::one(key)),
            Some(existing) => existing.rest.push(key),
        }
        position = skip_spaces(bytes, next);
        if bytes.get(position) == Some(&b',') {
            position = skip_spaces(bytes, position + 1);
            continue;
        }
        break;
    }
    let Some(keys) = keys else {
        return Err(syntax_error(line_number, column(position), "expected a key"));
    };
    match bytes.get(position) {
        Some(b':') => {
            let after = skip_spaces(bytes, position + 1);
            if after < bytes.len() && bytes[after] != b'#' {
                return Err(syntax_error(
                    line_number,
                    column(after),
                    "unexpected text after `:` (a block's fields go on the following lines)",
                ));
            }
            Ok(Line::Open(keys))
        }
        None | Some(b'#') => Err(syntax_error(
            line_number,
            column(position),
            "expected `:` or a value after the key",
        )),
        Some(_) => {
            let (value, next) = read_string(rest, position)
                .map_err(|(offset, message)| syntax_error(line_number, column(offset), message))?;
            let after = skip_spaces(bytes, next);
            if after < bytes.len() && bytes[after] != b'#' {
                return Err(syntax_error(
                    line_number,
                    column(after),
                    "unexpected text after the value",
                ));
            }
            Ok(Line::Scalar(keys, value))
        }
    }
}

fn skip_spaces(bytes: &[u8], mut position: usize) -> usize {
    while matches!(bytes.get(position), Some(b' ' | b'\t')) {
        position += 1;
    }
    position
}

/// Read a JSON-quoted or bare string starting at `start`; returns it and the
/// offset after it. Bare strings end at a space, `:` or `,` as in yarn's
/// tokenizer.
fn read_string(line: &str, start: usize) -> Result<(Cow<'_, str>, usize), (usize, String)> {
    let bytes = line.as_bytes();
    match bytes.get(start) {
        None => Err((start, "expected a string".to_string())),
        Some(b'"') => {
            let mut position = start + 1;
            let mut escaped = false;
            while position < bytes.len() {
                match bytes[position] {
                    b'\\' => {
                        escaped = true;
                        position += 2;
                    }
                    b'"' => {
                        let inner = &line[start + 1..position];
                        let value = if escaped {
                            Cow::Owned(
                                unescape_json(inner).ok_or((start, "invalid escape in quoted string".to_string()))?,
                            )
                        } else {
                            Cow::Borrowed(inner)
                        };
                        return Ok((value, position + 1));
                    }
                    _ => position += 1,
                }
            }
            Err((start, "unterminated quoted string".to_string()))
        }
        Some(&first) => {
            if matches!(first, b':' | b',' | b'#' | b'\'') {
                return Err((start, format!("unexpected character `{}`", first as char)));
            }
            let end = bytes[start..]
                .iter()
                .position(|&byte| matches!(byte, b' ' | b'\t' | b':' | b','))
                .map_or(bytes.len(), |offset| start + offset);
            Ok((Cow::Borrowed(&line[start..end]), end))
        }
    }
}

/// Decode the escapes of a JSON string body (without its quotes).
pub(super) fn unescape_json(inner: &str) -> Option<String> {
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(character) = chars.next() {
        if character != '\\' {
            out.push(character);
            continue;
        }
        match chars.next()? {
            '"' => out.push('"'),
            '\\' => out.push('\\'),
            '/' => out.push('/'),
            'b' => out.push('\u{8}'),
            'f' => out.push('\u{c}'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'u' => {
                let mut code = read_hex4(&mut chars)?;
                // A surrogate pair is two escapes.
                if (0xD800..0xDC00).contains(&code) {
                    if chars.next()? != '\\' || chars.next()? != 'u' {
                        return None;
                    }
                    let low = read_hex4(&mut chars)?;
                    if !(0xDC00..0xE000).contains(&low) {
                        return None;
                    }
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
                }
                out.push(char::from_u32(code)?);
            }
            _ => return None,
        }
    }
    Some(out)
}

fn read_hex4(chars: &mut std::str::Chars<'_>) -> Option<u32> {
    let mut code = 0;
    for _ in 0..4 {
        code = code * 16 + chars.next()?.to_digit(16)?;
    }
    Some(code)
}

/// Turn one top-level field into entries (one per real package name among its
/// descriptors, which is one in every lockfile yarn writes).
fn interpret_entry<'a>(field: Field<'a>, entries: &mut Vec<Entry<'a>>, warnings: &mut Vec<Warning>) {
    let line = field.line;
    let key_text = field.keys.join();
    let Value::Map(body) = field.value else {
        warnings.push(Warning::at_line(
            format!("ignored top-level value `{key_text}`: expected a package entry block"),
            line,
        ));
        return;
    };
    let mut version = None;
    let mut resolved = None;
    let mut integrity = None;
    let mut dependencies = Vec::new();
    for item in &body {
        for key in item.keys.iter() {
            match (key.as_ref(), &item.value) {
                ("version", Value::Scalar(text)) => version = Some(text.to_string()),
                ("resolved", Value::Scalar(text)) => resolved = Some(text.to_string()),
                ("integrity", Value::Scalar(text)) => integrity = Some(text.to_string()),
                ("dependencies", Value::Map(deps)) => collect_dependencies(deps, false, &mut dependencies),
                ("optionalDependencies", Value::Map(deps)) => collect_dependencies(deps, true, &mut dependencies),
                _ => {}
            }
        }
    }
    let Some(mut version) = version else {
        warnings.push(Warning::at_line(
            format!("entry `{key_text}` has no `version`; skipped"),
            line,
        ));
        return;
    };

    // Group descriptors by the real package name they resolve to.
    let mut groups: Vec<(String, Vec<Cow<'a, str>>, Vec<String>)> = Vec::with_capacity(1);
    let mut group_index_by_name: Option<std::collections::HashMap<String, usize>> = None;
    for descriptor in field.keys.iter() {
        let Some((name, range)) = split_descriptor(descriptor) else {
            warnings.push(Warning::at_line(
                format!("entry key `{descriptor}` is not a `name@range` descriptor; skipped"),
                line,
            ));
            continue;
        };
        let real_name = aliased_name(range).unwrap_or(name);
        // Yarn writes one name per entry; a hostile key listing thousands
        // must not make this quadratic.
        let found = match &group_index_by_name {
            Some(index) => index.get(real_name).copied(),
            None => groups.iter().position(|group| group.0 == real_name),
        };
        let group_index = match found {
            Some(found) => found,
            None => {
                groups.push((real_name.to_string(), Vec::new(), Vec::new()));
                if let Some(index) = &mut group_index_by_name {
                    index.insert(real_name.to_string(), groups.len() - 1);
                } else if groups.len() >= 16 {
                    group_index_by_name = Some(
                        groups
                            .iter()
                            .enumerate()
                            .map(|(at, group)| (group.0.clone(), at))
                            .collect(),
                    );
                }
                groups.len() - 1
            }
        };
        let group = &mut groups[group_index];
        group.1.push(descriptor.clone());
        if name != real_name {
            group.2.push(name.to_string());
        }
    }
    if groups.len() > 1 {
        warnings.push(Warning::at_line(
            format!("entry `{key_text}` lists descriptors of different packages; each is reported"),
            line,
        ));
    }
    let group_count = groups.len();
    for (group_index, (real_name, descriptors, aliases)) in groups.into_iter().enumerate() {
        // The last (almost always only) group takes the fields, others copy.
        let last = group_index + 1 == group_count;
        let take = |value: &mut Option<String>| if last { value.take() } else { value.clone() };
        let ranges: Vec<&str> = descriptors
            .iter()
            .filter_map(|descriptor| split_descriptor(descriptor).map(|(_, range)| range))
            .collect();
        let mut package = Package::new(
            real_name,
            if last {
                std::mem::take(&mut version)
            } else {
                version.clone()
            },
        );
        package.source = classify(&ranges, resolved.as_deref(), &package.name, &package.version);
        package.resolved = take(&mut resolved);
        package.integrity = take(&mut integrity);
        package.paths = vec![descriptors.join(", ")];
        package.aliases = aliases;
        package.line = Some(line);
        entries.push(Entry {
            descriptors,
            line,
            kind: EntryKind::Package(Box::new(package)),
            dependencies: if last {
                std::mem::take(&mut dependencies)
            } else {
                dependencies.clone()
            },
            resolution: None,
        });
    }
}

fn collect_dependencies<'a>(fields: &[Field<'a>], optional: bool, out: &mut Vec<(Cow<'a, str>, Cow<'a, str>, bool)>) {
    for field in fields {
        if let Value::Scalar(range) = &field.value {
            for name in field.keys.iter() {
                out.push((name.clone(), range.clone(), optional));
            }
        }
    }
}

/// The real name behind an `npm:` alias range (`npm:bar@^1` → `bar`).
fn aliased_name(range: &str) -> Option<&str> {
    let target = range.strip_prefix("npm:")?;
    split_descriptor(target).map(|(name, _)| name)
}

/// Where a classic entry comes from, from its ranges and `resolved` URL.
fn classify(ranges: &[&str], resolved: Option<&str>, name: &str, version: &str) -> SourceKind {
    for range in ranges {
        if range.starts_with("npm:") {
            continue;
        }
        if range.starts_with("link:") {
            return SourceKind::Link;
        }
        if range.starts_with("file:") || range.starts_with("./") || range.starts_with("../") || range.starts_with('/') {
            return SourceKind::File;
        }
        if is_git_spec(range) {
            return SourceKind::Git;
        }
    }
    let Some(resolved) = resolved else {
        return SourceKind::Registry;
    };
    if resolved.starts_with("file:") {
        return SourceKind::File;
    }
    if is_git_spec(resolved) || resolved.starts_with("https://codeload.github.com/") {
        return SourceKind::Git;
    }
    if resolved.starts_with("http://") || resolved.starts_with("https://") {
        // npm-style registries serve `<registry>/<name>/-/<name>-<version>.tgz`;
        // GitHub Packages serves `…/download/<name>/<version>/<hash>`. A URL
        // range means the user pointed at a tarball directly.
        let url_range = ranges
            .iter()
            .any(|range| range.starts_with("http://") || range.starts_with("https://"));
        let url = resolved.split('#').next().unwrap_or(resolved);
        let registry_layout = (url.contains("/-/") && url.ends_with(".tgz"))
            || url.contains(&format!("/{name}/{version}/"))
            || url.contains(&format!("/{}/{version}/", name.replace('/', "%2f")));
        if !url_range && registry_layout {
            return SourceKind::Registry;
        }
        return SourceKind::Tarball;
    }
    SourceKind::Registry
}

/// A git repository spec, as npm/yarn accept them.
pub(super) fn is_git_spec(spec: &str) -> bool {
    const PREFIXES: &[&str] = &[
        "git:",
        "git+",
        "git@",
        "ssh://",
        "github:",
        "gitlab:",
        "bitbucket:",
        "gist:",
    ];
    if PREFIXES.iter().any(|prefix| spec.starts_with(prefix)) {
        return true;
    }
    let url = spec.split('#').next().unwrap_or(spec);
    if (spec.starts_with("http://") || spec.starts_with("https://")) && url.ends_with(".git") {
        return true;
    }
    // GitHub shorthand `user/repo` or `user/repo#ref`.
    if !spec.contains(':') && !spec.starts_with('.') && !spec.starts_with('/') && !spec.starts_with('@') {
        let path = url;
        let mut parts = path.split('/');
        if let (Some(user), Some(repo), None) = (parts.next(), parts.next(), parts.next()) {
            return !user.is_empty() && !repo.is_empty() && !user.contains(' ') && !repo.contains(' ');
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_multi_key_entries_with_nested_blocks() {
        let text = "# yarn lockfile v1\n\n\"a@^1\", a@^1.1:\n  version \"1.2.0\"\n  dependencies:\n    b \"^2\"\n";
        let fields = parse(text).expect("valid");
        assert_eq!(fields.len(), 1);
        assert_eq!(fields[0].keys.join(), "a@^1, a@^1.1");
        assert_eq!(fields[0].line, 3);
    }

    #[test]
    fn rejects_odd_indentation_with_its_line() {
        let error = parse("a@1:\n   version \"1\"\n").expect_err("odd indentation");
        assert_eq!((error.line, error.column), (2, 1));
    }

    #[test]
    fn rejects_unterminated_strings() {
        let error = parse("\"a@1:\n  version \"1\"\n").expect_err("unterminated");
        assert_eq!(error.line, 1);
    }

    #[test]
    fn recognises_git_specs() {
        assert!(is_git_spec("git+https://github.com/a/b.git#abc"));
        assert!(is_git_spec("github:a/b"));
        assert!(is_git_spec("a/b#main"));
        assert!(!is_git_spec("^1.2.3"));
        assert!(!is_git_spec("https://example.com/a.tgz"));
        assert!(!is_git_spec("npm:foo@1"));
    }

    #[test]
    fn unescapes_json() {
        assert_eq!(unescape_json(r#"a\"b\u00e9\ud83d\ude00"#).as_deref(), Some("a\"bé😀"));
        assert_eq!(unescape_json(r"\x"), None);
    }
}
