//! File classification by magic bytes, extension and shebang.

use super::FileKind;

/// Classifies a file. Content wins over the name: a `.js` file holding an ELF image is a
/// native executable, a `.js` file with NUL bytes is binary, and an extension-less file
/// that starts with `#!/usr/bin/env node` is JavaScript.
pub(crate) fn classify(path: &str, data: &[u8]) -> FileKind {
    if let Some(kind) = sniff_magic(data) {
        return kind;
    }
    if data.contains(&0) || std::str::from_utf8(data).is_err() {
        return FileKind::Binary;
    }
    let name = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
    let extension = name.rsplit_once('.').map(|(_, ext)| ext).unwrap_or("");
    match extension {
        "js" | "cjs" | "mjs" | "jsx" => return FileKind::JavaScript,
        "ts" | "tsx" | "mts" | "cts" => return FileKind::TypeScript,
        "json" => return FileKind::Json,
        "sh" | "bash" | "zsh" | "command" => return FileKind::Shell,
        "ps1" | "psm1" | "psd1" => return FileKind::PowerShell,
        _ => {}
    }
    if let Some(kind) = shebang_kind(data) {
        return kind;
    }
    FileKind::Text
}

fn shebang_kind(data: &[u8]) -> Option<FileKind> {
    let data = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    let rest = data.strip_prefix(b"#!")?;
    let end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len()).min(256);
    let line = String::from_utf8_lossy(&rest[..end]);
    let mut words = line.split_whitespace();
    let mut interpreter = words.next()?.rsplit('/').next().unwrap_or("");
    if interpreter == "env" {
        interpreter = words.find(|w| !w.starts_with('-'))?;
    }
    match interpreter {
        "node" | "nodejs" | "bun" | "deno" | "tsx" | "ts-node" => Some(FileKind::JavaScript),
        "sh" | "bash" | "zsh" | "dash" | "ksh" => Some(FileKind::Shell),
        "pwsh" | "powershell" => Some(FileKind::PowerShell),
        _ => None,
    }
}

fn sniff_magic(data: &[u8]) -> Option<FileKind> {
    const MACHO: [[u8; 4]; 4] = [
        [0xFE, 0xED, 0xFA, 0xCE],
        [0xFE, 0xED, 0xFA, 0xCF],
        [0xCE, 0xFA, 0xED, 0xFE],
        [0xCF, 0xFA, 0xED, 0xFE],
    ];
    if data.starts_with(b"\x7FELF") {
        return Some(FileKind::NativeExecutable);
    }
    if data.len() >= 4 && MACHO.iter().any(|magic| data.starts_with(magic)) {
        return Some(FileKind::NativeExecutable);
    }
    // Universal (fat) Mach-O shares 0xCAFEBABE with Java class files; a fat header's
    // architecture count is small, a class file's major version is >= 45 there.
    if data.len() >= 8 && data.starts_with(&[0xCA, 0xFE, 0xBA, 0xBE]) {
        let count = u32::from_be_bytes([data[4], data[5], data[6], data[7]]);
        return Some(if count > 0 && count < 30 {
            FileKind::NativeExecutable
        } else {
            FileKind::Binary
        });
    }
    if is_pe(data) {
        return Some(FileKind::NativeExecutable);
    }
    let image_magics: [&[u8]; 5] = [
        b"\x89PNG\r\n\x1A\n",
        b"\xFF\xD8\xFF",
        b"GIF87a",
        b"GIF89a",
        b"\x00\x00\x01\x00",
    ];
    if image_magics.iter().any(|magic| data.starts_with(magic)) {
        return Some(FileKind::Image);
    }
    if data.len() >= 12 && data.starts_with(b"RIFF") && &data[8..12] == b"WEBP" {
        return Some(FileKind::Image);
    }
    None
}

/// `MZ` header whose `e_lfanew` points at a `PE\0\0` signature (or a DOS stub that is not text).
fn is_pe(data: &[u8]) -> bool {
    if !data.starts_with(b"MZ") || data.len() < 64 {
        return false;
    }
    let offset = u32::from_le_bytes([data[60], data[61], data[62], data[63]]) as usize;
    if let Some(signature) = offset.checked_add(4).and_then(|end| data.get(offset..end)) {
        if signature == b"PE\0\0" {
            return true;
        }
    }
    // An old DOS executable: binary header right after `MZ`.
    data[2..64].contains(&0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_beats_extension() {
        assert_eq!(
            classify("index.js", b"\x7FELF\x02\x01\x01\0\0"),
            FileKind::NativeExecutable
        );
        assert_eq!(classify("a.js", b"var a = 1;\0"), FileKind::Binary);
        assert_eq!(classify("a.js", b"var a = '\xFF';"), FileKind::Binary);
        assert_eq!(classify("logo.png", b"\x89PNG\r\n\x1A\n...."), FileKind::Image);
        assert_eq!(classify("x.js", b"GIF89a;alert(1)"), FileKind::Image);
        let mut pe = vec![0u8; 200];
        pe[..2].copy_from_slice(b"MZ");
        pe[60] = 128;
        pe[128..132].copy_from_slice(b"PE\0\0");
        assert_eq!(classify("setup.exe", &pe), FileKind::NativeExecutable);
        assert_eq!(
            classify("bin.node", &[0xCF, 0xFA, 0xED, 0xFE, 7, 0, 0, 1]),
            FileKind::NativeExecutable
        );
    }

    #[test]
    fn names_and_shebangs() {
        assert_eq!(classify("lib/a.cjs", b"module.exports = 1"), FileKind::JavaScript);
        assert_eq!(classify("src/a.mts", b"export const a = 1"), FileKind::TypeScript);
        assert_eq!(classify("package.json", b"{}"), FileKind::Json);
        assert_eq!(classify("install.sh", b"echo hi"), FileKind::Shell);
        assert_eq!(classify("run.ps1", b"Write-Host hi"), FileKind::PowerShell);
        assert_eq!(
            classify("bin/cli", b"#!/usr/bin/env node\nrequire('x')"),
            FileKind::JavaScript
        );
        assert_eq!(
            classify("bin/cli", b"#!/usr/bin/env -S node --no-warnings\n"),
            FileKind::JavaScript
        );
        assert_eq!(classify("bin/setup", b"#!/bin/bash\ncurl x | sh"), FileKind::Shell);
        assert_eq!(classify("README", b"MZ is a letter pair"), FileKind::Text);
        assert_eq!(classify("README.md", b"# hi"), FileKind::Text);
    }
}
