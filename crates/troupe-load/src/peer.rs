//! One simulated participant's WebRTC connection (str0m, RTP mode): a publisher sending the
//! looped clip paced like an encoder — a video frame every 1/fps with all its packets, an Opus
//! packet every 20 ms, each stamped with its send time — or a subscription checking what
//! arrives: sequence continuity per stream (gaps are loss), forwarding delay from the stamps,
//! and the join time (signaling start to first forwarded packet) — see [`crate::receive`].
//! Subscribers never depacketize or decode. By default ([`ReceivePath::Direct`]) they do not hand
//! media packets to str0m at all: each is authenticated and decrypted with the session's SRTP
//! keys ([`crate::srtp`]) and counted, so the tool's cost per packet is a system call's share,
//! an AES pass and a few reads — and, since str0m never sees them, subscribers send no NACKs:
//! loss is then measured without repair. [`ReceivePath::Str0m`] keeps str0m's full receive path
//! (NACK/RTX repair, receiver reports) at several times the cost.
//!
//! Sans-IO apart from owning its socket: the event loop feeds it datagrams and the time.

use std::{
    net::SocketAddr,
    os::fd::RawFd,
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::{Context, Result, anyhow, bail};
use str0m::{
    Candidate, Event, IceConnectionState, Input, Output, Rtc, RtcConfig,
    change::{SdpAnswer, SdpOffer, SdpPendingOffer},
    format::Codec,
    media::{Direction, MediaKind, Mid, Pt},
    net::{Protocol, Receive, TcpType, Transmit},
    rtp::RtpWrite,
};

use crate::{
    endpoint::{Endpoints, PeerSocket},
    histogram::Histogram,
    keytap::{self, KeySlot},
    media::{
        clip::{AudioClip, VideoClip},
        stamp,
    },
    receive::{Arrival, Streams},
    rtp,
    srtp::SrtpReceiver,
    tcp::TcpLink,
    turn_link::{self, IceServer, TurnLink},
};

/// What publishers send; shared by all of them.
pub struct Media {
    pub video: Option<VideoClip>,
    pub audio: AudioClip,
    /// Where peers' sockets come from (`--local-ip`, `--peer-net`).
    pub endpoints: Endpoints,
    /// How subscribers take in media packets.
    pub receive: ReceivePath,
    /// How peers reach the server's media.
    pub transport: Transport,
}

/// How a subscriber takes in forwarded media packets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReceivePath {
    /// Decrypt each SRTP packet with the session's keys and count it; str0m sees only STUN,
    /// DTLS and RTCP. No NACKs are sent: loss is measured without repair.
    Direct,
    /// Hand every datagram to str0m (SRTP, NACK register, receiver reports): losses are
    /// NACKed and repaired by RTX before they are counted.
    Str0m,
}

impl ReceivePath {
    pub fn name(self) -> &'static str {
        match self {
            ReceivePath::Direct => "direct",
            ReceivePath::Str0m => "str0m",
        }
    }
}

/// How peers reach the server's media.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Transport {
    Udp,
    Tcp,
    Turn,
}

impl Transport {
    pub fn name(self) -> &'static str {
        match self {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
            Transport::Turn => "turn",
        }
    }
}

/// What a peer does, and with which media.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Publish { video: bool },
    Subscribe { video: bool },
}

/// How long a peer may take to connect (ICE and DTLS) before it counts as failed.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// A sender that fell this far behind (a stalled loop) skips ahead instead of bursting.
const MAX_LAG: Duration = Duration::from_millis(200);

/// The counters of one event loop, filled by its peers.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    pub window_open: bool,
    /// Forwarding delay of each stamped packet received in the window, µs.
    pub delay: Histogram,
    /// RTP packets received by subscriptions in the window.
    pub received: u64,
    /// Packets expected in the window from the sequence numbers (filled when it closes).
    pub expected: u64,
    /// RTP packets publishers sent in the window.
    pub sent: u64,
    /// Packets without a stamp (not ours, or altered on the way).
    pub unstamped: u64,
    /// Packets that arrived after a later one of their stream.
    pub reordered: u64,
    /// Media packets that did not authenticate (direct receive; not counted as received).
    pub rejected: u64,
    /// Join times (signaling start to first forwarded packet), µs, with the peer's group.
    pub joins: Vec<(usize, u64)>,
    /// Peers that failed to connect or were disconnected, with their group.
    pub failures: Vec<(usize, String)>,
}

impl Tally {
    /// Adds another loop's counters to these.
    pub fn merge(&mut self, other: Tally) {
        let Tally {
            window_open: _,
            delay,
            received,
            expected,
            sent,
            unstamped,
            reordered,
            rejected,
            joins,
            failures,
        } = other;
        self.delay.merge(&delay);
        self.received += received;
        self.expected += expected;
        self.sent += sent;
        self.unstamped += unstamped;
        self.reordered += reordered;
        self.rejected += rejected;
        self.joins.extend(joins);
        self.failures.extend(failures);
    }
}

struct SendTrack {
    mid: Mid,
    kind: MediaKind,
    pt: Option<Pt>,
    sequence: u64,
    rtp_time: u32,
    position: usize,
    next_at: Instant,
}

enum Kind {
    Publisher {
        media: Arc<Media>,
        tracks: Vec<SendTrack>,
        keyframe_wanted: bool,
    },
    Subscriber {
        streams: Streams,
        /// Direct receive: where the handshake's keys arrive, and the decryptor once they
        /// have.
        keys: Option<Arc<KeySlot>>,
        srtp: Option<SrtpReceiver>,
        /// Payload types of retransmissions (not counted as media).
        rtx: Vec<u8>,
    },
}

pub struct Peer {
    rtc: Rtc,
    socket: PeerSocket,
    local: SocketAddr,
    /// UDP, or TCP once an ICE-TCP connection is made.
    proto: Protocol,
    /// Where ICE-TCP connections come from (`--transport tcp`).
    tcp_from: Option<std::net::Ipv4Addr>,
    /// Relay through the server's TURN (`--transport turn`): wanted, then established.
    wants_relay: bool,
    turn: Option<TurnLink>,
    pending: Option<SdpPendingOffer>,
    kind: Kind,
    /// Which group of the run it belongs to (a stage, a ramp step), for the report.
    pub group: usize,
    /// When its signaling started (the WHIP POST, the Janus join).
    pub started: Instant,
    connected: bool,
    /// Connected since the loop last asked (see [`Peer::take_connected`]).
    newly_connected: bool,
    wake: Instant,
    transmits: Vec<Transmit>,
    /// The kernel receive time of the datagram being handled.
    received_ns: u64,
    failed: Option<String>,
}

fn config() -> RtcConfig {
    let mut config = RtcConfig::new().set_rtp_mode(true).clear_codecs().enable_opus(true, false);
    // What Troupe forwards and the Janus rooms are created with: constrained baseline,
    // packetization-mode 1, level 3.1 (payload types as str0m's defaults).
    config.codec_config().add_h264(108.into(), Some(109.into()), true, 0x42e01f);
    config
}

impl Peer {
    /// A peer that offers (WHIP: the client offers), with its offer.
    pub fn offer(role: Role, media: &Arc<Media>, group: usize) -> Result<(Peer, String)> {
        let mut peer = Peer::new(role, media, group)?;
        let direction = match role {
            Role::Publish { .. } => Direction::SendOnly,
            Role::Subscribe { .. } => Direction::RecvOnly,
        };
        let video = matches!(role, Role::Publish { video: true } | Role::Subscribe { video: true });
        let mut api = peer.rtc.sdp_api();
        let audio_mid = api.add_media(MediaKind::Audio, direction, None, None, None);
        let video_mid = video.then(|| api.add_media(MediaKind::Video, direction, None, None, None));
        let (offer, pending) = api.apply().ok_or_else(|| anyhow!("str0m made no offer"))?;
        peer.pending = Some(pending);
        if let Kind::Publisher { tracks, .. } = &mut peer.kind {
            tracks.push(SendTrack::new(audio_mid, MediaKind::Audio));
            if let Some(mid) = video_mid {
                tracks.push(SendTrack::new(mid, MediaKind::Video));
            }
        }
        Ok((peer, offer.to_sdp_string()))
    }

    /// A peer that answers a server's offer (Janus offers subscriptions), with its answer.
    pub fn answer(
        role: Role,
        media: &Arc<Media>,
        group: usize,
        offer: &str,
    ) -> Result<(Peer, String)> {
        let mut peer = Peer::new(role, media, group)?;
        let offer = SdpOffer::from_sdp_string(offer).context("the server's offer is not SDP")?;
        let answer =
            peer.rtc.sdp_api().accept_offer(offer).context("answering the server's offer")?;
        Ok((peer, answer.to_sdp_string()))
    }

    fn new(role: Role, media: &Arc<Media>, group: usize) -> Result<Peer> {
        let socket = media.endpoints.next()?;
        let local = socket.local_addr()?;
        let now = Instant::now();
        let direct = matches!(role, Role::Subscribe { .. }) && media.receive == ReceivePath::Direct;
        let keys = direct.then(|| Arc::new(KeySlot::default()));
        let mut rtc = match &keys {
            Some(slot) => keytap::build_with_slot(config(), now, slot.clone()),
            None => config().build(now),
        };
        // A relayed peer's only candidate is its relayed address (once allocated).
        if !matches!(socket, PeerSocket::Pending) && media.transport == Transport::Udp {
            rtc.add_local_candidate(Candidate::host(local, "udp").context("a host candidate")?);
        }
        let kind = match role {
            Role::Publish { .. } => {
                Kind::Publisher { media: media.clone(), tracks: Vec::new(), keyframe_wanted: false }
            }
            Role::Subscribe { .. } => {
                Kind::Subscriber { streams: Streams::default(), keys, srtp: None, rtx: Vec::new() }
            }
        };
        Ok(Peer {
            rtc,
            socket,
            local,
            proto: Protocol::Udp,
            tcp_from: media.endpoints.tcp(),
            wants_relay: media.transport == Transport::Turn,
            turn: None,
            pending: None,
            kind,
            group,
            started: now,
            connected: false,
            newly_connected: false,
            wake: now,
            transmits: Vec::new(),
            received_ns: 0,
            failed: None,
        })
    }

    /// Applies the server's answer to [`Peer::offer`] (with the ICE servers of the answer's
    /// `Link` headers). An ICE-TCP peer first connects to the passive TCP candidate the answer
    /// names; a relayed one first allocates on the TURN server.
    pub fn accept(&mut self, answer: &str, ice_servers: &[IceServer]) -> Result<()> {
        if let Some(from) = self.tcp_from {
            self.connect_tcp(answer, from)?;
        }
        if self.wants_relay {
            self.relay(answer, ice_servers)?;
        }
        let answer =
            SdpAnswer::from_sdp_string(answer).context("the server's answer is not SDP")?;
        let pending = self.pending.take().ok_or_else(|| anyhow!("no offer is pending"))?;
        self.rtc
            .sdp_api()
            .accept_answer(pending, answer)
            .context("applying the server's answer")?;
        Ok(())
    }

    fn connect_tcp(&mut self, answer: &str, from: std::net::Ipv4Addr) -> Result<()> {
        let server = answer
            .lines()
            .filter_map(|l| l.trim().strip_prefix("a="))
            .filter(|a| a.starts_with("candidate:"))
            .filter_map(|a| Candidate::from_sdp_string(a).ok())
            .find(|c| c.proto() == Protocol::Tcp && c.tcptype() == Some(TcpType::Passive))
            .ok_or_else(|| anyhow!("the answer has no passive TCP candidate (is ICE-TCP on?)"))?;
        let link = TcpLink::connect(server.addr(), from.into())?;
        self.local = link.local_addr();
        let candidate = Candidate::builder()
            .tcp()
            .host(self.local)
            .tcptype(TcpType::Active)
            .build()
            .context("a TCP candidate")?;
        self.rtc.add_local_candidate(candidate);
        self.socket = PeerSocket::Tcp(Box::new(link));
        self.proto = Protocol::Tcp;
        Ok(())
    }

    fn relay(&mut self, answer: &str, ice_servers: &[IceServer]) -> Result<()> {
        let media = answer
            .lines()
            .filter_map(|l| l.trim().strip_prefix("a="))
            .filter(|a| a.starts_with("candidate:"))
            .filter_map(|a| Candidate::from_sdp_string(a).ok())
            .find(|c| c.proto() == Protocol::Udp)
            .ok_or_else(|| anyhow!("the answer has no UDP candidate to relay to"))?;
        let (server, ice) = turn_link::udp_server(ice_servers)
            .ok_or_else(|| anyhow!("the answer offers no TURN server over UDP (is TURN on?)"))?;
        let PeerSocket::Own(socket) = &self.socket else {
            bail!("a relayed peer needs a socket of its own");
        };
        let link = TurnLink::establish(socket, server, ice, media.addr())?;
        let candidate =
            Candidate::relayed(link.relayed(), self.local, "udp").context("a relayed candidate")?;
        self.rtc.add_local_candidate(candidate);
        self.local = link.relayed();
        self.turn = Some(link);
        Ok(())
    }

    /// Whether the peer's socket is a stream (ICE-TCP), read with [`Peer::receive_stream`].
    pub fn is_stream(&self) -> bool {
        matches!(self.socket, PeerSocket::Tcp(_))
    }

    /// Reads what the peer's ICE-TCP connection brought.
    pub fn receive_stream(&mut self, now: Instant, tally: &mut Tally) {
        let mut socket = std::mem::replace(&mut self.socket, PeerSocket::Pending);
        if let PeerSocket::Tcp(link) = &mut socket {
            let source = link.remote_addr();
            let received = link.receive(|frame| {
                self.on_datagram(now, source, frame, stamp::realtime_ns(), tally);
            });
            if let Err(e) = received {
                self.fail(&format!("ICE-TCP: {e}"));
            }
        }
        self.socket = socket;
    }

    /// The peer's own socket, to watch (none when it shares its loop's).
    pub fn own_fd(&self) -> Option<RawFd> {
        self.socket.own_fd()
    }

    /// The loop whose shared socket the peer uses, if it shares one.
    pub fn loop_index(&self) -> Option<usize> {
        self.socket.loop_index()
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    pub fn is_publisher(&self) -> bool {
        matches!(self.kind, Kind::Publisher { .. })
    }

    /// Whether the peer connected (ICE and DTLS) since the last call.
    pub fn take_connected(&mut self) -> bool {
        std::mem::take(&mut self.newly_connected)
    }

    /// Why the peer stopped, once it has (the loop then drops it).
    pub fn failed(&self) -> Option<&str> {
        self.failed.as_deref()
    }

    /// When the peer next needs [`Peer::on_time`].
    pub fn next_due(&self) -> Instant {
        let mut due = self.wake;
        if let Some(turn) = &self.turn {
            due = due.min(turn.next_due());
        }
        if let Kind::Publisher { tracks, .. } = &self.kind
            && self.connected
        {
            for t in tracks {
                due = due.min(t.next_at);
            }
        }
        due
    }

    /// Gives the peer the time: str0m's timers, frames due, the connect timeout.
    pub fn on_time(&mut self, now: Instant, tally: &mut Tally) {
        if !self.connected && now.duration_since(self.started) > CONNECT_TIMEOUT {
            self.fail("did not connect (ICE and DTLS) within 30 s");
            return;
        }
        if let Some(turn) = self.turn.as_mut() {
            turn.on_time(now);
        }
        if now >= self.wake
            && let Err(e) = self.rtc.handle_input(Input::Timeout(now))
        {
            self.fail(&format!("WebRTC: {e}"));
            return;
        }
        self.publish_due(now, tally);
        self.drive(now, tally);
    }

    /// Feeds one received datagram (received by the kernel at `received_ns`).
    pub fn on_datagram(
        &mut self,
        now: Instant,
        source: SocketAddr,
        data: &[u8],
        received_ns: u64,
        tally: &mut Tally,
    ) {
        if let Some(turn) = self.turn.as_mut() {
            // Everything comes from the TURN server: the relayed datagram, or its own answer.
            if let Some((peer, inner)) = turn.unwrap(data) {
                self.on_relayed(now, peer, inner, received_ns, tally);
            }
            return;
        }
        self.on_relayed(now, source, data, received_ns, tally);
    }

    /// A datagram as the server's media sent it (relayed or not).
    fn on_relayed(
        &mut self,
        now: Instant,
        source: SocketAddr,
        data: &[u8],
        received_ns: u64,
        tally: &mut Tally,
    ) {
        self.received_ns = received_ns;
        if self.connected && rtp::is_rtp(data) && self.receive_direct(now, data, tally) {
            return;
        }
        let Ok(contents) = data.try_into() else { return };
        let input = Input::Receive(
            now,
            Receive { proto: self.proto, source, destination: self.local, contents },
        );
        if let Err(e) = self.rtc.handle_input(input) {
            self.fail(&format!("WebRTC: {e}"));
            return;
        }
        self.drive(now, tally);
    }

    /// Sends the datagrams the peer has queued; returns (sent, refused).
    pub fn flush(&mut self) -> (u64, u64) {
        if self.transmits.is_empty() {
            return (0, 0);
        }
        let counts = match self.turn.as_mut() {
            Some(turn) => {
                let wrapped = turn.wrap(&self.transmits);
                self.socket.send(&wrapped)
            }
            None => self.socket.send(&self.transmits),
        };
        self.transmits.clear();
        counts
    }

    /// Starts a measurement window: the streams' window counters start from the next packet.
    pub fn begin_window(&mut self) {
        if let Kind::Subscriber { streams, .. } = &mut self.kind {
            streams.begin_window();
        }
    }

    /// Ends a window: adds the packets the window should have brought (by sequence number).
    pub fn end_window(&mut self, tally: &mut Tally) {
        if let Kind::Subscriber { streams, .. } = &mut self.kind {
            streams.end_window(tally);
        }
    }

    /// The direct receive path of a subscriber's media packet; false when the packet is
    /// str0m's to handle (a publisher, [`ReceivePath::Str0m`], no keys yet).
    fn receive_direct(&mut self, now: Instant, data: &[u8], tally: &mut Tally) -> bool {
        let Kind::Subscriber { streams, keys: key_slot, srtp, rtx } = &mut self.kind else {
            return false;
        };
        if srtp.is_none() {
            let Some(keys) = key_slot.as_ref().and_then(|slot| slot.get()) else { return false };
            match SrtpReceiver::new(&keys, &keytap::provider()) {
                Some(receiver) => *srtp = Some(receiver),
                None => {
                    // A profile or key length this does not know: str0m decrypts instead, for
                    // good (without the slot this is not tried again for every packet).
                    *key_slot = None;
                    eprintln!("troupe-load: SRTP profile {:?} not handled directly", keys.profile);
                    return false;
                }
            }
            *rtx = resend_payload_types(&self.rtc);
        }
        let Some(srtp) = srtp else { return false };
        let arrival = Arrival {
            received_ns: self.received_ns,
            now,
            started: self.started,
            group: self.group,
        };
        streams.take_srtp(srtp, rtx, data, arrival, tally);
        true
    }

    fn fail(&mut self, why: &str) {
        if self.failed.is_none() {
            self.failed = Some(why.to_string());
        }
        self.rtc.disconnect();
    }

    fn drive(&mut self, now: Instant, tally: &mut Tally) {
        // str0m's pacer releases newly written packets on the timeout it asks for right away:
        // give it that at once, so that a stamped packet leaves now and not a tick later.
        let mut immediate = 0;
        loop {
            if !self.rtc.is_alive() {
                if self.failed.is_none() {
                    self.failed = Some("the connection closed".into());
                }
                return;
            }
            match self.rtc.poll_output() {
                Ok(Output::Timeout(at)) => {
                    self.wake = at;
                    if at > now || immediate == 4 {
                        return;
                    }
                    immediate += 1;
                    if let Err(e) = self.rtc.handle_input(Input::Timeout(now)) {
                        self.fail(&format!("WebRTC: {e}"));
                        return;
                    }
                }
                Ok(Output::Transmit(t)) => self.transmits.push(t),
                Ok(Output::Event(event)) => self.on_event(event, now, tally),
                Err(e) => {
                    self.fail(&format!("WebRTC: {e}"));
                    return;
                }
            }
        }
    }

    fn on_event(&mut self, event: Event, now: Instant, tally: &mut Tally) {
        match event {
            Event::Connected => {
                self.connected = true;
                self.newly_connected = true;
                if let Kind::Publisher { tracks, .. } = &mut self.kind {
                    for t in tracks.iter_mut() {
                        t.next_at = now;
                        t.pt = payload_type(&self.rtc, t.kind);
                    }
                }
            }
            Event::IceConnectionStateChange(IceConnectionState::Disconnected) => {
                self.fail("ICE disconnected");
            }
            Event::KeyframeRequest(_) => {
                if let Kind::Publisher { keyframe_wanted, .. } = &mut self.kind {
                    *keyframe_wanted = true;
                }
            }
            Event::RtpPacket(packet) => {
                let Kind::Subscriber { streams, .. } = &mut self.kind else { return };
                streams.record(
                    *packet.header.ssrc,
                    *packet.seq_no,
                    &packet.payload,
                    self.received_ns,
                    now,
                    self.started,
                    self.group,
                    tally,
                );
            }
            _ => {}
        }
    }

    fn publish_due(&mut self, now: Instant, tally: &mut Tally) {
        if !self.connected {
            return;
        }
        let Kind::Publisher { media, tracks, keyframe_wanted } = &mut self.kind else { return };
        for track in tracks.iter_mut() {
            if now.saturating_duration_since(track.next_at) > MAX_LAG {
                track.next_at = now;
            }
            while track.next_at <= now {
                let sent = match track.kind {
                    MediaKind::Audio => send_audio(&mut self.rtc, track, &media.audio, now),
                    MediaKind::Video => match &media.video {
                        Some(video) => {
                            send_video(&mut self.rtc, track, video, keyframe_wanted, now)
                        }
                        None => 0,
                    },
                };
                if tally.window_open {
                    tally.sent += sent;
                }
            }
        }
    }
}

impl SendTrack {
    fn new(mid: Mid, kind: MediaKind) -> Self {
        SendTrack {
            mid,
            kind,
            pt: None,
            sequence: u64::from(rand_u16()),
            rtp_time: u32::from(rand_u16()) << 8,
            position: 0,
            next_at: Instant::now(),
        }
    }

    /// Writes one packet, stamped now.
    fn write(&mut self, rtc: &mut Rtc, template: &[u8], marker: bool, now: Instant) -> u64 {
        let Some(pt) = self.pt else { return 0 };
        let mut payload = template.to_vec();
        stamp::write_stamp(&mut payload, stamp::realtime_ns());
        let write =
            RtpWrite::new(pt, self.sequence.into(), self.rtp_time, now, Arc::<[u8]>::from(payload))
                .marker(marker)
                .nackable(true);
        let mut api = rtc.direct_api();
        let Some(stream) = api.stream_tx_by_mid(self.mid, None) else { return 0 };
        stream.write_rtp(write);
        self.sequence += 1;
        1
    }
}

fn send_audio(rtc: &mut Rtc, track: &mut SendTrack, clip: &AudioClip, now: Instant) -> u64 {
    let packet = &clip.packets[track.position % clip.packets.len()];
    let sent = track.write(rtc, packet, false, now);
    track.position += 1;
    track.rtp_time = track.rtp_time.wrapping_add(960);
    track.next_at += Duration::from_millis(20);
    sent
}

fn send_video(
    rtc: &mut Rtc,
    track: &mut SendTrack,
    clip: &VideoClip,
    keyframe_wanted: &mut bool,
    now: Instant,
) -> u64 {
    if std::mem::take(keyframe_wanted) {
        // A keyframe on request, as an encoder gives one: the clip starts with its IDR.
        track.position = 0;
    }
    let frame = &clip.frames[track.position % clip.frames.len()];
    let mut sent = 0;
    for (i, payload) in frame.payloads.iter().enumerate() {
        sent += track.write(rtc, payload, i + 1 == frame.payloads.len(), now);
    }
    track.position += 1;
    track.rtp_time = track.rtp_time.wrapping_add(90_000 / clip.fps);
    track.next_at += Duration::from_secs(1) / clip.fps;
    sent
}

/// The payload types a session negotiated for retransmissions (RTX).
fn resend_payload_types(rtc: &Rtc) -> Vec<u8> {
    rtc.codec_config().params().iter().filter_map(|p| p.resend()).map(|pt| *pt).collect()
}

fn payload_type(rtc: &Rtc, kind: MediaKind) -> Option<Pt> {
    let codec = match kind {
        MediaKind::Audio => Codec::Opus,
        MediaKind::Video => Codec::H264,
    };
    rtc.codec_config().params().iter().find(|p| p.spec().codec == codec).map(|p| p.pt())
}

/// A random start for sequence numbers and timestamps (RFC 3550), without a dependency.
fn rand_u16() -> u16 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(Instant::now()) as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merged_tallies_add_every_counter() {
        let part = |n: u64| {
            let mut t = Tally {
                received: n,
                expected: n + 1,
                sent: n + 2,
                unstamped: n + 3,
                reordered: n + 4,
                rejected: n + 5,
                joins: vec![(0, n)],
                failures: vec![(0, format!("peer {n}"))],
                ..Tally::default()
            };
            t.delay.record(n);
            t
        };
        let mut total = Tally::default();
        total.merge(part(10));
        total.merge(part(20));
        assert_eq!(
            (total.received, total.expected, total.sent, total.unstamped, total.reordered),
            (30, 32, 34, 36, 38)
        );
        assert_eq!(total.rejected, 40, "rejected packets are counted across loops");
        assert_eq!((total.joins.len(), total.failures.len()), (2, 2));
        assert_eq!((total.delay.count(), total.delay.max()), (2, 20));
    }
}
