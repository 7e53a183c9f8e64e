//! The scenarios: positive (the sequence does what a plan says), negative (invalid input is refused
//! cleanly), and faults (the runtime or a stage goes away). Each names the spec section it checks.

use crate::harness::{
    self, map_rows, ns_link, proc_file, stat_fields, status_field, Check, Ctx, Verdict,
};
use crate::vectors;
use nsbootstrap_codec::{BootstrapPlan, Clock, Dialect, Mode, NamespaceKind, PidReport};
use std::path::Path;
use std::time::Duration;

/// One scenario.
pub struct Scenario {
    /// A stable name, `group/what`.
    pub name: String,
    /// The spec section it checks.
    pub section: &'static str,
    /// Whether the spec requires the behaviour (false: it leaves a choice, and the verdict is observed).
    pub required: bool,
    /// Runs it.
    pub run: Box<dyn Fn(&Ctx) -> Verdict>,
}

fn scenario(
    name: impl Into<String>,
    section: &'static str,
    run: impl Fn(&Ctx) -> Verdict + 'static,
) -> Scenario {
    Scenario {
        name: name.into(),
        section,
        required: true,
        run: Box::new(run),
    }
}

fn verdict(r: Check<()>) -> Verdict {
    match r {
        Ok(()) => Verdict::Pass,
        Err(e) => Verdict::Fail(e),
    }
}

fn ensure(cond: bool, what: impl FnOnce() -> String) -> Check<()> {
    if cond {
        Ok(())
    } else {
        Err(what())
    }
}

fn root() -> bool {
    // SAFETY: geteuid cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// A process holding new namespaces of the given kinds, not a child of the suite (so that the leftover
/// check does not see it), killed on drop.
pub struct Holder {
    /// The PID of the process inside the namespaces.
    pub pid: i32,
    /// The PID of the `unshare` process (the same unless it forked).
    top: i32,
}

impl Holder {
    /// Starts `unshare FLAGS sleep 60` detached; waits until its namespaces differ from ours.
    pub fn new(flags: &[&str]) -> Check<Holder> {
        let script = format!(
            "unshare {} sleep 60 >/dev/null 2>&1 </dev/null & echo $!",
            flags.join(" ")
        );
        let out = std::process::Command::new("sh")
            .args(["-c", &script])
            .output()
            .map_err(|e| format!("sh: {e}"))?;
        let pid: i32 = String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .map_err(|_| "no PID from the holder".to_string())?;
        let mut h = Holder { pid, top: pid };
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        // `unshare` execs sleep once its namespaces exist; with --fork, sleep is its child.
        loop {
            if proc_file(h.pid, "comm").is_ok_and(|c| c.trim() == "sleep") {
                return Ok(h);
            }
            if flags.contains(&"--fork") {
                let kids = proc_file(pid, &format!("task/{pid}/children")).unwrap_or_default();
                if let Some(k) = kids.split_whitespace().next().and_then(|k| k.parse().ok()) {
                    h.pid = k;
                }
            }
            if std::time::Instant::now() > deadline {
                return Err("the namespace holder did not start".into());
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Its namespace file of `kind`.
    pub fn ns(&self, kind: NamespaceKind) -> String {
        format!("/proc/{}/ns/{}", self.pid, kind.name())
    }
}

impl Drop for Holder {
    fn drop(&mut self) {
        // SAFETY: kill takes plain integers; the holder processes are ours and were alive a moment ago.
        unsafe {
            libc::kill(self.pid, libc::SIGKILL);
            libc::kill(self.top, libc::SIGKILL);
        }
    }
}

fn unshare_flag(kind: NamespaceKind) -> &'static str {
    match kind {
        NamespaceKind::Cgroup => "--cgroup",
        NamespaceKind::Ipc => "--ipc",
        NamespaceKind::Mnt => "--mount",
        NamespaceKind::Net => "--net",
        NamespaceKind::Pid => "--pid",
        NamespaceKind::Time => "--time",
        NamespaceKind::User => "--user",
        NamespaceKind::Uts => "--uts",
    }
}

fn kinds(d: Dialect) -> Vec<NamespaceKind> {
    NamespaceKind::BY_FLAG
        .into_iter()
        .filter(|k| *k != NamespaceKind::Time || d.has_time_namespace())
        .collect()
}

/// Checks the final process is in a new namespace of each `created` kind and shares ours for the rest.
fn check_namespaces(pid: i32, created: &[NamespaceKind], d: Dialect) -> Check<()> {
    let p = pid.to_string();
    for k in kinds(d) {
        let (theirs, ours) = (ns_link(&p, k.name())?, ns_link("self", k.name())?);
        if created.contains(&k) {
            ensure(theirs != ours, || format!("{k} namespace was not created"))?;
        } else {
            ensure(theirs == ours, || {
                format!("{k} namespace changed although not asked")
            })?;
        }
    }
    Ok(())
}

fn create_plan(kind: NamespaceKind) -> BootstrapPlan {
    let mut b = BootstrapPlan::builder().create(kind);
    if kind == NamespaceKind::User {
        b = b.map_user(0, 100000, 65536).map_group(0, 100000, 65536);
    }
    b.build()
}

fn positive(d: Dialect, out: &mut Vec<Scenario>) {
    out.push(scenario("positive/minimal", "10", move |ctx| {
        verdict((|| {
            let s = ctx.start(&BootstrapPlan::new())?;
            check_namespaces(s.pid(), &[], d)?;
            let stat = stat_fields(s.pid())?;
            ensure(stat.get(3) == Some(&s.pid().to_string()), || {
                format!(
                    "the final process does not lead its own session (sid {:?})",
                    stat.get(3)
                )
            })?;
            s.finish()
        })())
    }));
    for kind in kinds(d) {
        out.push(scenario(
            format!("positive/create-{kind}"),
            "10",
            move |ctx| {
                verdict((|| {
                    let s = ctx.start(&create_plan(kind))?;
                    check_namespaces(s.pid(), &[kind], d)?;
                    if kind == NamespaceKind::Pid {
                        let nspid = status_field(s.pid(), "NSpid:")?;
                        ensure(nspid.split_whitespace().last() == Some("1"), || {
                            format!("not PID 1 in the new PID namespace (NSpid {nspid})")
                        })?;
                    }
                    s.finish()
                })())
            },
        ));
        out.push(scenario(
            format!("positive/join-{kind}"),
            "10",
            move |ctx| {
                verdict((|| {
                    let mut flags = vec![unshare_flag(kind)];
                    if kind == NamespaceKind::Pid || kind == NamespaceKind::Time {
                        flags.push("--fork");
                    }
                    if kind == NamespaceKind::User {
                        // A user namespace with root mapped, so that the joiner can become root in it.
                        flags.push("--map-root-user");
                    }
                    let h = Holder::new(&flags)?;
                    let plan = BootstrapPlan::builder().join(kind, h.ns(kind)).build();
                    let s = ctx.start(&plan)?;
                    let theirs = ns_link(&s.pid().to_string(), kind.name())?;
                    let want = ns_link(&h.pid.to_string(), kind.name())?;
                    ensure(theirs == want, || {
                        format!("{kind}: in {theirs}, expected {want}")
                    })?;
                    s.finish()
                })())
            },
        ));
    }
    out.push(scenario("positive/join-and-create", "10", move |ctx| {
        verdict((|| {
            let h = Holder::new(&["--net", "--uts"])?;
            let plan = BootstrapPlan::builder()
                .join(NamespaceKind::Net, h.ns(NamespaceKind::Net))
                .join(NamespaceKind::Uts, h.ns(NamespaceKind::Uts))
                .create(NamespaceKind::Pid)
                .create(NamespaceKind::Mnt)
                .create(NamespaceKind::Ipc)
                .build();
            let s = ctx.start(&plan)?;
            let p = s.pid().to_string();
            for k in ["net", "uts"] {
                ensure(ns_link(&p, k)? == ns_link(&h.pid.to_string(), k)?, || {
                    format!("{k} not joined")
                })?;
            }
            for k in ["pid", "mnt", "ipc"] {
                ensure(ns_link(&p, k)? != ns_link("self", k)?, || {
                    format!("{k} not created")
                })?;
            }
            s.finish()
        })())
    }));
    out.push(scenario(
        "positive/join-user-and-net-created-outside",
        "10",
        move |ctx| {
            // A runtime that pre-creates a user namespace and a network namespace owned by it.
            verdict((|| {
                let h = Holder::new(&["--user", "--map-root-user", "--net"])?;
                let plan = BootstrapPlan::builder()
                    .join(NamespaceKind::User, h.ns(NamespaceKind::User))
                    .join(NamespaceKind::Net, h.ns(NamespaceKind::Net))
                    .create(NamespaceKind::Uts)
                    .build();
                let s = ctx.start(&plan)?;
                for k in ["user", "net"] {
                    ensure(
                        ns_link(&s.pid().to_string(), k)? == ns_link(&h.pid.to_string(), k)?,
                        || format!("{k} not joined"),
                    )?;
                }
                s.finish()
            })())
        },
    ));
    type Ranges = Vec<(u32, u32, u32)>;
    let maps: [(&str, Ranges); 2] = [
        ("one-range", vec![(0, 100000, 65536)]),
        (
            "several-ranges",
            vec![(0, 1000, 1), (1, 200000, 1000), (5000, 300000, 10)],
        ),
    ];
    for (name, ranges) in maps {
        out.push(scenario(
            format!("positive/id-map-{name}"),
            "10",
            move |ctx| {
                verdict((|| {
                    let mut b = BootstrapPlan::builder().create(NamespaceKind::User);
                    for &(i, o, n) in &ranges {
                        b = b.map_user(i, o, n).map_group(i, o, n);
                    }
                    let s = ctx.start(&b.build())?;
                    let want: Vec<Vec<u64>> = ranges
                        .iter()
                        .map(|&(i, o, n)| vec![u64::from(i), u64::from(o), u64::from(n)])
                        .collect();
                    for f in ["uid_map", "gid_map"] {
                        let got = map_rows(&proc_file(s.pid(), f)?);
                        ensure(got == want, || format!("{f} is {got:?}, expected {want:?}"))?;
                    }
                    s.finish()
                })())
            },
        ));
    }
    for (name, setgroups, want) in [("deny", None, "deny"), ("allow", Some(true), "allow")] {
        out.push(scenario(
            format!("positive/setgroups-{name}"),
            "10",
            move |ctx| {
                verdict((|| {
                    let mut plan = BootstrapPlan::builder()
                        .create(NamespaceKind::User)
                        .map_user(0, 100000, 65536)
                        .map_group(0, 100000, 65536)
                        .rootless_euid(true)
                        .build();
                    plan.setgroups = setgroups;
                    let s = ctx.start(&plan)?;
                    let got = proc_file(s.pid(), "setgroups")?;
                    ensure(got.trim() == want, || {
                        format!("setgroups is {:?}, expected {want}", got.trim())
                    })?;
                    s.finish()
                })())
            },
        ));
    }
    for v in [1, 500] {
        out.push(scenario(
            format!("positive/oom-score-adj-{v}"),
            "10",
            move |ctx| {
                verdict((|| {
                    let s = ctx.start(&BootstrapPlan::builder().oom_score_adj(v).build())?;
                    let got = proc_file(s.pid(), "oom_score_adj")?;
                    ensure(got.trim() == v.to_string(), || {
                        format!("oom_score_adj is {}", got.trim())
                    })?;
                    s.finish()
                })())
            },
        ));
    }
    if d.has_time_namespace() {
        out.push(scenario("positive/time-offsets", "10", move |ctx| {
            verdict((|| {
                let plan = BootstrapPlan::builder()
                    .create(NamespaceKind::Time)
                    .time_offset(Clock::Monotonic, 1000, 0)
                    .time_offset(Clock::Boottime, -7, 500)
                    .build();
                let s = ctx.start(&plan)?;
                let text = proc_file(s.pid(), "timens_offsets")?;
                let rows: Vec<Vec<&str>> = text
                    .lines()
                    .map(|l| l.split_whitespace().collect())
                    .collect();
                ensure(rows.contains(&vec!["monotonic", "1000", "0"]), || {
                    format!("offsets {text:?}")
                })?;
                ensure(rows.contains(&vec!["boottime", "-7", "500"]), || {
                    format!("offsets {text:?}")
                })?;
                s.finish()
            })())
        }));
    }
    out.push(scenario(
        "positive/cgroup-namespace-per-dialect",
        "2",
        move |ctx| {
            verdict((|| {
                let plan = BootstrapPlan::builder()
                    .create(NamespaceKind::Cgroup)
                    .build();
                let s = ctx.start(&plan)?;
                let p = s.pid().to_string();
                ensure(ns_link(&p, "cgroup")? != ns_link("self", "cgroup")?, || {
                    "no cgroup namespace".into()
                })?;
                s.finish()
            })())
        },
    ));
    if d.has_console() {
        out.push(scenario("positive/console", "13", move |ctx| {
            verdict(console(ctx))
        }));
    }
    for (name, chunk) in [("one-byte-writes", 1usize), ("seven-byte-writes", 7)] {
        out.push(scenario(
            format!("positive/message-in-{name}"),
            "10",
            move |ctx| {
                verdict((|| {
                    let plan = create_plan(NamespaceKind::User);
                    let bytes = plan.to_bytes(d).map_err(|e| e.to_string())?;
                    let s = ctx.start_bytes(&ctx.spec(&[]), &bytes, chunk, false)?;
                    let got = map_rows(&proc_file(s.pid(), "uid_map")?);
                    ensure(got == vec![vec![0, 100000, 65536]], || {
                        format!("uid_map {got:?}")
                    })?;
                    s.finish()
                })())
            },
        ));
    }
    out.push(scenario("positive/report-shape", "12", move |ctx| {
        verdict((|| {
            let s = ctx.start(&BootstrapPlan::new())?;
            let line = PidReport {
                stage1: s.report.stage1,
                stage2: s.report.stage2,
            };
            ensure(line.stage1 != line.stage2, || {
                "the two PIDs are equal".into()
            })?;
            s.finish()
        })())
    }));
    out.push(scenario("positive/log-lines-are-json", "15", move |ctx| {
        verdict((|| {
            let mut s = ctx.start(&create_plan(NamespaceKind::Net))?;
            s.alive()?;
            s.ex.kill_and_reap();
            let logs = s.ex.finish_logs();
            ensure(!logs.is_empty(), || "no log line at level debug".into())?;
            for l in &logs {
                let v: serde_json::Value =
                    serde_json::from_str(l).map_err(|e| format!("not JSON: {l:?}: {e}"))?;
                ensure(v["level"].is_string() && v["msg"].is_string(), || {
                    format!("not a log line: {l}")
                })?;
            }
            s.finish_killed()
        })())
    }));
    let mut fds = scenario("positive/final-process-fds", "10", move |ctx| match (|| {
        let s = ctx.start(&create_plan(NamespaceKind::Pid))?;
        s.alive()?;
        let mut fds: Vec<i32> = std::fs::read_dir(format!("/proc/{}/fd", s.pid()))
            .map_err(|e| harness::inspect_error(&s.pid().to_string(), e.to_string()))?
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
            .collect();
        fds.sort_unstable();
        s.finish()?;
        Ok::<_, String>(fds)
    })() {
        Ok(fds) if fds.iter().all(|f| (0..=4).contains(f)) => Verdict::Pass,
        Ok(fds) => Verdict::Observed(format!("the final process holds fds {fds:?}")),
        Err(e) => Verdict::Fail(e),
    });
    fds.required = d == Dialect::Nsbootstrap1;
    out.push(fds);
    if root() {
        out.push(scenario("positive/rootless-self-map", "10", move |ctx| {
            verdict(rootless(ctx))
        }));
    }
}

fn console(ctx: &Ctx) -> Check<()> {
    // SAFETY: posix_openpt/grantpt/unlockpt/ptsname_r on a descriptor we own, with a valid buffer.
    let (master, slave) = unsafe {
        let m = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC);
        if m < 0 || libc::grantpt(m) != 0 || libc::unlockpt(m) != 0 {
            return Err("no pseudo-terminal".into());
        }
        let mut buf = [0 as libc::c_char; 64];
        if libc::ptsname_r(m, buf.as_mut_ptr(), buf.len()) != 0 {
            return Err("ptsname".into());
        }
        (
            m,
            std::ffi::CStr::from_ptr(buf.as_ptr())
                .to_string_lossy()
                .into_owned(),
        )
    };
    let result = (|| {
        let plan = BootstrapPlan::builder().console(&slave).build();
        let s = ctx.start(&plan)?;
        for fd in 0..3 {
            let t = std::fs::read_link(format!("/proc/{}/fd/{fd}", s.pid()))
                .map_err(|e| e.to_string())?;
            ensure(t == Path::new(&slave), || {
                format!("fd {fd} is {}", t.display())
            })?;
        }
        let tty: u64 = stat_fields(s.pid())?
            .get(4)
            .and_then(|t| t.parse().ok())
            .unwrap_or(0);
        ensure(tty != 0, || "no controlling terminal".into())?;
        s.finish()
    })();
    // SAFETY: our own master descriptor.
    unsafe { libc::close(master) };
    result
}

fn rootless(ctx: &Ctx) -> Check<()> {
    let passwd = std::fs::read_to_string("/etc/passwd").map_err(|e| e.to_string())?;
    let Some((uid, gid)) = passwd.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.first() == Some(&"nobody"))
            .then(|| Some((f[2].parse::<u32>().ok()?, f[3].parse::<u32>().ok()?)))?
    }) else {
        return Err("no user nobody".into());
    };
    let plan = BootstrapPlan::builder()
        .create(NamespaceKind::User)
        .create(NamespaceKind::Pid)
        .map_user(0, uid, 1)
        .map_group(0, gid, 1)
        .rootless_euid(true)
        .build();
    let mut spec = ctx.spec(&[]);
    spec.credentials = Some((uid, gid));
    let bytes = plan.to_bytes(ctx.dialect()).map_err(|e| e.to_string())?;
    let s = ctx.start_bytes(&spec, &bytes, 0, false)?;
    let got = map_rows(&proc_file(s.pid(), "uid_map")?);
    ensure(got == vec![vec![0, u64::from(uid), 1]], || {
        format!("uid_map {got:?}")
    })?;
    ensure(proc_file(s.pid(), "setgroups")?.trim() == "deny", || {
        "setgroups not denied".into()
    })?;
    s.finish()
}

fn negative(d: Dialect, vectors_dir: Option<&Path>, out: &mut Vec<Scenario>) {
    {
        let loaded = match vectors_dir {
            Some(dir) => vectors::load(dir),
            None => vectors::embedded(),
        };
        match loaded {
            Ok(all) => {
                for v in all.into_iter().filter(|v| v.name.starts_with("invalid/")) {
                    // Each invalid vector, read in this dialect by the reference codec: invalid in both
                    // modes, every executor must refuse it; valid in lenient mode only, the spec lets an
                    // executor decode leniently, so what it does is observed; valid here, left out.
                    let strict = vectors::decode_outcome(&v.bytes, d, Mode::Strict);
                    let Some(class) = strict.error.map(|e| e.class) else {
                        continue;
                    };
                    // Over a stream, bytes after the message belong to what follows it (not an error), and
                    // a message cut short is one whose stream ends early: the runtime closes its side.
                    if class == "trailing-bytes" {
                        continue;
                    }
                    let lenient = vectors::decode_outcome(&v.bytes, d, Mode::Lenient)
                        .error
                        .map(|e| e.class);
                    let cut = |c: &str| c == "truncated" || c == "truncated-header";
                    let end_stream = cut(&class) || lenient.as_deref().is_some_and(cut);
                    // Valid in lenient mode but for bytes after the message: over a stream those are not
                    // the message's, so a lenient executor may accept it.
                    let required = lenient.is_some_and(|c| c != "trailing-bytes");
                    // A vector of another dialect means something else here (27290 is mount sources in
                    // runc-1.1, time offsets in runc-1.2): its name says how this dialect reads it.
                    let stem = &v.name["invalid/".len()..];
                    let name = if same_meaning(&v, d, &class) {
                        format!("negative/vector-{stem}")
                    } else {
                        format!("negative/vector-{stem}.read-as-{d}-{class}")
                    };
                    let mut s = scenario(name, "3-6", move |ctx| {
                        match ctx.expect_refusal_of(&ctx.spec(&[]), Some(&v.bytes), end_stream) {
                            Verdict::Fail(e) if !required => {
                                Verdict::Observed(format!("{class}: {e}"))
                            }
                            Verdict::Fail(e) => Verdict::Fail(format!("{class}: {e}")),
                            other => other,
                        }
                    });
                    s.required = required;
                    out.push(s);
                }
            }
            Err(e) => out.push(scenario("negative/vectors", "19", move |_| {
                Verdict::Fail(e.clone())
            })),
        }
    }
    for (name, value) in [
        ("not-a-number", "abc"),
        ("negative", "-3"),
        ("not-open", "987"),
    ] {
        out.push(scenario(
            format!("negative/initpipe-{name}"),
            "9",
            move |ctx| {
                let mut spec = ctx.spec(&[]);
                spec.env
                    .push(("_LIBCONTAINER_INITPIPE".into(), value.into()));
                let r = match ctx.refuse(&spec, None, false) {
                    Ok(r) => r,
                    Err(e) => return Verdict::Fail(e),
                };
                verdict((|| {
                    ensure(r.stage0.is_some_and(|s| !s.success()), || {
                        format!("exit status {:?}", r.stage0)
                    })?;
                    ensure(!r.reported, || "a PID report".into())?;
                    harness::nothing_left()
                })())
            },
        ));
    }
    let d2 = d;
    out.push(scenario("negative/ns-path-missing", "10", move |ctx| {
        let plan = BootstrapPlan::builder()
            .join(NamespaceKind::Net, "/nonexistent/ns/net")
            .build();
        refuse_plan(ctx, &plan, d2)
    }));
    out.push(scenario(
        "negative/ns-path-not-a-namespace",
        "10",
        move |ctx| {
            let plan = BootstrapPlan::builder()
                .join(NamespaceKind::Net, "/etc/hostname")
                .build();
            refuse_plan(ctx, &plan, d2)
        },
    ));
    out.push(scenario(
        "negative/ns-path-of-another-type",
        "10",
        move |ctx| {
            let plan = BootstrapPlan::builder()
                .join(NamespaceKind::Net, "/proc/self/ns/uts")
                .build();
            refuse_plan(ctx, &plan, d2)
        },
    ));
    out.push(scenario(
        "negative/id-map-refused-by-the-kernel",
        "10",
        move |ctx| {
            // 340 ranges (the grammar's limit) whose text is over a page: the kernel refuses the write.
            let mut b = BootstrapPlan::builder().create(NamespaceKind::User);
            for i in 0..340u32 {
                b = b.map_user(1_000_000_000 + 2 * i, 2_000_000_000 + 2 * i, 1);
            }
            refuse_plan(ctx, &b.build(), d2)
        },
    ));
}

/// Whether a vector's name still says what it tests when read in `d`: the same error class as in its own
/// dialect, and no attribute in its name that `d` reads otherwise (27290, the console).
fn same_meaning(v: &vectors::Vector, d: Dialect, class: &str) -> bool {
    let own = v.spec.dialect;
    let own_class = vectors::decode_outcome(&v.bytes, own, Mode::Strict)
        .error
        .map(|e| e.class);
    let names = |what: &str| v.name.contains(what);
    let attr_27290_differs = own.attr_27290() != d.attr_27290()
        && (names("mount-sources") || names("time-offsets") || names("27290"));
    let console_differs = own.has_console() != d.has_console() && names("console");
    let time_differs =
        own.has_time_namespace() != d.has_time_namespace() && (names("time") || names("newtime"));
    own_class.as_deref() == Some(class) && !attr_27290_differs && !console_differs && !time_differs
}

/// Expects `plan` (which must encode) to be refused.
fn refuse_plan(ctx: &Ctx, plan: &BootstrapPlan, d: Dialect) -> Verdict {
    match plan.to_bytes(d) {
        Ok(bytes) => ctx.expect_refusal(&ctx.spec(&[]), Some(&bytes)),
        Err(e) => Verdict::Fail(format!("the scenario's plan does not encode: {e}")),
    }
}

fn faults(d: Dialect, out: &mut Vec<Scenario>) {
    for (name, cut) in [
        ("before-the-message", 0usize),
        ("after-the-header", 16),
        ("mid-attributes", 22),
    ] {
        out.push(scenario(
            format!("fault/runtime-closes-{name}"),
            "16",
            move |ctx| {
                verdict((|| {
                    let plan = create_plan(NamespaceKind::User);
                    let bytes = plan.to_bytes(d).map_err(|e| e.to_string())?;
                    let mut ex = nsbootstrap_runtime::Executor::spawn(&ctx.spec(&[]))
                        .map_err(|e| e.to_string())?;
                    let _ = ex.read_ready(ctx.timeout);
                    let _ = ex.send(&bytes[..cut.min(bytes.len())]);
                    ex.close_init_pipe();
                    let s0 = ex.wait_stage0(ctx.timeout);
                    ex.kill_and_reap();
                    drop(ex);
                    match s0 {
                        Ok(s) => {
                            ensure(!s.success(), || "stage 0 exited 0 on a cut message".into())?
                        }
                        Err(_) => {
                            return Err(format!(
                                "stage 0 still running {:?} after the pipe closed",
                                ctx.timeout
                            ))
                        }
                    }
                    harness::nothing_left()
                })())
            },
        ));
    }
    out.push(scenario(
        "fault/runtime-closes-after-the-message",
        "16",
        move |ctx| {
            verdict((|| {
                let plan = create_plan(NamespaceKind::Pid);
                let bytes = plan.to_bytes(d).map_err(|e| e.to_string())?;
                let mut ex = nsbootstrap_runtime::Executor::spawn(&ctx.spec(&[]))
                    .map_err(|e| e.to_string())?;
                let _ = ex.read_ready(ctx.timeout);
                let _ = ex.send(&bytes);
                ex.close_init_pipe();
                let s0 = ex.wait_stage0(ctx.timeout);
                ex.reap_group(Duration::from_millis(200));
                ex.kill_and_reap();
                drop(ex);
                ensure(s0.is_ok(), || {
                    "stage 0 hung after the runtime went away".into()
                })?;
                harness::nothing_left()
            })())
        },
    ));
    out.push(scenario(
        "fault/stage-2-killed-before-the-go-ahead",
        "16",
        move |ctx| {
            verdict((|| {
                let s = ctx.start(&create_plan(NamespaceKind::Pid))?;
                // SAFETY: stage 2 is the suite's child (CLONE_PARENT) and not reaped.
                unsafe { libc::kill(s.pid(), libc::SIGKILL) };
                s.finish_killed()
            })())
        },
    ));
    let mut hold = scenario(
        "fault/stage-0-killed-while-stage-2-waits",
        "16",
        move |ctx| {
            // runc-rc93 and runc-1.0: stage 2 waits for the runtime's 0x80 while stage 0 waits for stage 2.
            match (|| {
                let plan = BootstrapPlan::builder()
                    .create(NamespaceKind::Cgroup)
                    .build();
                let bytes = plan.to_bytes(d).map_err(|e| e.to_string())?;
                let mut ex = nsbootstrap_runtime::Executor::spawn(&ctx.spec(&[]))
                    .map_err(|e| e.to_string())?;
                ex.read_ready(ctx.timeout).map_err(|e| e.to_string())?;
                ex.send(&bytes).map_err(|e| e.to_string())?;
                let r = ex.read_report(ctx.timeout).map_err(|e| e.to_string())?;
                std::thread::sleep(Duration::from_millis(20));
                // SAFETY: stage 0 is our child and still waiting.
                unsafe { libc::kill(ex.child.id() as i32, libc::SIGKILL) };
                let noticed = ex.wait_pid(r.stage2, Duration::from_secs(1)).is_ok();
                ex.kill_and_reap();
                drop(ex);
                harness::nothing_left()?;
                Ok::<bool, String>(noticed)
            })() {
                Ok(true) => Verdict::Pass,
                Ok(false) => Verdict::Observed(
                    "stage 2 kept waiting for the runtime after stage 0 died".into(),
                ),
                Err(e) => Verdict::Fail(e),
            }
        },
    );
    hold.required = d == Dialect::Nsbootstrap1;
    if d.cgroup_ns() == nsbootstrap_codec::dialect::CgroupNs::AfterRuntimeByte {
        out.push(hold);
    }
}

fn c_text(text: &str) -> Vec<u8> {
    let mut v = text.as_bytes().to_vec();
    v.push(0);
    v
}

/// What a run that may be refused or accepted came to: refused cleanly (`Ok(None)`), accepted
/// (`Ok(Some)`), or neither (a hang, or something left behind).
fn refused_or_started(
    ctx: &Ctx,
    spec: &nsbootstrap_runtime::SpawnSpec,
    bytes: &[u8],
) -> Check<Option<harness::Started>> {
    match ctx.start_bytes(spec, bytes, 0, false) {
        Ok(s) => Ok(Some(s)),
        Err(e) => {
            harness::nothing_left()?;
            ensure(
                e.contains("\"level\":\"fatal\"") || e.contains("\"level\":\"error\""),
                || format!("refused without an error line: {e}"),
            )?;
            Ok(None)
        }
    }
}

/// Inputs found by probing executors with hostile messages (issue 12): each must be refused or done
/// whole, never half done.
fn hostile(d: Dialect, out: &mut Vec<Scenario>) {
    use nsbootstrap_codec::wire::number::{CLONE_FLAGS, NS_PATHS};
    // 16 entries and a 17th: a lenient list may repeat a type (spec section 5.2); the 17th entry must be
    // joined or the message refused. An executor with a fixed array of 16 ignored it.
    for (name, missing) in [("joined", false), ("missing-path-fails", true)] {
        out.push(scenario(
            format!("hostile/seventeenth-ns-entry-{name}"),
            "5.2",
            move |ctx| {
                verdict((|| {
                    let h = Holder::new(&["--net"])?;
                    let mut list: Vec<String> = (0..16)
                        .map(|_| "uts:/proc/self/ns/uts".to_string())
                        .collect();
                    list.push(if missing {
                        "net:/nonexistent/ns/net".into()
                    } else {
                        format!("net:{}", h.ns(NamespaceKind::Net))
                    });
                    let bytes = nsbootstrap_codec::wire::raw_message(&[
                        (CLONE_FLAGS, 0u32.to_ne_bytes().to_vec()),
                        (NS_PATHS, c_text(&list.join(","))),
                    ]);
                    let Some(s) = refused_or_started(ctx, &ctx.spec(&[]), &bytes)? else {
                        return Ok(()); // refused (strict: repeated-ns-type; or a failed join)
                    };
                    let got = ns_link(&s.pid().to_string(), "net")?;
                    if missing {
                        let _ = s.finish();
                        return Err(format!(
                            "a missing 17th namespace path was not noticed (final process in {got})"
                        ));
                    }
                    let want = ns_link(&h.pid.to_string(), "net")?;
                    ensure(got == want, || {
                        format!("the 17th entry (net) was ignored: in {got}, expected {want}")
                    })?;
                    s.finish()
                })())
            },
        ));
    }
    // Clone bits that are not namespaces (spec section 20, R12): CLONE_PTRACE (0x2000), which unshare(2)
    // refuses with EINVAL, shows whether they reach it; CLONE_FS | CLONE_FILES (0x600) would take effect.
    out.push(scenario(
        "hostile/clone-bits-outside-namespaces-not-unshared",
        "20",
        move |ctx| {
            verdict((|| {
                let flags = NamespaceKind::Uts.flag() | 0x2000 | 0x600;
                let bytes = nsbootstrap_codec::wire::raw_message(&[(
                    CLONE_FLAGS,
                    flags.to_ne_bytes().to_vec(),
                )]);
                let mut ex = nsbootstrap_runtime::Executor::spawn(&ctx.spec(&[]))
                    .map_err(|e| e.to_string())?;
                let _ = ex.read_ready(ctx.timeout);
                let _ = ex.send(&bytes);
                let report = ex.read_report(ctx.timeout);
                let alive = match &report {
                    Ok(r) => {
                        std::thread::sleep(harness::SETTLE);
                        Some((
                            harness::final_alive(r.stage2),
                            ns_link(&r.stage2.to_string(), "uts"),
                        ))
                    }
                    Err(_) => None,
                };
                ex.kill_and_reap();
                let logs = ex.finish_logs();
                drop(ex);
                harness::nothing_left()?;
                match alive {
                    Some((alive, uts)) => {
                        alive?;
                        ensure(uts? != ns_link("self", "uts")?, || {
                            "no uts namespace".into()
                        })
                    }
                    None => {
                        let fatal = logs.iter().find(|l| harness::is_error_line(l));
                        match fatal {
                            Some(l) if l.contains("unshare") => Err(format!(
                                "the bits that are not namespaces reached unshare(2): {l}"
                            )),
                            Some(_) => Ok(()),
                            None => Err("no report and no error line".into()),
                        }
                    }
                }
            })())
        },
    ));
    if d.attr_27290() == nsbootstrap_codec::dialect::Attr27290::MountSources {
        // _LIBCONTAINER_MOUNT_FDS names a descriptor the bootstrap uses (spec section 9).
        for (name, fd) in [("stdout", 1), ("init-pipe", nsbootstrap_runtime::INIT_FD)] {
            out.push(scenario(
                format!("hostile/mount-fds-names-{name}"),
                "9",
                move |ctx| {
                    verdict((|| {
                        let mut plan = BootstrapPlan::new();
                        plan.mount_sources = Some(vec![Some("/etc/hostname".into())]);
                        let bytes = plan.to_bytes(d).map_err(|e| e.to_string())?;
                        let env = format!("[{fd}]");
                        let spec = ctx.spec(&[("_LIBCONTAINER_MOUNT_FDS", env.as_str())]);
                        let Some(s) = refused_or_started(ctx, &spec, &bytes)? else {
                            return Ok(());
                        };
                        let link = std::fs::read_link(format!("/proc/{}/fd/{fd}", s.pid()))
                            .map(|p| p.display().to_string())
                            .unwrap_or_default();
                        let _ = s.finish();
                        ensure(!link.contains("hostname"), || {
                            format!("fd {fd} of the final process was overwritten: it is {link}")
                        })
                    })())
                },
            ));
        }
    }
    // A path of MAX_PATH bytes that does not exist: the fatal line must still carry the error's text.
    out.push(scenario(
        "hostile/fatal-line-of-a-4095-byte-path",
        "16.1",
        move |ctx| {
            verdict((|| {
                let mut path = String::from("/nonexistent");
                while path.len() < 4095 {
                    path.push_str("/x");
                }
                path.truncate(4095);
                let plan = BootstrapPlan::builder()
                    .join(NamespaceKind::Net, path.as_str())
                    .build();
                let bytes = plan.to_bytes(d).map_err(|e| e.to_string())?;
                let r = ctx.refuse(&ctx.spec(&[]), Some(&bytes), false)?;
                harness::nothing_left()?;
                ensure(!r.reported, || {
                    "a PID report for a path that does not exist".into()
                })?;
                let fatal: Vec<&String> = r
                    .logs
                    .iter()
                    .filter(|l| harness::is_error_line(l))
                    .collect();
                ensure(!fatal.is_empty(), || "no error line".into())?;
                ensure(
                    fatal
                        .iter()
                        .any(|l| l.contains("No such file or directory")),
                    || {
                        format!(
                            "no error line says why (\"No such file or directory\"): {}",
                            fatal
                                .iter()
                                .map(|l| format!("...{}", &l[l.len().saturating_sub(80)..]))
                                .collect::<Vec<_>>()
                                .join(" | ")
                        )
                    },
                )
            })())
        },
    ));
}

/// Every scenario for dialect `d`, with one negative scenario per vector that is invalid in `d`: the
/// vectors embedded in this crate, or those under `vectors_dir` when given.
pub fn all(d: Dialect, vectors_dir: Option<&Path>) -> Vec<Scenario> {
    let mut out = Vec::new();
    positive(d, &mut out);
    negative(d, vectors_dir, &mut out);
    hostile(d, &mut out);
    faults(d, &mut out);
    out
}
