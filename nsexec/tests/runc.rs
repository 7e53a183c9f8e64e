//! runc with nsbootstrap's nsexec, used as runc's users use it, and compared with Debian's stock runc
//! 1.1.5 on the same bundles.
//!
//! `nsexec/build-runc.sh` builds runc from Debian's packaged sources with this crate's static library in
//! place of runc's C nsexec (once per run, into `target/runc-nsexec/`), and runs runc's own nsenter tests
//! against it. Then each scenario runs with `/usr/sbin/runc` and with the rebuilt runc, and the two must
//! agree (exit status, output, namespaces and id maps seen from `/proc`); each also checks what it sees
//! against the configuration, so that two runcs that agree on a wrong answer still fail.
//!
//! Everything here needs root, Go, runc's sources (`golang-go golang-github-opencontainers-runc-dev`),
//! Debian's runc and busybox-static; what is missing is said on standard error, and the tests that need
//! it are counted as ignored, never as passed. `.ci/run` installs all of it.

use nsbootstrap_codec::Dialect;
use nsbootstrap_conformance::harness::Target;
use nsbootstrap_conformance::runner;
use nsbootstrap_conformance::testing::{self, is_root};
use serde_json::{json, Value};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

const STOCK: &str = "/usr/sbin/runc";
const BUSYBOX: &str = "/bin/busybox";
const RUNC_SRC: &str = "/usr/share/gocode/src/github.com/opencontainers/runc";
/// The namespaces of `runc spec` 1.1's configuration, and the cgroup namespace added by the tests.
const NAMESPACES: [(&str, &str); 6] = [
    ("pid", "pid"),
    ("network", "net"),
    ("ipc", "ipc"),
    ("uts", "uts"),
    ("mount", "mnt"),
    ("cgroup", "cgroup"),
];
/// The user namespace scenario's mapping (the 65536 ids from 200000 on the host).
const MAP_START: u32 = 200000;

/// The scenarios run one at a time: two cores, and each compares two runcs' timings of the same work.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn root_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root_dir().join("target"))
}

/// What the build script left: the rebuilt runc, and the log of runc's nsenter tests.
struct Built {
    runc: PathBuf,
    nsenter_log: String,
}

/// Runs `nsexec/build-runc.sh` once per test run (cargo and Go cache their work: a rebuild with nothing
/// changed takes seconds).
fn built() -> &'static Built {
    static BUILT: OnceLock<Built> = OnceLock::new();
    BUILT.get_or_init(|| {
        let out = target_dir().join("runc-nsexec");
        let t = Instant::now();
        let o = Command::new(root_dir().join("nsexec/build-runc.sh"))
            .arg(&out)
            .arg("--test")
            .output()
            .expect("run nsexec/build-runc.sh");
        let text = format!(
            "{}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        eprintln!("build-runc.sh took {:.1} s", t.elapsed().as_secs_f64());
        assert!(o.status.success(), "build-runc.sh failed:\n{text}");
        Built {
            runc: out.join("runc"),
            nsenter_log: std::fs::read_to_string(out.join("nsenter-test.log")).unwrap_or(text),
        }
    })
}

/// Why the tests cannot run here, if they cannot.
fn missing() -> Vec<String> {
    let mut m = Vec::new();
    if nsbootstrap_conformance::testing::spec_dir(env!("CARGO_MANIFEST_DIR")).is_none() {
        m.push(
            "the repository checkout (the build script builds the workspace; spec/vectors)".into(),
        );
    }
    if !is_root() {
        m.push("root".to_string());
    }
    for (path, package) in [
        (STOCK, "runc"),
        (BUSYBOX, "busybox-static"),
        (RUNC_SRC, "golang-github-opencontainers-runc-dev"),
    ] {
        if !Path::new(path).exists() {
            m.push(format!("{path} (package {package})"));
        }
    }
    if Command::new("go").arg("version").output().is_err() {
        m.push("go (package golang-go)".into());
    }
    m
}

/// A bundle: a busybox rootfs and the configuration of `runc spec` (or `runc spec --rootless`), edited.
struct Bundle {
    dir: tempfile::TempDir,
}

impl Bundle {
    fn new(rootless: bool, edit: impl FnOnce(&mut Value)) -> Bundle {
        let dir = tempfile::Builder::new()
            .prefix("nsx-bundle.")
            .tempdir_in("/tmp")
            .unwrap();
        let rootfs = dir.path().join("rootfs");
        for d in ["bin", "proc", "dev", "sys", "tmp", "mnt"] {
            std::fs::create_dir_all(rootfs.join(d)).unwrap();
        }
        std::fs::copy(BUSYBOX, rootfs.join("bin/busybox")).unwrap();
        for applet in [
            "sh", "echo", "cat", "readlink", "id", "sleep", "tty", "ls", "stat", "true",
        ] {
            std::os::unix::fs::symlink("busybox", rootfs.join("bin").join(applet)).unwrap();
        }
        let mut spec = Command::new(STOCK);
        spec.arg("spec").current_dir(dir.path());
        if rootless {
            spec.arg("--rootless");
        }
        let st = spec.status().unwrap();
        assert!(st.success(), "runc spec failed");
        let file = dir.path().join("config.json");
        let mut config: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        config["process"]["terminal"] = json!(false);
        edit(&mut config);
        std::fs::write(&file, serde_json::to_vec_pretty(&config).unwrap()).unwrap();
        Bundle { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// The state directory the tests give runc (`--root`), away from the host's containers.
fn state_root() -> &'static str {
    "/run/nsbootstrap-nsexec-tests"
}

fn runc(program: &Path) -> Command {
    let mut c = Command::new(program);
    c.arg("--root").arg(state_root());
    c
}

/// Which runc ran, for messages.
fn which(program: &Path) -> &'static str {
    if program == Path::new(STOCK) {
        "stock"
    } else {
        "nsbootstrap"
    }
}

/// A container name unique to this run.
fn name(scenario: &str, program: &Path) -> String {
    format!("nsx-{scenario}-{}-{}", which(program), std::process::id())
}

/// `cmd`'s output, with a deadline.
fn output(cmd: &mut Command, what: &str) -> Output {
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    wait_for(child, what)
}

/// A `runc run -d` or `runc create`: the container inherits runc's standard output and error, so they go
/// to a file (a pipe would stay open as long as the container runs).
fn detached(cmd: &mut Command, what: &str) -> Output {
    let log = tempfile::tempfile().unwrap();
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log.try_clone().unwrap())
        .spawn()
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    let mut o = wait_for(child, what);
    use std::io::{Read, Seek};
    let mut log = log;
    log.rewind().unwrap();
    log.read_to_end(&mut o.stderr).unwrap();
    o
}

fn wait_for(child: std::process::Child, what: &str) -> Output {
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    let h = std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(o) => {
            h.join().unwrap();
            o.unwrap()
        }
        Err(_) => {
            let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
            panic!("{what}: no answer in 60 s");
        }
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The host's own namespace links (`net:[4026531840]`), by /proc name.
fn host_ns(kind: &str) -> String {
    std::fs::read_link(format!("/proc/self/ns/{kind}"))
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

/// Replaces each `kind:[inode]` link in `out` by `kind:host` when it is the host's namespace, else
/// `kind:new`, so that two runs compare.
fn normalise(out: &str, same_as: impl Fn(&str) -> Option<String>) -> String {
    out.lines()
        .map(|l| match l.split_once(":[") {
            Some((kind, _)) if l.ends_with(']') => match same_as(kind) {
                Some(label) => format!("{kind}:{label}"),
                None => l.to_string(),
            },
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A shell line that prints the process's namespace links, one a line.
fn print_namespaces() -> String {
    let kinds: Vec<&str> = NAMESPACES.iter().map(|(_, k)| *k).collect();
    format!(
        "for n in {} user; do readlink /proc/self/ns/$n; done",
        kinds.join(" ")
    )
}

fn add_cgroup_namespace(c: &mut Value) {
    let list = c["linux"]["namespaces"].as_array_mut().unwrap();
    if !list.iter().any(|n| n["type"] == "cgroup") {
        list.push(json!({"type": "cgroup"}));
    }
}

/// What one run of a scenario showed, compared between the two runcs.
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    status: Option<i32>,
    stdout: String,
}

/// What a container printed, its namespace links named `host` (the test's own) or `new`; its standard
/// error must be empty.
fn seen_against_the_host(o: &Output, program: &Path) -> Seen {
    assert!(
        o.stderr.is_empty(),
        "{}: {}",
        which(program),
        text(&o.stderr)
    );
    let out = text(&o.stdout);
    Seen {
        status: o.status.code(),
        stdout: normalise(&out, |kind| {
            Some(if out.lines().any(|l| l == host_ns(kind)) {
                "host".into()
            } else {
                "new".into()
            })
        }),
    }
}

/// Runs `scenario` with stock runc and with ours, asserts they saw the same, and returns what they saw.
fn compare(what: &str, scenario: impl Fn(&Path) -> Seen) -> Seen {
    let ours = built().runc.clone();
    let stock = scenario(Path::new(STOCK));
    let mine = scenario(&ours);
    assert_eq!(
        stock, mine,
        "{what}: stock runc (left) and runc with nsbootstrap's nsexec (right) differ"
    );
    eprintln!("{what}: both runcs: {mine:?}");
    mine
}

// ---------------------------------------------------------------------------------------------------

fn runc_own_nsenter_tests_pass() {
    let _g = serial();
    let log = &built().nsenter_log;
    for t in [
        "TestNsenterValidPaths",
        "TestNsenterInvalidPaths",
        "TestNsenterIncorrectPathType",
        "TestNsenterChildLogging",
    ] {
        assert!(
            log.contains(&format!("--- PASS: {t} ")),
            "runc's {t} did not pass:\n{log}"
        );
    }
    assert!(!log.contains("--- FAIL"), "{log}");
    // The test binary ran nsbootstrap's nsexec, not runc's C: its log lines name this bootstrap.
    assert!(
        log.contains("=> bootstrap (runc-1.1)"),
        "runc's nsenter tests did not run nsbootstrap's nsexec:\n{log}"
    );
}

fn run_with_every_namespace() {
    let _g = serial();
    let bundle = Bundle::new(false, |c| {
        add_cgroup_namespace(c);
        c["process"]["args"] = json!([
            "sh",
            "-c",
            format!(
                "echo hello from $(cat /proc/sys/kernel/hostname); {}; cat /proc/self/uid_map; \
                 echo pid $$; grep -E '^(SigBlk|SigIgn|NoNewPrivs)' /proc/self/status; pwd; \
                 ls /proc/self/fd | tr '\\n' ' '; echo; exit 3",
                print_namespaces()
            )
        ]);
    });
    let seen = compare("runc run", |program| {
        let n = name("run", program);
        let o = output(
            runc(program).arg("run").arg(&n).current_dir(bundle.path()),
            "runc run",
        );
        seen_against_the_host(&o, program)
    });
    assert_eq!(seen.status, Some(3));
    let mut want = vec!["hello from runc".to_string()];
    want.extend(NAMESPACES.iter().map(|(_, k)| format!("{k}:new")));
    want.push("user:host".into());
    want.push("         0          0 4294967295".into());
    want.push("pid 1".into());
    // What the container's process inherits through runc's Go side from the final process of the
    // bootstrap: no blocked signal, runc's no_new_privileges (set by `runc spec`), the
    // working directory of the configuration, and no descriptor beyond stdio (`ls`'s own is 3).
    want.push("SigBlk:\t0000000000000000".into());
    // Ignored: whatever stock runc leaves (both agree, compared above), but never SIGPIPE, which Rust
    // programs ignore from `main` on (a static library has no `main` of its own: nothing changes it).
    let ign = seen
        .stdout
        .lines()
        .find(|l| l.starts_with("SigIgn:"))
        .expect("SigIgn line");
    let mask = u64::from_str_radix(ign.trim_start_matches("SigIgn:").trim(), 16).unwrap();
    assert_eq!(
        mask & (1 << (libc::SIGPIPE - 1)),
        0,
        "SIGPIPE is ignored: {ign}"
    );
    want.push(ign.into());
    want.push("NoNewPrivs:\t1".into());
    want.push("/".into());
    want.push("0 1 2 3 ".into());
    assert_eq!(seen.stdout, want.join("\n"));
}

/// `runc state NAME`'s JSON, if the container exists.
fn state(program: &Path, n: &str) -> Option<Value> {
    let o = output(runc(program).arg("state").arg(n), "runc state");
    o.status
        .success()
        .then(|| serde_json::from_slice(&o.stdout).unwrap())
}

fn wait_stopped(program: &Path, n: &str) {
    let t = Instant::now();
    while state(program, n).is_some_and(|s| s["status"] != "stopped") {
        assert!(t.elapsed() < Duration::from_secs(20), "{n} does not stop");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn run_detached_then_exec_kill_delete() {
    let _g = serial();
    let bundle = Bundle::new(false, |c| {
        add_cgroup_namespace(c);
        c["process"]["args"] = json!(["sleep", "1000"]);
    });
    compare("runc run -d, exec, kill, delete", |program| {
        let n = name("exec", program);
        let o = detached(
            runc(program)
                .arg("run")
                .arg("-d")
                .arg(&n)
                .current_dir(bundle.path()),
            "runc run -d",
        );
        assert!(
            o.status.success(),
            "{}: run -d: {}",
            which(program),
            text(&o.stderr)
        );
        let st = state(program, &n).expect("state of a running container");
        assert_eq!(st["status"], "running");
        let init = st["pid"].as_i64().unwrap();
        // runc exec joins the container init's namespaces by path (/proc/PID/ns/*).
        let o = output(
            runc(program).arg("exec").arg(&n).args([
                "sh",
                "-c",
                &format!(
                    "{}; cat /proc/1/cmdline; echo; id -u; exit 5",
                    print_namespaces()
                ),
            ]),
            "runc exec",
        );
        assert!(
            o.stderr.is_empty(),
            "{}: {}",
            which(program),
            text(&o.stderr)
        );
        let out = normalise(&text(&o.stdout), |kind| {
            let theirs = std::fs::read_link(format!("/proc/{init}/ns/{kind}")).ok()?;
            Some(
                if text(&o.stdout)
                    .lines()
                    .any(|l| Path::new(l) == theirs.as_path())
                {
                    "container".into()
                } else {
                    "other".into()
                },
            )
        });
        let status = o.status.code();
        let k = output(runc(program).args(["kill", &n, "KILL"]), "runc kill");
        assert!(k.status.success(), "kill: {}", text(&k.stderr));
        wait_stopped(program, &n);
        let d = output(runc(program).args(["delete", &n]), "runc delete");
        assert!(d.status.success(), "delete: {}", text(&d.stderr));
        assert!(
            state(program, &n).is_none(),
            "{n} still exists after delete"
        );
        assert_eq!(status, Some(5), "{}: exec's status", which(program));
        let mut want: Vec<String> = NAMESPACES
            .iter()
            .map(|(_, k)| format!("{k}:container"))
            .collect();
        want.push("user:container".into());
        want.push("sleep\x001000\x00".into());
        want.push("0".into());
        assert_eq!(out, want.join("\n"), "{}", which(program));
        Seen {
            status,
            stdout: out,
        }
    });
}

fn user_namespace_with_a_65536_id_map_and_a_bind_mount() {
    let _g = serial();
    let shared = tempfile::Builder::new()
        .prefix("nsx-shared.")
        .tempdir_in("/tmp")
        .unwrap();
    std::fs::write(shared.path().join("greeting"), "bound from the host\n").unwrap();
    let bundle = Bundle::new(false, |c| {
        add_cgroup_namespace(c);
        c["linux"]["namespaces"]
            .as_array_mut()
            .unwrap()
            .push(json!({"type": "user"}));
        let map = json!([{"containerID": 0, "hostID": MAP_START, "size": 65536}]);
        c["linux"]["uidMappings"] = map.clone();
        c["linux"]["gidMappings"] = map;
        // A bind mount makes runc 1.1 send the mount sources (attribute 27290) and the descriptors'
        // numbers (_LIBCONTAINER_MOUNT_FDS) with a user and a mount namespace.
        c["mounts"].as_array_mut().unwrap().push(json!({
            "destination": "/mnt",
            "type": "bind",
            "source": shared.path(),
            "options": ["rbind", "ro"]
        }));
        c["process"]["args"] = json!([
            "sh",
            "-c",
            format!(
                "cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups; id; cat /mnt/greeting; \
                 {}; exit 7",
                print_namespaces()
            )
        ]);
    });
    // The rootfs must be reachable by the container's root, host uid MAP_START.
    let _ = Command::new("chmod").arg("755").arg(bundle.path()).status();
    let _ = Command::new("chmod").arg("755").arg(shared.path()).status();
    let seen = compare("user namespace, 65536 ids", |program| {
        let n = name("userns", program);
        let o = output(
            runc(program).arg("run").arg(&n).current_dir(bundle.path()),
            "runc run",
        );
        seen_against_the_host(&o, program)
    });
    assert_eq!(seen.status, Some(7));
    let row = format!("         0     {MAP_START}      65536");
    let mut want = vec![
        row.clone(),
        row,
        "allow".to_string(),
        // busybox's id without /etc/group; runc gives the process no supplementary group here.
        "uid=0 gid=0".into(),
        "bound from the host".into(),
    ];
    want.extend(NAMESPACES.iter().map(|(_, k)| format!("{k}:new")));
    want.push("user:new".into());
    assert_eq!(seen.stdout, want.join("\n"));
}

fn rootless_container_with_subordinate_ids() {
    let _g = serial();
    assert!(
        Path::new("/usr/bin/newuidmap").exists(),
        "newuidmap is not installed (package uidmap)"
    );
    let (uid, gid, subuid, subgid) = testing::rootless_user();
    let bundle = Bundle::new(true, |c| {
        c["linux"]["uidMappings"] = json!([
            {"containerID": 0, "hostID": uid, "size": 1},
            {"containerID": 1, "hostID": subuid, "size": 65536}
        ]);
        c["linux"]["gidMappings"] = json!([
            {"containerID": 0, "hostID": gid, "size": 1},
            {"containerID": 1, "hostID": subgid, "size": 65536}
        ]);
        c["process"]["args"] = json!([
            "sh",
            "-c",
            format!(
                "cat /proc/self/uid_map /proc/self/gid_map; id; {}; exit 9",
                print_namespaces()
            )
        ]);
    });
    // The user owns the bundle and runs runc from a copy it can read, with its own state directory.
    let home = tempfile::Builder::new()
        .prefix("nsx-rootless.")
        .tempdir_in("/tmp")
        .unwrap();
    let ours = home.path().join("runc");
    std::fs::copy(&built().runc, &ours).unwrap();
    for p in [bundle.path(), home.path()] {
        let st = Command::new("chown")
            .arg("-R")
            .arg(format!("{uid}:{gid}"))
            .arg(p)
            .status()
            .unwrap();
        assert!(st.success());
    }
    let seen = compare("rootless, newuidmap", |program| {
        let program = if program == Path::new(STOCK) {
            program
        } else {
            ours.as_path()
        };
        let n = name("rootless", program);
        let o = output(
            Command::new("runuser")
                .args(["-u", "nsbtest", "--", "env"])
                .arg(format!("XDG_RUNTIME_DIR={}", home.path().display()))
                .arg(format!("HOME={}", home.path().display()))
                .arg(program)
                .arg("--root")
                .arg(home.path().join("state"))
                .arg("run")
                .arg(&n)
                .current_dir(bundle.path()),
            "runc run (rootless)",
        );
        seen_against_the_host(&o, program)
    });
    assert_eq!(seen.status, Some(9));
    let rows = |id: u32, sub: u32| {
        format!(
            "{:>10} {:>10} {:>10}\n{:>10} {:>10} {:>10}",
            0, id, 1, 1, sub, 65536
        )
    };
    let mut want = vec![
        rows(uid, subuid),
        rows(gid, subgid),
        // busybox's id without /etc/group; a rootless runc cannot call setgroups (setgroups is deny)
        // and leaves the group the user had, gid 0 in the container.
        "uid=0 gid=0 groups=0".into(),
    ];
    // runc spec --rootless: pid, ipc, uts, mount and user namespaces, the host's network.
    for (_, k) in NAMESPACES {
        let label = match k {
            "net" | "cgroup" => "host",
            _ => "new",
        };
        want.push(format!("{k}:{label}"));
    }
    want.push("user:new".into());
    assert_eq!(seen.stdout, want.join("\n"));
}

fn terminal_through_a_console_socket() {
    let _g = serial();
    let bundle = Bundle::new(false, |c| {
        c["process"]["terminal"] = json!(true);
        c["process"]["args"] = json!([
            "sh",
            "-c",
            "tty; readlink /proc/self/fd/1; stat -L -c %t /proc/self/fd/0; echo done"
        ]);
    });
    let seen = compare("terminal, --console-socket", |program| {
        let n = name("tty", program);
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("console.sock");
        let listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
        let receiver = std::thread::spawn(move || console::receive(&listener));
        let o = output(
            runc(program)
                .args(["run", "-d", "--console-socket"])
                .arg(&sock)
                .arg(&n)
                .current_dir(bundle.path()),
            "runc run -d --console-socket",
        );
        assert!(
            o.status.success(),
            "{}: run: {}",
            which(program),
            text(&o.stderr)
        );
        let screen = receiver.join().unwrap();
        wait_stopped(program, &n);
        let d = output(runc(program).args(["delete", &n]), "runc delete");
        assert!(d.status.success(), "delete: {}", text(&d.stderr));
        Seen {
            status: o.status.code(),
            stdout: screen.replace("\r\n", "\n"),
        }
    });
    // The pty's slave is /dev/pts/0 in the container's own devpts; major 0x88 = 136 (Unix98 ptys).
    assert_eq!(seen.stdout, "/dev/pts/0\n/dev/pts/0\n88\ndone\n");
}

/// Receives a pty master over a unix socket (SCM_RIGHTS), as `runc --console-socket` sends it, and reads
/// everything from it until the container's side is closed.
mod console {
    use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};
    use std::io::{IoSliceMut, Read};
    use std::os::fd::{AsRawFd, FromRawFd, RawFd};
    use std::os::unix::net::UnixListener;

    pub fn receive(listener: &UnixListener) -> String {
        let (conn, _) = listener.accept().unwrap();
        let mut name = [0u8; 4096];
        let mut iov = [IoSliceMut::new(&mut name)];
        let mut space = nix::cmsg_space!([RawFd; 1]);
        let msg = recvmsg::<()>(
            conn.as_raw_fd(),
            &mut iov,
            Some(&mut space),
            MsgFlags::MSG_CMSG_CLOEXEC,
        )
        .unwrap();
        let mut master = None;
        for c in msg.cmsgs().unwrap() {
            if let ControlMessageOwned::ScmRights(fds) = c {
                master = fds.first().copied();
            }
        }
        let fd = master.expect("runc sent no descriptor");
        // SAFETY: `fd` was just received with SCM_RIGHTS: the kernel installed it in this process as a
        // new descriptor that nothing else owns, so the File may own (and close) it.
        let mut file = unsafe { std::fs::File::from_raw_fd(fd) };
        let mut screen = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            match file.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => screen.extend_from_slice(&buf[..n]),
                // EIO: every descriptor of the slave is closed (the container exited).
                Err(_) => break,
            }
        }
        String::from_utf8_lossy(&screen).into_owned()
    }
}

fn binary_of_runc_init_cannot_be_written() {
    let _g = serial();
    let bundle = Bundle::new(false, |c| {
        c["process"]["args"] = json!(["true"]);
    });
    compare("/proc/PID/exe of runc init", |program| {
        let n = name("exe", program);
        // `runc create` leaves runc init waiting on the exec fifo, in the container's namespaces.
        let o = detached(
            runc(program)
                .arg("create")
                .arg(&n)
                .current_dir(bundle.path()),
            "runc create",
        );
        assert!(o.status.success(), "create: {}", text(&o.stderr));
        let pid = state(program, &n).unwrap()["pid"].as_i64().unwrap();
        let exe = format!("/proc/{pid}/exe");
        // What a process in the container can do (CVE-2019-5736): hold the binary of runc init through
        // /proc/PID/exe, wait for runc init to go, then open it for writing. Held here read-only.
        let held = std::fs::File::open(&exe).unwrap();
        let link = std::fs::read_link(&exe).unwrap();
        let d = output(runc(program).args(["delete", "-f", &n]), "runc delete -f");
        assert!(d.status.success(), "delete: {}", text(&d.stderr));
        // The attack comes once runc init is gone (while it runs, a write is refused with ETXTBSY for
        // every kind of file, which says nothing about the protection): wait until its PID has left /proc.
        // (A zombie counts as gone: its memory, and with it the hold on its executable, is released.)
        let alive = || {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|st| st.rsplit_once(") ").map(|(_, rest)| !rest.starts_with('Z')))
                .unwrap_or(false)
        };
        let gone = Instant::now() + Duration::from_secs(10);
        while alive() && Instant::now() < gone {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(
            !alive(),
            "runc init {pid} still runs 10 s after runc delete -f"
        );
        eprintln!("{}: runc init ran from {:?}", which(program), link);
        // Opening for writing (without truncating, so that a failure of the protection could not damage
        // the host's runc) must fail, or the file must be a memfd sealed against writes.
        let reopen = format!("/proc/self/fd/{}", held.as_raw_fd());
        let verdict = match std::fs::OpenOptions::new().write(true).open(&reopen) {
            Err(e) => format!("refused: {}", e.kind()),
            Ok(f) => match nix::fcntl::fcntl(&f, nix::fcntl::FcntlArg::F_GET_SEALS) {
                Ok(seals) if seals & libc::F_SEAL_WRITE != 0 => "sealed memfd".into(),
                _ => "opened for writing".into(),
            },
        };
        assert_ne!(
            verdict,
            "opened for writing",
            "{}: the binary runc init ran from can be written after it is gone",
            which(program)
        );
        Seen {
            status: o.status.code(),
            stdout: verdict,
        }
    });
}

/// The rebuilt runc's `runc init` runs from a file that `nsbootstrap-protect` recognises as protected by
/// the cheapest method root has (a detached read-only clone of the binary's mount), checked on the live
/// process, and the runc binary on disk is left as it was.
fn runc_init_runs_from_a_protected_file() {
    let _g = serial();
    let bundle = Bundle::new(false, |c| {
        c["process"]["args"] = json!(["true"]);
    });
    let program = &built().runc;
    let before = std::fs::read(program).unwrap();
    let n = name("protected", program);
    // `runc create` leaves runc init waiting on the exec fifo.
    let o = detached(
        runc(program)
            .arg("create")
            .arg(&n)
            .current_dir(bundle.path()),
        "runc create",
    );
    assert!(o.status.success(), "create: {}", text(&o.stderr));
    let pid = state(program, &n).unwrap()["pid"].as_i64().unwrap();
    let exe = std::fs::File::open(format!("/proc/{pid}/exe")).unwrap();
    let method = nsbootstrap_protect::protection_of(std::os::fd::AsFd::as_fd(&exe));
    let d = output(runc(program).args(["delete", "-f", &n]), "runc delete -f");
    assert!(d.status.success(), "delete: {}", text(&d.stderr));
    assert_eq!(method, Some(nsbootstrap_protect::Method::Bind));
    // The mount was dissolved: nothing of it in this (the host's) mount table.
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(
        !mounts.contains(&program.display().to_string()),
        "a mount of the runc binary is left in the host's mount table"
    );
    assert_eq!(std::fs::read(program).unwrap(), before);
}

fn conformance_suite_against_the_rebuilt_runc_init() {
    let _g = serial();
    let target = Target {
        program: built().runc.clone(),
        args: vec!["init".into()],
        dialect: Dialect::Runc11,
        env: vec![("_LIBCONTAINER_INITTYPE".into(), "standard".into())],
    };
    let detected = runner::detect(&target, Duration::from_secs(5)).map(|x| x.0);
    assert_eq!(detected, Ok(Dialect::Runc11));
    let vectors = root_dir().join("spec/vectors");
    let results = runner::suite(&target, Some(&vectors), "", Duration::from_secs(5));
    let table = runner::render(
        "human",
        "runc init (nsbootstrap)",
        Dialect::Runc11,
        &target.environment(),
        &results,
    );
    let file = root_dir().join("tests/expect/runc-1.1.5.json");
    let stock: std::collections::BTreeMap<String, String> =
        serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let mut bad = Vec::new();
    for r in &results {
        if r.result == "fail" || (r.required && r.result != "pass") {
            bad.push(format!("{}: {} {}", r.name, r.result, r.detail));
        }
    }
    // Every scenario stock runc 1.1.5 runs, this one runs, and each of stock's failures passes here.
    for (scenario, was) in &stock {
        let now = results.iter().find(|r| &r.name == scenario);
        match now {
            None => bad.push(format!("{scenario}: not run (stock: {was})")),
            Some(r) if was == "fail" && r.result != "pass" => bad.push(format!(
                "{scenario}: stock fails it, and here: {}",
                r.result
            )),
            Some(_) => {}
        }
    }
    assert!(stock.values().filter(|v| *v == "fail").count() >= 12);
    assert!(bad.is_empty(), "{}\n\n{table}", bad.join("\n"));
    eprintln!("{}", table.lines().last().unwrap_or_default());
}

// ---------------------------------------------------------------------------------------------------

fn main() {
    use libtest_mimic::{Arguments, Trial};
    let args = Arguments::from_args();
    let tests: [(&str, fn()); 9] = [
        (
            "runc_init_runs_from_a_protected_file",
            runc_init_runs_from_a_protected_file,
        ),
        ("runc_own_nsenter_tests_pass", runc_own_nsenter_tests_pass),
        ("run_with_every_namespace", run_with_every_namespace),
        (
            "run_detached_then_exec_kill_delete",
            run_detached_then_exec_kill_delete,
        ),
        (
            "user_namespace_with_a_65536_id_map_and_a_bind_mount",
            user_namespace_with_a_65536_id_map_and_a_bind_mount,
        ),
        (
            "rootless_container_with_subordinate_ids",
            rootless_container_with_subordinate_ids,
        ),
        (
            "terminal_through_a_console_socket",
            terminal_through_a_console_socket,
        ),
        (
            "binary_of_runc_init_cannot_be_written",
            binary_of_runc_init_cannot_be_written,
        ),
        (
            "conformance_suite_against_the_rebuilt_runc_init",
            conformance_suite_against_the_rebuilt_runc_init,
        ),
    ];
    let missing = missing();
    if !missing.is_empty() {
        eprintln!(
            "SKIPPED all {} tests of runc with nsbootstrap's nsexec: they cannot run here, and are counted \
             as ignored, not passed. Missing: {}",
            tests.len(),
            missing.join(", ")
        );
    }
    let trials = tests
        .into_iter()
        .map(|(name, body)| {
            Trial::test(name, move || {
                body();
                Ok(())
            })
            .with_ignored_flag(!missing.is_empty())
        })
        .collect();
    libtest_mimic::run(&args, trials).exit()
}
