//! UDP for many peers on one thread: a loop receives a batch from whichever sockets epoll
//! says are readable — with the kernel's receive timestamp of each datagram, so that a
//! forwarding delay is measured to the moment the packet arrived, not to when the loop got to
//! it, and the destination address, which names the peer on a socket peers share (see
//! [`crate::endpoint`]) — and sends each peer's datagrams in one `sendmmsg`, from the peer's
//! own address. The buffers belong to the loop, not to the peers.

use std::{
    io,
    net::{Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket},
    os::fd::{AsRawFd, RawFd},
};

use str0m::net::Transmit;

/// Datagrams per system call.
pub const BATCH: usize = 32;
const DATAGRAM: usize = 2048;
/// Room for an SCM_TIMESTAMPNS and an IP_PKTINFO control message.
const CONTROL: usize = 128;

/// A peer's socket: on `ip`, an ephemeral port, non-blocking, receive timestamps on, and
/// buffers large enough for a keyframe burst.
pub fn bind_peer_socket(ip: Ipv4Addr) -> io::Result<UdpSocket> {
    bind(SocketAddr::from((ip, 0)), 1 << 20)
}

/// A socket many peers share (see [`crate::endpoint`]): on every address, an ephemeral port,
/// with each datagram's destination address reported (IP_PKTINFO), and `buffer` bytes of
/// kernel buffer each way (beyond `net.core.rmem_max` when run as root).
pub fn bind_shared_socket(buffer: i32) -> io::Result<UdpSocket> {
    let socket = bind(SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)), buffer)?;
    set_option(socket.as_raw_fd(), libc::IPPROTO_IP, libc::IP_PKTINFO, 1)?;
    Ok(socket)
}

fn bind(address: SocketAddr, buffer: i32) -> io::Result<UdpSocket> {
    let socket = UdpSocket::bind(address)?;
    socket.set_nonblocking(true)?;
    let fd = socket.as_raw_fd();
    set_option(fd, libc::SOL_SOCKET, libc::SO_TIMESTAMPNS, 1)?;
    for (forced, plain) in
        [(libc::SO_RCVBUFFORCE, libc::SO_RCVBUF), (libc::SO_SNDBUFFORCE, libc::SO_SNDBUF)]
    {
        // The forced option needs CAP_NET_ADMIN; without it the plain one, capped by the
        // kernel's maximum, has to do.
        if set_option(fd, libc::SOL_SOCKET, forced, buffer).is_err() {
            set_option(fd, libc::SOL_SOCKET, plain, buffer)?;
        }
    }
    Ok(socket)
}

fn set_option(fd: RawFd, level: i32, name: i32, value: i32) -> io::Result<()> {
    // SAFETY: an int option, passed by pointer with its size.
    let r = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (&value as *const i32).cast(),
            std::mem::size_of::<i32>() as libc::socklen_t,
        )
    };
    if r < 0 { Err(io::Error::last_os_error()) } else { Ok(()) }
}

/// The loop's receive buffers.
pub struct ReceiveBatch {
    buffers: Vec<[u8; DATAGRAM]>,
    names: Vec<libc::sockaddr_in>,
    controls: Vec<[u8; CONTROL]>,
    lengths: [usize; BATCH],
    stamps: [u64; BATCH],
    destinations: [Option<Ipv4Addr>; BATCH],
    count: usize,
}

impl Default for ReceiveBatch {
    fn default() -> Self {
        // SAFETY: sockaddr_in is plain data; zeroes are a valid value.
        let name: libc::sockaddr_in = unsafe { std::mem::zeroed() };
        ReceiveBatch {
            buffers: vec![[0; DATAGRAM]; BATCH],
            names: vec![name; BATCH],
            controls: vec![[0; CONTROL]; BATCH],
            lengths: [0; BATCH],
            stamps: [0; BATCH],
            destinations: [None; BATCH],
            count: 0,
        }
    }
}

impl ReceiveBatch {
    /// Receives what `fd` has (up to [`BATCH`] datagrams); returns how many.
    pub fn receive(&mut self, fd: RawFd) -> io::Result<usize> {
        self.count = 0;
        // SAFETY (block): iovecs and headers point into this batch's own buffers, which outlive
        // the call and are not otherwise borrowed during it; lengths are the buffers' own.
        let mut iovecs: [libc::iovec; BATCH] = unsafe { std::mem::zeroed() };
        let mut headers: [libc::mmsghdr; BATCH] = unsafe { std::mem::zeroed() };
        for i in 0..BATCH {
            iovecs[i].iov_base = self.buffers[i].as_mut_ptr().cast();
            iovecs[i].iov_len = DATAGRAM;
            let h = &mut headers[i].msg_hdr;
            h.msg_name = (&mut self.names[i] as *mut libc::sockaddr_in).cast();
            h.msg_namelen = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
            h.msg_iov = &mut iovecs[i];
            h.msg_iovlen = 1;
            h.msg_control = self.controls[i].as_mut_ptr().cast();
            h.msg_controllen = CONTROL;
        }
        let n = unsafe {
            libc::recvmmsg(
                fd,
                headers.as_mut_ptr(),
                BATCH as u32,
                libc::MSG_DONTWAIT,
                std::ptr::null_mut(),
            )
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            return match e.kind() {
                io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted => Ok(0),
                _ => Err(e),
            };
        }
        let n = n as usize;
        for (i, header) in headers.iter().enumerate().take(n) {
            self.lengths[i] = if header.msg_hdr.msg_flags & libc::MSG_TRUNC != 0 {
                0
            } else {
                header.msg_len as usize
            };
            let (stamp, destination) = control_messages(&header.msg_hdr);
            self.stamps[i] = stamp.unwrap_or_else(crate::media::stamp::realtime_ns);
            self.destinations[i] = destination;
        }
        self.count = n;
        Ok(n)
    }

    /// The `i`th datagram received: where from, its bytes (empty if it was truncated), and
    /// when the kernel received it (CLOCK_REALTIME ns).
    pub fn datagram(&self, i: usize) -> (SocketAddr, &[u8], u64) {
        let name = &self.names[i];
        let source = SocketAddr::V4(SocketAddrV4::new(
            Ipv4Addr::from(u32::from_be(name.sin_addr.s_addr)),
            u16::from_be(name.sin_port),
        ));
        (source, &self.buffers[i][..self.lengths[i]], self.stamps[i])
    }

    /// The address the `i`th datagram was sent to (on a socket with IP_PKTINFO).
    pub fn destination(&self, i: usize) -> Option<Ipv4Addr> {
        self.destinations[i]
    }
}

/// The receive timestamp and the destination address in a received datagram's control data.
fn control_messages(header: &libc::msghdr) -> (Option<u64>, Option<Ipv4Addr>) {
    let (mut stamp, mut destination) = (None, None);
    // SAFETY: walking the control buffer the kernel filled, with the CMSG macros; each
    // payload is read unaligned as the type its level and type say it is.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(header);
        while !cmsg.is_null() {
            let (level, kind) = ((*cmsg).cmsg_level, (*cmsg).cmsg_type);
            if level == libc::SOL_SOCKET && kind == libc::SCM_TIMESTAMPNS {
                let ts = std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast::<libc::timespec>());
                stamp = Some(ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64);
            } else if level == libc::IPPROTO_IP && kind == libc::IP_PKTINFO {
                let info =
                    std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast::<libc::in_pktinfo>());
                destination = Some(Ipv4Addr::from(u32::from_be(info.ipi_addr.s_addr)));
            }
            cmsg = libc::CMSG_NXTHDR(header, cmsg);
        }
    }
    (stamp, destination)
}

/// Control data naming the source address of an outgoing datagram (IP_PKTINFO).
#[repr(C)]
struct SourceControl {
    header: libc::cmsghdr,
    info: libc::in_pktinfo,
}

/// Sends datagrams from one socket, [`BATCH`] per `sendmmsg`, from `source` when given (a
/// shared socket's peer address), else from the socket's own. Returns (sent, refused); a
/// datagram the kernel refuses (full buffer) is dropped, as a real sender's would be.
pub fn send_all(fd: RawFd, transmits: &[Transmit], source: Option<Ipv4Addr>) -> (u64, u64) {
    let (mut sent, mut refused) = (0, 0);
    let mut rest = transmits;
    while !rest.is_empty() {
        let chunk = &rest[..rest.len().min(BATCH)];
        // SAFETY (block): iovecs point at the transmits' bytes (read only by the kernel), names
        // and control data at this frame's arrays; all outlive the call.
        let mut iovecs: [libc::iovec; BATCH] = unsafe { std::mem::zeroed() };
        let mut names: [libc::sockaddr_in; BATCH] = unsafe { std::mem::zeroed() };
        let mut headers: [libc::mmsghdr; BATCH] = unsafe { std::mem::zeroed() };
        let mut controls: [SourceControl; BATCH] = unsafe { std::mem::zeroed() };
        for (i, t) in chunk.iter().enumerate() {
            iovecs[i].iov_base = t.contents.as_ptr() as *mut libc::c_void;
            iovecs[i].iov_len = t.contents.len();
            if let SocketAddr::V4(a) = t.destination {
                names[i].sin_family = libc::AF_INET as libc::sa_family_t;
                names[i].sin_port = a.port().to_be();
                names[i].sin_addr = libc::in_addr { s_addr: u32::from(*a.ip()).to_be() };
            }
            let h = &mut headers[i].msg_hdr;
            h.msg_name = (&mut names[i] as *mut libc::sockaddr_in).cast();
            h.msg_namelen = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
            h.msg_iov = &mut iovecs[i];
            h.msg_iovlen = 1;
            if let Some(ip) = source {
                let c = &mut controls[i];
                c.header.cmsg_level = libc::IPPROTO_IP;
                c.header.cmsg_type = libc::IP_PKTINFO;
                c.header.cmsg_len =
                    unsafe { libc::CMSG_LEN(std::mem::size_of::<libc::in_pktinfo>() as u32) } as _;
                c.info.ipi_spec_dst = libc::in_addr { s_addr: u32::from(ip).to_be() };
                h.msg_control = (c as *mut SourceControl).cast();
                h.msg_controllen = std::mem::size_of::<SourceControl>() as _;
            }
        }
        let n = unsafe { libc::sendmmsg(fd, headers.as_mut_ptr(), chunk.len() as u32, 0) };
        if n > 0 {
            sent += n as u64;
            rest = &rest[n as usize..];
        } else {
            if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
                continue;
            }
            refused += 1;
            rest = &rest[1..];
        }
    }
    (sent, refused)
}

/// An epoll instance over the loop's sockets; each registered with a token (the peer's slot).
pub struct Poller {
    fd: RawFd,
    events: Vec<libc::epoll_event>,
}

impl Poller {
    pub fn new() -> io::Result<Self> {
        // SAFETY: plain system call.
        let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Poller { fd, events: vec![libc::epoll_event { events: 0, u64: 0 }; 256] })
    }

    pub fn add(&self, socket: RawFd, token: u64) -> io::Result<()> {
        let mut event = libc::epoll_event { events: libc::EPOLLIN as u32, u64: token };
        // SAFETY: a valid event to copy from.
        let r = unsafe { libc::epoll_ctl(self.fd, libc::EPOLL_CTL_ADD, socket, &mut event) };
        if r < 0 { Err(io::Error::last_os_error()) } else { Ok(()) }
    }

    pub fn remove(&self, socket: RawFd) {
        let mut event = libc::epoll_event { events: 0, u64: 0 };
        // SAFETY: as above; failure (already closed) needs no handling.
        unsafe { libc::epoll_ctl(self.fd, libc::EPOLL_CTL_DEL, socket, &mut event) };
    }

    /// Waits up to `timeout_ms` and returns the tokens of the readable sockets.
    pub fn wait(&mut self, timeout_ms: i32, ready: &mut Vec<u64>) -> io::Result<()> {
        ready.clear();
        // SAFETY: the events buffer is ours and its length is passed.
        let n = unsafe {
            libc::epoll_wait(
                self.fd,
                self.events.as_mut_ptr(),
                self.events.len() as i32,
                timeout_ms,
            )
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            return if e.kind() == io::ErrorKind::Interrupted { Ok(()) } else { Err(e) };
        }
        ready.extend(self.events[..n as usize].iter().map(|e| e.u64));
        Ok(())
    }
}

impl Drop for Poller {
    fn drop(&mut self) {
        // SAFETY: our own descriptor, closed once.
        unsafe { libc::close(self.fd) };
    }
}
