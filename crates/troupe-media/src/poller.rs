//! What a worker waits on: its UDP socket and its ICE-TCP connections. Level-triggered, like
//! the single `poll` it replaces, so the loop's habit of taking one batch per wake-up stays
//! correct: whatever is left is reported again. On Linux an epoll set (a wait costs the same
//! with one connection or thousands); elsewhere `poll` over the registered descriptors.

use std::{io, os::fd::RawFd, time::Duration};

/// One descriptor that is ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ready {
    pub token: u64,
    pub readable: bool,
    pub writable: bool,
    /// Hung up or in error: reading tells which.
    pub closed: bool,
}

/// Rounds up: a wait shorter than a millisecond must not become a busy loop.
fn millis(timeout: Duration) -> libc::c_int {
    timeout.as_micros().div_ceil(1000).min(i32::MAX as u128) as libc::c_int
}

#[cfg(target_os = "linux")]
pub struct Poller {
    epoll: std::os::fd::OwnedFd,
    events: Vec<libc::epoll_event>,
}

#[cfg(target_os = "linux")]
impl Poller {
    pub fn new() -> io::Result<Poller> {
        use std::os::fd::FromRawFd;
        // SAFETY: no pointers; a negative result is an error.
        let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: a fresh descriptor this value now owns.
        let epoll = unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) };
        let empty = libc::epoll_event { events: 0, u64: 0 };
        Ok(Poller { epoll, events: vec![empty; 256] })
    }

    fn control(&self, op: libc::c_int, fd: RawFd, token: u64, writable: bool) -> io::Result<()> {
        use std::os::fd::AsRawFd;
        let mut interest = (libc::EPOLLIN | libc::EPOLLRDHUP) as u32;
        if writable {
            interest |= libc::EPOLLOUT as u32;
        }
        let mut event = libc::epoll_event { events: interest, u64: token };
        // SAFETY: a valid epoll descriptor and event.
        let result = unsafe { libc::epoll_ctl(self.epoll.as_raw_fd(), op, fd, &mut event) };
        if result < 0 { Err(io::Error::last_os_error()) } else { Ok(()) }
    }

    /// Watches `fd` for reading (and writing, when `writable`).
    pub fn add(&mut self, fd: RawFd, token: u64, writable: bool) -> io::Result<()> {
        self.control(libc::EPOLL_CTL_ADD, fd, token, writable)
    }

    /// Changes whether `fd` is watched for writing.
    pub fn modify(&mut self, fd: RawFd, token: u64, writable: bool) -> io::Result<()> {
        self.control(libc::EPOLL_CTL_MOD, fd, token, writable)
    }

    pub fn remove(&mut self, fd: RawFd) {
        let _ = self.control(libc::EPOLL_CTL_DEL, fd, 0, false);
    }

    /// Waits up to `timeout`, then lists what is ready in `ready` (emptied first).
    pub fn wait(&mut self, timeout: Duration, ready: &mut Vec<Ready>) -> io::Result<()> {
        use std::os::fd::AsRawFd;
        ready.clear();
        // SAFETY: the buffer holds `len` events and outlives the call.
        let n = unsafe {
            libc::epoll_wait(
                self.epoll.as_raw_fd(),
                self.events.as_mut_ptr(),
                self.events.len() as libc::c_int,
                millis(timeout),
            )
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            return if e.kind() == io::ErrorKind::Interrupted { Ok(()) } else { Err(e) };
        }
        for event in &self.events[..n as usize] {
            let flags = event.events as libc::c_int;
            ready.push(Ready {
                token: event.u64,
                readable: flags & libc::EPOLLIN != 0,
                writable: flags & libc::EPOLLOUT != 0,
                closed: flags & (libc::EPOLLHUP | libc::EPOLLERR | libc::EPOLLRDHUP) != 0,
            });
        }
        Ok(())
    }
}

#[cfg(not(target_os = "linux"))]
pub struct Poller {
    fds: Vec<libc::pollfd>,
    tokens: Vec<u64>,
}

#[cfg(not(target_os = "linux"))]
impl Poller {
    pub fn new() -> io::Result<Poller> {
        Ok(Poller { fds: Vec::new(), tokens: Vec::new() })
    }

    fn events(writable: bool) -> libc::c_short {
        if writable { libc::POLLIN | libc::POLLOUT } else { libc::POLLIN }
    }

    pub fn add(&mut self, fd: RawFd, token: u64, writable: bool) -> io::Result<()> {
        self.fds.push(libc::pollfd { fd, events: Self::events(writable), revents: 0 });
        self.tokens.push(token);
        Ok(())
    }

    pub fn modify(&mut self, fd: RawFd, token: u64, writable: bool) -> io::Result<()> {
        if let Some(i) = self.fds.iter().position(|p| p.fd == fd) {
            self.fds[i].events = Self::events(writable);
            self.tokens[i] = token;
        }
        Ok(())
    }

    pub fn remove(&mut self, fd: RawFd) {
        if let Some(i) = self.fds.iter().position(|p| p.fd == fd) {
            self.fds.swap_remove(i);
            self.tokens.swap_remove(i);
        }
    }

    pub fn wait(&mut self, timeout: Duration, ready: &mut Vec<Ready>) -> io::Result<()> {
        ready.clear();
        // SAFETY: the pollfds are valid and counted.
        let n = unsafe {
            libc::poll(self.fds.as_mut_ptr(), self.fds.len() as libc::nfds_t, millis(timeout))
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            return if e.kind() == io::ErrorKind::Interrupted { Ok(()) } else { Err(e) };
        }
        for (fd, token) in self.fds.iter().zip(&self.tokens) {
            if fd.revents != 0 {
                ready.push(Ready {
                    token: *token,
                    readable: fd.revents & libc::POLLIN != 0,
                    writable: fd.revents & libc::POLLOUT != 0,
                    closed: fd.revents & (libc::POLLHUP | libc::POLLERR) != 0,
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    #[test]
    fn reports_readable_sockets_until_drained() {
        let a = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let b = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        b.set_nonblocking(true).unwrap();
        let mut poller = Poller::new().unwrap();
        poller.add(b.as_raw_fd(), 7, false).unwrap();
        let mut ready = Vec::new();
        poller.wait(Duration::from_millis(1), &mut ready).unwrap();
        assert!(ready.is_empty());
        a.send_to(b"x", b.local_addr().unwrap()).unwrap();
        poller.wait(Duration::from_secs(2), &mut ready).unwrap();
        assert_eq!(ready.len(), 1);
        assert_eq!(ready[0].token, 7);
        assert!(ready[0].readable);
        // Level-triggered: still ready until read.
        poller.wait(Duration::from_millis(1), &mut ready).unwrap();
        assert_eq!(ready.len(), 1);
        let mut buf = [0u8; 4];
        b.recv_from(&mut buf).unwrap();
        poller.wait(Duration::from_millis(1), &mut ready).unwrap();
        assert!(ready.is_empty());
        poller.remove(b.as_raw_fd());
    }
}
