//! A WebRTC publisher's packets (from a media worker's tap) back into samples for a packager
//! or a recording: H.264 access units through the depacketizer, Opus packets as they are, both
//! on one timeline. RTP gives each track a clock with a random origin; the first packet of
//! each track is placed on the timeline by its arrival time, so audio and video start in step
//! (to within the network's jitter) without waiting for RTCP sender reports.

use std::time::Instant;

use bytes::Bytes;
use troupe_depacketize::{H264Depacketizer, H264Output};
use troupe_hls::{AudioSample, AudioTrack, VideoSample, VideoTrack};
use troupe_media::tap::{TapCodec, TappedPacket};

/// What the packets carried, in order.
#[derive(Debug)]
pub enum Media {
    /// The video's parameter sets, before the first keyframe and whenever they change.
    VideoTrack(VideoTrack),
    Video(VideoSample),
    Audio(AudioSample),
}

/// The audio track every WebRTC publisher has (browsers negotiate opus/48000/2).
pub fn opus_track() -> AudioTrack {
    AudioTrack::Opus { channels: 2, pre_skip: 0 }
}

pub struct RtpMedia {
    h264: H264Depacketizer,
    origin: Option<Instant>,
    /// Added to a track's extended RTP time to put it on the timeline (in its clock).
    video_offset: Option<i128>,
    audio_offset: Option<i128>,
    last_parameter_sets: Option<(Bytes, Bytes)>,
    /// A whole RTP packet rebuilt from the tap's fields, for the depacketizer (reused).
    packet: Vec<u8>,
    /// VP8 packets seen: a channel takes H.264 only, said once in the log.
    vp8_seen: bool,
}

impl Default for RtpMedia {
    fn default() -> Self {
        RtpMedia {
            h264: H264Depacketizer::default(),
            origin: None,
            video_offset: None,
            audio_offset: None,
            last_parameter_sets: None,
            packet: Vec::with_capacity(1500),
            vp8_seen: false,
        }
    }
}

impl RtpMedia {
    /// Takes one packet; appends what it completed to `out`. Returns whether the publisher
    /// should be asked for a keyframe.
    pub fn push(&mut self, tapped: &TappedPacket, out: &mut Vec<Media>) -> bool {
        let origin = *self.origin.get_or_insert(tapped.received);
        match tapped.codec {
            TapCodec::Opus => {
                let offset = *self.audio_offset.get_or_insert_with(|| {
                    offset(origin, tapped.received, 48_000, tapped.rtp_time)
                });
                if let Some(pts) = place(tapped.rtp_time, offset) {
                    out.push(Media::Audio(AudioSample {
                        pts,
                        data: Bytes::copy_from_slice(&tapped.payload),
                    }));
                }
                false
            }
            TapCodec::H264 => self.video(tapped, origin, out),
            TapCodec::Vp8 => {
                if !self.vp8_seen {
                    self.vp8_seen = true;
                    tracing::warn!("VP8 video cannot be packaged for HLS; only H.264 is kept");
                }
                false
            }
        }
    }

    fn video(&mut self, tapped: &TappedPacket, origin: Instant, out: &mut Vec<Media>) -> bool {
        // RTP header (RFC 3550 §5.1): version 2, the marker, a payload type the depacketizer
        // does not look at, the low 16 bits of the sequence and 32 of the timestamp, one SSRC.
        self.packet.clear();
        self.packet.push(0x80);
        self.packet.push(if tapped.marker { 0x80 | 96 } else { 96 });
        self.packet.extend_from_slice(&(tapped.sequence as u16).to_be_bytes());
        self.packet.extend_from_slice(&(tapped.rtp_time as u32).to_be_bytes());
        self.packet.extend_from_slice(&1u32.to_be_bytes());
        self.packet.extend_from_slice(&tapped.payload);
        if let Err(e) = self.h264.push(&self.packet) {
            tracing::debug!(error = %e, "H.264 packet refused");
        }
        let mut wants_keyframe = false;
        while let Some(output) = self.h264.poll_output() {
            match output {
                H264Output::KeyframeRequest => wants_keyframe = true,
                H264Output::AccessUnit(unit) => {
                    if let (Some(sps), Some(pps)) = (&unit.sps, &unit.pps) {
                        let changed = self
                            .last_parameter_sets
                            .as_ref()
                            .is_none_or(|(s, p)| s != sps || p != pps);
                        if changed {
                            match VideoTrack::from_parameter_sets(sps, pps) {
                                Ok(track) => {
                                    self.last_parameter_sets = Some((sps.clone(), pps.clone()));
                                    out.push(Media::VideoTrack(track));
                                }
                                Err(e) => tracing::debug!(error = %e, "unusable SPS/PPS"),
                            }
                        }
                    }
                    // The first access unit is placed by the arrival of its last packet.
                    let offset = *self.video_offset.get_or_insert_with(|| {
                        offset(origin, tapped.received, 90_000, unit.rtp_timestamp_ext)
                    });
                    if let Some(dts) = place(unit.rtp_timestamp_ext, offset) {
                        out.push(Media::Video(VideoSample {
                            dts,
                            cts: 0, // WebRTC encoders send no B-frames.
                            keyframe: unit.keyframe,
                            data: unit.avcc,
                        }));
                    }
                }
            }
        }
        wants_keyframe
    }
}

/// The offset that puts RTP time `rtp` (clock `rate`) at the arrival time on the timeline.
fn offset(origin: Instant, arrival: Instant, rate: u64, rtp: u64) -> i128 {
    let since = arrival.saturating_duration_since(origin);
    let on_timeline = since.as_micros() as i128 * rate as i128 / 1_000_000;
    on_timeline - rtp as i128
}

fn place(rtp: u64, offset: i128) -> Option<u64> {
    u64::try_from(rtp as i128 + offset).ok()
}
