//! The server side of the plain ("simple") RTMP handshake: C0+C1 in, S0+S1+S2 out, C2 in.
//!
//! The digest ("complex", Flash Player 9) handshake is not needed for ingest: ffmpeg checks the
//! server's digest only when it plays a stream, and OBS's librtmp only with RTMPE or SWF
//! verification; both accept a server whose S1 has zero version bytes and whose S2 echoes C1.

use crate::error::RtmpError;

/// The size of C1, C2, S1 and S2.
pub const PACKET_SIZE: usize = 1536;
/// Plain RTMP.
pub const VERSION: u8 = 3;

#[derive(Debug)]
enum State {
    AwaitC0C1,
    AwaitC2,
    Done,
}

/// Collects the client's handshake bytes (at most 1537 held at once).
#[derive(Debug)]
pub struct Handshake {
    state: State,
    buffer: Vec<u8>,
}

impl Default for Handshake {
    fn default() -> Self {
        Handshake { state: State::AwaitC0C1, buffer: Vec::with_capacity(1 + PACKET_SIZE) }
    }
}

impl Handshake {
    /// True once C2 has been read: what follows is chunk streams.
    pub fn is_done(&self) -> bool {
        matches!(self.state, State::Done)
    }

    /// Consumes handshake bytes from the front of `input`, appends S0+S1+S2 to `output` once
    /// C0+C1 are complete, and returns the bytes after the handshake.
    pub fn receive<'a>(
        &mut self,
        input: &'a [u8],
        output: &mut Vec<u8>,
    ) -> Result<&'a [u8], RtmpError> {
        let mut input = input;
        loop {
            match self.state {
                State::Done => return Ok(input),
                State::AwaitC0C1 => {
                    if let (true, Some(&version)) = (self.buffer.is_empty(), input.first()) {
                        // Refused before C1 arrives: an RTMPE or TLS client gets its answer now.
                        if version != VERSION {
                            return Err(RtmpError::BadVersion(version));
                        }
                    }
                    input = self.fill(input, 1 + PACKET_SIZE);
                    if self.buffer.len() < 1 + PACKET_SIZE {
                        return Ok(input);
                    }
                    let c1 = &self.buffer[1..];
                    output.push(VERSION);
                    output.extend_from_slice(&server_s1(c1));
                    // S2 echoes C1; its second time field should be when C1 was read, but
                    // no client checks it and this side reads no clock.
                    output.extend_from_slice(c1);
                    self.buffer.clear();
                    self.state = State::AwaitC2;
                }
                State::AwaitC2 => {
                    input = self.fill(input, PACKET_SIZE);
                    if self.buffer.len() < PACKET_SIZE {
                        return Ok(input);
                    }
                    // C2 should echo S1; clients built on the digest handshake send other
                    // bytes, and nothing depends on it, so it is not checked.
                    self.buffer = Vec::new();
                    self.state = State::Done;
                }
            }
        }
    }

    fn fill<'a>(&mut self, input: &'a [u8], want: usize) -> &'a [u8] {
        let n = (want - self.buffer.len()).min(input.len());
        self.buffer.extend_from_slice(&input[..n]);
        &input[n..]
    }
}

/// S1: time 0, four zero bytes (so that no client takes it for a digest handshake), then
/// bytes that only need to differ between sessions; they are drawn from C1 since this side
/// has no randomness of its own.
fn server_s1(c1: &[u8]) -> Vec<u8> {
    let mut s1 = vec![0u8; PACKET_SIZE];
    let mut state = c1
        .iter()
        .fold(0x9E37_79B9_7F4A_7C15u64, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01B3));
    for chunk in s1[8..].chunks_mut(8) {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        let bytes = (z ^ (z >> 31)).to_be_bytes();
        chunk.copy_from_slice(&bytes[..chunk.len()]);
    }
    s1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c0c1() -> Vec<u8> {
        let mut v = vec![VERSION];
        v.extend((0..PACKET_SIZE).map(|i| (i * 7) as u8));
        v
    }

    #[test]
    fn answers_s0_s1_s2_then_waits_for_c2() {
        let mut hs = Handshake::default();
        let mut out = Vec::new();
        let hello = c0c1();
        let rest = hs.receive(&hello, &mut out).unwrap();
        assert!(rest.is_empty());
        assert_eq!(out.len(), 1 + 2 * PACKET_SIZE);
        assert_eq!(out[0], VERSION);
        assert_eq!(&out[1..9], &[0; 8], "S1 time and zero fields");
        assert_ne!(&out[9..1 + PACKET_SIZE], &[0; PACKET_SIZE - 8][..]);
        assert_eq!(&out[1 + PACKET_SIZE..], &c0c1()[1..], "S2 echoes C1");
        assert!(!hs.is_done());

        let mut c2_and_more = vec![0u8; PACKET_SIZE];
        c2_and_more.extend_from_slice(b"chunks");
        let rest = hs.receive(&c2_and_more, &mut out).unwrap();
        assert!(hs.is_done());
        assert_eq!(rest, b"chunks");
        assert_eq!(out.len(), 1 + 2 * PACKET_SIZE, "nothing more after C2");
    }

    #[test]
    fn byte_by_byte_gives_the_same_answer() {
        let mut all = c0c1();
        all.extend(vec![1u8; PACKET_SIZE]);
        all.push(0xAB);
        let mut hs = Handshake::default();
        let mut out = Vec::new();
        let mut rest = Vec::new();
        for b in &all {
            rest.extend_from_slice(hs.receive(std::slice::from_ref(b), &mut out).unwrap());
        }
        assert!(hs.is_done());
        assert_eq!(rest, [0xAB]);
        let mut whole = Vec::new();
        Handshake::default().receive(&all, &mut whole).unwrap();
        assert_eq!(out, whole);
    }

    #[test]
    fn wrong_version_is_refused_at_once() {
        let mut out = Vec::new();
        assert_eq!(Handshake::default().receive(&[6], &mut out), Err(RtmpError::BadVersion(6)));
        // A TLS ClientHello sent to the plain port.
        assert_eq!(
            Handshake::default().receive(&[0x16, 3, 1], &mut out),
            Err(RtmpError::BadVersion(0x16))
        );
        assert!(out.is_empty());
    }
}
