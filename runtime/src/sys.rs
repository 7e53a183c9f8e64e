//! The only module of the runtime with `unsafe` code; the rest of the crate denies `unsafe_code`.
//!
//! What stays here, and why: `Command::pre_exec` is `unsafe` by its API (the hook runs between fork and
//! exec); `waitpid` goes through libc because [`ExitStatus::from_raw`] wants the raw status word, which
//! nix's `WaitStatus` takes apart. Everything else (kill, pipe2) uses nix's safe wrappers.

use std::os::fd::RawFd;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, ExitStatus};

/// In the child, before exec: puts each `(from, to)` descriptor at number `to`, inheritable (dup2 onto
/// the number clears close-on-exec on the copy; when a source already has the target number, fcntl clears
/// the flag instead).
pub(crate) fn move_fds_on_exec(cmd: &mut Command, moves: [(RawFd, RawFd); 2]) {
    // SAFETY: the closure runs in the forked child before exec and calls only sigemptyset(3),
    // sigprocmask(2), dup2(2) and fcntl(2), which are async-signal-safe (the sigset is a zeroed plain
    // struct on the stack), on descriptors that are open in the child (inherited copies of the parent's,
    // which the caller keeps open until spawn returns). It allocates nothing: `moves` is a copied array,
    // and `last_os_error` builds an error from an integer.
    unsafe {
        cmd.pre_exec(move || {
            // The executor starts with no signal blocked, whatever the runtime blocks (it may wait for
            // signals in a signalfd): a blocked mask would pass through exec to the command.
            let mut empty: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut empty);
            if libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut()) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            for (from, to) in moves {
                if from == to {
                    if libc::fcntl(to, libc::F_SETFD, 0) < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                } else if libc::dup2(from, to) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
}

/// waitpid(pid, WNOHANG): `Ok(None)` while no matching child has exited, else the PID reaped and its
/// status.
pub(crate) fn waitpid_nohang(pid: i32) -> std::io::Result<Option<(i32, ExitStatus)>> {
    let mut status = 0;
    // SAFETY: `status` is a valid out-pointer for the duration of the call; waitpid touches nothing else.
    let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
    match r {
        r if r < 0 => Err(std::io::Error::last_os_error()),
        0 => Ok(None),
        r => Ok(Some((r, ExitStatus::from_raw(status)))),
    }
}

/// kill(pid, SIGKILL), ignoring errors (a negative pid: the process group).
pub(crate) fn kill(pid: i32) {
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    );
}
