//! The cutting core shared by the live packager and the recording segmenter: takes samples,
//! holds one back per track until the next one gives its duration, and cuts fragments — at a
//! part target (live) and at the first keyframe after the segment target.
//!
//! The driver track (video when there is one, else audio) decides the cuts; the other track's
//! samples wait in a queue and go into the fragment covering their time.

use std::collections::VecDeque;

use bytes::Bytes;

use crate::fmp4::{
    self, AUDIO_ONLY_TRACK_ID, AUDIO_TRACK_ID, FragmentSample, TrackRun, VIDEO_TRACK_ID,
};
use crate::track::{AudioSample, SampleError, VIDEO_TIMESCALE, VideoSample};

/// A sample larger than this is not a real access unit (a 4K IDR is a few MB).
pub(crate) const MAX_SAMPLE_BYTES: usize = 16 << 20;
/// Bounds a part when timestamps crawl (tiny durations) or video stalls.
const MAX_PART_SAMPLES: usize = 2000;
const MAX_PART_BYTES: usize = 64 << 20;
/// Audio waiting for video beyond this many samples (~5 s of AAC) means video has stalled:
/// the audio is sent on in a part of its own rather than held without bound.
const MAX_QUEUED_AUDIO: usize = 256;
/// Without keyframes, a segment is cut anyway at this many segment targets.
const MAX_SEGMENT_TARGETS: u64 = 4;

#[derive(Debug, Clone, Copy)]
pub(crate) struct CutRules {
    /// 90 kHz.
    pub segment_target: u64,
    /// 90 kHz; `None` makes each segment one fragment (recordings).
    pub part_target: Option<u64>,
}

#[derive(Debug, Clone)]
pub(crate) struct CompletedPart {
    pub bytes: Bytes,
    /// Seconds of media (the driver track's).
    pub duration: f64,
    /// Media time of the part's first driver sample, seconds.
    pub start: f64,
    /// Begins with a keyframe (or is audio only).
    pub independent: bool,
    /// The last part of its segment.
    pub ends_segment: bool,
    pub video_samples: usize,
}

struct TrackClock {
    timescale: u32,
    pending: Option<(u64, FragmentSample)>,
    last_time: Option<u64>,
    last_duration: u32,
}

impl TrackClock {
    fn new(timescale: u32, default_duration: u32) -> Self {
        Self { timescale, pending: None, last_time: None, last_duration: default_duration }
    }

    fn to_90k(&self, time: u64) -> u64 {
        (u128::from(time) * u128::from(VIDEO_TIMESCALE) / u128::from(self.timescale)) as u64
    }

    /// Accepts a new sample at `time`, returning the held one completed with its duration.
    fn advance(
        &mut self,
        track: &'static str,
        time: u64,
        sample: FragmentSample,
    ) -> Result<Option<(u64, FragmentSample)>, SampleError> {
        if let Some(previous) = self.last_time
            && time <= previous
        {
            return Err(SampleError::NotIncreasing { track, previous, time });
        }
        self.last_time = Some(time);
        let completed = self.pending.take().map(|(start, mut held)| {
            held.duration = u32::try_from(time - start).unwrap_or(u32::MAX);
            self.last_duration = held.duration;
            (start, held)
        });
        self.pending = Some((time, sample));
        Ok(completed)
    }

    /// At the end, the held sample is given the previous sample's duration.
    fn flush(&mut self) -> Option<(u64, FragmentSample)> {
        self.pending.take().map(|(start, mut held)| {
            held.duration = self.last_duration;
            (start, held)
        })
    }
}

#[derive(Default)]
struct OpenPart {
    start_90k: u64,
    independent: bool,
    video_base: u64,
    video: Vec<FragmentSample>,
    audio_base: u64,
    audio: Vec<FragmentSample>,
    bytes: usize,
}

pub(crate) struct Fragmenter {
    rules: CutRules,
    video: Option<TrackClock>,
    audio: Option<TrackClock>,
    sequence: u32,
    open: Option<OpenPart>,
    segment_start_90k: Option<u64>,
    /// Completed audio samples waiting for the video part covering them: (start 90 kHz, decode
    /// time, sample).
    queued_audio: VecDeque<(u64, u64, FragmentSample)>,
    seen_keyframe: bool,
}

impl Fragmenter {
    /// `audio_timescale` is `None` for a stream without audio; `audio_frame` is the default
    /// duration of an audio frame (AAC 1024, Opus 960).
    pub(crate) fn new(
        rules: CutRules,
        has_video: bool,
        audio: Option<(u32, u32)>,
        first_sequence: u32,
    ) -> Fragmenter {
        Fragmenter {
            rules,
            video: has_video.then(|| TrackClock::new(VIDEO_TIMESCALE, 3000)),
            audio: audio.map(|(timescale, frame)| TrackClock::new(timescale, frame)),
            sequence: first_sequence,
            open: None,
            segment_start_90k: None,
            queued_audio: VecDeque::new(),
            seen_keyframe: false,
        }
    }

    pub(crate) fn next_sequence(&self) -> u32 {
        self.sequence + 1
    }

    pub(crate) fn push_video(
        &mut self,
        sample: VideoSample,
    ) -> Result<Vec<CompletedPart>, SampleError> {
        let Some(clock) = self.video.as_mut() else {
            return Err(SampleError::NoSuchTrack("video"));
        };
        check_size("video", &sample.data)?;
        // A stream joined mid-GOP cannot be decoded until its first keyframe.
        if !self.seen_keyframe && !sample.keyframe {
            return Ok(Vec::new());
        }
        self.seen_keyframe = true;
        let fragment_sample = FragmentSample {
            duration: 0,
            composition_offset: sample.cts,
            sync: sample.keyframe,
            data: sample.data,
        };
        let completed = clock.advance("video", sample.dts, fragment_sample)?;
        let mut out = Vec::new();
        if let Some((start, held)) = completed {
            self.append_driver_sample(start, start, held, true);
            out.extend(self.cut_before(sample.dts, sample.keyframe));
        }
        Ok(out)
    }

    pub(crate) fn push_audio(
        &mut self,
        sample: AudioSample,
    ) -> Result<Vec<CompletedPart>, SampleError> {
        let Some(clock) = self.audio.as_mut() else {
            return Err(SampleError::NoSuchTrack("audio"));
        };
        check_size("audio", &sample.data)?;
        let fragment_sample =
            FragmentSample { duration: 0, composition_offset: 0, sync: true, data: sample.data };
        let time_90k = clock.to_90k(sample.pts);
        let Some((start, held)) = clock.advance("audio", sample.pts, fragment_sample)? else {
            return Ok(Vec::new());
        };
        let start_90k = clock.to_90k(start);
        let mut out = Vec::new();
        if self.video.is_some() {
            self.queued_audio.push_back((start_90k, start, held));
            if self.queued_audio.len() > MAX_QUEUED_AUDIO {
                if self.open.is_some() {
                    out.extend(self.close_part(false, None));
                } else {
                    self.queued_audio.pop_front();
                }
            }
        } else {
            self.append_driver_sample(start_90k, start, held, false);
            out.extend(self.cut_before(time_90k, true));
        }
        Ok(out)
    }

    /// Flushes the held samples and closes the last part and segment.
    pub(crate) fn finish(&mut self) -> Vec<CompletedPart> {
        if let Some((start, held)) = self.video.as_mut().and_then(TrackClock::flush) {
            self.append_driver_sample(start, start, held, true);
        }
        if let Some(clock) = self.audio.as_mut()
            && let Some((start, held)) = clock.flush()
        {
            let start_90k = clock.to_90k(start);
            if self.video.is_some() {
                self.queued_audio.push_back((start_90k, start, held));
            } else {
                self.append_driver_sample(start_90k, start, held, false);
            }
        }
        self.close_part(true, None).into_iter().collect()
    }

    fn append_driver_sample(
        &mut self,
        start_90k: u64,
        decode_time: u64,
        sample: FragmentSample,
        video: bool,
    ) {
        self.segment_start_90k.get_or_insert(start_90k);
        let part = self.open.get_or_insert_with(|| OpenPart {
            start_90k,
            independent: sample.sync,
            video_base: decode_time,
            audio_base: decode_time,
            ..OpenPart::default()
        });
        part.bytes += sample.data.len();
        if video { part.video.push(sample) } else { part.audio.push(sample) }
    }

    /// Called when a driver sample arrives at `time_90k` (the end of everything appended so
    /// far): closes the open part if that sample should begin a new part or segment.
    fn cut_before(&mut self, time_90k: u64, keyframe: bool) -> Option<CompletedPart> {
        let part = self.open.as_ref()?;
        let segment_elapsed = time_90k.saturating_sub(self.segment_start_90k.unwrap_or(time_90k));
        let max_segment = self.rules.segment_target * MAX_SEGMENT_TARGETS;
        if (keyframe && segment_elapsed >= self.rules.segment_target)
            || segment_elapsed >= max_segment
        {
            return self.close_part(true, Some(time_90k));
        }
        let samples = part.video.len() + part.audio.len();
        let driver = if self.video.is_some() { self.video.as_ref() } else { self.audio.as_ref() };
        // The next sample will likely last as long as the last one: cut now if it would not fit.
        let next_duration = driver.map_or(0, |clock| clock.to_90k(u64::from(clock.last_duration)));
        let part_full = self
            .rules
            .part_target
            .is_some_and(|target| time_90k - part.start_90k + next_duration > target);
        if part_full || samples >= MAX_PART_SAMPLES || part.bytes >= MAX_PART_BYTES {
            return self.close_part(false, Some(time_90k));
        }
        None
    }

    /// Writes the open part with the queued audio that starts before `cut_90k` (all of it
    /// when `None`).
    fn close_part(&mut self, ends_segment: bool, cut_90k: Option<u64>) -> Option<CompletedPart> {
        let mut part = self.open.take()?;
        if ends_segment {
            self.segment_start_90k = None;
        }
        if self.video.is_some() {
            while let Some((start_90k, decode_time, _)) = self.queued_audio.front() {
                if cut_90k.is_some_and(|cut| *start_90k >= cut) {
                    break;
                }
                if part.audio.is_empty() {
                    part.audio_base = *decode_time;
                }
                let (_, _, sample) = self.queued_audio.pop_front()?;
                part.audio.push(sample);
            }
        }
        let audio_id = if self.video.is_some() { AUDIO_TRACK_ID } else { AUDIO_ONLY_TRACK_ID };
        self.sequence += 1;
        let bytes = fmp4::fragment(
            self.sequence,
            &[
                TrackRun {
                    track_id: VIDEO_TRACK_ID,
                    base_decode_time: part.video_base,
                    samples: &part.video,
                    video: true,
                },
                TrackRun {
                    track_id: audio_id,
                    base_decode_time: part.audio_base,
                    samples: &part.audio,
                    video: false,
                },
            ],
        );
        let sum =
            |samples: &[FragmentSample]| samples.iter().map(|s| u64::from(s.duration)).sum::<u64>();
        let duration = match (&self.video, &self.audio) {
            (Some(_), _) if !part.video.is_empty() => {
                sum(&part.video) as f64 / f64::from(VIDEO_TIMESCALE)
            }
            (_, Some(audio)) => sum(&part.audio) as f64 / f64::from(audio.timescale),
            _ => 0.0,
        };
        Some(CompletedPart {
            bytes,
            duration,
            start: part.start_90k as f64 / f64::from(VIDEO_TIMESCALE),
            independent: part.independent,
            ends_segment,
            video_samples: part.video.len(),
        })
    }
}

fn check_size(track: &'static str, data: &Bytes) -> Result<(), SampleError> {
    if data.is_empty() {
        return Err(SampleError::Empty(track));
    }
    if data.len() > MAX_SAMPLE_BYTES {
        return Err(SampleError::TooLarge { track, size: data.len(), limit: MAX_SAMPLE_BYTES });
    }
    Ok(())
}
