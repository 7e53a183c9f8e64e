//! # nsbootstrap-nsexec
//!
//! runc's `nsexec` as a C ABI over [`nsbootstrap_executor`]: a static library exporting
//! `void nsexec(void)` (header `include/nsbootstrap_nsexec.h`) that takes the place of the C code in runc's
//! `libcontainer/nsenter` package. runc calls it from a cgo constructor, before the Go runtime starts; it
//!
//! * returns at once when `_LIBCONTAINER_INITPIPE` is unset or empty (runc is not running `init`);
//! * in runc-1.0 and runc-1.1, makes sure the process runs from a protected file (CVE-2019-5736), as
//!   runc's `cloned_binary.c` does, before the ready byte: with `nsbootstrap-protect`'s methods through
//!   [`nsbootstrap_executor::init::protect_self`], cheapest first (a detached read-only clone of the
//!   binary's mount as root, the sealed memfd copy rootless), recognised after the re-exec by the file
//!   itself, never by a marker; `NSBOOTSTRAP_UNPROTECTED=1` switches it off with a warning line on every
//!   start;
//! * runs the stage sequence in the dialect the library was built for ([`DIALECT`], chosen with the
//!   features `runc-1.0`, `runc-1.1` (the default) or `runc-1.2`), logging runc's JSON lines on
//!   `_LIBCONTAINER_LOGPIPE`;
//! * returns only in the final process (stage 2), with what runc's Go side reads next left as runc's C
//!   code leaves it: the init pipe open and positioned just after the bootstrap message, the log pipe
//!   open, every inherited descriptor open (the exec fifo of `_LIBCONTAINER_FIFOFD`, the console socket of
//!   `_LIBCONTAINER_CONSOLE`, `ExtraFiles`), the mount sources' descriptors at the numbers of
//!   `_LIBCONTAINER_MOUNT_FDS`, the environment, working directory, signal dispositions and mask as the
//!   process started with them;
//! * on failure writes one fatal line on the log pipe and exits 1, in whichever stage failed.
//!
//! `unsafe` code lives in one module (`ffi`: the exported symbol); the rest denies it.

#![deny(unsafe_code)]

#[allow(unsafe_code)]
mod ffi;

use nsbootstrap_codec::{Dialect, Mode};
use nsbootstrap_executor::{bootstrap_with, Options, SingleThreaded};

/// The dialect this build of the library speaks (cargo features `runc-1.0`, `runc-1.1`, `runc-1.2`;
/// runc-1.1 by default; with several, runc-1.0 wins over runc-1.2, which wins over runc-1.1).
pub const DIALECT: Dialect = if cfg!(feature = "runc-1.0") {
    Dialect::Runc10
} else if cfg!(feature = "runc-1.2") {
    Dialect::Runc12
} else {
    Dialect::Runc11
};

/// The options the library bootstraps with: runc passes descriptors beyond the two pipes (the exec
/// fifo, the console socket, the mount sources' placeholders, `ExtraFiles`), so none is closed.
pub fn options(dialect: Dialect) -> Options {
    Options {
        dialect,
        mode: Mode::Strict,
        keep_inherited_fds: true,
        hold_until_exit: None,
    }
}

/// Whether runc's nsexec of `dialect` protects the binary itself (runc up to 1.1; 1.2 moved it to Go).
pub fn protects_binary(dialect: Dialect) -> bool {
    matches!(
        dialect,
        Dialect::RuncRc93 | Dialect::Runc10 | Dialect::Runc11
    )
}

/// How [`run`] ended in the process it returns to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// `_LIBCONTAINER_INITPIPE` is unset or empty: nothing was done.
    NotInit,
    /// This is the final process (stage 2): runc's Go init continues.
    Final,
    /// The bootstrap failed (the fatal line is written): the process must exit 1.
    Failed,
}

/// What `nsexec()` does, in safe code: the single-thread proof is the caller's (the C entry makes it
/// from the constructor's context). Stages 0 and 1 never return from here.
pub fn run(proof: SingleThreaded, dialect: Dialect) -> Outcome {
    let init = std::env::var_os(nsbootstrap_executor::env::INITPIPE);
    if init.is_none_or(|v| v.is_empty()) {
        return Outcome::NotInit;
    }
    let mut opts = options(dialect);
    if protects_binary(dialect) {
        match nsbootstrap_executor::init::protect_self(dialect) {
            // The detached mount a re-exec left open: stage 0 dissolves it after the report.
            Ok(held) => opts.hold_until_exit = held,
            Err(()) => return Outcome::Failed,
        }
    }
    match bootstrap_with(proof, opts) {
        Ok(Some(_)) => Outcome::Final,
        Ok(None) => Outcome::NotInit,
        Err(_) => Outcome::Failed,
    }
}
