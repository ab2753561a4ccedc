//! RFC 4571 framing of ICE-TCP connections (RFC 6544): each STUN, DTLS or SRTP packet is
//! preceded by its length, two bytes big-endian. [`FrameReader`] cuts a byte stream into
//! frames without copying them out; [`push_frame`] appends one framed packet to an output
//! buffer. Neither panics on any input.

use std::io::{self, Read};

/// The largest frame RFC 4571 can express.
pub const MAX_FRAME: usize = u16::MAX as usize;
/// How much a connection reads per system call.
const READ_CHUNK: usize = 16 * 1024;

/// Incoming bytes of one connection, and where the next frame starts.
#[derive(Debug, Default)]
pub struct FrameReader {
    buffer: Vec<u8>,
    start: usize,
}

/// What a read from the connection did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadOutcome {
    /// Some bytes arrived (frames may be ready).
    Data,
    /// Nothing to read now.
    WouldBlock,
    /// The peer closed the connection.
    Closed,
}

impl FrameReader {
    /// Reads what the connection has, once.
    pub fn read_from(&mut self, source: &mut impl Read) -> io::Result<ReadOutcome> {
        self.compact();
        let filled = self.buffer.len();
        self.buffer.resize(filled + READ_CHUNK, 0);
        let result = source.read(&mut self.buffer[filled..]);
        let read = match &result {
            Ok(n) => *n,
            Err(_) => 0,
        };
        self.buffer.truncate(filled + read);
        match result {
            Ok(0) => Ok(ReadOutcome::Closed),
            Ok(_) => Ok(ReadOutcome::Data),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(ReadOutcome::WouldBlock),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(ReadOutcome::Data),
            Err(e) => Err(e),
        }
    }

    /// Appends bytes read elsewhere (the acceptor's first frame).
    pub fn extend(&mut self, bytes: &[u8]) {
        self.compact();
        self.buffer.extend_from_slice(bytes);
    }

    /// The next complete frame, if one has arrived.
    pub fn next_frame(&mut self) -> Option<&[u8]> {
        let pending = &self.buffer[self.start..];
        let length = usize::from(u16::from_be_bytes([*pending.first()?, *pending.get(1)?]));
        pending.get(2..2 + length)?;
        let begin = self.start + 2;
        self.start = begin + length;
        Some(&self.buffer[begin..begin + length])
    }

    /// Bytes received and not yet returned as frames.
    pub fn pending(&self) -> usize {
        self.buffer.len() - self.start
    }

    /// Drops returned frames from the buffer; keeps the allocation when it is small.
    fn compact(&mut self) {
        if self.start == 0 {
            return;
        }
        self.buffer.drain(..self.start);
        self.start = 0;
        if self.buffer.capacity() > 4 * READ_CHUNK && self.buffer.len() < READ_CHUNK {
            self.buffer.shrink_to(2 * READ_CHUNK);
        }
    }
}

/// Appends `payload` as one frame; false (nothing appended) if it is too long to frame.
pub fn push_frame(out: &mut Vec<u8>, payload: &[u8]) -> bool {
    let Ok(length) = u16::try_from(payload.len()) else { return false };
    out.extend_from_slice(&length.to_be_bytes());
    out.extend_from_slice(payload);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands out its bytes a few at a time, then would block.
    struct Trickle<'a> {
        bytes: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.bytes.is_empty() {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            let n = self.step.min(self.bytes.len()).min(buf.len());
            buf[..n].copy_from_slice(&self.bytes[..n]);
            self.bytes = &self.bytes[n..];
            Ok(n)
        }
    }

    #[test]
    fn frames_split_anywhere_come_out_whole() {
        let packets: Vec<Vec<u8>> =
            (0..50).map(|i| (0..(i * 37 % 1400)).map(|b| b as u8).collect()).collect();
        let mut stream = Vec::new();
        for p in &packets {
            assert!(push_frame(&mut stream, p));
        }
        for step in [1, 2, 3, 7, 1500, 100_000] {
            let mut reader = FrameReader::default();
            let mut source = Trickle { bytes: &stream, step };
            let mut got = Vec::new();
            loop {
                match reader.read_from(&mut source).unwrap() {
                    ReadOutcome::WouldBlock => break,
                    ReadOutcome::Closed => unreachable!(),
                    ReadOutcome::Data => {}
                }
                while let Some(frame) = reader.next_frame() {
                    got.push(frame.to_vec());
                }
            }
            assert_eq!(got, packets, "step {step}");
            assert_eq!(reader.pending(), 0);
        }
    }

    #[test]
    fn a_partial_frame_waits_and_a_closed_stream_says_so() {
        let mut reader = FrameReader::default();
        reader.extend(&[0, 5, 1, 2]);
        assert!(reader.next_frame().is_none());
        reader.extend(&[3, 4, 5, 0]);
        assert_eq!(reader.next_frame(), Some(&[1, 2, 3, 4, 5][..]));
        assert!(reader.next_frame().is_none(), "one length byte only");
        let mut empty: &[u8] = &[];
        assert_eq!(reader.read_from(&mut empty).unwrap(), ReadOutcome::Closed);
    }

    #[test]
    fn oversized_payloads_are_not_framed() {
        let mut out = Vec::new();
        assert!(!push_frame(&mut out, &vec![0; MAX_FRAME + 1]));
        assert!(out.is_empty());
        assert!(push_frame(&mut out, &vec![0; MAX_FRAME]));
        assert_eq!(out.len(), MAX_FRAME + 2);
    }
}
