//! Subresource Integrity strings (W3C SRI §3.5, as npm writes them in `dist.integrity` and
//! lockfiles): whitespace-separated `alg-base64digest[?options]`, sha512 normally, sha1 for
//! old packages (npm derives `sha1-` from `dist.shasum`).
//!
//! `palisade-registry` is expected to grow its own public `Integrity` type; this one is kept
//! small and internal to verification until the two can be merged.

use serde::Serialize;
use sha1::Sha1;
use sha2::{Digest as _, Sha256, Sha384, Sha512};
use thiserror::Error;

use crate::encoding::{b64, b64_encode};

/// An SRI string is a few hashes; bound it so hostile lockfiles cannot make us allocate much.
const MAX_INTEGRITY_LEN: usize = 8 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Algorithm {
    // Ordered weakest first: SRI §3.3 "getPrioritizedHashFunction" picks the strongest.
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl Algorithm {
    fn from_name(name: &str) -> Option<Self> {
        match name {
            "sha1" => Some(Algorithm::Sha1),
            "sha256" => Some(Algorithm::Sha256),
            "sha384" => Some(Algorithm::Sha384),
            "sha512" => Some(Algorithm::Sha512),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Sha1 => "sha1",
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha384 => "sha384",
            Algorithm::Sha512 => "sha512",
        }
    }

    fn digest(self, bytes: &[u8]) -> Vec<u8> {
        match self {
            Algorithm::Sha1 => Sha1::digest(bytes).to_vec(),
            Algorithm::Sha256 => Sha256::digest(bytes).to_vec(),
            Algorithm::Sha384 => Sha384::digest(bytes).to_vec(),
            Algorithm::Sha512 => Sha512::digest(bytes).to_vec(),
        }
    }

    fn digest_len(self) -> usize {
        match self {
            Algorithm::Sha1 => 20,
            Algorithm::Sha256 => 32,
            Algorithm::Sha384 => 48,
            Algorithm::Sha512 => 64,
        }
    }
}

/// One `alg-digest` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hash {
    pub algorithm: Algorithm,
    pub digest: Vec<u8>,
}

/// A parsed SRI string: the hashes of known algorithms (unknown ones are ignored, per SRI).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Integrity {
    pub hashes: Vec<Hash>,
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum IntegrityError {
    #[error("integrity string is {0} bytes long, more than {MAX_INTEGRITY_LEN}")]
    TooLong(usize),
    #[error("integrity string has no sha1/sha256/sha384/sha512 hash")]
    NoSupportedHash,
}

/// Result of checking bytes against an integrity string.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum IntegrityOutcome {
    Match {
        algorithm: Algorithm,
    },
    Mismatch {
        algorithm: Algorithm,
        expected: String,
        actual: String,
    },
}

impl Integrity {
    pub fn parse(text: &str) -> Result<Self, IntegrityError> {
        if text.len() > MAX_INTEGRITY_LEN {
            return Err(IntegrityError::TooLong(text.len()));
        }
        let mut hashes = Vec::new();
        for token in text.split_ascii_whitespace() {
            // SRI §3.5: options after `?` are reserved and ignored.
            let token = token.split('?').next().unwrap_or(token);
            let Some((name, digest_b64)) = token.split_once('-') else {
                continue;
            };
            let Some(algorithm) = Algorithm::from_name(&name.to_ascii_lowercase()) else {
                continue;
            };
            match b64(digest_b64) {
                Some(digest) if digest.len() == algorithm.digest_len() => hashes.push(Hash { algorithm, digest }),
                // A malformed digest of a known algorithm can never match; keep it out.
                _ => continue,
            }
        }
        if hashes.is_empty() {
            return Err(IntegrityError::NoSupportedHash);
        }
        Ok(Self { hashes })
    }

    /// The strongest algorithm present.
    pub fn strongest(&self) -> Option<Algorithm> {
        self.hashes.iter().map(|hash| hash.algorithm).max()
    }

    /// The sha512 digest, if the string has one (what npm provenance subjects carry).
    pub fn sha512(&self) -> Option<&[u8]> {
        self.hashes
            .iter()
            .find(|hash| hash.algorithm == Algorithm::Sha512)
            .map(|hash| hash.digest.as_slice())
    }

    /// Whether two integrity strings name the same content: `Some(true)` when they share a
    /// digest, `Some(false)` when they have an algorithm in common but no digest (a lockfile
    /// that disagrees with the registry: lockfile injection or a re-published tarball), `None`
    /// when they have no algorithm in common (e.g. sha1 against sha512).
    pub fn agrees_with(&self, other: &Integrity) -> Option<bool> {
        let mut common = false;
        for mine in &self.hashes {
            for theirs in other.hashes.iter().filter(|h| h.algorithm == mine.algorithm) {
                common = true;
                if theirs.digest == mine.digest {
                    return Some(true);
                }
            }
        }
        common.then_some(false)
    }

    /// Check `bytes`: per SRI §3.3.5 only the strongest algorithm counts, and any digest of
    /// that algorithm may match (several are allowed, e.g. during a re-pack).
    pub fn check(&self, bytes: &[u8]) -> IntegrityOutcome {
        let Some(algorithm) = self.strongest() else {
            // Unreachable through `parse`, which refuses an empty list; stay total anyway.
            return IntegrityOutcome::Mismatch {
                algorithm: Algorithm::Sha512,
                expected: String::new(),
                actual: String::new(),
            };
        };
        let actual = algorithm.digest(bytes);
        let mut expected = None;
        for hash in self.hashes.iter().filter(|hash| hash.algorithm == algorithm) {
            if hash.digest == actual {
                return IntegrityOutcome::Match { algorithm };
            }
            expected.get_or_insert_with(|| b64_encode(&hash.digest));
        }
        IntegrityOutcome::Mismatch {
            algorithm,
            expected: format!("{}-{}", algorithm.as_str(), expected.unwrap_or_default()),
            actual: format!("{}-{}", algorithm.as_str(), b64_encode(&actual)),
        }
    }
}

/// Check `bytes` against the SRI string `integrity`.
pub fn check_integrity(integrity: &str, bytes: &[u8]) -> Result<IntegrityOutcome, IntegrityError> {
    Ok(Integrity::parse(integrity)?.check(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sri(algorithm: Algorithm, bytes: &[u8]) -> String {
        format!("{}-{}", algorithm.as_str(), b64_encode(&algorithm.digest(bytes)))
    }

    #[test]
    fn sha512_match_and_mismatch() {
        let good = sri(Algorithm::Sha512, b"tarball");
        assert_eq!(
            check_integrity(&good, b"tarball"),
            Ok(IntegrityOutcome::Match {
                algorithm: Algorithm::Sha512
            })
        );
        assert!(matches!(
            check_integrity(&good, b"tampered"),
            Ok(IntegrityOutcome::Mismatch { .. })
        ));
    }

    #[test]
    fn legacy_sha1() {
        let good = sri(Algorithm::Sha1, b"old");
        assert!(matches!(
            check_integrity(&good, b"old"),
            Ok(IntegrityOutcome::Match {
                algorithm: Algorithm::Sha1
            })
        ));
    }

    #[test]
    fn strongest_algorithm_decides() {
        // A correct sha1 cannot rescue a wrong sha512: downgrade protection (SRI §3.3).
        let text = format!("{} {}", sri(Algorithm::Sha1, b"evil"), sri(Algorithm::Sha512, b"good"));
        assert!(matches!(
            check_integrity(&text, b"evil"),
            Ok(IntegrityOutcome::Mismatch {
                algorithm: Algorithm::Sha512,
                ..
            })
        ));
    }

    #[test]
    fn any_digest_of_strongest_matches() {
        let text = format!("{}?opt {}", sri(Algorithm::Sha512, b"a"), sri(Algorithm::Sha512, b"b"));
        assert!(matches!(
            check_integrity(&text, b"b"),
            Ok(IntegrityOutcome::Match { .. })
        ));
    }

    #[test]
    fn agreement_between_lockfile_and_registry() {
        let a = Integrity::parse(&sri(Algorithm::Sha512, b"a")).expect("parses");
        let b = Integrity::parse(&sri(Algorithm::Sha512, b"b")).expect("parses");
        let old = Integrity::parse(&sri(Algorithm::Sha1, b"a")).expect("parses");
        assert_eq!(a.agrees_with(&a), Some(true));
        assert_eq!(a.agrees_with(&b), Some(false));
        assert_eq!(a.agrees_with(&old), None);
    }

    #[test]
    fn rejects_strings_without_known_hashes() {
        assert_eq!(check_integrity("md5-AAAA", b""), Err(IntegrityError::NoSupportedHash));
        assert_eq!(check_integrity("", b""), Err(IntegrityError::NoSupportedHash));
        assert_eq!(
            check_integrity("sha512-notbase64!!", b""),
            Err(IntegrityError::NoSupportedHash)
        );
    }
}
