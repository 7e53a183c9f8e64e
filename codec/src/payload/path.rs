//! Paths: newuidmap and newgidmap (27288, 27289, spec section 5.6) and the console (27400, section 5.9).
//! Strict: not empty, absolute, at most `MAX_PATH` bytes; lenient accepts relative paths.

use super::Payload;
use crate::dialect::Dialect;
use crate::error::Problem;
use crate::text::{self, Mode};
use crate::wire::Sink;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// A9 on a path text (without its NUL; A7 checked that it holds none).
pub(crate) fn read(body: &[u8], mode: Mode) -> Result<(), (usize, Problem)> {
    if body.is_empty() {
        return Err((0, Problem::EmptyPayload));
    }
    text::check_path(body, mode).map_err(|p| (0, p))
}

/// The strict accept path of A7 and A9: the same checks, without the error.
#[inline]
pub(crate) fn accept(body: &[u8]) -> bool {
    !text::has_nul(body) && read(body, Mode::Strict).is_ok()
}

/// A path as a payload.
pub(crate) struct PathText<'p>(pub(crate) &'p Path);

impl Payload for PathText<'_> {
    fn check(&self, _: Dialect) -> Result<(), Problem> {
        let b = self.0.as_os_str().as_bytes();
        if text::has_nul(b) {
            return Err(Problem::EmbeddedNul);
        }
        read(b, Mode::Strict).map_err(|(_, p)| p)
    }

    fn write(&self, sink: &mut impl Sink) {
        sink.bytes(self.0.as_os_str().as_bytes());
        sink.bytes(b"\0");
    }
}
