//! Stage 2: the final process, first in the new PID namespace. It waits for stage 0's go, becomes root
//! in its session, creates the cgroup namespace where the dialect leaves that to it, takes the console,
//! tells stage 0 it is done and returns to the caller of the entry point.

use super::channel::Channel;
use super::{step, Ctx, Final};
use crate::sys::Sys;
use nsbootstrap_codec::dialect::CgroupNs;
use nsbootstrap_codec::sync::CREATE_CGROUP_NS;
use nsbootstrap_codec::NamespaceKind;
use std::os::fd::RawFd;

/// Stage 2, until it returns.
pub(super) struct Stage2<'p, 'm, S: Sys> {
    cx: Ctx<'p, 'm, S>,
    /// Stage 1's end of the first pair (inherited; closed at once).
    stage1_end: RawFd,
    /// The channel to stage 0.
    to0: Channel,
}

impl<'p, 'm, S: Sys> Stage2<'p, 'm, S> {
    pub(super) fn new(cx: Ctx<'p, 'm, S>, stage1_end: RawFd, to0: RawFd) -> Self {
        Stage2 {
            cx,
            stage1_end,
            to0: Channel::new(to0, "stage-0"),
        }
    }

    pub(super) fn run(mut self) -> Final {
        let to0 = self.to0;
        let cx = &mut self.cx;
        cx.set_name();
        cx.sys.close(self.stage1_end);
        crate::log!(cx.log, Debug, "~> stage-2");
        to0.wait_go(cx);
        let p = cx.p;
        step!(cx, "setsid", cx.sys.setsid(), "new session");
        step!(cx, "setuid", cx.sys.setuid_root(), "0");
        step!(cx, "setgid", cx.sys.setgid_root(), "0");
        if p.rootless_euid != Some(true) && p.setgroups == Some(true) {
            step!(cx, "setgroups", cx.sys.clear_groups(), "empty list");
        }
        if p.creates(NamespaceKind::Cgroup) {
            self.cgroup_namespace();
        }
        let cx = &mut self.cx;
        if let Some(console) = &p.console {
            let fd = step!(cx, "open console", cx.sys.open_rdwr(console), "{console:?}");
            step!(
                cx,
                "console",
                cx.sys.set_controlling_tty(fd),
                "TIOCSCTTY on {console:?}"
            );
            for to in 0..3 {
                step!(cx, "console", cx.sys.dup2(fd, to), "dup2 onto fd {to}");
            }
            if fd > 2 {
                cx.sys.close(fd);
            }
        }
        to0.finish(cx);
        cx.sys.close(to0.fd());
        crate::log!(cx.log, Debug, "<= bootstrap done");
        Final {
            init_pipe: cx.init_pipe,
            logger: cx.log,
        }
    }

    /// The cgroup namespace, where the dialect leaves it to stage 2 (spec section 10.6).
    fn cgroup_namespace(&mut self) {
        let cx = &mut self.cx;
        match cx.p.dialect.cgroup_ns() {
            CgroupNs::AfterRuntimeByte => {
                // Watch the sync socket too: if stage 0 dies meanwhile, its end closes and this stage
                // stops waiting for a runtime that may never write.
                let which = step!(
                    cx,
                    "cgroup sync",
                    cx.sys.wait_either(cx.init_pipe, self.to0.fd()),
                    "wait for the runtime's byte"
                );
                if which == 1 {
                    crate::log!(cx.log, Error, "cgroup sync: stage-0 closed the sync socket while waiting for the runtime's 0x80");
                    cx.end(1);
                }
                let mut b = [0u8; 1];
                let ok = step!(
                    cx,
                    "cgroup sync",
                    cx.sys.read_exact(cx.init_pipe, &mut b),
                    "read from the init pipe"
                );
                if !ok || b[0] != CREATE_CGROUP_NS {
                    cx.die(
                        "cgroup sync",
                        format_args!(
                            "expected byte 0x80 from the runtime, got {}",
                            if ok { b[0] as i32 } else { -1 }
                        ),
                        None,
                    );
                }
                step!(
                    cx,
                    "unshare",
                    cx.sys.unshare(NamespaceKind::Cgroup.flag()),
                    "cgroup namespace"
                );
            }
            CgroupNs::ByStage2 => {
                step!(
                    cx,
                    "unshare",
                    cx.sys.unshare(NamespaceKind::Cgroup.flag()),
                    "cgroup namespace"
                );
            }
            CgroupNs::WithOthers => {}
        }
    }
}
