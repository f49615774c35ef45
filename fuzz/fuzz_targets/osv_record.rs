//! One OSV record through the importer's parser: no input may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = palisade_advisory::check_record(data);
});
