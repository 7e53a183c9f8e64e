//! Decoding: the header checks, the attribute walk, and a zero-copy view of a valid message.

use crate::attribute::{Attribute, PayloadType, INIT_MSG};
use crate::dialect::Dialect;
use crate::error::{Error, Problem, Snippet};
use crate::idmap::{self, IdMapRef};
use crate::mounts::{self, MountSources};
use crate::namespace::CloneFlags;
use crate::nspaths::{self, NamespacePaths};
use crate::text::{self, Mode};
use crate::timens::{self, TimeOffsetsRef};
use nom::number::complete::{u16 as nom_u16, u32 as nom_u32};
use nom::number::Endianness::Native;
use nom::{IResult, Parser};
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// Size of the netlink header.
pub const HEADER_LEN: usize = 16;
/// `NLM_F_REQUEST`, the flag runc's Go encoder sets.
pub const NLM_F_REQUEST: u16 = 1;

/// The netlink header's five fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Header {
    /// `nlmsg_len`: the whole message's length, header included.
    pub len: u32,
    /// `nlmsg_type`: 62000.
    pub kind: u16,
    /// `nlmsg_flags`: no meaning in this protocol.
    pub flags: u16,
    /// `nlmsg_seq`: no meaning in this protocol.
    pub seq: u32,
    /// `nlmsg_pid`: no meaning in this protocol.
    pub pid: u32,
}

fn header_fields(input: &[u8]) -> IResult<&[u8], Header> {
    let (rest, (len, kind, flags, seq, pid)) = (
        nom_u32(Native),
        nom_u16(Native),
        nom_u16(Native),
        nom_u32(Native),
        nom_u32(Native),
    )
        .parse(input)?;
    Ok((
        rest,
        Header {
            len,
            kind,
            flags,
            seq,
            pid,
        },
    ))
}

impl Header {
    /// Checks H1 to H4 of the spec on the first bytes of a message. A stream reader calls this as soon as it
    /// holds 16 bytes, before it allocates anything.
    pub fn check(prefix: &[u8]) -> Result<Header, Error> {
        let (_, h) = header_fields(prefix).map_err(|_| Error::TruncatedHeader {
            available: prefix.len(),
        })?;
        if (h.len as usize) < HEADER_LEN {
            return Err(Error::LengthTooShort { declared: h.len });
        }
        if h.len > crate::MAX_MESSAGE_LEN {
            return Err(Error::LengthTooLarge {
                declared: h.len,
                max: crate::MAX_MESSAGE_LEN,
            });
        }
        if h.kind != INIT_MSG {
            return Err(Error::WrongType { found: h.kind });
        }
        Ok(h)
    }

    /// Checks H7: in strict mode `nlmsg_len` is a multiple of 4.
    pub fn check_alignment(&self, mode: Mode) -> Result<(), Error> {
        if mode == Mode::Strict && self.len % 4 != 0 {
            return Err(Error::UnalignedLength { declared: self.len });
        }
        Ok(())
    }
}

/// One attribute's place in the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slot<'a> {
    /// The attribute's offset in the message.
    pub offset: usize,
    /// Its payload (for strings and NUL lists: without the final NUL).
    pub payload: &'a [u8],
}

/// A valid message, borrowed from the bytes it was decoded from. Decoding it allocates nothing.
#[derive(Clone, Debug)]
pub struct MessageView<'a> {
    header: Header,
    dialect: Dialect,
    mode: Mode,
    slots: [Option<Slot<'a>>; 12],
    clone_flags: Option<CloneFlags>,
    setgroups: Option<bool>,
    rootless_euid: Option<bool>,
    oom_score_adj: Option<i32>,
}

fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// Parses oom_score_adj text: strict canonical decimal, lenient what the kernel's `kstrtoint` takes after
/// stripping white space. Both in [-1000, 1000].
pub(crate) fn parse_oom(text: &[u8], mode: Mode) -> Option<i32> {
    let body = match mode {
        Mode::Strict => text,
        // The kernel strips what C's isspace() matches (trim_ascii would keep VT, 0x0B).
        Mode::Lenient => {
            let space = |b: &u8| b" \t\n\x0b\x0c\r".contains(b);
            let start = text.iter().position(|b| !space(b)).unwrap_or(text.len());
            let end = text
                .iter()
                .rposition(|b| !space(b))
                .map_or(start, |i| i + 1);
            &text[start..end.max(start)]
        }
    };
    let (v, rest) = text::signed(body, mode)?;
    if !rest.is_empty() || !(-1000..=1000).contains(&v) {
        return None;
    }
    Some(v as i32)
}

fn read_u32(payload: &[u8]) -> u32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&payload[..4]);
    u32::from_ne_bytes(b)
}

impl<'a> MessageView<'a> {
    /// Decodes exactly one message that fills `bytes`, in `dialect`, with `mode`'s rules.
    pub fn decode(bytes: &'a [u8], dialect: Dialect, mode: Mode) -> Result<Self, Error> {
        let header = Header::check(bytes)?;
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
        header.check_alignment(mode)?;
        let mut view = MessageView {
            header,
            dialect,
            mode,
            slots: [None; 12],
            clone_flags: None,
            setgroups: None,
            rootless_euid: None,
            oom_score_adj: None,
        };
        let mut o = HEADER_LEN;
        while o < len {
            o = view.attribute(bytes, o, len)?;
        }
        if mode == Mode::Strict && view.clone_flags.is_none() {
            return Err(Error::MissingAttr {
                attr: Attribute::CloneFlags,
                offset: len,
            });
        }
        Ok(view)
    }

    /// Walks one attribute at `o` (checks A1 to A9) and returns the next attribute's offset.
    fn attribute(&mut self, bytes: &'a [u8], o: usize, end: usize) -> Result<usize, Error> {
        let mode = self.mode;
        let remaining = end - o;
        if remaining < 4 {
            return Err(Error::AttrHeaderTruncated {
                offset: o,
                remaining,
            });
        }
        let (_, (nla_len, number)) = (nom_u16(Native), nom_u16(Native))
            .parse(&bytes[o..o + 4])
            .map_err(
                |_: nom::Err<nom::error::Error<&[u8]>>| Error::AttrHeaderTruncated {
                    offset: o,
                    remaining,
                },
            )?;
        if nla_len < 4 {
            return Err(Error::AttrTooShort {
                offset: o,
                number,
                nla_len,
            });
        }
        let n = usize::from(nla_len);
        if n > remaining {
            return Err(Error::AttrPastEnd {
                offset: o,
                number,
                nla_len,
                remaining,
            });
        }
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
        if let (Mode::Strict, Some(first)) = (mode, self.slots[index]) {
            return Err(Error::RepeatedAttr {
                offset: o,
                attr,
                first: first.offset,
            });
        }
        let payload = &bytes[o + 4..o + n];
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
                if attr.payload_type() == PayloadType::String {
                    if let Some(i) = text.iter().position(|&b| b == 0) {
                        return Err(Error::EmbeddedNul {
                            offset: o,
                            attr,
                            at: o + 4 + i,
                        });
                    }
                }
                text
            }
        };
        let padded = align4(n);
        if mode == Mode::Strict {
            // H7 made `end` a multiple of 4, so the padding lies inside the message.
            let pad = &bytes[o + n..o + padded];
            if let Some(i) = pad.iter().position(|&b| b != 0) {
                return Err(Error::NonzeroPadding {
                    offset: o,
                    attr,
                    at: o + n + i,
                    value: pad[i],
                });
            }
        }
        self.payload(attr, o, body)?;
        self.slots[index] = Some(Slot {
            offset: o,
            payload: body,
        });
        Ok((o + padded).min(end))
    }

    /// A9: the payload's own grammar.
    fn payload(&mut self, attr: Attribute, o: usize, body: &'a [u8]) -> Result<(), Error> {
        let (mode, dialect) = (self.mode, self.dialect);
        let text_at = o + 4;
        let fail = |(at, problem): (usize, Problem)| Error::payload(o, attr, text_at + at, problem);
        match attr {
            Attribute::CloneFlags => {
                let flags = CloneFlags(read_u32(body));
                let mut allowed = CloneFlags::NAMESPACE_BITS;
                if !dialect.has_time_namespace() {
                    allowed &= !crate::namespace::CLONE_NEWTIME;
                }
                let bad = flags.bits() & !allowed;
                if mode == Mode::Strict && bad != 0 {
                    return Err(fail((0, Problem::UnknownCloneFlags { bits: bad })));
                }
                self.clone_flags = Some(flags);
            }
            Attribute::Setgroups | Attribute::RootlessEuid => {
                let value = if body.len() == 4 {
                    read_u32(body)
                } else {
                    u32::from(body[0])
                };
                if mode == Mode::Strict && value > 1 {
                    return Err(fail((0, Problem::BadBool { value })));
                }
                let slot = if attr == Attribute::Setgroups {
                    &mut self.setgroups
                } else {
                    &mut self.rootless_euid
                };
                *slot = Some(value != 0);
            }
            Attribute::OomScoreAdj => {
                let v = parse_oom(body, mode).ok_or_else(|| {
                    fail((
                        0,
                        Problem::BadOomScoreAdj {
                            text: Snippet::new(body),
                        },
                    ))
                })?;
                self.oom_score_adj = Some(v);
            }
            Attribute::NamespacePaths => {
                nspaths::validate(body, mode, dialect).map_err(fail)?;
            }
            Attribute::UidMap | Attribute::GidMap => {
                idmap::validate(body, mode).map_err(fail)?;
            }
            Attribute::NewuidmapPath | Attribute::NewgidmapPath | Attribute::ConsolePath => {
                if body.is_empty() {
                    return Err(fail((0, Problem::EmptyPayload)));
                }
                text::check_path(body, mode).map_err(|p| fail((0, p)))?;
            }
            Attribute::MountSources => {
                mounts::validate(body, mode).map_err(fail)?;
            }
            Attribute::TimeOffsets => {
                timens::validate(body, mode).map_err(fail)?;
            }
        }
        Ok(())
    }

    /// The header as it was on the wire.
    pub fn header(&self) -> Header {
        self.header
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
        self.slots[attr.canonical_index()]
    }

    /// The attributes present, in canonical order, with their slots.
    pub fn attributes(&self) -> impl Iterator<Item = (Attribute, Slot<'a>)> + '_ {
        Attribute::CANONICAL_ORDER
            .into_iter()
            .filter_map(|a| self.slot(a).map(|s| (a, s)))
    }

    /// The clone flags (empty when the attribute is absent, which only lenient mode allows).
    pub fn clone_flags(&self) -> CloneFlags {
        self.clone_flags.unwrap_or_default()
    }

    /// Whether the clone-flags attribute was present.
    pub fn has_clone_flags(&self) -> bool {
        self.clone_flags.is_some()
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
        self.setgroups
    }

    /// The oom_score_adj value.
    pub fn oom_score_adj(&self) -> Option<i32> {
        self.oom_score_adj
    }

    /// The rootless-euid bool.
    pub fn rootless_euid(&self) -> Option<bool> {
        self.rootless_euid
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

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(attrs: &[(u16, &[u8])]) -> Vec<u8> {
        let mut v = vec![0u8; 16];
        for (t, p) in attrs {
            v.extend_from_slice(&(4 + p.len() as u16).to_ne_bytes());
            v.extend_from_slice(&t.to_ne_bytes());
            v.extend_from_slice(p);
            while v.len() % 4 != 0 {
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
        assert_eq!(e.offset(), Some(16));
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
