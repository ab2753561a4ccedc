//! The live packager's output, written out as its playlist names it, read by the real ffprobe.

mod common;

use std::path::Path;
use std::time::SystemTime;

use common::*;
use troupe_hls::{
    AudioSample, AudioTrack, LiveConfig, LivePackager, LiveStream, VideoSample, VideoTrack,
};

fn package(
    video: VideoTrack,
    audio: AudioTrack,
    samples: Vec<Result<VideoSample, AudioSample>>,
) -> (LivePackager, LiveStream) {
    let config = LiveConfig { window_segments: 100, ..LiveConfig::default() };
    let mut packager =
        LivePackager::new(Some(video), Some(audio), config, SystemTime::UNIX_EPOCH).unwrap();
    let stream = packager.stream();
    for sample in samples {
        match sample {
            Ok(video) => packager.push_video(video).unwrap(),
            Err(audio) => packager.push_audio(audio).unwrap(),
        }
    }
    packager.finish();
    (packager, stream)
}

/// Writes the media playlist and every file it names; returns the playlist path and the
/// init + segments concatenated into one file.
async fn write_out(
    stream: &LiveStream,
    dir: &Path,
) -> (String, std::path::PathBuf, std::path::PathBuf) {
    let playlist =
        String::from_utf8(stream.media_playlist(None, None).await.unwrap().to_vec()).unwrap();
    let init = playlist
        .lines()
        .find_map(|l| l.strip_prefix("#EXT-X-MAP:URI=\""))
        .unwrap()
        .trim_end_matches('"');
    let mut names = vec![init.to_owned()];
    names.extend(
        playlist.lines().filter(|l| !l.starts_with('#') && !l.is_empty()).map(str::to_owned),
    );
    let mut concatenated = Vec::new();
    for name in &names {
        let file = stream
            .file(name)
            .await
            .unwrap_or_else(|| panic!("{name} named by the playlist is served"));
        std::fs::write(dir.join(name), &file.bytes).unwrap();
        concatenated.extend_from_slice(&file.bytes);
    }
    let playlist_path = dir.join("media.m3u8");
    std::fs::write(&playlist_path, &playlist).unwrap();
    let concatenated_path = dir.join("all.mp4");
    std::fs::write(&concatenated_path, concatenated).unwrap();
    (playlist, playlist_path, concatenated_path)
}

fn stream_of<'a>(probe: &'a serde_json::Value, kind: &str) -> &'a serde_json::Value {
    probe["streams"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["codec_type"] == kind)
        .unwrap_or_else(|| panic!("no {kind} in {probe}"))
}

fn duration(probe: &serde_json::Value) -> f64 {
    probe["format"]["duration"].as_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn h264_and_aac_play_back_through_the_playlist() {
    let dir = temp_dir("live-aac");
    let source = encode_mp4(&dir, 6, "aac");
    let (video, video_samples) = read_video(&source, &dir);
    let (audio, audio_samples) = read_aac(&source, &dir);
    let frames = video_samples.len();
    let (_packager, stream) =
        package(video, audio, interleave(video_samples, audio_samples, 48_000));
    let (playlist, playlist_path, concatenated) = write_out(&stream, &dir).await;
    assert!(playlist.ends_with("#EXT-X-ENDLIST\n"), "{playlist}");
    assert!(playlist.contains("#EXT-X-PART:"), "{playlist}");

    let probe =
        ffprobe_json(&["-allowed_extensions", "ALL", "-i", playlist_path.to_str().unwrap()]);
    let video = stream_of(&probe, "video");
    assert_eq!(
        (video["codec_name"].as_str(), video["width"].as_u64(), video["height"].as_u64()),
        (Some("h264"), Some(1280), Some(720))
    );
    assert_eq!(stream_of(&probe, "audio")["codec_name"], "aac");
    assert!((duration(&probe) - 6.0).abs() < 0.2, "playlist duration {}", duration(&probe));

    let probe = ffprobe_json(&["-count_frames", "-i", concatenated.to_str().unwrap()]);
    assert!((duration(&probe) - 6.0).abs() < 0.2, "fragmented file duration {}", duration(&probe));
    assert_eq!(
        stream_of(&probe, "video")["nb_read_frames"].as_str(),
        Some(frames.to_string().as_str())
    );
    assert_eq!(stream_of(&probe, "audio")["sample_rate"], "48000");
    let errors = ffprobe_errors(&["-show_frames", "-i", concatenated.to_str().unwrap()]);
    assert!(errors.is_empty(), "decoding reported: {errors}");
}

#[tokio::test]
async fn h264_and_opus_play_back() {
    let dir = temp_dir("live-opus");
    let source = encode_mp4(&dir, 4, "aac");
    let (video, video_samples) = read_video(&source, &dir);
    let ogg = dir.join("audio.ogg");
    run(
        "ffmpeg",
        &[
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:sample_rate=48000",
            "-t",
            "4",
            "-ac",
            "2",
            "-c:a",
            "libopus",
            "-f",
            "ogg",
            ogg.to_str().unwrap(),
        ],
    );
    let (audio, audio_samples) = read_ogg_opus(&ogg);
    assert_eq!(audio, AudioTrack::Opus { channels: 2, pre_skip: 312 });
    let (_packager, stream) =
        package(video, audio, interleave(video_samples, audio_samples, 48_000));
    let (_, playlist_path, concatenated) = write_out(&stream, &dir).await;

    for probe in [
        ffprobe_json(&["-i", concatenated.to_str().unwrap()]),
        ffprobe_json(&["-allowed_extensions", "ALL", "-i", playlist_path.to_str().unwrap()]),
    ] {
        assert_eq!(stream_of(&probe, "audio")["codec_name"], "opus");
        assert_eq!(stream_of(&probe, "audio")["channels"], 2);
        assert_eq!(stream_of(&probe, "video")["codec_name"], "h264");
        assert!((duration(&probe) - 4.0).abs() < 0.2, "duration {}", duration(&probe));
    }
    let errors = ffprobe_errors(&["-show_frames", "-i", concatenated.to_str().unwrap()]);
    assert!(errors.is_empty(), "decoding reported: {errors}");
}

#[tokio::test]
async fn segments_are_cut_at_keyframes_near_the_target() {
    let dir = temp_dir("live-cuts");
    let source = encode_mp4(&dir, 6, "aac");
    let (video, video_samples) = read_video(&source, &dir);
    let (audio, audio_samples) = read_aac(&source, &dir);
    let (_packager, stream) =
        package(video, audio, interleave(video_samples, audio_samples, 48_000));
    let playlist =
        String::from_utf8(stream.media_playlist(None, None).await.unwrap().to_vec()).unwrap();
    let durations: Vec<f64> = playlist
        .lines()
        .filter_map(|l| l.strip_prefix("#EXTINF:"))
        .map(|d| d.trim_end_matches(',').parse().unwrap())
        .collect();
    // 1 s GOPs, 2 s target: 2 + 2 + 2.
    assert_eq!(durations.len(), 3, "{playlist}");
    for d in &durations {
        assert!((d - 2.0).abs() < 0.001, "{playlist}");
    }
    let parts: Vec<&str> = playlist.lines().filter(|l| l.starts_with("#EXT-X-PART:")).collect();
    assert_eq!(parts.len(), 12, "{playlist}");
    assert!(parts.iter().all(|p| p.starts_with("#EXT-X-PART:DURATION=0.50000,")), "{playlist}");
    let independent = parts.iter().filter(|p| p.ends_with(",INDEPENDENT=YES")).count();
    assert_eq!(independent, 6, "a keyframe every second begins every other part: {playlist}");
}
