//! Encoding a plan into a caller's buffer in the exact layout runc's Go encoder produces: attributes in
//! canonical order, `nla_len` without padding, `nlmsg_len` with it, bools as 4-byte integers, strings with
//! their NUL counted. The header is written with `netlink-packet-core`'s `NetlinkHeader`.
//!
//! [`BootstrapPlan::visit`] hands each attribute the plan sends, in canonical order, with its field as a
//! typed [`Payload`], to a [`Visitor`]: one pass checks every field and sizes every payload ([`Counter`]
//! counts digits without formatting them), a second writes the message ([`Writer`]). Both run the same
//! `Payload::write`, so the sizes are those of the bytes written; and the visit is straight-line code, one
//! step per attribute, with no dispatch on the attribute.

use crate::attribute::Attribute;
use crate::dialect::Dialect;
use crate::error::{Error, Problem};
use crate::idmap::IdRange;
use crate::message::HEADER_LEN;
use crate::namespace::CLONE_NEWTIME;
use crate::nspaths::NamespacePath;
use crate::plan::BootstrapPlan;
use crate::timens::TimeOffset;
use crate::{idmap, mounts, nspaths, text, timens};
use netlink_packet_core::{Emitable, NetlinkHeader};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// Largest payload one attribute can carry (`nla_len` is a u16 and counts its 4-byte header).
pub const MAX_PAYLOAD: usize = u16::MAX as usize - 4;

/// Where generated text goes: a counter (to size it) or a slice (to write it). No allocation either way.
pub(crate) trait Sink {
    fn bytes(&mut self, b: &[u8]);

    fn decimal(&mut self, v: u64);

    fn signed(&mut self, v: i64) {
        if v < 0 {
            self.bytes(b"-");
        }
        self.decimal(v.unsigned_abs());
    }
}

/// The number of decimal digits of `v`, from its bit length and one comparison with a power of ten.
fn decimal_len(v: u64) -> usize {
    const POW10: [u64; 20] = {
        let mut p = [1u64; 20];
        let mut i = 1;
        while i < 20 {
            p[i] = p[i - 1] * 10;
            i += 1;
        }
        p
    };
    let bits = 64 - (v | 1).leading_zeros();
    // 2^(bits-1) <= v < 2^bits, and 1233/4096 is log10(2) to four places: t is the number of digits of v
    // or one less, one less exactly when v is below 10^t.
    let t = ((bits * 1233) >> 12) as usize;
    let below = POW10.get(t).is_none_or(|&p| v < p);
    (t + usize::from(!below)).max(1)
}

/// Sizes a payload.
struct Counter(usize);

impl Sink for Counter {
    fn bytes(&mut self, b: &[u8]) {
        self.0 += b.len();
    }

    fn decimal(&mut self, v: u64) {
        self.0 += decimal_len(v);
    }
}

/// Writes a payload into a slice that a [`Counter`] sized over the same calls.
struct Writer<'b> {
    out: &'b mut [u8],
    pos: usize,
}

impl Sink for Writer<'_> {
    fn bytes(&mut self, b: &[u8]) {
        let end = self.pos + b.len();
        if let Some(dst) = self.out.get_mut(self.pos..end) {
            dst.copy_from_slice(b);
        }
        self.pos = end;
    }

    #[inline]
    fn decimal(&mut self, v: u64) {
        // "00" to "99".
        const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
            2021222324252627282930313233343536373839\
            4041424344454647484950515253545556575859\
            6061626364656667686970717273747576777879\
            8081828384858687888990919293949596979899";
        let end = self.pos + decimal_len(v);
        if let Some(dst) = self.out.get_mut(self.pos..end) {
            // From the right, two digits at a time: `dst` has room for exactly the digits of `v`.
            let mut v = v;
            let mut i = dst.len();
            while i >= 2 {
                let pair = (v % 100) as usize * 2;
                v /= 100;
                dst[i - 2..i].copy_from_slice(&PAIRS[pair..pair + 2]);
                i -= 2;
            }
            if i == 1 {
                dst[0] = b'0' + (v % 10) as u8;
            }
        }
        self.pos = end;
    }
}

/// A field of a plan, as an attribute's payload.
trait Payload {
    /// Checks the field against the strict grammar and limits of spec section 5.
    fn check(&self, dialect: Dialect) -> Result<(), Problem>;

    /// Writes the payload, NUL included, through `sink`.
    fn write(&self, sink: &mut impl Sink);

    /// The payload's length, NUL included.
    fn len(&self) -> usize {
        let mut c = Counter(0);
        self.write(&mut c);
        c.0
    }
}

/// A u32 or bool payload (the clone flags are checked before the visit).
struct U32(u32);

impl Payload for U32 {
    fn check(&self, _: Dialect) -> Result<(), Problem> {
        Ok(())
    }

    fn write(&self, sink: &mut impl Sink) {
        sink.bytes(&self.0.to_ne_bytes());
    }
}

/// A path payload.
struct PathText<'p>(&'p Path);

impl Payload for PathText<'_> {
    fn check(&self, _: Dialect) -> Result<(), Problem> {
        let b = self.0.as_os_str().as_bytes();
        if b.is_empty() {
            Err(Problem::EmptyPayload)
        } else if text::has_nul(b) {
            Err(Problem::ForbiddenByte { byte: 0 })
        } else {
            text::check_path(b, crate::Mode::Strict)
        }
    }

    fn write(&self, sink: &mut impl Sink) {
        sink.bytes(self.0.as_os_str().as_bytes());
        sink.bytes(b"\0");
    }
}

/// The namespace paths.
struct Joins<'p>(&'p [NamespacePath]);

impl Payload for Joins<'_> {
    fn check(&self, dialect: Dialect) -> Result<(), Problem> {
        nspaths::check_entries(self.0, dialect)
    }

    fn write(&self, sink: &mut impl Sink) {
        nspaths::write_canonical(self.0, sink);
        sink.bytes(b"\0");
    }
}

/// A uid or gid map.
struct Ranges<'p>(&'p [IdRange]);

impl Payload for Ranges<'_> {
    fn check(&self, _: Dialect) -> Result<(), Problem> {
        idmap::check_ranges(self.0)
    }

    fn write(&self, sink: &mut impl Sink) {
        idmap::write_canonical(self.0, sink);
        sink.bytes(b"\0");
    }
}

/// The oom_score_adj value.
struct Oom(i32);

impl Payload for Oom {
    fn check(&self, _: Dialect) -> Result<(), Problem> {
        if (-1000..=1000).contains(&self.0) {
            return Ok(());
        }
        Err(Problem::BadOomScoreAdj {
            text: crate::error::Snippet::new(self.0.to_string().as_bytes()),
        })
    }

    fn write(&self, sink: &mut impl Sink) {
        sink.signed(i64::from(self.0));
        sink.bytes(b"\0");
    }
}

/// The mount sources.
struct Mounts<'p>(&'p [Option<PathBuf>]);

impl Payload for Mounts<'_> {
    fn check(&self, _: Dialect) -> Result<(), Problem> {
        mounts::check_entries(self.0)
    }

    fn write(&self, sink: &mut impl Sink) {
        mounts::write_canonical(self.0, sink);
        sink.bytes(b"\0");
    }
}

/// The time offsets.
struct Offsets<'p>(&'p [TimeOffset]);

impl Payload for Offsets<'_> {
    fn check(&self, _: Dialect) -> Result<(), Problem> {
        timens::check_offsets(self.0)
    }

    fn write(&self, sink: &mut impl Sink) {
        timens::write_canonical(self.0, sink);
        sink.bytes(b"\0");
    }
}

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
    Error::Payload {
        offset: None,
        attr,
        at: None,
        problem,
    }
}

/// Each attribute's payload length (NUL included) by canonical index, 0 for an attribute the plan does not
/// send. Filled by [`BootstrapPlan::layout`] in the caller's frame (a returned array would be copied out
/// with wide loads of narrow stores still in flight, which stalls).
type Payloads = [u32; 12];

fn align4(n: usize) -> usize {
    (n + 3) & !3
}

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
        v.attribute(CloneFlags, U32(self.clone_flags.bits()))?;
        if !self.namespace_paths.is_empty() {
            v.attribute(NamespacePaths, Joins(&self.namespace_paths))?;
        }
        if let Some(p) = &self.newuidmap_path {
            v.attribute(NewuidmapPath, PathText(p))?;
        }
        if let Some(r) = &self.uid_map {
            v.attribute(UidMap, Ranges(r))?;
        }
        if let Some(r) = &self.gid_map {
            v.attribute(GidMap, Ranges(r))?;
        }
        if let Some(p) = &self.newgidmap_path {
            v.attribute(NewgidmapPath, PathText(p))?;
        }
        if let Some(b) = self.setgroups {
            v.attribute(Setgroups, U32(b.into()))?;
        }
        if let Some(o) = self.oom_score_adj {
            v.attribute(OomScoreAdj, Oom(o))?;
        }
        if let Some(b) = self.rootless_euid {
            v.attribute(RootlessEuid, U32(b.into()))?;
        }
        if let Some(m) = &self.mount_sources {
            v.attribute(MountSources, Mounts(m))?;
        }
        if let Some(t) = &self.time_offsets {
            v.attribute(TimeOffsets, Offsets(t))?;
        }
        if let Some(p) = &self.console_path {
            v.attribute(ConsolePath, PathText(p))?;
        }
        Ok(())
    }

    /// Checks the plan for `dialect` (see [`BootstrapPlan::validate`]) and sizes its message: fills
    /// `payloads` and returns the message's length.
    fn layout(&self, dialect: Dialect, payloads: &mut Payloads) -> Result<usize, Error> {
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
        // Every attribute the dialect lacks is refused (the first in canonical order) before any field is
        // checked.
        let mask = dialect_mask(dialect);
        if let Some(attr) = Attribute::CANONICAL_ORDER
            .into_iter()
            .find(|&a| mask & 1 << a.canonical_index() == 0 && self.has(a))
        {
            return Err(Error::AttrNotInDialect {
                offset: 0,
                attr,
                dialect,
            });
        }
        let mut layout = Layout {
            dialect,
            payloads: [0; 12],
            len: HEADER_LEN,
        };
        self.visit(&mut layout)?;
        *payloads = layout.payloads;
        Ok(layout.len)
    }

    /// Checks that the plan encodes to a canonical message of `dialect`: every field within the strict
    /// grammar and limits of spec section 5 (this is not the consistency check, see [`BootstrapPlan::check`]).
    pub fn validate(&self, dialect: Dialect) -> Result<(), Error> {
        self.layout(dialect, &mut [0; 12]).map(|_| ())
    }

    /// The length of the canonical message for `dialect`, after [`BootstrapPlan::validate`].
    pub fn encoded_len(&self, dialect: Dialect) -> Result<usize, Error> {
        self.sized_layout(dialect, &mut [0; 12])
    }

    /// [`BootstrapPlan::layout`], and the message's length within the spec's maximum.
    fn sized_layout(&self, dialect: Dialect, payloads: &mut Payloads) -> Result<usize, Error> {
        let len = self.layout(dialect, payloads)?;
        if len > crate::MAX_MESSAGE_LEN as usize {
            return Err(Error::MessageTooLarge { len });
        }
        Ok(len)
    }

    /// Encodes the canonical message for `dialect` into `out`; returns its length. Allocates nothing, and
    /// leaves `out` untouched on an error.
    pub fn encode(&self, dialect: Dialect, out: &mut [u8]) -> Result<usize, Error> {
        let mut payloads = [0; 12];
        let len = self.sized_layout(dialect, &mut payloads)?;
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
        let mut header = NetlinkHeader::default();
        header.length = out.len() as u32;
        header.message_type = crate::INIT_MSG;
        header.flags = self.netlink.flags;
        header.sequence_number = self.netlink.seq;
        header.port_number = self.netlink.pid;
        let (head, rest) = out.split_at_mut(HEADER_LEN.min(out.len()));
        header.emit(head);
        // Emit never fails: the first pass checked every field.
        let _ = self.visit(&mut Emit { payloads, rest });
    }

    /// Encodes the canonical message for `dialect` into a new vector.
    pub fn to_bytes(&self, dialect: Dialect) -> Result<Vec<u8>, Error> {
        let mut payloads = [0; 12];
        let mut v = vec![0u8; self.sized_layout(dialect, &mut payloads)?];
        self.write(&payloads, &mut v);
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
    fn decimal_len_counts_digits() {
        for v in [0u64, 1, 9, 10, 99, 100, 65536, 100000, 4294967295, u64::MAX] {
            assert_eq!(decimal_len(v), v.to_string().len(), "{v}");
        }
        let mut p = 1u64;
        while let Some(next) = p.checked_mul(10) {
            for v in [p - 1, p, p + 1, next - 1] {
                assert_eq!(decimal_len(v), v.to_string().len(), "{v}");
            }
            p = next;
        }
    }

    #[test]
    fn writer_formats_decimals() {
        for v in [
            0i64,
            7,
            -7,
            10,
            99,
            -100,
            101,
            65536,
            100000,
            4294967295,
            i64::MIN,
            i64::MAX,
        ] {
            let mut buf = [b'x'; 48];
            let mut w = Writer {
                out: &mut buf,
                pos: 1,
            };
            w.signed(v);
            w.bytes(b" ");
            w.decimal(v.unsigned_abs());
            let want = format!("x{v} {}x", v.unsigned_abs());
            assert_eq!(&buf[..want.len()], want.as_bytes(), "{v}");
        }
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
