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
    media::{Direction, MediaKind, Mid},
    net::{Protocol, Receive},
    rtp::RtpWrite,
};
use troupe_load::{
    keytap::{self, KeySlot},
    receive::Streams,
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

#[test]
fn direct_decryption_agrees_with_str0m_packet_for_packet() {
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
    let mut direct = SrtpReceiver::new(&keys, &keytap::provider()).expect("a known profile");
    let pt = sender
        .rtc
        .codec_config()
        .params()
        .iter()
        .find(|p| p.spec().codec == Codec::Opus)
        .map(|p| p.pt())
        .unwrap();

    // 40 packets from sequence number 65520: the wrap (and SRTP's rollover counter) inside.
    let mut streams = Streams::default();
    let mut tally = troupe_load::peer::Tally::default();
    let mut compared = 0;
    let mut tampered_refused = false;
    for i in 0..40u64 {
        now += Duration::from_millis(20);
        let payload: Vec<u8> = (0..100).map(|b| (b as u64 * 7 + i) as u8).collect();
        let write =
            RtpWrite::new(pt, (65_520 + i).into(), 960 * i as u32, now, Arc::<[u8]>::from(payload));
        sender.rtc.direct_api().stream_tx_by_mid(mid, None).unwrap().write_rtp(write);
        sender.rtc.handle_input(Input::Timeout(now)).unwrap();
        let (out, _) = poll(&mut sender);
        for d in out.iter().filter(|d| rtp::is_rtp(d)) {
            let header = rtp::Header::parse(d).expect("an RTP header");
            let index = streams.extend(header.ssrc, header.sequence);
            assert_eq!(index, 65_520 + i, "the packet index counts across the wrap");
            let ours = direct.open(d, &header, index).expect("authenticates").to_vec();
            streams.record(header.ssrc, index, &ours, 0, now, start, 0, &mut tally);
            if !tampered_refused {
                let mut bad = d.clone();
                let last = bad.len() - 1;
                bad[last] ^= 1;
                assert!(direct.open(&bad, &header, index).is_none(), "a tampered packet");
                tampered_refused = true;
            }
            deliver(&mut receiver, sender.addr, d, now);
            receiver.rtc.handle_input(Input::Timeout(now)).unwrap();
            let (_, events) = poll(&mut receiver);
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
