//! The runc-1.1 mount-sources payload: NUL-terminated entries, then the string's own NUL.

use super::Payload;
use crate::dialect::Dialect;
use crate::error::Problem;
use crate::text::{self, Mode};
use crate::wire::Sink;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// Entries of `list` (the payload without its final NUL), each with its offset; `None` for an empty entry.
fn entries(list: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    let body = list.strip_suffix(b"\0").unwrap_or(list);
    let mut pos = 0;
    body.split(|&b| b == 0)
        .filter(move |_| !list.is_empty())
        .map(move |e| {
            let at = pos;
            pos += e.len() + 1;
            (at, e)
        })
}

/// Validates the list (the payload without its final NUL).
pub(crate) fn validate(list: &[u8], mode: Mode) -> Result<usize, (usize, Problem)> {
    if !list.is_empty() && list.last() != Some(&0) {
        return Err((
            list.len() - 1,
            Problem::BadMountSources {
                reason: "the last entry is not NUL-terminated",
            },
        ));
    }
    let mut n = 0;
    for (at, e) in entries(list) {
        if !e.is_empty() {
            text::check_path(e, mode).map_err(|p| (at, p))?;
        }
        n += 1;
    }
    Ok(n)
}

/// The entries of a validated list, borrowed from the message.
#[derive(Clone, Debug)]
pub struct MountSources<'a> {
    list: &'a [u8],
}

impl<'a> MountSources<'a> {
    pub(crate) fn new(list: &'a [u8]) -> Self {
        MountSources { list }
    }

    /// The entries in order: `None` where a mount needs no source.
    pub fn iter(&self) -> impl Iterator<Item = Option<&'a Path>> + 'a {
        entries(self.list).map(|(_, e)| (!e.is_empty()).then(|| Path::new(OsStr::from_bytes(e))))
    }
}

/// Checks typed entries as strict decoding would.
pub(crate) fn check_entries(list: &[Option<PathBuf>]) -> Result<(), Problem> {
    for p in list.iter().flatten() {
        let b = p.as_os_str().as_bytes();
        if b.is_empty() {
            return Err(Problem::BadMountSources {
                reason: "an empty path (use null for a mount without source)",
            });
        }
        if text::has_nul(b) {
            return Err(Problem::EmbeddedNul);
        }
        text::check_path(b, Mode::Strict)?;
    }
    Ok(())
}

/// Writes the canonical list (without the string's final NUL) through `sink`.
pub(crate) fn write_canonical(list: &[Option<PathBuf>], sink: &mut impl Sink) {
    for p in list {
        if let Some(p) = p {
            sink.bytes(p.as_os_str().as_bytes());
        }
        sink.bytes(b"\0");
    }
}

// The encoding side: the field as a payload, its checks and its canonical writer.

/// The mount sources.
pub(crate) struct Mounts<'p>(pub(crate) &'p [Option<PathBuf>]);

impl Payload for Mounts<'_> {
    fn check(&self, _: Dialect) -> Result<(), Problem> {
        check_entries(self.0)
    }

    fn write(&self, sink: &mut impl Sink) {
        write_canonical(self.0, sink);
        sink.bytes(b"\0");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_and_nulls() {
        assert_eq!(validate(b"", Mode::Strict), Ok(0));
        assert_eq!(validate(b"\0", Mode::Strict), Ok(1));
        assert_eq!(validate(b"/a\0\0/b\0", Mode::Strict), Ok(3));
        let v: Vec<_> = MountSources::new(b"/a\0\0/b\0").iter().collect();
        assert_eq!(v, vec![Some(Path::new("/a")), None, Some(Path::new("/b"))]);
        assert!(MountSources::new(b"").iter().next().is_none());
        assert_eq!(
            validate(b"/a", Mode::Strict).unwrap_err().1.class(),
            "bad-mount-sources"
        );
        assert_eq!(
            validate(b"a\0", Mode::Strict).unwrap_err().1.class(),
            "relative-path"
        );
        assert_eq!(validate(b"a\0", Mode::Lenient), Ok(1));
    }
}
