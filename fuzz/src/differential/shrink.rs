//! A structure-aware minimiser for findings: libFuzzer's `-minimize_crash` erases bytes but leaves
//! `nlmsg_len` and `nla_len` alone, so most smaller inputs it tries are refused for their length before
//! they reach the fault. This one deletes byte ranges and, where the range lies inside the message or
//! inside an attribute's payload, shrinks `nlmsg_len` and that `nla_len` with it; a deletion is kept when
//! the finding is still there.

fn u16_at(b: &[u8], o: usize) -> Option<u16> {
    Some(u16::from_ne_bytes([*b.get(o)?, *b.get(o + 1)?]))
}

fn u32_at(b: &[u8], o: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(o..o + 4)?.try_into().ok()?))
}

/// Attributes as runc's walk frames them: (offset, nla_len), while the walk makes progress.
fn frames(b: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let end = u32_at(b, 0).map_or(0, |l| (l as usize).min(b.len()));
    let mut o = 16;
    while o + 4 <= end && out.len() < 64 {
        let len = usize::from(u16_at(b, o).unwrap_or(0));
        out.push((o, len));
        if len < 4 {
            break;
        }
        o += (len + 3) & !3;
    }
    out
}

/// `bytes` without `[pos, pos + k)`, with `nlmsg_len` and the enclosing `nla_len` adjusted if `fix`.
fn delete(bytes: &[u8], pos: usize, k: usize, fix: bool) -> Vec<u8> {
    let mut v = Vec::with_capacity(bytes.len() - k);
    v.extend_from_slice(&bytes[..pos]);
    v.extend_from_slice(&bytes[pos + k..]);
    if fix && pos >= 16 {
        if let Some(len) = u32_at(bytes, 0) {
            if (len as usize) >= pos + k {
                v[..4].copy_from_slice(&(len - k as u32).to_ne_bytes());
            }
        }
        for (o, len) in frames(bytes) {
            if pos >= o + 4 && pos + k <= o + len {
                v[o..o + 2].copy_from_slice(&((len - k) as u16).to_ne_bytes());
            }
        }
    }
    v
}

/// The smallest input found that still satisfies `keep` (which `bytes` must satisfy).
pub fn shrink(bytes: &[u8], keep: &mut dyn FnMut(&[u8]) -> bool) -> Vec<u8> {
    let mut best = bytes.to_vec();
    loop {
        let mut progress = false;
        // Whole frames first, then 8, 4, 2, 1 bytes anywhere.
        let mut candidates: Vec<(usize, usize)> = frames(&best)
            .into_iter()
            .map(|(o, len)| (o, ((len + 3) & !3).max(4)))
            .collect();
        for k in [8, 4, 2, 1] {
            for pos in (0..best.len()).rev() {
                candidates.push((pos, k));
            }
        }
        for (pos, k) in candidates {
            if pos + k > best.len() {
                continue;
            }
            for fix in [true, false] {
                let c = delete(&best, pos, k, fix);
                if keep(&c) {
                    best = c;
                    progress = true;
                    break;
                }
            }
        }
        if !progress {
            return best;
        }
    }
}
