//! Arbitrary bytes through palisade-tarball's readers (gzip/tar/zip sniffing, then the
//! tar and zip walkers) under small limits: no input may panic, and every result must
//! respect the limits it was given.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_tarball::{read_bytes, read_tgz, Limits};

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_entries: 64,
        max_file_bytes: 64 << 10,
        max_total_bytes: 1 << 20,
        max_ratio: 50,
        ratio_grace_bytes: 256 << 10,
        max_path_len: 256,
    };
    let password: Option<&[u8]> = if data.first().is_some_and(|b| b & 1 == 1) { Some(b"infected") } else { None };
    if let Ok(packages) = read_bytes(data, "fuzz", password, &limits) {
        for package in packages {
            assert!(package.files.len() <= limits.max_entries);
            assert!(package.unpacked_bytes <= limits.max_total_bytes);
            for file in &package.files {
                assert!(file.data.len() as u64 <= limits.max_file_bytes);
                assert!(!file.path.is_empty() && !file.path.starts_with('/'));
                assert!(!file.path.split('/').any(|c| c == ".." || c.is_empty()));
            }
        }
    }
    let _ = read_tgz(data, "fuzz", &limits);
});
