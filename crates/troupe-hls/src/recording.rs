//! Recordings: plain HLS with fMP4 segments, written to storage as they complete. A
//! participant reconnecting within the reconnect window continues the same recording after an
//! EXT-X-DISCONTINUITY with a new init segment (its tracks may differ).

use std::fmt::Write;
use std::time::Duration;

use bytes::{Bytes, BytesMut};

use crate::fmp4;
use crate::fragmenter::{CompletedPart, CutRules, Fragmenter};
use crate::live::default_audio_frame;
use crate::track::{AudioSample, AudioTrack, SampleError, TrackError, VideoSample, VideoTrack};

/// A file to store, in the order given.
#[derive(Debug, Clone, PartialEq)]
pub enum RecordingOutput {
    Init { name: String, bytes: Bytes },
    Segment { name: String, sequence: u64, duration: f64, bytes: Bytes },
}

/// One playlist line group. The list grows with the recording (~50 bytes a segment).
#[derive(Debug, Clone, PartialEq)]
enum Entry {
    Map(String),
    Discontinuity,
    Segment { name: String, duration: f64 },
}

pub struct RecordingSegmenter {
    target_segment: Duration,
    fragmenter: Fragmenter,
    /// Outputs not yet handed out (the init of a new track set).
    ready: Vec<RecordingOutput>,
    /// Parts of a segment cut short of its end (size limits); joined when the segment ends.
    open_parts: Vec<Bytes>,
    open_duration: f64,
    entries: Vec<Entry>,
    next_sequence: u64,
    inits: u32,
    target_duration: u64,
    finished: bool,
}

impl RecordingSegmenter {
    pub fn new(
        video: Option<VideoTrack>,
        audio: Option<AudioTrack>,
        target_segment: Duration,
    ) -> Result<RecordingSegmenter, TrackError> {
        if target_segment < Duration::from_millis(500) || target_segment > Duration::from_secs(60) {
            return Err(TrackError::Config(
                "recording target_segment must be between 0.5 and 60 s",
            ));
        }
        let mut segmenter = RecordingSegmenter {
            target_segment,
            fragmenter: Fragmenter::new(rules(target_segment), false, None, 0),
            ready: Vec::new(),
            open_parts: Vec::new(),
            open_duration: 0.0,
            entries: Vec::new(),
            next_sequence: 0,
            inits: 0,
            target_duration: target_segment.as_secs_f64().ceil() as u64,
            finished: false,
        };
        segmenter.start_tracks(video.as_ref(), audio.as_ref())?;
        Ok(segmenter)
    }

    pub fn push_video(&mut self, sample: VideoSample) -> Result<Vec<RecordingOutput>, SampleError> {
        if self.finished {
            return Err(SampleError::Finished);
        }
        let parts = self.fragmenter.push_video(sample)?;
        Ok(self.collect(parts))
    }

    pub fn push_audio(&mut self, sample: AudioSample) -> Result<Vec<RecordingOutput>, SampleError> {
        if self.finished {
            return Err(SampleError::Finished);
        }
        let parts = self.fragmenter.push_audio(sample)?;
        Ok(self.collect(parts))
    }

    /// The publisher came back (possibly with other tracks): the current segment is closed,
    /// and what follows is a new period with its own init segment.
    pub fn discontinuity(
        &mut self,
        video: Option<VideoTrack>,
        audio: Option<AudioTrack>,
    ) -> Result<Vec<RecordingOutput>, TrackError> {
        // Checked before anything changes, so a refused track set leaves the recording intact.
        let init = fmp4::init_segment(video.as_ref(), audio.as_ref())?;
        let parts = self.fragmenter.finish();
        let mut out = self.collect(parts);
        self.entries.push(Entry::Discontinuity);
        self.start_tracks_with(init, video.as_ref(), audio.as_ref())?;
        self.finished = false;
        out.append(&mut self.ready);
        Ok(out)
    }

    /// Closes the last segment.
    pub fn finish(&mut self) -> Vec<RecordingOutput> {
        if self.finished {
            return std::mem::take(&mut self.ready);
        }
        self.finished = true;
        let parts = self.fragmenter.finish();
        self.collect(parts)
    }

    /// The media playlist: EVENT while recording, VOD with EXT-X-ENDLIST once `ended`.
    pub fn playlist(&self, ended: bool) -> String {
        let mut out = String::from("#EXTM3U\n#EXT-X-VERSION:7\n");
        let _ = writeln!(out, "#EXT-X-TARGETDURATION:{}", self.target_duration);
        out.push_str("#EXT-X-MEDIA-SEQUENCE:0\n");
        let _ = writeln!(out, "#EXT-X-PLAYLIST-TYPE:{}", if ended { "VOD" } else { "EVENT" });
        for entry in &self.entries {
            match entry {
                Entry::Map(name) => {
                    let _ = writeln!(out, "#EXT-X-MAP:URI=\"{name}\"");
                }
                Entry::Discontinuity => out.push_str("#EXT-X-DISCONTINUITY\n"),
                Entry::Segment { name, duration } => {
                    let _ = writeln!(out, "#EXTINF:{duration:.5},\n{name}");
                }
            }
        }
        if ended {
            out.push_str("#EXT-X-ENDLIST\n");
        }
        out
    }

    fn start_tracks(
        &mut self,
        video: Option<&VideoTrack>,
        audio: Option<&AudioTrack>,
    ) -> Result<(), TrackError> {
        let init = fmp4::init_segment(video, audio)?;
        self.start_tracks_with(init, video, audio)
    }

    fn start_tracks_with(
        &mut self,
        init: Bytes,
        video: Option<&VideoTrack>,
        audio: Option<&AudioTrack>,
    ) -> Result<(), TrackError> {
        let audio_params = match audio {
            Some(track) => Some((track.timescale()?, default_audio_frame(track))),
            None => None,
        };
        let sequence = self.fragmenter.next_sequence();
        self.fragmenter =
            Fragmenter::new(rules(self.target_segment), video.is_some(), audio_params, sequence);
        let name = format!("init-{}.mp4", self.inits);
        self.inits += 1;
        self.entries.push(Entry::Map(name.clone()));
        self.ready.push(RecordingOutput::Init { name, bytes: init });
        Ok(())
    }

    fn collect(&mut self, parts: Vec<CompletedPart>) -> Vec<RecordingOutput> {
        let mut out = std::mem::take(&mut self.ready);
        for part in parts {
            self.open_duration += part.duration;
            self.open_parts.push(part.bytes);
            if !part.ends_segment {
                continue;
            }
            let mut bytes = BytesMut::with_capacity(self.open_parts.iter().map(Bytes::len).sum());
            for piece in self.open_parts.drain(..) {
                bytes.extend_from_slice(&piece);
            }
            let duration = std::mem::take(&mut self.open_duration);
            let sequence = self.next_sequence;
            self.next_sequence += 1;
            let name = format!("{sequence}.mp4");
            self.target_duration = self.target_duration.max(duration.round() as u64);
            self.entries.push(Entry::Segment { name: name.clone(), duration });
            out.push(RecordingOutput::Segment { name, sequence, duration, bytes: bytes.freeze() });
        }
        out
    }
}

fn rules(target_segment: Duration) -> CutRules {
    CutRules { segment_target: (target_segment.as_micros() * 9 / 100) as u64, part_target: None }
}
