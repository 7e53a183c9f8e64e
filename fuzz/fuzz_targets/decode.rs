//! `decode`: the strict decoder on arbitrary bytes.
//!
//! Input: byte 0 picks the dialect (`Dialect::ALL[b % 5]`, seeds use 0..=4 in the order runc-rc93,
//! runc-1.0, runc-1.1, runc-1.2, nsbootstrap-1); the rest is the message.
//!
//! Properties checked:
//! 1. `MessageView::decode(msg, dialect, Mode::Strict)` does not panic.
//! 2. A refusal's error has a class, displays, and names an offset within the input.
//!    For the inputs the decoder refuses (most of them) 1 and 2 are the only properties: no panic and a
//!    well-formed error; nothing checks that it is the right error (the vectors' tests do that).
//! 3. When it succeeds: `BootstrapPlan::from_view` -> `to_bytes_inconsistent(dialect)` succeeds, and decoding that
//!    strictly gives the same plan; encoding is a fixpoint (encoding the re-decoded plan gives the same
//!    bytes); `BootstrapPlan::decode` agrees with `from_view`.
//! 4. When it succeeds and the input's attributes were in canonical order (the case of a canonical input),
//!    `to_bytes` reproduces the input byte for byte.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nsbootstrap_codec::{MessageView, Mode};
use nsbootstrap_fuzz::{check_error, dialect_from_byte, strict_roundtrip};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, msg)) = data.split_first() else {
        return;
    };
    let dialect = dialect_from_byte(selector);
    match MessageView::decode(msg, dialect, Mode::Strict) {
        Ok(view) => {
            strict_roundtrip(msg, &view, dialect);
        }
        Err(e) => check_error(&e, msg.len()),
    }
});
