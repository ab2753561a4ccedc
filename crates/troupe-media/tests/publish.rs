//! WebRTC clients (str0m, as a browser would) publish to a media worker and subscribe to each
//! other over real UDP on loopback: ICE, DTLS and SRTP complete, the worker receives the
//! publisher's RTP and forwards it to the subscribers, who receive the same frames in order.

use std::{
    net::{SocketAddr, UdpSocket},
    sync::atomic::{AtomicU64, Ordering},
    time::{Duration, Instant},
};

use str0m::media::{Direction, MediaKind};
use troupe_media::{
    client::{Client, run_together},
    session::answer_offer,
    worker::{self, Role, WorkerHandle},
};

const LOOPBACK: ([u8; 4], u16) = ([127, 0, 0, 1], 0);

fn alice() -> Role {
    Role::Publish { key: "stage/alice".into() }
}

fn to_alice() -> Role {
    Role::Subscribe { publisher: "stage/alice".into() }
}

/// Signals a client to the worker directly (the WHIP endpoint's job in the server).
fn join(worker: &WorkerHandle, kind: MediaKind, direction: Direction, role: Role) -> Client {
    static NEXT_ID: AtomicU64 = AtomicU64::new(1);
    let (mut client, offer) = Client::offer(SocketAddr::from(LOOPBACK), kind, direction).unwrap();
    let (server, answer) = answer_offer(&offer, worker.local_addr(), Instant::now()).unwrap();
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    assert!(worker.add_session(id, server, role, Box::new(|| {})));
    client.accept(&answer).unwrap();
    client
}

fn counters_in_order(frames: &[Vec<u8>]) -> bool {
    frames.windows(2).all(|w| w[1][1] == w[0][1].wrapping_add(1))
}

#[test]
fn a_client_publishes_opus_to_a_worker() {
    let worker = worker::spawn(SocketAddr::from(LOOPBACK)).unwrap();
    let mut client = join(&worker, MediaKind::Audio, Direction::SendOnly, alice());
    let stats = worker.stats();
    run_together(&mut [&mut client], Duration::from_secs(10), |_| {
        stats.rtp_packets_in.load(Ordering::Relaxed) >= 25
    })
    .unwrap();
    assert!(client.connected, "ICE and DTLS completed");
    assert_eq!(stats.connected_sessions.load(Ordering::Relaxed), 1);
    assert!(stats.rtp_packets_in.load(Ordering::Relaxed) >= 25, "{stats:?}");
}

#[test]
fn garbage_on_the_port_is_dropped_and_sessions_go_on() {
    let worker = worker::spawn(SocketAddr::from(LOOPBACK)).unwrap();
    let noise = UdpSocket::bind("127.0.0.1:0").unwrap();
    for n in 0..200u32 {
        let junk: Vec<u8> = (0..(n % 1500)).map(|i| (i * 31 + n) as u8).collect();
        noise.send_to(&junk, worker.local_addr()).unwrap();
    }
    let mut client = join(&worker, MediaKind::Audio, Direction::SendOnly, alice());
    let stats = worker.stats();
    run_together(&mut [&mut client], Duration::from_secs(10), |_| {
        stats.rtp_packets_in.load(Ordering::Relaxed) >= 10
    })
    .unwrap();
    assert!(stats.rtp_packets_in.load(Ordering::Relaxed) >= 10);
    assert!(stats.datagrams_dropped.load(Ordering::Relaxed) >= 100, "{stats:?}");
}

#[test]
fn a_subscriber_receives_what_the_publisher_sends() {
    let worker = worker::spawn(SocketAddr::from(LOOPBACK)).unwrap();
    let mut alice = join(&worker, MediaKind::Audio, Direction::SendOnly, alice());
    let mut bob = join(&worker, MediaKind::Audio, Direction::RecvOnly, to_alice());
    let mut carol = join(&worker, MediaKind::Audio, Direction::RecvOnly, to_alice());
    run_together(&mut [&mut alice, &mut bob, &mut carol], Duration::from_secs(15), |c| {
        c[1].received.len() >= 25 && c[2].received.len() >= 25
    })
    .unwrap();
    for (name, client) in [("bob", &bob), ("carol", &carol)] {
        let got = client.received.len();
        assert!(got >= 25, "{name} got {got} frames; {:?}", worker.stats());
        assert!(client.received.iter().all(|f| f[0] == 0xF8 && f[2] == 0xFE), "{name}");
        assert!(counters_in_order(&client.received), "{name}: frames out of order or lost");
    }
    assert!(worker.stats().rtp_packets_out.load(Ordering::Relaxed) >= 50);
}

#[test]
fn a_late_video_subscriber_starts_at_a_keyframe_it_asked_for() {
    let worker = worker::spawn(SocketAddr::from(LOOPBACK)).unwrap();
    let mut alice = join(&worker, MediaKind::Video, Direction::SendOnly, alice());
    // Alice publishes for a while, past her first (periodic) keyframe, before Bob arrives.
    run_together(&mut [&mut alice], Duration::from_secs(10), |c| c[0].frames_sent >= 5).unwrap();
    let mut bob = join(&worker, MediaKind::Video, Direction::RecvOnly, to_alice());
    run_together(&mut [&mut alice, &mut bob], Duration::from_secs(15), |c| {
        c[1].received.len() >= 10
    })
    .unwrap();
    let stats = worker.stats();
    assert!(bob.received.len() >= 10, "bob got {} frames; {stats:?}", bob.received.len());
    assert_eq!(bob.received[0][0] & 0x01, 0, "bob's first frame is a keyframe");
    assert!(alice.keyframe_requests >= 1, "the worker asked alice for a keyframe");
    assert!(stats.keyframe_requests.load(Ordering::Relaxed) >= 1);
    assert!(counters_in_order(&bob.received));
}

#[test]
fn ending_a_publish_session_calls_back_and_frees_the_publisher_key() {
    let worker = worker::spawn(SocketAddr::from(LOOPBACK)).unwrap();
    let (mut client, offer) =
        Client::offer(SocketAddr::from(LOOPBACK), MediaKind::Audio, Direction::SendOnly).unwrap();
    let (server, answer) = answer_offer(&offer, worker.local_addr(), Instant::now()).unwrap();
    let (ended_tx, ended_rx) = std::sync::mpsc::channel();
    assert!(worker.add_session(
        9_999,
        server,
        alice(),
        Box::new(move || ended_tx.send(()).unwrap())
    ));
    client.accept(&answer).unwrap();
    assert!(worker.is_publishing("stage/alice"));
    run_together(&mut [&mut client], Duration::from_secs(10), |c| c[0].connected).unwrap();
    worker.end_session(9_999);
    ended_rx.recv_timeout(Duration::from_secs(5)).expect("the end callback ran");
    assert!(!worker.is_publishing("stage/alice"));
}

#[test]
fn subscriptions_end_when_their_publisher_stops_but_not_when_it_republishes() {
    let worker = worker::spawn(SocketAddr::from(LOOPBACK)).unwrap();
    let (ended_tx, ended_rx) = std::sync::mpsc::channel::<&'static str>();
    let add = |id, kind_dir: (MediaKind, Direction), role, name: &'static str| {
        let (mut client, offer) =
            Client::offer(SocketAddr::from(LOOPBACK), kind_dir.0, kind_dir.1).unwrap();
        let (server, answer) = answer_offer(&offer, worker.local_addr(), Instant::now()).unwrap();
        let tx = ended_tx.clone();
        assert!(worker.add_session(id, server, role, Box::new(move || tx.send(name).unwrap())));
        client.accept(&answer).unwrap();
        client
    };
    let send = (MediaKind::Audio, Direction::SendOnly);
    let recv = (MediaKind::Audio, Direction::RecvOnly);
    let mut first = add(101, send, alice(), "first publish");
    let mut bob = add(102, recv, to_alice(), "bob");
    run_together(&mut [&mut first, &mut bob], Duration::from_secs(10), |c| {
        c[1].received.len() >= 5
    })
    .unwrap();
    // Alice republishes: the newer session takes the key; the first one ends; bob carries on.
    let mut second = add(103, send, alice(), "second publish");
    worker.end_session(101);
    assert_eq!(ended_rx.recv_timeout(Duration::from_secs(5)).unwrap(), "first publish");
    let before = bob.received.len();
    run_together(&mut [&mut second, &mut bob], Duration::from_secs(10), |c| {
        c[1].received.len() >= before + 10
    })
    .unwrap();
    assert!(bob.received.len() >= before + 10, "bob hears the new publish");
    // Alice stops for good: bob's subscription ends.
    worker.end_session(103);
    let mut ended: Vec<&str> = vec![ended_rx.recv_timeout(Duration::from_secs(5)).unwrap()];
    ended.push(ended_rx.recv_timeout(Duration::from_secs(5)).unwrap());
    ended.sort();
    assert_eq!(ended, vec!["bob", "second publish"]);
}
