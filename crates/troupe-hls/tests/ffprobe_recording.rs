//! Recording output (VOD HLS with fMP4 segments, a reconnect in the middle) read by ffprobe.

mod common;

use std::time::Duration;

use common::*;
use troupe_hls::{AudioSample, RecordingOutput, RecordingSegmenter, VideoSample};

fn push_all(
    segmenter: &mut RecordingSegmenter,
    samples: Vec<Result<VideoSample, AudioSample>>,
    outputs: &mut Vec<RecordingOutput>,
) {
    for sample in samples {
        let produced = match sample {
            Ok(video) => segmenter.push_video(video).unwrap(),
            Err(audio) => segmenter.push_audio(audio).unwrap(),
        };
        outputs.extend(produced);
    }
}

#[test]
fn a_recording_with_a_reconnect_plays_as_vod() {
    let dir = temp_dir("recording");
    let source = encode_mp4(&dir, 6, "aac");
    let (video, video_samples) = read_video(&source, &dir);
    let (audio, audio_samples) = read_aac(&source, &dir);

    // The publisher drops at 3 s (a keyframe) and comes back with its clock restarted.
    let split_video = video_samples.iter().position(|s| s.keyframe && s.dts >= 270_000).unwrap();
    let split_dts = video_samples[split_video].dts;
    let split_audio =
        audio_samples.iter().position(|s| s.pts * 90_000 / 48_000 >= split_dts).unwrap();
    let split_pts = audio_samples[split_audio].pts;
    let (first_video, mut second_video) =
        (video_samples[..split_video].to_vec(), video_samples[split_video..].to_vec());
    let (first_audio, mut second_audio) =
        (audio_samples[..split_audio].to_vec(), audio_samples[split_audio..].to_vec());
    second_video.iter_mut().for_each(|s| s.dts -= split_dts);
    second_audio.iter_mut().for_each(|s| s.pts -= split_pts);

    let mut segmenter =
        RecordingSegmenter::new(Some(video.clone()), Some(audio.clone()), Duration::from_secs(2))
            .unwrap();
    let mut outputs = Vec::new();
    push_all(&mut segmenter, interleave(first_video, first_audio, 48_000), &mut outputs);
    let recording = segmenter.playlist(false);
    assert!(
        recording.contains("#EXT-X-PLAYLIST-TYPE:EVENT\n") && !recording.contains("ENDLIST"),
        "{recording}"
    );
    outputs.extend(segmenter.discontinuity(Some(video), Some(audio)).unwrap());
    push_all(&mut segmenter, interleave(second_video, second_audio, 48_000), &mut outputs);
    outputs.extend(segmenter.finish());

    let mut names = Vec::new();
    for output in &outputs {
        let (name, bytes) = match output {
            RecordingOutput::Init { name, bytes } => (name, bytes),
            RecordingOutput::Segment { name, bytes, .. } => (name, bytes),
        };
        std::fs::write(dir.join(name), bytes).unwrap();
        names.push(name.as_str());
    }
    assert_eq!(names, ["init-0.mp4", "0.mp4", "1.mp4", "init-1.mp4", "2.mp4", "3.mp4"]);
    let playlist = segmenter.playlist(true);
    assert!(
        playlist.contains("#EXT-X-PLAYLIST-TYPE:VOD\n") && playlist.ends_with("#EXT-X-ENDLIST\n"),
        "{playlist}"
    );
    assert!(
        playlist.contains(
            "1.mp4\n#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI=\"init-1.mp4\"\n#EXTINF:2.00000,\n2.mp4\n"
        ),
        "{playlist}"
    );
    let path = dir.join("playlist.m3u8");
    std::fs::write(&path, &playlist).unwrap();

    let probe = ffprobe_json(&["-allowed_extensions", "ALL", "-i", path.to_str().unwrap()]);
    let streams = probe["streams"].as_array().unwrap();
    let video = streams.iter().find(|s| s["codec_type"] == "video").unwrap();
    assert_eq!(
        (video["codec_name"].as_str(), video["width"].as_u64(), video["height"].as_u64()),
        (Some("h264"), Some(1280), Some(720))
    );
    assert!(streams.iter().any(|s| s["codec_name"] == "aac"));
    let duration: f64 = probe["format"]["duration"].as_str().unwrap().parse().unwrap();
    assert!((duration - 6.0).abs() < 0.2, "duration {duration}");

    // Each period on its own is a complete fragmented MP4 of its 3 s.
    let mut period = std::fs::read(dir.join("init-1.mp4")).unwrap();
    period.extend(std::fs::read(dir.join("2.mp4")).unwrap());
    period.extend(std::fs::read(dir.join("3.mp4")).unwrap());
    let period_path = dir.join("period.mp4");
    std::fs::write(&period_path, period).unwrap();
    let probe = ffprobe_json(&["-i", period_path.to_str().unwrap()]);
    let duration: f64 = probe["format"]["duration"].as_str().unwrap().parse().unwrap();
    assert!((duration - 3.0).abs() < 0.2, "second period {duration}");
    let errors = ffprobe_errors(&["-show_frames", "-i", period_path.to_str().unwrap()]);
    assert!(errors.is_empty(), "decoding reported: {errors}");
}
