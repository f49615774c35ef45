//! Data-driven: every file of `fixtures/attestations/` (real npm attestations responses and
//! tampered copies, see `fixtures/README.md`) gives the outcome in `manifest.jsonl`, and each
//! negative fails exactly the checks its `failing_checks` names.

use std::collections::BTreeSet;

use palisade_verify::provenance::{Signer, NPM_PUBLISH_V01, SLSA_V02, SLSA_V1};
use palisade_verify::{verify_attestations, AttestationStatus, RegistryKeys, TrustedRoot, VerifyContext};
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    file: String,
    name: String,
    version: String,
    integrity: String,
    expected: String,
    why: String,
    failing_checks: Vec<String>,
    #[serde(default)]
    registry_keys_override: Option<Vec<serde_json::Value>>,
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR")))
        .unwrap_or_else(|error| panic!("reading fixture {name}: {error}"))
}

/// The manifest's `predicate:check` names, in our failure classes.
fn manifest_check(check: &str) -> (String, &'static str) {
    let (predicate, name) = check.split_once(':').expect("predicate:check");
    let predicate = match predicate {
        "v1" => SLSA_V1,
        "v0.2" => SLSA_V02,
        "publish" => NPM_PUBLISH_V01,
        other => panic!("unknown predicate short name {other}"),
    };
    let class = match name {
        "dsse_signature" => "dsse-signature",
        "body_payload_hash" => "tlog-body-payload-hash",
        "body_signature_matches" => "tlog-body-signature",
        "body_verifier_matches_signer" => "tlog-body-verifier",
        "subject_name" => "subject-name",
        "subject_digest_equals_integrity" => "subject-digest",
        "rekor_SET" => "tlog-promise",
        "inclusion_proof_root" => "inclusion-proof",
        "checkpoint_signature" => "checkpoint",
        "integrated_time_within_cert_validity" => "certificate-validity",
        "npm_key_valid_at_integrated_time" => "registry-key-validity",
        "tlog_known" => "unknown-tlog",
        other => panic!("unmapped manifest check {other}"),
    };
    (predicate.to_owned(), class)
}

#[test]
fn every_attestation_fixture_gives_its_manifest_outcome() {
    let root = TrustedRoot::from_json(&fixture("trusted_root.json")).expect("trusted root parses");
    let keys = RegistryKeys::from_json(&fixture("keys.json")).expect("keys parse");
    let manifest = String::from_utf8(fixture("attestations/manifest.jsonl")).expect("UTF-8");
    let (mut valid, mut invalid) = (0, 0);
    for line in manifest.lines() {
        let case: Case = serde_json::from_str(line).expect("manifest line parses");
        let override_keys = case
            .registry_keys_override
            .clone()
            .map(|entries| RegistryKeys::from_entries(entries).expect("override keys parse"));
        let context = VerifyContext {
            trusted_root: &root,
            registry_keys: override_keys.as_ref().unwrap_or(&keys),
        };
        let response = fixture(&format!("attestations/{}", case.file));
        let outcome = verify_attestations(&response, &case.name, &case.version, &case.integrity, context);
        let got: BTreeSet<(String, &str)> = outcome
            .failures()
            .map(|(predicate, failure)| (predicate.to_owned(), failure.class()))
            .collect();
        let want: BTreeSet<(String, &str)> = case.failing_checks.iter().map(|check| manifest_check(check)).collect();
        let context = format!(
            "{} ({}): {:#?}",
            case.file,
            case.why,
            outcome.failures().collect::<Vec<_>>()
        );
        match case.expected.as_str() {
            "valid" => {
                assert_eq!(outcome.status, AttestationStatus::Verified, "{context}");
                assert_eq!(outcome.bundles.len(), 2, "{context}");
                let provenance = outcome.provenance().expect("SLSA summary");
                assert!(provenance.source_repository.is_some(), "{context}: {provenance:?}");
                assert!(provenance.commit.is_some(), "{context}: {provenance:?}");
                assert!(provenance.builder_id.is_some(), "{context}: {provenance:?}");
                for bundle in &outcome.bundles {
                    assert!(
                        bundle.identity_mismatches.is_empty(),
                        "{context}: {:?}",
                        bundle.identity_mismatches
                    );
                    if bundle.predicate_type != NPM_PUBLISH_V01 {
                        assert!(matches!(bundle.signer, Signer::Certificate { .. }), "{context}");
                    }
                }
                valid += 1;
            }
            "invalid" => {
                assert_eq!(outcome.status, AttestationStatus::Invalid, "{context}");
                assert_eq!(got, want, "{context}");
                invalid += 1;
            }
            other => panic!("unknown expectation {other}"),
        }
    }
    assert_eq!((valid, invalid), (8, 23));
}

#[test]
fn tuf_form_keys_verify_publish_attestations_too() {
    let root = TrustedRoot::from_json(&fixture("trusted_root.json")).expect("trusted root parses");
    let keys = RegistryKeys::from_json(&fixture("keys.tuf.json")).expect("keys parse");
    let context = VerifyContext {
        trusted_root: &root,
        registry_keys: &keys,
    };
    let response = fixture("attestations/sigstore@1.0.0.json");
    let outcome = verify_attestations(
        &response,
        "sigstore",
        "1.0.0",
        "sha512-e+qfbn/zf1+rCza/BhIA//Awmf0v1pa5HQS8Xk8iXrn9bgytytVLqYD0P7NSqZ6IELTgq+tcDvLPkQjNHyWLNg==",
        context,
    );
    assert_eq!(
        outcome.status,
        AttestationStatus::Verified,
        "{:?}",
        outcome.failures().collect::<Vec<_>>()
    );
}

#[test]
fn empty_response_is_missing() {
    let root = TrustedRoot::from_json(&fixture("trusted_root.json")).expect("trusted root parses");
    let keys = RegistryKeys::default();
    let context = VerifyContext {
        trusted_root: &root,
        registry_keys: &keys,
    };
    let outcome = verify_attestations(br#"{"attestations":[]}"#, "a", "1.0.0", "sha512-x", context);
    assert_eq!(outcome.status, AttestationStatus::Missing);
    let outcome = verify_attestations(b"not json", "a", "1.0.0", "sha512-x", context);
    assert_eq!(outcome.status, AttestationStatus::Invalid);
}

#[test]
fn embedded_trusted_root_loads() {
    let root = TrustedRoot::embedded().expect("embedded root parses");
    drop(root);
}

#[test]
fn slsa_summaries_and_certificate_identity() {
    let root = TrustedRoot::from_json(&fixture("trusted_root.json")).expect("trusted root parses");
    let keys = RegistryKeys::from_json(&fixture("keys.json")).expect("keys parse");
    let context = VerifyContext {
        trusted_root: &root,
        registry_keys: &keys,
    };
    // v0.2 predicate, bundle 0.1, x509CertificateChain, intoto entries.
    let outcome = verify_attestations(
        &fixture("attestations/sigstore@1.0.0.json"),
        "sigstore",
        "1.0.0",
        "sha512-e+qfbn/zf1+rCza/BhIA//Awmf0v1pa5HQS8Xk8iXrn9bgytytVLqYD0P7NSqZ6IELTgq+tcDvLPkQjNHyWLNg==",
        context,
    );
    let summary = outcome.provenance().expect("verified with provenance");
    assert_eq!(
        summary.source_repository.as_deref(),
        Some("https://github.com/sigstore/sigstore-js")
    );
    assert_eq!(summary.source_ref.as_deref(), Some("refs/tags/v1.0.0"));
    assert_eq!(
        summary.commit.as_deref(),
        Some("06528997c3c8ab9f864fad9a3658446aca7fd86d")
    );
    assert_eq!(summary.workflow_path.as_deref(), Some(".github/workflows/publish.yml"));
    assert_eq!(summary.builder_id.as_deref(), Some("https://github.com/npm/cli@9.4.2"));
    let identity = outcome
        .bundles
        .iter()
        .find_map(|bundle| match &bundle.signer {
            Signer::Certificate { identity } => Some(identity),
            _ => None,
        })
        .expect("provenance bundle has a certificate");
    assert_eq!(
        identity.issuer.as_deref(),
        Some("https://token.actions.githubusercontent.com")
    );
    assert_eq!(
        identity.subject_alternative_name.as_deref(),
        Some("https://github.com/sigstore/sigstore-js/.github/workflows/publish.yml@refs/tags/v1.0.0")
    );

    // v1 predicate, bundle v0.3 `certificate`, dsse entries with inclusion proofs.
    let manifest = String::from_utf8(fixture("attestations/manifest.jsonl")).expect("UTF-8");
    let case: Case = manifest
        .lines()
        .map(|line| serde_json::from_str::<Case>(line).expect("parses"))
        .find(|case| case.file == "playwright__cli@0.1.1.json")
        .expect("present");
    let outcome = verify_attestations(
        &fixture("attestations/playwright__cli@0.1.1.json"),
        &case.name,
        &case.version,
        &case.integrity,
        context,
    );
    let summary = outcome.provenance().expect("verified with provenance");
    assert_eq!(
        summary.source_repository.as_deref(),
        Some("https://github.com/microsoft/playwright-cli")
    );
    assert_eq!(
        summary.commit.as_deref(),
        Some("d1c6d1113932ddcee243e8b111b6d4aea553df20")
    );
    assert_eq!(summary.workflow_path.as_deref(), Some(".github/workflows/publish.yml"));
    assert_eq!(summary.source_ref.as_deref(), Some("refs/tags/v0.1.1"));
    assert_eq!(
        summary.builder_id.as_deref(),
        Some("https://github.com/actions/runner/github-hosted")
    );
}
