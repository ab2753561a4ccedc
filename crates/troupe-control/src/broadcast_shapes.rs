//! Response shapes of the `ivs` API (channels, stream keys, streams, recording
//! configurations) and of storage configurations, with the models' member names.

use serde_json::{Map, Value, json};
use troupe_store::{
    ChannelRecord, RecordingConfigurationRecord, StorageConfigurationRecord, StreamEventRecord,
    StreamKeyRecord, StreamSessionRecord,
};

use crate::{
    arn::ResourceType,
    live_streams::{IngestConfiguration, LiveStreamInfo},
    plane::ControlPlane,
    timestamp::iso8601,
};

impl ControlPlane {
    pub(crate) fn channel_arn(&self, id: &str) -> String {
        self.config.scope.arn(ResourceType::Channel, id)
    }

    /// `<public-url>/playback/<channelId>/index.m3u8` (DESIGN §6).
    pub fn playback_url(&self, channel_id: &str) -> String {
        format!("{}/playback/{channel_id}/index.m3u8", self.config.endpoints.public_url)
    }

    fn recording_arn_of(&self, channel: &ChannelRecord) -> String {
        channel
            .recording_configuration_id
            .as_deref()
            .map(|id| self.config.scope.arn(ResourceType::RecordingConfiguration, id))
            .unwrap_or_default()
    }

    /// `ChannelSummary` (ListChannels).
    pub(crate) fn channel_summary_json(&self, channel: &ChannelRecord) -> Value {
        let s = &channel.settings;
        json!({
            "arn": self.channel_arn(&channel.id),
            "name": channel.name,
            "latencyMode": s.latency_mode,
            "authorized": s.authorized,
            "recordingConfigurationArn": self.recording_arn_of(channel),
            "tags": channel.tags,
            "insecureIngest": s.insecure_ingest,
            "type": s.channel_type,
            "preset": s.preset,
            "playbackRestrictionPolicyArn": s.playback_restriction_policy_arn,
        })
    }

    /// `Channel`: the summary plus where to stream to and play from.
    pub(crate) fn channel_json(&self, channel: &ChannelRecord) -> Value {
        let mut out = self.channel_summary_json(channel);
        let s = &channel.settings;
        out["ingestEndpoint"] = self.config.endpoints.public_host().into();
        out["playbackUrl"] = self.playback_url(&channel.id).into();
        out["containerFormat"] = s.container_format.clone().into();
        if let Some(multitrack) = &s.multitrack_input_configuration {
            out["multitrackInputConfiguration"] = multitrack.clone();
        }
        out
    }

    /// `StreamKey`; the secret value only where IVS shows it (create and get).
    pub(crate) fn stream_key_json(&self, key: &StreamKeyRecord, with_value: bool) -> Value {
        let mut m = Map::new();
        m.insert("arn".into(), self.config.scope.arn(ResourceType::StreamKey, &key.id).into());
        if with_value {
            m.insert("value".into(), key.value.clone().into());
        }
        m.insert("channelArn".into(), self.channel_arn(&key.channel_id).into());
        m.insert("tags".into(), json!(key.tags));
        Value::Object(m)
    }

    /// `RecordingConfigurationSummary` (the list) or `RecordingConfiguration` (with settings).
    pub(crate) fn recording_configuration_json(
        &self,
        config: &RecordingConfigurationRecord,
        full: bool,
    ) -> Value {
        let mut out = json!({
            "arn": self.config.scope.arn(ResourceType::RecordingConfiguration, &config.id),
            "name": config.name,
            "destinationConfiguration": {"s3": {"bucketName": config.bucket_name}},
            "state": "ACTIVE",
            "tags": config.tags,
        });
        if full && let (Value::Object(out), Value::Object(settings)) = (&mut out, &config.settings)
        {
            out.extend(settings.clone());
        }
        out
    }

    pub(crate) fn storage_configuration_json(&self, config: &StorageConfigurationRecord) -> Value {
        json!({
            "arn": self.config.scope.arn(ResourceType::StorageConfiguration, &config.id),
            "name": config.name,
            "s3": {"bucketName": config.bucket_name},
            "tags": config.tags,
        })
    }

    /// `Stream` (GetStream) for a live channel.
    pub(crate) fn stream_json(&self, channel_id: &str, live: &LiveStreamInfo) -> Value {
        let mut out = self.stream_summary_json(channel_id, live);
        out["playbackUrl"] = self.playback_url(channel_id).into();
        out
    }

    /// `StreamSummary` (ListStreams).
    pub(crate) fn stream_summary_json(&self, channel_id: &str, live: &LiveStreamInfo) -> Value {
        json!({
            "channelArn": self.channel_arn(channel_id),
            "streamId": live.stream_id,
            "state": "LIVE",
            "health": live.health.as_str(),
            "viewerCount": live.viewer_count,
            "startTime": iso8601(live.start_time),
        })
    }
}

/// `IngestConfiguration` in the model's member names (what `stream_started` stores).
pub(crate) fn ingest_configuration_json(ingest: &IngestConfiguration) -> Value {
    let mut m = Map::new();
    if let Some(v) = &ingest.video {
        m.insert(
            "video".into(),
            json!({
                "avcProfile": v.avc_profile,
                "avcLevel": v.avc_level,
                "codec": v.codec,
                "encoder": v.encoder,
                "targetBitrate": v.target_bitrate,
                "targetFramerate": v.target_framerate,
                "videoHeight": v.height,
                "videoWidth": v.width,
                "level": v.avc_level,
                "profile": v.avc_profile,
                "track": "Track0",
            }),
        );
    }
    if let Some(a) = &ingest.audio {
        m.insert(
            "audio".into(),
            json!({
                "codec": a.codec,
                "targetBitrate": a.target_bitrate,
                "sampleRate": a.sample_rate,
                "channels": a.channels,
                "track": "Track0",
            }),
        );
    }
    Value::Object(m)
}

fn event_json(e: &StreamEventRecord) -> Value {
    let mut m = Map::new();
    m.insert("name".into(), e.name.clone().into());
    m.insert("type".into(), e.event_type.clone().into());
    m.insert("eventTime".into(), iso8601(e.event_time).into());
    if let Some(code) = &e.code {
        m.insert("code".into(), code.clone().into());
    }
    Value::Object(m)
}

/// `StreamSessionSummary` (ListStreamSessions).
pub(crate) fn stream_session_summary_json(s: &StreamSessionRecord) -> Value {
    let mut m = Map::new();
    m.insert("streamId".into(), s.stream_id.clone().into());
    m.insert("startTime".into(), iso8601(s.start_time).into());
    if let Some(end) = s.end_time {
        m.insert("endTime".into(), iso8601(end).into());
    }
    m.insert("hasErrorEvent".into(), s.events.iter().any(|e| e.code.is_some()).into());
    Value::Object(m)
}

/// `StreamSession` (GetStreamSession): events newest first, at most 500, as IVS lists them.
pub(crate) fn stream_session_json(s: &StreamSessionRecord) -> Value {
    let mut out = stream_session_summary_json(s);
    if let Value::Object(m) = &mut out {
        m.remove("hasErrorEvent");
        m.insert("channel".into(), s.channel.clone());
        m.insert("ingestConfiguration".into(), s.ingest_configuration.clone());
        let tracks = |key: &str| s.ingest_configuration.get(key).cloned().into_iter().collect();
        let (video, audio): (Vec<Value>, Vec<Value>) = (tracks("video"), tracks("audio"));
        m.insert(
            "ingestConfigurations".into(),
            json!({"videoConfigurations": video, "audioConfigurations": audio}),
        );
        if let Some(recording) = &s.recording_configuration {
            m.insert("recordingConfiguration".into(), recording.clone());
        }
        let events: Vec<Value> = s.events.iter().rev().take(500).map(event_json).collect();
        m.insert("truncatedEvents".into(), events.into());
    }
    out
}
