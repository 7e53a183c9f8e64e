//! The executor's command-line entry: `nsbootstrap-init` and `nsbootstrap init` both call [`init`], which
//! protects the binary, runs the bootstrap, and in the final process waits for the go-ahead and execs the
//! command.

use crate::{bootstrap, Options};
use nsbootstrap_codec::setup::{self, Entry, MAX_SETUP_LEN};
use nsbootstrap_codec::sync::{GO_AHEAD, GO_SETUP};
use nsbootstrap_codec::{Dialect, Mode};
use std::ffi::{CString, OsString};
use std::os::unix::ffi::OsStrExt;
use std::process::ExitCode;

/// The environment variables of the protocol (`_LIBCONTAINER_INITPIPE`, `_LIBCONTAINER_LOGPIPE`, ...),
/// which the command does not inherit.
pub const PROTOCOL_ENV_PREFIX: &[u8] = b"_LIBCONTAINER_";

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

/// The protection step, as early as a program can take it: `nsbootstrap-init` calls this from a
/// constructor (`.init_array`), after the C library's start-up and the standard library's own argument
/// set-up but before `main` and the Rust runtime's set-up in it (signal handlers, the main thread's stack
/// guard, which reads `/proc/self/maps`). When the process was spawned from a file that is not
/// protected, it protects the binary and re-executes from it here, so the first image does as little as
/// possible. Anything else (already protected, protection switched off, a failure) returns, and
/// [`init`] takes the same step again, with its logs: the check is remembered, so that costs nothing.
pub fn protect_early() {
    if std::env::var_os(crate::env::INITPIPE).is_none() || std::env::args_os().next().is_none() {
        return;
    }
    if nsbootstrap_protect::running_protected().is_none()
        && !nsbootstrap_protect::unprotected_requested()
    {
        // Returns only on failure, which init() reports.
        let _ = nsbootstrap_protect::ensure_protected();
    }
}

/// The protection step of an executor (spec section 16.4, CVE-2019-5736), for `nsbootstrap-init` and for
/// any other program that hosts the executor (the runc C ABI of `nsbootstrap-nsexec`): returns at once when
/// the process already runs from a protected file (a runtime spawned a protected copy, or this is the
/// re-exec), else protects the binary with the method `NSBOOTSTRAP_PROTECT` asks for (cheapest first) and
/// re-executes from it, which does not return.
///
/// `Ok` holds the descriptor of the detached mount a re-exec left open, which the caller passes on as
/// [`Options::hold_until_exit`](crate::Options::hold_until_exit) so that stage 0 dissolves the mount after
/// the report. Protection switched off (`NSBOOTSTRAP_UNPROTECTED=1`) logs a warning line on every start,
/// whatever the log level. `Err` follows the one fatal line on the log pipe.
#[allow(clippy::result_unit_err)] // the error is the fatal line, already written
pub fn protect_self(dialect: Dialect) -> Result<Option<std::os::fd::RawFd>, ()> {
    let fd = || crate::env::BootstrapEnv::log_pipe_only(|k| std::env::var(k).ok());
    match nsbootstrap_protect::ensure_protected() {
        Ok(nsbootstrap_protect::Protection::Protected(nsbootstrap_protect::Method::Memfd)) => {
            Ok(None)
        }
        // A re-exec onto a detached mount left its descriptor open: stage 0 closes it when it exits.
        Ok(nsbootstrap_protect::Protection::Protected(_)) => {
            Ok(nsbootstrap_protect::held_mount_fd())
        }
        Ok(nsbootstrap_protect::Protection::Disabled) => {
            // Switched off on purpose: say so on every start, whatever the log level.
            crate::log::Logger::new(fd(), crate::log::Level::Warning, dialect).always(
                crate::log::Level::Warning,
                format_args!(
                    "setup: binary protection is OFF ({}=1): a process in the container can overwrite this executor's binary (CVE-2019-5736)",
                    nsbootstrap_protect::UNPROTECTED_ENV
                ),
            );
            Ok(None)
        }
        Err(e) => {
            // One fatal line on the log pipe (or stderr without one), as for any failure.
            crate::log::Logger::new(fd(), crate::log::Level::Debug, dialect)
                .fatal(format_args!("setup: protect the binary: {e}"));
            Err(())
        }
    }
}

/// `nsbootstrap init`: runs the bootstrap; in the final process waits for the go-ahead, then execs `command`.
pub fn init(dialect: Dialect, mode: Mode, command: &[OsString]) -> ExitCode {
    // Before anything else: never run from a file that can be written (spec section 16.4,
    // CVE-2019-5736). Already protected (a runtime spawned a SealedBinary, or this is the re-exec): go
    // on. Otherwise protect the binary with the method NSBOOTSTRAP_PROTECT asks for (cheapest first) and
    // re-execute from it; ensure_protected returns only on failure then.
    let mut hold_until_exit = None;
    if std::env::var_os(crate::env::INITPIPE).is_some() {
        match protect_self(dialect) {
            Ok(held) => hold_until_exit = held,
            Err(()) => return ExitCode::FAILURE,
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
    // The command gets the runtime's environment without the protocol's variables (spec section 9):
    // they name descriptors the command does not have, and a runc started as the command would take them
    // for its own.
    let env: Vec<CString> = std::env::vars_os()
        .filter(|(k, _)| !k.as_bytes().starts_with(PROTOCOL_ENV_PREFIX))
        .filter_map(|(k, v)| {
            let mut kv = k.as_bytes().to_vec();
            kv.push(b'=');
            kv.extend_from_slice(v.as_bytes());
            CString::new(kv).ok()
        })
        .collect();
    let mut envp: Vec<*const libc::c_char> = env.iter().map(|a| a.as_ptr()).collect();
    envp.push(std::ptr::null());
    let done = match bootstrap(Options {
        dialect,
        mode,
        keep_inherited_fds: false,
        hold_until_exit,
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
    if b == GO_SETUP && dialect == Dialect::Nsbootstrap1 {
        if !final_setup(done.init_pipe, &l) {
            return ExitCode::FAILURE;
        }
    } else if b != GO_AHEAD {
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
    // `ptrs` points into `argv` and `envp` into `env`, which outlive the call.
    let e = crate::sys::raw::execvpe(&ptrs, &envp);
    l.fatal(format_args!("stage-2: exec {prog:?}: {}", e.desc()));
    ExitCode::from(127)
}

/// Reads a setup record after [`GO_SETUP`] and applies it (spec section 14.1): in the final process,
/// between the bootstrap and exec, so the record is read into the stack and walked without allocating.
/// A failure is logged as the fatal line `stage-2: setup: STEP: CAUSE`, and `false` returned.
fn final_setup(pipe: std::os::fd::RawFd, l: &crate::log::Logger) -> bool {
    use crate::sys::final_setup as fs;
    let fail = |what: &str, args: std::fmt::Arguments<'_>| {
        l.fatal(format_args!("stage-2: setup: {what}: {args}"));
        false
    };
    let mut len = [0u8; 4];
    match crate::sys::read_full(pipe, &mut len) {
        Ok(true) => {}
        Ok(false) => return fail("record", format_args!("end of file in its length")),
        Err(e) => return fail("record", format_args!("read: {}", e.desc())),
    }
    let len = u32::from_le_bytes(len) as usize;
    if len > MAX_SETUP_LEN {
        return fail("record", format_args!("{len} bytes, above {MAX_SETUP_LEN}"));
    }
    let mut buf = [0u8; MAX_SETUP_LEN];
    match crate::sys::read_full(pipe, &mut buf[..len]) {
        Ok(true) => {}
        Ok(false) => return fail("record", format_args!("end of file in its {len} bytes")),
        Err(e) => return fail("record", format_args!("read: {}", e.desc())),
    }
    for entry in setup::entries(&buf[..len]) {
        let entry = match entry {
            Ok(e) => e,
            Err(why) => return fail("record", format_args!("{why}")),
        };
        let (what, r) = match entry {
            Entry::Propagation(p) => ("mount propagation", fs::propagation(p)),
            Entry::MountProc(at) => ("mount proc", fs::mount_proc(at)),
            Entry::Hostname(h) => ("sethostname", fs::hostname(h)),
            Entry::ParentDeathSignal(s) => ("parent death signal", fs::parent_death_signal(s)),
            Entry::Gid(g) => ("setgid", fs::gid(g)),
            Entry::Uid(u) => ("setuid", fs::uid(u)),
            Entry::Workdir(d) => ("chdir", fs::workdir(d)),
        };
        if let Err(e) = r {
            return match entry {
                Entry::MountProc(p) | Entry::Workdir(p) => {
                    fail(what, format_args!("{p:?}: {}", e.desc()))
                }
                Entry::Gid(n) | Entry::Uid(n) => fail(what, format_args!("{n}: {}", e.desc())),
                _ => fail(what, format_args!("{}", e.desc())),
            };
        }
    }
    true
}
