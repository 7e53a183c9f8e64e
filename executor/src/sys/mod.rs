//! Every system call the stages make, behind one trait: [`Kernel`] performs them, and tests substitute a
//! recording double to check the order of the stage logic without a kernel.
//!
//! Methods take pre-built C strings and plain integers so that a child stage calls them without allocating.

#[allow(unsafe_code)]
pub(crate) mod raw;
#[cfg(test)]
pub(crate) mod record;

use nix::errno::Errno;
use nix::fcntl::{FcntlArg, OFlag};
use nix::sched::CloneFlags;
use nix::sys::stat::Mode;
use nsbootstrap_codec::NamespaceKind;
use std::ffi::CStr;
use std::os::fd::{IntoRawFd, RawFd};

pub use raw::{Cloned, SingleThreaded};

/// The system calls of the bootstrap sequence.
pub trait Sys {
    /// open(2) read-only, close-on-exec.
    fn open_read(&mut self, path: &CStr) -> Result<RawFd, Errno>;
    /// open(2) read-write, no controlling-terminal side effect, close-on-exec.
    fn open_rdwr(&mut self, path: &CStr) -> Result<RawFd, Errno>;
    /// open(2) with O_PATH, close-on-exec.
    fn open_path(&mut self, path: &CStr) -> Result<RawFd, Errno>;
    /// close(2).
    fn close(&mut self, fd: RawFd);
    /// Sends one descriptor over a unix socket (SCM_RIGHTS, with one NUL byte of data).
    fn send_fd(&mut self, sock: RawFd, fd: RawFd) -> Result<(), Errno>;
    /// Receives one descriptor sent by [`Sys::send_fd`].
    fn recv_fd(&mut self, sock: RawFd) -> Result<RawFd, Errno>;
    /// dup3(fd, to, O_CLOEXEC).
    fn dup3_cloexec(&mut self, fd: RawFd, to: RawFd) -> Result<(), Errno>;
    /// setns(2) with the kind's flag.
    fn setns(&mut self, fd: RawFd, kind: NamespaceKind) -> Result<(), Errno>;
    /// unshare(2), retried a few times on EINVAL (old kernels' race with /proc readers).
    fn unshare(&mut self, flags: u32) -> Result<(), Errno>;
    /// prctl(PR_SET_DUMPABLE).
    fn set_dumpable(&mut self, on: bool) -> Result<(), Errno>;
    /// prctl(PR_SET_NAME).
    fn set_name(&mut self, name: &CStr);
    /// Writes `data` to the file at `path` (a /proc file) in one write(2).
    fn write_file(&mut self, path: &CStr, data: &[u8]) -> Result<(), Errno>;
    /// socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC).
    fn socketpair(&mut self) -> Result<[RawFd; 2], Errno>;
    /// clone(2) with `CLONE_PARENT | SIGCHLD`, fork-like (the child runs on a copy of the stack). The
    /// child makes no allocation until it execs or exits (a project rule: see the stage module).
    fn clone_parent(&mut self) -> Result<Cloned, Errno>;
    /// Writes all of `bytes` to `fd`.
    fn write_all(&mut self, fd: RawFd, bytes: &[u8]) -> Result<(), Errno>;
    /// Reads exactly `buf.len()` bytes; `Ok(false)` on end of file before the first byte.
    fn read_exact(&mut self, fd: RawFd, buf: &mut [u8]) -> Result<bool, Errno>;
    /// read(2) once.
    fn read(&mut self, fd: RawFd, buf: &mut [u8]) -> Result<usize, Errno>;
    /// Waits until `a` or `b` is readable (or closed); returns 0 for `a`, 1 for `b`.
    fn wait_either(&mut self, a: RawFd, b: RawFd) -> Result<usize, Errno>;
    /// setsid(2).
    fn setsid(&mut self) -> Result<(), Errno>;
    /// setresuid(0, 0, 0).
    fn become_root_uid(&mut self) -> Result<(), Errno>;
    /// setuid(0).
    fn setuid_root(&mut self) -> Result<(), Errno>;
    /// setgid(0).
    fn setgid_root(&mut self) -> Result<(), Errno>;
    /// setgroups(0, NULL).
    fn clear_groups(&mut self) -> Result<(), Errno>;
    /// ioctl(TIOCSCTTY) on `fd`.
    fn set_controlling_tty(&mut self, fd: RawFd) -> Result<(), Errno>;
    /// dup2(2).
    fn dup2(&mut self, fd: RawFd, to: RawFd) -> Result<(), Errno>;
    /// kill(pid, SIGKILL), ignoring errors.
    fn kill(&mut self, pid: i32);
    /// Runs `argv` (`argv[0]` the program's path) with an empty environment and waits: its exit status, or
    /// 128 + signal.
    fn run(&mut self, argv: &[&CStr]) -> Result<i32, Errno>;
    /// _exit(2).
    fn exit(&mut self, code: i32) -> !;
}

/// The real kernel. Made from a [`SingleThreaded`] proof, which the fork-like clone and the helpers' fork
/// need.
#[derive(Debug)]
pub struct Kernel {
    proof: SingleThreaded,
}

impl Kernel {
    /// The kernel, for a process shown to be single-threaded.
    pub fn new(proof: SingleThreaded) -> Kernel {
        Kernel { proof }
    }
}

/// open(2) with `flags | O_CLOEXEC`; nix takes the `&CStr` as it is (no copy).
fn open(path: &CStr, flags: OFlag) -> Result<RawFd, Errno> {
    nix::fcntl::open(path, flags | OFlag::O_CLOEXEC, Mode::empty()).map(IntoRawFd::into_raw_fd)
}

/// Retries `f` while it fails with EINTR.
fn retry<T>(mut f: impl FnMut() -> Result<T, Errno>) -> Result<T, Errno> {
    loop {
        match f() {
            Err(Errno::EINTR) => continue,
            r => return r,
        }
    }
}

impl Sys for Kernel {
    fn open_read(&mut self, path: &CStr) -> Result<RawFd, Errno> {
        open(path, OFlag::O_RDONLY)
    }

    fn open_rdwr(&mut self, path: &CStr) -> Result<RawFd, Errno> {
        open(path, OFlag::O_RDWR | OFlag::O_NOCTTY)
    }

    fn open_path(&mut self, path: &CStr) -> Result<RawFd, Errno> {
        open(path, OFlag::O_PATH)
    }

    fn send_fd(&mut self, sock: RawFd, fd: RawFd) -> Result<(), Errno> {
        use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags, UnixAddr};
        // Stage 0 sends (it is the process the runtime started, not a clone: nix's control buffer may be
        // allocated here).
        let byte = [0u8];
        let iov = [std::io::IoSlice::new(&byte)];
        let fds = [fd];
        let cmsg = [ControlMessage::ScmRights(&fds)];
        match retry(|| sendmsg::<UnixAddr>(sock, &iov, &cmsg, MsgFlags::empty(), None))? {
            1 => Ok(()),
            _ => Err(Errno::EIO),
        }
    }

    fn recv_fd(&mut self, sock: RawFd) -> Result<RawFd, Errno> {
        raw::recv_fd(sock)
    }

    fn dup3_cloexec(&mut self, fd: RawFd, to: RawFd) -> Result<(), Errno> {
        raw::dup3_cloexec(fd, to)
    }

    fn close(&mut self, fd: RawFd) {
        // The stages close only descriptors they opened or inherited and own; a stale number fails with
        // EBADF, which is ignored.
        let _ = nix::unistd::close(fd);
    }

    fn setns(&mut self, fd: RawFd, kind: NamespaceKind) -> Result<(), Errno> {
        nix::sched::setns(
            raw::fd(fd)?,
            CloneFlags::from_bits_retain(kind.flag() as libc::c_int),
        )
    }

    fn unshare(&mut self, flags: u32) -> Result<(), Errno> {
        let flags = CloneFlags::from_bits_retain(flags as libc::c_int);
        let mut last = Errno::EINVAL;
        for _ in 0..5 {
            match nix::sched::unshare(flags) {
                Ok(()) => return Ok(()),
                Err(Errno::EINVAL) => last = Errno::EINVAL,
                Err(e) => return Err(e),
            }
        }
        Err(last)
    }

    fn set_dumpable(&mut self, on: bool) -> Result<(), Errno> {
        nix::sys::prctl::set_dumpable(on)
    }

    fn set_name(&mut self, name: &CStr) {
        let _ = nix::sys::prctl::set_name(name);
    }

    fn write_file(&mut self, path: &CStr, data: &[u8]) -> Result<(), Errno> {
        // No creation; the descriptor is closed when `fd` drops.
        let fd = nix::fcntl::open(path, OFlag::O_WRONLY | OFlag::O_CLOEXEC, Mode::empty())?;
        let n = nix::unistd::write(&fd, data)?;
        if n != data.len() {
            return Err(Errno::EIO);
        }
        Ok(())
    }

    fn socketpair(&mut self) -> Result<[RawFd; 2], Errno> {
        use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};
        let (a, b) = socketpair(
            AddressFamily::Unix,
            SockType::Stream,
            None,
            SockFlag::SOCK_CLOEXEC,
        )?;
        Ok([a.into_raw_fd(), b.into_raw_fd()])
    }

    fn clone_parent(&mut self) -> Result<Cloned, Errno> {
        raw::clone_parent(&self.proof)
    }

    fn write_all(&mut self, fd: RawFd, mut bytes: &[u8]) -> Result<(), Errno> {
        let fd = raw::fd(fd)?;
        while !bytes.is_empty() {
            match retry(|| nix::unistd::write(fd, bytes))? {
                0 => return Err(Errno::EPIPE),
                n => bytes = &bytes[n..],
            }
        }
        Ok(())
    }

    fn read_exact(&mut self, fd: RawFd, buf: &mut [u8]) -> Result<bool, Errno> {
        let mut got = 0;
        while got < buf.len() {
            match self.read(fd, &mut buf[got..])? {
                0 if got == 0 => return Ok(false),
                0 => return Err(Errno::EPIPE),
                n => got += n,
            }
        }
        Ok(true)
    }

    fn read(&mut self, fd: RawFd, buf: &mut [u8]) -> Result<usize, Errno> {
        let fd = raw::fd(fd)?;
        retry(|| nix::unistd::read(fd, buf))
    }

    fn wait_either(&mut self, a: RawFd, b: RawFd) -> Result<usize, Errno> {
        use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
        let mut fds = [
            PollFd::new(raw::fd(a)?, PollFlags::POLLIN),
            PollFd::new(raw::fd(b)?, PollFlags::POLLIN),
        ];
        loop {
            retry(|| poll(&mut fds, PollTimeout::NONE))?;
            for (i, f) in fds.iter().enumerate() {
                if f.revents().is_some_and(|r| !r.is_empty()) {
                    return Ok(i);
                }
            }
        }
    }

    fn setsid(&mut self) -> Result<(), Errno> {
        nix::unistd::setsid().map(drop)
    }

    fn become_root_uid(&mut self) -> Result<(), Errno> {
        let root = nix::unistd::Uid::from_raw(0);
        nix::unistd::setresuid(root, root, root)
    }

    fn setuid_root(&mut self) -> Result<(), Errno> {
        // glibc's setuid would broadcast to other threads; there are none (the kernel's proof).
        nix::unistd::setuid(nix::unistd::Uid::from_raw(0))
    }

    fn setgid_root(&mut self) -> Result<(), Errno> {
        nix::unistd::setgid(nix::unistd::Gid::from_raw(0))
    }

    fn clear_groups(&mut self) -> Result<(), Errno> {
        nix::unistd::setgroups(&[])
    }

    fn set_controlling_tty(&mut self, fd: RawFd) -> Result<(), Errno> {
        raw::set_controlling_tty(fd)
    }

    fn dup2(&mut self, fd: RawFd, to: RawFd) -> Result<(), Errno> {
        let from = raw::fd(fd)?;
        match to {
            0 => nix::unistd::dup2_stdin(from),
            1 => nix::unistd::dup2_stdout(from),
            2 => nix::unistd::dup2_stderr(from),
            _ => raw::dup2(fd, to),
        }
    }

    fn kill(&mut self, pid: i32) {
        if pid > 0 {
            // A stale PID fails with ESRCH, which is ignored.
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }

    fn run(&mut self, argv: &[&CStr]) -> Result<i32, Errno> {
        use nix::sys::wait::{waitpid, WaitStatus};
        let pid = nix::unistd::Pid::from_raw(raw::spawn_with_empty_env(&self.proof, argv)?);
        loop {
            match retry(|| waitpid(pid, None))? {
                WaitStatus::Exited(_, code) => return Ok(code),
                WaitStatus::Signaled(_, sig, _) => return Ok(128 + sig as i32),
                _ => continue,
            }
        }
    }

    fn exit(&mut self, code: i32) -> ! {
        raw::exit(code)
    }
}

/// Whether `fd` is an open descriptor (F_GETFD).
pub(crate) fn is_open(fd: RawFd) -> bool {
    raw::fd(fd).is_ok_and(|f| nix::fcntl::fcntl(f, FcntlArg::F_GETFD).is_ok())
}

/// Marks `fd` close-on-exec (F_SETFD), ignoring errors.
pub(crate) fn set_cloexec(fd: RawFd) {
    if let Ok(f) = raw::fd(fd) {
        let _ = nix::fcntl::fcntl(f, FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC));
    }
}

/// Writes `bytes` to `fd` in one write(2), ignoring errors (the log pipe, standard error).
pub(crate) fn write_once(fd: RawFd, bytes: &[u8]) {
    if let Ok(f) = raw::fd(fd) {
        let _ = nix::unistd::write(f, bytes);
    }
}

/// Reads one byte from `fd`, retrying on EINTR: `Ok(None)` at end of file.
pub(crate) fn read_byte(fd: RawFd) -> Result<Option<u8>, Errno> {
    let mut b = [0u8; 1];
    let f = raw::fd(fd)?;
    Ok((retry(|| nix::unistd::read(f, &mut b))? == 1).then_some(b[0]))
}

/// Fills `buf` from `fd`, retrying on EINTR: `Ok(false)` at end of file before it is full.
pub(crate) fn read_full(fd: RawFd, buf: &mut [u8]) -> Result<bool, Errno> {
    let f = raw::fd(fd)?;
    let mut at = 0;
    while at < buf.len() {
        match retry(|| nix::unistd::read(f, &mut buf[at..]))? {
            0 => return Ok(false),
            n => at += n,
        }
    }
    Ok(true)
}

/// The final-process setup of the nsbootstrap-1 profile (spec section 14.1): each call one system call or
/// a few, none allocating.
pub(crate) mod final_setup {
    use nix::errno::Errno;
    use nix::mount::{mount, MsFlags};
    use nix::unistd::{Gid, Uid};
    use nsbootstrap_codec::setup::Propagation;
    use std::ffi::CStr;

    /// mount(NULL, "/", NULL, MS_REC | propagation, NULL).
    pub(crate) fn propagation(p: Propagation) -> Result<(), Errno> {
        let kind = match p {
            Propagation::Private => MsFlags::MS_PRIVATE,
            Propagation::Slave => MsFlags::MS_SLAVE,
            Propagation::Shared => MsFlags::MS_SHARED,
        };
        mount(
            None::<&CStr>,
            c"/",
            None::<&CStr>,
            MsFlags::MS_REC | kind,
            None::<&CStr>,
        )
    }

    /// mount("proc", at, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL).
    pub(crate) fn mount_proc(at: &CStr) -> Result<(), Errno> {
        let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
        mount(Some(c"proc"), at, Some(c"proc"), flags, None::<&CStr>)
    }

    /// sethostname(2).
    pub(crate) fn hostname(name: &[u8]) -> Result<(), Errno> {
        nix::unistd::sethostname(std::ffi::OsStr::from_bytes(name))
    }

    /// prctl(PR_SET_PDEATHSIG, signal).
    pub(crate) fn parent_death_signal(signal: u8) -> Result<(), Errno> {
        let sig = nix::sys::signal::Signal::try_from(i32::from(signal))?;
        nix::sys::prctl::set_pdeathsig(Some(sig))
    }

    /// setgroups([]) (where allowed) and setresgid(gid, gid, gid).
    pub(crate) fn gid(gid: u32) -> Result<(), Errno> {
        match nix::unistd::setgroups(&[]) {
            // A user namespace with setgroups denied, or no CAP_SETGID: the groups stay as they are.
            Ok(()) | Err(Errno::EPERM) => {}
            Err(e) => return Err(e),
        }
        let g = Gid::from_raw(gid);
        nix::unistd::setresgid(g, g, g)
    }

    /// setresuid(uid, uid, uid).
    pub(crate) fn uid(uid: u32) -> Result<(), Errno> {
        let u = Uid::from_raw(uid);
        nix::unistd::setresuid(u, u, u)
    }

    /// chdir(2).
    pub(crate) fn workdir(dir: &CStr) -> Result<(), Errno> {
        nix::unistd::chdir(dir)
    }

    use std::os::unix::ffi::OsStrExt;
}

/// Closes every descriptor from 3 up, except those in `keep` (close_range, or /proc/self/fd on kernels
/// before 5.9). Called before anything is opened.
pub(crate) fn close_inherited_fds(keep: &[RawFd]) {
    let mut keep: Vec<u32> = keep
        .iter()
        .filter(|&&f| f >= 3)
        .map(|&f| f as u32)
        .collect();
    keep.sort_unstable();
    let mut from = 3u32;
    for k in keep.into_iter().chain(std::iter::once(u32::MAX)) {
        if k > from && raw::close_range(from, k - 1).is_err() {
            let open: Vec<u32> = std::fs::read_dir("/proc/self/fd")
                .map(|d| {
                    d.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                        .collect()
                })
                .unwrap_or_default();
            for fd in open.into_iter().filter(|fd| (from..k).contains(fd)) {
                let _ = nix::unistd::close(fd as RawFd);
            }
        }
        from = k.saturating_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_single_thread_check_counts_threads() {
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let other = std::thread::spawn(move || rx.recv());
        let n = SingleThreaded::check().expect_err("a second thread is running");
        assert!(n >= 2, "{n} threads");
        drop(tx);
        let _ = other.join();
    }

    #[test]
    fn negative_descriptors_are_refused_not_borrowed() {
        assert_eq!(raw::fd(-1).err(), Some(Errno::EBADF));
        assert!(!is_open(-1));
        assert_eq!(read_byte(-1), Err(Errno::EBADF));
    }
}
