//! palisade.toml (and package.json) text through the policy parsers and
//! validators: a pull request controls both, so no input may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = palisade_policy::Config::parse("palisade.toml", text);
        let _ = palisade_policy::Manifest::parse("package.json", "", text);
    }
});
