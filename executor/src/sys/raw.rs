//! The only module of the executor with `unsafe` code: the system calls that have no safe form in nix
//! (or whose nix form allocates where the stages must not), and the proof that the process is
//! single-threaded, which makes a fork-like clone sound.
//!
//! Every `unsafe` block here carries a `// SAFETY:` comment; the rest of the crate denies `unsafe_code`.
//!
//! What stays here, and why:
//! * `clone(CLONE_PARENT | SIGCHLD)` with a null stack: nix's `clone` takes a closure and a separate stack
//!   and cannot express a fork-like clone that returns twice;
//! * `fork` + `execve` + `_exit` for the id-map helpers, and `execvp` of the final command: nix's `fork` is
//!   `unsafe`, and its `execve`/`execvp` collect the argument pointers into a `Vec` (an allocation between
//!   clone and exec);
//! * `recvmsg` with `SCM_RIGHTS` into a stack buffer: nix's `recvmsg` returns the descriptors in a `Vec`,
//!   and it runs in stage 1, after a clone;
//! * `dup3` and `dup2` onto numbers the stage does not own yet (nix's safe forms take the target as an
//!   `OwnedFd`);
//! * `ioctl(TIOCSCTTY)` (nix only has `unsafe` ioctl macros), `close_range` (no nix wrapper);
//! * [`fd`]: a descriptor number the protocol hands over (the environment's pipes, the stages' own
//!   descriptors) borrowed for one call, which nix's `AsFd` API needs.

use nix::errno::Errno;
use std::ffi::CStr;
use std::marker::PhantomData;
use std::os::fd::{BorrowedFd, RawFd};

/// Proof that the process had exactly one thread when the proof was made. It is neither `Send` nor `Sync`,
/// so it stays on the thread it was made on; whoever holds it must not start threads while the bootstrap
/// runs.
///
/// A fork-like clone is sound only in a single-threaded process: in a multi-threaded one, the child could
/// inherit a lock (of the allocator, of stdio) that a thread it lacks holds, and may then only make
/// async-signal-safe calls. The stages' clone wrappers therefore ask for this proof.
#[derive(Debug)]
pub struct SingleThreaded {
    _not_send: PhantomData<*const ()>,
}

impl SingleThreaded {
    /// Checks that the process has exactly one thread (the entries of `/proc/self/task`); `Err` holds the
    /// number of threads found (0 when `/proc` cannot be read).
    pub fn check() -> Result<SingleThreaded, usize> {
        let n = std::fs::read_dir("/proc/self/task").map_or(0, |d| d.count());
        if n == 1 {
            Ok(SingleThreaded {
                _not_send: PhantomData,
            })
        } else {
            Err(n)
        }
    }

    /// The proof, without checking (for callers that know, such as a C constructor that runs before
    /// `main`, or a caller that checked by other means).
    ///
    /// # Safety
    ///
    /// The process must have exactly one thread, and no thread may be started while the bootstrap that
    /// receives the proof runs: the stages are created with a fork-like clone, and a child stage then
    /// makes calls (formatting, system calls) that are async-signal-safe only in a single-threaded
    /// process.
    pub unsafe fn assume() -> SingleThreaded {
        SingleThreaded {
            _not_send: PhantomData,
        }
    }
}

/// The result of cloning a stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cloned {
    /// In the parent: the child's PID.
    Parent(i32),
    /// In the child.
    Child,
}

/// Borrows a descriptor number for one call. `EBADF` for a negative number.
///
/// The numbers come from the protocol, not from an owner in this process's Rust code: the environment's
/// pipes, and the descriptors the stages open, hand to each other and close themselves.
pub(crate) fn fd<'a>(raw: RawFd) -> Result<BorrowedFd<'a>, Errno> {
    if raw < 0 {
        return Err(Errno::EBADF);
    }
    // SAFETY: `raw` is not -1 (checked), which is all `borrow_raw` requires for validity. The borrow is
    // only handed to a single system call (read, write, setns, poll, fcntl) by the caller, never kept
    // and never turned into an owner, so no `OwnedFd` is closed or duplicated through it; a number that
    // is not open makes that call fail with EBADF, and touches no memory.
    Ok(unsafe { BorrowedFd::borrow_raw(raw) })
}

/// clone(2) with `CLONE_PARENT | SIGCHLD` and a null stack: fork-like, returning in both processes.
pub(crate) fn clone_parent(_proof: &SingleThreaded) -> Result<Cloned, Errno> {
    // SAFETY: a raw clone(2) without CLONE_VM and with a null stack behaves as fork(2): the child gets a
    // copy-on-write copy of the whole address space and continues on its copy of this stack, so no Rust
    // value is shared. `_proof` shows that the process is single-threaded, so no lock is held by a thread
    // that the child lacks. glibc's cached thread id is stale in the child; glibc >= 2.34 asks the kernel
    // for it where it matters (raise, abort), and the stages call nothing else that reads it.
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

/// fork(2), then in the child `execve(argv[0], argv, [])` (or `_exit(127)`). Returns the child's PID.
/// At most 1023 arguments (`E2BIG` otherwise): a helper with 340 id ranges takes 1022.
pub(crate) fn spawn_with_empty_env(_proof: &SingleThreaded, argv: &[&CStr]) -> Result<i32, Errno> {
    const MAX: usize = 1024;
    if argv.is_empty() || argv.len() >= MAX {
        return Err(Errno::E2BIG);
    }
    let mut ptrs: [*const libc::c_char; MAX] = [std::ptr::null(); MAX];
    for (p, a) in ptrs.iter_mut().zip(argv) {
        *p = a.as_ptr();
    }
    let envp: [*const libc::c_char; 1] = [std::ptr::null()];
    // SAFETY: fork in a single-threaded process (`_proof`); the child only calls execve and _exit, both
    // async-signal-safe, with pointers into memory that fork copied.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(Errno::last());
    }
    if pid == 0 {
        // SAFETY: `ptrs` and `envp` are NULL-terminated arrays of pointers to valid C strings (the
        // borrowed `argv`, alive in this copy of the address space); _exit ends the child without running
        // the parent's atexit handlers if execve fails.
        unsafe {
            libc::execve(ptrs[0], ptrs.as_ptr(), envp.as_ptr());
            libc::_exit(127)
        }
    }
    Ok(pid)
}

/// execvpe(3) of a NULL-terminated argument vector and environment prepared before the clones, with
/// SIGPIPE back at its default disposition first (Rust's start-up ignores it, and an ignored signal stays
/// ignored across exec: a command such as `yes | head` would then see EPIPE instead of dying quietly, unlike
/// under unshare or runc); returns only on failure.
pub(crate) fn execvpe(argv: &[*const libc::c_char], envp: &[*const libc::c_char]) -> Errno {
    if argv.last().is_none_or(|p| !p.is_null())
        || argv[0].is_null()
        || envp.last().is_none_or(|p| !p.is_null())
    {
        return Errno::EINVAL;
    }
    // SAFETY: `argv` and `envp` are NULL-terminated arrays (checked above; `argv` non-empty) whose other
    // entries the caller built from live `CString`s, which outlive the call (it returns only on failure).
    // glibc's execvpe searches PATH on the stack, so nothing is allocated. signal(2) with SIG_DFL installs
    // no handler (no code of ours can run on a SIGPIPE afterwards) and is async-signal-safe.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        libc::execvpe(argv[0], argv.as_ptr(), envp.as_ptr())
    };
    Errno::last()
}

/// _exit(2): ends the process at once, without running atexit handlers or flushing stdio buffers that the
/// stage's parent also holds.
pub(crate) fn exit(code: i32) -> ! {
    // SAFETY: _exit never returns and touches no memory of ours.
    unsafe { libc::_exit(code) }
}

/// The buffers of a message that carries one descriptor and one data byte (SCM_RIGHTS).
struct FdMessage {
    byte: [u8; 1],
    iov: libc::iovec,
    /// Aligned for cmsghdr, and larger than CMSG_SPACE(sizeof(int)).
    control: [u64; 4],
}

/// Receives one descriptor sent with SCM_RIGHTS and one data byte, close-on-exec (MSG_CMSG_CLOEXEC),
/// retrying on EINTR, into buffers on the stack.
pub(crate) fn recv_fd(sock: RawFd) -> Result<RawFd, Errno> {
    let mut bufs = FdMessage {
        byte: [0],
        iov: libc::iovec {
            iov_base: std::ptr::null_mut(),
            iov_len: 1,
        },
        control: [0; 4],
    };
    bufs.iov.iov_base = bufs.byte.as_mut_ptr().cast();
    // SAFETY: msghdr is plain data; all-zero is a valid empty header, filled in below.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut bufs.iov;
    msg.msg_iovlen = 1;
    msg.msg_control = bufs.control.as_mut_ptr().cast();
    msg.msg_controllen = std::mem::size_of_val(&bufs.control);
    let n = loop {
        // SAFETY: `msg` points at live buffers on this stack frame (the byte through `iov`, the control
        // buffer with its length); MSG_CMSG_CLOEXEC marks the received descriptor close-on-exec.
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
    // SAFETY: the kernel filled `control` up to msg_controllen; CMSG_FIRSTHDR returns null when there is
    // no header, and CMSG_DATA points inside the header it returned, which holds at least one int for
    // SCM_RIGHTS.
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

/// dup3(fd, to, O_CLOEXEC): `to` is a number the stage does not own yet.
pub(crate) fn dup3_cloexec(fd: RawFd, to: RawFd) -> Result<(), Errno> {
    // SAFETY: dup3 takes two descriptor numbers and a flag and touches no memory; whatever `to` named
    // before is closed by the kernel, and the stage logic only moves descriptors onto the numbers the
    // runtime reserved for them (`_LIBCONTAINER_MOUNT_FDS`).
    Errno::result(unsafe { libc::dup3(fd, to, libc::O_CLOEXEC) }).map(drop)
}

/// dup2(2) onto a number the stage does not own (0, 1, 2 for the console).
pub(crate) fn dup2(fd: RawFd, to: RawFd) -> Result<(), Errno> {
    // SAFETY: dup2 takes two descriptor numbers and touches no memory; the stage logic replaces only the
    // standard descriptors with the console.
    Errno::result(unsafe { libc::dup2(fd, to) }).map(drop)
}

/// ioctl(fd, TIOCSCTTY, 0): make the terminal the controlling terminal (without stealing it).
pub(crate) fn set_controlling_tty(fd: RawFd) -> Result<(), Errno> {
    // SAFETY: TIOCSCTTY takes an integer argument (0: do not steal) and no pointer.
    Errno::result(unsafe { libc::ioctl(fd, libc::TIOCSCTTY, 0) }).map(drop)
}

/// close_range(first, last, 0) (Linux 5.9).
pub(crate) fn close_range(first: u32, last: u32) -> Result<(), Errno> {
    // SAFETY: close_range closes descriptors by number and touches no memory; the caller (the entry
    // point, before it opens anything) owns no descriptor in the range that Rust code still uses.
    Errno::result(unsafe { libc::syscall(libc::SYS_close_range, first, last, 0u32) }).map(drop)
}

/// [`bootstrap`](crate::bootstrap) without the thread check, for callers that know the process is
/// single-threaded (a C constructor that runs before `main`): [`bootstrap_with`](crate::bootstrap_with)
/// with [`SingleThreaded::assume`]. Re-exported at the crate root; it lives here because this is the
/// executor's one module with `unsafe` code.
///
/// # Safety
///
/// The process must have exactly one thread, and no thread may be started until it returns: the stages
/// are created with a fork-like clone, and the child stages make calls that are async-signal-safe only in
/// a single-threaded process.
pub unsafe fn bootstrap_unchecked(
    opts: crate::Options,
) -> Result<Option<crate::Bootstrapped>, crate::Failure> {
    // SAFETY: the caller guarantees `assume`'s precondition, which is this function's.
    crate::bootstrap_with(unsafe { SingleThreaded::assume() }, opts)
}
