//! Our side of the comparison: the codec's strict and lenient decoders, reduced to the few values the
//! differential harness compares. This is the only file of `differential` that names the codec's API.

use nsbootstrap_codec::{Attribute, Dialect, MessageView, Mode};

/// A text field as our decoder sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OurText {
    /// Offset of the payload's first byte in the message.
    pub payload_offset: usize,
    /// The payload without its final NUL (for a NUL list: without the list's own final NUL).
    pub payload: Vec<u8>,
}

/// What our decoder made of a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ours {
    /// Clone flags (0 when absent, as lenient allows).
    pub clone_flags: u32,
    /// Whether the clone-flags attribute was there.
    pub has_clone_flags: bool,
    /// setgroups, if present.
    pub setgroups: Option<bool>,
    /// rootless_euid, if present.
    pub rootless_euid: Option<bool>,
    /// 27282, 27283, 27284, 27286, 27288, 27289, 27290, in the model's slot order.
    pub texts: [Option<OurText>; 7],
}

/// Our refusal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OurError {
    /// The spec's error class (`attr-past-end`).
    pub class: &'static str,
    /// The offset the spec assigns, if any.
    pub offset: Option<usize>,
    /// The full message.
    pub message: String,
}

/// The texts in the model's slot order (`model.rs`: NS_PATHS .. A27290).
fn text_attrs(dialect: Dialect) -> [Option<Attribute>; 7] {
    [
        Some(Attribute::NamespacePaths),
        Some(Attribute::UidMap),
        Some(Attribute::GidMap),
        Some(Attribute::OomScoreAdj),
        Some(Attribute::NewuidmapPath),
        Some(Attribute::NewgidmapPath),
        Attribute::lookup(27290, dialect).ok(),
    ]
}

/// The bytes of one message of a stream: the input up to `nlmsg_len` when it holds more (the init pipe
/// carries more after the message; runc reads `nlmsg_len` bytes and no further).
pub fn first_message(bytes: &[u8]) -> &[u8] {
    if bytes.len() >= 16 {
        let len = u32::from_ne_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize;
        if len >= 16 && len < bytes.len() {
            return &bytes[..len];
        }
    }
    bytes
}

/// Decodes the first message of `bytes` in `dialect`, strictly or leniently.
pub fn decode(bytes: &[u8], dialect: Dialect, lenient: bool) -> Result<Ours, OurError> {
    let mode = if lenient { Mode::Lenient } else { Mode::Strict };
    let msg = first_message(bytes);
    let view = MessageView::decode(msg, dialect, mode).map_err(|e| OurError {
        class: e.class(),
        offset: Some(e.offset()),
        message: e.to_string(),
    })?;
    let mut texts: [Option<OurText>; 7] = Default::default();
    for (slot, attr) in text_attrs(dialect).into_iter().enumerate() {
        if let Some(s) = attr.and_then(|a| view.slot(a)) {
            texts[slot] = Some(OurText {
                payload_offset: s.offset + 4,
                payload: s.payload.to_vec(),
            });
        }
    }
    Ok(Ours {
        clone_flags: view.clone_flags().bits(),
        has_clone_flags: view.has_clone_flags(),
        setgroups: view.setgroups(),
        rootless_euid: view.rootless_euid(),
        texts,
    })
}

/// Parses a dialect name (`runc-1.1`).
pub fn dialect(name: &str) -> Option<Dialect> {
    name.parse().ok()
}

/// The dialect's name.
pub fn dialect_name(d: Dialect) -> &'static str {
    d.name()
}

/// Which runc generation a dialect corresponds to (for the model).
pub fn generation(d: Dialect) -> super::model::Generation {
    use super::model::Generation;
    match Attribute::lookup(27290, d) {
        Ok(Attribute::MountSources) => Generation::Runc11,
        Ok(_) => Generation::Runc12,
        Err(_) => Generation::Runc10,
    }
}

/// Encodes an arbitrary plan in `dialect` (for the structured target), `None` when it cannot be.
pub fn arbitrary_message(
    u: &mut arbitrary::Unstructured<'_>,
    dialect: Dialect,
) -> arbitrary::Result<Option<Vec<u8>>> {
    let mut plan: nsbootstrap_codec::BootstrapPlan = u.arbitrary()?;
    plan.dialect = Some(dialect);
    Ok(plan.to_bytes(dialect).ok())
}

/// `nsbootstrap explain`'s text for a message, lenient or strict.
pub fn explain(bytes: &[u8], dialect: Dialect, lenient: bool) -> String {
    let mode = if lenient { Mode::Lenient } else { Mode::Strict };
    let (text, err) = nsbootstrap_codec::explain(bytes, dialect, mode);
    match err {
        Some(e) => format!("{text}error: {e} [{}]\n", e.class()),
        None => text,
    }
}
