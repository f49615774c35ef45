//! The Sigstore trusted root (`application/vnd.dev.sigstore.trustedroot+json;version=0.1`,
//! sigstore/protobuf-specs `TrustedRoot`): the Fulcio certificate authorities and the Rekor
//! transparency-log keys that provenance is checked against. Palisade ships the public-good
//! root; it can be replaced by a newer one from Sigstore's TUF repository.
//!
//! The CT logs and timestamp authorities are read past: SCTs and RFC 3161 timestamps are not
//! checked (no npm bundle needs a TSA timestamp; see the crate README).

use serde::Deserialize;
use thiserror::Error;
use time::OffsetDateTime;

use crate::crypto::PublicKey;
use crate::encoding::{b64, parse_time};
use crate::keys::ValidFor;
use crate::provenance::certificate::ParsedCertificate;

const MAX_TRUSTED_ROOT_BYTES: usize = 4 << 20;

#[derive(Debug, Error)]
pub enum TrustedRootError {
    #[error("trusted root is {0} bytes, more than the {MAX_TRUSTED_ROOT_BYTES} allowed")]
    TooLarge(usize),
    #[error("trusted root is not JSON of the Sigstore TrustedRoot shape: {0}")]
    Json(#[from] serde_json::Error),
    #[error("trusted root: {0}")]
    Invalid(String),
}

/// A transparency log the trusted root vouches for.
#[derive(Debug, Clone)]
pub(crate) struct TransparencyLog {
    pub(crate) base_url: String,
    /// `logId.keyId`: SHA-256 of the log's DER public key for Rekor v1.
    pub(crate) log_id: Vec<u8>,
    pub(crate) key: PublicKey,
    pub(crate) valid_from: Option<OffsetDateTime>,
    pub(crate) valid_until: Option<OffsetDateTime>,
}

impl TransparencyLog {
    pub(crate) fn valid_at(&self, when: OffsetDateTime) -> bool {
        self.valid_from.is_none_or(|start| when >= start) && self.valid_until.is_none_or(|end| when <= end)
    }

    /// The checkpoint origin's host part (`rekor.sigstore.dev`).
    pub(crate) fn host(&self) -> &str {
        let url = self.base_url.as_str();
        let url = url.split_once("://").map_or(url, |(_, rest)| rest);
        url.split('/').next().unwrap_or(url)
    }
}

/// A Fulcio CA: its chain (issuing certificate first, root last) and validity window.
#[derive(Debug, Clone)]
pub(crate) struct CertificateAuthority {
    pub(crate) chain: Vec<ParsedCertificate>,
    pub(crate) valid_from: Option<OffsetDateTime>,
    pub(crate) valid_until: Option<OffsetDateTime>,
}

impl CertificateAuthority {
    pub(crate) fn valid_at(&self, when: OffsetDateTime) -> bool {
        self.valid_from.is_none_or(|start| when >= start) && self.valid_until.is_none_or(|end| when <= end)
    }
}

/// The parsed trusted root.
#[derive(Debug, Clone)]
pub struct TrustedRoot {
    pub(crate) tlogs: Vec<TransparencyLog>,
    pub(crate) authorities: Vec<CertificateAuthority>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RootDocument {
    #[serde(default)]
    media_type: Option<String>,
    #[serde(default)]
    tlogs: Vec<TlogDocument>,
    #[serde(default)]
    certificate_authorities: Vec<CaDocument>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TlogDocument {
    #[serde(default)]
    base_url: String,
    public_key: KeyDocument,
    log_id: LogIdDocument,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct KeyDocument {
    raw_bytes: String,
    #[serde(default)]
    valid_for: Option<ValidFor>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LogIdDocument {
    key_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CaDocument {
    cert_chain: ChainDocument,
    #[serde(default)]
    valid_for: Option<ValidFor>,
}

#[derive(Deserialize)]
struct ChainDocument {
    certificates: Vec<RawBytes>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawBytes {
    raw_bytes: String,
}

fn window(valid_for: Option<&ValidFor>) -> Result<(Option<OffsetDateTime>, Option<OffsetDateTime>), TrustedRootError> {
    let parse = |text: Option<&String>| match text {
        Some(text) => parse_time(text)
            .map(Some)
            .ok_or_else(|| TrustedRootError::Invalid(format!("`{text}` is not an RFC 3339 time"))),
        None => Ok(None),
    };
    match valid_for {
        Some(valid_for) => Ok((parse(valid_for.start.as_ref())?, parse(valid_for.end.as_ref())?)),
        None => Ok((None, None)),
    }
}

impl TrustedRoot {
    /// The public-good trusted root shipped with Palisade (sigstore/sigstore-js
    /// `packages/tuf/seeds.json`, target `trusted_root.json`, 2026-05).
    pub fn embedded() -> Result<Self, TrustedRootError> {
        Self::from_json(include_bytes!("../data/trusted_root.json"))
    }

    pub fn from_json(bytes: &[u8]) -> Result<Self, TrustedRootError> {
        if bytes.len() > MAX_TRUSTED_ROOT_BYTES {
            return Err(TrustedRootError::TooLarge(bytes.len()));
        }
        let document: RootDocument = serde_json::from_slice(bytes)?;
        if let Some(media_type) = document.media_type.as_deref() {
            if !media_type.starts_with("application/vnd.dev.sigstore.trustedroot") {
                return Err(TrustedRootError::Invalid(format!(
                    "unexpected mediaType `{media_type}`"
                )));
            }
        }
        let mut tlogs = Vec::new();
        for tlog in document.tlogs {
            let der = b64(&tlog.public_key.raw_bytes)
                .ok_or_else(|| TrustedRootError::Invalid("tlog key is not base64".into()))?;
            let Some(key) = PublicKey::from_spki_der(&der) else {
                // A log with a key type we cannot use is skipped, not fatal: entries from it
                // will fail as "unknown log".
                continue;
            };
            let log_id =
                b64(&tlog.log_id.key_id).ok_or_else(|| TrustedRootError::Invalid("tlog logId is not base64".into()))?;
            let (valid_from, valid_until) = window(tlog.public_key.valid_for.as_ref())?;
            tlogs.push(TransparencyLog {
                base_url: tlog.base_url,
                log_id,
                key,
                valid_from,
                valid_until,
            });
        }
        let mut authorities = Vec::new();
        for ca in document.certificate_authorities {
            let mut chain = Vec::new();
            for raw in &ca.cert_chain.certificates {
                let der = b64(&raw.raw_bytes)
                    .ok_or_else(|| TrustedRootError::Invalid("CA certificate is not base64".into()))?;
                let cert = ParsedCertificate::from_der(&der)
                    .ok_or_else(|| TrustedRootError::Invalid("CA certificate is not DER X.509".into()))?;
                chain.push(cert);
            }
            // The shipped chain must hold together: each certificate signed by the next, the
            // last one self-signed.
            for (index, cert) in chain.iter().enumerate() {
                let issuer = chain.get(index + 1).unwrap_or(cert);
                if !cert.is_signed_by(issuer) {
                    return Err(TrustedRootError::Invalid(format!(
                        "CA chain certificate {index} is not signed by its issuer"
                    )));
                }
            }
            if chain.is_empty() {
                continue;
            }
            let (valid_from, valid_until) = window(ca.valid_for.as_ref())?;
            authorities.push(CertificateAuthority {
                chain,
                valid_from,
                valid_until,
            });
        }
        Ok(Self { tlogs, authorities })
    }

    pub(crate) fn tlog(&self, log_id: &[u8]) -> Option<&TransparencyLog> {
        self.tlogs.iter().find(|tlog| tlog.log_id == log_id)
    }
}
