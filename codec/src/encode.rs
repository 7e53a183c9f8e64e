//! Encoding a plan into a caller's buffer, with `netlink-packet-core`'s header and attribute traits, in the
//! exact layout runc's Go encoder produces: attributes in canonical order, `nla_len` without padding,
//! `nlmsg_len` with it, bools as 4-byte integers, strings with their NUL counted.

use crate::attribute::Attribute;
use crate::dialect::Dialect;
use crate::error::{Error, Problem};
use crate::message::HEADER_LEN;
use crate::namespace::CLONE_NEWTIME;
use crate::plan::BootstrapPlan;
use crate::{idmap, mounts, nspaths, text, timens};
use netlink_packet_core::{Emitable, NetlinkHeader, Nla};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// Largest payload one attribute can carry (`nla_len` is a u16 and counts its 4-byte header).
pub const MAX_PAYLOAD: usize = u16::MAX as usize - 4;

/// Where generated text goes: a counter (to size it) or a slice (to write it). No allocation either way.
pub(crate) trait Sink {
    fn bytes(&mut self, b: &[u8]);

    fn decimal(&mut self, mut v: u64) {
        let mut buf = [0u8; 20];
        let mut i = buf.len();
        loop {
            i -= 1;
            buf[i] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        self.bytes(&buf[i..]);
    }

    fn signed(&mut self, v: i64) {
        if v < 0 {
            self.bytes(b"-");
        }
        self.decimal(v.unsigned_abs());
    }
}

struct Counter(usize);

impl Sink for Counter {
    fn bytes(&mut self, b: &[u8]) {
        self.0 += b.len();
    }
}

struct Writer<'b> {
    out: &'b mut [u8],
    pos: usize,
}

impl Sink for Writer<'_> {
    fn bytes(&mut self, b: &[u8]) {
        // The buffer was sized by a Counter over the same calls, so this range is in bounds.
        self.out[self.pos..self.pos + b.len()].copy_from_slice(b);
        self.pos += b.len();
    }
}

/// One attribute of a plan, ready to emit.
struct Out<'p> {
    attr: Attribute,
    plan: &'p BootstrapPlan,
}

impl Out<'_> {
    /// Writes the payload, NUL included, through `sink`.
    fn write(&self, sink: &mut impl Sink) {
        let p = self.plan;
        let path = |sink: &mut dyn FnMut(&[u8]), x: &Option<std::path::PathBuf>| {
            if let Some(x) = x {
                sink(x.as_os_str().as_bytes());
            }
        };
        match self.attr {
            Attribute::CloneFlags => sink.bytes(&p.clone_flags.bits().to_ne_bytes()),
            Attribute::Setgroups => sink.bytes(&u32::from(p.setgroups == Some(true)).to_ne_bytes()),
            Attribute::RootlessEuid => {
                sink.bytes(&u32::from(p.rootless_euid == Some(true)).to_ne_bytes())
            }
            Attribute::NamespacePaths => nspaths::write_canonical(&p.namespace_paths, sink),
            Attribute::UidMap => idmap::write_canonical(p.uid_map.as_deref().unwrap_or(&[]), sink),
            Attribute::GidMap => idmap::write_canonical(p.gid_map.as_deref().unwrap_or(&[]), sink),
            Attribute::OomScoreAdj => sink.signed(i64::from(p.oom_score_adj.unwrap_or(0))),
            Attribute::NewuidmapPath => path(&mut |b| sink.bytes(b), &p.newuidmap_path),
            Attribute::NewgidmapPath => path(&mut |b| sink.bytes(b), &p.newgidmap_path),
            Attribute::ConsolePath => path(&mut |b| sink.bytes(b), &p.console_path),
            Attribute::MountSources => {
                mounts::write_canonical(p.mount_sources.as_deref().unwrap_or(&[]), sink)
            }
            Attribute::TimeOffsets => {
                timens::write_canonical(p.time_offsets.as_deref().unwrap_or(&[]), sink)
            }
        }
        if !matches!(
            self.attr.payload_type(),
            crate::attribute::PayloadType::U32 | crate::attribute::PayloadType::Bool
        ) {
            sink.bytes(b"\0");
        }
    }
}

impl Nla for Out<'_> {
    fn value_len(&self) -> usize {
        let mut c = Counter(0);
        self.write(&mut c);
        c.0
    }

    fn kind(&self) -> u16 {
        self.attr.number()
    }

    fn emit_value(&self, buffer: &mut [u8]) {
        let mut w = Writer {
            out: buffer,
            pos: 0,
        };
        self.write(&mut w);
    }
}

fn check_path(attr: Attribute, p: &Path) -> Result<(), Error> {
    let b = p.as_os_str().as_bytes();
    let problem = if b.is_empty() {
        Some(Problem::EmptyPayload)
    } else if let Some(&byte) = b.iter().find(|&&c| c == 0) {
        Some(Problem::ForbiddenByte { byte })
    } else {
        text::check_path(b, crate::Mode::Strict).err()
    };
    problem.map_or(Ok(()), |problem| Err(plan_error(attr, problem)))
}

fn plan_error(attr: Attribute, problem: Problem) -> Error {
    Error::Payload {
        offset: None,
        attr,
        at: None,
        problem,
    }
}

impl BootstrapPlan {
    /// The attributes this plan sends in `dialect`, in canonical order. Errors for attributes the dialect
    /// does not have.
    fn attributes(&self, dialect: Dialect) -> Result<impl Iterator<Item = Attribute> + '_, Error> {
        for attr in Attribute::CANONICAL_ORDER {
            if self.has(attr) && !attr.in_dialect(dialect) {
                return Err(Error::AttrNotInDialect {
                    offset: 0,
                    attr,
                    dialect,
                });
            }
        }
        Ok(Attribute::CANONICAL_ORDER
            .into_iter()
            .filter(move |a| self.has(*a)))
    }

    /// Checks that the plan encodes to a canonical message of `dialect`: every field within the strict
    /// grammar and limits of spec section 5 (this is not the consistency check, see [`BootstrapPlan::check`]).
    pub fn validate(&self, dialect: Dialect) -> Result<(), Error> {
        let mut allowed = crate::CloneFlags::NAMESPACE_BITS;
        if !dialect.has_time_namespace() {
            allowed &= !CLONE_NEWTIME;
        }
        let bad = self.clone_flags.bits() & !allowed;
        if bad != 0 {
            return Err(plan_error(
                Attribute::CloneFlags,
                Problem::UnknownCloneFlags { bits: bad },
            ));
        }
        let field = |attr, r: Result<(), Problem>| r.map_err(|p| plan_error(attr, p));
        for attr in self.attributes(dialect)? {
            match attr {
                Attribute::NamespacePaths => {
                    field(attr, nspaths::check_entries(&self.namespace_paths, dialect))?
                }
                Attribute::UidMap => field(
                    attr,
                    idmap::check_ranges(self.uid_map.as_deref().unwrap_or(&[])),
                )?,
                Attribute::GidMap => field(
                    attr,
                    idmap::check_ranges(self.gid_map.as_deref().unwrap_or(&[])),
                )?,
                Attribute::OomScoreAdj => {
                    let v = self.oom_score_adj.unwrap_or(0);
                    if !(-1000..=1000).contains(&v) {
                        let text = v.to_string();
                        return Err(plan_error(
                            attr,
                            Problem::BadOomScoreAdj {
                                text: crate::error::Snippet::new(text.as_bytes()),
                            },
                        ));
                    }
                }
                Attribute::NewuidmapPath => check_path(
                    attr,
                    self.newuidmap_path.as_deref().unwrap_or(Path::new("")),
                )?,
                Attribute::NewgidmapPath => check_path(
                    attr,
                    self.newgidmap_path.as_deref().unwrap_or(Path::new("")),
                )?,
                Attribute::ConsolePath => {
                    check_path(attr, self.console_path.as_deref().unwrap_or(Path::new("")))?
                }
                Attribute::MountSources => field(
                    attr,
                    mounts::check_entries(self.mount_sources.as_deref().unwrap_or(&[])),
                )?,
                Attribute::TimeOffsets => field(
                    attr,
                    timens::check_offsets(self.time_offsets.as_deref().unwrap_or(&[])),
                )?,
                Attribute::CloneFlags | Attribute::Setgroups | Attribute::RootlessEuid => {}
            }
            let len = Out { attr, plan: self }.value_len();
            if len > MAX_PAYLOAD {
                return Err(plan_error(attr, Problem::PayloadTooLarge { len }));
            }
        }
        Ok(())
    }

    /// The length of the canonical message for `dialect`, after [`BootstrapPlan::validate`].
    pub fn encoded_len(&self, dialect: Dialect) -> Result<usize, Error> {
        self.validate(dialect)?;
        let len = HEADER_LEN
            + self
                .attributes(dialect)?
                .map(|attr| Out { attr, plan: self }.buffer_len())
                .sum::<usize>();
        if len > crate::MAX_MESSAGE_LEN as usize {
            return Err(Error::MessageTooLarge { len });
        }
        Ok(len)
    }

    /// Encodes the canonical message for `dialect` into `out`; returns its length. Allocates nothing.
    pub fn encode(&self, dialect: Dialect, out: &mut [u8]) -> Result<usize, Error> {
        let len = self.encoded_len(dialect)?;
        if out.len() < len {
            return Err(Error::BufferTooSmall {
                needed: len,
                available: out.len(),
            });
        }
        let mut header = NetlinkHeader::default();
        header.length = len as u32;
        header.message_type = crate::INIT_MSG;
        header.flags = self.netlink.flags;
        header.sequence_number = self.netlink.seq;
        header.port_number = self.netlink.pid;
        header.emit(&mut out[..HEADER_LEN]);
        let mut pos = HEADER_LEN;
        for attr in self.attributes(dialect)? {
            let nla = Out { attr, plan: self };
            let n = nla.buffer_len();
            nla.emit(&mut out[pos..pos + n]);
            pos += n;
        }
        Ok(pos)
    }

    /// Encodes the canonical message for `dialect` into a new vector.
    pub fn to_bytes(&self, dialect: Dialect) -> Result<Vec<u8>, Error> {
        let mut v = vec![0u8; self.encoded_len(dialect)?];
        let n = self.encode(dialect, &mut v)?;
        v.truncate(n);
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::namespace::NamespaceKind;

    #[test]
    fn layout_of_a_small_plan() {
        let plan = BootstrapPlan::builder()
            .create(NamespaceKind::User)
            .map_user(0, 1000, 1)
            .rootless_euid(true)
            .build();
        let b = plan.to_bytes(Dialect::Runc11).unwrap();
        let mut want = Vec::new();
        want.extend_from_slice(&48u32.to_ne_bytes());
        want.extend_from_slice(&62000u16.to_ne_bytes());
        want.extend_from_slice(&1u16.to_ne_bytes());
        want.extend_from_slice(&1u32.to_ne_bytes());
        want.extend_from_slice(&0u32.to_ne_bytes());
        want.extend_from_slice(&8u16.to_ne_bytes());
        want.extend_from_slice(&27281u16.to_ne_bytes());
        want.extend_from_slice(&0x1000_0000u32.to_ne_bytes());
        want.extend_from_slice(&14u16.to_ne_bytes());
        want.extend_from_slice(&27283u16.to_ne_bytes());
        want.extend_from_slice(b"0 1000 1\n\0\0\0");
        want.extend_from_slice(&8u16.to_ne_bytes());
        want.extend_from_slice(&27287u16.to_ne_bytes());
        want.extend_from_slice(&1u32.to_ne_bytes());
        assert_eq!(b, want);
    }

    #[test]
    fn refuses_what_the_dialect_lacks_and_bad_fields() {
        let plan = BootstrapPlan::builder().console("/dev/pts/0").build();
        assert_eq!(
            plan.to_bytes(Dialect::Runc12).unwrap_err().class(),
            "attr-not-in-dialect"
        );
        assert!(plan.to_bytes(Dialect::Nsbootstrap1).is_ok());
        let plan = BootstrapPlan::builder()
            .join(NamespaceKind::Net, "/a,b")
            .build();
        assert_eq!(
            plan.to_bytes(Dialect::Runc12).unwrap_err().class(),
            "bad-ns-entry"
        );
        let plan = BootstrapPlan::builder().oom_score_adj(1001).build();
        assert_eq!(
            plan.to_bytes(Dialect::Runc12).unwrap_err().class(),
            "bad-oom-score-adj"
        );
        let plan = BootstrapPlan::builder().create(NamespaceKind::Time).build();
        assert_eq!(
            plan.to_bytes(Dialect::Runc11).unwrap_err().class(),
            "unknown-clone-flags"
        );
        let long = format!("/{}", "a".repeat(70_000));
        let plan = BootstrapPlan::builder().console(long).build();
        assert_eq!(
            plan.to_bytes(Dialect::Nsbootstrap1).unwrap_err().class(),
            "path-too-long"
        );
    }

    #[test]
    fn buffer_too_small_is_an_error() {
        let plan = BootstrapPlan::new();
        let mut small = [0u8; 20];
        assert_eq!(
            plan.encode(Dialect::Runc12, &mut small),
            Err(Error::BufferTooSmall {
                needed: 24,
                available: 20
            })
        );
    }
}
