//! Dialects: the protocol as spoken by each family of runc releases, and this project's own profile.
//!
//! The wire format is the same netlink message in every dialect; what differs is the meaning of attribute
//! 27290, whether the console attribute exists, the PID-report shape, the sync values between stages and a
//! few steps of the stage sequence. `spec/PROTOCOL.md` section 2 cites the runc tag behind every cell.

use core::fmt;
use core::str::FromStr;

/// A named protocol profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Dialect {
    /// runc up to v1.0.0-rc93 (the seed document's protocol).
    RuncRc93,
    /// runc v1.0.0-rc94 to v1.0.x.
    Runc10,
    /// runc v1.1.x (Debian's 1.1.5 among them).
    Runc11,
    /// runc v1.2.0 and later (v1.3 and v1.4 speak the same wire format).
    Runc12,
    /// This project's profile: the runc-1.2 wire format plus the console path.
    #[default]
    Nsbootstrap1,
}

/// What attribute 27290 carries in a dialect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attr27290 {
    /// Not part of the dialect: the attribute is refused.
    Unused,
    /// Bind-mount sources (runc 1.1).
    MountSources,
    /// Time-namespace offsets (runc 1.2 and later).
    TimeOffsets,
}

/// The shape of the PID report that stage 0 writes to the runtime.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportShape {
    /// `{"pid": STAGE2, "pid_first": STAGE1}`
    PidFirst,
    /// `{"stage1_pid":STAGE1,"stage2_pid":STAGE2}`
    Stages,
}

/// How the cgroup namespace is created.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CgroupNs {
    /// Stage 2 waits for the byte 0x80 from the runtime on the init pipe, then unshares it.
    AfterRuntimeByte,
    /// Stage 2 unshares it itself, without waiting.
    ByStage2,
    /// Stage 1 unshares it together with the other namespaces.
    WithOthers,
}

/// How stage 1 joins the namespaces named in the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JoinOrder {
    /// In the order given (the runtime puts the user namespace first).
    AsGiven,
    /// Non-user namespaces first (skipping EPERM), then the user namespace, then what is left.
    UserMiddle,
}

impl Dialect {
    /// Every dialect, oldest first.
    pub const ALL: [Dialect; 5] = [
        Dialect::RuncRc93,
        Dialect::Runc10,
        Dialect::Runc11,
        Dialect::Runc12,
        Dialect::Nsbootstrap1,
    ];

    /// The dialect's bit in the attribute table's membership masks (its position in [`Dialect::ALL`]).
    pub(crate) const fn bit(self) -> u8 {
        1 << self as u8
    }

    /// The dialect's name as used on the command line, in JSON and in the spec.
    pub const fn name(self) -> &'static str {
        match self {
            Dialect::RuncRc93 => "runc-rc93",
            Dialect::Runc10 => "runc-1.0",
            Dialect::Runc11 => "runc-1.1",
            Dialect::Runc12 => "runc-1.2",
            Dialect::Nsbootstrap1 => "nsbootstrap-1",
        }
    }

    /// Whether the executor writes one 0x00 byte on the init pipe before reading the message.
    pub const fn ready_byte(self) -> bool {
        matches!(self, Dialect::Runc10 | Dialect::Runc11)
    }

    /// The meaning of attribute 27290.
    pub const fn attr_27290(self) -> Attr27290 {
        match self {
            Dialect::RuncRc93 | Dialect::Runc10 => Attr27290::Unused,
            Dialect::Runc11 => Attr27290::MountSources,
            Dialect::Runc12 | Dialect::Nsbootstrap1 => Attr27290::TimeOffsets,
        }
    }

    /// Whether the console-path attribute (27400) exists.
    pub const fn has_console(self) -> bool {
        matches!(self, Dialect::Nsbootstrap1)
    }

    /// Whether the time namespace (`time` paths, `CLONE_NEWTIME`) is part of the dialect.
    pub const fn has_time_namespace(self) -> bool {
        matches!(self, Dialect::Runc12 | Dialect::Nsbootstrap1)
    }

    /// The PID report's shape.
    pub const fn report_shape(self) -> ReportShape {
        match self {
            Dialect::RuncRc93 => ReportShape::PidFirst,
            _ => ReportShape::Stages,
        }
    }

    /// How the cgroup namespace is created.
    pub const fn cgroup_ns(self) -> CgroupNs {
        match self {
            Dialect::RuncRc93 | Dialect::Runc10 => CgroupNs::AfterRuntimeByte,
            Dialect::Runc11 => CgroupNs::ByStage2,
            Dialect::Runc12 | Dialect::Nsbootstrap1 => CgroupNs::WithOthers,
        }
    }

    /// The order in which stage 1 joins namespaces.
    pub const fn join_order(self) -> JoinOrder {
        match self {
            Dialect::Nsbootstrap1 => JoinOrder::UserMiddle,
            _ => JoinOrder::AsGiven,
        }
    }

    /// Whether `_LIBCONTAINER_LOGLEVEL` is honoured (from runc 1.1).
    pub const fn honours_log_level(self) -> bool {
        !matches!(self, Dialect::RuncRc93 | Dialect::Runc10)
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error of parsing a dialect name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownDialect;

impl fmt::Display for UnknownDialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("unknown dialect (expected one of runc-rc93, runc-1.0, runc-1.1, runc-1.2, nsbootstrap-1)")
    }
}

impl std::error::Error for UnknownDialect {}

impl FromStr for Dialect {
    type Err = UnknownDialect;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Dialect::ALL
            .into_iter()
            .find(|d| d.name() == s)
            .ok_or(UnknownDialect)
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for Dialect {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for Dialect {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for d in Dialect::ALL {
            assert_eq!(d.name().parse::<Dialect>(), Ok(d));
        }
        assert_eq!("runc-1.3".parse::<Dialect>(), Err(UnknownDialect));
    }

    #[test]
    fn table_matches_the_spec() {
        let ready: Vec<bool> = Dialect::ALL.iter().map(|d| d.ready_byte()).collect();
        assert_eq!(ready, [false, true, true, false, false]);
        assert_eq!(Dialect::Runc11.attr_27290(), Attr27290::MountSources);
        assert_eq!(Dialect::Runc10.attr_27290(), Attr27290::Unused);
        assert_eq!(Dialect::RuncRc93.report_shape(), ReportShape::PidFirst);
        assert_eq!(Dialect::Runc11.cgroup_ns(), CgroupNs::ByStage2);
        assert!(Dialect::Nsbootstrap1.has_console() && !Dialect::Runc12.has_console());
    }
}
