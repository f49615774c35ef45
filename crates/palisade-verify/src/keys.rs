//! npm registry signing keys, in either published form.
//!
//! - `GET /-/npm/v1/keys` (npm docs, "About registry signatures"):
//!   `{keys:[{expires, keyid, keytype, scheme, key}]}` where `key` is a base64 DER
//!   SubjectPublicKeyInfo and `expires` is null for the current key.
//! - Sigstore's TUF repository target `registry.npmjs.org/keys.json`:
//!   `{keys:[{keyId, keyUsage, publicKey:{rawBytes, keyDetails, validFor:{start, end}}}]}`, one
//!   entry per usage (`npm:signatures` for `dist.signatures`, `npm:attestations` for the publish
//!   attestation), with a start date as well as an end.
//!
//! A key is only good for versions published inside its validity window: npm rejects a
//! signature whose key had expired when the version was published (`EEXPIREDSIGNATUREKEY`).

use serde::Deserialize;
use thiserror::Error;
use time::OffsetDateTime;

use crate::crypto::PublicKey;
use crate::encoding::{b64, parse_time};

/// Bound on a keys document: the real ones are under 2 KB.
const MAX_KEYS_BYTES: usize = 1 << 20;

#[derive(Debug, Error)]
pub enum KeysError {
    #[error("registry keys document is {0} bytes, more than the {MAX_KEYS_BYTES} allowed")]
    TooLarge(usize),
    #[error("registry keys document is not JSON of a known shape: {0}")]
    Json(#[from] serde_json::Error),
    #[error("registry key `{keyid}`: {problem}")]
    BadKey { keyid: String, problem: String },
}

/// What a key may sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyUsage {
    /// `dist.signatures` over `name@version:integrity`.
    Signatures,
    /// The npm publish attestation (a DSSE envelope in a Sigstore bundle).
    Attestations,
}

/// One registry key with its validity window.
#[derive(Debug, Clone)]
pub struct RegistryKey {
    pub keyid: String,
    /// `None` when the source does not say (the `/-/npm/v1/keys` form): good for both uses.
    pub usage: Option<KeyUsage>,
    pub valid_from: Option<OffsetDateTime>,
    /// Exclusive end; `None` for the current key.
    pub expires: Option<OffsetDateTime>,
    /// The DER SubjectPublicKeyInfo, as published.
    pub spki_der: Vec<u8>,
    pub(crate) key: PublicKey,
}

impl RegistryKey {
    /// Whether the key was valid at `when` (a publish time or a Rekor integratedTime).
    pub fn valid_at(&self, when: OffsetDateTime) -> bool {
        self.valid_from.is_none_or(|start| when >= start) && self.expires.is_none_or(|end| when < end)
    }
}

/// The set of registry keys (cheap to clone; parse once, verify many).
#[derive(Debug, Clone, Default)]
pub struct RegistryKeys {
    keys: Vec<RegistryKey>,
}

#[derive(Deserialize)]
struct KeysDocument {
    keys: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
struct NpmKey {
    keyid: String,
    #[serde(default)]
    expires: Option<String>,
    #[serde(default)]
    keytype: Option<String>,
    key: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TufKey {
    key_id: String,
    #[serde(default)]
    key_usage: Option<String>,
    public_key: TufPublicKey,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TufPublicKey {
    raw_bytes: String,
    #[serde(default)]
    key_details: Option<String>,
    #[serde(default)]
    valid_for: Option<ValidFor>,
}

#[derive(Deserialize, Default)]
pub(crate) struct ValidFor {
    #[serde(default)]
    pub(crate) start: Option<String>,
    #[serde(default)]
    pub(crate) end: Option<String>,
}

impl RegistryKeys {
    /// Parse either form (see the module documentation); each entry is recognised by its
    /// field names, so a document may even mix them.
    pub fn from_json(bytes: &[u8]) -> Result<Self, KeysError> {
        if bytes.len() > MAX_KEYS_BYTES {
            return Err(KeysError::TooLarge(bytes.len()));
        }
        let document: KeysDocument = serde_json::from_slice(bytes)?;
        let mut keys = Vec::with_capacity(document.keys.len());
        for entry in document.keys {
            keys.push(parse_entry(entry)?);
        }
        Ok(Self { keys })
    }

    /// The npm registry's public signing keys as Sigstore's TUF repository publishes them
    /// (target `registry.npmjs.org/keys.json`), shipped in the binary so signatures can be
    /// checked offline and behind mirrors that do not serve `/-/npm/v1/keys`. Updating them
    /// means updating `data/npm-keys.tuf.json`; `--keys FILE` overrides them at run time.
    pub fn npm_public() -> Result<Self, KeysError> {
        Self::from_json(include_bytes!("../data/npm-keys.tuf.json"))
    }

    /// Entries in the TUF form given as a JSON array (e.g. a test's key override).
    pub fn from_entries(entries: Vec<serde_json::Value>) -> Result<Self, KeysError> {
        let keys = entries.into_iter().map(parse_entry).collect::<Result<_, _>>()?;
        Ok(Self { keys })
    }

    pub fn keys(&self) -> &[RegistryKey] {
        &self.keys
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The key with this id usable for `usage` (an entry without usage serves both).
    pub fn find(&self, keyid: &str, usage: KeyUsage) -> Option<&RegistryKey> {
        self.keys
            .iter()
            .find(|key| key.keyid == keyid && key.usage.is_none_or(|u| u == usage))
    }
}

fn parse_entry(entry: serde_json::Value) -> Result<RegistryKey, KeysError> {
    if entry.get("keyId").is_some() {
        let tuf: TufKey = serde_json::from_value(entry)?;
        let usage = match tuf.key_usage.as_deref() {
            Some("npm:signatures") => Some(KeyUsage::Signatures),
            Some("npm:attestations") => Some(KeyUsage::Attestations),
            None => None,
            Some(other) => {
                return Err(KeysError::BadKey {
                    keyid: tuf.key_id,
                    problem: format!("unknown keyUsage `{other}`"),
                })
            }
        };
        if let Some(details) = tuf.public_key.key_details.as_deref() {
            if details != "PKIX_ECDSA_P256_SHA_256" {
                return Err(KeysError::BadKey {
                    keyid: tuf.key_id,
                    problem: format!("unsupported keyDetails `{details}`"),
                });
            }
        }
        let valid_for = tuf.public_key.valid_for.unwrap_or_default();
        build_key(
            tuf.key_id,
            usage,
            valid_for.start.as_deref(),
            valid_for.end.as_deref(),
            &tuf.public_key.raw_bytes,
        )
    } else {
        let npm: NpmKey = serde_json::from_value(entry)?;
        if let Some(keytype) = npm.keytype.as_deref() {
            if keytype != "ecdsa-sha2-nistp256" {
                return Err(KeysError::BadKey {
                    keyid: npm.keyid,
                    problem: format!("unsupported keytype `{keytype}`"),
                });
            }
        }
        build_key(npm.keyid, None, None, npm.expires.as_deref(), &npm.key)
    }
}

fn build_key(
    keyid: String,
    usage: Option<KeyUsage>,
    start: Option<&str>,
    end: Option<&str>,
    key_b64: &str,
) -> Result<RegistryKey, KeysError> {
    let bad = |problem: &str| KeysError::BadKey {
        keyid: keyid.clone(),
        problem: problem.to_owned(),
    };
    let valid_from = match start {
        Some(text) => Some(parse_time(text).ok_or_else(|| bad("start is not an RFC 3339 time"))?),
        None => None,
    };
    let expires = match end {
        Some(text) => Some(parse_time(text).ok_or_else(|| bad("expiry is not an RFC 3339 time"))?),
        None => None,
    };
    let spki_der = b64(key_b64).ok_or_else(|| bad("key is not base64"))?;
    let key = match PublicKey::from_spki_der(&spki_der) {
        Some(key @ PublicKey::P256(_)) => key,
        _ => return Err(bad("key is not a P-256 SubjectPublicKeyInfo")),
    };
    Ok(RegistryKey {
        keyid,
        usage,
        valid_from,
        expires,
        spki_der,
        key,
    })
}

#[cfg(test)]
mod tests {
    use super::RegistryKeys;

    #[test]
    fn the_shipped_npm_keys_parse_and_include_both_signing_keys() {
        let keys = RegistryKeys::npm_public().expect("shipped keys parse");
        let ids: Vec<&str> = keys.keys().iter().map(|key| key.keyid.as_str()).collect();
        assert!(ids.iter().any(|id| id.starts_with("SHA256:jl3b")), "{ids:?}");
        assert!(ids.iter().any(|id| id.starts_with("SHA256:DhQ8")), "{ids:?}");
    }
}
