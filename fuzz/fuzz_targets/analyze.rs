//! One arbitrary file through the whole analyzer (`scan_package`): classification, the
//! text pre-scan, oxc parse, the fact walker, every rule and scoring. The first byte picks
//! the file name (and so the parser mode); a fixed package.json with an install script
//! rides along so package rules and the install-file correlation run too. No input may
//! panic, overflow the stack or produce a score outside [0, 1].
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_analyze::{scan_package, ScanOptions};
use palisade_tarball::{PackageContents, PackageFile};

const NAMES: [&str; 8] = [
    "index.js",
    "lib/a.mjs",
    "src/a.ts",
    "src/a.tsx",
    "bin/cli",
    "install.sh",
    "package-data.json",
    "a.jsx",
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let name = NAMES[selector as usize % NAMES.len()];
    let manifest = br#"{"name":"fuzz","version":"1.0.0","scripts":{"postinstall":"node index.js"}}"#;
    let contents = PackageContents {
        origin: "fuzz".to_string(),
        files: vec![
            PackageFile {
                path: "package.json".to_string(),
                data: manifest.to_vec(),
                mode: 0o644,
            },
            PackageFile {
                path: name.to_string(),
                data: body.to_vec(),
                mode: 0o755,
            },
        ],
        ..Default::default()
    };
    let result = scan_package(&contents, &ScanOptions::default());
    assert!((0.0..=1.0).contains(&result.score));
    assert_eq!(result.files_scanned, 2);
});
