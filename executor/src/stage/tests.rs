//! The stage logic against the recording double of [`Sys`](crate::sys::Sys): the order of system calls,
//! without a kernel.

use super::*;
use crate::log::Level;
use crate::sys::record::{Call, Exit, Recorder};
use crate::sys::Cloned;
use nsbootstrap_codec::sync::SyncMsg;
use nsbootstrap_codec::{BootstrapPlan, MessageView, Mode, NamespaceKind};

fn sync(s: SyncMsg, d: Dialect) -> Vec<u8> {
    s.value(d).unwrap().to_ne_bytes().to_vec()
}

fn word(s: SyncMsg, d: Dialect) -> u32 {
    s.value(d).unwrap()
}

/// Encodes `plan`, decodes it strictly and runs the stages on the view until a stage exits; returns the
/// exit code.
fn drive(plan: BootstrapPlan, d: Dialect, rec: &mut Recorder) -> i32 {
    let bytes = plan.to_bytes(d).expect("encode");
    drive_bytes(&bytes, d, Mode::Strict, rec)
}

/// Decodes `bytes` in `mode` and runs the stages on the view until a stage exits; returns the exit code.
fn drive_bytes(bytes: &[u8], d: Dialect, mode: Mode, rec: &mut Recorder) -> i32 {
    let view = MessageView::decode(bytes, d, mode).expect("decode");
    let p = Prepared::new(view, d);
    let logger = Logger::new(None, Level::Debug, d);
    let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        run(&mut *rec, &p, 3, logger);
    }));
    match out {
        Ok(()) => -1,
        Err(e) => e.downcast::<Exit>().map(|x| x.0).unwrap_or(-2),
    }
}

/// The index of the first call that `is` accepts.
fn index(calls: &[Call], what: &str, is: impl Fn(&Call) -> bool) -> usize {
    calls
        .iter()
        .position(is)
        .unwrap_or_else(|| panic!("no call {what} in {calls:#?}"))
}

fn is_unshare_of(c: &Call, kind: NamespaceKind) -> bool {
    matches!(c, Call::Unshare(f) if f & kind.flag() != 0)
}

fn is_recv_on(c: &Call, fd: i32) -> bool {
    matches!(c, Call::Recv { fd: f, .. } if *f == fd)
}

#[test]
fn stage1_opens_everything_then_joins_user_in_the_middle() {
    let d = Dialect::Nsbootstrap1;
    let plan = BootstrapPlan::builder()
        .join(NamespaceKind::User, "/proc/9/ns/user")
        .join(NamespaceKind::Net, "/proc/9/ns/net")
        .join(NamespaceKind::Mnt, "/proc/9/ns/mnt")
        .create(NamespaceKind::Pid)
        .build();
    let mut rec = Recorder {
        clones: [Cloned::Child, Cloned::Parent(77)].into(),
        reads: [sync(SyncMsg::RecvpidAck, d)].into(),
        ..Default::default()
    };
    let code = drive(plan, d, &mut rec);
    let c = &rec.calls;
    assert_eq!(code, 0, "{c:#?}");
    let last_open = c
        .iter()
        .rposition(|x| matches!(x, Call::Open { .. }))
        .unwrap();
    let first_setns = index(c, "setns", |x| matches!(x, Call::Setns { .. }));
    assert!(
        last_open < first_setns,
        "every path is opened before the first setns: {c:#?}"
    );
    let setns: Vec<NamespaceKind> = c
        .iter()
        .filter_map(|x| match x {
            Call::Setns { kind, .. } => Some(*kind),
            _ => None,
        })
        .collect();
    assert_eq!(setns.len(), 3);
    assert_eq!(
        setns,
        [NamespaceKind::Net, NamespaceKind::Mnt, NamespaceKind::User],
        "{setns:?}"
    );
    let user_joined = index(c, "setns 101 user", |x| {
        *x == Call::Setns {
            fd: 101,
            kind: NamespaceKind::User,
        }
    });
    let setresuid = index(c, "setresuid 0", |x| *x == Call::Setresuid0);
    assert!(setresuid > user_joined);
    let unshare_pid = index(c, "unshare pid", |x| is_unshare_of(x, NamespaceKind::Pid));
    assert!(unshare_pid > setresuid);
    assert!(
        index(c, "clone Parent(77)", |x| *x
            == Call::Clone(Cloned::Parent(77)))
            > unshare_pid
    );
    // RECVPID_PLS with the PID in one write, then CHILD_FINISH after the ACK.
    let pls = index(c, "RECVPID_PLS and 77 on 11", |x| {
        *x == Call::send_words(11, word(SyncMsg::RecvpidPls, d), 77)
    });
    let recv = index(c, "recv 11", |x| is_recv_on(x, 11));
    assert!(recv > pls);
    assert!(
        index(c, "CHILD_FINISH on 11", |x| {
            *x == Call::send_word(11, word(SyncMsg::ChildFinish, d))
        }) > recv
    );
}

#[test]
fn stage1_unshares_the_user_namespace_alone_and_waits_for_the_maps() {
    let d = Dialect::Runc11;
    let plan = BootstrapPlan::builder()
        .create(NamespaceKind::User)
        .create(NamespaceKind::Net)
        .create(NamespaceKind::Cgroup)
        .map_user(0, 1000, 1)
        .build();
    let mut rec = Recorder {
        clones: [Cloned::Child, Cloned::Parent(78)].into(),
        reads: [sync(SyncMsg::UsermapAck, d), sync(SyncMsg::RecvpidAck, d)].into(),
        ..Default::default()
    };
    assert_eq!(drive(plan, d, &mut rec), 0);
    let c = &rec.calls;
    let user = index(c, "unshare user", |x| is_unshare_of(x, NamespaceKind::User));
    assert_eq!(
        c[user],
        Call::Unshare(NamespaceKind::User.flag()),
        "the user namespace is unshared alone"
    );
    assert!(
        index(c, "USERMAP_PLS on 11", |x| {
            *x == Call::send_word(11, word(SyncMsg::UsermapPls, d))
        }) > user
    );
    assert!(
        index(c, "setresuid 0", |x| *x == Call::Setresuid0)
            > index(c, "recv 11", |x| is_recv_on(x, 11))
    );
    // runc-1.1 leaves the cgroup namespace to stage 2.
    let net = index(c, "unshare net", |x| is_unshare_of(x, NamespaceKind::Net));
    assert_eq!(c[net], Call::Unshare(NamespaceKind::Net.flag()));
    assert!(
        !c.iter().any(|x| matches!(x, Call::Dumpable(_))),
        "no joins, so dumpable is left alone"
    );
}

#[test]
fn a_closed_sync_socket_ends_the_stage_without_a_second_fatal_line() {
    let d = Dialect::Runc12;
    let plan = BootstrapPlan::builder().create(NamespaceKind::User).build();
    let mut rec = Recorder {
        clones: [Cloned::Child].into(),
        ..Default::default()
    };
    assert_eq!(drive(plan, d, &mut rec), 1);
    assert!(*rec.calls.last().unwrap() == Call::Exit(1));
    assert!(
        rec.calls.contains(&Call::Recv {
            fd: 11,
            bytes: None
        }),
        "{:#?}",
        rec.calls
    );
}

#[test]
fn stage0_writes_deny_then_maps_and_falls_back_to_the_helper() {
    let d = Dialect::Runc11;
    let plan = BootstrapPlan::builder()
        .create(NamespaceKind::User)
        .map_user(0, 1000, 1)
        .map_user(1, 100000, 65536)
        .map_group(0, 1000, 1)
        .id_map_helpers("/usr/bin/newuidmap", "/usr/bin/newgidmap")
        .rootless_euid(true)
        .build();
    let mut rec = Recorder {
        clones: [Cloned::Parent(50)].into(),
        reads: [
            sync(SyncMsg::UsermapPls, d),
            sync(SyncMsg::RecvpidPls, d),
            60i32.to_ne_bytes().to_vec(),
            sync(SyncMsg::ChildFinish, d),
            sync(SyncMsg::ChildFinish, d),
        ]
        .into(),
        eperm_on: vec!["uid_map"],
        ..Default::default()
    };
    assert_eq!(drive(plan, d, &mut rec), 0);
    let c = &rec.calls;
    let write = |path: &'static str, data: &'static [u8]| move |x: &Call| matches!(x, Call::Write { path: p, data: t } if p == path && t == data);
    let deny = index(
        c,
        "write deny to /proc/50/setgroups",
        write("/proc/50/setgroups", b"deny"),
    );
    let uid = index(
        c,
        "write /proc/50/uid_map",
        |x| matches!(x, Call::Write { path, .. } if path == "/proc/50/uid_map"),
    );
    assert!(deny < uid);
    // The map's text is the message's own, written as it is.
    assert_eq!(
        c[uid],
        Call::Write {
            path: "/proc/50/uid_map".into(),
            data: b"0 1000 1\n1 100000 65536\n".to_vec()
        }
    );
    assert_eq!(
        c[uid + 1],
        Call::Run(
            "/usr/bin/newuidmap 50 0 1000 1 1 100000 65536"
                .split(' ')
                .map(String::from)
                .collect()
        )
    );
    assert!(
        index(
            c,
            "write 0 1000 1 to /proc/50/gid_map",
            write("/proc/50/gid_map", b"0 1000 1\n")
        ) > uid
    );
    let report = index(
        c,
        "the PID report on 3",
        |x| matches!(x, Call::Send { fd: 3, bytes } if bytes.starts_with(b"{\"stage1_pid\":50,\"stage2_pid\":60}")),
    );
    assert!(
        report
            < index(c, "RECVPID_ACK on 10", |x| {
                *x == Call::send_word(10, word(SyncMsg::RecvpidAck, d))
            }),
        "the report comes before the ACK: {c:#?}"
    );
    assert!(
        index(c, "GRANDCHILD on 12", |x| {
            *x == Call::send_word(12, word(SyncMsg::Grandchild, d))
        }) > report
    );
}

#[test]
fn stage0_writes_the_message_s_own_map_text_in_lenient_mode() {
    let d = Dialect::Runc11;
    let plan = BootstrapPlan::builder()
        .create(NamespaceKind::User)
        .map_user(0, 1000, 1)
        .id_map_helpers("/usr/bin/newuidmap", "/usr/bin/newgidmap")
        .build();
    let mut bytes = plan.to_bytes(d).expect("encode");
    // The same map in the kernel's grammar (spec section 5.3): a tab, a leading zero, no final LF.
    let canonical = b"0 1000 1\n";
    let at = bytes
        .windows(canonical.len())
        .position(|w| w == canonical)
        .expect("the map text in the message");
    let kernel_text = b"0\t1000 01";
    bytes[at..at + kernel_text.len()].copy_from_slice(kernel_text);
    assert!(MessageView::decode(&bytes, d, Mode::Strict).is_err());
    let mut rec = Recorder {
        clones: [Cloned::Parent(50)].into(),
        reads: [
            sync(SyncMsg::UsermapPls, d),
            sync(SyncMsg::RecvpidPls, d),
            60i32.to_ne_bytes().to_vec(),
            sync(SyncMsg::ChildFinish, d),
            sync(SyncMsg::ChildFinish, d),
        ]
        .into(),
        eperm_on: vec!["uid_map"],
        ..Default::default()
    };
    assert_eq!(drive_bytes(&bytes, d, Mode::Lenient, &mut rec), 0);
    let c = &rec.calls;
    let uid = index(
        c,
        "write /proc/50/uid_map",
        |x| matches!(x, Call::Write { path, .. } if path == "/proc/50/uid_map"),
    );
    assert_eq!(
        c[uid],
        Call::Write {
            path: "/proc/50/uid_map".into(),
            data: kernel_text.to_vec()
        },
        "the text is the message's, as runc passes it to the kernel"
    );
    assert_eq!(
        c[uid + 1],
        Call::Run(
            "/usr/bin/newuidmap 50 0 1000 01"
                .split(' ')
                .map(String::from)
                .collect()
        )
    );
}

#[test]
fn stage1_joins_every_entry_of_a_lenient_list_however_long() {
    use nsbootstrap_codec::wire::number::{CLONE_FLAGS, NS_PATHS};
    let d = Dialect::Runc11;
    // Sixteen uts entries and a seventeenth, net: a fixed array of 16 once dropped the last one.
    let mut list: Vec<String> = (0..16).map(|i| format!("uts:/proc/{i}/ns/uts")).collect();
    list.push("net:/proc/99/ns/net".into());
    let mut paths = list.join(",").into_bytes();
    paths.push(0);
    let bytes = nsbootstrap_codec::wire::raw_message(&[
        (CLONE_FLAGS, 0u32.to_ne_bytes().to_vec()),
        (NS_PATHS, paths),
    ]);
    assert!(MessageView::decode(&bytes, d, Mode::Strict).is_err());
    let mut rec = Recorder {
        clones: [Cloned::Child, Cloned::Parent(77)].into(),
        reads: [sync(SyncMsg::RecvpidAck, d)].into(),
        ..Default::default()
    };
    assert_eq!(drive_bytes(&bytes, d, Mode::Lenient, &mut rec), 0);
    let c = &rec.calls;
    let setns: Vec<NamespaceKind> = c
        .iter()
        .filter_map(|x| match x {
            Call::Setns { kind, .. } => Some(*kind),
            _ => None,
        })
        .collect();
    assert_eq!(setns.len(), 17, "{c:#?}");
    assert_eq!(setns.last(), Some(&NamespaceKind::Net));
    let opens = c.iter().filter(|x| matches!(x, Call::Open { .. })).count();
    assert_eq!(opens, 17);
}

#[test]
fn stage1_passes_only_namespace_bits_to_unshare() {
    use nsbootstrap_codec::wire::number::CLONE_FLAGS;
    let d = Dialect::Runc11;
    // CLONE_NEWNET with CLONE_FS | CLONE_FILES (0x600), which a lenient decoder keeps.
    let flags = NamespaceKind::Net.flag() | 0x600;
    let bytes =
        nsbootstrap_codec::wire::raw_message(&[(CLONE_FLAGS, flags.to_ne_bytes().to_vec())]);
    assert!(MessageView::decode(&bytes, d, Mode::Strict).is_err());
    let mut rec = Recorder {
        clones: [Cloned::Child, Cloned::Parent(77)].into(),
        reads: [sync(SyncMsg::RecvpidAck, d)].into(),
        ..Default::default()
    };
    assert_eq!(drive_bytes(&bytes, d, Mode::Lenient, &mut rec), 0);
    let unshares: Vec<u32> = rec
        .calls
        .iter()
        .filter_map(|x| match x {
            Call::Unshare(f) => Some(*f),
            _ => None,
        })
        .collect();
    assert_eq!(
        unshares,
        vec![NamespaceKind::Net.flag()],
        "{:#?}",
        rec.calls
    );
}

#[test]
fn mount_fds_may_not_name_a_descriptor_in_use() {
    let d = Dialect::Runc11;
    let mut plan = BootstrapPlan::new();
    plan.mount_sources = Some(vec![Some("/a".into()), None, Some("/b".into())]);
    let bytes = plan.to_bytes(d).expect("encode");
    let prepared = || Prepared::new(MessageView::decode(&bytes, d, Mode::Strict).unwrap(), d);
    assert!(prepared().with_mount_fds(vec![7, -1, 8], &[3, 4]).is_ok());
    for (fds, why) in [
        (vec![1, -1, 8], "standard input, output or error"),
        (vec![7, -1, 3], "the init or log pipe"),
        (vec![4, -1, 8], "the init or log pipe"),
        (vec![7, -1, 7], "another mount source"),
    ] {
        let e = prepared().with_mount_fds(fds.clone(), &[3, 4]).unwrap_err();
        assert!(e.ends_with(why), "{fds:?}: {e}");
    }
}
