//! Stage 0 before the first clone: reading the message from the init pipe, checking the plan it
//! describes, and turning it into [`Prepared`], which borrows the message and holds what the child stages
//! need ready-made (C strings, argument vectors), so that nothing is allocated after a clone.

use super::Failure;
use nsbootstrap_codec::{CloneFlags, Dialect, MessageReader, MessageView, Mode, NamespaceKind};
use std::ffi::{CStr, CString};
use std::os::fd::RawFd;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::atomic::AtomicI32;

use crate::sys::Sys;

fn fail(step: &'static str, detail: String, errno: Option<nix::errno::Errno>) -> Failure {
    Failure {
        stage: None,
        step,
        detail,
        errno,
    }
}

/// Reads one message from the init pipe with the codec's stream reader, never past its end. The reader
/// holds the message's bytes: [`MessageReader::decode`] then borrows them.
pub fn read_message<S: Sys>(
    sys: &mut S,
    fd: RawFd,
    dialect: Dialect,
    mode: Mode,
) -> Result<MessageReader, Failure> {
    let mut reader = MessageReader::new(dialect, mode);
    let mut chunk = [0u8; 4096];
    while !reader.is_complete() {
        let want = reader.wanted().min(chunk.len());
        let n = sys
            .read(fd, &mut chunk[..want])
            .map_err(|e| fail("read the bootstrap message", String::new(), Some(e)))?;
        if n == 0 {
            let e = reader.eof_error();
            return Err(fail(
                "read the bootstrap message",
                format!(
                    "the init pipe closed after {} bytes: {e}",
                    reader.received()
                ),
                None,
            ));
        }
        reader
            .push(&chunk[..n])
            .map_err(|e| fail("decode the bootstrap message", e.to_string(), None))?;
    }
    Ok(reader)
}

/// Decodes the message `reader` holds (complete, as [`read_message`] returns it).
pub fn decode(reader: &MessageReader) -> Result<MessageView<'_>, Failure> {
    match reader.decode() {
        Some(Ok(view)) => Ok(view),
        Some(Err(e)) => Err(fail("decode the bootstrap message", e.to_string(), None)),
        None => Err(fail(
            "read the bootstrap message",
            "incomplete".into(),
            None,
        )),
    }
}

fn cstring(p: &Path) -> CString {
    // Paths from a decoded message hold no NUL (the codec refuses one), so this cannot fail; a NUL would
    // turn into an empty path that open(2) refuses.
    CString::new(p.as_os_str().as_bytes()).unwrap_or_default()
}

/// An id map's helper (newuidmap or newgidmap) and its arguments after the PID: the map's numbers, split
/// from the message's text as runc splits them.
#[derive(Debug)]
pub(crate) struct Helper {
    pub(crate) path: CString,
    pub(crate) words: Vec<CString>,
}

impl Helper {
    fn new(path: &Path, map_text: &[u8]) -> Helper {
        Helper {
            path: cstring(path),
            words: map_text
                .split(|b| b.is_ascii_whitespace())
                .filter(|w| !w.is_empty())
                .map(|w| CString::new(w).unwrap_or_default())
                .collect(),
        }
    }
}

/// One id map: the text stage 0 writes to `/proc/PID/uid_map` (or `gid_map`), borrowed from the message,
/// and the helper to fall back to.
#[derive(Debug)]
pub(crate) struct IdMap<'m> {
    pub(crate) text: &'m [u8],
    pub(crate) helper: Option<Helper>,
}

/// The decoded message and what the stages use after a clone, made by stage 0 before the first clone.
///
/// The map and time-offset texts are the message's own payload bytes: in strict mode the wire text is
/// exactly the canonical text (spec section 5.3, 5.8); in lenient mode it is text in the kernel's grammar
/// (section 6), which is what runc passes the kernel too.
#[derive(Debug)]
pub struct Prepared<'m> {
    /// The decoded message.
    pub view: MessageView<'m>,
    /// The dialect.
    pub dialect: Dialect,
    pub(crate) clone_flags: CloneFlags,
    pub(crate) rootless_euid: Option<bool>,
    pub(crate) setgroups: Option<bool>,
    pub(crate) joins: Vec<(NamespaceKind, CString)>,
    /// One slot per join for stage 1's descriptors (-1: not open, or joined and closed), allocated here so
    /// that stage 1 joins any number of entries without allocating after its clone.
    pub(crate) join_fds: Vec<AtomicI32>,
    pub(crate) uid_map: Option<IdMap<'m>>,
    pub(crate) gid_map: Option<IdMap<'m>>,
    pub(crate) time_offsets: Option<&'m [u8]>,
    pub(crate) console: Option<CString>,
    /// `None` without the mount-sources attribute.
    pub(crate) mount_sources: Option<Vec<Option<CString>>>,
    pub(crate) mount_fds: Vec<RawFd>,
    /// Kept open by stage 0 until it exits; stage 1 closes it first thing.
    pub(crate) held_fd: Option<RawFd>,
}

impl<'m> Prepared<'m> {
    /// Prepares the decoded message `view` for `dialect`.
    pub fn new(view: MessageView<'m>, dialect: Dialect) -> Self {
        let map = |text: Option<&'m [u8]>, helper: Option<&Path>| {
            text.map(|text| IdMap {
                text,
                helper: helper.map(|h| Helper::new(h, text)),
            })
        };
        let joins: Vec<(NamespaceKind, CString)> = view
            .namespace_paths()
            .map(|p| p.iter().map(|e| (e.kind, cstring(e.path))).collect())
            .unwrap_or_default();
        Prepared {
            dialect,
            join_fds: joins.iter().map(|_| AtomicI32::new(-1)).collect(),
            joins,
            clone_flags: view.clone_flags(),
            rootless_euid: view.rootless_euid(),
            setgroups: view.setgroups(),
            uid_map: map(view.uid_map().map(|m| m.text()), view.newuidmap_path()),
            gid_map: map(view.gid_map().map(|m| m.text()), view.newgidmap_path()),
            time_offsets: view.time_offsets().map(|t| t.text()),
            console: view.console_path().map(cstring),
            mount_sources: view
                .mount_sources()
                .map(|m| m.iter().map(|p| p.map(cstring)).collect()),
            mount_fds: Vec::new(),
            held_fd: None,
            view,
        }
    }

    /// Sets the descriptor numbers stage 1 puts the mount sources at (`_LIBCONTAINER_MOUNT_FDS`, runc-1.1):
    /// one entry per mount, -1 where the mount has no source. Fails when they do not match the message, or
    /// when one would overwrite a descriptor the bootstrap still uses: standard input, output and error,
    /// any of `reserved` (the init and log pipes), or another mount source.
    pub fn with_mount_fds(mut self, fds: Vec<RawFd>, reserved: &[RawFd]) -> Result<Self, String> {
        let wanted = self.mount_sources.iter().flatten().flatten().count();
        let given = fds.iter().filter(|&&f| f != -1).count();
        if wanted != given {
            return Err(format!(
                "_LIBCONTAINER_MOUNT_FDS names {given} descriptors for {wanted} mount sources"
            ));
        }
        if let Some(bad) = fds.iter().find(|&&f| f < -1) {
            return Err(format!(
                "_LIBCONTAINER_MOUNT_FDS holds the invalid descriptor {bad}"
            ));
        }
        for (i, &fd) in fds.iter().enumerate().filter(|&(_, &f)| f != -1) {
            let what = if (0..=2).contains(&fd) {
                Some("standard input, output or error")
            } else if reserved.contains(&fd) {
                Some("the init or log pipe")
            } else if fds[..i].contains(&fd) {
                Some("another mount source")
            } else {
                None
            };
            if let Some(what) = what {
                return Err(format!(
                    "_LIBCONTAINER_MOUNT_FDS names fd {fd}, which is {what}"
                ));
            }
        }
        self.mount_fds = fds;
        Ok(self)
    }

    /// Whether the message creates a namespace of `kind`.
    pub(crate) fn creates(&self, kind: NamespaceKind) -> bool {
        self.clone_flags.contains(kind)
    }

    /// The mount sources' paths, in order (empty without the attribute).
    pub(crate) fn mount_source_paths(&self) -> impl Iterator<Item = &CStr> {
        self.mount_sources
            .iter()
            .flatten()
            .flatten()
            .map(|c| c.as_c_str())
    }
}
