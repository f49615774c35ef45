//! Arbitrary and mutated archives never panic and never break the limits (the same
//! entry points as the `tarball` fuzz target, on every `cargo test`).

use palisade_tarball::{read_bytes, Limits, PackageContents};
use proptest::prelude::*;

fn limits() -> Limits {
    Limits {
        max_entries: 16,
        max_file_bytes: 4096,
        max_total_bytes: 16 << 10,
        max_ratio: 20,
        ratio_grace_bytes: 8 << 10,
        max_path_len: 128,
    }
}

fn check(packages: &[PackageContents], limits: &Limits) {
    for package in packages {
        assert!(package.files.len() <= limits.max_entries);
        assert!(package.unpacked_bytes <= limits.max_total_bytes);
        for file in &package.files {
            assert!(file.data.len() as u64 <= limits.max_file_bytes);
            assert!(!file.path.is_empty() && !file.path.starts_with('/'), "{}", file.path);
            assert!(
                !file.path.split('/').any(|c| c == ".." || c.is_empty() || c == "."),
                "{}",
                file.path
            );
        }
    }
}

fn fixtures() -> Vec<Vec<u8>> {
    [
        "tests/fixtures/is-number-7.0.0.tgz",
        "tests/fixtures/encrypted-package.zip",
    ]
    .iter()
    .map(|p| std::fs::read(p).expect("fixture"))
    .collect()
}

proptest! {
    #[test]
    fn arbitrary_bytes(data in proptest::collection::vec(any::<u8>(), 0..4096), zip_header in any::<bool>()) {
        let mut data = data;
        if zip_header {
            data.splice(0..0, *b"PK\x03\x04");
        }
        if let Ok(packages) = read_bytes(&data, "prop", Some(b"infected"), &limits()) {
            check(&packages, &limits());
        }
    }

    #[test]
    fn mutated_fixtures(which in 0usize..2, flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)) {
        let mut data = fixtures().swap_remove(which);
        for (at, value) in flips {
            let at = at.index(data.len());
            data[at] ^= value | 1;
        }
        if let Ok(packages) = read_bytes(&data, "prop", Some(b"infected"), &limits()) {
            check(&packages, &limits());
        }
    }

    #[test]
    fn truncated_fixtures(which in 0usize..2, keep in any::<prop::sample::Index>()) {
        let data = fixtures().swap_remove(which);
        let keep = keep.index(data.len());
        if let Ok(packages) = read_bytes(&data[..keep], "prop", Some(b"infected"), &limits()) {
            check(&packages, &limits());
        }
    }
}
