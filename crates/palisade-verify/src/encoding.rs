//! Small decoding helpers shared by the verifiers: base64, hex, PEM, RFC 3339 times.

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use base64::Engine as _;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Decode standard base64 (RFC 4648 §4), with or without padding.
///
/// npm and Sigstore both emit padded standard base64; unpadded input is accepted because a
/// few mirrors strip padding, and being lenient here cannot weaken a signature check.
pub(crate) fn b64(text: &str) -> Option<Vec<u8>> {
    let text = text.trim();
    STANDARD.decode(text).ok().or_else(|| STANDARD_NO_PAD.decode(text).ok())
}

pub(crate) fn b64_encode(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(DIGITS[usize::from(byte >> 4)] as char);
        out.push(DIGITS[usize::from(byte & 0x0f)] as char);
    }
    out
}

/// The DER inside the first PEM block of `text` (RFC 7468), whatever its label.
pub(crate) fn pem_to_der(text: &str) -> Option<Vec<u8>> {
    let start = text.find("-----BEGIN ")?;
    let rest = &text[start..];
    let body_start = rest.find('\n')? + 1;
    let body = &rest[body_start..];
    let end = body.find("-----END ")?;
    let joined: String = body[..end].split_whitespace().collect();
    b64(&joined)
}

/// RFC 3339 time; also the registry mirror's `…385000+00:00` form (still RFC 3339).
pub(crate) fn parse_time(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text.trim(), &Rfc3339).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_encodes_lowercase() {
        assert_eq!(hex(&[0x00, 0xab, 0xff]), "00abff");
    }

    #[test]
    fn parses_both_time_forms() {
        assert!(parse_time("2025-01-29T00:00:00.000Z").is_some());
        assert!(parse_time("2024-12-07T10:11:12.385000+00:00").is_some());
        assert!(parse_time("yesterday").is_none());
    }

    #[test]
    fn pem_roundtrip() {
        let pem = "-----BEGIN PUBLIC KEY-----\nAAEC\nAw==\n-----END PUBLIC KEY-----\n";
        assert_eq!(pem_to_der(pem), Some(vec![0, 1, 2, 3]));
    }
}
