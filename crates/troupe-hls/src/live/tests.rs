//! Playlist rendering, window sliding and blocking requests, on synthetic samples and tokio's
//! paused clock.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;

use super::*;

/// A 320×240 Baseline-ish SPS and PPS libx264 wrote (High profile 0x64, level 1.3, 30 fps VUI).
const SPS: &str = "6764000dacb20283f60220000003002000000781e28549";
const PPS: &str = "68ebc3cb22c0";

fn hex(text: &str) -> Vec<u8> {
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap()).collect()
}

fn video_track() -> VideoTrack {
    VideoTrack::from_parameter_sets(&hex(SPS), &hex(PPS)).unwrap()
}

fn aac() -> AudioTrack {
    AudioTrack::Aac { audio_specific_config: Bytes::from_static(&[0x11, 0x90]) } // LC 48 kHz stereo
}

const START: Duration = Duration::from_secs(1_700_000_000);

fn packager(window_segments: usize) -> LivePackager {
    let config = LiveConfig { window_segments, ..LiveConfig::default() };
    LivePackager::new(Some(video_track()), Some(aac()), config, UNIX_EPOCH + START).unwrap()
}

/// Pushes 30 fps video (a keyframe each second) and 48 kHz AAC from frame `from` to `to`.
fn feed(packager: &mut LivePackager, from: u64, to: u64) {
    for frame in from..to {
        let dts = frame * 3000;
        let data =
            Bytes::from(vec![0, 0, 0, 2, if frame % 30 == 0 { 0x65 } else { 0x41 }, frame as u8]);
        packager.push_video(VideoSample { dts, cts: 0, keyframe: frame % 30 == 0, data }).unwrap();
        let audio_end = (frame + 1) * 1600; // 48 kHz ticks up to the next frame
        let mut pts = (frame * 1600).div_ceil(1024) * 1024;
        while pts < audio_end {
            packager
                .push_audio(AudioSample { pts, data: Bytes::from_static(&[0x21, 0x10, 0x04]) })
                .unwrap();
            pts += 1024;
        }
    }
}

fn text(bytes: &Bytes) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

async fn playlist(stream: &LiveStream) -> String {
    text(&stream.media_playlist(None, None).await.unwrap())
}

#[tokio::test]
async fn the_playlist_has_the_low_latency_tags() {
    let mut packager = packager(8);
    let stream = packager.stream();
    feed(&mut packager, 0, 76); // 2.5 s: one segment, one part of the next, a sample held
    let playlist = playlist(&stream).await;
    let token = format!("{:x}", START.as_millis());
    for tag in [
        "#EXTM3U\n#EXT-X-VERSION:9\n",
        "#EXT-X-TARGETDURATION:2\n",
        "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.500\n",
        "#EXT-X-PART-INF:PART-TARGET=0.500\n",
        "#EXT-X-MEDIA-SEQUENCE:0\n",
        &format!("#EXT-X-MAP:URI=\"{token}-init.mp4\"\n"),
        "#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:20.000Z\n",
        &format!("#EXT-X-PART:DURATION=0.50000,URI=\"{token}-0.0.m4s\",INDEPENDENT=YES\n"),
        &format!("#EXT-X-PART:DURATION=0.50000,URI=\"{token}-0.1.m4s\"\n"),
        &format!("#EXTINF:2.00000,\n{token}-0.m4s\n"),
        "#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:22.000Z\n",
        &format!("#EXT-X-PART:DURATION=0.50000,URI=\"{token}-1.0.m4s\",INDEPENDENT=YES\n"),
        &format!("#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"{token}-1.1.m4s\"\n"),
    ] {
        assert!(playlist.contains(tag), "missing {tag:?} in\n{playlist}");
    }
    assert!(!playlist.contains("ENDLIST"));
    assert_eq!(playlist.matches("#EXT-X-PART:").count(), 5);

    packager.finish();
    let playlist = self::playlist(&stream).await;
    assert!(playlist.ends_with(&format!("{token}-1.m4s\n#EXT-X-ENDLIST\n")), "{playlist}");
    assert!(!playlist.contains("PRELOAD-HINT"));
    assert!(stream.ended());
}

#[tokio::test]
async fn requests_share_one_rendering() {
    let mut packager = packager(8);
    let stream = packager.stream();
    feed(&mut packager, 0, 20);
    let (a, b) = (
        stream.media_playlist(None, None).await.unwrap(),
        stream.media_playlist(None, None).await.unwrap(),
    );
    assert_eq!(a.as_ptr(), b.as_ptr());
    let (a, b) = (stream.multivariant().unwrap(), stream.clone().multivariant().unwrap());
    assert_eq!(a.as_ptr(), b.as_ptr());
}

#[tokio::test]
async fn the_multivariant_playlist_describes_the_variant_once_media_exists() {
    let mut packager = packager(8);
    let stream = packager.stream();
    assert_eq!(stream.multivariant(), None);
    feed(&mut packager, 0, 16);
    let multivariant = text(&stream.multivariant().unwrap());
    assert!(multivariant.starts_with("#EXTM3U\n"), "{multivariant}");
    assert!(
        multivariant.contains(
            ",CODECS=\"avc1.64000d,mp4a.40.2\",RESOLUTION=320x240,FRAME-RATE=30.000\nmedia.m3u8\n"
        ),
        "{multivariant}"
    );
    let bandwidth: u64 = multivariant
        .split("BANDWIDTH=")
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(bandwidth > 0);
}

#[tokio::test]
async fn the_window_slides_and_old_files_go() {
    let mut packager = packager(2);
    let stream = packager.stream();
    feed(&mut packager, 0, 301); // 10 s: segments 0–4 complete
    let playlist = playlist(&stream).await;
    assert!(playlist.contains("#EXT-X-MEDIA-SEQUENCE:3\n"), "{playlist}");
    assert_eq!(playlist.matches("#EXTINF:").count(), 2);
    assert!(playlist.contains("#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:26.000Z\n"), "{playlist}");
    let names = Names::new(UNIX_EPOCH + START);
    assert_eq!(stream.file(&names.segment(2)).await, None);
    assert_eq!(stream.file(&names.part(2, 0)).await, None);
    let segment = stream.file(&names.segment(4)).await.unwrap();
    assert!(segment.immutable);
    assert_eq!(segment.content_type, "video/mp4");
    // A segment is its parts end to end.
    let mut joined = Vec::new();
    for index in 0..4 {
        joined.extend_from_slice(&stream.file(&names.part(4, index)).await.unwrap().bytes);
    }
    assert_eq!(joined, segment.bytes);
    assert_eq!(stream.file("another-4.m4s").await, None);
}

#[tokio::test]
async fn parts_older_than_three_target_durations_leave_the_playlist() {
    let mut packager = packager(8);
    let stream = packager.stream();
    feed(&mut packager, 0, 301);
    let playlist = playlist(&stream).await;
    let names = Names::new(UNIX_EPOCH + START);
    assert!(!playlist.contains(&names.part(1, 0)), "{playlist}");
    assert!(playlist.contains(&names.part(2, 0)), "{playlist}");
    assert!(playlist.contains(&names.segment(1)), "{playlist}");
}

#[tokio::test(start_paused = true)]
async fn a_blocking_reload_returns_when_the_part_arrives() {
    let mut packager = packager(8);
    let stream = packager.stream();
    feed(&mut packager, 0, 16); // part 0.0 done
    let waiting = tokio::spawn({
        let stream = stream.clone();
        async move { stream.media_playlist(Some(0), Some(1)).await }
    });
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    assert!(!waiting.is_finished());
    feed(&mut packager, 16, 31);
    let playlist = text(&waiting.await.unwrap().unwrap());
    assert!(playlist.contains(&Names::new(UNIX_EPOCH + START).part(0, 1)), "{playlist}");
}

#[tokio::test(start_paused = true)]
async fn a_blocking_reload_times_out_without_media() {
    let mut packager = packager(8);
    let stream = packager.stream();
    feed(&mut packager, 0, 16);
    let started = tokio::time::Instant::now();
    assert_eq!(
        stream.media_playlist(Some(0), Some(1)).await,
        Err(PlaylistError::Timeout { msn: 0, part: Some(1) })
    );
    assert_eq!(started.elapsed(), Duration::from_secs(6), "three target durations");
    // Already there: answered at once.
    assert!(stream.media_playlist(Some(0), Some(0)).await.is_ok());
    drop(packager);
}

#[tokio::test(start_paused = true)]
async fn requests_too_far_ahead_are_refused() {
    let mut packager = packager(8);
    let stream = packager.stream();
    feed(&mut packager, 0, 16);
    assert_eq!(
        stream.media_playlist(Some(2), None).await,
        Err(PlaylistError::TooFarAhead { requested: 2, last: -1 })
    );
    assert_eq!(stream.media_playlist(None, Some(1)).await, Err(PlaylistError::PartWithoutMsn));
}

#[tokio::test(start_paused = true)]
async fn the_preload_hint_part_is_served_when_complete() {
    let mut packager = packager(8);
    let stream = packager.stream();
    feed(&mut packager, 0, 16);
    let hint = Names::new(UNIX_EPOCH + START).part(0, 1);
    assert!(playlist(&stream).await.contains(&format!("PRELOAD-HINT:TYPE=PART,URI=\"{hint}\"")));
    let waiting = tokio::spawn({
        let stream = stream.clone();
        async move { stream.file(&hint).await }
    });
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    assert!(!waiting.is_finished());
    feed(&mut packager, 16, 31);
    let file = waiting.await.unwrap().unwrap();
    let moof = crate::fmp4::find_box(&file.bytes, &[b"moof", b"mfhd"]).unwrap().unwrap();
    assert_eq!(&moof.payload[4..8], &2u32.to_be_bytes(), "the second fragment");
    // A part beyond the hint is not waited for.
    assert_eq!(stream.file(&Names::new(UNIX_EPOCH + START).part(0, 3)).await, None);
}

#[tokio::test(start_paused = true)]
async fn finishing_releases_blocked_requests() {
    let mut packager = packager(8);
    let stream = packager.stream();
    feed(&mut packager, 0, 16);
    let waiting = tokio::spawn({
        let stream = stream.clone();
        async move { stream.media_playlist(Some(1), None).await }
    });
    tokio::task::yield_now().await;
    drop(packager);
    let playlist = text(&waiting.await.unwrap().unwrap());
    assert!(playlist.ends_with("#EXT-X-ENDLIST\n"), "{playlist}");
}

#[tokio::test]
async fn audio_only_streams_cut_by_audio_time() {
    let config = LiveConfig::default();
    let mut packager =
        LivePackager::new(None, Some(aac()), config, SystemTime::UNIX_EPOCH).unwrap();
    let stream = packager.stream();
    for frame in 0..300u64 {
        packager
            .push_audio(AudioSample { pts: frame * 1024, data: Bytes::from_static(&[1, 2, 3]) })
            .unwrap();
    }
    packager.finish();
    let playlist = playlist(&stream).await;
    let parts: Vec<f64> = playlist
        .lines()
        .filter_map(|l| l.strip_prefix("#EXT-X-PART:DURATION="))
        .map(|l| l.split(',').next().unwrap().parse().unwrap())
        .collect();
    assert!(parts.iter().all(|&d| d <= 0.5), "{playlist}");
    assert!(
        playlist
            .lines()
            .filter(|l| l.starts_with("#EXT-X-PART:"))
            .all(|l| l.ends_with("INDEPENDENT=YES"))
    );
    let segments: Vec<f64> = playlist
        .lines()
        .filter_map(|l| l.strip_prefix("#EXTINF:"))
        .map(|l| l.trim_end_matches(',').parse().unwrap())
        .collect();
    assert!(segments[..segments.len() - 1].iter().all(|&d| (2.0..2.1).contains(&d)), "{playlist}");
    assert!((segments.iter().sum::<f64>() - 300.0 * 1024.0 / 48_000.0).abs() < 1e-3);
    let init = stream.file(&Names::new(SystemTime::UNIX_EPOCH).init()).await.unwrap();
    assert_eq!(init.content_type, "audio/mp4");
}

#[test]
fn bad_samples_and_configs_are_refused() {
    let mut packager = packager(8);
    let frame = |dts, keyframe| VideoSample {
        dts,
        cts: 0,
        keyframe,
        data: Bytes::from_static(&[0, 0, 0, 1, 0x65]),
    };
    // Before the first keyframe nothing can be decoded: dropped, not an error.
    packager.push_video(frame(0, false)).unwrap();
    packager.push_video(frame(3000, true)).unwrap();
    assert_eq!(
        packager.push_video(frame(3000, false)),
        Err(SampleError::NotIncreasing { track: "video", previous: 3000, time: 3000 })
    );
    assert_eq!(
        packager.push_video(VideoSample { data: Bytes::new(), ..frame(6000, false) }),
        Err(SampleError::Empty("video"))
    );
    packager.finish();
    assert_eq!(packager.push_video(frame(9000, false)), Err(SampleError::Finished));

    let mut audio_only =
        LivePackager::new(None, Some(aac()), LiveConfig::default(), UNIX_EPOCH).unwrap();
    assert_eq!(audio_only.push_video(frame(0, true)), Err(SampleError::NoSuchTrack("video")));
    let bad = LiveConfig { part_target: Duration::from_secs(3), ..LiveConfig::default() };
    assert!(matches!(
        LivePackager::new(None, Some(aac()), bad, UNIX_EPOCH),
        Err(TrackError::Config(_))
    ));
    assert!(matches!(
        LivePackager::new(None, None, LiveConfig::default(), UNIX_EPOCH),
        Err(TrackError::NoTracks)
    ));
}
