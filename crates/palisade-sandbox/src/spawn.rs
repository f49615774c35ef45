//! Creating the sandbox: fork, namespaces, the throwaway root, limits, the seccomp filter and
//! the lifecycle steps. The only module with `unsafe` (fork, adopting received descriptors,
//! `_exit`); everything after the fork uses data prepared before it.
//!
//! Processes:
//! - the host process (palisade) forks the *setup* process, which asks to be traced, creates the
//!   user, mount, network, IPC, UTS and PID namespaces, waits for the host to write its uid/gid
//!   maps, sets up the fake network and hands the listening sockets to the host;
//! - the setup process forks the sandbox *init* (PID 1 of the new PID namespace): it builds the
//!   root (tmpfs, read-only `/usr`, `/dev`, `/proc`, fake home and project), pivots into it, sets
//!   the limits and the seccomp filter, and runs each step as a child, reaping everything;
//! - when init exits, the kernel kills every process left in the namespace.
#![allow(unsafe_code)]

use std::ffi::CString;
use std::io::{IoSlice, IoSliceMut, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sched::{unshare, CloneFlags};
use nix::sys::resource::{setrlimit, Resource};
use nix::sys::signal::{raise, Signal};
use nix::sys::socket::{recvmsg, sendmsg, ControlMessage, ControlMessageOwned, MsgFlags, UnixAddr};
use nix::sys::statvfs::{statvfs, FsFlags};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::{chdir, execve, fork, pivot_root, sethostname, ForkResult, Pid};

use crate::model::{Limits, SandboxError};

/// One step to run inside, prepared before the fork.
pub(crate) struct StepPlan {
    pub name: String,
    pub program: CString,
    pub argv: Vec<CString>,
    pub env: Vec<CString>,
    pub cwd: String,
}

/// Everything the sandboxed processes need, computed before the fork.
pub(crate) struct Plan {
    /// An empty host directory the tmpfs root is mounted on (only inside the mount namespace).
    pub root: PathBuf,
    /// Directories to create inside (absolute sandbox paths), parents first.
    pub dirs: Vec<String>,
    /// Files to write inside: (absolute sandbox path, contents, mode).
    pub files: Vec<(String, Vec<u8>, u32)>,
    /// Host paths bind-mounted read-only at the same place inside (`/usr`, node's directory).
    pub read_only: Vec<String>,
    /// Top-level symlinks to mirror (`/bin -> usr/bin` on merged-/usr systems).
    pub symlinks: Vec<(String, String)>,
    pub steps: Vec<StepPlan>,
    pub limits: Limits,
    pub linger: Duration,
    /// Seccomp filters, installed in order: the tracing filter and the hardening filters.
    pub seccomp: Vec<seccompiler::BpfProgram>,
}

/// The running sandbox as the host sees it.
pub(crate) struct Started {
    /// The setup process (traced; its fork is the sandbox init).
    pub setup: Pid,
    /// Listening sockets of the fake network, bound inside the namespace.
    pub sinks: Vec<OwnedFd>,
    /// stdout+stderr of every step.
    pub output: std::fs::File,
    /// Step markers and setup errors from init, one per line.
    pub status: std::fs::File,
}

/// A close-on-exec pipe as (reader, writer).
fn pipe() -> nix::Result<(std::fs::File, std::fs::File)> {
    let (reader, writer) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
    Ok((std::fs::File::from(reader), std::fs::File::from(writer)))
}

/// Forks the setup process and completes the handshake; the caller then runs the tracer.
pub(crate) fn start(plan: &Plan) -> Result<Started, SandboxError> {
    let (host_end, child_end) =
        UnixStream::pair().map_err(|error| SandboxError::Setup(format!("socketpair: {error}")))?;
    let (output_reader, output_writer) = pipe().map_err(|error| SandboxError::Setup(format!("pipe: {error}")))?;
    let (status_reader, status_writer) = pipe().map_err(|error| SandboxError::Setup(format!("pipe: {error}")))?;
    let host_uid = nix::unistd::geteuid();
    let host_gid = nix::unistd::getegid();
    // SAFETY: the child only runs `setup_main`, which uses data prepared before the fork, never
    // returns, and ends with `_exit`; glibc keeps malloc usable in the child of a threaded parent.
    match unsafe { fork() } {
        Err(error) => Err(SandboxError::Setup(format!("fork: {error}"))),
        Ok(ForkResult::Child) => {
            drop(host_end);
            drop(output_reader);
            drop(status_reader);
            let code = setup_main(plan, child_end, output_writer, status_writer).unwrap_or(70);
            // SAFETY: `_exit` ends the forked child without running the parent's atexit handlers.
            unsafe { libc::_exit(code) }
        }
        Ok(ForkResult::Parent { child }) => {
            drop(child_end);
            drop(output_writer);
            drop(status_writer);
            let fail = |message: String| {
                let _ = nix::sys::signal::kill(child, Signal::SIGKILL);
                let _ = waitpid(child, Some(WaitPidFlag::__WALL));
                SandboxError::Setup(message)
            };
            // The child stops itself once it asked to be traced: set the tracing options.
            match waitpid(child, Some(WaitPidFlag::__WALL)) {
                Ok(WaitStatus::Stopped(_, Signal::SIGSTOP)) => {}
                other => return Err(fail(format!("the sandbox did not start: {other:?}"))),
            }
            if let Err(error) = crate::trace::set_options(child) {
                return Err(fail(format!("ptrace options: {error}")));
            }
            let _ = nix::sys::ptrace::cont(child, None);
            let mut socket = host_end;
            let mut byte = [0u8; 1];
            let _ = socket.set_read_timeout(Some(Duration::from_secs(20)));
            match socket.read(&mut byte) {
                Ok(1) if byte[0] == b'u' => {}
                _ => {
                    let message = read_error(&mut socket);
                    return Err(fail(message));
                }
            }
            if let Err(error) = write_id_maps(child, host_uid.as_raw(), host_gid.as_raw()) {
                return Err(fail(format!("writing the user namespace's id maps: {error}")));
            }
            if socket.write_all(b"m").is_err() {
                return Err(fail("the sandbox's setup process went away".into()));
            }
            let sinks = match receive_fds(&socket) {
                Ok(fds) => fds,
                Err(message) => return Err(fail(message)),
            };
            Ok(Started {
                setup: child,
                sinks,
                output: output_reader,
                status: status_reader,
            })
        }
    }
}

fn read_error(socket: &mut UnixStream) -> String {
    let mut text = String::new();
    let _ = socket.take(4096).read_to_string(&mut text);
    if text.is_empty() {
        "the sandbox's setup process exited during setup".to_string()
    } else {
        text.trim_start_matches('e').to_string()
    }
}

/// The sandbox user is uid/gid 1000 inside, mapped to `nobody` when palisade runs as root (so
/// nothing inside is root on the host, and per-user process limits do not exempt it) and to
/// the invoking user otherwise (the only mapping an unprivileged user may write).
fn write_id_maps(child: Pid, uid: u32, gid: u32) -> std::io::Result<()> {
    let (outside_uid, outside_gid) = if uid == 0 { (65534, 65534) } else { (uid, gid) };
    let base = format!("/proc/{child}");
    std::fs::write(format!("{base}/setgroups"), "deny")?;
    std::fs::write(format!("{base}/uid_map"), format!("1000 {outside_uid} 1\n"))?;
    std::fs::write(format!("{base}/gid_map"), format!("1000 {outside_gid} 1\n"))
}

fn receive_fds(socket: &UnixStream) -> Result<Vec<OwnedFd>, String> {
    let mut buffer = [0u8; 4096];
    let mut iov = [IoSliceMut::new(&mut buffer)];
    let mut space = nix::cmsg_space!([std::os::fd::RawFd; 64]);
    let message = recvmsg::<UnixAddr>(
        socket.as_raw_fd(),
        &mut iov,
        Some(&mut space),
        MsgFlags::MSG_CMSG_CLOEXEC,
    )
    .map_err(|error| format!("receiving the fake network's sockets: {error}"))?;
    let mut fds = Vec::new();
    for control in message.cmsgs().map_err(|error| format!("control message: {error}"))? {
        if let ControlMessageOwned::ScmRights(received) = control {
            for fd in received {
                // SAFETY: SCM_RIGHTS gave this process a new descriptor that nothing else owns.
                fds.push(unsafe { OwnedFd::from_raw_fd(fd) });
            }
        }
    }
    let length = message.bytes;
    let text = String::from_utf8_lossy(&buffer[..length]).to_string();
    if let Some(message) = text.strip_prefix('e') {
        return Err(message.to_string());
    }
    if fds.is_empty() {
        return Err("the sandbox's setup process exited during setup".into());
    }
    Ok(fds)
}

/// Closes every descriptor the fork inherited except stdio and `keep`. Close-on-exec does not
/// apply here (the setup and init processes never exec), and descriptors of other sandboxes
/// running in the same host process (their output pipes, sinks) must not stay open in this
/// one: a pipe stays open as long as any copy of its write end does.
fn close_inherited_fds(keep: &[std::os::fd::RawFd]) {
    let Ok(entries) = std::fs::read_dir("/proc/self/fd") else {
        return;
    };
    let fds: Vec<std::os::fd::RawFd> = entries
        .flatten()
        .filter_map(|entry| entry.file_name().to_str().and_then(|name| name.parse().ok()))
        .collect();
    for fd in fds {
        if fd > 2 && !keep.contains(&fd) {
            // SAFETY: this single-threaded fork child owns no Rust object for these descriptors
            // (they belong to the parent's objects, which are never used here); the directory
            // descriptor of the listing is already closed, so EBADF is harmless.
            unsafe {
                libc::close(fd);
            }
        }
    }
}

/// The setup process: namespaces, id maps (by the host), network, then the init fork.
fn setup_main(plan: &Plan, mut socket: UnixStream, output: std::fs::File, status: std::fs::File) -> Result<i32, ()> {
    close_inherited_fds(&[socket.as_raw_fd(), output.as_raw_fd(), status.as_raw_fd()]);
    let report = |socket: &mut UnixStream, message: String| {
        let _ = socket.write_all(format!("e{message}").as_bytes());
    };
    if nix::sys::ptrace::traceme().is_err() || raise(Signal::SIGSTOP).is_err() {
        report(&mut socket, "ptrace(PTRACE_TRACEME) failed".into());
        return Err(());
    }
    let flags = CloneFlags::CLONE_NEWUSER
        | CloneFlags::CLONE_NEWNS
        | CloneFlags::CLONE_NEWNET
        | CloneFlags::CLONE_NEWIPC
        | CloneFlags::CLONE_NEWUTS
        | CloneFlags::CLONE_NEWPID;
    if let Err(error) = unshare(flags) {
        report(
            &mut socket,
            format!("unshare(user, mount, net, ipc, uts, pid namespaces): {error}"),
        );
        return Err(());
    }
    if socket.write_all(b"u").is_err() {
        return Err(());
    }
    let mut byte = [0u8; 1];
    if socket.read_exact(&mut byte).is_err() {
        return Err(());
    }
    // Become the mapped user: a root host process keeps kuid 0 through unshare, which the new
    // namespace cannot map; the capabilities in the new namespace are kept (its uid 0 is unmapped).
    let sandbox_gid = nix::unistd::Gid::from_raw(1000);
    let sandbox_uid = nix::unistd::Uid::from_raw(1000);
    if let Err(error) = nix::unistd::setresgid(sandbox_gid, sandbox_gid, sandbox_gid)
        .and_then(|()| nix::unistd::setresuid(sandbox_uid, sandbox_uid, sandbox_uid))
    {
        report(&mut socket, format!("switching to the sandbox user: {error}"));
        return Err(());
    }
    if let Err(message) = crate::net::configure_loopback() {
        report(&mut socket, format!("network namespace: {message}"));
        return Err(());
    }
    let sinks = match crate::net::bind_sinks() {
        Ok(sinks) => sinks,
        Err(message) => {
            report(&mut socket, message);
            return Err(());
        }
    };
    let raw: Vec<std::os::fd::RawFd> = sinks.iter().map(AsRawFd::as_raw_fd).collect();
    let sent = sendmsg::<UnixAddr>(
        socket.as_raw_fd(),
        &[IoSlice::new(b"s")],
        &[ControlMessage::ScmRights(&raw)],
        MsgFlags::empty(),
        None,
    );
    if sent.is_err() {
        return Err(());
    }
    drop(sinks);
    drop(socket);
    // SAFETY: the setup process is single-threaded (it is a fork child); the init child runs
    // `init_main`, which never returns and ends with `_exit`.
    match unsafe { fork() } {
        Err(_) => Err(()),
        Ok(ForkResult::Child) => {
            let mut status = status;
            let code = match init_main(plan, &output, &mut status) {
                Ok(()) => 0,
                Err(message) => {
                    let _ = writeln!(status, "error {}", message.replace('\n', " "));
                    70
                }
            };
            // SAFETY: ends the forked init without running inherited atexit handlers.
            unsafe { libc::_exit(code) }
        }
        Ok(ForkResult::Parent { child }) => {
            drop(output);
            drop(status);
            loop {
                match waitpid(child, None) {
                    Ok(WaitStatus::Exited(_, code)) => return Ok(code),
                    Ok(WaitStatus::Signaled(..)) => return Ok(137),
                    Ok(_) => continue,
                    Err(nix::errno::Errno::EINTR) => continue,
                    Err(_) => return Ok(71),
                }
            }
        }
    }
}

fn errno(what: &str, path: &str, error: impl std::fmt::Display) -> String {
    format!("{what} `{path}`: {error}")
}

/// Bind-mounts `path` read-only. In a user namespace the remount must keep the flags the
/// original mount is locked with (nosuid, nodev, noexec), or it fails with EPERM.
fn bind_read_only(source: &str, target: &str) -> Result<(), String> {
    mount(
        Some(source),
        target,
        None::<&str>,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        None::<&str>,
    )
    .map_err(|error| errno("bind-mount", source, error))?;
    let mut flags = MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY;
    if let Ok(stat) = statvfs(source) {
        let locked = stat.flags();
        for (fs_flag, ms_flag) in [
            (FsFlags::ST_NOSUID, MsFlags::MS_NOSUID),
            (FsFlags::ST_NODEV, MsFlags::MS_NODEV),
            (FsFlags::ST_NOEXEC, MsFlags::MS_NOEXEC),
            (FsFlags::ST_NOATIME, MsFlags::MS_NOATIME),
            (FsFlags::ST_NODIRATIME, MsFlags::MS_NODIRATIME),
            (FsFlags::ST_RELATIME, MsFlags::MS_RELATIME),
        ] {
            if locked.contains(fs_flag) {
                flags |= ms_flag;
            }
        }
    }
    mount(None::<&str>, target, None::<&str>, flags, None::<&str>)
        .map_err(|error| errno("remount read-only", target, error))
}

fn init_main(plan: &Plan, output: &std::fs::File, status: &mut std::fs::File) -> Result<(), String> {
    // Init keeps the host's stdio and the status pipe: no process of the sandbox (same uid)
    // may reach them through /proc/1/fd.
    let _ = nix::sys::prctl::set_dumpable(false);
    if let Ok(null) = std::fs::OpenOptions::new().read(true).write(true).open("/dev/null") {
        let _ = nix::unistd::dup2_stdin(&null);
        let _ = nix::unistd::dup2_stdout(&null);
        let _ = nix::unistd::dup2_stderr(&null);
    }
    // 1. A private copy of the mount tree, then a size-limited tmpfs as the new root.
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None::<&str>,
    )
    .map_err(|error| errno("make private", "/", error))?;
    let root = plan.root.to_string_lossy().to_string();
    let tmpfs_options = format!("size={},mode=755,nr_inodes=65536", plan.limits.disk_bytes);
    mount(
        Some("palisade-sandbox"),
        root.as_str(),
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
        Some(tmpfs_options.as_str()),
    )
    .map_err(|error| errno("mount tmpfs on", &root, error))?;
    let inside = |path: &str| format!("{root}{path}");
    for dir in ["/usr", "/etc", "/dev", "/proc", "/tmp", "/old-root"] {
        std::fs::create_dir_all(inside(dir)).map_err(|error| errno("mkdir", dir, error))?;
    }
    for path in &plan.read_only {
        std::fs::create_dir_all(inside(path)).map_err(|error| errno("mkdir", path, error))?;
        bind_read_only(path, &inside(path))?;
    }
    for (link, target) in &plan.symlinks {
        if let Some(parent) = std::path::Path::new(&inside(link)).parent() {
            std::fs::create_dir_all(parent).map_err(|error| errno("mkdir", link, error))?;
        }
        std::os::unix::fs::symlink(target, inside(link)).map_err(|error| errno("symlink", link, error))?;
    }
    // 2. /dev: a few harmless character devices bound from the host.
    for device in ["null", "zero", "full", "random", "urandom", "tty"] {
        let target = inside(&format!("/dev/{device}"));
        std::fs::write(&target, b"").map_err(|error| errno("create", &target, error))?;
        let source = format!("/dev/{device}");
        // tty may be missing or unusable (no controlling terminal): skip it then.
        if mount(
            Some(source.as_str()),
            target.as_str(),
            None::<&str>,
            MsFlags::MS_BIND,
            None::<&str>,
        )
        .is_err()
            && device != "tty"
        {
            return Err(errno("bind-mount", &source, "failed"));
        }
    }
    for (link, target) in [
        ("/dev/fd", "/proc/self/fd"),
        ("/dev/stdin", "/proc/self/fd/0"),
        ("/dev/stdout", "/proc/self/fd/1"),
        ("/dev/stderr", "/proc/self/fd/2"),
    ] {
        let _ = std::os::unix::fs::symlink(target, inside(link));
    }
    // 3. A fresh /proc for the new PID namespace.
    mount(
        Some("proc"),
        inside("/proc").as_str(),
        Some("proc"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        None::<&str>,
    )
    .map_err(|error| errno("mount", "/proc", error))?;
    // 4. Swap roots and forget the host's.
    pivot_root(root.as_str(), inside("/old-root").as_str()).map_err(|error| errno("pivot_root", &root, error))?;
    chdir("/").map_err(|error| errno("chdir", "/", error))?;
    umount2("/old-root", MntFlags::MNT_DETACH).map_err(|error| errno("unmount", "/old-root", error))?;
    let _ = std::fs::remove_dir("/old-root");
    let _ = sethostname("sandbox");
    // 5. The fake project, package and home.
    for dir in &plan.dirs {
        std::fs::create_dir_all(dir).map_err(|error| errno("mkdir", dir, error))?;
    }
    for (path, contents, mode) in &plan.files {
        if let Some(parent) = std::path::Path::new(path).parent() {
            std::fs::create_dir_all(parent).map_err(|error| errno("mkdir", path, error))?;
        }
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(*mode)
            .open(path)
            .map_err(|error| errno("create", path, error))?;
        file.write_all(contents).map_err(|error| errno("write", path, error))?;
    }
    let _ = std::fs::set_permissions("/tmp", std::fs::Permissions::from_mode(0o1777));
    // 6. Limits, then the seccomp filter that makes the tracer stop on the syscalls it records.
    let limits = &plan.limits;
    let rlimits = [
        (Resource::RLIMIT_CPU, limits.cpu_seconds, limits.cpu_seconds + 1),
        (Resource::RLIMIT_AS, limits.memory_bytes, limits.memory_bytes),
        (
            Resource::RLIMIT_NPROC,
            u64::from(limits.max_processes) * 16,
            u64::from(limits.max_processes) * 16,
        ),
        (Resource::RLIMIT_FSIZE, limits.max_file_bytes, limits.max_file_bytes),
        (Resource::RLIMIT_CORE, 0, 0),
        (Resource::RLIMIT_NOFILE, 1024, 1024),
    ];
    for (resource, soft, hard) in rlimits {
        setrlimit(resource, soft, hard).map_err(|error| format!("setrlimit {resource:?}: {error}"))?;
    }
    for program in &plan.seccomp {
        seccompiler::apply_filter(program).map_err(|error| format!("seccomp filter: {error}"))?;
    }
    // 7. The steps, in order, reaping every process; npm stops at the first failing script.
    let steps_started = std::time::SystemTime::now();
    for step in &plan.steps {
        let outcome = run_logged(step, output, status);
        if step.name != "load" && !outcome.starts_with("exit 0") {
            // npm aborts the install; still load the entry point to observe it.
            if let Some(load) = plan.steps.iter().find(|candidate| candidate.name == "load") {
                if !std::ptr::eq(load, step) {
                    run_logged(load, output, status);
                }
            }
            break;
        }
    }
    // 8. Give background processes the linger time, then return: init's exit kills the rest.
    let deadline = Instant::now() + plan.linger;
    while Instant::now() < deadline {
        match waitpid(None, Some(WaitPidFlag::WNOHANG | WaitPidFlag::__WALL)) {
            Err(nix::errno::Errno::ECHILD) => break,
            Ok(WaitStatus::StillAlive) => std::thread::sleep(Duration::from_millis(10)),
            _ => {}
        }
    }
    report_dropped_files(steps_started, status);
    let _ = writeln!(status, "done");
    Ok(())
}

/// Lists the files the steps created or changed (outside `/proc` and `/dev`), with size, mode and
/// sha256, so dropped payloads can be identified after the tmpfs is gone. Bounded: 100 files,
/// 5,000 directory entries, 64 MiB hashed per file.
fn report_dropped_files(since: std::time::SystemTime, status: &mut std::fs::File) {
    use sha2::{Digest, Sha256};
    use std::os::unix::fs::MetadataExt;
    let mut pending = vec![(PathBuf::from("/"), 0usize)];
    let mut visited = 0usize;
    let mut reported = 0usize;
    while let Some((dir, depth)) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            visited += 1;
            if visited > 5_000 || reported >= 100 {
                return;
            }
            let path = entry.path();
            let Ok(meta) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            if meta.is_dir() {
                let skip = ["/proc", "/dev", "/usr", "/sys"]
                    .iter()
                    .any(|top| path == std::path::Path::new(top));
                if !skip && depth < 16 {
                    pending.push((path, depth + 1));
                }
                continue;
            }
            if !meta.is_file() || meta.modified().map_or(true, |modified| modified < since) {
                continue;
            }
            let mut hasher = Sha256::new();
            if let Ok(file) = std::fs::File::open(&path) {
                let _ = std::io::copy(&mut file.take(64 << 20), &mut hasher);
            }
            let digest: String = hasher.finalize().iter().map(|byte| format!("{byte:02x}")).collect();
            let _ = writeln!(
                status,
                "file {} {:o} {} {}",
                meta.len(),
                meta.mode() & 0o7777,
                digest,
                path.display().to_string().replace('\n', "?")
            );
            reported += 1;
        }
    }
}

/// Forks one step and waits for it, reaping any other process that ends meanwhile.
/// Runs one step with its `start` and `end` lines on the status pipe; returns the outcome as
/// written there (`exit 0`, `signal 9`, `failed …`).
fn run_logged(step: &StepPlan, output: &std::fs::File, status: &mut std::fs::File) -> String {
    let _ = writeln!(status, "start {}", step.name);
    let started = Instant::now();
    let outcome = match run_step(step, output) {
        Ok(WaitStatus::Exited(_, code)) => format!("exit {code}"),
        Ok(WaitStatus::Signaled(_, signal, _)) => format!("signal {}", signal as i32),
        Ok(other) => format!("other {other:?}"),
        Err(message) => format!("failed {message}"),
    };
    let _ = writeln!(
        status,
        "end {} {} {}",
        step.name,
        started.elapsed().as_millis(),
        outcome
    );
    outcome
}

fn run_step(step: &StepPlan, output: &std::fs::File) -> Result<WaitStatus, String> {
    // SAFETY: init is single-threaded; the child only redirects descriptors and execs.
    match unsafe { fork() } {
        Err(error) => Err(format!("fork: {error}")),
        Ok(ForkResult::Child) => {
            let _ = nix::unistd::dup2_stdout(output);
            let _ = nix::unistd::dup2_stderr(output);
            if let Ok(null) = std::fs::File::open("/dev/null") {
                let _ = nix::unistd::dup2_stdin(&null);
            }
            let _ = chdir(step.cwd.as_str());
            let _ = execve(&step.program, &step.argv, &step.env);
            // SAFETY: exec failed; end the forked child at once (127 as a shell would).
            unsafe { libc::_exit(127) }
        }
        Ok(ForkResult::Parent { child }) => loop {
            match waitpid(None, Some(WaitPidFlag::__WALL)) {
                Ok(status) if status.pid() == Some(child) => match status {
                    WaitStatus::Exited(..) | WaitStatus::Signaled(..) => return Ok(status),
                    _ => continue,
                },
                Ok(_) => continue,
                Err(nix::errno::Errno::EINTR) => continue,
                Err(error) => return Err(format!("wait: {error}")),
            }
        },
    }
}
