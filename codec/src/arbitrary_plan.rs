//! Structured generation of plans for fuzzers (feature `arbitrary`).
//!
//! The plans generated are canonical-encodable in their own `dialect` (set on every plan): every field
//! stays within the strict grammar, so a fuzzer spends its time on the codec's logic rather than on
//! plans the encoder refuses. They keep the consistency rules of spec section 8 too (which `encode`
//! checks): a map brings `user` into the clone flags, offsets bring `time`, and a created type is not
//! joined.

use crate::dialect::{Attr27290, Dialect};
use crate::namespace::{CloneFlags, NamespaceKind};
use crate::payload::id_map::IdRange;
use crate::payload::ns_paths::NamespacePath;
use crate::payload::time_offsets::{Clock, TimeOffset};
use crate::plan::{BootstrapPlan, NetlinkFields};
use arbitrary::{Arbitrary, Result, Unstructured};
use std::path::PathBuf;

const PATH_BYTES: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789-_.:/ ";

fn path(u: &mut Unstructured<'_>) -> Result<PathBuf> {
    let len = u.int_in_range(0..=48)?;
    let mut s = String::from("/");
    for _ in 0..len {
        s.push(char::from(*u.choose(PATH_BYTES)?));
    }
    Ok(PathBuf::from(s))
}

fn id_map(u: &mut Unstructured<'_>) -> Result<Option<Vec<IdRange>>> {
    if !u.arbitrary::<bool>()? {
        return Ok(None);
    }
    let n = u.int_in_range(1..=6)?;
    let (mut inside, mut outside) = (
        u64::from(u.int_in_range(0..=1000u32)?),
        u64::from(u.arbitrary::<u16>()?),
    );
    let mut ranges = Vec::with_capacity(n);
    for _ in 0..n {
        let size = u64::from(u.int_in_range(1..=70_000u32)?);
        if inside + size > u64::from(u32::MAX) || outside + size > u64::from(u32::MAX) {
            break;
        }
        ranges.push(IdRange::new(inside as u32, outside as u32, size as u32));
        inside += size + u64::from(u.int_in_range(0..=10u32)?);
        outside += size + u64::from(u.int_in_range(0..=100_000u32)?);
    }
    Ok(Some(ranges))
}

impl<'a> Arbitrary<'a> for BootstrapPlan {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let dialect: Dialect = u.arbitrary()?;
        let kinds: Vec<NamespaceKind> = NamespaceKind::BY_FLAG
            .into_iter()
            .filter(|k| *k != NamespaceKind::Time || dialect.has_time_namespace())
            .collect();
        let mut clone_flags = CloneFlags::empty();
        for k in &kinds {
            if u.arbitrary()? {
                clone_flags = clone_flags.with(*k);
            }
        }
        let mut namespace_paths = Vec::new();
        for k in &kinds {
            if u.ratio(1, 4)? {
                // PATH_BYTES holds no ',', which a namespace path may not contain.
                namespace_paths.push(NamespacePath::new(*k, path(u)?));
            }
        }
        let opt_path = |u: &mut Unstructured<'a>| -> Result<Option<PathBuf>> {
            if u.arbitrary()? {
                path(u).map(Some)
            } else {
                Ok(None)
            }
        };
        let newuidmap_path = opt_path(u)?;
        let uid_map = id_map(u)?;
        let gid_map = id_map(u)?;
        let newgidmap_path = opt_path(u)?;
        let setgroups = u.arbitrary()?;
        let oom_score_adj = if u.arbitrary()? {
            Some(u.int_in_range(-1000..=1000)?)
        } else {
            None
        };
        let rootless_euid = u.arbitrary()?;
        let mount_sources = if dialect.attr_27290() == Attr27290::MountSources && u.arbitrary()? {
            let n = u.int_in_range(0..=5)?;
            let mut v = Vec::with_capacity(n);
            for _ in 0..n {
                v.push(opt_path(u)?);
            }
            Some(v)
        } else {
            None
        };
        let time_offsets = if dialect.attr_27290() == Attr27290::TimeOffsets && u.arbitrary()? {
            let mut v = Vec::new();
            for clock in [Clock::Monotonic, Clock::Boottime] {
                if v.is_empty() || u.arbitrary()? {
                    v.push(TimeOffset {
                        clock,
                        secs: u.arbitrary()?,
                        nanosecs: u.int_in_range(0..=999_999_999)?,
                    });
                }
            }
            if u.arbitrary()? {
                v.reverse();
            }
            Some(v)
        } else {
            None
        };
        let console_path = if dialect.has_console() {
            opt_path(u)?
        } else {
            None
        };
        // Spec section 8: maps need a new user namespace, offsets a new time namespace, and nothing
        // created is also joined.
        if uid_map.is_some() || gid_map.is_some() {
            clone_flags = clone_flags.with(NamespaceKind::User);
        }
        if time_offsets.is_some() {
            clone_flags = clone_flags.with(NamespaceKind::Time);
        }
        namespace_paths.retain(|e| !clone_flags.contains(e.kind));
        Ok(BootstrapPlan {
            dialect: Some(dialect),
            netlink: NetlinkFields {
                flags: u.arbitrary()?,
                seq: u.arbitrary()?,
                pid: u.arbitrary()?,
            },
            clone_flags,
            namespace_paths,
            newuidmap_path,
            uid_map,
            gid_map,
            newgidmap_path,
            setgroups,
            oom_score_adj,
            rootless_euid,
            mount_sources,
            time_offsets,
            console_path,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_plans_encode_and_round_trip() {
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut ok = 0;
        for _ in 0..500 {
            let bytes: Vec<u8> = (0..512)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    seed as u8
                })
                .collect();
            let Ok(plan) = BootstrapPlan::arbitrary(&mut Unstructured::new(&bytes)) else {
                continue;
            };
            let d = plan.dialect.unwrap();
            let wire = plan.to_bytes(d).expect("generated plans encode");
            let mut back = BootstrapPlan::decode(&wire, d).expect("and decode");
            back.dialect = Some(d);
            assert_eq!(back, plan);
            ok += 1;
        }
        assert!(ok > 400, "only {ok} plans generated");
    }
}
