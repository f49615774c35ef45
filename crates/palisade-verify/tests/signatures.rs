//! Data-driven: every line of `fixtures/signatures.jsonl` (real registry signatures and
//! tampered copies, see `fixtures/README.md`) gives its expected outcome and reason class.

use palisade_verify::signature::{verify_registry_signatures, DistSignature, SignatureOutcome};
use palisade_verify::RegistryKeys;
use serde::Deserialize;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

#[derive(Deserialize)]
struct Vector {
    name: String,
    version: String,
    integrity: String,
    keyid: String,
    sig: String,
    expected: String,
    why: String,
    #[serde(default)]
    published: Option<String>,
    #[serde(default)]
    crypto_check: Option<String>,
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR")))
        .unwrap_or_else(|error| panic!("reading fixture {name}: {error}"))
}

/// The reason class a vector's metadata implies for an invalid outcome.
fn expected_class(vector: &Vector) -> &'static str {
    match vector.crypto_check.as_deref() {
        Some("nokey") => "unknown-key",
        Some("badb64") => "malformed",
        // Cryptographically fine yet invalid: only key expiry can explain it.
        Some("OK") => "key-expired",
        // The truncated-DER vector is BAD to a raw verifier; we see that the DER is cut.
        Some("BAD") if vector.why.contains("truncated DER") => "malformed",
        _ => "bad-signature",
    }
}

fn run(keys: &RegistryKeys, label: &str) {
    let text = String::from_utf8(fixture("signatures.jsonl")).expect("fixture is UTF-8");
    let (mut valid, mut invalid) = (0, 0);
    for (index, line) in text.lines().enumerate() {
        let vector: Vector = serde_json::from_str(line).expect("fixture line parses");
        let published = vector
            .published
            .as_deref()
            .map(|text| OffsetDateTime::parse(text, &Rfc3339).expect("fixture time parses"));
        let outcome = verify_registry_signatures(
            &vector.name,
            &vector.version,
            &vector.integrity,
            &[DistSignature {
                keyid: vector.keyid.clone(),
                sig: vector.sig.clone(),
            }],
            published,
            keys,
        );
        let context = format!(
            "[{label}] line {}: {}@{} ({})",
            index + 1,
            vector.name,
            vector.version,
            vector.why
        );
        match (vector.expected.as_str(), &outcome) {
            ("valid", SignatureOutcome::Verified { keyid }) => {
                assert_eq!(keyid, &vector.keyid, "{context}");
                valid += 1;
            }
            ("invalid", SignatureOutcome::Invalid { reason, .. }) => {
                assert_eq!(reason.class(), expected_class(&vector), "{context}: {reason:?}");
                invalid += 1;
            }
            _ => panic!("{context}: expected {}, got {outcome:?}", vector.expected),
        }
    }
    assert_eq!((valid, invalid), (19, 13), "[{label}] counts");
}

#[test]
fn every_vector_with_registry_endpoint_keys() {
    let keys = RegistryKeys::from_json(&fixture("keys.json")).expect("keys.json parses");
    run(&keys, "keys.json");
}

#[test]
fn every_vector_with_tuf_keys() {
    let keys = RegistryKeys::from_json(&fixture("keys.tuf.json")).expect("keys.tuf.json parses");
    run(&keys, "keys.tuf.json");
}

#[test]
fn empty_signature_list_is_missing() {
    let keys = RegistryKeys::from_json(&fixture("keys.json")).expect("keys.json parses");
    let outcome = verify_registry_signatures("a", "1.0.0", "sha512-x", &[], None, &keys);
    assert_eq!(outcome, SignatureOutcome::Missing);
}

#[test]
fn published_before_tuf_start_is_rejected() {
    // DhQ8 only came into use on 2025-01-13 (keys.tuf.json); a signature claiming an earlier
    // publish time is not one the registry could have made.
    let keys = RegistryKeys::from_json(&fixture("keys.tuf.json")).expect("keys.tuf.json parses");
    let text = String::from_utf8(fixture("signatures.jsonl")).expect("fixture is UTF-8");
    let vector: Vector = text
        .lines()
        .map(|line| serde_json::from_str::<Vector>(line).expect("fixture line parses"))
        .find(|v| v.name == "pnpm" && v.expected == "valid")
        .expect("pnpm vector present");
    let published = OffsetDateTime::parse("2024-06-01T00:00:00Z", &Rfc3339).expect("time");
    let outcome = verify_registry_signatures(
        &vector.name,
        &vector.version,
        &vector.integrity,
        &[DistSignature {
            keyid: vector.keyid,
            sig: vector.sig,
        }],
        Some(published),
        &keys,
    );
    match outcome {
        SignatureOutcome::Invalid { reason, .. } => assert_eq!(reason.class(), "key-not-yet-valid"),
        other => panic!("expected invalid, got {other:?}"),
    }
}
