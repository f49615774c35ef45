//! bun.lock is JSON with trailing commas (bun writes them) and, since users
//! may edit it, possibly comments. Rather than a second JSON parser, this
//! blanks comments and trailing commas out with spaces, keeping every other
//! byte (and so every line and column) where it was, and hands the result to
//! serde_json, whose errors then point into the original text.

/// The JSON text with comments and trailing commas replaced by spaces.
/// Newlines inside block comments are kept so line numbers stay right.
pub(crate) fn to_json(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = bytes.to_vec();
    let mut index = 0;
    // Position of the last comma outside strings whose fate (trailing or not)
    // is not yet known.
    let mut pending_comma: Option<usize> = None;
    while index < bytes.len() {
        match bytes[index] {
            b'"' => {
                pending_comma = None;
                index += 1;
                while index < bytes.len() {
                    match bytes[index] {
                        b'\\' => index += 2,
                        b'"' => {
                            index += 1;
                            break;
                        }
                        _ => index += 1,
                    }
                }
            }
            b'/' if bytes.get(index + 1) == Some(&b'/') => {
                while index < bytes.len() && bytes[index] != b'\n' {
                    out[index] = b' ';
                    index += 1;
                }
            }
            b'/' if bytes.get(index + 1) == Some(&b'*') => {
                let start = index;
                index += 2;
                while index < bytes.len() && !(bytes[index] == b'*' && bytes.get(index + 1) == Some(&b'/')) {
                    index += 1;
                }
                let end = (index + 2).min(bytes.len());
                for byte in &mut out[start..end] {
                    if *byte != b'\n' && *byte != b'\r' {
                        *byte = b' ';
                    }
                }
                index = end;
            }
            b',' => {
                pending_comma = Some(index);
                index += 1;
            }
            b'}' | b']' => {
                if let Some(comma) = pending_comma.take() {
                    out[comma] = b' ';
                }
                index += 1;
            }
            byte if byte.is_ascii_whitespace() => index += 1,
            _ => {
                pending_comma = None;
                index += 1;
            }
        }
    }
    // Only ASCII bytes were replaced, by ASCII spaces, so the text is still
    // UTF-8; the lossy conversion never substitutes anything.
    String::from_utf8(out).unwrap_or_else(|error| String::from_utf8_lossy(error.as_bytes()).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_trailing_commas_and_comments_outside_strings() {
        let text = "{\n  // note\n  \"a\": [1, 2,],\n  /* x\n y */ \"b\": \"//,]\",\n}\n";
        let json = to_json(text);
        assert_eq!(json.len(), text.len());
        assert_eq!(json.lines().count(), text.lines().count());
        let value: serde_json::Value = serde_json::from_str(&json).expect("valid after stripping");
        assert_eq!(value["b"], "//,]");
        assert_eq!(value["a"], serde_json::json!([1, 2]));
    }

    #[test]
    fn unterminated_things_do_not_panic() {
        for text in ["\"abc", "/* open", "// x", "\"\\", ",", "[,]"] {
            let _ = to_json(text);
        }
    }
}
