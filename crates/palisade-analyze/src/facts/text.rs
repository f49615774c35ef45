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
    /// The line index of the last [`TextScan::position`] answer.
    last_line: std::cell::Cell<usize>,
}

/// Bytes that matter to the nesting state machine in code: quotes, `/`, brackets and the
/// prefix operators. Everything else (identifiers, whitespace, other punctuation) is
/// skipped in bulk.
#[cfg(test)]
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
        last_line: std::cell::Cell::new(0),
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

/// Where the bytes special in code ([`CODE_SPECIAL`]) are, 64 at a time: a bit mask per
/// 64-byte window, computed with comparisons the compiler turns into vector instructions,
/// then read with `trailing_zeros`. Dense code has a special byte every few bytes; testing
/// them one at a time was most of the text pass.
struct Specials<'a> {
    bytes: &'a [u8],
    base: usize,
    mask: u64,
}

impl<'a> Specials<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Specials {
            bytes,
            base: usize::MAX,
            mask: 0,
        }
    }

    /// The position of the first special byte at or after `at`, or the length of the text.
    fn next_from(&mut self, mut at: usize) -> usize {
        let len = self.bytes.len();
        loop {
            if at >= len {
                return len;
            }
            if at < self.base || at - self.base >= 64 {
                self.base = at;
                self.mask = special_mask(&self.bytes[at..len.min(at + 64)]);
            }
            let rest = self.mask >> (at - self.base);
            if rest != 0 {
                return at + rest.trailing_zeros() as usize;
            }
            at = self.base + 64;
        }
    }
}

/// Bit `k` set when `chunk[k]` (up to 64 bytes) is special in code.
fn special_mask(chunk: &[u8]) -> u64 {
    let mut flags = [0u8; 64];
    for (flag, &b) in flags.iter_mut().zip(chunk) {
        *flag = ((b == b'"')
            | (b == b'\'')
            | (b == b'`')
            | (b == b'/')
            | (b == b'(')
            | (b == b'[')
            | (b == b'{')
            | (b == b')')
            | (b == b']')
            | (b == b'}')
            | (b == b'!')
            | (b == b'~')
            | (b == b'-')
            | (b == b'+')) as u8;
    }
    // Eight 0/1 bytes to eight bits with one multiplication: byte `k` of the product's top
    // byte collects bit `8k` of `x` and nothing else (the shifted copies never overlap).
    let mut mask = 0u64;
    for (i, eight) in flags.chunks_exact(8).enumerate() {
        let x = u64::from_le_bytes(eight.try_into().unwrap_or([0; 8]));
        mask |= (x.wrapping_mul(0x0102_0408_1020_4080) >> 56) << (8 * i);
    }
    mask
}

/// Deepest nesting of `(`, `[`, `{` outside string literals and comments, plus runs of
/// prefix operators. Regular expression literals are not recognised (a quote inside one
/// can hide nesting from this estimate; the parse thread's large stack covers that).
fn nesting(bytes: &[u8]) -> usize {
    let mut specials = Specials::new(bytes);
    nesting_with(bytes, |at| specials.next_from(at))
}

/// [`nesting`], with `next_special(at)` giving the first byte at or after `at` that is
/// special in code (or the length of the text).
fn nesting_with(bytes: &[u8], mut next_special: impl FnMut(usize) -> usize) -> usize {
    let comment_end = memchr::memmem::Finder::new(b"*/");
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
                i = next_special(i);
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
                i = comment_end
                    .find(&bytes[i..])
                    .map_or(bytes.len().saturating_sub(1).max(i), |n| i + n);
                state = State::Code;
                i += 1;
            }
        }
        i += 1;
    }
    max_nesting
}

impl TextScan {
    /// 1-based line and column of a byte offset. The walk asks in (nearly) source order, so
    /// the line of the previous answer or the next one is tried before a binary search over
    /// a line table that can be far larger than the cache (typescript.js: 200,000 lines).
    pub fn position(&self, offset: u32) -> (u32, u32) {
        let starts = &self.line_starts;
        let on_line = |index: usize| {
            starts.get(index).is_some_and(|&start| start <= offset)
                && starts.get(index + 1).is_none_or(|&next| offset < next)
        };
        let hint = self.last_line.get();
        let index = if on_line(hint) {
            hint
        } else if on_line(hint + 1) {
            hint + 1
        } else {
            starts.partition_point(|&start| start <= offset).saturating_sub(1)
        };
        self.last_line.set(index);
        let start = starts.get(index).copied().unwrap_or(0);
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
    fn special_mask_is_the_code_special_table() {
        let all: Vec<u8> = (0..=255).collect();
        for chunk in all.chunks(64) {
            let mask = special_mask(chunk);
            for (k, &b) in chunk.iter().enumerate() {
                assert_eq!(mask >> k & 1 == 1, CODE_SPECIAL[b as usize], "byte {b:#04x}");
            }
        }
        // Short chunks leave the bits past their end clear.
        assert_eq!(special_mask(b"a(b"), 0b010);
        assert_eq!(special_mask(b""), 0);
    }

    /// [`nesting`] finding special bytes one at a time with the table, as first written.
    fn nesting_bytewise(bytes: &[u8]) -> usize {
        nesting_with(bytes, |mut at| {
            while at < bytes.len() && !CODE_SPECIAL[bytes[at] as usize] {
                at += 1;
            }
            at
        })
    }

    #[test]
    fn nesting_is_the_bytewise_reference() {
        let samples = [
            "",
            "((((",
            "a = '(((' + `${((x))}` // (((\n/* [[[ */ f(g(h()))",
            "!!!!!x; - - -y; ~+~+z",
            "`a${`b${`c${(d)}`}`}` + '\\'' + \"(\\\"\"",
            "'unterminated ((( \n ((( ",
            "/* unterminated (((",
        ];
        for sample in samples {
            assert_eq!(
                nesting(sample.as_bytes()),
                nesting_bytewise(sample.as_bytes()),
                "{sample:?}"
            );
        }
        // Random texts over the bytes that matter, at every length around the 64-byte windows.
        let alphabet = b"\"'`/([{)]}!~-+ \n\\$*ab\t";
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for round in 0..3_000 {
            let len = round % 300;
            let text: Vec<u8> = (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    alphabet[(state % alphabet.len() as u64) as usize]
                })
                .collect();
            assert_eq!(
                nesting(&text),
                nesting_bytewise(&text),
                "{:?}",
                String::from_utf8_lossy(&text)
            );
        }
    }

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
        // Any order of questions gets the binary search's answers (the last line is remembered).
        let text = "a\n\nbb\nccc\n\n\nd\n";
        let scan = super::scan(text);
        let reference = |offset: u32| {
            let before = &text[..offset as usize];
            let line = before.matches('\n').count() as u32 + 1;
            let column = (offset as usize - before.rfind('\n').map_or(0, |at| at + 1)) as u32 + 1;
            (line, column)
        };
        let offsets: Vec<u32> = (0..text.len() as u32)
            .chain((0..text.len() as u32).rev())
            .chain([3, 9, 0, 14, 14, 2])
            .collect();
        for offset in offsets {
            assert_eq!(scan.position(offset), reference(offset), "{offset}");
        }
        // Offsets past the end stay on the last line.
        assert_eq!(scan.position(100).0, scan.lines() as u32);
    }
}
