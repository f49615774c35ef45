//! The syscall tracer: ptrace over the whole process tree, stopping only where the seccomp
//! filter returns SECCOMP_RET_TRACE (seccomp(2), ptrace(2) PTRACE_O_TRACESECCOMP), so ordinary
//! syscalls run at full speed.

use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};

use nix::sys::ptrace::{self, Event as PtraceEvent, Options};
use nix::sys::signal::Signal;
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

use crate::model::EventKind;
use crate::run::{Killer, Recorder};

/// The syscalls the filter hands to the tracer.
#[cfg(target_arch = "x86_64")]
pub(crate) const TRACED: &[i64] = &[
    libc::SYS_execve,
    libc::SYS_execveat,
    libc::SYS_open,
    libc::SYS_openat,
    libc::SYS_openat2,
    libc::SYS_creat,
    libc::SYS_connect,
    libc::SYS_sendto,
    libc::SYS_sendmsg,
    libc::SYS_rename,
    libc::SYS_renameat,
    libc::SYS_renameat2,
    libc::SYS_chmod,
    libc::SYS_fchmodat,
    libc::SYS_symlink,
    libc::SYS_symlinkat,
    libc::SYS_link,
    libc::SYS_linkat,
    libc::SYS_unlink,
    libc::SYS_unlinkat,
    libc::SYS_rmdir,
];

/// The seccomp program: allow everything, but let the tracer see the syscalls above.
#[cfg(target_arch = "x86_64")]
pub(crate) fn seccomp_program() -> Result<seccompiler::BpfProgram, String> {
    use std::collections::BTreeMap;
    let rules: BTreeMap<i64, Vec<seccompiler::SeccompRule>> = TRACED.iter().map(|nr| (*nr, Vec::new())).collect();
    let filter = seccompiler::SeccompFilter::new(
        rules,
        seccompiler::SeccompAction::Allow,
        seccompiler::SeccompAction::Trace(0),
        seccompiler::TargetArch::x86_64,
    )
    .map_err(|error| error.to_string())?;
    filter
        .try_into()
        .map_err(|error: seccompiler::BackendError| error.to_string())
}

/// Syscalls the package never needs during an install and that widen the kernel's attack
/// surface or could tamper with the sandbox: they fail with EPERM. `clone3` fails with ENOSYS
/// (its flags live in memory a filter cannot read), so libc falls back to `clone`, whose
/// namespace flags are checked.
#[cfg(target_arch = "x86_64")]
const DENIED: &[i64] = &[
    libc::SYS_unshare,
    libc::SYS_setns,
    libc::SYS_mount,
    libc::SYS_umount2,
    libc::SYS_pivot_root,
    libc::SYS_chroot,
    libc::SYS_ptrace,
    libc::SYS_process_vm_writev,
    libc::SYS_bpf,
    libc::SYS_perf_event_open,
    libc::SYS_userfaultfd,
    libc::SYS_keyctl,
    libc::SYS_add_key,
    libc::SYS_request_key,
    libc::SYS_kexec_load,
    libc::SYS_kexec_file_load,
    libc::SYS_init_module,
    libc::SYS_finit_module,
    libc::SYS_delete_module,
    libc::SYS_open_by_handle_at,
    libc::SYS_fsopen,
    libc::SYS_fsmount,
    libc::SYS_move_mount,
    libc::SYS_open_tree,
    libc::SYS_mount_setattr,
    libc::SYS_io_uring_setup,
    libc::SYS_acct,
    libc::SYS_swapon,
    libc::SYS_swapoff,
    libc::SYS_reboot,
    libc::SYS_syslog,
];

/// The hardening filter: EPERM for [`DENIED`] and for `clone` with namespace flags, ENOSYS for
/// `clone3`. Installed next to the tracing filter; the kernel applies the stricter action.
#[cfg(target_arch = "x86_64")]
pub(crate) fn hardening_programs() -> Result<Vec<seccompiler::BpfProgram>, String> {
    use seccompiler::{SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompRule};
    use std::collections::BTreeMap;
    let error = |error: seccompiler::BackendError| error.to_string();
    let namespaces = (libc::CLONE_NEWUSER
        | libc::CLONE_NEWNS
        | libc::CLONE_NEWNET
        | libc::CLONE_NEWPID
        | libc::CLONE_NEWIPC
        | libc::CLONE_NEWUTS
        | libc::CLONE_NEWCGROUP) as u64;
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> = DENIED.iter().map(|nr| (*nr, Vec::new())).collect();
    // One rule per flag: any of them set is a match.
    let mut clone_rules = Vec::new();
    for bit in 0..64 {
        let flag = 1u64 << bit;
        if namespaces & flag != 0 {
            let condition =
                SeccompCondition::new(0, SeccompCmpArgLen::Qword, SeccompCmpOp::MaskedEq(flag), flag).map_err(error)?;
            clone_rules.push(SeccompRule::new(vec![condition]).map_err(error)?);
        }
    }
    rules.insert(libc::SYS_clone, clone_rules);
    let deny = seccompiler::SeccompFilter::new(
        rules,
        SeccompAction::Allow,
        SeccompAction::Errno(libc::EPERM as u32),
        seccompiler::TargetArch::x86_64,
    )
    .map_err(error)?;
    let clone3: BTreeMap<i64, Vec<SeccompRule>> = [(libc::SYS_clone3, Vec::new())].into_iter().collect();
    let no_clone3 = seccompiler::SeccompFilter::new(
        clone3,
        SeccompAction::Allow,
        SeccompAction::Errno(libc::ENOSYS as u32),
        seccompiler::TargetArch::x86_64,
    )
    .map_err(error)?;
    Ok(vec![
        deny.try_into().map_err(error)?,
        no_clone3.try_into().map_err(error)?,
    ])
}

pub(crate) fn set_options(pid: Pid) -> nix::Result<()> {
    ptrace::setoptions(
        pid,
        Options::PTRACE_O_TRACEFORK
            | Options::PTRACE_O_TRACEVFORK
            | Options::PTRACE_O_TRACECLONE
            | Options::PTRACE_O_TRACEEXEC
            | Options::PTRACE_O_TRACESECCOMP
            | Options::PTRACE_O_EXITKILL,
    )
}

struct Process {
    /// The pid inside the sandbox's PID namespace.
    ns_pid: u32,
    parent: Option<Pid>,
    /// The program it runs (last exec's argv[0] basename).
    program: String,
    /// A thread of another process (PTRACE_EVENT_CLONE), not counted as a process.
    thread: bool,
}

/// What the tracer learned beyond events.
pub(crate) struct TraceOutcome {
    /// Exit status of the setup process (init's, or 128+signal).
    pub setup_exit: Option<i32>,
}

/// Traces until the setup process exits. `setup` is the traced setup process; its first fork is
/// the sandbox init.
pub(crate) fn trace(setup: Pid, recorder: &Recorder, killer: &Killer, max_processes: u32) -> TraceOutcome {
    let mut processes: HashMap<Pid, Process> = HashMap::new();
    processes.insert(
        setup,
        Process {
            ns_pid: 0,
            parent: None,
            program: "palisade".into(),
            thread: false,
        },
    );
    let mut init: Option<Pid> = None;
    let mut setup_exit = None;
    let mut limit_reported = false;
    loop {
        // __WNOTHREAD: other threads of this process may run sandboxes of their own; each tracer
        // waits only for its own tracees.
        let status = match waitpid(None, Some(WaitPidFlag::__WALL | WaitPidFlag::__WNOTHREAD)) {
            Ok(status) => status,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => break,
        };
        match status {
            WaitStatus::PtraceEvent(pid, _, event)
                if event == PtraceEvent::PTRACE_EVENT_FORK as i32
                    || event == PtraceEvent::PTRACE_EVENT_VFORK as i32
                    || event == PtraceEvent::PTRACE_EVENT_CLONE as i32 =>
            {
                if let Ok(child) = ptrace::getevent(pid) {
                    let child = Pid::from_raw(child as i32);
                    let is_thread = event == PtraceEvent::PTRACE_EVENT_CLONE as i32;
                    if pid == setup && init.is_none() {
                        init = Some(child);
                        killer.set_init(child);
                    }
                    let program = if pid == setup {
                        "sandbox-init".to_string()
                    } else {
                        processes.get(&pid).map(|p| p.program.clone()).unwrap_or_default()
                    };
                    processes.entry(child).or_insert(Process {
                        ns_pid: 0,
                        parent: Some(pid),
                        program,
                        thread: is_thread,
                    });
                    if !is_thread {
                        // RLIMIT_NPROC counts threads too and node runs ~10 each, so the rlimit
                        // is set loosely and the process count is enforced here.
                        let alive = processes.values().filter(|p| !p.thread).count();
                        if alive > max_processes as usize + 2 && !limit_reported {
                            limit_reported = true;
                            recorder.event(
                                EventKind::Limit,
                                ns_pid_of(&mut processes, pid),
                                format!("processes: more than {max_processes} alive at once (fork bomb?)"),
                            );
                            killer.kill();
                        }
                    }
                }
                let _ = ptrace::cont(pid, None);
            }
            WaitStatus::PtraceEvent(pid, _, event) if event == PtraceEvent::PTRACE_EVENT_SECCOMP as i32 => {
                syscall_stop(pid, &mut processes, recorder);
                let _ = ptrace::cont(pid, None);
            }
            WaitStatus::PtraceEvent(pid, _, _) => {
                let _ = ptrace::cont(pid, None);
            }
            WaitStatus::Stopped(pid, signal) => {
                // New children start with SIGSTOP (suppressed); everything else is delivered.
                let deliver = match signal {
                    Signal::SIGSTOP if processes.get(&pid).is_some_and(|p| p.ns_pid == 0) => {
                        let ns = ns_pid_of(&mut processes, pid);
                        let _ = ns;
                        None
                    }
                    Signal::SIGXFSZ => {
                        recorder.event(
                            EventKind::Limit,
                            ns_pid_of(&mut processes, pid),
                            "file size: a write went past the file size limit (RLIMIT_FSIZE)".into(),
                        );
                        Some(signal)
                    }
                    Signal::SIGXCPU => {
                        recorder.event(
                            EventKind::Limit,
                            ns_pid_of(&mut processes, pid),
                            "cpu: the CPU time limit was reached (RLIMIT_CPU)".into(),
                        );
                        Some(signal)
                    }
                    other => Some(other),
                };
                if processes.get(&pid).is_some_and(|p| p.ns_pid == 0) {
                    ns_pid_of(&mut processes, pid);
                }
                let _ = ptrace::cont(pid, deliver);
            }
            WaitStatus::Exited(pid, code) => {
                if pid == setup {
                    setup_exit = Some(code);
                    break;
                }
                if Some(pid) == init {
                    killer.init_exited();
                }
                processes.remove(&pid);
            }
            WaitStatus::Signaled(pid, signal, _) => {
                if pid == setup {
                    setup_exit = Some(128 + signal as i32);
                    break;
                }
                if Some(pid) == init {
                    killer.init_exited();
                }
                if signal == Signal::SIGKILL || signal == Signal::SIGXCPU {
                    // Recorded where the kill was decided (limits) or by the signal stop.
                }
                processes.remove(&pid);
            }
            _ => {}
        }
    }
    TraceOutcome { setup_exit }
}

/// The pid inside the sandbox (last NSpid of /proc/PID/status), cached.
fn ns_pid_of(processes: &mut HashMap<Pid, Process>, pid: Pid) -> u32 {
    if let Some(process) = processes.get(&pid) {
        if process.ns_pid != 0 {
            return process.ns_pid;
        }
    }
    let ns_pid = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("NSpid:"))
                .and_then(|value| value.split_whitespace().last().and_then(|last| last.parse().ok()))
        })
        .unwrap_or(0);
    if let Some(process) = processes.get_mut(&pid) {
        process.ns_pid = ns_pid;
    }
    ns_pid
}

/// Reads tracee memory through /proc/PID/mem (the tracer may; no unsafe needed).
struct Memory {
    file: Option<std::fs::File>,
}

impl Memory {
    fn open(pid: Pid) -> Self {
        Memory {
            file: std::fs::File::open(format!("/proc/{pid}/mem")).ok(),
        }
    }

    fn bytes(&mut self, address: u64, length: usize) -> Option<Vec<u8>> {
        let file = self.file.as_mut()?;
        file.seek(SeekFrom::Start(address)).ok()?;
        let mut buffer = vec![0u8; length];
        let mut filled = 0;
        while filled < length {
            match file.read(&mut buffer[filled..]) {
                Ok(0) => break,
                Ok(count) => filled += count,
                Err(_) => break,
            }
        }
        buffer.truncate(filled);
        Some(buffer)
    }

    /// A NUL-terminated string of at most `max` bytes (read page by page: a string may end
    /// just before an unmapped page).
    fn string(&mut self, address: u64, max: usize) -> Option<String> {
        if address == 0 {
            return None;
        }
        let mut out = Vec::new();
        let mut cursor = address;
        while out.len() < max {
            let to_page_end = 4096 - (cursor % 4096) as usize;
            let chunk = self.bytes(cursor, to_page_end.min(max - out.len()))?;
            if chunk.is_empty() {
                break;
            }
            if let Some(end) = chunk.iter().position(|&byte| byte == 0) {
                out.extend_from_slice(&chunk[..end]);
                return Some(String::from_utf8_lossy(&out).into_owned());
            }
            cursor += chunk.len() as u64;
            out.extend_from_slice(&chunk);
        }
        Some(String::from_utf8_lossy(&out).into_owned())
    }

    fn word(&mut self, address: u64) -> Option<u64> {
        let bytes = self.bytes(address, 8)?;
        Some(u64::from_ne_bytes(bytes.try_into().ok()?))
    }

    fn argv(&mut self, address: u64) -> Vec<String> {
        let mut argv = Vec::new();
        if address == 0 {
            return argv;
        }
        for index in 0..256u64 {
            match self.word(address + index * 8) {
                Some(0) | None => break,
                Some(pointer) => argv.push(self.string(pointer, 4096).unwrap_or_default()),
            }
        }
        argv
    }
}

#[cfg(target_arch = "x86_64")]
fn syscall_stop(pid: Pid, processes: &mut HashMap<Pid, Process>, recorder: &Recorder) {
    let Ok(registers) = ptrace::getregs(pid) else {
        return;
    };
    let number = registers.orig_rax as i64;
    let args = [
        registers.rdi,
        registers.rsi,
        registers.rdx,
        registers.r10,
        registers.r8,
        registers.r9,
    ];
    let ns_pid = ns_pid_of(processes, pid);
    if ns_pid == 1 {
        // The sandbox's own init (listing the dropped files at the end), not the package.
        return;
    }
    let mut memory = Memory::open(pid);
    let path_at = |memory: &mut Memory, dirfd: u64, address: u64| -> Option<String> {
        let path = memory.string(address, 4096)?;
        Some(resolve(pid, dirfd as i32, &path))
    };
    const AT_FDCWD: u64 = libc::AT_FDCWD as i64 as u64;
    match number {
        libc::SYS_execve | libc::SYS_execveat => {
            let (path, argv) = if number == libc::SYS_execve {
                (path_at(&mut memory, AT_FDCWD, args[0]), memory.argv(args[1]))
            } else {
                (path_at(&mut memory, args[0], args[1]), memory.argv(args[2]))
            };
            let program = argv
                .first()
                .cloned()
                .or(path.clone())
                .unwrap_or_default()
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_string();
            // The program of the process that started this one: its parent's current program
            // (a process that already replaced itself once, or whose exec was stopped twice,
            // would otherwise name itself), else what this process ran before the exec.
            let parent_program = processes
                .get(&pid)
                .and_then(|process| process.parent)
                .and_then(|parent| processes.get(&parent))
                .filter(|parent| !parent.program.is_empty() && parent.program != "sandbox-init")
                .or_else(|| processes.get(&pid))
                .map(|process| process.program.clone())
                .unwrap_or_default();
            let parent_pid = processes
                .get(&pid)
                .and_then(|process| process.parent)
                .and_then(|parent| processes.get(&parent))
                .map(|parent| parent.ns_pid)
                .unwrap_or(0);
            if let Some(process) = processes.get_mut(&pid) {
                process.program = program;
            }
            recorder.exec(ns_pid, path.unwrap_or_default(), argv, parent_program, parent_pid);
        }
        libc::SYS_open | libc::SYS_creat | libc::SYS_openat | libc::SYS_openat2 => {
            let (path, flags) = match number {
                libc::SYS_open => (path_at(&mut memory, AT_FDCWD, args[0]), args[1]),
                libc::SYS_creat => (
                    path_at(&mut memory, AT_FDCWD, args[0]),
                    (libc::O_CREAT | libc::O_WRONLY) as u64,
                ),
                libc::SYS_openat => (path_at(&mut memory, args[0], args[1]), args[2]),
                _ => (
                    path_at(&mut memory, args[0], args[1]),
                    memory.word(args[2]).unwrap_or(0),
                ),
            };
            let Some(path) = path else { return };
            let write =
                flags & (libc::O_WRONLY | libc::O_RDWR | libc::O_CREAT | libc::O_TRUNC | libc::O_APPEND) as u64 != 0;
            recorder.file(ns_pid, &path, write, None);
        }
        libc::SYS_rename | libc::SYS_renameat | libc::SYS_renameat2 | libc::SYS_link | libc::SYS_linkat => {
            let (from, to) = if number == libc::SYS_rename || number == libc::SYS_link {
                (
                    path_at(&mut memory, AT_FDCWD, args[0]),
                    path_at(&mut memory, AT_FDCWD, args[1]),
                )
            } else {
                (
                    path_at(&mut memory, args[0], args[1]),
                    path_at(&mut memory, args[2], args[3]),
                )
            };
            if let Some(to) = to {
                let verb = if number == libc::SYS_link || number == libc::SYS_linkat {
                    "link from"
                } else {
                    "rename from"
                };
                recorder.file(ns_pid, &to, true, from.map(|from| format!("{verb} {from}")));
            }
        }
        libc::SYS_unlink | libc::SYS_rmdir | libc::SYS_unlinkat => {
            let path = if number == libc::SYS_unlinkat {
                path_at(&mut memory, args[0], args[1])
            } else {
                path_at(&mut memory, AT_FDCWD, args[0])
            };
            if let Some(path) = path {
                recorder.file(ns_pid, &path, true, Some("delete".into()));
            }
        }
        libc::SYS_symlink | libc::SYS_symlinkat => {
            let target = memory.string(args[0], 4096);
            let link = if number == libc::SYS_symlink {
                path_at(&mut memory, AT_FDCWD, args[1])
            } else {
                path_at(&mut memory, args[1], args[2])
            };
            if let Some(link) = link {
                recorder.file(ns_pid, &link, true, target.map(|target| format!("symlink to {target}")));
            }
        }
        libc::SYS_chmod | libc::SYS_fchmodat => {
            let (path, mode) = if number == libc::SYS_chmod {
                (path_at(&mut memory, AT_FDCWD, args[0]), args[1])
            } else {
                (path_at(&mut memory, args[0], args[1]), args[2])
            };
            if let Some(path) = path {
                recorder.chmod(ns_pid, &path, (mode & 0o7777) as u32);
            }
        }
        libc::SYS_connect => {
            if let Some(address) = memory
                .bytes(args[1], (args[2] as usize).min(128))
                .and_then(|raw| sockaddr(&raw))
            {
                recorder.connect(ns_pid, &address, "connect");
            }
        }
        libc::SYS_sendto if args[4] != 0 => {
            if let Some(address) = memory
                .bytes(args[4], (args[5] as usize).min(128))
                .and_then(|raw| sockaddr(&raw))
            {
                recorder.connect(ns_pid, &address, "sendto");
            }
        }
        libc::SYS_sendmsg => {
            // struct msghdr { void *msg_name; socklen_t msg_namelen; ... }
            let name = memory.word(args[1]).unwrap_or(0);
            let length = memory.word(args[1] + 8).unwrap_or(0) & 0xffff_ffff;
            if name != 0 && length > 0 {
                if let Some(address) = memory
                    .bytes(name, (length as usize).min(128))
                    .and_then(|raw| sockaddr(&raw))
                {
                    recorder.connect(ns_pid, &address, "sendmsg");
                }
            }
        }
        _ => {}
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn syscall_stop(_pid: Pid, _processes: &mut HashMap<Pid, Process>, _recorder: &Recorder) {}

/// A path made absolute against the directory descriptor or the working directory of the
/// tracee, as the tracee sees it (`/proc/PID/cwd` of a process whose root is elsewhere reads
/// relative to that root).
fn resolve(pid: Pid, dirfd: i32, path: &str) -> String {
    if path.starts_with('/') {
        return normalize(path);
    }
    let base = if dirfd == libc::AT_FDCWD {
        std::fs::read_link(format!("/proc/{pid}/cwd"))
    } else {
        std::fs::read_link(format!("/proc/{pid}/fd/{dirfd}"))
    };
    match base {
        Ok(base) => normalize(&format!("{}/{}", base.to_string_lossy(), path)),
        Err(_) => path.to_string(),
    }
}

/// Removes `.`/`..`/empty components (lexically; the tracee's symlinks are not followed).
pub(crate) fn normalize(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    format!("/{}", parts.join("/"))
}

/// An IPv4/IPv6 socket address as `ip:port` (unix and netlink sockets are not network).
fn sockaddr(raw: &[u8]) -> Option<String> {
    let family = u16::from_ne_bytes([*raw.first()?, *raw.get(1)?]);
    match i32::from(family) {
        libc::AF_INET => {
            let port = u16::from_be_bytes([*raw.get(2)?, *raw.get(3)?]);
            let ip = std::net::Ipv4Addr::new(*raw.get(4)?, *raw.get(5)?, *raw.get(6)?, *raw.get(7)?);
            Some(format!("{ip}:{port}"))
        }
        libc::AF_INET6 => {
            let port = u16::from_be_bytes([*raw.get(2)?, *raw.get(3)?]);
            let octets: [u8; 16] = raw.get(8..24)?.try_into().ok()?;
            Some(format!("[{}]:{port}", std::net::Ipv6Addr::from(octets)))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_normalized() {
        assert_eq!(
            normalize("/app/node_modules/x/../../.github/workflows/x.yml"),
            "/app/.github/workflows/x.yml"
        );
        assert_eq!(normalize("/../../etc//passwd"), "/etc/passwd");
    }

    #[test]
    fn socket_addresses_are_decoded() {
        let mut raw = vec![0u8; 16];
        raw[..2].copy_from_slice(&(libc::AF_INET as u16).to_ne_bytes());
        raw[2..4].copy_from_slice(&443u16.to_be_bytes());
        raw[4..8].copy_from_slice(&[1, 2, 3, 4]);
        assert_eq!(sockaddr(&raw).as_deref(), Some("1.2.3.4:443"));
        raw[..2].copy_from_slice(&(libc::AF_UNIX as u16).to_ne_bytes());
        assert_eq!(sockaddr(&raw), None);
    }
}
