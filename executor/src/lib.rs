//! # nsbootstrap-executor
//!
//! The reference executor of the namespace-bootstrap protocol.
//!
//! * [`bootstrap`] is the entry point a Rust program calls at the very top of `main`, before any thread
//!   exists (it checks that, and refuses to run otherwise; [`bootstrap_with`] takes a
//!   [`SingleThreaded`] proof instead, and the `unsafe` [`bootstrap_unchecked`] takes the caller's word,
//!   for callers that know, such as a C constructor): it reads `_LIBCONTAINER_INITPIPE`, `_LIBCONTAINER_LOGPIPE` and `_LIBCONTAINER_LOGLEVEL`, runs
//!   the whole stage sequence of `spec/PROTOCOL.md` section 10, and returns only in the final process
//!   (stage 2), the way runc's nsexec returns to Go. Without an init pipe it returns `Ok(None)` at once.
//! * [`init::init`] is the whole executor program (`nsbootstrap-init`, `nsbootstrap init`): binary
//!   protection, the bootstrap, then the go-ahead and the exec of the command.
//!
//! `unsafe` code lives in one module, `sys::raw` (the system calls without a safe form in nix); the rest
//! of the crate denies it.
//!
//! The runtime side (spawning an executor) is the `nsbootstrap-runtime` crate; the binary protection is
//! `nsbootstrap-protect`.

#![deny(unsafe_code)]

pub mod env;
pub mod init;
pub mod log;
pub mod stage;
pub mod sys;

use env::BootstrapEnv;
use log::Logger;
use nsbootstrap_codec::{Dialect, MessageReader, Mode};
pub use stage::{Bootstrapped, Failure, Prepared};
use std::os::fd::RawFd;
pub use sys::raw::bootstrap_unchecked;
pub use sys::SingleThreaded;
use sys::{Kernel, Sys};

/// Options of the entry point.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// The dialect to speak (default nsbootstrap-1).
    pub dialect: Dialect,
    /// How to decode the message (default strict).
    pub mode: Mode,
    /// Keep descriptors inherited from the runtime other than 0, 1, 2 and the two pipes (default: close
    /// them, so that the final process holds only what the spec lets it hold).
    pub keep_inherited_fds: bool,
    /// A descriptor stage 0 keeps open until it exits, after the report: stage 1 closes it first thing,
    /// so stage 2 never has it. `init` passes the detached mount's descriptor that the protection's
    /// re-exec kept open (`nsbootstrap_protect::held_mount_fd`), whose closing waits for an RCU grace
    /// period.
    pub hold_until_exit: Option<RawFd>,
}

fn setup_failure(step: &'static str, detail: String, errno: Option<nix::errno::Errno>) -> Failure {
    Failure {
        stage: None,
        step,
        detail,
        errno,
    }
}

/// Runs the bootstrap if the environment names an init pipe. Returns `Ok(None)` when it does not, and
/// `Ok(Some(_))` only in the final process. Stages 0 and 1 never return: they exit (0 on success). On a
/// failure before the first clone, the error is logged on the log pipe and returned; after it, the failing
/// stage logs it, kills the stages it knows, and exits 1.
///
/// The stages are created with a fork-like clone, which is sound only in a single-threaded process: this
/// entry checks that the process has one thread ([`SingleThreaded::check`]) and fails (one fatal line,
/// step `single thread`) when it has more. Call it at the very top of `main`, before any thread exists.
pub fn bootstrap(opts: Options) -> Result<Option<Bootstrapped>, Failure> {
    entry(opts, None)
}

/// [`bootstrap`] with the proof that the process is single-threaded given by the caller, who made it with
/// [`SingleThreaded::check`] or, knowing, with the `unsafe` [`SingleThreaded::assume`] (a C constructor
/// that runs before `main`, for instance).
pub fn bootstrap_with(
    proof: SingleThreaded,
    opts: Options,
) -> Result<Option<Bootstrapped>, Failure> {
    entry(opts, Some(proof))
}

fn entry(opts: Options, proof: Option<SingleThreaded>) -> Result<Option<Bootstrapped>, Failure> {
    let env = match BootstrapEnv::from_process() {
        Ok(Some(env)) => env,
        Ok(None) => return Ok(None),
        Err(e) => {
            let fd = BootstrapEnv::log_pipe_only(|k| std::env::var(k).ok());
            let l = Logger::new(fd, log::Level::Debug, opts.dialect);
            let f = setup_failure("environment", e.to_string(), None);
            l.fatal(format_args!("{f}"));
            return Err(f);
        }
    };
    let logger = Logger::new(env.log_pipe, env.log_level, opts.dialect);
    let fail = |f: Failure| {
        logger.fatal(format_args!("{f}"));
        Err(f)
    };
    let proof = match proof.map_or_else(SingleThreaded::check, Ok) {
        Ok(proof) => proof,
        Err(threads) => {
            return fail(setup_failure(
                "single thread",
                format!(
                    "the process has {threads} threads: the stages are created with a fork-like clone, \
                     which needs a single-threaded process (bootstrap before any thread exists)"
                ),
                None,
            ))
        }
    };
    if !opts.keep_inherited_fds {
        let keep: Vec<_> = [Some(env.init_pipe), env.log_pipe, opts.hold_until_exit]
            .into_iter()
            .flatten()
            .collect();
        sys::close_inherited_fds(&keep);
    }
    let mut sys = Kernel::new(proof);
    // The reader holds the message's bytes for the whole sequence: the stages borrow them.
    let reader = match read(&mut sys, &env, opts, logger) {
        Ok(r) => r,
        Err(f) => return fail(f),
    };
    let p = match prepare(&mut sys, &env, &reader, opts, logger) {
        Ok(p) => p,
        Err(f) => return fail(f),
    };
    let done = stage::run(sys, &p, env.init_pipe, logger);
    Ok(Some(Bootstrapped {
        dialect: p.dialect,
        init_pipe: done.init_pipe,
        logger: done.logger,
    }))
}

/// Parses `_LIBCONTAINER_MOUNT_FDS`: a JSON array of integers (-1 for a mount without source).
fn parse_mount_fds(text: &str) -> Option<Vec<std::os::fd::RawFd>> {
    let body = text.trim().strip_prefix('[')?.strip_suffix(']')?.trim();
    if body.is_empty() {
        return Some(Vec::new());
    }
    body.split(',').map(|n| n.trim().parse().ok()).collect()
}

/// Stage 0 up to the message: the ready byte, then the message, read to its end.
fn read<S: Sys>(
    sys: &mut S,
    env: &BootstrapEnv,
    opts: Options,
    logger: Logger,
) -> Result<MessageReader, Failure> {
    let d = opts.dialect;
    if d.ready_byte() {
        sys.write_all(env.init_pipe, &[0])
            .map_err(|e| setup_failure("ready byte", "write to the init pipe".into(), Some(e)))?;
    }
    crate::log!(logger, Debug, "=> bootstrap ({d})");
    stage::read_message(sys, env.init_pipe, d, opts.mode)
}

/// Everything else stage 0 does before the first clone.
fn prepare<'m, S: Sys>(
    sys: &mut S,
    env: &BootstrapEnv,
    reader: &'m MessageReader,
    opts: Options,
    logger: Logger,
) -> Result<Prepared<'m>, Failure> {
    let view = stage::prepare::decode(reader)?;
    view.check_rules()
        .map_err(|e| setup_failure("check the plan", e.to_string(), None))?;
    let oom_score_adj = view.oom_score_adj();
    let mut p = Prepared::new(view, opts.dialect);
    p.held_fd = opts.hold_until_exit;
    if p.mount_sources.is_some() {
        let text = std::env::var("_LIBCONTAINER_MOUNT_FDS").unwrap_or_default();
        let fds = parse_mount_fds(&text).ok_or_else(|| {
            setup_failure(
                "environment",
                format!(
                    "_LIBCONTAINER_MOUNT_FDS={text:?} is not a JSON array of descriptor numbers"
                ),
                None,
            )
        })?;
        let reserved: Vec<std::os::fd::RawFd> = [Some(env.init_pipe), env.log_pipe]
            .into_iter()
            .flatten()
            .collect();
        p = p
            .with_mount_fds(fds, &reserved)
            .map_err(|e| setup_failure("environment", e, None))?;
    }
    if let Some(v) = oom_score_adj {
        crate::log!(logger, Debug, "oom_score_adj {v}");
        sys.write_file(c"/proc/self/oom_score_adj", v.to_string().as_bytes())
            .map_err(|e| {
                setup_failure(
                    "write oom_score_adj",
                    format!("/proc/self/oom_score_adj {v}"),
                    Some(e),
                )
            })?;
    }
    if !p.joins.is_empty() {
        sys.set_dumpable(false)
            .map_err(|e| setup_failure("set non-dumpable", String::new(), Some(e)))?;
    }
    Ok(p)
}
