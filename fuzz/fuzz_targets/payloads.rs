//! `payloads`: the payload sub-grammars (namespace paths, id maps, oom_score_adj, time offsets, mount
//! sources, paths) on arbitrary text. They are crate-private, so each text travels in a minimal message.
//!
//! Input: byte 0 picks the attribute (`b % 8` of its low 7 bits: 0 namespace paths, 1 uid map, 2 gid map,
//! 3 oom_score_adj, 4 time offsets, 5 mount sources, 6 console path, 7 newuidmap path) and the dialect
//! (`Dialect::ALL[(b & 0x7f) / 8 % 5]`; when the attribute is not in that dialect: runc-1.1 for mount
//! sources, runc-1.2 for time offsets, nsbootstrap-1 for the console path). The rest is the attribute's
//! text. With bit 0x80 of byte 0 set, the text is first lengthened by 4000 copies of its first byte in front,
//! so that texts around the 4095-byte path limit fit in libFuzzer's `-max_len=4096`.
//!
//! The message: header (type 62000, flags 1, seq 1, pid 0), clone flags 0, then the attribute with payload
//! `text + NUL` (for mount sources the text is the NUL-separated list without the string's own final NUL),
//! `nla_len` unpadded, zero padding. The message is in canonical form apart from its text.
//!
//! Properties checked:
//! 1. Strict and lenient decoding do not panic.
//! 2. Strict-ok implies lenient-ok with the same plan.
//! 3. Strict-ok: the plan re-encodes, the encoding decodes to the same plan, and since the text is the only
//!    free part and the strict grammar admits only canonical texts, the encoding is the message itself.
//! 4. Lenient-ok: when its plan encodes at all, the encoding decodes (strictly and leniently) to the same plan.
//! 5. Nothing is dropped silently: when decoding succeeds, the view's slot holds exactly the text, and the
//!    typed accessor yields one item per entry of the text (strict: one range/offset per LF, one namespace
//!    path per ','-separated entry, one mount source per NUL; lenient: one per non-empty line or non-empty
//!    entry), oom_score_adj prints back as the strict text, and a path is the text itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nsbootstrap_codec::wire::number;
use nsbootstrap_codec::{Attribute, BootstrapPlan, Dialect, MessageView, Mode};
use nsbootstrap_fuzz::{
    build_message, check_error, lenient_roundtrip, strict_roundtrip, CLONE_FLAGS,
};
use std::os::unix::ffi::OsStrExt;

fn pick(selector: u8) -> (Attribute, Dialect) {
    const ATTRS: [Attribute; 8] = [
        Attribute::NamespacePaths,
        Attribute::UidMap,
        Attribute::GidMap,
        Attribute::OomScoreAdj,
        Attribute::TimeOffsets,
        Attribute::MountSources,
        Attribute::ConsolePath,
        Attribute::NewuidmapPath,
    ];
    let selector = selector & 0x7f;
    let attr = ATTRS[usize::from(selector % 8)];
    let dialect = Dialect::ALL[usize::from(selector / 8) % Dialect::ALL.len()];
    let dialect = if attr.in_dialect(dialect) {
        dialect
    } else {
        match attr {
            Attribute::MountSources => Dialect::Runc11,
            Attribute::TimeOffsets => Dialect::Runc12,
            _ => Dialect::Nsbootstrap1,
        }
    };
    debug_assert!(attr.in_dialect(dialect));
    (attr, dialect)
}

/// How many items the typed accessor must yield for `text` (property 5).
fn expected_items(attr: Attribute, text: &[u8], mode: Mode) -> usize {
    let lines = |t: &[u8]| match mode {
        Mode::Strict => t.iter().filter(|&&b| b == b'\n').count(),
        Mode::Lenient => t.split(|&b| b == b'\n').filter(|l| !l.is_empty()).count(),
    };
    match attr {
        Attribute::NamespacePaths => match mode {
            Mode::Strict => text.split(|&b| b == b',').count(),
            Mode::Lenient => text.split(|&b| b == b',').filter(|e| !e.is_empty()).count(),
        },
        Attribute::UidMap | Attribute::GidMap | Attribute::TimeOffsets => lines(text),
        Attribute::MountSources => text.iter().filter(|&&b| b == 0).count(),
        _ => 1,
    }
}

fn check_view(view: &MessageView<'_>, attr: Attribute, text: &[u8], mode: Mode) {
    let slot = view.slot(attr).expect("the attribute is in the view");
    assert_eq!(slot.payload, text, "the slot does not hold the text");
    let items = match attr {
        Attribute::NamespacePaths => view.namespace_paths().unwrap().iter().count(),
        Attribute::UidMap => view.uid_map().unwrap().ranges().count(),
        Attribute::GidMap => view.gid_map().unwrap().ranges().count(),
        Attribute::TimeOffsets => view.time_offsets().unwrap().iter().count(),
        Attribute::MountSources => view.mount_sources().unwrap().iter().count(),
        Attribute::OomScoreAdj => {
            let v = view.oom_score_adj().expect("oom_score_adj present");
            assert!((-1000..=1000).contains(&v));
            if mode == Mode::Strict {
                assert_eq!(
                    v.to_string().as_bytes(),
                    text,
                    "strict oom text is not canonical"
                );
            }
            1
        }
        Attribute::ConsolePath => {
            assert_eq!(view.console_path().unwrap().as_os_str().as_bytes(), text);
            1
        }
        Attribute::NewuidmapPath => {
            assert_eq!(view.newuidmap_path().unwrap().as_os_str().as_bytes(), text);
            1
        }
        _ => unreachable!(),
    };
    assert_eq!(
        items,
        expected_items(attr, text, mode),
        "{mode:?}: the accessor of {attr} yields {items} items for {:?}",
        String::from_utf8_lossy(text)
    );
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, text)) = data.split_first() else {
        return;
    };
    let (attr, dialect) = pick(selector);
    let long;
    let text = match (selector & 0x80, text.first()) {
        (0, _) | (_, None) => text,
        (_, Some(&first)) => {
            long = [vec![first; 4000], text.to_vec()].concat();
            &long[..]
        }
    };
    debug_assert!(matches!(
        attr.number(),
        number::NS_PATHS..=number::CONSOLE_PATH
    ));
    let mut payload = text.to_vec();
    payload.push(0);
    let Some(msg) = build_message(&[
        (CLONE_FLAGS, &0u32.to_ne_bytes()),
        (attr.number(), &payload),
    ]) else {
        return; // text too long for one attribute
    };

    let strict = MessageView::decode(&msg, dialect, Mode::Strict);
    let lenient = MessageView::decode(&msg, dialect, Mode::Lenient);
    let lenient_plan = match &lenient {
        Ok(view) => {
            check_view(view, attr, text, Mode::Lenient);
            Some(lenient_roundtrip(view, dialect))
        }
        Err(e) => {
            check_error(e, msg.len());
            None
        }
    };
    match &strict {
        Ok(view) => {
            check_view(view, attr, text, Mode::Strict);
            let plan = strict_roundtrip(&msg, view, dialect);
            assert_eq!(
                plan.to_bytes_inconsistent(dialect).as_deref(),
                Ok(&msg[..]),
                "strict accepted a text whose canonical encoding differs"
            );
            let lenient_plan = lenient_plan.unwrap_or_else(|| {
                panic!(
                    "strict accepts, lenient refuses with {:?}",
                    lenient.as_ref().unwrap_err()
                )
            });
            assert_eq!(plan, lenient_plan, "strict and lenient plans differ");
            assert_eq!(BootstrapPlan::from_view(view), plan);
        }
        Err(e) => check_error(e, msg.len()),
    }
});
