//! Where a peer's UDP address comes from. A server tells its sessions apart by the client's
//! address, so every simulated participant needs an address of its own; two ways to give one:
//!
//! - **A socket per peer** (the default): an ephemeral port on `--local-ip`. Simple and works
//!   anywhere, but a loop then makes an epoll wake-up and a `recvmmsg` per readable socket —
//!   at a few packets per subscription per wake-up, most of the tool's kernel time.
//! - **A shared socket per event loop** (`--peer-net CIDR`): each peer gets an IP address of
//!   its own from the prefix, all on the loop's one port; the loop's socket, bound to every
//!   address, receives everyone's datagrams in large batches and tells peers apart by each
//!   datagram's destination address (IP_PKTINFO); each peer sends from its own address. The
//!   prefix must be local to this host (`ip route add local CIDR dev lo`) and routed to it
//!   from the server. The server sees exactly what it would see with a socket per peer: one
//!   address per participant.

use std::{
    net::{Ipv4Addr, SocketAddr, UdpSocket},
    os::fd::{AsRawFd, RawFd},
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
};

use anyhow::{Context, Result, bail};
use str0m::net::Transmit;

use crate::{tcp::TcpLink, udp};

/// Kernel buffer of a shared socket: room for keyframe bursts to every subscription a loop
/// serves while the loop is busy elsewhere.
const SHARED_BUFFER: i32 = 32 << 20;

/// An IPv4 prefix, `10.200.0.0/16`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prefix {
    pub network: Ipv4Addr,
    pub length: u8,
}

impl std::str::FromStr for Prefix {
    type Err = String;

    fn from_str(text: &str) -> Result<Prefix, String> {
        let bad = || format!("{text:?} is not an IPv4 prefix (e.g. 10.200.0.0/16)");
        let (ip, length) = text.split_once('/').ok_or_else(bad)?;
        let ip: Ipv4Addr = ip.parse().map_err(|_| bad())?;
        let length: u8 = length.parse().map_err(|_| bad())?;
        if !(8..=30).contains(&length) {
            return Err(format!("{text:?}: a prefix length from 8 to 30"));
        }
        let mask = u32::MAX << (32 - length);
        Ok(Prefix { network: Ipv4Addr::from(u32::from(ip) & mask), length })
    }
}

impl Prefix {
    /// Host addresses in the prefix (neither the all-zeros nor the all-ones one).
    pub fn hosts(&self) -> usize {
        (1usize << (32 - self.length)) - 2
    }

    /// The `n`th host address (from 0).
    pub fn host(&self, n: usize) -> Option<Ipv4Addr> {
        (n < self.hosts()).then(|| Ipv4Addr::from(u32::from(self.network) + 1 + n as u32))
    }
}

/// A peer's socket.
pub enum PeerSocket {
    Own(UdpSocket),
    Shared {
        socket: Arc<UdpSocket>,
        local: SocketAddr,
        loop_index: usize,
    },
    /// ICE over TCP (`--transport tcp`): a connection to the server's passive candidate.
    Tcp(Box<TcpLink>),
    /// None yet: a TCP peer before it knows the server's candidate (from the answer).
    Pending,
}

impl PeerSocket {
    pub fn local_addr(&self) -> Result<SocketAddr> {
        Ok(match self {
            PeerSocket::Own(socket) => socket.local_addr()?,
            PeerSocket::Shared { local, .. } => *local,
            PeerSocket::Tcp(link) => link.local_addr(),
            PeerSocket::Pending => SocketAddr::from(([0, 0, 0, 0], 9)),
        })
    }

    /// The socket to watch for this peer alone (none for a shared one: its loop watches it).
    pub fn own_fd(&self) -> Option<RawFd> {
        match self {
            PeerSocket::Own(socket) => Some(socket.as_raw_fd()),
            PeerSocket::Tcp(link) => Some(link.fd()),
            PeerSocket::Shared { .. } | PeerSocket::Pending => None,
        }
    }

    /// The loop that owns a shared socket.
    pub fn loop_index(&self) -> Option<usize> {
        match self {
            PeerSocket::Shared { loop_index, .. } => Some(*loop_index),
            _ => None,
        }
    }

    /// Sends datagrams from the peer's address; returns (sent, refused).
    pub fn send(&mut self, transmits: &[Transmit]) -> (u64, u64) {
        match self {
            PeerSocket::Own(socket) => udp::send_all(socket.as_raw_fd(), transmits, None),
            PeerSocket::Shared { socket, local, .. } => {
                let SocketAddr::V4(local) = local else { return (0, transmits.len() as u64) };
                udp::send_all(socket.as_raw_fd(), transmits, Some(*local.ip()))
            }
            PeerSocket::Tcp(link) => link.send(transmits),
            PeerSocket::Pending => (0, transmits.len() as u64),
        }
    }
}

/// Hands out peers' sockets for a run.
pub enum Endpoints {
    PerPeer(Ipv4Addr),
    /// ICE over TCP: connections are made once the answer names the server's candidate, from
    /// this address.
    Tcp(Ipv4Addr),
    Shared {
        prefix: Prefix,
        /// One socket per event loop.
        sockets: Vec<Arc<UdpSocket>>,
        next: AtomicUsize,
    },
}

impl Endpoints {
    /// Shared sockets, one per loop, for peers with addresses in `prefix`.
    pub fn shared(prefix: Prefix, loops: usize) -> Result<Endpoints> {
        let sockets = (0..loops)
            .map(|_| udp::bind_shared_socket(SHARED_BUFFER).map(Arc::new))
            .collect::<std::io::Result<Vec<_>>>()
            .context("binding the peers' shared sockets")?;
        Ok(Endpoints::Shared { prefix, sockets, next: AtomicUsize::new(0) })
    }

    /// Whether peers connect over ICE-TCP.
    pub fn tcp(&self) -> Option<Ipv4Addr> {
        match self {
            Endpoints::Tcp(ip) => Some(*ip),
            _ => None,
        }
    }

    /// The shared socket of loop `index`, if peers share sockets.
    pub fn loop_socket(&self, index: usize) -> Option<Arc<UdpSocket>> {
        match self {
            Endpoints::PerPeer(_) | Endpoints::Tcp(_) => None,
            Endpoints::Shared { sockets, .. } => sockets.get(index).cloned(),
        }
    }

    /// A socket for a new peer.
    pub fn next(&self) -> Result<PeerSocket> {
        match self {
            Endpoints::PerPeer(ip) => {
                Ok(PeerSocket::Own(udp::bind_peer_socket(*ip).context("binding a UDP socket")?))
            }
            Endpoints::Tcp(_) => Ok(PeerSocket::Pending),
            Endpoints::Shared { prefix, sockets, next, .. } => {
                let n = next.fetch_add(1, Ordering::Relaxed);
                let Some(ip) = prefix.host(n) else {
                    bail!(
                        "--peer-net {}/{} has {} addresses, and this run needs more",
                        prefix.network,
                        prefix.length,
                        prefix.hosts()
                    );
                };
                let loop_index = n % sockets.len();
                let socket = sockets[loop_index].clone();
                let port = socket.local_addr()?.port();
                Ok(PeerSocket::Shared { socket, local: SocketAddr::from((ip, port)), loop_index })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_parse_and_name_their_hosts() {
        let p: Prefix = "10.200.7.9/16".parse().unwrap();
        assert_eq!(p.network, Ipv4Addr::new(10, 200, 0, 0));
        assert_eq!(p.hosts(), 65_534);
        assert_eq!(p.host(0), Some(Ipv4Addr::new(10, 200, 0, 1)));
        assert_eq!(p.host(255), Some(Ipv4Addr::new(10, 200, 1, 0)));
        assert_eq!(p.host(65_534), None);
        assert!("10.200.0.0".parse::<Prefix>().is_err());
        assert!("10.200.0.0/31".parse::<Prefix>().is_err());
    }

    /// Two peers on one shared socket, each reached at its own address: a datagram to either
    /// arrives on the one socket with its destination, and each replies from its own address.
    #[test]
    fn peers_share_a_socket_and_keep_their_addresses() {
        // 127.0.0.0/8 is local on every Linux host: no route to add for the test.
        let endpoints = Endpoints::shared("127.77.0.0/16".parse().unwrap(), 1).unwrap();
        let (a, mut b) = (endpoints.next().unwrap(), endpoints.next().unwrap());
        let (a_addr, b_addr) = (a.local_addr().unwrap(), b.local_addr().unwrap());
        assert_ne!(a_addr.ip(), b_addr.ip());
        assert_eq!(a_addr.port(), b_addr.port());
        let remote = UdpSocket::bind("127.0.0.1:0").unwrap();
        remote.send_to(b"to a", a_addr).unwrap();
        remote.send_to(b"to b", b_addr).unwrap();
        let socket = endpoints.loop_socket(0).unwrap();
        let mut batch = udp::ReceiveBatch::default();
        let mut got = Vec::new();
        for _ in 0..100 {
            let n = batch.receive(socket.as_raw_fd()).unwrap();
            for i in 0..n {
                got.push((batch.destination(i), batch.datagram(i).1.to_vec()));
            }
            if got.len() == 2 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let ip = |s: SocketAddr| match s {
            SocketAddr::V4(v4) => Some(*v4.ip()),
            SocketAddr::V6(_) => None,
        };
        assert!(got.contains(&(ip(a_addr), b"to a".to_vec())), "{got:?}");
        assert!(got.contains(&(ip(b_addr), b"to b".to_vec())), "{got:?}");
        let transmit = |to: SocketAddr, from: SocketAddr| Transmit {
            proto: str0m::net::Protocol::Udp,
            source: from,
            destination: to,
            contents: b"reply".to_vec().into(),
        };
        let to = remote.local_addr().unwrap();
        assert_eq!(b.send(&[transmit(to, b_addr)]), (1, 0));
        let mut buf = [0u8; 16];
        remote.set_read_timeout(Some(std::time::Duration::from_secs(5))).unwrap();
        let (_, from) = remote.recv_from(&mut buf).unwrap();
        assert_eq!(from, b_addr, "the reply comes from the peer's own address");
    }
}
