//! `stream`: `MessageReader` fed in pieces, against decoding in one go.
//!
//! Input: byte 0 is a control byte: `b & 7` picks the dialect (`Dialect::ALL[(b & 7) % 5]`), bit 0x08
//! lenient mode (clear: strict), bits 0x70 the chunk schedule (0: offer everything left each time, 1: one
//! byte at a time, 2..=7: pseudo-random chunk sizes of up to 2^k bytes from a generator seeded by the control
//! byte and the input, so a mutation of either changes the split points; some chunks are empty, and every
//! fourth offer is deliberately larger than `wanted()`). Bit 0x80 is free. Seeds use 0..=4 (strict, offer-
//! everything). The rest of the input is the stream: a message, possibly followed by what comes after it on
//! the init pipe, or cut short.
//!
//! The feeding loop respects `wanted()` (offers at most that, except the deliberate over-offers), stops on
//! an error or on completion, and on running out of input takes `eof_error()`.
//!
//! Properties checked:
//! 1. No panic.
//! 2. `wanted()` is positive until complete and 0 after; a push of at most `wanted()` bytes is taken
//!    whole, and a larger one takes exactly `wanted()` (a push that completes the header stops there).
//! 3. The reader never takes more than max(nlmsg_len, 16) bytes (it must read the 16-byte header to learn
//!    nlmsg_len; it refuses a shorter one there), and on completion it took exactly nlmsg_len bytes.
//! 4. Outcome equals decoding in one go:
//!    * completion: `reader.decode()` gives the same result (same plan, or the same error) as
//!      `MessageView::decode` on the prefix the reader took (which is the whole input when the input is
//!      exactly nlmsg_len bytes), and `bytes()`/`into_bytes()` are that prefix;
//!    * an error from `push`: it is a header error raised as soon as the 16 header bytes are in, and it is
//!      the error that `Header::check` + `check_alignment` give on those 16 bytes; when the input is exactly
//!      nlmsg_len bytes, it is also the error of decoding the whole input;
//!    * end of input first: `eof_error()` is the error of decoding the whole (short) input.
//! 5. After completion, further pushes take nothing.
//! 6. After a push error the reader does not claim a complete message: `is_complete()` is false,
//!    `bytes()` and `decode()` are `None` (this found a reader bug, fixed with a unit test in
//!    `codec/src/reader.rs`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use nsbootstrap_codec::wire::Header;
use nsbootstrap_codec::{BootstrapPlan, MessageReader, MessageView, Mode};
use nsbootstrap_fuzz::{check_error, dialect_from_byte, u32_at, HEADER};

/// Whether to check property 6 (the reader's state after a failed push). It once failed: after a header
/// error the reader reported `is_complete() == true` (reproducer: control byte 0x00, then a 16-byte header
/// with nlmsg_type != 62000); `MessageReader` now keeps the error.
const CHECK_STATE_AFTER_ERROR: bool = true;

/// Chunk sizes, from the schedule in the control byte.
struct Schedule {
    kind: u8,
    state: u64,
    step: u64,
}

impl Schedule {
    fn new(control: u8, stream: &[u8]) -> Self {
        // FNV-1a over the input seeds the generator.
        let mut h = 0xcbf2_9ce4_8422_2325u64 ^ u64::from(control);
        for &b in stream {
            h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
        Schedule {
            kind: (control >> 4) & 7,
            state: h | 1,
            step: 0,
        }
    }

    /// The number of bytes to offer when the reader wants `wanted` and `left` remain.
    fn next(&mut self, wanted: usize, left: usize) -> usize {
        self.step += 1;
        let size = match self.kind {
            0 => left,
            1 => 1,
            k => {
                // xorshift64
                self.state ^= self.state << 13;
                self.state ^= self.state >> 7;
                self.state ^= self.state << 17;
                (self.state % ((1u64 << k) + 1)) as usize
            }
        };
        let size = if self.step.is_multiple_of(4) {
            size.max(wanted + 1) // an over-offer: the reader must still take only `wanted`
        } else {
            size.min(wanted)
        };
        size.min(left)
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&control, stream)) = data.split_first() else {
        return;
    };
    let dialect = dialect_from_byte(control & 7);
    let mode = if control & 0x08 != 0 {
        Mode::Lenient
    } else {
        Mode::Strict
    };
    let declared = u32_at(stream, 0).map(|l| l as usize);
    let mut schedule = Schedule::new(control, stream);
    let mut reader = MessageReader::new(dialect, mode);
    let mut pos = 0usize;
    let mut push_error = None;
    let mut pushes = 0usize;
    let mut last_offer = 0usize;
    while !reader.is_complete() {
        let wanted = reader.wanted();
        assert!(wanted > 0, "incomplete reader wants nothing");
        if pos == stream.len() {
            break;
        }
        let offer = schedule.next(wanted, stream.len() - pos);
        pushes += 1;
        last_offer = offer;
        assert!(
            pushes <= 2 * stream.len() + 64,
            "the reader makes no progress"
        );
        match reader.push(&stream[pos..pos + offer]) {
            Ok(n) => {
                if offer <= wanted {
                    assert_eq!(
                        n, offer,
                        "push took {n} of {offer} offered ({wanted} wanted)"
                    );
                } else {
                    // An over-offer: the reader takes exactly `wanted()` (a push that completes the
                    // header stops there), so it never reads past what it asked for.
                    assert_eq!(
                        n, wanted,
                        "over-offer: push took {n} of {offer} at {pos}, wanted {wanted}"
                    );
                }
                pos += n;
            }
            Err(e) => {
                push_error = Some(e);
                break;
            }
        }
    }

    // 3. never past the message.
    if let Some(declared) = declared {
        assert!(
            pos <= declared.max(HEADER),
            "the reader took {pos} bytes of a message of nlmsg_len {declared}"
        );
    }

    if let Some(e) = push_error {
        check_error(&e, stream.len());
        // A push fails only on the header, in the push that completes its 16 bytes.
        assert!(
            pos < HEADER && pos + last_offer >= HEADER,
            "push failed with {pos} bytes taken and {last_offer} offered: {e:?}"
        );
        let head = &stream[..HEADER];
        let expected = Header::check(head).and_then(|h| h.check_alignment(mode));
        assert_eq!(
            expected.err(),
            Some(e),
            "push error differs from the header checks"
        );
        if declared == Some(stream.len()) {
            assert_eq!(
                MessageView::decode(stream, dialect, mode).err(),
                Some(e),
                "push error differs from decoding the whole input"
            );
        }
        if CHECK_STATE_AFTER_ERROR {
            assert!(
                !reader.is_complete() && reader.bytes().is_none() && reader.decode().is_none(),
                "after the push error {e:?} the reader claims a complete message: is_complete {}, \
                 wanted {}, bytes {:?}, decode {:?}",
                reader.is_complete(),
                reader.wanted(),
                reader.bytes(),
                reader.decode().map(|r| r.map(|v| v.header()))
            );
        }
        return;
    }

    if !reader.is_complete() {
        // End of input first.
        assert_eq!(pos, stream.len());
        let e = reader.eof_error();
        assert_eq!(
            MessageView::decode(stream, dialect, mode).err(),
            Some(e),
            "eof_error differs from decoding the whole (short) input"
        );
        assert!(reader.decode().is_none() && reader.bytes().is_none());
        return;
    }

    // Complete.
    assert_eq!(reader.wanted(), 0);
    assert_eq!(
        Some(pos),
        declared,
        "complete after {pos} bytes, nlmsg_len {declared:?}"
    );
    let prefix = &stream[..pos];
    assert_eq!(reader.bytes(), Some(prefix));
    let whole = MessageView::decode(prefix, dialect, mode);
    let streamed = reader.decode().expect("complete reader decodes");
    match (&streamed, &whole) {
        (Ok(a), Ok(b)) => assert_eq!(
            BootstrapPlan::from_view(a),
            BootstrapPlan::from_view(b),
            "streamed and whole decoding give different plans"
        ),
        (Err(a), Err(b)) => assert_eq!(a, b, "streamed and whole decoding give different errors"),
        _ => panic!("streamed {streamed:?} vs whole {whole:?}"),
    }
    drop(streamed);
    // 5. nothing more is taken.
    let rest = &stream[pos..];
    assert_eq!(reader.push(rest), Ok(0));
    assert_eq!(reader.push(&[]), Ok(0));
    assert_eq!(reader.into_bytes().as_deref(), Some(prefix));
});
