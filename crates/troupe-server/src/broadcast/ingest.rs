//! One live stream's media path, whatever brought it (RTMP or WHIP): the tracks it announced,
//! its samples, into the channel's low-latency HLS packager (and its recording, when the
//! channel records). Remux only: the encoder's H.264 goes out as it came.
//!
//! The packager starts at the first video keyframe (with the audio track when its config came
//! first, as every encoder sends it), or at the first audio frame of a stream that announced
//! no video: what comes before is of no use to a player starting at a keyframe. That moment
//! is time zero of both tracks in the packager (encoders start their clocks anywhere), so that
//! the playlist's program date-times are the wall-clock times the media arrived.

use std::{sync::Arc, time::Instant};

use troupe_hls::{AudioSample, AudioTrack, LiveConfig, LivePackager, VideoSample, VideoTrack};

use troupe_control::live_streams::{AudioIngest, IngestConfiguration, VideoIngest};

use super::{
    channel_recording::ChannelRecordingPlan, live_channels::LiveChannel, recorder::Recorder,
};

/// Called once when the stream's media starts, with what it turned out to be.
pub type OnStarted = Box<dyn FnOnce(IngestConfiguration) + Send>;

pub struct Ingest {
    live: Arc<LiveChannel>,
    video: Option<VideoTrack>,
    audio: Option<AudioTrack>,
    /// Whether the stream announced video (RTMP metadata; WHIP's offer): audio alone waits
    /// for the first keyframe then.
    expects_video: bool,
    packager: Option<LivePackager>,
    /// The stream time (90 kHz) that is the packager's zero.
    origin: u64,
    /// The audio track's clock rate.
    audio_rate: u64,
    /// Frames per second, as the encoder announced them.
    framerate: Option<f64>,
    /// Samples refused by the packager (out of order, too large): logged once, counted.
    refused: u64,
    recording: Option<ChannelRecordingPlan>,
    recorder: Option<Recorder>,
    on_started: Option<OnStarted>,
}

impl Ingest {
    pub fn new(live: Arc<LiveChannel>, expects_video: bool) -> Ingest {
        Ingest {
            live,
            video: None,
            audio: None,
            expects_video,
            packager: None,
            origin: 0,
            audio_rate: 48_000,
            framerate: None,
            refused: 0,
            recording: None,
            recorder: None,
            on_started: None,
        }
    }

    /// Records the stream too, from its start.
    pub fn record(&mut self, plan: ChannelRecordingPlan) {
        self.recording = Some(plan);
    }

    pub fn on_started(&mut self, callback: OnStarted) {
        self.on_started = Some(callback);
    }

    pub fn live(&self) -> &Arc<LiveChannel> {
        &self.live
    }

    pub fn set_expects_video(&mut self, expects_video: bool) {
        self.expects_video = expects_video;
    }

    /// What RTMP metadata says of the stream.
    pub fn describe(&mut self, meta: &troupe_rtmp::StreamMetadata) {
        // Encoders' numbers are not trusted beyond being sane.
        let sane = |v: Option<f64>, max: f64| v.filter(|v| v.is_finite() && *v > 0.0 && *v < max);
        self.framerate = sane(meta.framerate, 1000.0);
        self.live.describe(|d| {
            if meta.video_codec_id.is_some() || meta.width.is_some() {
                let video = d.video.get_or_insert_with(VideoIngest::default);
                video.encoder = meta.encoder.clone().unwrap_or_default();
                video.target_framerate = self.framerate.map_or(0, |f| f.round() as u32);
                video.target_bitrate =
                    sane(meta.video_data_rate, 1e7).map_or(0, |k| (k * 1000.0) as u64);
            }
            if meta.audio_codec_id.is_some() || meta.audio_sample_rate.is_some() {
                let audio = d.audio.get_or_insert_with(AudioIngest::default);
                audio.target_bitrate =
                    sane(meta.audio_data_rate, 1e5).map_or(0, |k| (k * 1000.0) as u64);
                audio.sample_rate = sane(meta.audio_sample_rate, 1e6).map_or(0, |r| r as u32);
                audio.channels = sane(meta.audio_channels, 64.0).map_or(0, |c| c as u32);
            }
        });
    }

    /// A (new) video configuration. A change after the start (an encoder restarting with
    /// other settings) cannot go into the same fMP4 init segment: it is ignored with a warning
    /// (IVS ends the stream in that case too).
    pub fn set_video(&mut self, track: VideoTrack) {
        match (&self.packager, &self.video) {
            (Some(_), Some(current)) if *current != track => {
                tracing::warn!(channel = %self.live.channel_id, "video configuration changed mid-stream; keeping the first");
            }
            (Some(_), Some(_)) => {}
            _ => {
                let sps = &track.config().parsed_sps;
                let (profile, level) = (sps.profile_idc, sps.level_idc);
                let (width, height) = (track.width(), track.height());
                self.live.describe(|d| {
                    let video = d.video.get_or_insert_with(VideoIngest::default);
                    video.codec = track.codec_string();
                    video.width = width;
                    video.height = height;
                    video.avc_profile = avc_profile_name(profile).to_string();
                    video.avc_level = format!("{}.{}", level / 10, level % 10);
                });
                self.video = Some(track);
            }
        }
    }

    pub fn set_audio(&mut self, track: AudioTrack) {
        if self.packager.is_none() {
            if let Ok(rate) = track.timescale() {
                self.audio_rate = u64::from(rate);
                self.live.describe(|d| {
                    let audio = d.audio.get_or_insert_with(AudioIngest::default);
                    audio.codec = track.codec_string().unwrap_or_default();
                    if audio.sample_rate == 0 {
                        audio.sample_rate = rate;
                    }
                });
            }
            self.audio = Some(track);
        }
    }

    pub fn video(&mut self, mut sample: VideoSample) {
        self.live.media_arrived(Instant::now());
        if self.packager.is_none() {
            if !sample.keyframe || self.video.is_none() {
                return;
            }
            self.start(sample.dts);
        }
        let Some(dts) = sample.dts.checked_sub(self.origin) else { return };
        sample.dts = dts;
        if let Some(recorder) = &mut self.recorder {
            recorder.video(sample.clone());
        }
        if let Some(packager) = &mut self.packager
            && let Err(e) = packager.push_video(sample)
        {
            self.refused(&e.to_string());
        }
    }

    pub fn audio(&mut self, mut sample: AudioSample) {
        self.live.media_arrived(Instant::now());
        if self.packager.is_none() {
            if self.expects_video || self.audio.is_none() {
                return;
            }
            self.start(sample.pts * 90_000 / self.audio_rate);
        }
        let origin = self.origin * self.audio_rate / 90_000;
        let Some(pts) = sample.pts.checked_sub(origin) else { return };
        sample.pts = pts;
        if let Some(recorder) = &mut self.recorder {
            recorder.audio(sample.clone());
        }
        if let Some(packager) = &mut self.packager
            && let Err(e) = packager.push_audio(sample)
        {
            self.refused(&e.to_string());
        }
    }

    /// The stream ended: the playlist gets its end tag, players stop at the last part.
    pub fn finish(&mut self) {
        // A stream that never started records no session: whoever waits for its start hears so.
        self.on_started = None;
        if let Some(packager) = &mut self.packager {
            packager.finish();
        }
        if let Some(recorder) = self.recorder.take() {
            let seconds = recorder.recorded_seconds();
            let prefix = recorder.prefix().to_string();
            recorder.finish();
            tracing::info!(channel = %self.live.channel_id, %prefix, seconds, "channel recording ended");
        }
    }

    fn start(&mut self, origin: u64) {
        self.origin = origin;
        let created = LivePackager::new(
            self.video.clone(),
            self.audio.clone(),
            LiveConfig::default(),
            std::time::SystemTime::now(),
        );
        match created {
            Ok(packager) => {
                let _ = self.live.stream.set(packager.stream());
                self.packager = Some(packager);
                if let Some(plan) = &self.recording {
                    let recorder =
                        plan.start(self.video.as_ref(), self.audio.as_ref(), self.framerate);
                    tracing::info!(channel = %self.live.channel_id, prefix = recorder.prefix(), bucket = recorder.bucket(), "channel recording started");
                    self.recorder = Some(recorder);
                }
                if let Some(callback) = self.on_started.take() {
                    callback(self.live.ingest());
                }
            }
            Err(e) => {
                tracing::warn!(channel = %self.live.channel_id, error = %e, "cannot package this stream");
            }
        }
    }

    fn refused(&mut self, why: &str) {
        self.refused += 1;
        if self.refused == 1 || self.refused.is_power_of_two() {
            tracing::debug!(channel = %self.live.channel_id, refused = self.refused, why, "sample refused by the packager");
        }
    }
}

/// H.264's profile names (IVS reports them as `avcProfile`).
fn avc_profile_name(profile_idc: u8) -> &'static str {
    match profile_idc {
        66 => "Baseline",
        77 => "Main",
        88 => "Extended",
        100 => "High",
        110 => "High 10",
        122 => "High 4:2:2",
        244 => "High 4:4:4",
        _ => "Unknown",
    }
}
