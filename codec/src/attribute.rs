//! The attribute table: numbers, names, payload types, canonical order and dialect membership.

use crate::dialect::{Attr27290, Dialect};
use core::fmt;

/// The message type in the netlink header.
pub const INIT_MSG: u16 = 62000;

/// Attribute numbers on the wire (all 16 bits: bit 0x4000 is part of the number, not a flag).
pub mod number {
    /// Clone flags.
    pub const CLONE_FLAGS: u16 = 27281;
    /// Namespace paths.
    pub const NS_PATHS: u16 = 27282;
    /// uid map.
    pub const UID_MAP: u16 = 27283;
    /// gid map.
    pub const GID_MAP: u16 = 27284;
    /// setgroups.
    pub const SETGROUPS: u16 = 27285;
    /// oom_score_adj.
    pub const OOM_SCORE_ADJ: u16 = 27286;
    /// Rootless euid.
    pub const ROOTLESS_EUID: u16 = 27287;
    /// newuidmap path.
    pub const NEWUIDMAP_PATH: u16 = 27288;
    /// newgidmap path.
    pub const NEWGIDMAP_PATH: u16 = 27289;
    /// Mount sources (runc-1.1) or time offsets (runc-1.2, nsbootstrap-1).
    pub const MOUNT_SOURCES_OR_TIME_OFFSETS: u16 = 27290;
    /// Console path (nsbootstrap-1; the start of the nsbootstrap extension range).
    pub const CONSOLE_PATH: u16 = 27400;
}

/// How an attribute's payload is encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PayloadType {
    /// A 4-byte host-order unsigned integer.
    U32,
    /// A 4-byte host-order unsigned integer, 0 or 1 (lenient: one byte too).
    Bool,
    /// Text followed by one NUL, with no NUL inside.
    String,
    /// Entries, each followed by a NUL, then the string's own NUL.
    NulList,
}

/// An attribute, by meaning (27290 has two meanings, told apart by the dialect).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Attribute {
    /// 27281, u32.
    CloneFlags,
    /// 27282, `type:path` list.
    NamespacePaths,
    /// 27288, path of the newuidmap helper.
    NewuidmapPath,
    /// 27283, uid map text.
    UidMap,
    /// 27284, gid map text.
    GidMap,
    /// 27289, path of the newgidmap helper.
    NewgidmapPath,
    /// 27285, bool.
    Setgroups,
    /// 27286, decimal text.
    OomScoreAdj,
    /// 27287, bool.
    RootlessEuid,
    /// 27290 in runc-1.1.
    MountSources,
    /// 27290 in runc-1.2 and nsbootstrap-1.
    TimeOffsets,
    /// 27400 in nsbootstrap-1.
    ConsolePath,
}

impl Attribute {
    /// Every attribute in canonical (encoding) order, the order of runc's Go encoder.
    pub const CANONICAL_ORDER: [Attribute; 12] = [
        Attribute::CloneFlags,
        Attribute::NamespacePaths,
        Attribute::NewuidmapPath,
        Attribute::UidMap,
        Attribute::GidMap,
        Attribute::NewgidmapPath,
        Attribute::Setgroups,
        Attribute::OomScoreAdj,
        Attribute::RootlessEuid,
        Attribute::MountSources,
        Attribute::TimeOffsets,
        Attribute::ConsolePath,
    ];

    /// The attribute's number on the wire.
    pub const fn number(self) -> u16 {
        use number::*;
        match self {
            Attribute::CloneFlags => CLONE_FLAGS,
            Attribute::NamespacePaths => NS_PATHS,
            Attribute::NewuidmapPath => NEWUIDMAP_PATH,
            Attribute::UidMap => UID_MAP,
            Attribute::GidMap => GID_MAP,
            Attribute::NewgidmapPath => NEWGIDMAP_PATH,
            Attribute::Setgroups => SETGROUPS,
            Attribute::OomScoreAdj => OOM_SCORE_ADJ,
            Attribute::RootlessEuid => ROOTLESS_EUID,
            Attribute::MountSources | Attribute::TimeOffsets => MOUNT_SOURCES_OR_TIME_OFFSETS,
            Attribute::ConsolePath => CONSOLE_PATH,
        }
    }

    /// The attribute's name (its JSON key).
    pub const fn name(self) -> &'static str {
        match self {
            Attribute::CloneFlags => "clone_flags",
            Attribute::NamespacePaths => "namespace_paths",
            Attribute::NewuidmapPath => "newuidmap_path",
            Attribute::UidMap => "uid_map",
            Attribute::GidMap => "gid_map",
            Attribute::NewgidmapPath => "newgidmap_path",
            Attribute::Setgroups => "setgroups",
            Attribute::OomScoreAdj => "oom_score_adj",
            Attribute::RootlessEuid => "rootless_euid",
            Attribute::MountSources => "mount_sources",
            Attribute::TimeOffsets => "time_offsets",
            Attribute::ConsolePath => "console_path",
        }
    }

    /// The payload's encoding.
    pub const fn payload_type(self) -> PayloadType {
        match self {
            Attribute::CloneFlags => PayloadType::U32,
            Attribute::Setgroups | Attribute::RootlessEuid => PayloadType::Bool,
            Attribute::MountSources => PayloadType::NulList,
            _ => PayloadType::String,
        }
    }

    /// Position in the canonical order (0-based).
    pub const fn canonical_index(self) -> usize {
        self as usize
    }

    /// Whether the attribute is part of `dialect`.
    pub const fn in_dialect(self, dialect: Dialect) -> bool {
        match self {
            Attribute::MountSources => matches!(dialect.attr_27290(), Attr27290::MountSources),
            Attribute::TimeOffsets => matches!(dialect.attr_27290(), Attr27290::TimeOffsets),
            Attribute::ConsolePath => dialect.has_console(),
            _ => true,
        }
    }

    /// What a number means in `dialect`: `Ok` when the dialect has it, `Err(Some(_))` when the protocol knows
    /// the number but the dialect does not use it, `Err(None)` when no dialect knows it.
    pub fn lookup(number: u16, dialect: Dialect) -> Result<Attribute, Option<Attribute>> {
        use number::*;
        // 27281 to 27289, by number: every dialect has them. A table rather than a `match`, which compiles
        // to an indirect jump the decoder's walk would take once per attribute.
        const ALL_DIALECTS: [Attribute; 9] = [
            Attribute::CloneFlags,
            Attribute::NamespacePaths,
            Attribute::UidMap,
            Attribute::GidMap,
            Attribute::Setgroups,
            Attribute::OomScoreAdj,
            Attribute::RootlessEuid,
            Attribute::NewuidmapPath,
            Attribute::NewgidmapPath,
        ];
        if let Some(&attr) = ALL_DIALECTS.get(usize::from(number.wrapping_sub(CLONE_FLAGS))) {
            return Ok(attr);
        }
        let attr = match number {
            MOUNT_SOURCES_OR_TIME_OFFSETS => match dialect.attr_27290() {
                Attr27290::MountSources => Attribute::MountSources,
                Attr27290::TimeOffsets => Attribute::TimeOffsets,
                Attr27290::Unused => return Err(Some(Attribute::TimeOffsets)),
            },
            CONSOLE_PATH => Attribute::ConsolePath,
            _ => return Err(None),
        };
        if attr.in_dialect(dialect) {
            Ok(attr)
        } else {
            Err(Some(attr))
        }
    }

    /// A human name for a raw number, whatever the dialect.
    pub fn describe_number(number: u16) -> &'static str {
        match number {
            number::MOUNT_SOURCES_OR_TIME_OFFSETS => "mount_sources/time_offsets",
            n => match Attribute::lookup(n, Dialect::Nsbootstrap1) {
                Ok(a) | Err(Some(a)) => a.name(),
                Err(None) => "unknown",
            },
        }
    }
}

impl fmt::Display for Attribute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name(), self.number())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_index_matches_the_table() {
        for (i, a) in Attribute::CANONICAL_ORDER.iter().enumerate() {
            assert_eq!(a.canonical_index(), i);
        }
    }

    #[test]
    fn numbers_keep_bit_0x4000_and_never_set_0x8000() {
        for a in Attribute::CANONICAL_ORDER {
            assert_eq!(a.number() & 0xC000, 0x4000, "{a}");
        }
    }

    #[test]
    fn lookup_depends_on_the_dialect() {
        assert_eq!(
            Attribute::lookup(27290, Dialect::Runc11),
            Ok(Attribute::MountSources)
        );
        assert_eq!(
            Attribute::lookup(27290, Dialect::Runc12),
            Ok(Attribute::TimeOffsets)
        );
        assert!(matches!(
            Attribute::lookup(27290, Dialect::Runc10),
            Err(Some(_))
        ));
        assert_eq!(
            Attribute::lookup(27400, Dialect::Runc12),
            Err(Some(Attribute::ConsolePath))
        );
        assert_eq!(Attribute::lookup(27291, Dialect::Nsbootstrap1), Err(None));
        assert_eq!(Attribute::lookup(27280, Dialect::Nsbootstrap1), Err(None));
        for d in Dialect::ALL {
            for a in Attribute::CANONICAL_ORDER {
                let found = Attribute::lookup(a.number(), d);
                // 27290 has one meaning per dialect that has it.
                assert_eq!(found == Ok(a), a.in_dialect(d), "{a} {d}");
            }
        }
        assert_eq!(
            Attribute::lookup(27281 & !0x4000, Dialect::Nsbootstrap1),
            Err(None)
        );
    }
}
