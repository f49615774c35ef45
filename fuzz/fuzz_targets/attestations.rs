//! An npm attestations response (Sigstore bundles) through palisade-verify, plus the registry
//! keys and SRI parsers: no input may panic. The trusted root and keys are the recorded ones.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use palisade_verify::{RegistryKeys, TrustedRoot, VerifyContext};

fn material() -> Option<&'static (TrustedRoot, RegistryKeys)> {
    static MATERIAL: OnceLock<Option<(TrustedRoot, RegistryKeys)>> = OnceLock::new();
    MATERIAL
        .get_or_init(|| {
            let root = TrustedRoot::embedded().ok()?;
            let keys = RegistryKeys::from_json(include_bytes!("../../crates/palisade-verify/tests/fixtures/keys.json"))
                .ok()?;
            Some((root, keys))
        })
        .as_ref()
}

fuzz_target!(|data: &[u8]| {
    let Some((root, keys)) = material() else { return };
    let context = VerifyContext {
        trusted_root: root,
        registry_keys: keys,
    };
    let _ = palisade_verify::verify_attestations(data, "sigstore", "1.0.0", "sha512-AAAA", context);
    let _ = RegistryKeys::from_json(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = palisade_verify::check_integrity(text, data);
    }
});
