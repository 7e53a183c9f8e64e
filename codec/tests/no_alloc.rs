//! The borrowing decoder allocates nothing: a counting global allocator proves it for a message with every
//! attribute of each dialect.

use nsbootstrap_codec::{BootstrapPlan, Clock, Dialect, MessageView, Mode, NamespaceKind};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator, which upholds GlobalAlloc's contract;
// the counter is a relaxed atomic that has no bearing on the memory handed out.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's layout obligations are passed through to System unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: ptr came from System.alloc with this layout (every allocation goes through alloc above).
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn full_plan(d: Dialect) -> BootstrapPlan {
    let mut b = BootstrapPlan::builder()
        .create(NamespaceKind::User)
        .create(NamespaceKind::Pid)
        .create(NamespaceKind::Mnt)
        .join(NamespaceKind::Net, "/run/netns/test")
        .join(NamespaceKind::Ipc, "/proc/1234/ns/ipc")
        .map_user(0, 100000, 65536)
        .map_group(0, 100000, 65536)
        .map_group(65536, 1000, 1)
        .id_map_helpers("/usr/bin/newuidmap", "/usr/bin/newgidmap")
        .setgroups(true)
        .oom_score_adj(100)
        .rootless_euid(true);
    if d == Dialect::Runc11 {
        b = b.mount_source(Some("/src".into())).mount_source(None);
    }
    if d.has_time_namespace() {
        b = b
            .create(NamespaceKind::Time)
            .time_offset(Clock::Boottime, -5, 10);
    }
    if d.has_console() {
        b = b.console("/dev/pts/3");
    }
    b.build()
}

#[test]
fn decoding_a_full_message_allocates_nothing() {
    for d in Dialect::ALL {
        let bytes = full_plan(d).to_bytes(d).unwrap();
        for mode in [Mode::Strict, Mode::Lenient] {
            let before = ALLOCATIONS.load(Ordering::Relaxed);
            let view = MessageView::decode(&bytes, d, mode).unwrap();
            let ranges = view.gid_map().unwrap().ranges().count();
            let joins = view.namespace_paths().unwrap().iter().count();
            let after = ALLOCATIONS.load(Ordering::Relaxed);
            assert_eq!((ranges, joins), (2, 2));
            assert_eq!(after - before, 0, "{d} {mode:?}: decoding allocated");
        }
        let mut out = vec![0u8; 1024];
        let plan = full_plan(d);
        let before = ALLOCATIONS.load(Ordering::Relaxed);
        let n = plan.encode(d, &mut out).unwrap();
        let after = ALLOCATIONS.load(Ordering::Relaxed);
        assert_eq!(&out[..n], &bytes[..]);
        assert_eq!(after - before, 0, "{d}: encoding allocated");
    }
}
