//! Protection of the runc binary against CVE-2019-5736, the way runc 1.1's nsexec protects it, with
//! nsbootstrap's own code.
//!
//! The final process runs Go code of the runc binary inside the container's namespaces; a process in the
//! container can reach that binary through `/proc/PID/exe`, and must not be able to write to it. So the
//! stages never run from the file on disk:
//!
//! 1. **Read-only bind mount** (root on the host): the binary is bind-mounted read-only on a fresh empty
//!    file in the runtime's state directory (`_LIBCONTAINER_STATEDIR`, else `/tmp`), opened with `O_PATH`,
//!    unmounted (lazily: the open descriptor keeps the read-only mount alive, reachable from nowhere
//!    else), and the process re-executes itself from that descriptor. `/proc/PID/exe` then names a file
//!    on a read-only mount that no one can remount. Nothing is copied: a few system calls, whatever the
//!    binary's size (the 9 MB runc binary costs about 4 ms to copy).
//! 2. **Sealed memfd copy** ([`nsbootstrap_protect::SealedBinary`]) when the mount is refused (rootless).
//!
//! The re-executed process recognises itself: it runs from a fully sealed memfd, or from a file on a
//! read-only mount *and* finds [`PROTECTED_ENV`] set (which the re-exec adds, and runc's Go side clears
//! with the rest of the environment before it starts the container's process).

use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sys::statfs::fstatfs;
use std::ffi::CString;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Set to `1` in the environment of a process re-executed from a read-only bind mount.
pub const PROTECTED_ENV: &str = "_NSBOOTSTRAP_NSEXEC_PROTECTED";

/// How this process's binary is protected, if it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protection {
    /// A memfd carrying every seal of [`nsbootstrap_protect::SEALS`].
    SealedMemfd,
    /// A file on a read-only mount, and the re-exec's mark in the environment.
    ReadOnlyMount,
}

/// How the running binary is protected (`None`: it runs from a file that may be writable).
pub fn current() -> Option<Protection> {
    if nsbootstrap_protect::running_sealed() {
        return Some(Protection::SealedMemfd);
    }
    if std::env::var_os(PROTECTED_ENV).is_none_or(|v| v != "1") {
        return None;
    }
    let exe = std::fs::File::open("/proc/self/exe").ok()?;
    let st = fstatfs(&exe).ok()?;
    st.flags()
        .contains(nix::sys::statvfs::FsFlags::ST_RDONLY)
        .then_some(Protection::ReadOnlyMount)
}

/// Makes sure this process runs from a protected binary: returns `Ok` at once when it does (or when
/// [`nsbootstrap_protect::UNPROTECTED_ENV`] is `1`, for measurements), else re-executes itself from a
/// read-only bind mount of its binary, or failing that from a sealed memfd copy, and returns only on
/// failure.
pub fn ensure_protected() -> std::io::Result<()> {
    if current().is_some()
        || std::env::var_os(nsbootstrap_protect::UNPROTECTED_ENV).is_some_and(|v| v == "1")
    {
        return Ok(());
    }
    if let Ok(fd) = read_only_bind() {
        let e = reexec(&fd, true);
        // The exec failed: fall through to the copy.
        drop(e);
    }
    let copy = nsbootstrap_protect::SealedBinary::of_current_exe()?;
    Err(copy.reexec())
}

/// A descriptor (`O_PATH`) of this process's binary on a read-only bind mount that is already
/// detached from every tree (so it cannot be remounted read-write).
pub fn read_only_bind() -> std::io::Result<OwnedFd> {
    let dir = std::env::var_os("_LIBCONTAINER_STATEDIR")
        .map(PathBuf::from)
        .filter(|d| d.is_absolute())
        .unwrap_or_else(|| PathBuf::from("/tmp"));
    let target = empty_file(&dir)?;
    let r = bind_and_open(&target);
    let _ = std::fs::remove_file(&target);
    r
}

/// A new empty file in `dir`, created exclusively, to mount on.
fn empty_file(dir: &Path) -> std::io::Result<PathBuf> {
    let pid = std::process::id();
    let mut last = None;
    for n in 0..16u32 {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let path = dir.join(format!("nsexec.{pid}.{nanos:x}.{n}"));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
        {
            Ok(_) => return Ok(path),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no free name")))
}

fn bind_and_open(target: &Path) -> std::io::Result<OwnedFd> {
    let none: Option<&str> = None;
    mount(Some("/proc/self/exe"), target, none, MsFlags::MS_BIND, none)?;
    let opened = mount(
        none,
        target,
        none,
        MsFlags::MS_REMOUNT | MsFlags::MS_BIND | MsFlags::MS_RDONLY,
        none,
    )
    .map_err(std::io::Error::from)
    .and_then(|()| {
        // O_PATH: the descriptor reaches the file only to execute it; std adds O_CLOEXEC.
        std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_PATH)
            .open(target)
            .map(OwnedFd::from)
    });
    // The mount must go whatever happened: while it is attached somewhere, a read-write remount would
    // make the file writable through it. Detached, it lives on only through the descriptor.
    if let Err(e) = umount2(target, MntFlags::MNT_DETACH) {
        return Err(std::io::Error::other(format!(
            "detach the read-only bind mount {}: {e}",
            target.display()
        )));
    }
    opened
}

/// Re-executes this process from `fd` with its arguments and environment, adding [`PROTECTED_ENV`]`=1`
/// when `mark`. Returns only on failure.
pub fn reexec(fd: &OwnedFd, mark: bool) -> std::io::Error {
    let args: Vec<CString> = std::env::args_os()
        .map(|a| CString::new(a.as_bytes()).unwrap_or_default())
        .collect();
    let mut env: Vec<CString> = std::env::vars_os()
        .filter(|(k, _)| k != PROTECTED_ENV)
        .map(|(k, v)| {
            let mut kv = k.as_bytes().to_vec();
            kv.push(b'=');
            kv.extend_from_slice(v.as_bytes());
            CString::new(kv).unwrap_or_default()
        })
        .collect();
    if mark {
        env.push(CString::new(format!("{PROTECTED_ENV}=1")).unwrap_or_default());
    }
    match nix::unistd::fexecve(fd, &args, &env) {
        Err(e) => e.into(),
        Ok(never) => match never {},
    }
}
