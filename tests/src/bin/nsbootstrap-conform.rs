//! `nsbootstrap-conform`: runs the conformance suite against any implementation of the namespace-bootstrap
//! protocol. It plays the runtime; it needs root for most scenarios.

use clap::Parser;
use nsbootstrap_codec::Dialect;
use nsbootstrap_conformance::harness::Target;
use nsbootstrap_conformance::runner;
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Test an nsenter implementation against the nsbootstrap spec.
#[derive(Parser)]
#[command(name = "nsbootstrap-conform", version)]
struct Args {
    /// The dialect the implementation speaks, or `auto` to detect it.
    #[arg(long, default_value = "auto")]
    dialect: String,
    /// Run only the scenarios whose names contain this text.
    #[arg(long, default_value = "")]
    only: String,
    /// human, json, junit or tap.
    #[arg(long, default_value = "human")]
    format: String,
    /// Take the vector scenarios from this `spec/vectors` folder instead of the vectors built into the
    /// suite.
    #[arg(long)]
    vectors: Option<PathBuf>,
    /// Seconds a scenario may wait for any one step before it is reported as a hang.
    #[arg(long, default_value_t = 5)]
    timeout: u64,
    /// Compare the results with this expectation file (scenario -> result); exit 1 on any difference.
    #[arg(long)]
    expect: Option<PathBuf>,
    /// Write the results as an expectation file.
    #[arg(long)]
    write_expect: Option<PathBuf>,
    /// Extra environment for the implementation, NAME=VALUE (repeatable).
    #[arg(long = "env", value_name = "NAME=VALUE")]
    env: Vec<String>,
    /// The implementation and its arguments, e.g. `-- /usr/sbin/runc init`.
    #[arg(last = true, required = true)]
    implementation: Vec<OsString>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    // SAFETY: geteuid cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("nsbootstrap-conform: not root: scenarios that create namespaces will fail; run it as root");
    }
    let (program, rest) = args.implementation.split_first().expect("required by clap");
    let mut env = Vec::new();
    for kv in &args.env {
        let Some((k, v)) = kv.split_once('=') else {
            eprintln!("nsbootstrap-conform: --env {kv:?}: expected NAME=VALUE");
            return ExitCode::from(2);
        };
        env.push((k.into(), v.into()));
    }
    let mut target = Target {
        program: program.into(),
        args: rest.to_vec(),
        dialect: Dialect::default(),
        env,
    };
    let timeout = Duration::from_secs(args.timeout);
    target.dialect = if args.dialect == "auto" {
        match runner::detect(&target, timeout) {
            Ok((d, why)) => {
                eprintln!("nsbootstrap-conform: detected dialect {d} ({why})");
                d
            }
            Err(e) => {
                eprintln!("nsbootstrap-conform: cannot detect the dialect: {e}");
                return ExitCode::from(2);
            }
        }
    } else {
        match args.dialect.parse() {
            Ok(d) => d,
            Err(e) => {
                eprintln!("nsbootstrap-conform: --dialect {}: {e}", args.dialect);
                return ExitCode::from(2);
            }
        }
    };
    if let Some(dir) = &args.vectors {
        if let Err(e) = nsbootstrap_conformance::vectors::load(dir) {
            eprintln!("nsbootstrap-conform: --vectors {}: {e}", dir.display());
            return ExitCode::from(2);
        }
    }
    let results = runner::suite(&target, args.vectors.as_deref(), &args.only, timeout);
    let name = program.to_string_lossy();
    print!(
        "{}",
        runner::render(
            &args.format,
            &name,
            target.dialect,
            &target.environment(),
            &results
        )
    );
    if let Some(path) = &args.write_expect {
        let text = serde_json::to_string_pretty(&runner::expectation(&results)).unwrap_or_default();
        if let Err(e) = std::fs::write(path, text + "\n") {
            eprintln!("nsbootstrap-conform: {}: {e}", path.display());
            return ExitCode::from(2);
        }
    }
    if let Some(path) = &args.expect {
        let expected = std::fs::read(path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok());
        let Some(expected) = expected else {
            eprintln!(
                "nsbootstrap-conform: {}: not an expectation file",
                path.display()
            );
            return ExitCode::from(2);
        };
        let diffs = runner::compare(&results, &expected);
        for d in &diffs {
            eprintln!("nsbootstrap-conform: differs from {}: {d}", path.display());
        }
        return if diffs.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        };
    }
    if runner::all_required_passed(&results) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
