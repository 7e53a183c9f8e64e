//! `nsbootstrap run` driven as a person would drive it, next to what unshare, nsenter and bwrap do: one
//! test per defect of issue 11, the terminal ones in a real terminal (tmux).

use nsbootstrap_conformance::testing::{self, Needs, Test};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_nsbootstrap")
}

fn nsb(args: &[&str]) -> Output {
    Command::new(bin())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("spawn nsbootstrap")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn sh(script: &str) -> Output {
    Command::new("sh")
        .args(["-c", script])
        .output()
        .expect("sh")
}

/// A fresh directory under /tmp.
fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("nsb-run-{name}-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&d);
    d
}

fn is_mountpoint(p: &Path) -> bool {
    sh(&format!("findmnt -n {}", p.display())).status.success()
}

/// Waits until `f` holds or `secs` pass.
fn eventually(secs: u64, mut f: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < end {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    f()
}

/// Whether a process is gone or a zombie (killed, not yet reaped by whoever adopted it).
fn dead(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(s) => s
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('Z')),
    }
}

/// Starts `run` with `args`, and returns it with the PID its command wrote to a file.
fn start_with_pid(args: &[&str], command: &str) -> (Child, u32, PathBuf) {
    let dir = scratch("pid");
    let file = dir.join(format!("pid-{}", rand()));
    let script = format!("echo $$ > {}; exec {command}", file.display());
    let mut all: Vec<&str> = vec!["run"];
    all.extend_from_slice(args);
    all.extend(["--", "sh", "-c", &script]);
    let child = Command::new(bin())
        .args(&all)
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    assert!(eventually(10, || std::fs::read_to_string(&file)
        .is_ok_and(|s| s.ends_with('\n'))));
    let pid: u32 = std::fs::read_to_string(&file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    (child, pid, file)
}

fn rand() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

fn signal(pid: u32, sig: &str) {
    assert!(Command::new("kill")
        .args([&format!("-{sig}"), &pid.to_string()])
        .status()
        .unwrap()
        .success());
}

// 1. Mount propagation.
fn mount_namespace_is_private_by_default_and_propagation_is_a_choice() {
    let dir = scratch("prop");
    let shared = dir.join("shared");
    std::fs::create_dir_all(&shared).unwrap();
    let s = shared.display();
    assert!(sh(&format!("mount -t tmpfs nsbshared {s} && mount --make-shared {s} && mkdir {s}/in {s}/host && mount -t tmpfs host {s}/host")).status.success());
    let inner = shared.join("in");
    let host = shared.join("host");
    // A mount inside stays inside; an unmount inside leaves the host's mount alone.
    let o = nsb(&[
        "run",
        "-m",
        "--",
        "mount",
        "-t",
        "tmpfs",
        "x",
        inner.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(
        !is_mountpoint(&inner),
        "a mount inside run -m reached the host"
    );
    let plan = dir.join("plan.json");
    std::fs::write(&plan, br#"{"clone_flags":["mnt"]}"#).unwrap();
    let o = nsb(&[
        "run",
        "--plan",
        plan.to_str().unwrap(),
        "--",
        "mount",
        "-t",
        "tmpfs",
        "x",
        inner.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(
        !is_mountpoint(&inner),
        "a mount inside run --plan (mnt) reached the host"
    );
    let o = nsb(&["run", "-m", "--", "umount", host.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(
        is_mountpoint(&host),
        "an unmount inside run -m removed the host's mount"
    );
    let o = nsb(&[
        "run",
        "-m",
        "--",
        "findmnt",
        "-no",
        "PROPAGATION",
        shared.to_str().unwrap(),
    ]);
    assert_eq!(text(&o.stdout).trim(), "private");
    let o = nsb(&[
        "run",
        "-m",
        "--propagation",
        "slave",
        "--",
        "findmnt",
        "-no",
        "PROPAGATION",
        shared.to_str().unwrap(),
    ]);
    assert!(text(&o.stdout).contains("slave"), "{}", text(&o.stdout));
    // Asked for: shared, as before.
    let o = nsb(&[
        "run",
        "-m",
        "--propagation",
        "shared",
        "--",
        "mount",
        "-t",
        "tmpfs",
        "x",
        inner.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(
        is_mountpoint(&inner),
        "--propagation shared did not reach the host"
    );
    let o = nsb(&["run", "--propagation", "sideways", "-m", "--", "true"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("expected private, shared, slave or unchanged"));
    let _ = sh(&format!("umount -R {s}"));
}

// 2. Signals and exit status.
fn signals_reach_the_command_and_run_exits_with_its_status() {
    assert_eq!(
        nsb(&["run", "--", "sh", "-c", "exit 7"]).status.code(),
        Some(7)
    );
    assert_eq!(
        nsb(&["run", "--", "sh", "-c", "kill -9 $$"]).status.code(),
        Some(137)
    );
    for (sig, code) in [("TERM", 143), ("INT", 130), ("HUP", 129)] {
        let (mut run, pid, _) = start_with_pid(&[], "sleep 100");
        signal(run.id(), sig);
        let st = run.wait().unwrap();
        assert_eq!(st.code(), Some(code), "SIG{sig} to run");
        assert!(dead(pid), "the command outlived run after SIG{sig}");
    }
    // SIGKILL cannot be forwarded: the command gets its parent-death signal (default SIGKILL) instead.
    // (Without -p: the PID the command writes must be the host's.)
    let (mut run, pid, _) = start_with_pid(&["-n"], "sleep 100");
    signal(run.id(), "KILL");
    run.wait().unwrap();
    assert!(
        eventually(5, || dead(pid)),
        "the command outlived a killed run"
    );
    // What the command leaves behind ends with it.
    let left = scratch("orphan").join("pid");
    let o = nsb(&[
        "run",
        "--",
        "sh",
        "-c",
        &format!("sleep 100 & echo $! > {}", left.display()),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let orphan: u32 = std::fs::read_to_string(&left)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(dead(orphan), "the command's background job outlived run");
    // --kill-child=TERM chooses the signal; --kill-child=none lets the command outlive run.
    let (mut run, pid, _) = start_with_pid(&["--kill-child=none"], "sleep 100");
    signal(run.id(), "KILL");
    run.wait().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        !dead(pid),
        "--kill-child=none: the command should outlive run"
    );
    signal(pid, "KILL");
    let o = nsb(&["run", "--kill-child=BOGUS", "--", "true"]);
    assert!(text(&o.stderr).contains("not a signal"));
}

// 8. Idle cost.
fn run_blocks_while_the_command_runs() {
    let (mut run, _, _) = start_with_pid(&[], "sleep 4");
    let switches = |pid: u32| -> u64 {
        std::fs::read_dir(format!("/proc/{pid}/task"))
            .map(|d| {
                d.flatten()
                    .map(|t| {
                        std::fs::read_to_string(t.path().join("status"))
                            .unwrap_or_default()
                            .lines()
                            .filter(|l| l.starts_with("voluntary_ctxt_switches"))
                            .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
                            .sum::<u64>()
                    })
                    .sum()
            })
            .unwrap_or(0)
    };
    // Past the bootstrap's end (stage 0 and 1 reaped), into the command's life.
    std::thread::sleep(Duration::from_millis(700));
    let before = switches(run.id());
    std::thread::sleep(Duration::from_secs(1));
    let after = switches(run.id());
    // Polling every 2 ms made about 500 a second. (Voluntary switches only: preemption by a busy machine
    // is not a wake-up of ours.)
    assert!(
        after - before <= 5,
        "{} wake-ups in a second of the command's life",
        after - before
    );
    assert!(run.wait().unwrap().success());
}

// 4. Environment.
fn the_command_gets_the_callers_environment_not_the_protocols() {
    let o = Command::new(bin())
        .args(["run", "--", "env"])
        .env("NSB_MARK", "kept")
        .output()
        .unwrap();
    let env = text(&o.stdout);
    assert!(env.contains("NSB_MARK=kept"));
    assert!(!env.contains("_LIBCONTAINER_"), "{env}");
    // The signals ignored are the caller's, less SIGPIPE: the executor's Rust start-up ignores SIGPIPE (and so
    // does this test's), and that must not reach the command.
    let ignored = |status: &str| {
        let line = status.lines().find(|l| l.starts_with("SigIgn:")).unwrap();
        u64::from_str_radix(line["SigIgn:".len()..].trim(), 16).unwrap()
    };
    let mine = ignored(&std::fs::read_to_string("/proc/self/status").unwrap());
    let o = nsb(&["run", "--", "cat", "/proc/self/status"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let sigpipe = 1u64 << (libc::SIGPIPE - 1);
    // The standard signals 1 to 31 (32 and up are real-time signals, some of them glibc's own).
    let standard = (1u64 << 31) - 1;
    let theirs = ignored(&text(&o.stdout));
    assert_eq!(theirs & sigpipe, 0, "SIGPIPE is ignored in the command");
    assert_eq!(theirs & standard, mine & standard & !sigpipe);
    if Path::new("/usr/sbin/runc").exists() {
        let o = nsb(&["run", "--", "/usr/sbin/runc", "--version"]);
        assert!(o.status.success(), "{}", text(&o.stderr));
        assert!(text(&o.stdout).contains("runc version"));
    }
}

// 5. The fatal line is never lost, with both cores busy and many runs at once.
fn the_executors_fatal_line_is_never_lost() {
    let mut busy: Vec<Child> = (0..2)
        .map(|_| {
            Command::new("sh")
                .args(["-c", "while :; do :; done"])
                .spawn()
                .unwrap()
        })
        .collect();
    let mut lost = 0;
    for _ in 0..10 {
        let runs: Vec<Child> = (0..20)
            .map(|_| {
                Command::new(bin())
                    .args(["run", "--join", "net:/nonexistent", "--", "true"])
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for r in runs {
            let o = r.wait_with_output().unwrap();
            assert_eq!(o.status.code(), Some(1));
            if !text(&o.stderr).contains("/nonexistent") {
                lost += 1;
            }
        }
    }
    for b in &mut busy {
        let _ = b.kill();
        let _ = b.wait();
    }
    assert_eq!(lost, 0, "the cause was lost in {lost} of 200 runs");
}

// 6. One line for people; the JSON log with -v.
fn errors_are_one_line_with_what_to_do() {
    let big: Vec<String> = (0..400u32)
        .map(|i| {
            format!(
                "{}:{}:1",
                4_000_000_000u32 - i * 7,
                4_000_000_000u32 - i * 7
            )
        })
        .collect();
    let mut too_big = vec!["run", "-U"];
    for r in &big {
        too_big.extend(["--map-user", r, "--map-group", r]);
    }
    too_big.extend(["--", "true"]);
    for (args, expect) in [
        (
            &["run", "--join", "net:/nonexistent", "--", "true"][..],
            "hint: --join takes TYPE:PATH",
        ),
        (
            &["run", "--map-user", "0:0:1", "--", "true"],
            "add --map-group",
        ),
        (&too_big[..], "fewer, larger ranges"),
        (&["run", "--", "/nonexistent/command"], "not found"),
        (&["run", "--target", "1", "--", "true"], "give --all"),
    ] {
        let o = nsb(args);
        assert_eq!(
            o.status.code(),
            Some(if expect == "not found" { 127 } else { 1 })
        );
        let err = text(&o.stderr);
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("nsbootstrap run: "), "{err}");
        assert!(err.contains(expect), "{args:?}: {err}");
        assert!(!err.contains('{') && !err.contains("ExitStatus"), "{err}");
    }
    let o = nsb(&["run", "-v", "--join", "net:/nonexistent", "--", "true"]);
    assert!(text(&o.stderr)
        .lines()
        .any(|l| l.starts_with("{\"level\":\"fatal\"")));
}

fn as_user(uid: u32, args: &[&str]) -> Output {
    let id = uid.to_string();
    Command::new("setpriv")
        .args(["--reuid", &id, "--regid", &id, "--clear-groups", bin()])
        .args(args)
        .current_dir("/")
        .output()
        .expect("setpriv (util-linux)")
}

// 7. Rootless maps.
fn rootless_maps_use_the_helpers_without_the_argument_limit() {
    let (uid, _, sub, _) = testing::rootless_user();
    // -U alone: the caller is root inside, as unshare -r.
    let o = as_user(uid, &["run", "-U", "--", "id", "-u"]);
    assert_eq!(text(&o.stdout).trim(), "0", "{}", text(&o.stderr));
    // 21 ranges per map: 63 helper arguments and more, found and used without being asked.
    let own = format!("0:{uid}:1");
    let ranges: Vec<String> = (0..20)
        .map(|i| format!("{}:{}:1000", 1 + i * 1000, sub + i * 1000))
        .collect();
    let mut args = vec!["run", "--map-user", &own, "--map-group", &own];
    for r in &ranges {
        args.extend(["--map-user", r, "--map-group", r]);
    }
    args.extend(["--", "cat", "/proc/self/uid_map"]);
    let o = as_user(uid, &args);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout).lines().count(), 21);
    // Without the helpers in PATH, the line says which package has them.
    let o = Command::new("/usr/bin/setpriv")
        .args([
            "--reuid",
            &uid.to_string(),
            "--regid",
            &uid.to_string(),
            "--clear-groups",
            bin(),
        ])
        .args([
            "run",
            "--map-user",
            &own,
            "--map-group",
            &own,
            "--map-user",
            &ranges[0],
            "--map-group",
            &ranges[0],
            "--",
            "true",
        ])
        .env("PATH", "/nonexistent")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("needs newuidmap and newgidmap (Debian package uidmap)"),
        "{err}"
    );
    // A user without subordinate ranges is told so.
    let o = as_user(
        65534,
        &[
            "run",
            "--map-user",
            "0:65534:1",
            "--map-group",
            "0:65534:1",
            "--map-user",
            "1:100000:5",
            "--map-group",
            "1:100000:5",
            "--",
            "true",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("/etc/subuid has no range"),
        "{}",
        text(&o.stderr)
    );
}

// 9. Bounded input; write errors.
fn codec_commands_read_at_most_a_message_and_report_write_errors() {
    let start = Instant::now();
    for cmd in ["decode", "explain"] {
        let o = nsb(&[cmd, "/dev/zero"]);
        assert_eq!(o.status.code(), Some(1));
        assert!(
            text(&o.stderr).contains("larger than 1048576 bytes"),
            "{}",
            text(&o.stderr)
        );
        assert_eq!(text(&o.stderr).lines().count(), 1);
    }
    assert!(start.elapsed() < Duration::from_secs(10));
    let sparse = scratch("sparse").join("big");
    let f = std::fs::File::create(&sparse).unwrap();
    f.set_len(2 << 30).unwrap();
    let o = sh(&format!(
        "/usr/bin/time -f %M {} decode {} 2>&1 >/dev/null | tail -1",
        bin(),
        sparse.display()
    ));
    if let Ok(kib) = text(&o.stdout).trim().parse::<u64>() {
        assert!(kib < 64 * 1024, "decode of a 2 GiB file took {kib} KiB");
    }
    let _ = std::fs::remove_file(&sparse);
    let plan = scratch("plan").join("p.json");
    std::fs::write(&plan, br#"{"clone_flags":["mnt"]}"#).unwrap();
    let o = sh(&format!("{} encode {} >&-", bin(), plan.display()));
    assert_eq!(
        o.status.code(),
        Some(1),
        "encode with standard output closed"
    );
    assert!(text(&o.stderr).contains("cannot write to standard output"));
    let o = sh(&format!("{} encode {} >/dev/full", bin(), plan.display()));
    assert_eq!(o.status.code(), Some(1), "encode to a full device");
    assert!(
        sh(&format!("{} encode {} >/dev/null", bin(), plan.display()))
            .status
            .success()
    );
}

// What unshare and nsenter users expect.
fn mount_proc_hostname_ids_and_workdir() {
    let o = nsb(&[
        "run",
        "-p",
        "--mount-proc",
        "--",
        "sh",
        "-c",
        "ls /proc | grep -c '^[0-9]'; cat /proc/1/comm",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    let mut lines = out.lines();
    let n: u32 = lines.next().unwrap().parse().unwrap();
    assert!(n <= 4, "{n} processes in the new /proc");
    assert_eq!(lines.next(), Some("sh"));
    let o = nsb(&["run", "--hostname", "nsb-box", "--", "hostname"]);
    assert_eq!(text(&o.stdout).trim(), "nsb-box", "{}", text(&o.stderr));
    let o = nsb(&["run", "-S", "65534", "-G", "65534", "--", "id"]);
    let out = text(&o.stdout);
    assert!(
        out.starts_with("uid=65534(nobody) gid=65534"),
        "{out}{}",
        text(&o.stderr)
    );
    assert!(!out.contains("groups=0"), "{out}");
    let o = nsb(&["run", "--wd", "/usr/share", "--", "pwd"]);
    assert_eq!(text(&o.stdout).trim(), "/usr/share");
    let o = nsb(&["run", "--wd", "/nonexistent", "--", "pwd"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("chdir"), "{}", text(&o.stderr));
    // The runc dialects have no setup record.
    let o = nsb(&[
        "run",
        "--dialect",
        "runc-1.1",
        "--hostname",
        "x",
        "-u",
        "--",
        "true",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("nsbootstrap-1's only"));
}

fn target_joins_a_processs_namespaces() {
    let (mut run, pid, _) = start_with_pid(&["-n", "--hostname", "nsb-target"], "sleep 100");
    let p = pid.to_string();
    let o = nsb(&["run", "--target", &p, "--all", "--", "hostname"]);
    assert_eq!(text(&o.stdout).trim(), "nsb-target", "{}", text(&o.stderr));
    let o = nsb(&["run", "-t", &p, "-u", "--", "hostname"]);
    assert_eq!(text(&o.stdout).trim(), "nsb-target");
    let o = nsb(&["run", "-t", &p, "-n", "--", "readlink", "/proc/self/ns/net"]);
    let theirs = std::fs::read_link(format!("/proc/{pid}/ns/net")).unwrap();
    assert_eq!(text(&o.stdout).trim(), theirs.to_str().unwrap());
    signal(run.id(), "TERM");
    run.wait().unwrap();
}

/// A tmux session running `command`, 100x30.
struct Tmux(String);

impl Tmux {
    fn new(command: &str) -> Tmux {
        assert!(
            Command::new("tmux").arg("-V").output().is_ok(),
            "tmux is missing: install Debian's tmux package"
        );
        let name = format!("nsb{}", rand() % 1_000_000_000);
        let st = Command::new("tmux")
            .args([
                "new-session",
                "-d",
                "-s",
                &name,
                "-x",
                "100",
                "-y",
                "30",
                command,
            ])
            .status()
            .unwrap();
        assert!(st.success());
        Tmux(name)
    }
    fn keys(&self, keys: &[&str]) {
        Command::new("tmux")
            .args(["send-keys", "-t", &self.0])
            .args(keys)
            .status()
            .unwrap();
    }
    fn screen(&self) -> String {
        text(
            &Command::new("tmux")
                .args(["capture-pane", "-p", "-J", "-t", &self.0])
                .output()
                .unwrap()
                .stdout,
        )
    }
    fn wait_for(&self, what: &str) {
        assert!(
            eventually(10, || self.screen().contains(what)),
            "{what:?} never showed:\n{}",
            self.screen()
        );
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.0])
            .status();
    }
}

// 3. A real terminal.
fn tty_gives_job_control_window_size_and_restores_the_terminal() {
    let t = Tmux::new("bash --norc --noprofile");
    t.keys(&["PS1='outer$ '", "Enter"]);
    t.wait_for("outer$");
    t.keys(&[
        &format!("{} run --tty -- bash --norc --noprofile -i", bin()),
        "Enter",
    ]);
    t.keys(&["PS1='in''ner$ '", "Enter"]);
    t.wait_for("inner$");
    t.keys(&["echo T=$(tty) F=$- S=$(stty size)", "Enter"]);
    t.wait_for("S=30 100");
    let s = t.screen();
    let line = s
        .lines()
        .find(|l| l.starts_with("T=/dev/pts/"))
        .unwrap_or_else(|| panic!("no tty inside:\n{s}"));
    let flags = line.split_whitespace().find_map(|w| w.strip_prefix("F="));
    assert!(
        flags.is_some_and(|f| f.contains('m')),
        "no job control (monitor mode) inside: {line}"
    );
    assert!(!s.contains("no job control"), "{s}");
    // Ctrl-Z stops the job inside, not run; fg brings it back; Ctrl-C ends it.
    t.keys(&["sleep 100", "Enter"]);
    std::thread::sleep(Duration::from_millis(300));
    t.keys(&["C-z"]);
    t.wait_for("Stopped");
    t.keys(&["fg", "Enter"]);
    std::thread::sleep(Duration::from_millis(300));
    t.keys(&["C-c"]);
    t.keys(&["echo after-fg-$((40+2))", "Enter"]);
    t.wait_for("after-fg-42");
    // Window size changes reach the command's terminal.
    Command::new("tmux")
        .args(["resize-window", "-t", &t.0, "-x", "120", "-y", "40"])
        .status()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    t.keys(&["echo Z=$(stty size)", "Enter"]);
    t.wait_for("Z=40 120");
    t.keys(&["exit 5", "Enter"]);
    // The outer shell's prompt again: run has ended (typing earlier would be typing to run).
    assert!(
        eventually(10, || t
            .screen()
            .lines()
            .filter(|l| l.starts_with("outer$"))
            .count()
            >= 2),
        "{}",
        t.screen()
    );
    t.keys(&[
        "echo rc=$? $(stty -a | grep -o -- ' -icanon\\| -echo ' | tr -d ' ')",
        "Enter",
    ]);
    t.wait_for("rc=5");
    assert!(
        t.screen().lines().any(|l| l == "rc=5"),
        "the terminal stayed raw (-icanon or -echo after rc=5):\n{}",
        t.screen()
    );
    // Killed from outside: the command gets the signal, run restores the terminal and exits 143.
    t.keys(&[
        &format!("{} run --tty -- sleep 100; echo rc2=$?", bin()),
        "Enter",
    ]);
    std::thread::sleep(Duration::from_millis(800));
    let o = sh(&format!("pgrep -f '^{} run --tty -- sleep 100'", bin()));
    let pid: u32 = text(&o.stdout).trim().parse().expect("run's pid");
    signal(pid, "TERM");
    t.wait_for("rc2=143");
    t.keys(&["echo raw=$(stty -a | grep -c -- '-icanon')", "Enter"]);
    t.wait_for("raw=0");
    assert!(
        t.screen().lines().any(|l| l == "raw=0"),
        "the terminal stayed raw after run was killed:\n{}",
        t.screen()
    );
}

fn without_tty_the_command_never_reads_the_terminal_after_run() {
    let pidfile = scratch("notty").join("pid");
    let t = Tmux::new("bash --norc --noprofile");
    t.keys(&["PS1='outer$ '", "Enter"]);
    t.wait_for("outer$");
    let _ = std::fs::remove_file(&pidfile);
    // --console with the caller's own terminal cannot work (it is this session's); the line says --tty.
    t.keys(&[&format!("{} run --console $(tty) -- true", bin()), "Enter"]);
    t.wait_for("use --tty for a new one");
    // Ctrl-C ends the command (it gets run's SIGINT), and the prompt comes back with nothing left.
    t.keys(&[
        &format!(
            "{} run -- sh -c 'echo $$ > {}; exec sleep 100'",
            bin(),
            pidfile.display()
        ),
        "Enter",
    ]);
    assert!(eventually(10, || std::fs::read_to_string(&pidfile)
        .is_ok_and(|s| s.ends_with('\n'))));
    let pid: u32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // Ctrl-Z stops run and the command with it, as a job of the caller's shell; fg goes on.
    let state = |pid: u32| {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|s| {
                s.rsplit_once(") ")
                    .map(|(_, r)| r.chars().next().unwrap_or('?'))
            })
    };
    t.keys(&["C-z"]);
    t.wait_for("Stopped");
    assert!(
        eventually(5, || state(pid) == Some('T')),
        "the command did not stop with run"
    );
    t.keys(&["fg", "Enter"]);
    assert!(
        eventually(5, || state(pid) == Some('S')),
        "the command did not go on after fg"
    );
    t.keys(&["C-c"]);
    t.keys(&["echo rc=$?", "Enter"]);
    t.wait_for("rc=130");
    assert!(eventually(5, || dead(pid)), "the command outlived Ctrl-C");
    let _ = std::fs::remove_file(&pidfile);
}

// The README's main job, as written there.
fn the_readmes_main_job_works() {
    let o = Command::new(bin())
        .args([
            "run",
            "-U",
            "-p",
            "-u",
            "-i",
            "-n",
            "-m",
            "--map-user",
            "0:100000:65536",
            "--map-group",
            "0:100000:65536",
            "--",
            "sh",
            "-c",
            "echo \"pid $$\"; id; cat /proc/self/uid_map; ls -l /proc/self/ns",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(out.starts_with("pid 1\nuid=0(root) gid=0(root)"), "{out}");
    assert!(out.contains("0     100000      65536"), "{out}");
}

// The README's table names every flag of `run`.
fn the_readme_table_names_every_run_flag() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .unwrap();
    let table = &readme[readme.find("### `run` next to unshare").expect("the table")..];
    let help = text(&nsb(&["run", "--help"]).stdout);
    let mut flags: Vec<&str> = help
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .filter(|w| w.starts_with("--") && w.len() > 2)
        .collect();
    flags.sort();
    flags.dedup();
    assert!(flags.len() > 20, "{flags:?}");
    for f in flags {
        if [
            "--help",
            "--plan",
            "--dialect",
            "--verbose",
            "--user",
            "--pid",
            "--net",
            "--mount",
            "--uts",
            "--ipc",
            "--cgroup",
            "--time",
            "--map-root-user",
            "--all",
            "--target",
            "--setuid",
            "--setgid",
            "--wd",
        ]
        .contains(&f)
        {
            continue;
        }
        assert!(table.contains(f), "README table misses {f}");
    }
}

// The spec's setup vectors (spec/vectors/setup, section 14.1) walk as their descriptions say.
fn setup_vectors_walk_as_the_spec_says() {
    use nsbootstrap_codec::setup::{entries, Entry, Propagation};
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/vectors/setup");
    let mut checked = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let json_path = e.unwrap().path();
        if json_path.extension().is_none_or(|x| x != "json") {
            continue;
        }
        let desc: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&json_path).unwrap()).unwrap();
        let bytes = std::fs::read(json_path.with_extension("bin")).unwrap();
        assert_eq!(bytes[0], nsbootstrap_codec::sync::GO_SETUP);
        let len = u32::from_le_bytes(bytes[1..5].try_into().unwrap()) as usize;
        assert_eq!(len, bytes.len() - 5, "{}", json_path.display());
        let got: Result<Vec<serde_json::Value>, &str> = entries(&bytes[5..])
            .map(|e| {
                e.map(|e| match e {
                    Entry::Propagation(p) => serde_json::json!({"propagation": match p {
                        Propagation::Private => "private",
                        Propagation::Slave => "slave",
                        Propagation::Shared => "shared",
                    }}),
                    Entry::MountProc(p) => serde_json::json!({"mount_proc": p.to_str().unwrap()}),
                    Entry::Hostname(h) => {
                        serde_json::json!({"hostname": std::str::from_utf8(h).unwrap()})
                    }
                    Entry::ParentDeathSignal(s) => serde_json::json!({"parent_death_signal": s}),
                    Entry::Gid(g) => serde_json::json!({"gid": g}),
                    Entry::Uid(u) => serde_json::json!({"uid": u}),
                    Entry::Workdir(p) => serde_json::json!({"workdir": p.to_str().unwrap()}),
                })
            })
            .collect();
        match (&desc["entries"], &desc["error"]) {
            (serde_json::Value::Array(want), _) => {
                assert_eq!(got.as_ref(), Ok(want), "{}", json_path.display())
            }
            (_, serde_json::Value::String(why)) => {
                assert_eq!(got, Err(why.as_str()), "{}", json_path.display())
            }
            _ => panic!("{}: neither entries nor error", json_path.display()),
        }
        checked += 1;
    }
    assert!(checked >= 13, "only {checked} setup vectors");
}

fn main() {
    testing::run(&[
        Test::new(
            "mount_namespace_is_private_by_default_and_propagation_is_a_choice",
            mount_namespace_is_private_by_default_and_propagation_is_a_choice,
        )
        .needs(Needs::Root),
        Test::new(
            "signals_reach_the_command_and_run_exits_with_its_status",
            signals_reach_the_command_and_run_exits_with_its_status,
        )
        .needs(Needs::Root),
        Test::new(
            "tty_gives_job_control_window_size_and_restores_the_terminal",
            tty_gives_job_control_window_size_and_restores_the_terminal,
        )
        .needs(Needs::Root),
        Test::new(
            "without_tty_the_command_never_reads_the_terminal_after_run",
            without_tty_the_command_never_reads_the_terminal_after_run,
        )
        .needs(Needs::Root),
        Test::new(
            "the_command_gets_the_callers_environment_not_the_protocols",
            the_command_gets_the_callers_environment_not_the_protocols,
        )
        .needs(Needs::Root),
        Test::new(
            "the_executors_fatal_line_is_never_lost",
            the_executors_fatal_line_is_never_lost,
        )
        .needs(Needs::Root),
        Test::new(
            "errors_are_one_line_with_what_to_do",
            errors_are_one_line_with_what_to_do,
        )
        .needs(Needs::Root),
        Test::new(
            "rootless_maps_use_the_helpers_without_the_argument_limit",
            rootless_maps_use_the_helpers_without_the_argument_limit,
        )
        .needs(Needs::Root),
        Test::new(
            "run_blocks_while_the_command_runs",
            run_blocks_while_the_command_runs,
        )
        .needs(Needs::Root),
        Test::new(
            "codec_commands_read_at_most_a_message_and_report_write_errors",
            codec_commands_read_at_most_a_message_and_report_write_errors,
        ),
        Test::new(
            "mount_proc_hostname_ids_and_workdir",
            mount_proc_hostname_ids_and_workdir,
        )
        .needs(Needs::Root),
        Test::new(
            "target_joins_a_processs_namespaces",
            target_joins_a_processs_namespaces,
        )
        .needs(Needs::Root),
        Test::new("the_readmes_main_job_works", the_readmes_main_job_works).needs(Needs::Root),
        Test::new(
            "the_readme_table_names_every_run_flag",
            the_readme_table_names_every_run_flag,
        )
        .needs(Needs::Repository),
        Test::new(
            "setup_vectors_walk_as_the_spec_says",
            setup_vectors_walk_as_the_spec_says,
        )
        .needs(Needs::Repository),
    ])
}
