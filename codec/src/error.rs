//! The crate's one error type.
//!
//! Every variant names what a caller can act on; `class()` gives the stable error-class name used by the
//! spec's vectors, and `Display` writes one line naming the attribute, the byte offset and the value.

use crate::attribute::Attribute;
use crate::dialect::Dialect;
use crate::namespace::NamespaceKind;
use core::fmt;

/// A short copy of offending bytes, kept inline so that building an error never allocates.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Snippet {
    bytes: [u8; Snippet::CAP],
    len: u8,
    truncated: bool,
}

impl Snippet {
    const CAP: usize = 32;

    /// Copies up to 32 bytes of `bytes`.
    pub fn new(bytes: &[u8]) -> Self {
        let n = bytes.len().min(Self::CAP);
        let mut out = [0u8; Self::CAP];
        out[..n].copy_from_slice(&bytes[..n]);
        Snippet {
            bytes: out,
            len: n as u8,
            truncated: bytes.len() > Self::CAP,
        }
    }

    /// The bytes kept.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

impl fmt::Debug for Snippet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Snippet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"")?;
        for chunk in self.as_bytes().utf8_chunks() {
            for c in chunk.valid().chars() {
                write!(f, "{}", c.escape_debug())?;
            }
            for b in chunk.invalid() {
                write!(f, "\\x{b:02x}")?;
            }
        }
        f.write_str(if self.truncated { "\"..." } else { "\"" })
    }
}

/// What is wrong inside an attribute's payload (or with the matching field of a plan being encoded).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// A bool that is neither 0 nor 1.
    BadBool {
        /// The value found.
        value: u32,
    },
    /// Clone-flag bits that name no namespace of the dialect.
    UnknownCloneFlags {
        /// The offending bits.
        bits: u32,
    },
    /// The text is empty.
    EmptyPayload,
    /// A namespace entry without `:`, an empty entry, or an empty path.
    BadNamespaceEntry {
        /// The entry.
        entry: Snippet,
    },
    /// A namespace type name the protocol does not know.
    UnknownNamespaceType {
        /// The name.
        name: Snippet,
    },
    /// A namespace type the dialect does not have.
    NamespaceTypeNotInDialect {
        /// The kind.
        kind: NamespaceKind,
    },
    /// The same namespace type named twice.
    RepeatedNamespaceType {
        /// The kind.
        kind: NamespaceKind,
    },
    /// A path that does not start with `/`.
    RelativePath {
        /// The path.
        path: Snippet,
    },
    /// A path longer than the spec's maximum.
    PathTooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// A path that holds a byte it may not hold (NUL; `,` in a namespace path).
    ForbiddenByte {
        /// The byte.
        byte: u8,
    },
    /// An id-map line that does not follow the grammar, or a range that is empty or overflows.
    BadIdMap {
        /// The 1-based line number.
        line: usize,
        /// Why.
        reason: &'static str,
        /// The line.
        text: Snippet,
    },
    /// Two id-map ranges overlap.
    IdMapOverlap {
        /// The 1-based line numbers of the two ranges.
        lines: (usize, usize),
        /// "container" or "host".
        side: &'static str,
    },
    /// More ranges than the kernel accepts.
    IdMapTooLong {
        /// The number of ranges.
        ranges: usize,
    },
    /// oom_score_adj text that is not a decimal in [-1000, 1000].
    BadOomScoreAdj {
        /// The text.
        text: Snippet,
    },
    /// A malformed mount-source list.
    BadMountSources {
        /// Why.
        reason: &'static str,
    },
    /// A malformed time-offset list.
    BadTimeOffsets {
        /// The 1-based line number.
        line: usize,
        /// Why.
        reason: &'static str,
        /// The line.
        text: Snippet,
    },
    /// A payload too long for one attribute (more than 65531 bytes).
    PayloadTooLarge {
        /// Its length.
        len: usize,
    },
}

impl Problem {
    /// The spec's error class.
    pub const fn class(&self) -> &'static str {
        match self {
            Problem::BadBool { .. } => "bad-bool",
            Problem::UnknownCloneFlags { .. } => "unknown-clone-flags",
            Problem::EmptyPayload => "empty-payload",
            Problem::BadNamespaceEntry { .. } => "bad-ns-entry",
            Problem::UnknownNamespaceType { .. } => "unknown-ns-type",
            Problem::NamespaceTypeNotInDialect { .. } => "ns-type-not-in-dialect",
            Problem::RepeatedNamespaceType { .. } => "repeated-ns-type",
            Problem::RelativePath { .. } => "relative-path",
            Problem::PathTooLong { .. } => "path-too-long",
            Problem::ForbiddenByte { .. } => "bad-ns-entry",
            Problem::BadIdMap { .. } => "bad-id-map",
            Problem::IdMapOverlap { .. } => "id-map-overlap",
            Problem::IdMapTooLong { .. } => "id-map-too-long",
            Problem::BadOomScoreAdj { .. } => "bad-oom-score-adj",
            Problem::BadMountSources { .. } => "bad-mount-sources",
            Problem::BadTimeOffsets { .. } => "bad-time-offsets",
            Problem::PayloadTooLarge { .. } => "payload-too-large",
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::BadBool { value } => write!(f, "a bool must be 0 or 1, found {value}"),
            Problem::UnknownCloneFlags { bits } => {
                write!(
                    f,
                    "clone flags {bits:#010x} name no namespace of this dialect"
                )
            }
            Problem::EmptyPayload => f.write_str("the text is empty"),
            Problem::BadNamespaceEntry { entry } => {
                write!(f, "entry {entry} is not TYPE:PATH with a non-empty path")
            }
            Problem::UnknownNamespaceType { name } => write!(f, "unknown namespace type {name}"),
            Problem::NamespaceTypeNotInDialect { kind } => {
                write!(f, "namespace type {kind} is not part of this dialect")
            }
            Problem::RepeatedNamespaceType { kind } => {
                write!(f, "namespace type {kind} is named more than once")
            }
            Problem::RelativePath { path } => write!(f, "path {path} is not absolute"),
            Problem::PathTooLong { len } => {
                write!(f, "path of {len} bytes is longer than {}", crate::MAX_PATH)
            }
            Problem::ForbiddenByte { byte } => write!(f, "path holds the byte {byte:#04x}"),
            Problem::BadIdMap { line, reason, text } => {
                write!(f, "id map line {line} {text}: {reason}")
            }
            Problem::IdMapOverlap { lines, side } => write!(
                f,
                "id map lines {} and {} overlap on the {side} side",
                lines.0, lines.1
            ),
            Problem::IdMapTooLong { ranges } => write!(
                f,
                "id map has {ranges} ranges, more than {}",
                crate::MAX_ID_RANGES
            ),
            Problem::BadOomScoreAdj { text } => {
                write!(f, "oom_score_adj {text} is not a decimal in [-1000, 1000]")
            }
            Problem::BadMountSources { reason } => write!(f, "mount sources: {reason}"),
            Problem::BadTimeOffsets { line, reason, text } => {
                write!(f, "time offsets line {line} {text}: {reason}")
            }
            Problem::PayloadTooLarge { len } => {
                write!(
                    f,
                    "payload of {len} bytes does not fit one attribute (max 65531)"
                )
            }
        }
    }
}

/// The plan-consistency rules (spec section 8).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlanRule {
    /// An id map without `CLONE_NEWUSER`.
    MapWithoutUserns,
    /// Time offsets without `CLONE_NEWTIME`.
    OffsetsWithoutTimens,
    /// A namespace type both joined and created.
    JoinAndCreate(NamespaceKind),
}

impl PlanRule {
    /// The spec's error class.
    pub const fn class(&self) -> &'static str {
        match self {
            PlanRule::MapWithoutUserns => "plan-map-without-userns",
            PlanRule::OffsetsWithoutTimens => "plan-offsets-without-timens",
            PlanRule::JoinAndCreate(_) => "plan-join-and-create",
        }
    }
}

/// Every error the codec reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// Fewer than 16 bytes: no whole header.
    TruncatedHeader {
        /// Bytes available.
        available: usize,
    },
    /// `nlmsg_len` is below the header's own 16 bytes.
    LengthTooShort {
        /// The declared length.
        declared: u32,
    },
    /// `nlmsg_len` is above the spec's maximum.
    LengthTooLarge {
        /// The declared length.
        declared: u32,
        /// The maximum.
        max: u32,
    },
    /// `nlmsg_type` is not 62000.
    WrongType {
        /// The type found.
        found: u16,
    },
    /// `nlmsg_len` is more than the bytes available.
    Truncated {
        /// The declared length.
        declared: u32,
        /// Bytes available.
        available: usize,
    },
    /// Bytes follow the message in a buffer meant to hold exactly one message.
    TrailingBytes {
        /// The declared length.
        declared: u32,
        /// Bytes available.
        available: usize,
    },
    /// Strict: `nlmsg_len` is not a multiple of 4.
    UnalignedLength {
        /// The declared length.
        declared: u32,
    },
    /// Fewer than 4 bytes left for an attribute header.
    AttrHeaderTruncated {
        /// Where the attribute would start.
        offset: usize,
        /// Bytes left in the message.
        remaining: usize,
    },
    /// `nla_len` below 4.
    AttrTooShort {
        /// The attribute's offset.
        offset: usize,
        /// Its type number.
        number: u16,
        /// Its `nla_len`.
        nla_len: u16,
    },
    /// `nla_len` runs past the end of the message.
    AttrPastEnd {
        /// The attribute's offset.
        offset: usize,
        /// Its type number.
        number: u16,
        /// Its `nla_len`.
        nla_len: u16,
        /// Bytes left in the message from `offset`.
        remaining: usize,
    },
    /// A type number no dialect knows.
    UnknownAttr {
        /// The attribute's offset.
        offset: usize,
        /// Its type number.
        number: u16,
    },
    /// A known attribute that this dialect does not have.
    AttrNotInDialect {
        /// The attribute's offset.
        offset: usize,
        /// The attribute (for 27290, the meaning it has in the newest dialect).
        attr: Attribute,
        /// The dialect.
        dialect: Dialect,
    },
    /// Strict: the same attribute twice.
    RepeatedAttr {
        /// The second occurrence's offset.
        offset: usize,
        /// The attribute.
        attr: Attribute,
        /// The first occurrence's offset.
        first: usize,
    },
    /// Strict: a required attribute is absent.
    MissingAttr {
        /// The attribute.
        attr: Attribute,
        /// The message length (where it was looked for last).
        offset: usize,
    },
    /// Strict: a padding byte is not zero.
    NonzeroPadding {
        /// The attribute's offset.
        offset: usize,
        /// The attribute.
        attr: Attribute,
        /// The padding byte's offset.
        at: usize,
        /// Its value.
        value: u8,
    },
    /// The payload's length does not fit its type.
    PayloadLength {
        /// The attribute's offset.
        offset: usize,
        /// The attribute.
        attr: Attribute,
        /// The payload length.
        len: usize,
        /// What was expected.
        expected: &'static str,
    },
    /// A string payload whose last byte is not NUL.
    MissingNul {
        /// The attribute's offset.
        offset: usize,
        /// The attribute.
        attr: Attribute,
        /// The last byte.
        last: u8,
    },
    /// A NUL inside a string payload.
    EmbeddedNul {
        /// The attribute's offset.
        offset: usize,
        /// The attribute.
        attr: Attribute,
        /// The NUL's offset.
        at: usize,
    },
    /// The payload breaks its grammar or limits (decoding), or a plan's field does (encoding: no offsets).
    Payload {
        /// The attribute's offset, when decoding.
        offset: Option<usize>,
        /// The attribute.
        attr: Attribute,
        /// The offending byte's offset, when known.
        at: Option<usize>,
        /// What is wrong.
        problem: Problem,
    },
    /// A plan breaks a consistency rule.
    Plan {
        /// The rule.
        rule: PlanRule,
    },
    /// The output buffer is too small for the encoded message.
    BufferTooSmall {
        /// Bytes needed.
        needed: usize,
        /// Bytes available.
        available: usize,
    },
    /// The encoded message would be longer than the spec's maximum.
    MessageTooLarge {
        /// Its length.
        len: usize,
    },
}

impl Error {
    /// The spec's error class (Appendix A of `spec/PROTOCOL.md`).
    pub const fn class(&self) -> &'static str {
        match self {
            Error::TruncatedHeader { .. } => "truncated-header",
            Error::LengthTooShort { .. } => "length-too-short",
            Error::LengthTooLarge { .. } => "length-too-large",
            Error::WrongType { .. } => "wrong-type",
            Error::Truncated { .. } => "truncated",
            Error::TrailingBytes { .. } => "trailing-bytes",
            Error::UnalignedLength { .. } => "unaligned-length",
            Error::AttrHeaderTruncated { .. } => "attr-header-truncated",
            Error::AttrTooShort { .. } => "attr-too-short",
            Error::AttrPastEnd { .. } => "attr-past-end",
            Error::UnknownAttr { .. } => "unknown-attr",
            Error::AttrNotInDialect { .. } => "attr-not-in-dialect",
            Error::RepeatedAttr { .. } => "repeated-attr",
            Error::MissingAttr { .. } => "missing-attr",
            Error::NonzeroPadding { .. } => "nonzero-padding",
            Error::PayloadLength { .. } => "payload-length",
            Error::MissingNul { .. } => "missing-nul",
            Error::EmbeddedNul { .. } => "embedded-nul",
            Error::Payload { problem, .. } => problem.class(),
            Error::Plan { rule } => rule.class(),
            Error::BufferTooSmall { .. } => "buffer-too-small",
            Error::MessageTooLarge { .. } => "length-too-large",
        }
    }

    /// The byte offset the spec assigns to the error (the attribute's start for attribute errors).
    pub const fn offset(&self) -> Option<usize> {
        match *self {
            Error::TruncatedHeader { .. }
            | Error::LengthTooShort { .. }
            | Error::LengthTooLarge { .. }
            | Error::UnalignedLength { .. } => Some(0),
            Error::WrongType { .. } => Some(4),
            Error::Truncated { available, .. } => Some(available),
            Error::TrailingBytes { declared, .. } => Some(declared as usize),
            Error::AttrHeaderTruncated { offset, .. }
            | Error::AttrTooShort { offset, .. }
            | Error::AttrPastEnd { offset, .. }
            | Error::UnknownAttr { offset, .. }
            | Error::AttrNotInDialect { offset, .. }
            | Error::RepeatedAttr { offset, .. }
            | Error::MissingAttr { offset, .. }
            | Error::NonzeroPadding { offset, .. }
            | Error::PayloadLength { offset, .. }
            | Error::MissingNul { offset, .. }
            | Error::EmbeddedNul { offset, .. } => Some(offset),
            Error::Payload { offset, .. } => offset,
            Error::Plan { .. } | Error::BufferTooSmall { .. } | Error::MessageTooLarge { .. } => {
                None
            }
        }
    }

    /// The attribute at fault, when there is one.
    pub const fn attribute(&self) -> Option<Attribute> {
        match *self {
            Error::AttrNotInDialect { attr, .. }
            | Error::RepeatedAttr { attr, .. }
            | Error::MissingAttr { attr, .. }
            | Error::NonzeroPadding { attr, .. }
            | Error::PayloadLength { attr, .. }
            | Error::MissingNul { attr, .. }
            | Error::EmbeddedNul { attr, .. }
            | Error::Payload { attr, .. } => Some(attr),
            _ => None,
        }
    }

    pub(crate) fn payload(offset: usize, attr: Attribute, at: usize, problem: Problem) -> Error {
        Error::Payload {
            offset: Some(offset),
            attr,
            at: Some(at),
            problem,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.class())?;
        match *self {
            Error::TruncatedHeader { available } => {
                write!(f, "only {available} bytes, a header needs 16")
            }
            Error::LengthTooShort { declared } => {
                write!(f, "header at offset 0: nlmsg_len {declared} is below 16")
            }
            Error::LengthTooLarge { declared, max } => write!(
                f,
                "header at offset 0: nlmsg_len {declared} is above the maximum {max}"
            ),
            Error::WrongType { found } => write!(
                f,
                "header at offset 4: nlmsg_type {found} is not {}",
                crate::INIT_MSG
            ),
            Error::Truncated {
                declared,
                available,
            } => write!(
                f,
                "header at offset 0: nlmsg_len {declared} but only {available} bytes"
            ),
            Error::TrailingBytes {
                declared,
                available,
            } => write!(
                f,
                "{} bytes follow the message's {declared} bytes at offset {declared}",
                available - declared as usize
            ),
            Error::UnalignedLength { declared } => write!(
                f,
                "header at offset 0: nlmsg_len {declared} is not a multiple of 4"
            ),
            Error::AttrHeaderTruncated { offset, remaining } => write!(
                f,
                "attribute at offset {offset}: only {remaining} bytes left, a header needs 4"
            ),
            Error::AttrTooShort {
                offset,
                number,
                nla_len,
            } => write!(
                f,
                "attribute {} ({number}) at offset {offset}: nla_len {nla_len} is below 4",
                crate::Attribute::describe_number(number)
            ),
            Error::AttrPastEnd {
                offset,
                number,
                nla_len,
                remaining,
            } => write!(
                f,
                "attribute {} ({number}) at offset {offset}: nla_len {nla_len} runs past the message end ({remaining} bytes left)",
                crate::Attribute::describe_number(number)
            ),
            Error::UnknownAttr { offset, number } => {
                write!(f, "attribute at offset {offset}: unknown type {number} ({number:#06x})")
            }
            Error::AttrNotInDialect {
                offset,
                attr,
                dialect,
            } => write!(
                f,
                "attribute {} at offset {offset}: not part of dialect {dialect}",
                attr.number()
            ),
            Error::RepeatedAttr {
                offset,
                attr,
                first,
            } => write!(
                f,
                "attribute {attr} at offset {offset}: repeats the one at offset {first}"
            ),
            Error::MissingAttr { attr, offset } => {
                write!(f, "attribute {attr} is required; the message ends at offset {offset} without it")
            }
            Error::NonzeroPadding {
                offset,
                attr,
                at,
                value,
            } => write!(
                f,
                "attribute {attr} at offset {offset}: padding byte at offset {at} is {value:#04x}, not 0"
            ),
            Error::PayloadLength {
                offset,
                attr,
                len,
                expected,
            } => write!(
                f,
                "attribute {attr} at offset {offset}: payload of {len} bytes, expected {expected}"
            ),
            Error::MissingNul { offset, attr, last } => write!(
                f,
                "attribute {attr} at offset {offset}: payload ends in {last:#04x}, not NUL"
            ),
            Error::EmbeddedNul { offset, attr, at } => write!(
                f,
                "attribute {attr} at offset {offset}: NUL inside the text at offset {at}"
            ),
            Error::Payload {
                offset,
                attr,
                at,
                problem,
            } => {
                write!(f, "attribute {attr}")?;
                if let Some(o) = offset {
                    write!(f, " at offset {o}")?;
                }
                if let Some(a) = at {
                    write!(f, " (byte {a})")?;
                }
                write!(f, ": {problem}")
            }
            Error::Plan { rule } => match rule {
                PlanRule::MapWithoutUserns => {
                    f.write_str("a uid or gid map needs clone flag user (CLONE_NEWUSER)")
                }
                PlanRule::OffsetsWithoutTimens => {
                    f.write_str("time offsets need clone flag time (CLONE_NEWTIME)")
                }
                PlanRule::JoinAndCreate(kind) => write!(
                    f,
                    "namespace {kind} is both joined by path and created by clone flag"
                ),
            },
            Error::BufferTooSmall { needed, available } => write!(
                f,
                "the message needs {needed} bytes, the buffer has {available}"
            ),
            Error::MessageTooLarge { len } => write!(
                f,
                "the encoded message would be {len} bytes, above the maximum {}",
                crate::MAX_MESSAGE_LEN
            ),
        }
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippet_escapes_and_truncates() {
        let s = Snippet::new(b"a\nb\xff");
        assert_eq!(s.to_string(), "\"a\\nb\\xff\"");
        let long = Snippet::new(&[b'x'; 40]);
        assert!(long.to_string().ends_with("\"..."));
        assert_eq!(long.as_bytes().len(), 32);
    }

    #[test]
    fn messages_name_attribute_offset_and_value() {
        let e = Error::payload(
            40,
            Attribute::UidMap,
            47,
            Problem::BadIdMap {
                line: 1,
                reason: "size is 0",
                text: Snippet::new(b"0 0 0"),
            },
        );
        let text = e.to_string();
        assert!(text.contains("uid_map (27283)"), "{text}");
        assert!(text.contains("offset 40"), "{text}");
        assert!(text.contains("\"0 0 0\""), "{text}");
        assert_eq!(e.class(), "bad-id-map");
        assert_eq!(e.offset(), Some(40));
    }
}
