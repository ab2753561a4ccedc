//! The records of the broadcast side: channels with their stream keys and stream sessions,
//! recording configurations (where a channel's recordings go) and storage configurations
//! (where a stage's recordings go), and a participant's recording state. Ids are bare, as in
//! `model.rs`; request shapes and defaults are the control plane's business.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::StringMap;

/// A channel's settings other than its name, references and tags: kept as one JSON column,
/// so that a new IVS member needs no migration. Names follow the IVS `Channel` shape.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ChannelSettings {
    pub latency_mode: String,
    #[serde(rename = "type")]
    pub channel_type: String,
    pub authorized: bool,
    pub insecure_ingest: bool,
    pub preset: String,
    pub container_format: String,
    pub playback_restriction_policy_arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub multitrack_input_configuration: Option<serde_json::Value>,
}

/// A channel as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelRecord {
    /// Assigned by the store; ignored on create and update.
    pub seq: i64,
    pub id: String,
    pub name: String,
    /// Recording is on when this names a recording configuration (which must exist).
    pub recording_configuration_id: Option<String>,
    pub settings: ChannelSettings,
    pub tags: StringMap,
    pub created_at: OffsetDateTime,
}

/// ListChannels filters (the control plane allows one at a time).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChannelFilter {
    pub name: Option<String>,
    pub recording_configuration_id: Option<String>,
}

/// A stream key: the secret an encoder streams to a channel with.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamKeyRecord {
    pub seq: i64,
    pub id: String,
    pub channel_id: String,
    pub value: String,
    pub tags: StringMap,
    pub created_at: OffsetDateTime,
}

/// A recording configuration (channels record into its bucket).
#[derive(Debug, Clone, PartialEq)]
pub struct RecordingConfigurationRecord {
    pub seq: i64,
    pub id: String,
    pub name: String,
    pub bucket_name: String,
    /// thumbnailConfiguration, recordingReconnectWindowSeconds and renditionConfiguration,
    /// as the control plane normalized them.
    pub settings: serde_json::Value,
    pub tags: StringMap,
    pub created_at: OffsetDateTime,
}

/// A storage configuration (stages and compositions record into its bucket).
#[derive(Debug, Clone, PartialEq)]
pub struct StorageConfigurationRecord {
    pub seq: i64,
    pub id: String,
    pub name: String,
    pub bucket_name: String,
    pub tags: StringMap,
    pub created_at: OffsetDateTime,
}

/// One event of a stream session (IVS `StreamEvent`).
#[derive(Debug, Clone, PartialEq)]
pub struct StreamEventRecord {
    pub name: String,
    pub event_type: String,
    pub event_time: OffsetDateTime,
    pub code: Option<String>,
}

/// One broadcast on a channel, from the encoder connecting to it leaving.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamSessionRecord {
    pub seq: i64,
    pub channel_id: String,
    pub stream_id: String,
    pub start_time: OffsetDateTime,
    pub end_time: Option<OffsetDateTime>,
    /// The channel as it was configured when the stream started (IVS `Channel`).
    pub channel: serde_json::Value,
    /// What the encoder sent (IVS `IngestConfiguration`).
    pub ingest_configuration: serde_json::Value,
    /// The recording configuration in force when the stream started, if any.
    pub recording_configuration: Option<serde_json::Value>,
    /// Oldest first.
    pub events: Vec<StreamEventRecord>,
}

/// A participant's individual recording, as the recorder reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct ParticipantRecording {
    /// IVS `ParticipantRecordingState`: STARTING, ACTIVE, STOPPING, STOPPED, FAILED.
    pub state: String,
    pub bucket_name: String,
    pub prefix: String,
}
