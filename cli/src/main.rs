//! `nsbootstrap`: the namespace-bootstrap protocol's command-line tool.

use clap::{Parser, Subcommand};
use nsbootstrap_codec::{BootstrapPlan, Dialect, Mode, NamespaceKind};
mod codec_cmd;
mod raw;
mod run;
mod tty;

/// `nsbootstrap init` takes the protection step before `main`, as `nsbootstrap-init` does
/// ([`init::protect_early`]); every other subcommand is left alone.
#[allow(unsafe_code)]
mod early {
    extern "C" fn protect_before_main() {
        if std::env::args_os().nth(1).is_some_and(|a| a == "init") {
            nsbootstrap_executor::init::protect_early();
        }
    }

    /// A constructor, sorted after the standard library's argument set-up (`.init_array.00099`); the
    /// only `unsafe` thing about it is the placement (`link_section`).
    #[used]
    #[link_section = ".init_array.00200"]
    static PROTECT_BEFORE_MAIN: extern "C" fn() = protect_before_main;
}

use codec_cmd::CliError;
use nix::sys::signal::Signal;
use nsbootstrap_codec::setup::{FinalSetup, Propagation};
use nsbootstrap_executor::init;
use run::{RunFlags, RunOptions};
use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// The namespace-bootstrap protocol (runc's nsexec message): encode, decode and explain messages.
#[derive(Parser)]
#[command(name = "nsbootstrap", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The executor a runtime spawns: reads the message from _LIBCONTAINER_INITPIPE, runs the stages, and
    /// in the final process waits for the go-ahead byte (0x01) before it execs COMMAND.
    Init {
        /// Dialect to speak (default nsbootstrap-1).
        #[arg(long)]
        dialect: Option<Dialect>,
        /// Accept what runc's C decoder accepts (spec section 6).
        #[arg(long)]
        lenient: bool,
        /// The command to exec in the final process (none: exit 0 after the go-ahead).
        #[arg(last = true)]
        command: Vec<OsString>,
    },
    /// Run COMMAND in new or joined namespaces through `nsbootstrap init` (a runtime, for people).
    Run(Box<RunArgs>),
    /// Encode a JSON plan (spec section 18) into the binary message, written to standard output.
    Encode {
        /// Dialect: runc-rc93, runc-1.0, runc-1.1, runc-1.2 or nsbootstrap-1 (default: the plan's, else nsbootstrap-1).
        #[arg(long)]
        dialect: Option<Dialect>,
        /// Encode even a plan that breaks a consistency rule of spec section 8 (a message executors must
        /// refuse, for testing them).
        #[arg(long)]
        inconsistent: bool,
        /// The plan file; `-` or nothing for standard input.
        plan: Option<PathBuf>,
    },
    /// Decode a binary message and print its plan.
    Decode {
        /// Dialect (default nsbootstrap-1).
        #[arg(long)]
        dialect: Option<Dialect>,
        /// Print JSON that `encode` takes back to the same bytes.
        #[arg(long)]
        json: bool,
        /// Accept what runc's C decoder accepts (spec section 6) instead of the strict grammar.
        #[arg(long)]
        lenient: bool,
        /// The message file; `-` or nothing for standard input.
        file: Option<PathBuf>,
    },
    /// Print an annotated hex dump of a message, with the offset and reason of any fault.
    Explain {
        /// Dialect (default nsbootstrap-1).
        #[arg(long)]
        dialect: Option<Dialect>,
        /// Check with the lenient rules.
        #[arg(long)]
        lenient: bool,
        /// The message file; `-` or nothing for standard input.
        file: Option<PathBuf>,
    },
}

/// The values of `nsbootstrap run --protect`.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum ProtectArg {
    /// The cheapest that works: bind, overlay, then memfd.
    Auto,
    /// A read-only bind mount of the binary, detached.
    Bind,
    /// A read-only overlayfs of the binary's directory, detached.
    Overlay,
    /// A sealed memfd copy (works unprivileged).
    Memfd,
}

#[derive(clap::Args)]
struct RunArgs {
    /// New user namespace.
    #[arg(short = 'U', long)]
    user: bool,
    /// New PID namespace.
    #[arg(short = 'p', long)]
    pid: bool,
    /// New network namespace.
    #[arg(short = 'n', long)]
    net: bool,
    /// New mount namespace.
    #[arg(short = 'm', long)]
    mount: bool,
    /// New UTS namespace.
    #[arg(short = 'u', long)]
    uts: bool,
    /// New IPC namespace.
    #[arg(short = 'i', long)]
    ipc: bool,
    /// New cgroup namespace.
    #[arg(short = 'C', long)]
    cgroup: bool,
    /// New time namespace.
    #[arg(short = 'T', long)]
    time: bool,
    /// Join the namespaces of process PID instead of creating them: those the namespace flags name, or
    /// with --all every one that differs from ours (nsenter's -t).
    #[arg(short = 't', long, value_name = "PID")]
    target: Option<u32>,
    /// With --target: join all of PID's namespaces that differ from ours.
    #[arg(short = 'a', long, requires = "target")]
    all: bool,
    /// Join the namespace at PATH: TYPE:PATH (repeatable).
    #[arg(long, value_name = "TYPE:PATH")]
    join: Vec<String>,
    /// Map uids INSIDE:OUTSIDE:COUNT (repeatable).
    #[arg(long, value_name = "INSIDE:OUTSIDE:COUNT")]
    map_user: Vec<String>,
    /// Map gids INSIDE:OUTSIDE:COUNT (repeatable).
    #[arg(long, value_name = "INSIDE:OUTSIDE:COUNT")]
    map_group: Vec<String>,
    /// Map root inside to the caller's uid and gid (what -U alone does).
    #[arg(short = 'r', long)]
    map_root_user: bool,
    /// Use newuidmap and newgidmap when writing a map is refused (the default for a user whose map is more
    /// than their own uid and gid).
    #[arg(long)]
    id_map_helpers: bool,
    /// Mount propagation in a new mount namespace: private (default, as unshare), slave (as bwrap),
    /// shared, or unchanged.
    #[arg(long, value_name = "private|shared|slave|unchanged")]
    propagation: Option<String>,
    /// Signal the command gets when `run` dies (default SIGKILL: nothing outlives `run`); `none` lets
    /// the command outlive it.
    #[arg(long, value_name = "SIGNAL", num_args = 0..=1, default_missing_value = "KILL")]
    kill_child: Option<String>,
    /// Mount a new /proc (or DIR) in the new mount namespace; implies -m (with -p: `ps` shows the
    /// command's processes).
    #[arg(long, value_name = "DIR", num_args = 0..=1, default_missing_value = "/proc")]
    mount_proc: Option<PathBuf>,
    /// Hostname in the new UTS namespace; implies -u.
    #[arg(long, value_name = "NAME")]
    hostname: Option<String>,
    /// Run the command as this uid (nsenter's -S).
    #[arg(short = 'S', long, value_name = "UID")]
    setuid: Option<u32>,
    /// Run the command as this gid, supplementary groups dropped (nsenter's -G).
    #[arg(short = 'G', long, value_name = "GID")]
    setgid: Option<u32>,
    /// Working directory of the command.
    #[arg(short = 'w', long, value_name = "DIR")]
    wd: Option<PathBuf>,
    /// Run the command on a new pseudo-terminal relayed to this one (job control, window size).
    #[arg(long)]
    tty: bool,
    /// allow or deny setgroups(2) in the new user namespace.
    #[arg(long, value_name = "allow|deny")]
    setgroups: Option<String>,
    /// oom_score_adj of the process.
    #[arg(long, allow_hyphen_values = true)]
    oom_score_adj: Option<i32>,
    /// Terminal to make the controlling terminal and fds 0, 1 and 2.
    #[arg(long)]
    console: Option<PathBuf>,
    /// Offset of the monotonic clock in a new time namespace, in seconds.
    #[arg(long, allow_hyphen_values = true)]
    monotonic: Option<i64>,
    /// Offset of the boottime clock in a new time namespace, in seconds.
    #[arg(long, allow_hyphen_values = true)]
    boottime: Option<i64>,
    /// Take the plan from a JSON file instead of the flags above.
    #[arg(long)]
    plan: Option<PathBuf>,
    /// Dialect (default nsbootstrap-1).
    #[arg(long)]
    dialect: Option<Dialect>,
    /// Relay the executor's log lines (JSON) to stderr.
    #[arg(short = 'v', long)]
    verbose: bool,
    /// Run the executor UNPROTECTED from its file on disk: a process in the container can then overwrite
    /// the nsbootstrap binary (CVE-2019-5736). For measurements and debugging only; the executor logs a
    /// warning on every start. Without this flag, NSBOOTSTRAP_UNPROTECTED is never passed on.
    #[arg(long)]
    unprotected: bool,
    /// How to protect the executor's binary before spawning it: bind, overlay, memfd, or auto (cheapest
    /// that works). Default: NSBOOTSTRAP_PROTECT, else auto.
    #[arg(long, value_enum)]
    protect: Option<ProtectArg>,
    /// The command and its arguments.
    #[arg(last = true, required = true)]
    command: Vec<OsString>,
}

impl RunArgs {
    fn flags(&self) -> Result<RunFlags, String> {
        let mut create = Vec::new();
        let user = self.user || !self.map_user.is_empty() || !self.map_group.is_empty();
        let mount = self.mount || self.mount_proc.is_some();
        let uts = self.uts || self.hostname.is_some();
        let mut named = Vec::new();
        for (on, kind) in [
            (user, NamespaceKind::User),
            (self.pid, NamespaceKind::Pid),
            (self.net, NamespaceKind::Net),
            (mount, NamespaceKind::Mnt),
            (uts, NamespaceKind::Uts),
            (self.ipc, NamespaceKind::Ipc),
            (self.cgroup, NamespaceKind::Cgroup),
            (self.time, NamespaceKind::Time),
        ] {
            if on {
                named.push(kind);
            }
        }
        let mut join = self.join.clone();
        if let Some(pid) = self.target {
            let kinds = if self.all {
                NamespaceKind::BY_FLAG.to_vec()
            } else if named.is_empty() {
                return Err(format!(
                    "--target {pid}: name the namespaces to join (-U, -p, -n, -m, -u, -i, -C, -T) or give --all"
                ));
            } else {
                named.clone()
            };
            for kind in kinds {
                let theirs = format!("/proc/{pid}/ns/{}", kind.name());
                let ours = format!("/proc/self/ns/{}", kind.name());
                let same = match (std::fs::metadata(&theirs), std::fs::metadata(&ours)) {
                    (Ok(a), Ok(b)) => {
                        use std::os::unix::fs::MetadataExt;
                        (a.dev(), a.ino()) == (b.dev(), b.ino())
                    }
                    (Err(e), _) => return Err(format!("--target {pid}: {theirs}: {e}")),
                    _ => false,
                };
                // As nsenter: --all skips the namespaces we are already in (joining our own user
                // namespace is refused by the kernel).
                if !(same && (self.all || kind == NamespaceKind::User)) {
                    join.push(format!("{}:{theirs}", kind.name()));
                }
            }
        } else {
            create = named;
        }
        let joins_user = join.iter().any(|j| j.starts_with("user:"));
        // -U alone maps the caller to root inside, as unshare -r.
        let map_root_user = self.map_root_user
            || (create.contains(&NamespaceKind::User)
                && self.map_user.is_empty()
                && self.map_group.is_empty());
        if (self.map_root_user || !self.map_user.is_empty() || !self.map_group.is_empty())
            && joins_user
        {
            return Err("an id map is for a new user namespace, not one joined with --join user: or --target".into());
        }
        let mut setup = FinalSetup::default();
        let mut setup_asked = false;
        setup.propagation = match self.propagation.as_deref() {
            None => create
                .contains(&NamespaceKind::Mnt)
                .then_some(Propagation::Private),
            Some("private") => Some(Propagation::Private),
            Some("slave") => Some(Propagation::Slave),
            Some("shared") => Some(Propagation::Shared),
            Some("unchanged") => None,
            Some(other) => {
                return Err(format!(
                    "--propagation {other:?}: expected private, shared, slave or unchanged"
                ))
            }
        };
        if self.propagation.is_some() {
            setup_asked = true;
            if !create.contains(&NamespaceKind::Mnt) && setup.propagation.is_some() {
                return Err("--propagation changes a new mount namespace: add -m".into());
            }
        }
        setup.parent_death_signal = match self.kill_child.as_deref() {
            None => Some(Signal::SIGKILL as u8),
            Some("none") => None,
            Some(name) => Some(signal_number(name)?),
        };
        setup_asked |= self.kill_child.is_some();
        use std::os::unix::ffi::OsStrExt;
        if let Some(p) = &self.mount_proc {
            setup.mount_proc = Some(p.as_os_str().as_bytes().to_vec());
            setup_asked = true;
        }
        if let Some(h) = &self.hostname {
            setup.hostname = Some(h.as_bytes().to_vec());
            setup_asked = true;
        }
        setup.gid = self.setgid;
        setup.uid = self.setuid;
        if let Some(w) = &self.wd {
            setup.workdir = Some(w.as_os_str().as_bytes().to_vec());
        }
        setup_asked |= self.setgid.is_some() || self.setuid.is_some() || self.wd.is_some();
        Ok(RunFlags {
            create,
            join,
            map_user: self.map_user.clone(),
            map_group: self.map_group.clone(),
            map_root_user,
            setgroups: self.setgroups.clone(),
            oom_score_adj: self.oom_score_adj,
            console: self.console.clone(),
            monotonic: self.monotonic,
            boottime: self.boottime,
            id_map_helpers: self.id_map_helpers,
            setup,
            setup_asked,
        })
    }
}

/// A signal's number from its name (`TERM`, `SIGTERM`) or number.
fn signal_number(name: &str) -> Result<u8, String> {
    if let Ok(n) = name.parse::<u8>() {
        if Signal::try_from(i32::from(n)).is_ok() {
            return Ok(n);
        }
    }
    let upper = name.to_ascii_uppercase();
    let full = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    full.parse::<Signal>()
        .map(|s| s as u8)
        .map_err(|_| format!("--kill-child {name:?}: not a signal (KILL, TERM, 9, none, ...)"))
}

fn mode(lenient: bool) -> Mode {
    if lenient {
        Mode::Lenient
    } else {
        Mode::Strict
    }
}

fn run(cli: Cli) -> Result<(), CliError> {
    let mut stdout = std::io::stdout().lock();
    let write_err = |e: std::io::Error| CliError(format!("cannot write to standard output: {e}"));
    if raw::stdout_was_closed() {
        // The Rust runtime put /dev/null on a closed fd 1 before main: writing there would succeed and
        // lose the output.
        return Err(write_err(std::io::Error::from_raw_os_error(libc::EBADF)));
    }
    match cli.command {
        Command::Encode {
            dialect,
            inconsistent,
            plan,
        } => {
            let input = codec_cmd::read_input(plan.as_deref(), codec_cmd::MAX_PLAN_INPUT)?;
            let bytes = codec_cmd::encode(dialect, &input, inconsistent)?;
            stdout.write_all(&bytes).map_err(write_err)?;
        }
        Command::Decode {
            dialect,
            json,
            lenient,
            file,
        } => {
            let input = codec_cmd::read_input(file.as_deref(), codec_cmd::MAX_MESSAGE_INPUT)?;
            let text = codec_cmd::decode(dialect, mode(lenient), json, &input)?;
            stdout.write_all(text.as_bytes()).map_err(write_err)?;
        }
        Command::Explain {
            dialect,
            lenient,
            file,
        } => {
            let input = codec_cmd::read_input(file.as_deref(), codec_cmd::MAX_MESSAGE_INPUT)?;
            codec_cmd::explain(dialect, mode(lenient), &input, &mut stdout)?;
        }
        Command::Init { .. } | Command::Run(_) => unreachable!("handled in main"),
    }
    stdout.flush().map_err(write_err)
}

fn run_command(args: RunArgs) -> Result<ExitCode, CliError> {
    let flags = args.flags().map_err(CliError)?;
    let plan = match &args.plan {
        Some(path) => {
            let input = codec_cmd::read_input(Some(path), codec_cmd::MAX_PLAN_INPUT)?;
            serde_json::from_slice::<BootstrapPlan>(&input)
                .map_err(|e| CliError(format!("{}: not a plan: {e}", path.display())))?
        }
        None => run::plan_from_flags(&flags).map_err(CliError)?,
    };
    let dialect = codec_cmd::resolve_dialect(args.dialect, plan.dialect)?;
    let protection = if args.unprotected {
        run::Protection::Off
    } else {
        use nsbootstrap_protect::Method;
        match args.protect {
            None => run::Protection::FromEnv,
            Some(ProtectArg::Auto) => run::Protection::Method(None),
            Some(ProtectArg::Bind) => run::Protection::Method(Some(Method::Bind)),
            Some(ProtectArg::Overlay) => run::Protection::Method(Some(Method::Overlay)),
            Some(ProtectArg::Memfd) => run::Protection::Method(Some(Method::Memfd)),
        }
    };
    let mut setup = flags.setup.clone();
    if args.propagation.is_none() && plan.clone_flags.contains(NamespaceKind::Mnt) {
        // A plan file's new mount namespace is private too, unless --propagation says otherwise.
        setup.propagation = Some(Propagation::Private);
    }
    let opts = RunOptions {
        verbose: args.verbose,
        setup,
        setup_asked: flags.setup_asked,
        tty: args.tty,
        protection,
    };
    if args.tty && args.console.is_some() {
        return Err(CliError(
            "--tty makes its own console: leave --console out".into(),
        ));
    }
    run::run(plan, dialect, &opts, &args.command).map_err(CliError)
}

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    if let Some((dialect, mode, command)) = init::fast_init_args(&args) {
        return init::init(dialect, mode, command);
    }
    let cli = Cli::parse();
    let name = match cli.command {
        Command::Init {
            dialect,
            lenient,
            command,
        } => return init::init(dialect.unwrap_or_default(), mode(lenient), &command),
        Command::Run(args) => {
            return run_command(*args).unwrap_or_else(|e| {
                eprintln!("nsbootstrap run: {e}");
                ExitCode::FAILURE
            })
        }
        Command::Encode { .. } => "encode",
        Command::Decode { .. } => "decode",
        Command::Explain { .. } => "explain",
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("nsbootstrap {name}: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    //! The executor's plain-argv parser against clap's grammar of `nsbootstrap init`.

    use super::*;

    fn os(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    /// What clap makes of `args` when it is an `init` command line.
    fn clap_init(args: &[&str]) -> Option<(Dialect, Mode, Vec<OsString>)> {
        let argv = std::iter::once("nsbootstrap").chain(args.iter().copied());
        match Cli::try_parse_from(argv).ok()?.command {
            Command::Init {
                dialect,
                lenient,
                command,
            } => Some((dialect.unwrap_or_default(), mode(lenient), command)),
            _ => None,
        }
    }

    #[test]
    fn the_fast_init_parser_agrees_with_clap_or_defers_to_it() {
        let lines: &[&[&str]] = &[
            &["init"],
            &["init", "--dialect", "runc-1.1"],
            &["init", "--dialect=runc-1.2", "--lenient"],
            &[
                "init",
                "--lenient",
                "--dialect",
                "nsbootstrap-1",
                "--",
                "sh",
                "-c",
                "x",
            ],
            &["init", "--", "--dialect", "runc-1.1"],
            &["init", "--", "--"],
            &["init", "--dialect", "runc-9"],
            &["init", "--dialect"],
            &["init", "--help"],
            &["init", "--lenient", "--lenient"],
            &["init", "--dialect", "runc-1.1", "--dialect", "runc-1.0"],
            &["init", "sh"],
            &["init", "-v"],
            &["encode"],
            &["run", "--", "true"],
            &[],
        ];
        let mut fast_taken = 0;
        for line in lines {
            let args = os(line);
            let clap = clap_init(line);
            // Deferring (None) is always allowed: clap then decides, and reports errors.
            if let Some((d, m, c)) = init::fast_init_args(&args) {
                fast_taken += 1;
                assert_eq!(
                    Some((d, m, c.to_vec())),
                    clap,
                    "the fast parser and clap disagree on {line:?}"
                );
            }
        }
        assert_eq!(fast_taken, 6, "the plain init lines go the fast way");
    }
}
