//! The executor's command-line entry: `nsbootstrap-init` and `nsbootstrap init` both call [`init`], which
//! protects the binary, runs the bootstrap, and in the final process waits for the go-ahead and execs the
//! command.

use crate::{bootstrap, Options};
use nsbootstrap_codec::sync::GO_AHEAD;
use nsbootstrap_codec::{Dialect, Mode};
use std::ffi::{CString, OsString};
use std::os::unix::ffi::OsStrExt;
use std::process::ExitCode;

/// The arguments of `nsbootstrap init`, read without clap when they are plain: a runtime spawns `init` on
/// every container start, and building clap's whole command tree costs that start page faults and time
/// (measured in BENCHMARKS.md). Returns `None` for anything but `init` followed by `--dialect NAME` (or
/// `--dialect=NAME`) with a known name, `--lenient`, and an optional `--` with the command: help, errors
/// and every other form are left to clap, which parses the same grammar.
pub fn fast_init_args(args: &[OsString]) -> Option<(Dialect, Mode, &[OsString])> {
    let (first, mut rest) = args.split_first()?;
    if first != "init" {
        return None;
    }
    let (mut dialect, mut mode) = (None, Mode::Strict);
    loop {
        let Some((arg, tail)) = rest.split_first() else {
            return Some((dialect.unwrap_or_default(), mode, &[]));
        };
        let arg = arg.to_str()?;
        rest = tail;
        match arg {
            "--" => return Some((dialect.unwrap_or_default(), mode, rest)),
            "--lenient" if mode == Mode::Strict => mode = Mode::Lenient,
            "--dialect" if dialect.is_none() => {
                let (name, tail) = rest.split_first()?;
                dialect = Some(name.to_str()?.parse().ok()?);
                rest = tail;
            }
            _ => {
                let name = arg
                    .strip_prefix("--dialect=")
                    .filter(|_| dialect.is_none())?;
                dialect = Some(name.parse().ok()?);
            }
        }
    }
}

/// `nsbootstrap init`: runs the bootstrap; in the final process waits for the go-ahead, then execs `command`.
pub fn init(dialect: Dialect, mode: Mode, command: &[OsString]) -> ExitCode {
    // Before anything else: never run from the binary on disk (spec section 16, CVE-2019-5736).
    if std::env::var_os(crate::env::INITPIPE).is_some() {
        if let Err(e) = nsbootstrap_protect::ensure_sealed() {
            // One fatal line on the log pipe (or stderr without one), as for any failure.
            let fd = crate::env::BootstrapEnv::log_pipe_only(|k| std::env::var(k).ok());
            crate::log::Logger::new(fd, crate::log::Level::Debug, dialect).fatal(format_args!(
                "setup: protect the binary: re-execute from a sealed copy: {e}"
            ));
            return ExitCode::FAILURE;
        }
    }
    // The command's argv is built here, in stage 0, so that the final process only reads a byte and
    // execs: nothing is allocated between the clones and exec. (The command's path is resolved by
    // execvp in the final process, whose mount namespace is the one that counts; glibc's execvp searches
    // PATH on the stack.)
    let argv: Vec<CString> = command
        .iter()
        .map(|a| CString::new(a.as_bytes()).unwrap_or_default())
        .collect();
    let mut ptrs: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
    ptrs.push(std::ptr::null());
    let done = match bootstrap(Options {
        dialect,
        mode,
        keep_inherited_fds: false,
    }) {
        Ok(Some(done)) => done,
        Ok(None) => {
            eprintln!(
                "nsbootstrap init: _LIBCONTAINER_INITPIPE is not set: init is started by a runtime (try nsbootstrap run)"
            );
            return ExitCode::FAILURE;
        }
        Err(_) => return ExitCode::FAILURE,
    };
    let l = done.logger;
    crate::log!(l, Debug, "waiting for the go-ahead");
    // The init pipe is open in this process (the environment named it and nothing closed it).
    let Ok(Some(b)) = crate::sys::read_byte(done.init_pipe) else {
        l.fatal(format_args!(
            "stage-2: go-ahead: expected byte 0x01 on the init pipe, got end of file"
        ));
        return ExitCode::FAILURE;
    };
    if b != GO_AHEAD {
        l.fatal(format_args!(
            "stage-2: go-ahead: expected byte 0x01 on the init pipe, got byte {b:#04x}"
        ));
        return ExitCode::FAILURE;
    }
    let Some(prog) = command.first() else {
        crate::log!(l, Debug, "go-ahead received, no command: exit 0");
        return ExitCode::SUCCESS;
    };
    // The command must not inherit the protocol's pipes.
    for fd in [Some(done.init_pipe), l.fd()].into_iter().flatten() {
        crate::sys::set_cloexec(fd);
    }
    crate::log!(l, Debug, "exec {:?}", prog);
    // `ptrs` points into `argv`, which outlives the call.
    let e = crate::sys::raw::execvp(&ptrs);
    l.fatal(format_args!("stage-2: exec {prog:?}: {}", e.desc()));
    ExitCode::from(127)
}
