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

/// How a walk reports a structural error: with the whole [`DecodeError`], or (the strict accept path,
/// which only needs to know that the message is not simple) with the zero-sized [`No`]. The same walk is
/// compiled for both.
pub(crate) trait Fault: Sized {
    /// A1.
    fn header_truncated(offset: usize, remaining: usize) -> Self;
    /// A2.
    fn too_short(offset: usize, number: u16, nla_len: u16) -> Self;
    /// A3.
    fn past_end(offset: usize, number: u16, nla_len: u16, remaining: usize) -> Self;
}

impl Fault for DecodeError {
    fn header_truncated(offset: usize, remaining: usize) -> Self {
        DecodeError::AttrHeaderTruncated { offset, remaining }
    }

    fn too_short(offset: usize, number: u16, nla_len: u16) -> Self {
        DecodeError::AttrTooShort {
            offset,
            number,
            nla_len,
        }
    }

    fn past_end(offset: usize, number: u16, nla_len: u16, remaining: usize) -> Self {
        DecodeError::AttrPastEnd {
            offset,
            number,
            nla_len,
            remaining,
        }
    }
}

/// The cheap fault: "no", with nothing built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct No;

impl Fault for No {
    fn header_truncated(_: usize, _: usize) -> Self {
        No
    }

    fn too_short(_: usize, _: u16, _: u16) -> Self {
        No
    }

    fn past_end(_: usize, _: u16, _: u16, _: usize) -> Self {
        No
    }
}

/// The walk, generic over its fault.
#[derive(Clone, Debug)]
pub(crate) struct Walk<'a, E> {
    bytes: &'a [u8],
    offset: usize,
    fault: core::marker::PhantomData<E>,
}

impl<'a, E: Fault> Walk<'a, E> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Walk {
            bytes,
            offset: HEADER_LEN,
            fault: core::marker::PhantomData,
        }
    }

    #[cold]
    fn fail(&mut self, e: E) -> Option<Result<RawAttr<'a>, E>> {
        self.offset = usize::MAX;
        Some(Err(e))
    }
}

impl<'a, E: Fault> Iterator for Walk<'a, E> {
    type Item = Result<RawAttr<'a>, E>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let o = self.offset;
        let rest = self.bytes.get(o..).filter(|r| !r.is_empty())?;
        let remaining = rest.len();
        let Some((nla_len, number)) = attr_header(rest) else {
            return self.fail(E::header_truncated(o, remaining));
        };
        let n = usize::from(nla_len);
        if n < ATTR_HEADER_LEN {
            return self.fail(E::too_short(o, number, nla_len));
        }
        let Some(payload) = rest.get(ATTR_HEADER_LEN..n) else {
            return self.fail(E::past_end(o, number, nla_len, remaining));
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

/// The attributes of a message, in wire order. `bytes` is the message (its `nlmsg_len` bytes, or fewer
/// when a caller walks a cut-off message); the walk starts after the header and stops at the first
/// structural error (A1 to A3), which it yields.
#[derive(Clone, Debug)]
pub struct Attrs<'a>(Walk<'a, DecodeError>);

impl<'a> Attrs<'a> {
    /// The walk over `bytes`, from offset 16.
    pub fn new(bytes: &'a [u8]) -> Self {
        Attrs(Walk::new(bytes))
    }

    /// The offset of the next attribute (or the message's end).
    pub fn offset(&self) -> usize {
        self.0.offset
    }
}

impl<'a> Iterator for Attrs<'a> {
    type Item = Result<RawAttr<'a>, DecodeError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        self.0.next()
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
        // The cheap fault walks the same way.
        let cheap: Vec<_> = Walk::<No>::new(&m).collect();
        assert_eq!(cheap.len(), 2);
        assert_eq!(cheap[1], Err(No));
    }
}
