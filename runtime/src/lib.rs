//! # nsbootstrap-runtime
//!
//! The runtime side: spawn an executor over an init pipe and a log pipe, send the message, read the PID
//! report, send the go-ahead, and reap every stage. `nsbootstrap run` and the conformance suite use it;
//! it drives any implementation (`nsbootstrap init`, `runc init`, ...).
//!
//! `unsafe` code lives in one private module (`sys`: the pre-exec hook and waitpid); the rest of the
//! crate denies it.
#![deny(unsafe_code)]

#[allow(unsafe_code)]
mod sys;

use nsbootstrap_codec::sync::GO_AHEAD;
use nsbootstrap_codec::{Dialect, PidReport};
use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The fd number the executor finds the init pipe at.
pub const INIT_FD: RawFd = 3;
/// The fd number the executor finds the log pipe at.
pub const LOG_FD: RawFd = 4;

/// How to start an executor.
#[derive(Clone, Debug)]
pub struct SpawnSpec {
    /// The program (`nsbootstrap`, `runc`, ...).
    pub program: PathBuf,
    /// Its arguments (`["init", "--", "sh"]`, `["init"]`, ...).
    pub args: Vec<OsString>,
    /// The dialect it speaks.
    pub dialect: Dialect,
    /// `_LIBCONTAINER_LOGLEVEL`, if set.
    pub log_level: Option<u32>,
    /// More environment variables.
    pub env: Vec<(OsString, OsString)>,
    /// Variables of this process's environment the executor must not inherit (applied before `env`).
    pub env_remove: Vec<OsString>,
    /// Copy each log line to standard error as it arrives.
    pub relay_logs: bool,
    /// Whether the executor inherits this process's standard input and output (else /dev/null).
    pub inherit_stdio: bool,
    /// Run the executor as this uid and gid (a rootless runtime), when set.
    pub credentials: Option<(u32, u32)>,
}

impl SpawnSpec {
    /// An executor at `program` with `args`, speaking `dialect`.
    pub fn new(program: impl Into<PathBuf>, args: &[&str], dialect: Dialect) -> Self {
        SpawnSpec {
            program: program.into(),
            args: args.iter().map(OsString::from).collect(),
            dialect,
            log_level: None,
            env: Vec::new(),
            env_remove: Vec::new(),
            relay_logs: false,
            inherit_stdio: false,
            credentials: None,
        }
    }
}

/// A runtime-side failure.
#[derive(Debug)]
pub enum RuntimeError {
    /// A system call on our side failed.
    Io(&'static str, std::io::Error),
    /// The executor did not do what the protocol says.
    Protocol(String),
    /// Nothing arrived in time.
    Timeout(&'static str),
}

impl std::fmt::Display for RuntimeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RuntimeError::Io(what, e) => write!(f, "{what}: {e}"),
            RuntimeError::Protocol(s) => f.write_str(s),
            RuntimeError::Timeout(what) => write!(f, "timed out waiting for {what}"),
        }
    }
}

impl std::error::Error for RuntimeError {}

/// A running executor and the pipes to it.
#[derive(Debug)]
pub struct Executor {
    /// Stage 0.
    pub child: Child,
    init: UnixStream,
    logs: Arc<Mutex<Vec<String>>>,
    log_thread: Option<std::thread::JoinHandle<()>>,
    /// The dialect.
    pub dialect: Dialect,
    /// The PIDs, once reported.
    pub report: Option<PidReport>,
    reaped: Vec<(i32, ExitStatus)>,
}

fn io(what: &'static str) -> impl FnOnce(std::io::Error) -> RuntimeError {
    move |e| RuntimeError::Io(what, e)
}

impl Executor {
    /// Spawns the executor with the init pipe at fd 3 and the log pipe at fd 4.
    pub fn spawn(spec: &SpawnSpec) -> Result<Executor, RuntimeError> {
        let (ours, theirs) = UnixStream::pair().map_err(io("socketpair for the init pipe"))?;
        let (log_read, log_write) = pipe().map_err(io("pipe for the log pipe"))?;
        let mut cmd = Command::new(&spec.program);
        cmd.args(&spec.args)
            .env("_LIBCONTAINER_INITPIPE", INIT_FD.to_string())
            .env("_LIBCONTAINER_LOGPIPE", LOG_FD.to_string())
            .env("_LIBCONTAINER_FIFOFD", "-1");
        if let Some(level) = spec.log_level {
            cmd.env("_LIBCONTAINER_LOGLEVEL", level.to_string());
        }
        for k in &spec.env_remove {
            cmd.env_remove(k);
        }
        for (k, v) in &spec.env {
            cmd.env(k, v);
        }
        if !spec.inherit_stdio {
            cmd.stdin(Stdio::null()).stdout(Stdio::null());
        }
        // Stage 0 leads a new process group, which stage 1 (cloned with CLONE_PARENT) joins: the runtime can
        // then kill and reap stage 1 even when no PID report ever named it.
        cmd.process_group(0);
        if let Some((uid, gid)) = spec.credentials {
            cmd.uid(uid).gid(gid);
        }
        let (init_fd, log_fd) = (theirs.as_raw_fd(), log_write.as_raw_fd());
        sys::move_fds_on_exec(&mut cmd, [(init_fd, INIT_FD), (log_fd, LOG_FD)]);
        // The log fd must not land on 3 when dup2 puts the init pipe there first.
        if log_fd == INIT_FD {
            return Err(RuntimeError::Protocol("internal: log pipe at fd 3".into()));
        }
        let child = cmd.spawn().map_err(io("spawn the executor"))?;
        drop(theirs);
        drop(log_write);
        let logs = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&logs);
        let relay = spec.relay_logs;
        let log_thread = std::thread::spawn(move || {
            let reader = BufReader::new(std::fs::File::from(log_read));
            for line in reader.lines() {
                let Ok(line) = line else { break };
                if relay {
                    eprintln!("{line}");
                }
                if let Ok(mut v) = sink.lock() {
                    v.push(line);
                }
            }
        });
        Ok(Executor {
            child,
            init: ours,
            logs,
            log_thread: Some(log_thread),
            dialect: spec.dialect,
            report: None,
            reaped: Vec::new(),
        })
    }

    /// The runtime's end of the init pipe.
    pub fn init_pipe(&self) -> &UnixStream {
        &self.init
    }

    /// Log lines received so far.
    pub fn logs(&self) -> Vec<String> {
        self.logs.lock().map(|v| v.clone()).unwrap_or_default()
    }

    /// Reads the dialect's ready byte (0x00), if it has one.
    pub fn read_ready(&mut self, timeout: Duration) -> Result<(), RuntimeError> {
        if !self.dialect.ready_byte() {
            return Ok(());
        }
        self.init
            .set_read_timeout(Some(timeout))
            .map_err(io("set timeout"))?;
        let mut b = [0u8; 1];
        match self.init.read(&mut b) {
            Ok(1) if b[0] == 0 => Ok(()),
            Ok(1) => Err(RuntimeError::Protocol(format!(
                "ready byte is {:#04x}, not 0x00",
                b[0]
            ))),
            Ok(_) => Err(RuntimeError::Protocol(
                "the init pipe closed before the ready byte".into(),
            )),
            Err(e) if is_timeout(&e) => Err(RuntimeError::Timeout("the ready byte")),
            Err(e) => Err(RuntimeError::Io("read the ready byte", e)),
        }
    }

    /// Sends the message in one write.
    pub fn send(&mut self, message: &[u8]) -> Result<(), RuntimeError> {
        self.init
            .write_all(message)
            .map_err(io("write the message"))
    }

    /// Sends the message in pieces of `size` bytes, pausing `pause` between them.
    pub fn send_chunked(
        &mut self,
        message: &[u8],
        size: usize,
        pause: Duration,
    ) -> Result<(), RuntimeError> {
        for chunk in message.chunks(size.max(1)) {
            self.init
                .write_all(chunk)
                .map_err(io("write the message"))?;
            std::thread::sleep(pause);
        }
        Ok(())
    }

    /// Reads the PID report line (without its LF), whatever its shape.
    pub fn read_report_line(&mut self, timeout: Duration) -> Result<String, RuntimeError> {
        self.init
            .set_read_timeout(Some(Duration::from_millis(50)))
            .map_err(io("set timeout"))?;
        let deadline = Instant::now() + timeout;
        let mut line = Vec::new();
        loop {
            let mut b = [0u8; 1];
            match self.init.read(&mut b) {
                Ok(1) if b[0] == b'\n' => break,
                Ok(1) => line.push(b[0]),
                Ok(_) => {
                    return Err(RuntimeError::Protocol(format!(
                        "the init pipe closed before a PID report ({} bytes read)",
                        line.len()
                    )))
                }
                Err(e) if is_timeout(&e) => {
                    if Instant::now() > deadline {
                        return Err(RuntimeError::Timeout("the PID report"));
                    }
                }
                Err(e) => return Err(RuntimeError::Io("read the PID report", e)),
            }
            if line.len() > 256 {
                return Err(RuntimeError::Protocol(
                    "the PID report is longer than 256 bytes".into(),
                ));
            }
        }
        Ok(String::from_utf8_lossy(&line).into_owned())
    }

    /// Reads the PID report in the executor's dialect. A report of another dialect's shape is an error,
    /// but its PIDs are still remembered, so that [`Executor::kill_and_reap`] finds every stage.
    pub fn read_report(&mut self, timeout: Duration) -> Result<PidReport, RuntimeError> {
        let text = self.read_report_line(timeout)?;
        match PidReport::parse(&text, self.dialect) {
            Ok(report) => {
                self.report = Some(report);
                Ok(report)
            }
            Err(e) => {
                self.report = PidReport::parse_any(&text);
                Err(RuntimeError::Protocol(format!("{e}: {text:?}")))
            }
        }
    }

    /// Writes one byte on the init pipe (the go-ahead 0x01, or runc's cgroup byte 0x80).
    pub fn send_byte(&mut self, b: u8) -> Result<(), RuntimeError> {
        self.init
            .write_all(&[b])
            .map_err(io("write on the init pipe"))
    }

    /// Writes `bytes` on the init pipe (a go-ahead with a setup record, spec section 14.1).
    pub fn init_pipe_write(&mut self, bytes: &[u8]) -> Result<(), RuntimeError> {
        self.init
            .write_all(bytes)
            .map_err(io("write on the init pipe"))
    }

    /// Sends the go-ahead that lets `nsbootstrap init` exec its command.
    pub fn go_ahead(&mut self) -> Result<(), RuntimeError> {
        self.send_byte(GO_AHEAD)
    }

    /// Closes the runtime's end of the init pipe (both directions).
    pub fn close_init_pipe(&mut self) {
        let _ = self.init.shutdown(std::net::Shutdown::Both);
    }

    /// Waits for stage 0 to exit.
    pub fn wait_stage0(&mut self, timeout: Duration) -> Result<ExitStatus, RuntimeError> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(s) = self.child.try_wait().map_err(io("wait for stage 0"))? {
                return Ok(s);
            }
            if Instant::now() > deadline {
                return Err(RuntimeError::Timeout("stage 0 to exit"));
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// Waits for a reported stage (1 or 2), which is our child through CLONE_PARENT.
    pub fn wait_pid(&mut self, pid: i32, timeout: Duration) -> Result<ExitStatus, RuntimeError> {
        if let Some((_, s)) = self.reaped.iter().find(|(p, _)| *p == pid) {
            return Ok(*s);
        }
        let deadline = Instant::now() + timeout;
        loop {
            // `pid` names one process, so only it is reaped.
            match sys::waitpid_nohang(pid) {
                Ok(Some((r, s))) if r == pid => {
                    self.reaped.push((pid, s));
                    return Ok(s);
                }
                Ok(_) => {}
                Err(e) => return Err(RuntimeError::Io("waitpid", e)),
            }
            if Instant::now() > deadline {
                return Err(RuntimeError::Timeout("a stage to exit"));
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// Kills every stage of this executor and reaps them all: stage 0 and whatever is in its process group
    /// (stage 1, and stage 2 before its setsid), and stage 2 by its reported PID. Returns the PIDs reaped.
    pub fn kill_and_reap(&mut self) -> Vec<i32> {
        let pgid = self.child.id() as i32;
        // The group was created for stage 0 and holds only its descendants that did not leave it.
        sys::kill(-pgid);
        let _ = self.child.kill();
        let _ = self.child.wait();
        let mut pids = vec![pgid];
        if let Some(r) = self.report {
            if !self.reaped.iter().any(|(q, _)| *q == r.stage2) {
                // Stage 2 is our child (through CLONE_PARENT) and not reaped yet, so its PID cannot
                // have been reused.
                sys::kill(r.stage2);
                if self.wait_pid(r.stage2, Duration::from_secs(5)).is_ok() {
                    pids.push(r.stage2);
                }
            }
        }
        pids.extend(self.reap_group(Duration::from_secs(5)));
        self.close_init_pipe();
        pids
    }

    /// Reaps every child left in stage 0's process group (stage 1 above all) until none is left.
    pub fn reap_group(&mut self, timeout: Duration) -> Vec<i32> {
        let pgid = self.child.id() as i32;
        let deadline = Instant::now() + timeout;
        let mut reaped = Vec::new();
        loop {
            // A negative pid reaps only children in that group.
            let r = sys::waitpid_nohang(-pgid);
            if let Ok(Some((pid, status))) = r {
                self.reaped.push((pid, status));
                reaped.push(pid);
                continue;
            }
            if r.is_err() || Instant::now() > deadline {
                // ECHILD: no child left in the group.
                return reaped;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// Waits for the log pipe to close (every stage gone) and returns all its lines.
    pub fn finish_logs(&mut self) -> Vec<String> {
        if let Some(t) = self.log_thread.take() {
            let _ = t.join();
        }
        self.logs()
    }
}

impl Drop for Executor {
    fn drop(&mut self) {
        self.kill_and_reap();
    }
}

fn is_timeout(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    )
}

fn pipe() -> std::io::Result<(OwnedFd, OwnedFd)> {
    Ok(nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?)
}
