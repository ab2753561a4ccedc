//! What a packager is told about its tracks and the samples it is fed.

use bytes::Bytes;

use crate::h264::{AvcConfig, H264Error};

/// The 90 kHz clock video timestamps are in (and the video track's timescale).
pub const VIDEO_TIMESCALE: u32 = 90_000;

#[derive(Debug, Clone, PartialEq)]
pub struct VideoTrack {
    config: AvcConfig,
}

impl VideoTrack {
    /// From an AVCDecoderConfigurationRecord (an RTMP AVC sequence header's body). Samples must
    /// then use the record's NAL length size; 4 bytes is what every encoder writes.
    pub fn from_avcc(record: Bytes) -> Result<VideoTrack, TrackError> {
        Ok(VideoTrack { config: AvcConfig::parse(record)? })
    }

    /// From an in-band SPS and PPS (as WHIP/RTP delivers them), NAL header bytes included.
    pub fn from_parameter_sets(sps: &[u8], pps: &[u8]) -> Result<VideoTrack, TrackError> {
        Ok(VideoTrack { config: AvcConfig::from_parameter_sets(sps, pps)? })
    }

    pub fn config(&self) -> &AvcConfig {
        &self.config
    }

    pub fn width(&self) -> u32 {
        self.config.parsed_sps.width
    }

    pub fn height(&self) -> u32 {
        self.config.parsed_sps.height
    }

    pub fn codec_string(&self) -> String {
        self.config.parsed_sps.codec_string()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum AudioTrack {
    /// AAC with its AudioSpecificConfig (an RTMP AAC sequence header's body).
    Aac { audio_specific_config: Bytes },
    /// Opus at 48 kHz; mono or stereo (channel mapping family 0).
    Opus { channels: u8, pre_skip: u16 },
}

/// What muxing needs to know about an audio track, derived once from [`AudioTrack`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct AudioParams {
    pub timescale: u32,
    pub channels: u16,
    /// For AAC, the audio object type ("mp4a.40.<n>").
    pub object_type: u8,
}

impl AudioTrack {
    pub(crate) fn params(&self) -> Result<AudioParams, TrackError> {
        match self {
            AudioTrack::Aac { audio_specific_config } => {
                parse_audio_specific_config(audio_specific_config)
            }
            AudioTrack::Opus { channels, .. } => {
                if !(1..=2).contains(channels) {
                    return Err(TrackError::OpusChannels(*channels));
                }
                Ok(AudioParams {
                    timescale: 48_000,
                    channels: u16::from(*channels),
                    object_type: 0,
                })
            }
        }
    }

    pub fn codec_string(&self) -> Result<String, TrackError> {
        Ok(match self {
            AudioTrack::Aac { .. } => format!("mp4a.40.{}", self.params()?.object_type),
            AudioTrack::Opus { .. } => "opus".to_owned(),
        })
    }

    /// The timescale [`AudioSample::pts`] is in: the AAC sample rate, or 48 kHz for Opus.
    pub fn timescale(&self) -> Result<u32, TrackError> {
        Ok(self.params()?.timescale)
    }
}

const AAC_SAMPLE_RATES: [u32; 13] =
    [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];

/// ISO/IEC 14496-3 §1.6.2.1: object type (5 bits, 31 escapes to 6 more), frequency index
/// (4 bits, 15 escapes to 24 explicit bits), channel configuration (4 bits).
fn parse_audio_specific_config(config: &[u8]) -> Result<AudioParams, TrackError> {
    let mut bits =
        config.iter().flat_map(|byte| (0..8).rev().map(move |i| u32::from((byte >> i) & 1)));
    let mut read = |count: u32| -> Result<u32, TrackError> {
        (0..count).try_fold(0u32, |acc, _| {
            bits.next()
                .map(|bit| (acc << 1) | bit)
                .ok_or(TrackError::AacConfig("truncated AudioSpecificConfig"))
        })
    };
    let mut object_type = read(5)?;
    if object_type == 31 {
        object_type = 32 + read(6)?;
    }
    let frequency_index = read(4)? as usize;
    let timescale = if frequency_index == 15 {
        read(24)?
    } else {
        *AAC_SAMPLE_RATES
            .get(frequency_index)
            .ok_or(TrackError::AacConfig("reserved sampling frequency index"))?
    };
    let channel_configuration = read(4)?;
    let channels = match channel_configuration {
        1..=6 => channel_configuration as u16,
        7 => 8,
        _ => return Err(TrackError::AacConfig("channel configuration must be 1 to 7")),
    };
    if timescale == 0 {
        return Err(TrackError::AacConfig("sampling frequency of 0"));
    }
    Ok(AudioParams { timescale, channels, object_type: object_type as u8 })
}

/// One H.264 access unit.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoSample {
    /// Decode time, 90 kHz.
    pub dts: u64,
    /// pts − dts, 90 kHz.
    pub cts: i32,
    pub keyframe: bool,
    /// AVCC: NAL units with 4-byte (or the avcC's) length prefixes.
    pub data: Bytes,
}

/// One AAC raw data block (no ADTS header) or one Opus packet.
#[derive(Debug, Clone, PartialEq)]
pub struct AudioSample {
    /// In the track's timescale ([`AudioTrack::timescale`]).
    pub pts: u64,
    pub data: Bytes,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum TrackError {
    #[error("video track: {0}")]
    H264(#[from] H264Error),
    #[error("AAC track: {0}")]
    AacConfig(&'static str),
    #[error("Opus track with {0} channels: only mono and stereo are supported")]
    OpusChannels(u8),
    #[error("a stream needs a video or an audio track")]
    NoTracks,
    #[error("invalid packager configuration: {0}")]
    Config(&'static str),
}

/// Errors for samples a packager refuses; the stream goes on without them.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SampleError {
    #[error("{track} sample at {time} does not come after the previous one at {previous}")]
    NotIncreasing { track: &'static str, previous: u64, time: u64 },
    #[error("{track} sample of {size} bytes is larger than the {limit}-byte limit")]
    TooLarge { track: &'static str, size: usize, limit: usize },
    #[error("{0} sample pushed to a stream without a {0} track")]
    NoSuchTrack(&'static str),
    #[error("empty {0} sample")]
    Empty(&'static str),
    #[error("sample pushed after finish()")]
    Finished,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aac_lc_44100_stereo_parses() {
        let track = AudioTrack::Aac { audio_specific_config: Bytes::from_static(&[0x12, 0x10]) };
        assert_eq!(
            track.params().unwrap(),
            AudioParams { timescale: 44100, channels: 2, object_type: 2 }
        );
        assert_eq!(track.codec_string().unwrap(), "mp4a.40.2");
    }

    #[test]
    fn bad_audio_configs_are_named() {
        let short = AudioTrack::Aac { audio_specific_config: Bytes::from_static(&[0x12]) };
        assert_eq!(short.params(), Err(TrackError::AacConfig("truncated AudioSpecificConfig")));
        let reserved = AudioTrack::Aac { audio_specific_config: Bytes::from_static(&[0x16, 0x90]) };
        assert_eq!(
            reserved.params(),
            Err(TrackError::AacConfig("reserved sampling frequency index"))
        );
        assert_eq!(
            AudioTrack::Opus { channels: 6, pre_skip: 312 }.params(),
            Err(TrackError::OpusChannels(6))
        );
    }
}
