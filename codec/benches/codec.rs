//! Codec speed next to its limit, a plain copy of the same bytes: decoding borrowed (no allocation),
//! decoding into an owned plan, encoding into a caller's buffer, and the stream reader fed in chunks. Then a
//! breakdown: the typical message's fields one at a time, to see what each costs to decode and encode.
//!
//! `cargo bench -p nsbootstrap-codec --bench codec` (`-- codec` for the first five only)
#![allow(missing_docs)] // criterion_group! defines undocumented functions

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use nsbootstrap_codec::{
    BootstrapPlan, Clock, Dialect, MessageReader, MessageView, Mode, NamespaceKind,
};
use std::hint::black_box;
use std::time::Duration;

/// A typical message with every attribute of nsbootstrap-1 (about 250 bytes).
fn typical() -> BootstrapPlan {
    BootstrapPlan::builder()
        .create(NamespaceKind::User)
        .create(NamespaceKind::Pid)
        .create(NamespaceKind::Mnt)
        .create(NamespaceKind::Uts)
        .create(NamespaceKind::Ipc)
        .create(NamespaceKind::Time)
        .join(NamespaceKind::Net, "/run/netns/container-0001")
        .join(NamespaceKind::Cgroup, "/proc/4242/ns/cgroup")
        .map_user(0, 100000, 65536)
        .map_group(0, 100000, 65536)
        .id_map_helpers("/usr/bin/newuidmap", "/usr/bin/newgidmap")
        .setgroups(false)
        .oom_score_adj(100)
        .rootless_euid(true)
        .time_offset(Clock::Monotonic, 86400, 0)
        .console("/dev/pts/3")
        .build()
}

fn benches(c: &mut Criterion) {
    let d = Dialect::Nsbootstrap1;
    let plan = typical();
    let bytes = plan.to_bytes(d).unwrap();
    let mut g = c.benchmark_group(format!("codec ({} bytes)", bytes.len()));
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    let mut out = vec![0u8; bytes.len()];
    g.bench_function("memcpy (the limit)", |b| {
        b.iter(|| out.copy_from_slice(black_box(&bytes)))
    });
    g.bench_function("decode borrowed (MessageView)", |b| {
        b.iter(|| MessageView::decode(black_box(&bytes), d, Mode::Strict).unwrap())
    });
    g.bench_function("decode owned (BootstrapPlan)", |b| {
        b.iter(|| BootstrapPlan::decode(black_box(&bytes), d).unwrap())
    });
    g.bench_function("encode into a buffer", |b| {
        b.iter(|| plan.encode(d, black_box(&mut out)).unwrap())
    });
    g.bench_function("stream reader, 16-byte chunks", |b| {
        b.iter_batched(
            || MessageReader::new(d, Mode::Strict),
            |mut r| {
                let mut pos = 0;
                while !r.is_complete() {
                    let end = (pos + 16.min(r.wanted())).min(bytes.len());
                    pos += r.push(&bytes[pos..end]).unwrap();
                }
                r.decode().unwrap().unwrap().header()
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

/// Where decoding and encoding time goes: the typical message's fields one at a time, each in a message of
/// its own next to the clone flags (which every message has), and the clone flags alone.
fn breakdown(c: &mut Criterion) {
    let d = Dialect::Nsbootstrap1;
    let t = typical();
    let base = || BootstrapPlan {
        clone_flags: t.clone_flags,
        ..BootstrapPlan::new()
    };
    let parts: [(&str, BootstrapPlan); 12] = [
        ("clone_flags only", base()),
        (
            "+namespace_paths",
            BootstrapPlan {
                namespace_paths: t.namespace_paths.clone(),
                ..base()
            },
        ),
        (
            "+newuidmap_path",
            BootstrapPlan {
                newuidmap_path: t.newuidmap_path.clone(),
                ..base()
            },
        ),
        (
            "+uid_map",
            BootstrapPlan {
                uid_map: t.uid_map.clone(),
                ..base()
            },
        ),
        (
            "+gid_map",
            BootstrapPlan {
                gid_map: t.gid_map.clone(),
                ..base()
            },
        ),
        (
            "+newgidmap_path",
            BootstrapPlan {
                newgidmap_path: t.newgidmap_path.clone(),
                ..base()
            },
        ),
        (
            "+setgroups",
            BootstrapPlan {
                setgroups: t.setgroups,
                ..base()
            },
        ),
        (
            "+oom_score_adj",
            BootstrapPlan {
                oom_score_adj: t.oom_score_adj,
                ..base()
            },
        ),
        (
            "+rootless_euid",
            BootstrapPlan {
                rootless_euid: t.rootless_euid,
                ..base()
            },
        ),
        (
            "+time_offsets",
            BootstrapPlan {
                time_offsets: t.time_offsets.clone(),
                ..base()
            },
        ),
        (
            "+console_path",
            BootstrapPlan {
                console_path: t.console_path.clone(),
                ..base()
            },
        ),
        ("all (typical)", t.clone()),
    ];
    let quick = |g: &mut criterion::BenchmarkGroup<'_, _>| {
        g.warm_up_time(Duration::from_millis(500));
        g.measurement_time(Duration::from_secs(1));
    };
    let mut g = c.benchmark_group("breakdown decode");
    quick(&mut g);
    for (name, plan) in &parts {
        let bytes = plan.to_bytes(d).unwrap();
        g.bench_function(*name, |b| {
            b.iter(|| MessageView::decode(black_box(&bytes), d, Mode::Strict).unwrap())
        });
    }
    g.finish();
    let mut g = c.benchmark_group("breakdown encode");
    quick(&mut g);
    for (name, plan) in &parts {
        let mut out = vec![0u8; plan.encoded_len(d).unwrap()];
        g.bench_function(*name, |b| {
            b.iter(|| plan.encode(d, black_box(&mut out)).unwrap())
        });
    }
    g.finish();
}

criterion_group!(codec, benches);
criterion_group!(parts, breakdown);
criterion_main!(codec, parts);
