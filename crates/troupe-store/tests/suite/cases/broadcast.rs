//! Channels, stream keys, stream sessions, recording and storage configurations, and the
//! participant recordings the recorder writes.

use std::sync::Arc;

use troupe_store::{
    ChannelFilter, ChannelRecord, ChannelSettings, NewStage, PageRequest, ParticipantFilter,
    ParticipantRecording, RecordingConfigurationRecord, StageUpdate, StorageConfigurationRecord,
    Store, StoreError, StreamEventRecord, StreamKeyRecord, StreamSessionRecord, TaggedKind,
};

use super::{assert_conflict, assert_not_found, assert_quota, concurrently};
use crate::suite::fixtures::{at, map, participant, stage};

pub fn channel(id: &str, name: &str, recording: Option<&str>) -> ChannelRecord {
    ChannelRecord {
        seq: 0,
        id: id.into(),
        name: name.into(),
        recording_configuration_id: recording.map(String::from),
        settings: ChannelSettings {
            latency_mode: "LOW".into(),
            channel_type: "STANDARD".into(),
            container_format: "TS".into(),
            multitrack_input_configuration: Some(serde_json::json!({"enabled": false})),
            ..Default::default()
        },
        tags: map(&[("show", "news")]),
        created_at: at(0),
    }
}

pub fn stream_key(id: &str, channel_id: &str) -> StreamKeyRecord {
    StreamKeyRecord {
        seq: 0,
        id: id.into(),
        channel_id: channel_id.into(),
        value: format!("sk_us-east-1_{id}"),
        tags: map(&[("k", "v")]),
        created_at: at(1),
    }
}

fn recording_configuration(id: &str) -> RecordingConfigurationRecord {
    RecordingConfigurationRecord {
        seq: 0,
        id: id.into(),
        name: format!("rc {id}"),
        bucket_name: "recordings".into(),
        settings: serde_json::json!({"recordingReconnectWindowSeconds": 0}),
        tags: map(&[]),
        created_at: at(2),
    }
}

fn storage_configuration(id: &str) -> StorageConfigurationRecord {
    StorageConfigurationRecord {
        seq: 0,
        id: id.into(),
        name: format!("sc {id}"),
        bucket_name: "stage-recordings".into(),
        tags: map(&[("a", "b")]),
        created_at: at(3),
    }
}

fn event(name: &str, secs: i64) -> StreamEventRecord {
    StreamEventRecord {
        name: name.into(),
        event_type: "IVS Stream State Change".into(),
        event_time: at(secs),
        code: None,
    }
}

fn session(channel_id: &str, stream_id: &str, start: i64) -> StreamSessionRecord {
    StreamSessionRecord {
        seq: 0,
        channel_id: channel_id.into(),
        stream_id: stream_id.into(),
        start_time: at(start),
        end_time: None,
        channel: serde_json::json!({"name": "snapshot"}),
        ingest_configuration: serde_json::json!({"video": {"codec": "avc1.42C01E"}}),
        recording_configuration: None,
        events: vec![event("Session Created", start), event("Stream Start", start)],
    }
}

pub async fn channel_crud(store: Arc<dyn Store>) {
    let created =
        store.create_channel(&channel("c1", "one", None), Some(&stream_key("k1", "c1")), 10).await;
    let created = created.unwrap();
    assert!(created.seq > 0);
    assert_eq!(created, ChannelRecord { seq: created.seq, ..channel("c1", "one", None) });
    assert_eq!(store.get_channel("c1").await.unwrap(), Some(created.clone()));
    assert_eq!(store.get_channel("nope").await.unwrap(), None);
    // Created with its stream key, atomically.
    let key = store.find_stream_key("sk_us-east-1_k1").await.unwrap().unwrap();
    assert_eq!(key.channel_id, "c1");
    assert_eq!(store.get_stream_key("k1").await.unwrap(), Some(key));

    let mut changed = created.clone();
    changed.name = "renamed".into();
    changed.settings.authorized = true;
    changed.tags = map(&[("ignored", "on update")]);
    let updated = store.update_channel(&changed).await.unwrap();
    assert_eq!(updated.name, "renamed");
    assert!(updated.settings.authorized);
    assert_eq!(updated.tags, created.tags, "update_channel leaves tags alone");
    assert_not_found(store.update_channel(&channel("nope", "x", None)).await);

    // A second channel whose key value collides is refused whole: no channel left behind.
    let mut dup = stream_key("k2", "c2");
    dup.value = "sk_us-east-1_k1".into();
    assert_conflict(store.create_channel(&channel("c2", "two", None), Some(&dup), 10).await);
    assert_eq!(store.get_channel("c2").await.unwrap(), None);

    store.delete_channel("c1").await.unwrap();
    assert_eq!(store.get_channel("c1").await.unwrap(), None);
    assert_eq!(store.get_stream_key("k1").await.unwrap(), None, "keys go with their channel");
    assert_not_found(store.delete_channel("c1").await);
}

pub async fn channel_quota_and_filters(store: Arc<dyn Store>) {
    store.create_recording_configuration(&recording_configuration("rc1"), 10).await.unwrap();
    for (i, (name, rc)) in
        [("a", None), ("b", Some("rc1")), ("a", Some("rc1"))].into_iter().enumerate()
    {
        store.create_channel(&channel(&format!("c{i}"), name, rc), None, 3).await.unwrap();
    }
    assert_quota(store.create_channel(&channel("c9", "z", None), None, 3).await);
    // A recording configuration that does not exist: refused.
    assert_not_found(store.create_channel(&channel("c8", "z", Some("rc-missing")), None, 10).await);

    let ids = |page: troupe_store::Page<ChannelRecord>| {
        page.items.into_iter().map(|c| c.id).collect::<Vec<_>>()
    };
    let all = store.list_channels(&ChannelFilter::default(), PageRequest::first(2)).await.unwrap();
    assert_eq!(all.items.len(), 2);
    let rest = store
        .list_channels(&ChannelFilter::default(), PageRequest { after: all.next_after, limit: 2 })
        .await
        .unwrap();
    assert_eq!((ids(all), ids(rest)), (vec!["c0".to_string(), "c1".into()], vec!["c2".into()]));
    let by_name = ChannelFilter { name: Some("a".into()), ..Default::default() };
    assert_eq!(
        ids(store.list_channels(&by_name, PageRequest::first(10)).await.unwrap()),
        ["c0", "c2"]
    );
    let by_rc = ChannelFilter { recording_configuration_id: Some("rc1".into()), ..by_name };
    assert_eq!(ids(store.list_channels(&by_rc, PageRequest::first(10)).await.unwrap()), ["c2"]);
}

pub async fn stream_keys(store: Arc<dyn Store>) {
    store.create_channel(&channel("c1", "one", None), None, 10).await.unwrap();
    let key = store.create_stream_key(&stream_key("k1", "c1"), 1).await.unwrap();
    assert!(key.seq > 0);
    assert_quota(store.create_stream_key(&stream_key("k2", "c1"), 1).await);
    assert_not_found(store.create_stream_key(&stream_key("k3", "nope"), 1).await);
    let page = store.list_stream_keys("c1", PageRequest::first(10)).await.unwrap();
    assert_eq!(page.items, vec![key]);
    store.delete_stream_key("k1").await.unwrap();
    assert_not_found(store.delete_stream_key("k1").await);
    assert_eq!(store.find_stream_key("sk_us-east-1_k1").await.unwrap(), None);
    // The limit counts the keys there are now.
    store.create_stream_key(&stream_key("k2", "c1"), 1).await.unwrap();

    // Racing for the one slot: exactly one wins.
    store.create_channel(&channel("c2", "two", None), None, 10).await.unwrap();
    let results = concurrently(&store, 6, |store, i| async move {
        store.create_stream_key(&stream_key(&format!("r{i}"), "c2"), 1).await
    })
    .await;
    let ok = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(ok, 1, "results: {results:?}");
}

pub async fn stream_sessions(store: Arc<dyn Store>) {
    store.create_channel(&channel("c1", "one", None), None, 10).await.unwrap();
    let started = store.start_stream_session(&session("c1", "st-a", 10)).await.unwrap();
    assert_eq!(started.end_time, None);
    assert_eq!(started.events.len(), 2);
    assert_conflict(store.start_stream_session(&session("c1", "st-a", 11)).await);
    assert_not_found(store.start_stream_session(&session("nope", "st-b", 11)).await);

    let ended =
        store.end_stream_session("c1", "st-a", at(20), &[event("Stream End", 20)]).await.unwrap();
    assert_eq!(ended.end_time, Some(at(20)));
    assert_eq!(ended.events.last().unwrap().name, "Stream End");
    // Ending twice keeps the first end and does not repeat the events.
    let again =
        store.end_stream_session("c1", "st-a", at(30), &[event("Stream End", 30)]).await.unwrap();
    assert_eq!(again, ended);
    assert_eq!(store.get_stream_session("c1", "st-a").await.unwrap(), Some(ended.clone()));
    assert_not_found(store.end_stream_session("c1", "st-zz", at(30), &[]).await);

    store.start_stream_session(&session("c1", "st-b", 40)).await.unwrap();
    assert_eq!(store.latest_stream_session("c1").await.unwrap().unwrap().stream_id, "st-b");
    let page = store.list_stream_sessions("c1", PageRequest::first(1)).await.unwrap();
    assert_eq!(page.items[0].stream_id, "st-a");
    assert!(page.next_after.is_some());
    // Sessions belong to their channel.
    assert_eq!(store.get_stream_session("c2", "st-a").await.unwrap(), None);
    store.delete_channel("c1").await.unwrap();
    assert_eq!(store.latest_stream_session("c1").await.unwrap(), None);
}

pub async fn recording_configurations(store: Arc<dyn Store>) {
    let created = store.create_recording_configuration(&recording_configuration("rc1"), 2).await;
    let created = created.unwrap();
    assert_eq!(store.get_recording_configuration("rc1").await.unwrap(), Some(created.clone()));
    store.create_recording_configuration(&recording_configuration("rc2"), 2).await.unwrap();
    assert_quota(store.create_recording_configuration(&recording_configuration("rc3"), 2).await);
    let page = store.list_recording_configurations(PageRequest::first(10)).await.unwrap();
    assert_eq!(page.items.len(), 2);

    // In use by a channel: cannot be deleted until the channel lets go of it.
    store.create_channel(&channel("c1", "one", Some("rc1")), None, 10).await.unwrap();
    assert_conflict(store.delete_recording_configuration("rc1").await);
    let mut released = store.get_channel("c1").await.unwrap().unwrap();
    released.recording_configuration_id = None;
    store.update_channel(&released).await.unwrap();
    store.delete_recording_configuration("rc1").await.unwrap();
    assert_not_found(store.delete_recording_configuration("rc1").await);
    // Pointing a channel at a configuration that is gone fails.
    released.recording_configuration_id = Some("rc1".into());
    assert_not_found(store.update_channel(&released).await);
}

pub async fn storage_configurations(store: Arc<dyn Store>) {
    let created = store.create_storage_configuration(&storage_configuration("sc1"), 5).await;
    let created = created.unwrap();
    assert_eq!(store.get_storage_configuration("sc1").await.unwrap(), Some(created));
    store.create_storage_configuration(&storage_configuration("sc2"), 5).await.unwrap();
    assert_quota(store.create_storage_configuration(&storage_configuration("sc3"), 2).await);
    let page = store.list_storage_configurations(PageRequest::first(1)).await.unwrap();
    assert_eq!(page.items[0].id, "sc1");
    assert!(page.next_after.is_some());

    // A stage naming a storage configuration that does not exist is refused.
    let mut missing = stage("st-x", "x");
    missing.storage_configuration_id = Some("sc-missing".into());
    assert_not_found(store.create_stage(&missing, &[], 10).await);

    let mut recording = stage("st-1", "rec");
    recording.storage_configuration_id = Some("sc1".into());
    store.create_stage(&recording, &[], 10).await.unwrap();
    assert_conflict(store.delete_storage_configuration("sc1").await);
    // Moving the stage to another configuration frees the first one.
    let moved = StageUpdate {
        auto_recording: Some(serde_json::json!({"storageConfigurationArn": "sc2"})),
        storage_configuration_id: Some("sc2".into()),
        ..Default::default()
    };
    store.update_stage("st-1", &moved).await.unwrap();
    store.delete_storage_configuration("sc1").await.unwrap();
    // A rename alone keeps the reference.
    let rename = StageUpdate { name: Some("renamed".into()), ..Default::default() };
    store.update_stage("st-1", &rename).await.unwrap();
    assert_conflict(store.delete_storage_configuration("sc2").await);
    // Turning recording off frees it.
    let off = StageUpdate { auto_recording: Some(serde_json::json!({})), ..Default::default() };
    store.update_stage("st-1", &off).await.unwrap();
    store.delete_storage_configuration("sc2").await.unwrap();
    assert_not_found(store.delete_storage_configuration("sc2").await);
    let bad = StageUpdate {
        auto_recording: Some(serde_json::json!({})),
        storage_configuration_id: Some("sc2".into()),
        ..Default::default()
    };
    assert_not_found(store.update_stage("st-1", &bad).await);
}

pub async fn broadcast_tags(store: Arc<dyn Store>) {
    store.create_recording_configuration(&recording_configuration("rc1"), 10).await.unwrap();
    store.create_storage_configuration(&storage_configuration("sc1"), 10).await.unwrap();
    store
        .create_channel(&channel("c1", "one", None), Some(&stream_key("k1", "c1")), 10)
        .await
        .unwrap();
    for (kind, id) in [
        (TaggedKind::Channel, "c1"),
        (TaggedKind::StreamKey, "k1"),
        (TaggedKind::RecordingConfiguration, "rc1"),
        (TaggedKind::StorageConfiguration, "sc1"),
    ] {
        let tags = store.update_tags(kind, id, &map(&[("new", "1")]), &[], 50).await.unwrap();
        assert!(tags.contains_key("new"), "{kind:?}");
        assert_not_found(store.update_tags(kind, "missing", &map(&[]), &[], 50).await);
    }
    assert_eq!(store.get_channel("c1").await.unwrap().unwrap().tags["new"], "1");
    assert_eq!(store.get_stream_key("k1").await.unwrap().unwrap().tags["new"], "1");
}

pub async fn participant_recordings(store: Arc<dyn Store>) {
    let new: NewStage = stage("st", "n");
    store.create_stage(&new, &[], 10).await.unwrap();
    let recording = ParticipantRecording {
        state: "ACTIVE".into(),
        bucket_name: "bucket".into(),
        prefix: "st/session/p1".into(),
    };
    // No such session: nothing to record into.
    assert_not_found(
        store.set_participant_recording("st", "st-aaaaaaaaaaaaa", "p1", &recording).await,
    );
    let session = store.start_session("st", "st-aaaaaaaaaaaaa", at(5)).await.unwrap();
    // The recorder may report before the hub writes the participant's row.
    store.set_participant_recording("st", &session.session_id, "p1", &recording).await.unwrap();
    let written = store.upsert_participant(&participant("st", &session.session_id, "p1")).await;
    let written = written.unwrap();
    assert_eq!(written.recording_state, "ACTIVE");
    // The hub rewriting the row (DISABLED, no bucket) does not undo the recorder's report.
    store.upsert_participant(&participant("st", &session.session_id, "p1")).await.unwrap();
    let read = store.get_participant("st", &session.session_id, "p1").await.unwrap().unwrap();
    assert_eq!(read.recording_state, "ACTIVE");
    assert_eq!(read.details.recording_s3_bucket_name.as_deref(), Some("bucket"));
    assert_eq!(read.details.recording_s3_prefix.as_deref(), Some("st/session/p1"));
    assert_eq!(read.details.os_name.as_deref(), Some("Linux"));

    store.upsert_participant(&participant("st", &session.session_id, "p2")).await.unwrap();
    let stopped = ParticipantRecording { state: "STOPPED".into(), ..recording };
    store.set_participant_recording("st", &session.session_id, "p1", &stopped).await.unwrap();
    let filter = |state: &str| ParticipantFilter {
        recording_state: Some(state.into()),
        ..Default::default()
    };
    let list = |f| {
        let store = store.clone();
        let session_id = session.session_id.clone();
        async move {
            let page = store.list_participants("st", &session_id, &f, PageRequest::first(10));
            page.await.unwrap().items.into_iter().map(|p| p.participant_id).collect::<Vec<_>>()
        }
    };
    assert_eq!(list(filter("STOPPED")).await, ["p1"]);
    assert_eq!(list(filter("DISABLED")).await, ["p2"]);
    assert!(list(filter("ACTIVE")).await.is_empty());
    // Deleting the stage takes the recordings with it.
    store.delete_stage("st").await.unwrap();
    assert!(matches!(
        store.set_participant_recording("st", &session.session_id, "p1", &stopped).await,
        Err(StoreError::NotFound)
    ));
}
