//! WebRTC clients (str0m, as a browser would) publish Opus to a media worker and subscribe to
//! each other over real UDP on loopback: ICE, DTLS and SRTP complete, the worker receives the
//! publisher's RTP and forwards it to the subscribers, who decode the same frames.

use std::{
    net::{SocketAddr, UdpSocket},
    sync::atomic::Ordering,
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

/// A publishing client: its `Rtc`, its socket and the audio track it sends.
struct Client {
    rtc: Rtc,
    socket: UdpSocket,
    mid: Mid,
    connected: bool,
    /// Audio frames received (subscribers).
    received: Vec<Vec<u8>>,
    /// Publishers: when the next 20 ms frame is due, and its RTP time.
    next_frame: Instant,
    rtp_time: u64,
}

impl Client {
    fn publish_to(worker: &worker::WorkerHandle) -> Client {
        Client::join(worker, Direction::SendOnly, Role::Publish { key: "stage/alice".into() })
    }

    fn subscribe_to(worker: &worker::WorkerHandle) -> Client {
        Client::join(
            worker,
            Direction::RecvOnly,
            Role::Subscribe { publisher: "stage/alice".into() },
        )
    }

    /// Offers one audio track, gets the server's answer, and applies it.
    fn join(worker: &worker::WorkerHandle, direction: Direction, role: Role) -> Client {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        let mut rtc = RtcConfig::new().build(Instant::now());
        rtc.add_local_candidate(Candidate::host(socket.local_addr().unwrap(), "udp").unwrap());
        let mut api = rtc.sdp_api();
        let mid = api.add_media(MediaKind::Audio, direction, None, None, None);
        let (offer, pending) = api.apply().unwrap();
        let (server, answer) =
            answer_offer(&offer.to_sdp_string(), worker.local_addr(), Instant::now()).unwrap();
        assert!(worker.add_session(server, role));
        let answer = SdpAnswer::from_sdp_string(&answer).unwrap();
        rtc.sdp_api().accept_answer(pending, answer).unwrap();
        Client {
            rtc,
            socket,
            mid,
            connected: false,
            received: Vec::new(),
            next_frame: Instant::now(),
            rtp_time: 0,
        }
    }

    /// Runs the client until `deadline`, sending a 20 ms Opus frame whenever connected.
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
                    Output::Event(_) => {}
                }
            };
            let sending = self.rtc.media(self.mid).is_some_and(|m| m.direction().is_sending());
            if sending && self.connected && Instant::now() >= self.next_frame {
                let writer = self.rtc.writer(self.mid).unwrap();
                let pt = writer
                    .payload_params()
                    .find(|p| p.spec().codec == Codec::Opus)
                    .map(|p| p.pt())
                    .unwrap();
                // An Opus frame (TOC byte, then a counter so that frames can be told apart).
                let frame = vec![0xF8u8, (self.rtp_time / 960) as u8, 0xFE];
                let time = MediaTime::new(self.rtp_time, Frequency::FORTY_EIGHT_KHZ);
                writer.write(pt, Instant::now(), time, frame).unwrap();
                self.rtp_time += 960;
                self.next_frame += Duration::from_millis(20);
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
