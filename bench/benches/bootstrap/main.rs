//! Bootstrap latency, memory and scale, side by side in one run: `nsbootstrap-init` and the CLI's
//! `nsbootstrap init` (each run from a sealed copy made once, their protection on), the one-shot starts
//! of `nsbootstrap-init` (a runtime that is a fresh process per start: it protects the binary on every
//! start with each method, or spawns the file and the executor protects itself with each method,
//! `NSBOOTSTRAP_PROTECT`; `--no-reexec` leaves the latter out), the floor (`nsbootstrap-floor`: the bare system calls, no protocol),
//! Debian's `runc init`, and util-linux `unshare` / `nsenter`. Every round runs each candidate once, in a
//! random order, so that drift of the machine spreads evenly over them.
//!
//! ```text
//! cargo build --release --bins --workspace
//! cargo bench -p nsbootstrap-bench --bench bootstrap -- [--runs N] [--json FILE] [--svg FILE]
//!                                                      [--scale] [--no-reexec] [--only NAME]
//!                                                      [--variant LABEL=DIR]...
//! cargo bench -p nsbootstrap-bench --bench bootstrap -- --plot-from FILE.json --svg FILE.svg
//! ```
//!
//! The candidates `nsbootstrap-init` and `nsbootstrap` are other packages' binaries: the bench takes them
//! from the directory its own `nsbootstrap-floor` was built in (the same profile and target), so build
//! the workspace's binaries first with the same `--target` and `RUSTFLAGS`.
//!
//! Needs root (it creates namespaces). Prints, per scenario and candidate, the median, p90 and p99 of the
//! time from spawn until the runtime holds the PID report, the ratio to the floor, and each stage's peak
//! RSS (wait4's ru_maxrss); `--json` writes the same with every sample, `--svg` plots the distributions.
//! `--scale` adds 1,000 bootstraps in a row and 64 at once, checking that the runner's descriptors,
//! memory and children do not grow. `--variant LABEL=DIR` adds `DIR/nsbootstrap` and `DIR/nsbootstrap-floor`
//! (another build of both, e.g. with other linking) as two more candidates.

mod driver;
mod stats;

use driver::{Candidate, Footprint};
use nsbootstrap_codec::{BootstrapPlan, Dialect, NamespaceKind};
use nsbootstrap_protect::{Method, SealedBinary};
use stats::{Scenario, Series};
use std::path::Path;
use std::time::{Duration, Instant};

const OURS: &str = "nsbootstrap-init";
const OURS_CLI: &str = "nsbootstrap init (CLI binary)";
/// A runtime that is a fresh process per start protects the binary itself, then spawns it.
const ONE_SHOT_RUNTIME: &str = "one-shot: runtime protects";
/// A runtime that is a fresh process per start spawns the file; the executor protects itself.
const ONE_SHOT_SELF: &str = "one-shot: executor protects itself";
const FLOOR: &str = "floor (bare syscalls)";
const RUNC: &str = "runc init 1.1 (Debian)";
const UTIL: &str = "util-linux unshare/nsenter";
const TIMEOUT: Duration = Duration::from_secs(10);

struct Args {
    runs: usize,
    json: Option<String>,
    svg: Option<String>,
    scale: bool,
    reexec: bool,
    only: Option<String>,
    variants: Vec<(String, String)>,
    from_json: Option<String>,
}

fn args() -> Args {
    let mut a = Args {
        runs: 300,
        json: None,
        svg: None,
        scale: false,
        reexec: true,
        only: None,
        variants: Vec::new(),
        from_json: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--runs" => a.runs = it.next().and_then(|n| n.parse().ok()).expect("--runs N"),
            "--json" => a.json = it.next(),
            "--svg" => a.svg = it.next(),
            "--scale" => a.scale = true,
            "--no-reexec" => a.reexec = false,
            "--only" => a.only = it.next(),
            "--plot-from" => a.from_json = it.next(),
            "--variant" => {
                let v = it.next().expect("--variant LABEL=DIR");
                let (label, dir) = v.split_once('=').expect("--variant LABEL=DIR");
                a.variants.push((label.to_string(), dir.to_string()));
            }
            // cargo bench passes --bench to every bench target.
            "--bench" => {}
            other => panic!("unknown argument {other:?}"),
        }
    }
    a
}

/// A process holding new user, net, uts, ipc and mount namespaces for the join scenario.
struct Holder(libc::pid_t);

impl Holder {
    fn new() -> Holder {
        let mut sv = [-1; 2];
        // SAFETY: `sv` is a valid out-array of two ints.
        let r = unsafe { libc::socketpair(libc::AF_UNIX, libc::SOCK_STREAM, 0, sv.as_mut_ptr()) };
        assert_eq!(r, 0);
        // SAFETY: the bench is single-threaded here; the child makes system calls only and never returns.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            let flags = libc::CLONE_NEWUSER
                | libc::CLONE_NEWNET
                | libc::CLONE_NEWUTS
                | libc::CLONE_NEWIPC
                | libc::CLONE_NEWNS;
            // SAFETY: plain system calls in the child; it waits for its parent to write its maps, then
            // sleeps until killed.
            unsafe {
                let ok = libc::unshare(flags) == 0;
                libc::write(sv[1], [u8::from(ok)].as_ptr().cast(), 1);
                loop {
                    libc::pause();
                }
            }
        }
        let mut b = [0u8; 1];
        // SAFETY: `b` is valid for one byte.
        unsafe { libc::read(sv[0], b.as_mut_ptr().cast(), 1) };
        assert_eq!(b[0], 1, "the holder could not unshare its namespaces");
        for f in ["uid_map", "gid_map"] {
            std::fs::write(format!("/proc/{pid}/{f}"), "0 100000 65536\n").expect("holder map");
        }
        // SAFETY: our descriptors.
        unsafe {
            libc::close(sv[0]);
            libc::close(sv[1]);
        }
        Holder(pid)
    }

    fn path(&self, ns: &str) -> String {
        format!("/proc/{}/ns/{ns}", self.0)
    }
}

impl Drop for Holder {
    fn drop(&mut self) {
        // SAFETY: our child, not reaped yet.
        unsafe {
            libc::kill(self.0, libc::SIGKILL);
            libc::waitpid(self.0, std::ptr::null_mut(), 0);
        }
    }
}

/// One scenario: the message, and the floor's and util-linux's arguments for the same work.
struct Work {
    name: &'static str,
    plan: BootstrapPlan,
    floor_args: Vec<String>,
    util: Option<(String, Vec<String>)>,
}

fn scenarios(holder: &Holder, floor: &str) -> Vec<Work> {
    let map = "0 100000 65536\n".to_string();
    let new = [
        NamespaceKind::User,
        NamespaceKind::Pid,
        NamespaceKind::Uts,
        NamespaceKind::Ipc,
        NamespaceKind::Net,
        NamespaceKind::Mnt,
    ];
    let flags: u32 = new.iter().map(|k| k.flag()).sum();
    let joined = [
        ("user", NamespaceKind::User),
        ("net", NamespaceKind::Net),
        ("uts", NamespaceKind::Uts),
        ("ipc", NamespaceKind::Ipc),
        ("mnt", NamespaceKind::Mnt),
    ];
    let report = |tool: &str, opts: &[&str]| {
        let mut v: Vec<String> = opts.iter().map(|s| s.to_string()).collect();
        v.extend(["--".into(), floor.into(), "--report".into()]);
        Some((tool.to_string(), v))
    };
    let mut join_plan = BootstrapPlan::builder().rootless_euid(false);
    for (name, kind) in joined {
        join_plan = join_plan.join(kind, holder.path(name));
    }
    let target = holder.0.to_string();
    vec![
        Work {
            name: "no namespaces",
            plan: BootstrapPlan::builder().rootless_euid(false).build(),
            floor_args: vec!["0".into(), "-".into(), "-".into()],
            util: report("/usr/bin/unshare", &["--fork"]),
        },
        Work {
            name: "new user+pid+uts+ipc+net+mnt, 65536-id maps",
            plan: new
                .iter()
                .fold(BootstrapPlan::builder(), |b, k| b.create(*k))
                .map_user(0, 100000, 65536)
                .map_group(0, 100000, 65536)
                .rootless_euid(false)
                .build(),
            floor_args: vec![flags.to_string(), map.clone(), map],
            // unshare maps a 65536-id range only through newuidmap; -r (one id, written directly) is the
            // closest it comes to the work of the others.
            util: report(
                "/usr/bin/unshare",
                &["-U", "-p", "-u", "-i", "-n", "-m", "-r", "--fork"],
            ),
        },
        Work {
            name: "join user+net+uts+ipc+mnt by path",
            plan: join_plan.build(),
            floor_args: ["0", "-", "-"]
                .into_iter()
                .map(String::from)
                .chain(joined.iter().map(|(n, _)| holder.path(n)))
                .collect(),
            util: report(
                "/usr/bin/nsenter",
                &["-t", &target, "-U", "-n", "-u", "-i", "-m"],
            ),
        },
    ]
}

fn candidates(
    work: &Work,
    ours: &str,
    ours_cli: &str,
    on_disk: &str,
    floor: &str,
    reexec: bool,
    variants: &[(String, String, SealedBinary)],
) -> Vec<Candidate> {
    let d = Dialect::Nsbootstrap1;
    let level = [("_LIBCONTAINER_LOGLEVEL", "2".to_string())];
    let init = vec!["init".to_string(), "--dialect".into(), d.name().into()];
    let mut v = vec![
        Candidate::new(FLOOR, false, floor, &work.floor_args, &[], false),
        Candidate::new(OURS, true, ours, &init, &level, false),
        Candidate::new(OURS_CLI, true, ours_cli, &init, &level, false),
    ];
    for m in Method::CHEAPEST_FIRST {
        let name = format!("{ONE_SHOT_RUNTIME} ({m})");
        let c = Candidate::new(&name, true, on_disk, &init, &level, false);
        v.push(c.sealed_per_start(m));
    }
    if reexec {
        for m in Method::CHEAPEST_FIRST {
            let name = format!("{ONE_SHOT_SELF} ({m})");
            let env = [
                ("_LIBCONTAINER_LOGLEVEL", "2".to_string()),
                ("NSBOOTSTRAP_PROTECT", m.name().to_string()),
            ];
            v.push(Candidate::new(&name, true, on_disk, &init, &env, false));
        }
    }
    for (label, dir, sealed) in variants {
        let floor = format!("{dir}/nsbootstrap-floor");
        let name = format!("{FLOOR} [{label}]");
        v.push(Candidate::new(
            &name,
            false,
            &floor,
            &work.floor_args,
            &[],
            false,
        ));
        let name = format!("{OURS} [{label}]");
        let path = sealed.exec_path().to_string_lossy().into_owned();
        v.push(Candidate::new(&name, true, &path, &init, &level, false));
    }
    if Path::new("/usr/sbin/runc").exists() {
        let env = [
            ("_LIBCONTAINER_LOGLEVEL", "2".to_string()),
            ("_LIBCONTAINER_INITTYPE", "standard".to_string()),
        ];
        v.push(Candidate::new(
            RUNC,
            false,
            "/usr/sbin/runc",
            &["init".into()],
            &env,
            true,
        ));
    }
    if let Some((tool, args)) = &work.util {
        if Path::new(tool).exists() {
            v.push(Candidate::new(UTIL, false, tool, args, &[], false));
        }
    }
    v
}

/// A xorshift generator: the order of the candidates in each round.
struct Order(u64);

impl Order {
    fn next(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

fn measure(work: &Work, cands: &[Candidate], runs: usize, order: &mut Order) -> Scenario {
    let mut series: Vec<Series> = cands
        .iter()
        .map(|c| Series {
            name: c.name.clone(),
            ours: c.ours,
            ..Series::default()
        })
        .collect();
    let bytes_nsb = work.plan.to_bytes(Dialect::Nsbootstrap1).expect("encode");
    let bytes_runc = work.plan.to_bytes(Dialect::Runc11).expect("encode");
    // A warm-up round: page cache, the sealed copy's pages, dentries.
    for c in cands {
        let bytes = if c.name == RUNC {
            &bytes_runc
        } else {
            &bytes_nsb
        };
        let _ = driver::once(c, bytes, TIMEOUT);
    }
    for _ in 0..runs {
        // A random permutation (Fisher-Yates) per round.
        let mut idx: Vec<usize> = (0..cands.len()).collect();
        for i in (1..idx.len()).rev() {
            idx.swap(i, order.next(i + 1));
        }
        for i in idx {
            let c = &cands[i];
            let bytes = if c.name == RUNC {
                &bytes_runc
            } else {
                &bytes_nsb
            };
            match driver::once(c, bytes, TIMEOUT) {
                Ok(s) => series[i].record(&s),
                Err(e) => series[i].failures.push(e),
            }
        }
    }
    for s in &mut series {
        s.sort();
    }
    Scenario {
        name: work.name.to_string(),
        series,
    }
}

/// Reaps whatever child is left (none should be) and returns how many there were.
fn reap_leftovers() -> usize {
    let mut n = 0;
    loop {
        // SAFETY: a null status pointer is allowed.
        let r = unsafe { libc::waitpid(-1, std::ptr::null_mut(), libc::WNOHANG) };
        if r <= 0 {
            return n;
        }
        n += 1;
    }
}

fn footprint_line(label: &str, f: Footprint) -> String {
    format!(
        "{label}: {} fds, {} KiB RSS, {} children",
        f.fds, f.rss_kib, f.children
    )
}

/// 1,000 bootstraps in a row, then 64 at once (ten times), of our executor; the runner's footprint before
/// and after each.
fn scale(ours: &Candidate, bytes: &[u8]) -> (Vec<Scenario>, Vec<String>, bool) {
    let mut notes = Vec::new();
    let mut ok = true;
    let _ = driver::once(ours, bytes, TIMEOUT);
    let before = driver::footprint();
    let mut seq = Series {
        name: format!("{OURS}, 1000 in a row"),
        ours: true,
        ..Series::default()
    };
    for _ in 0..1000 {
        match driver::once(ours, bytes, TIMEOUT) {
            Ok(s) => seq.record(&s),
            Err(e) => seq.failures.push(e),
        }
    }
    seq.sort();
    let after = driver::footprint();
    let leftover = reap_leftovers();
    notes.push(footprint_line("before 1000 in a row", before));
    notes.push(footprint_line("after 1000 in a row", after));
    ok &= seq.failures.is_empty() && leftover == 0 && after.fds == before.fds;
    ok &= after.children == before.children;
    let mut conc = Series {
        name: format!("{OURS}, 64 at once (x10)"),
        ours: true,
        ..Series::default()
    };
    let before64 = driver::footprint();
    let mut peak_children = 0;
    for _ in 0..10 {
        let mut running = Vec::new();
        for _ in 0..64 {
            match driver::spawn(ours, bytes, TIMEOUT) {
                Ok(r) => running.push(Some(r)),
                Err(e) => conc.failures.push(e),
            }
        }
        let deadline = Instant::now() + TIMEOUT;
        let mut done: Vec<Option<(f64, driver::Running)>> = Vec::new();
        while running.iter().any(Option::is_some) && Instant::now() < deadline {
            let mut pfds: Vec<libc::pollfd> = running
                .iter()
                .flatten()
                .map(|r| libc::pollfd {
                    fd: r.init_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                })
                .collect();
            // SAFETY: a valid array of pollfds of the given length.
            unsafe { libc::poll(pfds.as_mut_ptr(), pfds.len() as libc::nfds_t, 1000) };
            let ready: Vec<i32> = pfds
                .iter()
                .filter(|p| p.revents != 0)
                .map(|p| p.fd)
                .collect();
            for slot in running.iter_mut() {
                let Some(r) = slot else { continue };
                if !ready.contains(&r.init_fd()) {
                    continue;
                }
                match r.advance() {
                    Ok(true) => {
                        let ms = r.elapsed().as_secs_f64() * 1e3;
                        done.push(slot.take().map(|r| (ms, r)));
                    }
                    Ok(false) => {}
                    Err(e) => {
                        conc.failures.push(e);
                        *slot = None;
                    }
                }
            }
        }
        peak_children = peak_children.max(driver::footprint().children);
        for r in running.into_iter().flatten() {
            conc.failures.push("no report in time".into());
            r.end(Duration::ZERO);
        }
        for (ms, r) in done.into_iter().flatten() {
            conc.record(&r.end(Duration::from_secs_f64(ms / 1e3)));
        }
    }
    conc.sort();
    let after64 = driver::footprint();
    let leftover64 = reap_leftovers();
    notes.push(footprint_line("before 64 at once", before64));
    notes.push(format!(
        "peak children while 64 ran: {peak_children} (the 64 stage 0s, 1s and 2s)"
    ));
    notes.push(footprint_line("after 64 at once x10", after64));
    ok &= conc.failures.is_empty() && leftover64 == 0 && after64.fds == before64.fds;
    ok &= after64.children == before64.children && conc.ms.len() == 640 && seq.ms.len() == 1000;
    (
        vec![Scenario {
            name: "scale: new user+pid+uts+ipc+net+mnt, 65536-id maps".into(),
            series: vec![seq, conc],
        }],
        notes,
        ok,
    )
}

/// How an ELF executable is linked: `dynamic` (it names an interpreter), `static-pie` or `static`.
fn linking(path: &str) -> String {
    let Ok(b) = std::fs::read(path) else {
        return "unreadable".into();
    };
    if b.len() < 64 || &b[..4] != b"\x7fELF" || b[4] != 2 {
        return "not a 64-bit ELF file".into();
    }
    let u16_at = |o: usize| u16::from_le_bytes([b[o], b[o + 1]]) as usize;
    let kind = u16_at(16); // e_type: 2 EXEC, 3 DYN
    let phoff = u64::from_le_bytes(b[32..40].try_into().unwrap()) as usize;
    let (phentsize, phnum) = (u16_at(54), u16_at(56));
    let interp = (0..phnum).any(|i| {
        let o = phoff + i * phentsize;
        b.get(o..o + 4) == Some(&3u32.to_le_bytes()[..]) // PT_INTERP
    });
    match (interp, kind) {
        (true, _) => "dynamic".into(),
        (false, 3) => "static-pie".into(),
        (false, _) => "static".into(),
    }
}

fn machine() -> serde_json::Value {
    let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
    let cpu = read("/proc/cpuinfo")
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|l| l.trim_start_matches([' ', '\t', ':']).to_string())
        .unwrap_or_default();
    let runc = std::process::Command::new("/usr/sbin/runc")
        .arg("--version")
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .unwrap_or("")
                .to_string()
        })
        .unwrap_or_default();
    serde_json::json!({
        "kernel": read("/proc/sys/kernel/osrelease").trim(),
        "cpu": cpu,
        "cpus": std::thread::available_parallelism().map_or(0, |n| n.get()),
        "runc": runc,
    })
}

/// The plot of the main candidates (not the `[variant]` builds, which the table compares).
fn plot(results: &[Scenario]) -> String {
    let shown: Vec<Scenario> = results
        .iter()
        .filter(|s| !s.name.starts_with("scale"))
        .map(|s| Scenario {
            name: s.name.clone(),
            series: s
                .series
                .iter()
                .filter(|x| !x.name.contains(" ["))
                .cloned()
                .collect(),
        })
        .collect();
    stats::svg(&shown, "Bootstrap latency, spawn to PID report")
}

/// `--plot-from`: the scenarios of a JSON document this bench wrote.
fn load(path: &str) -> Vec<Scenario> {
    let text = std::fs::read_to_string(path).expect("read the JSON");
    let doc: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let mut out = Vec::new();
    for sc in doc["scenarios"].as_array().expect("scenarios") {
        let series = sc["series"]
            .as_array()
            .expect("series")
            .iter()
            .map(|s| Series {
                name: s["candidate"].as_str().unwrap_or("").to_string(),
                ours: s["ours"].as_bool().unwrap_or(false),
                ms: s["latencies_ms"]
                    .as_array()
                    .map(|v| v.iter().filter_map(|x| x.as_f64()).collect())
                    .unwrap_or_default(),
                ..Series::default()
            })
            .collect();
        out.push(Scenario {
            name: sc["scenario"].as_str().unwrap_or("").to_string(),
            series,
        });
    }
    out
}

/// The one-shot goals: runc init's median over each one-shot candidate's.
fn one_shot_goals(sc: &Scenario) -> String {
    let mut out = String::new();
    for m in Method::CHEAPEST_FIRST {
        for (kind, goal) in [(ONE_SHOT_RUNTIME, 1.8), (ONE_SHOT_SELF, 1.4)] {
            let name = format!("{kind} ({m})");
            if let Some(r) = sc.ratio(RUNC, &name) {
                out.push_str(&format!(
                    "{RUNC} / {name}: {r:.2}x (goal: at least {goal:.1}x)\n"
                ));
            }
        }
    }
    out
}

fn main() {
    let a = args();
    if let Some(json) = &a.from_json {
        let svg = a.svg.as_deref().expect("--plot-from needs --svg FILE");
        std::fs::write(svg, plot(&load(json))).expect("write SVG");
        println!("wrote {svg}");
        return;
    }
    // SAFETY: geteuid cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("SKIPPED: the bootstrap benchmark needs root (it creates namespaces)");
        std::process::exit(0);
    }
    driver::reserve_low_fds();
    driver::become_subreaper();
    let floor = env!("CARGO_BIN_EXE_nsbootstrap-floor");
    let bin_dir = Path::new(floor).parent().expect("the floor's directory");
    let sibling = |name: &str| {
        let path = bin_dir.join(name);
        if !path.is_file() {
            eprintln!(
                "bench: {} is missing: build the workspace's binaries first, with the same --target and \
                 RUSTFLAGS as this bench (cargo build --release --bins --workspace)",
                path.display()
            );
            std::process::exit(2);
        }
        path.to_string_lossy().into_owned()
    };
    let exe = &sibling("nsbootstrap-init");
    let cli = &sibling("nsbootstrap");
    // The runtime makes the sealed copy once and spawns it: each bootstrap finds itself protected.
    let sealed = SealedBinary::copy_of(Path::new(exe)).expect("sealed copy of nsbootstrap-init");
    let ours = sealed.exec_path().to_string_lossy().into_owned();
    let sealed_cli = SealedBinary::copy_of(Path::new(cli)).expect("sealed copy of nsbootstrap");
    let ours_cli = sealed_cli.exec_path().to_string_lossy().into_owned();
    let variants: Vec<(String, String, SealedBinary)> = a
        .variants
        .iter()
        .map(|(label, dir)| {
            // Builds from before nsbootstrap-init existed have only the CLI binary.
            let init = Path::new(dir).join("nsbootstrap-init");
            let bin = if init.exists() {
                init
            } else {
                Path::new(dir).join("nsbootstrap")
            };
            let sealed = SealedBinary::copy_of(&bin).expect("sealed copy of a variant");
            (label.clone(), dir.clone(), sealed)
        })
        .collect();
    let holder = Holder::new();
    let works = scenarios(&holder, floor);
    let mut order = Order(0x2545_F491_4F6C_DD1D);
    println!(
        "{} runs per candidate and scenario, interleaved in random order per round",
        a.runs
    );
    let mut builds = vec![
        (OURS.to_string(), linking(exe)),
        (OURS_CLI.to_string(), linking(cli)),
        (FLOOR.to_string(), linking(floor)),
    ];
    for (label, dir, _) in &variants {
        builds.push((format!("[{label}]"), linking(&format!("{dir}/nsbootstrap"))));
    }
    for (what, how) in &builds {
        println!("{what}: {how}");
    }
    let mut results = Vec::new();
    for w in &works {
        let mut cands = candidates(w, &ours, &ours_cli, exe, floor, a.reexec, &variants);
        if let Some(only) = &a.only {
            cands.retain(|c| only.split(',').any(|o| c.name.contains(o)));
        }
        let sc = measure(w, &cands, a.runs, &mut order);
        print!(
            "{}",
            stats::table(std::slice::from_ref(&sc), FLOOR, OURS, &[RUNC, UTIL])
        );
        print!("{}", one_shot_goals(&sc));
        results.push(sc);
    }
    let mut scale_ok = true;
    let mut notes = Vec::new();
    if a.scale {
        let w = &works[1];
        let c = Candidate::new(
            OURS,
            true,
            &ours,
            &["init".into(), "--dialect".into(), "nsbootstrap-1".into()],
            &[("_LIBCONTAINER_LOGLEVEL", "2".into())],
            false,
        );
        let bytes = w.plan.to_bytes(Dialect::Nsbootstrap1).expect("encode");
        let (sc, n, ok) = scale(&c, &bytes);
        print!("{}", stats::table(&sc, FLOOR, OURS, &[]));
        for line in &n {
            println!("{line}");
        }
        println!(
            "scale: {}",
            if ok {
                "all succeeded, no growth"
            } else {
                "FAILED (see above)"
            }
        );
        scale_ok = ok;
        notes = n;
        results.extend(sc);
    }
    drop(holder);
    let leftover = reap_leftovers();
    if leftover != 0 {
        println!("LEFT BEHIND: {leftover} child processes were still to reap at the end");
    }
    let meta = serde_json::json!({
        "runs": a.runs,
        "machine": machine(),
        "scale_notes": notes,
        "scale_ok": scale_ok,
        "leftover_children": leftover,
        "linking": builds.iter().map(|(w, h)| serde_json::json!({"binary": w, "linking": h})).collect::<Vec<_>>(),
        "command": std::env::args().collect::<Vec<_>>(),
    });
    if let Some(p) = &a.json {
        let doc = stats::json(&results, meta);
        std::fs::write(p, serde_json::to_string_pretty(&doc).unwrap() + "\n").expect("write JSON");
        println!("wrote {p}");
    }
    if let Some(p) = &a.svg {
        std::fs::write(p, plot(&results)).expect("write SVG");
        println!("wrote {p}");
    }
    let failed = results
        .iter()
        .flat_map(|s| &s.series)
        .any(|s| s.ours && !s.failures.is_empty());
    if failed || !scale_ok || leftover != 0 {
        std::process::exit(1);
    }
}
