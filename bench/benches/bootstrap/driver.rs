//! A lean runtime side for measuring: posix_spawn with the init pipe at fd 3 and the log pipe at fd 4,
//! the ready byte where the candidate's dialect has one, the message, the PID report, then SIGKILL and
//! wait4 on every stage (which also yields each stage's peak RSS). No thread, no allocation on the timed
//! path beyond the candidate's own argv and environment, built once.

use nsbootstrap_codec::PidReport;
use nsbootstrap_protect::{Method, SealedBinary};
use std::ffi::CString;
use std::os::fd::RawFd;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// One implementation under test, ready to spawn.
pub struct Candidate {
    pub name: String,
    /// `true` for the implementations whose latency and memory the goals are about.
    pub ours: bool,
    program: CString,
    argv: Vec<CString>,
    envp: Vec<CString>,
    /// Reads a 0x00 byte before it sends the message (runc 1.0 and 1.1).
    ready_byte: bool,
    /// Protect this binary with this method on every spawn, inside the timed part, and spawn the
    /// protected file (what a runtime that is a fresh process per container start pays).
    seal: Option<(PathBuf, Method)>,
}

impl Candidate {
    pub fn new(
        name: &str,
        ours: bool,
        program: &str,
        args: &[String],
        env: &[(&str, String)],
        ready_byte: bool,
    ) -> Candidate {
        let c = |s: &str| CString::new(s).expect("no NUL in an argument");
        let mut argv = vec![c(program)];
        argv.extend(args.iter().map(|a| c(a)));
        let mut envp = vec![
            c("_LIBCONTAINER_INITPIPE=3"),
            c("_LIBCONTAINER_LOGPIPE=4"),
            c("_LIBCONTAINER_FIFOFD=-1"),
            c("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"),
        ];
        envp.extend(env.iter().map(|(k, v)| c(&format!("{k}={v}"))));
        Candidate {
            name: name.to_string(),
            ours,
            program: c(program),
            argv,
            envp,
            ready_byte,
            seal: None,
        }
    }

    /// The same candidate, its binary protected with `method` on every spawn.
    pub fn sealed_per_start(mut self, method: Method) -> Candidate {
        let path = PathBuf::from(std::ffi::OsStr::from_bytes(self.program.as_bytes()));
        self.seal = Some((path, method));
        self
    }
}

/// One finished bootstrap.
#[derive(Clone, Copy, Debug)]
pub struct Sample {
    /// From just before posix_spawn until the report was read.
    pub latency: Duration,
    /// Peak RSS of stage 0, 1 and 2 in KiB, where it could be read: stage 0's VmHWM when the report
    /// arrives (its ru_maxrss would count the runner's memory, which posix_spawn's child shares until
    /// exec), stage 1's and 2's ru_maxrss from wait4.
    pub maxrss_kib: [Option<u64>; 3],
    /// CPU time (user + system) of all stages together, from wait4.
    pub cpu: Duration,
    /// Minor page faults of all stages together, from wait4.
    pub minflt: u64,
}

/// What wait4 told of one stage.
#[derive(Clone, Copy, Debug, Default)]
struct Usage {
    maxrss_kib: u64,
    cpu: Duration,
    minflt: u64,
}

/// A spawned candidate whose report is not read yet.
pub struct Running {
    start: Instant,
    stage0: libc::pid_t,
    init: RawFd,
    log: RawFd,
    report: Option<PidReport>,
    line: [u8; 128],
    filled: usize,
    stage0_hwm_kib: Option<u64>,
    sealed: Option<SealedBinary>,
}

fn errno(what: &str) -> String {
    format!("{what}: {}", std::io::Error::last_os_error())
}

fn pair() -> Result<[RawFd; 2], String> {
    let mut sv = [-1; 2];
    // SAFETY: `sv` is a valid out-array of two ints.
    if unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_STREAM | libc::SOCK_CLOEXEC,
            0,
            sv.as_mut_ptr(),
        )
    } < 0
    {
        return Err(errno("socketpair"));
    }
    Ok(sv)
}

fn pipe() -> Result<[RawFd; 2], String> {
    let mut p = [-1; 2];
    // SAFETY: `p` is a valid out-array of two ints.
    if unsafe { libc::pipe2(p.as_mut_ptr(), libc::O_CLOEXEC) } < 0 {
        return Err(errno("pipe2"));
    }
    Ok(p)
}

fn close(fd: RawFd) {
    // SAFETY: the caller owns `fd` and does not use it again.
    unsafe { libc::close(fd) };
}

/// Makes sure descriptors 0 to 4 are open, so that no pipe of ours is ever created at 3 or 4 (where the
/// child's dup2 onto itself would leave close-on-exec set).
pub fn reserve_low_fds() {
    for _ in 0..5 {
        // SAFETY: a NUL-terminated path; the descriptor is kept open for the life of the process.
        let fd = unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDWR | libc::O_CLOEXEC) };
        if fd > 4 {
            close(fd);
            return;
        }
    }
}

/// Spawns `c` and sends `message` (after the ready byte, if it has one).
pub fn spawn(c: &Candidate, message: &[u8], timeout: Duration) -> Result<Running, String> {
    let [ours, theirs] = pair()?;
    let [log_r, log_w] = pipe()?;
    let mut argv: Vec<*mut libc::c_char> = c.argv.iter().map(|a| a.as_ptr().cast_mut()).collect();
    argv.push(std::ptr::null_mut());
    let mut envp: Vec<*mut libc::c_char> = c.envp.iter().map(|a| a.as_ptr().cast_mut()).collect();
    envp.push(std::ptr::null_mut());
    let start = Instant::now();
    // A one-shot runtime protects the binary on every start: part of what is measured.
    let sealed = match &c.seal {
        Some((path, method)) => {
            Some(SealedBinary::new(path, *method).map_err(|e| format!("protect ({method}): {e}"))?)
        }
        None => None,
    };
    let sealed_path = sealed
        .as_ref()
        .map(|s| CString::new(s.exec_path().into_os_string().into_vec()).expect("no NUL"));
    let program = sealed_path.as_deref().unwrap_or(&c.program);
    let mut pid: libc::pid_t = 0;
    // SAFETY: the file actions and attributes are initialised before use and destroyed after; argv and envp
    // are NULL-terminated arrays of pointers into CStrings that outlive the call; `theirs` and `log_w` are
    // open (≥ 5, see reserve_low_fds), and dup2 onto 3 and 4 clears close-on-exec on the copies.
    let r = unsafe {
        let mut fa: libc::posix_spawn_file_actions_t = std::mem::zeroed();
        let mut at: libc::posix_spawnattr_t = std::mem::zeroed();
        libc::posix_spawn_file_actions_init(&mut fa);
        libc::posix_spawnattr_init(&mut at);
        libc::posix_spawn_file_actions_adddup2(&mut fa, theirs, 3);
        libc::posix_spawn_file_actions_adddup2(&mut fa, log_w, 4);
        libc::posix_spawn_file_actions_addopen(
            &mut fa,
            0,
            c"/dev/null".as_ptr(),
            libc::O_RDONLY,
            0,
        );
        libc::posix_spawn_file_actions_addopen(
            &mut fa,
            1,
            c"/dev/null".as_ptr(),
            libc::O_WRONLY,
            0,
        );
        // Stage 0 leads a new process group, which everything it forks inherits.
        libc::posix_spawnattr_setflags(&mut at, libc::POSIX_SPAWN_SETPGROUP as libc::c_short);
        libc::posix_spawnattr_setpgroup(&mut at, 0);
        let r = libc::posix_spawn(
            &mut pid,
            program.as_ptr(),
            &fa,
            &at,
            argv.as_ptr(),
            envp.as_ptr(),
        );
        libc::posix_spawn_file_actions_destroy(&mut fa);
        libc::posix_spawnattr_destroy(&mut at);
        r
    };
    close(theirs);
    close(log_w);
    if r != 0 {
        close(ours);
        close(log_r);
        return Err(format!(
            "posix_spawn {}: {}",
            c.name,
            std::io::Error::from_raw_os_error(r)
        ));
    }
    let mut run = Running {
        start,
        stage0: pid,
        init: ours,
        log: log_r,
        report: None,
        line: [0; 128],
        filled: 0,
        stage0_hwm_kib: None,
        // A one-shot runtime lets go of the protected file once the report is in (dropping it earlier
        // would be as safe: the executor holds the file itself): its teardown, a mount's dissolution
        // with an RCU grace period (about 0.04 ms, BENCHMARKS.md), is then off the start's path.
        sealed,
    };
    if c.ready_byte {
        let mut b = [0u8; 1];
        if !wait_readable(ours, timeout) || read(ours, &mut b) != 1 || b[0] != 0 {
            return Err(run.fail("no ready byte"));
        }
    }
    // SAFETY: `message` is valid for its length; the socket is ours.
    let n = unsafe { libc::write(ours, message.as_ptr().cast(), message.len()) };
    if n != message.len() as isize {
        return Err(run.fail(&errno("write the message")));
    }
    Ok(run)
}

fn read(fd: RawFd, buf: &mut [u8]) -> isize {
    // SAFETY: `buf` is valid for writes of its length.
    unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) }
}

fn wait_readable(fd: RawFd, timeout: Duration) -> bool {
    let mut p = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd.
    unsafe { libc::poll(&mut p, 1, timeout.as_millis() as libc::c_int) == 1 }
}

impl Running {
    /// The runtime's end of the init pipe (to poll many at once).
    pub fn init_fd(&self) -> RawFd {
        self.init
    }

    /// Reads what is available of the report; `Ok(true)` once the whole line is in.
    pub fn advance(&mut self) -> Result<bool, String> {
        let n = read(self.init, &mut self.line[self.filled..]);
        if n <= 0 {
            return Err(self.fail("the init pipe closed before the PID report"));
        }
        self.filled += n as usize;
        let Some(end) = self.line[..self.filled].iter().position(|&b| b == b'\n') else {
            if self.filled == self.line.len() {
                return Err(self.fail("a report line over 128 bytes"));
            }
            return Ok(false);
        };
        let text = String::from_utf8_lossy(&self.line[..end]).into_owned();
        match PidReport::parse_any(&text) {
            Some(r) => {
                self.report = Some(r);
                self.stage0_hwm_kib = status_kib(&self.stage0.to_string(), "VmHWM:");
                Ok(true)
            }
            None => Err(self.fail(&format!("not a PID report: {text:?}"))),
        }
    }

    /// Waits for the report and returns the latency, without ending the stages.
    pub fn finish(&mut self, timeout: Duration) -> Result<Duration, String> {
        loop {
            if !wait_readable(self.init, timeout) {
                return Err(self.fail("no PID report in time"));
            }
            if self.advance()? {
                return Ok(self.start.elapsed());
            }
        }
    }

    /// The time since spawn.
    pub fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    /// Ends the stages and returns what they used.
    pub fn end(mut self, latency: Duration) -> Sample {
        drop(self.sealed.take());
        let (maxrss_kib, cpu, minflt) = self.teardown();
        Sample {
            latency,
            maxrss_kib,
            cpu,
            minflt,
        }
    }

    fn fail(&mut self, what: &str) -> String {
        let mut logs = [0u8; 512];
        // SAFETY: O_NONBLOCK on our own pipe, so reading what is there does not wait.
        unsafe { libc::fcntl(self.log, libc::F_SETFL, libc::O_NONBLOCK) };
        let n = read(self.log, &mut logs).max(0) as usize;
        let logs = String::from_utf8_lossy(&logs[..n]).trim().to_string();
        self.teardown();
        format!("{what}; logs: {logs:?}")
    }

    fn teardown(&mut self) -> ([Option<u64>; 3], Duration, u64) {
        let mut usage = [None; 3];
        // SAFETY: kill takes plain integers; the group and stage 2 are children of ours not reaped yet, so
        // their numbers cannot have been reused.
        unsafe {
            libc::kill(-self.stage0, libc::SIGKILL);
            if let Some(r) = self.report {
                libc::kill(r.stage2, libc::SIGKILL);
            }
        }
        usage[0] = wait4(self.stage0);
        if let Some(r) = self.report {
            for (i, pid) in [(1, r.stage1), (2, r.stage2)] {
                if pid != self.stage0 && !(i == 2 && pid == r.stage1) {
                    usage[i] = wait4(pid);
                }
            }
        }
        // Whatever else the group left (helpers, orphans reparented to us as subreaper).
        loop {
            let mut status = 0;
            // SAFETY: `status` is a valid out-pointer; only children in the group are reaped.
            if unsafe { libc::waitpid(-self.stage0, &mut status, 0) } <= 0 {
                break;
            }
        }
        if self.init >= 0 {
            close(self.init);
            close(self.log);
            self.init = -1;
        }
        let rss = [
            self.stage0_hwm_kib,
            usage[1].map(|u| u.maxrss_kib),
            usage[2].map(|u| u.maxrss_kib),
        ];
        let all = usage.iter().flatten();
        let cpu = all.clone().map(|u| u.cpu).sum();
        (rss, cpu, all.map(|u| u.minflt).sum())
    }
}

/// Reaps `pid` (a child of ours, or an orphan reparented to us) and returns what it used.
fn wait4(pid: libc::pid_t) -> Option<Usage> {
    let mut status = 0;
    // SAFETY: rusage is plain data; all-zero is valid.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: valid out-pointers; `pid` names one process.
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    (r == pid).then(|| Usage {
        maxrss_kib: ru.ru_maxrss as u64,
        cpu: tv(ru.ru_utime) + tv(ru.ru_stime),
        minflt: ru.ru_minflt as u64,
    })
}

/// A `kB` field of `/proc/<which>/status` (`VmHWM:`, `VmRSS:`), in KiB.
fn status_kib(which: &str, key: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{which}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// Makes this process the reaper of orphans it leaves (util-linux's helpers, runc's stage 1 when its
/// parent died first), so that the benchmark can prove it leaves no process behind.
pub fn become_subreaper() {
    // SAFETY: prctl with plain integer arguments.
    unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
}

/// One complete bootstrap: spawn, send, read the report, end.
pub fn once(c: &Candidate, message: &[u8], timeout: Duration) -> Result<Sample, String> {
    let mut run = spawn(c, message, timeout)?;
    let latency = run.finish(timeout)?;
    Ok(run.end(latency))
}

/// What the runner holds: open descriptors, resident memory (KiB), live children (zombies included).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Footprint {
    pub fds: usize,
    pub rss_kib: u64,
    pub children: usize,
}

pub fn footprint() -> Footprint {
    let fds = std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count());
    let rss_kib = status_kib("self", "VmRSS:").unwrap_or(0);
    let me = std::process::id().to_string();
    let children = std::fs::read_to_string(format!("/proc/self/task/{me}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .count();
    Footprint {
        fds,
        rss_kib,
        children,
    }
}
