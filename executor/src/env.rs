//! The environment a runtime sets for an executor (spec section 9).

use crate::log::Level;
use std::fmt;
use std::os::fd::RawFd;

/// The init pipe's variable.
pub const INITPIPE: &str = "_LIBCONTAINER_INITPIPE";
/// The log pipe's variable.
pub const LOGPIPE: &str = "_LIBCONTAINER_LOGPIPE";
/// The log level's variable.
pub const LOGLEVEL: &str = "_LIBCONTAINER_LOGLEVEL";

/// What the environment says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BootstrapEnv {
    /// The init pipe.
    pub init_pipe: RawFd,
    /// The log pipe, if any.
    pub log_pipe: Option<RawFd>,
    /// The log level (default debug).
    pub log_level: Level,
}

/// A variable that is set but unusable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvError {
    /// The variable.
    pub name: &'static str,
    /// Its value.
    pub value: String,
    /// What is wrong.
    pub reason: &'static str,
}

impl fmt::Display for EnvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={:?}: {}", self.name, self.value, self.reason)
    }
}

impl std::error::Error for EnvError {}

/// Parses a variable as a non-negative decimal; `Ok(None)` when unset or empty.
fn number(
    name: &'static str,
    get: &impl Fn(&str) -> Option<String>,
) -> Result<Option<u32>, EnvError> {
    let Some(value) = get(name).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    match value.parse::<i64>() {
        Ok(n) if n < 0 => Err(EnvError {
            name,
            value,
            reason: "must not be negative",
        }),
        Ok(n) if n > i64::from(i32::MAX) => Err(EnvError {
            name,
            value,
            reason: "is out of range",
        }),
        Ok(n) => Ok(Some(n as u32)),
        Err(_) => Err(EnvError {
            name,
            value,
            reason: "is not a decimal number",
        }),
    }
}

/// The log level: a logrus number, or (as runc up to v1.0.x passes it, for its Go side's
/// `logrus.ParseLevel`) a logrus level name; debug when unset or empty.
fn level(get: &impl Fn(&str) -> Option<String>) -> Result<Level, EnvError> {
    let named = match get(LOGLEVEL).as_deref() {
        Some("panic") => Some(Level::Panic),
        Some("fatal") => Some(Level::Fatal),
        Some("error") => Some(Level::Error),
        Some("warn" | "warning") => Some(Level::Warning),
        Some("info") => Some(Level::Info),
        Some("debug") => Some(Level::Debug),
        Some("trace") => Some(Level::Trace),
        _ => None,
    };
    match named {
        Some(l) => Ok(l),
        None => Ok(number(LOGLEVEL, get)?.map_or(Level::Debug, Level::from_number)),
    }
}

fn check_fd(name: &'static str, fd: u32) -> Result<RawFd, EnvError> {
    let raw = fd as RawFd;
    if !crate::sys::is_open(raw) {
        return Err(EnvError {
            name,
            value: fd.to_string(),
            reason: "is not an open file descriptor",
        });
    }
    Ok(raw)
}

impl BootstrapEnv {
    /// Reads the process environment. `Ok(None)`: no init pipe, so this is not a bootstrap.
    pub fn from_process() -> Result<Option<BootstrapEnv>, EnvError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads the variables through `get` (for tests and for callers with their own environment).
    pub fn from_lookup(
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<BootstrapEnv>, EnvError> {
        // The log pipe comes first so that an error about the init pipe can be logged on it.
        let log_pipe = number(LOGPIPE, &get)?
            .map(|fd| check_fd(LOGPIPE, fd))
            .transpose()?;
        let log_level = level(&get)?;
        let Some(init) = number(INITPIPE, &get)? else {
            return Ok(None);
        };
        Ok(Some(BootstrapEnv {
            init_pipe: check_fd(INITPIPE, init)?,
            log_pipe,
            log_level,
        }))
    }

    /// The log pipe alone, for reporting an error in the rest of the environment.
    pub fn log_pipe_only(get: impl Fn(&str) -> Option<String>) -> Option<RawFd> {
        number(LOGPIPE, &get)
            .ok()
            .flatten()
            .and_then(|fd| check_fd(LOGPIPE, fd).ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
    }

    #[test]
    fn unset_or_empty_means_not_a_bootstrap() {
        assert_eq!(BootstrapEnv::from_lookup(env(&[])), Ok(None));
        assert_eq!(BootstrapEnv::from_lookup(env(&[(INITPIPE, "")])), Ok(None));
    }

    #[test]
    fn bad_values_are_errors() {
        let e = BootstrapEnv::from_lookup(env(&[(INITPIPE, "abc")])).unwrap_err();
        assert_eq!(e.reason, "is not a decimal number");
        let e = BootstrapEnv::from_lookup(env(&[(INITPIPE, "-3")])).unwrap_err();
        assert_eq!(e.reason, "must not be negative");
        let e = BootstrapEnv::from_lookup(env(&[(INITPIPE, "987654")])).unwrap_err();
        assert_eq!(e.reason, "is not an open file descriptor");
        assert!(e.to_string().contains("_LIBCONTAINER_INITPIPE=\"987654\""));
    }

    #[test]
    fn reads_fds_and_level() {
        let got =
            BootstrapEnv::from_lookup(env(&[(INITPIPE, "2"), (LOGPIPE, "1"), (LOGLEVEL, "2")]))
                .unwrap()
                .unwrap();
        assert_eq!(
            got,
            BootstrapEnv {
                init_pipe: 2,
                log_pipe: Some(1),
                log_level: Level::Error
            }
        );
    }

    #[test]
    fn the_level_may_be_a_logrus_name() {
        for (text, want) in [
            ("debug", Level::Debug),
            ("info", Level::Info),
            ("warn", Level::Warning),
        ] {
            let got = BootstrapEnv::from_lookup(env(&[(INITPIPE, "2"), (LOGLEVEL, text)]))
                .unwrap()
                .unwrap();
            assert_eq!(got.log_level, want, "{text}");
        }
        let e = BootstrapEnv::from_lookup(env(&[(INITPIPE, "2"), (LOGLEVEL, "loud")])).unwrap_err();
        assert_eq!(e.name, LOGLEVEL);
    }
}
