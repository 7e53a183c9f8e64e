//! Logs on the log pipe: one JSON line per message, one write(2) per line, formatted on the stack so that a
//! stage can log between clone and exec without allocating (spec section 15).

use core::fmt::{self, Write};
use nsbootstrap_codec::Dialect;
use std::os::fd::RawFd;

/// Log levels, numbered as logrus numbers them (`_LIBCONTAINER_LOGLEVEL`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// 0
    Panic,
    /// 1
    Fatal,
    /// 2
    Error,
    /// 3
    Warning,
    /// 4
    Info,
    /// 5 (the default)
    Debug,
    /// 6
    Trace,
}

impl Level {
    /// The level for a logrus number; numbers above 6 mean trace.
    pub fn from_number(n: u32) -> Level {
        match n {
            0 => Level::Panic,
            1 => Level::Fatal,
            2 => Level::Error,
            3 => Level::Warning,
            4 => Level::Info,
            5 => Level::Debug,
            _ => Level::Trace,
        }
    }

    /// The name in the JSON line.
    pub fn name(self) -> &'static str {
        match self {
            Level::Panic => "panic",
            Level::Fatal => "fatal",
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Info => "info",
            Level::Debug => "debug",
            Level::Trace => "trace",
        }
    }
}

/// A fixed buffer that `write!` fills; text past its end is cut (and marked) rather than allocated.
pub struct StackBuf<const N: usize> {
    buf: [u8; N],
    len: usize,
    cut: bool,
}

impl<const N: usize> StackBuf<N> {
    /// An empty buffer.
    pub const fn new() -> Self {
        StackBuf {
            buf: [0; N],
            len: 0,
            cut: false,
        }
    }

    /// The bytes written.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// Whether text was cut.
    pub fn was_cut(&self) -> bool {
        self.cut
    }

    /// Appends all of `b` or, when it does not fit, nothing (so an escape or a character is never split).
    fn push(&mut self, b: &[u8]) {
        if self.cut || b.len() > N - self.len {
            self.cut = true;
            return;
        }
        self.buf[self.len..self.len + b.len()].copy_from_slice(b);
        self.len += b.len();
    }
}

impl<const N: usize> Default for StackBuf<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> Write for StackBuf<N> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.push(s.as_bytes());
        Ok(())
    }
}

/// At most this many bytes of a failure's detail go into its fatal line, so that the step and the error
/// after the detail always fit in the line (a 4095-byte path would otherwise push them out).
pub const DETAIL_MAX: usize = 512;

/// Formats its arguments with at most `.1` bytes of output, cut at a character boundary and marked with
/// `...`; never allocates.
pub struct Cut<'a>(pub fmt::Arguments<'a>, pub usize);

impl fmt::Display for Cut<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Bounded<'a, 'b> {
            out: &'a mut fmt::Formatter<'b>,
            left: usize,
            cut: bool,
        }
        impl Write for Bounded<'_, '_> {
            fn write_str(&mut self, s: &str) -> fmt::Result {
                if self.cut {
                    return Ok(());
                }
                if s.len() <= self.left {
                    self.left -= s.len();
                    return self.out.write_str(s);
                }
                let mut end = self.left;
                while !s.is_char_boundary(end) {
                    end -= 1;
                }
                self.cut = true;
                self.left = 0;
                self.out.write_str(&s[..end])
            }
        }
        let mut w = Bounded {
            out: f,
            left: self.1,
            cut: false,
        };
        fmt::write(&mut w, self.0)?;
        if w.cut {
            w.out.write_str("...")?;
        }
        Ok(())
    }
}

/// Escapes text for a JSON string as it is written.
struct JsonEscape<'a, W: Write>(&'a mut W);

impl<W: Write> Write for JsonEscape<'_, W> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for c in s.chars() {
            match c {
                '"' => self.0.write_str("\\\"")?,
                '\\' => self.0.write_str("\\\\")?,
                '\n' => self.0.write_str("\\n")?,
                '\r' => self.0.write_str("\\r")?,
                '\t' => self.0.write_str("\\t")?,
                c if (c as u32) < 0x20 => write!(self.0, "\\u{:04x}", c as u32)?,
                c => self.0.write_char(c)?,
            }
        }
        Ok(())
    }
}

/// The stage a log line comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Before stage 0 knows its role (reading the environment and the message).
    Setup,
    /// Stage 0, 1 or 2.
    Numbered(u8),
}

/// Writes log lines to the log pipe.
#[derive(Clone, Copy, Debug)]
pub struct Logger {
    fd: Option<RawFd>,
    level: Level,
    dialect: Dialect,
    stage: Stage,
}

impl Logger {
    /// A logger writing to `fd` (none: logs go nowhere, fatal errors to stderr) at `level`.
    pub fn new(fd: Option<RawFd>, level: Level, dialect: Dialect) -> Self {
        Logger {
            fd,
            level,
            dialect,
            stage: Stage::Setup,
        }
    }

    /// The same logger, for another stage.
    pub fn for_stage(mut self, stage: u8) -> Self {
        self.stage = Stage::Numbered(stage);
        self
    }

    /// The same logger in another dialect (known once the command line is read).
    pub fn with_dialect(mut self, dialect: Dialect) -> Self {
        self.dialect = dialect;
        self
    }

    /// The log fd, if any.
    pub fn fd(&self) -> Option<RawFd> {
        self.fd
    }

    /// Whether `level` would be written.
    pub fn enabled(&self, level: Level) -> bool {
        self.fd.is_some() && (level <= self.level || !self.dialect.honours_log_level())
    }

    /// Formats one line on the stack; never allocates.
    pub fn format(&self, level: Level, args: fmt::Arguments<'_>) -> StackBuf<4096> {
        let mut line = StackBuf::<4096>::new();
        let pid = std::process::id();
        let prefix = match self.dialect {
            Dialect::Nsbootstrap1 => "nsbootstrap",
            _ => "nsexec",
        };
        let _ = write!(line, "{{\"level\":\"{}\", \"msg\": \"", level.name());
        match self.stage {
            Stage::Setup => {
                let _ = write!(line, "{prefix}[{pid}]: ");
            }
            Stage::Numbered(n) => {
                let _ = write!(line, "{prefix}-{n}[{pid}]: ");
            }
        }
        let mut body = StackBuf::<3968>::new();
        let _ = JsonEscape(&mut body).write_fmt(args);
        line.push(body.as_bytes());
        if body.was_cut() {
            line.push(b"...");
        }
        line.push(b"\"}\n");
        line
    }

    /// Writes one line if `level` is enabled: one write(2), errors ignored (logging is best effort).
    ///
    /// Never inlined: its 8 KiB of line buffers then live in its own frame, touched only when a line is
    /// written, instead of in every caller's frame, where each stage would fault in two more stack pages
    /// after its clone whether it logs or not.
    #[inline(never)]
    pub fn log(&self, level: Level, args: fmt::Arguments<'_>) {
        if let (true, Some(fd)) = (self.enabled(level), self.fd) {
            let line = self.format(level, args);
            // The log pipe named by the environment, never closed before exit; write(2) is
            // async-signal-safe.
            crate::sys::write_once(fd, line.as_bytes());
        }
    }

    /// Writes one line at `level` whatever the configured level: for what the runtime must always see
    /// (the protection switched off). On stderr when there is no log pipe.
    #[cold]
    #[inline(never)]
    pub fn always(&self, level: Level, args: fmt::Arguments<'_>) {
        match self.fd {
            Some(fd) => {
                let line = self.format(level, args);
                // The log pipe named by the environment; write(2) is async-signal-safe.
                crate::sys::write_once(fd, line.as_bytes());
            }
            None => {
                let mut line = StackBuf::<4096>::new();
                let _ = writeln!(line, "nsbootstrap: {}: {args}", level.name());
                crate::sys::write_once(2, line.as_bytes());
            }
        }
    }

    /// Logs a fatal error: on the log pipe, or on stderr when there is none.
    #[cold]
    #[inline(never)]
    pub fn fatal(&self, args: fmt::Arguments<'_>) {
        if self.fd.is_some() {
            self.log(Level::Fatal, args);
        } else {
            let mut line = StackBuf::<4096>::new();
            let _ = writeln!(line, "nsbootstrap: {args}");
            // Standard error (or closed, in which case the write fails harmlessly).
            crate::sys::write_once(2, line.as_bytes());
        }
    }
}

/// Logs at a level: `log!(logger, Debug, "text {}", x)`.
#[macro_export]
macro_rules! log {
    ($logger:expr, $level:ident, $($arg:tt)*) => {
        if $logger.enabled($crate::log::Level::$level) {
            $logger.log($crate::log::Level::$level, format_args!($($arg)*))
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_json_with_stage_and_pid() {
        let l = Logger::new(Some(99), Level::Debug, Dialect::Runc11).for_stage(1);
        let line = l.format(Level::Debug, format_args!("setns into \"net\"\n"));
        let text = std::str::from_utf8(line.as_bytes()).unwrap();
        assert!(text.ends_with("\"}\n"));
        let v: serde_json::Value = serde_json::from_str(text.trim_end()).unwrap();
        assert_eq!(v["level"], "debug");
        let msg = v["msg"].as_str().unwrap();
        assert_eq!(
            msg,
            format!("nsexec-1[{}]: setns into \"net\"\n", std::process::id())
        );
    }

    #[test]
    fn long_lines_are_cut_but_stay_json() {
        let l = Logger::new(Some(99), Level::Debug, Dialect::Nsbootstrap1);
        let long = "x".repeat(10_000);
        let line = l.format(Level::Error, format_args!("{long}"));
        let v: serde_json::Value = serde_json::from_slice(line.as_bytes()).unwrap();
        assert!(v["msg"].as_str().unwrap().ends_with("..."));
    }

    #[test]
    fn always_writes_below_the_configured_level() {
        let (r, w) = nix::unistd::pipe().unwrap();
        use std::os::fd::AsRawFd;
        let l = Logger::new(Some(w.as_raw_fd()), Level::Error, Dialect::Nsbootstrap1);
        assert!(!l.enabled(Level::Warning));
        l.always(Level::Warning, format_args!("protection off"));
        drop(w);
        let mut text = String::new();
        use std::io::Read;
        std::fs::File::from(r).read_to_string(&mut text).unwrap();
        let v: serde_json::Value = serde_json::from_str(text.trim_end()).unwrap();
        assert_eq!(v["level"], "warning");
        assert!(v["msg"].as_str().unwrap().ends_with("protection off"));
    }

    #[test]
    fn a_long_detail_is_cut_so_that_the_error_after_it_stays() {
        let l = Logger::new(Some(99), Level::Debug, Dialect::Runc11).for_stage(1);
        let path = format!("/{}", "p".repeat(4094));
        let line = l.format(
            Level::Fatal,
            format_args!(
                "open namespace: {}: {}",
                Cut(format_args!("net {path:?}"), DETAIL_MAX),
                "No such file or directory"
            ),
        );
        let v: serde_json::Value = serde_json::from_slice(line.as_bytes()).unwrap();
        let msg = v["msg"].as_str().unwrap();
        assert!(msg.ends_with("...: No such file or directory"), "{msg}");
        assert!(msg.contains("open namespace: net \"/ppp"), "{msg}");
        assert!(!line.was_cut());
        let short = format!("{}", Cut(format_args!("héllo"), 2));
        assert_eq!(short, "h...");
    }

    #[test]
    fn levels_filter_only_where_the_dialect_honours_them() {
        let l = Logger::new(Some(99), Level::Error, Dialect::Runc11);
        assert!(!l.enabled(Level::Debug) && l.enabled(Level::Fatal));
        let old = Logger::new(Some(99), Level::Error, Dialect::Runc10);
        assert!(old.enabled(Level::Debug));
        assert!(!Logger::new(None, Level::Trace, Dialect::Runc11).enabled(Level::Fatal));
    }
}
