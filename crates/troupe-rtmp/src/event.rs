//! What a session reports to its caller.

use bytes::Bytes;

/// A codec id as metadata gives it: FLV's numbers (7 is AVC, 10 AAC), or a name some
/// encoders send instead (a FourCC such as "avc1").
#[derive(Debug, Clone, PartialEq)]
pub enum CodecId {
    Number(f64),
    Name(String),
}

/// The stream properties an encoder announces with `@setDataFrame`/`onMetaData`. All are
/// optional: encoders differ in what they send, and nothing here is trusted for decoding.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StreamMetadata {
    pub width: Option<f64>,
    pub height: Option<f64>,
    pub framerate: Option<f64>,
    /// kbit/s.
    pub video_data_rate: Option<f64>,
    /// kbit/s.
    pub audio_data_rate: Option<f64>,
    pub audio_sample_rate: Option<f64>,
    /// From `audiochannels`, or from `stereo` (2 or 1) where only that is sent (ffmpeg).
    pub audio_channels: Option<f64>,
    pub encoder: Option<String>,
    pub video_codec_id: Option<CodecId>,
    pub audio_codec_id: Option<CodecId>,
}

/// One thing that happened on the connection, in arrival order.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The client asks to publish: answer with `accept_publish` or `reject_publish`.
    PublishRequested {
        app: String,
        stream_key: String,
        tc_url: Option<String>,
    },
    Metadata(StreamMetadata),
    /// The AVCDecoderConfigurationRecord (AVC sequence header: SPS and PPS).
    VideoConfig {
        avc_decoder_configuration: Bytes,
    },
    /// One access unit: AVCC NAL units (length-prefixed, as in FLV), checked to be framed
    /// whole. `cts_ms` is the composition time offset (pts = dts + cts).
    Video {
        dts_ms: u64,
        cts_ms: i32,
        keyframe: bool,
        data: Bytes,
    },
    /// The AudioSpecificConfig (AAC sequence header).
    AudioConfig {
        audio_specific_config: Bytes,
    },
    /// One raw AAC frame.
    Audio {
        pts_ms: u64,
        data: Bytes,
    },
    /// The client stopped publishing (FCUnpublish, deleteStream or closeStream).
    Unpublished,
}
