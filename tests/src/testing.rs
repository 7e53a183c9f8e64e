//! A test harness for integration tests that need root or the repository checkout (libtest-mimic, with
//! libtest's command line and output), so that whether a test can run is decided when the tests run, not
//! when they are built.
//!
//! A test that cannot run here is listed as ignored (counted as skipped by every runner that reads
//! libtest's summary), and one line per test says why on standard error: it is never reported as passed.
//! Where it can run, it runs. The repository's CI runs as root in a checkout, so nothing is skipped there.
//!
//! ```no_run
//! use nsbootstrap_conformance::testing::{run, Needs, Test};
//!
//! fn creates_a_pid_namespace() { /* ... */ }
//! fn parses_a_flag() { /* ... */ }
//!
//! fn main() {
//!     run(&[
//!         Test::new("creates_a_pid_namespace", creates_a_pid_namespace).needs(Needs::Root),
//!         Test::new("parses_a_flag", parses_a_flag),
//!     ])
//! }
//! ```

use libtest_mimic::{Arguments, Trial};
use std::path::{Path, PathBuf};

/// What a test needs beyond the test binary itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Needs {
    /// Root: it creates namespaces, writes id maps, or adds a user.
    Root,
    /// The repository checkout: it reads `spec/` (the vectors, the Python reference decoder), which a
    /// crate unpacked from its `.crate` package does not carry.
    Repository,
}

/// One test.
#[derive(Clone, Copy, Debug)]
pub struct Test {
    name: &'static str,
    body: fn(),
    root: bool,
    repository: bool,
}

impl Test {
    /// A test named `name` that runs `body` (a panic fails it).
    pub const fn new(name: &'static str, body: fn()) -> Test {
        Test {
            name,
            body,
            root: false,
            repository: false,
        }
    }

    /// The same test, which also needs `what`.
    pub const fn needs(mut self, what: Needs) -> Test {
        match what {
            Needs::Root => self.root = true,
            Needs::Repository => self.repository = true,
        }
        self
    }
}

/// Whether this process runs as root.
pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// The repository's `spec/` folder, when the crate at `manifest_dir` (pass `env!("CARGO_MANIFEST_DIR")`)
/// sits in a checkout of the repository.
pub fn spec_dir(manifest_dir: &str) -> Option<PathBuf> {
    let dir = Path::new(manifest_dir).join("../spec");
    dir.join("PROTOCOL.md").is_file().then_some(dir)
}

/// Runs `tests` with libtest's command line and output, and exits with its status. `manifest_dir` finds
/// the repository (see [`spec_dir`]); pass `env!("CARGO_MANIFEST_DIR")`.
pub fn run_in(manifest_dir: &str, tests: &[Test]) -> ! {
    let args = Arguments::from_args();
    let root = is_root();
    let repository = spec_dir(manifest_dir).is_some();
    let why = |t: &Test| -> Option<String> {
        let mut missing = Vec::new();
        if t.root && !root {
            let euid = nix::unistd::geteuid();
            missing.push(format!("root (running as euid {euid})"));
        }
        if t.repository && !repository {
            missing.push(format!(
                "the repository checkout ({}/../spec is not there)",
                manifest_dir
            ));
        }
        (!missing.is_empty()).then(|| missing.join(" and "))
    };
    let skipped: Vec<(&str, String)> = tests
        .iter()
        .filter_map(|t| why(t).map(|w| (t.name, w)))
        .collect();
    if !skipped.is_empty() {
        eprintln!(
            "SKIPPED {} of {} tests: they cannot run here, and are counted as ignored, not passed:",
            skipped.len(),
            tests.len()
        );
        for (name, w) in &skipped {
            eprintln!("  skipped {name}: needs {w}");
        }
    }
    let trials = tests
        .iter()
        .map(|t| {
            let body = t.body;
            Trial::test(t.name, move || {
                body();
                Ok(())
            })
            .with_ignored_flag(why(t).is_some())
        })
        .collect();
    libtest_mimic::run(&args, trials).exit()
}

/// [`run_in`] for tests that need no repository.
pub fn run(tests: &[Test]) -> ! {
    run_in(env!("CARGO_MANIFEST_DIR"), tests)
}

/// The unprivileged user of the rootless tests (`nsbtest`), made on first use, with `/etc/subuid` and
/// `/etc/subgid` ranges of at least 65536 ids for newuidmap and newgidmap: (uid, gid, first subuid, first
/// subgid). Needs root (it runs `useradd` and appends to those files); call it from a test that
/// `.needs(Needs::Root)`.
pub fn rootless_user() -> (u32, u32, u32, u32) {
    const NAME: &str = "nsbtest";
    let lookup = || -> Option<(u32, u32)> {
        let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
        let line = passwd.lines().find(|l| l.starts_with("nsbtest:"))?;
        let f: Vec<&str> = line.split(':').collect();
        Some((f[2].parse().ok()?, f[3].parse().ok()?))
    };
    if lookup().is_none() {
        let st = std::process::Command::new("useradd")
            .args(["--no-create-home", "--shell", "/usr/sbin/nologin", NAME])
            .status()
            .expect("useradd (package passwd)");
        assert!(st.success(), "useradd {NAME} failed");
    }
    // useradd may have given the user ranges already (SUB_UID_* in login.defs); add one where it did not.
    let mut starts = [0u32; 2];
    for (i, file) in ["/etc/subuid", "/etc/subgid"].into_iter().enumerate() {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        let found = text.lines().find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.len() == 3 && f[0] == NAME && f[2].parse::<u32>().ok()? >= 65536)
                .then(|| f[1].parse::<u32>().ok())?
        });
        starts[i] = match found {
            Some(start) => start,
            None => {
                let mut f = std::fs::OpenOptions::new()
                    .append(true)
                    .create(true)
                    .open(file)
                    .unwrap();
                use std::io::Write;
                writeln!(f, "{NAME}:300000:65536").unwrap();
                300000
            }
        };
    }
    let (uid, gid) = lookup().expect("the user exists");
    (uid, gid, starts[0], starts[1])
}
