//! `nsbootstrap run`: a runtime for people. Builds a plan from unshare-like flags, spawns `nsbootstrap init`
//! through the runtime side, and returns the command's exit status.

use nix::errno::Errno;
use nix::sys::signal::{kill, SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::unistd::Pid;
use nsbootstrap_codec::dialect::CgroupNs;
use nsbootstrap_codec::setup::FinalSetup;
use nsbootstrap_codec::sync::CREATE_CGROUP_NS;
use nsbootstrap_codec::{BootstrapPlan, Clock, Dialect, IdRange, NamespaceKind, NamespacePath};
use nsbootstrap_protect::{Method, SealedBinary, UNPROTECTED_ENV};
use nsbootstrap_runtime::{Executor, SpawnSpec};
use std::ffi::OsString;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

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
    /// The final-process setup the flags ask for.
    pub setup: FinalSetup,
    /// Whether a flag asked for setup (beyond the defaults).
    pub setup_asked: bool,
}

fn range(text: &str, what: &str) -> Result<IdRange, String> {
    let parts: Vec<&str> = text.split(':').collect();
    let nums: Result<Vec<u32>, _> = parts.iter().map(|p| p.parse::<u32>()).collect();
    match nums.as_deref() {
        Ok([a, b, c]) => Ok(IdRange::new(*a, *b, *c)),
        _ => Err(format!("{what} {text:?}: expected INSIDE:OUTSIDE:COUNT")),
    }
}

/// newuidmap and newgidmap from PATH (`/usr/bin:/bin` when unset), when both are there.
fn id_map_helpers() -> Option<(PathBuf, PathBuf)> {
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into());
    let find = |name: &str| {
        std::env::split_paths(&path)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    };
    Some((find("newuidmap")?, find("newgidmap")?))
}

/// Whether /etc/subuid and /etc/subgid give the user a range, by name or uid.
fn check_subid_ranges(uid: u32) -> Result<(), String> {
    let name = std::fs::read_to_string("/etc/passwd")
        .ok()
        .and_then(|p| {
            p.lines().find_map(|l| {
                let mut f = l.split(':');
                let n = f.next()?;
                (f.nth(1)? == uid.to_string()).then(|| n.to_string())
            })
        })
        .unwrap_or_default();
    for file in ["/etc/subuid", "/etc/subgid"] {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        let has = text.lines().any(|l| {
            let owner = l.split(':').next().unwrap_or("");
            owner == name || owner == uid.to_string()
        });
        if !has {
            return Err(format!(
                "{file} has no range for {} (uid {uid}), which newuidmap and newgidmap need: add one, e.g. usermod --add-subuids 100000-165535 --add-subgids 100000-165535 {}",
                if name.is_empty() { "you" } else { &name },
                if name.is_empty() { "USER" } else { &name },
            ));
        }
    }
    Ok(())
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
    let (uid, gid) = crate::raw::euid_egid();
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
    match (uids.is_empty(), gids.is_empty()) {
        (false, true) => {
            return Err("a uid map without a gid map leaves every group unmapped inside: add --map-group INSIDE:OUTSIDE:COUNT (or use -U alone to map yourself to root)".into())
        }
        (true, false) => {
            return Err("a gid map without a uid map leaves every user unmapped inside: add --map-user INSIDE:OUTSIDE:COUNT (or use -U alone to map yourself to root)".into())
        }
        _ => {}
    }
    for (what, map) in [("uid", &uids), ("gid", &gids)] {
        let text: usize = map
            .iter()
            .map(|r| format!("{} {} {}\n", r.container_id, r.host_id, r.size).len())
            .sum();
        if text >= 4096 {
            return Err(format!(
                "the {what} map is {text} bytes as the kernel reads it, which takes under 4096 in one write: use fewer, larger ranges"
            ));
        }
    }
    // A user may write only a map of their own uid (and gid); anything more takes the setuid helpers,
    // used without being asked, as podman does.
    let own = |m: &[IdRange], id: u32| {
        m.is_empty() || (m.len() == 1 && m[0].host_id == id && m[0].size == 1)
    };
    let needs_helpers = uid != 0 && !(own(&uids, uid) && own(&gids, gid));
    if f.id_map_helpers || needs_helpers {
        let (newuidmap, newgidmap) = id_map_helpers().ok_or_else(|| {
            "this map covers more than your own uid and gid, which needs newuidmap and newgidmap (Debian package uidmap): not found in PATH; install them, or map only yourself with -U".to_string()
        })?;
        if needs_helpers {
            check_subid_ranges(uid)?;
        }
        plan.newuidmap_path = Some(newuidmap);
        plan.newgidmap_path = Some(newgidmap);
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

/// How `nsbootstrap run` protects the executor's binary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protection {
    /// The method `NSBOOTSTRAP_PROTECT` names, else the cheapest that works.
    FromEnv,
    /// This method, or the cheapest that works when `None`.
    Method(Option<Method>),
    /// None (`--unprotected`): spawn the file on disk with `NSBOOTSTRAP_UNPROTECTED=1`.
    Off,
}

/// What to spawn: the program, the protected binary it names (which must live until the executor runs
/// from it), and environment to add.
#[derive(Debug)]
pub struct ProtectedSpawn {
    /// The path to spawn.
    pub program: PathBuf,
    /// The protected binary `program` names, if any.
    pub sealed: Option<SealedBinary>,
    /// Environment for the executor.
    pub env: Vec<(OsString, OsString)>,
}

/// `nsbootstrap run` is a one-shot runtime, so it protects the executor's binary itself, once per start,
/// with the cheapest method (a detached read-only bind mount as root); the executor then finds itself
/// protected and does not re-execute. The user's `NSBOOTSTRAP_UNPROTECTED` is never passed on: only
/// `--unprotected` switches the protection off (and the executor then warns on its log pipe).
pub fn protected_spawn(
    exe: &std::path::Path,
    protection: Protection,
) -> Result<ProtectedSpawn, String> {
    let method = match protection {
        Protection::Off => {
            return Ok(ProtectedSpawn {
                program: exe.to_path_buf(),
                sealed: None,
                env: vec![(UNPROTECTED_ENV.into(), "1".into())],
            });
        }
        Protection::FromEnv => {
            nsbootstrap_protect::requested_method().map_err(|e| e.to_string())?
        }
        Protection::Method(m) => m,
    };
    let sealed = SealedBinary::protect(exe, method)
        .map_err(|e| format!("protect {}: {e}", exe.display()))?;
    Ok(ProtectedSpawn {
        program: sealed.exec_path(),
        sealed: Some(sealed),
        env: Vec::new(),
    })
}

/// What `run` does around the bootstrap, beyond the plan.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Relay the executor's log lines and keep its debug lines.
    pub verbose: bool,
    /// The final-process setup (nsbootstrap-1 only).
    pub setup: FinalSetup,
    /// Whether the setup was asked for by a flag (an error in a runc dialect) or is only the default.
    pub setup_asked: bool,
    /// Run the command on a new pseudo-terminal, relayed to ours.
    pub tty: bool,
    /// How the executor's binary is protected.
    pub protection: Protection,
}

/// The signals `run` passes on to the command.
const FORWARDED: [Signal; 7] = [
    Signal::SIGINT,
    Signal::SIGTERM,
    Signal::SIGHUP,
    Signal::SIGQUIT,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
    Signal::SIGWINCH,
];

/// The signals `run` takes from a signalfd: those it forwards, job control and children.
fn handled() -> SigSet {
    let mut set = SigSet::empty();
    for s in FORWARDED {
        set.add(s);
    }
    for s in [
        Signal::SIGCHLD,
        Signal::SIGTSTP,
        Signal::SIGCONT,
        Signal::SIGTTIN,
        Signal::SIGTTOU,
    ] {
        set.add(s);
    }
    set
}

/// A failure with the executor's own account of it, when it gave one.
fn failure(ex: &mut Executor, what: String, verbose: bool) -> String {
    ex.kill_and_reap();
    // Every stage is gone, so the log pipe is at its end: nothing the executor wrote is lost.
    let logs = ex.finish_logs();
    match fatal_line(&logs) {
        Some(msg) => with_hint(&msg, verbose),
        None => what,
    }
}

/// The message of the executor's first fatal (or error) log line, without its `dialect[pid]: ` prefix.
pub fn fatal_line(logs: &[String]) -> Option<String> {
    logs.iter().find_map(|line| {
        let v: serde_json::Value = serde_json::from_str(line).ok()?;
        if !matches!(v["level"].as_str(), Some("fatal" | "error" | "panic")) {
            return None;
        }
        let msg = v["msg"].as_str()?;
        Some(match msg.split_once("]: ") {
            Some((_, rest)) => rest.to_string(),
            None => msg.to_string(),
        })
    })
}

/// `msg` with what to do about it, where the cause is a common one.
pub fn with_hint(msg: &str, verbose: bool) -> String {
    let enoent = msg.contains("ENOENT") || msg.contains("No such file");
    let eperm = msg.contains("EPERM") || msg.contains("Operation not permitted");
    let hint = if msg.contains("id map") && eperm {
        Some("writing this id map needs root, or newuidmap/newgidmap (package uidmap) with ranges in /etc/subuid and /etc/subgid")
    } else if msg.contains("open namespace") || (msg.contains("join") && enoent) {
        Some("--join takes TYPE:PATH with an existing namespace file, such as net:/proc/PID/ns/net or net:/run/netns/NAME")
    } else if msg.contains("exec") && enoent {
        Some("the command was not found in PATH inside the new namespaces")
    } else if msg.contains("TIOCSCTTY") && eperm {
        Some("that terminal is already another session's controlling terminal (your own?): use --tty for a new one")
    } else if eperm || msg.contains("EACCES") || msg.contains("Permission denied") {
        Some("creating namespaces needs root, or -U (a user namespace) for a user")
    } else {
        None
    };
    let mut out = msg.to_string();
    if let Some(h) = hint {
        out.push_str(&format!(" (hint: {h})"));
    }
    if !verbose {
        out.push_str(" [-v for the executor's log]");
    }
    out
}

/// `nsbootstrap run`: spawns `nsbootstrap init` for `plan`, drives it, and returns `command`'s status.
pub fn run(
    plan: BootstrapPlan,
    dialect: Dialect,
    opts: &RunOptions,
    command: &[OsString],
) -> Result<ExitCode, String> {
    let verbose = opts.verbose;
    let protection = opts.protection;
    // Encoding checks the rules of spec section 8 too.
    let bytes = plan.to_bytes(dialect).map_err(|e| e.to_string())?;
    let go_ahead = if dialect == Dialect::Nsbootstrap1 && !opts.setup.is_empty() {
        opts.setup.go_ahead_bytes()?
    } else if opts.setup_asked && !opts.setup.is_empty() {
        return Err(format!(
            "--dialect {dialect}: the final-process setup (--propagation, --mount-proc, --hostname, --setuid, --setgid, --wd, --kill-child) is nsbootstrap-1's only; leave --dialect out"
        ));
    } else {
        vec![nsbootstrap_codec::sync::GO_AHEAD]
    };
    let exe =
        std::env::current_exe().map_err(|e| format!("cannot find the nsbootstrap binary: {e}"))?;
    let ProtectedSpawn {
        program,
        sealed,
        env,
    } = protected_spawn(&exe, protection)?;
    let mut args: Vec<OsString> = vec![
        "init".into(),
        "--dialect".into(),
        dialect.name().into(),
        "--".into(),
    ];
    args.extend(command.iter().cloned());
    let mut tty = if opts.tty {
        Some(crate::tty::Pty::open()?)
    } else {
        None
    };
    let mut plan = plan;
    if let Some(t) = &tty {
        plan.console_path = Some(t.slave_path.clone());
    }
    let bytes = if tty.is_some() {
        plan.to_bytes(dialect).map_err(|e| e.to_string())?
    } else {
        bytes
    };
    let spec = SpawnSpec {
        program,
        args,
        dialect,
        log_level: Some(if verbose { 6 } else { 2 }),
        env,
        env_remove: vec![UNPROTECTED_ENV.into()],
        // The executor's lines with -v; without it, only when the protection is off, so that its warning
        // (written at every level) reaches the user.
        relay_logs: verbose || protection == Protection::Off,
        inherit_stdio: true,
        credentials: None,
    };
    // Signals wait in a signalfd from here on: blocked before any thread or child exists (the log thread
    // inherits the mask; the executor starts with an empty one).
    let set = handled();
    set.thread_block()
        .map_err(|e| format!("block signals: {e}"))?;
    let sfd =
        SignalFd::with_flags(&set, SfdFlags::SFD_CLOEXEC).map_err(|e| format!("signalfd: {e}"))?;
    let reap_orphans = opts.setup.parent_death_signal.is_some();
    if reap_orphans {
        // What the command leaves behind (a background job of a shell) comes to `run`, which ends it
        // with the command: nothing outlives `run` unless --kill-child=none asks for it.
        nix::sys::prctl::set_child_subreaper(true)
            .map_err(|e| format!("PR_SET_CHILD_SUBREAPER: {e}"))?;
    }
    let mut ex = Executor::spawn(&spec).map_err(|e| e.to_string())?;
    let t = Duration::from_secs(30);
    if let Err(e) = ex.read_ready(t) {
        return Err(failure(&mut ex, e.to_string(), verbose));
    }
    if let Err(e) = ex.send(&bytes) {
        return Err(failure(&mut ex, e.to_string(), verbose));
    }
    let report = match ex.read_report(t) {
        Ok(r) => r,
        Err(e) => return Err(failure(&mut ex, e.to_string(), verbose)),
    };
    if dialect.cgroup_ns() == CgroupNs::AfterRuntimeByte
        && plan.clone_flags.contains(NamespaceKind::Cgroup)
    {
        if let Err(e) = ex.send_byte(CREATE_CGROUP_NS) {
            return Err(failure(&mut ex, e.to_string(), verbose));
        }
    }
    // The executor runs from the protected file, which lives on as long as it does: let go of ours
    // now, after the start (dissolving a detached mount waits for an RCU grace period).
    drop(sealed);
    if let Err(e) = ex.init_pipe_write(&go_ahead) {
        return Err(failure(&mut ex, e.to_string(), verbose));
    }
    let s0 = match ex.wait_stage0(t) {
        Ok(s) => s,
        Err(e) => return Err(failure(&mut ex, e.to_string(), verbose)),
    };
    let s1 = match ex.wait_pid(report.stage1, t) {
        Ok(s) => s,
        Err(e) => return Err(failure(&mut ex, e.to_string(), verbose)),
    };
    if !s0.success() || !s1.success() {
        return Err(failure(
            &mut ex,
            format!("the bootstrap failed: stage 0 {s0}, stage 1 {s1}"),
            verbose,
        ));
    }
    let child = Pid::from_raw(report.stage2);
    let mut relay = match tty.as_mut() {
        Some(t) => Some(t.start_relay()?),
        None => None,
    };
    let s2 = loop {
        // Reap first: a SIGCHLD that came before the signalfd was read is not lost.
        match ex.wait_pid(report.stage2, Duration::ZERO) {
            Ok(s) => break s,
            Err(nsbootstrap_runtime::RuntimeError::Timeout(_)) => {}
            Err(e) => return Err(failure(&mut ex, e.to_string(), verbose)),
        }
        // Blocks until a signal comes: no polling for the command's whole life.
        let sig = match sfd.read_signal() {
            Ok(Some(info)) => Signal::try_from(info.ssi_signo as i32).ok(),
            Ok(None) => None,
            Err(Errno::EINTR) => None,
            Err(e) => return Err(failure(&mut ex, format!("signalfd: {e}"), verbose)),
        };
        match sig {
            None | Some(Signal::SIGCHLD) => {}
            Some(Signal::SIGTSTP | Signal::SIGTTIN | Signal::SIGTTOU) => {
                // Job control: the command stops with us, and goes on with us.
                let _ = kill(child, Signal::SIGSTOP);
                if let Some(r) = relay.as_mut() {
                    r.suspend();
                }
                let _ = kill(Pid::this(), Signal::SIGSTOP);
            }
            Some(Signal::SIGCONT) => {
                if let Some(r) = relay.as_mut() {
                    r.resume();
                }
                let _ = kill(child, Signal::SIGCONT);
            }
            Some(Signal::SIGWINCH) if relay.is_some() => {
                if let Some(r) = relay.as_mut() {
                    r.pass_window_size();
                }
            }
            Some(s) => {
                let _ = kill(child, s);
            }
        }
    };
    if let Some(r) = relay.take() {
        r.finish();
    }
    drop(tty);
    // The signal mask stays as it is: a signal that comes now stays pending, and `run` exits with the
    // command's status rather than the signal's.
    if reap_orphans {
        end_orphans();
    }
    // The log pipe closed at exec (or holds the exec failure): read it to its end.
    let logs = ex.finish_logs();
    let code = match (s2.code(), s2.signal()) {
        (Some(c), _) => c,
        (None, Some(sig)) => 128 + sig,
        _ => 1,
    };
    if let (Some(msg), false) = (fatal_line(&logs), verbose) {
        eprintln!("nsbootstrap run: {}", with_hint(&msg, true));
    }
    Ok(ExitCode::from(code.clamp(0, 255) as u8))
}

/// Kills and reaps every child `run` still has after the command's end: the command's orphans, which
/// came to `run` as their subreaper. Each round's kills make the next generation orphans in turn.
fn end_orphans() {
    loop {
        let mut children = Vec::new();
        if let Ok(tasks) = std::fs::read_dir("/proc/self/task") {
            for t in tasks.flatten() {
                if let Ok(list) = std::fs::read_to_string(t.path().join("children")) {
                    children.extend(
                        list.split_whitespace()
                            .filter_map(|p| p.parse::<i32>().ok()),
                    );
                }
            }
        }
        if children.is_empty() {
            return;
        }
        for &c in &children {
            let _ = kill(Pid::from_raw(c), Signal::SIGKILL);
        }
        for c in children {
            // Our child, so its PID cannot be reused before this wait.
            let _ = nix::sys::wait::waitpid(Pid::from_raw(c), None);
        }
    }
}
