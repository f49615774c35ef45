//! Behavioural sandbox: install an npm package the way npm would (its `preinstall`, `install`
//! and `postinstall` scripts, then a `require`/`import` of its entry point) inside Linux
//! namespaces, and report what it tried to do.
//!
//! The run is contained and observed:
//! - new user, mount, PID, IPC, UTS and network namespaces; a throwaway tmpfs root holding the
//!   package, a fake project and a fake home; `/usr` bind-mounted read-only (node and its
//!   libraries); no real home, no real environment, no real network;
//! - a network that goes nowhere but records: every IPv4 address is local to the sandbox's
//!   loopback (an "AnyIP" local route), a fake resolver answers every name, and sinks accept TCP
//!   connections on common ports and log the first bytes (HTTP parsed, TLS SNI read);
//! - honeytokens: canary npm/GitHub/AWS credentials, an SSH key and a wallet file in the fake home,
//!   canary `GITHUB_TOKEN`/`NPM_TOKEN`; reads of them and canaries in traffic are reported;
//! - a syscall trace of the whole process tree (ptrace, stopping only on the syscalls a seccomp
//!   filter marks): execve with argv, opens, connect/sendto, renames and chmods;
//! - limits: wall time, CPU, address space, process count, file size, tmpfs size, output size; the
//!   PID namespace's init is killed at the end, which kills every process left.
//!
//! What it does not contain is documented in docs/sandbox.md: kernel exploits, side channels.
//! Run untrusted workloads at scale in a VM.

mod analysis;
mod honeytokens;
mod model;
mod net;
mod run;
mod spawn;
mod trace;

pub use analysis::{rule_ids, verdict_of};
pub use model::{
    DroppedFile, Event, EventKind, HttpRequest, Limits, NetworkRecord, Options, SandboxError, SandboxReport, Stage,
    Summary, Target,
};
pub use run::{check_support, run};
