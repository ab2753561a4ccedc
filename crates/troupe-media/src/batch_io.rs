//! Batched UDP I/O for a media worker: on Linux, one `recvmmsg` moves up to [`BATCH`]
//! received datagrams and one `sendmmsg` up to [`BATCH`] outgoing ones, instead of a system call
//! per datagram — at SFU fan-out (one packet in, eleven out) system calls are most of the cost.
//! Elsewhere, the same API loops over `recv_from`/`send_to`.
//!
//! The buffers are allocated once per worker; nothing is allocated per datagram.

use std::{
    io,
    net::{SocketAddr, UdpSocket},
    time::Duration,
};

use str0m::net::Transmit;

/// Datagrams per system call.
pub const BATCH: usize = 32;
/// Large enough for any datagram WebRTC sends (MTU-sized); longer ones are dropped.
pub const DATAGRAM: usize = 2048;
/// The kernel buffers asked for on the worker's socket. The default (about 200 KiB, a few
/// hundred small datagrams) overflows when the worker thread is kept off the CPU for a fraction
/// of a second, and the kernel then drops what arrives; 4 MiB rides out such stalls. The kernel
/// caps the request at `net.core.rmem_max` / `wmem_max`.
pub const SOCKET_BUFFER: usize = 4 << 20;

/// What a send did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Sent {
    pub datagrams: u64,
    pub bytes: u64,
    pub calls: u64,
    /// Datagrams the kernel refused (unreachable destination, full buffer).
    pub failed: u64,
}

pub struct BatchSocket {
    socket: UdpSocket,
    buffers: Box<[[u8; DATAGRAM]]>,
    #[cfg(target_os = "linux")]
    names: Box<[libc::sockaddr_storage]>,
}

impl BatchSocket {
    pub fn new(socket: UdpSocket) -> io::Result<Self> {
        socket.set_nonblocking(true)?;
        grow_buffers(&socket);
        Ok(BatchSocket {
            socket,
            buffers: vec![[0u8; DATAGRAM]; BATCH].into_boxed_slice(),
            // SAFETY: sockaddr_storage is plain data; all zeroes is a valid value.
            #[cfg(target_os = "linux")]
            names: vec![unsafe { std::mem::zeroed::<libc::sockaddr_storage>() }; BATCH]
                .into_boxed_slice(),
        })
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.socket.local_addr()
    }

    /// Waits up to `timeout` for the socket to be readable, then receives what is there (up to
    /// [`BATCH`] datagrams), handing each to `each`. Returns how many system calls it made to
    /// receive (0 when the wait timed out). [`BatchSocket::receive_ready`] receives without
    /// waiting, for a caller that waited itself.
    pub fn receive(
        &mut self,
        timeout: Duration,
        mut each: impl FnMut(SocketAddr, &[u8]),
    ) -> io::Result<u64> {
        if !wait_readable(&self.socket, timeout)? {
            return Ok(0);
        }
        self.receive_ready(&mut each)
    }

    #[cfg(target_os = "linux")]
    pub fn receive_ready(&mut self, each: &mut impl FnMut(SocketAddr, &[u8])) -> io::Result<u64> {
        use std::os::fd::AsRawFd;
        // SAFETY (whole block): the iovecs and headers point into `self.buffers` and
        // `self.names`, which outlive the call and are not otherwise borrowed during it; the
        // lengths passed are those of the buffers.
        let mut iovecs: [libc::iovec; BATCH] = unsafe { std::mem::zeroed() };
        let mut headers: [libc::mmsghdr; BATCH] = unsafe { std::mem::zeroed() };
        for i in 0..BATCH {
            iovecs[i].iov_base = self.buffers[i].as_mut_ptr().cast();
            iovecs[i].iov_len = DATAGRAM;
            let header = &mut headers[i].msg_hdr;
            header.msg_name = (&mut self.names[i] as *mut libc::sockaddr_storage).cast();
            header.msg_namelen = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
            header.msg_iov = &mut iovecs[i];
            header.msg_iovlen = 1;
        }
        let received = unsafe {
            libc::recvmmsg(
                self.socket.as_raw_fd(),
                headers.as_mut_ptr(),
                BATCH as libc::c_uint,
                libc::MSG_DONTWAIT,
                std::ptr::null_mut(),
            )
        };
        if received < 0 {
            let e = io::Error::last_os_error();
            return match e.kind() {
                io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted => Ok(1),
                _ => Err(e),
            };
        }
        for (i, header) in headers.iter().enumerate().take(received as usize) {
            if header.msg_hdr.msg_flags & libc::MSG_TRUNC != 0 {
                continue; // Longer than any WebRTC datagram: not ours to handle.
            }
            let Some(source) = socket_addr(&self.names[i]) else { continue };
            let len = (header.msg_len as usize).min(DATAGRAM);
            each(source, &self.buffers[i][..len]);
        }
        Ok(1)
    }

    #[cfg(not(target_os = "linux"))]
    pub fn receive_ready(&mut self, each: &mut impl FnMut(SocketAddr, &[u8])) -> io::Result<u64> {
        let mut calls = 0;
        for _ in 0..BATCH {
            calls += 1;
            match self.socket.recv_from(&mut self.buffers[0]) {
                Ok((n, source)) => each(source, &self.buffers[0][..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(e),
            }
        }
        Ok(calls)
    }

    /// Sends the datagrams, [`BATCH`] per system call. A datagram the kernel refuses is
    /// counted and skipped; the others still go.
    #[cfg(target_os = "linux")]
    pub fn send(&mut self, transmits: &[Transmit]) -> Sent {
        use std::os::fd::AsRawFd;
        let mut sent = Sent::default();
        let mut rest = transmits;
        let mut full_waits = 0;
        while !rest.is_empty() {
            let chunk = &rest[..rest.len().min(BATCH)];
            // SAFETY: as in `receive_ready`; sendmmsg only reads the payloads, so pointing the
            // iovecs at shared slices is sound.
            let mut iovecs: [libc::iovec; BATCH] = unsafe { std::mem::zeroed() };
            let mut headers: [libc::mmsghdr; BATCH] = unsafe { std::mem::zeroed() };
            for (i, t) in chunk.iter().enumerate() {
                iovecs[i].iov_base = t.contents.as_ptr() as *mut libc::c_void;
                iovecs[i].iov_len = t.contents.len();
                let length = write_socket_addr(t.destination, &mut self.names[i]);
                let header = &mut headers[i].msg_hdr;
                header.msg_name = (&mut self.names[i] as *mut libc::sockaddr_storage).cast();
                header.msg_namelen = length;
                header.msg_iov = &mut iovecs[i];
                header.msg_iovlen = 1;
            }
            let result = unsafe {
                libc::sendmmsg(
                    self.socket.as_raw_fd(),
                    headers.as_mut_ptr(),
                    chunk.len() as libc::c_uint,
                    0,
                )
            };
            sent.calls += 1;
            if result > 0 {
                let n = result as usize;
                sent.datagrams += n as u64;
                sent.bytes += chunk[..n].iter().map(|t| t.contents.len() as u64).sum::<u64>();
                rest = &rest[n..];
                continue;
            }
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            if e.kind() == io::ErrorKind::WouldBlock && full_waits < 3 {
                // The socket's send buffer is full: give the kernel a moment, then drop.
                full_waits += 1;
                wait_writable(&self.socket, Duration::from_millis(2));
                continue;
            }
            // The first datagram of the chunk was refused: skip it, send the rest.
            tracing::trace!(error = %e, destination = %chunk[0].destination, "send failed");
            sent.failed += 1;
            rest = &rest[1..];
        }
        sent
    }

    #[cfg(not(target_os = "linux"))]
    pub fn send(&mut self, transmits: &[Transmit]) -> Sent {
        let mut sent = Sent::default();
        for t in transmits {
            sent.calls += 1;
            match self.socket.send_to(&t.contents, t.destination) {
                Ok(n) => {
                    sent.datagrams += 1;
                    sent.bytes += n as u64;
                }
                Err(_) => sent.failed += 1,
            }
        }
        sent
    }
}

/// Asks for [`SOCKET_BUFFER`] bytes of receive and send buffer, and says so in the log when the
/// kernel grants less (an operator can raise `net.core.rmem_max`).
#[cfg(target_os = "linux")]
fn grow_buffers(socket: &UdpSocket) {
    use std::os::fd::AsRawFd;
    let fd = socket.as_raw_fd();
    for (option, name, limit) in [
        (libc::SO_RCVBUF, "receive", "net.core.rmem_max"),
        (libc::SO_SNDBUF, "send", "net.core.wmem_max"),
    ] {
        let wanted = SOCKET_BUFFER as libc::c_int;
        let size = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: a valid socket, an int option value of the size given.
        unsafe { libc::setsockopt(fd, libc::SOL_SOCKET, option, (&raw const wanted).cast(), size) };
        let mut granted: libc::c_int = 0;
        let mut len = size;
        // SAFETY: as above; the kernel writes at most `len` bytes into `granted`.
        let ok = unsafe {
            libc::getsockopt(fd, libc::SOL_SOCKET, option, (&raw mut granted).cast(), &mut len)
        };
        // Linux reports twice what was set (it counts its bookkeeping).
        let granted = granted.max(0) as usize / 2;
        if ok == 0 && granted < SOCKET_BUFFER {
            tracing::warn!(
                granted,
                wanted = SOCKET_BUFFER,
                "the media socket's {name} buffer is small: raise {limit} to avoid drops under load"
            );
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn grow_buffers(_socket: &UdpSocket) {}

#[cfg(target_os = "linux")]
fn poll(socket: &UdpSocket, events: libc::c_short, timeout: Duration) -> io::Result<bool> {
    use std::os::fd::AsRawFd;
    let mut fd = libc::pollfd { fd: socket.as_raw_fd(), events, revents: 0 };
    // Round up: a wait shorter than a millisecond must not become a busy loop.
    let millis = timeout.as_micros().div_ceil(1000).min(i32::MAX as u128) as libc::c_int;
    // SAFETY: one valid pollfd, count 1.
    let ready = unsafe { libc::poll(&mut fd, 1, millis) };
    if ready < 0 {
        let e = io::Error::last_os_error();
        return if e.kind() == io::ErrorKind::Interrupted { Ok(false) } else { Err(e) };
    }
    Ok(ready > 0)
}

#[cfg(target_os = "linux")]
fn wait_readable(socket: &UdpSocket, timeout: Duration) -> io::Result<bool> {
    poll(socket, libc::POLLIN, timeout)
}

#[cfg(target_os = "linux")]
fn wait_writable(socket: &UdpSocket, timeout: Duration) {
    let _ = poll(socket, libc::POLLOUT, timeout);
}

#[cfg(not(target_os = "linux"))]
fn wait_readable(socket: &UdpSocket, timeout: Duration) -> io::Result<bool> {
    socket.set_nonblocking(false)?;
    socket.set_read_timeout(Some(timeout.max(Duration::from_millis(1))))?;
    let mut probe = [0u8; 1];
    let ready = match socket.peek_from(&mut probe) {
        Ok(_) => true,
        Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => false,
        Err(e) => return Err(e),
    };
    socket.set_nonblocking(true)?;
    Ok(ready)
}

#[cfg(target_os = "linux")]
fn socket_addr(name: &libc::sockaddr_storage) -> Option<SocketAddr> {
    use std::net::{Ipv4Addr, Ipv6Addr, SocketAddrV4, SocketAddrV6};
    match i32::from(name.ss_family) {
        libc::AF_INET => {
            // SAFETY: the family says the storage holds a sockaddr_in, which it can contain.
            let v4 =
                unsafe { &*(name as *const libc::sockaddr_storage).cast::<libc::sockaddr_in>() };
            let ip = Ipv4Addr::from(u32::from_be(v4.sin_addr.s_addr));
            Some(SocketAddr::V4(SocketAddrV4::new(ip, u16::from_be(v4.sin_port))))
        }
        libc::AF_INET6 => {
            // SAFETY: as above, for sockaddr_in6.
            let v6 =
                unsafe { &*(name as *const libc::sockaddr_storage).cast::<libc::sockaddr_in6>() };
            let ip = Ipv6Addr::from(v6.sin6_addr.s6_addr);
            let port = u16::from_be(v6.sin6_port);
            Some(SocketAddr::V6(SocketAddrV6::new(ip, port, v6.sin6_flowinfo, v6.sin6_scope_id)))
        }
        _ => None,
    }
}

#[cfg(target_os = "linux")]
fn write_socket_addr(addr: SocketAddr, name: &mut libc::sockaddr_storage) -> libc::socklen_t {
    // SAFETY: sockaddr_storage is large and aligned enough for either address type.
    match addr {
        SocketAddr::V4(a) => {
            let v4 =
                unsafe { &mut *(name as *mut libc::sockaddr_storage).cast::<libc::sockaddr_in>() };
            v4.sin_family = libc::AF_INET as libc::sa_family_t;
            v4.sin_port = a.port().to_be();
            v4.sin_addr = libc::in_addr { s_addr: u32::from(*a.ip()).to_be() };
            std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t
        }
        SocketAddr::V6(a) => {
            let v6 =
                unsafe { &mut *(name as *mut libc::sockaddr_storage).cast::<libc::sockaddr_in6>() };
            v6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
            v6.sin6_port = a.port().to_be();
            v6.sin6_flowinfo = a.flowinfo();
            v6.sin6_addr = libc::in6_addr { s6_addr: a.ip().octets() };
            v6.sin6_scope_id = a.scope_id();
            std::mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t
        }
    }
}
