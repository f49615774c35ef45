//! The public nouns: what to run, how, and what was seen.

use std::path::PathBuf;
use std::time::Duration;

use palisade_core::{Finding, PackageId, Verdict};
use palisade_tarball::PackageContents;
use serde::Serialize;

/// What to install in the sandbox.
#[derive(Debug, Clone)]
pub enum Target {
    /// An unpacked package directory (holding `package.json`).
    Directory(PathBuf),
    /// An npm tarball (`.tgz`) on disk.
    Tarball(PathBuf),
    /// Package files already in memory (a registry download read with palisade-tarball).
    Contents(PackageContents),
}

/// Hard limits of one run. Every limit that is hit is reported as a `limit` event and a
/// `sandbox-limit` finding.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Wall-clock time of the whole run; then the PID namespace is killed.
    pub wall_time: Duration,
    /// CPU seconds per process (RLIMIT_CPU).
    pub cpu_seconds: u64,
    /// Address space per process (RLIMIT_AS). V8 reserves a lot of virtual memory: keep ≥ 2 GiB.
    pub memory_bytes: u64,
    /// Processes alive at once in the sandbox (RLIMIT_NPROC in the user namespace, and the
    /// tracer kills the tree when it counts more).
    pub max_processes: u32,
    /// Largest file a process may write (RLIMIT_FSIZE).
    pub max_file_bytes: u64,
    /// Size of the sandbox's tmpfs root: everything the package writes, together.
    pub disk_bytes: u64,
    /// Bytes of stdout+stderr kept; past this the run is stopped.
    pub max_output_bytes: usize,
    /// Recorded events; past this further events are counted, not kept.
    pub max_events: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            wall_time: Duration::from_secs(60),
            cpu_seconds: 30,
            memory_bytes: 4 << 30,
            max_processes: 64,
            max_file_bytes: 64 << 20,
            disk_bytes: 256 << 20,
            max_output_bytes: 1 << 20,
            max_events: 10_000,
        }
    }
}

/// How to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// The node binary (found on PATH when `None`). Its directory is mounted read-only.
    pub node: Option<PathBuf>,
    pub limits: Limits,
    /// Run the lifecycle scripts (`preinstall`, `install`, `postinstall`).
    pub run_scripts: bool,
    /// Load the entry point with `require` (falling back to `import`) after the scripts.
    pub load_entry: bool,
    /// After the last step, wait this long for processes the package left running in the
    /// background (malware often detaches its payload) before killing them.
    pub linger: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            node: None,
            limits: Limits::default(),
            run_scripts: true,
            load_entry: true,
            linger: Duration::from_millis(500),
        }
    }
}

/// The kinds of event in the timeline (DESIGN.md JSON contract).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Exec,
    FileRead,
    FileWrite,
    Dns,
    Connect,
    Honeytoken,
    Limit,
}

/// One thing the package did, in order of observation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    pub kind: EventKind,
    /// Milliseconds since the sandbox started.
    pub time_ms: u64,
    /// The process as the sandbox sees it (PID namespace), 0 when not tied to a process.
    pub pid: u32,
    /// argv, path, host:port, the name looked up or the honeytoken touched.
    pub detail: String,
    /// The lifecycle step running when it happened (`postinstall`, `load`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    /// For `exec`: the program of the process that ran it (`node`, `sh`) and its pid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ppid: Option<u32>,
}

/// A parsed HTTP request seen by the sink.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HttpRequest {
    pub method: String,
    pub host: String,
    pub path: String,
    pub body_bytes: usize,
}

/// One connection (or DNS query) the fake network accepted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NetworkRecord {
    pub time_ms: u64,
    /// `dns`, `tcp`, `udp`.
    pub protocol: String,
    /// The name asked for, the name the address was handed out for, or the address.
    pub host: String,
    pub port: u16,
    /// The first bytes sent, printable, bounded.
    pub first_bytes: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http: Option<HttpRequest>,
    /// TLS server name from the ClientHello.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_sni: Option<String>,
    /// Names of honeytokens whose canary value was in the traffic.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub canaries: Vec<String>,
}

/// One lifecycle step as run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stage {
    /// `preinstall`, `install`, `postinstall` or `load`.
    pub name: String,
    pub command: String,
    /// Exit code; `None` when killed or not finished.
    pub exit_code: Option<i32>,
    /// `exit 0`, `signal 9`, or `killed` when the run was stopped during the step.
    pub outcome: String,
    /// When the step started, in milliseconds since the sandbox started.
    pub started_ms: u64,
    pub duration_ms: u64,
}

/// Everything a run saw.
#[derive(Debug, Clone, Serialize)]
pub struct SandboxReport {
    pub package: PackageId,
    pub events: Vec<Event>,
    pub findings: Vec<Finding>,
    pub verdict: Verdict,
    pub stages: Vec<Stage>,
    pub network: Vec<NetworkRecord>,
    /// stdout and stderr of the steps, interleaved, bounded.
    pub output: String,
    pub duration_ms: u64,
    /// Events past `Limits::max_events`, counted but not kept.
    pub events_dropped: u64,
    /// What the package did, counted, and the powers it used (the union of the findings').
    pub summary: Summary,
    /// Files the steps created or changed, hashed before the sandbox was torn down.
    pub dropped_files: Vec<DroppedFile>,
}

/// A file the install left behind (a payload, a build output, a planted config).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DroppedFile {
    pub path: String,
    pub size: u64,
    /// Unix permission bits, octal (`755`).
    pub mode: String,
    pub sha256: String,
}

/// The behaviour summary: counts over the timeline and the network.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Summary {
    /// Programs executed (the lifecycle shells and the entry loader included).
    pub processes: usize,
    pub files_read: usize,
    pub files_written: usize,
    pub dns_queries: usize,
    /// TCP connections and UDP datagrams the fake network received.
    pub connections: usize,
    /// Distinct honeytokens touched (files opened or canaries seen in traffic).
    pub honeytokens: usize,
    pub limits_hit: usize,
    pub capabilities: Vec<palisade_core::Capability>,
}

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("user namespaces are not available: {reason}")]
    Unsupported { reason: String, hint: String },
    #[error("failed to read the package: {0}")]
    Package(#[from] palisade_tarball::TarballError),
    #[error("failed to read `{path}`: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("the package has no usable package.json: {0}")]
    Manifest(String),
    #[error("node was not found{0}")]
    NodeNotFound(String),
    #[error("failed to set up the sandbox: {0}")]
    Setup(String),
}

impl SandboxError {
    /// A line telling the user what to do, when there is one.
    pub fn hint(&self) -> Option<&str> {
        match self {
            SandboxError::Unsupported { hint, .. } => Some(hint),
            SandboxError::NodeNotFound(_) => Some("install node or pass --node PATH"),
            _ => None,
        }
    }

    /// The user's input (package, node path, host configuration) is at fault, not palisade.
    pub fn is_input_error(&self) -> bool {
        !matches!(self, SandboxError::Setup(_))
    }
}
