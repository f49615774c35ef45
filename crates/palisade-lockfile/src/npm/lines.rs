//! Line numbers of lockfile entries without a positional JSON parser.
//!
//! serde_json does not report where a value starts, but an object key without
//! escapes is deserialised as a slice of the input itself, so its address
//! gives its byte offset. Entries are visited in document order, so the
//! newlines before each key are counted incrementally: one pass over the text
//! in total, whatever the layout (a minified lockfile is all line 1). A key
//! that had escapes was copied and simply gets no line.

pub(super) struct LineIndex<'t> {
    text: &'t str,
    /// Byte offset up to which newlines are counted, and the line there.
    offset: usize,
    line: u32,
}

impl<'t> LineIndex<'t> {
    pub(super) fn new(text: &'t str) -> Self {
        LineIndex {
            text,
            offset: 0,
            line: 1,
        }
    }

    /// The 1-based line on which `key` starts, when `key` is a slice of the text.
    pub(super) fn line_of(&mut self, key: &str) -> Option<u32> {
        let start = self.text.as_ptr() as usize;
        let offset = (key.as_ptr() as usize).checked_sub(start)?;
        if offset > self.text.len() || offset + key.len() > self.text.len() {
            return None;
        }
        if offset < self.offset {
            // Out of document order (not expected): count again from the top.
            self.offset = 0;
            self.line = 1;
        }
        let newlines = self.text.as_bytes()[self.offset..offset]
            .iter()
            .filter(|byte| **byte == b'\n')
            .count();
        self.line = self.line.saturating_add(u32::try_from(newlines).unwrap_or(u32::MAX));
        self.offset = offset;
        Some(self.line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_of_slices_in_order() {
        let text = "{\n  \"a\": {\n  },\n  \"b\": {}\n}";
        let mut lines = LineIndex::new(text);
        let a = text.find("a\"").map(|at| &text[at..at + 1]).unwrap_or_default();
        let b = text.find("b\"").map(|at| &text[at..at + 1]).unwrap_or_default();
        assert_eq!(lines.line_of(a), Some(2));
        assert_eq!(lines.line_of(b), Some(4));
        assert_eq!(lines.line_of(a), Some(2), "going back recounts");
        assert_eq!(lines.line_of("not from the text"), None);
    }
}
