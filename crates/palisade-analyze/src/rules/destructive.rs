//! `destructive`: wipers and protestware — recursive deletion of home, root or the working
//! directory, overwriting every file found, geolocation-gated behaviour, and dead-man's
//! switches that destroy data when a stolen token stops working.

use palisade_core::{Capability, Confidence, Finding, Severity};

use super::flag;
use super::signals::{self, call_text, contains_any, finding, Needles};
use super::sinks;
use super::{FileRule, RuleInfo};
use crate::facts::{Call, FileFacts, Value};

pub struct Destructive;

static INFO: RuleInfo = RuleInfo {
    id: "destructive",
    severity: Severity::Critical,
    confidence: Confidence::High,
    capabilities: &[Capability::Destructive, Capability::Filesystem],
    summary: "Deletes or overwrites the user's files (home, root, working directory), or gates behaviour on the victim's country",
    docs: r#"## What it detects

- **Wipers**: recursive deletion of the home directory, the filesystem root or the working
  directory — `fs.rmSync(os.homedir(), { recursive: true })`, `rimraf('/')`, `rm -rf ~`,
  `rm -rf $HOME/*`, `rd /s /q %USERPROFILE%`, `Remove-Item -Recurse ~`, `del /s /q C:\` — and
  disk-level destruction (`mkfs`, `dd of=/dev/sda`, `shred`, `format c:`).
- **Overwriters**: a directory walk (`readdirSync` + `stat`) that writes a constant into every
  file it finds, starting from `/`, `~` or `..` (node-ipc 10.1.1 wrote ❤️ into every file).
- **Geofencing**: an IP-geolocation API (ipgeolocation.io, ip-api.com, ipinfo.io, ipapi.co,
  geojs, …) whose answer is compared with country names or codes. With destructive code in
  the same file it is critical; alone it is high (protestware and region-targeted payloads).
- **Dead-man's switches**: destructive code next to a token check (`/user`, `whoami`, 401/403,
  `valid`), reported with that context.

## Real attacks

- node-ipc 10.1.1/10.1.2 (March 2022, CVE-2022-23812): looked up the machine's country through
  ipgeolocation.io and, for Russia and Belarus, overwrote every file under `/`, `../` and `./`
  with a heart emoji.
- rimrafall (2016) and many "test" packages: `rm -rf /*` in an install script.
- @rspack/core 1.1.7 skipped victims in listed countries (ipinfo.io) before mining.
- Shai-Hulud 2 (November 2025): when it could not steal a usable token it tried to wipe the
  user's home directory.

## Known false positives

rimraf, del and fs-extra delete paths they are given (never the home or root by themselves).
Analytics SDKs that look up the visitor's country are geolocation without gating and stay quiet
unless they compare the answer with specific countries.
"#,
};

const GEO_APIS: &[&str] = &[
    "ipgeolocation.io",
    "ip-api.com",
    "ipinfo.io",
    "ipapi.co",
    "ipapi.com",
    "ipwho.is",
    "ipwhois.app",
    "freegeoip",
    "geoip-db.com",
    "geolocation-db.com",
    "get.geojs.io",
    "api.country.is",
    "extreme-ip-lookup.com",
    "ip2location.io",
    "ipdata.co",
    "geoplugin.net",
    "ipregistry.co",
    "db-ip.com",
];

const COUNTRIES: &[&str] = &[
    "russia",
    "belarus",
    "ukraine",
    "china",
    "iran",
    "israel",
    "palestine",
    "kazakhstan",
    "north korea",
    "hong kong",
];

/// ISO codes of the countries protestware and region-targeted payloads single out, compared
/// as whole strings (`countryCode === 'RU'`). Reading a `country_code` field is not gating.
const COUNTRY_CODES: &[&str] = &["ru", "by", "ua", "cn", "ir", "il", "ps", "kz", "kp", "hk"];

const WIPE_COMMANDS: &[&str] = &[
    "rm -rf ~",
    "rm -rf /",
    "rm -rf $home",
    "rm -rf \"$home",
    "rm -rf ${home}",
    "rm -rf *",
    "rm -rf .",
    "rm -fr ~",
    "rm -fr /",
    "rm -rf --no-preserve-root",
    "rd /s /q c:\\",
    "rd /s /q %userprofile%",
    "rmdir /s /q c:\\",
    "rmdir /s /q %userprofile%",
    "del /f /s /q c:\\",
    "del /s /q c:\\",
    "del /f /s /q %userprofile%",
    "remove-item -recurse -force ~",
    "remove-item -recurse -force $home",
    "remove-item -recurse -force c:\\",
    "remove-item -path $env:userprofile -recurse",
    "mkfs",
    "of=/dev/sd",
    "of=/dev/nvme",
    "shred -",
    "format c:",
    "sudo shutdown",
];

/// A wiping command in `text` (lower-case). `rm -rf ./dist` or `rm -rf ~/.cache/tool` is
/// housekeeping; only the bare `~`, `/`, `.` forms (optionally `/*`) sweep.
fn wipe_command(text: &str) -> Option<&'static str> {
    // Flag order varies (`del /f /q /s`, `del /s /q`); shredding or `find … -delete` over the
    // whole home directory is the Unix form of the second Shai-Hulud wave's wiper. Only bare
    // home or drive targets count (`%USERPROFILE%\\Temp\\x` or `~/.cache/x` is housekeeping).
    let bare_windows_home = contains_any(
        text,
        &[
            "%userprofile%*",
            "%userprofile%\\*",
            "%userprofile%\"",
            "%userprofile% ",
            "c:\\*",
            "c:\\\" ",
            "c:\\ ",
        ],
    );
    if bare_windows_home && text.contains("del ") && text.contains("/s") && text.contains("/q") {
        return Some("del /s /q");
    }
    let bare_home_find = contains_any(
        text,
        &[
            "find \"$home\"",
            "find $home ",
            "find ~ ",
            "find ~/ ",
            "find \"${home}\"",
            "find ${home} ",
        ],
    );
    if bare_home_find && (text.contains("shred ") || text.contains(" -delete") || text.contains("rm -")) {
        return Some("find ~ … shred/-delete");
    }
    if text.contains("cipher /w") {
        return Some("cipher /w");
    }
    WIPE_COMMANDS.iter().copied().find(|command| {
        text.match_indices(command).any(|(at, _)| {
            let after = &text[at + command.len()..];
            let deletes = ["rm ", "rd ", "rmdir ", "del ", "remove-item"]
                .iter()
                .any(|p| command.starts_with(p));
            !deletes
                || after.is_empty()
                || after.starts_with([' ', '*', '\'', '"', '`', ';', '&', '|', ')'])
                || after.starts_with("/*")
                || after.starts_with("/ ")
        })
    })
}

/// Lifecycle scripts in a package.json that wipe (`"preinstall": "rm -rf /*"`).
fn check_manifest(file: &FileFacts, text: &str, out: &mut Vec<Finding>) {
    let Ok(manifest) = serde_json::from_str::<serde_json::Value>(text) else {
        return;
    };
    let Some(scripts) = manifest.get("scripts").and_then(|s| s.as_object()) else {
        return;
    };
    for key in [
        "preinstall",
        "install",
        "postinstall",
        "prepare",
        "preuninstall",
        "uninstall",
        "postuninstall",
    ] {
        let Some(script) = scripts.get(key).and_then(|s| s.as_str()) else {
            continue;
        };
        if let Some(command) = wipe_command(&script.to_lowercase()) {
            let line = text
                .lines()
                .position(|l| l.contains(&format!("\"{key}\"")))
                .map_or(1, |i| i as u32 + 1);
            out.push(finding(
                &INFO,
                file,
                line,
                Severity::Critical,
                Confidence::High,
                format!(
                    "The `{key}` script runs `{}`: it wipes the machine of whoever installs the package.",
                    command.trim()
                ),
                script,
            ));
            return;
        }
    }
}

/// A deletion target that is the whole home, the root, a drive or the working directory.
fn sweeping_target(target: &str) -> Option<&'static str> {
    let target = target.trim().trim_matches(['\'', '"', '`']).trim();
    if target.is_empty() {
        return None;
    }
    let target = target.trim_end_matches(['/', '\\', '*']).trim();
    match target {
        "~"
        | "$home"
        | "%userprofile%"
        | "os.homedir()"
        | "os.homedir"
        | "process.env.home"
        | "process.env.userprofile" => Some("the home directory"),
        "" | "c:" | "/root" | "/home" | "/users" => Some("the filesystem root"),
        "." | "./" | "process.cwd()" | "process.cwd" => Some("the working directory"),
        _ => None,
    }
}

fn is_recursive(call: &Call) -> bool {
    signals::method(&call.callee).starts_with("rimraf")
        || call.callee.starts_with("rimraf")
        || call.callee.starts_with("del")
        || call.callee.starts_with("fs-extra")
        || matches!(
            signals::method(&call.callee),
            "remove" | "removeSync" | "emptyDir" | "emptyDirSync"
        )
        || call.args.iter().any(|arg| match arg {
            Value::Object { entries } => entries
                .iter()
                .any(|(key, value)| key == "recursive" && matches!(value, Value::Bool { value: true })),
            _ => false,
        })
        || call.excerpt.contains("recursive")
}

/// The text of the first argument (folded value, or its source when the extractor could not fold it).
fn first_argument(call: &Call) -> String {
    match call.args.first() {
        Some(Value::Str { value, .. }) => value.to_ascii_lowercase(),
        Some(Value::Member { path }) => path.to_ascii_lowercase(),
        Some(Value::CallResult { callee }) => format!("{}()", callee.to_ascii_lowercase()),
        _ => signals::first_arg_source(&call.excerpt).to_ascii_lowercase(),
    }
}

impl FileRule for Destructive {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, file: &FileFacts, out: &mut Vec<Finding>) {
        let Some(text) = file.text.as_deref() else { return };
        if file.path == "package.json" {
            check_manifest(file, text, out);
            return;
        }
        static GEO: Needles = Needles::new(GEO_APIS);
        static COUNTRY: Needles = Needles::new(COUNTRIES);
        let strings = file.lower_strings();
        let geo_api = GEO
            .first_item(file.lower_strings_blob())
            .and_then(|index| strings.get(index))
            .and_then(|(line, s)| GEO.first_in(s).map(|api| (*line, api)));
        // The country comparison sits next to the lookup (a bundle that contains a geolocation
        // client and, 100,000 lines away, a list of countries is not geofenced).
        let country = geo_api.and_then(|(geo_line, _)| {
            strings
                .iter()
                .filter(|(line, _)| signals::near(file, *line, geo_line, 40))
                .find_map(|(_, s)| {
                    COUNTRY
                        .first_in(s)
                        .or_else(|| COUNTRY_CODES.iter().find(|code| s.eq_ignore_ascii_case(code)).copied())
                })
        });
        let geofenced = geo_api.is_some() && country.is_some();
        let token_gate = || {
            static TOKEN_GATE: Needles = Needles::new(&[
                "whoami",
                "api.github.com/user",
                "status === 401",
                "status == 401",
                "statuscode === 401",
                "status === 403",
                "tokenvalid",
                "token_valid",
                "isvalidtoken",
                "revoked",
            ]);
            TOKEN_GATE.any_in(file.text.as_deref().unwrap_or(""))
        };

        let mut destroys: Option<(u32, String, String)> = None;
        for call in file.calls_flagged(flag::DELETE | flag::EXEC) {
            if signals::is_delete_call(call) && is_recursive(call) {
                if let Some(what) = sweeping_target(&first_argument(call)) {
                    destroys = Some((call.line, format!("recursively deletes {what}"), call.excerpt.clone()));
                    break;
                }
            }
            if signals::is_exec_call(call) {
                if let Some(command) = wipe_command(&call_text(call)) {
                    destroys = Some((call.line, format!("runs `{}`", command.trim()), call.excerpt.clone()));
                    break;
                }
            }
        }
        if destroys.is_none() {
            destroys = overwrite_walk(file, strings);
        }
        if destroys.is_none() {
            destroys = encrypt_walk(file);
        }

        match (destroys, geofenced) {
            (Some((line, what, excerpt)), _) => {
                let context = if geofenced {
                    " after checking the machine's country through an IP geolocation API (node-ipc protestware)"
                } else if token_gate() {
                    " next to a credential check: a dead-man's switch that destroys data when a token stops working"
                } else {
                    ""
                };
                out.push(finding(
                    &INFO,
                    file,
                    line,
                    Severity::Critical,
                    Confidence::High,
                    format!("Code {what}{context}."),
                    &excerpt,
                ));
            }
            (None, true) => {
                let (line, api) = geo_api.unwrap_or((1, ""));
                // Files written or deleted right next to the country check: the behaviour the
                // check gates is a file operation (protestware dropping or destroying files).
                if let Some(call) = file
                    .calls
                    .iter()
                    .find(|c| (signals::is_delete_call(c) || is_file_write(c)) && signals::near(file, c.line, line, 60))
                {
                    out.push(finding(
                        &INFO,
                        file,
                        call.line,
                        Severity::Critical,
                        Confidence::High,
                        format!(
                            "Writes or deletes files after looking up the machine's location ({api}) and comparing it with `{}`: file operations gated on the victim's country (node-ipc protestware).",
                            country.unwrap_or("a country")
                        ),
                        &call.excerpt,
                    ));
                    return;
                }
                out.push(finding(
                    &INFO,
                    file,
                    line,
                    Severity::High,
                    Confidence::Medium,
                    format!(
                        "Looks up the machine's location ({api}) and compares it with `{}`: behaviour gated on the victim's country, as in protestware and region-targeted payloads.",
                        country.unwrap_or("a country")
                    ),
                    "",
                ));
            }
            (None, false) => {
                if let Some(finding) = desktop_drop(file, strings) {
                    out.push(finding);
                }
            }
        }
    }
}

/// Files written into the user's Desktop or OneDrive folders, which no library needs to touch
/// (peacenotwar dropped WITH-LOVE-FROM-AMERICA.txt there on import).
fn desktop_drop(file: &FileFacts, strings: &[(u32, String)]) -> Option<Finding> {
    static FOLDERS: Needles = Needles::new(&["/desktop/", "\\desktop\\", "/onedrive/", "\\onedrive\\"]);
    let named = strings.iter().position(|(_, s)| s == "desktop" || s == "onedrive");
    let in_path = FOLDERS.first_item(file.lower_strings_blob());
    let folder = match (named, in_path) {
        (Some(a), Some(b)) => strings.get(a.min(b)),
        (a, b) => a.or(b).and_then(|index| strings.get(index)),
    }?;
    let home = file
        .text
        .as_deref()
        .is_some_and(|t| contains_any(t, &["homedir", "USERPROFILE", "HOME", "~/"]));
    let write = file.calls_flagged(flag::WRITE).find(|c| {
        signals::is_write_call(c)
            && matches!(
                signals::method(&c.callee),
                "writeFile" | "writeFileSync" | "copyFile" | "copyFileSync" | "createWriteStream"
            )
            && signals::near(file, c.line, folder.0, 30)
    })?;
    if !home {
        return None;
    }
    // A document with a fixed name dropped there (`WITH-LOVE-FROM-….txt`, `README.html`) is a
    // message to the victim: protestware or ransom notes, not a tool saving user output.
    let note = strings.iter().find(|(line, s)| {
        signals::near(file, *line, write.line, 30)
            && s.len() <= 200
            && [".txt", ".html", ".htm", ".md", ".url", ".hta"]
                .iter()
                .any(|ext| s.to_ascii_lowercase().ends_with(ext))
    });
    let folder_name = folder.1.trim_matches(['/', '\\']);
    let (severity, confidence, message) = match note {
        Some((_, name)) => (
            Severity::Critical,
            Confidence::High,
            format!(
                "Drops a message file (`{}`) into the user's {folder_name} folder: protestware and ransom notes are left there.",
                palisade_core::bounded_excerpt(name, 80)
            ),
        ),
        None => (
            Severity::High,
            Confidence::Medium,
            format!("Writes files into the user's {folder_name} folder: protestware and scareware drop messages there."),
        ),
    };
    Some(finding(
        &INFO,
        file,
        write.line,
        severity,
        confidence,
        message,
        &write.excerpt,
    ))
}

/// A call that writes a file.
fn is_file_write(call: &Call) -> bool {
    signals::is_write_call(call)
        && matches!(
            signals::method(&call.callee),
            "writeFile"
                | "writeFileSync"
                | "appendFile"
                | "appendFileSync"
                | "copyFile"
                | "copyFileSync"
                | "createWriteStream"
        )
}

/// Ransomware: a directory walk that encrypts the files it finds (`createCipheriv`,
/// `publicEncrypt`) and deletes the originals or leaves a ransom note.
fn encrypt_walk(file: &FileFacts) -> Option<(u32, String, String)> {
    if sinks::is_bundle(file) {
        return None;
    }
    let walks = file
        .calls
        .iter()
        .any(|c| matches!(signals::method(&c.callee), "readdirSync" | "readdir"));
    let cipher = file.calls.iter().find(|c| {
        matches!(
            signals::method(&c.callee),
            "createCipheriv" | "createCipher" | "publicEncrypt" | "encrypt"
        ) && (c.callee.starts_with("crypto.") || c.callee.contains("subtle"))
    })?;
    if !walks {
        return None;
    }
    let write = file
        .calls
        .iter()
        .find(|c| signals::is_write_call(c) && signals::near(file, c.line, cipher.line, 12))?;
    let deletes = file.calls.iter().any(|c| {
        (signals::is_delete_call(c) || matches!(signals::method(&c.callee), "unlinkSync" | "unlink" | "rmSync"))
            && signals::near(file, c.line, write.line, 12)
    });
    let note = file.strings.iter().any(|s| {
        let lower = s.value.to_ascii_lowercase();
        (lower.contains("encrypt") || lower.contains("decrypt"))
            && ["bitcoin", "btc", "monero", "xmr", "ransom", "pay ", "wallet", "restore"]
                .iter()
                .any(|w| lower.contains(w))
    });
    if !deletes && !note {
        return None;
    }
    let what = match (deletes, note) {
        (true, true) => "encrypts every file it finds, deletes the originals and leaves a ransom note",
        (true, false) => "encrypts every file it finds and deletes the originals",
        _ => "encrypts every file it finds and leaves a ransom note",
    };
    Some((write.line, format!("{what} (ransomware)"), write.excerpt.clone()))
}

/// A directory walk that writes a constant into the files it finds, from a sweeping start.
fn overwrite_walk(file: &FileFacts, strings: &[(u32, String)]) -> Option<(u32, String, String)> {
    // In a bundle, globbing, copying and templating code put directory walks, `/` and
    // constant writes side by side.
    if sinks::is_bundle(file) {
        return None;
    }
    let walks = file
        .calls
        .iter()
        .any(|c| matches!(signals::method(&c.callee), "readdirSync" | "readdir"));
    if !walks {
        return None;
    }
    let stats = file
        .calls
        .iter()
        .any(|c| matches!(signals::method(&c.callee), "lstatSync" | "statSync" | "lstat" | "stat"))
        || signals::contains_any_ignore_ascii_case(file.text.as_deref().unwrap_or(""), &["isdirectory"]);
    let sweeping_start = strings
        .iter()
        .any(|(_, s)| matches!(s.as_str(), "/" | "./" | "../" | "../../" | "~" | "c:\\"));
    if !(stats && sweeping_start) {
        return None;
    }
    let readdirs: Vec<u32> = file
        .calls
        .iter()
        .filter(|c| matches!(signals::method(&c.callee), "readdirSync" | "readdir"))
        .map(|c| c.line)
        .collect();
    let write = file.calls.iter().find(|c| {
        signals::is_write_call(c)
            && matches!(signals::method(&c.callee), "writeFile" | "writeFileSync")
            // The path is the walk's variable, written right next to the directory listing.
            && matches!(c.args.first(), Some(Value::Ident { .. }))
            && readdirs.iter().any(|line| signals::near(file, *line, c.line, 12))
            && match c.args.get(1) {
                Some(Value::Str { .. }) => true,
                // A decoder applied to constants (`b('4p2k77iP')`, `heart.toString('utf8')`).
                Some(Value::CallResult { callee }) => {
                    callee.ends_with("toString")
                        || file.calls.iter().any(|d| {
                            d.line == c.line
                                && &d.callee == callee
                                && !d.args.is_empty()
                                && d.args.iter().all(|a| matches!(a, Value::Str { .. }))
                        })
                }
                _ => false,
            }
    })?;
    Some((
        write.line,
        "overwrites every file it finds with fixed content, walking from the filesystem root".to_string(),
        write.excerpt.clone(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts;

    fn run(source: &str) -> Vec<Finding> {
        let file = facts::extract("index.js", source.as_bytes(), 0o644);
        let mut out = Vec::new();
        Destructive.check(&file, &mut out);
        out
    }

    fn worst(findings: &[Finding]) -> Option<Severity> {
        findings.iter().map(|f| f.severity).max()
    }

    #[test]
    fn flags_encrypting_walk_with_ransom_note() {
        let source = r#"const fs = require("fs"), os = require("os"), path = require("path"), crypto = require("crypto");
const key = crypto.randomBytes(32), iv = crypto.randomBytes(16);
function walk(dir) {
  for (const name of fs.readdirSync(dir)) {
    const p = path.join(dir, name);
    if (fs.statSync(p).isDirectory()) { walk(p); continue; }
    const c = crypto.createCipheriv("aes-256-cbc", key, iv);
    fs.writeFileSync(p + ".locked", Buffer.concat([c.update(fs.readFileSync(p)), c.final()]));
    fs.unlinkSync(p);
  }
}
walk(path.join(os.homedir(), "Documents"));
fs.writeFileSync(path.join(os.homedir(), "README.txt"), "Your files are encrypted. Send 0.1 BTC to restore them.");
"#;
        let findings = run(source);
        assert_eq!(worst(&findings), Some(Severity::Critical), "{findings:#?}");
        assert!(findings[0].message.contains("ransom"), "{}", findings[0].message);
        // A backup tool encrypting copies into an archive keeps the originals.
        let backup = "const fs = require('fs'), path = require('path'), crypto = require('crypto');\nfor (const f of fs.readdirSync(src)) {\n  const c = crypto.createCipheriv('aes-256-gcm', key, iv);\n  fs.writeFileSync(path.join(out, f + '.enc'), Buffer.concat([c.update(fs.readFileSync(path.join(src, f))), c.final()]));\n}";
        assert!(run(backup).is_empty(), "{:#?}", run(backup));
    }

    #[test]
    fn flags_home_wipe() {
        let source = "const fs = require('fs'); const os = require('os');\nfs.rmSync(os.homedir(), { recursive: true, force: true });\n";
        let findings = run(source);
        assert_eq!(worst(&findings), Some(Severity::Critical), "{findings:#?}");
        assert_eq!(findings[0].line, Some(2));
    }

    #[test]
    fn flags_rm_rf_dead_mans_switch() {
        let source = r#"
const { execSync } = require('child_process');
async function check(token) {
  const res = await fetch('https://api.github.com/user', { headers: { authorization: `token ${token}` } });
  if (res.status === 401) execSync('rm -rf ~/* ~/.[!.]*', { stdio: 'ignore' });
}
"#;
        let findings = run(source);
        assert_eq!(worst(&findings), Some(Severity::Critical), "{findings:#?}");
        assert!(findings[0].message.contains("dead-man"), "{}", findings[0].message);
    }

    #[test]
    fn flags_geofenced_overwrite() {
        let source = r#"
import fs from 'fs'; import path from 'path'; import https from 'https';
https.get('https://api.ipgeolocation.io/ipgeo?apiKey=x', (res) => res.on('data', (d) => {
  const country = JSON.parse(d.toString()).country_name.toLowerCase();
  if (country.includes('russia') || country.includes('belarus')) { walk('./'); walk('../'); walk('/'); }
}));
function walk(dir) {
  for (const name of fs.readdirSync(dir)) {
    const p = path.join(dir, name);
    if (fs.lstatSync(p).isDirectory()) walk(p); else fs.writeFile(p, '\u2764\ufe0f', () => {});
  }
}
"#;
        assert_eq!(worst(&run(source)), Some(Severity::Critical));
    }

    #[test]
    fn geofence_alone_is_high() {
        let source = r#"
const r = await fetch('https://ipapi.co/json/'); const j = await r.json();
if (j.country_code === 'RU' || j.country_name === 'Belarus') { console.log('Нет войне'); }
"#;
        assert_eq!(worst(&run(source)), Some(Severity::High));
    }

    #[test]
    fn flags_geofenced_file_writes() {
        let source = r#"
const fs = require('fs'); const https = require('https');
https.get('https://ip-api.com/json', (res) => res.on('data', (d) => {
  const { countryCode } = JSON.parse(d);
  if (countryCode === 'RU' || countryCode === 'BY') fs.writeFileSync('notice.txt', 'message');
}));
"#;
        let findings = run(source);
        assert_eq!(worst(&findings), Some(Severity::Critical), "{findings:#?}");
    }

    #[test]
    fn flags_message_dropped_on_the_desktop() {
        let source = r#"
const fs = require('fs'); const os = require('os'); const path = require('path');
for (const folder of ['/Desktop/', '/OneDrive/']) {
  const target = path.join(os.homedir(), folder, 'A-MESSAGE-FOR-YOU.txt');
  fs.writeFile(target, 'a message', () => {});
}
"#;
        let findings = run(source);
        assert_eq!(worst(&findings), Some(Severity::Critical), "{findings:#?}");
        // A screenshot tool saving a user-named PNG to the Desktop stays high at most.
        let tool = r#"
const fs = require('fs'); const os = require('os'); const path = require('path');
module.exports = (name, png) => fs.writeFileSync(path.join(os.homedir(), '/Desktop/', name), png);
"#;
        assert_ne!(worst(&run(tool)), Some(Severity::Critical));
    }

    #[test]
    fn quiet_on_installer_writing_its_own_files() {
        // esbuild's install.js: lists and stats directories, writes a fixed "{}" to a path it builds.
        let source = r#"
const fs = require('fs'); const path = require('path');
function removeRecursive(dir) {
  for (const entry of fs.readdirSync(dir)) {
    const p = path.join(dir, entry);
    if (fs.statSync(p).isDirectory()) removeRecursive(p); else fs.unlinkSync(p);
  }
}
const root = '/';
fs.writeFileSync(path.join(installDir, 'package.json'), '{}');
"#;
        assert!(run(source).is_empty(), "{:#?}", run(source));
    }

    #[test]
    fn quiet_on_geolocation_client_far_from_a_country_list() {
        let source = format!(
            "const r = fetch('http://www.geoplugin.net/json.gp');\n{}const regions = ['China', 'Hong Kong'];\n",
            "const x = 1;\n".repeat(200)
        );
        assert!(run(&source).is_empty(), "{:#?}", run(&source));
    }

    #[test]
    fn flags_home_shredding_through_bun() {
        let source =
            r#"Bun.spawnSync(["bash", "-c", 'find "$HOME" -type f -writable -print0 | xargs -0 -r shred -uvz -n 1']);"#;
        assert_eq!(worst(&run(source)), Some(Severity::Critical));
        let windows = r#"require('child_process').execSync('del /F /Q /S "%USERPROFILE%\\*"');"#;
        assert_eq!(worst(&run(windows)), Some(Severity::Critical));
    }

    #[test]
    fn quiet_on_cache_housekeeping() {
        let source = r#"
const { execSync } = require('child_process');
execSync('find ~/.cache/example-tool -name "*.tmp" -delete');
execSync('del /s /q "%USERPROFILE%\\AppData\\Local\\example-tool\\cache"');
"#;
        assert!(run(source).is_empty(), "{:#?}", run(source));
    }

    #[test]
    fn quiet_on_build_cleanup() {
        let source = r#"
const fs = require('fs'); const path = require('path'); const { execSync } = require('child_process');
fs.rmSync(path.join(__dirname, 'dist'), { recursive: true, force: true });
execSync('rm -rf ./build/tmp');
module.exports = function rimraf(p) { return fs.rmSync(p, { recursive: true }); };
"#;
        assert!(run(source).is_empty(), "{:#?}", run(source));
    }

    #[test]
    fn quiet_on_geolocation_sdk_reading_the_country_field() {
        let source = "const https = require('https');\nmodule.exports = (key) => https.get(`https://api.ipgeolocation.io/ipgeo?apiKey=${key}`, (res) => res.on('data', (d) => {\n  const j = JSON.parse(d); return { country: j.country_name, code: j.country_code2, eu: ['DE', 'FR'].includes(j.country_code2) };\n}));";
        assert!(run(source).is_empty(), "{:#?}", run(source));
    }

    #[test]
    fn quiet_on_geolocation_without_gating() {
        let source =
            "fetch('https://ipinfo.io/json').then((r) => r.json()).then((info) => analytics.track('visit', info));";
        assert!(run(source).is_empty());
    }
}
