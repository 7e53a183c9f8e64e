//! The payloads of spec section 5, one module each: its grammar on the wire (the detailed check that
//! names the problem, and the strict accept path's yes-or-no), its checks of a plan's typed field, and its
//! canonical writer, side by side.
//!
//! The reading side is dispatched by [`read`] (A9, with the error) and [`accept`] (strict, no error built);
//! the writing side by the [`Payload`] trait, which each field type implements next to its grammar. Both
//! dispatches are exhaustive `match`es on [`Attribute`]: a new attribute that is not handled fails to
//! compile.

pub(crate) mod bools;
pub(crate) mod clone_flags;
pub(crate) mod id_map;
pub(crate) mod mount_sources;
pub(crate) mod ns_paths;
pub(crate) mod oom;
pub(crate) mod path;
pub(crate) mod time_offsets;

use crate::attribute::Attribute;
use crate::dialect::Dialect;
use crate::error::Problem;
use crate::text::Mode;
use crate::wire::{Counter, Sink};

/// A plan's field, as an attribute's payload: the encoding side of a payload module.
pub(crate) trait Payload {
    /// Checks the field against the strict grammar and limits of spec section 5.
    fn check(&self, dialect: Dialect) -> Result<(), Problem>;

    /// Writes the payload, NUL included, through `sink`.
    fn write(&self, sink: &mut impl Sink);

    /// The payload's length, NUL included.
    fn len(&self) -> usize {
        let mut c = Counter(0);
        self.write(&mut c);
        c.0
    }
}

/// Where a grammar reports a problem: the detailed instance `(usize, Problem)` builds it (the offset in
/// the payload and the problem), the cheap instance [`No`] only says no. A grammar generic over it is
/// compiled once for the decoder's detailed walk and once for its strict accept path; the closure that
/// builds the problem (and copies the snippet) runs only in the first.
pub(crate) trait Report: Sized {
    /// The problem at offset `at` of the payload.
    fn report(at: usize, problem: impl FnOnce() -> Problem) -> Self;
}

impl Report for (usize, Problem) {
    #[cold]
    fn report(at: usize, problem: impl FnOnce() -> Problem) -> Self {
        (at, problem())
    }
}

/// The cheap report: no.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct No;

impl Report for No {
    #[inline]
    fn report(_: usize, _: impl FnOnce() -> Problem) -> Self {
        No
    }
}

/// A9: `body` (a 4-byte value, or a text without its final NUL) against `attr`'s grammar. `Err` holds the
/// offending byte's offset in `body` and the problem.
pub(crate) fn read(
    attr: Attribute,
    body: &[u8],
    mode: Mode,
    dialect: Dialect,
) -> Result<(), (usize, Problem)> {
    match attr {
        Attribute::CloneFlags => clone_flags::read(body, mode, dialect),
        Attribute::Setgroups | Attribute::RootlessEuid => bools::read(body, mode),
        Attribute::OomScoreAdj => oom::read(body, mode),
        Attribute::NamespacePaths => ns_paths::validate(body, mode, dialect).map(drop),
        Attribute::UidMap | Attribute::GidMap => id_map::validate(body, mode).map(drop),
        Attribute::NewuidmapPath | Attribute::NewgidmapPath | Attribute::ConsolePath => {
            path::read(body, mode)
        }
        Attribute::MountSources => mount_sources::validate(body, mode).map(drop),
        Attribute::TimeOffsets => time_offsets::validate(body, mode).map(drop),
    }
}

/// The strict accept path of A7 (no NUL inside a string) and A9: `true` only when [`read`] in strict mode
/// is `Ok` (and, for strings, `body` has no NUL), with no error built. `false` may also mean "not sure":
/// the detailed walk then decides.
#[inline(always)]
pub(crate) fn accept(attr: Attribute, body: &[u8], dialect: Dialect) -> bool {
    match attr {
        Attribute::CloneFlags => clone_flags::accept(body, dialect),
        Attribute::Setgroups | Attribute::RootlessEuid => bools::accept(body),
        Attribute::OomScoreAdj => oom::accept(body),
        Attribute::NamespacePaths => ns_paths::strict::<No>(body, dialect).is_ok(),
        Attribute::UidMap | Attribute::GidMap => id_map::strict::<No>(body).is_ok(),
        Attribute::NewuidmapPath | Attribute::NewgidmapPath | Attribute::ConsolePath => {
            path::accept(body)
        }
        Attribute::MountSources => mount_sources::validate(body, Mode::Strict).is_ok(),
        Attribute::TimeOffsets => time_offsets::strict::<No>(body).is_ok(),
    }
}
