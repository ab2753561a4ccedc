//! Reassembles RTMP messages from the client's chunk streams (all four chunk header types,
//! extended timestamps, including on type 3 chunks). Payload bytes are copied straight into
//! the message they belong to, so nothing but the unfinished messages (bounded by the
//! [`SessionConfig`](crate::SessionConfig) limits) and at most one chunk header is held.

use std::collections::HashMap;

use bytes::Bytes;

use crate::error::RtmpError;

/// The chunk size both sides start with.
pub const DEFAULT_CHUNK_SIZE: u32 = 128;
/// The largest chunk header: 3-byte basic header, 11-byte type 0 header, extended timestamp.
const MAX_HEADER: usize = 18;
const EXTENDED: u32 = 0x00FF_FFFF;

/// One reassembled message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub csid: u32,
    /// The RTMP timestamp (32 bits, wraps).
    pub timestamp: u32,
    pub type_id: u8,
    pub stream_id: u32,
    pub payload: Bytes,
}

#[derive(Debug, Default)]
struct ChunkStream {
    timestamp: u32,
    /// What a type 3 header that starts a message adds to the timestamp: the last header's
    /// timestamp field (after a type 0, the absolute timestamp, as the specification says).
    delta: u32,
    length: u32,
    type_id: u8,
    stream_id: u32,
    /// The last type 0/1/2 header had an extended timestamp, so type 3 chunks carry one too.
    extended: bool,
    partial: Option<Vec<u8>>,
}

/// Where the reader is between calls.
#[derive(Debug)]
enum Position {
    Header,
    /// Inside a chunk's payload: this many bytes of it are still to come.
    Payload {
        csid: u32,
        remaining: usize,
    },
}

/// Limits the reader enforces.
#[derive(Debug, Clone, Copy)]
pub struct ReaderLimits {
    pub max_message_size: u32,
    pub max_buffered_bytes: usize,
    pub max_chunk_streams: usize,
}

/// The chunk stream decoder.
#[derive(Debug)]
pub struct ChunkReader {
    limits: ReaderLimits,
    chunk_size: u32,
    streams: HashMap<u32, ChunkStream>,
    buffered: usize,
    header: Vec<u8>,
    position: Position,
}

/// A parsed chunk header.
struct Header {
    fmt: u8,
    csid: u32,
    timestamp_field: u32,
    length: u32,
    type_id: u8,
    stream_id: u32,
}

impl ChunkReader {
    pub fn new(limits: ReaderLimits) -> Self {
        ChunkReader {
            limits,
            chunk_size: DEFAULT_CHUNK_SIZE,
            streams: HashMap::new(),
            buffered: 0,
            header: Vec::with_capacity(MAX_HEADER),
            position: Position::Header,
        }
    }

    /// Applies the client's Set Chunk Size (to the chunks after the message that carried it).
    pub fn set_chunk_size(&mut self, size: u32) -> Result<(), RtmpError> {
        if size == 0 || size > 0x7FFF_FFFF {
            return Err(RtmpError::BadChunkSize(size));
        }
        self.chunk_size = size;
        Ok(())
    }

    /// Drops the unfinished message on `csid` (the client's Abort Message).
    pub fn abort(&mut self, csid: u32) {
        if let Some(stream) = self.streams.get_mut(&csid)
            && stream.partial.take().is_some()
        {
            self.buffered -= stream.length as usize;
        }
    }

    /// Consumes bytes from the front of `input` until one message is complete (returned) or
    /// the input runs out (`None`; what was read so far is kept).
    pub fn next_message(&mut self, input: &mut &[u8]) -> Result<Option<Message>, RtmpError> {
        loop {
            match self.position {
                Position::Header => {
                    let Some(header) = self.read_header(input)? else {
                        return Ok(None);
                    };
                    if let Some(message) = self.start_chunk(header)? {
                        return Ok(Some(message));
                    }
                }
                Position::Payload { csid, remaining } => {
                    if input.is_empty() {
                        return Ok(None);
                    }
                    let n = remaining.min(input.len());
                    // The header that set this position started the message: only an Abort
                    // between the two could have dropped it, which is then the client's error.
                    let Some(partial) =
                        self.streams.get_mut(&csid).and_then(|s| s.partial.as_mut())
                    else {
                        self.position = Position::Header;
                        return Err(RtmpError::ChunkWithoutHeader { csid, fmt: 3 });
                    };
                    partial.extend_from_slice(&input[..n]);
                    *input = &input[n..];
                    if n < remaining {
                        self.position = Position::Payload { csid, remaining: remaining - n };
                        return Ok(None);
                    }
                    self.position = Position::Header;
                    if let Some(message) = self.finish_if_complete(csid) {
                        return Ok(Some(message));
                    }
                }
            }
        }
    }

    /// Collects header bytes; returns the header once it is complete.
    fn read_header(&mut self, input: &mut &[u8]) -> Result<Option<Header>, RtmpError> {
        loop {
            let needed = self.header_len()?;
            if self.header.len() == needed {
                let header = self.parse_header();
                self.header.clear();
                return Ok(Some(header));
            }
            if input.is_empty() {
                return Ok(None);
            }
            let n = (needed - self.header.len()).min(input.len());
            self.header.extend_from_slice(&input[..n]);
            *input = &input[n..];
        }
    }

    /// How long the header being read is, as far as its bytes so far tell.
    fn header_len(&self) -> Result<usize, RtmpError> {
        let h = &self.header;
        let Some(&first) = h.first() else { return Ok(1) };
        let basic = match first & 0x3f {
            0 => 2,
            1 => 3,
            _ => 1,
        };
        let fmt = first >> 6;
        let message_header = [11, 7, 3, 0][usize::from(fmt)];
        if h.len() < basic + message_header {
            return Ok(basic + message_header);
        }
        let extended = if fmt == 3 {
            let csid = basic_csid(h);
            let stream =
                self.streams.get(&csid).ok_or(RtmpError::ChunkWithoutHeader { csid, fmt })?;
            stream.extended
        } else {
            be24(&h[basic..basic + 3]) == EXTENDED
        };
        Ok(basic + message_header + if extended { 4 } else { 0 })
    }

    fn parse_header(&self) -> Header {
        let h = &self.header;
        let fmt = h[0] >> 6;
        let csid = basic_csid(h);
        let basic = match h[0] & 0x3f {
            0 => 2,
            1 => 3,
            _ => 1,
        };
        let m = &h[basic..];
        let mut header =
            Header { fmt, csid, timestamp_field: 0, length: 0, type_id: 0, stream_id: 0 };
        if fmt <= 2 {
            header.timestamp_field = be24(&m[0..3]);
        }
        if fmt <= 1 {
            header.length = be24(&m[3..6]);
            header.type_id = m[6];
        }
        if fmt == 0 {
            header.stream_id = u32::from_le_bytes([m[7], m[8], m[9], m[10]]);
        }
        let ext_at = basic + [11, 7, 3, 0][usize::from(fmt)];
        if h.len() == ext_at + 4 {
            let e = &h[ext_at..];
            let extended = u32::from_be_bytes([e[0], e[1], e[2], e[3]]);
            if fmt <= 2 {
                header.timestamp_field = extended;
            }
        }
        header
    }

    /// Applies a header to its chunk stream; returns a message that is complete already
    /// (one of zero length).
    fn start_chunk(&mut self, h: Header) -> Result<Option<Message>, RtmpError> {
        let limits = self.limits;
        let known = self.streams.len();
        let stream = match (self.streams.get_mut(&h.csid), h.fmt) {
            (Some(stream), _) => stream,
            (None, 0) => {
                if known >= limits.max_chunk_streams {
                    return Err(RtmpError::TooManyChunkStreams { limit: limits.max_chunk_streams });
                }
                self.streams.entry(h.csid).or_default()
            }
            (None, fmt) => return Err(RtmpError::ChunkWithoutHeader { csid: h.csid, fmt }),
        };
        if h.fmt == 3 && stream.partial.is_some() {
            let collected = stream.partial.as_ref().map_or(0, Vec::len);
            let remaining = (stream.length as usize - collected).min(self.chunk_size as usize);
            self.position = Position::Payload { csid: h.csid, remaining };
            return Ok(None);
        }
        if stream.partial.is_some() {
            return Err(RtmpError::NewMessageInsideMessage { csid: h.csid, fmt: h.fmt });
        }
        match h.fmt {
            0 => {
                stream.timestamp = h.timestamp_field;
                stream.delta = h.timestamp_field;
                stream.length = h.length;
                stream.type_id = h.type_id;
                stream.stream_id = h.stream_id;
            }
            1 => {
                stream.delta = h.timestamp_field;
                stream.timestamp = stream.timestamp.wrapping_add(h.timestamp_field);
                stream.length = h.length;
                stream.type_id = h.type_id;
            }
            2 => {
                stream.delta = h.timestamp_field;
                stream.timestamp = stream.timestamp.wrapping_add(h.timestamp_field);
            }
            _ => stream.timestamp = stream.timestamp.wrapping_add(stream.delta),
        }
        if h.fmt <= 2 {
            stream.extended = h.timestamp_field >= EXTENDED;
        }
        if stream.length > limits.max_message_size {
            return Err(RtmpError::MessageTooLong {
                length: stream.length,
                limit: limits.max_message_size,
            });
        }
        let length = stream.length as usize;
        if self.buffered + length > limits.max_buffered_bytes {
            return Err(RtmpError::BufferedTooMuch {
                bytes: self.buffered + length,
                limit: limits.max_buffered_bytes,
            });
        }
        self.buffered += length;
        stream.partial = Some(Vec::with_capacity(length));
        self.position =
            Position::Payload { csid: h.csid, remaining: length.min(self.chunk_size as usize) };
        if length == 0 {
            self.position = Position::Header;
            return Ok(self.finish_if_complete(h.csid));
        }
        Ok(None)
    }

    fn finish_if_complete(&mut self, csid: u32) -> Option<Message> {
        let stream = self.streams.get_mut(&csid)?;
        if stream.partial.as_ref()?.len() < stream.length as usize {
            return None;
        }
        let payload = stream.partial.take()?;
        self.buffered -= stream.length as usize;
        Some(Message {
            csid,
            timestamp: stream.timestamp,
            type_id: stream.type_id,
            stream_id: stream.stream_id,
            payload: Bytes::from(payload),
        })
    }
}

fn basic_csid(h: &[u8]) -> u32 {
    match h[0] & 0x3f {
        0 => 64 + u32::from(h[1]),
        1 => 64 + u32::from(h[1]) + 256 * u32::from(h[2]),
        n => u32::from(n),
    }
}

fn be24(b: &[u8]) -> u32 {
    u32::from_be_bytes([0, b[0], b[1], b[2]])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunk_writer::{basic_header, write_message};

    const LIMITS: ReaderLimits = ReaderLimits {
        max_message_size: 1 << 20,
        max_buffered_bytes: 1 << 21,
        max_chunk_streams: 4,
    };

    fn read_all(reader: &mut ChunkReader, mut input: &[u8]) -> Result<Vec<Message>, RtmpError> {
        let mut messages = Vec::new();
        while let Some(m) = reader.next_message(&mut input)? {
            messages.push(m);
        }
        assert!(input.is_empty());
        Ok(messages)
    }

    fn header(fmt: u8, csid: u32, ts: u32, len: u32, type_id: u8, stream: u32) -> Vec<u8> {
        let mut h = Vec::new();
        basic_header(&mut h, fmt, csid);
        let field = ts.min(EXTENDED).to_be_bytes();
        if fmt <= 2 {
            h.extend_from_slice(&field[1..]);
        }
        if fmt <= 1 {
            h.extend_from_slice(&len.to_be_bytes()[1..]);
            h.push(type_id);
        }
        if fmt == 0 {
            h.extend_from_slice(&stream.to_le_bytes());
        }
        if fmt <= 2 && ts >= EXTENDED {
            h.extend_from_slice(&ts.to_be_bytes());
        }
        h
    }

    #[test]
    fn reassembles_across_every_split() {
        let payload: Vec<u8> = (0..300u32).map(|i| i as u8).collect();
        let mut wire = Vec::new();
        write_message(&mut wire, 128, 6, 1000, 9, 1, &payload);
        write_message(&mut wire, 128, 4, 1010, 8, 1, b"audio");
        for split in 0..=wire.len() {
            let mut reader = ChunkReader::new(LIMITS);
            let mut messages = read_all(&mut reader, &wire[..split]).unwrap();
            messages.extend(read_all(&mut reader, &wire[split..]).unwrap());
            assert_eq!(messages.len(), 2, "split at {split}");
            assert_eq!(messages[0].payload, payload);
            assert_eq!(
                (
                    messages[0].timestamp,
                    messages[0].type_id,
                    messages[0].stream_id,
                    messages[0].csid
                ),
                (1000, 9, 1, 6)
            );
            assert_eq!(messages[1].payload.as_ref(), b"audio");
        }
        // And one byte at a time.
        let mut reader = ChunkReader::new(LIMITS);
        let mut count = 0;
        for b in &wire {
            count += read_all(&mut reader, std::slice::from_ref(b)).unwrap().len();
        }
        assert_eq!(count, 2);
    }

    #[test]
    fn type_1_2_3_headers_reuse_and_add_deltas() {
        let mut wire = header(0, 4, 1000, 3, 8, 1);
        wire.extend_from_slice(b"aaa");
        wire.extend(header(1, 4, 20, 2, 9, 0));
        wire.extend_from_slice(b"bb");
        wire.extend(header(2, 4, 30, 0, 0, 0));
        wire.extend_from_slice(b"cc");
        wire.extend(header(3, 4, 0, 0, 0, 0));
        wire.extend_from_slice(b"dd");
        let messages = read_all(&mut ChunkReader::new(LIMITS), &wire).unwrap();
        let got: Vec<_> = messages
            .iter()
            .map(|m| (m.timestamp, m.type_id, m.stream_id, m.payload.to_vec()))
            .collect();
        assert_eq!(
            got,
            vec![
                (1000, 8, 1, b"aaa".to_vec()),
                (1020, 9, 1, b"bb".to_vec()),
                (1050, 9, 1, b"cc".to_vec()),
                (1080, 9, 1, b"dd".to_vec()),
            ]
        );
    }

    #[test]
    fn type_3_after_type_0_adds_the_type_0_timestamp() {
        let mut wire = header(0, 5, 40, 1, 8, 1);
        wire.push(b'a');
        wire.extend(header(3, 5, 0, 0, 0, 0));
        wire.push(b'b');
        let m = read_all(&mut ChunkReader::new(LIMITS), &wire).unwrap();
        assert_eq!((m[0].timestamp, m[1].timestamp), (40, 80));
    }

    #[test]
    fn extended_timestamps_including_on_type_3_chunks() {
        let ts = 0x0100_0000u32;
        let payload = vec![7u8; 200];
        let mut wire = Vec::new();
        write_message(&mut wire, 128, 6, ts, 9, 1, &payload);
        // The type 3 continuation carries the 4 extended bytes too.
        assert_eq!(wire.len(), 12 + 4 + 128 + 1 + 4 + 72);
        // A type 1 delta that needs the extended field, then a new message by type 3, which
        // carries the extended field because the type 1 did.
        wire.extend(header(1, 6, 0x0100_0000, 1, 9, 0));
        wire.push(1);
        wire.extend(header(3, 6, 0, 0, 0, 0));
        wire.extend_from_slice(&0x0100_0000u32.to_be_bytes());
        wire.push(2);
        let m = read_all(&mut ChunkReader::new(LIMITS), &wire).unwrap();
        assert_eq!(m[0].payload, payload);
        assert_eq!(m.iter().map(|m| m.timestamp).collect::<Vec<_>>(), vec![ts, 2 * ts, 3 * ts]);
    }

    #[test]
    fn timestamps_wrap_at_32_bits() {
        let mut wire = header(0, 4, u32::MAX - 5, 1, 8, 1);
        wire.push(0);
        wire.extend(header(2, 4, 10, 0, 0, 0));
        wire.push(0);
        let m = read_all(&mut ChunkReader::new(LIMITS), &wire).unwrap();
        assert_eq!(m[1].timestamp, 4);
    }

    #[test]
    fn two_and_three_byte_chunk_stream_ids() {
        let mut wire = Vec::new();
        write_message(&mut wire, 128, 64, 0, 9, 1, b"x");
        write_message(&mut wire, 128, 319, 0, 9, 1, b"y");
        write_message(&mut wire, 128, 320, 0, 9, 1, b"z");
        write_message(&mut wire, 128, 65599, 0, 9, 1, b"w");
        assert_eq!(&wire[..2], &[0, 0]);
        let m = read_all(&mut ChunkReader::new(LIMITS), &wire).unwrap();
        assert_eq!(m.iter().map(|m| m.csid).collect::<Vec<_>>(), vec![64, 319, 320, 65599]);
    }

    #[test]
    fn set_chunk_size_applies_to_later_chunks() {
        let mut reader = ChunkReader::new(LIMITS);
        reader.set_chunk_size(4096).unwrap();
        let payload = vec![1u8; 3000];
        let mut wire = Vec::new();
        write_message(&mut wire, 4096, 6, 0, 9, 1, &payload);
        assert_eq!(read_all(&mut reader, &wire).unwrap()[0].payload, payload);
        assert_eq!(reader.set_chunk_size(0), Err(RtmpError::BadChunkSize(0)));
        assert_eq!(reader.set_chunk_size(0x8000_0000), Err(RtmpError::BadChunkSize(0x8000_0000)));
    }

    #[test]
    fn zero_length_messages_complete_at_once() {
        let wire = header(0, 3, 0, 0, 20, 0);
        let m = read_all(&mut ChunkReader::new(LIMITS), &wire).unwrap();
        assert_eq!(m.len(), 1);
        assert!(m[0].payload.is_empty());
    }

    #[test]
    fn abort_drops_the_unfinished_message() {
        let mut reader = ChunkReader::new(LIMITS);
        let mut wire = header(0, 6, 0, 200, 9, 1);
        wire.extend_from_slice(&[0; 128]);
        assert!(read_all(&mut reader, &wire).unwrap().is_empty());
        reader.abort(6);
        assert_eq!(reader.buffered, 0);
        let mut wire = header(0, 6, 0, 1, 9, 1);
        wire.push(9);
        assert_eq!(read_all(&mut reader, &wire).unwrap()[0].payload.as_ref(), &[9]);
    }

    #[test]
    fn errors() {
        let e = |wire: &[u8]| read_all(&mut ChunkReader::new(LIMITS), wire).unwrap_err();
        assert_eq!(e(&header(1, 4, 0, 1, 8, 0)), RtmpError::ChunkWithoutHeader { csid: 4, fmt: 1 });
        assert_eq!(e(&header(3, 9, 0, 0, 0, 0)), RtmpError::ChunkWithoutHeader { csid: 9, fmt: 3 });
        assert_eq!(
            e(&header(0, 4, 0, (1 << 20) + 1, 9, 1)),
            RtmpError::MessageTooLong { length: (1 << 20) + 1, limit: 1 << 20 }
        );
        let mut inside = header(0, 4, 0, 200, 9, 1);
        inside.extend_from_slice(&[0; 128]);
        inside.extend(header(2, 4, 0, 0, 0, 0));
        assert_eq!(e(&inside), RtmpError::NewMessageInsideMessage { csid: 4, fmt: 2 });
        let mut many = Vec::new();
        for csid in 3..8 {
            many.extend(header(0, csid, 0, 1, 9, 1));
            many.push(0);
        }
        assert_eq!(e(&many), RtmpError::TooManyChunkStreams { limit: 4 });
        let mut buffered = Vec::new();
        for csid in 3..6 {
            buffered.extend(header(0, csid, 0, 1 << 20, 9, 1));
            buffered.extend_from_slice(&[0; 128]);
        }
        assert_eq!(e(&buffered), RtmpError::BufferedTooMuch { bytes: 3 << 20, limit: 1 << 21 });
    }
}
