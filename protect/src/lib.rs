//! # nsbootstrap-protect
//!
//! Protection of the executor's own binary (the CVE-2019-5736 class).
//!
//! A process inside the container can reach the binary a stage runs from through `/proc/PID/exe` (or
//! hold an `O_PATH` descriptor of it) and, once the stage has exec'd or exited, try to open it for
//! writing and replace the host's executor. The executor therefore never runs its stages from a file
//! that can be written: it runs from a [`SealedBinary`], made by one of three [`Method`]s.
//!
//! | method | what it makes | cost (measured in BENCHMARKS.md) | who can |
//! |---|---|---|---|
//! | [`Method::Bind`] | a read-only bind mount of the binary, cloned detached (`open_tree(OPEN_TREE_CLONE)`, `mount_setattr(MOUNT_ATTR_RDONLY)`) | two system calls, no copy | root, or a user namespace that owns its mount namespace |
//! | [`Method::Overlay`] | a read-only overlayfs of the binary's directory, mounted detached (`fsopen`, `fsconfig`, `fsmount`), the binary opened `O_PATH` inside it | a new overlay and tmpfs superblock, no copy | the same |
//! | [`Method::Memfd`] | a memfd copy sealed against writing, growing, shrinking and further sealing | a copy of the binary, and the copy's pages faulted in afresh | everyone (rootless) |
//!
//! Every method is usable from both sides:
//!
//! - **the runtime** makes a [`SealedBinary`] ([`SealedBinary::new`] with a method, or
//!   [`SealedBinary::protect`] for the cheapest that works) and spawns [`SealedBinary::exec_path`], once
//!   per start or once for many;
//! - **the executor** calls [`ensure_protected`] first thing: when it already runs from a protected
//!   file ([`running_protected`]) it goes on, otherwise it makes a [`SealedBinary`] of itself and
//!   re-executes from it.
//!
//! No method leaves a mount behind in any mount namespace: both mount-based methods make mounts that
//! were never attached to a tree (the kernel's "detached" mounts), which live exactly as long as a
//! descriptor or a process refers to them.

#![deny(unsafe_code)]

#[allow(unsafe_code)]
mod raw;

use nix::errno::Errno;
use nix::fcntl::{fcntl, open, openat, FcntlArg, OFlag, SealFlag};
use nix::sys::stat::Mode;
use std::ffi::{CString, OsString};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// The seals a protected memfd copy carries.
pub const SEALS: libc::c_int =
    libc::F_SEAL_SEAL | libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_WRITE;

/// The environment variable that, set to `1`, turns the protection off. The executor then logs a
/// warning on every start; `nsbootstrap run` clears it unless told otherwise.
pub const UNPROTECTED_ENV: &str = "NSBOOTSTRAP_UNPROTECTED";

/// The environment variable that selects the method an executor protects itself with when it was
/// spawned from its file: `bind`, `overlay`, `memfd`, or `auto` (the default: cheapest first).
pub const PROTECT_ENV: &str = "NSBOOTSTRAP_PROTECT";

/// `OVERLAYFS_SUPER_MAGIC`.
const OVERLAYFS_MAGIC: i64 = 0x794c_7630;

/// How a [`SealedBinary`] keeps the binary out of reach.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    /// A read-only bind mount of the binary, cloned detached: no copy, two system calls.
    Bind,
    /// A read-only overlayfs of the binary's directory, mounted detached: no copy.
    Overlay,
    /// A sealed memfd copy: works without privilege.
    Memfd,
}

impl Method {
    /// Every method, cheapest first: the order [`SealedBinary::protect`] tries them in.
    pub const CHEAPEST_FIRST: [Method; 3] = [Method::Bind, Method::Overlay, Method::Memfd];

    /// The name [`PROTECT_ENV`] takes.
    pub fn name(self) -> &'static str {
        match self {
            Method::Bind => "bind",
            Method::Overlay => "overlay",
            Method::Memfd => "memfd",
        }
    }

    /// The method named `name`, if any.
    pub fn from_name(name: &str) -> Option<Method> {
        Method::CHEAPEST_FIRST
            .into_iter()
            .find(|m| m.name() == name)
    }
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The method [`PROTECT_ENV`] asks for: `Ok(None)` for automatic (unset, empty or `auto`), an error for
/// a name that is not a method.
pub fn requested_method() -> std::io::Result<Option<Method>> {
    match std::env::var_os(PROTECT_ENV) {
        None => Ok(None),
        Some(v) if v.is_empty() || v == "auto" => Ok(None),
        Some(v) => v
            .to_str()
            .and_then(Method::from_name)
            .map(Some)
            .ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!("{PROTECT_ENV}={v:?}: expected bind, overlay, memfd or auto"),
                )
            }),
    }
}

/// Whether [`UNPROTECTED_ENV`] is `1`.
pub fn unprotected_requested() -> bool {
    std::env::var_os(UNPROTECTED_ENV).is_some_and(|v| v == "1")
}

/// Whether this process runs from a memfd carrying [`SEALS`].
pub fn running_sealed() -> bool {
    running_protected() == Some(Method::Memfd)
}

/// How the file this process runs from is protected, if it is: see [`protection_of`]. Checked once
/// per process and remembered (only an exec changes the file, and an exec starts afresh).
pub fn running_protected() -> Option<Method> {
    static RUNNING: std::sync::OnceLock<Option<Method>> = std::sync::OnceLock::new();
    *RUNNING.get_or_init(|| {
        let exe = std::fs::File::open("/proc/self/exe").ok()?;
        protection_of(exe.as_fd())
    })
}

/// How the file `fd` names is protected against writes from a process that reaches it, if it is.
///
/// - [`Method::Memfd`]: a memfd carrying [`SEALS`]. The seals cannot be removed (`F_SEAL_SEAL`), and
///   `F_SEAL_WRITE` refuses every write and every new shared writable mapping, through any descriptor.
/// - [`Method::Bind`] or [`Method::Overlay`] (by the filesystem's type): a file on a **read-only mount
///   that is detached**: the mount is not in this process's mount namespace (`statmount(2)` by its
///   unique id from `statx` fails with `ENOENT`; before Linux 6.8, its id is not in
///   `/proc/self/mountinfo`). Why this is enough, and why it is checked rather than trusted from a
///   marker:
///   - read-only: opening the file for writing, through `/proc/PID/exe`, through a held `O_PATH`
///     descriptor reopened via `/proc/self/fd`, or any path on that mount, fails with `EROFS`;
///   - detached: no path in any mount namespace leads to the mount, so nobody can remount it writable
///     by path. A mount made detached (`fsmount`, `open_tree(OPEN_TREE_CLONE)`) belongs to an anonymous
///     mount namespace owned by the creator's user namespace, so `mount_setattr` on a descriptor of it
///     needs `CAP_SYS_ADMIN` there, which a container in its own user namespace does not hold; and
///     `open_tree` refuses to clone a mount of another mount namespace, so a holder cannot make a
///     writable copy either. A mount detached by a lazy unmount belongs to no namespace and cannot be
///     changed at all;
///   - a marker (an environment variable, an argument) would be set by whoever spawns the executor, and
///     could be inherited by mistake: the property itself is what the attack runs into, so that is what
///     is checked. An attached read-only mount (a read-only `/usr`, say) is not enough: whoever owns it
///     can remount it writable later, while the attacker still holds the file.
pub fn protection_of(fd: BorrowedFd<'_>) -> Option<Method> {
    // F_GET_SEALS fails with EINVAL for files that are not memfds (and with EBADF for O_PATH ones).
    if let Ok(seals) = fcntl(fd, FcntlArg::F_GET_SEALS) {
        return (seals & SEALS == SEALS).then_some(Method::Memfd);
    }
    // One fstatfs for both: the mount's flags (read-only) and the filesystem's type.
    let fs = nix::sys::statfs::fstatfs(fd).ok()?;
    if !fs.flags().contains(nix::sys::statvfs::FsFlags::ST_RDONLY) {
        return None;
    }
    if attached(fd)? {
        return None;
    }
    Some(if fs.filesystem_type().0 as i64 == OVERLAYFS_MAGIC {
        Method::Overlay
    } else {
        Method::Bind
    })
}

/// The id of the mount the file `fd` names is on (`statx` with `STATX_MNT_ID`): the first column of
/// `/proc/PID/mountinfo` when the mount is in that process's mount namespace.
pub fn mount_id(fd: BorrowedFd<'_>) -> std::io::Result<u64> {
    raw::mount_id(fd, raw::STATX_MNT_ID)
}

/// Whether the mount the file `fd` names is on is in this process's mount namespace; `None` when that
/// cannot be told. One `statmount(2)` by the mount's unique id where the kernel has it (Linux 6.8: a
/// lookup, a few microseconds); else a scan of `/proc/self/mountinfo`, which the kernel formats whole on
/// every read (about 0.1 ms here with 20 mounts, and it grows with every mount on the host).
fn attached(fd: BorrowedFd<'_>) -> Option<bool> {
    if let Ok(id) = raw::mount_id(fd, raw::STATX_MNT_ID_UNIQUE) {
        if let Ok(found) = raw::mount_in_my_namespace(id) {
            return Some(found);
        }
    }
    mount_listed(mount_id(fd).ok()?)
}

/// Whether mount `id` is in this process's mount namespace (`/proc/self/mountinfo`); `None` when that
/// cannot be read (then nothing counts as detached).
fn mount_listed(id: u64) -> Option<bool> {
    let text = std::fs::read("/proc/self/mountinfo").ok()?;
    Some(text.split(|&b| b == b'\n').any(|line| {
        let first = line.split(|&b| b == b' ').next().unwrap_or_default();
        std::str::from_utf8(first)
            .ok()
            .and_then(|s| s.parse::<u64>().ok())
            == Some(id)
    }))
}

/// A protected binary: a descriptor of a file that cannot be written, made by one of the [`Method`]s.
#[derive(Debug)]
pub struct SealedBinary {
    fd: OwnedFd,
    method: Method,
}

fn invalid(text: String) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidInput, text)
}

impl SealedBinary {
    /// Protects the binary at `path` with `method`.
    pub fn new(path: &Path, method: Method) -> std::io::Result<SealedBinary> {
        match method {
            Method::Bind => Self::bind_of(path),
            Method::Overlay => Self::overlay_of(path),
            Method::Memfd => Self::copy_of(path),
        }
    }

    /// Protects the binary at `path` with `method`, or when `None` with the cheapest method that works
    /// here ([`Method::CHEAPEST_FIRST`]: bind, overlay, then the memfd copy, which works unprivileged).
    /// The error is the last method's when none works.
    pub fn protect(path: &Path, method: Option<Method>) -> std::io::Result<SealedBinary> {
        if let Some(m) = method {
            return Self::new(path, m);
        }
        let mut last = None;
        for m in Method::CHEAPEST_FIRST {
            match Self::new(path, m) {
                Ok(s) => return Ok(s),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| std::io::Error::other("no protection method")))
    }

    /// Copies the file at `path` into a new memfd and seals it ([`Method::Memfd`]).
    pub fn copy_of(path: &Path) -> std::io::Result<SealedBinary> {
        let mut src = std::fs::File::open(path)?;
        let len = src.metadata()?.len();
        use nix::sys::memfd::{memfd_create, MFdFlags};
        let first = memfd_create(
            c"nsbootstrap",
            MFdFlags::MFD_CLOEXEC | MFdFlags::MFD_ALLOW_SEALING,
        )?;
        let fd = high(first)?;
        // std's copy uses copy_file_range or sendfile where the kernel allows, and read/write otherwise.
        let mut dst = std::fs::File::from(fd.try_clone()?);
        let copied = std::io::copy(&mut src, &mut dst)?;
        if copied != len {
            return Err(std::io::Error::other(format!(
                "copied {copied} of {len} bytes of {}",
                path.display()
            )));
        }
        // F_SEAL_WRITE fails with EBUSY while a page of the file still has a transient extra reference
        // (the kernel's LRU batching right after the copy): try again a few times before giving up.
        let mut tries = 0;
        loop {
            let e = match fcntl(
                &fd,
                FcntlArg::F_ADD_SEALS(SealFlag::from_bits_retain(SEALS)),
            ) {
                Ok(_) => break,
                Err(e) => e,
            };
            tries += 1;
            if e != Errno::EBUSY || tries == 20 {
                return Err(e.into());
            }
            std::thread::sleep(std::time::Duration::from_millis(5 * tries));
        }
        Ok(SealedBinary {
            fd,
            method: Method::Memfd,
        })
    }

    /// A read-only bind mount of the file at `path`, cloned detached ([`Method::Bind`]): the bind mount of
    /// runc 1.1, but never attached to a mount tree, so it needs no temporary mount point, sends no mount
    /// event to other namespaces, and needs no unmount.
    pub fn bind_of(path: &Path) -> std::io::Result<SealedBinary> {
        let file = open_path(path)?;
        let tree = raw::open_tree_clone(file.as_fd())?;
        raw::mount_setattr(
            tree.as_fd(),
            raw::MOUNT_ATTR_RDONLY | raw::MOUNT_ATTR_NOSUID | raw::MOUNT_ATTR_NODEV,
        )?;
        Ok(SealedBinary {
            fd: high(tree)?,
            method: Method::Bind,
        })
    }

    /// A read-only overlayfs whose upper lower layer is the directory of the file at `path`, mounted
    /// detached, and the file opened `O_PATH` inside it ([`Method::Overlay`], as runc 1.2 seals its
    /// binary). Overlayfs wants two lower layers when it has no upper one: the second is an empty tmpfs,
    /// itself detached. The overlay has no upper layer, so its superblock can never be made writable.
    pub fn overlay_of(path: &Path) -> std::io::Result<SealedBinary> {
        let file = open_path(path)?;
        // The file's path in this mount namespace, from the kernel (a symlink or /proc/self/exe resolved).
        let real = std::fs::read_link(format!("/proc/self/fd/{}", file.as_raw_fd()))?;
        let (Some(dir), Some(name)) = (real.parent(), real.file_name()) else {
            return Err(invalid(format!("{}: no directory", real.display())));
        };
        if !real.is_absolute() || name.as_bytes().ends_with(b" (deleted)") {
            return Err(invalid(format!(
                "{}: not a path in this mount namespace",
                real.display()
            )));
        }
        let dir = open(
            dir,
            OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )?;
        // The name must still be the file that was opened (a rename in between would swap them).
        let same = |a: BorrowedFd<'_>, b: BorrowedFd<'_>| -> std::io::Result<bool> {
            let (x, y) = (nix::sys::stat::fstat(a)?, nix::sys::stat::fstat(b)?);
            Ok(x.st_dev == y.st_dev && x.st_ino == y.st_ino)
        };
        let again = openat(
            &dir,
            name,
            OFlag::O_PATH | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
            Mode::empty(),
        )?;
        if !same(file.as_fd(), again.as_fd())? {
            return Err(std::io::Error::other(format!(
                "{} changed while it was being protected",
                real.display()
            )));
        }
        let empty = {
            let ctx = raw::fsopen(c"tmpfs")?;
            raw::fsconfig_create(ctx.as_fd())?;
            raw::fsmount(ctx.as_fd(), raw::MOUNT_ATTR_RDONLY)?
        };
        // Both layers by descriptor path, in one "lowerdir" (top first): no path of ours has to be
        // escaped, and kernels before "lowerdir+" (6.8) take it too.
        let layers = CString::new(format!(
            "/proc/self/fd/{}:/proc/self/fd/{}",
            dir.as_raw_fd(),
            empty.as_raw_fd()
        ))?;
        let ctx = raw::fsopen(c"overlay")?;
        raw::fsconfig_string(ctx.as_fd(), c"source", c"nsbootstrap-protect")?;
        raw::fsconfig_string(ctx.as_fd(), c"lowerdir", &layers)?;
        raw::fsconfig_create(ctx.as_fd())?;
        let mnt = raw::fsmount(
            ctx.as_fd(),
            raw::MOUNT_ATTR_RDONLY | raw::MOUNT_ATTR_NOSUID | raw::MOUNT_ATTR_NODEV,
        )?;
        let inside = openat(
            &mnt,
            name,
            OFlag::O_PATH | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
            Mode::empty(),
        )?;
        // The mount, the layers and the context go with their descriptors; the overlay lives on as long
        // as `inside` (or a process executing it) refers to it.
        Ok(SealedBinary {
            fd: high(inside)?,
            method: Method::Overlay,
        })
    }

    /// A sealed memfd copy of the running binary.
    pub fn of_current_exe() -> std::io::Result<SealedBinary> {
        Self::copy_of(Path::new("/proc/self/exe"))
    }

    /// The running binary protected with `method`, or with the cheapest that works when `None`.
    pub fn of_current_exe_with(method: Option<Method>) -> std::io::Result<SealedBinary> {
        Self::protect(Path::new("/proc/self/exe"), method)
    }

    /// The method that made it.
    pub fn method(&self) -> Method {
        self.method
    }

    /// Whether the file it holds is protected, by the same check an executor makes on itself after the
    /// re-exec ([`protection_of`]).
    pub fn is_protected(&self) -> bool {
        protection_of(self.fd.as_fd()).is_some()
    }

    /// A path that executes the binary from this process or from its children (`/proc/self/fd/N`; the
    /// descriptor is close-on-exec, and execve resolves the path before it closes such descriptors).
    pub fn exec_path(&self) -> PathBuf {
        PathBuf::from(format!("/proc/self/fd/{}", self.fd.as_raw_fd()))
    }

    /// The descriptor (a memfd, or an `O_PATH` descriptor of the file on its detached mount).
    pub fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// Re-executes this process from the protected binary with the same arguments and environment.
    pub fn reexec(&self) -> std::io::Error {
        let args: Vec<CString> = std::env::args_os()
            .map(|a: OsString| CString::new(a.as_bytes()).unwrap_or_default())
            .collect();
        let env: Vec<CString> = std::env::vars_os()
            .map(|(k, v)| {
                let mut kv = k.as_bytes().to_vec();
                kv.push(b'=');
                kv.extend_from_slice(v.as_bytes());
                CString::new(kv).unwrap_or_default()
            })
            .collect();
        // glibc's fexecve is execveat(fd, "", AT_EMPTY_PATH), which takes O_PATH descriptors too.
        match nix::unistd::fexecve(self.fd.as_fd(), &args, &env) {
            Err(e) => e.into(),
            Ok(never) => match never {},
        }
    }
}

/// `O_PATH` descriptor of the file at `path` (symlinks and `/proc/self/exe` followed).
fn open_path(path: &Path) -> std::io::Result<OwnedFd> {
    Ok(open(path, OFlag::O_PATH | OFlag::O_CLOEXEC, Mode::empty())?)
}

/// Moves a descriptor above the low numbers a runtime puts the protocol's pipes at (3 and 4), so that
/// `/proc/self/fd/N` still names it after the child's dup2 onto them.
fn high(fd: OwnedFd) -> std::io::Result<OwnedFd> {
    raw::dup_at_least(&fd, 64)
}

/// What [`ensure_protected`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protection {
    /// The process runs from a file protected by this method.
    Protected(Method),
    /// [`UNPROTECTED_ENV`] is `1`: the process runs unprotected, and the caller must say so loudly.
    Disabled,
}

/// Makes sure this process runs from a protected file: returns at once when it already does (or when
/// [`UNPROTECTED_ENV`] is `1`: [`Protection::Disabled`]), else protects the running binary with the
/// method [`PROTECT_ENV`] asks for (automatic: cheapest first) and re-executes from it; returns only on
/// failure then.
///
/// Before the re-exec, the new file is checked with the same test the re-executed process will make
/// ([`protection_of`]), so a file that would not be recognised is never exec'd (no re-exec loop).
pub fn ensure_protected() -> std::io::Result<Protection> {
    if let Some(m) = running_protected() {
        return Ok(Protection::Protected(m));
    }
    if unprotected_requested() {
        return Ok(Protection::Disabled);
    }
    let sealed = SealedBinary::of_current_exe_with(requested_method()?)?;
    if !sealed.is_protected() {
        return Err(std::io::Error::other(format!(
            "the {} copy of the binary is not recognised as protected",
            sealed.method()
        )));
    }
    if sealed.method() != Method::Memfd {
        // The descriptor of a detached mount dissolves the mount when it is closed, which waits for an
        // RCU grace period. Closed by the exec, that would happen before the re-executed image's first
        // instruction; kept open across it, the executor closes it after its work ([`held_mount_fd`]).
        fcntl(&sealed.fd, FcntlArg::F_SETFD(nix::fcntl::FdFlag::empty()))?;
    }
    Err(sealed.reexec())
}

/// The descriptor of the detached mount this process runs from that [`ensure_protected`] kept open
/// across the re-exec, if there is one: an `O_PATH` descriptor among the first four numbers from 64
/// (where [`SealedBinary`] puts its descriptor) that names the file `/proc/self/exe` names, on the same mount.
/// The caller owns it: closing it dissolves the mount (the running image keeps the file), which is
/// cheaper after the work that is waited for than before.
pub fn held_mount_fd() -> Option<std::os::fd::RawFd> {
    // Usually nothing is open there (one F_GETFL each, failing with EBADF): only then is the file
    // /proc/self/exe names looked at.
    let open: Vec<(std::os::fd::RawFd, BorrowedFd<'_>)> = (64..68)
        .filter_map(|n| Some((n, raw::borrow_o_path(n)?)))
        .collect();
    if open.is_empty() {
        return None;
    }
    let exe = open_path(Path::new("/proc/self/exe")).ok()?;
    let id = mount_id(exe.as_fd()).ok()?;
    let st = nix::sys::stat::fstat(&exe).ok()?;
    open.into_iter()
        .find(|&(_, fd)| {
            nix::sys::stat::fstat(fd).is_ok_and(|h| h.st_dev == st.st_dev && h.st_ino == st.st_ino)
                && mount_id(fd).is_ok_and(|m| m == id)
        })
        .map(|(n, _)| n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_root() -> bool {
        std::fs::metadata("/proc/self").is_ok_and(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
    }

    /// Opens `path` for writing and writes: `Ok(())` when a write went through.
    fn try_write(path: &Path) -> std::io::Result<()> {
        use std::io::Write;
        std::fs::OpenOptions::new()
            .write(true)
            .open(path)?
            .write_all(b"\x7fELF-overwritten")
    }

    fn check_method(m: Method) {
        let copy = SealedBinary::new(Path::new("/bin/true"), m).unwrap();
        assert_eq!(copy.method(), m);
        assert_eq!(protection_of(copy.as_fd()), Some(m), "{m} not recognised");
        assert!(
            try_write(&copy.exec_path()).is_err(),
            "{m}: a write went through"
        );
        let status = std::process::Command::new(copy.exec_path())
            .status()
            .unwrap();
        assert!(status.success(), "{m}: the protected binary does not run");
    }

    #[test]
    fn a_sealed_copy_refuses_writes_and_runs() {
        check_method(Method::Memfd);
    }

    /// As root the mount-based method works and protects; unprivileged (no `CAP_SYS_ADMIN` over the
    /// mount namespace) it is refused, which is why the memfd copy exists.
    fn check_mount_method(m: Method) {
        if is_root() {
            check_method(m);
        } else {
            let e = SealedBinary::new(Path::new("/bin/true"), m).unwrap_err();
            assert_eq!(e.raw_os_error(), Some(libc::EPERM), "{m}: {e}");
        }
    }

    #[test]
    fn a_detached_bind_mount_refuses_writes_and_runs() {
        check_mount_method(Method::Bind);
    }

    #[test]
    fn a_detached_overlay_refuses_writes_and_runs() {
        check_mount_method(Method::Overlay);
    }

    #[test]
    fn files_on_disk_and_attached_read_only_mounts_are_not_protected() {
        let f = std::fs::File::open("/bin/true").unwrap();
        assert_eq!(protection_of(f.as_fd()), None);
        // /proc/self/exe of the test binary: on disk, writable mount.
        assert_eq!(running_protected(), None);
        // An unsealed memfd is not protected either.
        let m =
            nix::sys::memfd::memfd_create(c"t", nix::sys::memfd::MFdFlags::MFD_CLOEXEC).unwrap();
        assert_eq!(protection_of(m.as_fd()), None);
        // /proc is attached (listed in mountinfo) even where a file of it is not writable.
        let p = std::fs::File::open("/proc/self/status").unwrap();
        if nix::sys::statvfs::fstatvfs(p.as_fd())
            .unwrap()
            .flags()
            .contains(nix::sys::statvfs::FsFlags::ST_RDONLY)
        {
            assert_eq!(protection_of(p.as_fd()), None);
        }
    }

    #[test]
    fn statmount_and_mountinfo_agree_on_what_is_attached() {
        let on_disk = std::fs::File::open("/bin/true").unwrap();
        let mut files = vec![(on_disk.as_fd().try_clone_to_owned().unwrap(), true)];
        if is_root() {
            for m in [Method::Bind, Method::Overlay] {
                let s = SealedBinary::new(Path::new("/bin/true"), m).unwrap();
                files.push((s.fd.try_clone().unwrap(), false));
            }
        }
        for (fd, expected) in files {
            let by_mountinfo = mount_listed(mount_id(fd.as_fd()).unwrap()).unwrap();
            assert_eq!(by_mountinfo, expected);
            let unique = raw::mount_id(fd.as_fd(), raw::STATX_MNT_ID_UNIQUE);
            if let Ok(Ok(found)) = unique.map(raw::mount_in_my_namespace) {
                assert_eq!(found, expected, "statmount disagrees with mountinfo");
            }
            assert_eq!(attached(fd.as_fd()), Some(expected));
        }
    }

    #[test]
    fn automatic_protection_picks_the_cheapest_that_works() {
        let s = SealedBinary::protect(Path::new("/bin/true"), None).unwrap();
        let expected = if is_root() {
            Method::Bind
        } else {
            Method::Memfd
        };
        assert_eq!(s.method(), expected);
        assert!(s.is_protected());
    }

    #[test]
    fn method_names_round_trip() {
        for m in Method::CHEAPEST_FIRST {
            assert_eq!(Method::from_name(m.name()), Some(m));
        }
        assert_eq!(Method::from_name("copy"), None);
    }
}
