//! The stage sequence (spec section 10), one file per stage: `stage0` reads the message (with
//! [`prepare`]) and writes id maps, time offsets and the PID report; `stage1` joins and creates
//! namespaces; `stage2` becomes the final process. They talk over typed channels (`channel`).
//!
//! Everything a child stage needs is prepared by stage 0 before the first clone ([`Prepared`], which
//! borrows the decoded message): C strings, argument vectors, descriptors. After a clone the stages only
//! make system calls through [`Sys`] and format log lines on the stack, so nothing is allocated between
//! clone and exec.

pub(crate) mod channel;
pub mod prepare;
mod stage0;
mod stage1;
mod stage2;
#[cfg(test)]
mod tests;

use crate::log::{Cut, Logger, DETAIL_MAX};
use crate::sys::Sys;
use nix::errno::Errno;
use nsbootstrap_codec::Dialect;
use std::fmt;
use std::os::fd::RawFd;

pub use prepare::{read_message, Prepared};

/// Why a bootstrap failed; the text is what the fatal log line says.
#[derive(Debug)]
pub struct Failure {
    /// 0, 1 or 2; `None` before stage 0 knows its role.
    pub stage: Option<u8>,
    /// The step that failed.
    pub step: &'static str,
    /// Detail (a path, an attribute, a value).
    pub detail: String,
    /// The errno, when a system call failed.
    pub errno: Option<Errno>,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.stage {
            Some(s) => write!(f, "stage-{s}: {}", self.step)?,
            None => write!(f, "setup: {}", self.step)?,
        }
        if !self.detail.is_empty() {
            write!(f, ": {}", Cut(format_args!("{}", self.detail), DETAIL_MAX))?;
        }
        if let Some(e) = self.errno {
            write!(f, ": {}", e.desc())?;
        }
        Ok(())
    }
}

impl std::error::Error for Failure {}

/// What stage 2 returns from [`run`]: the message stays with its owner (stage 0's reader), so that nothing
/// is cloned (or allocated) after the clones.
#[derive(Debug, Clone, Copy)]
pub struct Final {
    /// The init pipe, still open.
    pub init_pipe: RawFd,
    /// The logger (stage 2).
    pub logger: Logger,
}

/// What the final process (stage 2) gets back.
#[derive(Debug, Clone, Copy)]
pub struct Bootstrapped {
    /// The dialect.
    pub dialect: Dialect,
    /// The init pipe, still open.
    pub init_pipe: RawFd,
    /// The logger (stage 2).
    pub logger: Logger,
}

/// What one stage works with: the system calls, the prepared message, its own number and logger, and the
/// PIDs of the stages it kills when it fails.
pub(crate) struct Ctx<'p, 'm, S: Sys> {
    pub(crate) sys: S,
    pub(crate) p: &'p Prepared<'m>,
    pub(crate) init_pipe: RawFd,
    /// This stage's logger (its lines say its number).
    pub(crate) log: Logger,
    number: u8,
    /// The stages that depend on this one (0 or less: none), killed when it fails.
    dependents: [i32; 2],
}

impl<'p, 'm, S: Sys> Ctx<'p, 'm, S> {
    fn new(sys: S, p: &'p Prepared<'m>, init_pipe: RawFd, logger: Logger, number: u8) -> Self {
        Ctx {
            sys,
            p,
            init_pipe,
            log: logger.for_stage(number),
            number,
            dependents: [-1; 2],
        }
    }

    /// The same context for the stage this one just cloned (the child's side of a clone).
    fn into_stage(self, number: u8) -> Self {
        Ctx {
            log: self.log.for_stage(number),
            number,
            dependents: [-1; 2],
            ..self
        }
    }

    /// Names the process after the stage (`PR_SET_NAME`).
    fn set_name(&mut self) {
        let name = stage_name(self.p.dialect, self.number);
        self.sys.set_name(name);
    }

    /// Records a stage this one kills when it fails.
    fn depends_on_me(&mut self, pid: i32) {
        if let Some(slot) = self.dependents.iter_mut().find(|s| **s <= 0) {
            *slot = pid;
        }
    }

    /// Kills the stages that depend on this one, and exits with `code`.
    pub(crate) fn end(&mut self, code: i32) -> ! {
        for pid in self.dependents {
            self.sys.kill(pid);
        }
        self.sys.exit(code)
    }

    /// Logs the failure (one fatal line), kills the stages that depend on this one, and exits 1.
    #[cold]
    #[inline(never)]
    pub(crate) fn die(
        &mut self,
        step: &str,
        detail: fmt::Arguments<'_>,
        errno: Option<Errno>,
    ) -> ! {
        let detail = Cut(detail, DETAIL_MAX);
        match errno {
            Some(e) => self
                .log
                .fatal(format_args!("{step}: {detail}: {}", e.desc())),
            None => self.log.fatal(format_args!("{step}: {detail}")),
        }
        self.end(1)
    }
}

/// Unwraps a system call's result, or fails the stage: `step!(cx, "step", result, "detail {}", x)`.
macro_rules! step {
    ($cx:expr, $step:expr, $res:expr, $($detail:tt)*) => {
        match $res {
            Ok(v) => v,
            Err(e) => $cx.die($step, format_args!($($detail)*), Some(e)),
        }
    };
}
pub(crate) use step;

/// The process names, visible in `ps`.
fn stage_name(dialect: Dialect, stage: u8) -> &'static std::ffi::CStr {
    match (dialect, stage) {
        (Dialect::Nsbootstrap1, 0) => c"nsb:[0:PARENT]",
        (Dialect::Nsbootstrap1, 1) => c"nsb:[1:CHILD]",
        (Dialect::Nsbootstrap1, _) => c"nsb:[2:INIT]",
        (_, 0) => c"runc:[0:PARENT]",
        (_, 1) => c"runc:[1:CHILD]",
        _ => c"runc:[2:INIT]",
    }
}

/// Runs the stages from stage 0's socketpairs on, for the message `p`, talking to the runtime on
/// `init_pipe`. Stages 0 and 1 exit (0 on success, 1 on failure); this returns only in stage 2.
///
/// With [`Kernel`](crate::sys::Kernel), the clones are fork-like and sound because the kernel was made
/// from a [`SingleThreaded`](crate::sys::SingleThreaded) proof.
pub fn run<S: Sys>(sys: S, p: &Prepared<'_>, init_pipe: RawFd, logger: Logger) -> Final {
    stage0::Stage0::new(Ctx::new(sys, p, init_pipe, logger, 0)).run()
}

/// `/proc/PID/FILE` as a C string on the stack.
pub(crate) struct ProcPath {
    buf: [u8; 64],
}

impl ProcPath {
    pub(crate) fn new(pid: i32, file: &[u8]) -> ProcPath {
        use std::io::Write;
        let mut buf = [0u8; 64];
        let mut w = &mut buf[..63];
        let _ = write!(w, "/proc/{pid}/");
        let _ = w.write_all(file);
        ProcPath { buf }
    }

    pub(crate) fn as_cstr(&self) -> &std::ffi::CStr {
        std::ffi::CStr::from_bytes_until_nul(&self.buf).unwrap_or(c"")
    }
}
