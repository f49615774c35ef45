//! One pass over the raw text: line table, line metrics, JSFuck share and an estimate of
//! the nesting depth, taken before the parser sees the file so that pathological nesting
//! can be refused without recursing into it.

/// What the text pass learns.
pub(crate) struct TextScan {
    /// Byte offset of the start of each line (line 1 at index 0).
    pub line_starts: Vec<u32>,
    pub max_line_len: usize,
    /// Non-whitespace bytes, and how many of them are one of `[]()!+`.
    pub non_space: usize,
    pub jsfuck_chars: usize,
    /// Deepest nesting of `(`, `[`, `{` outside string literals and comments, plus the
    /// longest run of prefix-operator characters (`!!!!x`, `- - -x`), which oxc also
    /// parses recursively.
    pub max_nesting: usize,
}

/// Bytes that matter to the nesting state machine in code: quotes, `/`, brackets and the
/// prefix operators. Everything else (identifiers, whitespace, other punctuation) is
/// skipped in bulk.
static CODE_SPECIAL: [bool; 256] = table(b"\"'`/([{)]}!~-+");
/// Whitespace bytes (not counted as content).
static SPACE: [bool; 256] = table(b" \t\n\r\x0B\x0C");
/// The JSFuck alphabet (the tests check `count_classes` against it).
#[cfg(test)]
static JSFUCK: [bool; 256] = table(b"[]()!+");

const fn table(bytes: &[u8]) -> [bool; 256] {
    let mut table = [false; 256];
    let mut i = 0;
    while i < bytes.len() {
        table[bytes[i] as usize] = true;
        i += 1;
    }
    table
}

/// Scans `text`. Linear, no allocation besides the line table: three tight passes (lines
/// with `memchr`, byte classes in a loop the compiler vectorises, nesting), each cheaper
/// than one pass that does everything per byte.
pub(crate) fn scan(text: &str) -> TextScan {
    let bytes = text.as_bytes();
    let mut line_starts = Vec::with_capacity(bytes.len() / 40 + 1);
    line_starts.push(0u32);
    let mut max_line_len = 0usize;
    let mut line_start = 0usize;
    for i in memchr::memchr_iter(b'\n', bytes) {
        max_line_len = max_line_len.max(i - line_start);
        line_start = i + 1;
        line_starts.push(u32::try_from(i + 1).unwrap_or(u32::MAX));
    }
    max_line_len = max_line_len.max(bytes.len() - line_start);

    let (spaces, jsfuck_chars) = count_classes(bytes);
    let non_space = bytes.len() - spaces;

    let max_nesting = nesting(bytes);
    TextScan {
        line_starts,
        max_line_len,
        non_space,
        jsfuck_chars,
        max_nesting,
    }
}

/// Whitespace bytes (as in [`SPACE`]) and JSFuck bytes (`[]()!+`), counted with
/// comparisons rather than table lookups so that the loop vectorises.
fn count_classes(bytes: &[u8]) -> (usize, usize) {
    let mut spaces = 0usize;
    let mut jsfuck = 0usize;
    // Byte-wide per-chunk counters (16 or 32 lanes per vector); 255 bytes cannot overflow them.
    for chunk in bytes.chunks(255) {
        let mut chunk_spaces = 0u8;
        let mut chunk_jsfuck = 0u8;
        for &b in chunk {
            chunk_spaces += ((b == b' ') | (b.wrapping_sub(0x09) < 5)) as u8;
            chunk_jsfuck += ((b == b'[') | (b == b']') | ((b & 0xFE) == b'(') | (b == b'!') | (b == b'+')) as u8;
        }
        spaces += chunk_spaces as usize;
        jsfuck += chunk_jsfuck as usize;
    }
    (spaces, jsfuck)
}

/// Deepest nesting of `(`, `[`, `{` outside string literals and comments, plus runs of
/// prefix operators. Regular expression literals are not recognised (a quote inside one
/// can hide nesting from this estimate; the parse thread's large stack covers that).
fn nesting(bytes: &[u8]) -> usize {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        Code,
        Quote(u8),
        LineComment,
        BlockComment,
    }
    let mut state = State::Code;
    let mut depth = 0usize;
    let mut max_nesting = 0usize;
    let mut prefix_run = 0usize;
    // Template literals: the brace depths at which a `${` was opened, so that the `}`
    // closing the substitution goes back into the template.
    let mut template_braces: Vec<usize> = Vec::new();
    let mut i = 0usize;
    while i < bytes.len() {
        match state {
            State::Code => {
                let start = i;
                // Eight bytes at a time while none of them is special, then byte by byte.
                while let Some(block) = bytes.get(i..i + 8) {
                    if block.iter().fold(false, |any, &b| any | CODE_SPECIAL[b as usize]) {
                        break;
                    }
                    i += 8;
                }
                while i < bytes.len() && !CODE_SPECIAL[bytes[i] as usize] {
                    i += 1;
                }
                if prefix_run > 0 && i > start && bytes[start..i].iter().any(|b| !SPACE[*b as usize]) {
                    prefix_run = 0;
                }
                let Some(&b) = bytes.get(i) else { break };
                match b {
                    b'"' | b'\'' | b'`' => {
                        state = State::Quote(b);
                        prefix_run = 0;
                    }
                    b'/' if bytes.get(i + 1) == Some(&b'/') => state = State::LineComment,
                    b'/' if bytes.get(i + 1) == Some(&b'*') => {
                        state = State::BlockComment;
                        i += 1;
                    }
                    b'(' | b'[' | b'{' => {
                        depth += 1;
                        max_nesting = max_nesting.max(depth + prefix_run);
                    }
                    b')' | b']' => depth = depth.saturating_sub(1),
                    b'}' => {
                        if template_braces.last() == Some(&depth) {
                            template_braces.pop();
                            state = State::Quote(b'`');
                        }
                        depth = depth.saturating_sub(1);
                    }
                    b'!' | b'~' | b'-' | b'+' => {
                        prefix_run += 1;
                        max_nesting = max_nesting.max(depth + prefix_run);
                    }
                    _ => prefix_run = 0,
                }
            }
            State::Quote(quote) => {
                // The next byte that can end or interrupt the literal, found with memchr.
                let rest = &bytes[i..];
                let next = if quote == b'`' {
                    memchr::memchr3(b'\\', b'$', quote, rest)
                } else {
                    memchr::memchr3(b'\\', b'\n', quote, rest)
                };
                i = next.map_or(bytes.len(), |n| i + n);
                let Some(&b) = bytes.get(i) else { break };
                if b == b'\\' {
                    i += 1;
                } else if b == quote {
                    state = State::Code;
                } else if quote == b'`' && b == b'$' && bytes.get(i + 1) == Some(&b'{') {
                    depth += 1;
                    max_nesting = max_nesting.max(depth);
                    template_braces.push(depth);
                    state = State::Code;
                    i += 1;
                } else if b == b'\n' && quote != b'`' {
                    // Unterminated string: resynchronise at the end of the line.
                    state = State::Code;
                }
            }
            State::LineComment => {
                i = memchr::memchr(b'\n', &bytes[i..]).map_or(bytes.len(), |n| i + n);
                state = State::Code;
            }
            State::BlockComment => {
                // At the `*` of the closing `*/` (or the last byte when there is none).
                i = memchr::memmem::find(&bytes[i..], b"*/").map_or(bytes.len().saturating_sub(1).max(i), |n| i + n);
                state = State::Code;
                i += 1;
            }
        }
        i += 1;
    }
    max_nesting
}

impl TextScan {
    /// 1-based line and column of a byte offset.
    pub fn position(&self, offset: u32) -> (u32, u32) {
        let index = self
            .line_starts
            .partition_point(|&start| start <= offset)
            .saturating_sub(1);
        let start = self.line_starts.get(index).copied().unwrap_or(0);
        (index as u32 + 1, offset.saturating_sub(start) + 1)
    }

    pub fn lines(&self) -> usize {
        self.line_starts.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_ignores_strings_and_comments() {
        assert_eq!(scan("f(a[{b: 1}])").max_nesting, 3);
        assert_eq!(scan("f('((((((((') // ((((((\n /* [[[[[ */ g()").max_nesting, 1);
        assert_eq!(scan("`a ${ f((1)) } (((` + x").max_nesting, 3);
        assert_eq!(scan(&"(".repeat(5000)).max_nesting, 5000);
        assert_eq!(scan(&format!("x = {}y", "!".repeat(3000))).max_nesting, 3000);
    }

    #[test]
    fn byte_classes_match_the_tables() {
        let all: Vec<u8> = (0..=255u8)
            .chain(b"a [b] (c)!+ \t\r\n\x0B\x0C".iter().copied())
            .collect();
        let spaces = all.iter().filter(|b| SPACE[**b as usize]).count();
        let jsfuck = all.iter().filter(|b| JSFUCK[**b as usize]).count();
        assert_eq!(count_classes(&all), (spaces, jsfuck));
    }

    #[test]
    fn positions() {
        let scan = scan("ab\ncd\n\nef");
        assert_eq!(scan.lines(), 4);
        assert_eq!(scan.position(0), (1, 1));
        assert_eq!(scan.position(4), (2, 2));
        assert_eq!(scan.position(7), (4, 1));
        assert_eq!(scan.max_line_len, 2);
    }
}
