//! A worker's ICE-TCP connections (RFC 6544, passive side): each one a client's TCP
//! connection, handed over by the acceptor once its first STUN check named one of this
//! worker's sessions. Frames in are given to the router as datagrams from the connection's
//! remote address; datagrams the router sends to that address are framed into the
//! connection's output buffer and written once per flush — a copy and two bytes per packet,
//! nothing more.
//!
//! Bounded: at most [`MAX_LINKS`] connections; a connection's unsent output at most
//! [`MAX_BACKLOG`] (whole frames beyond it are dropped, as a congested UDP path would drop
//! datagrams; never part of one, which would break the framing); a connection that sent
//! nothing for [`IDLE`] is closed (ICE consent checks arrive every few seconds).

use std::{
    collections::HashMap,
    io::{self, Write},
    net::{SocketAddr, TcpStream},
    os::fd::AsRawFd,
    sync::Arc,
    time::{Duration, Instant},
};

use crate::{
    framing::{FrameReader, ReadOutcome, push_frame},
    poller::Poller,
    slab::Slab,
    stats::MediaStats,
};

/// Connections one worker holds.
pub const MAX_LINKS: usize = 4096;
/// Unsent bytes one connection may hold: about half a second of a 12 Mbit/s subscription.
pub const MAX_BACKLOG: usize = 768 * 1024;
/// A connection with no input for this long is closed.
pub const IDLE: Duration = Duration::from_secs(30);
/// Tokens of connections start here (lower ones are the worker's own descriptors).
pub const FIRST_TOKEN: u64 = 16;

struct Link {
    stream: TcpStream,
    remote: SocketAddr,
    reader: FrameReader,
    out: Vec<u8>,
    /// How much of `out` is written already.
    sent: usize,
    last_input: Instant,
    /// A session took one of its frames (else the first frame decides its fate).
    accepted: bool,
    /// Registered for writability (output is waiting for the socket).
    want_write: bool,
    /// In `flushing` (has output queued since the last flush).
    queued: bool,
}

pub struct TcpLinks {
    links: Slab<Link>,
    by_remote: HashMap<SocketAddr, usize>,
    /// Links with output queued since the last flush.
    flushing: Vec<usize>,
    stats: Arc<MediaStats>,
}

impl TcpLinks {
    pub fn new(stats: Arc<MediaStats>) -> TcpLinks {
        TcpLinks { links: Slab::default(), by_remote: HashMap::new(), flushing: Vec::new(), stats }
    }

    pub fn len(&self) -> usize {
        self.links.len()
    }

    pub fn is_empty(&self) -> bool {
        self.links.is_empty()
    }

    fn token(slot: usize) -> u64 {
        FIRST_TOKEN + slot as u64
    }

    /// The link a poller token names.
    pub fn slot_of(token: u64) -> Option<usize> {
        token.checked_sub(FIRST_TOKEN).map(|s| s as usize)
    }

    /// Takes a connection, with the bytes the acceptor already read from it. Refused (closed)
    /// when the worker holds [`MAX_LINKS`] already or the socket cannot be watched.
    pub fn adopt(
        &mut self,
        poller: &mut Poller,
        stream: TcpStream,
        remote: SocketAddr,
        first: &[u8],
        now: Instant,
    ) -> Option<usize> {
        if self.links.len() >= MAX_LINKS || stream.set_nonblocking(true).is_err() {
            return None;
        }
        let _ = stream.set_nodelay(true);
        if let Some(old) = self.by_remote.get(&remote).copied() {
            // The same remote address again: the old connection is dead.
            self.close(poller, old);
        }
        let fd = stream.as_raw_fd();
        let mut reader = FrameReader::default();
        reader.extend(first);
        let slot = self.links.insert(Link {
            stream,
            remote,
            reader,
            out: Vec::new(),
            sent: 0,
            last_input: now,
            accepted: false,
            want_write: false,
            queued: false,
        });
        if poller.add(fd, Self::token(slot), false).is_err() {
            self.links.remove(slot);
            return None;
        }
        self.by_remote.insert(remote, slot);
        MediaStats::set(&self.stats.tcp_connections, self.links.len() as u64);
        Some(slot)
    }

    /// Reads what link `slot` has and hands each frame to `each` (which says whether a
    /// session took it). Closes the link on end of stream, error, or when its first frame
    /// was taken by no session. Returns whether the link is still open.
    pub fn receive(
        &mut self,
        poller: &mut Poller,
        slot: usize,
        now: Instant,
        read: bool,
        mut each: impl FnMut(SocketAddr, &[u8]) -> bool,
    ) -> bool {
        let Some(link) = self.links.get_mut(slot) else { return false };
        let mut open = true;
        if read {
            match link.reader.read_from(&mut link.stream) {
                Ok(ReadOutcome::Data) => link.last_input = now,
                Ok(ReadOutcome::WouldBlock) => {}
                Ok(ReadOutcome::Closed) | Err(_) => open = false,
            }
        }
        while let Some(frame) = link.reader.next_frame() {
            let taken = each(link.remote, frame);
            if !taken && !link.accepted {
                open = false; // Nobody's session: not ours to keep.
                break;
            }
            link.accepted |= taken;
        }
        if !open {
            self.close(poller, slot);
        }
        open
    }

    /// Queues `payload` for the connection from `remote`; false if there is none or its
    /// backlog is full (the frame is dropped).
    pub fn queue(&mut self, remote: SocketAddr, payload: &[u8]) -> bool {
        let dropped = |stats: &MediaStats| {
            MediaStats::add(&stats.tcp_frames_dropped, 1);
            false
        };
        let Some(&slot) = self.by_remote.get(&remote) else { return dropped(&self.stats) };
        let Some(link) = self.links.get_mut(slot) else { return dropped(&self.stats) };
        if link.out.len() - link.sent + payload.len() + 2 > MAX_BACKLOG
            || !push_frame(&mut link.out, payload)
        {
            return dropped(&self.stats);
        }
        if !link.queued {
            link.queued = true;
            self.flushing.push(slot);
        }
        true
    }

    /// Writes the output queued since the last flush: one `write` per connection.
    pub fn flush(&mut self, poller: &mut Poller) {
        while let Some(slot) = self.flushing.pop() {
            if let Some(link) = self.links.get_mut(slot) {
                link.queued = false;
            }
            if !self.write(poller, slot) {
                self.close(poller, slot);
            }
        }
    }

    /// The socket of link `slot` can take more: write what waits.
    pub fn writable(&mut self, poller: &mut Poller, slot: usize) {
        if !self.write(poller, slot) {
            self.close(poller, slot);
        }
    }

    /// Writes as much output as the socket takes; false when the connection failed.
    fn write(&mut self, poller: &mut Poller, slot: usize) -> bool {
        let Some(link) = self.links.get_mut(slot) else { return true };
        while link.sent < link.out.len() {
            match link.stream.write(&link.out[link.sent..]) {
                Ok(0) => return false,
                Ok(n) => link.sent += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        }
        if link.sent == link.out.len() {
            link.out.clear();
            link.sent = 0;
        } else if link.sent > link.out.len() / 2 {
            link.out.drain(..link.sent);
            link.sent = 0;
        }
        let waiting = !link.out.is_empty();
        if waiting != link.want_write {
            link.want_write = waiting;
            let fd = link.stream.as_raw_fd();
            if poller.modify(fd, Self::token(slot), waiting).is_err() {
                return false;
            }
        }
        true
    }

    /// Closes links that sent nothing for [`IDLE`].
    pub fn close_idle(&mut self, poller: &mut Poller, now: Instant) {
        let idle: Vec<usize> = self
            .links
            .iter()
            .filter(|(_, l)| now.saturating_duration_since(l.last_input) >= IDLE)
            .map(|(slot, _)| slot)
            .collect();
        for slot in idle {
            self.close(poller, slot);
        }
    }

    pub fn close(&mut self, poller: &mut Poller, slot: usize) {
        let Some(link) = self.links.remove(slot) else { return };
        poller.remove(link.stream.as_raw_fd());
        if self.by_remote.get(&link.remote) == Some(&slot) {
            self.by_remote.remove(&link.remote);
        }
        let _ = link.stream.shutdown(std::net::Shutdown::Both);
        MediaStats::add(&self.stats.tcp_connections_closed, 1);
        MediaStats::set(&self.stats.tcp_connections, self.links.len() as u64);
    }

    pub fn close_all(&mut self, poller: &mut Poller) {
        let slots: Vec<usize> = self.links.iter().map(|(s, _)| s).collect();
        for slot in slots {
            self.close(poller, slot);
        }
    }
}
