//! The one attribute walk: checks A1 to A3 of spec section 4 and yields each attribute's place (offset,
//! `nla_len`, number, payload, padding), or the structural error at its offset. Decoding (both its strict
//! accept path and its detailed walk, so also the stream reader's final decode) and `explain` read
//! attributes through it.

use crate::error::DecodeError;
use crate::wire::{align4, attr_header, ATTR_HEADER_LEN, HEADER_LEN};

/// One attribute as the walk found it: framing checked (A1 to A3), nothing else.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawAttr<'a> {
    /// The attribute's offset in the message.
    pub offset: usize,
    /// Its `nla_len` (at least 4; the payload's length + 4).
    pub nla_len: u16,
    /// Its number (all 16 bits).
    pub number: u16,
    /// Its payload (for strings, with the final NUL).
    pub payload: &'a [u8],
    /// The padding after it, up to the next multiple of 4 or the end of the message (lenient mode may cut
    /// it off).
    pub padding: &'a [u8],
}

/// The attributes of a message, in wire order. `bytes` is the message (its `nlmsg_len` bytes, or fewer
/// when a caller walks a cut-off message); the walk starts after the header and stops at the first
/// structural error, which it yields.
#[derive(Clone, Debug)]
pub struct Attrs<'a> {
    bytes: &'a [u8],
    offset: usize,
}

impl<'a> Attrs<'a> {
    /// The walk over `bytes`, from offset 16.
    pub fn new(bytes: &'a [u8]) -> Self {
        Attrs {
            bytes,
            offset: HEADER_LEN,
        }
    }

    /// The offset of the next attribute (or the message's end).
    pub fn offset(&self) -> usize {
        self.offset
    }

    #[cold]
    fn fail(&mut self, e: DecodeError) -> Option<Result<RawAttr<'a>, DecodeError>> {
        self.offset = usize::MAX;
        Some(Err(e))
    }
}

impl<'a> Iterator for Attrs<'a> {
    type Item = Result<RawAttr<'a>, DecodeError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let o = self.offset;
        let rest = self.bytes.get(o..).filter(|r| !r.is_empty())?;
        let remaining = rest.len();
        let Some((nla_len, number)) = attr_header(rest) else {
            return self.fail(DecodeError::AttrHeaderTruncated {
                offset: o,
                remaining,
            });
        };
        let n = usize::from(nla_len);
        if n < ATTR_HEADER_LEN {
            return self.fail(DecodeError::AttrTooShort {
                offset: o,
                number,
                nla_len,
            });
        }
        let Some(payload) = rest.get(ATTR_HEADER_LEN..n) else {
            return self.fail(DecodeError::AttrPastEnd {
                offset: o,
                number,
                nla_len,
                remaining,
            });
        };
        let padded = align4(n).min(remaining);
        let padding = rest.get(n..padded).unwrap_or_default();
        self.offset = o + padded;
        Some(Ok(RawAttr {
            offset: o,
            nla_len,
            number,
            payload,
            padding,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yields_places_then_the_structural_error() {
        let mut m = vec![0u8; 16];
        m.extend_from_slice(&6u16.to_ne_bytes());
        m.extend_from_slice(&27286u16.to_ne_bytes());
        m.extend_from_slice(b"5\0\0\0");
        m.extend_from_slice(&2u16.to_ne_bytes());
        m.extend_from_slice(&27281u16.to_ne_bytes());
        let mut w = Attrs::new(&m);
        let a = w.next().unwrap().unwrap();
        assert_eq!((a.offset, a.nla_len, a.number), (16, 6, 27286));
        assert_eq!((a.payload, a.padding), (&b"5\0"[..], &b"\0\0"[..]));
        let e = w.next().unwrap().unwrap_err();
        assert_eq!((e.class(), e.offset()), ("attr-too-short", 24));
        assert!(w.next().is_none());
        let e = Attrs::new(&m[..18]).next().unwrap().unwrap_err();
        assert_eq!((e.class(), e.offset()), ("attr-header-truncated", 16));
        let e = Attrs::new(&m[..21]).next().unwrap().unwrap_err();
        assert_eq!((e.class(), e.offset()), ("attr-past-end", 16));
    }
}
