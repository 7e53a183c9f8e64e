//! Encoding a plan into a caller's buffer in the exact layout runc's Go encoder produces: attributes in
//! canonical order, `nla_len` without padding, `nlmsg_len` with it, bools as 4-byte integers, strings with
//! their NUL counted.
//!
//! Before anything is sized, a plan must be encodable in the dialect asked for: when it names its own
//! dialect ([`BootstrapPlan::dialect`]) that must be the one asked for ([`EncodeError::DialectMismatch`]),
//! and it must keep the consistency rules of spec section 8 ([`EncodeError::Inconsistent`]). Tests that
//! need a deliberately inconsistent message use [`BootstrapPlan::to_bytes_inconsistent`], which still
//! checks every field.
//!
//! [`BootstrapPlan::visit`] hands each attribute the plan sends, in canonical order, with its field as a
//! typed `Payload`, to a `Visitor`: one pass checks every field and sizes every payload (the
//! [`Counter`] sink counts digits without formatting them), a second writes the message (the [`Writer`]
//! sink). Both run the same `Payload::write`, so the sizes are those of the bytes written. The visit
//! destructures the plan, so a new field that is not sent fails to compile.

use crate::attribute::{Attribute, COUNT};
use crate::dialect::Dialect;
use crate::error::{EncodeError as Error, Problem};
use crate::payload::bools::Bool;
use crate::payload::clone_flags::{self, Flags};
use crate::payload::id_map::Ranges;
use crate::payload::mount_sources::Mounts;
use crate::payload::ns_paths::Joins;
use crate::payload::oom::Oom;
use crate::payload::path::PathText;
use crate::payload::time_offsets::Offsets;
use crate::payload::Payload;
use crate::plan::{BootstrapPlan, NetlinkFields};
use crate::text::Mode;
use crate::wire::{align4, Header, Writer, HEADER_LEN, INIT_MSG, MAX_MESSAGE_LEN, MAX_PAYLOAD};

/// What [`BootstrapPlan::visit`] hands each attribute to.
trait Visitor {
    fn attribute(&mut self, attr: Attribute, payload: impl Payload) -> Result<(), Error>;
}

/// The first pass: checks each field (the first error, in canonical order, ends the pass) and sizes the
/// message.
struct Layout {
    dialect: Dialect,
    /// The payload lengths by canonical index (0: not sent).
    payloads: Payloads,
    /// The message's length.
    len: usize,
}

impl Visitor for Layout {
    fn attribute(&mut self, attr: Attribute, payload: impl Payload) -> Result<(), Error> {
        payload
            .check(self.dialect)
            .map_err(|p| plan_error(attr, p))?;
        let n = payload.len();
        if n > MAX_PAYLOAD {
            return Err(plan_error(attr, Problem::PayloadTooLarge { len: n }));
        }
        self.payloads[attr.canonical_index()] = n as u32;
        self.len += 4 + align4(n);
        Ok(())
    }
}

/// The second pass: writes each attribute into a buffer the first pass sized.
struct Emit<'o, 'b> {
    payloads: &'o Payloads,
    /// The part of the buffer not written yet.
    rest: &'b mut [u8],
}

impl Visitor for Emit<'_, '_> {
    fn attribute(&mut self, attr: Attribute, payload: impl Payload) -> Result<(), Error> {
        let n = self.payloads[attr.canonical_index()] as usize;
        let rest = std::mem::take(&mut self.rest);
        let Some((nla, tail)) = rest.split_at_mut_checked(4 + align4(n)) else {
            return Ok(());
        };
        self.rest = tail;
        // The padding: zero the last word, then write the payload over its other bytes (a store of 4
        // bytes rather than a fill of 0 to 3).
        if let Some(last) = nla.last_chunk_mut::<4>() {
            *last = [0; 4];
        }
        // nla_len without the padding (at most 65535: the first pass checked MAX_PAYLOAD), then the type.
        nla[0..2].copy_from_slice(&((4 + n) as u16).to_ne_bytes());
        nla[2..4].copy_from_slice(&attr.number().to_ne_bytes());
        payload.write(&mut Writer {
            out: &mut nla[4..4 + n],
            pos: 0,
        });
        Ok(())
    }
}

fn plan_error(attr: Attribute, problem: Problem) -> Error {
    Error::Field { attr, problem }
}

/// Each attribute's payload length (NUL included) by canonical index, 0 for an attribute the plan does not
/// send. Filled by [`BootstrapPlan::layout`] in the caller's frame (a returned array would be copied out
/// with wide loads of narrow stores still in flight, which stalls).
type Payloads = [u32; COUNT];

/// The attributes a dialect has, one bit each by canonical index.
fn dialect_mask(dialect: Dialect) -> u16 {
    Attribute::CANONICAL_ORDER
        .iter()
        .filter(|a| a.in_dialect(dialect))
        .fold(0, |m, a| m | 1 << a.canonical_index())
}

impl BootstrapPlan {
    /// Hands each attribute the plan sends ([`BootstrapPlan::has`]) to `v`, in canonical order, with its
    /// field; stops at the first error.
    fn visit(&self, v: &mut impl Visitor) -> Result<(), Error> {
        use Attribute::*;
        // Every field, by name: a field added to the plan and not handled here fails to compile.
        let BootstrapPlan {
            dialect: _,
            netlink: _,
            clone_flags,
            namespace_paths,
            newuidmap_path,
            uid_map,
            gid_map,
            newgidmap_path,
            setgroups,
            oom_score_adj,
            rootless_euid,
            mount_sources,
            time_offsets,
            console_path,
        } = self;
        v.attribute(CloneFlags, Flags(clone_flags.bits()))?;
        if !namespace_paths.is_empty() {
            v.attribute(NamespacePaths, Joins(namespace_paths))?;
        }
        if let Some(p) = newuidmap_path {
            v.attribute(NewuidmapPath, PathText(p))?;
        }
        if let Some(r) = uid_map {
            v.attribute(UidMap, Ranges(r))?;
        }
        if let Some(r) = gid_map {
            v.attribute(GidMap, Ranges(r))?;
        }
        if let Some(p) = newgidmap_path {
            v.attribute(NewgidmapPath, PathText(p))?;
        }
        if let Some(b) = *setgroups {
            v.attribute(Setgroups, Bool(b))?;
        }
        if let Some(o) = *oom_score_adj {
            v.attribute(OomScoreAdj, Oom(o))?;
        }
        if let Some(b) = *rootless_euid {
            v.attribute(RootlessEuid, Bool(b))?;
        }
        if let Some(m) = mount_sources {
            v.attribute(MountSources, Mounts(m))?;
        }
        if let Some(t) = time_offsets {
            v.attribute(TimeOffsets, Offsets(t))?;
        }
        if let Some(p) = console_path {
            v.attribute(ConsolePath, PathText(p))?;
        }
        Ok(())
    }

    /// Checks the plan for `dialect` (see [`BootstrapPlan::validate`]) and sizes its message: fills
    /// `payloads` and returns the message's length.
    fn layout(&self, dialect: Dialect, payloads: &mut Payloads) -> Result<usize, Error> {
        // The clone flags' error comes first.
        clone_flags::check(self.clone_flags.bits(), Mode::Strict, dialect)
            .map_err(|p| plan_error(Attribute::CloneFlags, p))?;
        // Every attribute the dialect lacks is refused (the first in canonical order) before any field is
        // checked.
        let mask = dialect_mask(dialect);
        if let Some(attr) = Attribute::CANONICAL_ORDER
            .into_iter()
            .find(|&a| mask & 1 << a.canonical_index() == 0 && self.has(a))
        {
            return Err(Error::NotInDialect { attr, dialect });
        }
        let mut layout = Layout {
            dialect,
            payloads: [0; COUNT],
            len: HEADER_LEN,
        };
        self.visit(&mut layout)?;
        *payloads = layout.payloads;
        Ok(layout.len)
    }

    /// Checks everything [`BootstrapPlan::encode`] checks: the plan's own dialect (when it names one) is
    /// `dialect`, the consistency rules of spec section 8 ([`BootstrapPlan::check`]), every field within the
    /// strict grammar and limits of spec section 5, and the message's size.
    pub fn validate(&self, dialect: Dialect) -> Result<(), Error> {
        self.encoded_len(dialect).map(|_| ())
    }

    /// The length of the canonical message for `dialect`, after the checks of [`BootstrapPlan::validate`].
    pub fn encoded_len(&self, dialect: Dialect) -> Result<usize, Error> {
        self.checked_layout(dialect, &mut [0; COUNT])
    }

    /// The plan's own dialect against `dialect`, then section 8, then the layout.
    fn checked_layout(&self, dialect: Dialect, payloads: &mut Payloads) -> Result<usize, Error> {
        match self.dialect {
            Some(plan) if plan != dialect => {
                return Err(Error::DialectMismatch {
                    plan,
                    requested: dialect,
                })
            }
            _ => {}
        }
        self.check()?;
        self.sized_layout(dialect, payloads)
    }

    /// [`BootstrapPlan::layout`], and the message's length within the spec's maximum.
    fn sized_layout(&self, dialect: Dialect, payloads: &mut Payloads) -> Result<usize, Error> {
        let len = self.layout(dialect, payloads)?;
        if len > MAX_MESSAGE_LEN as usize {
            return Err(Error::MessageTooLarge { len });
        }
        Ok(len)
    }

    /// Encodes the canonical message for `dialect` into `out`; returns its length. Allocates nothing, and
    /// leaves `out` untouched on an error. Refuses a plan that names another dialect or breaks a rule of
    /// spec section 8 (see [`BootstrapPlan::validate`]).
    pub fn encode(&self, dialect: Dialect, out: &mut [u8]) -> Result<usize, Error> {
        let mut payloads = [0; COUNT];
        let len = self.checked_layout(dialect, &mut payloads)?;
        let Some(out) = out.get_mut(..len) else {
            return Err(Error::BufferTooSmall {
                needed: len,
                available: out.len(),
            });
        };
        self.write(&payloads, out);
        Ok(len)
    }

    /// Writes the message `payloads` describes into `out`, which has exactly its length.
    fn write(&self, payloads: &Payloads, out: &mut [u8]) {
        let NetlinkFields { flags, seq, pid } = self.netlink;
        let header = Header {
            len: out.len() as u32,
            kind: INIT_MSG,
            flags,
            seq,
            pid,
        };
        let (head, rest) = out.split_at_mut(HEADER_LEN.min(out.len()));
        header.write(head);
        // Emit never fails: the first pass checked every field.
        let _ = self.visit(&mut Emit { payloads, rest });
    }

    /// Encodes the canonical message for `dialect` into a new vector (the checks of
    /// [`BootstrapPlan::encode`]).
    pub fn to_bytes(&self, dialect: Dialect) -> Result<Vec<u8>, Error> {
        let mut payloads = [0; COUNT];
        let mut v = vec![0u8; self.checked_layout(dialect, &mut payloads)?];
        self.write(&payloads, &mut v);
        Ok(v)
    }

    /// Encodes a plan that may break the rules of spec section 8 or name another dialect, for tests and
    /// fuzzers that need such a message on purpose (an executor must refuse it). Every field is still
    /// checked against its strict grammar, so the message is strict-valid.
    pub fn to_bytes_inconsistent(&self, dialect: Dialect) -> Result<Vec<u8>, Error> {
        let mut payloads = [0; COUNT];
        let mut v = vec![0u8; self.sized_layout(dialect, &mut payloads)?];
        self.write(&payloads, &mut v);
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::namespace::NamespaceKind;
    use std::path::PathBuf;

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
    fn refuses_inconsistent_plans_and_other_dialects() {
        let no_userns = BootstrapPlan::builder().map_user(0, 1000, 1).build();
        assert_eq!(
            no_userns.to_bytes(Dialect::Runc12),
            Err(Error::Inconsistent(crate::PlanError::MapWithoutUserns))
        );
        assert_eq!(
            no_userns.validate(Dialect::Runc12).unwrap_err().class(),
            "plan-map-without-userns"
        );
        let bytes = no_userns.to_bytes_inconsistent(Dialect::Runc12).unwrap();
        let view =
            crate::MessageView::decode(&bytes, Dialect::Runc12, crate::Mode::Strict).unwrap();
        assert_eq!(view.uid_map().unwrap().ranges().count(), 1);
        let mut plan = BootstrapPlan::new();
        plan.dialect = Some(Dialect::Runc11);
        assert_eq!(
            plan.to_bytes(Dialect::Runc12),
            Err(Error::DialectMismatch {
                plan: Dialect::Runc11,
                requested: Dialect::Runc12
            })
        );
        assert!(plan.to_bytes(Dialect::Runc11).is_ok());
        assert_eq!(
            plan.encode(Dialect::Nsbootstrap1, &mut [0; 64])
                .unwrap_err()
                .class(),
            "dialect-mismatch"
        );
    }

    #[test]
    fn a_nul_in_a_path_is_embedded_nul() {
        let console = BootstrapPlan::builder().console("/dev/pts\0/0").build();
        let e = console.to_bytes(Dialect::Nsbootstrap1).unwrap_err();
        assert_eq!(e.class(), "embedded-nul");
        assert_eq!(e.attribute(), Some(Attribute::ConsolePath));
        let mounts = BootstrapPlan::builder()
            .mount_source(Some(PathBuf::from("/a\0b")))
            .build();
        let e = mounts.to_bytes(Dialect::Runc11).unwrap_err();
        assert_eq!(e.class(), "embedded-nul");
        let join = BootstrapPlan::builder()
            .join(NamespaceKind::Net, "/a\0b")
            .build();
        assert_eq!(
            join.to_bytes(Dialect::Runc11).unwrap_err().class(),
            "embedded-nul"
        );
        let comma = BootstrapPlan::builder()
            .join(NamespaceKind::Net, "/a,b")
            .build();
        assert_eq!(
            comma.to_bytes(Dialect::Runc11).unwrap_err().class(),
            "bad-ns-entry"
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
