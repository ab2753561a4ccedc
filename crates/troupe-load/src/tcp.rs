//! A peer's ICE-TCP connection (RFC 6544, the active side): one TCP connection to the server's
//! passive candidate, each STUN, DTLS or SRTP packet framed by its two-byte length (RFC 4571).
//! Written here, not taken from the server, so that the tool checks the server's framing
//! against an independent reading of the RFC.

use std::{
    io::{self, Read, Write},
    net::{SocketAddr, TcpStream},
    os::fd::{AsRawFd, RawFd},
    time::Duration,
};

use anyhow::{Context, Result};
use str0m::net::Transmit;

/// Unsent bytes a link keeps when the server reads slowly; beyond, packets are dropped whole.
const MAX_BACKLOG: usize = 1 << 20;
/// The read buffer: two of the largest frames (two length bytes and 65,535).
const INPUT: usize = 2 * (2 + u16::MAX as usize);

pub struct TcpLink {
    stream: TcpStream,
    local: SocketAddr,
    remote: SocketAddr,
    /// Bytes read and not yet cut into frames: `input[start..end]`. Allocated once, so that a
    /// read costs no allocation or zeroing (the largest frame, 64 KiB, always fits).
    input: Box<[u8]>,
    start: usize,
    end: usize,
    output: Vec<u8>,
}

impl TcpLink {
    /// Connects to the server's passive candidate.
    pub fn connect(remote: SocketAddr, local_ip: std::net::IpAddr) -> Result<TcpLink> {
        let socket = socket2_connect(remote, local_ip)
            .with_context(|| format!("connecting to the ICE-TCP candidate {remote}"))?;
        socket.set_nodelay(true)?;
        socket.set_nonblocking(true)?;
        let local = socket.local_addr()?;
        Ok(TcpLink {
            stream: socket,
            local,
            remote,
            input: vec![0; INPUT].into_boxed_slice(),
            start: 0,
            end: 0,
            output: Vec::new(),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    pub fn remote_addr(&self) -> SocketAddr {
        self.remote
    }

    pub fn fd(&self) -> RawFd {
        self.stream.as_raw_fd()
    }

    /// Reads what arrived and hands each complete frame to `each`. Err when the connection
    /// closed or failed.
    pub fn receive(&mut self, mut each: impl FnMut(&[u8])) -> io::Result<()> {
        let mut closed = false;
        loop {
            if self.start > 0 {
                // Move the partial frame to the front: there is then room for a whole one.
                self.input.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            }
            match self.stream.read(&mut self.input[self.end..]) {
                Ok(0) => {
                    closed = true;
                    break;
                }
                Ok(n) => self.end += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
            while let Some(frame) = next_frame(&self.input[..self.end], &mut self.start) {
                each(frame);
            }
        }
        if closed {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the server closed the connection",
            ));
        }
        Ok(())
    }

    /// Frames and writes the datagrams; returns (sent, refused).
    pub fn send(&mut self, transmits: &[Transmit]) -> (u64, u64) {
        let (mut sent, mut refused) = (0, 0);
        for t in transmits {
            let Ok(length) = u16::try_from(t.contents.len()) else {
                refused += 1;
                continue;
            };
            if self.output.len() + t.contents.len() + 2 > MAX_BACKLOG {
                refused += 1;
                continue;
            }
            self.output.extend_from_slice(&length.to_be_bytes());
            self.output.extend_from_slice(&t.contents);
            sent += 1;
        }
        let mut written = 0;
        while written < self.output.len() {
            match self.stream.write(&self.output[written..]) {
                Ok(0) => break,
                Ok(n) => written += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => break, // WouldBlock: the rest goes with the next send.
            }
        }
        self.output.drain(..written);
        (sent, refused)
    }
}

/// The frame of `buffer` starting at `*start`, if it is complete (and moves `*start` past it).
fn next_frame<'a>(buffer: &'a [u8], start: &mut usize) -> Option<&'a [u8]> {
    let rest = &buffer[*start..];
    let length = usize::from(u16::from_be_bytes([*rest.first()?, *rest.get(1)?]));
    let frame = rest.get(2..2 + length)?;
    *start += 2 + length;
    Some(frame)
}

/// A blocking connect from `local_ip` (the side facing the server, as the UDP sockets bind),
/// with a time limit.
fn socket2_connect(remote: SocketAddr, local_ip: std::net::IpAddr) -> io::Result<TcpStream> {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::for_address(remote), Type::STREAM, None)?;
    socket.bind(&SocketAddr::new(local_ip, 0).into())?;
    socket.connect_timeout(&remote.into(), Duration::from_secs(5))?;
    Ok(socket.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_cut_where_their_lengths_say() {
        let buffer = [0, 2, 9, 9, 0, 0, 0, 3, 1, 2];
        let mut start = 0;
        assert_eq!(next_frame(&buffer, &mut start), Some(&[9, 9][..]));
        assert_eq!(next_frame(&buffer, &mut start), Some(&[][..]));
        assert_eq!(next_frame(&buffer, &mut start), None, "three bytes announced, two there");
        assert_eq!(start, 6);
    }

    /// Frames written in pieces, the largest RFC 4571 allows among them, arrive whole and in
    /// order through the reader's fixed buffer; the peer closing is reported after them.
    #[test]
    fn the_reader_cuts_a_stream_into_its_frames() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let mut link =
            TcpLink::connect(listener.local_addr().unwrap(), "127.0.0.1".parse().unwrap()).unwrap();
        let (mut peer, _) = listener.accept().unwrap();
        let sizes = [1usize, 65_535, 300, 0, 65_535, 65_535, 7];
        let mut stream = Vec::new();
        for (i, &size) in sizes.iter().enumerate() {
            stream.extend_from_slice(&(size as u16).to_be_bytes());
            stream.extend(std::iter::repeat_n(i as u8, size));
        }
        let mut frames: Vec<Vec<u8>> = Vec::new();
        for piece in stream.chunks(40_000) {
            peer.write_all(piece).unwrap();
            std::thread::sleep(Duration::from_millis(5));
            link.receive(|f| frames.push(f.to_vec())).unwrap();
        }
        drop(peer);
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        let closed = loop {
            match link.receive(|f| frames.push(f.to_vec())) {
                Err(e) => break e,
                Ok(()) => {
                    assert!(std::time::Instant::now() < deadline, "the close was not seen");
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
        };
        assert_eq!(closed.kind(), io::ErrorKind::UnexpectedEof);
        let got: Vec<(usize, Option<u8>)> =
            frames.iter().map(|f| (f.len(), f.first().copied())).collect();
        let want: Vec<(usize, Option<u8>)> =
            sizes.iter().enumerate().map(|(i, &n)| (n, (n > 0).then_some(i as u8))).collect();
        assert_eq!(got, want);
        assert!(frames.iter().enumerate().all(|(i, f)| f.iter().all(|&b| b == i as u8)));
    }
}
