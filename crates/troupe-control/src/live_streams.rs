//! What the control plane asks of the media side, behind traits the server implements: which
//! channels are live right now ([`LiveStreams`]) and whether a storage bucket exists
//! ([`BucketCheck`]). The control plane keeps history (stream sessions) in the store; what is
//! live is only known to the ingest, so GetStream and ListStreams ask it.

use async_trait::async_trait;
use serde::Serialize;
use time::OffsetDateTime;

/// IVS `StreamHealth`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamHealth {
    Healthy,
    Starving,
    Unknown,
}

impl StreamHealth {
    pub fn as_str(self) -> &'static str {
        match self {
            StreamHealth::Healthy => "HEALTHY",
            StreamHealth::Starving => "STARVING",
            StreamHealth::Unknown => "UNKNOWN",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "HEALTHY" => Some(StreamHealth::Healthy),
            "STARVING" => Some(StreamHealth::Starving),
            "UNKNOWN" => Some(StreamHealth::Unknown),
            _ => None,
        }
    }
}

/// The encoder's video settings, as the ingest read them (IVS `VideoConfiguration`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct VideoIngest {
    /// `avc1.<profile><constraints><level>` as IVS shows it, e.g. `avc1.42C01E`.
    pub codec: String,
    /// `Baseline`, `Main`, `High`, …
    pub avc_profile: String,
    /// `3.1`, `4.0`, …
    pub avc_level: String,
    pub width: u32,
    pub height: u32,
    /// Bits per second.
    pub target_bitrate: u64,
    pub target_framerate: u32,
    /// What the encoder calls itself (RTMP `encoder` metadata), or empty.
    pub encoder: String,
}

/// The encoder's audio settings (IVS `AudioConfiguration`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AudioIngest {
    /// `mp4a.40.2`, `opus`, …
    pub codec: String,
    pub sample_rate: u32,
    pub channels: u32,
    pub target_bitrate: u64,
}

/// What an encoder sends (IVS `IngestConfiguration`); either track may be missing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct IngestConfiguration {
    pub video: Option<VideoIngest>,
    pub audio: Option<AudioIngest>,
}

/// A stream that is live right now.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveStreamInfo {
    /// What [`crate::ControlPlane::stream_started`] returned.
    pub stream_id: String,
    pub start_time: OffsetDateTime,
    pub health: StreamHealth,
    pub viewer_count: u64,
    pub ingest: IngestConfiguration,
}

/// The channels the ingest is receiving right now, by channel id.
pub trait LiveStreams: Send + Sync {
    fn get(&self, channel_id: &str) -> Option<LiveStreamInfo>;
    /// Every live stream, in any order.
    fn list(&self) -> Vec<(String, LiveStreamInfo)>;
    /// Disconnects the channel's encoder (StopStream); false when it was not live.
    fn stop(&self, channel_id: &str) -> bool;
}

/// Whether a storage bucket exists (a directory, or an S3 bucket: the server decides).
#[async_trait]
pub trait BucketCheck: Send + Sync {
    /// `Err` when the answer is unknown (the storage service failed); the message is logged.
    async fn bucket_exists(&self, bucket: &str) -> Result<bool, String>;
}

/// The default until the server installs its own: no ingest runs, nothing is live.
pub struct NothingLive;

impl LiveStreams for NothingLive {
    fn get(&self, _channel_id: &str) -> Option<LiveStreamInfo> {
        None
    }

    fn list(&self) -> Vec<(String, LiveStreamInfo)> {
        Vec::new()
    }

    fn stop(&self, _channel_id: &str) -> bool {
        false
    }
}

/// The default until the server installs its own: every bucket exists.
pub struct EveryBucketExists;

#[async_trait]
impl BucketCheck for EveryBucketExists {
    async fn bucket_exists(&self, _bucket: &str) -> Result<bool, String> {
        Ok(true)
    }
}

/// Why the ingest must refuse an encoder; the message is safe to log and to send back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IngestRefusal {
    /// No channel has this stream key (never issued, deleted, or its channel deleted).
    #[error("unknown stream key")]
    UnknownKey,
    /// The store could not be read; the encoder may retry.
    #[error("the server could not check the stream key; try again")]
    Unavailable,
}
