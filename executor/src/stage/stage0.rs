//! Stage 0: the process the runtime started. It creates the channels, clones stage 1, serves stage 1's
//! requests (id maps, time offsets, mount sources, the PID report), lets stage 2 go and exits 0.

use super::channel::{Channel, Request};
use super::{stage1::Stage1, step, Ctx, Final, ProcPath};
use crate::sys::{Cloned, Sys};
use nix::errno::Errno;
use nsbootstrap_codec::{NamespaceKind, PidReport};
use std::ffi::CStr;

/// Stage 0, until it exits.
pub(super) struct Stage0<'p, 'm, S: Sys> {
    cx: Ctx<'p, 'm, S>,
    /// Stage 1's PID, once cloned.
    stage1: i32,
}

impl<'p, 'm, S: Sys> Stage0<'p, 'm, S> {
    pub(super) fn new(cx: Ctx<'p, 'm, S>) -> Self {
        Stage0 { cx, stage1: -1 }
    }

    /// Runs stage 0 from the socketpairs on. Returns only in stage 2 (through stage 1's clone).
    pub(super) fn run(mut self) -> Final {
        let cx = &mut self.cx;
        cx.set_name();
        crate::log!(cx.log, Debug, "~> stage-0");
        let pair1 = step!(cx, "socketpair", cx.sys.socketpair(), "stage 0 and 1");
        let pair2 = step!(cx, "socketpair", cx.sys.socketpair(), "stage 0 and 2");
        match step!(cx, "clone stage-1", cx.sys.clone_parent(), "CLONE_PARENT") {
            Cloned::Child => {
                let Stage0 { cx, .. } = self;
                return Stage1::new(cx.into_stage(1), pair1, pair2).run();
            }
            Cloned::Parent(pid) => {
                self.stage1 = pid;
                cx.depends_on_me(pid);
            }
        }
        let (to1, to2) = (
            Channel::new(pair1[0], "stage-1"),
            Channel::new(pair2[0], "stage-2"),
        );
        cx.sys.close(pair1[1]);
        cx.sys.close(pair2[1]);
        crate::log!(cx.log, Debug, "stage-1 is {}", self.stage1);
        loop {
            match to1.recv(&mut self.cx) {
                Request::IdMaps => {
                    self.write_id_maps();
                    to1.id_maps_written(&mut self.cx);
                }
                Request::TimeOffsets => {
                    self.write_time_offsets();
                    to1.time_offsets_written(&mut self.cx);
                }
                Request::MountSources => {
                    self.send_mount_sources(to1);
                    to1.mount_sources_sent(&mut self.cx);
                }
                Request::Stage2Pid(pid) => {
                    self.report(pid);
                    // The report goes out before the ACK: the runtime, which waits for it, learns the
                    // PIDs before stage 1 wakes up to compete for a CPU.
                    to1.pid_received(&mut self.cx);
                }
                Request::Finished => break,
            }
        }
        let cx = &mut self.cx;
        cx.sys.close(to1.fd());
        to2.grant_go(cx);
        to2.wait_finished(cx);
        crate::log!(cx.log, Debug, "<~ stage-0");
        cx.sys.exit(0)
    }

    /// Writes the PID report (spec section 12) on the init pipe, in one write.
    fn report(&mut self, stage2: i32) {
        let cx = &mut self.cx;
        cx.depends_on_me(stage2);
        let report = PidReport {
            stage1: self.stage1,
            stage2,
        };
        let mut line = crate::log::StackBuf::<96>::new();
        let _ = report.write_line(cx.p.dialect, &mut line);
        crate::log!(
            cx.log,
            Debug,
            "report stage-1 {} and stage-2 {}",
            self.stage1,
            stage2
        );
        step!(
            cx,
            "write the PID report",
            cx.sys.write_all(cx.init_pipe, line.as_bytes()),
            "init pipe"
        );
    }

    /// Writes the message's time-offset text to stage 1's `timens_offsets` (spec section 10.5).
    fn write_time_offsets(&mut self) {
        let cx = &mut self.cx;
        let pid = self.stage1;
        let text = cx.p.time_offsets.unwrap_or(b"");
        let path = ProcPath::new(pid, b"timens_offsets");
        crate::log!(cx.log, Debug, "write /proc/{pid}/timens_offsets");
        step!(
            cx,
            "write time offsets",
            cx.sys.write_file(path.as_cstr(), text),
            "/proc/{pid}/timens_offsets"
        );
    }

    /// Stage 0's part of the runc-1.1 mount sources: from inside stage 1's mount namespace, open each
    /// source with O_PATH and send it to stage 1.
    fn send_mount_sources(&mut self, to1: Channel) {
        let cx = &mut self.cx;
        let pid = self.stage1;
        let host = step!(
            cx,
            "mount sources",
            cx.sys.open_read(c"/proc/self/ns/mnt"),
            "open /proc/self/ns/mnt"
        );
        let theirs = ProcPath::new(pid, b"ns/mnt");
        let container = step!(
            cx,
            "mount sources",
            cx.sys.open_read(theirs.as_cstr()),
            "open /proc/{pid}/ns/mnt"
        );
        step!(
            cx,
            "mount sources",
            cx.sys.setns(container, NamespaceKind::Mnt),
            "join /proc/{pid}/ns/mnt"
        );
        let p = cx.p;
        for src in p.mount_source_paths() {
            let fd = step!(cx, "mount sources", cx.sys.open_path(src), "open {src:?}");
            step!(cx, "mount sources", to1.send_fd(cx, fd), "send {src:?}");
            cx.sys.close(fd);
        }
        step!(
            cx,
            "mount sources",
            cx.sys.setns(host, NamespaceKind::Mnt),
            "return to the host mount namespace"
        );
        cx.sys.close(host);
        cx.sys.close(container);
    }

    /// Stage 0's id-map work for stage 1 (spec section 10.4): the maps' text is the message's own.
    fn write_id_maps(&mut self) {
        let pid = self.stage1;
        let p = self.cx.p;
        if p.rootless_euid == Some(true) && p.setgroups != Some(true) {
            let cx = &mut self.cx;
            let path = ProcPath::new(pid, b"setgroups");
            match cx.sys.write_file(path.as_cstr(), b"deny") {
                Ok(()) | Err(Errno::ENOENT) => {}
                Err(e) => cx.die(
                    "write setgroups",
                    format_args!("/proc/{pid}/setgroups"),
                    Some(e),
                ),
            }
        }
        for (file, map) in [(&b"uid_map"[..], &p.uid_map), (&b"gid_map"[..], &p.gid_map)] {
            let Some(map) = map else { continue };
            let cx = &mut self.cx;
            let name = std::str::from_utf8(file).unwrap_or("map");
            let path = ProcPath::new(pid, file);
            crate::log!(cx.log, Debug, "write /proc/{pid}/{name}");
            match cx.sys.write_file(path.as_cstr(), map.text) {
                Ok(()) => {}
                Err(Errno::EPERM) if map.helper.is_some() => {
                    if let Some(helper) = &map.helper {
                        let path = helper.path.as_c_str();
                        crate::log!(cx.log, Debug, "/proc/{pid}/{name}: EPERM, running {path:?}");
                        self.run_helper(path, &helper.words, name);
                    }
                }
                Err(e) => cx.die("write id map", format_args!("/proc/{pid}/{name}"), Some(e)),
            }
        }
    }

    /// Runs newuidmap/newgidmap: `helper PID inside outside count ...`, from the words stage 0 prepared
    /// before the clones and the PID formatted on the stack.
    fn run_helper(&mut self, helper: &CStr, words: &[std::ffi::CString], name: &str) {
        // 340 ranges (spec section 17) of three words, the helper and the PID: 1022 arguments.
        const MAX: usize = 1024;
        let cx = &mut self.cx;
        let pid = self.stage1;
        let mut pid_buf = crate::log::StackBuf::<16>::new();
        let _ = std::fmt::Write::write_fmt(&mut pid_buf, format_args!("{pid}\0"));
        let pid_arg = CStr::from_bytes_until_nul(pid_buf.as_bytes()).unwrap_or(c"");
        if words.len() + 2 >= MAX {
            cx.die(
                "write id map",
                format_args!("run {helper:?}"),
                Some(Errno::E2BIG),
            );
        }
        let mut argv: [&CStr; MAX] = [c""; MAX];
        argv[0] = helper;
        argv[1] = pid_arg;
        for (a, w) in argv[2..].iter_mut().zip(words) {
            *a = w.as_c_str();
        }
        match cx.sys.run(&argv[..words.len() + 2]) {
            Ok(0) => {}
            Ok(status) => cx.die(
                "write id map",
                format_args!("{helper:?} for /proc/{pid}/{name} exited with status {status}"),
                None,
            ),
            Err(e) => cx.die("write id map", format_args!("run {helper:?}"), Some(e)),
        }
    }
}
