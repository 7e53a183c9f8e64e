//! `diff_plan`: the structured side of the differential targets. An `Arbitrary` plan, encoded
//! canonically in `NSB_DIFF_DIALECT`, then mutated at the header and attribute level (lengths, types,
//! repeats, drops, swaps, truncation, NULs, bool and u32 widths: see `differential::mutate`), then judged
//! like `diff_bytes`: their parser, the model of spec section 20, our decoders.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(bytes) = nsbootstrap_fuzz::differential::mutate::structured_input(data) {
        nsbootstrap_fuzz::differential::run_one(&bytes);
    }
});
