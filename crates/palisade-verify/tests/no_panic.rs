//! Hostile input never panics: bundles, certificates, keys and SRI strings cut short,
//! corrupted, or made up.

use palisade_verify::signature::{verify_registry_signatures, DistSignature};
use palisade_verify::{check_integrity, verify_attestations, RegistryKeys, TrustedRoot, VerifyContext};
use proptest::prelude::*;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR")))
        .unwrap_or_else(|error| panic!("reading fixture {name}: {error}"))
}

/// Parsed once: the point is the bundle parser, not re-reading the root.
fn material() -> &'static (TrustedRoot, RegistryKeys) {
    static MATERIAL: std::sync::OnceLock<(TrustedRoot, RegistryKeys)> = std::sync::OnceLock::new();
    MATERIAL.get_or_init(|| {
        (
            TrustedRoot::from_json(&fixture("trusted_root.json")).expect("root"),
            RegistryKeys::from_json(&fixture("keys.json")).expect("keys"),
        )
    })
}

const FILES: &[&str] = &[
    "attestations/sigstore@1.0.0.json",
    "attestations/playwright__cli@0.1.1.json",
    "attestations/gundam-visor@1.0.1.json",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    /// Flip bytes anywhere in a real response (JSON structure, base64, DER inside base64).
    #[test]
    fn corrupted_bundles_do_not_panic(
        file in 0..FILES.len(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let (root, keys) = material();
        let context = VerifyContext { trusted_root: root, registry_keys: keys };
        let mut bytes = fixture(FILES[file]);
        for (index, byte) in edits {
            let at = index.index(bytes.len());
            bytes[at] = byte;
        }
        if truncate {
            bytes.truncate(cut.index(bytes.len()));
        }
        let _ = verify_attestations(&bytes, "sigstore", "1.0.0", "sha512-AAAA", context);
    }

    /// Corrupt the base64 inside: decode a bundle, damage one string field deep inside, re-encode.
    #[test]
    fn corrupted_fields_do_not_panic(file in 0..FILES.len(), target in any::<prop::sample::Index>(), junk in ".{0,64}") {
        let (root, keys) = material();
        let context = VerifyContext { trusted_root: root, registry_keys: keys };
        let mut value: serde_json::Value = serde_json::from_slice(&fixture(FILES[file])).expect("json");
        let mut strings = Vec::new();
        collect_string_paths(&value, &mut Vec::new(), &mut strings);
        let path = &strings[target.index(strings.len())];
        if let Some(slot) = value.pointer_mut(path) {
            *slot = serde_json::Value::String(junk);
        }
        let bytes = serde_json::to_vec(&value).expect("serialise");
        let _ = verify_attestations(&bytes, "sigstore", "1.0.0", "sha512-AAAA", context);
    }

    #[test]
    fn arbitrary_signatures_and_integrity_do_not_panic(sig in ".{0,200}", integrity in ".{0,200}", bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let keys = RegistryKeys::from_json(&fixture("keys.json")).expect("keys");
        let signature = DistSignature { keyid: "SHA256:DhQ8wR5APBvFHLF/+Tc+AYvPOdTpcIDqOhxsBHRwC7U".to_owned(), sig };
        let _ = verify_registry_signatures("a", "1.0.0", &integrity, &[signature], None, &keys);
        let _ = check_integrity(&integrity, &bytes);
    }

    #[test]
    fn arbitrary_key_documents_do_not_panic(text in ".{0,300}") {
        let _ = RegistryKeys::from_json(text.as_bytes());
        let _ = TrustedRoot::from_json(text.as_bytes());
    }
}

fn collect_string_paths(value: &serde_json::Value, path: &mut Vec<String>, out: &mut Vec<String>) {
    match value {
        serde_json::Value::String(_) => out.push(format!("/{}", path.join("/"))),
        serde_json::Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                path.push(index.to_string());
                collect_string_paths(item, path, out);
                path.pop();
            }
        }
        serde_json::Value::Object(map) => {
            for (key, item) in map {
                path.push(key.replace('~', "~0").replace('/', "~1"));
                collect_string_paths(item, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}
