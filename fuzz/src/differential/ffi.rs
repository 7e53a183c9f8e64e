//! The C side: `nsb_their_parse` from `fuzz/differential/nsb_their.h`, compiled by `fuzz/build.rs` when an
//! implementation is named (`--cfg nsb_their`). Without one, [`their_parse`] returns `None`.

/// One text field as the implementation recorded it (mirrors `struct nsb_their_text`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TheirText {
    /// Non-zero when the parser set the field.
    pub present: i32,
    /// Offset of its first byte from the start of the payload (message offset - 16).
    pub offset: i64,
    /// The length the parser recorded (may be absurd: runc keeps `nla_len - 4` computed in `size_t`).
    pub len: u64,
    /// `strlen` as the later stages see it, or -1 when they use `len`.
    pub c_len: i64,
}

/// Everything the implementation decoded (mirrors `struct nsb_their_result`).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct TheirResult {
    /// 0 accepted, 1 refused.
    pub status: i32,
    /// The exit code its refusal path asked for.
    pub exit_code: i32,
    /// Clone flags (0 when absent).
    pub clone_flags: u32,
    /// setgroups as read (0 when absent).
    pub setgroups: u8,
    /// rootless_euid as read (0 when absent).
    pub rootless_euid: u8,
    /// 27282.
    pub ns_paths: TheirText,
    /// 27283.
    pub uid_map: TheirText,
    /// 27284.
    pub gid_map: TheirText,
    /// 27286.
    pub oom_score_adj: TheirText,
    /// 27288.
    pub uidmap_path: TheirText,
    /// 27289.
    pub gidmap_path: TheirText,
    /// 27290 (mount sources in runc 1.1, time offsets in 1.2+).
    pub attr27290: TheirText,
    /// Their own error text, NUL-terminated.
    pub message: [u8; 200],
}

impl Default for TheirResult {
    fn default() -> Self {
        TheirResult {
            status: 0,
            exit_code: 0,
            clone_flags: 0,
            setgroups: 0,
            rootless_euid: 0,
            ns_paths: TheirText::default(),
            uid_map: TheirText::default(),
            gid_map: TheirText::default(),
            oom_score_adj: TheirText::default(),
            uidmap_path: TheirText::default(),
            gidmap_path: TheirText::default(),
            attr27290: TheirText::default(),
            message: [0; 200],
        }
    }
}

impl TheirResult {
    /// Their error text.
    pub fn message(&self) -> String {
        let end = self
            .message
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(self.message.len());
        String::from_utf8_lossy(&self.message[..end])
            .trim_end()
            .to_string()
    }
}

#[cfg(nsb_their)]
mod c {
    use super::TheirResult;
    extern "C" {
        pub fn nsb_their_parse(input: *const u8, len: usize, out: *mut TheirResult) -> i32;
        pub fn nsb_their_name() -> *const std::ffi::c_char;
    }
}

/// Runs the implementation's parser on `input`; `None` when no implementation was compiled in.
#[cfg(nsb_their)]
pub fn their_parse(input: &[u8]) -> Option<TheirResult> {
    let mut out = TheirResult::default();
    // SAFETY: `input` is valid for `input.len()` bytes and `out` is a valid, exclusively borrowed
    // `struct nsb_their_result` (same layout: repr(C), fields in the header's order); the C side writes
    // only into `out` and reads only `input[..len]` before returning.
    unsafe { c::nsb_their_parse(input.as_ptr(), input.len(), &mut out) };
    Some(out)
}

/// Runs the implementation's parser on `input`; `None` when no implementation was compiled in.
#[cfg(not(nsb_their))]
pub fn their_parse(_input: &[u8]) -> Option<TheirResult> {
    None
}

/// The implementation's name, or `None` when none was compiled in.
pub fn their_name() -> Option<String> {
    #[cfg(nsb_their)]
    {
        // SAFETY: nsb_their_name returns a pointer to a static NUL-terminated string.
        let s = unsafe { std::ffi::CStr::from_ptr(c::nsb_their_name()) };
        Some(s.to_string_lossy().into_owned())
    }
    #[cfg(not(nsb_their))]
    None
}

/// Whether the C side was built with AddressSanitizer (reads past a buffer then crash instead of going
/// unnoticed).
pub const ASAN: bool = cfg!(nsb_asan);
