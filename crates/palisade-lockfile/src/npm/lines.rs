//! Line numbers of lockfile entries, found without a positional JSON parser.
//!
//! serde_json does not report where a value starts, so one pass over the text
//! collects every line that opens an object under a key (`"key": {`), in
//! document order. Entries are then visited in document order too and matched
//! against that list with a cursor that only moves forward, so the whole
//! lookup is linear. npm always pretty-prints lockfiles with one key per line;
//! for a minified file the lookahead bound keeps the cost linear and the lines
//! are simply unknown.

/// How many object-opening lines may sit between two consecutive entries
/// (nested `engines`, `bin`, `funding`, `peerDependenciesMeta` objects).
const LOOKAHEAD: usize = 512;

pub(super) struct KeyLines<'t> {
    keys: Vec<(&'t str, u32)>,
    cursor: usize,
}

impl<'t> KeyLines<'t> {
    pub(super) fn scan(text: &'t str) -> Self {
        let mut keys = Vec::new();
        for (index, line) in text.split('\n').enumerate() {
            let Some(key) = object_key(line) else { continue };
            let Ok(number) = u32::try_from(index + 1) else { break };
            keys.push((key, number));
        }
        KeyLines { keys, cursor: 0 }
    }

    /// The line of the next object opened under `key`, at or after the cursor.
    pub(super) fn next(&mut self, key: &str) -> Option<u32> {
        let end = self.keys.len().min(self.cursor.saturating_add(LOOKAHEAD));
        let start = self.cursor.min(end);
        let offset = self.keys[start..end]
            .iter()
            .position(|(candidate, _)| *candidate == key)?;
        let (_, line) = self.keys[start + offset];
        self.cursor = start + offset + 1;
        Some(line)
    }
}

/// `key` when the line is `  "key": {` (raw text between the quotes: keys with
/// escapes will not match their unescaped form, and just get no line).
fn object_key(line: &str) -> Option<&str> {
    let trimmed = line.trim_start();
    let rest = trimmed.strip_prefix('"')?;
    let bytes = rest.as_bytes();
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'\\' => index += 2,
            b'"' => break,
            _ => index += 1,
        }
    }
    let key = rest.get(..index)?;
    let after = rest.get(index + 1..)?.trim_start().strip_prefix(':')?.trim_start();
    after.starts_with('{').then_some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_entries_in_order_and_skips_nested_objects() {
        let text = "{\n  \"packages\": {\n    \"\": {\n      \"engines\": {\n      }\n    },\n    \"node_modules/a\": {\n    }\n  }\n}\n";
        let mut lines = KeyLines::scan(text);
        assert_eq!(lines.next(""), Some(3));
        assert_eq!(lines.next("node_modules/a"), Some(7));
        assert_eq!(lines.next("node_modules/a"), None);
    }

    #[test]
    fn minified_text_has_one_candidate() {
        let mut lines = KeyLines::scan("{\"packages\":{\"\":{}}}");
        assert_eq!(lines.next(""), None);
    }
}
