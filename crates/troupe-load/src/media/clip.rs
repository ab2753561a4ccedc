//! The media publishers send: a short clip encoded once at start and looped, as RTP payloads
//! ready to stamp. Video is real H.264 (OpenH264, constrained baseline, the bitrate and size
//! asked) of a synthetic moving picture whose first frame is the only IDR, so that looping
//! the clip gives a keyframe every clip length (2 s); audio is real Opus (20 ms frames) of a
//! synthetic voice-like signal.

use anyhow::{Context, Result, bail};
use openh264::{
    OpenH264API,
    encoder::{
        BitRate, Encoder, EncoderConfig, FrameRate, IntraFramePeriod, Level, Profile,
        RateControlMode,
    },
    formats::YUVBuffer,
};

use super::{h264, stamp};

/// The largest RTP payload sent, stamp included: datagrams stay around 1250 bytes, as WebRTC
/// endpoints keep them.
pub const MAX_PAYLOAD: usize = 1200;

/// One video frame: its RTP payloads (the last carries the marker bit).
#[derive(Debug, Clone)]
pub struct Frame {
    pub payloads: Vec<Vec<u8>>,
    pub keyframe: bool,
}

#[derive(Debug, Clone)]
pub struct VideoClip {
    pub frames: Vec<Frame>,
    pub fps: u32,
    pub width: u32,
    pub height: u32,
    /// What the encoder produced, in bits per second of clip (RTP payloads, stamps excluded).
    pub encoded_bps: u64,
}

#[derive(Debug, Clone)]
pub struct AudioClip {
    /// 20 ms Opus packets, each with room for the stamp.
    pub packets: Vec<Vec<u8>>,
    pub encoded_bps: u64,
}

/// What to encode.
#[derive(Debug, Clone, Copy)]
pub struct VideoSpec {
    pub width: u32,
    pub height: u32,
    pub fps: u32,
    pub bitrate_bps: u32,
    pub seconds: u32,
}

pub fn encode_video(spec: VideoSpec) -> Result<VideoClip> {
    if !spec.width.is_multiple_of(16)
        || !spec.height.is_multiple_of(2)
        || spec.width == 0
        || spec.height == 0
    {
        bail!(
            "video size {}x{}: the width must be a multiple of 16, the height even",
            spec.width,
            spec.height
        );
    }
    let frames = spec.fps * spec.seconds;
    let config = EncoderConfig::new()
        .bitrate(BitRate::from_bps(spec.bitrate_bps))
        .max_frame_rate(FrameRate::from_hz(spec.fps as f32))
        .rate_control_mode(RateControlMode::Bitrate)
        .skip_frames(false)
        .profile(Profile::Baseline)
        .level(Level::Level_3_1)
        .intra_frame_period(IntraFramePeriod::from_num_frames(frames + 1));
    let mut encoder = Encoder::with_api_config(OpenH264API::from_source(), config)
        .context("starting the OpenH264 encoder")?;
    let mut picture = Picture::new(spec.width as usize, spec.height as usize);
    let mut clip = Vec::with_capacity(frames as usize);
    let mut bytes = 0u64;
    for index in 0..frames {
        picture.draw(index);
        let yuv = YUVBuffer::from_vec(picture.yuv.clone(), picture.width, picture.height);
        let encoded = encoder.encode(&yuv).context("encoding a video frame")?;
        let keyframe = matches!(encoded.frame_type(), openh264::encoder::FrameType::IDR);
        if index == 0 && !keyframe {
            bail!("the encoder did not start the clip with an IDR frame");
        }
        let stream = encoded.to_vec();
        let nals = h264::split_annex_b(&stream);
        let payloads = h264::packetize(&nals, MAX_PAYLOAD - stamp::STAMP_LEN);
        bytes += payloads.iter().map(|p| p.len() as u64).sum::<u64>();
        let payloads = payloads.iter().map(|p| stamp::video_template(p)).collect();
        clip.push(Frame { payloads, keyframe });
    }
    if clip.iter().skip(1).any(|f| f.keyframe) {
        bail!("the encoder put a second IDR frame in the clip");
    }
    Ok(VideoClip {
        frames: clip,
        fps: spec.fps,
        width: spec.width,
        height: spec.height,
        encoded_bps: bytes * 8 / u64::from(spec.seconds.max(1)),
    })
}

pub fn encode_audio(bitrate_bps: u32, seconds: u32) -> Result<AudioClip> {
    use opus_pure::{Application, OpusEncoder};
    const RATE: usize = 48_000;
    const FRAME: usize = RATE / 50; // 20 ms
    let mut encoder = OpusEncoder::new(RATE as i32, 1, Application::Voip)
        .map_err(|e| anyhow::anyhow!("starting the Opus encoder: {e}"))?;
    encoder.bitrate_bps = bitrate_bps as i32;
    let mut packets = Vec::new();
    let mut out = vec![0u8; opus_pure::MAX_PACKET_BYTES];
    let mut bytes = 0u64;
    let mut pcm = vec![0f32; FRAME];
    for frame in 0..(seconds as usize * 50) {
        for (i, sample) in pcm.iter_mut().enumerate() {
            let t = (frame * FRAME + i) as f32 / RATE as f32;
            // A voice-like signal: a gliding fundamental with harmonics, syllable-rate bursts.
            let pitch = 140.0 + 30.0 * (t * 1.3).sin();
            let syllables = (0.5 + 0.5 * (t * 2.0 * std::f32::consts::PI * 3.0).sin()).powi(2);
            let voice: f32 = (1..6)
                .map(|h| (t * pitch * h as f32 * 2.0 * std::f32::consts::PI).sin() / h as f32)
                .sum();
            *sample = 0.3 * syllables * voice;
        }
        let n = encoder
            .encode(&pcm, FRAME, &mut out)
            .map_err(|e| anyhow::anyhow!("encoding an Opus frame: {e}"))?;
        bytes += n as u64;
        let packet = stamp::opus_template(&out[..n])
            .context("the Opus encoder produced a packet of several frames")?;
        packets.push(packet);
    }
    Ok(AudioClip { packets, encoded_bps: bytes * 8 / u64::from(seconds.max(1)) })
}

/// A synthetic camera picture: a drifting gradient, a moving block, and fresh sensor-like
/// noise each frame (which is what makes the encoder spend its bitrate, as a real camera does).
struct Picture {
    width: usize,
    height: usize,
    yuv: Vec<u8>,
    noise: u64,
}

impl Picture {
    fn new(width: usize, height: usize) -> Self {
        Picture {
            width,
            height,
            yuv: vec![128; width * height * 3 / 2],
            noise: 0x9E37_79B9_7F4A_7C15,
        }
    }

    fn draw(&mut self, index: u32) {
        let (w, h) = (self.width, self.height);
        let shift = index as usize * 4;
        let block = (index as usize * 12 % w.max(1), index as usize * 5 % h.max(1));
        for y in 0..h {
            for x in 0..w {
                self.noise ^= self.noise << 13;
                self.noise ^= self.noise >> 7;
                self.noise ^= self.noise << 17;
                let grain = (self.noise & 0x0F) as usize;
                let inside = x.wrapping_sub(block.0) < w / 8 && y.wrapping_sub(block.1) < h / 6;
                let base = if inside { 220 } else { ((x + y + shift) / 3) % 200 + 20 };
                self.yuv[y * w + x] = (base + grain).min(255) as u8;
            }
        }
        let chroma = &mut self.yuv[w * h..];
        for (i, c) in chroma.iter_mut().enumerate() {
            *c = (128 + ((i + shift) % 64) as i32 - 32) as u8;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use openh264::decoder::Decoder;

    #[test]
    fn the_video_clip_is_real_h264_that_decodes_after_the_stamps_are_stripped() {
        let spec = VideoSpec { width: 320, height: 180, fps: 15, bitrate_bps: 300_000, seconds: 1 };
        let clip = encode_video(spec).unwrap();
        assert_eq!(clip.frames.len(), 15);
        assert!(clip.frames[0].keyframe && clip.frames.iter().skip(1).all(|f| !f.keyframe));
        assert!(clip.encoded_bps > 50_000, "the encoder spent bits: {}", clip.encoded_bps);
        let mut decoder = Decoder::new().unwrap();
        let mut pictures = 0;
        for frame in &clip.frames {
            assert!(frame.payloads.iter().all(|p| p.len() <= MAX_PAYLOAD));
            let stripped: Vec<&[u8]> =
                frame.payloads.iter().map(|p| &p[..p.len() - stamp::STAMP_LEN]).collect();
            let stream = h264::depacketize(&stripped);
            if decoder.decode(&stream).unwrap().is_some() {
                pictures += 1;
            }
        }
        assert!(pictures >= 14, "{pictures} of 15 frames decoded");
    }

    #[test]
    fn the_audio_clip_is_opus_that_decodes_with_the_stamp_in_its_padding() {
        let clip = encode_audio(32_000, 1).unwrap();
        assert_eq!(clip.packets.len(), 50);
        let mut decoder = opus_pure::OpusDecoder::new(48_000, 1).unwrap();
        let mut pcm = vec![0f32; 960];
        for packet in &clip.packets {
            assert_eq!(decoder.decode(packet, 960, &mut pcm).unwrap(), 960);
        }
    }
}
