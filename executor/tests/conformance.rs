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

fn vectors() -> PathBuf {
    root_dir().join("spec/vectors")
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
        let results = runner::suite(&target, Some(&vectors()), "", Duration::from_secs(5));
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
        env: vec![("_LIBCONTAINER_INITTYPE".into(), "standard".into())],
    };
    let detected = runner::detect(&target, Duration::from_secs(5)).map(|x| x.0);
    assert_eq!(
        detected,
        Ok(Dialect::Runc11),
        "runc 1.1.5 should be detected as runc-1.1"
    );
    let results = runner::suite(&target, Some(&vectors()), "", Duration::from_secs(5));
    let file = root_dir().join("tests/expect/runc-1.1.5.json");
    let expected: std::collections::BTreeMap<String, String> =
        serde_json::from_slice(&std::fs::read(&file).expect("the expectation file")).expect("JSON");
    let diffs = runner::compare(&results, &expected);
    let table = runner::render("human", "runc init", Dialect::Runc11, &results);
    assert!(
        diffs.is_empty(),
        "runc's results differ from {}:\n{}\n\n{table}",
        file.display(),
        diffs.join("\n")
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
            .needs(Needs::Root)
            .needs(Needs::Repository),
            Test::new(
                "runc_init_matches_its_expectation_file",
                runc_init_matches_its_expectation_file,
            )
            .needs(Needs::Root)
            .needs(Needs::Repository),
        ],
    )
}
