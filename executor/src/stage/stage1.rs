//! Stage 1: joins the namespaces the message names, creates the user namespace (with stage 0 writing its
//! maps) and then the others, takes the mount sources and time offsets, clones stage 2, sends its PID to
//! stage 0 and exits 0.

use super::channel::Channel;
use super::{stage2::Stage2, step, Ctx, Final};
use crate::sys::{Cloned, Sys};
use nix::errno::Errno;
use nsbootstrap_codec::dialect::{CgroupNs, JoinOrder};
use nsbootstrap_codec::{CloneFlags, NamespaceKind};
use std::os::fd::RawFd;
use std::sync::atomic::Ordering;

/// Stage 1, until it exits.
pub(super) struct Stage1<'p, 'm, S: Sys> {
    cx: Ctx<'p, 'm, S>,
    /// Stage 0's end of the first pair, stage 1's end.
    pair1: [RawFd; 2],
    /// Stage 0's end of the second pair, stage 2's end.
    pair2: [RawFd; 2],
}

impl<'p, 'm, S: Sys> Stage1<'p, 'm, S> {
    pub(super) fn new(cx: Ctx<'p, 'm, S>, pair1: [RawFd; 2], pair2: [RawFd; 2]) -> Self {
        Stage1 { cx, pair1, pair2 }
    }

    pub(super) fn run(mut self) -> Final {
        let to0 = Channel::new(self.pair1[1], "stage-0");
        let cx = &mut self.cx;
        cx.set_name();
        cx.sys.close(self.pair1[0]);
        cx.sys.close(self.pair2[0]);
        if let Some(fd) = cx.p.held_fd {
            // Stage 0's to close when it exits (not the last reference here: cheap).
            cx.sys.close(fd);
        }
        crate::log!(cx.log, Debug, "~> stage-1");
        self.join_all();
        let cx = &mut self.cx;
        let p = cx.p;
        if p.creates(NamespaceKind::User) {
            crate::log!(cx.log, Debug, "unshare user namespace");
            step!(
                cx,
                "unshare",
                cx.sys.unshare(NamespaceKind::User.flag()),
                "user namespace"
            );
            if !p.joins.is_empty() {
                step!(
                    cx,
                    "set dumpable",
                    cx.sys.set_dumpable(true),
                    "for the id maps"
                );
            }
            to0.request_id_maps(cx);
            to0.wait_id_maps_written(cx);
            if !p.joins.is_empty() {
                step!(
                    cx,
                    "set non-dumpable",
                    cx.sys.set_dumpable(false),
                    "after the id maps"
                );
            }
            step!(
                cx,
                "setresuid",
                cx.sys.become_root_uid(),
                "0 in the new user namespace"
            );
        }
        // Only namespace bits reach unshare(2): a lenient message keeps other bits (CLONE_FILES,
        // CLONE_FS, ...), which spec section 20 (R12) says must not take effect.
        let other = p.clone_flags.unknown_bits();
        if other != 0 {
            crate::log!(
                cx.log,
                Warning,
                "clone flags {other:#010x} are not namespaces: not passed to unshare"
            );
        }
        let mut rest =
            p.clone_flags.without(NamespaceKind::User).bits() & CloneFlags::NAMESPACE_BITS;
        if p.dialect.cgroup_ns() != CgroupNs::WithOthers {
            rest &= !NamespaceKind::Cgroup.flag();
        }
        if rest != 0 {
            let flags = nsbootstrap_codec::CloneFlags(rest);
            crate::log!(cx.log, Debug, "unshare {flags}");
            step!(cx, "unshare", cx.sys.unshare(rest), "{flags}");
        }
        if p.mount_sources.is_some() {
            to0.request_mount_sources(cx);
            for &to in p.mount_fds.iter().filter(|&&f| f != -1) {
                let fd = step!(
                    cx,
                    "mount sources",
                    to0.recv_fd(cx),
                    "receive the source for fd {to}"
                );
                if fd != to {
                    step!(
                        cx,
                        "mount sources",
                        cx.sys.dup3_cloexec(fd, to),
                        "move it to fd {to}"
                    );
                    cx.sys.close(fd);
                }
            }
            to0.wait_mount_sources_sent(cx);
        }
        if p.time_offsets.is_some() {
            to0.request_time_offsets(cx);
            to0.wait_time_offsets_written(cx);
        }
        let stage2 = match step!(cx, "clone stage-2", cx.sys.clone_parent(), "CLONE_PARENT") {
            Cloned::Child => {
                let Stage1 { cx, pair1, pair2 } = self;
                return Stage2::new(cx.into_stage(2), pair1[1], pair2[1]).run();
            }
            Cloned::Parent(pid) => pid,
        };
        cx.depends_on_me(stage2);
        cx.sys.close(self.pair2[1]);
        to0.send_stage2_pid(cx, stage2);
        to0.wait_pid_received(cx);
        to0.finish(cx);
        crate::log!(cx.log, Debug, "<~ stage-1");
        cx.sys.exit(0)
    }

    /// Opens every namespace first (joining the mount namespace can hide the paths), then joins them in
    /// the dialect's order (spec section 10.3). Every entry is joined, however many there are (a lenient
    /// message may name a type more than once): the descriptors live in slots stage 0 allocated.
    fn join_all(&mut self) {
        let p = self.cx.p;
        for (i, (kind, path)) in p.joins.iter().enumerate() {
            let cx = &mut self.cx;
            let fd = step!(
                cx,
                "open namespace",
                cx.sys.open_read(path),
                "{kind} {path:?}"
            );
            p.join_fds[i].store(fd, Ordering::Relaxed);
        }
        let n = p.joins.len();
        match p.dialect.join_order() {
            JoinOrder::AsGiven => {
                for i in 0..n {
                    self.join(i, false);
                }
            }
            JoinOrder::UserMiddle => {
                for pass in 0..3 {
                    for i in 0..n {
                        let is_user = p.joins[i].0 == NamespaceKind::User;
                        let this_pass = match pass {
                            1 => is_user,
                            _ => !is_user,
                        };
                        // A slot at -1 was joined (and closed) in an earlier pass.
                        if this_pass && p.join_fds[i].load(Ordering::Relaxed) >= 0 {
                            self.join(i, pass == 0);
                        }
                    }
                }
            }
        }
    }

    /// Joins one namespace; `skip_eperm` (first pass of the user-in-the-middle order) returns false on EPERM.
    fn join(&mut self, i: usize, skip_eperm: bool) -> bool {
        let cx = &mut self.cx;
        let (kind, path) = (cx.p.joins[i].0, &cx.p.joins[i].1);
        let fd = cx.p.join_fds[i].load(Ordering::Relaxed);
        match cx.sys.setns(fd, kind) {
            Ok(()) => {
                crate::log!(cx.log, Debug, "joined {kind} namespace {path:?}");
                cx.sys.close(fd);
                cx.p.join_fds[i].store(-1, Ordering::Relaxed);
                if kind == NamespaceKind::User {
                    step!(
                        cx,
                        "setresuid",
                        cx.sys.become_root_uid(),
                        "0 in the joined user namespace"
                    );
                }
                true
            }
            Err(Errno::EPERM) if skip_eperm => false,
            Err(e) => cx.die("setns", format_args!("{kind} namespace {path:?}"), Some(e)),
        }
    }
}
