//! Decoding: the header checks, the attribute walk, and a zero-copy view of a valid message.

use crate::attribute::{Attribute, PayloadType, COUNT};
use crate::dialect::Dialect;
use crate::error::DecodeError as Error;
use crate::namespace::CloneFlags;
use crate::payload::id_map::IdMapRef;
use crate::payload::mount_sources::MountSources;
use crate::payload::ns_paths::NamespacePaths;
use crate::payload::time_offsets::TimeOffsetsRef;
use crate::payload::{self, bools, oom};
use crate::text::{self, Mode};
use crate::walk::{Attrs, No, RawAttr, Walk};
use crate::wire::{read_u32, Header, Slot, HEADER_LEN, INIT_MSG, MAX_MESSAGE_LEN};
use core::fmt;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

impl Header {
    /// Checks H1 to H4 of the spec on the first bytes of a message. A stream reader calls this as soon as it
    /// holds 16 bytes, before it allocates anything.
    pub fn check(prefix: &[u8]) -> Result<Header, Error> {
        let Some(h) = Header::read(prefix) else {
            return Err(Error::TruncatedHeader {
                available: prefix.len(),
            });
        };
        if (h.len as usize) < HEADER_LEN {
            return Err(Error::LengthTooShort { declared: h.len });
        }
        if h.len > MAX_MESSAGE_LEN {
            return Err(Error::LengthTooLarge {
                declared: h.len,
                max: MAX_MESSAGE_LEN,
            });
        }
        if h.kind != INIT_MSG {
            return Err(Error::WrongType { found: h.kind });
        }
        Ok(h)
    }

    /// Checks H7: in strict mode `nlmsg_len` is a multiple of 4.
    pub fn check_alignment(&self, mode: Mode) -> Result<(), Error> {
        if mode == Mode::Strict && !self.len.is_multiple_of(4) {
            return Err(Error::UnalignedLength { declared: self.len });
        }
        Ok(())
    }
}

/// A valid message, borrowed from the bytes it was decoded from. Decoding it allocates nothing.
///
/// The view holds the message and where each attribute starts, nothing else: every value is read again
/// from the validated bytes when asked for. That keeps it small (it is returned by value) and the walk
/// down to one store per attribute.
#[derive(Clone)]
pub struct MessageView<'a> {
    /// The whole message (checks H5 and H6 made it exactly `nlmsg_len` bytes).
    bytes: &'a [u8],
    dialect: Dialect,
    mode: Mode,
    /// Each attribute's offset by canonical index, 0 when absent (no attribute starts inside the header).
    offsets: [u32; COUNT],
}

/// A7's second error, with the first NUL's offset (the scan in the walk only says whether there is one).
#[cold]
fn embedded_nul(o: usize, attr: Attribute, text: &[u8]) -> Error {
    let i = text.iter().position(|&b| b == 0).unwrap_or(0);
    Error::EmbeddedNul {
        offset: o,
        attr,
        at: o + 4 + i,
    }
}

/// A8's error, at the first non-zero padding byte of the attribute at `o` (`n` is its `nla_len`).
#[cold]
fn nonzero_padding(o: usize, attr: Attribute, n: usize, pad: &[u8]) -> Error {
    let i = pad.iter().position(|&b| b != 0).unwrap_or(0);
    Error::NonzeroPadding {
        offset: o,
        attr,
        at: o + n + i,
        value: pad.get(i).copied().unwrap_or(0),
    }
}

/// The strict accept path of a message that passed H1 to H7, for messages that are valid: the same walk
/// ([`Walk`]) and the same payload grammars ([`payload::accept`]) as the detailed walk, compiled with the
/// zero-sized report, so no error is built. `Some` holds the offsets the detailed walk
/// (`MessageView::attribute`) would record, and is returned only when every check A1 to A9 and the final
/// `missing-attr` check pass, so it can stand in for that walk; on `None` the detailed walk runs from the
/// start and finds the first failing check, or accepts what this path was not sure of.
#[inline(never)]
fn accept_strict(bytes: &[u8], dialect: Dialect) -> Option<[u32; COUNT]> {
    let mut offsets = [0u32; COUNT];
    // The attributes seen, one bit each by canonical index.
    const _: () = assert!(COUNT <= 16);
    let mut seen = 0u16;
    for a in Walk::<No>::new(bytes) {
        let RawAttr {
            offset,
            payload,
            padding,
            number,
            ..
        } = a.ok()?;
        // Strict: H7 made the padding whole, so `padding` runs to the next multiple of 4.
        let attr = Attribute::lookup(number, dialect).ok()?;
        let bit = 1 << attr.canonical_index();
        if seen & bit != 0 {
            return None;
        }
        seen |= bit;
        if attr.payload_type().is_integer() {
            // Exactly 4 bytes, so no padding.
            if payload.len() != 4 || !payload::accept(attr, payload, dialect) {
                return None;
            }
        } else {
            // At least the NUL. Strict: the message's length is a multiple of 4 (H7), so the padding lies
            // inside it; the word that ends the attribute holds the final NUL and the padding, all zero:
            // its top bytes from the NUL's (read little-endian).
            let n = payload.len() + 4;
            let next = n + padding.len();
            let last = bytes.get(offset + next.checked_sub(4)?..offset + next)?;
            let last = u32::from_le_bytes(*last.first_chunk::<4>()?);
            let nul = (n + 3 - next) as u32;
            if n < 5 || last & u32::MAX << (8 * nul) != 0 {
                return None;
            }
            if !payload::accept(attr, &payload[..n - 5], dialect) {
                return None;
            }
        }
        // Offsets are below MAX_MESSAGE_LEN.
        offsets[attr.canonical_index()] = offset as u32;
    }
    (seen & 1 << Attribute::CloneFlags.canonical_index() != 0).then_some(offsets)
}

impl<'a> MessageView<'a> {
    /// Decodes exactly one message that fills `bytes`, in `dialect`, with `mode`'s rules.
    pub fn decode(bytes: &'a [u8], dialect: Dialect, mode: Mode) -> Result<Self, Error> {
        let header = Header::check(bytes)?;
        // H7 comes right after the header's own checks, as a stream reader applies it at 16 bytes: a
        // message's class does not depend on how its bytes arrive (spec section 3).
        header.check_alignment(mode)?;
        let len = header.len as usize;
        if len > bytes.len() {
            return Err(Error::Truncated {
                declared: header.len,
                available: bytes.len(),
            });
        }
        if len < bytes.len() {
            return Err(Error::TrailingBytes {
                declared: header.len,
                available: bytes.len(),
            });
        }
        let mut view = MessageView {
            bytes,
            dialect,
            mode,
            offsets: [0; COUNT],
        };
        if mode == Mode::Strict {
            if let Some(offsets) = accept_strict(bytes, dialect) {
                view.offsets = offsets;
                return Ok(view);
            }
        }
        view.walk()
    }

    /// The detailed attribute walk (A1 to A9 in the spec's order, then missing-attr), which builds the
    /// error of the first failing check. `decode` runs it whenever the strict fast path declines.
    fn walk(mut self) -> Result<Self, Error> {
        for a in Attrs::new(self.bytes) {
            self.attribute(a?)?;
        }
        if self.mode == Mode::Strict && !self.has_clone_flags() {
            return Err(Error::MissingAttr {
                attr: Attribute::CloneFlags,
                offset: self.bytes.len(),
            });
        }
        Ok(self)
    }

    /// Checks A4 to A9 on one attribute the walk found (A1 to A3 passed) and records its offset.
    fn attribute(&mut self, a: RawAttr<'a>) -> Result<(), Error> {
        let mode = self.mode;
        let RawAttr {
            offset: o,
            nla_len,
            number,
            payload,
            padding,
        } = a;
        let attr = match Attribute::lookup(number, self.dialect) {
            Ok(a) => a,
            Err(Some(attr)) => {
                return Err(Error::AttrNotInDialect {
                    offset: o,
                    attr,
                    dialect: self.dialect,
                })
            }
            Err(None) => return Err(Error::UnknownAttr { offset: o, number }),
        };
        let index = attr.canonical_index();
        if mode == Mode::Strict && self.offsets[index] != 0 {
            return Err(Error::RepeatedAttr {
                offset: o,
                attr,
                first: self.offsets[index] as usize,
            });
        }
        let length_error = |expected| Error::PayloadLength {
            offset: o,
            attr,
            len: payload.len(),
            expected,
        };
        let body: &'a [u8] = match attr.payload_type() {
            PayloadType::U32 if payload.len() != 4 => return Err(length_error("4")),
            PayloadType::Bool => match (mode, payload.len()) {
                (_, 4) | (Mode::Lenient, 1) => payload,
                (Mode::Strict, _) => return Err(length_error("4")),
                (Mode::Lenient, _) => return Err(length_error("1 or 4")),
            },
            PayloadType::U32 => payload,
            PayloadType::String | PayloadType::NulList => {
                let Some((&last, text)) = payload.split_last() else {
                    return Err(length_error("at least 1 (the NUL)"));
                };
                if last != 0 {
                    return Err(Error::MissingNul {
                        offset: o,
                        attr,
                        last,
                    });
                }
                if attr.payload_type() == PayloadType::String && text::has_nul(text) {
                    return Err(embedded_nul(o, attr, text));
                }
                text
            }
        };
        // H7 made a strict message's length a multiple of 4, so the padding lies inside it.
        if mode == Mode::Strict && padding.iter().any(|&b| b != 0) {
            return Err(nonzero_padding(o, attr, usize::from(nla_len), padding));
        }
        self.payload(attr, o, body)?;
        // Offsets are below MAX_MESSAGE_LEN.
        self.offsets[index] = o as u32;
        Ok(())
    }

    /// A9: the payload's own grammar.
    fn payload(&self, attr: Attribute, o: usize, body: &[u8]) -> Result<(), Error> {
        payload::read(attr, body, self.mode, self.dialect)
            .map_err(|(at, problem)| Error::payload(o, attr, o + 4 + at, problem))
    }

    /// The strict accept path alone: the offsets it records, or `None` where it declines (the detailed
    /// walk then decides). For the conformance suite's property that the two agree; not a decoding API.
    #[doc(hidden)]
    pub fn strict_accept_path(bytes: &'a [u8], dialect: Dialect) -> Option<[u32; COUNT]> {
        let h = Header::check(bytes).ok()?;
        if h.len as usize != bytes.len() || h.check_alignment(Mode::Strict).is_err() {
            return None;
        }
        accept_strict(bytes, dialect)
    }

    /// The detailed walk alone (strict), as `decode` runs it when the accept path declines: the offsets
    /// it records, or the error. For the same property; not a decoding API.
    #[doc(hidden)]
    pub fn strict_detailed_walk(bytes: &'a [u8], dialect: Dialect) -> Result<[u32; COUNT], Error> {
        let header = Header::check(bytes)?;
        if header.len as usize != bytes.len() {
            return MessageView::decode(bytes, dialect, Mode::Strict).map(|v| v.offsets);
        }
        header.check_alignment(Mode::Strict)?;
        let view = MessageView {
            bytes,
            dialect,
            mode: Mode::Strict,
            offsets: [0; COUNT],
        };
        view.walk().map(|v| v.offsets)
    }

    /// The header as it was on the wire.
    pub fn header(&self) -> Header {
        // The bytes passed Header::check when the view was made.
        Header::check(self.bytes).unwrap_or(Header {
            len: 0,
            kind: 0,
            flags: 0,
            seq: 0,
            pid: 0,
        })
    }

    /// The dialect the message was decoded in.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The mode the message was decoded with.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Where an attribute is, when present.
    pub fn slot(&self, attr: Attribute) -> Option<Slot<'a>> {
        let i = attr.canonical_index();
        let offset = self.offsets[i] as usize;
        if offset == 0 {
            return None;
        }
        let nla_len = self.bytes.get(offset..offset + 2)?;
        let nla_len = usize::from(u16::from_ne_bytes([nla_len[0], nla_len[1]]));
        // The walk checked nla_len >= 4, and for strings and NUL lists the final NUL (not in the slot).
        let end = match attr.payload_type() {
            PayloadType::U32 | PayloadType::Bool => offset + nla_len,
            PayloadType::String | PayloadType::NulList => offset + nla_len - 1,
        };
        let payload = self.bytes.get(offset + 4..end)?;
        Some(Slot { offset, payload })
    }

    /// The attributes present, in canonical order, with their slots.
    pub fn attributes(&self) -> impl Iterator<Item = (Attribute, Slot<'a>)> + '_ {
        Attribute::CANONICAL_ORDER
            .into_iter()
            .filter_map(|a| self.slot(a).map(|s| (a, s)))
    }

    /// The clone flags (empty when the attribute is absent, which only lenient mode allows).
    pub fn clone_flags(&self) -> CloneFlags {
        self.clone_flags_attr().unwrap_or_default()
    }

    fn clone_flags_attr(&self) -> Option<CloneFlags> {
        self.text(Attribute::CloneFlags)
            .map(|p| CloneFlags(read_u32(p)))
    }

    /// Whether the clone-flags attribute was present.
    pub fn has_clone_flags(&self) -> bool {
        self.offsets[Attribute::CloneFlags.canonical_index()] != 0
    }

    /// The namespaces to join.
    pub fn namespace_paths(&self) -> Option<NamespacePaths<'a>> {
        self.text(Attribute::NamespacePaths)
            .map(|t| NamespacePaths::new(t, self.mode, self.dialect))
    }

    /// The uid map.
    pub fn uid_map(&self) -> Option<IdMapRef<'a>> {
        self.text(Attribute::UidMap)
            .map(|t| IdMapRef::new(t, self.mode))
    }

    /// The gid map.
    pub fn gid_map(&self) -> Option<IdMapRef<'a>> {
        self.text(Attribute::GidMap)
            .map(|t| IdMapRef::new(t, self.mode))
    }

    /// The setgroups bool.
    pub fn setgroups(&self) -> Option<bool> {
        self.text(Attribute::Setgroups)
            .map(|p| bools::value(p) != 0)
    }

    /// The oom_score_adj value.
    pub fn oom_score_adj(&self) -> Option<i32> {
        self.text(Attribute::OomScoreAdj)
            .and_then(|t| oom::parse(t, self.mode))
    }

    /// The rootless-euid bool.
    pub fn rootless_euid(&self) -> Option<bool> {
        self.text(Attribute::RootlessEuid)
            .map(|p| bools::value(p) != 0)
    }

    /// The newuidmap helper's path.
    pub fn newuidmap_path(&self) -> Option<&'a Path> {
        self.path(Attribute::NewuidmapPath)
    }

    /// The newgidmap helper's path.
    pub fn newgidmap_path(&self) -> Option<&'a Path> {
        self.path(Attribute::NewgidmapPath)
    }

    /// The mount sources (runc-1.1).
    pub fn mount_sources(&self) -> Option<MountSources<'a>> {
        self.text(Attribute::MountSources).map(MountSources::new)
    }

    /// The time offsets (runc-1.2, nsbootstrap-1).
    pub fn time_offsets(&self) -> Option<TimeOffsetsRef<'a>> {
        self.text(Attribute::TimeOffsets)
            .map(|t| TimeOffsetsRef::new(t, self.mode))
    }

    /// The console path (nsbootstrap-1).
    pub fn console_path(&self) -> Option<&'a Path> {
        self.path(Attribute::ConsolePath)
    }

    fn text(&self, attr: Attribute) -> Option<&'a [u8]> {
        self.slot(attr).map(|s| s.payload)
    }

    fn path(&self, attr: Attribute) -> Option<&'a Path> {
        self.text(attr).map(|t| Path::new(OsStr::from_bytes(t)))
    }
}

/// The same output as a derived `Debug` over the slots the view stands for.
impl fmt::Debug for MessageView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let slots = Attribute::CANONICAL_ORDER.map(|a| self.slot(a));
        f.debug_struct("MessageView")
            .field("header", &self.header())
            .field("dialect", &self.dialect)
            .field("mode", &self.mode)
            .field("slots", &slots)
            .field("clone_flags", &self.clone_flags_attr())
            .field("setgroups", &self.setgroups())
            .field("rootless_euid", &self.rootless_euid())
            .field("oom_score_adj", &self.oom_score_adj())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(attrs: &[(u16, &[u8])]) -> Vec<u8> {
        let mut v = vec![0u8; 16];
        for (t, p) in attrs {
            v.extend_from_slice(&(4 + p.len() as u16).to_ne_bytes());
            v.extend_from_slice(&t.to_ne_bytes());
            v.extend_from_slice(p);
            while !v.len().is_multiple_of(4) {
                v.push(0);
            }
        }
        let len = v.len() as u32;
        v[0..4].copy_from_slice(&len.to_ne_bytes());
        v[4..6].copy_from_slice(&INIT_MSG.to_ne_bytes());
        v
    }

    #[test]
    fn decodes_a_small_message() {
        let flags =
            (crate::namespace::CLONE_NEWUSER | crate::namespace::CLONE_NEWNET).to_ne_bytes();
        let m = msg(&[
            (27281, &flags),
            (27283, b"0 1000 1\n\0"),
            (27287, &1u32.to_ne_bytes()),
        ]);
        let v = MessageView::decode(&m, Dialect::Runc11, Mode::Strict).unwrap();
        assert_eq!(v.clone_flags().to_string(), "user|net");
        let r: Vec<_> = v.uid_map().unwrap().ranges().collect();
        assert_eq!(r, vec![crate::IdRange::new(0, 1000, 1)]);
        assert_eq!(v.rootless_euid(), Some(true));
        assert_eq!(v.setgroups(), None);
    }

    #[test]
    fn header_checks_in_order() {
        let m = msg(&[(27281, &0u32.to_ne_bytes())]);
        let d = Dialect::Nsbootstrap1;
        let class = |b: &[u8]| MessageView::decode(b, d, Mode::Strict).unwrap_err().class();
        assert_eq!(class(&m[..10]), "truncated-header");
        let mut x = m.clone();
        x[0..4].copy_from_slice(&8u32.to_ne_bytes());
        assert_eq!(class(&x), "length-too-short");
        x[0..4].copy_from_slice(&u32::MAX.to_ne_bytes());
        x[4] = 0;
        assert_eq!(class(&x), "length-too-large");
        let mut x = m.clone();
        x[4..6].copy_from_slice(&2u16.to_ne_bytes());
        assert_eq!(class(&x), "wrong-type");
        assert_eq!(class(&m[..20]), "truncated");
        let mut x = m.clone();
        x.push(0);
        assert_eq!(class(&x), "trailing-bytes");
    }

    #[test]
    fn a_zero_nla_len_is_an_error_not_a_loop() {
        let mut m = msg(&[(27281, &0u32.to_ne_bytes())]);
        m[16] = 0;
        m[17] = 0;
        let e = MessageView::decode(&m, Dialect::Runc11, Mode::Lenient).unwrap_err();
        assert_eq!(e.class(), "attr-too-short");
        assert_eq!(e.offset(), 16);
    }

    #[test]
    fn lenient_last_wins_and_one_byte_bools() {
        let m = msg(&[
            (27281, &0u32.to_ne_bytes()),
            (27286, b"5\0"),
            (27286, b" +7\n\0"),
            (27285, &[1]),
        ]);
        let strict = MessageView::decode(&m, Dialect::Runc12, Mode::Strict).unwrap_err();
        assert_eq!(strict.class(), "repeated-attr");
        let v = MessageView::decode(&m, Dialect::Runc12, Mode::Lenient).unwrap();
        assert_eq!(v.oom_score_adj(), Some(7));
        assert_eq!(v.setgroups(), Some(true));
    }
}
