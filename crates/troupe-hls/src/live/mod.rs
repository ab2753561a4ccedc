//! Low-latency HLS for one live stream: [`LivePackager`] (owned by the ingest task) cuts parts
//! and segments and publishes each change as an immutable snapshot; [`LiveStream`] (cloned
//! into HTTP handlers) answers playlist and file requests from the latest one.

mod names;
mod playlist;
mod state;
mod stream;

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::{Bytes, BytesMut};
use tokio::sync::watch;

use crate::fmp4;
use crate::fragmenter::{CompletedPart, CutRules, Fragmenter};
use crate::track::{AudioSample, AudioTrack, SampleError, TrackError, VideoSample, VideoTrack};
use names::Names;
use playlist::{MediaView, VariantView};
use state::{Part, Segment, Snapshot};
pub use stream::{LiveStream, MediaFile, PLAYLIST_CONTENT_TYPE, PlaylistError};

/// The media playlist's name, as the multivariant playlist refers to it.
pub const MEDIA_PLAYLIST_NAME: &str = "media.m3u8";

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LiveConfig {
    /// Segments are cut at the first keyframe after this much media.
    pub target_segment: Duration,
    /// Parts are cut so as not to exceed this.
    pub part_target: Duration,
    /// Completed segments kept (in memory and in the playlist).
    pub window_segments: usize,
}

impl Default for LiveConfig {
    fn default() -> Self {
        LiveConfig {
            target_segment: Duration::from_secs(2),
            part_target: Duration::from_millis(500),
            window_segments: 8,
        }
    }
}

impl LiveConfig {
    fn validate(&self) -> Result<(), TrackError> {
        if self.part_target < Duration::from_millis(100) {
            return Err(TrackError::Config("part_target must be at least 100 ms"));
        }
        if self.target_segment < self.part_target || self.target_segment > Duration::from_secs(60) {
            return Err(TrackError::Config("target_segment must be between part_target and 60 s"));
        }
        if !(1..=1000).contains(&self.window_segments) {
            return Err(TrackError::Config("window_segments must be between 1 and 1000"));
        }
        Ok(())
    }
}

fn ticks_90k(duration: Duration) -> u64 {
    (duration.as_micros() * 9 / 100) as u64
}

pub struct LivePackager {
    config: LiveConfig,
    fragmenter: Fragmenter,
    names: Names,
    started_at: SystemTime,
    /// Media time of the first part: PROGRAM-DATE-TIME counts from it.
    first_media_time: Option<f64>,
    segments: VecDeque<Arc<Segment>>,
    open_parts: Vec<Part>,
    open_program_date_time: Option<SystemTime>,
    open_msn: u64,
    target_duration: u64,
    ended: bool,
    init: Bytes,
    content_type: &'static str,
    codecs: String,
    resolution: Option<(u32, u32)>,
    sps_frame_rate: Option<f64>,
    measured: Measured,
    multivariant: Option<Bytes>,
    sender: watch::Sender<Arc<Snapshot>>,
}

/// Bitrate and frame rate as the stream shows them, for the multivariant playlist.
#[derive(Default)]
struct Measured {
    bytes: u64,
    seconds: f64,
    video_samples: u64,
    peak_segment_bitrate: u64,
}

impl LivePackager {
    /// `started_at` is the wall clock at media time zero of the first sample.
    pub fn new(
        video: Option<VideoTrack>,
        audio: Option<AudioTrack>,
        config: LiveConfig,
        started_at: SystemTime,
    ) -> Result<LivePackager, TrackError> {
        config.validate()?;
        let init = fmp4::init_segment(video.as_ref(), audio.as_ref())?;
        let audio_params = match &audio {
            Some(track) => Some((track.timescale()?, default_audio_frame(track))),
            None => None,
        };
        let mut codecs = Vec::new();
        if let Some(video) = &video {
            codecs.push(video.codec_string());
        }
        if let Some(audio) = &audio {
            codecs.push(audio.codec_string()?);
        }
        let rules = CutRules {
            segment_target: ticks_90k(config.target_segment),
            part_target: Some(ticks_90k(config.part_target)),
        };
        let names = Names::new(started_at);
        let target_duration = config.target_segment.as_secs_f64().ceil() as u64;
        let placeholder = Arc::new(Snapshot {
            names: names.clone(),
            content_type: "video/mp4",
            init: Bytes::new(),
            multivariant: None,
            media_playlist: Bytes::new(),
            segments: VecDeque::new(),
            open_parts: Vec::new(),
            open_msn: 0,
            ended: false,
            blocking_timeout: Duration::ZERO,
        });
        let mut packager = LivePackager {
            config,
            fragmenter: Fragmenter::new(rules, video.is_some(), audio_params, 0),
            names,
            started_at,
            first_media_time: None,
            segments: VecDeque::new(),
            open_parts: Vec::new(),
            open_program_date_time: None,
            open_msn: 0,
            target_duration,
            ended: false,
            init,
            content_type: if video.is_some() { "video/mp4" } else { "audio/mp4" },
            codecs: codecs.join(","),
            resolution: video.as_ref().map(|v| (v.width(), v.height())),
            sps_frame_rate: video.as_ref().and_then(|v| v.config().parsed_sps.frame_rate),
            measured: Measured::default(),
            multivariant: None,
            sender: watch::Sender::new(placeholder),
        };
        packager.publish();
        Ok(packager)
    }

    /// A read handle for HTTP handlers; lives on (ended) after the packager is gone.
    pub fn stream(&self) -> LiveStream {
        LiveStream::new(self.sender.subscribe())
    }

    pub fn push_video(&mut self, sample: VideoSample) -> Result<(), SampleError> {
        if self.ended {
            return Err(SampleError::Finished);
        }
        let parts = self.fragmenter.push_video(sample)?;
        self.apply(parts);
        Ok(())
    }

    pub fn push_audio(&mut self, sample: AudioSample) -> Result<(), SampleError> {
        if self.ended {
            return Err(SampleError::Finished);
        }
        let parts = self.fragmenter.push_audio(sample)?;
        self.apply(parts);
        Ok(())
    }

    /// Ends the stream: the last part and segment are written and the playlist gets
    /// EXT-X-ENDLIST. Also done on drop.
    pub fn finish(&mut self) {
        if self.ended {
            return;
        }
        let parts = self.fragmenter.finish();
        self.ended = true;
        self.apply(parts);
    }

    fn apply(&mut self, parts: Vec<CompletedPart>) {
        if parts.is_empty() && !self.ended {
            return;
        }
        for part in parts {
            self.add_part(part);
        }
        self.publish();
    }

    fn add_part(&mut self, completed: CompletedPart) {
        let first_media_time = *self.first_media_time.get_or_insert(completed.start);
        if self.open_parts.is_empty() {
            let offset =
                Duration::try_from_secs_f64(completed.start - first_media_time).unwrap_or_default();
            self.open_program_date_time = Some(self.started_at + offset);
        }
        self.measured.bytes += completed.bytes.len() as u64;
        self.measured.seconds += completed.duration;
        self.measured.video_samples += completed.video_samples as u64;
        self.open_parts.push(Part {
            bytes: completed.bytes,
            duration: completed.duration,
            independent: completed.independent,
        });
        if completed.ends_segment {
            self.close_segment();
        }
        if self.multivariant.is_none() || completed.ends_segment {
            self.render_multivariant();
        }
    }

    fn close_segment(&mut self) {
        let parts = std::mem::take(&mut self.open_parts);
        let mut joined = BytesMut::with_capacity(parts.iter().map(|p| p.bytes.len()).sum());
        for part in &parts {
            joined.extend_from_slice(&part.bytes);
        }
        let bytes = joined.freeze();
        // The parts become views of the segment, so its media is held once.
        let mut offset = 0;
        let parts: Vec<Part> = parts
            .into_iter()
            .map(|part| {
                let slice = bytes.slice(offset..offset + part.bytes.len());
                offset += part.bytes.len();
                Part { bytes: slice, ..part }
            })
            .collect();
        let duration: f64 = parts.iter().map(|p| p.duration).sum();
        if duration > 0.0 {
            let bitrate = (bytes.len() as f64 * 8.0 / duration) as u64;
            self.measured.peak_segment_bitrate = self.measured.peak_segment_bitrate.max(bitrate);
        }
        self.target_duration = self.target_duration.max(duration.round() as u64);
        self.segments.push_back(Arc::new(Segment {
            msn: self.open_msn,
            bytes,
            duration,
            parts,
            program_date_time: self.open_program_date_time.take().unwrap_or(self.started_at),
        }));
        while self.segments.len() > self.config.window_segments {
            self.segments.pop_front();
        }
        self.open_msn += 1;
    }

    fn render_multivariant(&mut self) {
        let measured = &self.measured;
        let average = if measured.seconds > 0.0 {
            (measured.bytes as f64 * 8.0 / measured.seconds) as u64
        } else {
            0
        };
        let frame_rate = self.resolution.and(self.sps_frame_rate.or_else(|| {
            (measured.seconds > 0.0 && measured.video_samples > 0)
                .then(|| measured.video_samples as f64 / measured.seconds)
        }));
        self.multivariant = Some(playlist::multivariant_playlist(&VariantView {
            bandwidth: measured.peak_segment_bitrate.max(average),
            codecs: &self.codecs,
            resolution: self.resolution,
            frame_rate,
            media_playlist: MEDIA_PLAYLIST_NAME,
        }));
    }

    fn publish(&mut self) {
        let segments: Vec<&Segment> = self.segments.iter().map(|s| s.as_ref()).collect();
        let media_playlist = playlist::media_playlist(&MediaView {
            names: &self.names,
            target_duration: self.target_duration,
            part_target: self.config.part_target,
            segments: &segments,
            open_parts: &self.open_parts,
            open_msn: self.open_msn,
            open_program_date_time: self.open_program_date_time,
            ended: self.ended,
        });
        let snapshot = Snapshot {
            names: self.names.clone(),
            content_type: self.content_type,
            init: self.init.clone(),
            multivariant: self.multivariant.clone(),
            media_playlist,
            segments: self.segments.clone(),
            open_parts: self.open_parts.clone(),
            open_msn: self.open_msn,
            ended: self.ended,
            blocking_timeout: Duration::from_secs(3 * self.target_duration.max(1)),
        };
        self.sender.send_replace(Arc::new(snapshot));
    }
}

impl Drop for LivePackager {
    fn drop(&mut self) {
        self.finish();
    }
}

/// The duration given to a lone last audio frame when no earlier one says otherwise.
pub(crate) fn default_audio_frame(track: &AudioTrack) -> u32 {
    match track {
        AudioTrack::Aac { .. } => 1024,
        AudioTrack::Opus { .. } => 960,
    }
}

#[cfg(test)]
mod tests;
