//! Troupe's HLS output: ingested H.264 + AAC (RTMP) or H.264 + Opus (WHIP) remuxed, never
//! transcoded, into CMAF (fMP4) — as low-latency HLS for live playback ([`LivePackager`],
//! read through [`LiveStream`]) and as plain HLS VOD for recordings ([`RecordingSegmenter`]).
//!
//! Sans-IO apart from waiting: nothing here reads a clock except the blocking-reload timeouts,
//! and the wall clock of EXT-X-PROGRAM-DATE-TIME is given at creation.

pub mod fmp4;
pub mod h264;
mod track;

pub use track::{
    AudioSample, AudioTrack, SampleError, TrackError, VIDEO_TIMESCALE, VideoSample, VideoTrack,
};
mod fragmenter;
pub mod live;
mod wall_clock;

pub use live::{LiveConfig, LivePackager, LiveStream, MediaFile, PlaylistError};
mod recording;

pub use recording::{RecordingOutput, RecordingSegmenter};
