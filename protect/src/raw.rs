//! The only module of the protection with `unsafe` code; the rest of the crate denies `unsafe_code`.
//!
//! What stays here, and why: duplicating a descriptor to a number of at least N (`F_DUPFD_CLOEXEC`)
//! returns a plain number through nix's `fcntl`, which only `OwnedFd::from_raw_fd` (unsafe) can own.

use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd, RawFd};

/// A close-on-exec duplicate of `fd` at the lowest free number of at least `min`.
pub(crate) fn dup_at_least(fd: impl AsFd, min: RawFd) -> std::io::Result<OwnedFd> {
    // SAFETY: F_DUPFD_CLOEXEC takes a descriptor borrowed for the call and an integer, and touches no
    // memory of ours.
    let high = unsafe { libc::fcntl(fd.as_fd().as_raw_fd(), libc::F_DUPFD_CLOEXEC, min) };
    if high < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: `high` was just returned by fcntl: a new descriptor owned by nothing else.
    Ok(unsafe { OwnedFd::from_raw_fd(high) })
}
