//! The suite as a user installs it: run from a directory outside the repository, it still has every
//! scenario (the vectors are embedded in the binary).

use nsbootstrap_codec::Dialect;
use nsbootstrap_conformance::scenarios;
use nsbootstrap_conformance::testing::{self, Needs, Test};
use std::path::Path;
use std::process::Command;

fn root() -> bool {
    // SAFETY: geteuid cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// From an empty directory, the vector scenarios against Debian's runc 1.1.5 are all there, as many as the
/// checkout's spec/vectors give, and run without any --env.
fn runs_every_vector_scenario_from_outside_the_repository() {
    let runc = Path::new("/usr/sbin/runc");
    assert!(
        root() && runc.exists(),
        "needs root and Debian's runc package"
    );
    let elsewhere = std::env::temp_dir().join(format!("nsb-conform-{}", std::process::id()));
    std::fs::create_dir_all(&elsewhere).expect("a scratch directory");
    let out = Command::new(env!("CARGO_BIN_EXE_nsbootstrap-conform"))
        .current_dir(&elsewhere)
        .args([
            "--only",
            "negative/vector-",
            "--format",
            "json",
            "--timeout",
            "2",
            "--",
        ])
        .arg(runc)
        .arg("init")
        .output()
        .expect("run nsbootstrap-conform");
    let _ = std::fs::remove_dir_all(&elsewhere);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("left out"), "{stderr}");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON results");
    let ran = doc["results"].as_array().expect("results").len();
    let checkout = Path::new(env!("CARGO_MANIFEST_DIR")).join("vectors");
    let want = scenarios::all(Dialect::Runc11, Some(&checkout))
        .iter()
        .filter(|s| s.name.starts_with("negative/vector-"))
        .count();
    assert!(want >= 100, "only {want} vector scenarios in the checkout");
    assert_eq!(ran, want, "{stderr}");
    assert_eq!(doc["dialect"], "runc-1.1", "{stderr}");
    let env = doc["environment"].to_string();
    assert!(env.contains("_LIBCONTAINER_INITTYPE=standard"), "{env}");
}

fn main() {
    testing::run_in(
        env!("CARGO_MANIFEST_DIR"),
        &[Test::new(
            "runs_every_vector_scenario_from_outside_the_repository",
            runs_every_vector_scenario_from_outside_the_repository,
        )
        .needs(Needs::Root)],
    )
}
