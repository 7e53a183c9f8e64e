//! `roundtrip_plan`: structured plans (`impl Arbitrary for BootstrapPlan`, valid for their own
//! `plan.dialect`) through the encoder and back.
//!
//! Properties checked:
//! 1. Identity: `to_bytes(d)` succeeds and `MessageView::decode(bytes, d, Strict)` gives back the plan
//!    (with `plan.dialect` set back on the decoded plan before comparing); lenient decoding gives it too.
//! 2. `encode` into a larger buffer writes exactly `encoded_len(d)` bytes, the same bytes as `to_bytes`,
//!    and nothing past them; into a buffer one byte short it fails with `buffer-too-small`.
//! 3. An independent walk of the bytes (plain native-endian u32/u16 reads: nlmsg_len, type, flags, seq,
//!    pid, then nla_len/nla_type, nla_len unpadded, 4-byte alignment, zero padding) agrees with the encoder:
//!    nlmsg_len equals the total length, type is 62000, flags/seq/pid are the plan's, and the attributes on
//!    the wire are exactly `view.attributes()` (canonical order) with the same offset, number
//!    (`Attribute::number()`) and length (4 + the slot's payload, + 1 for the NUL of text payloads).
//! 4. Every payload is what the spec's canonical form says, written out here independently: clone flags
//!    and bools as native u32, oom_score_adj / id maps / time offsets in decimal text, namespace paths
//!    joined by ',', mount sources NUL-terminated, every text followed by one NUL; and an attribute is on
//!    the wire exactly when the plan sets it (clone flags always).
#![no_main]

use libfuzzer_sys::fuzz_target;
use nsbootstrap_codec::{Attribute, BootstrapPlan, MessageView, Mode};
use nsbootstrap_fuzz::{walk, INIT_MSG};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

/// The canonical payload of `attr` for `plan`, NUL included, built without the codec.
fn expected_payload(plan: &BootstrapPlan, attr: Attribute) -> Vec<u8> {
    let path = |p: &Option<PathBuf>| p.as_ref().unwrap().as_os_str().as_bytes().to_vec();
    let bool32 = |b: Option<bool>| u32::from(b.unwrap()).to_ne_bytes().to_vec();
    let idmap = |m: &Option<Vec<nsbootstrap_codec::IdRange>>| {
        m.as_ref()
            .unwrap()
            .iter()
            .map(|r| format!("{} {} {}\n", r.container_id, r.host_id, r.size))
            .collect::<String>()
            .into_bytes()
    };
    let mut v = match attr {
        Attribute::CloneFlags => return plan.clone_flags.bits().to_ne_bytes().to_vec(),
        Attribute::Setgroups => return bool32(plan.setgroups),
        Attribute::RootlessEuid => return bool32(plan.rootless_euid),
        Attribute::NamespacePaths => {
            let mut v = Vec::new();
            for (i, e) in plan.namespace_paths.iter().enumerate() {
                if i > 0 {
                    v.push(b',');
                }
                v.extend_from_slice(e.kind.name().as_bytes());
                v.push(b':');
                v.extend_from_slice(e.path.as_os_str().as_bytes());
            }
            v
        }
        Attribute::UidMap => idmap(&plan.uid_map),
        Attribute::GidMap => idmap(&plan.gid_map),
        Attribute::OomScoreAdj => plan.oom_score_adj.unwrap().to_string().into_bytes(),
        Attribute::NewuidmapPath => path(&plan.newuidmap_path),
        Attribute::NewgidmapPath => path(&plan.newgidmap_path),
        Attribute::ConsolePath => path(&plan.console_path),
        Attribute::MountSources => {
            let mut v = Vec::new();
            for s in plan.mount_sources.as_ref().unwrap() {
                if let Some(p) = s {
                    v.extend_from_slice(p.as_os_str().as_bytes());
                }
                v.push(0);
            }
            v
        }
        Attribute::TimeOffsets => plan
            .time_offsets
            .as_ref()
            .unwrap()
            .iter()
            .map(|o| format!("{} {} {}\n", o.clock.name(), o.secs, o.nanosecs))
            .collect::<String>()
            .into_bytes(),
    };
    v.push(0);
    v
}

fuzz_target!(|plan: BootstrapPlan| {
    let d = plan.dialect.expect("generated plans name their dialect");

    // 2. encode / encoded_len / to_bytes agree.
    let len = plan
        .encoded_len(d)
        .unwrap_or_else(|e| panic!("a generated plan does not encode in {d}: {e}\n{plan:?}"));
    let bytes = plan.to_bytes(d).expect("encoded_len was Ok");
    assert_eq!(bytes.len(), len);
    let mut buf = vec![0xA5u8; len + 9];
    assert_eq!(plan.encode(d, &mut buf), Ok(len));
    assert_eq!(&buf[..len], &bytes[..], "encode and to_bytes differ");
    assert!(
        buf[len..].iter().all(|&b| b == 0xA5),
        "encode wrote past its length"
    );
    let short = plan.encode(d, &mut buf[..len - 1]).unwrap_err();
    assert_eq!(short.class(), "buffer-too-small");

    // 1. identity, strict and lenient.
    let view = MessageView::decode(&bytes, d, Mode::Strict)
        .unwrap_or_else(|e| panic!("the encoding does not decode strictly in {d}: {e}\n{plan:?}"));
    let mut back = BootstrapPlan::from_view(&view);
    back.dialect = plan.dialect;
    assert_eq!(back, plan, "strict decode(encode(plan)) != plan");
    let lenient = MessageView::decode(&bytes, d, Mode::Lenient).expect("lenient decode");
    let mut back = BootstrapPlan::from_view(&lenient);
    back.dialect = plan.dialect;
    assert_eq!(back, plan, "lenient decode(encode(plan)) != plan");

    // 3. the independent walk agrees with the encoder and the view.
    let w = walk(&bytes);
    assert_eq!(w.len as usize, bytes.len(), "nlmsg_len != total length");
    assert_eq!(w.kind, INIT_MSG);
    assert_eq!(
        (w.flags, w.seq, w.pid),
        (plan.netlink.flags, plan.netlink.seq, plan.netlink.pid)
    );
    let from_view: Vec<(usize, u16, usize)> = view
        .attributes()
        .map(|(a, s)| {
            let nul = match a.payload_type() {
                nsbootstrap_codec::PayloadType::U32 | nsbootstrap_codec::PayloadType::Bool => 0,
                _ => 1,
            };
            (s.offset, a.number(), 4 + s.payload.len() + nul)
        })
        .collect();
    assert_eq!(
        w.attrs, from_view,
        "wire layout (offset, type, nla_len) != view.attributes() in canonical order"
    );

    // 4. payloads and presence.
    let mut present = view.attributes().map(|(a, _)| a);
    for attr in Attribute::CANONICAL_ORDER {
        if !attr.in_dialect(d) {
            assert!(!plan.has(attr), "generated plan sets {attr}, not in {d}");
            continue;
        }
        if !plan.has(attr) {
            continue;
        }
        assert_eq!(present.next(), Some(attr), "{attr} missing on the wire");
        let slot = view.slot(attr).unwrap();
        let (_, _, nla_len) = w
            .attrs
            .iter()
            .find(|x| x.0 == slot.offset)
            .copied()
            .unwrap();
        let wire = &bytes[slot.offset + 4..slot.offset + nla_len];
        assert_eq!(
            wire,
            &expected_payload(&plan, attr)[..],
            "payload of {attr} is not the canonical text"
        );
    }
    assert_eq!(
        present.next(),
        None,
        "an attribute the plan does not set is on the wire"
    );
});
