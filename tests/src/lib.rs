//! # nsbootstrap-conformance
//!
//! Checks implementations of the namespace-bootstrap protocol against `spec/`:
//!
//! * [`vectors`]: the spec's test vectors, and a checker that runs this project's codec over them;
//! * [`harness`], [`scenarios`], [`runner`]: the suite that plays the runtime against any executor
//!   (`nsbootstrap init`, `runc init`, ...), inspects the final process through /proc, checks nothing is
//!   left behind, and reports per scenario (the `nsbootstrap-conform` binary);
//! * [`testing`]: the harness of integration tests that need root or the repository checkout (they are
//!   counted as skipped, never as passed, where they cannot run).

pub mod harness;
pub mod runner;
pub mod scenarios;
pub mod testing;
pub mod vectors;
