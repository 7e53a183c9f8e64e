//! The namespace-paths payload: `type:path` entries joined by `,`.

use super::Payload;
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

/// Splits one entry. `Err` holds the offset within the entry and the problem.
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
    if text.is_empty() {
        return Err((0, Problem::EmptyPayload));
    }
    let mut seen = 0u32;
    let mut n = 0;
    for (at, entry) in entries(text, mode) {
        let e = parse_entry(entry, mode, dialect).map_err(|(o, p)| (at + o, p))?;
        if mode == Mode::Strict && seen & e.kind.flag() != 0 {
            return Err((at, Problem::RepeatedNamespaceType { kind: e.kind }));
        }
        seen |= e.kind.flag();
        n += 1;
    }
    if n == 0 {
        // Lenient mode with nothing but commas: runc refuses it too ("ns paths are empty").
        return Err((0, Problem::EmptyPayload));
    }
    Ok(n)
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

/// Whether `text` is strict-valid and holds no NUL (check A7), in one pass: `true` exactly when
/// `validate(text, Mode::Strict, dialect)` is `Ok` and the text has no NUL byte, with no error built.
#[inline(never)]
pub(crate) fn accepts_strict(text: &[u8], dialect: Dialect) -> bool {
    if text.is_empty() {
        return false;
    }
    let mut seen = 0u32;
    let mut rest = text;
    loop {
        // One scan finds the entry's end and any NUL in it.
        let (entry, next) = match text::find_any(rest, [b',', 0]) {
            Some(i) if rest[i] == 0 => return false,
            Some(i) => (&rest[..i], rest.get(i + 1..)),
            None => (rest, None),
        };
        let Some((kind, at)) = kind_prefix(entry) else {
            return false;
        };
        let path = &entry[at..];
        if (kind == NamespaceKind::Time && !dialect.has_time_namespace())
            || path.first() != Some(&b'/')
            || path.len() > crate::wire::MAX_PATH
            || seen & kind.flag() != 0
        {
            return false;
        }
        seen |= kind.flag();
        match next {
            Some(r) => rest = r,
            None => return true,
        }
    }
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
        entries(self.text, mode).filter_map(move |(_, e)| parse_entry(e, mode, dialect).ok())
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
    fn offsets_point_into_the_text() {
        let (at, _) = validate(b"net:/a,ipc:rel", Mode::Strict, D).unwrap_err();
        assert_eq!(at, 11);
    }
}
