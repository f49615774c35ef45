//! Rekor transparency-log evidence: the signed entry timestamp, the RFC 6962 inclusion proof,
//! the checkpoint (a C2SP signed note), and the entry body compared with the bundle.

use serde::Deserialize;

use crate::crypto::{sha256, PublicKey, SigCheck};
use crate::encoding::{b64, hex, pem_to_der};

/// The message a Rekor v1 signed entry timestamp signs: the canonical JSON (RFC 8785 — keys
/// sorted, no whitespace) of `{body, integratedTime, logID, logIndex}`, with `body` the
/// base64 canonicalized entry and `logID` the hex log id (sigstore/rekor
/// `pkg/generated/models` `LogEntryAnonVerification`, sigstore-go `tlog.VerifySET`).
pub(crate) fn set_message(body_b64: &str, integrated_time: i64, log_id: &[u8], log_index: i64) -> Vec<u8> {
    // serde_json's string escaping is the RFC 8785 one for these ASCII values.
    let body = serde_json::Value::String(body_b64.to_owned());
    format!(
        "{{\"body\":{body},\"integratedTime\":{integrated_time},\"logID\":\"{}\",\"logIndex\":{log_index}}}",
        hex(log_id)
    )
    .into_bytes()
}

/// RFC 6962 §2.1 leaf hash: SHA-256(0x00 || entry).
pub(crate) fn leaf_hash(entry: &[u8]) -> [u8; 32] {
    let mut input = Vec::with_capacity(entry.len() + 1);
    input.push(0);
    input.extend_from_slice(entry);
    sha256(&input)
}

fn node_hash(left: &[u8], right: &[u8]) -> [u8; 32] {
    let mut input = Vec::with_capacity(65);
    input.push(1);
    input.extend_from_slice(left);
    input.extend_from_slice(right);
    sha256(&input)
}

/// Recompute the root from a leaf hash and its audit path, following RFC 9162 §2.1.3.2
/// (the RFC 6962 audit path, stated as an algorithm). `None` when the path cannot belong to a
/// tree of this size.
pub(crate) fn root_from_inclusion_proof(
    leaf_index: u64,
    tree_size: u64,
    leaf: [u8; 32],
    path: &[[u8; 32]],
) -> Option<[u8; 32]> {
    if leaf_index >= tree_size {
        return None;
    }
    let mut fn_ = leaf_index;
    let mut sn = tree_size - 1;
    let mut root = leaf;
    for sibling in path {
        if sn == 0 {
            return None;
        }
        if fn_ & 1 == 1 || fn_ == sn {
            root = node_hash(sibling, &root);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            root = node_hash(&root, sibling);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    (sn == 0).then_some(root)
}

/// A checkpoint (C2SP tlog-checkpoint) inside a signed note (C2SP signed-note).
pub(crate) struct SignedNote<'a> {
    /// The signed text: every line up to and including the newline before the blank line.
    pub(crate) text: &'a str,
    pub(crate) origin: &'a str,
    pub(crate) tree_size: u64,
    pub(crate) root_hash: Vec<u8>,
    /// `(name, key hint, signature)` per signature line.
    pub(crate) signatures: Vec<(&'a str, [u8; 4], Vec<u8>)>,
}

pub(crate) fn parse_signed_note(envelope: &str) -> Option<SignedNote<'_>> {
    let split = envelope.find("\n\n")?;
    let text = &envelope[..=split];
    let mut lines = text.lines();
    let origin = lines.next()?;
    let tree_size = lines.next()?.parse().ok()?;
    let root_hash = b64(lines.next()?)?;
    let mut signatures = Vec::new();
    for line in envelope[split + 2..].lines() {
        // "— <name> <base64(keyhint(4) || signature)>", the dash being U+2014.
        let Some(rest) = line.strip_prefix("\u{2014} ") else {
            continue;
        };
        let Some((name, blob)) = rest.rsplit_once(' ') else {
            continue;
        };
        let Some(blob) = b64(blob) else { continue };
        if blob.len() <= 4 {
            continue;
        }
        let hint = [blob[0], blob[1], blob[2], blob[3]];
        signatures.push((name, hint, blob[4..].to_vec()));
    }
    Some(SignedNote {
        text,
        origin,
        tree_size,
        root_hash,
        signatures,
    })
}

/// The signed-note key hint of a log key: Rekor v1 (ECDSA) uses the first four bytes of its
/// log id (SHA-256 of the DER key); Ed25519 note keys use the first four bytes of
/// SHA-256(name || 0x0A || 0x01 || key) (C2SP signed-note, "Signature types").
pub(crate) fn key_hint(key: &PublicKey, name: &str, log_id: &[u8]) -> Option<[u8; 4]> {
    let hash = match key {
        PublicKey::Ed25519(key) => {
            let mut input = Vec::new();
            input.extend_from_slice(name.as_bytes());
            input.push(b'\n');
            input.push(0x01);
            input.extend_from_slice(key.as_bytes());
            sha256(&input).to_vec()
        }
        _ => log_id.to_vec(),
    };
    Some([*hash.first()?, *hash.get(1)?, *hash.get(2)?, *hash.get(3)?])
}

/// Whether one signature line by the log verifies over the note text.
pub(crate) fn note_signature_verifies(note: &SignedNote<'_>, key: &PublicKey, name: &str, log_id: &[u8]) -> bool {
    let Some(expected_hint) = key_hint(key, name, log_id) else {
        return false;
    };
    note.signatures.iter().any(|(line_name, hint, signature)| {
        *line_name == name && *hint == expected_hint && key.verify(note.text.as_bytes(), signature) == SigCheck::Valid
    })
}

/// What the Rekor entry body says about the envelope, for the kinds npm uses.
pub(crate) struct BodyClaims {
    pub(crate) payload_sha256_hex: Option<String>,
    /// Raw signature bytes, one per envelope signature.
    pub(crate) signatures: Vec<Vec<u8>>,
    /// DER of the verifier per signature (certificate or public key, from PEM).
    pub(crate) verifiers: Vec<Vec<u8>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Body {
    api_version: String,
    kind: String,
    spec: serde_json::Value,
}

pub(crate) enum BodyError {
    /// Not JSON, or not the kind/version the bundle declares.
    Kind(String),
}

/// Read the body of an `intoto` 0.0.2 or `dsse` 0.0.1 entry (sigstore/rekor
/// `pkg/types/intoto/v0.0.2/intoto_v0_0_2_schema.json`, `pkg/types/dsse/v0.0.1/dsse_v0_0_1_schema.json`).
pub(crate) fn body_claims(body: &[u8], kind: &str, version: &str) -> Result<BodyClaims, BodyError> {
    let body: Body =
        serde_json::from_slice(body).map_err(|error| BodyError::Kind(format!("entry body is not JSON: {error}")))?;
    if body.kind != kind || body.api_version != version {
        return Err(BodyError::Kind(format!(
            "entry body is {} {}, the bundle says {kind} {version}",
            body.kind, body.api_version
        )));
    }
    let text = |value: Option<&serde_json::Value>| value.and_then(|v| v.as_str()).map(str::to_owned);
    match (kind, version) {
        ("intoto", "0.0.2") => {
            let content = body.spec.get("content");
            let payload_sha256_hex = content
                .and_then(|c| c.get("payloadHash"))
                .filter(|h| h.get("algorithm").and_then(|a| a.as_str()) == Some("sha256"))
                .and_then(|h| text(h.get("value")));
            let mut claims = BodyClaims {
                payload_sha256_hex,
                signatures: Vec::new(),
                verifiers: Vec::new(),
            };
            let entries = content
                .and_then(|c| c.get("envelope"))
                .and_then(|e| e.get("signatures"))
                .and_then(|s| s.as_array())
                .cloned()
                .unwrap_or_default();
            for entry in entries {
                // intoto 0.0.2 stores the envelope's base64 `sig` string base64-encoded again.
                let signature = text(entry.get("sig"))
                    .and_then(|s| b64(&s))
                    .and_then(|inner| String::from_utf8(inner).ok())
                    .and_then(|inner| b64(&inner))
                    .unwrap_or_default();
                claims.signatures.push(signature);
                claims.verifiers.push(pem_field(text(entry.get("publicKey"))));
            }
            Ok(claims)
        }
        ("dsse", "0.0.1") => {
            let payload_sha256_hex = body
                .spec
                .get("payloadHash")
                .filter(|h| h.get("algorithm").and_then(|a| a.as_str()) == Some("sha256"))
                .and_then(|h| text(h.get("value")));
            let mut claims = BodyClaims {
                payload_sha256_hex,
                signatures: Vec::new(),
                verifiers: Vec::new(),
            };
            let entries = body
                .spec
                .get("signatures")
                .and_then(|s| s.as_array())
                .cloned()
                .unwrap_or_default();
            for entry in entries {
                claims
                    .signatures
                    .push(text(entry.get("signature")).and_then(|s| b64(&s)).unwrap_or_default());
                claims.verifiers.push(pem_field(text(entry.get("verifier"))));
            }
            Ok(claims)
        }
        _ => Err(BodyError::Kind(format!(
            "unsupported Rekor entry kind {kind} {version}"
        ))),
    }
}

/// A body field holding base64(PEM) → DER.
fn pem_field(value: Option<String>) -> Vec<u8> {
    value
        .and_then(|v| b64(&v))
        .and_then(|pem| String::from_utf8(pem).ok())
        .and_then(|pem| pem_to_der(&pem))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Build the RFC 6962 tree over `leaves` (MTH, §2.1) and its audit path (PATH, §2.1.1).
    fn mth(leaves: &[[u8; 32]]) -> [u8; 32] {
        match leaves.len() {
            1 => leaves[0],
            n => {
                let k = n.next_power_of_two() / 2;
                node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
            }
        }
    }

    fn path(index: usize, leaves: &[[u8; 32]]) -> Vec<[u8; 32]> {
        if leaves.len() <= 1 {
            return Vec::new();
        }
        let k = leaves.len().next_power_of_two() / 2;
        if index < k {
            let mut p = path(index, &leaves[..k]);
            p.push(mth(&leaves[k..]));
            p
        } else {
            let mut p = path(index - k, &leaves[k..]);
            p.push(mth(&leaves[..k]));
            p
        }
    }

    #[test]
    fn inclusion_proofs_for_every_leaf_of_small_trees() {
        for size in 1..=17usize {
            let leaves: Vec<[u8; 32]> = (0..size).map(|i| leaf_hash(&[i as u8])).collect();
            let root = mth(&leaves);
            for index in 0..size {
                let proof = path(index, &leaves);
                assert_eq!(
                    root_from_inclusion_proof(index as u64, size as u64, leaves[index], &proof),
                    Some(root),
                    "size {size} index {index}"
                );
                if let Some(first) = proof.first() {
                    let mut bad = proof.clone();
                    bad[0] = leaf_hash(first);
                    assert_ne!(
                        root_from_inclusion_proof(index as u64, size as u64, leaves[index], &bad),
                        Some(root)
                    );
                }
            }
        }
    }

    #[test]
    fn index_outside_tree_fails() {
        assert_eq!(root_from_inclusion_proof(3, 3, [0; 32], &[]), None);
    }
}
