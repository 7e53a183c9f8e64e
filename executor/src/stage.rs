//! The stage sequence (spec section 10): stage 0 reads the message and writes id maps and the PID report,
//! stage 1 joins and creates namespaces, stage 2 becomes the final process.
//!
//! Everything a child stage needs is prepared by stage 0 before the first clone ([`Prepared`]): C strings,
//! map texts, descriptors. After a clone the stages only make system calls through [`Sys`] and format log
//! lines on the stack, so nothing is allocated between clone and exec.

use crate::log::Logger;
use crate::sys::{Cloned, Sys};
use nix::errno::Errno;
use nsbootstrap_codec::dialect::{CgroupNs, JoinOrder};
use nsbootstrap_codec::sync::{SyncMsg, CREATE_CGROUP_NS};
use nsbootstrap_codec::{BootstrapPlan, Dialect, MessageReader, Mode, NamespaceKind, PidReport};
use std::ffi::CString;
use std::fmt;
use std::os::fd::RawFd;
use std::os::unix::ffi::OsStrExt;

/// Why a bootstrap failed; the text is what the fatal log line says.
#[derive(Debug)]
pub struct Failure {
    /// 0, 1 or 2; `None` before stage 0 knows its role.
    pub stage: Option<u8>,
    /// The step that failed.
    pub step: &'static str,
    /// Detail (a path, an attribute, a value).
    pub detail: String,
    /// The errno, when a system call failed.
    pub errno: Option<Errno>,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.stage {
            Some(s) => write!(f, "stage-{s}: {}", self.step)?,
            None => write!(f, "setup: {}", self.step)?,
        }
        if !self.detail.is_empty() {
            write!(f, ": {}", self.detail)?;
        }
        if let Some(e) = self.errno {
            write!(f, ": {}", e.desc())?;
        }
        Ok(())
    }
}

impl std::error::Error for Failure {}

/// The plan turned into what the stages use after a clone.
#[derive(Debug)]
pub struct Prepared {
    /// The plan.
    pub plan: BootstrapPlan,
    /// The dialect.
    pub dialect: Dialect,
    joins: Vec<(NamespaceKind, CString)>,
    uid_map: Option<Vec<u8>>,
    gid_map: Option<Vec<u8>>,
    time_offsets: Option<Vec<u8>>,
    newuidmap: Option<CString>,
    newgidmap: Option<CString>,
    console: Option<CString>,
    mount_sources: Vec<Option<CString>>,
    mount_fds: Vec<RawFd>,
}

fn cstring(p: &std::path::Path) -> CString {
    // Paths from a decoded message hold no NUL (the codec refuses one), so this cannot fail; a NUL from a
    // hand-built plan turns into an empty path that open(2) refuses.
    CString::new(p.as_os_str().as_bytes()).unwrap_or_default()
}

fn map_text(ranges: &[nsbootstrap_codec::IdRange]) -> Vec<u8> {
    let mut s = String::new();
    for r in ranges {
        s.push_str(&format!("{} {} {}\n", r.container_id, r.host_id, r.size));
    }
    s.into_bytes()
}

impl Prepared {
    /// Prepares `plan` for `dialect`.
    pub fn new(plan: BootstrapPlan, dialect: Dialect) -> Self {
        Prepared {
            joins: plan
                .namespace_paths
                .iter()
                .map(|e| (e.kind, cstring(&e.path)))
                .collect(),
            uid_map: plan.uid_map.as_deref().map(map_text),
            gid_map: plan.gid_map.as_deref().map(map_text),
            time_offsets: plan.time_offsets.as_ref().map(|list| {
                list.iter()
                    .map(|o| format!("{} {} {}\n", o.clock, o.secs, o.nanosecs))
                    .collect::<String>()
                    .into_bytes()
            }),
            newuidmap: plan.newuidmap_path.as_deref().map(cstring),
            newgidmap: plan.newgidmap_path.as_deref().map(cstring),
            console: plan.console_path.as_deref().map(cstring),
            mount_sources: plan
                .mount_sources
                .iter()
                .flatten()
                .map(|m| m.as_deref().map(cstring))
                .collect(),
            mount_fds: Vec::new(),
            plan,
            dialect,
        }
    }

    /// Sets the descriptor numbers stage 1 puts the mount sources at (`_LIBCONTAINER_MOUNT_FDS`, runc-1.1):
    /// one entry per mount, -1 where the mount has no source. Fails when they do not match the plan.
    pub fn with_mount_fds(mut self, fds: Vec<RawFd>) -> Result<Self, String> {
        let wanted = self.mount_sources.iter().filter(|m| m.is_some()).count();
        let given = fds.iter().filter(|&&f| f != -1).count();
        if wanted != given {
            return Err(format!(
                "_LIBCONTAINER_MOUNT_FDS names {given} descriptors for {wanted} mount sources"
            ));
        }
        if let Some(bad) = fds.iter().find(|&&f| f < -1) {
            return Err(format!(
                "_LIBCONTAINER_MOUNT_FDS holds the invalid descriptor {bad}"
            ));
        }
        self.mount_fds = fds;
        Ok(self)
    }

    fn creates(&self, kind: NamespaceKind) -> bool {
        self.plan.clone_flags.contains(kind)
    }
}

/// What stage 2 returns from [`Stages::run`]: the plan stays with its owner, so that nothing is cloned
/// (or allocated) after the clones.
#[derive(Debug, Clone, Copy)]
pub struct Final {
    /// The init pipe, still open.
    pub init_pipe: RawFd,
    /// The logger (stage 2).
    pub logger: Logger,
}

/// What the final process (stage 2) gets back.
#[derive(Debug)]
pub struct Bootstrapped {
    /// The plan it was set up by.
    pub plan: BootstrapPlan,
    /// The dialect.
    pub dialect: Dialect,
    /// The init pipe, still open.
    pub init_pipe: RawFd,
    /// The logger (stage 2).
    pub logger: Logger,
}

/// The process names, visible in `ps`.
fn stage_name(dialect: Dialect, stage: u8) -> &'static std::ffi::CStr {
    match (dialect, stage) {
        (Dialect::Nsbootstrap1, 0) => c"nsb:[0:PARENT]",
        (Dialect::Nsbootstrap1, 1) => c"nsb:[1:CHILD]",
        (Dialect::Nsbootstrap1, _) => c"nsb:[2:INIT]",
        (_, 0) => c"runc:[0:PARENT]",
        (_, 1) => c"runc:[1:CHILD]",
        _ => c"runc:[2:INIT]",
    }
}

/// Reads one message from the init pipe with the codec's stream reader, never past its end.
pub fn read_message<S: Sys>(
    sys: &mut S,
    fd: RawFd,
    dialect: Dialect,
    mode: Mode,
) -> Result<BootstrapPlan, Failure> {
    let fail = |step, detail: String, errno| Failure {
        stage: None,
        step,
        detail,
        errno,
    };
    let mut reader = MessageReader::new(dialect, mode);
    let mut chunk = [0u8; 4096];
    while !reader.is_complete() {
        let want = reader.wanted().min(chunk.len());
        let n = sys
            .read(fd, &mut chunk[..want])
            .map_err(|e| fail("read the bootstrap message", String::new(), Some(e)))?;
        if n == 0 {
            let e = reader.eof_error();
            return Err(fail(
                "read the bootstrap message",
                format!(
                    "the init pipe closed after {} bytes: {e}",
                    reader.received()
                ),
                None,
            ));
        }
        reader
            .push(&chunk[..n])
            .map_err(|e| fail("decode the bootstrap message", e.to_string(), None))?;
    }
    match reader.decode() {
        Some(Ok(view)) => Ok(BootstrapPlan::from_view(&view)),
        Some(Err(e)) => Err(fail("decode the bootstrap message", e.to_string(), None)),
        None => Err(fail(
            "read the bootstrap message",
            "incomplete".into(),
            None,
        )),
    }
}

/// The three stages over one [`Sys`].
pub struct Stages<'p, S: Sys> {
    sys: S,
    p: &'p Prepared,
    init_pipe: RawFd,
    logger: Logger,
    /// stage 0's end, stage 1's end
    pair1: [RawFd; 2],
    /// stage 0's end, stage 2's end
    pair2: [RawFd; 2],
    stage1: i32,
    stage2: i32,
}

macro_rules! step {
    ($self:ident, $stage:expr, $step:expr, $res:expr, $($detail:tt)*) => {
        match $res {
            Ok(v) => v,
            Err(e) => $self.die($stage, $step, format_args!($($detail)*), Some(e)),
        }
    };
}

impl<'p, S: Sys> Stages<'p, S> {
    /// Stages for `p`, talking on `init_pipe`.
    pub fn new(sys: S, p: &'p Prepared, init_pipe: RawFd, logger: Logger) -> Self {
        Stages {
            sys,
            p,
            init_pipe,
            logger,
            pair1: [-1; 2],
            pair2: [-1; 2],
            stage1: -1,
            stage2: -1,
        }
    }

    /// Kills the stages this one knows to depend on it, and exits with `code`.
    fn end(&mut self, stage: u8, code: i32) -> ! {
        if stage == 0 {
            self.sys.kill(self.stage1);
        }
        if stage <= 1 {
            self.sys.kill(self.stage2);
        }
        self.sys.exit(code)
    }

    /// Logs the failure, kills the other stages this one knows, and exits 1.
    #[cold]
    #[inline(never)]
    fn die(
        &mut self,
        stage: u8,
        step: &str,
        detail: fmt::Arguments<'_>,
        errno: Option<Errno>,
    ) -> ! {
        let mut l = self.logger;
        l = l.for_stage(stage);
        match errno {
            Some(e) => l.fatal(format_args!("{step}: {detail}: {}", e.desc())),
            None => l.fatal(format_args!("{step}: {detail}")),
        }
        self.end(stage, 1)
    }

    fn send(&mut self, stage: u8, fd: RawFd, s: SyncMsg) {
        let v = s.value(self.p.dialect).unwrap_or(0);
        step!(
            self,
            stage,
            "sync",
            self.sys.write_all(fd, &v.to_ne_bytes()),
            "send {s:?}"
        )
    }

    fn recv(&mut self, stage: u8, fd: RawFd, peer: &str) -> u32 {
        let mut b = [0u8; 4];
        match self.sys.read_exact(fd, &mut b) {
            Ok(true) => u32::from_ne_bytes(b),
            Ok(false) => {
                // The peer failed (and logged its own fatal line) or was killed: log this at level
                // error, so that a failure leaves exactly one fatal line, and end this stage too.
                let l = self.logger.for_stage(stage);
                crate::log!(
                    l,
                    Error,
                    "sync: {peer} closed the sync socket (it failed or was killed)"
                );
                self.end(stage, 1)
            }
            Err(e) => self.die(stage, "sync", format_args!("read from {peer}"), Some(e)),
        }
    }

    fn expect(&mut self, stage: u8, fd: RawFd, peer: &str, want: SyncMsg) {
        let got = self.recv(stage, fd, peer);
        if SyncMsg::from_value(got, self.p.dialect) != Some(want) {
            self.die(
                stage,
                "sync",
                format_args!("expected {want:?} from {peer}, got {got:#x}"),
                None,
            );
        }
    }

    /// Runs stage 0 from the socketpairs on. Returns only in stage 2.
    pub fn run(mut self) -> Final {
        let l = self.logger.for_stage(0);
        self.sys.set_name(stage_name(self.p.dialect, 0));
        crate::log!(l, Debug, "~> stage-0");
        self.pair1 = step!(
            self,
            0,
            "socketpair",
            self.sys.socketpair(),
            "stage 0 and 1"
        );
        self.pair2 = step!(
            self,
            0,
            "socketpair",
            self.sys.socketpair(),
            "stage 0 and 2"
        );
        match step!(
            self,
            0,
            "clone stage-1",
            self.sys.clone_parent(),
            "CLONE_PARENT"
        ) {
            Cloned::Child => return self.stage1(),
            Cloned::Parent(pid) => self.stage1 = pid,
        }
        let (my1, their1, my2, their2) =
            (self.pair1[0], self.pair1[1], self.pair2[0], self.pair2[1]);
        self.sys.close(their1);
        self.sys.close(their2);
        crate::log!(l, Debug, "stage-1 is {}", self.stage1);
        loop {
            let v = self.recv(0, my1, "stage-1");
            match SyncMsg::from_value(v, self.p.dialect) {
                Some(SyncMsg::UsermapPls) => {
                    self.write_id_maps();
                    self.send(0, my1, SyncMsg::UsermapAck);
                }
                Some(SyncMsg::TimeoffsetsPls) => {
                    let p = self.p;
                    let pid = self.stage1;
                    let text = p.time_offsets.as_deref().unwrap_or(b"");
                    let path = proc_path(pid, b"timens_offsets");
                    crate::log!(l, Debug, "write /proc/{pid}/timens_offsets");
                    step!(
                        self,
                        0,
                        "write time offsets",
                        self.sys.write_file(path.as_cstr(), text),
                        "/proc/{pid}/timens_offsets"
                    );
                    self.send(0, my1, SyncMsg::TimeoffsetsAck);
                }
                Some(SyncMsg::MountsourcesPls) => {
                    self.send_mount_sources();
                    self.send(0, my1, SyncMsg::MountsourcesAck);
                }
                Some(SyncMsg::RecvpidPls) => {
                    let pid = self.recv(0, my1, "stage-1") as i32;
                    self.stage2 = pid;
                    let report = PidReport {
                        stage1: self.stage1,
                        stage2: pid,
                    };
                    let mut line = crate::log::StackBuf::<96>::new();
                    let _ = report.write_line(self.p.dialect, &mut line);
                    crate::log!(
                        l,
                        Debug,
                        "report stage-1 {} and stage-2 {}",
                        self.stage1,
                        pid
                    );
                    step!(
                        self,
                        0,
                        "write the PID report",
                        self.sys.write_all(self.init_pipe, line.as_bytes()),
                        "init pipe"
                    );
                    // The report goes out before the ACK: the runtime, which waits for it, learns the
                    // PIDs before stage 1 wakes up to compete for a CPU.
                    self.send(0, my1, SyncMsg::RecvpidAck);
                }
                Some(SyncMsg::ChildFinish) => break,
                _ => self.die(
                    0,
                    "sync",
                    format_args!("unexpected value {v:#x} from stage-1"),
                    None,
                ),
            }
        }
        self.sys.close(my1);
        self.send(0, my2, SyncMsg::Grandchild);
        self.expect(0, my2, "stage-2", SyncMsg::ChildFinish);
        crate::log!(l, Debug, "<~ stage-0");
        self.sys.exit(0)
    }

    /// Stage 0's part of the runc-1.1 mount sources: from inside stage 1's mount namespace, open each
    /// source with O_PATH and send it to stage 1.
    fn send_mount_sources(&mut self) {
        let pid = self.stage1;
        let sock = self.pair1[0];
        let host = step!(
            self,
            0,
            "mount sources",
            self.sys.open_read(c"/proc/self/ns/mnt"),
            "open /proc/self/ns/mnt"
        );
        let theirs = proc_path(pid, b"ns/mnt");
        let container = step!(
            self,
            0,
            "mount sources",
            self.sys.open_read(theirs.as_cstr()),
            "open /proc/{pid}/ns/mnt"
        );
        step!(
            self,
            0,
            "mount sources",
            self.sys.setns(container, NamespaceKind::Mnt),
            "join /proc/{pid}/ns/mnt"
        );
        let p = self.p;
        for src in p.mount_sources.iter().flatten() {
            let fd = step!(
                self,
                0,
                "mount sources",
                self.sys.open_path(src),
                "open {src:?}"
            );
            step!(
                self,
                0,
                "mount sources",
                self.sys.send_fd(sock, fd),
                "send {src:?}"
            );
            self.sys.close(fd);
        }
        step!(
            self,
            0,
            "mount sources",
            self.sys.setns(host, NamespaceKind::Mnt),
            "return to the host mount namespace"
        );
        self.sys.close(host);
        self.sys.close(container);
    }

    /// Stage 0's id-map work for stage 1 (spec section 10.4).
    fn write_id_maps(&mut self) {
        let l = self.logger.for_stage(0);
        let pid = self.stage1;
        let plan = &self.p.plan;
        if plan.rootless_euid == Some(true) && plan.setgroups != Some(true) {
            let path = proc_path(pid, b"setgroups");
            match self.sys.write_file(path.as_cstr(), b"deny") {
                Ok(()) | Err(Errno::ENOENT) => {}
                Err(e) => self.die(
                    0,
                    "write setgroups",
                    format_args!("/proc/{pid}/setgroups"),
                    Some(e),
                ),
            }
        }
        let p = self.p;
        for (file, text, helper) in [
            (&b"uid_map"[..], &p.uid_map, &p.newuidmap),
            (&b"gid_map"[..], &p.gid_map, &p.newgidmap),
        ] {
            let Some(text) = text else { continue };
            let name = std::str::from_utf8(file).unwrap_or("map");
            let path = proc_path(pid, file);
            crate::log!(l, Debug, "write /proc/{pid}/{name}");
            match self.sys.write_file(path.as_cstr(), text) {
                Ok(()) => {}
                Err(Errno::EPERM) if helper.is_some() => {
                    let helper = helper.as_deref().unwrap_or_default();
                    crate::log!(l, Debug, "/proc/{pid}/{name}: EPERM, running {helper:?}");
                    self.run_helper(helper, pid, text, name);
                }
                Err(e) => self.die(
                    0,
                    "write id map",
                    format_args!("/proc/{pid}/{name}"),
                    Some(e),
                ),
            }
        }
    }

    /// Runs newuidmap/newgidmap: `helper PID inside outside count ...`.
    fn run_helper(&mut self, helper: &std::ffi::CStr, pid: i32, text: &[u8], name: &str) {
        // Stage 0 is the process the runtime started, not a clone, so it may allocate.
        let pid_arg = CString::new(pid.to_string()).unwrap_or_default();
        let words: Vec<CString> = text
            .split(|b| b.is_ascii_whitespace())
            .filter(|w| !w.is_empty())
            .map(|w| CString::new(w).unwrap_or_default())
            .collect();
        let mut argv: Vec<&std::ffi::CStr> = vec![helper, &pid_arg];
        argv.extend(words.iter().map(|w| w.as_c_str()));
        match self.sys.run(&argv) {
            Ok(0) => {}
            Ok(status) => self.die(
                0,
                "write id map",
                format_args!("{helper:?} for /proc/{pid}/{name} exited with status {status}"),
                None,
            ),
            Err(e) => self.die(0, "write id map", format_args!("run {helper:?}"), Some(e)),
        }
    }

    fn stage1(mut self) -> Final {
        let l = self.logger.for_stage(1);
        self.sys.set_name(stage_name(self.p.dialect, 1));
        let (sync, stage0_end2) = (self.pair1[1], self.pair2[0]);
        self.sys.close(self.pair1[0]);
        self.sys.close(stage0_end2);
        crate::log!(l, Debug, "~> stage-1");
        // Open every namespace first: joining the mount namespace can hide the paths.
        let mut fds = [-1 as RawFd; 16];
        let p = self.p;
        for (i, (kind, path)) in p.joins.iter().enumerate().take(fds.len()) {
            fds[i] = step!(
                self,
                1,
                "open namespace",
                self.sys.open_read(path),
                "{kind} {path:?}"
            );
        }
        let n = p.joins.len().min(fds.len());
        match p.dialect.join_order() {
            JoinOrder::AsGiven => {
                for (i, &fd) in fds.iter().enumerate().take(n) {
                    self.join(i, fd, false);
                }
            }
            JoinOrder::UserMiddle => {
                let mut joined = [false; 16];
                for pass in 0..3 {
                    for i in 0..n {
                        let is_user = p.joins[i].0 == NamespaceKind::User;
                        let this_pass = match pass {
                            1 => is_user,
                            _ => !is_user,
                        };
                        if this_pass && !joined[i] {
                            joined[i] = self.join(i, fds[i], pass == 0);
                        }
                    }
                }
            }
        }
        if p.creates(NamespaceKind::User) {
            crate::log!(l, Debug, "unshare user namespace");
            step!(
                self,
                1,
                "unshare",
                self.sys.unshare(NamespaceKind::User.flag()),
                "user namespace"
            );
            if !p.joins.is_empty() {
                step!(
                    self,
                    1,
                    "set dumpable",
                    self.sys.set_dumpable(true),
                    "for the id maps"
                );
            }
            self.send(1, sync, SyncMsg::UsermapPls);
            self.expect(1, sync, "stage-0", SyncMsg::UsermapAck);
            if !p.joins.is_empty() {
                step!(
                    self,
                    1,
                    "set non-dumpable",
                    self.sys.set_dumpable(false),
                    "after the id maps"
                );
            }
            step!(
                self,
                1,
                "setresuid",
                self.sys.become_root_uid(),
                "0 in the new user namespace"
            );
        }
        let mut rest = p.plan.clone_flags.without(NamespaceKind::User).bits();
        if p.dialect.cgroup_ns() != CgroupNs::WithOthers {
            rest &= !NamespaceKind::Cgroup.flag();
        }
        if rest != 0 {
            crate::log!(l, Debug, "unshare {}", nsbootstrap_codec::CloneFlags(rest));
            step!(
                self,
                1,
                "unshare",
                self.sys.unshare(rest),
                "{}",
                nsbootstrap_codec::CloneFlags(rest)
            );
        }
        if p.plan.mount_sources.is_some() {
            self.send(1, sync, SyncMsg::MountsourcesPls);
            for &to in p.mount_fds.iter().filter(|&&f| f != -1) {
                let fd = step!(
                    self,
                    1,
                    "mount sources",
                    self.sys.recv_fd(sync),
                    "receive the source for fd {to}"
                );
                if fd != to {
                    step!(
                        self,
                        1,
                        "mount sources",
                        self.sys.dup3_cloexec(fd, to),
                        "move it to fd {to}"
                    );
                    self.sys.close(fd);
                }
            }
            self.expect(1, sync, "stage-0", SyncMsg::MountsourcesAck);
        }
        if p.time_offsets.is_some() {
            self.send(1, sync, SyncMsg::TimeoffsetsPls);
            self.expect(1, sync, "stage-0", SyncMsg::TimeoffsetsAck);
        }
        match step!(
            self,
            1,
            "clone stage-2",
            self.sys.clone_parent(),
            "CLONE_PARENT"
        ) {
            Cloned::Child => return self.stage2(),
            Cloned::Parent(pid) => self.stage2 = pid,
        }
        self.sys.close(self.pair2[1]);
        // RECVPID_PLS and the PID in one write: stage 0, on the report's critical path, wakes up once.
        let pls = SyncMsg::RecvpidPls.value(self.p.dialect).unwrap_or(0);
        let mut both = [0u8; 8];
        both[..4].copy_from_slice(&pls.to_ne_bytes());
        both[4..].copy_from_slice(&self.stage2.to_ne_bytes());
        step!(
            self,
            1,
            "sync",
            self.sys.write_all(sync, &both),
            "send RecvpidPls and the stage-2 PID"
        );
        self.expect(1, sync, "stage-0", SyncMsg::RecvpidAck);
        self.send(1, sync, SyncMsg::ChildFinish);
        crate::log!(l, Debug, "<~ stage-1");
        self.sys.exit(0)
    }

    /// Joins one namespace; `skip_eperm` (first pass of the user-in-the-middle order) returns false on EPERM.
    fn join(&mut self, i: usize, fd: RawFd, skip_eperm: bool) -> bool {
        let l = self.logger.for_stage(1);
        let (kind, path) = (&self.p.joins[i].0, &self.p.joins[i].1);
        let kind = *kind;
        match self.sys.setns(fd, kind) {
            Ok(()) => {
                crate::log!(l, Debug, "joined {kind} namespace {path:?}");
                self.sys.close(fd);
                if kind == NamespaceKind::User {
                    step!(
                        self,
                        1,
                        "setresuid",
                        self.sys.become_root_uid(),
                        "0 in the joined user namespace"
                    );
                }
                true
            }
            Err(Errno::EPERM) if skip_eperm => false,
            Err(e) => self.die(
                1,
                "setns",
                format_args!("{kind} namespace {path:?}"),
                Some(e),
            ),
        }
    }

    fn stage2(mut self) -> Final {
        let l = self.logger.for_stage(2);
        self.sys.set_name(stage_name(self.p.dialect, 2));
        self.stage2 = -1;
        let sync = self.pair2[1];
        self.sys.close(self.pair1[1]);
        crate::log!(l, Debug, "~> stage-2");
        self.expect(2, sync, "stage-0", SyncMsg::Grandchild);
        let p = self.p;
        step!(self, 2, "setsid", self.sys.setsid(), "new session");
        step!(self, 2, "setuid", self.sys.setuid_root(), "0");
        step!(self, 2, "setgid", self.sys.setgid_root(), "0");
        if p.plan.rootless_euid != Some(true) && p.plan.setgroups == Some(true) {
            step!(self, 2, "setgroups", self.sys.clear_groups(), "empty list");
        }
        if p.creates(NamespaceKind::Cgroup) {
            match p.dialect.cgroup_ns() {
                CgroupNs::AfterRuntimeByte => {
                    // Watch the sync socket too: if stage 0 dies meanwhile, its end closes and this stage
                    // stops waiting for a runtime that may never write.
                    let which = step!(
                        self,
                        2,
                        "cgroup sync",
                        self.sys.wait_either(self.init_pipe, sync),
                        "wait for the runtime's byte"
                    );
                    if which == 1 {
                        crate::log!(l, Error, "cgroup sync: stage-0 closed the sync socket while waiting for the runtime's 0x80");
                        self.end(2, 1);
                    }
                    let mut b = [0u8; 1];
                    let ok = step!(
                        self,
                        2,
                        "cgroup sync",
                        self.sys.read_exact(self.init_pipe, &mut b),
                        "read from the init pipe"
                    );
                    if !ok || b[0] != CREATE_CGROUP_NS {
                        self.die(
                            2,
                            "cgroup sync",
                            format_args!(
                                "expected byte 0x80 from the runtime, got {}",
                                if ok { b[0] as i32 } else { -1 }
                            ),
                            None,
                        );
                    }
                    step!(
                        self,
                        2,
                        "unshare",
                        self.sys.unshare(NamespaceKind::Cgroup.flag()),
                        "cgroup namespace"
                    );
                }
                CgroupNs::ByStage2 => {
                    step!(
                        self,
                        2,
                        "unshare",
                        self.sys.unshare(NamespaceKind::Cgroup.flag()),
                        "cgroup namespace"
                    );
                }
                CgroupNs::WithOthers => {}
            }
        }
        if let Some(console) = &p.console {
            let fd = step!(
                self,
                2,
                "open console",
                self.sys.open_rdwr(console),
                "{console:?}"
            );
            step!(
                self,
                2,
                "console",
                self.sys.set_controlling_tty(fd),
                "TIOCSCTTY on {console:?}"
            );
            for to in 0..3 {
                step!(
                    self,
                    2,
                    "console",
                    self.sys.dup2(fd, to),
                    "dup2 onto fd {to}"
                );
            }
            if fd > 2 {
                self.sys.close(fd);
            }
        }
        self.send(2, sync, SyncMsg::ChildFinish);
        self.sys.close(sync);
        crate::log!(l, Debug, "<= bootstrap done");
        Final {
            init_pipe: self.init_pipe,
            logger: l,
        }
    }
}

/// `/proc/PID/FILE` as a C string on the stack.
struct ProcPath {
    buf: [u8; 64],
}

impl ProcPath {
    fn as_cstr(&self) -> &std::ffi::CStr {
        std::ffi::CStr::from_bytes_until_nul(&self.buf).unwrap_or(c"")
    }
}

fn proc_path(pid: i32, file: &[u8]) -> ProcPath {
    use std::io::Write;
    let mut buf = [0u8; 64];
    let mut w = &mut buf[..63];
    let _ = write!(w, "/proc/{pid}/");
    let _ = w.write_all(file);
    ProcPath { buf }
}

#[cfg(test)]
mod tests {
    //! The stage logic against a recording double of [`Sys`]: the order of system calls, without a kernel.

    use super::*;
    use crate::log::Level;
    use crate::sys::Cloned;
    use std::collections::VecDeque;
    use std::ffi::CStr;

    /// Records every call as a line; answers reads, clones and file writes from scripts.
    #[derive(Default)]
    struct Recorder {
        calls: Vec<String>,
        reads: VecDeque<Vec<u8>>,
        clones: VecDeque<Cloned>,
        eperm_on: Vec<&'static str>,
        next_fd: RawFd,
        pairs: RawFd,
    }

    struct Exit(i32);

    impl Sys for &mut Recorder {
        fn open_read(&mut self, path: &CStr) -> Result<RawFd, Errno> {
            self.next_fd += 1;
            self.calls.push(format!(
                "open {} = {}",
                path.to_string_lossy(),
                100 + self.next_fd
            ));
            Ok(100 + self.next_fd)
        }
        fn open_rdwr(&mut self, path: &CStr) -> Result<RawFd, Errno> {
            self.calls
                .push(format!("open_rdwr {}", path.to_string_lossy()));
            Ok(200)
        }
        fn open_path(&mut self, path: &CStr) -> Result<RawFd, Errno> {
            self.calls
                .push(format!("open_path {}", path.to_string_lossy()));
            Ok(300)
        }
        fn send_fd(&mut self, sock: RawFd, fd: RawFd) -> Result<(), Errno> {
            self.calls.push(format!("send_fd {sock} {fd}"));
            Ok(())
        }
        fn recv_fd(&mut self, sock: RawFd) -> Result<RawFd, Errno> {
            self.calls.push(format!("recv_fd {sock}"));
            Ok(301)
        }
        fn dup3_cloexec(&mut self, fd: RawFd, to: RawFd) -> Result<(), Errno> {
            self.calls.push(format!("dup3 {fd} {to}"));
            Ok(())
        }
        fn close(&mut self, fd: RawFd) {
            if fd >= 100 {
                self.calls.push(format!("close {fd}"));
            }
        }
        fn setns(&mut self, fd: RawFd, kind: NamespaceKind) -> Result<(), Errno> {
            self.calls.push(format!("setns {fd} {kind}"));
            Ok(())
        }
        fn unshare(&mut self, flags: u32) -> Result<(), Errno> {
            self.calls
                .push(format!("unshare {}", nsbootstrap_codec::CloneFlags(flags)));
            Ok(())
        }
        fn set_dumpable(&mut self, on: bool) -> Result<(), Errno> {
            self.calls.push(format!("dumpable {on}"));
            Ok(())
        }
        fn set_name(&mut self, name: &CStr) {
            self.calls.push(format!("name {}", name.to_string_lossy()));
        }
        fn write_file(&mut self, path: &CStr, data: &[u8]) -> Result<(), Errno> {
            let p = path.to_string_lossy().into_owned();
            self.calls
                .push(format!("write {p} {:?}", String::from_utf8_lossy(data)));
            if self.eperm_on.iter().any(|s| p.ends_with(s)) {
                return Err(Errno::EPERM);
            }
            Ok(())
        }
        fn socketpair(&mut self) -> Result<[RawFd; 2], Errno> {
            self.pairs += 1;
            Ok([8 + 2 * self.pairs, 9 + 2 * self.pairs])
        }
        fn clone_parent(&mut self) -> Result<Cloned, Errno> {
            let c = self.clones.pop_front().expect("a scripted clone");
            self.calls.push(format!("clone {c:?}"));
            Ok(c)
        }
        fn write_all(&mut self, fd: RawFd, bytes: &[u8]) -> Result<(), Errno> {
            let word = |b: &[u8]| u32::from_ne_bytes(b.try_into().unwrap());
            let what = match bytes.len() {
                4 => format!("{:#x}", word(bytes)),
                // A sync value and its argument (RECVPID_PLS and the PID), in one write.
                8 => format!("{:#x} {:#x}", word(&bytes[..4]), word(&bytes[4..])),
                _ => String::from_utf8_lossy(bytes).into_owned(),
            };
            self.calls.push(format!("send {fd} {what}"));
            Ok(())
        }
        fn read_exact(&mut self, fd: RawFd, buf: &mut [u8]) -> Result<bool, Errno> {
            match self.reads.pop_front() {
                Some(b) => {
                    buf.copy_from_slice(&b);
                    self.calls.push(format!("recv {fd} {:?}", b));
                    Ok(true)
                }
                None => {
                    self.calls.push(format!("recv {fd} EOF"));
                    Ok(false)
                }
            }
        }
        fn read(&mut self, _fd: RawFd, _buf: &mut [u8]) -> Result<usize, Errno> {
            Ok(0)
        }
        fn wait_either(&mut self, _a: RawFd, _b: RawFd) -> Result<usize, Errno> {
            Ok(0)
        }
        fn setsid(&mut self) -> Result<(), Errno> {
            self.calls.push("setsid".into());
            Ok(())
        }
        fn become_root_uid(&mut self) -> Result<(), Errno> {
            self.calls.push("setresuid 0".into());
            Ok(())
        }
        fn setuid_root(&mut self) -> Result<(), Errno> {
            self.calls.push("setuid 0".into());
            Ok(())
        }
        fn setgid_root(&mut self) -> Result<(), Errno> {
            self.calls.push("setgid 0".into());
            Ok(())
        }
        fn clear_groups(&mut self) -> Result<(), Errno> {
            self.calls.push("setgroups []".into());
            Ok(())
        }
        fn set_controlling_tty(&mut self, fd: RawFd) -> Result<(), Errno> {
            self.calls.push(format!("tiocsctty {fd}"));
            Ok(())
        }
        fn dup2(&mut self, fd: RawFd, to: RawFd) -> Result<(), Errno> {
            self.calls.push(format!("dup2 {fd} {to}"));
            Ok(())
        }
        fn kill(&mut self, pid: i32) {
            if pid > 0 {
                self.calls.push(format!("kill {pid}"));
            }
        }
        fn run(&mut self, argv: &[&CStr]) -> Result<i32, Errno> {
            let words: Vec<String> = argv
                .iter()
                .map(|a| a.to_string_lossy().into_owned())
                .collect();
            self.calls.push(format!("run {}", words.join(" ")));
            Ok(0)
        }
        fn exit(&mut self, code: i32) -> ! {
            self.calls.push(format!("exit {code}"));
            std::panic::resume_unwind(Box::new(Exit(code)))
        }
    }

    fn sync(s: SyncMsg, d: Dialect) -> Vec<u8> {
        s.value(d).unwrap().to_ne_bytes().to_vec()
    }

    /// Runs the stages until a stage exits; returns the calls and the exit code.
    fn drive(plan: BootstrapPlan, d: Dialect, rec: &mut Recorder) -> i32 {
        let p = Prepared::new(plan, d);
        let logger = Logger::new(None, Level::Debug, d);
        let stages = Stages::new(&mut *rec, &p, 3, logger);
        let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            stages.run();
        }));
        match out {
            Ok(()) => -1,
            Err(e) => e.downcast::<Exit>().map(|x| x.0).unwrap_or(-2),
        }
    }

    fn index(calls: &[String], prefix: &str) -> usize {
        calls
            .iter()
            .position(|c| c.starts_with(prefix))
            .unwrap_or_else(|| panic!("no call {prefix:?} in {calls:#?}"))
    }

    #[test]
    fn stage1_opens_everything_then_joins_user_in_the_middle() {
        let d = Dialect::Nsbootstrap1;
        let plan = BootstrapPlan::builder()
            .join(NamespaceKind::User, "/proc/9/ns/user")
            .join(NamespaceKind::Net, "/proc/9/ns/net")
            .join(NamespaceKind::Mnt, "/proc/9/ns/mnt")
            .create(NamespaceKind::Pid)
            .build();
        let mut rec = Recorder {
            clones: [Cloned::Child, Cloned::Parent(77)].into(),
            reads: [sync(SyncMsg::RecvpidAck, d)].into(),
            ..Default::default()
        };
        let code = drive(plan, d, &mut rec);
        let c = &rec.calls;
        assert_eq!(code, 0, "{c:#?}");
        let last_open = c.iter().rposition(|x| x.starts_with("open ")).unwrap();
        let first_setns = index(c, "setns");
        assert!(
            last_open < first_setns,
            "every path is opened before the first setns: {c:#?}"
        );
        let setns: Vec<&String> = c.iter().filter(|x| x.starts_with("setns")).collect();
        assert_eq!(setns.len(), 3);
        assert!(
            setns[0].ends_with("net") && setns[1].ends_with("mnt") && setns[2].ends_with("user"),
            "{setns:?}"
        );
        assert!(index(c, "setresuid 0") > index(c, "setns 101 user"));
        assert!(index(c, "unshare pid") > index(c, "setresuid 0"));
        assert!(index(c, "clone Parent(77)") > index(c, "unshare pid"));
        // RECVPID_PLS with the PID in one write, then CHILD_FINISH after the ACK.
        let pls = index(c, &format!("send 11 0x42 {:#x}", 77));
        assert!(index(c, "recv 11") > pls);
        assert!(index(c, "send 11 0x45") > index(c, "recv 11"));
    }

    #[test]
    fn stage1_unshares_the_user_namespace_alone_and_waits_for_the_maps() {
        let d = Dialect::Runc11;
        let plan = BootstrapPlan::builder()
            .create(NamespaceKind::User)
            .create(NamespaceKind::Net)
            .create(NamespaceKind::Cgroup)
            .map_user(0, 1000, 1)
            .build();
        let mut rec = Recorder {
            clones: [Cloned::Child, Cloned::Parent(78)].into(),
            reads: [sync(SyncMsg::UsermapAck, d), sync(SyncMsg::RecvpidAck, d)].into(),
            ..Default::default()
        };
        assert_eq!(drive(plan, d, &mut rec), 0);
        let c = &rec.calls;
        let user = index(c, "unshare user");
        assert_eq!(
            c[user], "unshare user",
            "the user namespace is unshared alone"
        );
        assert!(index(c, "send 11 0x40") > user);
        assert!(index(c, "setresuid 0") > index(c, "recv 11"));
        // runc-1.1 leaves the cgroup namespace to stage 2.
        assert_eq!(c[index(c, "unshare net")], "unshare net");
        assert!(
            !c.iter().any(|x| x.starts_with("dumpable")),
            "no joins, so dumpable is left alone"
        );
    }

    #[test]
    fn a_closed_sync_socket_ends_the_stage_without_a_second_fatal_line() {
        let d = Dialect::Runc12;
        let plan = BootstrapPlan::builder().create(NamespaceKind::User).build();
        let mut rec = Recorder {
            clones: [Cloned::Child].into(),
            ..Default::default()
        };
        assert_eq!(drive(plan, d, &mut rec), 1);
        assert!(rec.calls.last().unwrap() == "exit 1");
        assert!(
            rec.calls.iter().any(|x| x == "recv 11 EOF"),
            "{:#?}",
            rec.calls
        );
    }

    #[test]
    fn stage0_writes_deny_then_maps_and_falls_back_to_the_helper() {
        let d = Dialect::Runc11;
        let plan = BootstrapPlan::builder()
            .create(NamespaceKind::User)
            .map_user(0, 1000, 1)
            .map_user(1, 100000, 65536)
            .map_group(0, 1000, 1)
            .id_map_helpers("/usr/bin/newuidmap", "/usr/bin/newgidmap")
            .rootless_euid(true)
            .build();
        let mut rec = Recorder {
            clones: [Cloned::Parent(50)].into(),
            reads: [
                sync(SyncMsg::UsermapPls, d),
                sync(SyncMsg::RecvpidPls, d),
                60i32.to_ne_bytes().to_vec(),
                sync(SyncMsg::ChildFinish, d),
                sync(SyncMsg::ChildFinish, d),
            ]
            .into(),
            eperm_on: vec!["uid_map"],
            ..Default::default()
        };
        assert_eq!(drive(plan, d, &mut rec), 0);
        let c = &rec.calls;
        let deny = index(c, "write /proc/50/setgroups \"deny\"");
        let uid = index(c, "write /proc/50/uid_map");
        assert!(deny < uid);
        assert_eq!(
            c[uid + 1],
            "run /usr/bin/newuidmap 50 0 1000 1 1 100000 65536"
        );
        assert!(index(c, "write /proc/50/gid_map \"0 1000 1\\n\"") > uid);
        let report = index(c, "send 3 {\"stage1_pid\":50,\"stage2_pid\":60}");
        assert!(
            report < index(c, "send 10 0x43"),
            "the report comes before the ACK: {c:#?}"
        );
        assert!(index(c, "send 12 0x44") > report);
    }
}
