//! The router's own work per forwarded packet, without a kernel or a clock: a stage of
//! publishers (VP8 at about 1.5 Mbit/s with a keyframe every 2 s, and Opus every 20 ms) and
//! their subscribers — str0m clients, as browsers would be, sending their receiver reports and
//! feedback — joined to a [`Router`] by an in-memory network, in simulated time. Nothing
//! sleeps and nothing waits on the machine, so under `valgrind --tool=callgrind` the
//! instructions counted inside the router's entry points, divided by the packets forwarded,
//! are the same from run to run whatever else the machine does: a before/after measure for
//! changes to the forwarding path (`scripts/forward-cost` runs it). The clients' own work is
//! outside those entry points and not counted.
//!
//!   cargo run --release -p troupe-media --example forward_cost -- [publishers] [subscribers each] [seconds]

use std::{
    net::SocketAddr,
    sync::{Arc, atomic::Ordering},
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
    router::{NewSession, Role, Router, RouterConfig},
    session::answer_offer,
    stats::MediaStats,
};

const SERVER: ([u8; 4], u16) = ([10, 0, 0, 1], 7801);
const LATENCY: Duration = Duration::from_millis(5);
/// Video: 30 frames a second of about 6 KB (1.5 Mbit/s), a 40 KB keyframe every 2 s.
const FRAME_BYTES: usize = 6_000;
const KEYFRAME_BYTES: usize = 40_000;

struct Client {
    addr: SocketAddr,
    rtc: Rtc,
    tracks: Vec<(Mid, MediaKind)>,
    wake: Instant,
    publishing: bool,
    connected: bool,
    next_frame: [Instant; 2],
    sent: [u64; 2],
    keyframe_wanted: bool,
}

impl Client {
    fn send_due_frames(&mut self, now: Instant) {
        if !self.publishing || !self.connected {
            return;
        }
        for (mid, kind) in self.tracks.clone() {
            let i = usize::from(kind == MediaKind::Video);
            let (codec, clock, period) = match kind {
                MediaKind::Audio => (Codec::Opus, Frequency::FORTY_EIGHT_KHZ, 20),
                MediaKind::Video => (Codec::Vp8, Frequency::NINETY_KHZ, 33),
            };
            while self.next_frame[i] <= now {
                let frame = match kind {
                    MediaKind::Audio => vec![0xF8; 80],
                    MediaKind::Video => {
                        let key = self.keyframe_wanted || self.sent[i].is_multiple_of(60);
                        self.keyframe_wanted = false;
                        let mut frame = vec![0x55; if key { KEYFRAME_BYTES } else { FRAME_BYTES }];
                        frame[0] = if key { 0x10 } else { 0x11 };
                        frame
                    }
                };
                let ticks = u64::from(clock.get()) * period / 1000;
                let time = MediaTime::new(self.sent[i] * ticks, clock);
                let at = self.next_frame[i];
                self.next_frame[i] += Duration::from_millis(period);
                let Some(writer) = self.rtc.writer(mid) else { break };
                let Some(pt) = writer.payload_params().find(|p| p.spec().codec == codec) else {
                    break;
                };
                let pt = pt.pt();
                if writer.write(pt, at, time, frame).is_err() {
                    break;
                }
                self.sent[i] += 1;
            }
        }
    }

    fn next_due(&self) -> Instant {
        let mut at = self.wake;
        if self.publishing && self.connected {
            at = at.min(self.next_frame[0]).min(self.next_frame[1]);
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

fn main() {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>().unwrap_or(0));
    let publishers = args.next().filter(|&n| n > 0).unwrap_or(4);
    let subscribers = args.next().filter(|&n| n > 0).unwrap_or(3);
    let seconds = args.next().filter(|&n| n > 0).unwrap_or(4) as u64;

    let start = Instant::now();
    let mut now = start;
    let stats = Arc::new(MediaStats::default());
    let server = SocketAddr::from(SERVER);
    let mut router = Router::new(RouterConfig::default(), server, stats.clone());
    let mut clients: Vec<Client> = Vec::new();
    let mut id = 0;
    let media = [(MediaKind::Audio, 0), (MediaKind::Video, 1)];
    let mut join = |router: &mut Router, host: usize, role: Role, now: Instant| -> Client {
        let addr = SocketAddr::from(([10, 1, (host >> 8) as u8, host as u8], 5000));
        let mut rtc = RtcConfig::new().build(now);
        rtc.add_local_candidate(Candidate::host(addr, "udp").expect("a candidate"));
        let direction =
            if role == Role::Publish { Direction::SendOnly } else { Direction::RecvOnly };
        let mut api = rtc.sdp_api();
        let tracks: Vec<(Mid, MediaKind)> = media
            .iter()
            .map(|&(kind, _)| (api.add_media(kind, direction, None, None, None), kind))
            .collect();
        let (offer, pending) = api.apply().expect("an offer");
        let answered =
            answer_offer(&offer.to_sdp_string(), &server.into(), &role, now).expect("answered");
        let answer = SdpAnswer::from_sdp_string(&answered.answer).expect("an answer");
        id += 1;
        let session = NewSession::new(id, "stage", &format!("c{host}"), role.clone(), answered, {
            Box::new(|_| {})
        });
        router.add_session(now, session).expect("added");
        rtc.sdp_api().accept_answer(pending, answer).expect("accepted");
        Client {
            addr,
            rtc,
            tracks,
            wake: now,
            publishing: role == Role::Publish,
            connected: false,
            next_frame: [now; 2],
            sent: [0; 2],
            keyframe_wanted: false,
        }
    };
    for p in 0..publishers {
        let client = join(&mut router, p, Role::Publish, now);
        clients.push(client);
    }
    for p in 0..publishers {
        for s in 0..subscribers {
            let host = 1000 + p * subscribers + s;
            let client =
                join(&mut router, host, Role::Subscribe { publisher: format!("c{p}") }, now);
            clients.push(client);
        }
    }

    let mut wire: Vec<Datagram> = Vec::new();
    let warmup = Duration::from_secs(2);
    let end = start + warmup + Duration::from_secs(seconds);
    let mut forwarded_at_window = None;
    let mut transmits = Vec::new();
    while now < end {
        let measuring = now >= start + warmup;
        if measuring && forwarded_at_window.is_none() {
            forwarded_at_window = Some(stats.rtp_packets_out.load(Ordering::Relaxed));
        }
        let (due, later): (Vec<_>, Vec<_>) = wire.drain(..).partition(|d| d.at <= now);
        wire = later;
        for d in due {
            if d.to == server {
                if measuring {
                    measured_datagram(&mut router, now, d.from, &d.data);
                } else {
                    router.handle_datagram(now, d.from, &d.data);
                }
            } else if let Some(c) = clients.iter_mut().find(|c| c.addr == d.to) {
                let input = Input::Receive(
                    now,
                    Receive {
                        proto: Protocol::Udp,
                        source: d.from,
                        destination: d.to,
                        contents: d.data.as_slice().try_into().expect("WebRTC"),
                    },
                );
                let _ = c.rtc.handle_input(input);
            }
        }
        if measuring {
            measured_timeout(&mut router, now);
        } else {
            router.handle_timeout(now);
        }
        router.take_transmits(&mut transmits);
        for t in transmits.drain(..) {
            wire.push(Datagram {
                at: now + LATENCY,
                from: server,
                to: t.destination,
                data: t.contents.to_vec(),
            });
        }
        for c in &mut clients {
            if c.wake <= now {
                let _ = c.rtc.handle_input(Input::Timeout(now));
            }
            c.send_due_frames(now);
            while let Ok(output) = c.rtc.poll_output() {
                match output {
                    Output::Timeout(at) => {
                        c.wake = at;
                        break;
                    }
                    Output::Transmit(t) => wire.push(Datagram {
                        at: now + LATENCY,
                        from: c.addr,
                        to: t.destination,
                        data: t.contents.to_vec(),
                    }),
                    Output::Event(Event::Connected) => c.connected = true,
                    Output::Event(Event::KeyframeRequest(_)) => c.keyframe_wanted = true,
                    Output::Event(_) => {}
                }
            }
        }
        let mut next = end;
        next = next.min(router.poll_timeout().unwrap_or(end));
        for d in &wire {
            next = next.min(d.at);
        }
        for c in &clients {
            next = next.min(c.next_due());
        }
        now = next.max(now + Duration::from_millis(1));
    }
    let total = stats.rtp_packets_out.load(Ordering::Relaxed);
    let in_window = total - forwarded_at_window.unwrap_or(0);
    println!(
        "publishers {publishers}, subscribers each {subscribers}, window {seconds} s: forwarded {in_window} packets in the window ({total} in all), {} received",
        stats.rtp_packets_in.load(Ordering::Relaxed)
    );
}

// The router's entry points during the window, under names of their own: callgrind counts
// inside these only (`--toggle-collect`), so connection set-up and the clients are left out.

#[inline(never)]
fn measured_datagram(router: &mut Router, now: Instant, from: SocketAddr, data: &[u8]) {
    router.handle_datagram(now, from, data);
}

#[inline(never)]
fn measured_timeout(router: &mut Router, now: Instant) {
    router.handle_timeout(now);
}
