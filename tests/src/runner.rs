//! Running scenarios, detecting a dialect, and writing the results (human table, JSON, JUnit, TAP).

use crate::harness::{Ctx, Target, Verdict};
use crate::scenarios::{self, Scenario};
use nsbootstrap_codec::{BootstrapPlan, Dialect, NamespaceKind, PidReport};
use nsbootstrap_runtime::Executor;
use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

/// One scenario's result.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct Outcome {
    /// The scenario.
    pub name: String,
    /// The spec section it checks.
    pub section: String,
    /// Whether the spec requires the behaviour.
    pub required: bool,
    /// pass, fail, observed or skip.
    pub result: String,
    /// What happened, when not a plain pass.
    pub detail: String,
    /// How long it took, in milliseconds.
    pub millis: u64,
}

/// Runs the scenarios whose names contain `only` (all when empty), one at a time.
pub fn run(ctx: &Ctx, scenarios: &[Scenario], only: &str) -> Vec<Outcome> {
    let mut out = Vec::new();
    for s in scenarios.iter().filter(|s| s.name.contains(only)) {
        let start = Instant::now();
        let v = (s.run)(ctx);
        let v = match v {
            Verdict::Fail(e) if !s.required => Verdict::Observed(e),
            v => v,
        };
        out.push(Outcome {
            name: s.name.clone(),
            section: s.section.to_string(),
            required: s.required,
            result: v.kind().to_string(),
            detail: v.text().to_string(),
            millis: start.elapsed().as_millis() as u64,
        });
    }
    out
}

/// Whether every required scenario passed.
pub fn all_required_passed(results: &[Outcome]) -> bool {
    results
        .iter()
        .all(|r| !r.required || (r.result != "fail" && r.result != "skip"))
}

/// Finds the dialect an implementation speaks from what it does: whether it writes a ready byte, the
/// shape of its PID report, and which of attribute 27290's meanings and the console attribute it takes.
///
/// Each probe sends its message at once (a runtime need not wait for the ready byte: spec section 20,
/// R21) and then waits up to `timeout` for the first byte back, so that an executor that starts slowly is
/// not taken for one without a ready byte: a 0x00 first byte (the ready byte, or a report that starts
/// with it) proves a dialect that has one.
pub fn detect(target: &Target, timeout: Duration) -> Result<(Dialect, String), String> {
    let probe = |d: Dialect, plan: &BootstrapPlan| -> Result<(bool, Option<String>), String> {
        let mut t = target.clone();
        t.dialect = d;
        let ctx = Ctx { target: t, timeout };
        // runc 1.1 reads _LIBCONTAINER_MOUNT_FDS whenever attribute 27290 is present (and crashes when
        // it is unset).
        let mut ex = Executor::spawn(&ctx.spec(&[("_LIBCONTAINER_MOUNT_FDS", "[]")]))
            .map_err(|e| e.to_string())?;
        let bytes = plan.to_bytes(d).map_err(|e| e.to_string())?;
        let _ = ex.send(&bytes);
        let first = first_byte(&ex, timeout);
        let ready = first == Some(0);
        let line = match first {
            None => None,
            Some(b) => ex.read_report_line(timeout).ok().map(|rest| {
                if ready {
                    rest
                } else {
                    format!("{}{rest}", char::from(b))
                }
            }),
        };
        // Remember the PIDs whatever the shape, so that every stage is killed and reaped.
        ex.report = line.as_deref().and_then(PidReport::parse_any);
        ex.kill_and_reap();
        Ok((ready, line))
    };
    let plain = BootstrapPlan::builder().create(NamespaceKind::Uts).build();
    let (ready, _) = probe(Dialect::Runc11, &plain)?;
    if ready {
        let mounts = BootstrapPlan::builder().create(NamespaceKind::Uts).build();
        let mut with_27290 = mounts.clone();
        with_27290.mount_sources = Some(Vec::new());
        let (_, report) = probe(Dialect::Runc11, &with_27290)?;
        return Ok(match report {
            Some(_) => (
                Dialect::Runc11,
                "ready byte; takes attribute 27290 as mount sources".into(),
            ),
            None => (
                Dialect::Runc10,
                "ready byte; refuses attribute 27290".into(),
            ),
        });
    }
    let (_, report) = probe(Dialect::Runc12, &plain)?;
    match report {
        Some(line) if line.contains("pid_first") => Ok((
            Dialect::RuncRc93,
            "no ready byte; report {\"pid\", \"pid_first\"}".into(),
        )),
        Some(_) => {
            let console = BootstrapPlan::builder().console("/dev/null").build();
            let (_, with_console) = probe(Dialect::Nsbootstrap1, &console)?;
            Ok(match with_console {
                Some(_) => (
                    Dialect::Nsbootstrap1,
                    "no ready byte; takes the console attribute".into(),
                ),
                None => (
                    Dialect::Runc12,
                    "no ready byte; stage report; refuses the console attribute".into(),
                ),
            })
        }
        None => Err("no PID report for a minimal message in any dialect".into()),
    }
}

/// The first byte the executor writes on the init pipe, waited for up to `timeout`; `None` when the pipe
/// closes or nothing comes.
fn first_byte(ex: &Executor, timeout: Duration) -> Option<u8> {
    use std::io::Read;
    let mut pipe = ex.init_pipe();
    pipe.set_read_timeout(Some(timeout.max(Duration::from_millis(1))))
        .ok()?;
    let mut b = [0u8; 1];
    match pipe.read(&mut b) {
        Ok(1) => Some(b[0]),
        _ => None,
    }
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Writes the results in `format`: human, json, junit or tap. `env` is the environment every spawn got
/// besides the pipes ([`Target::environment`]), shown with the results.
pub fn render(
    format: &str,
    target: &str,
    dialect: Dialect,
    env: &[(std::ffi::OsString, std::ffi::OsString)],
    results: &[Outcome],
) -> String {
    let mut s = String::new();
    let env_text: Vec<String> = env
        .iter()
        .map(|(k, v)| format!("{}={}", k.to_string_lossy(), v.to_string_lossy()))
        .collect();
    let count = |k: &str| results.iter().filter(|r| r.result == k).count();
    let (pass, fail, obs, skip) = (
        count("pass"),
        count("fail"),
        count("observed"),
        count("skip"),
    );
    match format {
        "json" => {
            let doc = serde_json::json!({
                "target": target, "dialect": dialect.name(), "environment": env_text, "results": results,
                "summary": {"passed": pass, "failed": fail, "observed": obs, "skipped": skip},
            });
            s = serde_json::to_string_pretty(&doc).unwrap_or_default();
            s.push('\n');
        }
        "junit" => {
            let _ = writeln!(s, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
            let _ = writeln!(
                s,
                "<!-- environment: {} -->",
                xml(&env_text.join(" ")).replace("--", "- -")
            );
            let _ = writeln!(
                s,
                "<testsuite name=\"nsbootstrap-conformance {}\" tests=\"{}\" failures=\"{fail}\" skipped=\"{}\">",
                xml(dialect.name()),
                results.len(),
                skip + obs
            );
            for r in results {
                let _ = write!(
                    s,
                    "  <testcase classname=\"{}\" name=\"{} (spec {})\" time=\"{:.3}\"",
                    xml(target),
                    xml(&r.name),
                    xml(&r.section),
                    r.millis as f64 / 1000.0
                );
                match r.result.as_str() {
                    "fail" => {
                        let _ =
                            writeln!(s, "><failure message=\"{}\"/></testcase>", xml(&r.detail));
                    }
                    "skip" | "observed" => {
                        let _ = writeln!(
                            s,
                            "><skipped message=\"{}: {}\"/></testcase>",
                            r.result,
                            xml(&r.detail)
                        );
                    }
                    _ => {
                        let _ = writeln!(s, "/>");
                    }
                }
            }
            let _ = writeln!(s, "</testsuite>");
        }
        "tap" => {
            let _ = writeln!(s, "TAP version 13\n1..{}", results.len());
            let _ = writeln!(s, "# environment: {}", env_text.join(" "));
            for (i, r) in results.iter().enumerate() {
                let ok = if r.result == "fail" { "not ok" } else { "ok" };
                let directive = match r.result.as_str() {
                    "skip" => format!(" # SKIP {}", r.detail),
                    "observed" => format!(" # TODO observed: {}", r.detail),
                    _ => String::new(),
                };
                let _ = writeln!(
                    s,
                    "{ok} {} - {} (spec {}){directive}",
                    i + 1,
                    r.name,
                    r.section
                );
                if r.result == "fail" {
                    let _ = writeln!(s, "  ---\n  message: {:?}\n  ...", r.detail);
                }
            }
        }
        _ => {
            let _ = writeln!(s, "conformance of {target} (dialect {dialect})");
            let _ = writeln!(s, "environment: {}\n", env_text.join(" "));
            let _ = writeln!(
                s,
                "{:<56} {:>7} {:<8} {:>7}  why",
                "scenario", "spec", "result", "ms"
            );
            for r in results {
                let req = if r.required { "" } else { " (choice)" };
                let _ = writeln!(
                    s,
                    "{:<56} {:>7} {:<8} {:>7}  {}{req}",
                    r.name, r.section, r.result, r.millis, r.detail
                );
            }
            let _ = writeln!(s, "\n{pass} passed, {fail} failed, {skip} skipped ({obs} observed where the spec leaves a choice)");
        }
    }
    s
}

/// The checked-in expectation of an implementation: scenario name to result kind.
pub fn expectation(results: &[Outcome]) -> std::collections::BTreeMap<String, String> {
    results
        .iter()
        .map(|r| (r.name.clone(), r.result.clone()))
        .collect()
}

/// Differences between results and an expectation file's content.
pub fn compare(
    results: &[Outcome],
    expected: &std::collections::BTreeMap<String, String>,
) -> Vec<String> {
    let got = expectation(results);
    let mut diffs = Vec::new();
    for (name, want) in expected {
        match got.get(name) {
            Some(g) if g == want => {}
            Some(g) => diffs.push(format!("{name}: expected {want}, got {g}")),
            None => diffs.push(format!("{name}: expected {want}, not run")),
        }
    }
    for name in got.keys().filter(|n| !expected.contains_key(*n)) {
        diffs.push(format!("{name}: not in the expectation file"));
    }
    diffs
}

/// Runs the whole suite for one target and returns the results; the vector scenarios come from the
/// embedded vectors, or from `vectors` (a `spec/vectors` folder) when given.
pub fn suite(
    target: &Target,
    vectors: Option<&Path>,
    only: &str,
    timeout: Duration,
) -> Vec<Outcome> {
    let ctx = Ctx {
        target: target.clone(),
        timeout,
    };
    let list = scenarios::all(target.dialect, vectors);
    run(&ctx, &list, only)
}
