//! Subresource Integrity (SRI) strings as npm writes them in `dist.integrity`
//! and in lockfiles (`integrity: "sha512-…"`).
//!
//! Follows the W3C SRI specification
//! (<https://www.w3.org/TR/SRI/#the-integrity-attribute>):
//!
//! - an integrity string is a whitespace-separated list of
//!   `algorithm-base64digest[?options]` tokens;
//! - tokens with an algorithm we do not know are ignored (§3.3.3 "parse
//!   metadata": "if alg is not a valid hash algorithm, continue"), and so are
//!   tokens whose digest is not valid base64 of the right length;
//! - only the **strongest** algorithm present is used (§3.3.4 "get the
//!   strongest metadata from set"): bytes match if they match *any* digest of
//!   that algorithm. A weaker digest is never consulted when a stronger one is
//!   present, so `sha512-<wrong> sha1-<right>` fails: an attacker who can add a
//!   sha1 token cannot downgrade the check.
//!
//! npm additionally accepts a bare 40-hex `shasum` (legacy `dist.shasum`);
//! [`Integrity::from_hex_sha1`] turns one into an SRI value.
//!
//! ```
//! use palisade_registry::integrity::Integrity;
//! let sri = Integrity::parse("sha256-LCa0a2j/xo/5m0U8HTBBNBNCLXBkg7+g+YpeiGJm564=").unwrap();
//! assert!(sri.check(b"foo").is_ok());
//! assert!(sri.check(b"bar").is_err());
//! ```

use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use sha1::Sha1;
use sha2::{Digest as _, Sha256, Sha384, Sha512};

/// A hash algorithm allowed in an SRI string, ordered from weakest to
/// strongest (the derived `Ord` is the strength order used by [`Integrity`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Algorithm {
    /// Not part of the W3C list, but npm writes `sha1-…` for packages
    /// published before 2017 (npm's `ssri` accepts it). Weakest.
    Sha1,
    /// `sha256`
    Sha256,
    /// `sha384`
    Sha384,
    /// `sha512`: what npm writes today.
    Sha512,
}

impl Algorithm {
    /// The name as written in an SRI token.
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Sha1 => "sha1",
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha384 => "sha384",
            Algorithm::Sha512 => "sha512",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        // SRI algorithm names are ASCII case-insensitive in practice (ssri
        // lower-cases them); accept both.
        match name.to_ascii_lowercase().as_str() {
            "sha1" => Some(Algorithm::Sha1),
            "sha256" => Some(Algorithm::Sha256),
            "sha384" => Some(Algorithm::Sha384),
            "sha512" => Some(Algorithm::Sha512),
            _ => None,
        }
    }

    /// Digest length in bytes.
    pub fn digest_len(self) -> usize {
        match self {
            Algorithm::Sha1 => 20,
            Algorithm::Sha256 => 32,
            Algorithm::Sha384 => 48,
            Algorithm::Sha512 => 64,
        }
    }

    /// Hash `bytes` with this algorithm.
    pub fn digest(self, bytes: &[u8]) -> Vec<u8> {
        match self {
            Algorithm::Sha1 => Sha1::digest(bytes).to_vec(),
            Algorithm::Sha256 => Sha256::digest(bytes).to_vec(),
            Algorithm::Sha384 => Sha384::digest(bytes).to_vec(),
            Algorithm::Sha512 => Sha512::digest(bytes).to_vec(),
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One `algorithm-digest` token of an SRI string.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Hash {
    /// The algorithm.
    pub algorithm: Algorithm,
    /// The raw digest bytes (decoded from base64).
    pub digest: Vec<u8>,
}

impl Hash {
    /// The digest as lower-case hex (what CycloneDX/SPDX hashes want).
    pub fn hex(&self) -> String {
        to_hex(&self.digest)
    }

    /// The digest as standard base64, as it appears in the SRI token.
    pub fn base64(&self) -> String {
        STANDARD.encode(&self.digest)
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.algorithm, self.base64())
    }
}

/// A parsed SRI integrity string: the usable hashes it lists.
///
/// `Display` writes it back in SRI form (tokens separated by one space,
/// options dropped).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Integrity {
    hashes: Vec<Hash>,
}

/// Why an integrity string could not be used, or why bytes did not match it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IntegrityError {
    /// No token of the string had a known algorithm and a well-formed digest.
    #[error("integrity string `{value}` has no usable hash (expected e.g. `sha512-<base64>`)")]
    NoUsableHash {
        /// The string (truncated to 200 characters: it is outside data).
        value: String,
    },
    /// The bytes hashed to something else.
    #[error("integrity mismatch: expected {expected}, got {algorithm}-{actual}")]
    Mismatch {
        /// The strongest algorithm, the only one compared.
        algorithm: Algorithm,
        /// The expected digest(s) of that algorithm, SRI form, space-separated.
        expected: String,
        /// What the bytes hash to, base64.
        actual: String,
    },
}

impl Integrity {
    /// Parse an SRI string. Unknown algorithms and malformed tokens are
    /// skipped, as the SRI spec requires; it is an error only when nothing
    /// usable remains.
    pub fn parse(value: &str) -> Result<Self, IntegrityError> {
        let mut hashes = Vec::new();
        for token in value.split_ascii_whitespace() {
            // `?` starts options (reserved by the spec, unused by npm).
            let token = token.split('?').next().unwrap_or(token);
            let Some((name, digest)) = token.split_once('-') else {
                continue;
            };
            let Some(algorithm) = Algorithm::from_name(name) else {
                continue;
            };
            let Ok(digest) = STANDARD.decode(digest) else {
                continue;
            };
            if digest.len() != algorithm.digest_len() {
                continue;
            }
            let hash = Hash { algorithm, digest };
            if !hashes.contains(&hash) {
                hashes.push(hash);
            }
        }
        if hashes.is_empty() {
            return Err(IntegrityError::NoUsableHash {
                value: value.chars().take(200).collect(),
            });
        }
        Ok(Integrity { hashes })
    }

    /// An SRI value from a legacy 40-hex-digit `dist.shasum`.
    pub fn from_hex_sha1(shasum: &str) -> Result<Self, IntegrityError> {
        let digest = from_hex(shasum.trim())
            .filter(|digest| digest.len() == Algorithm::Sha1.digest_len())
            .ok_or_else(|| IntegrityError::NoUsableHash {
                value: shasum.chars().take(200).collect(),
            })?;
        Ok(Integrity {
            hashes: vec![Hash {
                algorithm: Algorithm::Sha1,
                digest,
            }],
        })
    }

    /// Compute the SRI value of `bytes` with one algorithm.
    pub fn compute(algorithm: Algorithm, bytes: &[u8]) -> Self {
        Integrity {
            hashes: vec![Hash {
                algorithm,
                digest: algorithm.digest(bytes),
            }],
        }
    }

    /// Every usable hash, in the order written.
    pub fn hashes(&self) -> &[Hash] {
        &self.hashes
    }

    /// The strongest algorithm present.
    pub fn strongest_algorithm(&self) -> Algorithm {
        // Invariant: `hashes` is never empty (checked by every constructor).
        self.hashes
            .iter()
            .map(|hash| hash.algorithm)
            .max()
            .unwrap_or(Algorithm::Sha1)
    }

    /// The hashes of the strongest algorithm (there may be several: SRI
    /// allows listing more than one acceptable digest).
    pub fn strongest(&self) -> impl Iterator<Item = &Hash> {
        let strongest = self.strongest_algorithm();
        self.hashes.iter().filter(move |hash| hash.algorithm == strongest)
    }

    /// Check `bytes`: they pass when they match any digest of the strongest
    /// algorithm. Returns that algorithm.
    pub fn check(&self, bytes: &[u8]) -> Result<Algorithm, IntegrityError> {
        let algorithm = self.strongest_algorithm();
        let actual = algorithm.digest(bytes);
        // Digests are public values: constant-time comparison buys nothing.
        if self.strongest().any(|hash| hash.digest == actual) {
            return Ok(algorithm);
        }
        Err(IntegrityError::Mismatch {
            algorithm,
            expected: self.strongest().map(ToString::to_string).collect::<Vec<_>>().join(" "),
            actual: STANDARD.encode(actual),
        })
    }

    /// Whether the two values share a hash (same algorithm and digest):
    /// how npm decides that a lockfile integrity and a registry integrity
    /// describe the same tarball.
    pub fn matches(&self, other: &Integrity) -> bool {
        self.hashes.iter().any(|hash| other.hashes.contains(hash))
    }
}

impl fmt::Display for Integrity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, hash) in self.hashes.iter().enumerate() {
            if index > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{hash}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Integrity {
    type Err = IntegrityError;
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Integrity::parse(value)
    }
}

pub(crate) fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    out
}

fn from_hex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    text.as_bytes()
        .chunks(2)
        .map(|pair| {
            let high = char::from(pair[0]).to_digit(16)?;
            let low = char::from(pair[1]).to_digit(16)?;
            u8::try_from(high * 16 + low).ok()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    // sha512 / sha256 / sha1 of b"foo".
    const FOO_SHA512: &str =
        "sha512-9/u6bgY2+JDlb7vzKD5STG+jIErimDgtYkdB0NxmODJuKCxBvl5CVNiCB3LFUYosWowMf37aGVlKfrU5RT4e1w==";
    const FOO_SHA256: &str = "sha256-LCa0a2j/xo/5m0U8HTBBNBNCLXBkg7+g+YpeiGJm564=";
    const FOO_SHA1: &str = "sha1-C+7Hteo/D9vJXQ3UfzxbwnXaijM=";
    const BAR_SHA512: &str =
        "sha512-2CxOtSYcuciqmFXt1n0b0QSC9BUphY2SUJTRc/pmKqkf85vFsYhhUnNIQCHfsW/YKEz2hMzw/Hlb46ovwebBgQ==";

    #[test]
    fn single_hashes_pass_and_fail() {
        for sri in [FOO_SHA512, FOO_SHA256, FOO_SHA1] {
            let integrity = Integrity::parse(sri).expect("test vector parses");
            assert!(integrity.check(b"foo").is_ok(), "{sri}");
            assert!(integrity.check(b"bar").is_err(), "{sri}");
            assert_eq!(integrity.to_string(), sri);
        }
    }

    #[test]
    fn any_strongest_hash_may_match() {
        let integrity = Integrity::parse(&format!("{BAR_SHA512} {FOO_SHA512}")).expect("parses");
        assert_eq!(integrity.check(b"foo"), Ok(Algorithm::Sha512));
        assert_eq!(integrity.check(b"bar"), Ok(Algorithm::Sha512));
        assert!(integrity.check(b"baz").is_err());
    }

    #[test]
    fn weaker_hash_is_not_consulted_when_a_stronger_one_exists() {
        // A correct sha1 must not rescue a wrong sha512 (downgrade attack).
        let integrity = Integrity::parse(&format!("{BAR_SHA512} {FOO_SHA1}")).expect("parses");
        let error = integrity.check(b"foo").expect_err("sha512 decides");
        assert!(matches!(
            error,
            IntegrityError::Mismatch {
                algorithm: Algorithm::Sha512,
                ..
            }
        ));
        // And the other way round: a wrong sha1 does not fail a right sha512.
        let integrity = Integrity::parse(&format!("sha1-AAAAAAAAAAAAAAAAAAAAAAAAAAA= {FOO_SHA512}")).expect("parses");
        assert!(integrity.check(b"foo").is_ok());
    }

    #[test]
    fn unknown_algorithms_and_bad_tokens_are_skipped() {
        let integrity = Integrity::parse(&format!(
            "md5-rL0Y20zC+Fzt72VPzMSk2A== sha999-xx nonsense {FOO_SHA256}?opt"
        ))
        .expect("sha256 usable");
        assert_eq!(integrity.hashes().len(), 1);
        assert!(integrity.check(b"foo").is_ok());
        // Digest of the wrong length for its algorithm is skipped too.
        assert!(Integrity::parse("sha512-LCa0a2j/xo/5m0U8HTBBNBNCLXBkg7+g+YpeiGJm564=").is_err());
        for bad in ["", "   ", "md5-rL0Y20zC+Fzt72VPzMSk2A==", "sha512-!!!", "sha512"] {
            assert!(
                matches!(Integrity::parse(bad), Err(IntegrityError::NoUsableHash { .. })),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn shasum_hex() {
        let integrity = Integrity::from_hex_sha1("0beec7b5ea3f0fdbc95d0dd47f3c5bc275da8a33").expect("hex sha1 of foo");
        assert_eq!(integrity.to_string(), FOO_SHA1);
        assert!(integrity.check(b"foo").is_ok());
        assert_eq!(integrity.hashes()[0].hex(), "0beec7b5ea3f0fdbc95d0dd47f3c5bc275da8a33");
        assert!(Integrity::from_hex_sha1("0beec7").is_err());
        assert!(Integrity::from_hex_sha1("zz").is_err());
    }

    #[test]
    fn matches_shares_a_hash() {
        let a = Integrity::parse(&format!("{FOO_SHA512} {FOO_SHA1}")).expect("parses");
        let b = Integrity::parse(FOO_SHA1).expect("parses");
        assert!(a.matches(&b));
        assert!(!Integrity::parse(BAR_SHA512).expect("parses").matches(&b));
    }
}
