//! A WebRTC client (str0m, as a browser would) publishes Opus to a media worker over real UDP
//! on loopback: ICE, DTLS and SRTP complete and the worker receives the RTP.

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
use troupe_media::{session::answer_offer, worker};

/// A publishing client: its `Rtc`, its socket and the audio track it sends.
struct Client {
    rtc: Rtc,
    socket: UdpSocket,
    mid: Mid,
    connected: bool,
}

impl Client {
    /// Offers one send-only audio track, gets the server's answer, and applies it.
    fn publish_to(worker: &worker::WorkerHandle) -> Client {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        let mut rtc = RtcConfig::new().build(Instant::now());
        rtc.add_local_candidate(Candidate::host(socket.local_addr().unwrap(), "udp").unwrap());
        let mut api = rtc.sdp_api();
        let mid = api.add_media(MediaKind::Audio, Direction::SendOnly, None, None, None);
        let (offer, pending) = api.apply().unwrap();
        let (server, answer) =
            answer_offer(&offer.to_sdp_string(), worker.local_addr(), Instant::now()).unwrap();
        assert!(worker.add_session(server));
        let answer = SdpAnswer::from_sdp_string(&answer).unwrap();
        rtc.sdp_api().accept_answer(pending, answer).unwrap();
        Client { rtc, socket, mid, connected: false }
    }

    /// Runs the client until `deadline`, sending a 20 ms Opus frame whenever connected.
    fn run(&mut self, deadline: Instant, mut done: impl FnMut() -> bool) {
        let mut buffer = vec![0u8; 2048];
        let mut next_frame = Instant::now();
        let mut rtp_time = 0u64;
        while Instant::now() < deadline && !done() {
            let timeout = loop {
                match self.rtc.poll_output().unwrap() {
                    Output::Timeout(at) => break at,
                    Output::Transmit(t) => {
                        self.socket.send_to(&t.contents, t.destination).unwrap();
                    }
                    Output::Event(Event::Connected) => self.connected = true,
                    Output::Event(_) => {}
                }
            };
            if self.connected && Instant::now() >= next_frame {
                let writer = self.rtc.writer(self.mid).unwrap();
                let pt = writer
                    .payload_params()
                    .find(|p| p.spec().codec == Codec::Opus)
                    .map(|p| p.pt())
                    .unwrap();
                let frame = vec![0xF8u8, 0xFF, 0xFE]; // an Opus frame (TOC + padding)
                let time = MediaTime::new(rtp_time, Frequency::FORTY_EIGHT_KHZ);
                writer.write(pt, Instant::now(), time, frame).unwrap();
                rtp_time += 960;
                next_frame += Duration::from_millis(20);
                continue;
            }
            let wait = timeout
                .min(next_frame)
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
