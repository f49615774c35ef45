//! Sigstore provenance for npm packages.
//!
//! The registry serves `{attestations:[{predicateType, bundle}]}` for a version: a SLSA
//! provenance bundle signed by a short-lived Fulcio certificate issued to the CI workflow, and
//! the npm publish attestation signed by a registry key. For each bundle we check, without the
//! `sigstore` crate (it expects sha256 subjects and does not check Rekor proofs):
//!
//! 1. the signer: the leaf certificate chains to a Fulcio CA of the trusted root and was valid
//!    at the signing time (the tlog `integratedTime`), or the registry key named by the bundle
//!    was valid then;
//! 2. the DSSE signature over PAE(payloadType, payload) (DSSE `protocol.md`);
//! 3. the transparency log: a log of the trusted root, its signed entry timestamp, the
//!    RFC 6962 inclusion proof and checkpoint when present, and an entry body that names this
//!    payload, signature and signer;
//! 4. the in-toto statement: subject `pkg:npm/NAME@VERSION` with the tarball's sha512
//!    (what npm's own `npm audit signatures` checks, pacote `lib/registry.js`);
//! 5. for SLSA predicates, a summary (repository, commit, workflow, builder) and whether the
//!    certificate's Fulcio identity extensions agree with it.
//!
//! Every check runs even after one fails, so a report lists all that broke.

pub(crate) mod bundle;
pub(crate) mod certificate;
pub(crate) mod rekor;
pub(crate) mod statement;

use serde::Serialize;
use time::OffsetDateTime;

use crate::crypto::{sha256, PublicKey, SigCheck};
use crate::encoding::{b64, hex};
use crate::integrity::Integrity;
use crate::keys::{KeyUsage, RegistryKeys};
use crate::trusted_root::TrustedRoot;
use bundle::{AttestationsResponse, Bundle, TlogEntry};
pub use certificate::CertificateIdentity;
use certificate::ParsedCertificate;
pub use statement::{npm_purl, ProvenanceSummary, NPM_PUBLISH_V01, SLSA_V02, SLSA_V1};

/// Bound on an attestations response (real ones are 10–30 KB).
pub const MAX_RESPONSE_BYTES: usize = 4 << 20;
/// Bound on bundles per response, audit-path length and signatures per envelope.
const MAX_BUNDLES: usize = 16;
const MAX_PROOF_HASHES: usize = 64;
const MAX_SIGNATURES: usize = 8;

/// What verification is checked against.
#[derive(Debug, Clone, Copy)]
pub struct VerifyContext<'a> {
    pub trusted_root: &'a TrustedRoot,
    /// Registry keys; the publish attestation uses the `npm:attestations` ones.
    pub registry_keys: &'a RegistryKeys,
}

/// Why a bundle failed. Serialised snake_case; stable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "check", rename_all = "snake_case")]
pub enum ProvenanceFailure {
    /// The response or bundle is not what the Sigstore bundle spec describes.
    Malformed { detail: String },
    /// The leaf certificate was not issued by a Fulcio CA of the trusted root.
    CertificateChain,
    /// The certificate (or its CA) was not valid at the tlog integratedTime.
    CertificateNotValidAtSigningTime,
    /// The bundle names a registry key we do not have.
    UnknownRegistryKey { keyid: String },
    /// The registry key was not valid at the tlog integratedTime (npm: EEXPIREDSIGNATUREKEY).
    RegistryKeyNotValidAtSigningTime { keyid: String },
    /// The DSSE envelope signature does not verify with the signer's key.
    DsseSignature,
    /// The tlog entry's log is not in the trusted root (or not valid at integratedTime).
    UnknownTlog { log_id: String },
    /// Neither a signed entry timestamp nor an inclusion proof.
    MissingTlogProof,
    /// The Rekor signed entry timestamp (inclusionPromise) does not verify.
    TlogPromise,
    /// The RFC 6962 audit path does not lead to the proof's root hash.
    InclusionProof,
    /// The checkpoint does not match the proof, or its signature does not verify.
    Checkpoint { detail: String },
    /// The entry body is not of the kind the bundle declares, or not one we read.
    TlogBodyKind { detail: String },
    /// The entry's payload hash is not the SHA-256 of this payload.
    TlogBodyPayloadHash,
    /// The entry's signature is not the envelope's.
    TlogBodySignature,
    /// The entry's verifier is not this bundle's signer.
    TlogBodyVerifier,
    /// The statement's predicateType differs from the one the registry listed.
    PredicateType { expected: String, found: String },
    /// The subject name is not `pkg:npm/NAME@VERSION` (npm: EATTESTATIONSUBJECT).
    SubjectName { expected: String, found: String },
    /// The subject sha512 is not the tarball's (npm: EATTESTATIONSUBJECT).
    SubjectDigest,
}

impl ProvenanceFailure {
    /// A short stable class name (kebab-case) for messages.
    pub fn class(&self) -> &'static str {
        match self {
            ProvenanceFailure::Malformed { .. } => "malformed",
            ProvenanceFailure::CertificateChain => "certificate-chain",
            ProvenanceFailure::CertificateNotValidAtSigningTime => "certificate-validity",
            ProvenanceFailure::UnknownRegistryKey { .. } => "unknown-registry-key",
            ProvenanceFailure::RegistryKeyNotValidAtSigningTime { .. } => "registry-key-validity",
            ProvenanceFailure::DsseSignature => "dsse-signature",
            ProvenanceFailure::UnknownTlog { .. } => "unknown-tlog",
            ProvenanceFailure::MissingTlogProof => "missing-tlog-proof",
            ProvenanceFailure::TlogPromise => "tlog-promise",
            ProvenanceFailure::InclusionProof => "inclusion-proof",
            ProvenanceFailure::Checkpoint { .. } => "checkpoint",
            ProvenanceFailure::TlogBodyKind { .. } => "tlog-body-kind",
            ProvenanceFailure::TlogBodyPayloadHash => "tlog-body-payload-hash",
            ProvenanceFailure::TlogBodySignature => "tlog-body-signature",
            ProvenanceFailure::TlogBodyVerifier => "tlog-body-verifier",
            ProvenanceFailure::PredicateType { .. } => "predicate-type",
            ProvenanceFailure::SubjectName { .. } => "subject-name",
            ProvenanceFailure::SubjectDigest => "subject-digest",
        }
    }
}

/// Who signed a bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Signer {
    Certificate { identity: CertificateIdentity },
    RegistryKey { keyid: String },
    Unknown,
}

/// Where the certificate identity and the SLSA predicate disagree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IdentityMismatch {
    pub field: &'static str,
    pub certificate: String,
    pub predicate: String,
}

/// The verdict on one bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BundleReport {
    pub predicate_type: String,
    pub media_type: String,
    pub signer: Signer,
    pub integrated_time: Option<i64>,
    pub log_index: Option<i64>,
    pub failures: Vec<ProvenanceFailure>,
    /// SLSA provenance summary (None for the publish attestation).
    pub provenance: Option<ProvenanceSummary>,
    /// Not failures: reported so a reviewer can judge (see `provenance-identity-mismatch`).
    pub identity_mismatches: Vec<IdentityMismatch>,
}

impl BundleReport {
    pub fn is_verified(&self) -> bool {
        self.failures.is_empty()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AttestationStatus {
    Verified,
    Invalid,
    Missing,
}

/// The verdict on a version's attestations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttestationsOutcome {
    pub status: AttestationStatus,
    pub bundles: Vec<BundleReport>,
    /// A failure of the response as a whole (unparseable, too large).
    pub response_failure: Option<ProvenanceFailure>,
}

impl AttestationsOutcome {
    pub fn missing() -> Self {
        Self {
            status: AttestationStatus::Missing,
            bundles: Vec::new(),
            response_failure: None,
        }
    }

    /// The SLSA provenance of a verified response.
    pub fn provenance(&self) -> Option<&ProvenanceSummary> {
        if self.status != AttestationStatus::Verified {
            return None;
        }
        self.bundles.iter().find_map(|bundle| bundle.provenance.as_ref())
    }

    /// Every failure, with the predicate type of the bundle it belongs to.
    pub fn failures(&self) -> impl Iterator<Item = (&str, &ProvenanceFailure)> {
        self.response_failure
            .iter()
            .map(|failure| ("", failure))
            .chain(self.bundles.iter().flat_map(|bundle| {
                bundle
                    .failures
                    .iter()
                    .map(move |failure| (bundle.predicate_type.as_str(), failure))
            }))
    }
}

/// Verify a `/-/npm/v1/attestations/NAME@VERSION` response body for `name@version` whose
/// `dist.integrity` is `integrity`.
pub fn verify_attestations(
    response: &[u8],
    name: &str,
    version: &str,
    integrity: &str,
    context: VerifyContext<'_>,
) -> AttestationsOutcome {
    let invalid = |failure| AttestationsOutcome {
        status: AttestationStatus::Invalid,
        bundles: Vec::new(),
        response_failure: Some(failure),
    };
    if response.len() > MAX_RESPONSE_BYTES {
        return invalid(ProvenanceFailure::Malformed {
            detail: format!("response is {} bytes", response.len()),
        });
    }
    let parsed: AttestationsResponse = match serde_json::from_slice(response) {
        Ok(parsed) => parsed,
        Err(error) => {
            return invalid(ProvenanceFailure::Malformed {
                detail: format!("attestations response: {error}"),
            })
        }
    };
    if parsed.attestations.is_empty() {
        return AttestationsOutcome::missing();
    }
    if parsed.attestations.len() > MAX_BUNDLES {
        return invalid(ProvenanceFailure::Malformed {
            detail: format!("{} attestations", parsed.attestations.len()),
        });
    }
    let expected = Expected::new(name, version, integrity);
    let bundles: Vec<BundleReport> = parsed
        .attestations
        .iter()
        .map(|attestation| verify_bundle(&attestation.predicate_type, &attestation.bundle, &expected, context))
        .collect();
    let status = if bundles.iter().all(BundleReport::is_verified) {
        AttestationStatus::Verified
    } else {
        AttestationStatus::Invalid
    };
    AttestationsOutcome {
        status,
        bundles,
        response_failure: None,
    }
}

struct Expected {
    purl: String,
    sha512: Option<Vec<u8>>,
}

impl Expected {
    fn new(name: &str, version: &str, integrity: &str) -> Self {
        Self {
            purl: npm_purl(name, version),
            sha512: Integrity::parse(integrity)
                .ok()
                .and_then(|integrity| integrity.sha512().map(<[u8]>::to_vec)),
        }
    }
}

/// DSSE pre-authentication encoding (DSSE `protocol.md`):
/// `"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`, LEN in ASCII decimal bytes.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + payload_type.len() + 32);
    out.extend_from_slice(b"DSSEv1 ");
    out.extend_from_slice(payload_type.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload_type.as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload);
    out
}

/// The resolved signer of a bundle.
struct SignerKey {
    key: PublicKey,
    /// DER the Rekor body's verifier must equal (the certificate, or the registry SPKI).
    verifier_der: Vec<Vec<u8>>,
}

fn verify_bundle(
    predicate_type: &str,
    bundle: &Bundle,
    expected: &Expected,
    context: VerifyContext<'_>,
) -> BundleReport {
    let mut report = BundleReport {
        predicate_type: predicate_type.to_owned(),
        media_type: bundle.media_type.clone(),
        signer: Signer::Unknown,
        integrated_time: None,
        log_index: None,
        failures: Vec::new(),
        provenance: None,
        identity_mismatches: Vec::new(),
    };
    let failures = &mut report.failures;
    let malformed = |detail: &str| ProvenanceFailure::Malformed {
        detail: detail.to_owned(),
    };

    // Bundle media types 0.1, 0.2 (`…bundle+json;version=0.x`) and 0.3 (`…bundle.v0.3+json`).
    if !bundle.media_type.starts_with("application/vnd.dev.sigstore.bundle") {
        failures.push(malformed("not a Sigstore bundle media type"));
        return report;
    }
    let Some(envelope) = bundle.dsse_envelope.as_ref() else {
        failures.push(malformed("bundle has no DSSE envelope"));
        return report;
    };
    if envelope.signatures.len() != 1 {
        // npm bundles carry exactly one signature; several would need a threshold policy.
        failures.push(malformed("DSSE envelope must carry exactly one signature"));
        return report;
    }
    let Some(payload) = b64(&envelope.payload) else {
        failures.push(malformed("DSSE payload is not base64"));
        return report;
    };
    let envelope_signature = &envelope.signatures[0];
    let Some(signature) = b64(&envelope_signature.sig) else {
        failures.push(malformed("DSSE signature is not base64"));
        return report;
    };
    // Exactly one tlog entry: Sigstore clients verify the first; more would be ambiguous.
    let Some(entry) = bundle.verification_material.tlog_entries.first() else {
        failures.push(ProvenanceFailure::MissingTlogProof);
        return report;
    };
    report.integrated_time = Some(entry.integrated_time);
    report.log_index = Some(entry.log_index);
    let Ok(signing_time) = OffsetDateTime::from_unix_timestamp(entry.integrated_time) else {
        failures.push(malformed("integratedTime out of range"));
        return report;
    };

    // 1. The signer.
    let mut leaf = None;
    let signer = if let Some(raw) = leaf_certificate_b64(bundle) {
        let Some(cert) = b64(raw).and_then(|der| ParsedCertificate::from_der(&der)) else {
            failures.push(malformed("leaf certificate is not DER X.509"));
            return report;
        };
        check_certificate(&cert, signing_time, context.trusted_root, failures);
        report.signer = Signer::Certificate {
            identity: cert.identity(),
        };
        let signer = cert.key.clone().map(|key| SignerKey {
            key,
            verifier_der: vec![cert.der.clone()],
        });
        leaf = Some(cert);
        signer
    } else if let Some(hint) = bundle
        .verification_material
        .public_key
        .as_ref()
        .map(|key| key.hint.clone().unwrap_or_default())
    {
        let keyid = if hint.is_empty() {
            envelope_signature.keyid.clone().unwrap_or_default()
        } else {
            hint
        };
        report.signer = Signer::RegistryKey { keyid: keyid.clone() };
        match context.registry_keys.find(&keyid, KeyUsage::Attestations) {
            None => {
                failures.push(ProvenanceFailure::UnknownRegistryKey { keyid });
                None
            }
            Some(key) => {
                if !key.valid_at(signing_time) {
                    failures.push(ProvenanceFailure::RegistryKeyNotValidAtSigningTime { keyid });
                }
                Some(SignerKey {
                    key: key.key.clone(),
                    verifier_der: vec![key.spki_der.clone()],
                })
            }
        }
    } else {
        failures.push(malformed("bundle has neither a certificate nor a public key"));
        None
    };
    // A Rekor body may name the certificate or just its key (dsse entries accept either).
    let signer = signer.map(|mut signer| {
        if let Some(spki) = leaf.as_ref().and_then(ParsedCertificate::spki_der) {
            signer.verifier_der.push(spki);
        }
        signer
    });

    // 2. The DSSE signature.
    if let Some(signer) = signer.as_ref() {
        let message = pae(&envelope.payload_type, &payload);
        if signer.key.verify(&message, &signature) != SigCheck::Valid {
            failures.push(ProvenanceFailure::DsseSignature);
        }
    }

    // 3. The transparency log.
    check_tlog(entry, context.trusted_root, signing_time, failures);
    check_tlog_body(entry, &payload, &signature, signer.as_ref(), failures);

    // 4. The statement.
    if envelope.payload_type != statement::IN_TOTO_PAYLOAD_TYPE {
        failures.push(malformed("DSSE payloadType is not application/vnd.in-toto+json"));
        return report;
    }
    let statement: statement::Statement = match serde_json::from_slice(&payload) {
        Ok(statement) => statement,
        Err(_) => {
            failures.push(malformed("DSSE payload is not an in-toto statement"));
            return report;
        }
    };
    if !statement::is_statement_type(&statement.statement_type) {
        failures.push(malformed("unknown in-toto statement _type"));
    }
    if statement.predicate_type != predicate_type {
        failures.push(ProvenanceFailure::PredicateType {
            expected: predicate_type.to_owned(),
            found: statement.predicate_type.clone(),
        });
    }
    // pacote (`lib/registry.js`) checks the first subject; npm statements have exactly one.
    match statement.subject.first() {
        None => {
            failures.push(ProvenanceFailure::SubjectName {
                expected: expected.purl.clone(),
                found: String::new(),
            });
            failures.push(ProvenanceFailure::SubjectDigest);
        }
        Some(subject) => {
            if subject.name != expected.purl {
                failures.push(ProvenanceFailure::SubjectName {
                    expected: expected.purl.clone(),
                    found: subject.name.clone(),
                });
            }
            let digest_ok = match (expected.sha512.as_deref(), subject.digest.get("sha512")) {
                (Some(want), Some(have)) => hex(want).eq_ignore_ascii_case(have),
                _ => false,
            };
            if !digest_ok {
                failures.push(ProvenanceFailure::SubjectDigest);
            }
        }
    }

    // 5. SLSA summary and identity agreement.
    report.provenance = statement::summarize(&statement.predicate_type, &statement.predicate);
    if let (Some(summary), Signer::Certificate { identity }) = (&report.provenance, &report.signer) {
        report.identity_mismatches = identity_mismatches(identity, summary);
    }
    report
}

fn leaf_certificate_b64(bundle: &Bundle) -> Option<&str> {
    let material = &bundle.verification_material;
    if let Some(cert) = material.certificate.as_ref() {
        return Some(&cert.raw_bytes);
    }
    material
        .x509_certificate_chain
        .as_ref()
        .and_then(|chain| chain.certificates.first())
        .map(|cert| cert.raw_bytes.as_str())
}

/// The leaf must be issued by the first certificate of a trusted Fulcio CA chain (the bundle's
/// own intermediates are ignored: only the trusted root is trusted), and the leaf, the CA's
/// chain and the CA's validFor window must all cover the signing time.
fn check_certificate(
    leaf: &ParsedCertificate,
    signing_time: OffsetDateTime,
    root: &TrustedRoot,
    failures: &mut Vec<ProvenanceFailure>,
) {
    let issuer = root
        .authorities
        .iter()
        .find(|authority| authority.chain.first().is_some_and(|issuer| leaf.is_signed_by(issuer)));
    match issuer {
        None => failures.push(ProvenanceFailure::CertificateChain),
        Some(authority) => {
            let chain_valid = authority.chain.iter().all(|cert| cert.valid_at(signing_time));
            if !leaf.valid_at(signing_time) || !authority.valid_at(signing_time) || !chain_valid {
                failures.push(ProvenanceFailure::CertificateNotValidAtSigningTime);
            }
        }
    }
}

fn check_tlog(
    entry: &TlogEntry,
    root: &TrustedRoot,
    signing_time: OffsetDateTime,
    failures: &mut Vec<ProvenanceFailure>,
) {
    let Some(log_id) = b64(&entry.log_id.key_id) else {
        failures.push(ProvenanceFailure::Malformed {
            detail: "logId is not base64".to_owned(),
        });
        return;
    };
    let Some(body) = b64(&entry.canonicalized_body) else {
        failures.push(ProvenanceFailure::Malformed {
            detail: "canonicalizedBody is not base64".to_owned(),
        });
        return;
    };
    let log = root.tlog(&log_id).filter(|log| log.valid_at(signing_time));
    if log.is_none() {
        failures.push(ProvenanceFailure::UnknownTlog {
            log_id: entry.log_id.key_id.clone(),
        });
    }
    if entry.inclusion_promise.is_none() && entry.inclusion_proof.is_none() {
        failures.push(ProvenanceFailure::MissingTlogProof);
    }

    // Signed entry timestamp: the log's promise to include the entry (Rekor v1).
    if let (Some(promise), Some(log)) = (entry.inclusion_promise.as_ref(), log) {
        let message = rekor::set_message(
            &entry.canonicalized_body,
            entry.integrated_time,
            &log_id,
            entry.log_index,
        );
        let verified =
            b64(&promise.signed_entry_timestamp).is_some_and(|sig| log.key.verify(&message, &sig) == SigCheck::Valid);
        if !verified {
            failures.push(ProvenanceFailure::TlogPromise);
        }
    }

    // Inclusion proof (RFC 6962 §2.1.1) and its checkpoint. The root computation needs no
    // key, so it is checked even when the log is unknown.
    let Some(proof) = entry.inclusion_proof.as_ref() else {
        return;
    };
    let hashes: Option<Vec<[u8; 32]>> = (proof.hashes.len() <= MAX_PROOF_HASHES)
        .then(|| {
            proof
                .hashes
                .iter()
                .map(|hash| b64(hash).and_then(|bytes| <[u8; 32]>::try_from(bytes).ok()))
                .collect()
        })
        .flatten();
    let root_hash = b64(&proof.root_hash);
    let computed = match (hashes, u64::try_from(proof.log_index), u64::try_from(proof.tree_size)) {
        (Some(hashes), Ok(index), Ok(size)) => {
            rekor::root_from_inclusion_proof(index, size, rekor::leaf_hash(&body), &hashes)
        }
        _ => None,
    };
    if computed.is_none() || computed.map(|root| root.to_vec()) != root_hash {
        failures.push(ProvenanceFailure::InclusionProof);
    }
    let Some(checkpoint) = proof.checkpoint.as_ref() else {
        return;
    };
    let checkpoint_failure = |detail: &str| ProvenanceFailure::Checkpoint {
        detail: detail.to_owned(),
    };
    let Some(note) = rekor::parse_signed_note(&checkpoint.envelope) else {
        failures.push(checkpoint_failure("not a signed note"));
        return;
    };
    if u64::try_from(proof.tree_size).ok() != Some(note.tree_size) || Some(&note.root_hash) != root_hash.as_ref() {
        failures.push(checkpoint_failure("tree size or root hash differs from the proof"));
    }
    if let Some(log) = log {
        if !note.origin.starts_with(log.host()) {
            failures.push(checkpoint_failure("origin is not the log's"));
        } else if !rekor::note_signature_verifies(&note, &log.key, log.host(), &log_id) {
            failures.push(checkpoint_failure("no valid signature by the log"));
        }
    }
}

fn check_tlog_body(
    entry: &TlogEntry,
    payload: &[u8],
    signature: &[u8],
    signer: Option<&SignerKey>,
    failures: &mut Vec<ProvenanceFailure>,
) {
    let Some(body) = b64(&entry.canonicalized_body) else {
        return; // reported by check_tlog
    };
    let claims = match rekor::body_claims(&body, &entry.kind_version.kind, &entry.kind_version.version) {
        Ok(claims) => claims,
        Err(rekor::BodyError::Kind(detail)) => {
            failures.push(ProvenanceFailure::TlogBodyKind { detail });
            return;
        }
    };
    if claims.payload_sha256_hex.as_deref() != Some(hex(&sha256(payload)).as_str()) {
        failures.push(ProvenanceFailure::TlogBodyPayloadHash);
    }
    if claims.signatures.len() > MAX_SIGNATURES || claims.signatures.len() != 1 || claims.signatures[0] != signature {
        failures.push(ProvenanceFailure::TlogBodySignature);
    }
    let verifier_ok = match (signer, claims.verifiers.first()) {
        (Some(signer), Some(verifier)) => signer.verifier_der.iter().any(|der| der == verifier),
        _ => false,
    };
    if !verifier_ok {
        failures.push(ProvenanceFailure::TlogBodyVerifier);
    }
}

fn identity_mismatches(identity: &CertificateIdentity, summary: &ProvenanceSummary) -> Vec<IdentityMismatch> {
    let mut mismatches = Vec::new();
    let mut compare = |field: &'static str,
                       certificate: Option<&String>,
                       predicate: Option<&String>,
                       normalize: fn(&str) -> String| {
        if let (Some(certificate), Some(predicate)) = (certificate, predicate) {
            if normalize(certificate) != normalize(predicate) {
                mismatches.push(IdentityMismatch {
                    field,
                    certificate: certificate.clone(),
                    predicate: predicate.clone(),
                });
            }
        }
    };
    compare(
        "source_repository",
        identity.source_repository_uri.as_ref(),
        summary.source_repository.as_ref(),
        statement::normalize_repository,
    );
    compare(
        "commit",
        identity.source_repository_digest.as_ref(),
        summary.commit.as_ref(),
        str::to_ascii_lowercase,
    );
    compare(
        "source_ref",
        identity.source_repository_ref.as_ref(),
        summary.source_ref.as_ref(),
        str::to_owned,
    );
    mismatches
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pae_follows_dsse_spec_example() {
        // DSSE protocol.md: PAE("http://example.com/HelloWorld", "hello world").
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
    }

    #[test]
    fn identity_mismatches_are_reported_per_field() {
        let identity = CertificateIdentity {
            source_repository_uri: Some("https://github.com/owner/repo".to_owned()),
            source_repository_digest: Some("AAAA".to_owned()),
            source_repository_ref: Some("refs/tags/v1".to_owned()),
            ..CertificateIdentity::default()
        };
        let agreeing = ProvenanceSummary {
            source_repository: Some("git+https://github.com/Owner/repo.git".to_owned()),
            commit: Some("aaaa".to_owned()),
            source_ref: Some("refs/tags/v1".to_owned()),
            ..ProvenanceSummary::default()
        };
        assert!(identity_mismatches(&identity, &agreeing).is_empty());
        let lying = ProvenanceSummary {
            source_repository: Some("https://github.com/attacker/repo".to_owned()),
            commit: Some("bbbb".to_owned()),
            ..agreeing
        };
        let fields: Vec<&str> = identity_mismatches(&identity, &lying)
            .iter()
            .map(|mismatch| mismatch.field)
            .collect();
        assert_eq!(fields, ["source_repository", "commit"]);
    }

    #[test]
    fn failure_serialisation_is_stable() {
        let value = serde_json::to_value(ProvenanceFailure::SubjectName {
            expected: "pkg:npm/a@1.0.0".to_owned(),
            found: "pkg:npm/a@1.0.1".to_owned(),
        })
        .expect("serialises");
        assert_eq!(
            value,
            serde_json::json!({"check": "subject_name", "expected": "pkg:npm/a@1.0.0", "found": "pkg:npm/a@1.0.1"})
        );
    }
}
