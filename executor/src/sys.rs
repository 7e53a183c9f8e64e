//! Every system call the stages make, behind one trait: [`Kernel`] performs them, and tests substitute a
//! recording double to check the order of the stage logic without a kernel.
//!
//! Methods take pre-built C strings and plain integers so that a child stage calls them without allocating.

use nix::errno::Errno;
use nsbootstrap_codec::NamespaceKind;
use std::ffi::CStr;
use std::os::fd::RawFd;

/// The result of cloning a stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cloned {
    /// In the parent: the child's PID.
    Parent(i32),
    /// In the child.
    Child,
}

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
    /// clone(2) with `CLONE_PARENT | SIGCHLD`, fork-like (the child runs on a copy of the stack).
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
    /// Runs `argv` (argv[0] the program's path) with an empty environment and waits: its exit status, or
    /// 128 + signal.
    fn run(&mut self, argv: &[&CStr]) -> Result<i32, Errno>;
    /// _exit(2).
    fn exit(&mut self, code: i32) -> !;
}

/// The real kernel.
#[derive(Debug, Default)]
pub struct Kernel;

/// The buffers of a message that carries one descriptor and one data byte (SCM_RIGHTS).
struct FdMessage {
    byte: [u8; 1],
    iov: libc::iovec,
    /// Aligned for cmsghdr, and larger than CMSG_SPACE(sizeof(int)).
    control: [u64; 4],
}

impl FdMessage {
    fn new() -> Self {
        FdMessage {
            byte: [0],
            iov: libc::iovec {
                iov_base: std::ptr::null_mut(),
                iov_len: 1,
            },
            control: [0; 4],
        }
    }

    /// A msghdr pointing at these buffers (which must not move while it is used).
    fn header(&mut self) -> libc::msghdr {
        self.iov.iov_base = self.byte.as_mut_ptr().cast();
        // SAFETY: msghdr is plain data; all-zero is a valid empty header, filled in below.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_iov = &mut self.iov;
        msg.msg_iovlen = 1;
        msg.msg_control = self.control.as_mut_ptr().cast();
        msg
    }
}

fn cvt(r: libc::c_int) -> Result<libc::c_int, Errno> {
    if r < 0 {
        Err(Errno::last())
    } else {
        Ok(r)
    }
}

impl Sys for Kernel {
    fn open_read(&mut self, path: &CStr) -> Result<RawFd, Errno> {
        // SAFETY: `path` is a valid NUL-terminated string for the duration of the call.
        cvt(unsafe { libc::open(path.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) })
    }

    fn open_rdwr(&mut self, path: &CStr) -> Result<RawFd, Errno> {
        // SAFETY: as above.
        cvt(unsafe {
            libc::open(
                path.as_ptr(),
                libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC,
            )
        })
    }

    fn open_path(&mut self, path: &CStr) -> Result<RawFd, Errno> {
        // SAFETY: `path` is a valid NUL-terminated string for the duration of the call.
        cvt(unsafe { libc::open(path.as_ptr(), libc::O_PATH | libc::O_CLOEXEC) })
    }

    fn send_fd(&mut self, sock: RawFd, fd: RawFd) -> Result<(), Errno> {
        let mut bufs = FdMessage::new();
        let mut msg = bufs.header();
        // SAFETY: CMSG_SPACE is a pure size computation.
        msg.msg_controllen =
            unsafe { libc::CMSG_SPACE(std::mem::size_of::<RawFd>() as u32) } as usize;
        // SAFETY: the control buffer is 32 bytes, at least CMSG_SPACE(4), and aligned for cmsghdr, so the
        // first header and its data lie inside it.
        unsafe {
            let cmsg = libc::CMSG_FIRSTHDR(&msg);
            (*cmsg).cmsg_level = libc::SOL_SOCKET;
            (*cmsg).cmsg_type = libc::SCM_RIGHTS;
            (*cmsg).cmsg_len = libc::CMSG_LEN(std::mem::size_of::<RawFd>() as u32) as usize;
            std::ptr::write_unaligned(libc::CMSG_DATA(cmsg).cast::<RawFd>(), fd);
        }
        loop {
            // SAFETY: `msg` points at live buffers set up above.
            let n = unsafe { libc::sendmsg(sock, &msg, 0) };
            if n == 1 {
                return Ok(());
            }
            let e = Errno::last();
            if n < 0 && e == Errno::EINTR {
                continue;
            }
            return Err(if n < 0 { e } else { Errno::EIO });
        }
    }

    fn recv_fd(&mut self, sock: RawFd) -> Result<RawFd, Errno> {
        let mut bufs = FdMessage::new();
        let mut msg = bufs.header();
        msg.msg_controllen = std::mem::size_of_val(&bufs.control);
        let n = loop {
            // SAFETY: `msg` points at live buffers; MSG_CMSG_CLOEXEC marks the received descriptor.
            let n = unsafe { libc::recvmsg(sock, &mut msg, libc::MSG_CMSG_CLOEXEC) };
            if n < 0 && Errno::last() == Errno::EINTR {
                continue;
            }
            break n;
        };
        if n < 0 {
            return Err(Errno::last());
        }
        if n == 0 {
            return Err(Errno::EPIPE);
        }
        if msg.msg_flags & libc::MSG_CTRUNC != 0 {
            return Err(Errno::EMSGSIZE);
        }
        // SAFETY: the kernel filled `control` up to msg_controllen; CMSG_FIRSTHDR returns null when there
        // is no header, and CMSG_DATA points inside the header it returned.
        unsafe {
            let cmsg = libc::CMSG_FIRSTHDR(&msg);
            if cmsg.is_null()
                || (*cmsg).cmsg_level != libc::SOL_SOCKET
                || (*cmsg).cmsg_type != libc::SCM_RIGHTS
            {
                return Err(Errno::EBADMSG);
            }
            Ok(std::ptr::read_unaligned(
                libc::CMSG_DATA(cmsg).cast::<RawFd>(),
            ))
        }
    }

    fn dup3_cloexec(&mut self, fd: RawFd, to: RawFd) -> Result<(), Errno> {
        // SAFETY: dup3 takes two descriptor numbers and a flag.
        cvt(unsafe { libc::dup3(fd, to, libc::O_CLOEXEC) }).map(drop)
    }

    fn close(&mut self, fd: RawFd) {
        // SAFETY: the stages close only descriptors they opened or inherited and own; a stale number
        // fails with EBADF, which is ignored.
        unsafe { libc::close(fd) };
    }

    fn setns(&mut self, fd: RawFd, kind: NamespaceKind) -> Result<(), Errno> {
        // SAFETY: setns takes a descriptor and a flag; it touches no memory of ours.
        cvt(unsafe { libc::setns(fd, kind.flag() as libc::c_int) }).map(drop)
    }

    fn unshare(&mut self, flags: u32) -> Result<(), Errno> {
        let mut last = Errno::EINVAL;
        for _ in 0..5 {
            // SAFETY: unshare takes a flag word and touches no memory of ours.
            match cvt(unsafe { libc::unshare(flags as libc::c_int) }) {
                Ok(_) => return Ok(()),
                Err(Errno::EINVAL) => last = Errno::EINVAL,
                Err(e) => return Err(e),
            }
        }
        Err(last)
    }

    fn set_dumpable(&mut self, on: bool) -> Result<(), Errno> {
        // SAFETY: PR_SET_DUMPABLE takes an integer argument; the unused ones are 0.
        cvt(unsafe { libc::prctl(libc::PR_SET_DUMPABLE, libc::c_ulong::from(on), 0, 0, 0) })
            .map(drop)
    }

    fn set_name(&mut self, name: &CStr) {
        // SAFETY: PR_SET_NAME reads at most 16 bytes from a valid NUL-terminated string.
        unsafe { libc::prctl(libc::PR_SET_NAME, name.as_ptr(), 0, 0, 0) };
    }

    fn write_file(&mut self, path: &CStr, data: &[u8]) -> Result<(), Errno> {
        // SAFETY: `path` is NUL-terminated; the flags ask for no creation.
        let fd = cvt(unsafe { libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC) })?;
        // SAFETY: `data` is valid for `data.len()` bytes; `fd` was just opened.
        let n = unsafe { libc::write(fd, data.as_ptr().cast(), data.len()) };
        let result = if n < 0 {
            Err(Errno::last())
        } else if n as usize != data.len() {
            Err(Errno::EIO)
        } else {
            Ok(())
        };
        self.close(fd);
        result
    }

    fn socketpair(&mut self) -> Result<[RawFd; 2], Errno> {
        let mut fds = [-1; 2];
        // SAFETY: `fds` is a valid out-array of two ints.
        let r = unsafe {
            libc::socketpair(
                libc::AF_UNIX,
                libc::SOCK_STREAM | libc::SOCK_CLOEXEC,
                0,
                fds.as_mut_ptr(),
            )
        };
        if r < 0 {
            Err(Errno::last())
        } else {
            Ok(fds)
        }
    }

    fn clone_parent(&mut self) -> Result<Cloned, Errno> {
        // SAFETY: a raw clone(2) without CLONE_VM and with a null stack behaves as fork(2): the child gets a
        // copy-on-write copy of the whole address space and continues on its copy of this stack, so no Rust
        // value is shared. The executor runs this only in a single-threaded process (the entry point is
        // called before any thread exists), so no lock is held by a thread that the child lacks. glibc's
        // cached thread id is stale in the child; glibc >= 2.34 asks the kernel for it where it matters
        // (raise, abort), and the stages call nothing else that reads it.
        let r = unsafe {
            libc::syscall(
                libc::SYS_clone,
                (libc::CLONE_PARENT | libc::SIGCHLD) as libc::c_ulong,
                0usize,
                0usize,
                0usize,
                0usize,
            )
        };
        match r {
            r if r < 0 => Err(Errno::last()),
            0 => Ok(Cloned::Child),
            pid => Ok(Cloned::Parent(pid as i32)),
        }
    }

    fn write_all(&mut self, fd: RawFd, mut bytes: &[u8]) -> Result<(), Errno> {
        while !bytes.is_empty() {
            // SAFETY: `bytes` is valid for its length.
            let n = unsafe { libc::write(fd, bytes.as_ptr().cast(), bytes.len()) };
            if n < 0 {
                let e = Errno::last();
                if e == Errno::EINTR {
                    continue;
                }
                return Err(e);
            }
            if n == 0 {
                return Err(Errno::EPIPE);
            }
            bytes = &bytes[n as usize..];
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
        loop {
            // SAFETY: `buf` is valid for writes of its length.
            let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
            if n >= 0 {
                return Ok(n as usize);
            }
            let e = Errno::last();
            if e != Errno::EINTR {
                return Err(e);
            }
        }
    }

    fn wait_either(&mut self, a: RawFd, b: RawFd) -> Result<usize, Errno> {
        let mut fds = [
            libc::pollfd {
                fd: a,
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: b,
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        loop {
            // SAFETY: `fds` is a valid array of two pollfd structures.
            let r = unsafe { libc::poll(fds.as_mut_ptr(), 2, -1) };
            if r < 0 {
                let e = Errno::last();
                if e == Errno::EINTR {
                    continue;
                }
                return Err(e);
            }
            if fds[0].revents != 0 {
                return Ok(0);
            }
            if fds[1].revents != 0 {
                return Ok(1);
            }
        }
    }

    fn setsid(&mut self) -> Result<(), Errno> {
        // SAFETY: setsid takes no arguments.
        cvt(unsafe { libc::setsid() }).map(drop)
    }

    fn become_root_uid(&mut self) -> Result<(), Errno> {
        // SAFETY: plain integer arguments.
        cvt(unsafe { libc::setresuid(0, 0, 0) }).map(drop)
    }

    fn setuid_root(&mut self) -> Result<(), Errno> {
        // SAFETY: a raw syscall, not glibc's setuid, which would broadcast to threads (there are none).
        cvt(unsafe { libc::syscall(libc::SYS_setuid, 0) } as libc::c_int).map(drop)
    }

    fn setgid_root(&mut self) -> Result<(), Errno> {
        // SAFETY: as above.
        cvt(unsafe { libc::syscall(libc::SYS_setgid, 0) } as libc::c_int).map(drop)
    }

    fn clear_groups(&mut self) -> Result<(), Errno> {
        // SAFETY: a zero-length list; the pointer is not read.
        cvt(unsafe { libc::setgroups(0, std::ptr::null()) }).map(drop)
    }

    fn set_controlling_tty(&mut self, fd: RawFd) -> Result<(), Errno> {
        // SAFETY: TIOCSCTTY takes an integer argument (0: do not steal).
        cvt(unsafe { libc::ioctl(fd, libc::TIOCSCTTY, 0) }).map(drop)
    }

    fn dup2(&mut self, fd: RawFd, to: RawFd) -> Result<(), Errno> {
        // SAFETY: dup2 takes two descriptor numbers.
        cvt(unsafe { libc::dup2(fd, to) }).map(drop)
    }

    fn kill(&mut self, pid: i32) {
        if pid > 0 {
            // SAFETY: kill takes integers; a stale PID fails with ESRCH, which is ignored.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    }

    fn run(&mut self, argv: &[&CStr]) -> Result<i32, Errno> {
        const MAX: usize = 64;
        if argv.is_empty() || argv.len() >= MAX {
            return Err(Errno::E2BIG);
        }
        let mut ptrs: [*const libc::c_char; MAX] = [std::ptr::null(); MAX];
        for (p, a) in ptrs.iter_mut().zip(argv) {
            *p = a.as_ptr();
        }
        let envp: [*const libc::c_char; 1] = [std::ptr::null()];
        // SAFETY: fork in a single-threaded process (see clone_parent); the child only calls execve and
        // _exit, both async-signal-safe, with pointers into memory that fork copied.
        let pid = cvt(unsafe { libc::fork() })?;
        if pid == 0 {
            // SAFETY: argv and envp are NULL-terminated arrays of valid C strings.
            unsafe {
                libc::execve(ptrs[0], ptrs.as_ptr(), envp.as_ptr());
                libc::_exit(127);
            }
        }
        let mut status = 0;
        loop {
            // SAFETY: `status` is a valid out-pointer; `pid` is our child.
            let r = unsafe { libc::waitpid(pid, &mut status, 0) };
            if r == pid {
                break;
            }
            let e = Errno::last();
            if r < 0 && e != Errno::EINTR {
                return Err(e);
            }
        }
        if libc::WIFEXITED(status) {
            Ok(libc::WEXITSTATUS(status))
        } else {
            Ok(128 + libc::WTERMSIG(status))
        }
    }

    fn exit(&mut self, code: i32) -> ! {
        // SAFETY: _exit ends the process at once, without running atexit handlers or flushing stdio that
        // the stage's parent also holds.
        unsafe { libc::_exit(code) }
    }
}
