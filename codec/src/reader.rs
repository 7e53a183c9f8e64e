//! The incremental reader: feed it bytes as a stream delivers them; it yields the message when complete.
//!
//! It never takes more bytes than the message declares (the init pipe carries other data afterwards), and
//! it refuses a declared length above the maximum before allocating: its one allocation is exactly
//! `nlmsg_len` bytes.

use crate::dialect::Dialect;
use crate::error::DecodeError as Error;
use crate::message::MessageView;
use crate::text::Mode;
use crate::wire::{Header, HEADER_LEN, MAX_MESSAGE_LEN};

/// Reads one message from a byte stream.
#[derive(Clone, Debug)]
pub struct MessageReader {
    dialect: Dialect,
    mode: Mode,
    head: [u8; HEADER_LEN],
    head_len: usize,
    body: Vec<u8>,
    declared: usize,
    /// The header error, once one was found: the reader then takes nothing more.
    failed: Option<Error>,
}

impl MessageReader {
    /// A reader for one message of `dialect`, decoded with `mode`.
    pub fn new(dialect: Dialect, mode: Mode) -> Self {
        MessageReader {
            dialect,
            mode,
            head: [0; HEADER_LEN],
            head_len: 0,
            body: Vec::new(),
            declared: 0,
            failed: None,
        }
    }

    /// How many more bytes the message needs: read at most this many from the stream. 0 when complete or
    /// after an error.
    pub fn wanted(&self) -> usize {
        if self.failed.is_some() {
            0
        } else if self.head_len < HEADER_LEN {
            HEADER_LEN - self.head_len
        } else {
            self.declared - self.body.len()
        }
    }

    /// Whether the whole message has arrived (never after a header error).
    pub fn is_complete(&self) -> bool {
        self.failed.is_none() && self.head_len == HEADER_LEN && self.body.len() == self.declared
    }

    /// The header error that stopped the reader, if any.
    pub fn error(&self) -> Option<Error> {
        self.failed
    }

    /// Bytes received so far.
    pub fn received(&self) -> usize {
        if self.head_len < HEADER_LEN {
            self.head_len
        } else {
            self.body.len()
        }
    }

    /// Takes bytes from `input`, at most [`MessageReader::wanted`] of them, and returns how many it took: a
    /// push that completes the header stops there, so that the caller asks `wanted()` again (the header
    /// says how much follows). A header that fails checks H2 to H4 (or H7 in strict mode) is an error as
    /// soon as its 16 bytes are in; the reader keeps it and returns it again on every later push.
    pub fn push(&mut self, input: &[u8]) -> Result<usize, Error> {
        if let Some(e) = self.failed {
            return Err(e);
        }
        if self.head_len < HEADER_LEN {
            let n = input.len().min(HEADER_LEN - self.head_len);
            self.head[self.head_len..self.head_len + n].copy_from_slice(&input[..n]);
            self.head_len += n;
            if self.head_len == HEADER_LEN {
                self.start_body().inspect_err(|e| self.failed = Some(*e))?;
            }
            return Ok(n);
        }
        let n = input.len().min(self.declared - self.body.len());
        self.body.extend_from_slice(&input[..n]);
        Ok(n)
    }

    /// Checks the complete header and makes the message's one allocation.
    fn start_body(&mut self) -> Result<(), Error> {
        let header = Header::check(&self.head)?;
        header.check_alignment(self.mode)?;
        self.declared = header.len as usize;
        let mut body = Vec::new();
        body.try_reserve_exact(self.declared)
            .map_err(|_| Error::LengthTooLarge {
                declared: header.len,
                max: MAX_MESSAGE_LEN,
            })?;
        body.extend_from_slice(&self.head);
        self.body = body;
        Ok(())
    }

    /// The error for a stream that ended now (EOF before the message was complete); after a header error,
    /// that error.
    pub fn eof_error(&self) -> Error {
        if let Some(e) = self.failed {
            e
        } else if self.head_len < HEADER_LEN {
            Error::TruncatedHeader {
                available: self.head_len,
            }
        } else {
            Error::Truncated {
                declared: self.declared as u32,
                available: self.body.len(),
            }
        }
    }

    /// The complete message's bytes.
    pub fn bytes(&self) -> Option<&[u8]> {
        self.is_complete().then_some(&self.body[..])
    }

    /// Decodes the complete message (`None` until it is complete).
    pub fn decode(&self) -> Option<Result<MessageView<'_>, Error>> {
        self.bytes()
            .map(|b| MessageView::decode(b, self.dialect, self.mode))
    }

    /// The complete message's bytes, owned.
    pub fn into_bytes(self) -> Option<Vec<u8>> {
        let done = self.is_complete();
        done.then_some(self.body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::namespace::NamespaceKind;
    use crate::BootstrapPlan;

    #[test]
    fn byte_by_byte_and_stops_at_the_end() {
        let plan = BootstrapPlan::builder()
            .create(NamespaceKind::Net)
            .oom_score_adj(5)
            .build();
        let mut stream = plan.to_bytes(Dialect::Runc12).unwrap();
        let len = stream.len();
        stream.extend_from_slice(b"{\"next\":1}");
        let mut r = MessageReader::new(Dialect::Runc12, Mode::Strict);
        let mut pos = 0;
        while !r.is_complete() {
            assert!(r.wanted() > 0);
            pos += r.push(&stream[pos..pos + 1]).unwrap();
        }
        assert_eq!(pos, len);
        assert_eq!(r.wanted(), 0);
        assert_eq!(r.push(&stream[pos..]).unwrap(), 0);
        let v = r.decode().unwrap().unwrap();
        assert_eq!(v.oom_score_adj(), Some(5));
    }

    #[test]
    fn refuses_a_huge_length_before_allocating() {
        let mut head = [0u8; 16];
        head[0..4].copy_from_slice(&0xFFFF_FFF0u32.to_ne_bytes());
        head[4..6].copy_from_slice(&62000u16.to_ne_bytes());
        let mut r = MessageReader::new(Dialect::Runc12, Mode::Strict);
        assert_eq!(r.push(&head[..15]), Ok(15));
        assert_eq!(r.push(&head[15..]).unwrap_err().class(), "length-too-large");
        assert_eq!(r.body.capacity(), 0);
    }

    #[test]
    fn a_header_error_sticks_and_never_looks_complete() {
        // Found by the stream fuzz target: nlmsg_len 0 used to leave a reader that claimed a complete,
        // empty message.
        let mut head = [0u8; 16];
        head[4..6].copy_from_slice(&62000u16.to_ne_bytes());
        let mut r = MessageReader::new(Dialect::Runc12, Mode::Strict);
        let e = r.push(&head).unwrap_err();
        assert_eq!(e, Error::LengthTooShort { declared: 0 });
        assert!(!r.is_complete());
        assert_eq!(r.wanted(), 0);
        assert!(r.bytes().is_none() && r.decode().is_none());
        assert_eq!(r.push(b"more"), Err(e));
        assert_eq!(r.eof_error(), e);
        assert_eq!(r.error(), Some(e));
    }

    #[test]
    fn a_push_never_takes_more_than_wanted() {
        // Also found by the fuzz target: a push that completed the header went on into the body.
        let plan = BootstrapPlan::builder().oom_score_adj(1).build();
        let bytes = plan.to_bytes(Dialect::Runc12).unwrap();
        let mut r = MessageReader::new(Dialect::Runc12, Mode::Strict);
        assert_eq!(r.push(&bytes[..10]), Ok(10));
        assert_eq!(r.wanted(), 6);
        assert_eq!(r.push(&bytes[10..]), Ok(6));
        assert_eq!(r.wanted(), bytes.len() - 16);
        assert_eq!(r.push(&bytes[16..]), Ok(bytes.len() - 16));
        assert!(r.is_complete());
    }

    #[test]
    fn eof_errors() {
        let mut r = MessageReader::new(Dialect::Runc12, Mode::Strict);
        r.push(&[0; 3]).unwrap();
        assert_eq!(r.eof_error(), Error::TruncatedHeader { available: 3 });
    }
}
