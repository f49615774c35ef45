//! Subresource Integrity strings (W3C SRI §3.5, as npm writes them in
//! lockfiles: `sha512-<base64>`, several space-separated) ⇄ algorithm + hex digest.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

/// The hash algorithms npm integrity strings use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum HashAlgorithm {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl HashAlgorithm {
    /// CycloneDX 1.6 `hash-alg` spelling.
    pub fn cyclonedx_name(self) -> &'static str {
        match self {
            HashAlgorithm::Sha1 => "SHA-1",
            HashAlgorithm::Sha256 => "SHA-256",
            HashAlgorithm::Sha384 => "SHA-384",
            HashAlgorithm::Sha512 => "SHA-512",
        }
    }

    /// SPDX 2.3 §7.10 checksum algorithm spelling.
    pub fn spdx_name(self) -> &'static str {
        match self {
            HashAlgorithm::Sha1 => "SHA1",
            HashAlgorithm::Sha256 => "SHA256",
            HashAlgorithm::Sha384 => "SHA384",
            HashAlgorithm::Sha512 => "SHA512",
        }
    }

    fn sri_prefix(self) -> &'static str {
        match self {
            HashAlgorithm::Sha1 => "sha1",
            HashAlgorithm::Sha256 => "sha256",
            HashAlgorithm::Sha384 => "sha384",
            HashAlgorithm::Sha512 => "sha512",
        }
    }

    fn digest_len(self) -> usize {
        match self {
            HashAlgorithm::Sha1 => 20,
            HashAlgorithm::Sha256 => 32,
            HashAlgorithm::Sha384 => 48,
            HashAlgorithm::Sha512 => 64,
        }
    }

    /// From either spec's spelling or the SRI prefix, case-insensitively.
    pub fn parse(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().replace('-', "").as_str() {
            "sha1" => Some(HashAlgorithm::Sha1),
            "sha256" => Some(HashAlgorithm::Sha256),
            "sha384" => Some(HashAlgorithm::Sha384),
            "sha512" => Some(HashAlgorithm::Sha512),
            _ => None,
        }
    }
}

/// One digest, hex-encoded in lowercase.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Digest {
    pub algorithm: HashAlgorithm,
    pub hex: String,
}

/// The digests of an SRI string, strongest first, one per algorithm. Entries
/// that are not a known algorithm with a digest of the right length are skipped.
pub fn decode(integrity: &str) -> Vec<Digest> {
    let mut digests: Vec<Digest> = integrity
        .split_ascii_whitespace()
        .filter_map(|entry| {
            let (prefix, rest) = entry.split_once('-')?;
            let algorithm = HashAlgorithm::parse(prefix)?;
            // SRI allows `?options` after the digest (W3C SRI §3.5).
            let encoded = rest.split_once('?').map_or(rest, |(digest, _options)| digest);
            let bytes = STANDARD.decode(encoded).ok()?;
            (bytes.len() == algorithm.digest_len()).then(|| Digest {
                algorithm,
                hex: to_hex(&bytes),
            })
        })
        .collect();
    digests.sort_by(|a, b| b.algorithm.cmp(&a.algorithm).then_with(|| a.hex.cmp(&b.hex)));
    digests.dedup_by(|a, b| a.algorithm == b.algorithm);
    digests
}

/// The SRI string of the strongest digest among `digests` (what npm would
/// verify first), or `None` when there is no usable one.
pub fn encode_strongest<'a>(digests: impl IntoIterator<Item = (HashAlgorithm, &'a str)>) -> Option<String> {
    digests
        .into_iter()
        .filter_map(|(algorithm, hex)| {
            let bytes = from_hex(hex)?;
            (bytes.len() == algorithm.digest_len()).then_some((algorithm, bytes))
        })
        .max_by_key(|(algorithm, _)| *algorithm)
        .map(|(algorithm, bytes)| format!("{}-{}", algorithm.sri_prefix(), STANDARD.encode(bytes)))
}

fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut hex = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        hex.push(char::from(DIGITS[usize::from(byte >> 4)]));
        hex.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    hex
}

fn from_hex(hex: &str) -> Option<Vec<u8>> {
    if hex.len() % 2 != 0 || !hex.is_ascii() {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|index| u8::from_str_radix(&hex[index..index + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA512: &str =
        "sha512-PYAthTa2m2VKxuvSD3DPC/Gy+U+sOA1LAuT8mkmRuvw+NACSaeXEQ+NHcVF7rONl6qcaxV3Uuemwawk+7+SJLw==";

    #[test]
    fn decodes_and_reencodes() {
        let digests = decode(&format!("sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk= {SHA512}"));
        assert_eq!(digests.len(), 2);
        assert_eq!(digests[0].algorithm, HashAlgorithm::Sha512);
        assert_eq!(digests[1].hex, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        let back = encode_strongest(digests.iter().map(|d| (d.algorithm, d.hex.as_str())));
        assert_eq!(back.as_deref(), Some(SHA512));
    }

    #[test]
    fn skips_garbage() {
        assert!(decode("md5-abc sha512-!!! sha256-AAAA").is_empty());
        assert_eq!(encode_strongest([(HashAlgorithm::Sha1, "zz")]), None);
    }
}
