//! The PID report: the one line stage 0 writes to the runtime on the init pipe.

use crate::dialect::{Dialect, ReportShape};
use core::fmt;

/// The two PIDs an executor reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PidReport {
    /// Stage 1, the process that joined and unshared namespaces (the runtime reaps it).
    pub stage1: i32,
    /// Stage 2, the final process.
    pub stage2: i32,
}

/// The error of parsing a report line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadReport(pub &'static str);

impl fmt::Display for BadReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bad PID report: {}", self.0)
    }
}

impl std::error::Error for BadReport {}

impl PidReport {
    /// Writes the line (newline included) in `dialect`'s shape, as the executor sends it.
    pub fn write_line(&self, dialect: Dialect, out: &mut impl fmt::Write) -> fmt::Result {
        match dialect.report_shape() {
            ReportShape::PidFirst => writeln!(
                out,
                "{{\"pid\": {}, \"pid_first\": {}}}",
                self.stage2, self.stage1
            ),
            ReportShape::Stages => writeln!(
                out,
                "{{\"stage1_pid\":{},\"stage2_pid\":{}}}",
                self.stage1, self.stage2
            ),
        }
    }

    /// The line as a string.
    pub fn to_line(&self, dialect: Dialect) -> String {
        let mut s = String::new();
        // Writing to a String cannot fail.
        let _ = self.write_line(dialect, &mut s);
        s
    }

    /// Parses a report line in whichever dialect's shape it has (for a runtime that must still find the
    /// stages of an executor that answered in an unexpected shape).
    pub fn parse_any(line: &str) -> Option<PidReport> {
        Dialect::ALL
            .iter()
            .find_map(|d| PidReport::parse(line, *d).ok())
    }

    /// Parses a report line (with or without its newline) in `dialect`'s shape. The members may come in any
    /// order with any JSON white space; both must be positive integers; nothing else may appear.
    pub fn parse(line: &str, dialect: Dialect) -> Result<PidReport, BadReport> {
        let (first_key, second_key) = match dialect.report_shape() {
            ReportShape::PidFirst => ("pid_first", "pid"),
            ReportShape::Stages => ("stage1_pid", "stage2_pid"),
        };
        let body = line.trim();
        let body = body
            .strip_prefix('{')
            .and_then(|b| b.strip_suffix('}'))
            .ok_or(BadReport("not a JSON object"))?;
        let (mut s1, mut s2) = (None, None);
        for member in body.split(',') {
            let (k, v) = member
                .split_once(':')
                .ok_or(BadReport("member without ':'"))?;
            let k = k
                .trim()
                .strip_prefix('"')
                .and_then(|k| k.strip_suffix('"'))
                .ok_or(BadReport("key is not a string"))?;
            let v: i32 = v
                .trim()
                .parse()
                .map_err(|_| BadReport("value is not an integer"))?;
            if v <= 0 {
                return Err(BadReport("a PID must be positive"));
            }
            let slot = if k == first_key {
                &mut s1
            } else if k == second_key {
                &mut s2
            } else {
                return Err(BadReport("unexpected key"));
            };
            if slot.replace(v).is_some() {
                return Err(BadReport("repeated key"));
            }
        }
        match (s1, s2) {
            (Some(stage1), Some(stage2)) => Ok(PidReport { stage1, stage2 }),
            _ => Err(BadReport("a PID is missing")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_per_dialect() {
        let r = PidReport {
            stage1: 10,
            stage2: 11,
        };
        assert_eq!(
            r.to_line(Dialect::RuncRc93),
            "{\"pid\": 11, \"pid_first\": 10}\n"
        );
        assert_eq!(
            r.to_line(Dialect::Runc11),
            "{\"stage1_pid\":10,\"stage2_pid\":11}\n"
        );
        for d in Dialect::ALL {
            assert_eq!(PidReport::parse(&r.to_line(d), d), Ok(r));
        }
        assert!(PidReport::parse("{\"stage1_pid\":10}", Dialect::Runc11).is_err());
        assert!(PidReport::parse("{\"pid\": 11, \"pid_first\": 10}", Dialect::Runc11).is_err());
        assert!(PidReport::parse("{\"stage1_pid\":0,\"stage2_pid\":1}", Dialect::Runc11).is_err());
        assert_eq!(PidReport::parse_any(&r.to_line(Dialect::RuncRc93)), Some(r));
        assert_eq!(PidReport::parse_any("{}"), None);
    }
}
