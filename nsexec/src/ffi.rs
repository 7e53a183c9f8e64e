//! The only module with `unsafe` code: the exported C symbol. The rest of the crate denies `unsafe_code`.

use crate::{run, Outcome, DIALECT};
use nsbootstrap_executor::SingleThreaded;

/// runc's `nsexec`: called by the cgo constructor of runc's `libcontainer/nsenter` package
/// (`void __attribute__((constructor)) init(void) { nsexec(); }`). Returns when the process is not
/// `runc init` and in the final process; exits 1 on failure; stages 0 and 1 exit inside.
///
/// Never unwinds into C: a panic is caught and ends the process with status 1 (the static library is
/// also built with `panic = "abort"`, the workspace's release profile).
#[no_mangle]
pub extern "C" fn nsexec() {
    let outcome = std::panic::catch_unwind(|| {
        // SAFETY: `assume` requires a process with one thread, and no thread started until the bootstrap
        // returns. This function is called by a C constructor of the program (`.init_array`), which the
        // dynamic loader (or, statically linked, libc's start code) runs on the main thread before
        // `main`, hence before the Go runtime (whose `rt0_go` starts in `main`) creates any thread; runc
        // links no other library whose constructors start threads, and the constructor itself starts
        // none before this call. Nothing in the bootstrap starts a thread. A program that calls
        // `nsexec()` from elsewhere must keep the same promise, which the header says.
        let proof = unsafe { SingleThreaded::assume() };
        run(proof, DIALECT)
    });
    match outcome {
        Ok(Outcome::NotInit | Outcome::Final) => {}
        Ok(Outcome::Failed) | Err(_) => std::process::exit(1),
    }
}
