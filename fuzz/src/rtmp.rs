//! The `rtmp_session` harness: the bytes an RTMP ingest connection receives.
//!
//! Input: byte 0 is the mode, the rest the connection's bytes. Bit 0 of the mode: the
//! listener accepts the publish (1) or rejects the key (0). Bit 1: the harness sends a valid
//! handshake, connect, createStream and publish first, so that mutations reach media
//! parsing (1), or the bytes start at C0 (0). Bits 2–7: the rest is fed in reads of that
//! many bytes plus one, to exercise reassembly across splits.
//!
//! Oracle beyond "no panic": a rejected key yields no media event and no metadata, and an
//! error is final (the next `receive` says the session failed).
//!
//! Self-contained on purpose: the smoke tests include this file with `#[path]`.

use troupe_rtmp::client::Publisher;
use troupe_rtmp::{Event, RtmpError, ServerSession, SessionConfig};

/// Feeds `data` to a session as described above. Returns how many media events it produced.
pub fn run(data: &[u8]) -> usize {
    let Some((&mode, rest)) = data.split_first() else { return 0 };
    let accept = mode & 1 == 1;
    let read_size = usize::from(mode >> 2) + 1;
    // Small limits, so that the fuzzer reaches them.
    let config = SessionConfig {
        max_message_size: 1 << 16,
        max_buffered_bytes: 1 << 17,
        ..SessionConfig::default()
    };
    let mut session = ServerSession::new(config);
    let mut media = 0;
    let prefix = if mode & 2 == 2 {
        Publisher::default().handshake().connect("app").publish("key").take()
    } else {
        vec![]
    };
    for part in prefix.chunks(read_size.max(64)).chain(rest.chunks(read_size)) {
        let result = session.receive(part);
        while let Some(event) = session.poll_event() {
            match event {
                Event::PublishRequested { .. } if accept => session.accept_publish(),
                Event::PublishRequested { .. } => session.reject_publish("rejected by the harness"),
                Event::Unpublished => {}
                other => {
                    assert!(accept, "{other:?} after the key was rejected");
                    media += 1;
                }
            }
        }
        let _ = session.take_output();
        if result.is_err() {
            assert_eq!(session.receive(&[]), Err(RtmpError::AlreadyFailed));
            break;
        }
    }
    media
}

/// A publish with every kind of message, in each mode that reaches media.
pub fn seeds() -> Vec<Vec<u8>> {
    let mut media = Publisher::default();
    media
        .set_chunk_size(300)
        .metadata(1280.0, 720.0, 30.0)
        .video_config()
        .audio_config()
        .video_frame(0, true, 66, &[b"\x67sps", b"\x68pps", &[0x65; 400]])
        .audio_frame(21, &[0x21; 40])
        .video_frame(0xFF_FFFF, false, -33, &[&[0x41; 200]])
        .audio_frame(0xFFFF_FFF0, &[0x21; 8])
        .raw(&[0x82, 0, 0, 0, 0, 0, 0, 1])
        .unpublish("key");
    let media = media.take();
    let mut whole = Publisher::default();
    whole.handshake().connect("app").publish("key");
    let whole = whole.take();
    let mut seeds = Vec::new();
    for mode in [0b11u8, 0b10, 0b0000_0111, 0b1111_1111] {
        let mut seed = vec![mode];
        seed.extend_from_slice(&media);
        seeds.push(seed);
    }
    for mode in [0b01u8, 0b1000_0001] {
        let mut seed = vec![mode];
        seed.extend_from_slice(&whole);
        seed.extend_from_slice(&media[..media.len().min(600)]);
        seeds.push(seed);
    }
    seeds
}

/// Words worth splicing in: command names, codec header bytes, extended-timestamp fields.
pub const DICTIONARY: &[&[u8]] = &[
    b"\x02\x00\x07connect",
    b"\x02\x00\x07publish",
    b"\x02\x00\x0ccreateStream",
    b"\x02\x00\x0bdeleteStream",
    b"\x02\x00\x0d@setDataFrame",
    b"\x02\x00\x0aonMetaData",
    b"\x00\x00\x09",
    b"\x17\x00\x00\x00\x00",
    b"\x27\x01\x00\x00\x00",
    b"\xaf\x00",
    b"\xaf\x01",
    b"\xff\xff\xff",
    b"\x00\x00\x00\x01",
    b"\xc6",
    b"\x06",
    b"\x03",
];
