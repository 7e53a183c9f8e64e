//! A model of runc's C parser *as spec section 20 describes it*: the spec's framing, plus each listed
//! departure (R1, R2, R3, R4, R5, R6, R8, R9), and nothing else.
//!
//! For one input it predicts what `nsb_their_parse` returns (the same [`TheirResult`] fields), or that it
//! faults (a hang, a read past the buffer, an allocation over the fuzzer's limit), and it records every
//! departure it used on the way as an [`Event`]. The differential harness then holds runc against the
//! model: where they differ, runc does something section 20 does not say (a **new** finding); where they
//! agree, every difference between runc and our decoders is explained by the events (a **known** one).
//!
//! Written from the spec text with plain integer reads, independent of the codec. The consumer part
//! (which fields the later stages read as C strings, which by length) follows the glue's contract in
//! `fuzz/differential/nsb_their.h`.

use super::ffi::{TheirResult, TheirText};

/// Bytes of a length-delimited text the consumer model reads at most (the glue's `NSB_TOUCH_LIMIT`).
pub const TOUCH_LIMIT: u64 = 1 << 20;
/// Payload sizes from this one up are an allocation failure under the fuzzer (`-malloc_limit_mb=1024`:
/// libFuzzer reports a `malloc` whose size in MiB, rounded down, is at least the limit).
pub const ALLOC_LIMIT: u64 = 1 << 30;

/// The header type.
pub const INIT_MSG: u16 = 62000;
/// NLMSG_ERROR.
pub const NLMSG_ERROR: u16 = 2;

/// Which runc generation's attribute table and 27290 consumer to model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Generation {
    /// v1.0.0-rc93 .. v1.0.x: no 27290.
    Runc10,
    /// v1.1.x: 27290 = mount sources, a NUL-separated list walked with `strlen`.
    Runc11,
    /// v1.2.0 and later: 27290 = time offsets, written with their length.
    Runc12,
}

/// How the parser faults.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// It never returns (libFuzzer `-timeout`).
    Hang,
    /// It reads outside its buffer (AddressSanitizer).
    OutOfBounds,
    /// It asks for more memory than the fuzzer allows (libFuzzer `-malloc_limit_mb`, under a sanitizer).
    Alloc,
}

impl FaultKind {
    /// A short name for reports.
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::Hang => "hang",
            FaultKind::OutOfBounds => "out-of-bounds read",
            FaultKind::Alloc => "huge allocation",
        }
    }
}

/// One departure the model took, at a message offset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// The departure's id in spec section 20 (`"R3"`).
    pub id: &'static str,
    /// Message offset (header included) of the attribute, 0 for the header.
    pub offset: usize,
    /// What happened.
    pub what: String,
}

/// The prediction.
#[derive(Clone, Debug)]
pub enum Predicted {
    /// The parser gives up (bail).
    Refuse(&'static str),
    /// The parser returns these fields (status, clone flags, bools, texts; `message` unused).
    Accept(Box<TheirResult>),
    /// The parser faults.
    Fault {
        /// Departure id.
        id: &'static str,
        /// How.
        kind: FaultKind,
        /// Message offset of the attribute (0: header).
        offset: usize,
        /// What happens.
        what: String,
    },
}

/// The model's verdict on one input.
#[derive(Clone, Debug)]
pub struct Model {
    /// What the parser does.
    pub predicted: Predicted,
    /// The departures used on the way (in walk order).
    pub events: Vec<Event>,
}

impl Model {
    /// Whether an event with this id was recorded.
    pub fn has(&self, id: &str) -> bool {
        self.events.iter().any(|e| e.id == id)
    }
}

fn u16_at(b: &[u8], o: usize) -> u16 {
    u16::from_ne_bytes([b[o], b[o + 1]])
}

fn u32_at(b: &[u8], o: usize) -> u32 {
    u32::from_ne_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]])
}

#[derive(Clone, Copy)]
enum Kind {
    U32,
    Bool,
    /// Used as a C string by the later stages.
    CString,
    /// Used with its recorded length.
    LenText,
    /// runc 1.1's mount sources.
    List,
}

/// Field slots in the order the glue touches them.
const NS_PATHS: usize = 0;
const UID_MAP: usize = 1;
const GID_MAP: usize = 2;
const OOM: usize = 3;
const UIDMAP_PATH: usize = 4;
const GIDMAP_PATH: usize = 5;
const A27290: usize = 6;

fn attr(number: u16, generation: Generation) -> Option<(Kind, usize)> {
    Some(match number {
        27281 => (Kind::U32, usize::MAX),
        27282 => (Kind::CString, NS_PATHS),
        27283 => (Kind::LenText, UID_MAP),
        27284 => (Kind::LenText, GID_MAP),
        27285 => (Kind::Bool, 0),
        27286 => (Kind::LenText, OOM),
        27287 => (Kind::Bool, 1),
        27288 => (Kind::CString, UIDMAP_PATH),
        27289 => (Kind::CString, GIDMAP_PATH),
        27290 => match generation {
            Generation::Runc10 => return None,
            Generation::Runc11 => (Kind::List, A27290),
            Generation::Runc12 => (Kind::LenText, A27290),
        },
        _ => return None,
    })
}

/// A text field as the walk left it.
#[derive(Clone, Copy)]
struct Text {
    /// Attribute offset in the message.
    attr_offset: usize,
    nla_len: u16,
    /// Payload offset from the payload start.
    p: u64,
    len: u64,
    kind: Kind,
}

/// Predicts what runc's parser (of `generation`), with the glue's consumer model, does with `bytes`.
/// `sanitized`: whether reads past the buffer and huge allocations are caught (ASan build).
pub fn predict(bytes: &[u8], generation: Generation, sanitized: bool) -> Model {
    let mut events = Vec::new();
    let refuse = |why, events| Model {
        predicted: Predicted::Refuse(why),
        events,
    };
    let fault = |id, kind, offset, what: String, events| Model {
        predicted: Predicted::Fault {
            id,
            kind,
            offset,
            what,
        },
        events,
    };

    // The header: one read of 16 bytes (a memfd returns them all when they are there).
    if bytes.len() < 16 {
        return refuse("short header read", events);
    }
    let kind = u16_at(bytes, 4);
    if kind == NLMSG_ERROR {
        return refuse("NLMSG_ERROR", events);
    }
    if kind != INIT_MSG {
        return refuse("unexpected message type", events);
    }
    // R8: the payload size is nlmsg_len - 16 in 32-bit unsigned arithmetic, trusted.
    let nlmsg_len = u32_at(bytes, 0);
    let size = u64::from(nlmsg_len.wrapping_sub(16));
    if nlmsg_len < 16 {
        events.push(Event {
            id: "R8",
            offset: 0,
            what: format!("nlmsg_len {nlmsg_len} < 16: payload size wraps to {size}"),
        });
    }
    if size >= ALLOC_LIMIT && sanitized {
        return fault(
            "R8",
            FaultKind::Alloc,
            0,
            format!(
                "nlmsg_len {nlmsg_len}: malloc({size}) for the payload, trusted from the header"
            ),
            events,
        );
    }
    let available = (bytes.len() - 16) as u64;
    if size > available {
        return refuse("short payload read", events);
    }
    let data = &bytes[16..16 + size as usize];

    let mut out = TheirResult::default();
    let mut texts: [Option<Text>; 7] = [None; 7];
    let mut seen_types: Vec<u16> = Vec::new();
    // Offsets below are payload offsets; events carry message offsets (+16).
    let mut cur: u64 = 0;
    while cur < size {
        let at = cur as usize + 16;
        // R3: the header is read wherever it starts.
        if cur + 4 > size {
            return fault(
                "R3",
                FaultKind::OutOfBounds,
                at,
                format!(
                    "attribute header at offset {at} starts {} byte(s) before the end of the message",
                    size - cur
                ),
                events,
            );
        }
        let c = cur as usize;
        let nla_len = u16_at(data, c);
        let nla_type = u16_at(data, c + 2);
        let payload_len = u64::from(nla_len).wrapping_sub(4);
        let p = cur + 4;
        let Some((k, slot)) = attr(nla_type, generation) else {
            return refuse("unknown attribute type", events);
        };
        if seen_types.contains(&nla_type) {
            events.push(Event {
                id: "R9",
                offset: at,
                what: format!("attribute {nla_type} repeated: the last one wins"),
            });
        } else {
            seen_types.push(nla_type);
        }
        let past_end = nla_len >= 4 && cur + u64::from(nla_len) > size;
        if past_end {
            events.push(Event {
                id: "R3",
                offset: at,
                what: format!(
                    "attribute {nla_type} with nla_len {nla_len} runs {} byte(s) past the message",
                    cur + u64::from(nla_len) - size
                ),
            });
        }
        if nla_len < 4 && nla_len > 0 {
            events.push(Event {
                id: "R2",
                offset: at,
                what: format!(
                    "nla_len {nla_len}: the payload length underflows, the walk advances by 4"
                ),
            });
        }
        match k {
            Kind::U32 | Kind::Bool => {
                let width: u64 = if matches!(k, Kind::U32) { 4 } else { 1 };
                if p + width > size {
                    let id = if past_end { "R3" } else { "R5" };
                    return fault(
                        id,
                        FaultKind::OutOfBounds,
                        at,
                        format!(
                            "attribute {nla_type} (nla_len {nla_len}) read as {width} byte(s) at offset {}, past the message",
                            p + 16
                        ),
                        events,
                    );
                }
                let declared = u64::from(nla_len).saturating_sub(4);
                let ok_len = if matches!(k, Kind::U32) {
                    declared == 4
                } else {
                    declared == 4 || declared == 1
                };
                if !ok_len {
                    events.push(Event {
                        id: "R5",
                        offset: at,
                        what: format!(
                            "attribute {nla_type}: a {declared}-byte payload read as {width} byte(s)"
                        ),
                    });
                }
                let pu = p as usize;
                if matches!(k, Kind::U32) {
                    out.clone_flags = u32_at(data, pu);
                } else {
                    let b = data[pu];
                    if declared == 4 && !past_end {
                        let v = u32_at(data, pu);
                        if (v != 0) != (b != 0) {
                            events.push(Event {
                                id: "R6",
                                offset: at,
                                what: format!(
                                    "bool {nla_type} = 0x{v:08x} read as its first byte {b}"
                                ),
                            });
                        }
                    }
                    if slot == 0 {
                        out.setgroups = b;
                    } else {
                        out.rootless_euid = b;
                    }
                }
            }
            _ => {
                texts[slot] = Some(Text {
                    attr_offset: at,
                    nla_len,
                    p,
                    len: payload_len,
                    kind: k,
                });
                // R4 (as recorded; whether it reads past the buffer is decided by the consumer below): a
                // text whose declared payload does not end in a NUL.
                if nla_len >= 4 && !past_end {
                    let payload = &data[p as usize..(p + payload_len) as usize];
                    if payload.last() != Some(&0) {
                        events.push(Event {
                            id: "R4",
                            offset: at,
                            what: format!("string {nla_type} without its NUL"),
                        });
                    }
                }
            }
        }
        // The advance: 4 + NLA_ALIGN(nla_len - 4), in size_t.
        let advance = 4u64.wrapping_add(payload_len.wrapping_add(3) & !3);
        if advance == 0 {
            return fault(
                "R1",
                FaultKind::Hang,
                at,
                format!(
                    "attribute {nla_type} with nla_len 0: the walk advances by 0 and never ends"
                ),
                events,
            );
        }
        cur = cur.wrapping_add(advance);
    }

    // The consumers, in the glue's order.
    let nul_from = |q: u64| -> Option<u64> {
        if q >= size {
            return None;
        }
        data[q as usize..]
            .iter()
            .position(|&b| b == 0)
            .map(|n| n as u64)
    };
    let fields: [&mut TheirText; 7] = [
        &mut out.ns_paths,
        &mut out.uid_map,
        &mut out.gid_map,
        &mut out.oom_score_adj,
        &mut out.uidmap_path,
        &mut out.gidmap_path,
        &mut out.attr27290,
    ];
    let mut pending_fault = None;
    for (slot, field) in fields.into_iter().enumerate() {
        let Some(t) = texts[slot] else { continue };
        field.present = 1;
        field.offset = t.p as i64;
        field.len = t.len;
        let id_for_missing_nul = if t.nla_len < 4 {
            "R2"
        } else if t.p + t.len > size {
            "R3"
        } else {
            "R4"
        };
        let mut miss = |what: String| {
            if pending_fault.is_none() {
                pending_fault = Some((id_for_missing_nul, t.attr_offset, what));
            }
        };
        match t.kind {
            Kind::CString | Kind::List => {
                match nul_from(t.p) {
                    Some(n) => {
                        field.c_len = if matches!(t.kind, Kind::List) {
                            -1
                        } else {
                            n as i64
                        };
                        if matches!(t.kind, Kind::CString) && n > t.len.min(size) && t.nla_len >= 4
                        {
                            // strlen ran past the payload into the next attribute.
                            events.push(Event {
                                id: "R4",
                                offset: t.attr_offset,
                                what: format!(
                                    "string at {} read by strlen past its payload ({n} > {} bytes)",
                                    t.attr_offset, t.len
                                ),
                            });
                        }
                    }
                    None => {
                        miss(format!(
                            "string at offset {} has no NUL before the end of the message: strlen reads past it",
                            t.attr_offset
                        ));
                        continue;
                    }
                }
                if matches!(t.kind, Kind::List) && t.len <= TOUCH_LIMIT {
                    let end = t.p + t.len;
                    let mut q = t.p;
                    while q < end {
                        match nul_from(q) {
                            Some(n) => q += n + 1,
                            None => {
                                miss(format!(
                                    "mount-source list at offset {} walked with strlen past the message",
                                    t.attr_offset
                                ));
                                break;
                            }
                        }
                    }
                }
            }
            Kind::LenText => {
                field.c_len = -1;
                if t.len <= TOUCH_LIMIT && t.p + t.len > size {
                    miss(format!(
                        "text at offset {} used with its length {}, past the message",
                        t.attr_offset, t.len
                    ));
                }
            }
            Kind::U32 | Kind::Bool => unreachable!(),
        }
    }
    if let Some((id, offset, what)) = pending_fault {
        return fault(id, FaultKind::OutOfBounds, offset, what, events);
    }
    out.status = 0;
    Model {
        predicted: Predicted::Accept(Box::new(out)),
        events,
    }
}
