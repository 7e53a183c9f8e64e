//! The final-process setup of the nsbootstrap-1 profile (spec section 14.1): what `nsbootstrap init`'s
//! final process does between the go-ahead and exec (mount propagation, a new /proc, the hostname, the
//! parent-death signal, ids, the working directory). The runtime sends [`GO_SETUP`](crate::sync::GO_SETUP),
//! a 32-bit little-endian length and the record; the runc dialects have no such thing.
//!
//! The record is a list of entries `tag (u8) | length (u16, little endian) | value`. [`FinalSetup::to_bytes`]
//! writes one; [`entries`] walks one without allocating (the final process reads it between clone and
//! exec).

/// The most a setup record may hold.
pub const MAX_SETUP_LEN: usize = 8192;

/// Entry tags.
pub mod tag {
    /// Mount propagation of every mount, applied recursively from `/`: one byte ([`super::Propagation`]).
    pub const PROPAGATION: u8 = 1;
    /// Mount a new proc file system at the value, a NUL-terminated path.
    pub const MOUNT_PROC: u8 = 2;
    /// sethostname(2) with the value (1 to 64 bytes).
    pub const HOSTNAME: u8 = 3;
    /// prctl(PR_SET_PDEATHSIG) with the value: one byte, a signal number.
    pub const PARENT_DEATH_SIGNAL: u8 = 4;
    /// setgroups([]) and setresgid to the value, a u32 little endian.
    pub const GID: u8 = 5;
    /// setresuid to the value, a u32 little endian.
    pub const UID: u8 = 6;
    /// chdir(2) to the value, a NUL-terminated path.
    pub const WORKDIR: u8 = 7;
}

/// Mount propagation to apply to every mount of the final process's mount namespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Propagation {
    /// MS_PRIVATE: no event crosses in either direction (unshare's default).
    Private = 0,
    /// MS_SLAVE: the host's mounts show inside, none goes out (bwrap's default).
    Slave = 1,
    /// MS_SHARED: events cross both ways.
    Shared = 2,
}

impl Propagation {
    /// The value of a [`tag::PROPAGATION`] entry.
    pub fn from_byte(b: u8) -> Option<Propagation> {
        match b {
            0 => Some(Propagation::Private),
            1 => Some(Propagation::Slave),
            2 => Some(Propagation::Shared),
            _ => None,
        }
    }
}

/// What the final process does before exec, in this order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FinalSetup {
    /// Mount propagation (none: unchanged).
    pub propagation: Option<Propagation>,
    /// Where to mount a new proc file system.
    pub mount_proc: Option<Vec<u8>>,
    /// The new hostname.
    pub hostname: Option<Vec<u8>>,
    /// The signal the final process gets when the runtime dies.
    pub parent_death_signal: Option<u8>,
    /// The gid to take (supplementary groups dropped).
    pub gid: Option<u32>,
    /// The uid to take.
    pub uid: Option<u32>,
    /// The working directory.
    pub workdir: Option<Vec<u8>>,
}

impl FinalSetup {
    /// Whether the record would be empty (the plain go-ahead says the same).
    pub fn is_empty(&self) -> bool {
        *self == FinalSetup::default()
    }

    /// The record's entries, or an error for a value the record cannot carry.
    pub fn to_bytes(&self) -> Result<Vec<u8>, String> {
        let mut out = Vec::new();
        let mut put = |t: u8, v: &[u8]| {
            out.push(t);
            out.extend_from_slice(&(v.len() as u16).to_le_bytes());
            out.extend_from_slice(v);
        };
        let path = |what: &str, p: &[u8]| -> Result<Vec<u8>, String> {
            if p.is_empty() || p.contains(&0) || p.len() > 4095 {
                return Err(format!("{what}: a path of 1 to 4095 bytes without NUL"));
            }
            let mut v = p.to_vec();
            v.push(0);
            Ok(v)
        };
        if let Some(p) = self.propagation {
            put(tag::PROPAGATION, &[p as u8]);
        }
        if let Some(p) = &self.mount_proc {
            put(tag::MOUNT_PROC, &path("mount-proc", p)?);
        }
        if let Some(h) = &self.hostname {
            if h.is_empty() || h.len() > 64 || h.contains(&0) {
                return Err("hostname: 1 to 64 bytes without NUL".into());
            }
            put(tag::HOSTNAME, h);
        }
        if let Some(s) = self.parent_death_signal {
            put(tag::PARENT_DEATH_SIGNAL, &[s]);
        }
        if let Some(g) = self.gid {
            put(tag::GID, &g.to_le_bytes());
        }
        if let Some(u) = self.uid {
            put(tag::UID, &u.to_le_bytes());
        }
        if let Some(p) = &self.workdir {
            put(tag::WORKDIR, &path("workdir", p)?);
        }
        Ok(out)
    }

    /// What the runtime writes instead of the plain go-ahead: [`crate::sync::GO_SETUP`], the record's
    /// length (u32 little endian) and the record.
    pub fn go_ahead_bytes(&self) -> Result<Vec<u8>, String> {
        let record = self.to_bytes()?;
        if record.len() > MAX_SETUP_LEN {
            return Err(format!(
                "the setup record is {} bytes, above {MAX_SETUP_LEN}",
                record.len()
            ));
        }
        let mut out = vec![crate::sync::GO_SETUP];
        out.extend_from_slice(&(record.len() as u32).to_le_bytes());
        out.extend_from_slice(&record);
        Ok(out)
    }
}

/// One entry of a setup record, borrowed from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Entry<'a> {
    /// [`tag::PROPAGATION`].
    Propagation(Propagation),
    /// [`tag::MOUNT_PROC`]: the path with its NUL.
    MountProc(&'a core::ffi::CStr),
    /// [`tag::HOSTNAME`].
    Hostname(&'a [u8]),
    /// [`tag::PARENT_DEATH_SIGNAL`].
    ParentDeathSignal(u8),
    /// [`tag::GID`].
    Gid(u32),
    /// [`tag::UID`].
    Uid(u32),
    /// [`tag::WORKDIR`]: the path with its NUL.
    Workdir(&'a core::ffi::CStr),
}

/// Walks a setup record without allocating: each entry, or the first fault (a static reason).
pub fn entries(mut record: &[u8]) -> impl Iterator<Item = Result<Entry<'_>, &'static str>> {
    let mut last_tag = 0u8;
    core::iter::from_fn(move || {
        if record.is_empty() {
            return None;
        }
        let r = (|| {
            if record.len() < 3 {
                return Err("an entry header is cut short");
            }
            let t = record[0];
            let len = u16::from_le_bytes([record[1], record[2]]) as usize;
            let v = record
                .get(3..3 + len)
                .ok_or("an entry runs past the record")?;
            if t <= last_tag {
                return Err("entries out of order or repeated");
            }
            last_tag = t;
            record = &record[3 + len..];
            fn cpath(v: &[u8]) -> Result<&core::ffi::CStr, &'static str> {
                core::ffi::CStr::from_bytes_with_nul(v)
                    .ok()
                    .filter(|c| !c.is_empty())
                    .ok_or("a path is not one NUL-terminated string")
            }
            let u32v = |v: &[u8]| {
                <[u8; 4]>::try_from(v)
                    .map(u32::from_le_bytes)
                    .map_err(|_| "an id is not 4 bytes")
            };
            Ok(match t {
                tag::PROPAGATION => Entry::Propagation(
                    match v {
                        [b] => Propagation::from_byte(*b),
                        _ => None,
                    }
                    .ok_or("unknown propagation")?,
                ),
                tag::MOUNT_PROC => Entry::MountProc(cpath(v)?),
                tag::HOSTNAME if (1..=64).contains(&v.len()) && !v.contains(&0) => {
                    Entry::Hostname(v)
                }
                tag::HOSTNAME => return Err("a hostname is 1 to 64 bytes without NUL"),
                tag::PARENT_DEATH_SIGNAL => match v {
                    [s] if (1..=64).contains(s) => Entry::ParentDeathSignal(*s),
                    _ => return Err("a signal is one byte, 1 to 64"),
                },
                tag::GID => Entry::Gid(u32v(v)?),
                tag::UID => Entry::Uid(u32v(v)?),
                tag::WORKDIR => Entry::Workdir(cpath(v)?),
                _ => return Err("unknown entry tag"),
            })
        })();
        if r.is_err() {
            record = &[];
        }
        Some(r)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_walks_back_to_what_was_written() {
        let s = FinalSetup {
            propagation: Some(Propagation::Slave),
            mount_proc: Some(b"/proc".to_vec()),
            hostname: Some(b"box".to_vec()),
            parent_death_signal: Some(9),
            gid: Some(100),
            uid: Some(1000),
            workdir: Some(b"/tmp".to_vec()),
        };
        let bytes = s.to_bytes().unwrap();
        let got: Vec<_> = entries(&bytes).collect::<Result<_, _>>().unwrap();
        assert_eq!(
            got,
            vec![
                Entry::Propagation(Propagation::Slave),
                Entry::MountProc(c"/proc"),
                Entry::Hostname(b"box"),
                Entry::ParentDeathSignal(9),
                Entry::Gid(100),
                Entry::Uid(1000),
                Entry::Workdir(c"/tmp"),
            ]
        );
        let go = s.go_ahead_bytes().unwrap();
        assert_eq!(go[0], crate::sync::GO_SETUP);
        assert_eq!(&go[1..5], &(bytes.len() as u32).to_le_bytes());
    }

    #[test]
    fn the_spec_example_is_what_run_m_sends() {
        let s = FinalSetup {
            propagation: Some(Propagation::Private),
            parent_death_signal: Some(9),
            ..FinalSetup::default()
        };
        assert_eq!(
            s.go_ahead_bytes().unwrap(),
            [0x02, 8, 0, 0, 0, 1, 1, 0, 0, 4, 1, 0, 9]
        );
    }

    #[test]
    fn faults_stop_the_walk() {
        for (bad, why) in [
            (&[1u8, 1, 0, 7][..], "unknown propagation"),
            (&[3, 0, 0], "a hostname is 1 to 64 bytes without NUL"),
            (
                &[2, 2, 0, b'/', b'p'],
                "a path is not one NUL-terminated string",
            ),
            (
                &[6, 4, 0, 1, 0, 0, 0, 5, 4, 0, 1, 0, 0, 0],
                "entries out of order or repeated",
            ),
            (&[9, 0, 0], "unknown entry tag"),
            (&[1, 5, 0, 0], "an entry runs past the record"),
            (&[1, 1], "an entry header is cut short"),
        ] {
            let r: Result<Vec<_>, _> = entries(bad).collect();
            assert_eq!(r, Err(why), "{bad:?}");
        }
    }
}
