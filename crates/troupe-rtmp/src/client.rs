//! The bytes a publishing client sends, built message by message: for this crate's tests,
//! the fuzz target's seeds and anyone who needs to play an encoder without running one.
//! Not a client: it reads nothing back.

use crate::amf0::{self, Amf0Value, object, string};
use crate::chunk_reader::DEFAULT_CHUNK_SIZE;
use crate::chunk_writer::write_message;
use crate::control;
use crate::handshake::{PACKET_SIZE, VERSION};

/// The message stream id createStream gives the first stream.
pub const STREAM_ID: u32 = 1;

/// An encoder's side of a connection, as bytes.
#[derive(Debug, Clone)]
pub struct Publisher {
    bytes: Vec<u8>,
    chunk_size: u32,
}

impl Default for Publisher {
    fn default() -> Self {
        Publisher { bytes: Vec::new(), chunk_size: DEFAULT_CHUNK_SIZE }
    }
}

impl Publisher {
    /// The bytes so far.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Takes the bytes so far.
    pub fn take(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.bytes)
    }

    /// C0, C1 and C2 (C2 without waiting for S1, which the server does not check).
    pub fn handshake(&mut self) -> &mut Self {
        self.bytes.push(VERSION);
        self.bytes.extend((0..2 * PACKET_SIZE).map(|i| (i % 251) as u8));
        self
    }

    /// Any bytes.
    pub fn raw(&mut self, bytes: &[u8]) -> &mut Self {
        self.bytes.extend_from_slice(bytes);
        self
    }

    /// One message on `csid` with a type 0 header, chunked at the current chunk size.
    pub fn message(
        &mut self,
        csid: u32,
        timestamp: u32,
        type_id: u8,
        stream_id: u32,
        payload: &[u8],
    ) -> &mut Self {
        write_message(
            &mut self.bytes,
            self.chunk_size,
            csid,
            timestamp,
            type_id,
            stream_id,
            payload,
        );
        self
    }

    /// Set Chunk Size, taking effect for the messages after it.
    pub fn set_chunk_size(&mut self, size: u32) -> &mut Self {
        self.message(2, 0, control::SET_CHUNK_SIZE, 0, &size.to_be_bytes());
        self.chunk_size = size;
        self
    }

    /// A command on chunk stream 3.
    pub fn command(&mut self, stream_id: u32, values: &[Amf0Value]) -> &mut Self {
        let body = amf0::encode_all(values);
        self.message(3, 0, control::COMMAND_AMF0, stream_id, &body)
    }

    /// connect to `app`, as ffmpeg words it.
    pub fn connect(&mut self, app: &str) -> &mut Self {
        let tc_url = format!("rtmp://127.0.0.1:1935/{app}");
        self.command(
            0,
            &[
                string("connect"),
                Amf0Value::Number(1.0),
                object(&[
                    ("app", string(app)),
                    ("type", string("nonprivate")),
                    ("flashVer", string("FMLE/3.0 (compatible; FMSc/1.0)")),
                    ("tcUrl", string(&tc_url)),
                ]),
            ],
        )
    }

    /// releaseStream, FCPublish, createStream and publish of `stream_key`.
    pub fn publish(&mut self, stream_key: &str) -> &mut Self {
        self.command(
            0,
            &[string("releaseStream"), Amf0Value::Number(2.0), Amf0Value::Null, string(stream_key)],
        );
        self.command(
            0,
            &[string("FCPublish"), Amf0Value::Number(3.0), Amf0Value::Null, string(stream_key)],
        );
        self.command(0, &[string("createStream"), Amf0Value::Number(4.0), Amf0Value::Null]);
        self.command(
            STREAM_ID,
            &[
                string("publish"),
                Amf0Value::Number(5.0),
                Amf0Value::Null,
                string(stream_key),
                string("live"),
            ],
        )
    }

    /// `@setDataFrame("onMetaData", {width, height, framerate})`.
    pub fn metadata(&mut self, width: f64, height: f64, framerate: f64) -> &mut Self {
        let props = Amf0Value::EcmaArray(vec![
            ("width".into(), Amf0Value::Number(width)),
            ("height".into(), Amf0Value::Number(height)),
            ("framerate".into(), Amf0Value::Number(framerate)),
            ("videocodecid".into(), Amf0Value::Number(7.0)),
            ("audiocodecid".into(), Amf0Value::Number(10.0)),
        ]);
        let body = amf0::encode_all(&[string("@setDataFrame"), string("onMetaData"), props]);
        self.message(4, 0, control::DATA_AMF0, STREAM_ID, &body)
    }

    /// An AVC sequence header with a minimal configuration record (4-byte NAL lengths).
    pub fn video_config(&mut self) -> &mut Self {
        let mut body = vec![0x17, 0, 0, 0, 0];
        body.extend_from_slice(&AVC_CONFIG);
        self.message(6, 0, control::VIDEO, STREAM_ID, &body)
    }

    /// One AVC frame of `nalus` (each gets a 4-byte length prefix).
    pub fn video_frame(
        &mut self,
        timestamp: u32,
        keyframe: bool,
        cts_ms: i32,
        nalus: &[&[u8]],
    ) -> &mut Self {
        let body = video_frame_body(keyframe, cts_ms, nalus);
        self.message(6, timestamp, control::VIDEO, STREAM_ID, &body)
    }

    /// An AAC sequence header (AAC-LC, 48 kHz, stereo).
    pub fn audio_config(&mut self) -> &mut Self {
        self.message(4, 0, control::AUDIO, STREAM_ID, &[0xaf, 0, 0x11, 0x90])
    }

    /// One raw AAC frame.
    pub fn audio_frame(&mut self, timestamp: u32, frame: &[u8]) -> &mut Self {
        let mut body = vec![0xaf, 1];
        body.extend_from_slice(frame);
        self.message(4, timestamp, control::AUDIO, STREAM_ID, &body)
    }

    /// FCUnpublish and deleteStream, as ffmpeg ends a publish.
    pub fn unpublish(&mut self, stream_key: &str) -> &mut Self {
        self.command(
            0,
            &[string("FCUnpublish"), Amf0Value::Number(6.0), Amf0Value::Null, string(stream_key)],
        );
        self.command(
            0,
            &[
                string("deleteStream"),
                Amf0Value::Number(7.0),
                Amf0Value::Null,
                Amf0Value::Number(1.0),
            ],
        )
    }
}

/// A minimal AVCDecoderConfigurationRecord: version 1, High profile, 4-byte NAL unit
/// lengths, no SPS or PPS (enough for framing; not decodable).
pub const AVC_CONFIG: [u8; 7] = [1, 0x64, 0, 0x1f, 0xff, 0xe0, 0];

/// The body of a video message carrying one AVC frame.
pub fn video_frame_body(keyframe: bool, cts_ms: i32, nalus: &[&[u8]]) -> Vec<u8> {
    let cts = cts_ms.to_be_bytes();
    let mut body = vec![if keyframe { 0x17 } else { 0x27 }, 1, cts[1], cts[2], cts[3]];
    for nalu in nalus {
        body.extend_from_slice(&(nalu.len() as u32).to_be_bytes());
        body.extend_from_slice(nalu);
    }
    body
}
