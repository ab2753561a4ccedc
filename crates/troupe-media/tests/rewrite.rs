//! RTP rewriting across source changes, wrap-around, reordering and loss.

use std::time::{Duration, Instant};

use troupe_media::rewrite::{Decision, DropReason, Incoming, RtpRewriter};

fn packet(source: u64, sequence: u16, timestamp: u32, keyframe_start: bool) -> Incoming {
    Incoming { source, sequence, timestamp, keyframe_start }
}

fn forwarded(d: Decision) -> (u16, u32) {
    match d {
        Decision::Forward { sequence, timestamp } => (sequence, timestamp),
        Decision::Drop(r) => panic!("dropped: {r:?}"),
    }
}

#[test]
fn one_source_passes_through_with_its_gaps_and_order() {
    let mut r = RtpRewriter::new(48_000, false);
    let t0 = Instant::now();
    assert_eq!(forwarded(r.rewrite(packet(1, 100, 5000, true), t0)), (100, 5000));
    assert_eq!(forwarded(r.rewrite(packet(1, 102, 5960, true), t0)), (102, 5960), "loss kept");
    assert_eq!(forwarded(r.rewrite(packet(1, 101, 5480, true), t0)), (101, 5480), "late kept");
    // Slightly before the first packet: it has no place in the output.
    assert_eq!(r.rewrite(packet(1, 99, 4520, true), t0), Decision::Drop(DropReason::BeforeSwitch));
}

#[test]
fn sequence_numbers_wrap() {
    let mut r = RtpRewriter::new(90_000, true);
    let t0 = Instant::now();
    let mut expected = 65_530u16;
    forwarded(r.rewrite(packet(7, 65_530, 0, true), t0));
    for i in 1..20u16 {
        expected = expected.wrapping_add(1);
        let (seq, _) = forwarded(
            r.rewrite(packet(7, 65_530u16.wrapping_add(i), 3000 * u32::from(i), false), t0),
        );
        assert_eq!(seq, expected);
    }
    // A retransmission from before the wrap still maps consistently.
    assert_eq!(forwarded(r.rewrite(packet(7, 65_534, 12_000, false), t0)).0, 65_534);
}

#[test]
fn a_new_source_continues_the_output() {
    let mut r = RtpRewriter::new(90_000, true);
    let t0 = Instant::now();
    for i in 0..10u16 {
        forwarded(r.rewrite(
            packet(1, 1000 + i, 90_000 + 3000 * u32::from(i), i == 0),
            t0 + Duration::from_millis(33 * u64::from(i)),
        ));
    }
    let last_at = t0 + Duration::from_millis(33 * 9);
    // The publisher republished: new SSRC, unrelated bases. Delta frames wait for a keyframe.
    let later = last_at + Duration::from_millis(500);
    assert_eq!(
        r.rewrite(packet(2, 40_000, 7, false), later),
        Decision::Drop(DropReason::WaitingForKeyframe)
    );
    let (seq, ts) = forwarded(r.rewrite(packet(2, 40_001, 3007, true), later));
    assert_eq!(seq, 1010, "sequence goes on by one");
    let expected_ts = 90_000 + 3000 * 9 + 45_000; // 500 ms at 90 kHz after the last timestamp
    assert_eq!(ts, expected_ts);
    let (seq, ts2) = forwarded(r.rewrite(packet(2, 40_002, 6007, false), later));
    assert_eq!((seq, ts2), (1011, expected_ts + 3000));
    // Stray packets of the old source now count as another switch, which video refuses
    // without a keyframe; the new source keeps flowing.
    assert_eq!(
        r.rewrite(packet(1, 1010, 120_000, false), later),
        Decision::Drop(DropReason::WaitingForKeyframe)
    );
    assert_eq!(forwarded(r.rewrite(packet(2, 40_003, 9007, false), later)).0, 1012);
}

#[test]
fn audio_switches_at_once_without_overlapping_the_last_frame() {
    let mut r = RtpRewriter::new(48_000, false);
    let t0 = Instant::now();
    forwarded(r.rewrite(packet(1, 10, 960, true), t0));
    forwarded(r.rewrite(packet(1, 11, 1920, true), t0 + Duration::from_millis(20)));
    // Only 5 ms later: the new source's first frame still starts a whole frame (960) later.
    let (seq, ts) =
        forwarded(r.rewrite(packet(9, 5, 123_456, true), t0 + Duration::from_millis(25)));
    assert_eq!((seq, ts), (12, 1920 + 960));
}

#[test]
fn a_republish_reusing_its_ssrc_is_told_apart_by_source_id() {
    let mut r = RtpRewriter::new(48_000, false);
    let t0 = Instant::now();
    for i in 0..5u16 {
        forwarded(r.rewrite(packet(1, 1000 + i, 960 * u32::from(i), true), t0));
    }
    // A new session (new source id) whose sequence base is just behind the old one: told by
    // sequence numbers alone it would look like reordering and be dropped.
    let (seq, _) = forwarded(r.rewrite(packet(2, 990, 77, true), t0 + Duration::from_millis(20)));
    assert_eq!(seq, 1005);
}

#[test]
fn a_jump_within_one_source_is_a_restart_that_keeps_the_output_continuous() {
    let mut r = RtpRewriter::new(48_000, false);
    let t0 = Instant::now();
    forwarded(r.rewrite(packet(1, 100, 0, true), t0));
    forwarded(r.rewrite(packet(1, 101, 960, true), t0));
    let (seq, _) = forwarded(r.rewrite(packet(1, 30_000, 5, true), t0 + Duration::from_millis(20)));
    assert_eq!(seq, 102, "no jump of 30,000 in the output");
    let (seq, _) =
        forwarded(r.rewrite(packet(1, 30_001, 965, true), t0 + Duration::from_millis(40)));
    assert_eq!(seq, 103);
}

#[test]
fn switches_in_quick_succession_never_repeat_a_sequence_number() {
    let mut r = RtpRewriter::new(48_000, false);
    let t0 = Instant::now();
    let mut seen = std::collections::BTreeSet::new();
    let mut at = t0;
    for source in 0..50u32 {
        for i in 0..20u16 {
            at += Duration::from_millis(20);
            let (seq, _) = forwarded(r.rewrite(
                packet(
                    u64::from(source),
                    (source as u16).wrapping_mul(977).wrapping_add(i),
                    source.wrapping_mul(7919) + 960 * u32::from(i),
                    true,
                ),
                at,
            ));
            assert!(seen.insert(seq), "sequence {seq} sent twice");
        }
    }
}
