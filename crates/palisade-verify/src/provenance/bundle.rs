//! The Sigstore bundle, as JSON (sigstore/protobuf-specs `sigstore_bundle.proto`, media types
//! `application/vnd.dev.sigstore.bundle+json;version=0.1|0.2` and
//! `application/vnd.dev.sigstore.bundle.v0.3+json`), and the npm attestations response that
//! wraps bundles: `{attestations:[{predicateType, bundle}]}` (npm registry API,
//! `GET /-/npm/v1/attestations/NAME@VERSION`).
//!
//! Only the fields verification reads are modelled. Protobuf JSON writes int64 as a string;
//! both strings and numbers are accepted.

use serde::{Deserialize, Deserializer};

#[derive(Debug, Deserialize)]
pub(crate) struct AttestationsResponse {
    #[serde(default)]
    pub(crate) attestations: Vec<Attestation>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Attestation {
    pub(crate) predicate_type: String,
    pub(crate) bundle: Bundle,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Bundle {
    pub(crate) media_type: String,
    pub(crate) verification_material: VerificationMaterial,
    #[serde(default)]
    pub(crate) dsse_envelope: Option<Envelope>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct VerificationMaterial {
    /// Bundle v0.1/v0.2: leaf first, then (untrusted) intermediates.
    #[serde(default)]
    pub(crate) x509_certificate_chain: Option<CertificateChain>,
    /// Bundle v0.3: the leaf only.
    #[serde(default)]
    pub(crate) certificate: Option<RawBytes>,
    /// npm publish attestation: the registry key id.
    #[serde(default)]
    pub(crate) public_key: Option<PublicKeyIdentifier>,
    #[serde(default)]
    pub(crate) tlog_entries: Vec<TlogEntry>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct CertificateChain {
    #[serde(default)]
    pub(crate) certificates: Vec<RawBytes>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RawBytes {
    pub(crate) raw_bytes: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct PublicKeyIdentifier {
    #[serde(default)]
    pub(crate) hint: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TlogEntry {
    #[serde(deserialize_with = "int64")]
    pub(crate) log_index: i64,
    pub(crate) log_id: LogId,
    pub(crate) kind_version: KindVersion,
    #[serde(deserialize_with = "int64")]
    pub(crate) integrated_time: i64,
    #[serde(default)]
    pub(crate) inclusion_promise: Option<InclusionPromise>,
    #[serde(default)]
    pub(crate) inclusion_proof: Option<InclusionProof>,
    pub(crate) canonicalized_body: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LogId {
    pub(crate) key_id: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct KindVersion {
    pub(crate) kind: String,
    pub(crate) version: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct InclusionPromise {
    pub(crate) signed_entry_timestamp: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct InclusionProof {
    #[serde(deserialize_with = "int64")]
    pub(crate) log_index: i64,
    pub(crate) root_hash: String,
    #[serde(deserialize_with = "int64")]
    pub(crate) tree_size: i64,
    #[serde(default)]
    pub(crate) hashes: Vec<String>,
    #[serde(default)]
    pub(crate) checkpoint: Option<Checkpoint>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Checkpoint {
    pub(crate) envelope: String,
}

/// DSSE envelope (secure-systems-lab/dsse `envelope.md`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Envelope {
    pub(crate) payload: String,
    pub(crate) payload_type: String,
    #[serde(default)]
    pub(crate) signatures: Vec<EnvelopeSignature>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct EnvelopeSignature {
    pub(crate) sig: String,
    #[serde(default)]
    pub(crate) keyid: Option<String>,
}

fn int64<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum StringOrNumber {
        Number(i64),
        String(String),
    }
    match StringOrNumber::deserialize(deserializer)? {
        StringOrNumber::Number(number) => Ok(number),
        StringOrNumber::String(text) => text
            .parse()
            .map_err(|_| serde::de::Error::custom(format!("`{text}` is not an int64"))),
    }
}
