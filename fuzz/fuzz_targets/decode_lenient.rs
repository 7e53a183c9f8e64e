//! `decode_lenient`: the lenient decoder on arbitrary bytes, and its relation to the strict one.
//!
//! Input: byte 0 picks the dialect (`Dialect::ALL[b % 5]`, seeds use 0..=4); the rest is the message.
//!
//! Properties checked:
//! 1. `MessageView::decode(msg, dialect, Mode::Lenient)` does not panic; a refusal's error has a class,
//!    displays, and names an offset within the input.
//! 2. Strict is a subset of lenient: whatever strict decoding accepts, lenient decoding accepts, with the
//!    identical plan (`BootstrapPlan::from_view` of both views compare equal).
//! 3. Round trip of lenient plans: when the lenient plan can be encoded in the dialect (`to_bytes_inconsistent` is Ok;
//!    a lenient plan may hold what the canonical form cannot, e.g. a relative path, and then only
//!    property 1 applies), the encoding decodes, strictly and leniently, to the same plan.
//! 4. When strict decoding succeeds, the strict round-trip properties of the `decode` target hold as well.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nsbootstrap_codec::{BootstrapPlan, MessageView, Mode};
use nsbootstrap_fuzz::{check_error, dialect_from_byte, lenient_roundtrip, strict_roundtrip};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, msg)) = data.split_first() else {
        return;
    };
    let dialect = dialect_from_byte(selector);
    let lenient = MessageView::decode(msg, dialect, Mode::Lenient);
    let strict = MessageView::decode(msg, dialect, Mode::Strict);
    let lenient_plan = match &lenient {
        Ok(view) => Some(lenient_roundtrip(view, dialect)),
        Err(e) => {
            check_error(e, msg.len());
            None
        }
    };
    match &strict {
        Ok(view) => {
            let strict_plan = strict_roundtrip(msg, view, dialect);
            let lenient_plan = lenient_plan.unwrap_or_else(|| {
                panic!(
                    "strict decoding accepts, lenient refuses with {:?}",
                    lenient.as_ref().unwrap_err()
                )
            });
            assert_eq!(
                strict_plan, lenient_plan,
                "strict and lenient decoding accept with different plans"
            );
            assert_eq!(BootstrapPlan::from_view(view), strict_plan);
        }
        Err(e) => check_error(e, msg.len()),
    }
});
