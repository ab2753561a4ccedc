//! Test media made by the real ffmpeg, read back by small readers of our own (raw H.264 with
//! timestamps from ffprobe, ADTS, Ogg/Opus), and checked by the real ffprobe.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use bytes::Bytes;
use troupe_hls::h264::{self, annex_b_to_avcc};
use troupe_hls::{AudioSample, AudioTrack, VideoSample, VideoTrack};

pub fn require(tool: &str) {
    let found =
        Command::new(tool).arg("-version").output().map(|o| o.status.success()).unwrap_or(false);
    assert!(found, "{tool} is required for this test: install it with `apt-get install -y ffmpeg`");
}

/// A fresh directory under the system temp dir.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("troupe-hls-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn run(program: &str, args: &[&str]) -> Vec<u8> {
    require(program);
    let output = Command::new(program).args(args).output().unwrap();
    assert!(
        output.status.success(),
        "{program} {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

pub fn ffprobe_json(args: &[&str]) -> serde_json::Value {
    let mut all = vec!["-v", "error", "-show_streams", "-show_format", "-of", "json"];
    all.extend_from_slice(args);
    serde_json::from_slice(&run("ffprobe", &all)).unwrap()
}

pub fn ffprobe_errors(args: &[&str]) -> String {
    let mut all = vec!["-v", "error"];
    all.extend_from_slice(args);
    require("ffprobe");
    let output = Command::new("ffprobe").args(&all).output().unwrap();
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Encodes `seconds` of 1280×720 30 fps H.264 (High profile, B-frames, 1 s GOP) with audio
/// encoded by `audio_codec` into an MP4 with a 90 kHz video timescale.
pub fn encode_mp4(dir: &Path, seconds: u32, audio_codec: &str) -> PathBuf {
    let out = dir.join("source.mp4");
    let t = seconds.to_string();
    run(
        "ffmpeg",
        &[
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=1280x720:rate=30",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:sample_rate=48000",
            "-t",
            &t,
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-g",
            "30",
            "-bf",
            "2",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            audio_codec,
            "-ac",
            "2",
            "-video_track_timescale",
            "90000",
            out.to_str().unwrap(),
        ],
    );
    out
}

/// The video track and samples of an MP4's H.264 stream: the Annex B elementary stream split
/// into access units, paired with the packets' pts/dts from ffprobe.
pub fn read_video(mp4: &Path, dir: &Path) -> (VideoTrack, Vec<VideoSample>) {
    let raw = dir.join("video.h264");
    run(
        "ffmpeg",
        &[
            "-v",
            "error",
            "-y",
            "-i",
            mp4.to_str().unwrap(),
            "-map",
            "0:v",
            "-c",
            "copy",
            "-bsf:v",
            "h264_mp4toannexb",
            "-f",
            "h264",
            raw.to_str().unwrap(),
        ],
    );
    let stream = std::fs::read(&raw).unwrap();
    let units = access_units(&stream);
    let packets = String::from_utf8(run(
        "ffprobe",
        &[
            "-v",
            "error",
            "-select_streams",
            "v",
            "-show_entries",
            "packet=pts,dts,flags",
            "-of",
            "csv=p=0",
            mp4.to_str().unwrap(),
        ],
    ))
    .unwrap();
    let times: Vec<(i64, i64, bool)> = packets
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            (fields[0].parse().unwrap(), fields[1].parse().unwrap(), fields[2].starts_with('K'))
        })
        .collect();
    assert_eq!(units.len(), times.len(), "access units vs packets");
    let nals = h264::annex_b_nal_units(&stream);
    let sps = nals.iter().find(|n| h264::nal_type(n) == Some(h264::NAL_SPS)).unwrap();
    let pps = nals.iter().find(|n| h264::nal_type(n) == Some(h264::NAL_PPS)).unwrap();
    let track = VideoTrack::from_parameter_sets(sps, pps).unwrap();
    let first_dts = times[0].1;
    let samples = units
        .iter()
        .zip(&times)
        .map(|(unit, &(pts, dts, keyframe))| VideoSample {
            dts: (dts - first_dts) as u64,
            cts: (pts - dts) as i32,
            keyframe,
            data: annex_b_to_avcc(unit).unwrap(),
        })
        .collect();
    (track, samples)
}

/// Groups an Annex B stream's NAL units into access units: a new one starts at an AUD or
/// parameter set after a picture, or at a slice whose first_mb_in_slice is 0.
pub fn access_units(stream: &[u8]) -> Vec<Vec<u8>> {
    let mut units: Vec<Vec<u8>> = Vec::new();
    let mut current = Vec::new();
    let mut has_picture = false;
    for nal in h264::annex_b_nal_units(stream) {
        let kind = nal[0] & 0x1f;
        let vcl = kind == 1 || kind == 5;
        let starts_new = if vcl {
            has_picture && nal.len() > 1 && nal[1] & 0x80 != 0
        } else {
            has_picture && matches!(kind, 6..=9)
        };
        if starts_new {
            units.push(std::mem::take(&mut current));
            has_picture = false;
        }
        has_picture |= vcl;
        current.extend_from_slice(&[0, 0, 0, 1]);
        current.extend_from_slice(nal);
    }
    if has_picture {
        units.push(current);
    }
    units
}

/// The AAC track and raw frames of an MP4's audio, through ADTS. `offset_90k` shifts the
/// audio as the video was shifted (its first dts made 0).
pub fn read_aac(mp4: &Path, dir: &Path) -> (AudioTrack, Vec<AudioSample>) {
    let adts = dir.join("audio.aac");
    run(
        "ffmpeg",
        &[
            "-v",
            "error",
            "-y",
            "-i",
            mp4.to_str().unwrap(),
            "-map",
            "0:a",
            "-c",
            "copy",
            "-f",
            "adts",
            adts.to_str().unwrap(),
        ],
    );
    let data = std::fs::read(&adts).unwrap();
    let mut samples = Vec::new();
    let mut config = None;
    let mut offset = 0;
    while offset + 7 <= data.len() {
        let header = &data[offset..offset + 7];
        assert_eq!((header[0], header[1] & 0xf0), (0xff, 0xf0), "ADTS sync at {offset}");
        let protection_absent = header[1] & 1 == 1;
        let profile = (header[2] >> 6) + 1;
        let frequency_index = (header[2] >> 2) & 0x0f;
        let channels = ((header[2] & 1) << 2) | (header[3] >> 6);
        let length = (usize::from(header[3] & 3) << 11)
            | (usize::from(header[4]) << 3)
            | usize::from(header[5] >> 5);
        let header_len = if protection_absent { 7 } else { 9 };
        config.get_or_insert([
            (profile << 3) | (frequency_index >> 1),
            ((frequency_index & 1) << 7) | (channels << 3),
        ]);
        samples.push(AudioSample {
            pts: samples.len() as u64 * 1024,
            data: Bytes::copy_from_slice(&data[offset + header_len..offset + length]),
        });
        offset += length;
    }
    let config = config.unwrap();
    (AudioTrack::Aac { audio_specific_config: Bytes::copy_from_slice(&config) }, samples)
}

/// The Opus track and packets of an Ogg Opus file, pts from each packet's TOC.
pub fn read_ogg_opus(ogg: &Path) -> (AudioTrack, Vec<AudioSample>) {
    let data = std::fs::read(ogg).unwrap();
    let mut packets: Vec<Vec<u8>> = Vec::new();
    let mut partial = Vec::new();
    let mut offset = 0;
    while offset + 27 <= data.len() {
        assert_eq!(&data[offset..offset + 4], b"OggS");
        let segments = usize::from(data[offset + 26]);
        let table = &data[offset + 27..offset + 27 + segments];
        let mut body = offset + 27 + segments;
        for &lacing in table {
            partial.extend_from_slice(&data[body..body + usize::from(lacing)]);
            body += usize::from(lacing);
            if lacing < 255 {
                packets.push(std::mem::take(&mut partial));
            }
        }
        offset = body;
    }
    let head = &packets[0];
    assert_eq!(&head[..8], b"OpusHead");
    let track =
        AudioTrack::Opus { channels: head[9], pre_skip: u16::from_le_bytes([head[10], head[11]]) };
    let mut pts = 0;
    let samples = packets[2..]
        .iter()
        .map(|packet| {
            let sample = AudioSample { pts, data: Bytes::copy_from_slice(packet) };
            pts += opus_packet_samples(packet);
            sample
        })
        .collect();
    (track, samples)
}

/// RFC 6716 §3.1: frame size from the TOC's config, frame count from its code.
fn opus_packet_samples(packet: &[u8]) -> u64 {
    let config = packet[0] >> 3;
    let frame = match config {
        0..=11 => [480, 960, 1920, 2880][usize::from(config % 4)],
        12..=15 => [480, 960][usize::from(config % 2)],
        _ => [120, 240, 480, 960][usize::from(config % 4)],
    };
    let frames = match packet[0] & 3 {
        0 => 1,
        1 | 2 => 2,
        _ => u64::from(packet[1] & 0x3f),
    };
    frame * frames
}

/// Feeds video and audio samples in time order, as an ingest would.
pub fn interleave(
    video: Vec<VideoSample>,
    audio: Vec<AudioSample>,
    audio_rate: u64,
) -> Vec<Result<VideoSample, AudioSample>> {
    let mut out = Vec::with_capacity(video.len() + audio.len());
    let mut audio = audio.into_iter().peekable();
    for sample in video {
        while let Some(a) = audio.peek() {
            if a.pts * 90_000 / audio_rate <= sample.dts {
                out.push(Err(audio.next().unwrap()));
            } else {
                break;
            }
        }
        out.push(Ok(sample));
    }
    out.extend(audio.map(Err));
    out
}
