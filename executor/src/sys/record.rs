//! A recording double of [`Sys`] for the stage-logic tests: every call becomes a typed [`Call`]; reads,
//! clones and failures of file writes are scripted.

use super::{Cloned, Sys};
use nix::errno::Errno;
use nsbootstrap_codec::NamespaceKind;
use std::collections::VecDeque;
use std::ffi::CStr;
use std::os::fd::RawFd;

/// One recorded system call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Call {
    /// open(2) read-only, and the descriptor it returned.
    Open {
        path: String,
        fd: RawFd,
    },
    /// open(2) read-write.
    OpenRdwr {
        path: String,
    },
    /// open(2) with O_PATH.
    OpenPath {
        path: String,
    },
    SendFd {
        sock: RawFd,
        fd: RawFd,
    },
    RecvFd {
        sock: RawFd,
    },
    Dup3 {
        fd: RawFd,
        to: RawFd,
    },
    /// close(2) of a descriptor numbered 100 or more (the ones the double hands out).
    Close(RawFd),
    Setns {
        fd: RawFd,
        kind: NamespaceKind,
    },
    Unshare(u32),
    Dumpable(bool),
    Name(String),
    /// A whole-file write to `path`.
    Write {
        path: String,
        data: Vec<u8>,
    },
    Clone(Cloned),
    /// write_all on a descriptor (a sync value, a sync value and its argument, the PID report).
    Send {
        fd: RawFd,
        bytes: Vec<u8>,
    },
    /// read_exact; `None` at end of file.
    Recv {
        fd: RawFd,
        bytes: Option<Vec<u8>>,
    },
    Setsid,
    Setresuid0,
    Setuid0,
    Setgid0,
    ClearGroups,
    Tiocsctty(RawFd),
    Dup2 {
        fd: RawFd,
        to: RawFd,
    },
    Kill(i32),
    /// A helper run, its argv.
    Run(Vec<String>),
    Exit(i32),
}

impl Call {
    /// A write of one sync value.
    pub(crate) fn send_word(fd: RawFd, v: u32) -> Call {
        Call::Send {
            fd,
            bytes: v.to_ne_bytes().to_vec(),
        }
    }

    /// A write of a sync value followed by its 4-byte argument (RECVPID_PLS and the PID), in one write.
    pub(crate) fn send_words(fd: RawFd, v: u32, arg: u32) -> Call {
        let mut bytes = v.to_ne_bytes().to_vec();
        bytes.extend_from_slice(&arg.to_ne_bytes());
        Call::Send { fd, bytes }
    }
}

/// What [`Sys::exit`] unwinds with, so that a test sees the exit code.
pub(crate) struct Exit(pub(crate) i32);

/// Records every call; answers reads, clones and file writes from scripts.
#[derive(Default)]
pub(crate) struct Recorder {
    pub(crate) calls: Vec<Call>,
    /// What successive read_exact calls return (end of file once empty).
    pub(crate) reads: VecDeque<Vec<u8>>,
    /// What successive clones return.
    pub(crate) clones: VecDeque<Cloned>,
    /// File writes whose path ends with one of these fail with EPERM.
    pub(crate) eperm_on: Vec<&'static str>,
    pub(crate) next_fd: RawFd,
    pub(crate) pairs: RawFd,
}

fn text(path: &CStr) -> String {
    path.to_string_lossy().into_owned()
}

impl Sys for &mut Recorder {
    fn open_read(&mut self, path: &CStr) -> Result<RawFd, Errno> {
        self.next_fd += 1;
        let fd = 100 + self.next_fd;
        self.calls.push(Call::Open {
            path: text(path),
            fd,
        });
        Ok(fd)
    }
    fn open_rdwr(&mut self, path: &CStr) -> Result<RawFd, Errno> {
        self.calls.push(Call::OpenRdwr { path: text(path) });
        Ok(200)
    }
    fn open_path(&mut self, path: &CStr) -> Result<RawFd, Errno> {
        self.calls.push(Call::OpenPath { path: text(path) });
        Ok(300)
    }
    fn send_fd(&mut self, sock: RawFd, fd: RawFd) -> Result<(), Errno> {
        self.calls.push(Call::SendFd { sock, fd });
        Ok(())
    }
    fn recv_fd(&mut self, sock: RawFd) -> Result<RawFd, Errno> {
        self.calls.push(Call::RecvFd { sock });
        Ok(301)
    }
    fn dup3_cloexec(&mut self, fd: RawFd, to: RawFd) -> Result<(), Errno> {
        self.calls.push(Call::Dup3 { fd, to });
        Ok(())
    }
    fn close(&mut self, fd: RawFd) {
        if fd >= 100 {
            self.calls.push(Call::Close(fd));
        }
    }
    fn setns(&mut self, fd: RawFd, kind: NamespaceKind) -> Result<(), Errno> {
        self.calls.push(Call::Setns { fd, kind });
        Ok(())
    }
    fn unshare(&mut self, flags: u32) -> Result<(), Errno> {
        self.calls.push(Call::Unshare(flags));
        Ok(())
    }
    fn set_dumpable(&mut self, on: bool) -> Result<(), Errno> {
        self.calls.push(Call::Dumpable(on));
        Ok(())
    }
    fn set_name(&mut self, name: &CStr) {
        self.calls.push(Call::Name(text(name)));
    }
    fn write_file(&mut self, path: &CStr, data: &[u8]) -> Result<(), Errno> {
        let p = text(path);
        let fail = self.eperm_on.iter().any(|s| p.ends_with(s));
        self.calls.push(Call::Write {
            path: p,
            data: data.to_vec(),
        });
        if fail {
            return Err(Errno::EPERM);
        }
        Ok(())
    }
    fn socketpair(&mut self) -> Result<[RawFd; 2], Errno> {
        self.pairs += 1;
        Ok([8 + 2 * self.pairs, 9 + 2 * self.pairs])
    }
    fn clone_parent(&mut self) -> Result<Cloned, Errno> {
        let c = self.clones.pop_front().expect("a scripted clone");
        self.calls.push(Call::Clone(c));
        Ok(c)
    }
    fn write_all(&mut self, fd: RawFd, bytes: &[u8]) -> Result<(), Errno> {
        self.calls.push(Call::Send {
            fd,
            bytes: bytes.to_vec(),
        });
        Ok(())
    }
    fn read_exact(&mut self, fd: RawFd, buf: &mut [u8]) -> Result<bool, Errno> {
        match self.reads.pop_front() {
            Some(b) => {
                buf.copy_from_slice(&b);
                self.calls.push(Call::Recv { fd, bytes: Some(b) });
                Ok(true)
            }
            None => {
                self.calls.push(Call::Recv { fd, bytes: None });
                Ok(false)
            }
        }
    }
    fn read(&mut self, _fd: RawFd, _buf: &mut [u8]) -> Result<usize, Errno> {
        Ok(0)
    }
    fn wait_either(&mut self, _a: RawFd, _b: RawFd) -> Result<usize, Errno> {
        Ok(0)
    }
    fn setsid(&mut self) -> Result<(), Errno> {
        self.calls.push(Call::Setsid);
        Ok(())
    }
    fn become_root_uid(&mut self) -> Result<(), Errno> {
        self.calls.push(Call::Setresuid0);
        Ok(())
    }
    fn setuid_root(&mut self) -> Result<(), Errno> {
        self.calls.push(Call::Setuid0);
        Ok(())
    }
    fn setgid_root(&mut self) -> Result<(), Errno> {
        self.calls.push(Call::Setgid0);
        Ok(())
    }
    fn clear_groups(&mut self) -> Result<(), Errno> {
        self.calls.push(Call::ClearGroups);
        Ok(())
    }
    fn set_controlling_tty(&mut self, fd: RawFd) -> Result<(), Errno> {
        self.calls.push(Call::Tiocsctty(fd));
        Ok(())
    }
    fn dup2(&mut self, fd: RawFd, to: RawFd) -> Result<(), Errno> {
        self.calls.push(Call::Dup2 { fd, to });
        Ok(())
    }
    fn kill(&mut self, pid: i32) {
        if pid > 0 {
            self.calls.push(Call::Kill(pid));
        }
    }
    fn run(&mut self, argv: &[&CStr]) -> Result<i32, Errno> {
        self.calls
            .push(Call::Run(argv.iter().map(|a| text(a)).collect()));
        Ok(0)
    }
    fn exit(&mut self, code: i32) -> ! {
        self.calls.push(Call::Exit(code));
        std::panic::resume_unwind(Box::new(Exit(code)))
    }
}
