//! The borrowing decoder allocates nothing: a counting global allocator proves it for a message with every
//! attribute of each dialect.

use nsbootstrap_codec::{BootstrapPlan, Clock, Dialect, MessageView, Mode, NamespaceKind};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    /// Allocations made by this thread. Counting per thread keeps the test harness's own threads (which
    /// may allocate at any time, e.g. while the test thread starts) out of the count. A const-initialized
    /// `Cell` needs no allocation and no destructor, so the allocator may touch it.
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

// SAFETY: every call is forwarded unchanged to the system allocator, which upholds GlobalAlloc's contract;
// the counter is a thread-local cell that has no bearing on the memory handed out.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
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
    // The counter sees this thread's allocations.
    let before = allocations();
    let v = std::hint::black_box(vec![1u8; 16]);
    assert!(allocations() > before && v.len() == 16);
    for d in Dialect::ALL {
        let bytes = full_plan(d).to_bytes(d).unwrap();
        for mode in [Mode::Strict, Mode::Lenient] {
            let before = allocations();
            let view = MessageView::decode(&bytes, d, mode).unwrap();
            let ranges = view.gid_map().unwrap().ranges().count();
            let joins = view.namespace_paths().unwrap().iter().count();
            let after = allocations();
            assert_eq!((ranges, joins), (2, 2));
            assert_eq!(after - before, 0, "{d} {mode:?}: decoding allocated");
        }
        let mut out = vec![0u8; 1024];
        let plan = full_plan(d);
        let before = allocations();
        let n = plan.encode(d, &mut out).unwrap();
        let after = allocations();
        assert_eq!(&out[..n], &bytes[..]);
        assert_eq!(after - before, 0, "{d}: encoding allocated");
    }
}
