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
    /// More environment for every spawn (runc needs `_LIBCONTAINER_INITTYPE`).
    pub env: Vec<(OsString, OsString)>,
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
            log_level: Some(5),
            env: self.target.env.clone(),
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
        match ex.wait_stage0(self.timeout) {
            Ok(s) if s.success() => Ok(Started { ex, report }),
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
        let reported = ex.read_report(self.timeout).is_ok();
        let stage0 = ex.wait_stage0(self.timeout).ok();
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
    /// Kills and reaps everything of this run and checks nothing is left.
    pub fn finish(mut self) -> Check<()> {
        self.ex.kill_and_reap();
        drop(self.ex);
        nothing_left()
    }

    /// The final process's PID.
    pub fn pid(&self) -> i32 {
        self.report.stage2
    }
}

/// Reads /proc/PID/FILE.
pub fn proc_file(pid: i32, file: &str) -> Check<String> {
    std::fs::read_to_string(format!("/proc/{pid}/{file}"))
        .map_err(|e| format!("/proc/{pid}/{file}: {e}"))
}

/// The namespace link of `pid` for `kind` (`self` for this process).
pub fn ns_link(pid: &str, kind: &str) -> Check<String> {
    std::fs::read_link(format!("/proc/{pid}/ns/{kind}"))
        .map(|p| p.display().to_string())
        .map_err(|e| format!("/proc/{pid}/ns/{kind}: {e}"))
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
