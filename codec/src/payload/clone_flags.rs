//! Clone flags (27281, spec section 5.1): a u32 of `CLONE_NEW*` bits.

use super::Payload;
use crate::dialect::Dialect;
use crate::error::Problem;
use crate::namespace::{CloneFlags, CLONE_NEWTIME};
use crate::text::Mode;
use crate::wire::{read_u32, Sink};

/// The clone flags a dialect knows.
pub(crate) const fn allowed(dialect: Dialect) -> u32 {
    if dialect.has_time_namespace() {
        CloneFlags::NAMESPACE_BITS
    } else {
        CloneFlags::NAMESPACE_BITS & !CLONE_NEWTIME
    }
}

/// Strict: no bit outside the dialect's namespaces. Lenient keeps every bit.
pub(crate) fn check(bits: u32, mode: Mode, dialect: Dialect) -> Result<(), Problem> {
    let bad = bits & !allowed(dialect);
    if mode == Mode::Strict && bad != 0 {
        return Err(Problem::UnknownCloneFlags { bits: bad });
    }
    Ok(())
}

/// A9 on the 4-byte payload.
pub(crate) fn read(body: &[u8], mode: Mode, dialect: Dialect) -> Result<(), (usize, Problem)> {
    check(read_u32(body), mode, dialect).map_err(|p| (0, p))
}

/// The strict accept path: the same check, without the error.
#[inline]
pub(crate) fn accept(body: &[u8], dialect: Dialect) -> bool {
    read_u32(body) & !allowed(dialect) == 0
}

/// The clone flags as a payload (checked before the visit, which orders their error first).
pub(crate) struct Flags(pub(crate) u32);

impl Payload for Flags {
    fn check(&self, dialect: Dialect) -> Result<(), Problem> {
        check(self.0, Mode::Strict, dialect)
    }

    fn write(&self, sink: &mut impl Sink) {
        sink.bytes(&self.0.to_ne_bytes());
    }
}
