//! The test harness of the executor's integration tests: libtest-mimic, so that whether a test can run
//! is decided when the tests run, not when they are built. A test that needs root is listed as ignored
//! (counted as skipped, with the reason printed) when the tests run without root; as root it runs.

use libtest_mimic::{Arguments, Trial};

/// Whether this process runs as root.
pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// One test: its name, `Some(why)` when it needs root, and its body.
pub type Test = (&'static str, Option<&'static str>, fn());

/// Runs `tests` with libtest's command line and output, and exits with its status.
pub fn run(tests: &[Test]) -> ! {
    let args = Arguments::from_args();
    let root = is_root();
    let skipped: Vec<_> = tests.iter().filter(|t| t.1.is_some() && !root).collect();
    if !skipped.is_empty() {
        eprintln!(
            "SKIPPED {} test(s): not running as root (euid {}); run the tests as root to run them:",
            skipped.len(),
            nix::unistd::geteuid()
        );
        for (name, why, _) in &skipped {
            eprintln!("  skipped {name}: needs root: {}", why.unwrap_or_default());
        }
    }
    let trials = tests
        .iter()
        .map(|&(name, needs_root, body)| {
            Trial::test(name, move || {
                body();
                Ok(())
            })
            .with_ignored_flag(needs_root.is_some() && !root)
        })
        .collect();
    libtest_mimic::run(&args, trials).exit()
}
