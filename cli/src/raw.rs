//! The only module of the command with `unsafe` code: a check that runs before the Rust runtime starts,
//! and the few libc calls `run` makes (ids, process-wide signal mask, terminal modes).

use std::sync::atomic::{AtomicBool, Ordering};

static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);

/// Runs from `.init_array`, before the Rust runtime's start-up, which opens /dev/null on a closed fd 0, 1
/// or 2: only here can a closed standard output be told from `>/dev/null`.
extern "C" fn note_closed_stdout() {
    // SAFETY: fcntl(F_GETFD) on a number reads the descriptor table and touches no memory of ours.
    let r = unsafe { libc::fcntl(libc::STDOUT_FILENO, libc::F_GETFD) };
    if r < 0 {
        STDOUT_CLOSED.store(true, Ordering::Relaxed);
    }
}

#[used]
#[link_section = ".init_array"]
static NOTE_CLOSED_STDOUT: extern "C" fn() = note_closed_stdout;

/// Whether fd 1 was closed when the process started (`nsbootstrap encode >&-`).
pub fn stdout_was_closed() -> bool {
    STDOUT_CLOSED.load(Ordering::Relaxed)
}

/// The effective uid and gid.
pub fn euid_egid() -> (u32, u32) {
    // SAFETY: geteuid and getegid cannot fail and touch no memory.
    unsafe { (libc::geteuid(), libc::getegid()) }
}

/// Copies the window size of terminal `from` to terminal `to` (TIOCGWINSZ, TIOCSWINSZ), if `from` is one.
pub fn copy_window_size(from: std::os::fd::RawFd, to: std::os::fd::RawFd) {
    let mut ws = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ writes one `winsize` into `ws`, which lives across the call; on a descriptor that
    // is not a terminal it fails and writes nothing.
    if unsafe { libc::ioctl(from, libc::TIOCGWINSZ, &mut ws) } == 0 {
        // SAFETY: TIOCSWINSZ reads one `winsize` from `ws`.
        unsafe { libc::ioctl(to, libc::TIOCSWINSZ, &ws) };
    }
}
