//! One recording into storage, in IVS's object layout (`troupe_storage::layout`): the
//! samples of a stream cut into fMP4 HLS segments (`media/hls/<rendition>/`), the rendition
//! playlist rewritten after each segment (an EVENT playlist while recording, VOD at the end),
//! the multivariant playlist, and the `events/recording-*.json` markers. Uploads are queued
//! (the storage retries them through an outage) in one lane per recording, so the objects land
//! in the order written: a playlist never names a segment that is not there yet.
//!
//! Used for channel recordings (fed by the ingest) and individual participant recordings
//! (fed by a tap on the publisher); a participant reconnecting within the stage's reconnect
//! window continues the same recording after an `EXT-X-DISCONTINUITY`.

use std::time::Duration;

use bytes::Bytes;
use time::OffsetDateTime;
use troupe_hls::{
    AudioSample, AudioTrack, RecordingOutput, RecordingSegmenter, VideoSample, VideoTrack,
};
use troupe_storage::{
    Storage,
    layout::{ChannelRecordingMarker, ParticipantRecordingMarker, RecordingKeys},
};

/// The `events/` marker of the recording, by kind.
#[derive(Debug, Clone)]
pub enum Marker {
    Participant(ParticipantRecordingMarker),
    Channel(ChannelRecordingMarker),
}

impl Marker {
    fn ended(self, at: OffsetDateTime, duration_ms: u64) -> Marker {
        match self {
            Marker::Participant(m) => Marker::Participant(m.ended(at, duration_ms)),
            Marker::Channel(m) => Marker::Channel(m.ended(at, duration_ms)),
        }
    }

    fn failed(self, at: OffsetDateTime, duration_ms: u64, why: &str) -> Marker {
        match self {
            Marker::Participant(m) => Marker::Participant(m.failed(at, duration_ms, why)),
            Marker::Channel(m) => Marker::Channel(m.failed(at, duration_ms, why)),
        }
    }

    fn key_and_body(&self, keys: &RecordingKeys) -> (String, Vec<u8>) {
        match self {
            Marker::Participant(m) => {
                (m.key(keys), serde_json::to_vec_pretty(m).unwrap_or_default())
            }
            Marker::Channel(m) => (m.key(keys), serde_json::to_vec_pretty(m).unwrap_or_default()),
        }
    }
}

/// Which media a recording keeps (a stage's `mediaTypes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keep {
    pub video: bool,
    pub audio: bool,
}

pub struct Recorder {
    storage: Storage,
    bucket: String,
    keys: RecordingKeys,
    rendition: String,
    target_segment: Duration,
    keep: Keep,
    marker: Marker,
    video: Option<VideoTrack>,
    audio: Option<AudioTrack>,
    /// Whether the stream announced video: audio alone waits for the first keyframe then.
    expects_video: bool,
    segmenter: Option<RecordingSegmenter>,
    /// The tracks changed (a reconnect): the next keyframe starts a new period.
    reconnected: bool,
    recorded: f64,
    peak_bandwidth: u64,
    failed: Option<String>,
}

impl Recorder {
    /// Starts the recording: writes `recording-started.json`.
    pub fn start(
        storage: Storage,
        bucket: &str,
        keys: RecordingKeys,
        rendition: &str,
        target_segment: Duration,
        keep: Keep,
        marker: Marker,
    ) -> Recorder {
        let recorder = Recorder {
            storage,
            bucket: bucket.to_string(),
            keys,
            rendition: rendition.to_string(),
            target_segment,
            keep,
            marker,
            video: None,
            audio: None,
            expects_video: keep.video,
            segmenter: None,
            reconnected: false,
            recorded: 0.0,
            peak_bandwidth: 0,
            failed: None,
        };
        recorder.write_marker(&recorder.marker.clone());
        recorder
    }

    pub fn prefix(&self) -> &str {
        &self.keys.prefix
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// Seconds recorded so far.
    pub fn recorded_seconds(&self) -> f64 {
        self.recorded
    }

    pub fn set_video(&mut self, track: VideoTrack) {
        if !self.keep.video {
            return;
        }
        if self.video.as_ref().is_some_and(|v| *v != track) && self.segmenter.is_some() {
            self.reconnected = true;
        }
        self.video = Some(track);
    }

    pub fn set_audio(&mut self, track: AudioTrack) {
        if !self.keep.audio {
            return;
        }
        if self.audio.as_ref().is_some_and(|a| *a != track) && self.segmenter.is_some() {
            self.reconnected = true;
        }
        self.audio = Some(track);
    }

    /// The publisher reconnected (a new clock): the next media starts a new period.
    pub fn reconnect(&mut self) {
        if self.segmenter.is_some() {
            self.reconnected = true;
        }
    }

    pub fn video(&mut self, sample: VideoSample) {
        if !self.keep.video || self.failed.is_some() {
            return;
        }
        if !self.ready(sample.keyframe) {
            return;
        }
        let outputs = match &mut self.segmenter {
            Some(s) => s.push_video(sample),
            None => return,
        };
        match outputs {
            Ok(outputs) => self.write(outputs),
            Err(e) => tracing::debug!(error = %e, "recording refused a video sample"),
        }
    }

    pub fn audio(&mut self, sample: AudioSample) {
        if !self.keep.audio || self.failed.is_some() {
            return;
        }
        // A recording with video starts (and restarts) at a keyframe, never on audio.
        if !self.ready(!self.expects_video) {
            return;
        }
        let outputs = match &mut self.segmenter {
            Some(s) => s.push_audio(sample),
            None => return,
        };
        match outputs {
            Ok(outputs) => self.write(outputs),
            Err(e) => tracing::debug!(error = %e, "recording refused an audio sample"),
        }
    }

    /// Whether samples can go in: makes the segmenter (or its next period) at a point where
    /// a player can start (a keyframe; any audio frame of an audio-only recording).
    fn ready(&mut self, can_start: bool) -> bool {
        if self.segmenter.is_some() && !self.reconnected {
            return true;
        }
        if !can_start {
            return false;
        }
        let video = self.video.clone().filter(|_| self.keep.video);
        let audio = self.audio.clone().filter(|_| self.keep.audio);
        if video.is_none() && audio.is_none() {
            return false;
        }
        if let Some(segmenter) = &mut self.segmenter {
            self.reconnected = false;
            match segmenter.discontinuity(video, audio) {
                Ok(outputs) => {
                    self.write(outputs);
                    true
                }
                Err(e) => {
                    tracing::warn!(error = %e, "recording cannot continue after the reconnect");
                    false
                }
            }
        } else {
            match RecordingSegmenter::new(video, audio, self.target_segment) {
                Ok(segmenter) => {
                    self.segmenter = Some(segmenter);
                    true
                }
                Err(e) => {
                    self.failed = Some(e.to_string());
                    tracing::warn!(error = %e, "cannot record this stream");
                    false
                }
            }
        }
    }

    fn write(&mut self, outputs: Vec<RecordingOutput>) {
        let mut segments = false;
        for output in outputs {
            match output {
                RecordingOutput::Init { name, bytes } => self.put(&name, bytes),
                RecordingOutput::Segment { name, duration, bytes, .. } => {
                    if duration > 0.0 {
                        let bandwidth = (bytes.len() as f64 * 8.0 / duration) as u64;
                        self.peak_bandwidth = self.peak_bandwidth.max(bandwidth);
                    }
                    self.recorded += duration;
                    self.put(&name, bytes);
                    segments = true;
                }
            }
        }
        if segments {
            self.write_playlists(false);
        }
    }

    fn put(&self, name: &str, bytes: Bytes) {
        let key = self.keys.rendition_file(&self.rendition, name);
        if let Err(e) = self.storage.upload_in_lane(&self.bucket, &self.keys.prefix, &key, bytes) {
            tracing::warn!(error = %e, key, "recording upload refused");
        }
    }

    fn write_playlists(&self, ended: bool) {
        let Some(segmenter) = &self.segmenter else { return };
        let playlist = self.keys.rendition_playlist(&self.rendition);
        let text = segmenter.playlist(ended);
        let _ = self.storage.upload_in_lane(
            &self.bucket,
            &self.keys.prefix,
            &playlist,
            Bytes::from(text),
        );
        let multivariant = self.multivariant();
        let _ = self.storage.upload_in_lane(
            &self.bucket,
            &self.keys.prefix,
            &self.keys.multivariant_playlist(),
            Bytes::from(multivariant),
        );
    }

    fn multivariant(&self) -> String {
        let mut codecs = Vec::new();
        let mut resolution = String::new();
        if let Some(video) = self.video.as_ref().filter(|_| self.keep.video) {
            codecs.push(video.codec_string());
            resolution = format!(",RESOLUTION={}x{}", video.width(), video.height());
        }
        if let Some(codec) =
            self.audio.as_ref().filter(|_| self.keep.audio).and_then(|a| a.codec_string().ok())
        {
            codecs.push(codec);
        }
        format!(
            "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-STREAM-INF:BANDWIDTH={},CODECS=\"{}\"{resolution}\n{}/playlist.m3u8\n",
            self.peak_bandwidth.max(1),
            codecs.join(","),
            self.rendition
        )
    }

    fn write_marker(&self, marker: &Marker) {
        let (key, body) = marker.key_and_body(&self.keys);
        if let Err(e) =
            self.storage.upload_in_lane(&self.bucket, &self.keys.prefix, &key, Bytes::from(body))
        {
            tracing::warn!(error = %e, key, "recording marker refused");
        }
    }

    /// Ends the recording: the last segment, the VOD playlist, `recording-ended.json` (or
    /// `recording-failed.json`). Returns whether it ended well.
    pub fn finish(mut self) -> bool {
        if let Some(segmenter) = &mut self.segmenter {
            let outputs = segmenter.finish();
            self.write(outputs);
            self.write_playlists(true);
        }
        let ended = OffsetDateTime::now_utc();
        let duration_ms = (self.recorded * 1000.0).round() as u64;
        let marker = match &self.failed {
            Some(why) => self.marker.clone().failed(ended, duration_ms, why),
            None => self.marker.clone().ended(ended, duration_ms),
        };
        self.write_marker(&marker);
        self.failed.is_none()
    }
}
