//! The only module of the protection with `unsafe` code; the rest of the crate denies `unsafe_code`.
//!
//! What stays here, and why: system calls that nix 0.32 does not wrap (the new mount API: `fsopen`,
//! `fsconfig`, `fsmount`, `open_tree`, `mount_setattr`; `statx` for the mount id), and duplicating a
//! descriptor to a number of at least N (`F_DUPFD_CLOEXEC`), which nix returns as a plain number. Each
//! new descriptor is owned (`OwnedFd`) the moment the kernel returns it.

use std::ffi::CStr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

// The new mount API's constants (include/uapi/linux/mount.h), defined here because libc has only some
// of them, and not on every target.
const FSOPEN_CLOEXEC: libc::c_uint = 0x1;
const FSCONFIG_SET_STRING: libc::c_uint = 1;
const FSCONFIG_CMD_CREATE: libc::c_uint = 6;
const FSMOUNT_CLOEXEC: libc::c_uint = 0x1;
const OPEN_TREE_CLONE: libc::c_uint = 0x1;
/// `MOUNT_ATTR_RDONLY`.
pub(crate) const MOUNT_ATTR_RDONLY: u64 = 0x1;
/// `MOUNT_ATTR_NOSUID`.
pub(crate) const MOUNT_ATTR_NOSUID: u64 = 0x2;
/// `MOUNT_ATTR_NODEV`.
pub(crate) const MOUNT_ATTR_NODEV: u64 = 0x4;

/// `struct mount_attr` (the first version, 32 bytes).
#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

/// Owns the descriptor a system call returned, or reads errno when it returned a negative number.
fn owned(ret: libc::c_long) -> std::io::Result<OwnedFd> {
    if ret < 0 {
        return Err(std::io::Error::last_os_error());
    }
    let fd = RawFd::try_from(ret).map_err(|_| std::io::Error::from_raw_os_error(libc::EBADF))?;
    // SAFETY: the caller passes the return value of a system call that returns a new descriptor on
    // success; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn zero(ret: libc::c_long) -> std::io::Result<()> {
    if ret < 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// A close-on-exec duplicate of `fd` at the lowest free number of at least `min`.
pub(crate) fn dup_at_least(fd: impl AsFd, min: RawFd) -> std::io::Result<OwnedFd> {
    // SAFETY: F_DUPFD_CLOEXEC takes a descriptor borrowed for the call and an integer, and touches no
    // memory of ours.
    let high = unsafe { libc::fcntl(fd.as_fd().as_raw_fd(), libc::F_DUPFD_CLOEXEC, min) };
    owned(high.into())
}

/// `fsopen(name, FSOPEN_CLOEXEC)`: a filesystem context.
pub(crate) fn fsopen(name: &CStr) -> std::io::Result<OwnedFd> {
    // SAFETY: `name` is NUL-terminated and outlives the call; the kernel only reads it.
    owned(unsafe { libc::syscall(libc::SYS_fsopen, name.as_ptr(), FSOPEN_CLOEXEC) })
}

/// `fsconfig(ctx, FSCONFIG_SET_STRING, key, value, 0)`.
pub(crate) fn fsconfig_string(
    ctx: BorrowedFd<'_>,
    key: &CStr,
    value: &CStr,
) -> std::io::Result<()> {
    // SAFETY: both strings are NUL-terminated and outlive the call; the kernel only reads them.
    zero(unsafe {
        libc::syscall(
            libc::SYS_fsconfig,
            ctx.as_raw_fd(),
            FSCONFIG_SET_STRING,
            key.as_ptr(),
            value.as_ptr(),
            0,
        )
    })
}

/// `fsconfig(ctx, FSCONFIG_CMD_CREATE, NULL, NULL, 0)`: makes the superblock.
pub(crate) fn fsconfig_create(ctx: BorrowedFd<'_>) -> std::io::Result<()> {
    // SAFETY: no pointer is passed (both are null, as the command requires).
    zero(unsafe {
        libc::syscall(
            libc::SYS_fsconfig,
            ctx.as_raw_fd(),
            FSCONFIG_CMD_CREATE,
            std::ptr::null::<libc::c_char>(),
            std::ptr::null::<libc::c_void>(),
            0,
        )
    })
}

/// `fsmount(ctx, FSMOUNT_CLOEXEC, attrs)`: a detached mount of the context's superblock (attached to no
/// mount namespace's tree), as a descriptor of its root.
pub(crate) fn fsmount(ctx: BorrowedFd<'_>, attrs: u64) -> std::io::Result<OwnedFd> {
    let attrs = libc::c_uint::try_from(attrs).map_err(|_| std::io::Error::other("attrs"))?;
    // SAFETY: integers only.
    owned(unsafe { libc::syscall(libc::SYS_fsmount, ctx.as_raw_fd(), FSMOUNT_CLOEXEC, attrs) })
}

/// `open_tree(file, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH)`: a detached bind mount of
/// the file `file` names, as an `O_PATH` descriptor of its root (the file). Not recursive (no
/// `AT_RECURSIVE`): a file has no submounts anyway.
pub(crate) fn open_tree_clone(file: BorrowedFd<'_>) -> std::io::Result<OwnedFd> {
    let flags =
        OPEN_TREE_CLONE | libc::O_CLOEXEC as libc::c_uint | libc::AT_EMPTY_PATH as libc::c_uint;
    // SAFETY: an empty NUL-terminated path (with AT_EMPTY_PATH the descriptor itself is the source) and
    // integers; the kernel only reads the path.
    owned(unsafe { libc::syscall(libc::SYS_open_tree, file.as_raw_fd(), c"".as_ptr(), flags) })
}

/// `mount_setattr(fd, "", AT_EMPTY_PATH, {attr_set})`: sets attributes of the mount `fd` is on.
pub(crate) fn mount_setattr(fd: BorrowedFd<'_>, attr_set: u64) -> std::io::Result<()> {
    let attr = MountAttr {
        attr_set,
        attr_clr: 0,
        propagation: 0,
        userns_fd: 0,
    };
    // SAFETY: `attr` is a valid `struct mount_attr` whose size is passed with it, the path is an empty
    // NUL-terminated string; the kernel only reads both during the call.
    zero(unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            fd.as_raw_fd(),
            c"".as_ptr(),
            libc::AT_EMPTY_PATH as libc::c_uint,
            &attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    })
}

/// `STATX_MNT_ID`: the mount id of `/proc/PID/mountinfo`'s first column (reused after unmount).
pub(crate) const STATX_MNT_ID: libc::c_uint = 0x1000;
/// `STATX_MNT_ID_UNIQUE` (Linux 6.8): the 64-bit mount id `statmount` takes (never reused).
pub(crate) const STATX_MNT_ID_UNIQUE: libc::c_uint = 0x4000;

/// The id of the mount `fd` is on (`statx` with `which`: [`STATX_MNT_ID`] or [`STATX_MNT_ID_UNIQUE`]);
/// `ENOSYS` when the kernel does not fill that id in.
pub(crate) fn mount_id(fd: BorrowedFd<'_>, which: libc::c_uint) -> std::io::Result<u64> {
    let mut st = std::mem::MaybeUninit::<libc::statx>::zeroed();
    // SAFETY: `st` is valid for writes of one `struct statx`, the path is an empty NUL-terminated string.
    let r = unsafe {
        libc::syscall(
            libc::SYS_statx,
            fd.as_raw_fd(),
            c"".as_ptr(),
            libc::AT_EMPTY_PATH,
            which,
            st.as_mut_ptr(),
        )
    };
    zero(r)?;
    // SAFETY: zero-initialised, then filled by a successful statx: every field is an integer.
    let st = unsafe { st.assume_init() };
    if st.stx_mask & which == 0 {
        return Err(std::io::Error::from_raw_os_error(libc::ENOSYS));
    }
    Ok(st.stx_mnt_id)
}

/// Whether the mount with unique id `id` is in this process's mount namespace: `statmount(2)` (Linux
/// 6.8) looks the id up in the caller's namespace only, and fails with `ENOENT` for a mount that is not
/// there (detached, or another namespace's). Other errors (`ENOSYS` on older kernels) are returned.
pub(crate) fn mount_in_my_namespace(id: u64) -> std::io::Result<bool> {
    /// `struct mnt_id_req`, first version (`MNT_ID_REQ_SIZE_VER0`, 24 bytes).
    #[repr(C)]
    struct MntIdReq {
        size: u32,
        spare: u32,
        mnt_id: u64,
        param: u64,
    }
    const SYS_STATMOUNT: libc::c_long = 457;
    let req = MntIdReq {
        size: std::mem::size_of::<MntIdReq>() as u32,
        spare: 0,
        mnt_id: id,
        param: 0,
    };
    // The fixed part of `struct statmount` (its `size` and `mask` and the basic fields); nothing is
    // asked for (`param` 0), so the kernel writes only that part.
    let mut buf = [0u64; 64];
    // SAFETY: `req` is a valid request whose size it carries; `buf` is valid for writes of its length in
    // bytes, which is passed; the kernel touches both only during the call.
    let r = unsafe {
        libc::syscall(
            SYS_STATMOUNT,
            &req as *const MntIdReq,
            buf.as_mut_ptr(),
            std::mem::size_of_val(&buf),
            0,
        )
    };
    if r == 0 {
        return Ok(true);
    }
    let e = std::io::Error::last_os_error();
    if e.raw_os_error() == Some(libc::ENOENT) {
        Ok(false)
    } else {
        Err(e)
    }
}

/// Borrows descriptor `n` when it is open as an `O_PATH` descriptor (one `F_GETFL`, which fails with
/// `EBADF` for a closed number). The caller uses the borrow at once and closes nothing meanwhile (the
/// executor's single-threaded start-up).
pub(crate) fn borrow_o_path<'a>(n: RawFd) -> Option<BorrowedFd<'a>> {
    // SAFETY: F_GETFL takes an integer and touches no memory.
    let fl = unsafe { libc::fcntl(n, libc::F_GETFL) };
    if fl < 0 || fl & libc::O_PATH == 0 {
        return None;
    }
    // SAFETY: `n` is open (F_GETFL just succeeded); the caller's checks follow at once and nothing
    // closes a descriptor in between.
    Some(unsafe { BorrowedFd::borrow_raw(n) })
}
