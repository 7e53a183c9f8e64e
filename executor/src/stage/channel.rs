//! The channels between the stages (spec section 11): one end of a socketpair each, with a typed method
//! per message. The bytes are runc's: each sync value is a 4-byte host-order integer (the codec's
//! [`SyncMsg`] gives it in the dialect), and RECVPID_PLS goes out together with the PID in one 8-byte write.
//!
//! A method never returns on failure: the stage logs one fatal line, kills the stages that depend on it
//! and exits; an end of file (the peer failed and logged, or was killed) is logged at level error only,
//! so that a failure leaves exactly one fatal line.

use super::{step, Ctx};
use crate::sys::Sys;
use nsbootstrap_codec::sync::SyncMsg;
use std::os::fd::RawFd;

/// What stage 1 asks stage 0 for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Request {
    /// USERMAP_PLS: write the id maps.
    IdMaps,
    /// TIMEOFFSETS_PLS: write the time offsets.
    TimeOffsets,
    /// MOUNTSOURCES_PLS: send the mount sources.
    MountSources,
    /// RECVPID_PLS and the PID: stage 2 exists.
    Stage2Pid(i32),
    /// CHILD_FINISH: stage 1 is done.
    Finished,
}

/// One end of a socketpair between two stages.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Channel {
    fd: RawFd,
    /// The stage at the other end, for log lines.
    peer: &'static str,
}

impl Channel {
    /// The end `fd`, talking to `peer` ("stage-0", "stage-1", "stage-2").
    pub(crate) fn new(fd: RawFd, peer: &'static str) -> Channel {
        Channel { fd, peer }
    }

    /// The descriptor.
    pub(crate) fn fd(self) -> RawFd {
        self.fd
    }

    fn send<S: Sys>(self, cx: &mut Ctx<'_, '_, S>, s: SyncMsg) {
        let v = s.value(cx.p.dialect).unwrap_or(0);
        step!(
            cx,
            "sync",
            cx.sys.write_all(self.fd, &v.to_ne_bytes()),
            "send {s:?}"
        )
    }

    /// One 4-byte word from the peer.
    fn word<S: Sys>(self, cx: &mut Ctx<'_, '_, S>) -> u32 {
        let mut b = [0u8; 4];
        match cx.sys.read_exact(self.fd, &mut b) {
            Ok(true) => u32::from_ne_bytes(b),
            Ok(false) => {
                let peer = self.peer;
                crate::log!(
                    cx.log,
                    Error,
                    "sync: {peer} closed the sync socket (it failed or was killed)"
                );
                cx.end(1)
            }
            Err(e) => cx.die("sync", format_args!("read from {}", self.peer), Some(e)),
        }
    }

    fn expect<S: Sys>(self, cx: &mut Ctx<'_, '_, S>, want: SyncMsg) {
        let got = self.word(cx);
        if SyncMsg::from_value(got, cx.p.dialect) != Some(want) {
            cx.die(
                "sync",
                format_args!("expected {want:?} from {}, got {got:#x}", self.peer),
                None,
            );
        }
    }

    // Stage 1 to stage 0.

    /// USERMAP_PLS.
    pub(crate) fn request_id_maps<S: Sys>(self, cx: &mut Ctx<'_, '_, S>) {
        self.send(cx, SyncMsg::UsermapPls)
    }

    /// Waits for USERMAP_ACK.
    pub(crate) fn wait_id_maps_written<S: Sys>(self, cx: &mut Ctx<'_, '_, S>) {
        self.expect(cx, SyncMsg::UsermapAck)
    }

    /// MOUNTSOURCES_PLS.
    pub(crate) fn request_mount_sources<S: Sys>(self, cx: &mut Ctx<'_, '_, S>) {
        self.send(cx, SyncMsg::MountsourcesPls)
    }

    /// Waits for MOUNTSOURCES_ACK.
    pub(crate) fn wait_mount_sources_sent<S: Sys>(self, cx: &mut Ctx<'_, '_, S>) {
        self.expect(cx, SyncMsg::MountsourcesAck)
    }

    /// TIMEOFFSETS_PLS.
    pub(crate) fn request_time_offsets<S: Sys>(self, cx: &mut Ctx<'_, '_, S>) {
        self.send(cx, SyncMsg::TimeoffsetsPls)
    }

    /// Waits for TIMEOFFSETS_ACK.
    pub(crate) fn wait_time_offsets_written<S: Sys>(self, cx: &mut Ctx<'_, '_, S>) {
        self.expect(cx, SyncMsg::TimeoffsetsAck)
    }

    /// RECVPID_PLS and the PID in one write: stage 0, on the report's critical path, wakes up once.
    pub(crate) fn send_stage2_pid<S: Sys>(self, cx: &mut Ctx<'_, '_, S>, pid: i32) {
        let pls = SyncMsg::RecvpidPls.value(cx.p.dialect).unwrap_or(0);
        let mut both = [0u8; 8];
        both[..4].copy_from_slice(&pls.to_ne_bytes());
        both[4..].copy_from_slice(&pid.to_ne_bytes());
        step!(
            cx,
            "sync",
            cx.sys.write_all(self.fd, &both),
            "send RecvpidPls and the stage-2 PID"
        )
    }

    /// Waits for RECVPID_ACK.
    pub(crate) fn wait_pid_received<S: Sys>(self, cx: &mut Ctx<'_, '_, S>) {
        self.expect(cx, SyncMsg::RecvpidAck)
    }

    /// CHILD_FINISH (stage 1 or 2 to stage 0).
    pub(crate) fn finish<S: Sys>(self, cx: &mut Ctx<'_, '_, S>) {
        self.send(cx, SyncMsg::ChildFinish)
    }

    /// Receives one descriptor (a mount source).
    pub(crate) fn recv_fd<S: Sys>(
        self,
        cx: &mut Ctx<'_, '_, S>,
    ) -> Result<RawFd, nix::errno::Errno> {
        cx.sys.recv_fd(self.fd)
    }

    // Stage 0 to stage 1.

    /// The next request from stage 1; anything else fails the stage.
    pub(crate) fn recv<S: Sys>(self, cx: &mut Ctx<'_, '_, S>) -> Request {
        let v = self.word(cx);
        match SyncMsg::from_value(v, cx.p.dialect) {
            Some(SyncMsg::UsermapPls) => Request::IdMaps,
            Some(SyncMsg::TimeoffsetsPls) => Request::TimeOffsets,
            Some(SyncMsg::MountsourcesPls) => Request::MountSources,
            Some(SyncMsg::RecvpidPls) => Request::Stage2Pid(self.word(cx) as i32),
            Some(SyncMsg::ChildFinish) => Request::Finished,
            _ => cx.die(
                "sync",
                format_args!("unexpected value {v:#x} from {}", self.peer),
                None,
            ),
        }
    }

    /// USERMAP_ACK.
    pub(crate) fn id_maps_written<S: Sys>(self, cx: &mut Ctx<'_, '_, S>) {
        self.send(cx, SyncMsg::UsermapAck)
    }

    /// TIMEOFFSETS_ACK.
    pub(crate) fn time_offsets_written<S: Sys>(self, cx: &mut Ctx<'_, '_, S>) {
        self.send(cx, SyncMsg::TimeoffsetsAck)
    }

    /// MOUNTSOURCES_ACK.
    pub(crate) fn mount_sources_sent<S: Sys>(self, cx: &mut Ctx<'_, '_, S>) {
        self.send(cx, SyncMsg::MountsourcesAck)
    }

    /// Sends one descriptor (a mount source).
    pub(crate) fn send_fd<S: Sys>(
        self,
        cx: &mut Ctx<'_, '_, S>,
        fd: RawFd,
    ) -> Result<(), nix::errno::Errno> {
        cx.sys.send_fd(self.fd, fd)
    }

    /// RECVPID_ACK.
    pub(crate) fn pid_received<S: Sys>(self, cx: &mut Ctx<'_, '_, S>) {
        self.send(cx, SyncMsg::RecvpidAck)
    }

    // Stage 0 and stage 2.

    /// GRANDCHILD: stage 2 may go on.
    pub(crate) fn grant_go<S: Sys>(self, cx: &mut Ctx<'_, '_, S>) {
        self.send(cx, SyncMsg::Grandchild)
    }

    /// Waits for GRANDCHILD.
    pub(crate) fn wait_go<S: Sys>(self, cx: &mut Ctx<'_, '_, S>) {
        self.expect(cx, SyncMsg::Grandchild)
    }

    /// Waits for CHILD_FINISH.
    pub(crate) fn wait_finished<S: Sys>(self, cx: &mut Ctx<'_, '_, S>) {
        self.expect(cx, SyncMsg::ChildFinish)
    }
}
