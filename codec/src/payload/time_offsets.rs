//! The time-offsets payload: lines of `clock secs nanosecs`.

use super::{Payload, Report};
use crate::dialect::Dialect;
use crate::error::{Problem, Snippet};
use crate::text::{self, Lines, Mode};
use crate::wire::Sink;
use core::fmt;

/// A clock whose offset a time namespace can shift.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Clock {
    /// `CLOCK_MONOTONIC` (id 1).
    Monotonic,
    /// `CLOCK_BOOTTIME` (id 7).
    Boottime,
}

impl Clock {
    /// The name on the wire.
    pub const fn name(self) -> &'static str {
        match self {
            Clock::Monotonic => "monotonic",
            Clock::Boottime => "boottime",
        }
    }

    fn parse(word: &[u8], mode: Mode) -> Option<Clock> {
        match (word, mode) {
            (b"monotonic", _) | (b"1", Mode::Lenient) => Some(Clock::Monotonic),
            (b"boottime", _) | (b"7", Mode::Lenient) => Some(Clock::Boottime),
            _ => None,
        }
    }
}

impl fmt::Display for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One clock's offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct TimeOffset {
    /// The clock.
    pub clock: Clock,
    /// Whole seconds (may be negative).
    pub secs: i64,
    /// Nanoseconds, below 1,000,000,000.
    pub nanosecs: u32,
}

const NSEC_PER_SEC: u64 = 1_000_000_000;

/// The lenient grammar of one line (strict text goes through [`strict_line`]).
fn parse_line(line: &[u8], mode: Mode) -> Result<TimeOffset, &'static str> {
    let rest = text::skip_blanks(line, mode);
    let end = rest
        .iter()
        .position(|&b| text::is_blank(b))
        .unwrap_or(rest.len());
    let clock =
        Clock::parse(&rest[..end], mode).ok_or("unknown clock (expected monotonic or boottime)")?;
    let rest = text::separator(&rest[end..], mode).ok_or("expected a space after the clock")?;
    let (secs, rest) = text::signed(rest, mode).ok_or("seconds are not a decimal i64")?;
    let rest = text::separator(rest, mode).ok_or("expected a space after the seconds")?;
    let (nanos, rest) = text::unsigned(rest, mode == Mode::Strict, u64::MAX)
        .ok_or("nanoseconds are not a decimal")?;
    if nanos >= NSEC_PER_SEC {
        return Err("nanoseconds must be below 1000000000");
    }
    if !text::skip_blanks(rest, mode).is_empty() {
        return Err("unexpected text after the nanoseconds");
    }
    Ok(TimeOffset {
        clock,
        secs,
        nanosecs: nanos as u32,
    })
}

/// Validates offsets text; lenient mode accepts an empty list.
pub(crate) fn validate(text: &[u8], mode: Mode) -> Result<usize, (usize, Problem)> {
    if mode == Mode::Strict {
        return strict(text);
    }
    let mut seen = [false; 2];
    let mut n = 0;
    for (at, line, _) in Lines::new(text) {
        let bad = |reason| {
            (
                at,
                Problem::BadTimeOffsets {
                    line: n + 1,
                    reason,
                    text: Snippet::new(line),
                },
            )
        };
        let off = parse_line(line, mode).map_err(bad)?;
        let slot = &mut seen[off.clock as usize];
        if *slot {
            return Err(bad("the clock is named twice"));
        }
        *slot = true;
        n += 1;
    }
    Ok(n)
}

/// The strict grammar, in one pass over the canonical form, reporting through `R` (the detailed walk's
/// problem, or the accept path's no): one to two lines "%s %d %d\n", each clock at most once.
#[inline]
pub(crate) fn strict<R: Report>(text: &[u8]) -> Result<usize, R> {
    if text.is_empty() {
        return Err(R::report(0, || Problem::EmptyPayload));
    }
    let mut seen = [false; 2];
    let mut at = 0;
    let mut n = 0;
    while at < text.len() {
        let bad = |reason| {
            R::report(at, || {
                let line = &text[at..];
                let end = text::find_byte(line, b'\n').unwrap_or(line.len());
                Problem::BadTimeOffsets {
                    line: n + 1,
                    reason,
                    text: Snippet::new(&line[..end]),
                }
            })
        };
        let (offset, next) = strict_line(text, at).map_err(bad)?;
        if std::mem::replace(&mut seen[offset.clock as usize], true) {
            return Err(bad("the clock is named twice"));
        }
        at = next;
        n += 1;
    }
    Ok(n)
}

/// One line at offset `at` of `text` in the canonical form ("%s %d %d\n"): the offset and the offset
/// after the LF, or why the line is not canonical.
fn strict_line(text: &[u8], at: usize) -> Result<(TimeOffset, usize), &'static str> {
    let line = &text[at..];
    let (clock, name) = if line.starts_with(b"monotonic ") {
        (Clock::Monotonic, "monotonic ".len())
    } else if line.starts_with(b"boottime ") {
        (Clock::Boottime, "boottime ".len())
    } else {
        return Err("expected monotonic or boottime and one space");
    };
    let at = at + name;
    let negative = text.get(at) == Some(&b'-');
    // 19 digits fit a u64; the range of an i64 is checked below.
    let (secs, at) = text::canonical_at(text, at + usize::from(negative), 19, b' ')
        .ok_or("seconds are not a canonical decimal followed by one space")?;
    let secs = match (negative, secs) {
        (true, 0) => return Err("seconds of -0"),
        (true, s) => 0i64.checked_sub_unsigned(s),
        (false, s) => i64::try_from(s).ok(),
    }
    .ok_or("seconds do not fit a 64-bit signed value")?;
    // Nine digits are always below 10^9.
    let (nanos, at) = text::canonical_at(text, at, 9, b'\n')
        .ok_or("nanoseconds are not a canonical decimal below 1000000000 followed by a newline")?;
    let offset = TimeOffset {
        clock,
        secs,
        nanosecs: nanos as u32,
    };
    Ok((offset, at))
}

/// The offsets of validated text, borrowed from the message.
#[derive(Clone, Debug)]
pub struct TimeOffsetsRef<'a> {
    text: &'a [u8],
    mode: Mode,
}

impl<'a> TimeOffsetsRef<'a> {
    pub(crate) fn new(text: &'a [u8], mode: Mode) -> Self {
        TimeOffsetsRef { text, mode }
    }

    /// The text as it was on the wire (without the NUL).
    pub fn text(&self) -> &'a [u8] {
        self.text
    }

    /// The offsets, in wire order.
    pub fn iter(&self) -> impl Iterator<Item = TimeOffset> + 'a {
        text::line_items(self.text, self.mode, strict_line, parse_line)
    }
}

/// Checks typed offsets as strict decoding would check their text.
pub(crate) fn check_offsets(list: &[TimeOffset]) -> Result<(), Problem> {
    if list.is_empty() {
        return Err(Problem::EmptyPayload);
    }
    let mut seen = [false; 2];
    for (i, o) in list.iter().enumerate() {
        let bad = |reason| Problem::BadTimeOffsets {
            line: i + 1,
            reason,
            text: Snippet::new(o.clock.name().as_bytes()),
        };
        if u64::from(o.nanosecs) >= NSEC_PER_SEC {
            return Err(bad("nanoseconds must be below 1000000000"));
        }
        if std::mem::replace(&mut seen[o.clock as usize], true) {
            return Err(bad("the clock is named twice"));
        }
    }
    Ok(())
}

/// Writes the canonical text through `sink`.
pub(crate) fn write_canonical(list: &[TimeOffset], sink: &mut impl Sink) {
    for o in list {
        sink.bytes(o.clock.name().as_bytes());
        sink.bytes(b" ");
        sink.signed(o.secs);
        sink.bytes(b" ");
        sink.decimal(u64::from(o.nanosecs));
        sink.bytes(b"\n");
    }
}

// The encoding side: the field as a payload, its checks and its canonical writer.

/// The time offsets.
pub(crate) struct Offsets<'p>(pub(crate) &'p [TimeOffset]);

impl Payload for Offsets<'_> {
    fn check(&self, _: Dialect) -> Result<(), Problem> {
        check_offsets(self.0)
    }

    fn write(&self, sink: &mut impl Sink) {
        write_canonical(self.0, sink);
        sink.bytes(b"\0");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_and_lenient_lines() {
        assert_eq!(
            validate(b"monotonic -10 5\nboottime 0 0\n", Mode::Strict),
            Ok(2)
        );
        let class = |t: &[u8], m| validate(t, m).unwrap_err().1.class();
        assert_eq!(class(b"realtime 1 0\n", Mode::Strict), "bad-time-offsets");
        assert_eq!(
            class(b"monotonic 1 1000000000\n", Mode::Strict),
            "bad-time-offsets"
        );
        assert_eq!(
            class(b"monotonic 1 0\nmonotonic 2 0\n", Mode::Strict),
            "bad-time-offsets"
        );
        assert_eq!(class(b"1 1 0\n", Mode::Strict), "bad-time-offsets");
        assert_eq!(validate(b"1 1 0\n", Mode::Lenient), Ok(1));
        assert_eq!(validate(b"7\t+1  00", Mode::Lenient), Ok(1));
        assert_eq!(validate(b"", Mode::Lenient), Ok(0));
        assert_eq!(class(b"", Mode::Strict), "empty-payload");
        // The full range of seconds, and not one past it.
        assert_eq!(
            validate(
                b"monotonic -9223372036854775808 0\nboottime 9223372036854775807 999999999\n",
                Mode::Strict
            ),
            Ok(2)
        );
        assert_eq!(
            class(b"monotonic 9223372036854775808 0\n", Mode::Strict),
            "bad-time-offsets"
        );
        assert_eq!(class(b"monotonic -0 0\n", Mode::Strict), "bad-time-offsets");
        assert_eq!(class(b"monotonic 1 0", Mode::Strict), "bad-time-offsets");
        // The accept path is the same grammar.
        for t in [
            &b"monotonic 1 0\n"[..],
            b"monotonic 1 0",
            b"",
            b"boottime 01 0\n",
        ] {
            assert_eq!(
                strict::<super::super::No>(t).is_ok(),
                validate(t, Mode::Strict).is_ok()
            );
        }
        let strict_offsets: Vec<_> =
            TimeOffsetsRef::new(b"boottime -5 10\nmonotonic 3 0\n", Mode::Strict)
                .iter()
                .collect();
        assert_eq!(strict_offsets.len(), 2);
        assert_eq!(strict_offsets[0].secs, -5);
    }
}
