//! oom_score_adj (27286, spec section 5.5): a decimal in [-1000, 1000], canonical when strict; what the
//! kernel's `kstrtoint` takes after stripping white space when lenient.

use super::Payload;
use crate::dialect::Dialect;
use crate::error::{Problem, Snippet};
use crate::text::{self, Mode};
use crate::wire::Sink;

/// The value of oom_score_adj text, `None` off the grammar or out of range.
pub(crate) fn parse(text: &[u8], mode: Mode) -> Option<i32> {
    let body = match mode {
        Mode::Strict => return strict(text),
        // The kernel strips what C's isspace() matches (trim_ascii would keep VT, 0x0B).
        Mode::Lenient => {
            let space = |b: &u8| b" \t\n\x0b\x0c\r".contains(b);
            let start = text.iter().position(|b| !space(b)).unwrap_or(text.len());
            let end = text
                .iter()
                .rposition(|b| !space(b))
                .map_or(start, |i| i + 1);
            &text[start..end.max(start)]
        }
    };
    let (v, rest) = text::signed(body, mode)?;
    if !rest.is_empty() || !(-1000..=1000).contains(&v) {
        return None;
    }
    Some(v as i32)
}

/// The strict grammar: "0", or an optional "-" and a decimal of one to four digits without a leading
/// zero, at most 1000 ("-0" is not canonical).
fn strict(text: &[u8]) -> Option<i32> {
    let (negative, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    if !(1..=4).contains(&digits.len()) || (digits.len() > 1 && digits[0] == b'0') {
        return None;
    }
    let mut v = 0i32;
    for &d in digits {
        let d = d.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        v = v * 10 + i32::from(d);
    }
    match (negative, v) {
        (_, 1001..) | (true, 0) => None,
        (true, v) => Some(-v),
        (false, v) => Some(v),
    }
}

/// A9.
pub(crate) fn read(body: &[u8], mode: Mode) -> Result<(), (usize, Problem)> {
    match parse(body, mode) {
        Some(_) => Ok(()),
        None => Err((0, bad(body))),
    }
}

/// The strict accept path: the same grammar, without the error (its text holds no NUL).
#[inline]
pub(crate) fn accept(body: &[u8]) -> bool {
    parse(body, Mode::Strict).is_some()
}

fn bad(text: &[u8]) -> Problem {
    Problem::BadOomScoreAdj {
        text: Snippet::new(text),
    }
}

/// The value as a payload.
pub(crate) struct Oom(pub(crate) i32);

impl Payload for Oom {
    fn check(&self, _: Dialect) -> Result<(), Problem> {
        if (-1000..=1000).contains(&self.0) {
            return Ok(());
        }
        let mut digits = [0u8; 12];
        let mut w = crate::wire::Writer {
            out: &mut digits,
            pos: 0,
        };
        w.signed(i64::from(self.0));
        let n = w.pos.min(digits.len());
        Err(bad(&digits[..n]))
    }

    fn write(&self, sink: &mut impl Sink) {
        sink.signed(i64::from(self.0));
        sink.bytes(b"\0");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_is_canonical_lenient_is_the_kernel() {
        for (t, v) in [
            (&b"0"[..], 0),
            (b"-1000", -1000),
            (b"1000", 1000),
            (b"7", 7),
        ] {
            assert_eq!(parse(t, Mode::Strict), Some(v));
            assert!(accept(t));
        }
        for t in [&b"-0"[..], b"+1", b"01", b"1001", b"", b" 1", b"-"] {
            assert_eq!(parse(t, Mode::Strict), None, "{t:?}");
            assert!(!accept(t));
        }
        assert_eq!(parse(b" +07\n", Mode::Lenient), Some(7));
        assert_eq!(parse(b"\x0b-0", Mode::Lenient), Some(0));
        assert_eq!(parse(b"1001", Mode::Lenient), None);
        // The strict grammar against the lenient one on every canonical decimal it could meet.
        for v in -1100..=1100 {
            let t = v.to_string();
            let want = (-1000..=1000).contains(&v).then_some(v);
            assert_eq!(parse(t.as_bytes(), Mode::Strict), want, "{t}");
            assert_eq!(parse(t.as_bytes(), Mode::Lenient), want, "{t}");
        }
        let e = Oom(-1001).check(Dialect::Runc12).unwrap_err();
        assert_eq!(
            e.to_string(),
            "oom_score_adj \"-1001\" is not a decimal in [-1000, 1000]"
        );
    }
}
