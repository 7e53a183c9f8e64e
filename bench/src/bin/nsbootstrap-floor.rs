//! `nsbootstrap-floor`: the floor of the bootstrap benchmark. It makes the bare system-call sequence of a
//! bootstrap and nothing else: no protocol decoding, no logs, no protection of its binary, no checks
//! beyond the return values it needs. A runtime spawns it the way it spawns an executor (init pipe named by
//! `_LIBCONTAINER_INITPIPE`), and it answers with the runc-1.1 PID report, so the same driver measures it.
//!
//! ```text
//! nsbootstrap-floor CLONE_FLAGS UID_MAP GID_MAP [JOIN_PATH...]
//! ```
//!
//! CLONE_FLAGS is a decimal mask of CLONE_NEW* bits; UID_MAP and GID_MAP are the map texts (`-` for none);
//! each JOIN_PATH is a namespace file that stage 1 joins with setns(fd, 0). The sequence: read the message
//! (discarded), clone stage 1 (CLONE_PARENT); stage 1 joins, unshares the user namespace and waits while
//! stage 0 writes the maps, unshares the rest, clones stage 2 (CLONE_PARENT) and passes its PID to stage 0,
//! which writes the report; stage 2 waits on the init pipe for one byte and exits.
//!
//! `nsbootstrap-floor --report` is the last step alone, for tools that create or join the namespaces
//! themselves (util-linux `unshare -f` and `nsenter`, which exec it): it writes the report for itself (stage
//! 2) and its parent when the parent leads its process group (stage 0 = stage 1), then waits likewise. The
//! PIDs come from `/proc/self/stat`, which names them as the runtime sees them even inside a new PID
//! namespace (the mount of /proc is still the runtime's).
//!
//! Not a tool for people: every failure is exit status 1 (2 for bad arguments), without a message.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;

fn fail() -> ! {
    // SAFETY: _exit ends the process at once; it is async-signal-safe.
    unsafe { libc::_exit(1) }
}

fn check(r: libc::c_long) -> libc::c_long {
    if r < 0 {
        fail()
    }
    r
}

/// clone(2) with CLONE_PARENT | SIGCHLD and no new stack: a fork whose child is the parent's sibling.
fn clone_parent() -> libc::pid_t {
    // SAFETY: without CLONE_VM the child runs on a copy-on-write copy of the caller's memory and stack,
    // like fork; the child only makes system calls until it exits. The process is single-threaded.
    let r = unsafe {
        libc::syscall(
            libc::SYS_clone,
            (libc::CLONE_PARENT | libc::SIGCHLD) as libc::c_ulong,
            0usize,
            0usize,
            0usize,
            0usize,
        )
    };
    check(r) as libc::pid_t
}

fn write_all(fd: libc::c_int, bytes: &[u8]) {
    // SAFETY: `bytes` is valid for its length; a short write to a socket or /proc file is a failure here.
    let n = unsafe { libc::write(fd, bytes.as_ptr().cast(), bytes.len()) };
    if n != bytes.len() as isize {
        fail()
    }
}

fn read_some(fd: libc::c_int, buf: &mut [u8]) -> usize {
    // SAFETY: `buf` is valid for writes of its length.
    check(unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) } as libc::c_long) as usize
}

fn write_file(path: &[u8], data: &[u8]) {
    // SAFETY: `path` is NUL-terminated (built by the caller).
    let fd = check(
        unsafe { libc::open(path.as_ptr().cast(), libc::O_WRONLY | libc::O_CLOEXEC) }
            as libc::c_long,
    ) as libc::c_int;
    write_all(fd, data);
    // SAFETY: our own descriptor.
    unsafe { libc::close(fd) };
}

/// Formats `n` in decimal into `out`, returning the used tail.
fn decimal(mut n: u32, out: &mut [u8; 10]) -> &[u8] {
    let mut i = out.len();
    loop {
        i -= 1;
        out[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &out[i..];
        }
    }
}

/// `/proc/PID/FILE\0` on the stack.
fn proc_file(pid: u32, file: &[u8], out: &mut [u8; 64]) -> usize {
    let mut d = [0u8; 10];
    let parts: [&[u8]; 4] = [b"/proc/", decimal(pid, &mut d), b"/", file];
    let mut n = 0;
    for p in parts {
        out[n..n + p.len()].copy_from_slice(p);
        n += p.len();
    }
    out[n] = 0;
    n + 1
}

/// `--report`: the PIDs from /proc/self/stat (`pid (comm) state ppid pgrp ...`).
fn report_only() -> ! {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_else(|_| fail());
    // The command name in parentheses may hold spaces: count fields after its closing parenthesis.
    let (head, tail) = stat.rsplit_once(')').unwrap_or_else(|| fail());
    let number = |s: Option<&str>| {
        s.and_then(|s| s.parse::<u32>().ok())
            .unwrap_or_else(|| fail())
    };
    let pid = number(head.split(' ').next());
    let mut rest = tail.split_whitespace().skip(1); // the state
    let (ppid, pgrp) = (number(rest.next()), number(rest.next()));
    let stage1 = if ppid == pgrp { ppid } else { pid };
    let init = std::env::var("_LIBCONTAINER_INITPIPE")
        .ok()
        .and_then(|s| s.parse::<libc::c_int>().ok())
        .unwrap_or_else(|| fail());
    write_all(init, report_line(stage1, pid, &mut [0u8; 64]));
    let mut b = [0u8; 1];
    // SAFETY: `b` is valid for one byte.
    unsafe { libc::read(init, b.as_mut_ptr().cast(), 1) };
    // SAFETY: _exit is async-signal-safe.
    unsafe { libc::_exit(0) }
}

/// The runc-1.1 report line in `line`.
fn report_line(stage1: u32, stage2: u32, line: &mut [u8; 64]) -> &[u8] {
    let mut n = 0;
    let (mut a, mut b) = ([0u8; 10], [0u8; 10]);
    let parts: [&[u8]; 5] = [
        b"{\"stage1_pid\":",
        decimal(stage1, &mut a),
        b",\"stage2_pid\":",
        decimal(stage2, &mut b),
        b"}\n",
    ];
    for p in parts {
        line[n..n + p.len()].copy_from_slice(p);
        n += p.len();
    }
    &line[..n]
}

fn main() {
    if std::env::args_os().nth(1).is_some_and(|a| a == "--report") {
        report_only()
    }
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    let usage = || -> ! {
        eprintln!("usage: nsbootstrap-floor CLONE_FLAGS UID_MAP GID_MAP [JOIN_PATH...]");
        std::process::exit(2)
    };
    if args.len() < 3 {
        usage()
    }
    let Some(flags) = args[0].to_str().and_then(|s| s.parse::<libc::c_int>().ok()) else {
        usage()
    };
    let map = |a: &std::ffi::OsString| (a.as_bytes() != b"-").then(|| a.as_bytes().to_vec());
    let (uid_map, gid_map) = (map(&args[1]), map(&args[2]));
    let joins: Vec<CString> = args[3..]
        .iter()
        .map(|a| CString::new(a.as_bytes()).unwrap_or_else(|_| usage()))
        .collect();
    let Some(init) = std::env::var("_LIBCONTAINER_INITPIPE")
        .ok()
        .and_then(|s| s.parse::<libc::c_int>().ok())
    else {
        usage()
    };
    // Everything is allocated above; what follows makes system calls only.
    let mut message = [0u8; 4096];
    read_some(init, &mut message);
    let mut sv = [-1; 2];
    // SAFETY: `sv` is a valid out-array of two ints.
    check(unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_STREAM | libc::SOCK_CLOEXEC,
            0,
            sv.as_mut_ptr(),
        )
    } as libc::c_long);
    let stage1 = clone_parent();
    if stage1 == 0 {
        // Stage 1.
        for path in &joins {
            // SAFETY: a NUL-terminated path; setns takes the descriptor and 0 (any namespace type).
            let fd = check(
                unsafe { libc::open(path.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) }
                    as libc::c_long,
            ) as libc::c_int;
            // SAFETY: as above.
            check(unsafe { libc::setns(fd, 0) } as libc::c_long);
            // SAFETY: our own descriptor.
            unsafe { libc::close(fd) };
        }
        if flags & libc::CLONE_NEWUSER != 0 {
            // SAFETY: plain flags.
            check(unsafe { libc::unshare(libc::CLONE_NEWUSER) } as libc::c_long);
            write_all(sv[1], &[1]);
            let mut ack = [0u8; 1];
            if read_some(sv[1], &mut ack) != 1 {
                fail()
            }
        }
        let rest = flags & !libc::CLONE_NEWUSER;
        if rest != 0 {
            // SAFETY: plain flags.
            check(unsafe { libc::unshare(rest) } as libc::c_long);
        }
        let stage2 = clone_parent();
        if stage2 == 0 {
            // Stage 2: wait for one byte (the go-ahead) or the end of the init pipe.
            let mut b = [0u8; 1];
            // SAFETY: `b` is valid for one byte.
            unsafe { libc::read(init, b.as_mut_ptr().cast(), 1) };
            // SAFETY: _exit is async-signal-safe.
            unsafe { libc::_exit(0) }
        }
        write_all(sv[1], &(stage2 as u32).to_ne_bytes());
        // SAFETY: _exit is async-signal-safe.
        unsafe { libc::_exit(0) }
    }
    // Stage 0.
    if flags & libc::CLONE_NEWUSER != 0 {
        let mut b = [0u8; 1];
        if read_some(sv[0], &mut b) != 1 {
            fail()
        }
        let mut path = [0u8; 64];
        for (file, text) in [(&b"uid_map"[..], &uid_map), (b"gid_map", &gid_map)] {
            if let Some(text) = text {
                let n = proc_file(stage1 as u32, file, &mut path);
                write_file(&path[..n], text);
            }
        }
        write_all(sv[0], &[1]);
    }
    let mut pid = [0u8; 4];
    if read_some(sv[0], &mut pid) != 4 {
        fail()
    }
    let stage2 = u32::from_ne_bytes(pid);
    write_all(init, report_line(stage1 as u32, stage2, &mut [0u8; 64]));
    // SAFETY: _exit is async-signal-safe; nothing is buffered.
    unsafe { libc::_exit(0) }
}
