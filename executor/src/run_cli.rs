//! `nsbootstrap init` (the executor a runtime spawns) and `nsbootstrap run` (a runtime for people).

use crate::runtime::{Executor, SpawnSpec};
use crate::{bootstrap, Options};
use nsbootstrap_codec::{
    BootstrapPlan, CgroupNs, Clock, Dialect, IdRange, Mode, NamespaceKind, NamespacePath,
    CREATE_CGROUP_NS, GO_AHEAD,
};
use std::ffi::{CString, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

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
        if let Err(e) = crate::protect::ensure_sealed() {
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
    let mut b = [0u8; 1];
    let n = loop {
        // SAFETY: the init pipe is open in this process (the environment named it and nothing closed
        // it); `b` is valid for one byte.
        let n = unsafe { libc::read(done.init_pipe, b.as_mut_ptr().cast(), 1) };
        if n >= 0 || std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
            break n;
        }
    };
    if n != 1 {
        l.fatal(format_args!(
            "stage-2: go-ahead: expected byte 0x01 on the init pipe, got end of file"
        ));
        return ExitCode::FAILURE;
    }
    if b[0] != GO_AHEAD {
        l.fatal(format_args!(
            "stage-2: go-ahead: expected byte 0x01 on the init pipe, got byte {:#04x}",
            b[0]
        ));
        return ExitCode::FAILURE;
    }
    let Some(prog) = command.first() else {
        crate::log!(l, Debug, "go-ahead received, no command: exit 0");
        return ExitCode::SUCCESS;
    };
    for fd in [Some(done.init_pipe), l.fd()].into_iter().flatten() {
        // SAFETY: F_SETFD on our own descriptors; the command must not inherit the protocol's pipes.
        unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
    }
    crate::log!(l, Debug, "exec {:?}", prog);
    // SAFETY: `ptrs` is a NULL-terminated array of pointers into `argv`, which outlives the call.
    unsafe { libc::execvp(ptrs[0], ptrs.as_ptr()) };
    let e = nix::errno::Errno::last();
    l.fatal(format_args!("stage-2: exec {prog:?}: {}", e.desc()));
    ExitCode::from(127)
}

/// The flags of `nsbootstrap run` that build a plan.
#[derive(Clone, Debug, Default)]
pub struct RunFlags {
    /// Namespaces to create.
    pub create: Vec<NamespaceKind>,
    /// `TYPE:PATH` joins.
    pub join: Vec<String>,
    /// `INSIDE:OUTSIDE:COUNT` uid ranges.
    pub map_user: Vec<String>,
    /// `INSIDE:OUTSIDE:COUNT` gid ranges.
    pub map_group: Vec<String>,
    /// Map root to the caller's uid and gid.
    pub map_root_user: bool,
    /// `allow` or `deny`.
    pub setgroups: Option<String>,
    /// oom_score_adj.
    pub oom_score_adj: Option<i32>,
    /// Console path.
    pub console: Option<PathBuf>,
    /// Monotonic clock offset, seconds.
    pub monotonic: Option<i64>,
    /// Boottime clock offset, seconds.
    pub boottime: Option<i64>,
    /// newuidmap/newgidmap helpers.
    pub id_map_helpers: bool,
}

fn range(text: &str, what: &str) -> Result<IdRange, String> {
    let parts: Vec<&str> = text.split(':').collect();
    let nums: Result<Vec<u32>, _> = parts.iter().map(|p| p.parse::<u32>()).collect();
    match nums.as_deref() {
        Ok([a, b, c]) => Ok(IdRange::new(*a, *b, *c)),
        _ => Err(format!("{what} {text:?}: expected INSIDE:OUTSIDE:COUNT")),
    }
}

/// Builds the plan the flags describe.
pub fn plan_from_flags(f: &RunFlags) -> Result<BootstrapPlan, String> {
    let mut plan = BootstrapPlan::new();
    for k in &f.create {
        plan.clone_flags = plan.clone_flags.with(*k);
    }
    for j in &f.join {
        let (kind, path) = j
            .split_once(':')
            .ok_or_else(|| format!("--join {j:?}: expected TYPE:PATH"))?;
        let kind = NamespaceKind::from_name(kind.as_bytes())
            .ok_or_else(|| format!("--join {j:?}: unknown namespace type {kind:?}"))?;
        plan.namespace_paths.push(NamespacePath::new(kind, path));
    }
    // The user namespace first, as runtimes send it.
    plan.namespace_paths
        .sort_by_key(|e| e.kind != NamespaceKind::User);
    // SAFETY: geteuid and getegid cannot fail and touch no memory.
    let (uid, gid) = unsafe { (libc::geteuid(), libc::getegid()) };
    let mut uids: Vec<IdRange> = f
        .map_user
        .iter()
        .map(|t| range(t, "--map-user"))
        .collect::<Result<_, _>>()?;
    let mut gids: Vec<IdRange> = f
        .map_group
        .iter()
        .map(|t| range(t, "--map-group"))
        .collect::<Result<_, _>>()?;
    if f.map_root_user {
        uids.insert(0, IdRange::new(0, uid, 1));
        gids.insert(0, IdRange::new(0, gid, 1));
    }
    if !uids.is_empty() {
        plan.uid_map = Some(uids);
    }
    if !gids.is_empty() {
        plan.gid_map = Some(gids);
    }
    match f.setgroups.as_deref() {
        None => {}
        Some("allow") => plan.setgroups = Some(true),
        Some("deny") => plan.setgroups = Some(false),
        Some(other) => return Err(format!("--setgroups {other:?}: expected allow or deny")),
    }
    plan.oom_score_adj = f.oom_score_adj;
    plan.rootless_euid = Some(uid != 0);
    if uid != 0 && f.setgroups.is_none() {
        // A single self-map needs setgroups denied; the executor writes "deny" for rootless_euid.
        plan.setgroups = None;
    }
    if f.id_map_helpers {
        plan.newuidmap_path = Some(PathBuf::from("/usr/bin/newuidmap"));
        plan.newgidmap_path = Some(PathBuf::from("/usr/bin/newgidmap"));
    }
    let mut offsets = Vec::new();
    if let Some(s) = f.monotonic {
        offsets.push(nsbootstrap_codec::TimeOffset {
            clock: Clock::Monotonic,
            secs: s,
            nanosecs: 0,
        });
    }
    if let Some(s) = f.boottime {
        offsets.push(nsbootstrap_codec::TimeOffset {
            clock: Clock::Boottime,
            secs: s,
            nanosecs: 0,
        });
    }
    if !offsets.is_empty() {
        plan.time_offsets = Some(offsets);
    }
    plan.console_path = f.console.clone();
    Ok(plan)
}

/// `nsbootstrap run`: spawns `nsbootstrap init` for `plan`, drives it, and returns `command`'s status.
pub fn run(
    plan: BootstrapPlan,
    dialect: Dialect,
    verbose: bool,
    command: &[OsString],
) -> Result<ExitCode, String> {
    plan.check().map_err(|e| e.to_string())?;
    let bytes = plan.to_bytes(dialect).map_err(|e| e.to_string())?;
    let exe =
        std::env::current_exe().map_err(|e| format!("cannot find the nsbootstrap binary: {e}"))?;
    let mut args: Vec<OsString> = vec![
        "init".into(),
        "--dialect".into(),
        dialect.name().into(),
        "--".into(),
    ];
    args.extend(command.iter().cloned());
    let spec = SpawnSpec {
        program: exe,
        args,
        dialect,
        log_level: Some(if verbose { 6 } else { 2 }),
        env: Vec::new(),
        relay_logs: true,
        inherit_stdio: true,
        credentials: None,
    };
    let mut ex = Executor::spawn(&spec).map_err(|e| e.to_string())?;
    let t = Duration::from_secs(30);
    let fail = |ex: &mut Executor, what: String| {
        ex.kill_and_reap();
        what
    };
    if let Err(e) = ex.read_ready(t) {
        return Err(fail(&mut ex, e.to_string()));
    }
    if let Err(e) = ex.send(&bytes) {
        return Err(fail(&mut ex, e.to_string()));
    }
    let report = match ex.read_report(t) {
        Ok(r) => r,
        Err(e) => {
            let status = ex.wait_stage0(Duration::from_secs(2)).ok();
            return Err(fail(&mut ex, format!("{e} (stage 0: {status:?})")));
        }
    };
    if dialect.cgroup_ns() == CgroupNs::AfterRuntimeByte
        && plan.clone_flags.contains(NamespaceKind::Cgroup)
    {
        ex.send_byte(CREATE_CGROUP_NS).map_err(|e| e.to_string())?;
    }
    ex.go_ahead().map_err(|e| e.to_string())?;
    let s0 = ex.wait_stage0(t).map_err(|e| e.to_string())?;
    let s1 = ex.wait_pid(report.stage1, t).map_err(|e| e.to_string())?;
    if !s0.success() || !s1.success() {
        return Err(fail(
            &mut ex,
            format!("bootstrap failed: stage 0 {s0}, stage 1 {s1}"),
        ));
    }
    let s2 = ex
        .wait_pid(report.stage2, Duration::from_secs(u64::from(u32::MAX)))
        .map_err(|e| e.to_string())?;
    use std::os::unix::process::ExitStatusExt;
    let code = match (s2.code(), s2.signal()) {
        (Some(c), _) => c,
        (None, Some(sig)) => 128 + sig,
        _ => 1,
    };
    Ok(ExitCode::from(code.clamp(0, 255) as u8))
}
