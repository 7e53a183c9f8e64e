//! `explain`: the annotated dump on arbitrary bytes.
//!
//! Input: byte 0 picks the dialect (`Dialect::ALL[b % 5]`, seeds use 0..=4) and, with bit 0x80, lenient
//! mode (clear: strict); the rest is the message.
//!
//! Properties checked:
//! 1. `explain(msg, dialect, mode)` does not panic (the main property: the dump walks malformed bytes itself).
//! 2. Its error is `Some` exactly when `MessageView::decode(msg, dialect, mode)` fails, and then it is the
//!    same error.
//! 3. The dump is not empty and ends with a line that reports the outcome ("valid" or "error").
#![no_main]

use libfuzzer_sys::fuzz_target;
use nsbootstrap_codec::{explain, MessageView, Mode};
use nsbootstrap_fuzz::dialect_from_byte;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, msg)) = data.split_first() else {
        return;
    };
    let dialect = dialect_from_byte(selector & 0x7f);
    let mode = if selector & 0x80 != 0 {
        Mode::Lenient
    } else {
        Mode::Strict
    };
    let (text, error) = explain(msg, dialect, mode);
    let decoded = MessageView::decode(msg, dialect, mode);
    assert_eq!(
        error,
        decoded.err(),
        "explain's error differs from the decoder's"
    );
    let last = text.lines().last().unwrap_or("");
    assert!(
        last.starts_with("valid") || last.starts_with("error"),
        "the dump's last line reports no outcome: {last:?}"
    );
});
