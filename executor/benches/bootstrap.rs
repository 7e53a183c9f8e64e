//! Bootstrap latency: from spawning an executor until the runtime holds the PID report, for `nsbootstrap
//! init` and for `runc init` (Debian's runc, when installed), interleaved run by run.
//!
//! `cargo bench -p nsbootstrap-executor --bench bootstrap -- [RUNS]` (default 200 runs per candidate and
//! scenario; needs root). Prints median, p90 and p99 in milliseconds and the ratio to runc.

use nsbootstrap_codec::{BootstrapPlan, Dialect, NamespaceKind};
use nsbootstrap_executor::protect::SealedBinary;
use nsbootstrap_executor::runtime::{Executor, SpawnSpec};
use std::path::Path;
use std::time::{Duration, Instant};

struct Candidate {
    name: &'static str,
    spec: SpawnSpec,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn one(c: &Candidate, bytes: &[u8]) -> Result<Duration, String> {
    let start = Instant::now();
    let mut ex = Executor::spawn(&c.spec).map_err(|e| e.to_string())?;
    ex.read_ready(Duration::from_secs(10))
        .map_err(|e| e.to_string())?;
    ex.send(bytes).map_err(|e| e.to_string())?;
    ex.read_report(Duration::from_secs(10))
        .map_err(|e| format!("{e}: {:?}", ex.logs()))?;
    let took = start.elapsed();
    ex.kill_and_reap();
    Ok(took)
}

fn main() {
    // SAFETY: geteuid cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("SKIPPED: the bootstrap benchmark needs root");
        return;
    }
    let runs: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(200);
    let exe = Path::new(env!("CARGO_BIN_EXE_nsbootstrap"));
    let sealed = SealedBinary::copy_of(exe).expect("sealed copy");
    let d = Dialect::Runc11;
    let mut ours = SpawnSpec::new(sealed.exec_path(), &["init", "--dialect", d.name()], d);
    ours.log_level = Some(2);
    let mut candidates = vec![Candidate {
        name: "nsbootstrap init",
        spec: ours,
    }];
    if Path::new("/usr/sbin/runc").exists() {
        let mut runc = SpawnSpec::new("/usr/sbin/runc", &["init"], d);
        runc.log_level = Some(2);
        runc.env
            .push(("_LIBCONTAINER_INITTYPE".into(), "standard".into()));
        candidates.push(Candidate {
            name: "runc init (Debian)",
            spec: runc,
        });
    } else {
        eprintln!("runc not installed: measuring nsbootstrap alone");
    }
    let scenarios: Vec<(&str, BootstrapPlan)> = vec![
        (
            "no namespaces",
            BootstrapPlan::builder().rootless_euid(false).build(),
        ),
        (
            "user+pid+uts+ipc+net+mnt, 65536-id map",
            BootstrapPlan::builder()
                .create(NamespaceKind::User)
                .create(NamespaceKind::Pid)
                .create(NamespaceKind::Uts)
                .create(NamespaceKind::Ipc)
                .create(NamespaceKind::Net)
                .create(NamespaceKind::Mnt)
                .map_user(0, 100000, 65536)
                .map_group(0, 100000, 65536)
                .rootless_euid(false)
                .build(),
        ),
    ];
    println!("{runs} runs per candidate, interleaved; milliseconds from spawn to PID report");
    for (name, plan) in scenarios {
        let bytes = plan.to_bytes(d).unwrap();
        let mut times: Vec<Vec<f64>> = vec![Vec::new(); candidates.len()];
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        for _ in 0..runs {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let first = (seed % candidates.len() as u64) as usize;
            for k in 0..candidates.len() {
                let i = (first + k) % candidates.len();
                match one(&candidates[i], &bytes) {
                    Ok(t) => times[i].push(t.as_secs_f64() * 1e3),
                    Err(e) => eprintln!("{}: {e}", candidates[i].name),
                }
            }
        }
        println!("\n{name}");
        println!(
            "{:<22} {:>8} {:>8} {:>8}",
            "candidate", "median", "p90", "p99"
        );
        let mut medians = Vec::new();
        for (c, t) in candidates.iter().zip(times.iter_mut()) {
            t.sort_by(|a, b| a.total_cmp(b));
            if t.is_empty() {
                println!("{:<22} no successful run", c.name);
                continue;
            }
            let m = percentile(t, 0.5);
            medians.push(m);
            println!(
                "{:<22} {:>8.3} {:>8.3} {:>8.3}",
                c.name,
                m,
                percentile(t, 0.9),
                percentile(t, 0.99)
            );
        }
        if medians.len() == 2 {
            println!(
                "runc / nsbootstrap median ratio: {:.2}x",
                medians[1] / medians[0]
            );
        }
    }
}
