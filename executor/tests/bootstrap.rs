//! `nsbootstrap init` for real, driven through the runtime-side module, checked through the kernel's view in
//! /proc. These tests need root (namespaces, id maps); built without root they are ignored, and so
//! counted as skipped, with the reason. The tests of this file run one at a time, so that the check for
//! leftover processes sees only its own.

use nsbootstrap_conformance::testing::{self, Needs, Test};

use nsbootstrap_codec::sync::CREATE_CGROUP_NS;
use nsbootstrap_codec::{BootstrapPlan, Clock, Dialect, NamespaceKind, PidReport};
use nsbootstrap_conformance::harness as h;
use nsbootstrap_protect::{Method, SealedBinary};
use nsbootstrap_runtime::{Executor, SpawnSpec};
use std::collections::BTreeSet;
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

static SERIAL: Mutex<()> = Mutex::new(());
const T: Duration = Duration::from_secs(10);

fn serial() -> std::sync::MutexGuard<'static, ()> {
    // SAFETY: geteuid cannot fail and touches no memory.
    let euid = unsafe { libc::geteuid() };
    assert_eq!(euid, 0, "this test needs root but runs as uid {euid}");
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// One sealed copy of the binary for every spawn, as a runtime would keep it: each executor then finds
/// itself already protected and does not copy itself again.
fn sealed() -> &'static SealedBinary {
    static COPY: OnceLock<SealedBinary> = OnceLock::new();
    COPY.get_or_init(|| {
        SealedBinary::copy_of(Path::new(env!("CARGO_BIN_EXE_nsbootstrap-init")))
            .expect("sealed copy")
    })
}

fn spec(dialect: Dialect) -> SpawnSpec {
    let mut s = SpawnSpec::new(
        sealed().exec_path(),
        &["init", "--dialect", dialect.name()],
        dialect,
    );
    s.log_level = Some(6);
    s
}

fn ns_link(pid: &str, kind: &str) -> String {
    h::ns_link(pid, kind).unwrap()
}

fn proc_file(pid: i32, file: &str) -> String {
    h::proc_file(pid, file).unwrap()
}

fn status_field(pid: i32, key: &str) -> String {
    h::status_field(pid, key).unwrap()
}

/// Fields of /proc/PID/stat after the command name.
fn stat_fields(pid: i32) -> Vec<String> {
    h::stat_fields(pid).unwrap()
}

fn map_lines(text: &str) -> Vec<Vec<u64>> {
    h::map_rows(text)
}

/// PIDs of bootstrap stages whose parent is this test process (other children, such as a sleeper holding
/// namespaces to join, are not counted).
fn my_children() -> BTreeSet<i32> {
    let me = std::process::id().to_string();
    let mut out = BTreeSet::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        if let Ok(s) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
            let name = s
                .lines()
                .next()
                .unwrap_or("")
                .trim_start_matches("Name:")
                .trim()
                .to_string();
            let stage = ["nsb:", "runc:", "nsbootstrap"]
                .iter()
                .any(|p| name.starts_with(p));
            if stage
                && s.lines()
                    .any(|l| l.strip_prefix("PPid:").map(str::trim) == Some(me.as_str()))
            {
                out.insert(pid);
            }
        }
    }
    out
}

/// A run up to the PID report and the end of stage 0 (after which the final process stays as the sequence
/// left it until the go-ahead): the executor, its report.
fn start(plan: &BootstrapPlan, dialect: Dialect) -> (Executor, PidReport) {
    let (mut ex, r) = start_report(plan, dialect);
    let s0 = ex.wait_stage0(T).expect("stage 0 exits");
    assert!(
        s0.success(),
        "stage 0: {s0}; logs {:#?}",
        ex.finish_logs_after_kill()
    );
    (ex, r)
}

/// A run up to the PID report only.
fn start_report(plan: &BootstrapPlan, dialect: Dialect) -> (Executor, PidReport) {
    let bytes = plan.to_bytes(dialect).expect("plan encodes");
    let mut ex = Executor::spawn(&spec(dialect)).expect("spawn");
    ex.read_ready(T).expect("ready byte");
    ex.send(&bytes).expect("send");
    let report = match ex.read_report(T) {
        Ok(r) => r,
        Err(e) => panic!("no report: {e}; logs: {:#?}", ex.finish_logs_after_kill()),
    };
    (ex, report)
}

trait FinishAfterKill {
    fn finish_logs_after_kill(&mut self) -> Vec<String>;
}

impl FinishAfterKill for Executor {
    fn finish_logs_after_kill(&mut self) -> Vec<String> {
        self.kill_and_reap();
        self.finish_logs()
    }
}

/// Lets the final process go, then checks every stage exited 0 and nothing is left.
fn finish(mut ex: Executor, report: PidReport, plan: &BootstrapPlan) -> Vec<String> {
    if ex.dialect.cgroup_ns() == nsbootstrap_codec::dialect::CgroupNs::AfterRuntimeByte
        && plan.clone_flags.contains(NamespaceKind::Cgroup)
    {
        ex.send_byte(CREATE_CGROUP_NS).unwrap();
    }
    ex.go_ahead().unwrap();
    let s0 = ex.wait_stage0(T).unwrap();
    let s1 = ex.wait_pid(report.stage1, T).unwrap();
    let s2 = ex.wait_pid(report.stage2, T).unwrap();
    let logs = ex.finish_logs();
    assert!(
        s0.success() && s1.success() && s2.success(),
        "stages: {s0} {s1} {s2}; logs: {logs:#?}"
    );
    assert!(!logs.iter().any(|l| l.contains("\"fatal\"")), "{logs:#?}");
    drop(ex);
    assert!(my_children().is_empty(), "left behind: {:?}", my_children());
    logs
}

fn all_new() -> BootstrapPlan {
    BootstrapPlan::builder()
        .create(NamespaceKind::User)
        .create(NamespaceKind::Pid)
        .create(NamespaceKind::Uts)
        .create(NamespaceKind::Ipc)
        .create(NamespaceKind::Net)
        .create(NamespaceKind::Mnt)
        .map_user(0, 100000, 65536)
        .map_group(0, 100000, 65536)
        .build()
}

fn creates_every_namespace_with_a_65536_id_map() {
    let _g = serial();
    let plan = all_new();
    let (ex, r) = start(&plan, Dialect::Nsbootstrap1);
    let me = std::process::id().to_string();
    let s2 = r.stage2.to_string();
    for kind in ["user", "pid", "uts", "ipc", "net", "mnt"] {
        assert_ne!(
            ns_link(&s2, kind),
            ns_link(&me, kind),
            "{kind} namespace not new"
        );
    }
    assert_eq!(
        ns_link(&s2, "cgroup"),
        ns_link(&me, "cgroup"),
        "cgroup namespace must be kept"
    );
    assert_eq!(
        map_lines(&proc_file(r.stage2, "uid_map")),
        vec![vec![0, 100000, 65536]]
    );
    assert_eq!(
        map_lines(&proc_file(r.stage2, "gid_map")),
        vec![vec![0, 100000, 65536]]
    );
    // PID 1 of the new PID namespace, leader of its own session.
    let nspid = status_field(r.stage2, "NSpid:");
    assert_eq!(nspid.split_whitespace().last(), Some("1"), "NSpid {nspid}");
    let stat = stat_fields(r.stage2);
    assert_eq!(
        stat[3], s2,
        "session id (stat field 6) must be the process itself"
    );
    assert_eq!(proc_file(r.stage2, "comm").trim(), "nsb:[2:INIT]");
    assert_eq!(
        status_field(r.stage2, "Uid:").split_whitespace().next(),
        Some("100000")
    );
    // Only 0, 1, 2, the init pipe (3) and the log pipe (4) are open.
    let fds: BTreeSet<i32> = std::fs::read_dir(format!("/proc/{}/fd", r.stage2))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().parse().unwrap())
        .collect();
    assert!(
        fds.is_subset(&BTreeSet::from([0, 1, 2, 3, 4])),
        "open fds {fds:?}"
    );
    assert!(fds.contains(&3));
    let logs = finish(ex, r, &plan);
    assert!(
        logs.iter()
            .any(|l| l.contains("nsbootstrap-1[") && l.contains("unshare user namespace")),
        "{logs:#?}"
    );
    for l in &logs {
        let v: serde_json::Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}"));
        assert!(v["level"].is_string() && v["msg"].is_string());
    }
}

fn several_ranges_setgroups_and_oom_score_adj() {
    let _g = serial();
    let plan = BootstrapPlan::builder()
        .create(NamespaceKind::User)
        .map_user(0, 1000, 1)
        .map_user(1, 200000, 1000)
        .map_user(5000, 300000, 10)
        .map_group(0, 1000, 1)
        .map_group(1, 200000, 1000)
        .rootless_euid(true)
        .oom_score_adj(123)
        .build();
    let (ex, r) = start(&plan, Dialect::Runc12);
    assert_eq!(
        map_lines(&proc_file(r.stage2, "uid_map")),
        vec![
            vec![0, 1000, 1],
            vec![1, 200000, 1000],
            vec![5000, 300000, 10]
        ]
    );
    assert_eq!(map_lines(&proc_file(r.stage2, "gid_map")).len(), 2);
    // rootless_euid without setgroups: stage 0 wrote "deny" before gid_map.
    assert_eq!(proc_file(r.stage2, "setgroups").trim(), "deny");
    assert_eq!(proc_file(r.stage2, "oom_score_adj").trim(), "123");
    assert_eq!(proc_file(r.stage2, "comm").trim(), "runc:[2:INIT]");
    finish(ex, r, &plan);

    let mut allow = plan.clone();
    allow.setgroups = Some(true);
    let (ex, r) = start(&allow, Dialect::Runc12);
    assert_eq!(proc_file(r.stage2, "setgroups").trim(), "allow");
    finish(ex, r, &allow);
}

struct Sleeper(Child);

impl Drop for Sleeper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A process in new net, uts and ipc namespaces, to join.
fn sleeper() -> Sleeper {
    let child = Command::new("unshare")
        .args(["--net", "--uts", "--ipc", "sleep", "60"])
        .stdin(Stdio::null())
        .spawn()
        .expect("util-linux unshare");
    let me = std::process::id().to_string();
    let pid = child.id().to_string();
    let deadline = Instant::now() + T;
    while ns_link(&pid, "net") == ns_link(&me, "net") {
        assert!(Instant::now() < deadline, "the sleeper never unshared");
        std::thread::sleep(Duration::from_millis(5));
    }
    Sleeper(child)
}

fn joins_existing_namespaces_and_creates_others() {
    let _g = serial();
    let s = sleeper();
    let sp = s.0.id().to_string();
    for dialect in [Dialect::Runc11, Dialect::Nsbootstrap1] {
        let plan = BootstrapPlan::builder()
            .join(NamespaceKind::Net, format!("/proc/{sp}/ns/net"))
            .join(NamespaceKind::Uts, format!("/proc/{sp}/ns/uts"))
            .join(NamespaceKind::Ipc, format!("/proc/{sp}/ns/ipc"))
            .create(NamespaceKind::Pid)
            .create(NamespaceKind::Mnt)
            .build();
        let (ex, r) = start(&plan, dialect);
        let s2 = r.stage2.to_string();
        for kind in ["net", "uts", "ipc"] {
            assert_eq!(
                ns_link(&s2, kind),
                ns_link(&sp, kind),
                "{dialect}: {kind} not joined"
            );
        }
        let me = std::process::id().to_string();
        assert_ne!(ns_link(&s2, "pid"), ns_link(&me, "pid"));
        assert_ne!(ns_link(&s2, "mnt"), ns_link(&me, "mnt"));
        // Joining made stage 0 non-dumpable; the final process inherits that (runc does the same).
        assert_eq!(
            status_field(r.stage2, "Uid:").split_whitespace().next(),
            Some("0")
        );
        finish(ex, r, &plan);
    }
}

fn time_namespace_offsets() {
    let _g = serial();
    let plan = BootstrapPlan::builder()
        .create(NamespaceKind::Time)
        .time_offset(Clock::Monotonic, 1000, 0)
        .time_offset(Clock::Boottime, -7, 500)
        .build();
    let (ex, r) = start(&plan, Dialect::Runc12);
    let offsets = proc_file(r.stage2, "timens_offsets");
    let rows: Vec<Vec<String>> = offsets
        .lines()
        .map(|l| l.split_whitespace().map(String::from).collect())
        .collect();
    assert!(
        rows.contains(&vec!["monotonic".into(), "1000".into(), "0".into()]),
        "{offsets}"
    );
    assert!(
        rows.contains(&vec!["boottime".into(), "-7".into(), "500".into()]),
        "{offsets}"
    );
    let me = std::process::id().to_string();
    assert_ne!(ns_link(&r.stage2.to_string(), "time"), ns_link(&me, "time"));
    finish(ex, r, &plan);
}

fn cgroup_namespace_in_every_dialect() {
    let _g = serial();
    let me = std::process::id().to_string();
    for dialect in Dialect::ALL {
        let plan = BootstrapPlan::builder()
            .create(NamespaceKind::Cgroup)
            .create(NamespaceKind::Pid)
            .build();
        let (ex, r) = start_report(&plan, dialect);
        let s2 = r.stage2.to_string();
        if dialect.cgroup_ns() == nsbootstrap_codec::dialect::CgroupNs::AfterRuntimeByte {
            // Not yet: stage 2 waits for the runtime's 0x80.
            std::thread::sleep(Duration::from_millis(50));
            assert_eq!(
                ns_link(&s2, "cgroup"),
                ns_link(&me, "cgroup"),
                "{dialect}: unshared before 0x80"
            );
            let mut ex = ex;
            ex.send_byte(CREATE_CGROUP_NS).unwrap();
            let deadline = Instant::now() + T;
            while ns_link(&s2, "cgroup") == ns_link(&me, "cgroup") {
                assert!(
                    Instant::now() < deadline,
                    "{dialect}: no cgroup namespace after 0x80"
                );
                std::thread::sleep(Duration::from_millis(5));
            }
            ex.go_ahead().unwrap();
            assert!(ex.wait_stage0(T).unwrap().success());
            assert!(ex.wait_pid(r.stage1, T).unwrap().success());
            assert!(ex.wait_pid(r.stage2, T).unwrap().success());
            drop(ex);
        } else {
            let deadline = Instant::now() + T;
            while ns_link(&s2, "cgroup") == ns_link(&me, "cgroup") {
                assert!(Instant::now() < deadline, "{dialect}: no cgroup namespace");
                std::thread::sleep(Duration::from_millis(5));
            }
            finish(ex, r, &plan);
        }
        assert!(my_children().is_empty(), "{dialect}: left behind");
    }
}

fn console_becomes_the_controlling_terminal() {
    let _g = serial();
    // SAFETY: posix_openpt/grantpt/unlockpt/ptsname_r on a descriptor we own; the buffer is valid.
    let (master, slave) = unsafe {
        let m = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC);
        assert!(m >= 0);
        assert_eq!(libc::grantpt(m), 0);
        assert_eq!(libc::unlockpt(m), 0);
        let mut buf = [0 as libc::c_char; 64];
        assert_eq!(libc::ptsname_r(m, buf.as_mut_ptr(), buf.len()), 0);
        (
            m,
            std::ffi::CStr::from_ptr(buf.as_ptr())
                .to_string_lossy()
                .into_owned(),
        )
    };
    let plan = BootstrapPlan::builder()
        .create(NamespaceKind::Pid)
        .console(&slave)
        .build();
    let (ex, r) = start(&plan, Dialect::Nsbootstrap1);
    for fd in 0..3 {
        let target = std::fs::read_link(format!("/proc/{}/fd/{fd}", r.stage2)).unwrap();
        assert_eq!(target.display().to_string(), slave, "fd {fd}");
    }
    let rdev = {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(&slave).unwrap().rdev()
    };
    let stat = stat_fields(r.stage2);
    // stat field 7 (tty_nr) is the controlling terminal's device number.
    let tty_nr: u64 = stat[4].parse().unwrap();
    let (major, minor) = (libc::major(rdev), libc::minor(rdev));
    let want =
        (u64::from(minor) & 0xff) | (u64::from(major) << 8) | ((u64::from(minor) & !0xff) << 12);
    assert_eq!(tty_nr, want, "tty_nr of the final process");
    finish(ex, r, &plan);
    // SAFETY: closing our own master descriptor.
    unsafe { libc::close(master) };
}

fn a_message_fed_one_byte_at_a_time() {
    let _g = serial();
    let plan = all_new();
    let bytes = plan.to_bytes(Dialect::Runc11).unwrap();
    let mut ex = Executor::spawn(&spec(Dialect::Runc11)).unwrap();
    ex.read_ready(T).unwrap();
    ex.send_chunked(&bytes, 1, Duration::from_millis(1))
        .unwrap();
    let r = ex.read_report(T).unwrap();
    assert_eq!(
        map_lines(&proc_file(r.stage2, "uid_map")),
        vec![vec![0, 100000, 65536]]
    );
    finish(ex, r, &plan);
}

/// Runs a failing bootstrap: no report, stage 0 exits 1, one fatal line naming `needle`, nothing left.
fn expect_failure(plan_bytes: &[u8], dialect: Dialect, needle: &str) -> Vec<String> {
    let mut ex = Executor::spawn(&spec(dialect)).unwrap();
    ex.read_ready(T).unwrap();
    ex.send(plan_bytes).unwrap();
    let report = ex.read_report(T);
    assert!(report.is_err(), "a report despite the failure: {report:?}");
    let s0 = ex.wait_stage0(T).unwrap();
    assert_eq!(s0.code(), Some(1), "stage 0 status {s0}");
    ex.reap_group(T);
    let logs = ex.finish_logs();
    let fatal: Vec<&String> = logs.iter().filter(|l| l.contains("\"fatal\"")).collect();
    assert_eq!(fatal.len(), 1, "{logs:#?}");
    assert!(fatal[0].contains(needle), "{} lacks {needle}", fatal[0]);
    drop(ex);
    assert!(my_children().is_empty(), "left behind: {:?}", my_children());
    logs
}

fn failures_are_one_fatal_line_and_leave_nothing() {
    let _g = serial();
    let d = Dialect::Nsbootstrap1;
    let missing = BootstrapPlan::builder()
        .join(NamespaceKind::Net, "/nonexistent/ns/net")
        .create(NamespaceKind::Pid)
        .build();
    let logs = expect_failure(&missing.to_bytes(d).unwrap(), d, "/nonexistent/ns/net");
    assert!(
        logs.iter().any(|l| l.contains("No such file or directory")),
        "{logs:#?}"
    );
    // A file that is not a namespace: setns fails with EINVAL.
    let not_ns = BootstrapPlan::builder()
        .join(NamespaceKind::Net, "/proc/self/status")
        .build();
    expect_failure(&not_ns.to_bytes(d).unwrap(), d, "setns");
    // A map the kernel refuses (host range not mapped in our namespace is fine for root, but two
    // writes are not possible; use an inconsistent plan instead: the consistency check).
    let mut no_userns = BootstrapPlan::builder().map_user(0, 1000, 1).build();
    no_userns.clone_flags = nsbootstrap_codec::CloneFlags::empty();
    expect_failure(
        &no_userns.to_bytes_inconsistent(d).unwrap(),
        d,
        "plan-map-without-userns",
    );
    // A malformed message: an attribute running past the end.
    let mut bad = all_new().to_bytes(d).unwrap();
    bad[24..26].copy_from_slice(&0x7fffu16.to_ne_bytes());
    expect_failure(&bad, d, "attr-past-end");
}

fn the_runtime_closing_the_pipe_early() {
    let _g = serial();
    let bytes = all_new().to_bytes(Dialect::Nsbootstrap1).unwrap();
    let mut ex = Executor::spawn(&spec(Dialect::Nsbootstrap1)).unwrap();
    ex.send(&bytes[..20]).unwrap();
    ex.close_init_pipe();
    let s0 = ex.wait_stage0(T).unwrap();
    assert_eq!(s0.code(), Some(1));
    let logs = ex.finish_logs();
    assert!(
        logs.iter().any(|l| l.contains("closed after 20 bytes")),
        "{logs:#?}"
    );
    drop(ex);
    assert!(my_children().is_empty());
}

fn a_killed_stage_is_noticed_within_a_second() {
    let _g = serial();
    // runc-1.0: stage 2 waits for the runtime's 0x80 while stage 0 waits for stage 2. Kill stage 0 there.
    let plan = BootstrapPlan::builder()
        .create(NamespaceKind::Cgroup)
        .create(NamespaceKind::Pid)
        .build();
    let (mut ex, r) = start_report(&plan, Dialect::Runc10);
    std::thread::sleep(Duration::from_millis(20));
    // SAFETY: stage 0 is our child and alive (it waits for stage 2).
    unsafe { libc::kill(ex.child.id() as i32, libc::SIGKILL) };
    let killed = Instant::now();
    let s2 = ex
        .wait_pid(r.stage2, Duration::from_secs(1))
        .expect("stage 2 noticed within a second");
    assert!(!s2.success());
    assert!(killed.elapsed() < Duration::from_secs(1));
    let _ = ex.wait_stage0(T);
    let _ = ex.wait_pid(r.stage1, T);
    let logs = ex.finish_logs();
    assert!(
        logs.iter()
            .any(|l| l.contains("stage-0 closed the sync socket")),
        "{logs:#?}"
    );
    drop(ex);
    assert!(my_children().is_empty());
}

/// Who protects the executor's binary in an attack test.
#[derive(Clone, Copy)]
enum Side {
    /// The runtime, once per start (a one-shot runtime): it spawns the protected file.
    Runtime,
    /// The executor itself, spawned from its file on disk with NSBOOTSTRAP_PROTECT naming the method.
    Executor,
}

/// Mount ids listed in /proc/PID/mountinfo.
fn mount_ids(pid: &str) -> BTreeSet<u64> {
    std::fs::read_to_string(format!("/proc/{pid}/mountinfo"))
        .unwrap()
        .lines()
        .filter_map(|l| l.split(' ').next()?.parse().ok())
        .collect()
}

/// The CVE-2019-5736 attack against one protection method: a process (this test, standing for one in the
/// container) holds the final process's executable through an O_PATH descriptor of /proc/PID/exe, lets
/// every stage finish, then reopens the descriptor for writing and writes; it also tries
/// /proc/PID/exe itself while the process runs. Every write must fail, the binary on disk must be intact,
/// the protected file's mount (for the mount-based methods) must be attached in neither the runtime's nor
/// the final process's mount namespace, and the final process must hold no descriptor but its standard
/// ones and the protocol's two pipes.
fn attack(side: Side, method: Method) {
    let _g = serial();
    let on_disk = env!("CARGO_BIN_EXE_nsbootstrap-init");
    let before = std::fs::read(on_disk).unwrap();
    let runtime_mounts = mount_ids("self");
    let sealed = match side {
        Side::Runtime => Some(SealedBinary::new(Path::new(on_disk), method).unwrap()),
        Side::Executor => None,
    };
    let mut spawn = SpawnSpec::new(
        sealed
            .as_ref()
            .map_or_else(|| on_disk.into(), |s| s.exec_path()),
        &["init", "--dialect", "nsbootstrap-1"],
        Dialect::Nsbootstrap1,
    );
    spawn.log_level = Some(2);
    spawn
        .env
        .push(("NSBOOTSTRAP_PROTECT".into(), method.name().into()));
    spawn.env_remove.push("NSBOOTSTRAP_UNPROTECTED".into());
    let plan = BootstrapPlan::builder()
        .create(NamespaceKind::Pid)
        .create(NamespaceKind::Mnt)
        .build();
    let mut ex = Executor::spawn(&spawn).unwrap();
    // A one-shot runtime lets go of its protected file as soon as the executor runs from it.
    drop(sealed);
    ex.send(&plan.to_bytes(Dialect::Nsbootstrap1).unwrap())
        .unwrap();
    let r = ex.read_report(T).unwrap();
    assert!(ex.wait_stage0(T).unwrap().success());
    let exe = format!("/proc/{}/exe", r.stage2);
    // The final process runs from a file protected by this method, as the executor itself sees it.
    let running = std::fs::File::open(&exe).unwrap();
    assert_eq!(
        nsbootstrap_protect::protection_of(running.as_fd()),
        Some(method),
        "the final process runs from {:?}",
        std::fs::read_link(&exe)
    );
    if method != Method::Memfd {
        let id = nsbootstrap_protect::mount_id(running.as_fd()).unwrap();
        let stage2 = r.stage2.to_string();
        assert!(
            !mount_ids("self").contains(&id),
            "the runtime sees mount {id}"
        );
        assert!(
            !mount_ids(&stage2).contains(&id),
            "the final process sees mount {id}"
        );
        // Nothing else was mounted or left mounted in the runtime's namespace either.
        assert_eq!(mount_ids("self"), runtime_mounts);
        let text = std::fs::read_to_string(format!("/proc/{stage2}/mountinfo")).unwrap();
        assert!(!text.contains("nsbootstrap"), "{text}");
    }
    drop(running);
    // No descriptor leaks into the final process: 0, 1, 2, the init pipe and the log pipe at most, and
    // none of them is the binary. The report can arrive while stage 2 is still closing the stage
    // channels it was cloned with, so look again for a while before calling it a leak.
    let fds_of = |pid: i32| -> Vec<(i32, String)> {
        std::fs::read_dir(format!("/proc/{pid}/fd"))
            .unwrap()
            .flatten()
            .map(|e| {
                let n = e.file_name().to_string_lossy().parse().unwrap();
                let target = std::fs::read_link(e.path()).unwrap_or_default();
                (n, target.display().to_string())
            })
            .collect()
    };
    let clean = |fds: &[(i32, String)]| {
        fds.iter()
            .all(|(n, t)| *n <= 4 && !t.contains("nsbootstrap") && !t.contains("memfd"))
    };
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut fds = fds_of(r.stage2);
    while !clean(&fds) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
        fds = fds_of(r.stage2);
    }
    assert!(clean(&fds), "the final process holds {fds:?}");
    // While it runs: /proc/PID/exe cannot be opened for writing (ETXTBSY, EROFS) or written (seals).
    let live = std::fs::OpenOptions::new().write(true).open(&exe);
    if let Ok(mut f) = live {
        use std::io::Write;
        assert!(
            f.write_all(b"\x7fELF-overwritten").is_err(),
            "{method}: a live write went through"
        );
    }
    let held = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_PATH)
        .open(&exe)
        .unwrap();
    ex.go_ahead().unwrap();
    assert!(ex.wait_pid(r.stage1, T).unwrap().success());
    assert!(ex.wait_pid(r.stage2, T).unwrap().success());
    // Every stage is gone: reopen the held executable for writing and overwrite it.
    let reopened = std::fs::OpenOptions::new()
        .write(true)
        .open(format!("/proc/self/fd/{}", held.as_raw_fd()));
    match reopened {
        Ok(mut f) => {
            use std::io::Write;
            assert_eq!(method, Method::Memfd, "a {method} file opened for writing");
            assert!(
                f.write_all(b"\x7fELF-overwritten").is_err(),
                "the sealed copy took a write"
            );
        }
        Err(e) => assert_eq!(
            e.raw_os_error(),
            Some(libc::EROFS),
            "{method}: reopening for writing failed, but not for a read-only mount: {e}"
        ),
    }
    assert!(
        std::fs::read(on_disk).unwrap() == before,
        "the binary on disk changed"
    );
    // The protected file still executes unchanged: what the attacker holds is the real binary.
    drop(held);
    drop(ex);
    assert_eq!(mount_ids("self"), runtime_mounts);
    assert!(my_children().is_empty());
}

fn runtime_bind_protection_resists_the_overwrite() {
    attack(Side::Runtime, Method::Bind)
}
fn runtime_overlay_protection_resists_the_overwrite() {
    attack(Side::Runtime, Method::Overlay)
}
fn runtime_memfd_protection_resists_the_overwrite() {
    attack(Side::Runtime, Method::Memfd)
}
fn executor_bind_protection_resists_the_overwrite() {
    attack(Side::Executor, Method::Bind)
}
fn executor_overlay_protection_resists_the_overwrite() {
    attack(Side::Executor, Method::Overlay)
}
fn executor_memfd_protection_resists_the_overwrite() {
    attack(Side::Executor, Method::Memfd)
}

/// A rootless runtime spawns the executor from its file: without CAP_SYS_ADMIN over its mount namespace
/// the mount-based methods are refused, and the automatic choice falls back to the sealed memfd copy.
fn rootless_from_its_file_falls_back_to_the_memfd_copy() {
    let _g = serial();
    let (uid, gid, _, _) = testing::rootless_user();
    let on_disk = env!("CARGO_BIN_EXE_nsbootstrap-init");
    let plan = BootstrapPlan::builder()
        .create(NamespaceKind::User)
        .create(NamespaceKind::Pid)
        .map_user(0, uid, 1)
        .map_group(0, gid, 1)
        .rootless_euid(true)
        .build();
    let mut spawn = SpawnSpec::new(
        on_disk,
        &["init", "--dialect", "nsbootstrap-1"],
        Dialect::Nsbootstrap1,
    );
    spawn.credentials = Some((uid, gid));
    spawn.env_remove.push("NSBOOTSTRAP_UNPROTECTED".into());
    spawn.env_remove.push("NSBOOTSTRAP_PROTECT".into());
    let mut ex = Executor::spawn(&spawn).unwrap();
    ex.send(&plan.to_bytes(Dialect::Nsbootstrap1).unwrap())
        .unwrap();
    let r = ex
        .read_report(T)
        .unwrap_or_else(|e| panic!("{e}: {:#?}", ex.finish_logs_after_kill()));
    let running = std::fs::File::open(format!("/proc/{}/exe", r.stage2)).unwrap();
    assert_eq!(
        nsbootstrap_protect::protection_of(running.as_fd()),
        Some(Method::Memfd)
    );
    drop(running);
    ex.go_ahead().unwrap();
    assert!(ex.wait_stage0(T).unwrap().success());
    assert!(ex.wait_pid(r.stage1, T).unwrap().success());
    assert!(ex.wait_pid(r.stage2, T).unwrap().success());
    drop(ex);
    assert!(my_children().is_empty());
}

/// Spawned from its file with the protection switched off, the executor runs from the file on disk and
/// says so on the log pipe even at the error level; spawned with a method name it does not know, it
/// refuses to start.
fn switching_the_protection_off_is_loud_and_a_bad_method_is_refused() {
    let _g = serial();
    let on_disk = env!("CARGO_BIN_EXE_nsbootstrap-init");
    let plan = BootstrapPlan::builder().build();
    let mut spawn = SpawnSpec::new(
        on_disk,
        &["init", "--dialect", "nsbootstrap-1"],
        Dialect::Nsbootstrap1,
    );
    spawn.log_level = Some(2);
    spawn
        .env
        .push(("NSBOOTSTRAP_UNPROTECTED".into(), "1".into()));
    let mut ex = Executor::spawn(&spawn).unwrap();
    ex.send(&plan.to_bytes(Dialect::Nsbootstrap1).unwrap())
        .unwrap();
    let r = ex.read_report(T).unwrap();
    let exe = std::fs::read_link(format!("/proc/{}/exe", r.stage2)).unwrap();
    assert_eq!(exe, Path::new(on_disk), "unprotected means from the file");
    ex.go_ahead().unwrap();
    assert!(ex.wait_stage0(T).unwrap().success());
    assert!(ex.wait_pid(r.stage1, T).unwrap().success());
    assert!(ex.wait_pid(r.stage2, T).unwrap().success());
    let logs = ex.finish_logs();
    let warning = logs
        .iter()
        .filter(|l| l.contains("\"level\":\"warning\"") && l.contains("protection is OFF"))
        .count();
    assert_eq!(warning, 1, "{logs:?}");
    drop(ex);

    let mut spawn = SpawnSpec::new(
        on_disk,
        &["init", "--dialect", "nsbootstrap-1"],
        Dialect::Nsbootstrap1,
    );
    spawn
        .env
        .push(("NSBOOTSTRAP_PROTECT".into(), "copy".into()));
    spawn.env_remove.push("NSBOOTSTRAP_UNPROTECTED".into());
    let mut ex = Executor::spawn(&spawn).unwrap();
    let status = ex.wait_stage0(T).unwrap();
    assert!(!status.success());
    let logs = ex.finish_logs();
    assert!(
        logs.iter()
            .any(|l| l.contains("\"level\":\"fatal\"") && l.contains("NSBOOTSTRAP_PROTECT")),
        "{logs:?}"
    );
    drop(ex);
    assert!(my_children().is_empty());
}

fn rootless_with_a_single_self_map() {
    let _g = serial();
    let (uid, gid, _, _) = testing::rootless_user();
    let plan = BootstrapPlan::builder()
        .create(NamespaceKind::User)
        .create(NamespaceKind::Pid)
        .create(NamespaceKind::Mnt)
        .create(NamespaceKind::Uts)
        .map_user(0, uid, 1)
        .map_group(0, gid, 1)
        .rootless_euid(true)
        .build();
    for dialect in [Dialect::Runc11, Dialect::Nsbootstrap1] {
        let mut spawn = spec(dialect);
        spawn.credentials = Some((uid, gid));
        let mut ex = Executor::spawn(&spawn).unwrap();
        ex.read_ready(T).unwrap();
        ex.send(&plan.to_bytes(dialect).unwrap()).unwrap();
        let r = ex
            .read_report(T)
            .unwrap_or_else(|e| panic!("{dialect}: {e}: {:#?}", ex.finish_logs_after_kill()));
        assert!(ex.wait_stage0(T).unwrap().success());
        assert_eq!(
            map_lines(&proc_file(r.stage2, "uid_map")),
            vec![vec![0, u64::from(uid), 1]]
        );
        assert_eq!(
            map_lines(&proc_file(r.stage2, "gid_map")),
            vec![vec![0, u64::from(gid), 1]]
        );
        assert_eq!(proc_file(r.stage2, "setgroups").trim(), "deny");
        assert_eq!(
            status_field(r.stage2, "Uid:").split_whitespace().next(),
            Some(uid.to_string().as_str())
        );
        assert_eq!(
            status_field(r.stage2, "NSpid:").split_whitespace().last(),
            Some("1")
        );
        finish(ex, r, &plan);
    }
}

fn rootless_with_newuidmap_for_several_ranges() {
    let _g = serial();
    assert!(
        Path::new("/usr/bin/newuidmap").exists(),
        "newuidmap missing: install Debian's uidmap package"
    );
    let (uid, gid, subuid, subgid) = testing::rootless_user();
    let plan = BootstrapPlan::builder()
        .create(NamespaceKind::User)
        .create(NamespaceKind::Pid)
        .map_user(0, uid, 1)
        .map_user(1, subuid, 65536)
        .map_group(0, gid, 1)
        .map_group(1, subgid, 65536)
        .id_map_helpers("/usr/bin/newuidmap", "/usr/bin/newgidmap")
        .setgroups(true)
        .rootless_euid(true)
        .build();
    let mut spawn = spec(Dialect::Runc11);
    spawn.credentials = Some((uid, gid));
    let mut ex = Executor::spawn(&spawn).unwrap();
    ex.read_ready(T).unwrap();
    ex.send(&plan.to_bytes(Dialect::Runc11).unwrap()).unwrap();
    let r = ex
        .read_report(T)
        .unwrap_or_else(|e| panic!("{e}: {:#?}", ex.finish_logs_after_kill()));
    assert!(ex.wait_stage0(T).unwrap().success());
    assert_eq!(
        map_lines(&proc_file(r.stage2, "uid_map")),
        vec![
            vec![0, u64::from(uid), 1],
            vec![1, u64::from(subuid), 65536]
        ]
    );
    assert_eq!(
        map_lines(&proc_file(r.stage2, "gid_map")),
        vec![
            vec![0, u64::from(gid), 1],
            vec![1, u64::from(subgid), 65536]
        ]
    );
    let logs = finish(ex, r, &plan);
    assert!(
        logs.iter()
            .any(|l| l.contains("EPERM, running") && l.contains("newuidmap")),
        "{logs:#?}"
    );
}

fn runc_1_1_mount_sources_arrive_at_the_named_fds() {
    let _g = serial();
    let d = Dialect::Runc11;
    let plan = BootstrapPlan::builder()
        .create(NamespaceKind::Mnt)
        .create(NamespaceKind::Pid)
        .mount_source(Some("/etc".into()))
        .mount_source(None)
        .mount_source(Some("/usr/bin".into()))
        .build();
    let mut spawn = spec(d);
    spawn
        .env
        .push(("_LIBCONTAINER_MOUNT_FDS".into(), "[10,-1,11]".into()));
    let mut ex = Executor::spawn(&spawn).unwrap();
    ex.read_ready(T).unwrap();
    ex.send(&plan.to_bytes(d).unwrap()).unwrap();
    let r = ex
        .read_report(T)
        .unwrap_or_else(|e| panic!("{e}: {:#?}", ex.finish_logs_after_kill()));
    assert!(ex.wait_stage0(T).unwrap().success());
    for (fd, want) in [(10, "/etc"), (11, "/usr/bin")] {
        let got = std::fs::read_link(format!("/proc/{}/fd/{fd}", r.stage2)).unwrap();
        assert_eq!(got, Path::new(want), "fd {fd}");
        let flags = proc_file(r.stage2, &format!("fdinfo/{fd}"));
        let f = flags
            .lines()
            .find_map(|l| l.strip_prefix("flags:"))
            .unwrap()
            .trim();
        let flags = u32::from_str_radix(f, 8).unwrap();
        assert_ne!(
            flags & libc::O_PATH as u32,
            0,
            "fd {fd} is an O_PATH descriptor"
        );
    }
    finish(ex, r, &plan);

    // A count that does not match the plan is refused before anything happens.
    let mut spawn = spec(d);
    spawn
        .env
        .push(("_LIBCONTAINER_MOUNT_FDS".into(), "[10]".into()));
    let mut ex = Executor::spawn(&spawn).unwrap();
    ex.read_ready(T).unwrap();
    ex.send(&plan.to_bytes(d).unwrap()).unwrap();
    assert!(ex.read_report(T).is_err());
    assert_eq!(ex.wait_stage0(T).unwrap().code(), Some(1));
    let logs = ex.finish_logs();
    assert!(
        logs.iter()
            .any(|l| l.contains("names 1 descriptors for 2 mount sources")),
        "{logs:#?}"
    );
}

fn every_invalid_vector_ends_in_one_fatal_line_and_nothing_left() {
    let _g = serial();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/vectors/invalid");
    let mut checked = 0;
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for json in entries
        .iter()
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
    {
        let desc: serde_json::Value =
            serde_json::from_slice(&std::fs::read(json).unwrap()).unwrap();
        let class = desc["strict"]["error"]["class"]
            .as_str()
            .unwrap()
            .to_string();
        // Over a stream, trailing bytes belong to what follows the message (not an error); and a cut
        // message needs the runtime to end the stream, which the conformance suite covers.
        if ["trailing-bytes", "truncated", "truncated-header"].contains(&class.as_str()) {
            continue;
        }
        let d: Dialect = desc["dialect"].as_str().unwrap().parse().unwrap();
        let bytes = std::fs::read(json.with_extension("bin")).unwrap();
        let mut ex = Executor::spawn(&spec(d)).unwrap();
        ex.read_ready(T).unwrap();
        ex.send(&bytes).unwrap();
        assert!(ex.read_report(T).is_err(), "{}: a report", json.display());
        let s0 = ex
            .wait_stage0(T)
            .unwrap_or_else(|e| panic!("{}: {e}", json.display()));
        assert_eq!(s0.code(), Some(1), "{}", json.display());
        ex.reap_group(T);
        let logs = ex.finish_logs();
        let fatal: Vec<&String> = logs.iter().filter(|l| l.contains("\"fatal\"")).collect();
        assert_eq!(fatal.len(), 1, "{}: {logs:#?}", json.display());
        assert!(
            fatal[0].contains(&class),
            "{}: {} lacks {class}",
            json.display(),
            fatal[0]
        );
        drop(ex);
        assert!(my_children().is_empty(), "{}: left behind", json.display());
        checked += 1;
    }
    assert!(checked >= 60, "only {checked} vectors reached the executor");
}

/// What this process holds: open descriptors and resident memory (KiB).
fn footprint() -> (usize, u64) {
    let fds = std::fs::read_dir("/proc/self/fd").unwrap().count();
    let rss = h::status_field(std::process::id() as i32, "VmRSS:")
        .unwrap()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .unwrap();
    (fds, rss)
}

/// `nsbootstrap-init`, the binary a runtime spawns, from one sealed copy.
fn init_spec(d: Dialect) -> SpawnSpec {
    static COPY: OnceLock<SealedBinary> = OnceLock::new();
    let copy = COPY.get_or_init(|| {
        SealedBinary::copy_of(Path::new(env!("CARGO_BIN_EXE_nsbootstrap-init")))
            .expect("sealed copy")
    });
    let mut s = SpawnSpec::new(copy.exec_path(), &["--dialect", d.name()], d);
    s.log_level = Some(2);
    s
}

/// One bootstrap of `plan` to the end through `nsbootstrap-init`: report, go-ahead, every stage exits 0.
fn full_run(bytes: &[u8], d: Dialect) {
    let s = init_spec(d);
    let mut ex = Executor::spawn(&s).expect("spawn");
    ex.send(bytes).expect("send");
    let report = match ex.read_report(T) {
        Ok(r) => r,
        Err(e) => panic!("no report: {e}; logs: {:#?}", ex.finish_logs_after_kill()),
    };

    ex.go_ahead().unwrap();
    let s0 = ex.wait_stage0(T).unwrap();
    let s1 = ex.wait_pid(report.stage1, T).unwrap();
    let s2 = ex.wait_pid(report.stage2, T).unwrap();
    assert!(
        s0.success() && s1.success() && s2.success(),
        "stages {s0} {s1} {s2}: {:#?}",
        ex.finish_logs()
    );
}

fn a_thousand_in_a_row_and_64_at_once_leave_nothing_behind() {
    let _g = serial();
    let d = Dialect::Nsbootstrap1;
    let plan = all_new();
    let bytes = plan.to_bytes(d).unwrap();
    // Warm up: the allocator's arenas and the sealed copy settle first.
    for _ in 0..50 {
        full_run(&bytes, d);
    }
    let (fds0, rss0) = footprint();
    for _ in 0..1000 {
        full_run(&bytes, d);
    }
    let (fds1, rss1) = footprint();
    assert_eq!(fds1, fds0, "descriptors grew over 1000 bootstraps");
    assert!(
        rss1 <= rss0 + 512,
        "resident memory grew from {rss0} KiB to {rss1} KiB over 1000 bootstraps"
    );
    assert!(my_children().is_empty(), "left behind: {:?}", my_children());

    for round in 0..3 {
        let mut running = Vec::new();
        for _ in 0..64 {
            let s = init_spec(d);
            let mut ex = Executor::spawn(&s).expect("spawn");
            ex.send(&bytes).expect("send");
            running.push(ex);
        }
        let reports: Vec<PidReport> = running
            .iter_mut()
            .map(|ex| ex.read_report(T).expect("a report from each of 64"))
            .collect();
        let distinct: BTreeSet<i32> = reports.iter().flat_map(|r| [r.stage1, r.stage2]).collect();
        assert_eq!(
            distinct.len(),
            128,
            "round {round}: PIDs repeat: {reports:?}"
        );
        for (ex, r) in running.iter_mut().zip(&reports) {
            ex.go_ahead().unwrap();
            let s0 = ex.wait_stage0(T).unwrap();
            let s1 = ex.wait_pid(r.stage1, T).unwrap();
            let s2 = ex.wait_pid(r.stage2, T).unwrap();
            assert!(
                s0.success() && s1.success() && s2.success(),
                "round {round}: {s0} {s1} {s2}"
            );
        }
        drop(running);
        assert!(my_children().is_empty(), "left behind: {:?}", my_children());
    }
    let (fds2, rss2) = footprint();
    assert_eq!(fds2, fds0, "descriptors grew over 64 at once");
    assert!(
        rss2 <= rss0 + 1024,
        "resident memory grew from {rss0} KiB to {rss2} KiB after 64 at once"
    );
}

/// The nsbootstrap-1 go-ahead with a setup record (spec 14.1): applied before exec; a bad record is one
/// fatal line and no exec; a runc dialect takes 0x02 for a wrong byte.
fn go_ahead_with_a_setup_record() {
    use nsbootstrap_codec::setup::FinalSetup;
    let _serial = serial();
    let dir = std::env::temp_dir().join(format!("nsb-setup-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("hostname");
    let plan = BootstrapPlan::builder()
        .create(NamespaceKind::Uts)
        .create(NamespaceKind::Mnt)
        .build();
    let script = format!("hostname > {}; pwd >> {}", out.display(), out.display());
    let run = |dialect: Dialect, go: &[u8]| {
        let mut sp = spec(dialect);
        sp.args
            .extend(["--", "sh", "-c", &script].map(std::ffi::OsString::from));
        let mut ex = Executor::spawn(&sp).unwrap();
        ex.read_ready(T).unwrap();
        ex.send(&plan.to_bytes(dialect).unwrap()).unwrap();
        let r = ex.read_report(T).unwrap();
        ex.init_pipe_write(go).unwrap();
        // End of file after what was written (a record cut short ends there).
        ex.close_init_pipe();
        let s2 = ex.wait_pid(r.stage2, T).unwrap();
        ex.wait_stage0(T).unwrap();
        ex.wait_pid(r.stage1, T).unwrap();
        let logs = ex.finish_logs();
        drop(ex);
        assert!(my_children().is_empty(), "left behind: {:?}", my_children());
        (s2, logs)
    };
    let good = FinalSetup {
        propagation: Some(nsbootstrap_codec::setup::Propagation::Private),
        hostname: Some(b"setup-test".to_vec()),
        workdir: Some(b"/usr".to_vec()),
        ..FinalSetup::default()
    };
    let (s2, logs) = run(Dialect::Nsbootstrap1, &good.go_ahead_bytes().unwrap());
    assert!(s2.success(), "{s2}: {logs:#?}");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "setup-test\n/usr\n");
    std::fs::remove_file(&out).unwrap();
    // An unknown tag: the fatal line, exit 1, no exec.
    let (s2, logs) = run(Dialect::Nsbootstrap1, &[0x02, 3, 0, 0, 0, 9, 0, 0]);
    assert_eq!(s2.code(), Some(1));
    assert!(
        logs.iter()
            .any(|l| l.contains("\"fatal\"")
                && l.contains("stage-2: setup: record: unknown entry tag")),
        "{logs:#?}"
    );
    assert!(!out.exists(), "the command ran after a bad record");
    // A record cut short (the pipe closes with the runtime's end).
    let (s2, logs) = run(Dialect::Nsbootstrap1, &[0x02, 200, 0, 0, 0, 1]);
    assert_eq!(s2.code(), Some(1), "{logs:#?}");
    assert!(!out.exists());
    // runc dialects: 0x02 is just a wrong byte.
    let (s2, logs) = run(Dialect::Runc11, &good.go_ahead_bytes().unwrap());
    assert_eq!(s2.code(), Some(1));
    assert!(
        logs.iter().any(|l| l.contains("got byte 0x02")),
        "{logs:#?}"
    );
    assert!(!out.exists());
    let _ = std::fs::remove_dir_all(&dir);
}

fn main() {
    testing::run_in(
        env!("CARGO_MANIFEST_DIR"),
        &[
            Test::new(
                "creates_every_namespace_with_a_65536_id_map",
                creates_every_namespace_with_a_65536_id_map,
            )
            .needs(Needs::Root),
            Test::new(
                "several_ranges_setgroups_and_oom_score_adj",
                several_ranges_setgroups_and_oom_score_adj,
            )
            .needs(Needs::Root),
            Test::new(
                "joins_existing_namespaces_and_creates_others",
                joins_existing_namespaces_and_creates_others,
            )
            .needs(Needs::Root),
            Test::new("time_namespace_offsets", time_namespace_offsets).needs(Needs::Root),
            Test::new(
                "cgroup_namespace_in_every_dialect",
                cgroup_namespace_in_every_dialect,
            )
            .needs(Needs::Root),
            Test::new(
                "console_becomes_the_controlling_terminal",
                console_becomes_the_controlling_terminal,
            )
            .needs(Needs::Root),
            Test::new(
                "a_message_fed_one_byte_at_a_time",
                a_message_fed_one_byte_at_a_time,
            )
            .needs(Needs::Root),
            Test::new(
                "failures_are_one_fatal_line_and_leave_nothing",
                failures_are_one_fatal_line_and_leave_nothing,
            )
            .needs(Needs::Root),
            Test::new(
                "the_runtime_closing_the_pipe_early",
                the_runtime_closing_the_pipe_early,
            )
            .needs(Needs::Root),
            Test::new(
                "a_killed_stage_is_noticed_within_a_second",
                a_killed_stage_is_noticed_within_a_second,
            )
            .needs(Needs::Root),
            Test::new(
                "runtime_bind_protection_resists_the_overwrite",
                runtime_bind_protection_resists_the_overwrite,
            )
            .needs(Needs::Root),
            Test::new(
                "runtime_overlay_protection_resists_the_overwrite",
                runtime_overlay_protection_resists_the_overwrite,
            )
            .needs(Needs::Root),
            Test::new(
                "runtime_memfd_protection_resists_the_overwrite",
                runtime_memfd_protection_resists_the_overwrite,
            )
            .needs(Needs::Root),
            Test::new(
                "executor_bind_protection_resists_the_overwrite",
                executor_bind_protection_resists_the_overwrite,
            )
            .needs(Needs::Root),
            Test::new(
                "executor_overlay_protection_resists_the_overwrite",
                executor_overlay_protection_resists_the_overwrite,
            )
            .needs(Needs::Root),
            Test::new(
                "executor_memfd_protection_resists_the_overwrite",
                executor_memfd_protection_resists_the_overwrite,
            )
            .needs(Needs::Root),
            Test::new(
                "rootless_from_its_file_falls_back_to_the_memfd_copy",
                rootless_from_its_file_falls_back_to_the_memfd_copy,
            )
            .needs(Needs::Root),
            Test::new(
                "switching_the_protection_off_is_loud_and_a_bad_method_is_refused",
                switching_the_protection_off_is_loud_and_a_bad_method_is_refused,
            )
            .needs(Needs::Root),
            Test::new(
                "rootless_with_a_single_self_map",
                rootless_with_a_single_self_map,
            )
            .needs(Needs::Root),
            Test::new(
                "rootless_with_newuidmap_for_several_ranges",
                rootless_with_newuidmap_for_several_ranges,
            )
            .needs(Needs::Root),
            Test::new(
                "runc_1_1_mount_sources_arrive_at_the_named_fds",
                runc_1_1_mount_sources_arrive_at_the_named_fds,
            )
            .needs(Needs::Root),
            Test::new(
                "every_invalid_vector_ends_in_one_fatal_line_and_nothing_left",
                every_invalid_vector_ends_in_one_fatal_line_and_nothing_left,
            )
            .needs(Needs::Root)
            .needs(Needs::Repository),
            Test::new(
                "a_thousand_in_a_row_and_64_at_once_leave_nothing_behind",
                a_thousand_in_a_row_and_64_at_once_leave_nothing_behind,
            )
            .needs(Needs::Root),
            Test::new("go_ahead_with_a_setup_record", go_ahead_with_a_setup_record)
                .needs(Needs::Root),
        ],
    )
}
