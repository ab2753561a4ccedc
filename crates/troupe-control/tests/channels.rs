//! The channel API and the ingest hooks together, over a real SQLite store, with a fake
//! ingest (`FakeLive`) standing in for the server's `LiveStreams`.

mod common;

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use serde_json::{Value, json};
use troupe_control::{
    BucketCheck, ErrorType, IngestConfiguration, IngestRefusal, LiveStreamInfo, LiveStreams,
    StreamHealth, VideoIngest, operation::Operation,
};

#[derive(Default)]
struct FakeLive {
    live: Mutex<Vec<(String, LiveStreamInfo)>>,
}

impl LiveStreams for FakeLive {
    fn get(&self, channel_id: &str) -> Option<LiveStreamInfo> {
        self.live.lock().unwrap().iter().find(|(c, _)| c == channel_id).map(|(_, i)| i.clone())
    }
    fn list(&self) -> Vec<(String, LiveStreamInfo)> {
        self.live.lock().unwrap().clone()
    }
    fn stop(&self, channel_id: &str) -> bool {
        let mut live = self.live.lock().unwrap();
        let before = live.len();
        live.retain(|(c, _)| c != channel_id);
        live.len() != before
    }
}

struct OnlyBucket(&'static str);

#[async_trait]
impl BucketCheck for OnlyBucket {
    async fn bucket_exists(&self, bucket: &str) -> Result<bool, String> {
        Ok(bucket == self.0)
    }
}

fn id_of(arn: &Value) -> String {
    arn.as_str().unwrap().rsplit('/').next().unwrap().to_string()
}

#[tokio::test]
async fn a_stream_from_key_to_session() {
    let t = common::plane().await;
    let fake = Arc::new(FakeLive::default());
    t.plane.set_live_streams(fake.clone());
    let created = t.call(Operation::CreateChannel, json!({"name": "show"})).await.unwrap();
    let channel = &created["channel"];
    let channel_arn = channel["arn"].as_str().unwrap().to_string();
    let channel_id = id_of(&channel["arn"]);
    assert_eq!(channel["ingestEndpoint"], "127.0.0.1");
    assert_eq!(
        channel["playbackUrl"],
        format!("http://127.0.0.1:7800/playback/{channel_id}/index.m3u8")
    );
    assert_eq!(
        (channel["latencyMode"].as_str(), channel["type"].as_str()),
        (Some("LOW"), Some("STANDARD"))
    );
    let key = created["streamKey"]["value"].as_str().unwrap().to_string();
    assert!(key.starts_with("sk_us-east-1_"), "{key}");

    // The ingest admits the key, and only it.
    let admitted = t.plane.authorize_stream_key(&key).await.unwrap();
    assert_eq!(admitted.id, channel_id);
    assert_eq!(
        t.plane.authorize_stream_key("sk_us-east-1_guess").await,
        Err(IngestRefusal::UnknownKey)
    );
    assert_eq!(t.plane.authorize_stream_key("").await, Err(IngestRefusal::UnknownKey));

    // Offline: GetStream and StopStream say so.
    let err = t.call(Operation::GetStream, json!({"channelArn": channel_arn})).await.unwrap_err();
    assert_eq!(err.kind, ErrorType::ChannelNotBroadcasting);
    let err = t.call(Operation::StopStream, json!({"channelArn": channel_arn})).await.unwrap_err();
    assert_eq!(err.kind, ErrorType::ChannelNotBroadcasting);

    let ingest = IngestConfiguration {
        video: Some(VideoIngest {
            codec: "avc1.64001F".into(),
            avc_profile: "High".into(),
            avc_level: "3.1".into(),
            width: 1280,
            height: 720,
            target_bitrate: 2_500_000,
            target_framerate: 30,
            encoder: "obs".into(),
        }),
        audio: None,
    };
    let stream_id = t.plane.stream_started(&channel_id, &ingest).await.unwrap();
    assert_eq!(stream_id.len(), 26);
    fake.live.lock().unwrap().push((
        channel_id.clone(),
        LiveStreamInfo {
            stream_id: stream_id.clone(),
            start_time: time::OffsetDateTime::now_utc(),
            health: StreamHealth::Healthy,
            viewer_count: 3,
            ingest,
        },
    ));
    let stream = t.call(Operation::GetStream, json!({"channelArn": channel_arn})).await.unwrap();
    assert_eq!(stream["stream"]["state"], "LIVE");
    assert_eq!(stream["stream"]["health"], "HEALTHY");
    assert_eq!(stream["stream"]["viewerCount"], 3);
    assert_eq!(stream["stream"]["streamId"], stream_id.as_str());
    let listed = t.call(Operation::ListStreams, json!({"filterBy": {"health": "STARVING"}})).await;
    assert_eq!(listed.unwrap()["streams"], json!([]));
    let listed = t.call(Operation::ListStreams, json!({})).await.unwrap();
    assert_eq!(listed["streams"].as_array().unwrap().len(), 1);

    // Live channels cannot be changed or deleted.
    let err = t.call(Operation::DeleteChannel, json!({"arn": channel_arn})).await.unwrap_err();
    assert_eq!(err.kind, ErrorType::Conflict);
    let err = t
        .call(Operation::UpdateChannel, json!({"arn": channel_arn, "name": "x"}))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorType::Conflict);

    t.call(Operation::StopStream, json!({"channelArn": channel_arn})).await.unwrap();
    t.plane.stream_ended(&channel_id, &stream_id).await.unwrap();
    let session = t
        .call(
            Operation::GetStreamSession,
            json!({"channelArn": channel_arn, "streamId": stream_id}),
        )
        .await
        .unwrap();
    let session = &session["streamSession"];
    assert!(session["endTime"].is_string());
    assert_eq!(session["channel"]["name"], "show");
    assert_eq!(session["ingestConfiguration"]["video"]["videoWidth"], 1280);
    let events: Vec<&str> = session["truncatedEvents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(events, ["Session Ended", "Stream End", "Stream Start", "Session Created"]);
    // Without a stream id: the latest session.
    let latest = t.call(Operation::GetStreamSession, json!({"channelArn": channel_arn})).await;
    assert_eq!(latest.unwrap()["streamSession"]["streamId"], stream_id.as_str());
    let sessions = t.call(Operation::ListStreamSessions, json!({"channelArn": channel_arn})).await;
    assert_eq!(sessions.unwrap()["streamSessions"].as_array().unwrap().len(), 1);

    // Deleting the channel revokes its key.
    t.call(Operation::DeleteChannel, json!({"arn": channel_arn})).await.unwrap();
    assert_eq!(t.plane.authorize_stream_key(&key).await, Err(IngestRefusal::UnknownKey));
}

#[tokio::test]
async fn buckets_are_checked_and_participant_recordings_shown() {
    let t = common::plane().await;
    t.plane.set_bucket_check(Arc::new(OnlyBucket("exists")));
    let err = t
        .call(Operation::CreateStorageConfiguration, json!({"s3": {"bucketName": "missing"}}))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorType::Validation);
    assert!(err.message.contains("s3.bucketName"), "{}", err.message);
    let err = t
        .call(
            Operation::CreateRecordingConfiguration,
            json!({"destinationConfiguration": {"s3": {"bucketName": "missing"}}}),
        )
        .await
        .unwrap_err();
    assert!(err.message.contains("destinationConfiguration.s3.bucketName"), "{}", err.message);
    let storage = t
        .call(Operation::CreateStorageConfiguration, json!({"s3": {"bucketName": "exists"}}))
        .await
        .unwrap();
    let storage_arn = storage["storageConfiguration"]["arn"].clone();
    let stage = t
        .call(
            Operation::CreateStage,
            json!({"autoParticipantRecordingConfiguration": {"storageConfigurationArn": storage_arn}}),
        )
        .await
        .unwrap();
    let stage_id = id_of(&stage["stage"]["arn"]);
    assert_eq!(
        stage["stage"]["autoParticipantRecordingConfiguration"]["hlsConfiguration"]["targetSegmentDurationSeconds"],
        6
    );
    let found = t.plane.storage_configuration(storage_arn.as_str().unwrap()).await.unwrap();
    assert_eq!(found.bucket_name, "exists");

    // A participant the recorder reports on shows its recording.
    let store = t.plane.store();
    let session =
        store.start_session(&stage_id, "st-aaaaaaaaaaaaa", time::OffsetDateTime::now_utc());
    let session = session.await.unwrap();
    let participant = troupe_store::ParticipantRecord {
        seq: 0,
        stage_id: stage_id.clone(),
        session_id: session.session_id.clone(),
        participant_id: "p1".into(),
        user_id: None,
        state: troupe_store::ParticipantState::Connected,
        first_join_time: time::OffsetDateTime::now_utc(),
        attributes: Default::default(),
        published: true,
        recording_state: "DISABLED".into(),
        details: Default::default(),
    };
    store.upsert_participant(&participant).await.unwrap();
    t.plane
        .set_participant_recording(
            &stage_id,
            &session.session_id,
            "p1",
            "ACTIVE",
            "exists",
            "abc/def/p1",
        )
        .await
        .unwrap();
    let got = t
        .call(
            Operation::GetParticipant,
            json!({
                "stageArn": stage["stage"]["arn"],
                "sessionId": session.session_id,
                "participantId": "p1",
            }),
        )
        .await
        .unwrap();
    assert_eq!(got["participant"]["recordingState"], "ACTIVE");
    assert_eq!(got["participant"]["recordingS3BucketName"], "exists");
    assert_eq!(got["participant"]["recordingS3Prefix"], "abc/def/p1");
}

#[tokio::test]
async fn ingest_urls_follow_the_config() {
    let t = common::plane().await;
    let urls = t.plane.ingest_urls("AbCdEfGhIjKl", "sk_us-east-1_x");
    assert_eq!(urls.rtmp_server.as_deref(), Some("rtmp://127.0.0.1:1935/app/"));
    assert_eq!(urls.rtmp_url.as_deref(), Some("rtmp://127.0.0.1:1935/app/sk_us-east-1_x"));
    assert_eq!(urls.whip_url, "http://127.0.0.1:7800/ingest/whip");
    assert_eq!(urls.watch_url, "http://127.0.0.1:7800/watch/AbCdEfGhIjKl");
    assert_eq!(urls.playback_url, "http://127.0.0.1:7800/playback/AbCdEfGhIjKl/index.m3u8");
}
