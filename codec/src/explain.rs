//! An annotated dump of a message: every header field and attribute with its offset, length, type name and
//! value, and, where the message is malformed, the exact offset and why. It never panics on any input.

use crate::attribute::{Attribute, PayloadType};
use crate::dialect::Dialect;
use crate::error::{DecodeError as Error, Snippet};
use crate::message::MessageView;
use crate::text::Mode;
use crate::walk::{Attrs, RawAttr};
use crate::wire::{Header, HEADER_LEN, INIT_MSG};
use core::fmt::Write;

const ROW: usize = 8;

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        let _ = write!(s, "{b:02x}");
    }
    s
}

fn row(out: &mut String, offset: usize, bytes: &[u8], note: &str) {
    let _ = writeln!(out, "{offset:04}  {:<24}  {note}", hex(bytes));
}

fn rows(out: &mut String, offset: usize, bytes: &[u8], first_note: &str) {
    if bytes.is_empty() {
        let _ = writeln!(out, "{offset:04}  {:<24}  {first_note}", "");
        return;
    }
    for (i, chunk) in bytes.chunks(ROW).enumerate() {
        row(
            out,
            offset + i * ROW,
            chunk,
            if i == 0 { first_note } else { "" },
        );
    }
}

fn u16_at(b: &[u8], o: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(b.get(o..o + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], o: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(o..o + 4)?.try_into().ok()?))
}

fn describe_value(attr: Attribute, payload: &[u8]) -> String {
    match attr.payload_type() {
        PayloadType::U32 | PayloadType::Bool if payload.len() == 4 => {
            let v = u32_at(payload, 0).unwrap_or(0);
            if attr == Attribute::CloneFlags {
                format!("value {v:#010x} ({})", crate::namespace::CloneFlags(v))
            } else {
                format!("value {v}")
            }
        }
        PayloadType::U32 | PayloadType::Bool => format!("value ({} bytes)", payload.len()),
        PayloadType::String | PayloadType::NulList => match payload.split_last() {
            Some((0, text)) => format!("text {} + NUL", Snippet::new(text)),
            _ => format!("text {} (no final NUL)", Snippet::new(payload)),
        },
    }
}

/// The annotated dump of `bytes` read in `dialect` with `mode`, and the decoding error if there is one.
pub fn explain(bytes: &[u8], dialect: Dialect, mode: Mode) -> (String, Option<Error>) {
    let error = MessageView::decode(bytes, dialect, mode).err();
    let stop = error.map_or(usize::MAX, |e| e.offset());
    let mut out = String::new();
    let _ = writeln!(
        out,
        "dialect {dialect}, {} bytes, {mode:?} mode",
        bytes.len()
    );
    let _ = writeln!(out, "offset bytes                     field");
    let fields: [(&str, usize, usize); 5] = [
        ("nlmsg_len", 0, 4),
        ("nlmsg_type", 4, 2),
        ("nlmsg_flags", 6, 2),
        ("nlmsg_seq", 8, 4),
        ("nlmsg_pid", 12, 4),
    ];
    for (name, o, n) in fields {
        let Some(field) = bytes.get(o..o + n) else {
            break;
        };
        let value = if n == 2 {
            u64::from(u16_at(bytes, o).unwrap_or(0))
        } else {
            u64::from(u32_at(bytes, o).unwrap_or(0))
        };
        let extra = match name {
            "nlmsg_type" if value == u64::from(INIT_MSG) => " (the bootstrap message)",
            "nlmsg_flags" if value == 1 => " (NLM_F_REQUEST)",
            _ => "",
        };
        row(&mut out, o, field, &format!("{name} {value}{extra}"));
    }
    // The message as far as it goes: nlmsg_len bytes, or what there is.
    let end = Header::read(bytes)
        .map_or(0, |h| (h.len as usize).min(bytes.len()))
        .max(HEADER_LEN.min(bytes.len()));
    for a in Attrs::new(&bytes[..end]) {
        let (o, ok) = match a {
            Ok(a) => (a.offset, Some(a)),
            Err(e) => (e.offset(), None),
        };
        if o > stop || o + 4 > end {
            break;
        }
        let (nla_len, number) = match (u16_at(bytes, o), u16_at(bytes, o + 2)) {
            (Some(l), Some(n)) => (l, n),
            _ => break,
        };
        let name = Attribute::describe_number(number);
        row(
            &mut out,
            o,
            &bytes[o..o + 4],
            &format!("attribute {name} ({number}), nla_len {nla_len}"),
        );
        // A structural error (A1 to A3) ends the walk after the attribute's header.
        let Some(RawAttr {
            payload, padding, ..
        }) = ok
        else {
            break;
        };
        let note = match Attribute::lookup(number, dialect) {
            Ok(attr) => format!("  {}", describe_value(attr, payload)),
            Err(_) => format!("  payload ({} bytes)", payload.len()),
        };
        rows(&mut out, o + 4, payload, &note);
        if !padding.is_empty() {
            let at = o + 4 + payload.len();
            row(&mut out, at, padding, "  padding");
        }
    }
    if let Some(e) = &error {
        let _ = writeln!(out, "error at offset {}: {e}", e.offset());
    } else {
        let _ = writeln!(out, "valid ({mode:?})");
    }
    (out, error)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::namespace::NamespaceKind;
    use crate::BootstrapPlan;

    #[test]
    fn names_fields_and_the_error_offset() {
        let plan = BootstrapPlan::builder()
            .create(NamespaceKind::User)
            .map_user(0, 1000, 1)
            .build();
        let mut b = plan.to_bytes(Dialect::Runc12).unwrap();
        let (text, err) = explain(&b, Dialect::Runc12, Mode::Strict);
        assert!(err.is_none());
        assert!(text.contains("clone_flags (27281), nla_len 8"), "{text}");
        assert!(text.contains("\"0 1000 1\\n\""), "{text}");
        b[24..26].copy_from_slice(&200u16.to_ne_bytes());
        let (text, err) = explain(&b, Dialect::Runc12, Mode::Strict);
        assert_eq!(err.unwrap().class(), "attr-past-end");
        assert!(text.contains("error at offset 24: attr-past-end"), "{text}");
    }

    #[test]
    fn survives_every_prefix() {
        let plan = BootstrapPlan::builder()
            .create(NamespaceKind::Net)
            .oom_score_adj(3)
            .build();
        let b = plan.to_bytes(Dialect::Runc12).unwrap();
        for i in 0..b.len() {
            let (_, err) = explain(&b[..i], Dialect::Runc12, Mode::Lenient);
            assert!(err.is_some());
        }
    }
}
