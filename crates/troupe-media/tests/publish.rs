//! WebRTC clients (str0m, as a browser would) publish Opus to a media worker and subscribe to
//! each other over real UDP on loopback: ICE, DTLS and SRTP complete, the worker receives the
//! publisher's RTP and forwards it to the subscribers, who decode the same frames.

use std::{
    net::{SocketAddr, UdpSocket},
    sync::atomic::{AtomicU64, Ordering},
    time::{Duration, Instant},
};

use str0m::{
    Candidate, Event, Input, Output, Rtc, RtcConfig,
    change::SdpAnswer,
    format::Codec,
    media::{Direction, Frequency, MediaKind, MediaTime, Mid},
    net::{Protocol, Receive},
};
use troupe_media::{
    session::answer_offer,
    worker::{self, Role},
};

/// A WebRTC client: its `Rtc`, its socket and its one track (sent or received).
struct Client {
    rtc: Rtc,
    socket: UdpSocket,
    mid: Mid,
    kind: MediaKind,
    connected: bool,
    /// Frames received (subscribers).
    received: Vec<Vec<u8>>,
    /// Publishers: when the next frame is due, and how many were sent.
    next_frame: Instant,
    frames_sent: u64,
    /// Video publishers: a keyframe was asked for (PLI); the next frame is one.
    keyframe_wanted: bool,
    keyframe_requests: usize,
}

fn alice() -> Role {
    Role::Publish { key: "stage/alice".into() }
}

fn to_alice() -> Role {
    Role::Subscribe { publisher: "stage/alice".into() }
}

impl Client {
    fn publish_to(worker: &worker::WorkerHandle) -> Client {
        Client::join(worker, MediaKind::Audio, Direction::SendOnly, alice())
    }

    fn subscribe_to(worker: &worker::WorkerHandle) -> Client {
        Client::join(worker, MediaKind::Audio, Direction::RecvOnly, to_alice())
    }

    /// Offers one track of `kind`, gets the server's answer, and applies it.
    fn join(
        worker: &worker::WorkerHandle,
        kind: MediaKind,
        direction: Direction,
        role: Role,
    ) -> Client {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        let mut rtc = RtcConfig::new().build(Instant::now());
        rtc.add_local_candidate(Candidate::host(socket.local_addr().unwrap(), "udp").unwrap());
        let mut api = rtc.sdp_api();
        let mid = api.add_media(kind, direction, None, None, None);
        let (offer, pending) = api.apply().unwrap();
        let (server, answer) =
            answer_offer(&offer.to_sdp_string(), worker.local_addr(), Instant::now()).unwrap();
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        assert!(worker.add_session(id, server, role, Box::new(|| {})));
        let answer = SdpAnswer::from_sdp_string(&answer).unwrap();
        rtc.sdp_api().accept_answer(pending, answer).unwrap();
        Client {
            rtc,
            socket,
            mid,
            kind,
            connected: false,
            received: Vec::new(),
            next_frame: Instant::now(),
            frames_sent: 0,
            keyframe_wanted: false,
            keyframe_requests: 0,
        }
    }

    /// Writes the next frame: Opus every 20 ms, or VP8 every 33 ms.
    fn send_frame(&mut self) {
        let (codec, clock, period) = match self.kind {
            MediaKind::Audio => (Codec::Opus, Frequency::FORTY_EIGHT_KHZ, 20),
            MediaKind::Video => (Codec::Vp8, Frequency::NINETY_KHZ, 33),
        };
        let counter = self.frames_sent as u8;
        let frame = match self.kind {
            // An Opus frame: TOC byte, then a counter so that frames can be told apart.
            MediaKind::Audio => vec![0xF8u8, counter, 0xFE],
            // A VP8 frame header (bit 0 clear: a keyframe), then the counter. A keyframe every
            // 50 frames, or at once when asked.
            MediaKind::Video => {
                let key = self.keyframe_wanted || self.frames_sent.is_multiple_of(50);
                self.keyframe_wanted = false;
                vec![if key { 0x10 } else { 0x11 }, counter, 0x9d, 0x01, 0x2a]
            }
        };
        let writer = self.rtc.writer(self.mid).unwrap();
        let pt = writer.payload_params().find(|p| p.spec().codec == codec).map(|p| p.pt()).unwrap();
        let ticks = u64::from(clock.get()) * period / 1000;
        let time = MediaTime::new(self.frames_sent * ticks, clock);
        writer.write(pt, Instant::now(), time, frame).unwrap();
        self.frames_sent += 1;
        self.next_frame += Duration::from_millis(period);
    }

    /// Runs the client until `deadline` or `done`, sending frames when it publishes.
    fn run(&mut self, deadline: Instant, mut done: impl FnMut() -> bool) {
        let mut buffer = vec![0u8; 2048];
        while Instant::now() < deadline && !done() {
            let timeout = loop {
                match self.rtc.poll_output().unwrap() {
                    Output::Timeout(at) => break at,
                    Output::Transmit(t) => {
                        self.socket.send_to(&t.contents, t.destination).unwrap();
                    }
                    Output::Event(Event::Connected) => self.connected = true,
                    Output::Event(Event::MediaData(data)) => self.received.push(data.data.to_vec()),
                    Output::Event(Event::KeyframeRequest(_)) => {
                        self.keyframe_wanted = true;
                        self.keyframe_requests += 1;
                    }
                    Output::Event(_) => {}
                }
            };
            let sending = self.rtc.media(self.mid).is_some_and(|m| m.direction().is_sending());
            if sending && self.connected && Instant::now() >= self.next_frame {
                self.send_frame();
                continue;
            }
            let wait = timeout
                .min(self.next_frame)
                .saturating_duration_since(Instant::now())
                .max(Duration::from_millis(1));
            self.socket.set_read_timeout(Some(wait)).unwrap();
            let input = match self.socket.recv_from(&mut buffer) {
                Ok((n, source)) => Input::Receive(
                    Instant::now(),
                    Receive {
                        proto: Protocol::Udp,
                        source,
                        destination: self.socket.local_addr().unwrap(),
                        contents: buffer[..n].try_into().unwrap(),
                    },
                ),
                Err(_) => Input::Timeout(Instant::now()),
            };
            self.rtc.handle_input(input).unwrap();
        }
    }
}

#[test]
fn a_client_publishes_opus_to_a_worker() {
    let worker = worker::spawn(SocketAddr::from(([127, 0, 0, 1], 0))).unwrap();
    let mut client = Client::publish_to(&worker);
    let stats = worker.stats();
    client.run(Instant::now() + Duration::from_secs(10), || {
        stats.rtp_packets_in.load(Ordering::Relaxed) >= 25
    });
    assert!(client.connected, "ICE and DTLS completed");
    assert_eq!(stats.connected_sessions.load(Ordering::Relaxed), 1);
    assert!(stats.rtp_packets_in.load(Ordering::Relaxed) >= 25, "{:?}", stats);
}

#[test]
fn garbage_on_the_port_is_dropped_and_sessions_go_on() {
    let worker = worker::spawn(SocketAddr::from(([127, 0, 0, 1], 0))).unwrap();
    let noise = UdpSocket::bind("127.0.0.1:0").unwrap();
    for n in 0..200u32 {
        let junk: Vec<u8> = (0..(n % 1500)).map(|i| (i * 31 + n) as u8).collect();
        noise.send_to(&junk, worker.local_addr()).unwrap();
    }
    let mut client = Client::publish_to(&worker);
    let stats = worker.stats();
    client.run(Instant::now() + Duration::from_secs(10), || {
        stats.rtp_packets_in.load(Ordering::Relaxed) >= 10
    });
    assert!(stats.rtp_packets_in.load(Ordering::Relaxed) >= 10);
    assert!(stats.datagrams_dropped.load(Ordering::Relaxed) >= 100, "{:?}", stats);
}

/// Runs several clients side by side until `done` or a deadline.
fn run_all(
    clients: &mut [&mut Client],
    seconds: u64,
    mut done: impl FnMut(&[&mut Client]) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while Instant::now() < deadline && !done(clients) {
        for client in clients.iter_mut() {
            client.run(Instant::now() + Duration::from_millis(5), || false);
        }
    }
}

#[test]
fn a_subscriber_receives_what_the_publisher_sends() {
    let worker = worker::spawn(SocketAddr::from(([127, 0, 0, 1], 0))).unwrap();
    let mut alice = Client::publish_to(&worker);
    let mut bob = Client::subscribe_to(&worker);
    let mut carol = Client::subscribe_to(&worker);
    run_all(&mut [&mut alice, &mut bob, &mut carol], 15, |c| {
        c[1].received.len() >= 25 && c[2].received.len() >= 25
    });
    for (name, client) in [("bob", &bob), ("carol", &carol)] {
        assert!(
            client.received.len() >= 25,
            "{name} got {} frames; {:?}",
            client.received.len(),
            worker.stats()
        );
        // The frames are alice's, in order (her counter byte goes up by one per frame).
        let counters: Vec<u8> = client.received.iter().map(|f| f[1]).collect();
        assert!(
            client.received.iter().all(|f| f[0] == 0xF8 && f[2] == 0xFE),
            "{name}: not alice's frames"
        );
        assert!(counters.windows(2).all(|w| w[1] == w[0].wrapping_add(1)), "{name}: {counters:?}");
    }
    assert!(worker.stats().rtp_packets_out.load(Ordering::Relaxed) >= 50);
}

#[test]
fn a_late_video_subscriber_starts_at_a_keyframe_it_asked_for() {
    let worker = worker::spawn(SocketAddr::from(([127, 0, 0, 1], 0))).unwrap();
    let mut alice = Client::join(&worker, MediaKind::Video, Direction::SendOnly, alice());
    // Alice publishes for a while, past her first (periodic) keyframe, before Bob arrives.
    run_all(&mut [&mut alice], 10, |c| c[0].frames_sent >= 5);
    let mut bob = Client::join(&worker, MediaKind::Video, Direction::RecvOnly, to_alice());
    run_all(&mut [&mut alice, &mut bob], 15, |c| c[1].received.len() >= 10);
    let stats = worker.stats();
    assert!(bob.received.len() >= 10, "bob got {} frames; {stats:?}", bob.received.len());
    assert_eq!(bob.received[0][0] & 0x01, 0, "bob's first frame is a keyframe");
    assert!(alice.keyframe_requests >= 1, "the worker asked alice for a keyframe");
    assert!(stats.keyframe_requests.load(Ordering::Relaxed) >= 1);
    let counters: Vec<u8> = bob.received.iter().map(|f| f[1]).collect();
    assert!(counters.windows(2).all(|w| w[1] == w[0].wrapping_add(1)), "{counters:?}");
}

#[test]
fn ending_a_publish_session_calls_back_and_frees_the_publisher_key() {
    let worker = worker::spawn(SocketAddr::from(([127, 0, 0, 1], 0))).unwrap();
    let mut first = Client::publish_to(&worker);
    assert!(worker.is_publishing("stage/alice"));
    run_all(&mut [&mut first], 10, |c| c[0].connected);
    let (ended_tx, ended_rx) = std::sync::mpsc::channel();
    // A second publish session for the same key, ended right away: its callback runs, and
    // the key stays with the first session's replacement logic (the newer one holds it).
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut rtc = RtcConfig::new().build(Instant::now());
    rtc.add_local_candidate(Candidate::host(socket.local_addr().unwrap(), "udp").unwrap());
    let mut api = rtc.sdp_api();
    api.add_media(MediaKind::Audio, Direction::SendOnly, None, None, None);
    let (offer, _pending) = api.apply().unwrap();
    let (server, _) =
        answer_offer(&offer.to_sdp_string(), worker.local_addr(), Instant::now()).unwrap();
    assert!(worker.add_session(
        9_999,
        server,
        alice(),
        Box::new(move || ended_tx.send(()).unwrap())
    ));
    worker.end_session(9_999);
    ended_rx.recv_timeout(Duration::from_secs(5)).expect("the end callback ran");
    assert!(!worker.is_publishing("stage/alice"), "the key was the ended session's");
}
