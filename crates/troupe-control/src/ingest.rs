//! What the media side calls directly (not HTTP operations): admitting an encoder by its
//! stream key, recording stream sessions as streams start and end, looking up where to record,
//! reporting a participant's recording, and the URLs to give a broadcaster.

use troupe_store::{
    ChannelRecord, ParticipantRecording, RecordingConfigurationRecord, StorageConfigurationRecord,
    StoreError, StreamEventRecord, StreamSessionRecord,
};

use crate::{
    arn::{ResourceType, new_stream_id},
    broadcast_shapes::ingest_configuration_json,
    error::{ApiError, ApiResult},
    live_streams::{IngestConfiguration, IngestRefusal},
    plane::ControlPlane,
};

/// The stream events IVS lists in a stream session (EventBridge's "IVS Stream State Change").
const STATE_CHANGE: &str = "IVS Stream State Change";

/// Where a broadcaster sends a channel's stream and where viewers watch it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngestUrls {
    /// `rtmp(s)://<host>:<port>/app/` (the server to give OBS), when RTMP ingest is on.
    pub rtmp_server: Option<String>,
    /// The server URL with the stream key appended (what ffmpeg takes).
    pub rtmp_url: Option<String>,
    /// `<public-url>/ingest/whip`, with the stream key as the Bearer token.
    pub whip_url: String,
    pub playback_url: String,
    /// `<public-url>/watch/<channelId>`: a plain player page.
    pub watch_url: String,
}

fn event(name: &str, at: time::OffsetDateTime) -> StreamEventRecord {
    StreamEventRecord {
        name: name.into(),
        event_type: STATE_CHANGE.into(),
        event_time: at,
        code: None,
    }
}

impl ControlPlane {
    /// Admits an encoder: the channel its stream key belongs to. Refused for a key nobody
    /// issued, a deleted key and a deleted channel's key (deleting a channel deletes its keys).
    pub async fn authorize_stream_key(&self, key: &str) -> Result<ChannelRecord, IngestRefusal> {
        // A key longer than any we issue is not worth a store round trip.
        if key.is_empty() || key.len() > 128 {
            return Err(IngestRefusal::UnknownKey);
        }
        let unavailable = |e: StoreError| {
            tracing::error!(error = %e, "stream key lookup failed");
            IngestRefusal::Unavailable
        };
        let found = self.store.find_stream_key(key).await.map_err(unavailable)?;
        let Some(found) = found else { return Err(IngestRefusal::UnknownKey) };
        self.store
            .get_channel(&found.channel_id)
            .await
            .map_err(unavailable)?
            .ok_or(IngestRefusal::UnknownKey)
    }

    /// Records that a channel went live; returns the new stream id (what GetStream and the
    /// stream session show). Snapshots the channel and its recording configuration, as
    /// GetStreamSession shows them as they were when the stream started.
    pub async fn stream_started(
        &self,
        channel_id: &str,
        ingest: &IngestConfiguration,
    ) -> ApiResult<String> {
        let channel = self
            .store
            .get_channel(channel_id)
            .await
            .map_err(|e| ApiError::from_store(e, "channel"))?
            .ok_or_else(|| ApiError::not_found(format!("channel {channel_id} not found")))?;
        let recording = match &channel.recording_configuration_id {
            Some(id) => self
                .store
                .get_recording_configuration(id)
                .await
                .map_err(|e| ApiError::from_store(e, "recording configuration"))?
                .map(|r| self.recording_configuration_json(&r, true)),
            None => None,
        };
        let now = self.now();
        let session = StreamSessionRecord {
            seq: 0,
            channel_id: channel.id.clone(),
            stream_id: new_stream_id(),
            start_time: now,
            end_time: None,
            channel: self.channel_json(&channel),
            ingest_configuration: ingest_configuration_json(ingest),
            recording_configuration: recording,
            events: vec![event("Session Created", now), event("Stream Start", now)],
        };
        let started = self
            .store
            .start_stream_session(&session)
            .await
            .map_err(|e| ApiError::from_store(e, "channel"))?;
        tracing::info!(channel = %channel.id, stream = %started.stream_id, "stream started");
        Ok(started.stream_id)
    }

    /// Records that a stream ended (idempotent).
    pub async fn stream_ended(&self, channel_id: &str, stream_id: &str) -> ApiResult<()> {
        let now = self.now();
        let events = [event("Stream End", now), event("Session Ended", now)];
        self.store
            .end_stream_session(channel_id, stream_id, now, &events)
            .await
            .map_err(|e| ApiError::from_store(e, "stream session"))?;
        tracing::info!(channel = %channel_id, stream = %stream_id, "stream ended");
        Ok(())
    }

    /// The recording configuration a channel names (by ARN, or by the bare id a
    /// [`ChannelRecord`] carries).
    pub async fn recording_configuration(
        &self,
        arn_or_id: &str,
    ) -> ApiResult<RecordingConfigurationRecord> {
        let id = if arn_or_id.starts_with("arn:") {
            self.own_id(
                arn_or_id,
                "recordingConfigurationArn",
                ResourceType::RecordingConfiguration,
            )?
        } else {
            arn_or_id.to_string()
        };
        self.store
            .get_recording_configuration(&id)
            .await
            .map_err(|e| ApiError::from_store(e, "recording configuration"))?
            .ok_or_else(|| {
                ApiError::not_found(format!("recording configuration {arn_or_id} not found"))
            })
    }

    /// The storage configuration a stage's recording configuration names (ARN or bare id).
    pub async fn storage_configuration(
        &self,
        arn_or_id: &str,
    ) -> ApiResult<StorageConfigurationRecord> {
        let id = if arn_or_id.starts_with("arn:") {
            self.own_id(arn_or_id, "storageConfigurationArn", ResourceType::StorageConfiguration)?
        } else {
            arn_or_id.to_string()
        };
        self.store
            .get_storage_configuration(&id)
            .await
            .map_err(|e| ApiError::from_store(e, "storage configuration"))?
            .ok_or_else(|| {
                ApiError::not_found(format!("storage configuration {arn_or_id} not found"))
            })
    }

    /// Reports a participant's individual recording in one session of the stage (`state`:
    /// STARTING, ACTIVE, STOPPING, STOPPED or FAILED); GetParticipant and ListParticipants
    /// show it from then on. NotFound when the stage has no such session.
    pub async fn set_participant_recording(
        &self,
        stage_id: &str,
        session_id: &str,
        participant_id: &str,
        state: &str,
        bucket: &str,
        prefix: &str,
    ) -> ApiResult<()> {
        let recording = ParticipantRecording {
            state: state.to_string(),
            bucket_name: bucket.to_string(),
            prefix: prefix.to_string(),
        };
        self.store
            .set_participant_recording(stage_id, session_id, participant_id, &recording)
            .await
            .map_err(|e| ApiError::from_store(e, "active stage session"))
    }

    /// Where to stream a channel to with `stream_key`, and where to watch it.
    pub fn ingest_urls(&self, channel_id: &str, stream_key: &str) -> IngestUrls {
        let endpoints = &self.config.endpoints;
        let host = endpoints.public_host();
        // An IPv6 literal needs its brackets back inside a URL.
        let host = if host.contains(':') { format!("[{host}]") } else { host.to_string() };
        let rtmp_server = self.config.rtmp_port.map(|port| {
            let scheme = if self.config.rtmps { "rtmps" } else { "rtmp" };
            format!("{scheme}://{host}:{port}/app/")
        });
        IngestUrls {
            rtmp_url: rtmp_server.as_ref().map(|s| format!("{s}{stream_key}")),
            rtmp_server,
            whip_url: format!("{}/ingest/whip", endpoints.public_url),
            playback_url: self.playback_url(channel_id),
            watch_url: format!("{}/watch/{channel_id}", endpoints.public_url),
        }
    }
}
