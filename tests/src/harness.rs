//! Playing the runtime against an implementation under test: spawn it, feed it, inspect it through /proc,
//! and make sure nothing of a run is left behind.

use nsbootstrap_codec::dialect::CgroupNs;
use nsbootstrap_codec::sync::CREATE_CGROUP_NS;
use nsbootstrap_codec::{BootstrapPlan, Dialect, NamespaceKind, PidReport};
use nsbootstrap_runtime::{Executor, SpawnSpec};
use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The implementation under test.
#[derive(Clone, Debug)]
pub struct Target {
    /// Its program (`/usr/sbin/runc`, a path to `nsbootstrap`, ...).
    pub program: PathBuf,
    /// Its arguments (`init`, ...).
    pub args: Vec<OsString>,
    /// The dialect it speaks.
    pub dialect: Dialect,
    /// More environment for every spawn, after (and over) the dialect's own ([`go_side_env`]).
    pub env: Vec<(OsString, OsString)>,
}

impl Target {
    /// The environment every spawn gets besides the pipes: the dialect's ([`go_side_env`]), then the
    /// target's own, which replaces a variable of the same name.
    pub fn environment(&self) -> Vec<(OsString, OsString)> {
        let mut out: Vec<(OsString, OsString)> = go_side_env(self.dialect)
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        for (k, v) in &self.env {
            out.retain(|(n, _)| n != k);
            out.push((k.clone(), v.clone()));
        }
        out
    }
}

/// The environment that runc's Go side of each generation expects after the bootstrap (spec section 9),
/// besides the init and log pipes: without it the final process of a `runc init` dies right after the
/// PID report. Executors without a Go side ignore it.
///
/// * every generation: `_LIBCONTAINER_INITTYPE=standard` (the Go init refuses to start without a type);
/// * up to v1.0.x (runc-rc93, runc-1.0): the log level as a logrus *name* (`debug`), which the Go init
///   parses with `logrus.ParseLevel` (a number makes it panic); from v1.1, a number (`5`);
/// * from v1.2.0 (runc-1.2): `_LIBCONTAINER_SYNCPIPE`, the Go side's own socket (the Go init exits 255
///   without it); the suite names the init pipe, on which the Go init then waits for its configuration.
pub fn go_side_env(d: Dialect) -> Vec<(&'static str, String)> {
    let level = match d {
        Dialect::RuncRc93 | Dialect::Runc10 => "debug",
        _ => "5",
    };
    let mut env = vec![
        ("_LIBCONTAINER_INITTYPE", "standard".to_string()),
        ("_LIBCONTAINER_LOGLEVEL", level.to_string()),
    ];
    if d == Dialect::Runc12 {
        env.push((
            "_LIBCONTAINER_SYNCPIPE",
            nsbootstrap_runtime::INIT_FD.to_string(),
        ));
    }
    env
}

/// What a scenario concluded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The implementation did what the spec requires.
    Pass,
    /// It did not; the text says what happened.
    Fail(String),
    /// The spec leaves a choice: what the implementation chose.
    Observed(String),
    /// The scenario cannot run here (the text says why); never counted as passed.
    Skip(String),
}

impl Verdict {
    /// `pass`, `fail`, `observed` or `skip`.
    pub fn kind(&self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail(_) => "fail",
            Verdict::Observed(_) => "observed",
            Verdict::Skip(_) => "skip",
        }
    }

    /// The explanation, if any.
    pub fn text(&self) -> &str {
        match self {
            Verdict::Pass => "",
            Verdict::Fail(t) | Verdict::Observed(t) | Verdict::Skip(t) => t,
        }
    }
}

/// A scenario's context: the target and the time limits.
#[derive(Clone, Debug)]
pub struct Ctx {
    /// The implementation.
    pub target: Target,
    /// The time limit of each wait; a hang is reported as a failure after it.
    pub timeout: Duration,
}

/// A bootstrap that reached its PID report and the end of stage 0.
#[derive(Debug)]
pub struct Started {
    /// The running executor.
    pub ex: Executor,
    /// The report.
    pub report: PidReport,
    /// When the report arrived.
    pub reported_at: Instant,
}

/// How long after the report a positive scenario's final process must still be alive at the latest: a
/// `runc init` whose Go side lacks its environment dies about 10 ms after the report (longer on a loaded
/// machine: a death later than this is not seen).
pub const SETTLE: Duration = Duration::from_millis(100);

/// The state letter of a process (`/proc/PID/stat`), `None` when it is gone.
pub fn state(pid: i32) -> Option<char> {
    // Read directly: proc_file's errors ask for the state themselves.
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    s.get(s.rfind(')')? + 2..)?.chars().next()
}

/// Checks that the final process `pid` is alive: neither gone nor a zombie. The error says which.
pub fn final_alive(pid: i32) -> Check<()> {
    match state(pid) {
        Some('Z' | 'X') => Err(format!(
            "the final process {pid} is dead (a zombie): it died after the PID report, so what was \
             inspected of it was not a live process (a runc init without its Go side's environment dies \
             so; see --env)"
        )),
        None => Err(format!(
            "the final process {pid} is gone: it died after the PID report"
        )),
        Some(_) => Ok(()),
    }
}

/// The outcome of a run that was expected to be refused.
#[derive(Debug)]
pub struct Refused {
    /// Stage 0's exit status (None: it was still running at the time limit).
    pub stage0: Option<std::process::ExitStatus>,
    /// Whether a PID report arrived anyway.
    pub reported: bool,
    /// The log lines.
    pub logs: Vec<String>,
}

/// `Err` of the harness: the scenario's failure text.
pub type Check<T> = Result<T, String>;

impl Ctx {
    /// The spawn description for this target, with extra environment.
    pub fn spec(&self, extra_env: &[(&str, &str)]) -> SpawnSpec {
        let mut s = SpawnSpec {
            program: self.target.program.clone(),
            args: self.target.args.clone(),
            dialect: self.target.dialect,
            // The level is in the environment, in the form the dialect's Go side reads.
            log_level: None,
            env: self.target.environment(),
            env_remove: Vec::new(),
            relay_logs: false,
            inherit_stdio: false,
            credentials: None,
        };
        for (k, v) in extra_env {
            s.env.push((k.into(), v.into()));
        }
        s
    }

    /// The target's dialect.
    pub fn dialect(&self) -> Dialect {
        self.target.dialect
    }

    /// Spawns, sends `bytes` in chunks of `chunk` bytes (0: one write), reads the report and waits for stage
    /// 0 to exit successfully. For dialects whose stage 2 waits for the runtime's 0x80 before it creates the
    /// cgroup namespace, the byte is sent after the report.
    pub fn start_bytes(
        &self,
        spec: &SpawnSpec,
        bytes: &[u8],
        chunk: usize,
        cgroup: bool,
    ) -> Check<Started> {
        let mut ex = Executor::spawn(spec).map_err(|e| e.to_string())?;
        let fail = |ex: &mut Executor, what: String| {
            ex.kill_and_reap();
            let logs = ex.finish_logs();
            format!(
                "{what}; last log: {}",
                logs.last().map_or("(none)", String::as_str)
            )
        };
        if let Err(e) = ex.read_ready(self.timeout) {
            return Err(fail(&mut ex, e.to_string()));
        }
        let sent = if chunk == 0 {
            ex.send(bytes)
        } else {
            ex.send_chunked(bytes, chunk, Duration::from_micros(200))
        };
        if let Err(e) = sent {
            return Err(fail(&mut ex, e.to_string()));
        }
        let report = match ex.read_report(self.timeout) {
            Ok(r) => r,
            Err(e) => return Err(fail(&mut ex, e.to_string())),
        };
        if cgroup && self.dialect().cgroup_ns() == CgroupNs::AfterRuntimeByte {
            if let Err(e) = ex.send_byte(CREATE_CGROUP_NS) {
                return Err(fail(&mut ex, e.to_string()));
            }
        }
        let reported_at = Instant::now();
        match ex.wait_stage0(self.timeout) {
            Ok(s) if s.success() => Ok(Started {
                ex,
                report,
                reported_at,
            }),
            Ok(s) => Err(fail(
                &mut ex,
                format!("stage 0 exited with {s} after the report"),
            )),
            Err(e) => Err(fail(&mut ex, format!("stage 0 after the report: {e}"))),
        }
    }

    /// [`Ctx::start_bytes`] for a plan, in one write.
    pub fn start(&self, plan: &BootstrapPlan) -> Check<Started> {
        let bytes = plan
            .to_bytes(self.dialect())
            .map_err(|e| format!("the scenario's plan does not encode: {e}"))?;
        let cgroup = plan.clone_flags.contains(NamespaceKind::Cgroup);
        self.start_bytes(&self.spec(&[]), &bytes, 0, cgroup)
    }

    /// Spawns, sends `bytes` (or nothing), and waits for stage 0 to end; collects what happened. With
    /// `end_stream`, the runtime shuts down its writing side after the bytes (the stream ends there).
    pub fn refuse(
        &self,
        spec: &SpawnSpec,
        bytes: Option<&[u8]>,
        end_stream: bool,
    ) -> Check<Refused> {
        let mut ex = Executor::spawn(spec).map_err(|e| e.to_string())?;
        let _ = ex.read_ready(self.timeout);
        if let Some(b) = bytes {
            let _ = ex.send(b);
        }
        if end_stream {
            let _ = ex.init_pipe().shutdown(std::net::Shutdown::Write);
        }
        // One time limit for the whole run: a hang is reported after `timeout`, not after two of them.
        let deadline = Instant::now() + self.timeout;
        let reported = ex.read_report(self.timeout).is_ok();
        let stage0 = ex
            .wait_stage0(deadline.saturating_duration_since(Instant::now()))
            .ok();
        ex.kill_and_reap();
        let logs = ex.finish_logs();
        Ok(Refused {
            stage0,
            reported,
            logs,
        })
    }

    /// Expects a refusal: stage 0 exits non-zero in time, an error on the log pipe, and no report (a report
    /// followed by a failure is noted).
    pub fn expect_refusal(&self, spec: &SpawnSpec, bytes: Option<&[u8]>) -> Verdict {
        self.expect_refusal_of(spec, bytes, false)
    }

    /// [`Ctx::expect_refusal`], optionally ending the stream after the bytes.
    pub fn expect_refusal_of(
        &self,
        spec: &SpawnSpec,
        bytes: Option<&[u8]>,
        end_stream: bool,
    ) -> Verdict {
        let r = match self.refuse(spec, bytes, end_stream) {
            Ok(r) => r,
            Err(e) => return Verdict::Fail(e),
        };
        let verdict = match r.stage0 {
            None => Verdict::Fail(format!(
                "stage 0 still running after {:?} (a hang)",
                self.timeout
            )),
            Some(s) if s.success() => {
                Verdict::Fail("stage 0 exited 0: the input was accepted".into())
            }
            Some(_) if r.reported => {
                Verdict::Fail("a PID report although the input is invalid".into())
            }
            Some(_) if !r.logs.iter().any(|l| is_error_line(l)) => {
                Verdict::Fail("no error line on the log pipe".into())
            }
            Some(_) => Verdict::Pass,
        };
        match (verdict, nothing_left()) {
            (Verdict::Pass, Err(e)) => Verdict::Fail(e),
            (v, _) => v,
        }
    }
}

/// Whether a log line is a JSON line at level error, fatal or panic.
pub fn is_error_line(line: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(line)
        .is_ok_and(|v| matches!(v["level"].as_str(), Some("error" | "fatal" | "panic")))
}

impl Started {
    /// Checks the final process is still alive (after at least [`SETTLE`] since the report, so that a
    /// final process that dies right after it is caught), then kills and reaps everything of this run and
    /// checks nothing is left. A final process found dead fails the scenario: what was inspected was a
    /// zombie's or a vanished process's /proc.
    pub fn finish(mut self) -> Check<()> {
        let alive = self.alive();
        self.ex.kill_and_reap();
        drop(self.ex);
        alive?;
        nothing_left()
    }

    /// Waits until [`SETTLE`] has passed since the report, then checks the final process is alive.
    pub fn alive(&self) -> Check<()> {
        let settled = self.reported_at + SETTLE;
        if let Some(wait) = settled.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        final_alive(self.pid())
    }

    /// Kills and reaps everything of this run without checking the final process (a scenario that
    /// killed it itself), and checks nothing is left.
    pub fn finish_killed(self) -> Check<()> {
        drop(self.ex);
        nothing_left()
    }

    /// The final process's PID.
    pub fn pid(&self) -> i32 {
        self.report.stage2
    }
}

/// An inspection's error: when the process is dead, that is the news, not the missing file.
pub fn inspect_error(pid: &str, what: String) -> String {
    match pid.parse::<i32>().map(final_alive) {
        Ok(Err(dead)) => format!("{dead} ({what})"),
        _ => what,
    }
}

/// Reads /proc/PID/FILE.
pub fn proc_file(pid: i32, file: &str) -> Check<String> {
    std::fs::read_to_string(format!("/proc/{pid}/{file}"))
        .map_err(|e| inspect_error(&pid.to_string(), format!("/proc/{pid}/{file}: {e}")))
}

/// The namespace link of `pid` for `kind` (`self` for this process).
pub fn ns_link(pid: &str, kind: &str) -> Check<String> {
    std::fs::read_link(format!("/proc/{pid}/ns/{kind}"))
        .map(|p| p.display().to_string())
        .map_err(|e| inspect_error(pid, format!("/proc/{pid}/ns/{kind}: {e}")))
}

/// A field of /proc/PID/status.
pub fn status_field(pid: i32, key: &str) -> Check<String> {
    Ok(proc_file(pid, "status")?
        .lines()
        .find_map(|l| l.strip_prefix(key).map(|v| v.trim().to_string()))
        .unwrap_or_default())
}

/// Fields of /proc/PID/stat after the command name (index 0 is the state).
pub fn stat_fields(pid: i32) -> Check<Vec<String>> {
    let s = proc_file(pid, "stat")?;
    let after = s.rfind(')').map(|i| &s[i + 2..]).unwrap_or("");
    Ok(after.split_whitespace().map(String::from).collect())
}

/// The rows of an id map file.
pub fn map_rows(text: &str) -> Vec<Vec<u64>> {
    text.lines()
        .map(|l| {
            l.split_whitespace()
                .filter_map(|w| w.parse().ok())
                .collect()
        })
        .collect()
}

/// Children of this process that are still there (zombies included).
pub fn children() -> BTreeSet<i32> {
    let me = std::process::id().to_string();
    let mut out = BTreeSet::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return out;
    };
    for e in dir.flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        if let Ok(s) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
            if s.lines()
                .any(|l| l.strip_prefix("PPid:").map(str::trim) == Some(me.as_str()))
            {
                out.insert(pid);
            }
        }
    }
    out
}

/// Checks that no child of this process is left (the suite runs scenarios one at a time and keeps its
/// own helpers out of its children while it checks).
pub fn nothing_left() -> Check<()> {
    let deadline = Instant::now() + Duration::from_millis(500);
    loop {
        let left = children();
        if left.is_empty() {
            return Ok(());
        }
        if Instant::now() > deadline {
            let names: Vec<String> = left
                .iter()
                .map(|p| format!("{p} {}", proc_file(*p, "comm").unwrap_or_default().trim()))
                .collect();
            return Err(format!("left behind: {}", names.join(", ")));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}
