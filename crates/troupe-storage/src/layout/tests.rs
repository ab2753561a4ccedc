//! The layout against the examples of the two AWS pages `layout.rs` cites.

use serde_json::{Value, json};
use time::macros::datetime;

use super::*;

#[test]
fn participant_prefix_is_stage_session_participant_unix_seconds() {
    let prefix = participant_recording_prefix(
        "abcdABCDefgh",
        "st-a1b2c3d4e5f6g",
        "abCDEf12GHIj",
        datetime!(2009-02-13 23:31:30 UTC),
    );
    assert_eq!(prefix, "abcdABCDefgh/st-a1b2c3d4e5f6g/abCDEf12GHIj/1234567890");
}

#[test]
fn channel_prefix_has_unpadded_utc_date() {
    let prefix = channel_recording_prefix(
        "123456789012",
        "AsXego4U6tnj",
        datetime!(2020-06-23 22:12:40 +2),
        "j8Z9O91ndcVs",
    );
    assert_eq!(prefix, "ivs/v1/123456789012/AsXego4U6tnj/2020/6/23/20/12/j8Z9O91ndcVs");
}

#[test]
fn participant_keys() {
    let keys = RecordingKeys::new("s/st/p/1", RecordingKind::Participant);
    assert_eq!(keys.recording_started(), "s/st/p/1/events/recording-started.json");
    assert_eq!(keys.recording_failed(), "s/st/p/1/events/recording-failed.json");
    assert_eq!(keys.multivariant_playlist(), "s/st/p/1/media/hls/multivariant.m3u8");
    assert_eq!(keys.rendition_playlist("high"), "s/st/p/1/media/hls/high/playlist.m3u8");
    assert_eq!(keys.rendition_file("high", "1.mp4"), "s/st/p/1/media/hls/high/1.mp4");
    assert_eq!(keys.thumbnail("high", 2), "s/st/p/1/media/thumbnails/high/2.jpg");
    assert_eq!(keys.latest_thumbnail("high"), "s/st/p/1/media/latest_thumbnail/high/thumb.jpg");
    let channel = RecordingKeys::new("ivs/v1/a/c/2020/6/23/20/12/r", RecordingKind::Channel);
    assert_eq!(
        channel.multivariant_playlist(),
        "ivs/v1/a/c/2020/6/23/20/12/r/media/hls/master.m3u8"
    );
    assert_eq!(
        channel.latest_thumbnail("x"),
        "ivs/v1/a/c/2020/6/23/20/12/r/media/latest_thumbnail/thumb.jpg"
    );
}

#[test]
fn participant_markers_match_the_documented_examples() {
    let started = ParticipantRecordingMarker::started(
        "arn:aws:ivs:us-west-2:aws_account_id:stage/AbCdef1G2hij",
        "st-ZyXwvu1T2s",
        "xYz1c2d3e4f",
        datetime!(2024-03-13 19:44:19 UTC),
        ParticipantMedia::single_rendition(true, true),
    );
    let media = json!({
        "hls": {"path": "media/hls", "playlist": "multivariant.m3u8",
                "renditions": [{"path": "high", "playlist": "playlist.m3u8"}]},
        "thumbnails": {"path": "media/thumbnails", "renditions": [{"path": "high"}]},
        "latest_thumbnail": {"path": "media/latest_thumbnail", "renditions": [{"path": "high"}]}
    });
    assert_eq!(
        serde_json::to_value(&started).unwrap(),
        json!({
            "version": "v1",
            "stage_arn": "arn:aws:ivs:us-west-2:aws_account_id:stage/AbCdef1G2hij",
            "session_id": "st-ZyXwvu1T2s",
            "participant_id": "xYz1c2d3e4f",
            "recording_started_at": "2024-03-13T19:44:19Z",
            "recording_status": "RECORDING_STARTED",
            "media": media
        })
    );
    let ended = started.clone().ended(datetime!(2024-03-13 19:55:04 UTC), 645_237);
    let value = serde_json::to_value(&ended).unwrap();
    assert_eq!(value["recording_ended_at"], "2024-03-13T19:55:04Z");
    assert_eq!(value["recording_status"], "RECORDING_ENDED");
    assert_eq!(value["media"]["hls"]["duration_ms"], 645_237);
    let keys = RecordingKeys::new("p", RecordingKind::Participant);
    assert_eq!(ended.key(&keys), "p/events/recording-ended.json");
    let failed = started.failed(datetime!(2024-03-13 19:55:04 UTC), 0, "InternalServerException");
    assert_eq!(failed.key(&keys), "p/events/recording-failed.json");
    let back: ParticipantRecordingMarker =
        serde_json::from_value(serde_json::to_value(&failed).unwrap()).unwrap();
    assert_eq!(back, failed);
}

#[test]
fn channel_marker_matches_the_documented_example() {
    let media = ChannelMedia {
        hls: HlsMedia::channel(vec![HlsRendition::channel("480p30", 852, 480)]),
        thumbnails: Some(ChannelThumbnails {
            path: THUMBNAILS_PATH.to_owned(),
            resolution_height: 480,
            resolution_width: 852,
        }),
        latest_thumbnail: Some(ChannelThumbnails {
            path: format!("{LATEST_THUMBNAIL_PATH}/thumb.jpg"),
            resolution_height: 480,
            resolution_width: 852,
        }),
    };
    let marker = ChannelRecordingMarker::started(
        "arn:aws:ivs:us-west-2:123456789012:channel/AsXego4U6tnj",
        datetime!(2020-06-12 12:53:26 UTC),
        media,
    )
    .ended(datetime!(2020-06-14 12:53:20 UTC), 172_794_489);
    let value: Value = serde_json::to_value(&marker).unwrap();
    assert_eq!(
        value,
        json!({
            "version": "v1",
            "channel_arn": "arn:aws:ivs:us-west-2:123456789012:channel/AsXego4U6tnj",
            "recording_ended_at": "2020-06-14T12:53:20Z",
            "recording_started_at": "2020-06-12T12:53:26Z",
            "recording_status": "RECORDING_ENDED",
            "media": {
                "hls": {
                    "duration_ms": 172_794_489,
                    "path": "media/hls",
                    "playlist": "master.m3u8",
                    "byte_range_playlist": "byte-range-multivariant.m3u8",
                    "renditions": [{
                        "path": "480p30",
                        "playlist": "playlist.m3u8",
                        "byte_range_playlist": "byte-range-variant.m3u8",
                        "resolution_height": 480,
                        "resolution_width": 852
                    }]
                },
                "thumbnails": {"path": "media/thumbnails", "resolution_height": 480, "resolution_width": 852},
                "latest_thumbnail": {"path": "media/latest_thumbnail/thumb.jpg", "resolution_height": 480, "resolution_width": 852}
            }
        })
    );
}
