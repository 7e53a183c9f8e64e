//! Namespace kinds and the clone-flags set.

use core::fmt;

/// A Linux namespace type, as named in the protocol's `type:path` entries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum NamespaceKind {
    /// `cgroup`, `CLONE_NEWCGROUP`.
    Cgroup,
    /// `ipc`, `CLONE_NEWIPC`.
    Ipc,
    /// `mnt`, `CLONE_NEWNS`.
    Mnt,
    /// `net`, `CLONE_NEWNET`.
    Net,
    /// `pid`, `CLONE_NEWPID`.
    Pid,
    /// `time`, `CLONE_NEWTIME` (runc-1.2 and nsbootstrap-1 only).
    Time,
    /// `user`, `CLONE_NEWUSER`.
    User,
    /// `uts`, `CLONE_NEWUTS`.
    Uts,
}

/// `CLONE_NEWTIME`.
pub const CLONE_NEWTIME: u32 = 0x0000_0080;
/// `CLONE_NEWNS`.
pub const CLONE_NEWNS: u32 = 0x0002_0000;
/// `CLONE_NEWCGROUP`.
pub const CLONE_NEWCGROUP: u32 = 0x0200_0000;
/// `CLONE_NEWUTS`.
pub const CLONE_NEWUTS: u32 = 0x0400_0000;
/// `CLONE_NEWIPC`.
pub const CLONE_NEWIPC: u32 = 0x0800_0000;
/// `CLONE_NEWUSER`.
pub const CLONE_NEWUSER: u32 = 0x1000_0000;
/// `CLONE_NEWPID`.
pub const CLONE_NEWPID: u32 = 0x2000_0000;
/// `CLONE_NEWNET`.
pub const CLONE_NEWNET: u32 = 0x4000_0000;

impl NamespaceKind {
    /// Every kind, in ascending order of its clone flag (the order of the JSON `clone_flags` array).
    pub const BY_FLAG: [NamespaceKind; 8] = [
        NamespaceKind::Time,
        NamespaceKind::Mnt,
        NamespaceKind::Cgroup,
        NamespaceKind::Uts,
        NamespaceKind::Ipc,
        NamespaceKind::User,
        NamespaceKind::Pid,
        NamespaceKind::Net,
    ];

    /// The name used in namespace-path entries and in JSON.
    pub const fn name(self) -> &'static str {
        match self {
            NamespaceKind::Cgroup => "cgroup",
            NamespaceKind::Ipc => "ipc",
            NamespaceKind::Mnt => "mnt",
            NamespaceKind::Net => "net",
            NamespaceKind::Pid => "pid",
            NamespaceKind::Time => "time",
            NamespaceKind::User => "user",
            NamespaceKind::Uts => "uts",
        }
    }

    /// The `CLONE_NEW*` flag of this kind.
    pub const fn flag(self) -> u32 {
        match self {
            NamespaceKind::Cgroup => CLONE_NEWCGROUP,
            NamespaceKind::Ipc => CLONE_NEWIPC,
            NamespaceKind::Mnt => CLONE_NEWNS,
            NamespaceKind::Net => CLONE_NEWNET,
            NamespaceKind::Pid => CLONE_NEWPID,
            NamespaceKind::Time => CLONE_NEWTIME,
            NamespaceKind::User => CLONE_NEWUSER,
            NamespaceKind::Uts => CLONE_NEWUTS,
        }
    }

    /// Looks a kind up by its protocol name (exact, case-sensitive).
    pub fn from_name(name: &[u8]) -> Option<NamespaceKind> {
        Some(match name {
            b"cgroup" => NamespaceKind::Cgroup,
            b"ipc" => NamespaceKind::Ipc,
            b"mnt" => NamespaceKind::Mnt,
            b"net" => NamespaceKind::Net,
            b"pid" => NamespaceKind::Pid,
            b"time" => NamespaceKind::Time,
            b"user" => NamespaceKind::User,
            b"uts" => NamespaceKind::Uts,
            _ => return None,
        })
    }
}

impl fmt::Display for NamespaceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The clone-flags attribute: the namespaces to create, plus any other bits a lenient decoder kept.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct CloneFlags(pub u32);

impl CloneFlags {
    /// Every namespace bit the protocol knows.
    pub const NAMESPACE_BITS: u32 = CLONE_NEWTIME
        | CLONE_NEWNS
        | CLONE_NEWCGROUP
        | CLONE_NEWUTS
        | CLONE_NEWIPC
        | CLONE_NEWUSER
        | CLONE_NEWPID
        | CLONE_NEWNET;

    /// No namespace to create.
    pub const fn empty() -> Self {
        CloneFlags(0)
    }

    /// The raw value on the wire.
    pub const fn bits(self) -> u32 {
        self.0
    }

    /// Whether the flags ask for a new namespace of `kind`.
    pub const fn contains(self, kind: NamespaceKind) -> bool {
        self.0 & kind.flag() != 0
    }

    /// The flags with `kind` added.
    #[must_use]
    pub const fn with(self, kind: NamespaceKind) -> Self {
        CloneFlags(self.0 | kind.flag())
    }

    /// The flags with `kind` removed.
    #[must_use]
    pub const fn without(self, kind: NamespaceKind) -> Self {
        CloneFlags(self.0 & !kind.flag())
    }

    /// Bits that name no namespace the protocol knows.
    pub const fn unknown_bits(self) -> u32 {
        self.0 & !Self::NAMESPACE_BITS
    }

    /// The namespaces to create, in ascending flag order.
    pub fn namespaces(self) -> impl Iterator<Item = NamespaceKind> {
        NamespaceKind::BY_FLAG
            .into_iter()
            .filter(move |k| self.contains(*k))
    }
}

impl FromIterator<NamespaceKind> for CloneFlags {
    fn from_iter<T: IntoIterator<Item = NamespaceKind>>(iter: T) -> Self {
        iter.into_iter().fold(CloneFlags::empty(), CloneFlags::with)
    }
}

impl fmt::Display for CloneFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for k in self.namespaces() {
            if !first {
                f.write_str("|")?;
            }
            first = false;
            f.write_str(k.name())?;
        }
        if self.unknown_bits() != 0 {
            if !first {
                f.write_str("|")?;
            }
            first = false;
            write!(f, "{:#010x}", self.unknown_bits())?;
        }
        if first {
            f.write_str("none")?;
        }
        Ok(())
    }
}

/// serde for a namespace kind by name.
#[cfg(feature = "serde")]
pub(crate) mod kind_serde {
    use super::NamespaceKind;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(k: &NamespaceKind, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(k.name())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NamespaceKind, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        NamespaceKind::from_name(s.as_bytes()).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "unknown namespace type {s:?} (expected cgroup, ipc, mnt, net, pid, time, user or uts)"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_are_the_kernel_values() {
        let all: CloneFlags = NamespaceKind::BY_FLAG.into_iter().collect();
        assert_eq!(all.bits(), 0x7E02_0080);
        assert_eq!(all.unknown_bits(), 0);
        let order: Vec<u32> = NamespaceKind::BY_FLAG.iter().map(|k| k.flag()).collect();
        let mut sorted = order.clone();
        sorted.sort_unstable();
        assert_eq!(order, sorted);
    }

    #[test]
    fn display_names_kinds_and_unknown_bits() {
        let f = CloneFlags(CLONE_NEWUSER | CLONE_NEWPID | 0x100);
        assert_eq!(f.to_string(), "user|pid|0x00000100");
        assert_eq!(CloneFlags::empty().to_string(), "none");
        assert_eq!(NamespaceKind::from_name(b"mnt"), Some(NamespaceKind::Mnt));
        assert_eq!(NamespaceKind::from_name(b"MNT"), None);
        for k in NamespaceKind::BY_FLAG {
            assert_eq!(NamespaceKind::from_name(k.name().as_bytes()), Some(k));
        }
    }
}
