//! A CycloneDX or SPDX JSON document through palisade-sbom's reader (format
//! detection, components, purls, hashes, relationships): no input may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = palisade_sbom::read_str("fuzz.json", text);
    }
});
