//! The errors, one type per audience: [`DecodeError`] for a message that breaks sections 3 to 5 (every
//! variant at the offset the spec gives), [`EncodeError`] for a plan that cannot be encoded (a field named
//! by its attribute, a dialect conflict, the buffer or the message's size), and [`PlanError`] for the
//! consistency rules of section 8. [`Problem`] is what is wrong inside one payload, shared by the first two.
//!
//! `class()` gives the stable error-class name of the spec's Appendix A, and `Display` writes one line
//! naming the attribute, the byte offset and the value.

use crate::attribute::Attribute;
use crate::dialect::Dialect;
use crate::namespace::NamespaceKind;
use crate::wire::{INIT_MSG, MAX_ID_RANGES, MAX_MESSAGE_LEN, MAX_PATH};
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
    /// Encoding: a NUL byte inside a path or text field (a string payload has none, spec section 4).
    EmbeddedNul,
    /// Encoding: a `,` in a namespace path (it would split the entry, spec section 5.2).
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
            Problem::EmbeddedNul => "embedded-nul",
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
                write!(f, "path of {len} bytes is longer than {}", MAX_PATH)
            }
            Problem::EmbeddedNul => f.write_str("a NUL byte inside the text"),
            Problem::ForbiddenByte { byte } => write!(f, "path holds the byte {byte:#04x}"),
            Problem::BadIdMap { line, reason, text } => {
                write!(f, "id map line {line} {text}: {reason}")
            }
            Problem::IdMapOverlap { lines, side } => write!(
                f,
                "id map lines {} and {} overlap on the {side} side",
                lines.0, lines.1
            ),
            Problem::IdMapTooLong { ranges } => {
                write!(f, "id map has {ranges} ranges, more than {}", MAX_ID_RANGES)
            }
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

/// A plan that breaks a consistency rule of spec section 8.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlanError {
    /// An id map without `CLONE_NEWUSER`.
    MapWithoutUserns,
    /// Time offsets without `CLONE_NEWTIME`.
    OffsetsWithoutTimens,
    /// A namespace type both joined and created.
    JoinAndCreate(NamespaceKind),
}

impl PlanError {
    /// The spec's error class.
    pub const fn class(&self) -> &'static str {
        match self {
            PlanError::MapWithoutUserns => "plan-map-without-userns",
            PlanError::OffsetsWithoutTimens => "plan-offsets-without-timens",
            PlanError::JoinAndCreate(_) => "plan-join-and-create",
        }
    }
}

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.class())?;
        match self {
            PlanError::MapWithoutUserns => {
                f.write_str("a uid or gid map needs clone flag user (CLONE_NEWUSER)")
            }
            PlanError::OffsetsWithoutTimens => {
                f.write_str("time offsets need clone flag time (CLONE_NEWTIME)")
            }
            PlanError::JoinAndCreate(kind) => write!(
                f,
                "namespace {kind} is both joined by path and created by clone flag"
            ),
        }
    }
}

impl std::error::Error for PlanError {}

/// Why a plan cannot be encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EncodeError {
    /// A field outside its strict grammar or limits (spec sections 5 and 7).
    Field {
        /// The attribute the field is sent in.
        attr: Attribute,
        /// What is wrong.
        problem: Problem,
    },
    /// The plan has a field whose attribute the dialect does not have.
    NotInDialect {
        /// The attribute.
        attr: Attribute,
        /// The dialect encoded in.
        dialect: Dialect,
    },
    /// The plan names its dialect, and it is not the one asked for.
    DialectMismatch {
        /// The plan's own dialect.
        plan: Dialect,
        /// The dialect asked for.
        requested: Dialect,
    },
    /// The plan breaks a consistency rule of spec section 8.
    Inconsistent(PlanError),
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

impl EncodeError {
    /// The spec's error class (Appendix A) where there is one; `dialect-mismatch`, `buffer-too-small`
    /// otherwise.
    pub const fn class(&self) -> &'static str {
        match self {
            EncodeError::Field { problem, .. } => problem.class(),
            EncodeError::NotInDialect { .. } => "attr-not-in-dialect",
            EncodeError::DialectMismatch { .. } => "dialect-mismatch",
            EncodeError::Inconsistent(rule) => rule.class(),
            EncodeError::BufferTooSmall { .. } => "buffer-too-small",
            EncodeError::MessageTooLarge { .. } => "length-too-large",
        }
    }

    /// The attribute at fault, when there is one.
    pub const fn attribute(&self) -> Option<Attribute> {
        match *self {
            EncodeError::Field { attr, .. } | EncodeError::NotInDialect { attr, .. } => Some(attr),
            _ => None,
        }
    }
}

impl From<PlanError> for EncodeError {
    fn from(e: PlanError) -> Self {
        EncodeError::Inconsistent(e)
    }
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            EncodeError::Field { attr, problem } => {
                write!(f, "{}: attribute {attr}: {problem}", problem.class())
            }
            EncodeError::NotInDialect { attr, dialect } => write!(
                f,
                "{}: attribute {attr}: not part of dialect {dialect}",
                self.class()
            ),
            EncodeError::DialectMismatch { plan, requested } => write!(
                f,
                "{}: the plan is for dialect {plan}, not {requested}",
                self.class()
            ),
            EncodeError::Inconsistent(rule) => rule.fmt(f),
            EncodeError::BufferTooSmall { needed, available } => write!(
                f,
                "{}: the message needs {needed} bytes, the buffer has {available}",
                self.class()
            ),
            EncodeError::MessageTooLarge { len } => write!(
                f,
                "{}: the encoded message would be {len} bytes, above the maximum {MAX_MESSAGE_LEN}",
                self.class()
            ),
        }
    }
}

impl std::error::Error for EncodeError {}

/// Why a message does not decode: the first check of spec sections 3 to 5 that fails, at its offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
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
    /// The payload breaks its grammar or limits (A9).
    Payload {
        /// The attribute's offset.
        offset: usize,
        /// The attribute.
        attr: Attribute,
        /// The offending byte's offset.
        at: usize,
        /// What is wrong.
        problem: Problem,
    },
}

use DecodeError as Error;

impl DecodeError {
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
        }
    }

    /// The byte offset the spec assigns to the error (the attribute's start for attribute errors).
    pub const fn offset(&self) -> usize {
        match *self {
            Error::TruncatedHeader { .. }
            | Error::LengthTooShort { .. }
            | Error::LengthTooLarge { .. }
            | Error::UnalignedLength { .. } => 0,
            Error::WrongType { .. } => 4,
            Error::Truncated { available, .. } => available,
            Error::TrailingBytes { declared, .. } => declared as usize,
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
            | Error::EmbeddedNul { offset, .. }
            | Error::Payload { offset, .. } => offset,
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
            offset,
            attr,
            at,
            problem,
        }
    }
}

impl fmt::Display for DecodeError {
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
                INIT_MSG
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
                Attribute::describe_number(number)
            ),
            Error::AttrPastEnd {
                offset,
                number,
                nla_len,
                remaining,
            } => write!(
                f,
                "attribute {} ({number}) at offset {offset}: nla_len {nla_len} runs past the message end ({remaining} bytes left)",
                Attribute::describe_number(number)
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
            } => write!(f, "attribute {attr} at offset {offset} (byte {at}): {problem}"),
        }
    }
}

impl std::error::Error for DecodeError {}

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
        assert_eq!(e.offset(), 40);
    }
}
