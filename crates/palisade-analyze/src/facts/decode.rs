//! Decoders the constant folder applies, lenient like Node's (`Buffer.from(s, 'base64')`
//! ignores whitespace and accepts both alphabets and missing padding).

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;

const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// Base64 (standard or URL-safe alphabet), whitespace ignored, padding optional.
pub(crate) fn base64(input: &str) -> Option<Vec<u8>> {
    let cleaned: String = input
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .map(|c| match c {
            '-' => '+',
            '_' => '/',
            c => c,
        })
        .collect();
    let trimmed = cleaned.trim_end_matches('=');
    LENIENT.decode(trimmed).ok()
}

/// Hex pairs; Node stops at the first invalid pair, so do we.
pub(crate) fn hex(input: &str) -> Option<Vec<u8>> {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len() / 2);
    for pair in bytes.chunks_exact(2) {
        let high = (pair[0] as char).to_digit(16);
        let low = (pair[1] as char).to_digit(16);
        match (high, low) {
            (Some(h), Some(l)) => out.push((h * 16 + l) as u8),
            _ => break,
        }
    }
    if out.is_empty() && !input.is_empty() {
        return None;
    }
    Some(out)
}

/// `%41` and `%u0041` escapes (decodeURIComponent and unescape); invalid escapes are kept.
pub(crate) fn percent(input: &str) -> String {
    let bytes = input.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            if bytes.get(i + 1) == Some(&b'u') {
                if let Some(code) = input.get(i + 2..i + 6).and_then(|h| u32::from_str_radix(h, 16).ok()) {
                    let mut buffer = [0u8; 4];
                    out.extend_from_slice(
                        char::from_u32(code)
                            .unwrap_or('\u{FFFD}')
                            .encode_utf8(&mut buffer)
                            .as_bytes(),
                    );
                    i += 6;
                    continue;
                }
            } else if let Some(byte) = input.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(byte);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `path.join` / `path.resolve` on folded parts, POSIX style: `~` stays at the front so
/// `path.join(os.homedir(), '.npmrc')` reads `~/.npmrc`.
pub(crate) fn join_path(parts: &[&str], resolve: bool) -> String {
    let mut segments: Vec<&str> = Vec::new();
    let mut absolute = false;
    for part in parts {
        let part_absolute = part.starts_with('/') || part.starts_with('\\');
        if resolve && (part_absolute || *part == "~" || part.starts_with("~/")) {
            segments.clear();
            absolute = part_absolute;
        } else if segments.is_empty() && part_absolute {
            absolute = true;
        }
        for segment in part.split(['/', '\\']) {
            match segment {
                "" | "." => {}
                ".." => {
                    if segments.last().is_some_and(|s| *s != ".." && *s != "~") {
                        segments.pop();
                    } else if !absolute {
                        segments.push("..");
                    }
                }
                segment => segments.push(segment),
            }
        }
    }
    let joined = segments.join("/");
    if absolute {
        format!("/{joined}")
    } else if joined.is_empty() {
        ".".to_string()
    } else {
        joined
    }
}

/// A long literal made only of base64 or hex characters.
pub(crate) fn looks_encoded(value: &str) -> bool {
    let bytes = value.as_bytes();
    let hex = bytes.iter().all(u8::is_ascii_hexdigit);
    if hex {
        return true;
    }
    let base64 = bytes
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'-' | b'_'));
    // Real base64 mixes cases and digits; a long identifier-like word does not.
    base64
        && bytes.iter().any(u8::is_ascii_digit)
        && bytes.iter().any(u8::is_ascii_uppercase)
        && bytes.iter().any(u8::is_ascii_lowercase)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoders() {
        assert_eq!(base64("aGVsbG8=").as_deref(), Some(&b"hello"[..]));
        assert_eq!(base64("aGVsbG8").as_deref(), Some(&b"hello"[..]));
        assert_eq!(base64("aGVs\nbG8=").as_deref(), Some(&b"hello"[..]));
        assert_eq!(base64("_-8").as_deref(), Some(&[0xFF, 0xEF][..]));
        assert_eq!(hex("6869").as_deref(), Some(&b"hi"[..]));
        assert_eq!(hex("zz"), None);
        assert_eq!(percent("%2F%7Eab%u0041%zz"), "/~abA%zz");
    }

    #[test]
    fn paths() {
        assert_eq!(join_path(&["~", ".npmrc"], false), "~/.npmrc");
        assert_eq!(join_path(&["~", ".ssh/", "id_rsa"], false), "~/.ssh/id_rsa");
        assert_eq!(join_path(&["/a", "b/../c"], false), "/a/c");
        assert_eq!(join_path(&["a", "/etc/passwd"], true), "/etc/passwd");
        assert_eq!(join_path(&["C:\\Users", "x"], false), "C:/Users/x");
    }
}
