//! setgroups (27285) and rootless euid (27287), spec section 5.4: a u32 that is 0 or 1 (lenient: any value,
//! and one byte).

use super::Payload;
use crate::dialect::Dialect;
use crate::error::Problem;
use crate::text::Mode;
use crate::wire::{read_u32, Sink};

/// A bool payload's value: the whole u32, or (lenient) its one byte.
pub(crate) fn value(payload: &[u8]) -> u32 {
    match payload {
        [b] => u32::from(*b),
        _ => read_u32(payload),
    }
}

/// A9: strict, 0 or 1.
pub(crate) fn read(body: &[u8], mode: Mode) -> Result<(), (usize, Problem)> {
    let value = value(body);
    if mode == Mode::Strict && value > 1 {
        return Err((0, Problem::BadBool { value }));
    }
    Ok(())
}

/// The strict accept path: the same check, without the error.
#[inline]
pub(crate) fn accept(body: &[u8]) -> bool {
    value(body) <= 1
}

/// A bool as a payload: always 4 bytes (spec section 4).
pub(crate) struct Bool(pub(crate) bool);

impl Payload for Bool {
    fn check(&self, _: Dialect) -> Result<(), Problem> {
        Ok(())
    }

    fn write(&self, sink: &mut impl Sink) {
        sink.bytes(&u32::from(self.0).to_ne_bytes());
    }
}
