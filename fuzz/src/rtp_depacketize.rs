//! The `rtp_depacketize` harness: what WHIP ingest and recording do with decrypted RTP.
//!
//! Input: a sequence of packets, each `[len: u16 BE][packet]` (a short tail is one last
//! packet). Every packet goes to an H.264 and an Opus depacketizer. Besides "no panic", every
//! access unit must be well-formed AVCC (length prefixes exactly cover it, no AUD, no
//! zero-length NAL unit), a keyframe holds an IDR slice, nothing exceeds the size limits, and
//! Opus frames are never empty.
//!
//! Self-contained on purpose: the smoke tests include this file with `#[path]`.

use troupe_depacketize::{
    H264Depacketizer, H264Output, OpusDepacketizer, ReorderConfig,
    h264::{MAX_ACCESS_UNIT_BYTES, MAX_NAL_UNITS},
};

/// Splits `data` into packets.
pub fn packets(mut data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    while !data.is_empty() {
        if data.len() < 2 {
            out.push(data);
            break;
        }
        let len = usize::from(u16::from_be_bytes([data[0], data[1]]));
        let end = (2 + len).min(data.len());
        out.push(&data[2..end]);
        data = &data[end..];
    }
    out
}

/// Joins packets into one harness input.
pub fn join(packets: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for p in packets {
        out.extend_from_slice(&(p.len() as u16).to_be_bytes());
        out.extend_from_slice(p);
    }
    out
}

/// Runs the input; returns how many access units came out.
pub fn run(data: &[u8]) -> usize {
    // A small window, so that short inputs reach the loss paths.
    let window = ReorderConfig { depth: 4, max_delay_ticks: 3000 };
    let mut h264 = H264Depacketizer::new(window);
    let mut opus = OpusDepacketizer::new(window);
    let mut access_units = 0;
    for packet in packets(data) {
        let _ = h264.push(packet);
        let _ = opus.push(packet);
        access_units += drain(&mut h264, &mut opus);
    }
    h264.flush();
    opus.flush();
    access_units + drain(&mut h264, &mut opus)
}

fn drain(h264: &mut H264Depacketizer, opus: &mut OpusDepacketizer) -> usize {
    let mut n = 0;
    while let Some(out) = h264.poll_output() {
        let H264Output::AccessUnit(au) = out else { continue };
        n += 1;
        assert!(au.avcc.len() <= MAX_ACCESS_UNIT_BYTES);
        let (mut rest, mut nal_units, mut idr) = (&au.avcc[..], 0, false);
        while !rest.is_empty() {
            assert!(rest.len() >= 4, "truncated length prefix");
            let len = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
            assert!(len > 0 && rest.len() >= 4 + len, "bad NAL unit length");
            let nal_type = rest[4] & 0x1f;
            assert_ne!(nal_type, 9, "an AUD was kept");
            idr |= nal_type == 5;
            nal_units += 1;
            rest = &rest[4 + len..];
        }
        assert!(nal_units <= MAX_NAL_UNITS);
        assert_eq!(au.keyframe, idr);
    }
    while let Some(frame) = opus.poll_output() {
        assert!(!frame.data.is_empty());
    }
    n
}

/// Valid inputs: an IDR picture (SPS, PPS in a STAP-A, the slice in FU-As) and a P picture
/// as a single NAL unit, then two Opus packets.
pub fn seeds() -> Vec<Vec<u8>> {
    let rtp = |seq: u16, ts: u32, marker: bool, pt: u8, payload: &[u8]| {
        let mut p = vec![0x80, pt | if marker { 0x80 } else { 0 }];
        p.extend_from_slice(&seq.to_be_bytes());
        p.extend_from_slice(&ts.to_be_bytes());
        p.extend_from_slice(&1u32.to_be_bytes());
        p.extend_from_slice(payload);
        p
    };
    let sps = [0x67, 0x42, 0xc0, 0x1e, 0xd9, 0x00];
    let pps = [0x68, 0xce, 0x3c, 0x80];
    let mut stap = vec![0x78];
    for nal in [&sps[..], &pps[..]] {
        stap.extend_from_slice(&(nal.len() as u16).to_be_bytes());
        stap.extend_from_slice(nal);
    }
    let video = vec![
        rtp(1, 0, false, 96, &stap),
        rtp(2, 0, false, 96, &[0x7c, 0x85, 0x88, 0x84, 0x00]),
        rtp(3, 0, true, 96, &[0x7c, 0x45, 0x21, 0x0f]),
        rtp(4, 3000, true, 96, &[0x41, 0x9a, 0x02, 0x04]),
    ];
    let audio = vec![
        rtp(10, 960, false, 111, &[0xfc, 0xff, 0xfe]),
        rtp(11, 1920, false, 111, &[0xfc, 0x01]),
    ];
    vec![join(&video), join(&audio)]
}

/// Words worth splicing in: FU-A start/end headers, a STAP-A header, padding and extension
/// bits.
pub const DICTIONARY: &[&[u8]] = &[
    &[0x7c, 0x85],
    &[0x7c, 0x45],
    &[0x78, 0x00, 0x06],
    &[0xb0, 0x60],
    &[0x90, 0xe0],
    &[0xbe, 0xde, 0x00, 0x01],
];
