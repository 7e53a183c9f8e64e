//! The namespace-paths payload: `type:path` entries joined by `,`.

use super::{Payload, Report};
use crate::dialect::Dialect;
use crate::error::{Problem, Snippet};
use crate::namespace::NamespaceKind;
use crate::text::{self, Mode};
use crate::wire::Sink;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// A namespace to join: its kind and the path of its namespace file.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct NamespacePath {
    /// The namespace kind.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "type", with = "crate::namespace::kind_serde")
    )]
    pub kind: NamespaceKind,
    /// The namespace file, e.g. `/proc/1234/ns/net`.
    pub path: PathBuf,
}

impl NamespacePath {
    /// A join of `kind` by `path`.
    pub fn new(kind: NamespaceKind, path: impl Into<PathBuf>) -> Self {
        NamespacePath {
            kind,
            path: path.into(),
        }
    }
}

/// A borrowed namespace entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NamespacePathRef<'a> {
    /// The namespace kind.
    pub kind: NamespaceKind,
    /// The path, borrowed from the message.
    pub path: &'a Path,
}

impl NamespacePathRef<'_> {
    /// An owned copy.
    pub fn to_owned(&self) -> NamespacePath {
        NamespacePath::new(self.kind, self.path)
    }
}

/// The lenient grammar of one entry (strict text goes through [`strict`]). `Err` holds the offset within
/// the entry and the problem.
fn parse_entry(
    entry: &[u8],
    mode: Mode,
    dialect: Dialect,
) -> Result<NamespacePathRef<'_>, (usize, Problem)> {
    let bad = || {
        (
            0,
            Problem::BadNamespaceEntry {
                entry: Snippet::new(entry),
            },
        )
    };
    let colon = entry.iter().position(|&b| b == b':').ok_or_else(bad)?;
    let (name, path) = (&entry[..colon], &entry[colon + 1..]);
    let kind = NamespaceKind::from_name(name).ok_or((
        0,
        Problem::UnknownNamespaceType {
            name: Snippet::new(name),
        },
    ))?;
    if kind == NamespaceKind::Time && mode == Mode::Strict && !dialect.has_time_namespace() {
        return Err((0, Problem::NamespaceTypeNotInDialect { kind }));
    }
    if path.is_empty() {
        return Err(bad());
    }
    text::check_path(path, mode).map_err(|p| (colon + 1, p))?;
    Ok(NamespacePathRef {
        kind,
        path: Path::new(OsStr::from_bytes(path)),
    })
}

/// Entries with their offsets in the text; lenient mode skips empty entries as `strtok` does.
fn entries(text: &[u8], mode: Mode) -> impl Iterator<Item = (usize, &[u8])> {
    let mut pos = 0;
    text.split(|&b| b == b',')
        .map(move |e| {
            let at = pos;
            pos += e.len() + 1;
            (at, e)
        })
        .filter(move |(_, e)| mode == Mode::Strict || !e.is_empty())
}

/// Validates the text. `Ok` holds the number of entries; `Err` the offending offset in `text` and the problem.
pub(crate) fn validate(
    text: &[u8],
    mode: Mode,
    dialect: Dialect,
) -> Result<usize, (usize, Problem)> {
    if mode == Mode::Strict {
        return strict(text, dialect);
    }
    let mut n = 0;
    for (at, entry) in entries(text, mode) {
        parse_entry(entry, mode, dialect).map_err(|(o, p)| (at + o, p))?;
        n += 1;
    }
    if n == 0 {
        // Nothing but commas (or nothing): runc refuses it too ("ns paths are empty").
        return Err((0, Problem::EmptyPayload));
    }
    Ok(n)
}

/// The strict grammar, in one pass, reporting through `R` (the detailed walk's problem, or the accept
/// path's no): entries `type:path` split at `,`, checked in the order of spec section 5.2, each type at
/// most once. A NUL is no path byte (the detailed walk has refused it already, check A7).
#[inline]
pub(crate) fn strict<R: Report>(text: &[u8], dialect: Dialect) -> Result<usize, R> {
    if text.is_empty() {
        return Err(R::report(0, || Problem::EmptyPayload));
    }
    let mut seen = 0u32;
    let mut n = 0;
    let mut at = 0;
    loop {
        let rest = &text[at..];
        // One scan finds the entry's end and any NUL in it.
        let (len, last) = match text::find_any(rest, [b',', 0]) {
            Some(i) if rest[i] == 0 => return Err(R::report(at + i, || Problem::EmbeddedNul)),
            Some(i) => (i, false),
            None => (rest.len(), true),
        };
        let (kind, _) = strict_entry(&rest[..len], at, dialect)?;
        if seen & kind.flag() != 0 {
            return Err(R::report(at, || Problem::RepeatedNamespaceType { kind }));
        }
        seen |= kind.flag();
        n += 1;
        if last {
            return Ok(n);
        }
        at += len + 1;
    }
}

/// One strict entry (no `,` and no NUL in it) at offset `at` of the text: its kind and path.
#[inline]
fn strict_entry<R: Report>(
    entry: &[u8],
    at: usize,
    dialect: Dialect,
) -> Result<(NamespaceKind, &[u8]), R> {
    let bad = || {
        R::report(at, || Problem::BadNamespaceEntry {
            entry: Snippet::new(entry),
        })
    };
    let Some((kind, colon)) = kind_prefix(entry) else {
        // Not a known `name:`: no colon (or an empty entry), or an unknown name before the first one.
        let Some(c) = entry.iter().position(|&b| b == b':') else {
            return Err(bad());
        };
        return Err(R::report(at, || Problem::UnknownNamespaceType {
            name: Snippet::new(&entry[..c]),
        }));
    };
    if kind == NamespaceKind::Time && !dialect.has_time_namespace() {
        return Err(R::report(at, || Problem::NamespaceTypeNotInDialect {
            kind,
        }));
    }
    let path = &entry[colon..];
    if path.is_empty() {
        return Err(bad());
    }
    match text::check_path(path, Mode::Strict) {
        Ok(()) => Ok((kind, path)),
        Err(p) => Err(R::report(at + colon, || p)),
    }
}

/// Each kind's `name:` as the little-endian word of its bytes, with the mask of those bytes ("cgroup:", the
/// longest, has 7).
const PREFIXES: [(NamespaceKind, u64, u64); 8] = {
    let mut table = [(NamespaceKind::Cgroup, 0, 0); 8];
    let mut k = 0;
    while k < 8 {
        let kind = NamespaceKind::BY_FLAG[k];
        let name = kind.name().as_bytes();
        let mut word = (b':' as u64) << (8 * name.len());
        let mut i = 0;
        while i < name.len() {
            word |= (name[i] as u64) << (8 * i);
            i += 1;
        }
        table[k] = (kind, word, (1 << (8 * (name.len() + 1))) - 1);
        k += 1;
    }
    table
};

/// The kind an entry names and the offset of its path, when the entry starts with a known `name:` (whose
/// colon is then the entry's first): one comparison per kind on the entry's first eight bytes.
fn kind_prefix(entry: &[u8]) -> Option<(NamespaceKind, usize)> {
    let word = match entry.first_chunk::<8>() {
        Some(w) => u64::from_le_bytes(*w),
        // Bytes past a short entry read as 0, which no `name:` has.
        None => entry
            .iter()
            .enumerate()
            .fold(0, |w, (i, &b)| w | u64::from(b) << (8 * i)),
    };
    PREFIXES
        .iter()
        .find(|&&(_, prefix, mask)| word & mask == prefix)
        .map(|&(kind, _, mask)| (kind, (mask.count_ones() / 8) as usize))
}

/// The entries of validated namespace-path text, borrowed from the message.
#[derive(Clone, Debug)]
pub struct NamespacePaths<'a> {
    text: &'a [u8],
    mode: Mode,
    dialect: Dialect,
}

impl<'a> NamespacePaths<'a> {
    pub(crate) fn new(text: &'a [u8], mode: Mode, dialect: Dialect) -> Self {
        NamespacePaths {
            text,
            mode,
            dialect,
        }
    }

    /// The list's text as it was on the wire (without the NUL).
    pub fn text(&self) -> &'a [u8] {
        self.text
    }

    /// The entries, in wire order.
    pub fn iter(&self) -> impl Iterator<Item = NamespacePathRef<'a>> + 'a {
        let (mode, dialect) = (self.mode, self.dialect);
        entries(self.text, mode).filter_map(move |(at, e)| match mode {
            Mode::Strict => strict_entry::<super::No>(e, at, dialect)
                .ok()
                .map(|(kind, path)| NamespacePathRef {
                    kind,
                    path: Path::new(OsStr::from_bytes(path)),
                }),
            Mode::Lenient => parse_entry(e, mode, dialect).ok(),
        })
    }
}

/// Checks typed entries as strict decoding would check their text.
pub(crate) fn check_entries(list: &[NamespacePath], dialect: Dialect) -> Result<(), Problem> {
    if list.is_empty() {
        return Err(Problem::EmptyPayload);
    }
    let mut seen = 0u32;
    for e in list {
        let path = e.path.as_os_str().as_bytes();
        match path.iter().copied().find(|&b| b == b',' || b == 0) {
            Some(0) => return Err(Problem::EmbeddedNul),
            Some(byte) => return Err(Problem::ForbiddenByte { byte }),
            None => {}
        }
        if e.kind == NamespaceKind::Time && !dialect.has_time_namespace() {
            return Err(Problem::NamespaceTypeNotInDialect { kind: e.kind });
        }
        if path.is_empty() {
            return Err(Problem::BadNamespaceEntry {
                entry: Snippet::new(e.kind.name().as_bytes()),
            });
        }
        text::check_path(path, Mode::Strict)?;
        if seen & e.kind.flag() != 0 {
            return Err(Problem::RepeatedNamespaceType { kind: e.kind });
        }
        seen |= e.kind.flag();
    }
    Ok(())
}

/// Writes the canonical text through `sink`.
pub(crate) fn write_canonical(list: &[NamespacePath], sink: &mut impl Sink) {
    for (i, e) in list.iter().enumerate() {
        if i > 0 {
            sink.bytes(b",");
        }
        sink.bytes(e.kind.name().as_bytes());
        sink.bytes(b":");
        sink.bytes(e.path.as_os_str().as_bytes());
    }
}

// The encoding side: the field as a payload, its checks and its canonical writer.

/// The namespace paths.
pub(crate) struct Joins<'p>(pub(crate) &'p [NamespacePath]);

impl Payload for Joins<'_> {
    fn check(&self, dialect: Dialect) -> Result<(), Problem> {
        check_entries(self.0, dialect)
    }

    fn write(&self, sink: &mut impl Sink) {
        write_canonical(self.0, sink);
        sink.bytes(b"\0");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: Dialect = Dialect::Nsbootstrap1;

    #[test]
    fn strict_entries() {
        assert_eq!(
            validate(b"user:/proc/1/ns/user,net:/run/netns/a:b", Mode::Strict, D),
            Ok(2)
        );
        let p = NamespacePaths::new(b"net:/run/netns/a:b", Mode::Strict, D);
        let v: Vec<_> = p.iter().collect();
        assert_eq!(v[0].path, Path::new("/run/netns/a:b"));
        let class = |t: &[u8], d| validate(t, Mode::Strict, d).unwrap_err().1.class();
        assert_eq!(class(b"net", D), "bad-ns-entry");
        assert_eq!(class(b"net:", D), "bad-ns-entry");
        assert_eq!(class(b"net:/a,,ipc:/b", D), "bad-ns-entry");
        assert_eq!(class(b"bogus:/a", D), "unknown-ns-type");
        assert_eq!(class(b"time:/a", Dialect::Runc11), "ns-type-not-in-dialect");
        assert_eq!(class(b"net:a", D), "relative-path");
        assert_eq!(class(b"net:/a,net:/b", D), "repeated-ns-type");
    }

    #[test]
    fn lenient_skips_empty_entries_and_allows_repeats() {
        assert_eq!(validate(b",net:/a,,net:b,", Mode::Lenient, D), Ok(2));
        assert_eq!(
            validate(b",,", Mode::Lenient, D),
            Err((0, Problem::EmptyPayload))
        );
        assert_eq!(
            validate(b"bogus:/a", Mode::Lenient, D)
                .unwrap_err()
                .1
                .class(),
            "unknown-ns-type"
        );
    }

    #[test]
    fn kind_prefix_is_the_first_colon_split() {
        for entry in [
            &b"net:/a"[..],
            b"cgroup:/x:y",
            b"user:",
            b"uts:/",
            b"time:/t",
            b"ipc/x",
            b"cgroupx:/a",
            b"cgrou:/a",
            b"net",
            b"",
            b"mnt:",
            b"pid::",
        ] {
            let by_split = entry
                .iter()
                .position(|&b| b == b':')
                .and_then(|c| Some((NamespaceKind::from_name(&entry[..c])?, c + 1)));
            assert_eq!(kind_prefix(entry), by_split, "{entry:?}");
        }
    }

    #[test]
    fn the_accept_path_is_the_same_grammar() {
        for (t, d) in [
            (&b"user:/a,net:/b"[..], D),
            (b"net:/a,net:/b", D),
            (b"net:/a\0b", D),
            (b"time:/t", Dialect::Runc11),
            (b"time:/t", D),
            (b"net:", D),
            (b"", D),
            (b"x:/a", D),
            (b"net:rel", D),
        ] {
            let detailed = validate(t, Mode::Strict, d);
            assert_eq!(
                strict::<super::super::No>(t, d).is_ok(),
                detailed.is_ok(),
                "{t:?}"
            );
        }
        assert_eq!(
            validate(b"net:/a\0b", Mode::Strict, D)
                .unwrap_err()
                .1
                .class(),
            "embedded-nul"
        );
    }

    #[test]
    fn offsets_point_into_the_text() {
        let (at, _) = validate(b"net:/a,ipc:rel", Mode::Strict, D).unwrap_err();
        assert_eq!(at, 11);
    }
}
