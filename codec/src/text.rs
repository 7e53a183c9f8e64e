//! Small grammar pieces shared by the text payloads: decimals, separators and lines (runs of blanks), and
//! the NUL scan of string payloads.

/// Which grammar a payload is read with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Mode {
    /// The spec's strict grammar: canonical forms, no repeats, zero padding. The default.
    #[default]
    Strict,
    /// What runc's C decoder (and, for text it passes through, the kernel) accepts. See spec section 6.
    Lenient,
}

pub(crate) fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Decimal digits, as a u64 with overflow refused; `canonical` refuses a leading zero (except "0"). Returns
/// the value and the text after the digits.
pub(crate) fn digits(text: &[u8], canonical: bool) -> Option<(u64, &[u8])> {
    let n = text
        .iter()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(text.len());
    let (ds, rest) = text.split_at(n);
    match ds {
        [] => return None,
        [b'0', _, ..] if canonical => return None,
        _ => {}
    }
    let mut v: u64 = 0;
    if n <= 19 {
        // 19 digits are below 10^19 < 2^64: no overflow, no checks.
        for &d in ds {
            v = v * 10 + u64::from(d - b'0');
        }
    } else {
        for &d in ds {
            v = v.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
        }
    }
    Some((v, rest))
}

/// An unsigned decimal that fits `max`.
pub(crate) fn unsigned(text: &[u8], canonical: bool, max: u64) -> Option<(u64, &[u8])> {
    let (v, rest) = digits(text, canonical)?;
    (v <= max).then_some((v, rest))
}

/// A signed decimal that fits an i64. Strict: "-" only before a non-zero value, no "+".
pub(crate) fn signed(text: &[u8], mode: Mode) -> Option<(i64, &[u8])> {
    let canonical = mode == Mode::Strict;
    let (neg, body) = match text.first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') if !canonical => (false, &text[1..]),
        _ => (false, text),
    };
    let (mag, rest) = digits(body, canonical)?;
    if neg {
        if canonical && mag == 0 {
            return None;
        }
        let v = 0i64.checked_sub_unsigned(mag)?;
        Some((v, rest))
    } else {
        Some((i64::try_from(mag).ok()?, rest))
    }
}

/// Separator between fields: one space (strict) or a run of spaces and tabs (lenient).
pub(crate) fn separator(text: &[u8], mode: Mode) -> Option<&[u8]> {
    match mode {
        Mode::Strict => text.strip_prefix(b" "),
        Mode::Lenient => {
            let rest = skip_blanks(text, mode);
            (rest.len() < text.len()).then_some(rest)
        }
    }
}

/// Leading blanks a lenient line may have.
pub(crate) fn skip_blanks(text: &[u8], mode: Mode) -> &[u8] {
    match mode {
        Mode::Strict => text,
        Mode::Lenient => {
            let n = text
                .iter()
                .position(|&b| !is_blank(b))
                .unwrap_or(text.len());
            &text[n..]
        }
    }
}

/// A strict line grammar: the item of the canonical line at an offset, and the offset after its LF.
pub(crate) type StrictLine<T, E> = fn(&[u8], usize) -> Result<(T, usize), E>;

/// The items of validated line-based text (an id map, time offsets), in wire order: strict text read with
/// the strict grammar `strict` (the item of the canonical line at an offset, and the offset after its
/// LF), lenient text line by line with `lenient`. Validated text has no line either refuses; a refused
/// strict line ends the items, a refused lenient line is skipped.
pub(crate) fn line_items<'a, T, E>(
    text: &'a [u8],
    mode: Mode,
    strict: StrictLine<T, E>,
    lenient: fn(&[u8], Mode) -> Result<T, E>,
) -> impl Iterator<Item = T> + 'a
where
    T: 'a,
    E: 'a,
{
    let mut lines = Lines::new(text);
    core::iter::from_fn(move || loop {
        if mode == Mode::Strict {
            let (item, next) = strict(text, lines.pos()).ok()?;
            lines.skip_to(next);
            return Some(item);
        }
        let (_, line, _) = lines.next()?;
        if let Ok(item) = lenient(line, mode) {
            return Some(item);
        }
    })
}

/// Splits text into lines. Strict: every line ends in LF. Lenient: the last LF may be missing.
/// Yields (offset of the line in `text`, the line without LF, whether it had its LF).
pub(crate) struct Lines<'a> {
    text: &'a [u8],
    pos: usize,
}

impl<'a> Lines<'a> {
    pub(crate) fn new(text: &'a [u8]) -> Self {
        Lines { text, pos: 0 }
    }

    /// The offset of the next line in the text.
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    /// Goes on at offset `pos` of the text (the start of a line).
    pub(crate) fn skip_to(&mut self, pos: usize) {
        self.pos = pos;
    }
}

impl<'a> Iterator for Lines<'a> {
    type Item = (usize, &'a [u8], bool);

    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.text.get(self.pos..)?;
        if rest.is_empty() {
            return None;
        }
        let start = self.pos;
        match find_byte(rest, b'\n') {
            Some(i) => {
                self.pos += i + 1;
                Some((start, &rest[..i], true))
            }
            None => {
                self.pos = self.text.len();
                Some((start, rest, false))
            }
        }
    }
}

/// The first `needle` in `s`, eight bytes at a time (a word-wide comparison, as `memchr` does without
/// vector instructions).
pub(crate) fn find_byte(s: &[u8], needle: u8) -> Option<usize> {
    find_any(s, [needle])
}

/// The first byte of `s` that is one of `needles`, eight bytes at a time.
pub(crate) fn find_any<const N: usize>(s: &[u8], needles: [u8; N]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // Per needle, the high bit of each byte equal to it, exact up to the first one, so the lowest set bit
    // of their union is the first match. Read little-endian, byte i of `w` is bits 8i to 8i+7 on any host.
    let matches = |w: &[u8; 8]| {
        let w = u64::from_le_bytes(*w);
        needles.iter().fold(0, |m, &n| {
            let x = w ^ (ONES * u64::from(n));
            m | (x.wrapping_sub(ONES) & !x & HIGH)
        })
    };
    let first = |m: u64| (m.trailing_zeros() / 8) as usize;
    let mut at = 0;
    let mut words = s.chunks_exact(8);
    for w in &mut words {
        if let Some(w) = w.first_chunk::<8>() {
            let m = matches(w);
            if m != 0 {
                return Some(at + first(m));
            }
        }
        at += 8;
    }
    if words.remainder().is_empty() {
        return None;
    }
    match s.len().checked_sub(8) {
        // The last eight bytes, overlapping bytes already seen (which hold no match).
        Some(last) => s[last..]
            .first_chunk::<8>()
            .map(matches)
            .filter(|&m| m != 0)
            .map(|m| last + first(m)),
        None => s.iter().position(|b| needles.contains(b)),
    }
}

/// A canonical decimal at offset `at` of `text`, of at most `max_digits` digits (at most 19: no overflow)
/// and followed by the byte `end`: its value and the offset after `end`. `None` for anything else, a leading
/// zero included. The fast paths read the strict grammars' common form with it, eight bytes at a time.
#[inline(always)]
pub(crate) fn canonical_at(
    text: &[u8],
    at: usize,
    max_digits: usize,
    end: u8,
) -> Option<(u64, usize)> {
    let rest = text.get(at..).filter(|r| !r.is_empty())?;
    // The eight bytes from `at`, little-endian; when fewer are left, the text's last eight moved down so
    // that byte `at` comes first (what lies past the end then reads as 0: no digit, and not `end`).
    let word = match (rest.first_chunk::<8>(), text.len().checked_sub(8)) {
        (Some(w), _) => Some(u64::from_le_bytes(*w)),
        (None, Some(last)) => text[last..]
            .first_chunk::<8>()
            .map(|w| u64::from_le_bytes(*w) >> (8 * (at - last))),
        (None, None) => None,
    };
    if let Some((k, v)) = word.and_then(leading_digits8) {
        let next = (word.unwrap_or(0) >> (8 * k)) as u8;
        let leading_zero = k > 1 && rest[0] == b'0';
        return (k <= max_digits && !leading_zero && next == end).then_some((v, at + k + 1));
    }
    // No digit, eight or more, or a text shorter than eight bytes: one byte at a time.
    let mut v = 0u64;
    let mut i = 0;
    loop {
        let b = *rest.get(i)?;
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            if i == 0 || b != end {
                return None;
            }
            return Some((v, at + i + 1));
        }
        // A second digit after a leading 0 is not canonical.
        if i == max_digits || (i > 0 && v == 0) {
            return None;
        }
        v = v * 10 + u64::from(d);
        i += 1;
    }
}

/// The number `k` of ASCII digits that start the little-endian `word`, when there are 1 to 7 of them, and
/// their value, all eight bytes at once (`None` for no digit or eight: [`canonical_at`] reads those
/// byte by byte).
fn leading_digits8(x: u64) -> Option<(usize, u64)> {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // Per byte, without carries between bytes (each low seven bits plus at most 0x50 stays below 0x100):
    // the high bit of x (not ASCII), of y + 0x46 (y >= ':'), and not of y + 0x50 (y < '0').
    let y = x & !HIGH;
    let not_digit =
        (x | y.wrapping_add(0x4646_4646_4646_4646) | !y.wrapping_add(0x5050_5050_5050_5050)) & HIGH;
    let k = (not_digit.trailing_zeros() / 8) as usize;
    if k == 0 || k == 8 {
        return None;
    }
    // The k digits moved to the top bytes, the others cleared, then combined in pairs, fours and eights
    // (byte 0 is the most significant digit): 10a + b, 100ab + cd, 10000abcd + efgh.
    let d = (x << (64 - 8 * k)) & 0x0F0F_0F0F_0F0F_0F0F;
    let d = (d.wrapping_mul(10) + (d >> 8)) & 0x00FF_00FF_00FF_00FF;
    let d = (d.wrapping_mul(100) + (d >> 16)) & 0x0000_FFFF_0000_FFFF;
    let v = (d.wrapping_mul(10_000) + (d >> 32)) & 0xFFFF_FFFF;
    Some((k, v))
}

/// Whether `s` holds a NUL byte, without a loop per byte: 16-byte blocks folded with `min` (which LLVM turns
/// into vector instructions), and for the tail, or a string shorter than a block, reads that overlap (the
/// question is only whether there is a NUL, not where).
pub(crate) fn has_nul(s: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // The classic zero-byte test: non-zero exactly when one of the eight bytes is zero.
    let zero_in = |w: u64| w.wrapping_sub(ONES) & !w & HIGH != 0;
    let word = |b: &[u8]| b.first_chunk::<8>().map_or(0, |c| u64::from_ne_bytes(*c));
    let half = |b: &[u8]| b.first_chunk::<4>().map_or(0, |c| u32::from_ne_bytes(*c));
    let n = s.len();
    match n {
        0..=3 => s.contains(&0),
        4..=7 => {
            let (a, b) = (half(s), half(&s[n - 4..]));
            // The same test on four bytes.
            let zero_in4 = |w: u32| w.wrapping_sub(0x0101_0101) & !w & 0x8080_8080 != 0;
            zero_in4(a) || zero_in4(b)
        }
        8..=16 => zero_in(word(s)) || zero_in(word(&s[n - 8..])),
        _ => {
            let mut low = [u8::MAX; 16];
            let mut fold = |block: &[u8]| {
                if let Some(block) = block.first_chunk::<16>() {
                    for (l, &b) in low.iter_mut().zip(block) {
                        *l = (*l).min(b);
                    }
                }
            };
            for block in s.chunks_exact(16) {
                fold(block);
            }
            fold(&s[n - 16..]);
            low.iter().fold(u8::MAX, |m, &b| m.min(b)) == 0
        }
    }
}

/// Path rules shared by every path payload. `Err` holds the problem.
pub(crate) fn check_path(path: &[u8], mode: Mode) -> Result<(), crate::error::Problem> {
    use crate::error::{Problem, Snippet};
    // Spec section 5: a relative path is reported before its length (both are checks of one path).
    if mode == Mode::Strict && path.first() != Some(&b'/') {
        return Err(Problem::RelativePath {
            path: Snippet::new(path),
        });
    }
    if path.len() > crate::wire::MAX_PATH {
        return Err(Problem::PathTooLong { len: path.len() });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_digits_refuse_leading_zeros() {
        assert_eq!(unsigned(b"0", true, 9), Some((0, &b""[..])));
        assert_eq!(unsigned(b"07", true, 9), None);
        assert_eq!(unsigned(b"07", false, 9), Some((7, &b""[..])));
        assert_eq!(unsigned(b"4294967296", true, u64::from(u32::MAX)), None);
        assert_eq!(unsigned(b"99999999999999999999999", false, u64::MAX), None);
    }

    #[test]
    fn signed_forms() {
        assert_eq!(signed(b"-5 ", Mode::Strict), Some((-5, &b" "[..])));
        assert_eq!(signed(b"-0", Mode::Strict), None);
        assert_eq!(signed(b"+5", Mode::Strict), None);
        assert_eq!(signed(b"+5", Mode::Lenient), Some((5, &b""[..])));
        assert_eq!(
            signed(b"-9223372036854775808", Mode::Strict).map(|x| x.0),
            Some(i64::MIN)
        );
        assert_eq!(signed(b"9223372036854775808", Mode::Strict), None);
    }

    #[test]
    fn has_nul_finds_a_nul_anywhere() {
        for len in 0..80 {
            let clean = vec![b'a'; len];
            assert!(!has_nul(&clean), "{len}");
            for at in 0..len {
                let mut s = clean.clone();
                s[at] = 0;
                assert!(has_nul(&s), "{len} {at}");
                // Bytes whose high bit is set do not fool the word test.
                let mut t = vec![0x80u8; len];
                assert!(!has_nul(&t));
                t[at] = 0;
                assert!(has_nul(&t), "{len} {at}");
            }
        }
    }

    #[test]
    fn find_byte_is_position() {
        for len in 0..40 {
            for at in 0..=len {
                let mut s = vec![b'a'; len];
                let mut t = vec![0xACu8; len];
                if at < len {
                    s[at] = b',';
                    t[at] = b',';
                    if at + 3 < len {
                        s[at + 3] = b',';
                    }
                }
                for v in [&s, &t] {
                    assert_eq!(
                        find_byte(v, b','),
                        v.iter().position(|&b| b == b','),
                        "{len} {at}"
                    );
                    let mut w = v.clone();
                    if at > 1 {
                        w[at / 2] = 0;
                    }
                    assert_eq!(
                        find_any(&w, [b',', 0]),
                        w.iter().position(|&b| b == b',' || b == 0),
                        "{len} {at}"
                    );
                }
            }
        }
    }

    #[test]
    fn canonical_at_matches_a_byte_loop() {
        // The byte loop alone, as the reference.
        fn slow(s: &[u8], at: usize, max: usize, end: u8) -> Option<(u64, usize)> {
            let s = s.get(at..)?;
            let n = s
                .iter()
                .position(|b| !b.is_ascii_digit())
                .unwrap_or(s.len());
            if n == 0 || n > max || (n > 1 && s[0] == b'0') || s.get(n) != Some(&end) {
                return None;
            }
            let v = s[..n]
                .iter()
                .fold(0u64, |v, &d| v * 10 + u64::from(d - b'0'));
            Some((v, at + n + 1))
        }
        let alphabet = [
            b'0', b'1', b'5', b'9', b'9', b' ', b'\n', b'/', b':', 0x80, 0xB0, 0xFF, 0,
        ];
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        for _ in 0..300_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = (seed % 15) as usize;
            let s: Vec<u8> = (0..len)
                .map(|i| alphabet[((seed >> (4 * i + 4)) % alphabet.len() as u64) as usize])
                .collect();
            let max = [1, 9, 10, 18][(seed >> 60) as usize % 4];
            let at = (seed >> 56) as usize % (len + 2);
            for end in [b' ', b'\n'] {
                assert_eq!(
                    canonical_at(&s, at, max, end),
                    slow(&s, at, max, end),
                    "{s:?} {at} {max}"
                );
            }
        }
        for v in [0u64, 7, 42, 100000, 65536, 9999999, 123456789] {
            let text = format!("{v} x");
            assert_eq!(
                canonical_at(text.as_bytes(), 0, 10, b' '),
                Some((v, text.len() - 1))
            );
            let text = format!("xxxxxxxxxx {v}\n");
            assert_eq!(
                canonical_at(text.as_bytes(), 11, 10, b'\n'),
                Some((v, text.len()))
            );
        }
    }

    #[test]
    fn canonical_at_takes_the_canonical_form_only() {
        assert_eq!(canonical_at(b"0 x", 0, 10, b' '), Some((0, 2)));
        assert_eq!(
            canonical_at(b"4294967295\n", 0, 10, b'\n'),
            Some((4294967295, 11))
        );
        assert_eq!(canonical_at(b"42949672950\n", 0, 10, b'\n'), None);
        assert_eq!(canonical_at(b"01 ", 0, 10, b' '), None);
        assert_eq!(canonical_at(b"00 ", 0, 10, b' '), None);
        assert_eq!(canonical_at(b" 1 ", 0, 10, b' '), None);
        assert_eq!(canonical_at(b"1", 0, 10, b' '), None);
        assert_eq!(canonical_at(b"1\t", 0, 10, b' '), None);
        assert_eq!(canonical_at(b"1 ", 2, 10, b' '), None);
    }

    #[test]
    fn lines_report_missing_lf() {
        let v: Vec<_> = Lines::new(b"a\nbc").collect();
        assert_eq!(v, vec![(0, &b"a"[..], true), (2, &b"bc"[..], false)]);
    }
}
