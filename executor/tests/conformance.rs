//! The conformance suite against real implementations: `nsbootstrap init` in every dialect (every
//! required scenario must pass), and Debian's `runc init` 1.1.5 (its results must match the checked-in
//! expectation file, so that every departure of runc from the spec is a documented finding).

use nsbootstrap_conformance::testing::{self, Needs, Test};

use nsbootstrap_codec::Dialect;
use nsbootstrap_conformance::harness::Target;
use nsbootstrap_conformance::runner;
use nsbootstrap_protect::SealedBinary;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The suite counts every child of this process as left behind, so the tests of this file run one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn root_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn nsbootstrap_init_passes_every_scenario_in_every_dialect() {
    let _g = serial();
    let sealed = SealedBinary::copy_of(Path::new(env!("CARGO_BIN_EXE_nsbootstrap-init")))
        .expect("sealed copy");
    let mut failures = Vec::new();
    for d in Dialect::ALL {
        let target = Target {
            // One sealed copy for every spawn, as a runtime keeps it (bootstrap.rs tests the copy an
            // executor makes of itself when started from disk).
            program: sealed.exec_path(),
            args: vec!["init".into(), "--dialect".into(), d.name().into()],
            dialect: d,
            env: Vec::new(),
        };
        let results = runner::suite(&target, None, "", Duration::from_secs(5));
        assert!(results.len() >= 60, "{d}: only {} scenarios", results.len());
        for r in &results {
            if r.result == "fail" || (r.required && r.result != "pass") {
                failures.push(format!("{d} {}: {} {}", r.name, r.result, r.detail));
            }
        }
        let detected = runner::detect(&target, Duration::from_secs(5)).map(|x| x.0);
        assert_eq!(
            detected,
            Ok(d),
            "--dialect auto on nsbootstrap init --dialect {d}"
        );
        // The hostile inputs reach the stages only when decoded leniently (strict refuses a repeated
        // namespace type and clone bits outside namespaces): every one must pass there too.
        let mut lenient = target.clone();
        lenient.args.push("--lenient".into());
        let results = runner::suite(&lenient, None, "hostile/", Duration::from_secs(5));
        assert!(
            results.len() >= 4,
            "{d}: {} hostile scenarios",
            results.len()
        );
        for r in &results {
            if r.result != "pass" {
                failures.push(format!(
                    "{d} --lenient {}: {} {}",
                    r.name, r.result, r.detail
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn runc_init_matches_its_expectation_file() {
    let _g = serial();
    let runc = Path::new("/usr/sbin/runc");
    assert!(
        runc.exists(),
        "runc is not installed: install Debian's runc package (.ci/run does)"
    );
    let target = Target {
        program: runc.into(),
        args: vec!["init".into()],
        dialect: Dialect::Runc11,
        // No environment of our own: the suite knows what runc 1.1's Go side needs.
        env: Vec::new(),
    };
    let detected = runner::detect(&target, Duration::from_secs(5)).map(|x| x.0);
    assert_eq!(
        detected,
        Ok(Dialect::Runc11),
        "runc 1.1.5 should be detected as runc-1.1"
    );
    let results = runner::suite(&target, None, "", Duration::from_secs(5));
    let file = root_dir().join("tests/expect/runc-1.1.5.json");
    let expected: std::collections::BTreeMap<String, String> =
        serde_json::from_slice(&std::fs::read(&file).expect("the expectation file")).expect("JSON");
    let diffs = runner::compare(&results, &expected);
    let table = runner::render(
        "human",
        "runc init",
        Dialect::Runc11,
        &target.environment(),
        &results,
    );
    assert!(
        diffs.is_empty(),
        "runc's results differ from {}:\n{}\n\n{table}",
        file.display(),
        diffs.join("\n")
    );
}

fn runc() -> PathBuf {
    let runc = PathBuf::from("/usr/sbin/runc");
    assert!(
        runc.exists(),
        "runc is not installed: install Debian's runc package (.ci/run does)"
    );
    runc
}

/// An executor that takes 0.4 s to start (`sh -c 'sleep 0.4; exec ...'`) is still detected by its ready
/// byte, and its scenarios pass: runc 1.1's `runc init` and `nsbootstrap-init` in runc-1.1.
fn a_slow_starting_executor_is_detected_and_passes() {
    let _g = serial();
    let init = env!("CARGO_BIN_EXE_nsbootstrap-init");
    for (program, args) in [
        (runc(), vec!["init"]),
        (PathBuf::from(init), vec!["init", "--dialect", "runc-1.1"]),
    ] {
        let mut argv: Vec<std::ffi::OsString> = vec![
            "-c".into(),
            "sleep 0.4; exec \"$0\" \"$@\"".into(),
            program.clone().into(),
        ];
        argv.extend(args.iter().map(Into::into));
        let mut target = Target {
            program: "/bin/sh".into(),
            args: argv,
            dialect: Dialect::Nsbootstrap1,
            env: Vec::new(),
        };
        let started = std::time::Instant::now();
        let detected = runner::detect(&target, Duration::from_secs(5));
        assert!(started.elapsed() >= Duration::from_millis(400));
        let (d, why) = detected.unwrap_or_else(|e| panic!("{}: {e}", program.display()));
        assert_eq!(d, Dialect::Runc11, "{}: {why}", program.display());
        target.dialect = d;
        let results = runner::suite(&target, None, "positive/create-", Duration::from_secs(5));
        assert!(results.len() >= 7, "{} scenarios", results.len());
        for r in &results {
            assert_eq!(
                r.result,
                "pass",
                "{}: {} {}",
                program.display(),
                r.name,
                r.detail
            );
        }
    }
}

/// runc 1.1's final process with a Go side that cannot start (a `_LIBCONTAINER_FIFOFD` that is not a
/// number, which its Go init refuses before anything else) dies right after the report: every positive scenario fails and says so, `positive/final-process-fds` included (a zombie's
/// fd list is empty).
fn a_final_process_that_dies_after_the_report_fails_the_positive_scenarios() {
    let _g = serial();
    let target = Target {
        program: runc(),
        args: vec!["init".into()],
        dialect: Dialect::Runc11,
        env: vec![("_LIBCONTAINER_FIFOFD".into(), "not-a-number".into())],
    };
    let results = runner::suite(&target, None, "positive/", Duration::from_secs(5));
    assert!(results.len() >= 20, "{} scenarios", results.len());
    let mut failed = 0;
    for r in &results {
        // A Go side that dies later than the suite's settling time (a loaded machine) looks alive: such
        // a scenario may pass. Nothing else may.
        if r.result == "pass" {
            continue;
        }
        failed += 1;
        assert!(
            r.result == "fail" || (!r.required && r.result == "observed"),
            "{}: {} {}",
            r.name,
            r.result,
            r.detail
        );
        // runc fails the messages in pieces before the report for another reason (R7).
        if !r.name.starts_with("positive/message-in-") {
            assert!(
                r.detail.contains("final process"),
                "{}: {}",
                r.name,
                r.detail
            );
        }
    }
    assert!(
        failed * 4 >= results.len() * 3,
        "only {failed} of {} positive scenarios saw the final process die",
        results.len()
    );
}

fn main() {
    testing::run_in(
        env!("CARGO_MANIFEST_DIR"),
        &[
            Test::new(
                "nsbootstrap_init_passes_every_scenario_in_every_dialect",
                nsbootstrap_init_passes_every_scenario_in_every_dialect,
            )
            // The vectors are built into the suite: no checkout needed.
            .needs(Needs::Root),
            Test::new(
                "runc_init_matches_its_expectation_file",
                runc_init_matches_its_expectation_file,
            )
            .needs(Needs::Root)
            .needs(Needs::Repository),
            Test::new(
                "a_slow_starting_executor_is_detected_and_passes",
                a_slow_starting_executor_is_detected_and_passes,
            )
            .needs(Needs::Root),
            Test::new(
                "a_final_process_that_dies_after_the_report_fails_the_positive_scenarios",
                a_final_process_that_dies_after_the_report_fails_the_positive_scenarios,
            )
            .needs(Needs::Root),
        ],
    )
}
