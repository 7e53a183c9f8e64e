//! Stock runc 1.1.5 against the same runc built with nsbootstrap's nsexec (`nsexec/build-runc.sh`),
//! interleaved in one run on one bundle, and optionally the same runc rebuilt the same way with its own C
//! nsexec (`nsexec/build-runc.sh DIR --c-nsexec`, `--baseline DIR/runc`), which isolates the nsexec from
//! the rest of the build (Debian's binary is built with other flags and with seccomp):
//!
//! * `run`: `runc run` of a container whose process exits at once (`true`), from start to exit;
//! * `exec`: `runc exec` of `true` into a running container.
//!
//! Each round runs every (scenario, runc) pair once, the order of the runcs rotating from round to
//! round, so that drift of the machine touches both alike. As root:
//!
//! ```sh
//! nsexec/build-runc.sh target/runc-nsexec
//! nsexec/build-runc.sh target/runc-cnsexec --c-nsexec
//! cargo bench -p nsbootstrap-bench --bench runc -- --ours "$PWD/target/runc-nsexec/runc" --runs 200 \
//!     --baseline "$PWD/target/runc-cnsexec/runc" \
//!     --json "$PWD/docs/benchmarks/runc.json" | tee docs/benchmarks/runc.txt
//! ```

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const STOCK: &str = "/usr/sbin/runc";
const STATE: &str = "/run/nsbootstrap-runc-bench";

struct Args {
    ours: PathBuf,
    stock: PathBuf,
    baseline: Option<PathBuf>,
    runs: usize,
    json: Option<PathBuf>,
}

fn args() -> Args {
    let mut a = Args {
        ours: PathBuf::from("target/runc-nsexec/runc"),
        stock: PathBuf::from(STOCK),
        baseline: None,
        runs: 100,
        json: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(x) = it.next() {
        match x.as_str() {
            "--ours" => a.ours = it.next().expect("--ours PATH").into(),
            "--stock" => a.stock = it.next().expect("--stock PATH").into(),
            "--baseline" => a.baseline = Some(it.next().expect("--baseline PATH").into()),
            "--runs" => a.runs = it.next().and_then(|n| n.parse().ok()).expect("--runs N"),
            "--json" => a.json = Some(it.next().expect("--json FILE").into()),
            // cargo bench passes --bench.
            "--bench" => {}
            other => {
                panic!("unknown argument {other:?} (--ours PATH --stock PATH --runs N --json FILE)")
            }
        }
    }
    a
}

fn bundle(dir: &Path, args: &[&str]) {
    let rootfs = dir.join("rootfs");
    for d in ["bin", "proc", "dev", "sys", "tmp"] {
        std::fs::create_dir_all(rootfs.join(d)).unwrap();
    }
    std::fs::copy("/bin/busybox", rootfs.join("bin/busybox")).expect("busybox-static");
    for applet in ["sh", "true", "sleep"] {
        std::os::unix::fs::symlink("busybox", rootfs.join("bin").join(applet)).unwrap();
    }
    let st = Command::new(STOCK)
        .arg("spec")
        .current_dir(dir)
        .status()
        .unwrap();
    assert!(st.success());
    let file = dir.join("config.json");
    let mut c: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    c["process"]["terminal"] = false.into();
    c["process"]["args"] = serde_json::json!(args);
    std::fs::write(&file, serde_json::to_vec(&c).unwrap()).unwrap();
}

fn runc(program: &Path) -> Command {
    let mut c = Command::new(program);
    c.arg("--root")
        .arg(STATE)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    c
}

/// CPU time (user + system) of this process's reaped children so far, in clock ticks (`/proc/self/stat`
/// fields 16 and 17: runc reaps its own children, so each runc's figure includes runc init's stages and
/// the container's process). Ticks are coarse (10 ms): the bench reports the mean over all rounds.
fn children_cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = after.split(' ').collect();
    // after the command: field 3 is f[0]; cutime is field 16, cstime 17.
    f[16 - 3].parse::<u64>().unwrap() + f[17 - 3].parse::<u64>().unwrap()
}

/// Runs `cmd` to its end, returns its wall time; panics unless it exits 0.
fn timed(cmd: &mut Command) -> Duration {
    let t = Instant::now();
    let st = cmd.status().unwrap();
    let d = t.elapsed();
    assert!(st.success(), "{cmd:?}: {st}");
    d
}

fn quantile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn main() {
    let a = args();
    assert!(
        a.ours.exists(),
        "{}: build it with nsexec/build-runc.sh",
        a.ours.display()
    );
    let tmp = std::env::temp_dir().join(format!("nsx-runc-bench.{}", std::process::id()));
    let (quick, sleeper) = (tmp.join("quick"), tmp.join("sleeper"));
    bundle(&quick, &["true"]);
    bundle(&sleeper, &["sleep", "100000"]);
    let mut runcs = vec![
        ("stock".to_string(), a.stock.clone()),
        ("nsbootstrap".to_string(), a.ours.clone()),
    ];
    if let Some(b) = &a.baseline {
        runcs.push(("rebuilt-C".to_string(), b.clone()));
    }
    let n = runcs.len();
    // One running container per runc, each exec'd into by the runc that runs it.
    for (label, program) in &runcs {
        timed(
            runc(program)
                .args(["run", "-d", &format!("bench-sleeper-{label}")])
                .current_dir(&sleeper),
        );
    }
    // samples[scenario * n + candidate]
    let mut samples: Vec<Vec<f64>> = vec![Vec::new(); 2 * n];
    let mut cpu_ticks = vec![0u64; 2 * n];
    // Warm-up: page cache and the Go runtime's first start.
    for (_, program) in &runcs {
        timed(
            runc(program)
                .args(["run", "bench-warm"])
                .current_dir(&quick),
        );
    }
    for round in 0..a.runs {
        let order: Vec<usize> = (0..n).map(|k| (k + round) % n).collect();
        for &i in &order {
            let (label, program) = &runcs[i];
            let name = format!("bench-run-{label}-{round}");
            let c = children_cpu_ticks();
            samples[i].push(
                timed(runc(program).args(["run", &name]).current_dir(&quick)).as_secs_f64() * 1e3,
            );
            cpu_ticks[i] += children_cpu_ticks() - c;
        }
        for &i in &order {
            let (label, program) = &runcs[i];
            let name = format!("bench-sleeper-{label}");
            let c = children_cpu_ticks();
            samples[n + i]
                .push(timed(runc(program).args(["exec", &name, "true"])).as_secs_f64() * 1e3);
            cpu_ticks[n + i] += children_cpu_ticks() - c;
        }
    }
    for (label, program) in &runcs {
        let _ = runc(program)
            .args(["delete", "-f", &format!("bench-sleeper-{label}")])
            .status();
    }
    let _ = std::fs::remove_dir_all(&tmp);
    // What copying the runc binary into a sealed memfd would add to each start (the protection
    // nsbootstrap's own executor uses; runc 1.1 and the library both use a read-only bind mount as root).
    let mut copy = Vec::new();
    for _ in 0..a.runs.min(50) {
        let t = Instant::now();
        let c = nsbootstrap_protect::SealedBinary::copy_of(&a.stock).unwrap();
        copy.push(t.elapsed().as_secs_f64() * 1e3);
        drop(c);
    }
    copy.sort_by(|x, y| x.total_cmp(y));

    println!(
        "runc run of `true` and runc exec of `true`: {} interleaved rounds, ms",
        a.runs
    );
    println!(
        "{:<24} {:>8} {:>8} {:>8} {:>8} {:>8} {:>10}",
        "", "min", "p10", "median", "p90", "mean", "CPU mean"
    );
    let tick_ms = 1000.0 / 100.0; // USER_HZ is 100 on Linux
    let mut json = serde_json::Map::new();
    let mut medians = vec![0.0; 2 * n];
    for (k, s) in samples.iter_mut().enumerate() {
        let name = format!("{}, {}", if k < n { "run" } else { "exec" }, runcs[k % n].0);
        let mean = s.iter().sum::<f64>() / s.len() as f64;
        let raw = s.clone();
        s.sort_by(|x, y| x.total_cmp(y));
        medians[k] = quantile(s, 0.5);
        println!(
            "{:<24} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>10.2}",
            name,
            s[0],
            quantile(s, 0.1),
            quantile(s, 0.5),
            quantile(s, 0.9),
            mean,
            cpu_ticks[k] as f64 * tick_ms / s.len() as f64
        );
        json.insert(name, serde_json::json!(raw));
    }
    for (scenario, base) in [("run", 0), ("exec", n)] {
        for (i, (label, _)) in runcs.iter().enumerate().skip(1) {
            println!(
                "{scenario}: median {label} / stock = {:.3}",
                medians[base + i] / medians[base]
            );
        }
        if n == 3 {
            println!(
                "{scenario}: median nsbootstrap / rebuilt-C = {:.3}",
                medians[base + 1] / medians[base + 2]
            );
        }
    }
    println!(
        "sealed memfd copy of {} ({} bytes): median {:.2} ms",
        a.stock.display(),
        std::fs::metadata(&a.stock).map_or(0, |m| m.len()),
        quantile(&copy, 0.5)
    );
    json.insert(
        "memfd copy of the runc binary".into(),
        serde_json::json!(copy),
    );
    if let Some(file) = a.json {
        std::fs::write(
            file,
            serde_json::to_vec_pretty(&serde_json::Value::Object(json)).unwrap(),
        )
        .unwrap();
    }
}
