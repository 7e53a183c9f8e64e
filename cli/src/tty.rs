//! `run --tty`: a new pseudo-terminal for the command, relayed to the caller's terminal.
//!
//! The slave's path goes to the executor as the protocol's console path (spec section 13), so the command
//! gets it as its controlling terminal in a new session and job control works inside. `run` copies bytes
//! both ways with the caller's terminal in raw mode (restored on every way out: the command's end, a
//! stop, an error, a panic), and passes window size changes on.

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::termios::{self, SetArg, Termios};
use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::PathBuf;

/// A pseudo-terminal pair: the master, and the slave's path for the executor.
pub struct Pty {
    master: OwnedFd,
    /// The slave's path (`/dev/pts/N`).
    pub slave_path: PathBuf,
}

impl Pty {
    /// Opens a pair sized like the caller's terminal.
    pub fn open() -> Result<Pty, String> {
        let p = nix::pty::openpty(None, None).map_err(|e| format!("--tty: openpty: {e}"))?;
        let slave_path = nix::unistd::ttyname(p.slave.as_fd())
            .map_err(|e| format!("--tty: the new terminal's name: {e}"))?;
        crate::raw::copy_window_size(std::io::stdin().as_raw_fd(), p.master.as_raw_fd());
        // The executor opens the slave by its path; the master keeps the pair alive meanwhile.
        drop(p.slave);
        Ok(Pty {
            master: p.master,
            slave_path,
        })
    }

    /// Puts the caller's terminal in raw mode and starts copying both ways.
    pub fn start_relay(&mut self) -> Result<Relay, String> {
        let stdin = std::io::stdin();
        let saved = termios::tcgetattr(stdin.as_fd()).ok();
        let mut relay = Relay {
            saved,
            master: self.master.as_raw_fd(),
            output: None,
            input: None,
            stop: None,
        };
        relay.resume();
        let master_in = self.master.try_clone().map_err(|e| format!("--tty: {e}"))?;
        let master_out = self.master.try_clone().map_err(|e| format!("--tty: {e}"))?;
        // Keyboard to command, until `finish` says stop: the thread reads only when poll(2) says there is
        // input, so that nothing typed after the command's end is taken from the caller's shell.
        let (stop_read, stop_write) =
            nix::unistd::pipe().map_err(|e| format!("--tty: pipe: {e}"))?;
        relay.stop = Some(stop_write);
        relay.input = Some(std::thread::spawn(move || {
            let mut to = std::fs::File::from(master_in);
            let mut buf = [0u8; 4096];
            let stdin = std::io::stdin();
            loop {
                let mut fds = [
                    PollFd::new(stdin.as_fd(), PollFlags::POLLIN),
                    PollFd::new(stop_read.as_fd(), PollFlags::POLLIN),
                ];
                match poll(&mut fds, PollTimeout::NONE) {
                    Err(nix::errno::Errno::EINTR) => continue,
                    Err(_) => break,
                    Ok(_) => {}
                }
                if fds[1].any().unwrap_or(true) {
                    break;
                }
                match nix::unistd::read(stdin.as_fd(), &mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if to.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                }
            }
        }));
        // Command to screen, until every holder of the slave is gone (EIO).
        relay.output = Some(std::thread::spawn(move || {
            let mut from = std::fs::File::from(master_out);
            let mut buf = [0u8; 4096];
            let mut stdout = std::io::stdout();
            while let Ok(n) = from.read(&mut buf) {
                if n == 0 || stdout.write_all(&buf[..n]).is_err() {
                    break;
                }
                let _ = stdout.flush();
            }
        }));
        Ok(relay)
    }
}

/// The running relay; dropping it restores the caller's terminal.
pub struct Relay {
    saved: Option<Termios>,
    master: std::os::fd::RawFd,
    output: Option<std::thread::JoinHandle<()>>,
    input: Option<std::thread::JoinHandle<()>>,
    stop: Option<OwnedFd>,
}

impl Relay {
    /// Gives the caller's terminal its own modes back (before `run` stops, or at the end).
    pub fn suspend(&mut self) {
        if let Some(t) = &self.saved {
            let _ = termios::tcsetattr(std::io::stdin().as_fd(), SetArg::TCSADRAIN, t);
        }
    }

    /// Raw mode again (at the start, and when `run` is continued), and the window size.
    pub fn resume(&mut self) {
        if let Some(t) = &self.saved {
            let mut raw = t.clone();
            termios::cfmakeraw(&mut raw);
            let _ = termios::tcsetattr(std::io::stdin().as_fd(), SetArg::TCSADRAIN, &raw);
        }
        self.pass_window_size();
    }

    /// Copies the caller's window size to the command's terminal (which signals SIGWINCH inside).
    pub fn pass_window_size(&mut self) {
        crate::raw::copy_window_size(std::io::stdin().as_raw_fd(), self.master);
    }

    /// Copies what the command wrote last, then restores the terminal.
    pub fn finish(mut self) {
        if let Some(t) = self.output.take() {
            let _ = t.join();
        }
        // Closing the stop pipe wakes the input thread's poll.
        drop(self.stop.take());
        if let Some(t) = self.input.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.suspend();
    }
}
