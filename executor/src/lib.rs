//! # nsbootstrap-executor
//!
//! The reference executor of the namespace-bootstrap protocol.
//!
//! * [`bootstrap`] is the entry point a Rust program calls at the very top of `main`, before any thread
//!   exists: it reads `_LIBCONTAINER_INITPIPE`, `_LIBCONTAINER_LOGPIPE` and `_LIBCONTAINER_LOGLEVEL`, runs
//!   the whole stage sequence of `spec/PROTOCOL.md` section 10, and returns only in the final process
//!   (stage 2), the way runc's nsexec returns to Go. Without an init pipe it returns `Ok(None)` at once.
//! * [`init::init`] is the whole executor program (`nsbootstrap-init`, `nsbootstrap init`): binary
//!   protection, the bootstrap, then the go-ahead and the exec of the command.
//!
//! The runtime side (spawning an executor) is the `nsbootstrap-runtime` crate; the binary protection is
//! `nsbootstrap-protect`.

pub mod env;
pub mod init;
pub mod log;
pub mod stage;
pub mod sys;

use env::BootstrapEnv;
use log::Logger;
use nsbootstrap_codec::{Dialect, Mode};
pub use stage::{Bootstrapped, Failure, Prepared};
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
}

/// Closes every descriptor from 3 up, except those in `keep`.
fn close_inherited_fds(keep: &[std::os::fd::RawFd]) {
    let mut keep: Vec<u32> = keep
        .iter()
        .filter(|&&f| f >= 3)
        .map(|&f| f as u32)
        .collect();
    keep.sort_unstable();
    let mut from = 3u32;
    for k in keep.into_iter().chain(std::iter::once(u32::MAX)) {
        if k > from {
            // SAFETY: close_range closes descriptors by number; the executor owns no descriptor in these
            // ranges yet (it runs before opening any), and the ones it must keep are outside them.
            let r = unsafe { libc::syscall(libc::SYS_close_range, from, k - 1, 0u32) };
            if r < 0 {
                // Kernels before 5.9: close what /proc/self/fd lists in the range.
                let open: Vec<u32> = std::fs::read_dir("/proc/self/fd")
                    .map(|d| {
                        d.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                            .collect()
                    })
                    .unwrap_or_default();
                for fd in open.into_iter().filter(|fd| (from..k).contains(fd)) {
                    // SAFETY: as above, a descriptor this process does not use.
                    unsafe { libc::close(fd as i32) };
                }
            }
        }
        from = k.saturating_add(1);
    }
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
/// Call it before any thread exists: the stages are created with a fork-like clone.
pub fn bootstrap(opts: Options) -> Result<Option<Bootstrapped>, Failure> {
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
    if !opts.keep_inherited_fds {
        let keep: Vec<_> = [Some(env.init_pipe), env.log_pipe]
            .into_iter()
            .flatten()
            .collect();
        close_inherited_fds(&keep);
    }
    let mut sys = Kernel;
    match prepare(&mut sys, &env, opts, logger) {
        Ok(p) => {
            let stages = stage::Stages::new(sys, &p, env.init_pipe, logger);
            let done = stages.run();
            Ok(Some(Bootstrapped {
                dialect: p.dialect,
                plan: p.plan,
                init_pipe: done.init_pipe,
                logger: done.logger,
            }))
        }
        Err(f) => {
            logger.fatal(format_args!("{f}"));
            Err(f)
        }
    }
}

/// Parses `_LIBCONTAINER_MOUNT_FDS`: a JSON array of integers (-1 for a mount without source).
fn parse_mount_fds(text: &str) -> Option<Vec<std::os::fd::RawFd>> {
    let body = text.trim().strip_prefix('[')?.strip_suffix(']')?.trim();
    if body.is_empty() {
        return Some(Vec::new());
    }
    body.split(',').map(|n| n.trim().parse().ok()).collect()
}

/// Everything stage 0 does before the first clone.
fn prepare<S: Sys>(
    sys: &mut S,
    env: &BootstrapEnv,
    opts: Options,
    logger: Logger,
) -> Result<Prepared, Failure> {
    let d = opts.dialect;
    if d.ready_byte() {
        sys.write_all(env.init_pipe, &[0])
            .map_err(|e| setup_failure("ready byte", "write to the init pipe".into(), Some(e)))?;
    }
    crate::log!(logger, Debug, "=> bootstrap ({d})");
    let plan = stage::read_message(sys, env.init_pipe, d, opts.mode)?;
    plan.check()
        .map_err(|e| setup_failure("check the plan", e.to_string(), None))?;
    let mut p = Prepared::new(plan, d);
    if p.plan.mount_sources.is_some() {
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
        p = p
            .with_mount_fds(fds)
            .map_err(|e| setup_failure("environment", e, None))?;
    }
    if let Some(v) = p.plan.oom_score_adj {
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
    if !p.plan.namespace_paths.is_empty() {
        sys.set_dumpable(false)
            .map_err(|e| setup_failure("set non-dumpable", String::new(), Some(e)))?;
    }
    Ok(p)
}
