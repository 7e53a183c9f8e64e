//! Structured inputs for `diff_plan`: an `Arbitrary` plan encoded canonically, then mutated at the
//! header and attribute level, so that deep attribute combinations (every attribute present, repeated,
//! reordered, with a wrong length or type) are reached without waiting for byte mutations to build them.

use arbitrary::{Result, Unstructured};
use std::sync::OnceLock;

struct Attr {
    nla_len: Option<u16>,
    ty: u16,
    payload: Vec<u8>,
    pad: Option<u8>,
}

fn dialect() -> nsbootstrap_codec::Dialect {
    static D: OnceLock<nsbootstrap_codec::Dialect> = OnceLock::new();
    *D.get_or_init(|| {
        let name = std::env::var("NSB_DIFF_DIALECT").unwrap_or_else(|_| "runc-1.1".into());
        super::oracle::dialect(&name).unwrap_or_else(|| {
            eprintln!("NSB_DIFF_DIALECT={name}: not a dialect");
            std::process::exit(2)
        })
    })
}

/// Splits a canonical message into its attributes.
fn split(msg: &[u8]) -> ([u8; 16], Vec<Attr>) {
    let mut header = [0u8; 16];
    header.copy_from_slice(&msg[..16]);
    let mut attrs = Vec::new();
    let mut o = 16;
    while o + 4 <= msg.len() {
        let len = usize::from(u16::from_ne_bytes([msg[o], msg[o + 1]]));
        let ty = u16::from_ne_bytes([msg[o + 2], msg[o + 3]]);
        if len < 4 || o + len > msg.len() {
            break;
        }
        attrs.push(Attr {
            nla_len: None,
            ty,
            payload: msg[o + 4..o + len].to_vec(),
            pad: None,
        });
        o += (len + 3) & !3;
    }
    (header, attrs)
}

const TYPES: [u16; 12] = [
    27281, 27282, 27283, 27284, 27285, 27286, 27287, 27288, 27289, 27290, 27400, 27291,
];

fn mutate_attrs(u: &mut Unstructured<'_>, attrs: &mut Vec<Attr>) -> Result<()> {
    let ops = u.int_in_range(0..=4)?;
    for _ in 0..ops {
        let n = attrs.len();
        let op: u8 = u.int_in_range(0..=9)?;
        if n == 0 && op != 8 {
            continue;
        }
        let i = if n > 0 { u.choose_index(n)? } else { 0 };
        match op {
            0 => {
                let real = 4 + attrs[i].payload.len() as i64;
                let v: i64 = match u.int_in_range(0..=6)? {
                    0 => i64::from(u.int_in_range(0..=8u16)?),
                    1 => real + i64::from(u.int_in_range(1..=8u8)?),
                    2 => real - i64::from(u.int_in_range(1..=8u8)?),
                    3 => 0xffff,
                    4 => real + 4,
                    5 => real - 4,
                    _ => i64::from(u.arbitrary::<u16>()?),
                };
                attrs[i].nla_len = Some(v.clamp(0, 0xffff) as u16);
            }
            1 => {
                attrs[i].ty = if u.ratio(3, 4)? {
                    *u.choose(&TYPES)?
                } else {
                    u.arbitrary()?
                }
            }
            2 => {
                let copy = Attr {
                    nla_len: attrs[i].nla_len,
                    ty: attrs[i].ty,
                    payload: attrs[i].payload.clone(),
                    pad: attrs[i].pad,
                };
                let at = u.int_in_range(0..=n)?;
                attrs.insert(at, copy);
            }
            3 => {
                attrs.remove(i);
            }
            4 => {
                let j = u.choose_index(n)?;
                attrs.swap(i, j);
            }
            5 => {
                let w = *u.choose(&[0usize, 1, 2, 3, 5, 8])?;
                attrs[i].payload.resize(w, 0);
                for b in attrs[i].payload.iter_mut() {
                    *b = u.arbitrary()?;
                }
            }
            6 => {
                attrs[i].payload.pop();
            }
            7 => {
                if !attrs[i].payload.is_empty() {
                    let k = u.choose_index(attrs[i].payload.len())?;
                    attrs[i].payload[k] = if u.arbitrary()? { 0 } else { u.arbitrary()? };
                }
            }
            8 => {
                let ty = if u.ratio(3, 4)? {
                    *u.choose(&TYPES)?
                } else {
                    u.arbitrary()?
                };
                let len = u.int_in_range(0..=16)?;
                let payload = (0..len)
                    .map(|_| u.arbitrary())
                    .collect::<Result<Vec<u8>>>()?;
                let at = u.int_in_range(0..=n)?;
                attrs.insert(
                    at,
                    Attr {
                        nla_len: None,
                        ty,
                        payload,
                        pad: None,
                    },
                );
            }
            _ => attrs[i].pad = Some(u.arbitrary()?),
        }
    }
    Ok(())
}

fn build(u: &mut Unstructured<'_>) -> Result<Option<Vec<u8>>> {
    let Some(msg) = super::oracle::arbitrary_message(u, dialect())? else {
        return Ok(None);
    };
    let (mut header, mut attrs) = split(&msg);
    mutate_attrs(u, &mut attrs)?;
    let mut out = header.to_vec();
    let mut last_pad = 0;
    for a in &attrs {
        let len = a
            .nla_len
            .unwrap_or((4 + a.payload.len()).min(0xffff) as u16);
        out.extend_from_slice(&len.to_ne_bytes());
        out.extend_from_slice(&a.ty.to_ne_bytes());
        out.extend_from_slice(&a.payload);
        last_pad = (4 - a.payload.len() % 4) % 4;
        out.extend(std::iter::repeat_n(a.pad.unwrap_or(0), last_pad));
    }
    let total = out.len() as u32;
    let nlmsg_len: u32 = match u.int_in_range(0..=9)? {
        0 => u.int_in_range(0..=16)?,
        1 => total + u32::from(u.int_in_range(1..=4u8)?),
        2 => total.saturating_sub(u32::from(u.int_in_range(1..=4u8)?)),
        3 => total - last_pad as u32,
        4 => u.arbitrary()?,
        _ => total,
    };
    header[..4].copy_from_slice(&nlmsg_len.to_ne_bytes());
    if u.ratio(1, 16)? {
        let ty: u16 = if u.arbitrary()? { 2 } else { u.arbitrary()? };
        header[4..6].copy_from_slice(&ty.to_ne_bytes());
    }
    out[..16].copy_from_slice(&header);
    match u.int_in_range(0..=9)? {
        0 => {
            let k = u.int_in_range(1..=8)?;
            out.truncate(out.len().saturating_sub(k));
        }
        1 => {
            let k = u.int_in_range(1..=8)?;
            for _ in 0..k {
                out.push(u.arbitrary()?);
            }
        }
        _ => {}
    }
    Ok(Some(out))
}

/// The message `diff_plan` judges for a fuzzer input, or `None` when the input does not make one (an
/// exhausted input, or a plan the dialect cannot encode).
pub fn structured_input(data: &[u8]) -> Option<Vec<u8>> {
    let mut u = Unstructured::new(data);
    build(&mut u).ok().flatten()
}
