//! The attribute table of spec section 4, as data: one [`Row`] per attribute (number, name, payload type,
//! dialect membership), in canonical order. Every per-attribute question ([`Attribute::number`],
//! [`Attribute::name`], [`Attribute::lookup`], ...) reads [`TABLE`]; adding an attribute is one row here,
//! one variant of [`Attribute`], one payload module and one plan field.

use crate::dialect::Dialect;
use crate::wire::number::*;
use core::fmt;

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

impl PayloadType {
    /// Whether the payload is a 4-byte integer (u32 or bool).
    pub const fn is_integer(self) -> bool {
        matches!(self, PayloadType::U32 | PayloadType::Bool)
    }
}

/// An attribute, by meaning (27290 has two meanings, told apart by the dialect). The discriminant is the
/// attribute's row in [`TABLE`], which is its canonical position.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
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

/// One row of the attribute table.
#[derive(Clone, Copy, Debug)]
pub struct Row {
    /// The attribute (its discriminant is the row's index).
    pub attr: Attribute,
    /// The number on the wire.
    pub number: u16,
    /// The name (the plan's JSON key).
    pub name: &'static str,
    /// The payload's encoding.
    pub payload: PayloadType,
    /// The dialects that have the attribute, one bit each by position in [`Dialect::ALL`].
    pub dialects: u8,
}

const fn dialects(list: &[Dialect]) -> u8 {
    let mut m = 0;
    let mut i = 0;
    while i < list.len() {
        m |= list[i].bit();
        i += 1;
    }
    m
}

const ALL: u8 = dialects(&Dialect::ALL);

const fn row(
    attr: Attribute,
    number: u16,
    name: &'static str,
    payload: PayloadType,
    dialects: u8,
) -> Row {
    Row {
        attr,
        number,
        name,
        payload,
        dialects,
    }
}

/// The number of attributes: one row of [`TABLE`] and one variant of [`Attribute`] each.
pub const COUNT: usize = 12;

// A variant without a row (or a row without a variant) breaks this: the last variant is the last row.
const _: () = assert!(Attribute::ConsolePath as usize + 1 == COUNT);

/// The table of spec section 4, in canonical (encoding) order: the order of runc's Go encoder.
pub const TABLE: [Row; COUNT] = {
    use Attribute as A;
    use PayloadType as P;
    let t = [
        row(A::CloneFlags, CLONE_FLAGS, "clone_flags", P::U32, ALL),
        row(
            A::NamespacePaths,
            NS_PATHS,
            "namespace_paths",
            P::String,
            ALL,
        ),
        row(
            A::NewuidmapPath,
            NEWUIDMAP_PATH,
            "newuidmap_path",
            P::String,
            ALL,
        ),
        row(A::UidMap, UID_MAP, "uid_map", P::String, ALL),
        row(A::GidMap, GID_MAP, "gid_map", P::String, ALL),
        row(
            A::NewgidmapPath,
            NEWGIDMAP_PATH,
            "newgidmap_path",
            P::String,
            ALL,
        ),
        row(A::Setgroups, SETGROUPS, "setgroups", P::Bool, ALL),
        row(
            A::OomScoreAdj,
            OOM_SCORE_ADJ,
            "oom_score_adj",
            P::String,
            ALL,
        ),
        row(
            A::RootlessEuid,
            ROOTLESS_EUID,
            "rootless_euid",
            P::Bool,
            ALL,
        ),
        row(
            A::MountSources,
            MOUNT_SOURCES_OR_TIME_OFFSETS,
            "mount_sources",
            P::NulList,
            dialects(&[Dialect::Runc11]),
        ),
        row(
            A::TimeOffsets,
            MOUNT_SOURCES_OR_TIME_OFFSETS,
            "time_offsets",
            P::String,
            dialects(&[Dialect::Runc12, Dialect::Nsbootstrap1]),
        ),
        row(
            A::ConsolePath,
            CONSOLE_PATH,
            "console_path",
            P::String,
            dialects(&[Dialect::Nsbootstrap1]),
        ),
    ];
    // Each row's attribute is its index, so `TABLE[attr as usize]` is the attribute's row.
    let mut i = 0;
    while i < t.len() {
        assert!(t[i].attr as usize == i);
        assert!(t[i].number & 0xC000 == 0x4000);
        i += 1;
    }
    t
};

/// The index of [`BY_NUMBER`] for a number: runc's range 27281..27313, then the nsbootstrap extension
/// range 27400..27432 (the table's numbers must lie in them: checked when the index is built).
const fn key(number: u16) -> Option<usize> {
    const RUNC: u16 = CLONE_FLAGS;
    const EXT: u16 = CONSOLE_PATH;
    let n = number.wrapping_sub(RUNC);
    if n < 32 {
        return Some(n as usize);
    }
    let n = number.wrapping_sub(EXT);
    if n < 32 {
        return Some(32 + n as usize);
    }
    None
}

/// What a number means in one dialect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Meaning {
    /// No dialect knows the number.
    Unknown,
    /// This attribute.
    Here(Attribute),
    /// The protocol knows the number, but not this dialect (for 27290, the newest dialect's meaning).
    Elsewhere(Attribute),
}

/// What each number means in each dialect, by [`key`] then position in [`Dialect::ALL`]. Built from
/// [`TABLE`], so that a lookup is one load.
const BY_NUMBER: [[Meaning; 5]; 64] = {
    let mut by = [[Meaning::Unknown; 5]; 64];
    let mut i = 0;
    while i < TABLE.len() {
        let Some(k) = key(TABLE[i].number) else {
            panic!("a number outside the key ranges");
        };
        let mut d = 0;
        while d < Dialect::ALL.len() {
            let cell = &mut by[k][d];
            if TABLE[i].dialects & Dialect::ALL[d].bit() != 0 {
                // One meaning per number and dialect.
                assert!(!matches!(*cell, Meaning::Here(_)));
                *cell = Meaning::Here(TABLE[i].attr);
            } else if !matches!(*cell, Meaning::Here(_)) {
                *cell = Meaning::Elsewhere(TABLE[i].attr);
            }
            d += 1;
        }
        i += 1;
    }
    by
};

impl Attribute {
    /// Every attribute in canonical (encoding) order.
    pub const CANONICAL_ORDER: [Attribute; COUNT] = {
        let mut out = [Attribute::CloneFlags; COUNT];
        let mut i = 0;
        while i < TABLE.len() {
            out[i] = TABLE[i].attr;
            i += 1;
        }
        out
    };

    /// The attribute's row in [`TABLE`].
    pub const fn row(self) -> &'static Row {
        &TABLE[self as usize]
    }

    /// The attribute's number on the wire.
    pub const fn number(self) -> u16 {
        self.row().number
    }

    /// The attribute's name (its JSON key).
    pub const fn name(self) -> &'static str {
        self.row().name
    }

    /// The payload's encoding.
    pub const fn payload_type(self) -> PayloadType {
        self.row().payload
    }

    /// Position in the canonical order (0-based).
    pub const fn canonical_index(self) -> usize {
        self as usize
    }

    /// Whether the attribute is part of `dialect`.
    pub const fn in_dialect(self, dialect: Dialect) -> bool {
        self.row().dialects & dialect.bit() != 0
    }

    /// What a number means in `dialect`: `Ok` when the dialect has it, `Err(Some(_))` when the protocol knows
    /// the number but the dialect does not use it (for 27290, its meaning in the newest dialect),
    /// `Err(None)` when no dialect knows it.
    #[inline]
    pub fn lookup(number: u16, dialect: Dialect) -> Result<Attribute, Option<Attribute>> {
        let Some(k) = key(number) else {
            return Err(None);
        };
        match BY_NUMBER[k][dialect as usize] {
            Meaning::Here(a) => Ok(a),
            Meaning::Elsewhere(a) => Err(Some(a)),
            Meaning::Unknown => Err(None),
        }
    }

    /// A human name for a raw number, whatever the dialect (the names of its meanings, joined by `/`).
    pub fn describe_number(number: u16) -> &'static str {
        let Some(k) = key(number) else {
            return "unknown";
        };
        let mut rows = TABLE.iter().filter(|r| key(r.number) == Some(k));
        match (rows.next(), rows.next()) {
            (Some(a), Some(b))
                if (a.attr, b.attr) == (Attribute::MountSources, Attribute::TimeOffsets) =>
            {
                "mount_sources/time_offsets"
            }
            (Some(a), None) => a.name,
            (Some(_), Some(b)) => b.name,
            (None, _) => "unknown",
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
    use crate::dialect::Attr27290;

    #[test]
    fn canonical_index_matches_the_table() {
        for (i, a) in Attribute::CANONICAL_ORDER.iter().enumerate() {
            assert_eq!(a.canonical_index(), i);
            assert_eq!(TABLE[i].attr, *a);
        }
    }

    #[test]
    fn the_table_agrees_with_the_dialects() {
        for d in Dialect::ALL {
            assert_eq!(
                Attribute::MountSources.in_dialect(d),
                d.attr_27290() == Attr27290::MountSources
            );
            assert_eq!(
                Attribute::TimeOffsets.in_dialect(d),
                d.attr_27290() == Attr27290::TimeOffsets
            );
            assert_eq!(Attribute::ConsolePath.in_dialect(d), d.has_console());
        }
        assert_eq!(
            Attribute::describe_number(27290),
            "mount_sources/time_offsets"
        );
        assert_eq!(Attribute::describe_number(27283), "uid_map");
        assert_eq!(Attribute::describe_number(27291), "unknown");
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
        assert_eq!(
            Attribute::lookup(27290, Dialect::Runc10),
            Err(Some(Attribute::TimeOffsets))
        );
        assert_eq!(
            Attribute::lookup(27400, Dialect::Runc12),
            Err(Some(Attribute::ConsolePath))
        );
        assert_eq!(Attribute::lookup(27291, Dialect::Nsbootstrap1), Err(None));
        assert_eq!(Attribute::lookup(27280, Dialect::Nsbootstrap1), Err(None));
        assert_eq!(Attribute::lookup(27401, Dialect::Nsbootstrap1), Err(None));
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
