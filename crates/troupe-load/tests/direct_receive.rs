//! The subscribers' direct receive path against str0m's own: two str0m peers connect over an
//! in-memory network (real ICE, DTLS and SRTP), one sends stamped RTP across a sequence-number
//! wrap, and every datagram the other receives is decrypted both by str0m and by the tool's
//! own SRTP receiver with the keys its DTLS handshake exported. They must agree packet for
//! packet, and a tampered packet must not authenticate.

use std::{
    net::SocketAddr,
    sync::Arc,
    time::{Duration, Instant},
};

use str0m::{
    Candidate, Event, Input, Output, Rtc, RtcConfig,
    format::Codec,
    media::{Direction, MediaKind, Mid, Pt},
    net::{Protocol, Receive},
    rtp::RtpWrite,
};
use troupe_load::{
    keytap::{self, KeySlot},
    peer::Tally,
    receive::{Arrival, Streams, Taken},
    rtp,
    srtp::SrtpReceiver,
};

struct End {
    rtc: Rtc,
    addr: SocketAddr,
}

fn config() -> RtcConfig {
    RtcConfig::new().set_rtp_mode(true).clear_codecs().enable_opus(true, false)
}

/// Polls `from` until it waits; returns the datagrams it sends and the events it raised.
fn poll(from: &mut End) -> (Vec<Vec<u8>>, Vec<Event>) {
    let (mut datagrams, mut events) = (Vec::new(), Vec::new());
    loop {
        match from.rtc.poll_output().expect("poll") {
            Output::Timeout(_) => return (datagrams, events),
            Output::Transmit(t) => datagrams.push(t.contents.to_vec()),
            Output::Event(e) => events.push(e),
        }
    }
}

fn deliver(to: &mut End, from: SocketAddr, datagram: &[u8], now: Instant) {
    let input = Input::Receive(
        now,
        Receive {
            proto: Protocol::Udp,
            source: from,
            destination: to.addr,
            contents: datagram.try_into().expect("a WebRTC datagram"),
        },
    );
    to.rtc.handle_input(input).expect("input");
}

/// Two peers connected over the in-memory network: the sender with an Opus track, the
/// receiver's exported keys, and the Opus payload type.
struct Pair {
    start: Instant,
    now: Instant,
    sender: End,
    receiver: End,
    mid: Mid,
    pt: Pt,
    keys: keytap::Keys,
}

fn connected_pair() -> Pair {
    let start = Instant::now();
    let slot = Arc::new(KeySlot::default());
    let mut sender = End { rtc: config().build(start), addr: "10.0.0.1:1000".parse().unwrap() };
    let mut receiver = End {
        rtc: keytap::build_with_slot(config(), start, slot.clone()),
        addr: "10.0.0.2:2000".parse().unwrap(),
    };
    sender.rtc.add_local_candidate(Candidate::host(sender.addr, "udp").unwrap());
    receiver.rtc.add_local_candidate(Candidate::host(receiver.addr, "udp").unwrap());
    let mut api = sender.rtc.sdp_api();
    let mid: Mid = api.add_media(MediaKind::Audio, Direction::SendOnly, None, None, None);
    let (offer, pending) = api.apply().unwrap();
    let answer = receiver.rtc.sdp_api().accept_offer(offer).unwrap();
    sender.rtc.sdp_api().accept_answer(pending, answer).unwrap();

    // Connect: ICE and DTLS, datagrams passed both ways with the clock moving on.
    let mut now = start;
    let mut connected = (false, false);
    for _ in 0..500 {
        let (out, events) = poll(&mut sender);
        connected.0 |= events.iter().any(|e| matches!(e, Event::Connected));
        for d in out {
            deliver(&mut receiver, sender.addr, &d, now);
        }
        let (out, events) = poll(&mut receiver);
        connected.1 |= events.iter().any(|e| matches!(e, Event::Connected));
        for d in out {
            deliver(&mut sender, receiver.addr, &d, now);
        }
        if connected == (true, true) {
            break;
        }
        now += Duration::from_millis(10);
        sender.rtc.handle_input(Input::Timeout(now)).unwrap();
        receiver.rtc.handle_input(Input::Timeout(now)).unwrap();
    }
    assert_eq!(connected, (true, true), "the peers connect");
    let keys = slot.get().expect("the receiver's handshake exported its keys");
    let pt = sender
        .rtc
        .codec_config()
        .params()
        .iter()
        .find(|p| p.spec().codec == Codec::Opus)
        .map(|p| p.pt())
        .unwrap();

    Pair { start, now, sender, receiver, mid, pt, keys }
}

/// The sender's RTP datagram for Opus packet `i`, sent at `now` (sequence numbers from 65520).
fn send_packet(pair: &mut Pair, i: u64) -> Vec<u8> {
    let payload: Vec<u8> = (0..100).map(|b| (b as u64 * 7 + i) as u8).collect();
    let now = pair.now;
    let write = RtpWrite::new(
        pair.pt,
        (65_520 + i).into(),
        960 * i as u32,
        now,
        Arc::<[u8]>::from(payload),
    );
    pair.sender.rtc.direct_api().stream_tx_by_mid(pair.mid, None).unwrap().write_rtp(write);
    pair.sender.rtc.handle_input(Input::Timeout(now)).unwrap();
    let (out, _) = poll(&mut pair.sender);
    let mut rtp: Vec<Vec<u8>> = out.into_iter().filter(|d| rtp::is_rtp(d)).collect();
    assert_eq!(rtp.len(), 1, "one RTP datagram per packet");
    rtp.pop().unwrap()
}

#[test]
fn direct_decryption_agrees_with_str0m_packet_for_packet() {
    let mut pair = connected_pair();
    let (start, sender_addr) = (pair.start, pair.sender.addr);
    let mut direct = SrtpReceiver::new(&pair.keys, &keytap::provider()).expect("a known profile");

    // 40 packets from sequence number 65520: the wrap (and SRTP's rollover counter) inside.
    let mut streams = Streams::default();
    let mut tally = Tally::default();
    let mut compared = 0;
    let mut tampered_refused = false;
    for i in 0..40u64 {
        pair.now += Duration::from_millis(20);
        let now = pair.now;
        {
            let d = &send_packet(&mut pair, i);
            let header = rtp::Header::parse(d).expect("an RTP header");
            let index = streams.extend(header.ssrc, header.sequence);
            assert_eq!(index, 65_520 + i, "the packet index counts across the wrap");
            let ours = direct.open(d, &header, index).expect("authenticates").to_vec();
            streams.record(header.ssrc, index, &ours, 0, now, start, 0, &mut tally);
            if !tampered_refused {
                let mut bad = d.to_vec();
                let last = bad.len() - 1;
                bad[last] ^= 1;
                assert!(direct.open(&bad, &header, index).is_none(), "a tampered packet");
                tampered_refused = true;
            }
            deliver(&mut pair.receiver, sender_addr, d, now);
            pair.receiver.rtc.handle_input(Input::Timeout(now)).unwrap();
            let (_, events) = poll(&mut pair.receiver);
            let theirs: Vec<Vec<u8>> = events
                .into_iter()
                .filter_map(|e| match e {
                    Event::RtpPacket(p) => Some(p.payload.to_vec()),
                    _ => None,
                })
                .collect();
            assert_eq!(theirs, vec![ours], "packet {i}: str0m decrypts the same payload");
            compared += 1;
        }
    }
    assert_eq!(compared, 40);
    assert_eq!(tally.joins.len(), 1);
}

/// What a server sends the direct path, mangled: every mutation of a real SRTP datagram is
/// dropped (malformed, a repair or rejected) and never counted, and none panics; the
/// datagrams themselves are counted.
#[test]
fn mutated_datagrams_are_dropped_never_counted() {
    let mut pair = connected_pair();
    let mut originals = Vec::new();
    for i in 0..20u64 {
        pair.now += Duration::from_millis(20);
        originals.push(send_packet(&mut pair, i));
    }
    let provider = keytap::provider();
    let mut rng = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move |n: usize| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        (rng % n.max(1) as u64) as usize
    };
    let arrival = Arrival { received_ns: 0, now: pair.now, started: pair.start, group: 0 };
    // A payload type of the header's 128 that is not Opus's: a mutation to it reads as a repair.
    let resend_types = [(*pair.pt + 1) & 0x7f];
    let (mut counted, mut dropped) = (0, 0);
    for round in 0..4_000 {
        let mut srtp = SrtpReceiver::new(&pair.keys, &provider).unwrap();
        let mut streams = Streams::default();
        let mut tally = Tally { window_open: true, ..Tally::default() };
        // Sequence numbers 65520–65535: a receiver that has seen nothing before takes them
        // at rollover 0, as it would the first packets of a stream (after the wrap it could
        // not know the rollover counter).
        let original = &originals[round % 16];
        let mut data = original.clone();
        match next(4) {
            0 => data.truncate(next(data.len() + 1)),
            1 => data.extend((0..1 + next(40)).map(|_| next(256) as u8)),
            2 => {
                for _ in 0..1 + next(4) {
                    let at = next(data.len());
                    data[at] ^= 1 << next(8);
                }
            }
            _ => {
                // Header bytes, where lengths and flags live.
                let at = next(data.len().min(16));
                data[at] = next(256) as u8;
            }
        }
        let taken = streams.take_srtp(&mut srtp, &resend_types, &data, arrival, &mut tally);
        if data == *original {
            assert_eq!(taken, Taken::Counted, "an unchanged datagram is counted");
            counted += 1;
        } else {
            assert_ne!(taken, Taken::Counted, "round {round}: a changed datagram was counted");
            assert_eq!(tally.received, 0);
            dropped += 1;
        }
    }
    assert!(dropped > 3_500, "{dropped} mutations dropped, {counted} left unchanged");
    // And the originals, in order and across the wrap, are all counted.
    let mut srtp = SrtpReceiver::new(&pair.keys, &provider).unwrap();
    let (mut streams, mut tally) =
        (Streams::default(), Tally { window_open: true, ..Tally::default() });
    for d in &originals {
        let taken = streams.take_srtp(&mut srtp, &resend_types, d, arrival, &mut tally);
        assert_eq!(taken, Taken::Counted);
    }
    assert_eq!(tally.received, originals.len() as u64);
}
