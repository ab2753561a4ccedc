//! Real ffmpeg publishing to a loopback listener that drives a `ServerSession`, as the server's
//! RTMP listener will: the protocol as ffmpeg speaks it, not as this crate's tests imagine it.

use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::process::Command;
use troupe_rtmp::{Event, RtmpError, ServerSession, SessionConfig};

const KEY: &str = "sk_us-west-2_ffmpegTest";

struct Outcome {
    events: Vec<Event>,
    error: Option<RtmpError>,
    ffmpeg: ExitStatus,
    stderr: String,
}

fn require_ffmpeg() {
    let found = std::process::Command::new("ffmpeg").arg("-version").stdout(Stdio::null()).status();
    assert!(
        found.is_ok_and(|s| s.success()),
        "ffmpeg is not installed; install it (apt-get install -y ffmpeg) to run these tests"
    );
}

/// Runs ffmpeg with `video_codec` publishing to a listener that accepts the key if `accept`.
async fn ingest(video_codec: &[&str], accept: bool) -> Outcome {
    require_ffmpeg();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("rtmp://127.0.0.1:{}/app/{KEY}", listener.local_addr().unwrap().port());
    let mut args = vec!["-hide_banner", "-loglevel", "error", "-re"];
    args.extend(["-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30"]);
    args.extend(["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"]);
    args.extend(video_codec);
    args.extend(["-c:a", "aac", "-b:a", "128k", "-t", "3", "-f", "flv", &url]);
    let ffmpeg = Command::new("ffmpeg")
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();

    let (mut socket, _) =
        tokio::time::timeout(Duration::from_secs(20), listener.accept()).await.unwrap().unwrap();
    let mut session = ServerSession::new(SessionConfig::default());
    let mut events = Vec::new();
    let mut error = None;
    let mut buf = vec![0u8; 64 * 1024];
    let serve = async {
        loop {
            let n = socket.read(&mut buf).await.unwrap_or(0);
            if n == 0 {
                break;
            }
            let result = session.receive(&buf[..n]);
            while let Some(event) = session.poll_event() {
                if matches!(&event, Event::PublishRequested { stream_key, .. } if stream_key == KEY)
                    && accept
                {
                    session.accept_publish();
                } else if matches!(event, Event::PublishRequested { .. }) {
                    session.reject_publish("stream key not found");
                }
                events.push(event);
            }
            let output = session.take_output();
            if socket.write_all(&output).await.is_err() {
                break;
            }
            if let Err(e) = result {
                error = Some(e);
                break;
            }
            if events.iter().any(|e| matches!(e, Event::PublishRequested { .. })) && !accept {
                break;
            }
        }
        let _ = socket.shutdown().await;
        drop(socket);
    };
    tokio::time::timeout(Duration::from_secs(30), serve)
        .await
        .expect("the session ended within 30 s");
    let output = tokio::time::timeout(Duration::from_secs(20), ffmpeg.wait_with_output())
        .await
        .expect("ffmpeg exited within 20 s of the connection closing")
        .unwrap();
    Outcome {
        events,
        error,
        ffmpeg: output.status,
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn is_media(e: &Event) -> bool {
    matches!(
        e,
        Event::Video { .. }
            | Event::Audio { .. }
            | Event::VideoConfig { .. }
            | Event::AudioConfig { .. }
    )
}

#[tokio::test]
async fn ffmpeg_publishes_h264_and_aac() {
    let h264 = ["-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-g", "30"];
    let out = ingest(&h264, true).await;
    assert_eq!(out.error, None, "ffmpeg said: {}", out.stderr);
    assert!(out.ffmpeg.success(), "ffmpeg failed: {}", out.stderr);

    let Event::PublishRequested { app, stream_key, tc_url } = &out.events[0] else {
        panic!("first event {:?}", out.events[0]);
    };
    assert_eq!((app.as_str(), stream_key.as_str()), ("app", KEY));
    assert!(tc_url.as_deref().is_some_and(|u| u.starts_with("rtmp://127.0.0.1:")), "{tc_url:?}");

    let metadata = out.events.iter().find_map(|e| match e {
        Event::Metadata(m) => Some(m),
        _ => None,
    });
    let metadata = metadata.expect("metadata");
    assert_eq!(
        (metadata.width, metadata.height, metadata.framerate),
        (Some(1280.0), Some(720.0), Some(30.0))
    );
    assert!(metadata.encoder.as_deref().is_some_and(|e| e.starts_with("Lavf")), "{metadata:?}");

    let config = out
        .events
        .iter()
        .position(|e| matches!(e, Event::VideoConfig { .. }))
        .expect("VideoConfig");
    let Event::VideoConfig { avc_decoder_configuration: record } = &out.events[config] else {
        unreachable!()
    };
    assert_eq!(record[0], 1, "AVCDecoderConfigurationRecord version");
    let frames: Vec<(u64, i32, bool, usize)> = out
        .events
        .iter()
        .enumerate()
        .filter_map(|(i, e)| match e {
            Event::Video { dts_ms, cts_ms, keyframe, data } => {
                assert!(i > config, "a frame before the VideoConfig");
                Some((*dts_ms, *cts_ms, *keyframe, data.len()))
            }
            _ => None,
        })
        .collect();
    assert!(frames.len() >= 80, "only {} video frames", frames.len());
    for (i, (_, _, keyframe, len)) in frames.iter().enumerate() {
        assert_eq!(*keyframe, i % 30 == 0, "frame {i}: keyframe {keyframe}");
        assert!(*len > 4);
    }
    assert!(frames.windows(2).all(|w| w[0].0 <= w[1].0), "dts not monotonic: {frames:?}");
    let span = frames.last().unwrap().0 - frames[0].0;
    assert!((2500..=3100).contains(&span), "video spans {span} ms");

    assert!(out.events.iter().any(|e| matches!(e, Event::AudioConfig { audio_specific_config } if audio_specific_config.len() >= 2)));
    let audio = out
        .events
        .iter()
        .filter(|e| matches!(e, Event::Audio { data, .. } if !data.is_empty()))
        .count();
    assert!(audio >= 100, "only {audio} audio frames");
    eprintln!("{} video frames over {span} ms, {audio} audio frames", frames.len());
    assert_eq!(out.events.last(), Some(&Event::Unpublished));
}

#[tokio::test]
async fn a_rejected_key_makes_ffmpeg_fail_before_any_media() {
    let h264 = ["-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-g", "30"];
    let out = ingest(&h264, false).await;
    assert_eq!(out.error, None);
    assert!(!out.ffmpeg.success(), "ffmpeg succeeded against a rejected key");
    // ffmpeg read the onStatus error and logs its description.
    assert!(out.stderr.contains("stream key not found"), "ffmpeg said: {}", out.stderr);
    assert!(matches!(out.events[0], Event::PublishRequested { .. }));
    assert!(!out.events.iter().any(is_media), "{:?}", out.events);
}

#[tokio::test]
async fn sorenson_video_is_refused_by_name() {
    let out = ingest(&["-c:v", "flv1"], true).await;
    let Some(RtmpError::UnsupportedVideoCodec(name)) = &out.error else {
        panic!("expected UnsupportedVideoCodec, got {:?}; ffmpeg said {}", out.error, out.stderr);
    };
    assert!(name.contains("Sorenson H.263"), "{name}");
    assert!(
        !out.events.iter().any(|e| matches!(e, Event::Video { .. } | Event::VideoConfig { .. }))
    );
}
