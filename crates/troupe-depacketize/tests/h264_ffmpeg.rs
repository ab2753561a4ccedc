//! Real H.264 from ffmpeg (libx264), packetized here into RTP at MTU 1200 (single NAL units,
//! STAP-A, FU-A; sequence numbers and timestamps about to wrap), shuffled within the reorder
//! window: the access units that come out are exactly the ones that went in. With one packet
//! dropped, output stops at that picture, one keyframe request comes, and output resumes,
//! exact again, at the next IDR.

use std::process::Command;

use rand::{Rng, SeedableRng, seq::SliceRandom};
use troupe_depacketize::{AccessUnit, H264Depacketizer, H264Output};

const MTU: usize = 1200;
const SSRC: u32 = 0x1234_5678;

fn encode() -> Vec<u8> {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let out =
        std::env::temp_dir().join(format!("troupe-depacketize-{}-{n}.h264", std::process::id()));
    let status = Command::new("ffmpeg")
        .args(["-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30"])
        .args(["-t", "2", "-c:v", "libx264", "-g", "30", "-f", "h264"])
        .arg(&out)
        .status()
        .expect("ffmpeg must be installed (apt-get install -y ffmpeg)");
    assert!(status.success());
    let bytes = std::fs::read(&out).unwrap();
    let _ = std::fs::remove_file(&out);
    bytes
}

/// Annex B byte stream → NAL units.
fn nal_units(stream: &[u8]) -> Vec<&[u8]> {
    let mut starts = Vec::new();
    let mut i = 0;
    while i + 3 <= stream.len() {
        if stream[i..i + 3] == [0, 0, 1] {
            starts.push(i + 3);
            i += 3;
        } else {
            i += 1;
        }
    }
    let mut nals = Vec::new();
    for (n, &start) in starts.iter().enumerate() {
        let mut end = starts.get(n + 1).map_or(stream.len(), |&next| next - 3);
        while end > start && stream[end - 1] == 0 {
            end -= 1; // the zero_byte of a 4-byte start code, trailing zeros
        }
        nals.push(&stream[start..end]);
    }
    nals
}

/// NAL units → access units: a new one starts at an AUD, or at a parameter set / SEI / slice
/// after the previous picture's slice (x264 writes one slice per picture).
fn access_units<'a>(nals: &[&'a [u8]]) -> Vec<Vec<&'a [u8]>> {
    let mut aus: Vec<Vec<&[u8]>> = Vec::new();
    let mut has_slice = false;
    for &nal in nals {
        let t = nal[0] & 0x1f;
        let is_slice = (1..=5).contains(&t);
        if aus.is_empty() || t == 9 || (has_slice && (is_slice || matches!(t, 6..=8))) {
            aus.push(Vec::new());
            has_slice = false;
        }
        has_slice |= is_slice;
        if t != 9 {
            aus.last_mut().unwrap().push(nal);
        }
    }
    aus
}

fn expected(au: &[&[u8]], ts: u64, sps: &[u8], pps: &[u8]) -> AccessUnit {
    let mut avcc = Vec::new();
    for nal in au {
        avcc.extend_from_slice(&(nal.len() as u32).to_be_bytes());
        avcc.extend_from_slice(nal);
    }
    let keyframe = au.iter().any(|n| n[0] & 0x1f == 5);
    AccessUnit {
        rtp_timestamp_ext: ts,
        keyframe,
        avcc: avcc.into(),
        sps: keyframe.then(|| sps.to_vec().into()),
        pps: keyframe.then(|| pps.to_vec().into()),
    }
}

#[derive(Default)]
struct Kinds {
    single: usize,
    stap_a: usize,
    fu_a: usize,
}

fn rtp(seq: u16, ts: u32, marker: bool, payload: &[u8]) -> Vec<u8> {
    let mut p = vec![0x80, 96 | if marker { 0x80 } else { 0 }];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&ts.to_be_bytes());
    p.extend_from_slice(&SSRC.to_be_bytes());
    p.extend_from_slice(payload);
    p
}

/// RFC 6184 packetization-mode 1, as browsers do it: SPS and PPS share a STAP-A, other NAL
/// units go alone when they fit and are cut into FU-As when they do not.
fn packetize(au: &[&[u8]], seq: &mut u16, ts: u32, kinds: &mut Kinds) -> Vec<Vec<u8>> {
    let max = MTU - 12;
    let mut payloads: Vec<Vec<u8>> = Vec::new();
    let mut i = 0;
    while i < au.len() {
        let nal = au[i];
        if nal.len() > max {
            let (header, body) = (nal[0], &nal[1..]);
            let chunks: Vec<_> = body.chunks(max - 2).collect();
            for (n, chunk) in chunks.iter().enumerate() {
                let mut fu_header = header & 0x1f;
                if n == 0 {
                    fu_header |= 0x80;
                }
                if n == chunks.len() - 1 {
                    fu_header |= 0x40;
                }
                let mut p = vec![(header & 0xe0) | 28, fu_header];
                p.extend_from_slice(chunk);
                payloads.push(p);
                kinds.fu_a += 1;
            }
            i += 1;
            continue;
        }
        let parameter_set = |n: &[u8]| matches!(n[0] & 0x1f, 7 | 8);
        let mut group = vec![nal];
        let mut size = 1 + 2 + nal.len();
        while let Some(next) = au.get(i + group.len()) {
            if !parameter_set(nal) || !parameter_set(next) || size + 2 + next.len() > max {
                break;
            }
            size += 2 + next.len();
            group.push(next);
        }
        if group.len() == 1 {
            payloads.push(nal.to_vec());
            kinds.single += 1;
        } else {
            let nri = group.iter().map(|n| n[0] & 0x60).max().unwrap();
            let mut p = vec![nri | 24];
            for n in &group {
                p.extend_from_slice(&(n.len() as u16).to_be_bytes());
                p.extend_from_slice(n);
            }
            payloads.push(p);
            kinds.stap_a += 1;
        }
        i += group.len();
    }
    let last = payloads.len() - 1;
    payloads
        .iter()
        .enumerate()
        .map(|(n, p)| {
            let packet = rtp(*seq, ts, n == last, p);
            *seq = seq.wrapping_add(1);
            packet
        })
        .collect()
}

struct Stream {
    aus: Vec<AccessUnit>,
    /// Per access unit, its packets.
    packets: Vec<Vec<Vec<u8>>>,
}

fn stream() -> Stream {
    let bytes = encode();
    let nals = nal_units(&bytes);
    let groups = access_units(&nals);
    assert_eq!(groups.len(), 60, "2 s at 30 fps");
    let sps = *nals.iter().find(|n| n[0] & 0x1f == 7).unwrap();
    let pps = *nals.iter().find(|n| n[0] & 0x1f == 8).unwrap();
    let first_ts = u32::MAX - 45_000; // wraps after 15 pictures
    let mut seq = 65_500u16; // wraps within the first keyframe
    let mut kinds = Kinds::default();
    let mut aus = Vec::new();
    let mut packets = Vec::new();
    for (i, group) in groups.iter().enumerate() {
        let ts = first_ts.wrapping_add(3000 * i as u32);
        aus.push(expected(group, u64::from(first_ts) + 3000 * i as u64, sps, pps));
        packets.push(packetize(group, &mut seq, ts, &mut kinds));
    }
    assert!(kinds.single > 0 && kinds.stap_a > 0 && kinds.fu_a > 0, "every packet kind");
    let keyframes: Vec<_> =
        aus.iter().enumerate().filter(|(_, a)| a.keyframe).map(|(i, _)| i).collect();
    assert_eq!(keyframes, vec![0, 30]);
    Stream { aus, packets }
}

/// Shuffles within consecutive windows of `window` packets.
fn shuffled(packets: Vec<Vec<u8>>, window: usize, seed: u64) -> Vec<Vec<u8>> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut out = Vec::new();
    for chunk in packets.chunks(window) {
        let mut chunk = chunk.to_vec();
        chunk.shuffle(&mut rng);
        out.extend(chunk);
    }
    // And a duplicate now and then, as networks do.
    let dup = rng.gen_range(0..out.len());
    let copy = out[dup].clone();
    out.insert(dup + 1, copy);
    out
}

fn run(packets: &[Vec<u8>]) -> Vec<H264Output> {
    let mut d = H264Depacketizer::default();
    let mut outputs = Vec::new();
    for p in packets {
        d.push(p).unwrap();
        outputs.extend(std::iter::from_fn(|| d.poll_output()));
    }
    d.flush();
    outputs.extend(std::iter::from_fn(|| d.poll_output()));
    outputs
}

#[test]
fn access_units_come_out_exactly_as_encoded() {
    let s = stream();
    let packets = shuffled(s.packets.concat(), 6, 1);
    let out = run(&packets);
    let expected: Vec<_> = s.aus.iter().cloned().map(H264Output::AccessUnit).collect();
    assert_eq!(out.len(), expected.len());
    for (i, (got, want)) in out.iter().zip(&expected).enumerate() {
        assert!(got == want, "access unit {i} differs");
    }
}

#[test]
fn a_lost_packet_stops_output_until_the_next_idr_and_asks_for_it_once() {
    let s = stream();
    let mut per_au = s.packets.clone();
    // A packet in the middle of picture 10 (a P picture cut into several packets, or the
    // only one).
    let victim = &mut per_au[10];
    let middle = victim.len() / 2;
    victim.remove(middle);
    let packets = shuffled(per_au.concat(), 6, 2);
    let out = run(&packets);

    let mut expected: Vec<_> = s.aus[..10].iter().cloned().map(H264Output::AccessUnit).collect();
    expected.push(H264Output::KeyframeRequest);
    expected.extend(s.aus[30..].iter().cloned().map(H264Output::AccessUnit));
    assert_eq!(out.len(), expected.len(), "{:?}", out.iter().map(kind).collect::<Vec<_>>());
    for (i, (got, want)) in out.iter().zip(&expected).enumerate() {
        assert!(got == want, "output {i} differs: {} vs {}", kind(got), kind(want));
    }
}

fn kind(o: &H264Output) -> String {
    match o {
        H264Output::KeyframeRequest => "PLI".into(),
        H264Output::AccessUnit(au) => {
            format!("AU@{}{}", au.rtp_timestamp_ext, if au.keyframe { "K" } else { "" })
        }
    }
}
