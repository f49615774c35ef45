//! npm registry signatures (`dist.signatures`).
//!
//! The registry signs the string `${name}@${version}:${integrity}` with ECDSA P-256 / SHA-256
//! and publishes `[{keyid, sig}]` with `sig` a base64 DER signature (npm docs, "About registry
//! signatures"; npm/cli `lib/utils/verify-signatures.js`). A signature is only accepted when its
//! key was valid at the version's publish time.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::crypto::SigCheck;
use crate::encoding::b64;
use crate::keys::{KeyUsage, RegistryKeys};

/// Signatures are ~72 bytes of DER; anything much larger is not one.
const MAX_SIGNATURE_B64: usize = 1024;

/// One entry of `dist.signatures`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DistSignature {
    pub keyid: String,
    pub sig: String,
}

/// The verdict on a version's registry signatures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum SignatureOutcome {
    Verified {
        keyid: String,
    },
    Invalid {
        keyid: String,
        reason: SignatureFailure,
    },
    /// No `dist.signatures` (a registry or mirror that does not sign).
    Missing,
}

/// Why a signature was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SignatureFailure {
    /// Well-formed signature that does not verify: the artifact or its metadata was altered.
    BadSignature,
    /// No registry key with this id (npm: `EMISSINGSIGNATUREKEY`).
    UnknownKey,
    /// The key had expired when the version was published (npm: `EEXPIREDSIGNATUREKEY`).
    KeyExpired { expires: String, published: String },
    /// The version was published before the key came into use.
    KeyNotYetValid { valid_from: String, published: String },
    /// Not base64, or not a DER ECDSA signature.
    Malformed { detail: String },
}

impl SignatureFailure {
    /// Stable short name, for messages and tests.
    pub fn class(&self) -> &'static str {
        match self {
            SignatureFailure::BadSignature => "bad-signature",
            SignatureFailure::UnknownKey => "unknown-key",
            SignatureFailure::KeyExpired { .. } => "key-expired",
            SignatureFailure::KeyNotYetValid { .. } => "key-not-yet-valid",
            SignatureFailure::Malformed { .. } => "malformed",
        }
    }
}

/// The exact bytes the registry signs.
pub fn signed_message(name: &str, version: &str, integrity: &str) -> String {
    format!("{name}@{version}:{integrity}")
}

/// Verify one `{keyid, sig}` against the registry keys.
///
/// `published` is the version's publish time (packument `time[version]`). When it is unknown
/// the key's validity window cannot be checked and only the signature is; callers should pass
/// it whenever they have it. Expiry is the only check that needs it.
pub fn verify_registry_signature(
    name: &str,
    version: &str,
    integrity: &str,
    signature: &DistSignature,
    published: Option<OffsetDateTime>,
    keys: &RegistryKeys,
) -> SignatureOutcome {
    let keyid = signature.keyid.clone();
    let invalid = |reason| SignatureOutcome::Invalid {
        keyid: keyid.clone(),
        reason,
    };
    let Some(key) = keys.find(&signature.keyid, KeyUsage::Signatures) else {
        return invalid(SignatureFailure::UnknownKey);
    };
    if let Some(published) = published {
        if let Some(expires) = key.expires.filter(|end| published >= *end) {
            return invalid(SignatureFailure::KeyExpired {
                expires: expires.to_string(),
                published: published.to_string(),
            });
        }
        if let Some(start) = key.valid_from.filter(|start| published < *start) {
            return invalid(SignatureFailure::KeyNotYetValid {
                valid_from: start.to_string(),
                published: published.to_string(),
            });
        }
    }
    if signature.sig.len() > MAX_SIGNATURE_B64 {
        return invalid(SignatureFailure::Malformed {
            detail: format!("signature is {} characters long", signature.sig.len()),
        });
    }
    let Some(der) = b64(&signature.sig) else {
        return invalid(SignatureFailure::Malformed {
            detail: "signature is not base64".to_owned(),
        });
    };
    let message = signed_message(name, version, integrity);
    match key.key.verify(message.as_bytes(), &der) {
        SigCheck::Valid => SignatureOutcome::Verified { keyid },
        SigCheck::Invalid => invalid(SignatureFailure::BadSignature),
        SigCheck::Malformed => invalid(SignatureFailure::Malformed {
            detail: "signature is not a DER ECDSA signature".to_owned(),
        }),
    }
}

/// Verify a version's whole `dist.signatures` list.
///
/// Missing when the list is empty. Otherwise every signature must verify: one bad signature
/// beside a good one still means someone tampered with the metadata, so the first failure wins.
pub fn verify_registry_signatures(
    name: &str,
    version: &str,
    integrity: &str,
    signatures: &[DistSignature],
    published: Option<OffsetDateTime>,
    keys: &RegistryKeys,
) -> SignatureOutcome {
    let mut verified = None;
    for signature in signatures {
        match verify_registry_signature(name, version, integrity, signature, published, keys) {
            outcome @ SignatureOutcome::Invalid { .. } => return outcome,
            outcome @ SignatureOutcome::Verified { .. } => {
                verified.get_or_insert(outcome);
            }
            SignatureOutcome::Missing => {}
        }
    }
    verified.unwrap_or(SignatureOutcome::Missing)
}
