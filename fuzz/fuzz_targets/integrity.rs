//! An SRI string (`sha512-… sha1-…?opts`) through palisade-registry's
//! `Integrity::parse` and a hex sha1 through `from_hex_sha1`, then re-encoding
//! every hash: no input may panic, and a parsed hash re-encodes to base64
//! that parses again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_registry::Integrity;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(integrity) = Integrity::parse(text) {
        for hash in integrity.hashes() {
            let _ = hash.hex();
            let again = format!("{}-{}", hash.algorithm.as_str(), hash.base64());
            assert!(Integrity::parse(&again).is_ok(), "{again} does not parse again");
        }
    }
    let _ = Integrity::from_hex_sha1(text);
});
