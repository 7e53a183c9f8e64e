//! `nsbootstrap run`: a runtime for people. Builds a plan from unshare-like flags, spawns `nsbootstrap init`
//! through the runtime side, and returns the command's exit status.

use nsbootstrap_codec::dialect::CgroupNs;
use nsbootstrap_codec::sync::CREATE_CGROUP_NS;
use nsbootstrap_codec::{BootstrapPlan, Clock, Dialect, IdRange, NamespaceKind, NamespacePath};
use nsbootstrap_runtime::{Executor, SpawnSpec};
use std::ffi::OsString;
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
    // Encoding checks the rules of spec section 8 too.
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
