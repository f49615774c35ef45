//! Per-item verification cost: one registry signature, one attestations response (two bundles).
//!
//! Target (issue 5): `palisade verify` on a 1,500-package lockfile with cached metadata in
//! under 200 ms whole-process, i.e. ≲130 µs per package including everything else.

use criterion::{criterion_group, criterion_main, Criterion};
use palisade_verify::signature::{verify_registry_signatures, DistSignature};
use palisade_verify::{verify_attestations, RegistryKeys, TrustedRoot, VerifyContext};
use serde::Deserialize;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR")))
        .unwrap_or_else(|error| panic!("reading fixture {name}: {error}"))
}

#[derive(Deserialize)]
struct Vector {
    name: String,
    version: String,
    integrity: String,
    keyid: String,
    sig: String,
}

#[derive(Deserialize)]
struct Case {
    file: String,
    name: String,
    version: String,
    integrity: String,
}

fn benches(c: &mut Criterion) {
    let keys = RegistryKeys::from_json(&fixture("keys.json")).expect("keys");
    let root = TrustedRoot::from_json(&fixture("trusted_root.json")).expect("root");
    let signatures = String::from_utf8(fixture("signatures.jsonl")).expect("UTF-8");
    let vector: Vector = serde_json::from_str(signatures.lines().next().expect("a line")).expect("parses");
    let signature = [DistSignature {
        keyid: vector.keyid.clone(),
        sig: vector.sig.clone(),
    }];
    c.bench_function("registry_signature", |b| {
        b.iter(|| {
            verify_registry_signatures(
                &vector.name,
                &vector.version,
                &vector.integrity,
                &signature,
                None,
                &keys,
            )
        })
    });

    let context = VerifyContext {
        trusted_root: &root,
        registry_keys: &keys,
    };
    let manifest = String::from_utf8(fixture("attestations/manifest.jsonl")).expect("UTF-8");
    for file in ["sigstore@1.0.0.json", "playwright__cli@0.1.1.json"] {
        let case: Case = manifest
            .lines()
            .map(|line| serde_json::from_str::<Case>(line).expect("parses"))
            .find(|case| case.file == file)
            .expect("present");
        let response = fixture(&format!("attestations/{file}"));
        c.bench_function(&format!("attestations/{file}"), |b| {
            b.iter(|| verify_attestations(&response, &case.name, &case.version, &case.integrity, context))
        });
    }
    c.bench_function("trusted_root_load", |b| {
        let bytes = fixture("trusted_root.json");
        b.iter(|| TrustedRoot::from_json(&bytes))
    });
    c.bench_function("registry_keys_load", |b| {
        let bytes = fixture("keys.json");
        b.iter(|| RegistryKeys::from_json(&bytes))
    });
}

criterion_group!(verify, benches);
criterion_main!(verify);
