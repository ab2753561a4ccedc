//! The SFU's core, sans-IO: the sessions (str0m `Rtc`s) of the stages pinned to one worker, and
//! what each packet does. It is fed datagrams and the time and produces datagrams to send; it
//! never reads a socket or a clock, so tests drive it with simulated time (see
//! `tests/router_sim.rs`) exactly as the worker thread drives it with the real one.
//!
//! Per datagram, in O(1) of the number of sessions:
//! - **Demultiplexing**: a datagram from a known remote address goes to that address's
//!   session (one hash lookup). A STUN check from a new address names its session by the ufrag
//!   in its USERNAME (another lookup); nothing else may introduce an address.
//! - **Forwarding**: an RTP packet from a publisher goes, as it is (no depacketizing), to each
//!   subscription of that publisher's *topic* (a list of indices), through the subscription's
//!   [`RtpRewriter`] (its SSRC, sequence numbers, timestamps). Only the sessions that got
//!   something are polled for output.
//! - **Keyframes**: a video subscription starts at a keyframe; while one waits, and whenever a
//!   subscriber sends PLI/FIR, the publisher is asked for one — throttled per publisher
//!   ([`KeyframeRequests`]).
//! - **NACK/RTX per hop**: str0m NACKs losses on a publisher's uplink (and un-wraps the RTX
//!   repairs before we see them), and answers subscribers' NACKs from its send buffer with RTX
//!   (packets are written `nackable`). Counts come from str0m's periodic statistics.
//!
//! Allocation on the packet path: none in this file (payloads are shared `Arc`s, buffers and
//! lists are reused). str0m allocates the decrypted payload of each received packet and each
//! encrypted datagram it emits; that is below this API.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::Arc,
    time::{Duration, Instant},
};

use str0m::{
    Candidate, Event, IceConnectionState, IceCreds, Input, Output, Rtc,
    format::{Codec, CodecSpec, PayloadParams},
    media::{Direction, KeyframeRequestKind, MediaKind, Mid, Pt},
    net::{Protocol, Receive, Transmit},
    rtp::{RtpPacket, RtpWrite, Ssrc},
};

use crate::{
    endpoint::Endpoint,
    keyframe::{KeyframeRequests, VideoCodec, starts_keyframe},
    rewrite::{Decision, DropReason, Incoming, RtpRewriter},
    sdpfrag::Fragment,
    slab::Slab,
    stats::MediaStats,
    stun,
    tap::{MediaTap, TapCodec, TappedPacket},
};

/// What a session does on its stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    Publish,
    /// Receives what `publisher` (a participant id of the same stage) publishes.
    Subscribe {
        publisher: String,
    },
}

/// Limits and timings.
#[derive(Debug, Clone)]
pub struct RouterConfig {
    /// Publishing participants per stage (DESIGN §2: 12).
    pub max_publishers: usize,
    /// How long a session may take to complete ICE and DTLS.
    pub connect_timeout: Duration,
    /// The shortest interval between two keyframe requests to one publisher.
    pub keyframe_interval: Duration,
    /// Sessions end when they reach this age (24 h by default).
    pub max_session_duration: Duration,
}

impl Default for RouterConfig {
    fn default() -> Self {
        RouterConfig {
            max_publishers: 12,
            connect_timeout: Duration::from_secs(30),
            keyframe_interval: Duration::from_millis(500),
            max_session_duration: Duration::from_secs(24 * 3600),
        }
    }
}

/// Why a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// The client closed, ICE was lost, or the server ended it (WHIP DELETE, replaced,
    /// disconnected).
    Closed,
    /// ICE and DTLS did not complete in time.
    ConnectTimeout,
    /// The session reached the maximum duration.
    Expired,
    /// The publisher it subscribed to stopped publishing.
    PublisherGone,
    /// The worker failed (a bug); its sessions were ended.
    WorkerFailed,
}

/// Called once when a session that was added ends.
pub type OnEnd = Box<dyn FnOnce(EndReason) + Send>;

/// A session to add: built by [`crate::session::answer_offer`].
pub struct NewSession {
    /// Unique within the worker.
    pub id: u64,
    pub stage: String,
    pub participant: String,
    pub role: Role,
    pub rtc: Rtc,
    /// The client's ICE credentials from its offer (a PATCH with others restarts ICE).
    pub remote_ice: Option<IceCreds>,
    /// The server's candidates in the answer (repeated in ICE restart answers).
    pub candidates: Vec<Candidate>,
    /// The media the answer accepted (see [`crate::session::Answered::media`]).
    pub media: Vec<(Mid, MediaKind, Direction)>,
    pub on_end: OnEnd,
    /// A publisher's packets are also given to this (recording, a channel's packager).
    pub tap: Option<Arc<dyn MediaTap>>,
}

impl NewSession {
    /// A session from an answered offer.
    pub fn new(
        id: u64,
        stage: &str,
        participant: &str,
        role: Role,
        answered: crate::session::Answered,
        on_end: OnEnd,
    ) -> Self {
        let crate::session::Answered { rtc, remote_ice, candidates, media, .. } = answered;
        NewSession {
            id,
            stage: stage.to_string(),
            participant: participant.to_string(),
            role,
            rtc,
            remote_ice,
            candidates,
            media,
            on_end,
            tap: None,
        }
    }

    /// Gives the publisher's packets to `tap` as well.
    pub fn with_tap(mut self, tap: Arc<dyn MediaTap>) -> Self {
        self.tap = Some(tap);
        self
    }
}

/// Why a session was not added.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddError {
    #[error("the stage already has {max} publishers")]
    StageAtCapacity { max: usize },
    #[error("participant {0} is not publishing on this stage")]
    PublisherNotFound(String),
    #[error(
        "the subscription cannot decode the publisher's {kind} ({codec}); offer {codec} to receive it"
    )]
    CodecMismatch { kind: &'static str, codec: String },
    #[error("session {0} exists already")]
    DuplicateId(u64),
    #[error("the media worker is not running")]
    WorkerStopped,
}

/// What a PATCH did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatchOutcome {
    /// Candidates were added (RFC 9725: 204).
    Trickled,
    /// ICE restarted: the server's new fragment (RFC 9725: 200 with this body) and the new
    /// entity tag.
    Restarted { answer: String, etag: String },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatchError {
    #[error("no media session {0}")]
    NotFound(u64),
    /// RFC 9725 §4.3: If-Match names an ICE session that is no longer current (412).
    #[error("If-Match {given} does not match the session's current entity tag {current}")]
    PreconditionFailed { given: String, current: String },
}

/// The entity tag of a session's current ICE session (RFC 9725 §4.3): changes on restart.
pub fn entity_tag(local_ufrag: &str) -> String {
    format!("\"{local_ufrag}\"")
}

/// An outgoing track of a subscription.
struct Track {
    mid: Mid,
    kind: MediaKind,
    rewriter: Option<RtpRewriter>,
    /// Last extended sequence number written: its upper bits are SRTP's rollover counter.
    extended: Option<u64>,
    /// The publisher's payload type last seen, and ours for it.
    route: Option<(Pt, Pt)>,
}

struct Session {
    id: u64,
    stage: String,
    participant: String,
    role: Role,
    topic: usize,
    rtc: Rtc,
    added: Instant,
    connected: bool,
    /// When str0m wants the time next.
    wake: Option<Instant>,
    /// Why the session is ending, when the router ended it.
    ending: Option<EndReason>,
    on_end: Option<OnEnd>,
    /// Remote addresses that reach this session (bounded: see [`MAX_ADDRESSES`]).
    addresses: Vec<Remote>,
    local_ufrag: String,
    remote_ice: Option<IceCreds>,
    candidates: Vec<Candidate>,
    /// Subscriptions: the tracks we send, from str0m's MediaAdded events.
    tracks: Vec<Track>,
    /// Publishers: the media kinds they send us, and the codec last seen for each.
    receiving: Vec<(Mid, MediaKind)>,
    last_codec: [Option<CodecSpec>; 2],
    keyframes: KeyframeRequests,
    video_ssrc: Option<Ssrc>,
    /// str0m's cumulative NACK counts per (mid, egress?), to add only the increase.
    nack_marks: Vec<(Mid, bool, u64)>,
    tap: Option<Arc<dyn MediaTap>>,
    dirty: bool,
}

/// A publisher and the subscriptions to it. Outlives a republish: a new publishing session
/// takes over the topic and the subscriptions carry on with the new source.
struct Topic {
    stage: String,
    participant: String,
    publisher: Option<usize>,
    subscribers: Vec<usize>,
}

/// At most this many remote addresses per session are remembered: a client that changes
/// address (ICE restart, a new network) adds one; the oldest is forgotten.
const MAX_ADDRESSES: usize = 4;

/// A remote transport address: the same IP and port on UDP and on TCP are different clients.
type Remote = (Protocol, SocketAddr);

pub struct Router {
    config: RouterConfig,
    /// The worker's candidates, as str0m should see them as destinations, and its ufrag
    /// prefix.
    endpoint: Endpoint,
    sessions: Slab<Session>,
    topics: Slab<Topic>,
    by_id: HashMap<u64, usize>,
    by_address: HashMap<Remote, usize>,
    by_ufrag: HashMap<String, usize>,
    topic_by_name: HashMap<(String, String), usize>,
    /// Sessions that have output to poll (a packet was written to them, a request queued).
    dirty: Vec<usize>,
    transmits: Vec<Transmit>,
    next_timeout: Option<Instant>,
    stats: Arc<MediaStats>,
}

impl Router {
    pub fn new(
        config: RouterConfig,
        endpoint: impl Into<Endpoint>,
        stats: Arc<MediaStats>,
    ) -> Self {
        Router {
            config,
            endpoint: endpoint.into(),
            sessions: Slab::default(),
            topics: Slab::default(),
            by_id: HashMap::new(),
            by_address: HashMap::new(),
            by_ufrag: HashMap::new(),
            topic_by_name: HashMap::new(),
            dirty: Vec::new(),
            transmits: Vec::new(),
            next_timeout: None,
            stats,
        }
    }

    pub fn stats(&self) -> &Arc<MediaStats> {
        &self.stats
    }

    /// Adds a session. A publish takes its participant's topic (ending the session it
    /// replaces) unless the stage is full; a subscription needs its publisher to be publishing
    /// with a codec it can decode. On error the session is dropped and `on_end` is not called.
    pub fn add_session(&mut self, now: Instant, new: NewSession) -> Result<(), AddError> {
        if self.by_id.contains_key(&new.id) {
            return Err(AddError::DuplicateId(new.id));
        }
        let NewSession {
            id,
            stage,
            participant,
            role,
            mut rtc,
            remote_ice,
            candidates,
            media,
            on_end,
            tap,
        } = new;
        let local_ufrag = rtc.direct_api().local_ice_credentials().ufrag;
        let mut session = Session {
            id,
            stage,
            participant,
            role,
            topic: usize::MAX,
            rtc,
            added: now,
            connected: false,
            wake: None,
            ending: None,
            on_end: Some(on_end),
            addresses: Vec::new(),
            local_ufrag,
            remote_ice,
            candidates,
            tracks: Vec::new(),
            receiving: Vec::new(),
            last_codec: [None, None],
            keyframes: KeyframeRequests::new(self.config.keyframe_interval),
            video_ssrc: None,
            nack_marks: Vec::new(),
            tap,
            dirty: false,
        };
        for (mid, kind, direction) in media {
            note_media(&mut session, mid, kind, direction);
        }
        let _ = session.rtc.handle_input(Input::Timeout(now));
        let topic = match &session.role {
            Role::Publish => {
                let name = (session.stage.clone(), session.participant.clone());
                let existing = self.topic_by_name.get(&name).copied();
                let taken = existing.and_then(|t| self.topics.get(t)?.publisher);
                if taken.is_none()
                    && self.stage_publishers(&session.stage) >= self.config.max_publishers
                {
                    return Err(AddError::StageAtCapacity { max: self.config.max_publishers });
                }
                if let Some(old) = taken {
                    // Replaced by a newer publish of the same participant.
                    if let Some(s) = self.sessions.get_mut(old) {
                        s.rtc.disconnect();
                    }
                    self.mark_dirty(old);
                }
                existing.unwrap_or_else(|| self.new_topic(name))
            }
            Role::Subscribe { publisher } => {
                let name = (session.stage.clone(), publisher.clone());
                let found = self.topic_by_name.get(&name).copied();
                let source = found.and_then(|t| self.topics.get(t)?.publisher);
                let Some((topic, source)) = found.zip(source) else {
                    return Err(AddError::PublisherNotFound(publisher.clone()));
                };
                if let Some(publisher) = self.sessions.get(source) {
                    check_codecs(publisher, &session)?;
                }
                topic
            }
        };
        session.topic = topic;
        let slot = self.sessions.insert(session);
        if let Some(t) = self.topics.get_mut(topic) {
            match self.sessions.get(slot).map(|s| &s.role) {
                Some(Role::Publish) => t.publisher = Some(slot),
                _ => t.subscribers.push(slot),
            }
        }
        self.by_id.insert(id, slot);
        if let Some(s) = self.sessions.get(slot) {
            self.by_ufrag.insert(s.local_ufrag.clone(), slot);
        }
        self.update_gauges();
        self.drive(slot, now);
        self.drive_dirty(now);
        Ok(())
    }

    /// Ends a session (WHIP DELETE, DisconnectParticipant, a replaced connection).
    pub fn end_session(&mut self, now: Instant, id: u64) {
        if let Some(&slot) = self.by_id.get(&id) {
            if let Some(s) = self.sessions.get_mut(slot) {
                s.rtc.disconnect();
            }
            self.drive(slot, now);
            self.drive_dirty(now);
        }
    }

    /// Applies a trickle-ICE fragment to a session: new candidates, or an ICE restart when
    /// the credentials differ from the ones the client used so far.
    pub fn patch(
        &mut self,
        now: Instant,
        id: u64,
        fragment: Fragment,
        if_match: Option<&str>,
    ) -> Result<PatchOutcome, PatchError> {
        let slot = *self.by_id.get(&id).ok_or(PatchError::NotFound(id))?;
        let session = self.sessions.get_mut(slot).ok_or(PatchError::NotFound(id))?;
        let current = entity_tag(&session.local_ufrag);
        if let Some(given) = if_match.map(str::trim).filter(|g| *g != "*" && *g != current) {
            return Err(PatchError::PreconditionFailed { given: given.to_string(), current });
        }
        let offered =
            fragment.ufrag.zip(fragment.pwd).map(|(ufrag, pass)| IceCreds { ufrag, pass });
        let restart = offered.as_ref().is_some_and(|o| session.remote_ice.as_ref() != Some(o));
        for candidate in fragment.candidates {
            session.rtc.add_remote_candidate(candidate);
        }
        let outcome = if let (true, Some(remote)) = (restart, offered) {
            let local = self.endpoint.ice_credentials();
            let mut api = session.rtc.direct_api();
            api.set_local_ice_credentials(local.clone());
            api.set_remote_ice_credentials(remote.clone());
            self.by_ufrag.remove(&session.local_ufrag);
            session.local_ufrag = local.ufrag.clone();
            session.remote_ice = Some(remote);
            self.by_ufrag.insert(local.ufrag.clone(), slot);
            let answer =
                crate::sdpfrag::restart_answer(&local.ufrag, &local.pass, &session.candidates);
            PatchOutcome::Restarted { answer, etag: entity_tag(&local.ufrag) }
        } else {
            PatchOutcome::Trickled
        };
        self.drive(slot, now);
        self.drive_dirty(now);
        Ok(outcome)
    }

    /// Feeds one received UDP datagram.
    pub fn handle_datagram(&mut self, now: Instant, source: SocketAddr, datagram: &[u8]) {
        self.handle_input(now, Protocol::Udp, source, datagram);
    }

    /// Feeds one received datagram: a UDP datagram, or one RFC 4571 frame from an ICE-TCP
    /// connection (`source` is then the connection's remote address). Returns whether a
    /// session took it (a TCP connection whose first frame no session takes is closed).
    pub fn handle_input(
        &mut self,
        now: Instant,
        proto: Protocol,
        source: SocketAddr,
        datagram: &[u8],
    ) -> bool {
        MediaStats::add(&self.stats.datagrams_in, 1);
        MediaStats::add(&self.stats.bytes_in, datagram.len() as u64);
        let remote = (proto, source);
        let Some((slot, known_address)) = self.demultiplex(remote, datagram) else {
            MediaStats::add(&self.stats.datagrams_dropped, 1);
            return false;
        };
        let Ok(contents) = datagram.try_into() else {
            // Not STUN, DTLS or SRTP: garbage on the port.
            MediaStats::add(&self.stats.datagrams_dropped, 1);
            return false;
        };
        let destination = match proto {
            Protocol::Udp => self.endpoint.udp,
            _ => match self.endpoint.tcp {
                Some(tcp) => tcp,
                None => return false,
            },
        };
        let input = Input::Receive(now, Receive { proto, source, destination, contents });
        let Some(session) = self.sessions.get_mut(slot) else { return false };
        if stun::is_stun(datagram) && !session.rtc.accepts(&input) {
            MediaStats::add(&self.stats.datagrams_dropped, 1);
            return false;
        }
        if let Err(e) = session.rtc.handle_input(input) {
            tracing::debug!(error = %e, %source, "media input refused");
        }
        if !known_address {
            self.remember_address(slot, remote);
        }
        self.drive(slot, now);
        self.drive_dirty(now);
        true
    }

    /// The earliest time [`Router::handle_timeout`] has work to do.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.next_timeout
    }

    /// Gives the time to the sessions that wait for it: str0m's timers (ICE, DTLS, RTCP
    /// reports, NACKs, pacing), held-back keyframe requests, connect timeouts, the maximum
    /// duration. A scan over the worker's sessions, done only when the earliest of those is due.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.next_timeout.is_none_or(|at| at > now) {
            return;
        }
        self.next_timeout = None;
        for slot in 0..self.sessions.slots() {
            let Some(session) = self.sessions.get_mut(slot) else { continue };
            let mut due = false;
            if !session.connected && now >= session.added + self.config.connect_timeout {
                session.ending.get_or_insert(EndReason::ConnectTimeout);
                session.rtc.disconnect();
                due = true;
            }
            if now >= session.added + self.config.max_session_duration {
                if session.ending.is_none() {
                    MediaStats::add(&self.stats.sessions_expired, 1);
                }
                session.ending.get_or_insert(EndReason::Expired);
                session.rtc.disconnect();
                due = true;
            }
            if let Some(ssrc) = session.video_ssrc
                && session.keyframes.handle_timeout(now)
                && let Some(stream) = session.rtc.direct_api().stream_rx(&ssrc)
            {
                stream.request_keyframe(KeyframeRequestKind::Pli);
                MediaStats::add(&self.stats.keyframe_requests, 1);
                due = true;
            }
            if session.wake.is_some_and(|at| at <= now) {
                session.wake = None;
                let _ = session.rtc.handle_input(Input::Timeout(now));
                due = true;
            }
            if due {
                self.drive(slot, now);
            } else {
                self.note_timeout_of(slot);
            }
        }
        self.drive_dirty(now);
    }

    /// Moves the datagrams to send into `into` (which the caller empties after sending).
    pub fn take_transmits(&mut self, into: &mut Vec<Transmit>) {
        into.append(&mut self.transmits);
    }

    /// Ends every session (the worker failed or stops).
    pub fn end_all(&mut self, reason: EndReason) {
        for slot in 0..self.sessions.slots() {
            if let Some(s) = self.sessions.get_mut(slot) {
                s.ending.get_or_insert(reason);
                self.remove(slot);
            }
        }
        self.dirty.clear();
        self.transmits.clear();
    }

    /// Whether `participant` publishes on `stage` here now.
    pub fn is_publishing(&self, stage: &str, participant: &str) -> bool {
        let name = (stage.to_string(), participant.to_string());
        self.topic_by_name
            .get(&name)
            .and_then(|&t| self.topics.get(t))
            .is_some_and(|t| t.publisher.is_some())
    }

    /// The session a datagram is for, and whether it came from an address already mapped to
    /// that session (nothing to remember then).
    fn demultiplex(&self, source: Remote, datagram: &[u8]) -> Option<(usize, bool)> {
        let by_address = self.by_address.get(&source).copied();
        if stun::is_stun(datagram)
            && let Some(ufrag) = stun::local_ufrag(datagram)
        {
            let slot = *self.by_ufrag.get(ufrag)?;
            return Some((slot, by_address == Some(slot)));
        }
        by_address.map(|slot| (slot, true))
    }

    fn remember_address(&mut self, slot: usize, source: Remote) {
        if self.by_address.get(&source) == Some(&slot) {
            return;
        }
        if let Some(previous) = self.by_address.insert(source, slot)
            && let Some(other) = self.sessions.get_mut(previous)
        {
            other.addresses.retain(|a| *a != source);
        }
        let Some(session) = self.sessions.get_mut(slot) else { return };
        session.addresses.push(source);
        if session.addresses.len() > MAX_ADDRESSES {
            let oldest = session.addresses.remove(0);
            if self.by_address.get(&oldest) == Some(&slot) {
                self.by_address.remove(&oldest);
            }
        }
    }

    fn mark_dirty(&mut self, slot: usize) {
        if let Some(s) = self.sessions.get_mut(slot)
            && !s.dirty
        {
            s.dirty = true;
            self.dirty.push(slot);
        }
    }

    fn drive_dirty(&mut self, now: Instant) {
        while let Some(slot) = self.dirty.pop() {
            if let Some(s) = self.sessions.get_mut(slot) {
                s.dirty = false;
            }
            self.drive(slot, now);
        }
    }

    /// Polls a session until it waits: queues its datagrams, handles its events (forwarding
    /// a publisher's packets), removes it if it ended.
    fn drive(&mut self, slot: usize, now: Instant) {
        loop {
            let Some(session) = self.sessions.get_mut(slot) else { return };
            if !session.rtc.is_alive() {
                self.remove(slot);
                return;
            }
            match session.rtc.poll_output() {
                Ok(Output::Timeout(at)) => {
                    session.wake = Some(at);
                    self.note_timeout_of(slot);
                    return;
                }
                Ok(Output::Transmit(t)) => self.transmits.push(t),
                Ok(Output::Event(event)) => self.on_event(slot, event, now),
                Err(e) => {
                    tracing::debug!(error = %e, "media session failed");
                    session.rtc.disconnect();
                }
            }
        }
    }

    fn on_event(&mut self, slot: usize, event: Event, now: Instant) {
        let Some(session) = self.sessions.get_mut(slot) else { return };
        match event {
            // Subscriptions only receive; a publisher's packets are forwarded.
            Event::RtpPacket(packet) if session.role == Role::Publish => {
                MediaStats::add(&self.stats.rtp_packets_in, 1);
                self.forward(slot, &packet, now);
            }
            Event::KeyframeRequest(_) => {
                MediaStats::add(&self.stats.keyframe_requests_received, 1);
                let publisher = self.topics.get(session.topic).and_then(|t| t.publisher);
                if let Some(publisher) = publisher {
                    self.request_keyframe(publisher, now);
                }
            }
            Event::IceConnectionStateChange(IceConnectionState::Disconnected) => {
                session.rtc.disconnect();
            }
            Event::Connected => {
                session.connected = true;
                MediaStats::add(&self.stats.connected_sessions, 1);
            }
            Event::MediaAdded(added) => note_media(session, added.mid, added.kind, added.direction),
            Event::MediaIngressStats(s) => {
                let delta = nack_increase(&mut session.nack_marks, s.mid, false, s.nacks);
                MediaStats::add(&self.stats.nacks_sent, delta);
            }
            Event::MediaEgressStats(s) => {
                let delta = nack_increase(&mut session.nack_marks, s.mid, true, s.nacks);
                MediaStats::add(&self.stats.nacks_received, delta);
            }
            _ => {}
        }
    }

    /// Writes a publisher's packet to each of its subscriptions that can take it.
    fn forward(&mut self, from: usize, packet: &RtpPacket, now: Instant) {
        let Some(publisher) = self.sessions.get_mut(from) else { return };
        let topic = publisher.topic;
        let pt = packet.header.payload_type;
        let Some(spec) = publisher.rtc.codec_config().find(|p| p.pt() == pt).map(|p| p.spec())
        else {
            return;
        };
        let (kind, clock_rate, video, tap_codec) = match spec.codec {
            Codec::Opus => (MediaKind::Audio, 48_000, None, TapCodec::Opus),
            Codec::Vp8 => (MediaKind::Video, 90_000, Some(VideoCodec::Vp8), TapCodec::Vp8),
            Codec::H264 => (MediaKind::Video, 90_000, Some(VideoCodec::H264), TapCodec::H264),
            _ => return, // Not a codec stages forward (the answer did not offer it).
        };
        let tap_wants_keyframe = publisher.tap.as_ref().is_some_and(|tap| {
            tap.packet(TappedPacket {
                codec: tap_codec,
                sequence: *packet.seq_no,
                rtp_time: packet.time.numer(),
                marker: packet.header.marker,
                payload: packet.payload.clone(),
                received: packet.timestamp,
            })
        });
        publisher.last_codec[kind_index(kind)] = Some(spec);
        let keyframe_start = video.is_none_or(|c| starts_keyframe(c, &packet.payload));
        if video.is_some() {
            publisher.video_ssrc = Some(packet.header.ssrc);
            if keyframe_start {
                publisher.keyframes.keyframe_received();
            }
        }
        let source = publisher.id;
        let Some(topic) = self.topics.get(topic).filter(|t| t.publisher == Some(from)) else {
            return; // A replaced publisher's last packets.
        };
        let incoming = Incoming {
            source,
            sequence: packet.header.sequence_number,
            timestamp: packet.header.timestamp,
            keyframe_start,
        };
        // A tap may ask with any packet (audio too): the request goes to the video stream.
        let mut needs_keyframe = tap_wants_keyframe;
        for &slot in &topic.subscribers {
            let Some(session) = self.sessions.get_mut(slot) else { continue };
            if !session.connected {
                continue;
            }
            let Some(index) = session.tracks.iter().position(|t| t.kind == kind) else {
                continue; // An audio-only subscription gets no video, and the other way round.
            };
            let out_pt = match session.tracks[index].route {
                Some((from_pt, to_pt)) if from_pt == pt => to_pt,
                _ => match outgoing_pt(&session.rtc, session.tracks[index].mid, spec) {
                    Some(to_pt) => {
                        session.tracks[index].route = Some((pt, to_pt));
                        to_pt
                    }
                    None => {
                        MediaStats::add(&self.stats.rtp_packets_dropped, 1);
                        continue;
                    }
                },
            };
            let track = &mut session.tracks[index];
            let rewriter =
                track.rewriter.get_or_insert_with(|| RtpRewriter::new(clock_rate, video.is_some()));
            let (sequence, timestamp) = match rewriter.rewrite(incoming, now) {
                Decision::Forward { sequence, timestamp } => (sequence, timestamp),
                Decision::Drop(reason) => {
                    needs_keyframe |= reason == DropReason::WaitingForKeyframe;
                    MediaStats::add(&self.stats.rtp_packets_dropped, 1);
                    continue;
                }
            };
            let extended = match track.extended {
                None => u64::from(sequence),
                Some(last) => {
                    last.wrapping_add_signed(i64::from(sequence.wrapping_sub(last as u16) as i16))
                }
            };
            track.extended = Some(extended);
            let mid = track.mid;
            let write =
                RtpWrite::new(out_pt, extended.into(), timestamp, now, packet.payload.clone())
                    .marker(packet.header.marker)
                    .ext_vals(packet.header.ext_vals.clone())
                    .nackable(true);
            let mut direct = session.rtc.direct_api();
            let Some(stream) = direct.stream_tx_by_mid(mid, None) else { continue };
            stream.write_rtp(write);
            MediaStats::add(&self.stats.rtp_packets_out, 1);
            if !session.dirty {
                session.dirty = true;
                self.dirty.push(slot);
            }
        }
        if needs_keyframe {
            // A subscription waits for a keyframe (it is new, or its source changed).
            self.request_keyframe(from, now);
        }
    }

    /// Asks a publisher for a keyframe (PLI), at most once per interval; a request inside the
    /// interval is remembered and sent when it ends, unless a keyframe came meanwhile.
    fn request_keyframe(&mut self, publisher: usize, now: Instant) {
        let Some(session) = self.sessions.get_mut(publisher) else { return };
        let Some(ssrc) = session.video_ssrc else { return };
        if session.keyframes.request(now) {
            if let Some(stream) = session.rtc.direct_api().stream_rx(&ssrc) {
                stream.request_keyframe(KeyframeRequestKind::Pli);
                MediaStats::add(&self.stats.keyframe_requests, 1);
            }
            self.mark_dirty(publisher);
        } else {
            self.note_timeout_of(publisher);
        }
    }

    fn note_timeout_of(&mut self, slot: usize) {
        let Some(s) = self.sessions.get(slot) else { return };
        let deadline = if s.connected {
            s.added + self.config.max_session_duration
        } else {
            s.added + self.config.connect_timeout
        };
        let mut at = deadline;
        for t in [s.wake, s.keyframes.poll_timeout()].into_iter().flatten() {
            at = at.min(t);
        }
        self.next_timeout = Some(self.next_timeout.map_or(at, |n| n.min(at)));
    }

    fn new_topic(&mut self, (stage, participant): (String, String)) -> usize {
        let topic = self.topics.insert(Topic {
            stage: stage.clone(),
            participant: participant.clone(),
            publisher: None,
            subscribers: Vec::new(),
        });
        self.topic_by_name.insert((stage, participant), topic);
        topic
    }

    fn stage_publishers(&self, stage: &str) -> usize {
        self.topics.iter().filter(|(_, t)| t.stage == stage && t.publisher.is_some()).count()
    }

    fn remove(&mut self, slot: usize) {
        let Some(mut session) = self.sessions.remove(slot) else { return };
        self.by_id.remove(&session.id);
        for address in &session.addresses {
            if self.by_address.get(address) == Some(&slot) {
                self.by_address.remove(address);
            }
        }
        if self.by_ufrag.get(&session.local_ufrag) == Some(&slot) {
            self.by_ufrag.remove(&session.local_ufrag);
        }
        let mut orphans = Vec::new();
        if let Some(topic) = self.topics.get_mut(session.topic) {
            if topic.publisher == Some(slot) {
                // The publisher is gone: its subscriptions end (the client subscribes again when
                // it publishes again, as it learns from the stage state).
                topic.publisher = None;
                orphans = topic.subscribers.clone();
            }
            topic.subscribers.retain(|s| *s != slot);
            if topic.publisher.is_none() && topic.subscribers.is_empty() {
                let name = (topic.stage.clone(), topic.participant.clone());
                self.topics.remove(session.topic);
                self.topic_by_name.remove(&name);
            }
        }
        for orphan in orphans {
            if let Some(s) = self.sessions.get_mut(orphan) {
                s.ending.get_or_insert(EndReason::PublisherGone);
                s.rtc.disconnect();
                self.mark_dirty(orphan);
            }
        }
        if session.connected {
            self.stats.connected_sessions.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
        }
        self.update_gauges();
        if let Some(on_end) = session.on_end.take() {
            on_end(session.ending.unwrap_or(EndReason::Closed));
        }
    }

    /// Recounts the gauges (on the control path: sessions come and go, packets don't).
    fn update_gauges(&self) {
        let mut stages = std::collections::HashSet::new();
        let mut participants = std::collections::HashSet::new();
        let mut subscriptions = 0;
        for (_, s) in self.sessions.iter() {
            stages.insert(s.stage.as_str());
            participants.insert((s.stage.as_str(), s.participant.as_str()));
            if matches!(s.role, Role::Subscribe { .. }) {
                subscriptions += 1;
            }
        }
        let publishers = self.topics.iter().filter(|(_, t)| t.publisher.is_some()).count();
        MediaStats::set(&self.stats.sessions, self.sessions.len() as u64);
        MediaStats::set(&self.stats.stages, stages.len() as u64);
        MediaStats::set(&self.stats.participants, participants.len() as u64);
        MediaStats::set(&self.stats.publishers, publishers as u64);
        MediaStats::set(&self.stats.subscriptions, subscriptions);
    }
}

fn kind_index(kind: MediaKind) -> usize {
    match kind {
        MediaKind::Audio => 0,
        MediaKind::Video => 1,
    }
}

fn kind_name(kind: MediaKind) -> &'static str {
    match kind {
        MediaKind::Audio => "audio",
        MediaKind::Video => "video",
    }
}

fn note_media(session: &mut Session, mid: Mid, kind: MediaKind, direction: Direction) {
    if direction.is_sending() && !session.tracks.iter().any(|t| t.mid == mid) {
        session.tracks.push(Track { mid, kind, rewriter: None, extended: None, route: None });
    }
    if direction.is_receiving() && !session.receiving.iter().any(|(m, _)| *m == mid) {
        session.receiving.push((mid, kind));
    }
}

/// A subscription must be able to decode what its publisher sends, for each kind both have:
/// the codec the publisher sends now if it has sent packets, else at least one of the codecs
/// the publisher negotiated (it will send one of them).
fn check_codecs(publisher: &Session, subscriber: &Session) -> Result<(), AddError> {
    for track in &subscriber.tracks {
        let Some(&(publisher_mid, _)) = publisher.receiving.iter().find(|(_, k)| *k == track.kind)
        else {
            continue; // The publisher does not send this kind: nothing will flow, no error.
        };
        let candidates: Vec<CodecSpec> = match publisher.last_codec[kind_index(track.kind)] {
            Some(spec) => vec![spec],
            None => negotiated(&publisher.rtc, publisher_mid).map(|p| p.spec()).collect(),
        };
        let decodable =
            candidates.iter().any(|spec| outgoing_pt(&subscriber.rtc, track.mid, *spec).is_some());
        if !decodable && !candidates.is_empty() {
            let codecs: Vec<String> =
                candidates.iter().map(|s| s.codec.to_string()).collect::<Vec<_>>();
            return Err(AddError::CodecMismatch {
                kind: kind_name(track.kind),
                codec: codecs.join(" or "),
            });
        }
    }
    Ok(())
}

/// The payload parameters a session negotiated on one of its media.
fn negotiated(rtc: &Rtc, mid: Mid) -> impl Iterator<Item = &PayloadParams> {
    let remote: Vec<Pt> = rtc.media(mid).map(|m| m.remote_pts().to_vec()).unwrap_or_default();
    rtc.codec_config()
        .params()
        .iter()
        .filter(move |p| remote.contains(&p.pt()) && forwarded(p.spec().codec))
}

/// The codecs stages forward.
fn forwarded(codec: Codec) -> bool {
    matches!(codec, Codec::Opus | Codec::Vp8 | Codec::H264)
}

/// The payload type a subscription's track negotiated for a publisher's `spec`: exactly the
/// publisher's format (for H.264: the same profile and packetization mode), else one of the
/// same codec.
fn outgoing_pt(rtc: &Rtc, mid: Mid, spec: CodecSpec) -> Option<Pt> {
    let exact = negotiated(rtc, mid).find(|p| p.spec() == spec).map(|p| p.pt());
    exact.or_else(|| negotiated(rtc, mid).find(|p| p.spec().codec == spec.codec).map(|p| p.pt()))
}

/// How much a cumulative NACK count of str0m's statistics grew since last seen.
fn nack_increase(marks: &mut Vec<(Mid, bool, u64)>, mid: Mid, egress: bool, total: u64) -> u64 {
    match marks.iter_mut().find(|(m, e, _)| *m == mid && *e == egress) {
        Some((_, _, last)) => {
            let delta = total.saturating_sub(*last);
            *last = total;
            delta
        }
        None => {
            marks.push((mid, egress, total));
            total
        }
    }
}
