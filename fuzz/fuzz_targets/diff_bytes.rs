//! `diff_bytes`: raw bytes through another implementation's parser (named at build time: see
//! `fuzz/build.rs`; `fuzz/differential/run.sh` builds and runs it against runc's `nsexec.c`), through the
//! model of spec section 20, and through our strict and lenient decoders in `NSB_DIFF_DIALECT`.
//!
//! Reports (see `nsbootstrap_fuzz::differential`): a crash or a hang in their parser (libFuzzer's own
//! report: AddressSanitizer, `-timeout`, `-malloc_limit_mb`), and a panic for every disagreement that no
//! departure of section 20 explains. Known ones are counted and logged once (`NSB-DIFF first ...`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    nsbootstrap_fuzz::differential::run_one(data);
});
