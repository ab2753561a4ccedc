//! The records the store keeps. Identifiers are the bare ids (the last segment of an ARN): ARNs
//! are built by the control plane from its configured region and account, so that changing
//! either does not orphan stored rows.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Tags and participant attributes: string to string, kept sorted for stable output.
pub type StringMap = BTreeMap<String, String>;

/// A stage as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StageRecord {
    pub seq: i64,
    pub id: String,
    pub name: String,
    pub tags: StringMap,
    /// The `autoParticipantRecordingConfiguration` object as the client sent it.
    pub auto_recording: Option<serde_json::Value>,
    pub created_at: OffsetDateTime,
    /// The session in progress, if any (derived from the sessions table on read).
    pub active_session_id: Option<String>,
}

/// What CreateStage writes.
#[derive(Debug, Clone, PartialEq)]
pub struct NewStage {
    pub id: String,
    pub name: String,
    pub tags: StringMap,
    pub auto_recording: Option<serde_json::Value>,
    /// The storage configuration `auto_recording` names, which must exist (and then cannot be
    /// deleted while the stage uses it).
    pub storage_configuration_id: Option<String>,
    pub created_at: OffsetDateTime,
}

/// What UpdateStage changes; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StageUpdate {
    pub name: Option<String>,
    pub auto_recording: Option<serde_json::Value>,
    /// With `auto_recording`: the storage configuration it names (`None`: recording off).
    /// Ignored without it.
    pub storage_configuration_id: Option<String>,
}

/// The capabilities a token grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capabilities {
    pub publish: bool,
    pub subscribe: bool,
}

/// A participant token issued by this control plane (the token string itself is not kept:
/// it is a bearer secret, and the claims below are all that verification needs).
#[derive(Debug, Clone, PartialEq)]
pub struct TokenRecord {
    pub participant_id: String,
    pub stage_id: String,
    pub user_id: Option<String>,
    pub attributes: StringMap,
    pub capabilities: Capabilities,
    /// Minutes, as requested.
    pub duration_minutes: u32,
    pub issued_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

/// A participant id that must no longer be admitted (DisconnectParticipant), until `expires_at`,
/// after which any token carrying it has expired anyway.
#[derive(Debug, Clone, PartialEq)]
pub struct Revocation {
    pub participant_id: String,
    pub stage_id: String,
    pub reason: Option<String>,
    pub revoked_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

/// A customer public key for self-signed tokens (ImportPublicKey).
#[derive(Debug, Clone, PartialEq)]
pub struct PublicKeyRecord {
    pub seq: i64,
    pub id: String,
    pub name: String,
    /// PEM, as imported.
    pub material: String,
    /// Unique per key material: importing the same key twice is a conflict.
    pub fingerprint: String,
    pub tags: StringMap,
    pub created_at: OffsetDateTime,
}

/// A node's token-signing public key, as registered in the store.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeKeyRecord {
    pub kid: String,
    pub public_pem: String,
    pub retired_at: Option<OffsetDateTime>,
}

/// Sizes an operator watches (`troupe_stages` and friends on /metrics).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoreCounts {
    pub stages: i64,
    pub active_sessions: i64,
    pub public_keys: i64,
}

/// The kinds of resources that carry tags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaggedKind {
    Stage,
    PublicKey,
    Channel,
    StreamKey,
    RecordingConfiguration,
    StorageConfiguration,
}

impl TaggedKind {
    /// The table holding this kind's rows (each has `id` and `tags` columns).
    pub(crate) fn table(self) -> &'static str {
        match self {
            TaggedKind::Stage => "stages",
            TaggedKind::PublicKey => "public_keys",
            TaggedKind::Channel => "channels",
            TaggedKind::StreamKey => "stream_keys",
            TaggedKind::RecordingConfiguration => "recording_configurations",
            TaggedKind::StorageConfiguration => "storage_configurations",
        }
    }
}

/// A stage session: from the first participant joining to the last one leaving.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRecord {
    pub seq: i64,
    pub stage_id: String,
    pub session_id: String,
    pub start_time: OffsetDateTime,
    pub end_time: Option<OffsetDateTime>,
}

/// Whether a participant is currently in the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParticipantState {
    Connected,
    Disconnected,
}

impl ParticipantState {
    pub fn as_str(self) -> &'static str {
        match self {
            ParticipantState::Connected => "CONNECTED",
            ParticipantState::Disconnected => "DISCONNECTED",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "CONNECTED" => Some(ParticipantState::Connected),
            "DISCONNECTED" => Some(ParticipantState::Disconnected),
            _ => None,
        }
    }
}

/// Descriptive participant fields that are shown but never filtered on; stored as one JSON
/// column so that adding one needs no migration. Names follow the IVS `Participant` shape.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ParticipantDetails {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub isp_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub browser_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub browser_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sdk_version: Option<String>,
    /// `UNKNOWN`, `WHIP`, `RTMP` or `RTMPS`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recording_s3_bucket_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recording_s3_prefix: Option<String>,
}

/// A participant of one stage session, as the media plane reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct ParticipantRecord {
    /// Assigned by the store on first insert; ignored on upsert.
    pub seq: i64,
    pub stage_id: String,
    pub session_id: String,
    pub participant_id: String,
    pub user_id: Option<String>,
    pub state: ParticipantState,
    /// Kept from the first upsert of this participant in this session.
    pub first_join_time: OffsetDateTime,
    pub attributes: StringMap,
    /// Whether the participant published at any time during the session.
    pub published: bool,
    /// `DISABLED` unless recording is configured (IVS `ParticipantRecordingState`).
    pub recording_state: String,
    pub details: ParticipantDetails,
}

/// ListParticipants filters; the control plane allows at most one at a time, the store applies
/// whatever it is given.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParticipantFilter {
    pub user_id: Option<String>,
    pub published: Option<bool>,
    pub state: Option<ParticipantState>,
    pub recording_state: Option<String>,
}

/// Fields of an event that are present only for some event names.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventDetails {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_participant_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination_stage_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination_session_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replica: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_token: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_token: Option<serde_json::Value>,
}

/// One participant event (JOINED, PUBLISH_STARTED, ...).
#[derive(Debug, Clone, PartialEq)]
pub struct EventRecord {
    /// Assigned by the store; ignored on append.
    pub seq: i64,
    pub stage_id: String,
    pub session_id: String,
    pub participant_id: String,
    pub name: String,
    pub event_time: OffsetDateTime,
    pub details: EventDetails,
}
