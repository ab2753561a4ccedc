//! Rows of the broadcast tables as the database returns them, and their conversion to the
//! records of `broadcast_model.rs` (never panicking: unreadable columns are `Backend` errors).

use serde::{Deserialize, Serialize};

use crate::{
    ChannelRecord, RecordingConfigurationRecord, StorageConfigurationRecord, StoreError,
    StoreResult, StreamEventRecord, StreamKeyRecord, StreamSessionRecord,
    rows::{from_json, from_ms, to_json, to_ms},
};

pub(crate) const CHANNEL_COLUMNS: &str =
    "seq, id, name, recording_configuration_id, settings, tags, created_at";

#[derive(sqlx::FromRow)]
pub(crate) struct RawChannel {
    seq: i64,
    id: String,
    name: String,
    recording_configuration_id: Option<String>,
    settings: String,
    tags: String,
    created_at: i64,
}

impl TryFrom<RawChannel> for ChannelRecord {
    type Error = StoreError;

    fn try_from(raw: RawChannel) -> StoreResult<Self> {
        Ok(ChannelRecord {
            seq: raw.seq,
            id: raw.id,
            name: raw.name,
            recording_configuration_id: raw.recording_configuration_id,
            settings: from_json(&raw.settings)?,
            tags: from_json(&raw.tags)?,
            created_at: from_ms(raw.created_at)?,
        })
    }
}

pub(crate) const STREAM_KEY_COLUMNS: &str = "seq, id, channel_id, value, tags, created_at";

#[derive(sqlx::FromRow)]
pub(crate) struct RawStreamKey {
    seq: i64,
    id: String,
    channel_id: String,
    value: String,
    tags: String,
    created_at: i64,
}

impl TryFrom<RawStreamKey> for StreamKeyRecord {
    type Error = StoreError;

    fn try_from(raw: RawStreamKey) -> StoreResult<Self> {
        Ok(StreamKeyRecord {
            seq: raw.seq,
            id: raw.id,
            channel_id: raw.channel_id,
            value: raw.value,
            tags: from_json(&raw.tags)?,
            created_at: from_ms(raw.created_at)?,
        })
    }
}

pub(crate) const RECORDING_CONFIGURATION_COLUMNS: &str =
    "seq, id, name, bucket_name, settings, tags, created_at";

#[derive(sqlx::FromRow)]
pub(crate) struct RawRecordingConfiguration {
    seq: i64,
    id: String,
    name: String,
    bucket_name: String,
    settings: String,
    tags: String,
    created_at: i64,
}

impl TryFrom<RawRecordingConfiguration> for RecordingConfigurationRecord {
    type Error = StoreError;

    fn try_from(raw: RawRecordingConfiguration) -> StoreResult<Self> {
        Ok(RecordingConfigurationRecord {
            seq: raw.seq,
            id: raw.id,
            name: raw.name,
            bucket_name: raw.bucket_name,
            settings: from_json(&raw.settings)?,
            tags: from_json(&raw.tags)?,
            created_at: from_ms(raw.created_at)?,
        })
    }
}

pub(crate) const STORAGE_CONFIGURATION_COLUMNS: &str =
    "seq, id, name, bucket_name, tags, created_at";

#[derive(sqlx::FromRow)]
pub(crate) struct RawStorageConfiguration {
    seq: i64,
    id: String,
    name: String,
    bucket_name: String,
    tags: String,
    created_at: i64,
}

impl TryFrom<RawStorageConfiguration> for StorageConfigurationRecord {
    type Error = StoreError;

    fn try_from(raw: RawStorageConfiguration) -> StoreResult<Self> {
        Ok(StorageConfigurationRecord {
            seq: raw.seq,
            id: raw.id,
            name: raw.name,
            bucket_name: raw.bucket_name,
            tags: from_json(&raw.tags)?,
            created_at: from_ms(raw.created_at)?,
        })
    }
}

/// A stream event in the `events` JSON column (times in unix milliseconds, as every column).
#[derive(Serialize, Deserialize)]
struct StoredEvent {
    name: String,
    #[serde(rename = "type")]
    event_type: String,
    time: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    code: Option<String>,
}

pub(crate) fn events_to_json(events: &[StreamEventRecord]) -> StoreResult<String> {
    let stored: Vec<StoredEvent> = events
        .iter()
        .map(|e| StoredEvent {
            name: e.name.clone(),
            event_type: e.event_type.clone(),
            time: to_ms(e.event_time),
            code: e.code.clone(),
        })
        .collect();
    to_json(&stored)
}

pub(crate) fn events_from_json(text: &str) -> StoreResult<Vec<StreamEventRecord>> {
    let stored: Vec<StoredEvent> = from_json(text)?;
    stored
        .into_iter()
        .map(|e| {
            Ok(StreamEventRecord {
                name: e.name,
                event_type: e.event_type,
                event_time: from_ms(e.time)?,
                code: e.code,
            })
        })
        .collect()
}

pub(crate) const STREAM_SESSION_COLUMNS: &str = "seq, channel_id, stream_id, start_time, \
     end_time, channel, ingest_configuration, recording_configuration, events";

#[derive(sqlx::FromRow)]
pub(crate) struct RawStreamSession {
    seq: i64,
    channel_id: String,
    stream_id: String,
    start_time: i64,
    end_time: Option<i64>,
    channel: String,
    ingest_configuration: String,
    recording_configuration: Option<String>,
    events: String,
}

impl TryFrom<RawStreamSession> for StreamSessionRecord {
    type Error = StoreError;

    fn try_from(raw: RawStreamSession) -> StoreResult<Self> {
        Ok(StreamSessionRecord {
            seq: raw.seq,
            channel_id: raw.channel_id,
            stream_id: raw.stream_id,
            start_time: from_ms(raw.start_time)?,
            end_time: raw.end_time.map(from_ms).transpose()?,
            channel: from_json(&raw.channel)?,
            ingest_configuration: from_json(&raw.ingest_configuration)?,
            recording_configuration: raw
                .recording_configuration
                .as_deref()
                .map(from_json)
                .transpose()?,
            events: events_from_json(&raw.events)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_round_trip() {
        let t = time::OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        let events = vec![StreamEventRecord {
            name: "Stream Start".into(),
            event_type: "IVS Stream State Change".into(),
            event_time: t,
            code: None,
        }];
        let text = events_to_json(&events).unwrap();
        assert_eq!(events_from_json(&text).unwrap(), events);
        assert!(matches!(events_from_json("[{\"name\":1}]"), Err(StoreError::Backend(_))));
    }
}
