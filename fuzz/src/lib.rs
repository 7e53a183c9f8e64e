//! Helpers shared by the fuzz targets in `fuzz_targets/`. The properties themselves are stated in each
//! target's doc comment; the helpers here only build inputs, walk bytes and assert what every target needs.
//!
//! Everything here reads the wire format on its own (plain `u32`/`u16` reads in native byte order), so that
//! it can serve as an oracle for the codec rather than a copy of it.

use nsbootstrap_codec::{BootstrapPlan, DecodeError as Error, Dialect, MessageView, Mode};

/// Length of the netlink header.
pub const HEADER: usize = 16;
/// The header type of the bootstrap message.
pub const INIT_MSG: u16 = 62000;
/// Clone-flags attribute number.
pub const CLONE_FLAGS: u16 = 27281;

/// The dialect a selector byte picks: `Dialect::ALL[b % 5]`. The seed corpus writes 0..=4, in the order of
/// `Dialect::ALL`: runc-rc93, runc-1.0, runc-1.1, runc-1.2, nsbootstrap-1.
pub fn dialect_from_byte(b: u8) -> Dialect {
    Dialect::ALL[usize::from(b) % Dialect::ALL.len()]
}

/// A `u32` at `o` in native byte order, if the bytes are there.
pub fn u32_at(b: &[u8], o: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(
        b.get(o..o.checked_add(4)?)?.try_into().ok()?,
    ))
}

/// A `u16` at `o` in native byte order, if the bytes are there.
pub fn u16_at(b: &[u8], o: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(
        b.get(o..o.checked_add(2)?)?.try_into().ok()?,
    ))
}

/// `n` rounded up to a multiple of 4.
pub fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// What every decoding error must satisfy: it has a class, it can be displayed, and the offset it names (if
/// lies within the input (an offset equal to the length is allowed: "at the end").
pub fn check_error(e: &Error, input_len: usize) {
    assert!(!e.class().is_empty(), "error without a class: {e:?}");
    let _ = e.to_string();
    let o = e.offset();
    assert!(
        o <= input_len,
        "error offset {o} lies past the input ({input_len} bytes): {e:?}"
    );
}

/// Whether the attributes of a strictly decoded view were on the wire in canonical order. Strict decoding
/// refuses repeats, so `view.attributes()` lists every attribute on the wire; their offsets rise exactly
/// when the wire order is the canonical one.
pub fn in_canonical_order(view: &MessageView<'_>) -> bool {
    let offsets: Vec<usize> = view.attributes().map(|(_, s)| s.offset).collect();
    offsets.windows(2).all(|w| w[0] < w[1])
}

/// The strict-decoding properties, for an input `input` that `MessageView::decode(input, dialect, Strict)`
/// accepted as `view`:
///
/// * the plan re-encodes (`to_bytes_inconsistent`: a decoded plan may break spec section 8) and the encoding
///   decodes strictly to the same plan; `to_bytes` and `encoded_len` agree when the plan keeps section 8,
///   and refuse it with the rule's class when it does not;
/// * the encoding is a fixpoint: encoding the re-decoded plan gives the same bytes;
/// * when the input's attributes were in canonical order, the encoding is the input itself, byte for byte
///   (the strict grammar admits only canonical texts, so wire order is the only freedom left);
/// * `BootstrapPlan::decode` (the shorthand) agrees with `from_view`.
///
/// Returns the plan.
pub fn strict_roundtrip(input: &[u8], view: &MessageView<'_>, dialect: Dialect) -> BootstrapPlan {
    let plan = BootstrapPlan::from_view(view);
    assert_eq!(
        BootstrapPlan::decode(input, dialect).as_ref(),
        Ok(&plan),
        "BootstrapPlan::decode disagrees with from_view(MessageView::decode)"
    );
    let bytes = plan.to_bytes_inconsistent(dialect).unwrap_or_else(|e| {
        panic!("strict decoding accepted the input, but its plan does not re-encode in {dialect}: {e}\nplan: {plan:?}")
    });
    match plan.check() {
        Ok(()) => {
            assert_eq!(plan.encoded_len(dialect), Ok(bytes.len()));
            assert_eq!(plan.to_bytes(dialect).as_deref(), Ok(&bytes[..]));
        }
        Err(rule) => assert_eq!(
            plan.to_bytes(dialect).map_err(|e| e.class()),
            Err(rule.class()),
            "an inconsistent plan encoded"
        ),
    }
    let back = BootstrapPlan::decode(&bytes, dialect).unwrap_or_else(|e| {
        panic!("the re-encoding of a strictly decoded plan does not decode strictly in {dialect}: {e}\nplan: {plan:?}\nbytes: {bytes:02x?}")
    });
    assert_eq!(back, plan, "decode(encode(plan)) != plan in {dialect}");
    assert_eq!(
        back.to_bytes_inconsistent(dialect).as_deref(),
        Ok(&bytes[..]),
        "encoding is not a fixpoint"
    );
    if in_canonical_order(view) {
        assert_eq!(
            &bytes[..],
            input,
            "strict input in canonical attribute order, but the canonical encoding of its plan differs"
        );
    }
    plan
}

/// The lenient-decoding properties, for an input that lenient decoding accepted as `view`: when the plan
/// can be encoded at all in `dialect` (a lenient plan may not be, e.g. a relative path), the encoding decodes,
/// strictly and leniently, to the same plan. Returns the plan.
pub fn lenient_roundtrip(view: &MessageView<'_>, dialect: Dialect) -> BootstrapPlan {
    let plan = BootstrapPlan::from_view(view);
    if let Ok(bytes) = plan.to_bytes_inconsistent(dialect) {
        let back = BootstrapPlan::decode(&bytes, dialect).unwrap_or_else(|e| {
            panic!("a lenient plan encoded, but the encoding does not decode strictly in {dialect}: {e}\nplan: {plan:?}\nbytes: {bytes:02x?}")
        });
        assert_eq!(back, plan, "strict decode(encode(lenient plan)) != plan");
        let lenient = MessageView::decode(&bytes, dialect, Mode::Lenient)
            .expect("an encoding that decodes strictly decodes leniently");
        assert_eq!(BootstrapPlan::from_view(&lenient), plan);
    }
    plan
}

/// The header and attribute layout of a message, read with plain integer reads.
#[derive(Debug, PartialEq, Eq)]
pub struct Walked {
    /// `nlmsg_len`.
    pub len: u32,
    /// `nlmsg_type`.
    pub kind: u16,
    /// `nlmsg_flags`.
    pub flags: u16,
    /// `nlmsg_seq`.
    pub seq: u32,
    /// `nlmsg_pid`.
    pub pid: u32,
    /// Each attribute's (offset, type, nla_len), in wire order.
    pub attrs: Vec<(usize, u16, usize)>,
}

/// Walks a message that is supposed to be well-formed (an encoder's output), checking the framing rules as
/// it goes: `nla_len` at least 4, attributes 4-byte aligned, padding zero, the last attribute ending (after
/// padding) exactly at `nlmsg_len`. Panics on any violation.
pub fn walk(bytes: &[u8]) -> Walked {
    let field32 = |o| u32_at(bytes, o).expect("header present");
    let field16 = |o| u16_at(bytes, o).expect("header present");
    let w = Walked {
        len: field32(0),
        kind: field16(4),
        flags: field16(6),
        seq: field32(8),
        pid: field32(12),
        attrs: Vec::new(),
    };
    let end = w.len as usize;
    assert!(
        end <= bytes.len(),
        "nlmsg_len {end} > buffer {}",
        bytes.len()
    );
    assert_eq!(end % 4, 0, "nlmsg_len {end} is not a multiple of 4");
    let mut attrs = Vec::new();
    let mut o = HEADER;
    while o < end {
        assert_eq!(o % 4, 0, "attribute at unaligned offset {o}");
        let nla_len = usize::from(u16_at(bytes, o).expect("attribute header"));
        let kind = u16_at(bytes, o + 2).expect("attribute header");
        assert!(nla_len >= 4, "nla_len {nla_len} at {o}");
        let next = o + align4(nla_len);
        assert!(
            next <= end,
            "attribute at {o} (nla_len {nla_len}) runs past nlmsg_len {end}"
        );
        assert!(
            bytes[o + nla_len..next].iter().all(|&b| b == 0),
            "nonzero padding after the attribute at {o}"
        );
        attrs.push((o, kind, nla_len));
        o = next;
    }
    Walked { attrs, ..w }
}

/// A message with the given attributes (each `(type, payload)`, payload written as is, `nla_len` unpadded,
/// zero padding), header type 62000, flags 1, seq 1, pid 0. `None` when an attribute does not fit a u16.
pub fn build_message(attrs: &[(u16, &[u8])]) -> Option<Vec<u8>> {
    let mut v = vec![0u8; HEADER];
    for (kind, payload) in attrs {
        let nla_len = u16::try_from(4 + payload.len()).ok()?;
        v.extend_from_slice(&nla_len.to_ne_bytes());
        v.extend_from_slice(&kind.to_ne_bytes());
        v.extend_from_slice(payload);
        v.resize(align4(v.len()), 0);
    }
    let len = u32::try_from(v.len()).ok()?;
    v[0..4].copy_from_slice(&len.to_ne_bytes());
    v[4..6].copy_from_slice(&INIT_MSG.to_ne_bytes());
    v[6..8].copy_from_slice(&1u16.to_ne_bytes());
    v[8..12].copy_from_slice(&1u32.to_ne_bytes());
    Some(v)
}

pub mod differential;
