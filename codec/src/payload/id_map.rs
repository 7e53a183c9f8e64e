//! The uid_map and gid_map payloads: lines of `container_id host_id size`.

use super::{Payload, Report};
use crate::dialect::Dialect;
use crate::error::{Problem, Snippet};
use crate::text::{self, Lines, Mode};
use crate::wire::Sink;
use crate::wire::MAX_ID_RANGES;

/// One mapped range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct IdRange {
    /// First id inside the user namespace.
    pub container_id: u32,
    /// First id outside (in the parent namespace).
    pub host_id: u32,
    /// Number of ids.
    pub size: u32,
}

impl IdRange {
    /// A range of `size` ids from `container_id` inside to `host_id` outside.
    pub const fn new(container_id: u32, host_id: u32, size: u32) -> Self {
        IdRange {
            container_id,
            host_id,
            size,
        }
    }

    fn end(start: u32, size: u32) -> u64 {
        u64::from(start) + u64::from(size)
    }

    /// Checks one range alone: non-empty, and below 2^32 - 1 on both sides as the kernel requires.
    pub fn check(&self) -> Result<(), &'static str> {
        if self.size == 0 {
            return Err("size is 0");
        }
        // The kernel refuses a range that reaches 2^32 (id 4294967295 is (uid_t)-1, never mapped).
        if Self::end(self.container_id, self.size) > u64::from(u32::MAX) {
            return Err("container_id + size reaches 2^32");
        }
        if Self::end(self.host_id, self.size) > u64::from(u32::MAX) {
            return Err("host_id + size reaches 2^32");
        }
        Ok(())
    }
}

/// The lenient grammar of one line, without its LF (strict text goes through [`strict_line`]).
fn parse_line(line: &[u8], mode: Mode) -> Result<IdRange, &'static str> {
    let canonical = mode == Mode::Strict;
    let max = u64::from(u32::MAX);
    let rest = text::skip_blanks(line, mode);
    let (a, rest) =
        text::unsigned(rest, canonical, max).ok_or("container_id is not a decimal u32")?;
    let rest = text::separator(rest, mode).ok_or("expected a space after container_id")?;
    let (b, rest) = text::unsigned(rest, canonical, max).ok_or("host_id is not a decimal u32")?;
    let rest = text::separator(rest, mode).ok_or("expected a space after host_id")?;
    let (c, rest) = text::unsigned(rest, canonical, max).ok_or("size is not a decimal u32")?;
    let rest = text::skip_blanks(rest, mode);
    if !rest.is_empty() {
        return Err("unexpected text after size");
    }
    // The three values were bounded by u32::MAX above.
    let range = IdRange::new(a as u32, b as u32, c as u32);
    range.check()?;
    Ok(range)
}

fn overlaps(a: (u32, u32), b: (u32, u32)) -> bool {
    let (a0, a1) = (u64::from(a.0), IdRange::end(a.0, a.1));
    let (b0, b1) = (u64::from(b.0), IdRange::end(b.0, b.1));
    a0 < b1 && b0 < a1
}

/// Maps of at most this many ranges (nearly all of them) are checked with arrays of this size on the stack
/// rather than arrays for [`MAX_ID_RANGES`] ranges, which cost more to zero than the check itself.
const FEW: usize = 8;

/// Finds an overlapping pair among `ranges` (by line numbers, 1-based, the lower first), checking the
/// container side before the host side. Sorts line indexes on the stack: O(n log n), no allocation.
pub(crate) fn find_overlap(ranges: &[IdRange]) -> Option<((usize, usize), &'static str)> {
    let n = ranges.len().min(MAX_ID_RANGES);
    if n < 2 {
        return None;
    }
    if n <= FEW {
        // The same sort calls on the same indexes as below, in a smaller array: the same answer.
        let mut order = [0u16; FEW];
        return overlap_in_order(ranges, &mut order[..n]);
    }
    // Beyond the kernel's limit the caller reports id-map-too-long; pairs past it are not checked here.
    let mut order = [0u16; MAX_ID_RANGES];
    overlap_in_order(ranges, &mut order[..n])
}

/// [`find_overlap`] with `order` as room for one index per range checked.
fn overlap_in_order(
    ranges: &[IdRange],
    order: &mut [u16],
) -> Option<((usize, usize), &'static str)> {
    for (i, o) in order.iter_mut().enumerate() {
        *o = i as u16;
    }
    type Start = fn(&IdRange) -> u32;
    let sides: [(&'static str, Start); 2] =
        [("container", |r| r.container_id), ("host", |r| r.host_id)];
    for (side, start) in sides {
        // Each side sorts the order the previous side left, as it always has: ties keep their place.
        order.sort_unstable_by_key(|&i| start(&ranges[usize::from(i)]));
        for w in order.windows(2) {
            let (a, b) = (&ranges[usize::from(w[0])], &ranges[usize::from(w[1])]);
            if overlaps((start(a), a.size), (start(b), b.size)) {
                let (x, y) = (usize::from(w[0]) + 1, usize::from(w[1]) + 1);
                return Some(((x.min(y), x.max(y)), side));
            }
        }
    }
    None
}

/// Validates id-map text. `Err` holds the offending byte's offset in `text` and the problem.
pub(crate) fn validate(text: &[u8], mode: Mode) -> Result<usize, (usize, Problem)> {
    match mode {
        Mode::Strict => strict(text),
        Mode::Lenient => lenient(text),
    }
}

/// The lenient grammar: lines as the kernel's parser takes them, with up to 340 ranges on the stack.
#[inline(never)]
fn lenient(text: &[u8]) -> Result<usize, (usize, Problem)> {
    if text.is_empty() {
        return Err((0, Problem::EmptyPayload));
    }
    let mut ranges = [IdRange::new(0, 0, 0); MAX_ID_RANGES];
    let mut n = 0;
    for (at, line, _) in Lines::new(text) {
        if n == MAX_ID_RANGES {
            let total = n + Lines::new(&text[at..]).count();
            return Err((at, Problem::IdMapTooLong { ranges: total }));
        }
        ranges[n] = parse_line(line, Mode::Lenient).map_err(|reason| {
            (
                at,
                Problem::BadIdMap {
                    line: n + 1,
                    reason,
                    text: Snippet::new(line),
                },
            )
        })?;
        n += 1;
    }
    if let Some((lines, side)) = find_overlap(&ranges[..n]) {
        return Err((0, Problem::IdMapOverlap { lines, side }));
    }
    Ok(n)
}

/// The strict grammar, in one pass over the canonical form, reporting through `R` (the detailed walk's
/// problem, or the accept path's no): lines "%d %d %d\n" (syntax and range line by line, a 341st line is
/// too many), then no overlap.
#[inline]
pub(crate) fn strict<R: Report>(text: &[u8]) -> Result<usize, R> {
    if text.is_empty() {
        return Err(R::report(0, || Problem::EmptyPayload));
    }
    // Up to FEW ranges in a small array (most maps); a longer map starts again with room for all.
    strict_in::<R, FEW>(text)
}

/// [`strict`] with room for `N` ranges on the stack.
fn strict_in<R: Report, const N: usize>(text: &[u8]) -> Result<usize, R> {
    let line = |at: usize, n: usize| {
        strict_line(text, at).map_err(|reason| {
            R::report(at, || {
                let line = &text[at..];
                let end = text::find_byte(line, b'\n').unwrap_or(line.len());
                Problem::BadIdMap {
                    line: n + 1,
                    reason,
                    text: Snippet::new(&line[..end]),
                }
            })
        })
    };
    // One range (most maps): nothing to overlap, no array.
    let (first, mut at) = line(0, 0)?;
    if at == text.len() {
        return Ok(1);
    }
    let mut ranges = [first; N];
    let mut n = 1;
    while at < text.len() {
        if n == N {
            if N < MAX_ID_RANGES {
                return strict_in::<R, MAX_ID_RANGES>(text);
            }
            return Err(R::report(at, || Problem::IdMapTooLong {
                ranges: n + Lines::new(&text[at..]).count(),
            }));
        }
        let (range, next) = line(at, n)?;
        ranges[n] = range;
        n += 1;
        at = next;
    }
    if let Some((lines, side)) = find_overlap(&ranges[..n]) {
        return Err(R::report(0, || Problem::IdMapOverlap { lines, side }));
    }
    Ok(n)
}

/// One line at offset `at` of `text` in the canonical form ("%d %d %d\n"): the range and the offset after
/// the LF, or why the line is not canonical or its range not valid.
fn strict_line(text: &[u8], at: usize) -> Result<(IdRange, usize), &'static str> {
    let max = u64::from(u32::MAX);
    // Each a canonical decimal of at most 10 digits, then the range of a u32.
    let (a, at) = text::canonical_at(text, at, 10, b' ')
        .ok_or("container_id is not a canonical decimal followed by one space")?;
    let (b, at) = text::canonical_at(text, at, 10, b' ')
        .ok_or("host_id is not a canonical decimal followed by one space")?;
    let (c, at) = text::canonical_at(text, at, 10, b'\n')
        .ok_or("size is not a canonical decimal followed by a newline")?;
    if a > max || b > max || c > max {
        return Err("a value is above 4294967295");
    }
    let range = IdRange::new(a as u32, b as u32, c as u32);
    range.check()?;
    Ok((range, at))
}

/// The ranges of validated id-map text, borrowed from the message.
#[derive(Clone, Debug)]
pub struct IdMapRef<'a> {
    text: &'a [u8],
    mode: Mode,
}

impl<'a> IdMapRef<'a> {
    pub(crate) fn new(text: &'a [u8], mode: Mode) -> Self {
        IdMapRef { text, mode }
    }

    /// The map's text as it was on the wire (without the NUL).
    pub fn text(&self) -> &'a [u8] {
        self.text
    }

    /// The ranges, in wire order.
    pub fn ranges(&self) -> impl Iterator<Item = IdRange> + 'a {
        text::line_items(self.text, self.mode, strict_line, parse_line)
    }
}

/// Writes the canonical text of `ranges` through `sink`.
pub(crate) fn write_canonical(ranges: &[IdRange], sink: &mut impl Sink) {
    for r in ranges {
        sink.decimal(u64::from(r.container_id));
        sink.bytes(b" ");
        sink.decimal(u64::from(r.host_id));
        sink.bytes(b" ");
        sink.decimal(u64::from(r.size));
        sink.bytes(b"\n");
    }
}

/// Checks typed ranges as strict decoding would check their text.
pub(crate) fn check_ranges(ranges: &[IdRange]) -> Result<(), Problem> {
    if ranges.is_empty() {
        return Err(Problem::EmptyPayload);
    }
    if ranges.len() > MAX_ID_RANGES {
        return Err(Problem::IdMapTooLong {
            ranges: ranges.len(),
        });
    }
    for (i, r) in ranges.iter().enumerate() {
        r.check().map_err(|reason| Problem::BadIdMap {
            line: i + 1,
            reason,
            text: Snippet::new(b""),
        })?;
    }
    match find_overlap(ranges) {
        Some((lines, side)) => Err(Problem::IdMapOverlap { lines, side }),
        None => Ok(()),
    }
}

// The encoding side: the field as a payload, its checks and its canonical writer.

/// A uid or gid map.
pub(crate) struct Ranges<'p>(pub(crate) &'p [IdRange]);

impl Payload for Ranges<'_> {
    fn check(&self, _: Dialect) -> Result<(), Problem> {
        check_ranges(self.0)
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
    fn the_accept_path_is_the_same_grammar() {
        let many: String = (0..9u32)
            .map(|i| format!("{} {} 1\n", i, 100 + i))
            .collect();
        for t in [
            &b"0 0 1\n"[..],
            b"0 0 1",
            b"0 0 0\n",
            b"00 0 1\n",
            b"0 0 1\n0 0 1\n",
            b"4294967295 0 1\n",
            b"",
            many.as_bytes(),
        ] {
            assert_eq!(
                strict::<super::super::No>(t).is_ok(),
                validate(t, Mode::Strict).is_ok(),
                "{t:?}"
            );
        }
        assert_eq!(validate(many.as_bytes(), Mode::Strict), Ok(9));
        let e = validate(b"0 0 1\n1 2 x\n", Mode::Strict).unwrap_err();
        assert_eq!((e.0, e.1.class()), (6, "bad-id-map"));
        assert!(e.1.to_string().contains("line 2 \"1 2 x\""), "{}", e.1);
    }

    #[test]
    fn strict_lines() {
        assert_eq!(validate(b"0 1000 1\n", Mode::Strict), Ok(1));
        assert_eq!(
            validate(b"0 100000 65536\n65536 0 1\n", Mode::Strict),
            Ok(2)
        );
        for bad in [
            &b"0 1000 1"[..],
            b"0  1000 1\n",
            b"00 1000 1\n",
            b"0 1000 0\n",
            b"4294967295 0 2\n",
            b"0 1000\n",
            b"0 1000 1 2\n",
            b"-1 0 1\n",
        ] {
            let e = validate(bad, Mode::Strict).unwrap_err().1;
            assert_eq!(
                e.class(),
                "bad-id-map",
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        assert_eq!(validate(b"", Mode::Strict), Err((0, Problem::EmptyPayload)));
    }

    #[test]
    fn lenient_takes_what_the_kernel_takes() {
        assert_eq!(validate(b"0\t1000  01", Mode::Lenient), Ok(1));
        assert_eq!(
            validate(b"0 1000 0\n", Mode::Lenient)
                .unwrap_err()
                .1
                .class(),
            "bad-id-map"
        );
    }

    #[test]
    fn overlaps_on_either_side() {
        let e = validate(b"0 1000 10\n5 2000 10\n", Mode::Strict)
            .unwrap_err()
            .1;
        assert_eq!(
            e,
            Problem::IdMapOverlap {
                lines: (1, 2),
                side: "container"
            }
        );
        let e = validate(b"0 1000 10\n100 1009 1\n", Mode::Strict)
            .unwrap_err()
            .1;
        assert_eq!(
            e,
            Problem::IdMapOverlap {
                lines: (1, 2),
                side: "host"
            }
        );
        assert!(validate(b"0 1000 10\n10 1010 1\n", Mode::Strict).is_ok());
    }

    #[test]
    fn overlap_found_exactly_when_two_ranges_overlap() {
        // The pair and side come from the sorting walk, whatever the array it sorts in; whether there is
        // one is the plain definition, checked pair by pair.
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..20_000 {
            let mut next = || {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed
            };
            let n = (next() % 12) as usize;
            let ranges: Vec<IdRange> = (0..n)
                .map(|_| {
                    let r = next();
                    IdRange::new(
                        (r % 16) as u32,
                        (r >> 8) as u32 % 16,
                        1 + (r >> 16) as u32 % 4,
                    )
                })
                .collect();
            let found = find_overlap(&ranges);
            let mut big = [0u16; MAX_ID_RANGES];
            let in_big = if n < 2 {
                None
            } else {
                overlap_in_order(&ranges, &mut big[..n])
            };
            assert_eq!(found, in_big, "{ranges:?}");
            let side_overlaps = |start: fn(&IdRange) -> u32| {
                (0..n).any(|i| {
                    (i + 1..n).any(|j| {
                        let (a, b) = (&ranges[i], &ranges[j]);
                        overlaps((start(a), a.size), (start(b), b.size))
                    })
                })
            };
            let container = side_overlaps(|r| r.container_id);
            let host = side_overlaps(|r| r.host_id);
            match found {
                None => assert!(!container && !host, "{ranges:?}"),
                Some((_, "container")) => assert!(container),
                Some((_, side)) => assert!(side == "host" && host && !container),
            }
            if let Some(((x, y), side)) = found {
                let (a, b) = (&ranges[x - 1], &ranges[y - 1]);
                let ok = match side {
                    "container" => overlaps((a.container_id, a.size), (b.container_id, b.size)),
                    _ => overlaps((a.host_id, a.size), (b.host_id, b.size)),
                };
                assert!(x < y && ok, "{ranges:?}");
            }
        }
    }

    #[test]
    fn at_most_340_ranges() {
        let mut text = Vec::new();
        for i in 0..341u32 {
            text.extend_from_slice(format!("{i} {} 1\n", 1000 + i).as_bytes());
        }
        let e = validate(&text, Mode::Strict).unwrap_err().1;
        assert_eq!(e, Problem::IdMapTooLong { ranges: 341 });
        let cut = text.len() - "340 1340 1\n".len();
        assert_eq!(validate(&text[..cut], Mode::Strict), Ok(340));
    }
}
