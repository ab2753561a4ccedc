//! The router in simulated time: str0m clients (as browsers would be) and a [`Router`] joined
//! by an in-memory network with latency and chosen losses, driven by a clock the test moves.
//! Nothing sleeps, so a day of a stage runs in seconds, the same way every run.

use std::{
    cell::Cell,
    net::SocketAddr,
    rc::Rc,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use str0m::{
    Candidate, Event, Input, Output, Rtc, RtcConfig,
    change::{SdpAnswer, SdpPendingOffer},
    format::Codec,
    media::{Direction, Frequency, KeyframeRequestKind, MediaKind, MediaTime, Mid},
    net::{Protocol, Receive},
};
use troupe_media::{
    router::{EndReason, NewSession, Role, Router, RouterConfig},
    session::answer_offer,
    stats::MediaStats,
};

const SERVER: ([u8; 4], u16) = ([10, 0, 0, 1], 7801);
const LATENCY: Duration = Duration::from_millis(10);

struct SimClient {
    name: &'static str,
    addr: SocketAddr,
    rtc: Rtc,
    tracks: Vec<(Mid, MediaKind)>,
    pending: Option<SdpPendingOffer>,
    wake: Instant,
    sending: bool,
    /// Until when the client runs; afterwards it is silent (a closed tab).
    until: Option<Instant>,
    next_frame: [Instant; 2],
    sent: [u64; 2],
    keyframe_wanted: bool,
    keyframe_requests: usize,
    /// Received frames per kind: their counters.
    received: [Vec<u8>; 2],
    first_video_frame_is_key: Option<bool>,
    connected: bool,
}

fn kind_index(kind: MediaKind) -> usize {
    if kind == MediaKind::Audio { 0 } else { 1 }
}

impl SimClient {
    fn new(
        name: &'static str,
        host: u8,
        now: Instant,
        tracks: &[(MediaKind, Direction)],
    ) -> (SimClient, String) {
        let addr = SocketAddr::from(([10, 0, 0, host], 5000));
        let mut rtc = RtcConfig::new().build(now);
        rtc.add_local_candidate(Candidate::host(addr, "udp").unwrap());
        let mut api = rtc.sdp_api();
        let mids: Vec<(Mid, MediaKind)> = tracks
            .iter()
            .map(|&(kind, dir)| (api.add_media(kind, dir, None, None, None), kind))
            .collect();
        let (offer, pending) = api.apply().unwrap();
        let sending = tracks.iter().any(|(_, d)| d.is_sending());
        let client = SimClient {
            name,
            addr,
            rtc,
            tracks: mids,
            pending: Some(pending),
            wake: now,
            sending,
            until: None,
            next_frame: [now; 2],
            sent: [0; 2],
            keyframe_wanted: false,
            keyframe_requests: 0,
            received: [Vec::new(), Vec::new()],
            first_video_frame_is_key: None,
            connected: false,
        };
        (client, offer.to_sdp_string())
    }

    fn alive(&self, now: Instant) -> bool {
        self.until.is_none_or(|until| now < until)
    }

    fn send_due_frames(&mut self, now: Instant) {
        if !self.sending || !self.connected {
            return;
        }
        for &(mid, kind) in &self.tracks.clone() {
            let i = kind_index(kind);
            let (codec, clock, period) = match kind {
                MediaKind::Audio => (Codec::Opus, Frequency::FORTY_EIGHT_KHZ, 20),
                MediaKind::Video => (Codec::Vp8, Frequency::NINETY_KHZ, 100),
            };
            while self.next_frame[i] <= now {
                let counter = self.sent[i] as u8;
                let frame = match kind {
                    MediaKind::Audio => vec![0xF8u8, counter, 0xFE],
                    MediaKind::Video => {
                        let key = self.keyframe_wanted || self.sent[i].is_multiple_of(100);
                        self.keyframe_wanted = false;
                        vec![if key { 0x10 } else { 0x11 }, counter, 0x9d, 0x01, 0x2a]
                    }
                };
                let ticks = u64::from(clock.get()) * period / 1000;
                let time = MediaTime::new(self.sent[i] * ticks, clock);
                let at = self.next_frame[i];
                self.next_frame[i] += Duration::from_millis(period);
                let Some(writer) = self.rtc.writer(mid) else { break };
                let pt = writer.payload_params().find(|p| p.spec().codec == codec).unwrap().pt();
                writer.write(pt, at, time, frame).unwrap();
                self.sent[i] += 1;
            }
        }
    }

    fn next_due(&self) -> Instant {
        let mut at = self.wake;
        if self.sending && self.connected {
            for &(_, kind) in &self.tracks {
                at = at.min(self.next_frame[kind_index(kind)]);
            }
        }
        at
    }
}

struct Datagram {
    at: Instant,
    from: SocketAddr,
    to: SocketAddr,
    data: Vec<u8>,
}

/// Decides whether the network loses a datagram (from, to, contents).
type Loss = Box<dyn FnMut(SocketAddr, SocketAddr, &[u8]) -> bool>;

struct Sim {
    now: Instant,
    router: Router,
    clients: Vec<SimClient>,
    wire: Vec<Datagram>,
    loss: Loss,
    ended: Arc<Mutex<Vec<(u64, EndReason)>>>,
    next_id: u64,
}

impl Sim {
    fn new(config: RouterConfig) -> Sim {
        let now = Instant::now();
        let stats = Arc::new(MediaStats::default());
        Sim {
            now,
            router: Router::new(config, SocketAddr::from(SERVER), stats),
            clients: Vec::new(),
            wire: Vec::new(),
            loss: Box::new(|_, _, _| false),
            ended: Arc::new(Mutex::new(Vec::new())),
            next_id: 1,
        }
    }

    fn stats(&self) -> &MediaStats {
        self.router.stats()
    }

    /// Signals a client to the router (the WHIP endpoint's job); returns its session id.
    fn join(
        &mut self,
        name: &'static str,
        host: u8,
        tracks: &[(MediaKind, Direction)],
        role: Role,
    ) -> u64 {
        let (mut client, offer) = SimClient::new(name, host, self.now, tracks);
        let answered =
            answer_offer(&offer, &SocketAddr::from(SERVER).into(), &role, self.now).unwrap();
        let answer = SdpAnswer::from_sdp_string(&answered.answer).unwrap();
        let id = self.next_id;
        self.next_id += 1;
        let ended = self.ended.clone();
        let on_end = Box::new(move |reason| ended.lock().unwrap().push((id, reason)));
        let session = NewSession::new(id, "stage", name, role, answered, on_end);
        self.router.add_session(self.now, session).unwrap();
        let pending = client.pending.take().unwrap();
        client.rtc.sdp_api().accept_answer(pending, answer).unwrap();
        self.clients.push(client);
        id
    }

    fn client(&self, name: &str) -> &SimClient {
        self.clients.iter().find(|c| c.name == name).unwrap()
    }

    fn client_mut(&mut self, name: &str) -> &mut SimClient {
        self.clients.iter_mut().find(|c| c.name == name).unwrap()
    }

    fn send(&mut self, from: SocketAddr, to: SocketAddr, data: Vec<u8>) {
        if !(self.loss)(from, to, &data) {
            self.wire.push(Datagram { at: self.now + LATENCY, from, to, data });
        }
    }

    /// Runs the world for `duration` of simulated time.
    fn run(&mut self, duration: Duration) {
        let end = self.now + duration;
        while self.now < end {
            self.step();
            let next = self.next_event().min(end);
            self.now = next.max(self.now);
        }
    }

    fn step(&mut self) {
        let now = self.now;
        // Deliver what has arrived.
        let (due, later): (Vec<_>, Vec<_>) = self.wire.drain(..).partition(|d| d.at <= now);
        self.wire = later;
        for d in due {
            if d.to == SocketAddr::from(SERVER) {
                self.router.handle_datagram(now, d.from, &d.data);
            } else if let Some(c) = self.clients.iter_mut().find(|c| c.addr == d.to) {
                if !c.alive(now) {
                    continue;
                }
                let input = Input::Receive(
                    now,
                    Receive {
                        proto: Protocol::Udp,
                        source: d.from,
                        destination: d.to,
                        contents: d.data.as_slice().try_into().unwrap(),
                    },
                );
                c.rtc.handle_input(input).unwrap();
            }
        }
        self.router.handle_timeout(now);
        let mut transmits = Vec::new();
        self.router.take_transmits(&mut transmits);
        for t in transmits {
            self.send(SocketAddr::from(SERVER), t.destination, t.contents.to_vec());
        }
        let mut outgoing = Vec::new();
        for c in &mut self.clients {
            if !c.alive(now) || !c.rtc.is_alive() {
                continue;
            }
            if c.wake <= now {
                c.rtc.handle_input(Input::Timeout(now)).unwrap();
            }
            c.send_due_frames(now);
            loop {
                match c.rtc.poll_output().unwrap() {
                    Output::Timeout(at) => {
                        c.wake = at;
                        break;
                    }
                    Output::Transmit(t) => {
                        outgoing.push((c.addr, t.destination, t.contents.to_vec()))
                    }
                    Output::Event(Event::Connected) => c.connected = true,
                    Output::Event(Event::MediaData(data)) => {
                        let kind = c.tracks.iter().find(|(m, _)| *m == data.mid).unwrap().1;
                        if kind == MediaKind::Video && c.first_video_frame_is_key.is_none() {
                            c.first_video_frame_is_key = Some(data.data[0] & 0x01 == 0);
                        }
                        c.received[kind_index(kind)].push(data.data[1]);
                    }
                    Output::Event(Event::KeyframeRequest(_)) => {
                        c.keyframe_wanted = true;
                        c.keyframe_requests += 1;
                    }
                    Output::Event(_) => {}
                }
            }
        }
        for (from, to, data) in outgoing {
            self.send(from, to, data);
        }
    }

    fn next_event(&self) -> Instant {
        let far = self.now + Duration::from_secs(3600);
        let mut at = self.router.poll_timeout().unwrap_or(far);
        for d in &self.wire {
            at = at.min(d.at);
        }
        for c in &self.clients {
            if c.alive(self.now) && c.rtc.is_alive() {
                at = at.min(c.next_due());
            }
            if let Some(until) = c.until.filter(|u| *u > self.now) {
                at = at.min(until);
            }
        }
        // A floor of a millisecond: str0m's timers are in milliseconds.
        at.max(self.now + Duration::from_millis(1))
    }

    fn ended(&self) -> Vec<(u64, EndReason)> {
        self.ended.lock().unwrap().clone()
    }
}

fn in_order(counters: &[u8]) -> bool {
    counters.windows(2).all(|w| w[1] == w[0].wrapping_add(1))
}

const AV_SEND: [(MediaKind, Direction); 2] =
    [(MediaKind::Audio, Direction::SendOnly), (MediaKind::Video, Direction::SendOnly)];
const AV_RECV: [(MediaKind, Direction); 2] =
    [(MediaKind::Audio, Direction::RecvOnly), (MediaKind::Video, Direction::RecvOnly)];

fn to_alice() -> Role {
    Role::Subscribe { publisher: "alice".into() }
}

/// Twenty minutes of a stage: subscribers come and go (some close their tab without a word),
/// each one's frames arrive complete and in order, starting at a keyframe; those who leave are
/// noticed and removed; the counters add up.
#[test]
fn subscribers_come_and_go_over_twenty_simulated_minutes() {
    let mut sim = Sim::new(RouterConfig::default());
    sim.join("alice", 2, &AV_SEND, Role::Publish);
    sim.run(Duration::from_secs(5));
    let names = ["s0", "s1", "s2", "s3", "s4", "s5"];
    for (n, name) in names.iter().enumerate() {
        sim.join(name, 10 + n as u8, &AV_RECV, to_alice());
        sim.run(Duration::from_secs(60));
        // Every other subscriber closes its tab after a while: no DELETE, it just goes quiet.
        if n % 2 == 1 {
            let now = sim.now;
            sim.client_mut(name).until = Some(now + Duration::from_secs(30));
        }
    }
    sim.run(Duration::from_secs(20 * 60 - 6 * 60));
    for name in names {
        let c = sim.client(name);
        let [audio, video] = &c.received;
        assert!(audio.len() > 1000, "{name} heard {} audio frames", audio.len());
        assert!(video.len() > 300, "{name} saw {} video frames", video.len());
        assert!(in_order(audio) && in_order(video), "{name}: frames lost or out of order");
        assert_eq!(c.first_video_frame_is_key, Some(true), "{name} started at a keyframe");
    }
    // The three who went quiet were removed (ICE consent lost); the others are still there.
    let ended = sim.ended();
    assert_eq!(ended.len(), 3, "{ended:?}");
    assert!(ended.iter().all(|(_, reason)| *reason == EndReason::Closed));
    let stats = sim.stats();
    assert_eq!(MediaStats::get(&stats.subscriptions), 3);
    assert_eq!(MediaStats::get(&stats.sessions), 4);
    assert!(MediaStats::get(&stats.keyframe_requests) >= 6, "one per new subscription at least");
    assert_eq!(MediaStats::get(&stats.datagrams_dropped), 0);
}

/// Sessions end at the maximum duration (24 h by default): a day and a bit of simulated time.
#[test]
fn sessions_end_at_the_maximum_duration() {
    let mut sim = Sim::new(RouterConfig::default());
    sim.join("alice", 2, &[(MediaKind::Audio, Direction::SendOnly)], Role::Publish);
    sim.join("bob", 3, &[(MediaKind::Audio, Direction::RecvOnly)], to_alice());
    // Quiet sessions (no media: only ICE consent checks keep them up) make a day cheap to run.
    sim.client_mut("alice").sending = false;
    sim.run(Duration::from_secs(24 * 3600 - 60));
    assert!(sim.ended().is_empty(), "{:?}", sim.ended());
    sim.run(Duration::from_secs(120));
    let mut reasons: Vec<EndReason> = sim.ended().iter().map(|(_, r)| *r).collect();
    reasons.sort_by_key(|r| format!("{r:?}"));
    assert!(reasons.contains(&EndReason::Expired), "{reasons:?}");
    assert_eq!(reasons.len(), 2, "bob's subscription ends with alice's publish: {reasons:?}");
    assert!(MediaStats::get(&sim.stats().sessions_expired) >= 1);
    assert_eq!(MediaStats::get(&sim.stats().sessions), 0);
}

/// A session that never completes ICE is dropped, at the latest after the connect timeout
/// (str0m may give up on ICE sooner), and its publisher seat is freed.
#[test]
fn a_session_that_never_connects_is_dropped() {
    let mut sim = Sim::new(RouterConfig::default());
    sim.join("ghost", 2, &AV_SEND, Role::Publish);
    sim.client_mut("ghost").until = Some(sim.now); // Never sends a thing.
    sim.run(Duration::from_secs(31));
    let reasons: Vec<EndReason> = sim.ended().iter().map(|(_, r)| *r).collect();
    assert_eq!(reasons.len(), 1, "{reasons:?}");
    assert!(matches!(reasons[0], EndReason::Closed | EndReason::ConnectTimeout));
    assert!(!sim.router.is_publishing("stage", "ghost"));
    assert_eq!(MediaStats::get(&sim.stats().sessions), 0);
}

/// NACK/RTX per hop: packets lost on the publisher's uplink are NACKed by the server and
/// resent by the publisher; packets lost towards a subscriber are NACKed by it and resent by
/// the server from its buffer. Every video frame arrives, in order.
#[test]
fn losses_on_either_hop_are_repaired_by_nack_and_rtx() {
    let mut sim = Sim::new(RouterConfig::default());
    let alice = SocketAddr::from(([10, 0, 0, 2], 5000));
    let bob = SocketAddr::from(([10, 0, 0, 3], 5000));
    sim.join("alice", 2, &AV_SEND, Role::Publish);
    sim.join("bob", 3, &AV_RECV, to_alice());
    // VP8's payload types, its resends' (str0m's default numbering: the same on both hops).
    let (vp8_pt, rtx_pt) = {
        let mut params = sim.client("alice").rtc.codec_config().params().iter();
        let vp8 = params.find(|p| p.spec().codec == Codec::Vp8).unwrap();
        (*vp8.pt(), *vp8.resend().unwrap())
    };
    let mut count = [0u64; 2];
    let lost_uplink_audio = Rc::new(Cell::new(0u64));
    let lost = lost_uplink_audio.clone();
    sim.loss = Box::new(move |from, to, data| {
        // Only media (RTP, not RTCP) is lost: one packet in 25 on each hop, after the start.
        // Resends (RTX) are neither lost nor counted. Counted, they lock the losses onto video:
        // with one video packet per six, a loss every 25 packets moves one packet along the
        // pattern, and the resend it causes moves it back onto video. That lost ~23% of the
        // video on each hop, and str0m drops queued resends while they exceed 15% of a
        // stream's bytes over a second (its DEFAULT_RTX_RATIO_CAP): a third went unrepaired.
        let rtp = data.len() > 1 && data[0] >> 6 == 2 && !(192..=223).contains(&data[1]);
        let hop = if from == alice {
            0
        } else if to == bob {
            1
        } else {
            return false;
        };
        let pt = data[1] & 0x7f;
        if !rtp || pt == rtx_pt {
            return false;
        }
        count[hop] += 1;
        let drop = count[hop] > 200 && count[hop].is_multiple_of(25);
        if drop && hop == 0 && pt != vp8_pt {
            lost.set(lost.get() + 1);
        }
        drop
    });
    sim.run(Duration::from_secs(60));
    // Alice stops; what is in flight or being repaired arrives.
    sim.client_mut("alice").sending = false;
    sim.run(Duration::from_secs(1));
    let sent = sim.client("alice").sent;
    let c = sim.client("bob");
    let [audio, video] = &c.received;
    assert!(video.len() > 500, "bob saw {} video frames", video.len());
    assert!(audio.len() > 2500, "bob heard {} audio frames", audio.len());
    assert!(in_order(video), "a lost video packet was not repaired");
    assert_eq!(video.len() as u64, sent[1], "bob saw every video frame alice sent");
    let stats = sim.stats();
    assert!(MediaStats::get(&stats.nacks_sent) > 0, "the server NACKed the publisher");
    assert!(MediaStats::get(&stats.nacks_received) > 0, "the subscriber NACKed the server");
    // One packet per frame: the server got every packet alice sent (after repair), but the
    // audio lost on the uplink (Opus has no RTX).
    let expected = sent[0] + sent[1] - lost_uplink_audio.get();
    assert_eq!(MediaStats::get(&stats.rtp_packets_in), expected);
}

/// A subscriber's keyframe requests reach the publisher, throttled: a subscriber asking every
/// 10 ms for ten seconds costs the publisher about one keyframe per interval, not a thousand.
#[test]
fn subscriber_keyframe_requests_reach_the_publisher_throttled() {
    let mut sim = Sim::new(RouterConfig::default());
    sim.join("alice", 2, &AV_SEND, Role::Publish);
    sim.join("bob", 3, &AV_RECV, to_alice());
    sim.run(Duration::from_secs(5));
    let before = sim.client("alice").keyframe_requests;
    for _ in 0..1000 {
        let bob = sim.client_mut("bob");
        let mid = bob.tracks.iter().find(|(_, k)| *k == MediaKind::Video).unwrap().0;
        if let Some(stream) = bob.rtc.direct_api().stream_rx_by_mid(mid, None) {
            stream.request_keyframe(KeyframeRequestKind::Pli);
        }
        sim.run(Duration::from_millis(10));
    }
    let forwarded = sim.client("alice").keyframe_requests - before;
    let received = MediaStats::get(&sim.stats().keyframe_requests_received);
    assert!(received >= 100, "the server got {received} requests from bob");
    // 10 s at one request per 500 ms: about 20, never hundreds.
    assert!((5..=25).contains(&forwarded), "alice got {forwarded} keyframe requests");
}
