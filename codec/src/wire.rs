//! The bottom layer: the wire's constants and limits (spec sections 3, 4 and 17), the netlink header's
//! fields, attribute headers and alignment, and the allocation-free `Sink` the payload writers write
//! through. Nothing here knows a payload's grammar, and nothing here imports another module of the crate.

/// The message type in the netlink header (`nlmsg_type`).
pub const INIT_MSG: u16 = 62000;
/// Size of the netlink header.
pub const HEADER_LEN: usize = 16;
/// Size of an attribute header (`nla_len`, `nla_type`).
pub const ATTR_HEADER_LEN: usize = 4;
/// `NLM_F_REQUEST`, the flag runc's Go encoder sets.
pub const NLM_F_REQUEST: u16 = 1;

/// The largest `nlmsg_len` a decoder accepts (spec section 17).
pub const MAX_MESSAGE_LEN: u32 = 1 << 20;
/// The longest path, in bytes, without its NUL (`PATH_MAX` - 1).
pub const MAX_PATH: usize = 4095;
/// The most ranges an id map may have (the kernel's limit since Linux 4.15).
pub const MAX_ID_RANGES: usize = 340;
/// Largest payload one attribute can carry (`nla_len` is a u16 and counts its 4-byte header).
pub const MAX_PAYLOAD: usize = u16::MAX as usize - ATTR_HEADER_LEN;

/// Attribute numbers on the wire (all 16 bits: bit 0x4000 is part of the number, not a flag).
pub mod number {
    /// Clone flags.
    pub const CLONE_FLAGS: u16 = 27281;
    /// Namespace paths.
    pub const NS_PATHS: u16 = 27282;
    /// uid map.
    pub const UID_MAP: u16 = 27283;
    /// gid map.
    pub const GID_MAP: u16 = 27284;
    /// setgroups.
    pub const SETGROUPS: u16 = 27285;
    /// oom_score_adj.
    pub const OOM_SCORE_ADJ: u16 = 27286;
    /// Rootless euid.
    pub const ROOTLESS_EUID: u16 = 27287;
    /// newuidmap path.
    pub const NEWUIDMAP_PATH: u16 = 27288;
    /// newgidmap path.
    pub const NEWGIDMAP_PATH: u16 = 27289;
    /// Mount sources (runc-1.1) or time offsets (runc-1.2, nsbootstrap-1).
    pub const MOUNT_SOURCES_OR_TIME_OFFSETS: u16 = 27290;
    /// Console path (nsbootstrap-1; the start of the nsbootstrap extension range).
    pub const CONSOLE_PATH: u16 = 27400;
}

/// The netlink header's five fields, as on the wire (host byte order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Header {
    /// `nlmsg_len`: the whole message's length, header included.
    pub len: u32,
    /// `nlmsg_type`: 62000.
    pub kind: u16,
    /// `nlmsg_flags`: no meaning in this protocol.
    pub flags: u16,
    /// `nlmsg_seq`: no meaning in this protocol.
    pub seq: u32,
    /// `nlmsg_pid`: no meaning in this protocol.
    pub pid: u32,
}

impl Header {
    /// Reads the five fields from the first 16 bytes, without checking them (see [`Header::check`]).
    pub fn read(prefix: &[u8]) -> Option<Header> {
        let b = prefix.first_chunk::<HEADER_LEN>()?;
        Some(Header {
            len: u32::from_ne_bytes([b[0], b[1], b[2], b[3]]),
            kind: u16::from_ne_bytes([b[4], b[5]]),
            flags: u16::from_ne_bytes([b[6], b[7]]),
            seq: u32::from_ne_bytes([b[8], b[9], b[10], b[11]]),
            pid: u32::from_ne_bytes([b[12], b[13], b[14], b[15]]),
        })
    }

    /// Writes the five fields into the first 16 bytes of `out` (nothing when `out` is shorter).
    pub fn write(&self, out: &mut [u8]) {
        if let Some(b) = out.first_chunk_mut::<HEADER_LEN>() {
            b[0..4].copy_from_slice(&self.len.to_ne_bytes());
            b[4..6].copy_from_slice(&self.kind.to_ne_bytes());
            b[6..8].copy_from_slice(&self.flags.to_ne_bytes());
            b[8..12].copy_from_slice(&self.seq.to_ne_bytes());
            b[12..16].copy_from_slice(&self.pid.to_ne_bytes());
        }
    }
}

/// One attribute's place in a decoded message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slot<'a> {
    /// The attribute's offset in the message.
    pub offset: usize,
    /// Its payload (for strings and NUL lists: without the final NUL).
    pub payload: &'a [u8],
}

/// `n` rounded up to a multiple of 4 (netlink's `NLA_ALIGN`).
pub(crate) const fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// An attribute header's two fields: `nla_len` (4 + the payload, without padding) and the number.
pub(crate) fn attr_header(at: &[u8]) -> Option<(u16, u16)> {
    let &[l0, l1, t0, t1] = at.first_chunk::<ATTR_HEADER_LEN>()?;
    Some((u16::from_ne_bytes([l0, l1]), u16::from_ne_bytes([t0, t1])))
}

/// A 4-byte host-order value (0 when `payload` is shorter).
pub(crate) fn read_u32(payload: &[u8]) -> u32 {
    payload
        .first_chunk::<4>()
        .map_or(0, |b| u32::from_ne_bytes(*b))
}

/// Where generated payload text goes: a [`Counter`] (to size it) or a [`Writer`] (to write it). No
/// allocation either way; each payload's canonical writer runs once through each, so the sizes are those
/// of the bytes written.
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
pub(crate) fn decimal_len(v: u64) -> usize {
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
pub(crate) struct Counter(pub(crate) usize);

impl Sink for Counter {
    fn bytes(&mut self, b: &[u8]) {
        self.0 += b.len();
    }

    fn decimal(&mut self, v: u64) {
        self.0 += decimal_len(v);
    }
}

/// Writes a payload into a slice that a [`Counter`] sized over the same calls.
pub(crate) struct Writer<'b> {
    pub(crate) out: &'b mut [u8],
    pub(crate) pos: usize,
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

/// A message of raw attributes `(number, payload)`, each padded to 4 bytes, under a header whose
/// `nlmsg_len` covers them: nothing is checked, so tests, fuzzers and conformance suites can build the
/// messages an encoder refuses (repeated or unknown attributes, clone bits that are not namespaces,
/// payloads that break their grammar). A string payload must carry its own NUL.
pub fn raw_message(attrs: &[(u16, Vec<u8>)]) -> Vec<u8> {
    let mut body = Vec::new();
    for (number, payload) in attrs {
        body.extend_from_slice(&((4 + payload.len()) as u16).to_ne_bytes());
        body.extend_from_slice(&number.to_ne_bytes());
        body.extend_from_slice(payload);
        body.resize(body.len().next_multiple_of(4), 0);
    }
    let mut out = vec![0u8; HEADER_LEN];
    Header {
        len: (HEADER_LEN + body.len()) as u32,
        kind: INIT_MSG,
        flags: NLM_F_REQUEST,
        seq: 0,
        pid: 0,
    }
    .write(&mut out);
    out.extend_from_slice(&body);
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_raw_message_is_what_it_was_given() {
        let m = super::raw_message(&[
            (27281, 0u32.to_ne_bytes().to_vec()),
            (27286, b"5\0".to_vec()),
        ]);
        assert_eq!(m.len(), 16 + 8 + 8);
        assert_eq!(u32::from_ne_bytes(m[0..4].try_into().unwrap()), 32);
        assert_eq!(&m[24..26], &6u16.to_ne_bytes());
        assert_eq!(&m[28..32], b"5\0\0\0");
        let v =
            crate::MessageView::decode(&m, crate::Dialect::Runc12, crate::Mode::Strict).unwrap();
        assert_eq!(v.oom_score_adj(), Some(5));
    }

    use super::*;

    #[test]
    fn header_round_trips() {
        let h = Header {
            len: 0x0102_0304,
            kind: INIT_MSG,
            flags: NLM_F_REQUEST,
            seq: 7,
            pid: 9,
        };
        let mut b = [0u8; 16];
        h.write(&mut b);
        assert_eq!(&b[4..6], &INIT_MSG.to_ne_bytes());
        assert_eq!(Header::read(&b), Some(h));
        assert_eq!(Header::read(&b[..15]), None);
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
    fn numbers_keep_bit_0x4000_and_never_set_0x8000() {
        use number::*;
        for n in [
            CLONE_FLAGS,
            NS_PATHS,
            UID_MAP,
            GID_MAP,
            SETGROUPS,
            OOM_SCORE_ADJ,
            ROOTLESS_EUID,
            NEWUIDMAP_PATH,
            NEWGIDMAP_PATH,
            MOUNT_SOURCES_OR_TIME_OFFSETS,
            CONSOLE_PATH,
        ] {
            assert_eq!(n & 0xC000, 0x4000, "{n}");
        }
    }
}
