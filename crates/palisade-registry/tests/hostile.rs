//! Registry documents, integrity strings and .npmrc text are outside data:
//! whatever they contain, parsing returns a value or an error, never panics.

use palisade_registry::{Integrity, NpmrcConfig, Packument, SigningKeys, VersionManifest};
use proptest::prelude::*;

fn no_env(_: &str) -> Option<String> {
    None
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = serde_json::from_slice::<Packument>(&bytes);
        let _ = serde_json::from_slice::<VersionManifest>(&bytes);
        let _ = serde_json::from_slice::<SigningKeys>(&bytes);
        let text = String::from_utf8_lossy(&bytes);
        let _ = Integrity::parse(&text);
        let _ = Integrity::from_hex_sha1(&text);
        let _ = NpmrcConfig::parse(&text, &no_env);
    }

    #[test]
    fn mutated_real_packument_never_panics(cut in 0usize..19_537, byte in any::<u8>()) {
        let mut bytes = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/is-number.full.json"))
            .expect("fixture");
        if cut < bytes.len() {
            bytes[cut] = byte;
        }
        let _ = serde_json::from_slice::<Packument>(&bytes);
        bytes.truncate(cut);
        let _ = serde_json::from_slice::<Packument>(&bytes);
    }

    #[test]
    fn npmrc_lines_never_panic(key in "[-@/:._a-zA-Z0-9${}?\\\\]{0,40}", value in "[ -~]{0,60}") {
        let _ = NpmrcConfig::parse(&format!("{key}={value}\n"), &no_env);
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    // serde_json stops at 128 levels.
    let deep = format!(
        "{{\"name\":\"x\",\"license\":{}1{}}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    assert!(serde_json::from_str::<Packument>(&deep).is_err());
    let deep = format!(
        "{{\"versions\":{{\"1.0.0\":{{\"bin\":{}}}}}}}",
        "{\"a\":".repeat(10_000) + "1" + &"}".repeat(10_000)
    );
    assert!(serde_json::from_str::<Packument>(&deep).is_err());
}
