//! Small grammar pieces shared by the text payloads: decimals, separators and lines, built on `nom`.

use nom::bytes::complete::{take_while, take_while1};
use nom::{IResult, Parser};

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

fn is_digit(b: u8) -> bool {
    b.is_ascii_digit()
}

pub(crate) fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Decimal digits, as a u64 with overflow refused; `canonical` refuses a leading zero (except "0").
pub(crate) fn digits(canonical: bool) -> impl Fn(&[u8]) -> IResult<&[u8], u64> {
    move |input: &[u8]| {
        let (rest, ds) = take_while1(is_digit).parse(input)?;
        if canonical && ds.len() > 1 && ds[0] == b'0' {
            return Err(nom::Err::Error(nom::error::Error::new(
                input,
                nom::error::ErrorKind::Digit,
            )));
        }
        let mut v: u64 = 0;
        for &d in ds {
            v = v
                .checked_mul(10)
                .and_then(|v| v.checked_add(u64::from(d - b'0')))
                .ok_or(nom::Err::Error(nom::error::Error::new(
                    input,
                    nom::error::ErrorKind::TooLarge,
                )))?;
        }
        Ok((rest, v))
    }
}

/// An unsigned decimal that fits `max`.
pub(crate) fn unsigned(text: &[u8], canonical: bool, max: u64) -> Option<(u64, &[u8])> {
    let (rest, v) = digits(canonical)(text).ok()?;
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
    let (rest, mag) = digits(canonical)(body).ok()?;
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
            let (rest, _) = take_while1::<_, _, nom::error::Error<&[u8]>>(is_blank)
                .parse(text)
                .ok()?;
            Some(rest)
        }
    }
}

/// Leading blanks a lenient line may have.
pub(crate) fn skip_blanks(text: &[u8], mode: Mode) -> &[u8] {
    match mode {
        Mode::Strict => text,
        Mode::Lenient => take_while::<_, _, nom::error::Error<&[u8]>>(is_blank)
            .parse(text)
            .map_or(text, |(rest, _)| rest),
    }
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
}

impl<'a> Iterator for Lines<'a> {
    type Item = (usize, &'a [u8], bool);

    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.text.get(self.pos..)?;
        if rest.is_empty() {
            return None;
        }
        let start = self.pos;
        match rest.iter().position(|&b| b == b'\n') {
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

/// Path rules shared by every path payload. `Err` holds the problem.
pub(crate) fn check_path(path: &[u8], mode: Mode) -> Result<(), crate::Problem> {
    use crate::error::{Problem, Snippet};
    if path.len() > crate::MAX_PATH {
        return Err(Problem::PathTooLong { len: path.len() });
    }
    if mode == Mode::Strict && path.first() != Some(&b'/') {
        return Err(Problem::RelativePath {
            path: Snippet::new(path),
        });
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
    fn lines_report_missing_lf() {
        let v: Vec<_> = Lines::new(b"a\nbc").collect();
        assert_eq!(v, vec![(0, &b"a"[..], true), (2, &b"bc"[..], false)]);
    }
}
