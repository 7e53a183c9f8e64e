//! Sync values between the stages, as runc defines them (spec section 11). The channel between stages is
//! internal to an executor; these values are documented for interoperability and debugging.

use crate::dialect::{Attr27290, Dialect};

/// One sync message between stages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SyncMsg {
    /// Stage 1 asks stage 0 to write its id maps.
    UsermapPls,
    /// Stage 0 has written them.
    UsermapAck,
    /// Stage 1 is about to send the stage-2 PID.
    RecvpidPls,
    /// Stage 0 received it.
    RecvpidAck,
    /// Stage 0 lets stage 2 run.
    Grandchild,
    /// A stage is done ("child ready" in runc-rc93, "child finish" later).
    ChildFinish,
    /// Stage 1 asks for mount-source fds (runc-1.1).
    MountsourcesPls,
    /// They were all sent (runc-1.1).
    MountsourcesAck,
    /// Stage 1 asks stage 0 to write time offsets (runc-1.2, nsbootstrap-1).
    TimeoffsetsPls,
    /// They were written.
    TimeoffsetsAck,
}

impl SyncMsg {
    /// The value on the wire in `dialect`, `None` where the dialect has no such message.
    pub fn value(self, dialect: Dialect) -> Option<u32> {
        let extra = dialect.attr_27290();
        match self {
            SyncMsg::UsermapPls => Some(0x40),
            SyncMsg::UsermapAck => Some(0x41),
            SyncMsg::RecvpidPls => Some(0x42),
            SyncMsg::RecvpidAck => Some(0x43),
            SyncMsg::Grandchild => Some(0x44),
            SyncMsg::ChildFinish => Some(0x45),
            SyncMsg::MountsourcesPls => (extra == Attr27290::MountSources).then_some(0x46),
            SyncMsg::MountsourcesAck => (extra == Attr27290::MountSources).then_some(0x47),
            SyncMsg::TimeoffsetsPls => (extra == Attr27290::TimeOffsets).then_some(0x46),
            SyncMsg::TimeoffsetsAck => (extra == Attr27290::TimeOffsets).then_some(0x47),
        }
    }

    /// The message a value means in `dialect`.
    pub fn from_value(value: u32, dialect: Dialect) -> Option<SyncMsg> {
        [
            SyncMsg::UsermapPls,
            SyncMsg::UsermapAck,
            SyncMsg::RecvpidPls,
            SyncMsg::RecvpidAck,
            SyncMsg::Grandchild,
            SyncMsg::ChildFinish,
            SyncMsg::MountsourcesPls,
            SyncMsg::MountsourcesAck,
            SyncMsg::TimeoffsetsPls,
            SyncMsg::TimeoffsetsAck,
        ]
        .into_iter()
        .find(|s| s.value(dialect) == Some(value))
    }
}

/// The byte a runtime writes on the init pipe to let stage 2 create the cgroup namespace (runc-rc93, runc-1.0).
pub const CREATE_CGROUP_NS: u8 = 0x80;

/// The byte a runtime writes on the init pipe to let `nsbootstrap init` exec its command (nsbootstrap-1).
pub const GO_AHEAD: u8 = 0x01;

/// The byte that starts a go-ahead carrying a final-process setup record (nsbootstrap-1, spec section
/// 14.1, [`crate::setup`]).
pub const GO_SETUP: u8 = 0x02;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_depend_on_the_dialect() {
        assert_eq!(
            SyncMsg::from_value(0x46, Dialect::Runc11),
            Some(SyncMsg::MountsourcesPls)
        );
        assert_eq!(
            SyncMsg::from_value(0x46, Dialect::Runc12),
            Some(SyncMsg::TimeoffsetsPls)
        );
        assert_eq!(SyncMsg::from_value(0x46, Dialect::Runc10), None);
        assert_eq!(SyncMsg::ChildFinish.value(Dialect::RuncRc93), Some(0x45));
    }
}
