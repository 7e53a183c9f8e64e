//! # nsbootstrap-protect
//!
//! Protection of the executor's own binary (the CVE-2019-5736 class).
//!
//! A process inside the container can reach the binary a stage runs from through `/proc/PID/exe` and, once
//! the stage has exec'd or exited, try to open it for writing and replace the host's executor. The
//! executor therefore never runs from its file on disk: `nsbootstrap init` re-executes itself from a
//! sealed memfd copy (write, grow, shrink and further sealing forbidden) before it reads the message, the
//! way runc up to 1.1 does. A runtime that spawns many executors makes the sealed copy once
//! ([`SealedBinary`]) and spawns `/proc/self/fd/N`, so each bootstrap finds itself already sealed and pays
//! nothing. Whatever reaches `/proc/PID/exe` then reaches a memfd that cannot be written.

#![deny(unsafe_code)]

#[allow(unsafe_code)]
mod raw;

use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg, SealFlag};
use std::ffi::{CString, OsString};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

/// The seals a protected copy carries.
pub const SEALS: libc::c_int =
    libc::F_SEAL_SEAL | libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_WRITE;

/// The environment variable that, set to `1`, turns the protection off (for measurements only).
pub const UNPROTECTED_ENV: &str = "NSBOOTSTRAP_UNPROTECTED";

/// Whether this process runs from a memfd carrying [`SEALS`].
pub fn running_sealed() -> bool {
    let Ok(exe) = std::fs::File::open("/proc/self/exe") else {
        return false;
    };
    // F_GET_SEALS fails with EINVAL for files that are not memfds.
    fcntl(&exe, FcntlArg::F_GET_SEALS).is_ok_and(|seals| seals & SEALS == SEALS)
}

/// A sealed memfd copy of a binary.
#[derive(Debug)]
pub struct SealedBinary {
    fd: OwnedFd,
}

impl SealedBinary {
    /// Copies the file at `path` into a new memfd and seals it.
    pub fn copy_of(path: &std::path::Path) -> std::io::Result<SealedBinary> {
        let mut src = std::fs::File::open(path)?;
        let len = src.metadata()?.len();
        use nix::sys::memfd::{memfd_create, MFdFlags};
        let first = memfd_create(
            c"nsbootstrap",
            MFdFlags::MFD_CLOEXEC | MFdFlags::MFD_ALLOW_SEALING,
        )?;
        // Move it above the low numbers a runtime puts the protocol's pipes at (3 and 4), so that
        // `/proc/self/fd/N` still names the copy after the child's dup2 onto them; the first number is
        // closed when `first` drops.
        let fd = raw::dup_at_least(&first, 64)?;
        drop(first);
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
        Ok(SealedBinary { fd })
    }

    /// A sealed copy of the running binary.
    pub fn of_current_exe() -> std::io::Result<SealedBinary> {
        Self::copy_of(std::path::Path::new("/proc/self/exe"))
    }

    /// A path that executes the copy from this process or from its children (`/proc/self/fd/N`; the
    /// descriptor is close-on-exec, and execve resolves the path before it closes such descriptors).
    pub fn exec_path(&self) -> std::path::PathBuf {
        std::path::PathBuf::from(format!("/proc/self/fd/{}", self.fd.as_raw_fd()))
    }

    /// Re-executes this process from the copy with the same arguments and environment.
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
        match nix::unistd::fexecve(&self.fd, &args, &env) {
            Err(e) => e.into(),
            Ok(never) => match never {},
        }
    }
}

/// Makes sure this process runs from a sealed copy: returns at once when it already does (or when
/// [`UNPROTECTED_ENV`] is `1`), else re-executes from a fresh copy and returns only on failure.
pub fn ensure_sealed() -> std::io::Result<()> {
    if running_sealed() || std::env::var_os(UNPROTECTED_ENV).is_some_and(|v| v == "1") {
        return Ok(());
    }
    let copy = SealedBinary::of_current_exe()?;
    Err(copy.reexec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_copy_refuses_writes() {
        let copy = SealedBinary::copy_of(std::path::Path::new("/bin/true")).unwrap();
        let path = copy.exec_path();
        let w = std::fs::OpenOptions::new().write(true).open(&path);
        if let Ok(mut f) = w {
            use std::io::Write;
            assert!(
                f.write_all(b"x").is_err(),
                "a write to the sealed copy went through"
            );
        }
        let status = std::process::Command::new(&path).status().unwrap();
        assert!(status.success());
    }
}
