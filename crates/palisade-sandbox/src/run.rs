//! One sandbox run: prepare, start, trace, collect, judge.

use std::collections::{HashMap, HashSet};
use std::ffi::CString;
use std::io::{BufRead, BufReader, Read};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex, MutexGuard};
use std::time::Instant;

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use palisade_core::{bounded_excerpt, PackageId};
use palisade_tarball::PackageContents;

use crate::honeytokens::{Honeytokens, HOME};
use crate::model::{DroppedFile, Event, EventKind, NetworkRecord, Options, SandboxError, SandboxReport, Stage, Target};
use crate::spawn::{Plan, StepPlan};

/// The project npm installs into; the package lands in its node_modules.
pub(crate) const PROJECT: &str = "/app";

/// Loads the entry point as a consumer would: `require`, or `import` for ES modules.
const LOADER: &str = "const name = process.argv[1];\
const fail = (e) => { console.error(String((e && e.message) || e)); process.exitCode = 1; };\
try { require(name); } catch (error) {\
  if (error && ['ERR_REQUIRE_ESM', 'ERR_PACKAGE_PATH_NOT_EXPORTED', 'MODULE_NOT_FOUND', 'ERR_REQUIRE_ASYNC_MODULE'].includes(error.code)) {\
    import(name).catch(fail);\
  } else { fail(error); }\
}";

/// Shared by the tracer and the network threads: the timeline being recorded.
pub(crate) struct Recorder {
    start: Instant,
    pub honeytokens: Honeytokens,
    package_dir: String,
    max_events: usize,
    max_output: usize,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    events: Vec<Event>,
    seen: HashSet<(EventKind, u32, String)>,
    dropped: u64,
    network: Vec<NetworkRecord>,
    stage: Option<String>,
    stages: Vec<Stage>,
    names: HashMap<String, Ipv4Addr>,
    addresses: HashMap<Ipv4Addr, String>,
    output: Vec<u8>,
    output_total: usize,
    setup_error: Option<String>,
    dropped_files: Vec<DroppedFile>,
}

/// Reads the tracee touches all the time and that say nothing about intent.
const QUIET_READS: &[&str] = &[
    "/usr/",
    "/lib/",
    "/lib64/",
    "/bin/",
    "/sbin/",
    "/proc/self/",
    "/proc/thread-self/",
    "/sys/",
    "/dev/",
    "/etc/ld.so.",
    "/etc/localtime",
    "/etc/nsswitch.conf",
    "/etc/host.conf",
    "/etc/hosts",
    "/etc/resolv.conf",
    "/etc/gai.conf",
    "/etc/netsvc.conf",
    "/etc/svc.conf",
    "/proc/meminfo",
    "/proc/cpuinfo",
    "/proc/stat",
    "/etc/ssl/",
    "/etc/alternatives/",
    "/app/node_modules/",
    "/app/package.json",
];

const QUIET_WRITES: &[&str] = &["/dev/null", "/dev/tty", "/proc/self/fd/", "/dev/fd/"];

impl Recorder {
    fn new(honeytokens: Honeytokens, package_dir: String, options: &Options) -> Self {
        Recorder {
            start: Instant::now(),
            honeytokens,
            package_dir,
            max_events: options.limits.max_events,
            max_output: options.limits.max_output_bytes,
            state: Mutex::new(State::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn elapsed_ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    fn push(&self, mut event: Event) {
        let mut state = self.lock();
        let key = (event.kind, event.pid, event.detail.clone());
        if !state.seen.insert(key) {
            return;
        }
        if state.events.len() >= self.max_events {
            state.dropped += 1;
            return;
        }
        event.stage = state.stage.clone();
        state.events.push(event);
    }

    pub fn event(&self, kind: EventKind, pid: u32, detail: String) {
        self.push(Event {
            kind,
            time_ms: self.elapsed_ms(),
            pid,
            detail: bounded_excerpt(&detail, 1000),
            stage: None,
            parent: None,
            ppid: None,
        });
    }

    pub fn network(&self, record: NetworkRecord) {
        self.lock().network.push(record);
    }

    pub fn exec(&self, pid: u32, path: String, mut argv: Vec<String>, parent: String, ppid: u32) {
        if argv.get(2).is_some_and(|script| script == LOADER) {
            argv[2] = "<palisade entry loader>".into();
        }
        let mut detail = argv.join(" ");
        if detail.is_empty() {
            detail = path;
        }
        self.push(Event {
            kind: EventKind::Exec,
            time_ms: self.elapsed_ms(),
            pid,
            detail: bounded_excerpt(&detail, 1000),
            stage: None,
            parent: Some(parent),
            ppid: Some(ppid),
        });
    }

    pub fn file(&self, pid: u32, path: &str, write: bool, note: Option<String>) {
        if let Some(token) = self.honeytokens.file_token(path) {
            let verb = match (&note, write) {
                (Some(note), _) if note == "delete" => "delete",
                (_, true) => "write",
                (_, false) => "read",
            };
            self.event(EventKind::Honeytoken, pid, format!("{verb} {} ({path})", token.name));
            return;
        }
        let quiet = if write { QUIET_WRITES } else { QUIET_READS };
        // A process's environment is where CI secrets live, its own included.
        let secret = path.starts_with("/proc/") && path.ends_with("/environ");
        if quiet.iter().any(|prefix| path.starts_with(prefix)) && !path.starts_with(&self.package_dir) && !secret {
            return;
        }
        if !write && path.starts_with(&self.package_dir) {
            return;
        }
        let kind = if write {
            EventKind::FileWrite
        } else {
            EventKind::FileRead
        };
        let detail = match note {
            Some(note) => format!("{path} ({note})"),
            None => path.to_string(),
        };
        self.event(kind, pid, detail);
    }

    pub fn chmod(&self, pid: u32, path: &str, mode: u32) {
        self.event(EventKind::FileWrite, pid, format!("{path} (chmod {mode:o})"));
    }

    pub fn connect(&self, pid: u32, address: &str, verb: &str) {
        // The resolver's own traffic is logged by the resolver.
        if address.ends_with(":53") && (address.starts_with("127.0.0.1:") || address.starts_with("0.0.0.0:")) {
            return;
        }
        let shown = address
            .rsplit_once(':')
            .and_then(|(ip, port)| {
                let ip: Ipv4Addr = ip.parse().ok()?;
                Some(format!("{}:{port} ({ip})", self.name_for(ip)?))
            })
            .unwrap_or_else(|| address.to_string());
        self.event(EventKind::Connect, pid, format!("{verb} {shown}"));
    }

    /// The address handed out for `name`: one per name in 127.1.0.0/16.
    pub fn address_for(&self, name: &str) -> Ipv4Addr {
        let mut state = self.lock();
        if let Some(address) = state.names.get(name) {
            return *address;
        }
        let index = state.names.len() as u32 + 1;
        let address = Ipv4Addr::new(127, 1, ((index >> 8) & 0xff) as u8, (index & 0xff) as u8);
        state.names.insert(name.to_string(), address);
        state.addresses.insert(address, name.to_string());
        address
    }

    pub fn name_for(&self, address: Ipv4Addr) -> Option<String> {
        self.lock().addresses.get(&address).cloned()
    }

    fn set_stage(&self, stage: Option<String>) {
        self.lock().stage = stage;
    }

    /// Returns true when the output limit was just crossed.
    fn output(&self, bytes: &[u8]) -> bool {
        let mut state = self.lock();
        let before = state.output_total;
        state.output_total += bytes.len();
        let room = self.max_output.saturating_sub(state.output.len());
        let kept = bytes.len().min(room);
        state.output.extend_from_slice(&bytes[..kept]);
        before <= self.max_output && state.output_total > self.max_output
    }
}

/// Kills the sandbox: SIGKILL to its PID namespace's init takes every process with it.
pub(crate) struct Killer {
    state: Mutex<KillState>,
}

struct KillState {
    setup: Pid,
    init: Option<Pid>,
    init_exited: bool,
}

impl Killer {
    fn lock(&self) -> MutexGuard<'_, KillState> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn set_init(&self, init: Pid) {
        self.lock().init = Some(init);
    }

    /// Called by the tracer once it has reaped init: its pid may be reused from now on.
    pub fn init_exited(&self) {
        self.lock().init_exited = true;
    }

    pub fn kill(&self) {
        let state = self.lock();
        match state.init {
            Some(init) if !state.init_exited => {
                let _ = kill(init, Signal::SIGKILL);
            }
            Some(_) => {}
            None => {
                let _ = kill(state.setup, Signal::SIGKILL);
            }
        }
    }
}

/// Whether this machine can run the sandbox; the error names the setting to change.
pub fn check_support() -> Result<(), SandboxError> {
    if !cfg!(all(target_os = "linux", target_arch = "x86_64")) {
        return Err(SandboxError::Unsupported {
            reason: "the sandbox runs on Linux x86_64 only".into(),
            hint: "run palisade sandbox in a Linux x86_64 VM or container".into(),
        });
    }
    let read = |path: &str| std::fs::read_to_string(path).ok().map(|value| value.trim().to_string());
    if read("/proc/sys/user/max_user_namespaces").as_deref() == Some("0") {
        return Err(SandboxError::Unsupported {
            reason: "user.max_user_namespaces is 0".into(),
            hint: "enable them with `sysctl -w user.max_user_namespaces=15000`".into(),
        });
    }
    let root = nix::unistd::geteuid().is_root();
    if !root && read("/proc/sys/kernel/unprivileged_userns_clone").as_deref() == Some("0") {
        return Err(SandboxError::Unsupported {
            reason: "unprivileged user namespaces are disabled (kernel.unprivileged_userns_clone = 0)".into(),
            hint: "enable them with `sysctl -w kernel.unprivileged_userns_clone=1`".into(),
        });
    }
    if !root && read("/proc/sys/kernel/apparmor_restrict_unprivileged_userns").as_deref() == Some("1") {
        return Err(SandboxError::Unsupported {
            reason:
                "AppArmor restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns = 1)"
                    .into(),
            hint: "allow them with `sysctl -w kernel.apparmor_restrict_unprivileged_userns=0` or an AppArmor profile \
                   for palisade"
                .into(),
        });
    }
    Ok(())
}

fn unsupported_from(message: &str) -> SandboxError {
    SandboxError::Unsupported {
        reason: format!("creating the sandbox's namespaces failed ({message})"),
        hint: "unprivileged user namespaces must be enabled: check the sysctls user.max_user_namespaces, \
               kernel.unprivileged_userns_clone and kernel.apparmor_restrict_unprivileged_userns"
            .into(),
    }
}

struct Manifest {
    name: String,
    version: String,
    scripts: Vec<(String, String)>,
}

fn manifest(contents: &PackageContents) -> Result<Manifest, SandboxError> {
    let bytes = contents
        .manifest_bytes()
        .ok_or_else(|| SandboxError::Manifest(format!("{}: no package.json at the package root", contents.origin)))?;
    let value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|error| SandboxError::Manifest(format!("{}: package.json: {error}", contents.origin)))?;
    let text = |key: &str| value.get(key).and_then(|v| v.as_str()).map(str::to_string);
    let name = text("name").unwrap_or_else(|| "unnamed-package".into());
    let version = text("version").unwrap_or_else(|| "0.0.0".into());
    let mut scripts = Vec::new();
    for event in ["preinstall", "install", "postinstall"] {
        if let Some(script) = value.get("scripts").and_then(|s| s.get(event)).and_then(|s| s.as_str()) {
            scripts.push((event.to_string(), script.to_string()));
        }
    }
    Ok(Manifest { name, version, scripts })
}

/// A name safe to use as a directory under node_modules (`name` or `@scope/name`).
fn safe_name(name: &str) -> String {
    let valid_part = |part: &str| {
        !part.is_empty() && part != "." && part != ".." && part.chars().all(|c| c.is_ascii_graphic() && c != '\\')
    };
    let parts: Vec<&str> = name.split('/').collect();
    let ok = match parts.as_slice() {
        [single] => valid_part(single) && !single.starts_with('@'),
        [scope, package] => scope.starts_with('@') && valid_part(scope) && valid_part(package),
        _ => false,
    };
    if ok {
        name.to_string()
    } else {
        "package".to_string()
    }
}

/// A path of the package made safe to join under its directory.
fn safe_relative(path: &str) -> Option<String> {
    let parts: Vec<&str> = path
        .split('/')
        .filter(|part| !part.is_empty() && *part != ".")
        .collect();
    if parts.is_empty() || parts.iter().any(|part| *part == ".." || part.contains('\0')) {
        return None;
    }
    Some(parts.join("/"))
}

fn find_node(options: &Options) -> Result<PathBuf, SandboxError> {
    let candidate = match &options.node {
        Some(path) => path.clone(),
        None => std::env::var_os("PATH")
            .and_then(|paths| {
                std::env::split_paths(&paths)
                    .map(|dir| dir.join("node"))
                    .find(|path| path.is_file())
            })
            .ok_or_else(|| SandboxError::NodeNotFound(" on PATH".into()))?,
    };
    std::fs::canonicalize(&candidate)
        .map_err(|error| SandboxError::NodeNotFound(format!(" at `{}`: {error}", candidate.display())))
}

fn cstring(text: &str) -> CString {
    CString::new(text.replace('\0', "")).unwrap_or_default()
}

fn load_contents(target: &Target) -> Result<PackageContents, SandboxError> {
    let limits = palisade_tarball::Limits::default();
    match target {
        Target::Contents(contents) => Ok(contents.clone()),
        Target::Directory(path) => Ok(palisade_tarball::read_dir(path, &limits)?),
        Target::Tarball(path) => {
            let bytes = std::fs::read(path).map_err(|source| SandboxError::Read {
                path: path.display().to_string(),
                source,
            })?;
            Ok(palisade_tarball::read_tgz(
                &bytes,
                &path.display().to_string(),
                &limits,
            )?)
        }
    }
}

/// Host directories visible read-only inside, and top-level symlinks to mirror.
fn system_layout(node: &Path) -> (Vec<String>, Vec<(String, String)>) {
    let mut read_only = vec!["/usr".to_string()];
    let mut symlinks = Vec::new();
    for top in ["/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32"] {
        match std::fs::symlink_metadata(top) {
            Ok(meta) if meta.file_type().is_symlink() => {
                if let Ok(target) = std::fs::read_link(top) {
                    symlinks.push((top.to_string(), target.to_string_lossy().into_owned()));
                }
            }
            Ok(meta) if meta.is_dir() => read_only.push(top.to_string()),
            _ => {}
        }
    }
    if let Some(dir) = node.parent() {
        let dir = dir.to_string_lossy().into_owned();
        if !read_only
            .iter()
            .any(|mounted| dir == *mounted || dir.starts_with(&format!("{mounted}/")))
        {
            read_only.push(dir);
        }
    }
    (read_only, symlinks)
}

fn etc_files() -> Vec<(String, Vec<u8>, u32)> {
    let mut files = vec![
        (
            "/etc/passwd".to_string(),
            b"root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000:node:/home/node:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n".to_vec(),
            0o644,
        ),
        ("/etc/group".to_string(), b"root:x:0:\nnode:x:1000:\nnogroup:x:65534:\n".to_vec(), 0o644),
        ("/etc/hosts".to_string(), b"127.0.0.1 localhost sandbox\n::1 localhost\n".to_vec(), 0o644),
        ("/etc/hostname".to_string(), b"sandbox\n".to_vec(), 0o644),
        (
            "/etc/resolv.conf".to_string(),
            b"nameserver 127.0.0.1\noptions timeout:1 attempts:1\n".to_vec(),
            0o644,
        ),
        (
            "/etc/nsswitch.conf".to_string(),
            b"passwd: files\ngroup: files\nhosts: files dns\n".to_vec(),
            0o644,
        ),
    ];
    if let Ok(cache) = std::fs::read("/etc/ld.so.cache") {
        files.push(("/etc/ld.so.cache".to_string(), cache, 0o644));
    }
    files
}

/// `/usr/bin/x -> /etc/alternatives/x -> …`: the alternatives links, so `nc`, `awk` resolve.
fn alternatives() -> Vec<(String, String)> {
    let Ok(entries) = std::fs::read_dir("/etc/alternatives") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| {
            let target = std::fs::read_link(entry.path()).ok()?;
            Some((
                format!("/etc/alternatives/{}", entry.file_name().to_string_lossy()),
                target.to_string_lossy().into_owned(),
            ))
        })
        .collect()
}

/// Installs `target` in the sandbox, runs its lifecycle scripts and loads it; reports what it did.
///
/// Findings use the rule ids of [`crate::rule_ids`]; `palisade scan --dynamic` can merge them with
/// the static analyzer's.
pub fn run(target: &Target, options: &Options) -> Result<SandboxReport, SandboxError> {
    check_support()?;
    let contents = load_contents(target)?;
    let manifest = manifest(&contents)?;
    let node = find_node(options)?;
    let name = safe_name(&manifest.name);
    let package_dir = format!("{PROJECT}/node_modules/{name}");
    let honeytokens = Honeytokens::generate();
    let mut seccomp = vec![crate::trace::seccomp_program().map_err(SandboxError::Setup)?];
    seccomp.extend(crate::trace::hardening_programs().map_err(SandboxError::Setup)?);
    let root = tempfile::Builder::new()
        .prefix("palisade-sandbox-")
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .tempdir()
        .map_err(|error| SandboxError::Setup(format!("temporary directory: {error}")))?;

    // Files: /etc, the project, the package, the home with its honeytokens.
    let mut files = etc_files();
    let project_manifest = serde_json::json!({
        "name": "palisade-sandbox-project",
        "version": "1.0.0",
        "private": true,
        "dependencies": { manifest.name.clone(): manifest.version.clone() },
    });
    files.push((
        format!("{PROJECT}/package.json"),
        project_manifest.to_string().into_bytes(),
        0o644,
    ));
    files.push((
        format!("{PROJECT}/.git/HEAD"),
        b"ref: refs/heads/main\n".to_vec(),
        0o644,
    ));
    files.push((
        format!("{PROJECT}/.git/config"),
        b"[core]\n\trepositoryformatversion = 0\n\tbare = false\n[remote \"origin\"]\n\turl = https://github.com/example/app.git\n"
            .to_vec(),
        0o644,
    ));
    for file in &contents.files {
        let Some(relative) = safe_relative(&file.path) else {
            continue;
        };
        let mode = if file.mode & 0o111 != 0 { 0o755 } else { 0o644 };
        files.push((format!("{package_dir}/{relative}"), file.data.clone(), mode));
    }
    files.push((
        format!("{HOME}/.bashrc"),
        b"# ~/.bashrc\nexport PS1='$ '\n".to_vec(),
        0o644,
    ));
    files.push((
        format!("{HOME}/.profile"),
        b"# ~/.profile\n. ~/.bashrc\n".to_vec(),
        0o644,
    ));
    files.push((
        format!("{HOME}/.gitconfig"),
        b"[user]\n\tname = Dev\n\temail = dev@example.invalid\n".to_vec(),
        0o644,
    ));
    for (path, text) in honeytokens.files() {
        let mode = if path.ends_with("id_rsa") { 0o600 } else { 0o644 };
        files.push((path.to_string(), text.as_bytes().to_vec(), mode));
    }
    let dirs = vec![
        format!("{HOME}/.npm"),
        format!("{HOME}/.cache"),
        format!("{PROJECT}/node_modules/.bin"),
        format!("{PROJECT}/.git/hooks"),
        package_dir.clone(),
    ];

    // Environment of npm's lifecycle scripts (npm-lifecycle / @npmcli/run-script).
    let node_inside = node.to_string_lossy().into_owned();
    let node_dir = node
        .parent()
        .map(|dir| dir.to_string_lossy().into_owned())
        .unwrap_or_default();
    let path_var = format!(
        "{package_dir}/node_modules/.bin:{PROJECT}/node_modules/.bin:{node_dir}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"
    );
    let node_version = std::process::Command::new(&node)
        .arg("--version")
        .output()
        .ok()
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_string())
        .unwrap_or_else(|| "v20.0.0".into());
    let mut base_env: Vec<(String, String)> = vec![
        ("PATH".into(), path_var),
        ("HOME".into(), HOME.into()),
        ("USER".into(), "node".into()),
        ("LOGNAME".into(), "node".into()),
        ("SHELL".into(), "/bin/sh".into()),
        ("TERM".into(), "dumb".into()),
        ("LANG".into(), "C.UTF-8".into()),
        ("TMPDIR".into(), "/tmp".into()),
        ("INIT_CWD".into(), PROJECT.into()),
        ("NODE".into(), node_inside.clone()),
        ("npm_node_execpath".into(), node_inside.clone()),
        ("npm_command".into(), "install".into()),
        (
            "npm_config_user_agent".into(),
            format!("npm/10.8.2 node/{node_version} linux x64 workspaces/false"),
        ),
        ("npm_config_cache".into(), format!("{HOME}/.npm")),
        ("npm_config_global_prefix".into(), "/usr/local".into()),
        ("npm_config_local_prefix".into(), PROJECT.into()),
        ("npm_config_userconfig".into(), format!("{HOME}/.npmrc")),
        ("npm_config_registry".into(), "https://registry.npmjs.org/".into()),
        ("npm_package_name".into(), manifest.name.clone()),
        ("npm_package_version".into(), manifest.version.clone()),
        ("npm_package_json".into(), format!("{package_dir}/package.json")),
        ("COLOR".into(), "0".into()),
        ("EDITOR".into(), "vi".into()),
    ];
    for (key, value) in honeytokens.env() {
        base_env.push((key.to_string(), value.to_string()));
    }
    let env_for = |extra: &[(&str, &str)]| -> Vec<CString> {
        base_env
            .iter()
            .map(|(key, value)| (key.as_str(), value.as_str()))
            .chain(extra.iter().copied())
            .map(|(key, value)| cstring(&format!("{key}={value}")))
            .collect()
    };
    let mut steps = Vec::new();
    if options.run_scripts {
        for (event, script) in &manifest.scripts {
            steps.push(StepPlan {
                name: event.clone(),
                program: cstring("/bin/sh"),
                argv: vec![cstring("sh"), cstring("-c"), cstring(script)],
                env: env_for(&[("npm_lifecycle_event", event), ("npm_lifecycle_script", script)]),
                cwd: package_dir.clone(),
            });
        }
    }
    if options.load_entry {
        steps.push(StepPlan {
            name: "load".into(),
            program: cstring(&node_inside),
            argv: vec![cstring("node"), cstring("-e"), cstring(LOADER), cstring(&manifest.name)],
            env: env_for(&[]),
            cwd: PROJECT.into(),
        });
    }
    let commands: HashMap<String, String> = manifest
        .scripts
        .iter()
        .cloned()
        .chain([("load".to_string(), format!("require/import('{}')", manifest.name))])
        .collect();

    let (read_only, mut symlinks) = system_layout(&node);
    symlinks.extend(alternatives());
    let plan = Plan {
        root: root.path().to_path_buf(),
        dirs,
        files,
        read_only,
        symlinks,
        steps,
        limits: options.limits.clone(),
        linger: options.linger,
        seccomp,
    };

    let recorder = Arc::new(Recorder::new(honeytokens, package_dir.clone(), options));
    let started = match crate::spawn::start(&plan) {
        Ok(started) => started,
        Err(SandboxError::Setup(message)) if message.contains("unshare") || message.contains("id maps") => {
            return Err(unsupported_from(&message));
        }
        Err(error) => return Err(error),
    };
    let killer = Arc::new(Killer {
        state: Mutex::new(KillState {
            setup: started.setup,
            init: None,
            init_exited: false,
        }),
    });
    let stop = Arc::new(AtomicBool::new(false));
    let mut threads = crate::net::serve(started.sinks, recorder.clone(), stop.clone());

    // Output: bounded; past the limit the sandbox is stopped.
    {
        let (recorder, killer) = (recorder.clone(), killer.clone());
        let mut output = started.output;
        threads.push(std::thread::spawn(move || {
            let mut buffer = [0u8; 8192];
            let mut limited = false;
            while let Ok(count) = output.read(&mut buffer) {
                if count == 0 {
                    break;
                }
                if recorder.output(&buffer[..count]) && !limited {
                    limited = true;
                    recorder.event(
                        EventKind::Limit,
                        0,
                        format!("output: more than {} bytes of output", recorder.max_output),
                    );
                    killer.kill();
                }
            }
        }));
    }
    // Step markers from init.
    {
        let recorder = recorder.clone();
        let status = BufReader::new(started.status);
        let commands = commands.clone();
        threads.push(std::thread::spawn(move || {
            for line in status.lines() {
                let Ok(line) = line else { break };
                let mut words = line.splitn(4, ' ');
                match words.next() {
                    Some("start") => {
                        let name = words.next().unwrap_or_default().to_string();
                        recorder.set_stage(Some(name.clone()));
                        let command = commands.get(&name).cloned().unwrap_or_default();
                        let started_ms = recorder.elapsed_ms();
                        recorder.lock().stages.push(Stage {
                            name,
                            command,
                            exit_code: None,
                            outcome: "killed".into(),
                            started_ms,
                            duration_ms: 0,
                        });
                    }
                    Some("end") => {
                        let name = words.next().unwrap_or_default().to_string();
                        let duration_ms = words.next().and_then(|ms| ms.parse().ok()).unwrap_or(0);
                        let outcome = words.next().unwrap_or_default().to_string();
                        let exit_code = outcome.strip_prefix("exit ").and_then(|code| code.parse().ok());
                        let mut state = recorder.lock();
                        if let Some(stage) = state.stages.iter_mut().rev().find(|stage| stage.name == name) {
                            stage.exit_code = exit_code;
                            stage.outcome = outcome;
                            stage.duration_ms = duration_ms;
                        }
                    }
                    Some("file") => {
                        // file SIZE MODE SHA256 PATH
                        let rest: Vec<&str> = line.splitn(5, ' ').collect();
                        if let [_, size, mode, sha256, path] = rest.as_slice() {
                            recorder.lock().dropped_files.push(DroppedFile {
                                path: path.to_string(),
                                size: size.parse().unwrap_or(0),
                                mode: mode.to_string(),
                                sha256: sha256.to_string(),
                            });
                        }
                    }
                    Some("error") => {
                        let message = line.trim_start_matches("error ").to_string();
                        recorder.lock().setup_error = Some(message);
                    }
                    Some("done") => recorder.set_stage(None),
                    _ => {}
                }
            }
        }));
    }
    // Wall time.
    let (finished, timer) = mpsc::channel::<()>();
    let wall_time = options.limits.wall_time;
    {
        let (recorder, killer) = (recorder.clone(), killer.clone());
        threads.push(std::thread::spawn(move || {
            if let Err(mpsc::RecvTimeoutError::Timeout) = timer.recv_timeout(wall_time) {
                recorder.event(
                    EventKind::Limit,
                    0,
                    format!(
                        "wall time: still running after {} s; every process was killed",
                        wall_time.as_secs()
                    ),
                );
                killer.kill();
            }
        }));
    }

    let outcome = crate::trace::trace(started.setup, &recorder, &killer, options.limits.max_processes);
    let _ = finished.send(());
    stop.store(true, Ordering::Relaxed);
    for thread in threads {
        let _ = thread.join();
    }
    drop(root);

    let recorder = Arc::try_unwrap(recorder).map_err(|_| SandboxError::Setup("recorder still shared".into()))?;
    let state = recorder
        .state
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(message) = state.setup_error {
        return Err(SandboxError::Setup(message));
    }
    if state.stages.is_empty() && matches!(outcome.setup_exit, Some(70 | 71)) {
        return Err(SandboxError::Setup(format!(
            "the sandbox init failed before running anything (exit {:?})",
            outcome.setup_exit
        )));
    }
    let duration_ms = recorder.start.elapsed().as_millis() as u64;
    let mut stages = state.stages;
    for stage in stages.iter_mut().filter(|stage| stage.outcome == "killed") {
        stage.duration_ms = duration_ms.saturating_sub(stage.started_ms);
    }
    let mut report = SandboxReport {
        package: PackageId::new(manifest.name, manifest.version),
        events: state.events,
        findings: Vec::new(),
        verdict: palisade_core::Verdict::Clean,
        stages,
        network: state.network,
        output: String::from_utf8_lossy(&state.output).into_owned(),
        duration_ms,
        events_dropped: state.dropped,
        summary: Default::default(),
        dropped_files: state.dropped_files,
    };
    // Address-space exhaustion is not a signal: allocations fail and the process says so.
    let lowered = report.output.to_ascii_lowercase();
    if ["allocation failed", "out of memory", "cannot allocate memory"]
        .iter()
        .any(|text| lowered.contains(text))
    {
        report.events.push(Event {
            kind: EventKind::Limit,
            time_ms: report.duration_ms,
            pid: 0,
            detail: format!(
                "memory: a process ran out of memory (address space limit {} MiB)",
                options.limits.memory_bytes >> 20
            ),
            stage: None,
            parent: None,
            ppid: None,
        });
    }
    report.events.sort_by_key(|event| event.time_ms);
    report.findings = crate::analysis::findings(&report, &package_dir);
    report.verdict = crate::analysis::verdict_of(&report.findings);
    report.summary = crate::analysis::summary(&report);
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespace_failures_name_the_sysctls() {
        let error = unsupported_from("unshare(user, mount, net, ipc, uts, pid namespaces): EPERM");
        assert!(error.is_input_error());
        let hint = error.hint().unwrap_or_default();
        assert!(hint.contains("user.max_user_namespaces") && hint.contains("kernel.unprivileged_userns_clone"));
        assert!(error.to_string().contains("EPERM"));
    }

    #[test]
    fn package_names_and_paths_cannot_escape() {
        assert_eq!(safe_name("left-pad"), "left-pad");
        assert_eq!(safe_name("@scope/pkg"), "@scope/pkg");
        assert_eq!(safe_name("../../etc"), "package");
        assert_eq!(safe_name("/etc"), "package");
        assert_eq!(safe_relative("lib/./index.js").as_deref(), Some("lib/index.js"));
        assert_eq!(safe_relative("../x"), None);
        assert_eq!(safe_relative("/abs/../../x"), None);
    }
}
