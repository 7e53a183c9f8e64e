//! The time-offsets payload: lines of `clock secs nanosecs`.

use super::Payload;
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
    if text.is_empty() {
        return match mode {
            Mode::Strict => Err((0, Problem::EmptyPayload)),
            Mode::Lenient => Ok(0),
        };
    }
    let mut seen = [false; 2];
    let mut n = 0;
    for (at, line, had_lf) in Lines::new(text) {
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
        if !had_lf && mode == Mode::Strict {
            return Err(bad("the line does not end in a newline"));
        }
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

/// One line at offset `at` of `text` in the canonical form ("%s %d %d\n", seconds of at most 18 digits):
/// the offset, as [`parse_line`] reads it in strict mode, and the offset after the LF.
fn canonical_line(text: &[u8], at: usize) -> Option<(TimeOffset, usize)> {
    let line = text.get(at..)?;
    let (clock, name) = if line.starts_with(b"monotonic ") {
        (Clock::Monotonic, "monotonic ".len())
    } else if line.starts_with(b"boottime ") {
        (Clock::Boottime, "boottime ".len())
    } else {
        return None;
    };
    let at = at + name;
    let negative = text.get(at) == Some(&b'-');
    // 18 digits always fit an i64, and nine are always below 10^9.
    let (secs, at) = text::canonical_at(text, at + usize::from(negative), 18, b' ')?;
    let (nanos, at) = text::canonical_at(text, at, 9, b'\n')?;
    if negative && secs == 0 {
        return None;
    }
    let secs = secs as i64;
    let offset = TimeOffset {
        clock,
        secs: if negative { -secs } else { secs },
        nanosecs: nanos as u32,
    };
    Some((offset, at))
}

/// Whether `text` is strict-valid, in one pass over its canonical form: `true` only when
/// `validate(text, Mode::Strict)` is `Ok`, with no error built. `false` also for seconds of 19 digits, which
/// are valid: the decoder's detailed walk then decides. Such text holds no NUL.
#[inline(never)]
pub(crate) fn accepts_strict(text: &[u8]) -> bool {
    let mut seen = [false; 2];
    let mut at = 0;
    while at < text.len() {
        let Some((offset, next)) = canonical_line(text, at) else {
            return false;
        };
        if std::mem::replace(&mut seen[offset.clock as usize], true) {
            return false;
        }
        at = next;
    }
    seen != [false; 2]
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
        let (text, mode) = (self.text, self.mode);
        let mut lines = Lines::new(text);
        core::iter::from_fn(move || loop {
            // Strict text is canonical: each line in one pass.
            if mode == Mode::Strict {
                if let Some((offset, next)) = canonical_line(text, lines.pos()) {
                    lines.skip_to(next);
                    return Some(offset);
                }
            }
            let (_, line, _) = lines.next()?;
            if let Ok(offset) = parse_line(line, mode) {
                return Some(offset);
            }
        })
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
    }
}
