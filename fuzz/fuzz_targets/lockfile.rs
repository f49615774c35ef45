//! Every lockfile extractor on arbitrary bytes: no input may panic.
//! The first byte picks the format.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_lockfile::{extract_str, LockfileKind};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let kind = match selector % 4 {
        0 => LockfileKind::Npm,
        1 => LockfileKind::Yarn,
        2 => LockfileKind::Pnpm,
        _ => LockfileKind::Bun,
    };
    let _ = extract_str(kind, "fuzz", text);
});
