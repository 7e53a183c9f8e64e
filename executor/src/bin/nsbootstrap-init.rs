//! `nsbootstrap-init`: `nsbootstrap init` alone, for runtimes to spawn.
//!
//! A runtime pays the executor's start-up on every container start. This binary has the same entry point
//! as `nsbootstrap init` ([`nsbootstrap_executor::init::init`]) and takes the same arguments, but links none of the command
//! line tool (clap, JSON, encode/decode/explain), so it maps and touches a smaller image. BENCHMARKS.md
//! measures both.
//!
//! ```text
//! nsbootstrap-init [init] [--dialect NAME] [--lenient] [-- COMMAND [ARG...]]
//! ```
//!
//! (A leading `init` is accepted, so that a runtime's `nsbootstrap init ...` command line works as is.)

use nsbootstrap_executor::init;

/// The protection step before `main` ([`init::protect_early`]).
#[allow(unsafe_code)]
mod early {
    extern "C" fn protect_before_main() {
        nsbootstrap_executor::init::protect_early();
    }

    /// A constructor: the C library calls every `.init_array` entry before `main`, in section order.
    /// Priority 200 sorts it after the standard library's argument set-up (`.init_array.00099`), so
    /// `std::env::args_os` is filled in when it runs. The only `unsafe` thing about it is the placement
    /// (`link_section`): the function is an ordinary safe one that takes no arguments.
    #[used]
    #[link_section = ".init_array.00200"]
    static PROTECT_BEFORE_MAIN: extern "C" fn() = protect_before_main;
}
use std::ffi::OsString;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args: Vec<OsString> = std::env::args_os().skip(1).collect();
    if args.first().is_none_or(|a| a != "init") {
        args.insert(0, OsString::from("init"));
    }
    match init::fast_init_args(&args) {
        Some((dialect, mode, command)) => init::init(dialect, mode, command),
        None => {
            eprintln!(
                "usage: nsbootstrap-init [init] [--dialect NAME] [--lenient] [-- COMMAND [ARG...]] \
                 (NAME: runc-rc93, runc-1.0, runc-1.1, runc-1.2, nsbootstrap-1)"
            );
            ExitCode::from(2)
        }
    }
}
