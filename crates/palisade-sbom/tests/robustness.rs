//! SBOMs are untrusted input: cut or corrupted documents give an error or an
//! inventory, never a panic.

use std::path::Path;

use proptest::prelude::*;

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name);
    std::fs::read_to_string(path).expect("fixture")
}

fn mutate(text: &str, cut: usize, position: usize, byte: u8) -> String {
    let mut bytes = text.as_bytes().to_vec();
    let position = position % bytes.len().max(1);
    if let Some(slot) = bytes.get_mut(position) {
        *slot = byte;
    }
    bytes.truncate(cut % (bytes.len() + 1));
    String::from_utf8_lossy(&bytes).into_owned()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn cyclonedx_never_panics(cut in 0usize..20_000, position in 0usize..20_000, byte in any::<u8>()) {
        let text = mutate(&fixture("cyclonedx-npm/small-project.cdx.json"), cut, position, byte);
        let _ = palisade_sbom::read_str("bom.cdx.json", &text);
    }

    #[test]
    fn spdx_never_panics(cut in 0usize..20_000, position in 0usize..20_000, byte in any::<u8>()) {
        let text = mutate(&fixture("spdx/syft-style.spdx.json"), cut, position, byte);
        let _ = palisade_sbom::read_str("bom.spdx.json", &text);
    }

    #[test]
    fn purls_never_panic(text in "pkg:[a-z%@/?&=#.0-9A-F-]{0,40}") {
        let _ = palisade_sbom::purl::parse(&text);
    }
}
