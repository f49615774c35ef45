//! A registry packument (full or abbreviated) through palisade-registry's
//! lenient deserialization, then the accessors `palisade check` and `verify`
//! use on it: no input may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_registry::Packument;

fuzz_target!(|data: &[u8]| {
    let Ok(packument) = serde_json::from_slice::<Packument>(data) else {
        return;
    };
    let _ = packument.latest();
    for (version, manifest) in &packument.versions {
        let _ = manifest.runs_install_scripts();
        let _ = packument.published_at(version);
        let _ = packument.version_or_tag(version);
        let _ = packument.previous_published(version);
    }
    for tag in packument.dist_tags.keys() {
        let _ = packument.version_or_tag(tag);
    }
});
