//! A media worker: one thread, one UDP socket, the sessions (str0m `Rtc`s) of the stages pinned
//! to it. The thread is the only place that reads the socket or the clock for them; everything
//! else reaches it through [`WorkerHandle`] commands.
//!
//! Demultiplexing: a datagram from a known remote address goes straight to its session (one
//! hash lookup); only a datagram from a new address (the first STUN binding request of a
//! session, or a client that moved) is offered to the sessions in turn, and the session that
//! accepts it is remembered for that address.
//!
//! Forwarding: an RTP packet from a publishing session is written, as it is (no depacketizing),
//! to every session subscribed to that publisher that negotiated the same codec, each through
//! its own [`RtpRewriter`] (its SSRC, sequence numbers and timestamps). A video subscription
//! starts at a keyframe; while one waits, the publisher is asked for a keyframe (PLI,
//! throttled). Still to come: forwarding subscribers' own keyframe requests and NACKs upstream,
//! and per-packet work without the O(sessions) scan for subscribers.

use std::{
    collections::HashMap,
    io,
    net::{SocketAddr, UdpSocket},
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
        mpsc,
    },
    thread,
    time::{Duration, Instant},
};

use str0m::{
    Event, IceConnectionState, Input, Output, Rtc,
    format::{Codec, CodecSpec, PayloadParams},
    media::{KeyframeRequestKind, MediaKind, Mid, Pt},
    net::{Protocol, Receive},
    rtp::{RtpPacket, RtpWrite, Ssrc},
};

use crate::{
    keyframe::{KeyframeRequests, VideoCodec, starts_keyframe},
    rewrite::{Decision, DropReason, Incoming, RtpRewriter},
};

/// How long a session may take to complete ICE and DTLS.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// The shortest interval between two keyframe requests to one publisher.
const KEYFRAME_INTERVAL: Duration = Duration::from_millis(500);

/// Names a publisher within a worker: `<stage id>/<participant id>`.
pub type PublisherKey = String;

/// What a session does on its stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    Publish { key: PublisherKey },
    Subscribe { publisher: PublisherKey },
}

/// How long the worker sleeps at most without input, so that new commands are picked up.
const COMMAND_POLL: Duration = Duration::from_millis(20);
/// Large enough for any datagram WebRTC sends (MTU-sized).
const DATAGRAM_BUFFER: usize = 2048;

/// Counters a worker keeps (read by metrics and tests).
#[derive(Debug, Default)]
pub struct WorkerStats {
    pub sessions: AtomicU64,
    pub connected_sessions: AtomicU64,
    pub datagrams_in: AtomicU64,
    pub bytes_in: AtomicU64,
    pub datagrams_out: AtomicU64,
    pub bytes_out: AtomicU64,
    pub rtp_packets_in: AtomicU64,
    pub rtp_packets_out: AtomicU64,
    pub keyframe_requests: AtomicU64,
    pub datagrams_dropped: AtomicU64,
}

/// Called once when a session ends, whatever ended it (from the worker thread: keep it short).
pub type OnEnd = Box<dyn FnOnce() + Send>;

enum Command {
    AddSession { id: u64, rtc: Box<Rtc>, role: Role, on_end: OnEnd },
    EndSession { id: u64 },
}

/// How the rest of the server reaches a worker.
#[derive(Clone)]
pub struct WorkerHandle {
    commands: mpsc::Sender<Command>,
    /// Publishing sessions by key: what subscriptions may attach to.
    publishers: Arc<std::sync::Mutex<HashMap<PublisherKey, u64>>>,
    local_addr: SocketAddr,
    stats: Arc<WorkerStats>,
}

impl std::fmt::Debug for WorkerHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkerHandle").field("local_addr", &self.local_addr).finish_non_exhaustive()
    }
}

impl WorkerHandle {
    /// The worker's UDP address (what its sessions' ICE candidates name).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    pub fn stats(&self) -> &WorkerStats {
        &self.stats
    }

    /// Hands a session (built by [`crate::session::answer_offer`]) to the worker. `id` must be
    /// unique on this worker; `on_end` runs when the session ends.
    pub fn add_session(&self, id: u64, rtc: Rtc, role: Role, on_end: OnEnd) -> bool {
        if let Role::Publish { key } = &role {
            self.lock_publishers().insert(key.clone(), id);
        }
        let command = Command::AddSession { id, rtc: Box::new(rtc), role, on_end };
        match self.commands.send(command) {
            Ok(()) => true,
            // The worker is gone: undo the claim and report the session as ended at once.
            Err(mpsc::SendError(Command::AddSession { id, role, on_end, .. })) => {
                if let Role::Publish { key } = role {
                    let mut publishers = self.lock_publishers();
                    if publishers.get(&key) == Some(&id) {
                        publishers.remove(&key);
                    }
                }
                on_end();
                false
            }
            Err(_) => false,
        }
    }

    /// Claims a stage's publisher slot for `key` (a republish keeps its slot), unless the
    /// stage already has `max` publishers. Claiming before the session exists closes the race
    /// of concurrent first publishes, and keeps a republish's subscribers with the key.
    pub fn claim_publisher(&self, key: &str, stage_prefix: &str, id: u64, max: usize) -> bool {
        let mut publishers = self.lock_publishers();
        let count = publishers.keys().filter(|k| k.starts_with(stage_prefix)).count();
        if !publishers.contains_key(key) && count >= max {
            return false;
        }
        publishers.insert(key.to_string(), id);
        true
    }

    /// Gives up a claim that did not become a session (only if it is still `id`'s).
    pub fn release_publisher(&self, key: &str, id: u64) {
        let mut publishers = self.lock_publishers();
        if publishers.get(key) == Some(&id) {
            publishers.remove(key);
        }
    }

    /// Ends a session (WHIP DELETE, DisconnectParticipant, a replacing publish).
    pub fn end_session(&self, id: u64) {
        let _ = self.commands.send(Command::EndSession { id });
    }

    /// How many publishing keys start with `prefix` (a stage's: `<stage id>/`).
    pub fn publisher_count(&self, prefix: &str) -> usize {
        self.lock_publishers().keys().filter(|k| k.starts_with(prefix)).count()
    }

    /// Whether someone publishes under `key` on this worker now.
    pub fn is_publishing(&self, key: &str) -> bool {
        self.lock_publishers().contains_key(key)
    }

    fn lock_publishers(&self) -> std::sync::MutexGuard<'_, HashMap<PublisherKey, u64>> {
        self.publishers.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Starts a worker on `bind`.
pub fn spawn(bind: SocketAddr) -> io::Result<WorkerHandle> {
    let socket = UdpSocket::bind(bind)?;
    let local_addr = socket.local_addr()?;
    let (commands, receiver) = mpsc::channel();
    let stats = Arc::new(WorkerStats::default());
    let publishers = Arc::new(std::sync::Mutex::new(HashMap::new()));
    let worker = Worker {
        publishers: publishers.clone(),
        socket,
        local_addr,
        commands: receiver,
        sessions: Vec::new(),
        by_address: HashMap::new(),
        stats: stats.clone(),
    };
    thread::Builder::new()
        .name(format!("media-{}", local_addr.port()))
        .spawn(move || worker.supervise())?;
    Ok(WorkerHandle { commands, publishers, local_addr, stats })
}

struct Session {
    /// Unique within the worker: tells sources apart in the rewriters.
    id: u64,
    /// When the session was added: one that never connects is dropped after a while.
    added: Instant,
    on_end: Option<OnEnd>,
    role: Role,
    rtc: Rtc,
    /// For subscriptions: the rewriter of each outgoing track, by its mid.
    outgoing: HashMap<Mid, (RtpRewriter, Option<u64>)>,
    /// The tracks this session sends, as negotiated (from str0m's MediaAdded events).
    sending: Vec<(Mid, MediaKind)>,
    connected: bool,
    /// When the session asked to be given the time next.
    wake: Option<Instant>,
    /// Publishers: the throttle on keyframe requests sent to it, and the video stream they
    /// are for.
    keyframes: KeyframeRequests,
    video_ssrc: Option<Ssrc>,
}

struct Worker {
    publishers: Arc<std::sync::Mutex<HashMap<PublisherKey, u64>>>,
    socket: UdpSocket,
    local_addr: SocketAddr,
    commands: mpsc::Receiver<Command>,
    sessions: Vec<Session>,
    /// Remote address → index in `sessions`.
    by_address: HashMap<SocketAddr, usize>,
    stats: Arc<WorkerStats>,
}

impl Worker {
    /// Runs the loop; if it ever panics (a bug, in str0m or here), ends every session it had —
    /// so that their stages see them leave and their publisher slots free up — and goes on.
    fn supervise(mut self) {
        loop {
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.run()));
            if outcome.is_ok() {
                return;
            }
            tracing::error!(
                port = self.local_addr.port(),
                "media worker panicked; ending its sessions"
            );
            while let Some(last) = self.sessions.len().checked_sub(1) {
                self.remove(last);
            }
            self.by_address.clear();
        }
    }

    fn run(&mut self) {
        let mut buffer = vec![0u8; DATAGRAM_BUFFER];
        loop {
            loop {
                match self.commands.try_recv() {
                    Ok(Command::EndSession { id }) => {
                        if let Some(s) = self.sessions.iter_mut().find(|s| s.id == id) {
                            s.rtc.disconnect();
                        }
                    }
                    Ok(Command::AddSession { id, mut rtc, role, on_end }) => {
                        // A subscription to a publisher that ended meanwhile ends at once.
                        if let Role::Subscribe { publisher } = &role
                            && !self.publishers.lock().is_ok_and(|p| p.contains_key(publisher))
                        {
                            rtc.disconnect();
                        }
                        self.sessions.push(Session {
                            added: Instant::now(),
                            on_end: Some(on_end),
                            id,
                            role,
                            rtc: *rtc,
                            outgoing: HashMap::new(),
                            sending: Vec::new(),
                            connected: false,
                            wake: None,
                            keyframes: KeyframeRequests::new(KEYFRAME_INTERVAL),
                            video_ssrc: None,
                        });
                        self.stats.sessions.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(mpsc::TryRecvError::Empty) => break,
                    // Every handle is gone: the server is stopping.
                    Err(mpsc::TryRecvError::Disconnected) => return,
                }
            }
            let next = self.drive_all();
            let wait = next
                .map(|at| at.saturating_duration_since(Instant::now()))
                .unwrap_or(COMMAND_POLL)
                .clamp(Duration::from_millis(1), COMMAND_POLL);
            if self.socket.set_read_timeout(Some(wait)).is_err() {
                return;
            }
            match self.socket.recv_from(&mut buffer) {
                Ok((n, source)) => self.receive(&buffer[..n], source),
                Err(e)
                    if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "media socket receive failed");
                }
            }
            // Give the time to the sessions that asked for it; drop those that never connected
            // (a tab closed after its POST, an offer without usable candidates).
            let now = Instant::now();
            for session in &mut self.sessions {
                if !session.connected && now.duration_since(session.added) > CONNECT_TIMEOUT {
                    session.rtc.disconnect();
                }
                // A keyframe request held back by the throttle goes out when its turn comes.
                if let Some(ssrc) = session.video_ssrc
                    && session.keyframes.handle_timeout(now)
                    && let Some(stream) = session.rtc.direct_api().stream_rx(&ssrc)
                {
                    stream.request_keyframe(KeyframeRequestKind::Pli);
                    self.stats.keyframe_requests.fetch_add(1, Ordering::Relaxed);
                }
                if session.wake.is_some_and(|at| at <= now) {
                    session.wake = None;
                    let _ = session.rtc.handle_input(Input::Timeout(now));
                }
            }
        }
    }

    /// Polls every session until it waits; sends what it transmits. Returns the earliest time
    /// any session wants to be woken.
    fn drive_all(&mut self) -> Option<Instant> {
        let mut earliest: Option<Instant> = None;
        let mut index = 0;
        let mut received: Vec<RtpPacket> = Vec::new();
        while index < self.sessions.len() {
            let session = &mut self.sessions[index];
            let wake = loop {
                match session.rtc.poll_output() {
                    Ok(Output::Timeout(at)) => break Some(at),
                    Ok(Output::Transmit(t)) => {
                        if self.socket.send_to(&t.contents, t.destination).is_ok() {
                            self.stats.datagrams_out.fetch_add(1, Ordering::Relaxed);
                            self.stats
                                .bytes_out
                                .fetch_add(t.contents.len() as u64, Ordering::Relaxed);
                        }
                    }
                    Ok(Output::Event(event)) => match event {
                        Event::RtpPacket(packet) => {
                            if matches!(session.role, Role::Publish { .. }) {
                                self.stats.rtp_packets_in.fetch_add(1, Ordering::Relaxed);
                                received.push(packet);
                            }
                        }
                        Event::IceConnectionStateChange(IceConnectionState::Disconnected) => {
                            session.rtc.disconnect();
                        }
                        Event::MediaAdded(added) if added.direction.is_sending() => {
                            session.sending.push((added.mid, added.kind));
                        }
                        Event::Connected => {
                            session.connected = true;
                            self.stats.connected_sessions.fetch_add(1, Ordering::Relaxed);
                        }
                        _ => {}
                    },
                    Err(e) => {
                        tracing::debug!(error = %e, "media session failed");
                        session.rtc.disconnect();
                        break None;
                    }
                }
            };
            session.wake = wake;
            if !session.rtc.is_alive() {
                self.remove(index);
                received.clear();
                continue;
            }
            // Forward right away, then poll the others (which now have packets to send).
            for packet in received.drain(..) {
                self.forward(index, &packet);
            }
            if let Some(at) = wake {
                earliest = Some(earliest.map_or(at, |e| e.min(at)));
            }
            index += 1;
        }
        earliest
    }

    /// Writes a publisher's packet to each of its subscribers that can take it.
    fn forward(&mut self, from: usize, packet: &RtpPacket) {
        let publisher = &self.sessions[from];
        let Role::Publish { key } = &publisher.role else { return };
        let pt = packet.header.payload_type;
        let Some(spec) = publisher.rtc.codec_config().find(|p| p.pt() == pt).map(|p| p.spec())
        else {
            return;
        };
        let codec = spec.codec;
        let (kind, clock_rate, video) = match codec {
            Codec::Opus => (MediaKind::Audio, 48_000, None),
            Codec::Vp8 => (MediaKind::Video, 90_000, Some(VideoCodec::Vp8)),
            Codec::H264 => (MediaKind::Video, 90_000, Some(VideoCodec::H264)),
            _ => return, // Not a codec stages forward (the answer did not offer it).
        };
        let keyframe_start = video.is_none_or(|c| starts_keyframe(c, &packet.payload));
        let (key, source) = (key.clone(), publisher.id);
        let now = Instant::now();
        let mut needs_keyframe = false;
        for session in &mut self.sessions {
            let subscribed =
                matches!(&session.role, Role::Subscribe { publisher } if *publisher == key);
            if !subscribed || !session.connected {
                continue;
            }
            let Some((mid, out_pt)) = outgoing_track(session, kind, spec) else {
                continue;
            };
            let (rewriter, extended) = session
                .outgoing
                .entry(mid)
                .or_insert_with(|| (RtpRewriter::new(clock_rate, video.is_some()), None));
            let incoming = Incoming {
                source,
                sequence: packet.header.sequence_number,
                timestamp: packet.header.timestamp,
                keyframe_start,
            };
            let (sequence, timestamp) = match rewriter.rewrite(incoming, now) {
                Decision::Forward { sequence, timestamp } => (sequence, timestamp),
                Decision::Drop(DropReason::WaitingForKeyframe) => {
                    needs_keyframe = true;
                    continue;
                }
                Decision::Drop(DropReason::BeforeSwitch) => continue,
            };
            // Extend the 16-bit sequence number: its upper bits are SRTP's rollover counter,
            // which starts at 0 on both ends.
            let next = match *extended {
                None => u64::from(sequence),
                Some(last) => {
                    last.wrapping_add_signed(i64::from(sequence.wrapping_sub(last as u16) as i16))
                }
            };
            *extended = Some(next);
            let write = RtpWrite::new(out_pt, next.into(), timestamp, now, packet.payload.clone())
                .marker(packet.header.marker)
                .ext_vals(packet.header.ext_vals.clone())
                .nackable(true);
            let mut direct = session.rtc.direct_api();
            let Some(stream) = direct.stream_tx_by_mid(mid, None) else {
                continue;
            };
            stream.write_rtp(write);
            self.stats.rtp_packets_out.fetch_add(1, Ordering::Relaxed);
        }
        if needs_keyframe {
            // A subscription waits for a keyframe (it is new, or its source changed): ask the
            // publisher, at most once per interval however many wait.
            self.request_keyframe(from, packet.header.ssrc, now);
        }
    }

    /// Sends a PLI to a publisher for one of its streams, throttled.
    fn request_keyframe(&mut self, publisher: usize, ssrc: Ssrc, now: Instant) {
        let session = &mut self.sessions[publisher];
        session.video_ssrc = Some(ssrc);
        if session.keyframes.request(now)
            && let Some(stream) = session.rtc.direct_api().stream_rx(&ssrc)
        {
            stream.request_keyframe(KeyframeRequestKind::Pli);
            self.stats.keyframe_requests.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn remove(&mut self, index: usize) {
        let mut session = self.sessions.swap_remove(index);
        if let Role::Publish { key } = &session.role {
            let mut publishers =
                self.publishers.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            // Only if it is still this session's: a newer publish may have taken the key, and
            // then its subscribers carry on with the new source.
            if publishers.get(key) == Some(&session.id) {
                publishers.remove(key);
                drop(publishers);
                // The publisher is gone: its subscriptions end (the client subscribes again
                // when it publishes again, as it learns from the stage state).
                let gone = Role::Subscribe { publisher: key.clone() };
                for other in self.sessions.iter_mut().filter(|s| s.role == gone) {
                    other.rtc.disconnect();
                }
            }
        }
        if let Some(on_end) = session.on_end.take() {
            on_end();
        }
        if session.connected {
            self.stats.connected_sessions.fetch_sub(1, Ordering::Relaxed);
        }
        self.stats.sessions.fetch_sub(1, Ordering::Relaxed);
        // Fix the address map: drop the removed session's addresses, renumber the moved one.
        let moved_from = self.sessions.len();
        self.by_address.retain(|_, i| *i != index);
        for i in self.by_address.values_mut() {
            if *i == moved_from {
                *i = index;
            }
        }
    }

    fn receive(&mut self, datagram: &[u8], source: SocketAddr) {
        self.stats.datagrams_in.fetch_add(1, Ordering::Relaxed);
        self.stats.bytes_in.fetch_add(datagram.len() as u64, Ordering::Relaxed);
        let Ok(contents) = datagram.try_into() else {
            // Not STUN, DTLS or SRTP: garbage on the port.
            self.stats.datagrams_dropped.fetch_add(1, Ordering::Relaxed);
            return;
        };
        let input = Input::Receive(
            Instant::now(),
            Receive { proto: Protocol::Udp, source, destination: self.local_addr, contents },
        );
        let index = match self.by_address.get(&source) {
            Some(&i) if self.sessions[i].rtc.accepts(&input) => Some(i),
            // Only STUN (first byte 0–3, RFC 7983) may introduce a new address: anything else
            // from an unknown source is dropped without trying every session.
            _ if datagram.first().is_some_and(|b| *b > 3) => None,
            _ => self.sessions.iter().position(|s| s.rtc.accepts(&input)),
        };
        let Some(index) = index else {
            self.stats.datagrams_dropped.fetch_add(1, Ordering::Relaxed);
            return;
        };
        self.by_address.insert(source, index);
        if let Err(e) = self.sessions[index].rtc.handle_input(input) {
            tracing::debug!(error = %e, %source, "media input refused");
        }
    }
}

/// A subscription's outgoing track of `kind`, and the payload type it negotiated for `codec`.
/// Prefers the payload type with exactly the publisher's format (for H.264: the same profile
/// and packetization mode), else one of the same codec.
fn outgoing_track(session: &Session, kind: MediaKind, spec: CodecSpec) -> Option<(Mid, Pt)> {
    let mid = session.sending.iter().find(|(_, k)| *k == kind).map(|(mid, _)| *mid)?;
    let media = session.rtc.media(mid)?;
    let config = session.rtc.codec_config();
    let negotiated = |p: &&PayloadParams| media.remote_pts().contains(&p.pt());
    let exact = config.params().iter().filter(negotiated).find(|p| p.spec() == spec);
    let same_codec =
        || config.params().iter().filter(negotiated).find(|p| p.spec().codec == spec.codec);
    Some((mid, exact.or_else(same_codec)?.pt()))
}
