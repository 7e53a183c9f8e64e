//! Sets `cfg(nsb_root)` when the tests are built as root, so that tests needing root are `#[ignore]`d (and
//! counted as skipped, with the reason) rather than passed when they cannot run.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(nsb_root)");
    println!("cargo::rerun-if-changed=build.rs");
    // SAFETY: geteuid cannot fail and touches no memory.
    if unsafe { libc::geteuid() } == 0 {
        println!("cargo::rustc-cfg=nsb_root");
    }
}
