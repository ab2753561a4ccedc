//! TURN over TCP and TLS: messages back to back on a stream (RFC 8656 §12.5) — STUN messages
//! (first two bits 00, length in the header) and ChannelData (first two bits 01, padded to
//! four bytes). [`StreamFramer`] cuts them out of what a connection delivers; anything else
//! means the stream is not TURN (or lost its framing) and the connection should close.

use crate::stun;

/// The largest message a stream may carry: a STUN message or ChannelData at its 16-bit limit.
pub const MAX_MESSAGE: usize = 4 + 65_535 + 3;

#[derive(Debug, Default)]
pub struct StreamFramer {
    buffer: Vec<u8>,
    start: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the stream does not carry STUN or ChannelData")]
pub struct NotTurn;

impl StreamFramer {
    /// Adds bytes read from the stream.
    pub fn push(&mut self, bytes: &[u8]) {
        if self.start > 0 && self.start == self.buffer.len() {
            self.buffer.clear();
            self.start = 0;
        } else if self.start > 64 * 1024 {
            self.buffer.drain(..self.start);
            self.start = 0;
        }
        self.buffer.extend_from_slice(bytes);
    }

    /// The next whole message, `None` if it has not all arrived, `Err` if the stream is not
    /// TURN.
    pub fn next_message(&mut self) -> Result<Option<&[u8]>, NotTurn> {
        let pending = &self.buffer[self.start..];
        if pending.len() < 4 {
            return Ok(None);
        }
        let length = usize::from(u16::from_be_bytes([pending[2], pending[3]]));
        let total = match pending[0] >> 6 {
            0 => {
                let cookie = pending.get(4..8);
                if length % 4 != 0 || cookie.is_some_and(|c| c != stun::MAGIC_COOKIE.to_be_bytes())
                {
                    return Err(NotTurn);
                }
                if cookie.is_none() {
                    return Ok(None);
                }
                stun::HEADER + length
            }
            1 if stun::is_channel(u16::from_be_bytes([pending[0], pending[1]])) => {
                4 + length.div_ceil(4) * 4
            }
            _ => return Err(NotTurn),
        };
        if pending.len() < total {
            return Ok(None);
        }
        let begin = self.start;
        self.start += total;
        Ok(Some(&self.buffer[begin..begin + total]))
    }

    /// Bytes held that are not a whole message yet.
    pub fn pending(&self) -> usize {
        self.buffer.len() - self.start
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stun::{Builder, Class, attr, method, push_channel_data};

    #[test]
    fn messages_split_anywhere_come_out_whole() {
        let mut stream = Vec::new();
        Builder::new(&mut stream, Class::Request, method::BINDING, [1; 12])
            .text(attr::SOFTWARE, "x")
            .finish(None);
        let first = stream.len();
        push_channel_data(&mut stream, 0x4000, b"abcde", true);
        push_channel_data(&mut stream, 0x4001, b"", true);
        for step in 1..stream.len() {
            let mut framer = StreamFramer::default();
            let mut got = Vec::new();
            for chunk in stream.chunks(step) {
                framer.push(chunk);
                while let Some(m) = framer.next_message().unwrap() {
                    got.push(m.to_vec());
                }
            }
            assert_eq!(got.len(), 3, "step {step}");
            assert_eq!(got[0], stream[..first]);
            assert_eq!(got[1].len(), 12, "ChannelData padded to four bytes");
            assert_eq!(framer.pending(), 0);
        }
    }

    #[test]
    fn garbage_is_not_turn() {
        let mut framer = StreamFramer::default();
        // A TLS ClientHello sent to the plain TCP port: no magic cookie.
        framer.push(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc]);
        assert_eq!(framer.next_message(), Err(NotTurn));
        let mut framer = StreamFramer::default();
        framer.push(&[0x80, 0, 0, 0]);
        assert_eq!(framer.next_message(), Err(NotTurn), "first bits 10");
        let mut framer = StreamFramer::default();
        framer.push(&[0x00, 0x01, 0x00, 0x03]); // A STUN length that is not a multiple of 4.
        assert_eq!(framer.next_message(), Err(NotTurn));
    }
}
