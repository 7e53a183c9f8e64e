//! Codec speed next to its limit, a plain copy of the same bytes: decoding borrowed (no allocation),
//! decoding into an owned plan, encoding into a caller's buffer, and the stream reader fed in chunks.
//!
//! `cargo bench -p nsbootstrap-codec --bench codec`

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use nsbootstrap_codec::{
    BootstrapPlan, Clock, Dialect, MessageReader, MessageView, Mode, NamespaceKind,
};
use std::hint::black_box;

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

criterion_group!(codec, benches);
criterion_main!(codec);
