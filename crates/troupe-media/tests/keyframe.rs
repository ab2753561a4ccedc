//! Keyframe request throttling.

use std::time::{Duration, Instant};

use troupe_media::keyframe::KeyframeRequests;

const INTERVAL: Duration = Duration::from_millis(500);

#[test]
fn a_burst_of_requests_costs_two_keyframes_at_most() {
    let mut k = KeyframeRequests::new(INTERVAL);
    let t0 = Instant::now();
    assert!(k.request(t0), "the first goes out at once");
    let sent_now = (1..100).filter(|i| k.request(t0 + Duration::from_millis(*i))).count();
    assert_eq!(sent_now, 0);
    assert_eq!(k.poll_timeout(), Some(t0 + INTERVAL));
    assert!(!k.handle_timeout(t0 + INTERVAL - Duration::from_millis(1)));
    assert!(k.handle_timeout(t0 + INTERVAL), "the remembered request goes out once");
    assert_eq!(k.poll_timeout(), None);
}

#[test]
fn a_keyframe_in_between_satisfies_the_waiting_requests() {
    let mut k = KeyframeRequests::new(INTERVAL);
    let t0 = Instant::now();
    assert!(k.request(t0));
    assert!(!k.request(t0 + Duration::from_millis(10)));
    k.keyframe_received();
    assert_eq!(k.poll_timeout(), None);
    assert!(!k.handle_timeout(t0 + INTERVAL));
    assert!(k.request(t0 + INTERVAL), "a new request after the interval goes out");
}

use troupe_media::keyframe::{VideoCodec, starts_keyframe};

#[test]
fn vp8_keyframes() {
    // S=1, PID=0, no extension; frame header P=0: keyframe start.
    assert!(starts_keyframe(VideoCodec::Vp8, &[0x10, 0x00, 0x9d, 0x01, 0x2a]));
    // Same with P=1: an interframe.
    assert!(!starts_keyframe(VideoCodec::Vp8, &[0x10, 0x01]));
    // Not the start of the partition.
    assert!(!starts_keyframe(VideoCodec::Vp8, &[0x00, 0x00]));
    // Extended: X=1, I=1 with a 2-byte PictureID (M=1), L=1 (TL0PICIDX), T=1 (TID), then P=0.
    assert!(starts_keyframe(VideoCodec::Vp8, &[0x90, 0xE0, 0x80, 0x01, 0x05, 0x20, 0x00]));
    // Truncated descriptors are not keyframes (and do not panic).
    for len in 0..6 {
        assert!(!starts_keyframe(VideoCodec::Vp8, &[0x90, 0xE0, 0x80, 0x01, 0x05, 0x20][..len]));
    }
}

#[test]
fn h264_keyframes() {
    assert!(starts_keyframe(VideoCodec::H264, &[0x65, 0x88])); // IDR
    assert!(starts_keyframe(VideoCodec::H264, &[0x67, 0x42])); // SPS
    assert!(!starts_keyframe(VideoCodec::H264, &[0x41, 0x9a])); // non-IDR slice
    assert!(starts_keyframe(VideoCodec::H264, &[0x78, 0x00, 0x0a, 0x67, 0x42])); // STAP-A with SPS
    assert!(starts_keyframe(VideoCodec::H264, &[0x7c, 0x85, 0x88])); // FU-A start of an IDR
    assert!(!starts_keyframe(VideoCodec::H264, &[0x7c, 0x05, 0x88])); // FU-A middle
    assert!(!starts_keyframe(VideoCodec::H264, &[0x7c, 0x81])); // FU-A start of a non-IDR
    assert!(!starts_keyframe(VideoCodec::H264, &[]));
    assert!(!starts_keyframe(VideoCodec::H264, &[0x78, 0x00]));
}

#[test]
fn random_payloads_never_panic() {
    let mut x = 0x1234_5678_9abc_def0u64;
    for _ in 0..20_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let len = (x % 12) as usize;
        let bytes: Vec<u8> = (0..len).map(|i| (x >> (i * 5)) as u8).collect();
        let _ = starts_keyframe(VideoCodec::Vp8, &bytes);
        let _ = starts_keyframe(VideoCodec::H264, &bytes);
    }
}
