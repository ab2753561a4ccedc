//! IVS's recording object layout: where each object of a recording goes and what the
//! `events/*.json` markers say, so that tools written for IVS recordings read Troupe's.
//! The summary, with its sources, is `LAYOUT.md` beside `Cargo.toml`.
//!
//! Sources (AWS documentation):
//! - individual participant recording: Real-Time Streaming User Guide, "IVS Individual
//!   Participant Recording" (`RealTimeUserGuide/rt-individual-participant-recording.html`),
//!   sections "Recording Contents" and "JSON Metadata Files"; the prefix's last segment is
//!   a Unix time in seconds, as in the AWS CLI example of `ivs-realtime get-participant`
//!   (`recordingS3Prefix: "abcdABCDefgh/st-a1b2c3d4e5f6g/abCDEf12GHIj/1234567890"`);
//! - channel auto-record: Low-Latency Streaming User Guide, "IVS Auto-Record to Amazon S3"
//!   (`LowLatencyUserGuide/record-to-s3.html`), sections "S3 Prefix", "Recording Contents"
//!   and "JSON Metadata Files".

use serde::{Deserialize, Serialize};
use time::{OffsetDateTime, UtcOffset};

/// The marker schema version both documents give.
pub const MARKER_VERSION: &str = "v1";

pub const RECORDING_STARTED: &str = "events/recording-started.json";
pub const RECORDING_ENDED: &str = "events/recording-ended.json";
pub const RECORDING_FAILED: &str = "events/recording-failed.json";
pub const HLS_PATH: &str = "media/hls";
pub const THUMBNAILS_PATH: &str = "media/thumbnails";
pub const LATEST_THUMBNAIL_PATH: &str = "media/latest_thumbnail";
/// The media playlist's name in every rendition directory.
pub const RENDITION_PLAYLIST: &str = "playlist.m3u8";
/// A participant recording's multivariant playlist (in `media/hls/`).
pub const PARTICIPANT_MULTIVARIANT: &str = "multivariant.m3u8";
/// A participant recording's one rendition (IVS records the publisher's best layer as `high`).
pub const PARTICIPANT_RENDITION: &str = "high";
/// A channel recording's multivariant playlist (in `media/hls/`).
pub const CHANNEL_MULTIVARIANT: &str = "master.m3u8";
pub const CHANNEL_BYTE_RANGE_MULTIVARIANT: &str = "byte-range-multivariant.m3u8";
pub const CHANNEL_BYTE_RANGE_VARIANT: &str = "byte-range-variant.m3u8";

/// `<stageId>/<stageSessionId>/<participantId>/<unix seconds of the start>`: the
/// participant's `recordingS3Prefix`. Ids are the resource-id parts of the ARNs.
pub fn participant_recording_prefix(
    stage_id: &str,
    session_id: &str,
    participant_id: &str,
    started_at: OffsetDateTime,
) -> String {
    format!("{stage_id}/{session_id}/{participant_id}/{}", started_at.unix_timestamp())
}

/// `ivs/v1/<accountId>/<channelId>/<year>/<month>/<day>/<hours>/<minutes>/<recordingId>`,
/// the UTC start time without zero padding (`…/2020/6/23/20/12/j8Z9O91ndcVs`), no leading
/// `/`.
pub fn channel_recording_prefix(
    account_id: &str,
    channel_id: &str,
    started_at: OffsetDateTime,
    recording_id: &str,
) -> String {
    let t = started_at.to_offset(UtcOffset::UTC);
    format!(
        "ivs/v1/{account_id}/{channel_id}/{}/{}/{}/{}/{}/{recording_id}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute()
    )
}

/// The keys of one recording's objects, under its prefix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordingKeys {
    pub prefix: String,
    pub kind: RecordingKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordingKind {
    /// Individual participant recording (and composite recordings, which IVS writes the
    /// same way: multivariant.m3u8, renditions, sequential thumbnails per rendition).
    Participant,
    /// Channel auto-record.
    Channel,
}

impl RecordingKeys {
    pub fn new(prefix: impl Into<String>, kind: RecordingKind) -> Self {
        RecordingKeys { prefix: prefix.into(), kind }
    }

    fn key(&self, rest: &str) -> String {
        format!("{}/{rest}", self.prefix)
    }

    pub fn recording_started(&self) -> String {
        self.key(RECORDING_STARTED)
    }
    pub fn recording_ended(&self) -> String {
        self.key(RECORDING_ENDED)
    }
    pub fn recording_failed(&self) -> String {
        self.key(RECORDING_FAILED)
    }

    /// The `events/` marker a recording in `status` is written to.
    pub fn marker(&self, status: RecordingStatus) -> String {
        match status {
            RecordingStatus::RecordingStarted => self.recording_started(),
            RecordingStatus::RecordingEnded => self.recording_ended(),
            RecordingStatus::RecordingStartFailed | RecordingStatus::RecordingEndedWithFailure => {
                self.recording_failed()
            }
        }
    }

    /// The multivariant playlist's file name, as the markers' `media.hls.playlist` says.
    pub fn multivariant_name(&self) -> &'static str {
        match self.kind {
            RecordingKind::Participant => PARTICIPANT_MULTIVARIANT,
            RecordingKind::Channel => CHANNEL_MULTIVARIANT,
        }
    }

    /// `media/hls/multivariant.m3u8` (participant) or `media/hls/master.m3u8` (channel).
    pub fn multivariant_playlist(&self) -> String {
        self.key(&format!("{HLS_PATH}/{}", self.multivariant_name()))
    }

    /// `media/hls/<rendition>/playlist.m3u8`.
    pub fn rendition_playlist(&self, rendition: &str) -> String {
        self.key(&format!("{HLS_PATH}/{rendition}/{RENDITION_PLAYLIST}"))
    }

    /// A file of a rendition (`init-0.mp4`, `0.mp4`, … in the participant example): the
    /// playlist names them, so IVS does not fix these names.
    pub fn rendition_file(&self, rendition: &str, file: &str) -> String {
        self.key(&format!("{HLS_PATH}/{rendition}/{file}"))
    }

    /// Sequential thumbnail `n`: `media/thumbnails/<rendition>/<n>.jpg` (participant);
    /// `media/thumbnails/thumb<n>.jpg` (channel: the guide gives only the directory; this
    /// name is what IVS channel recordings are seen to hold).
    pub fn thumbnail(&self, rendition: &str, n: u64) -> String {
        match self.kind {
            RecordingKind::Participant => {
                self.key(&format!("{THUMBNAILS_PATH}/{rendition}/{n}.jpg"))
            }
            RecordingKind::Channel => self.key(&format!("{THUMBNAILS_PATH}/thumb{n}.jpg")),
        }
    }

    /// `media/latest_thumbnail/<rendition>/thumb.jpg` (participant) or
    /// `media/latest_thumbnail/thumb.jpg` (channel).
    pub fn latest_thumbnail(&self, rendition: &str) -> String {
        match self.kind {
            RecordingKind::Participant => {
                self.key(&format!("{LATEST_THUMBNAIL_PATH}/{rendition}/thumb.jpg"))
            }
            RecordingKind::Channel => self.key(&format!("{LATEST_THUMBNAIL_PATH}/thumb.jpg")),
        }
    }
}

/// `recording_status` of a marker.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RecordingStatus {
    RecordingStarted,
    RecordingEnded,
    /// Participant recordings only.
    RecordingStartFailed,
    RecordingEndedWithFailure,
}

/// RFC 3339 UTC with whole seconds (`2024-03-13T13:17:17Z`), as in the documents' examples.
pub fn marker_time(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// `media.hls` of a marker.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HlsMedia {
    /// Only in `recording-ended.json` / `recording-failed.json` (0 if nothing was recorded).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub duration_ms: Option<u64>,
    pub path: String,
    pub playlist: String,
    /// Channel recordings only.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub byte_range_playlist: Option<String>,
    pub renditions: Vec<HlsRendition>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HlsRendition {
    pub path: String,
    pub playlist: String,
    /// Channel recordings only.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub byte_range_playlist: Option<String>,
    /// Channel recordings, renditions with video.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub resolution_height: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub resolution_width: Option<u32>,
}

/// `media.thumbnails` / `media.latest_thumbnail` of a participant marker.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParticipantThumbnails {
    pub path: String,
    pub renditions: Vec<ThumbnailRendition>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThumbnailRendition {
    pub path: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParticipantMedia {
    pub hls: HlsMedia,
    /// Present when the thumbnail storage includes `SEQUENTIAL`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub thumbnails: Option<ParticipantThumbnails>,
    /// Present when the thumbnail storage includes `LATEST`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub latest_thumbnail: Option<ParticipantThumbnails>,
}

/// `events/recording-*.json` of an individual participant recording.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParticipantRecordingMarker {
    pub version: String,
    pub stage_arn: String,
    pub session_id: String,
    pub participant_id: String,
    /// Absent when `recording_status` is `RECORDING_START_FAILED`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub recording_started_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub recording_ended_at: Option<String>,
    pub recording_status: RecordingStatus,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub recording_status_message: Option<String>,
    pub media: ParticipantMedia,
}

impl ParticipantMedia {
    /// The single-rendition media of a participant recording, with the thumbnail kinds
    /// the stage's thumbnail configuration stores.
    pub fn single_rendition(sequential_thumbnails: bool, latest_thumbnail: bool) -> Self {
        let thumbs = |path: &str| ParticipantThumbnails {
            path: path.to_owned(),
            renditions: vec![ThumbnailRendition { path: PARTICIPANT_RENDITION.to_owned() }],
        };
        ParticipantMedia {
            hls: HlsMedia {
                duration_ms: None,
                path: HLS_PATH.to_owned(),
                playlist: PARTICIPANT_MULTIVARIANT.to_owned(),
                byte_range_playlist: None,
                renditions: vec![HlsRendition {
                    path: PARTICIPANT_RENDITION.to_owned(),
                    playlist: RENDITION_PLAYLIST.to_owned(),
                    byte_range_playlist: None,
                    resolution_height: None,
                    resolution_width: None,
                }],
            },
            thumbnails: sequential_thumbnails.then(|| thumbs(THUMBNAILS_PATH)),
            latest_thumbnail: latest_thumbnail.then(|| thumbs(LATEST_THUMBNAIL_PATH)),
        }
    }
}

impl ParticipantRecordingMarker {
    /// `recording-started.json`.
    pub fn started(
        stage_arn: &str,
        session_id: &str,
        participant_id: &str,
        started_at: OffsetDateTime,
        media: ParticipantMedia,
    ) -> Self {
        ParticipantRecordingMarker {
            version: MARKER_VERSION.to_owned(),
            stage_arn: stage_arn.to_owned(),
            session_id: session_id.to_owned(),
            participant_id: participant_id.to_owned(),
            recording_started_at: Some(marker_time(started_at)),
            recording_ended_at: None,
            recording_status: RecordingStatus::RecordingStarted,
            recording_status_message: None,
            media,
        }
    }

    /// `recording-ended.json` from the started marker.
    pub fn ended(mut self, ended_at: OffsetDateTime, duration_ms: u64) -> Self {
        self.recording_ended_at = Some(marker_time(ended_at));
        self.recording_status = RecordingStatus::RecordingEnded;
        self.media.hls.duration_ms = Some(duration_ms);
        self
    }

    /// `recording-failed.json` from the started marker.
    pub fn failed(mut self, ended_at: OffsetDateTime, duration_ms: u64, message: &str) -> Self {
        self.recording_ended_at = Some(marker_time(ended_at));
        self.recording_status = RecordingStatus::RecordingEndedWithFailure;
        self.recording_status_message = Some(message.to_owned());
        self.media.hls.duration_ms = Some(duration_ms);
        self
    }

    /// The key this marker is written to, under the recording's keys.
    pub fn key(&self, keys: &RecordingKeys) -> String {
        keys.marker(self.recording_status)
    }
}

/// `media.thumbnails` / `media.latest_thumbnail` of a channel marker.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelThumbnails {
    /// `media/thumbnails`, or the file `media/latest_thumbnail/thumb.jpg` for the latest.
    pub path: String,
    pub resolution_height: u32,
    pub resolution_width: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelMedia {
    pub hls: HlsMedia,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub thumbnails: Option<ChannelThumbnails>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub latest_thumbnail: Option<ChannelThumbnails>,
}

/// `events/recording-*.json` of a channel auto-record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelRecordingMarker {
    pub version: String,
    pub channel_arn: String,
    pub recording_started_at: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub recording_ended_at: Option<String>,
    pub recording_status: RecordingStatus,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub recording_status_message: Option<String>,
    pub media: ChannelMedia,
}

impl ChannelRecordingMarker {
    /// `recording-started.json`.
    pub fn started(channel_arn: &str, started_at: OffsetDateTime, media: ChannelMedia) -> Self {
        ChannelRecordingMarker {
            version: MARKER_VERSION.to_owned(),
            channel_arn: channel_arn.to_owned(),
            recording_started_at: marker_time(started_at),
            recording_ended_at: None,
            recording_status: RecordingStatus::RecordingStarted,
            recording_status_message: None,
            media,
        }
    }

    pub fn ended(mut self, ended_at: OffsetDateTime, duration_ms: u64) -> Self {
        self.recording_ended_at = Some(marker_time(ended_at));
        self.recording_status = RecordingStatus::RecordingEnded;
        self.media.hls.duration_ms = Some(duration_ms);
        self
    }

    pub fn failed(mut self, ended_at: OffsetDateTime, duration_ms: u64, message: &str) -> Self {
        self.recording_ended_at = Some(marker_time(ended_at));
        self.recording_status = RecordingStatus::RecordingEndedWithFailure;
        self.recording_status_message = Some(message.to_owned());
        self.media.hls.duration_ms = Some(duration_ms);
        self
    }

    pub fn key(&self, keys: &RecordingKeys) -> String {
        keys.marker(self.recording_status)
    }
}

impl HlsRendition {
    /// A channel rendition (`480p30`, …): both playlists and its resolution.
    pub fn channel(path: &str, width: u32, height: u32) -> Self {
        HlsRendition {
            path: path.to_owned(),
            playlist: RENDITION_PLAYLIST.to_owned(),
            byte_range_playlist: Some(CHANNEL_BYTE_RANGE_VARIANT.to_owned()),
            resolution_height: Some(height),
            resolution_width: Some(width),
        }
    }
}

impl HlsMedia {
    /// A channel recording's `media.hls`.
    pub fn channel(renditions: Vec<HlsRendition>) -> Self {
        HlsMedia {
            duration_ms: None,
            path: HLS_PATH.to_owned(),
            playlist: CHANNEL_MULTIVARIANT.to_owned(),
            byte_range_playlist: Some(CHANNEL_BYTE_RANGE_MULTIVARIANT.to_owned()),
            renditions,
        }
    }
}

#[cfg(test)]
mod tests;
