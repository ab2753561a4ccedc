//! Presence on one stage, as a sans-IO state machine.
//!
//! A participant (one `jti`) has joined while it has an events socket open or a media session
//! (a publish or a subscription); it has left when it has had neither for the grace period, so
//! that a reconnect inside the grace keeps the same participant. The stage session starts when
//! the first participant joins and ends when the last one has left.
//!
//! The caller feeds [`Input`]s with the current time, drains [`Output`]s with
//! [`StagePresence::poll_output`], and calls [`StagePresence::handle_timeout`] at
//! [`StagePresence::poll_timeout`]. Nothing here reads a clock or touches a socket: tests run
//! hours of simulated time in microseconds.
//!
//! STAGE_STATE is coalesced: however many changes happen, [`Output::StateChanged`] is emitted at
//! most once per `coalesce` interval, so a burst of joins costs one update per listener rather
//! than one per join (what keeps a stage with thousands of viewers from costing O(N²)).
//!
//! Presence also decides who may come in ([`StagePresence::admit`]: the subscriber limit) and
//! what a participant's token allows it to keep: a token exchange that drops a capability ends
//! the media sessions that needed it.

use std::{
    collections::{BTreeMap, VecDeque},
    time::{Duration, Instant},
};

/// A participant id: the token's `jti`.
pub type ParticipantId = String;

/// One events socket or one media session, numbered by the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConnectionId(pub u64);

/// What a connection is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectionKind {
    /// The stage events WebSocket.
    Events,
    /// A publish (WHIP) session.
    Publish,
    /// A subscription to one publisher.
    Subscribe { publisher: ParticipantId },
}

/// What the participant's token says about it; shown to everyone on the stage.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParticipantInfo {
    pub user_id: Option<String>,
    pub attributes: BTreeMap<String, String>,
    pub can_publish: bool,
    pub can_subscribe: bool,
}

/// Why a connection is closed by the stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// The same participant opened a newer connection of the same kind.
    Replaced,
    /// DisconnectParticipant.
    Disconnected,
    /// DeleteStage.
    StageDeleted,
    /// The server is stopping.
    Shutdown,
    /// The participant's exchanged token no longer allows this media session (a publish
    /// without `allow_publish`, a subscription without `allow_subscribe`).
    CapabilityRemoved,
}

/// Why [`StagePresence::admit`] refuses a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The stage has as many subscribers as it may have.
    #[error("the stage already has {max_subscribers} subscribers")]
    StageAtCapacity { max_subscribers: usize },
}

impl Refusal {
    /// The SDK-facing code the WHIP and events endpoints answer with (HTTP 403).
    pub const fn code(&self) -> &'static str {
        match self {
            Refusal::StageAtCapacity { .. } => "STAGE_AT_CAPACITY",
        }
    }
}

/// How long a seat given by [`StagePresence::admit`] is held for a participant that has not
/// connected yet. Admission and connection are a few milliseconds apart (an HTTP upgrade, an
/// SDP answer); the hold only has to outlast that, and a seat whose request failed frees
/// itself after it.
pub const SEAT_HOLD: Duration = Duration::from_secs(10);

/// Something that happened to the stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A connection was established (after its token was verified).
    Connected {
        participant: ParticipantId,
        info: ParticipantInfo,
        connection: ConnectionId,
        kind: ConnectionKind,
    },
    /// A connection ended (socket closed, media session ended or timed out).
    Closed { connection: ConnectionId },
    /// A connection ended because the participant is leaving (the SDK's `leave()` closes its
    /// events socket normally): once its last connection is gone the participant leaves at
    /// once, without the grace period meant for network drops.
    Left { connection: ConnectionId },
    /// What a publish connection sends (from its negotiated SDP), shown in the stage state so
    /// that subscribers know which streams to expect. Ignored unless `connection` is the
    /// participant's current publish.
    Streams { participant: ParticipantId, connection: ConnectionId, streams: PublishedStreams },
    /// The participant muted or unmuted (`None` leaves a flag as it is).
    Mute { participant: ParticipantId, audio_muted: Option<bool>, video_stopped: Option<bool> },
    /// The participant exchanged its token: new user id, attributes or capabilities.
    InfoChanged { participant: ParticipantId, info: ParticipantInfo },
    /// DisconnectParticipant: close everything of this participant now, no grace.
    Disconnect { participant: ParticipantId },
    /// A participant with a valid token was refused (a join, a publish or a subscription). It
    /// does not join; but its refusal is recorded in the stage session's history, so a session
    /// starts if there is none, and stays at least the grace period, as if the participant had
    /// joined and left at once (so that a client retrying does not open a session per try).
    Refused { participant: ParticipantId },
    /// DeleteStage: close everything now.
    DeleteStage,
    /// The server is stopping: close everything now, so that every participant leaves and the
    /// session ends in the history rather than staying open.
    Shutdown,
}

/// What the caller must do or record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    SessionStarted,
    SessionEnded,
    Joined {
        participant: ParticipantId,
    },
    Left {
        participant: ParticipantId,
    },
    PublishStarted {
        participant: ParticipantId,
    },
    PublishStopped {
        participant: ParticipantId,
    },
    SubscribeStarted {
        participant: ParticipantId,
        publisher: ParticipantId,
    },
    SubscribeStopped {
        participant: ParticipantId,
        publisher: ParticipantId,
    },
    /// Close this connection (telling the client why first, where it can be told).
    Close {
        connection: ConnectionId,
        reason: CloseReason,
    },
    /// The stage state changed: send STAGE_STATE to every events socket.
    StateChanged,
}

/// Timing of a stage's presence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PresenceConfig {
    /// How long a participant without connections stays joined.
    pub grace: Duration,
    /// The shortest interval between two STAGE_STATE updates.
    pub coalesce: Duration,
    /// How many subscribers the stage may have: participants on it whose token allows
    /// subscribing (see [`StagePresence::admit`]).
    pub max_subscribers: usize,
}

impl Default for PresenceConfig {
    fn default() -> Self {
        PresenceConfig {
            grace: Duration::from_secs(10),
            coalesce: Duration::from_millis(100),
            max_subscribers: 10_000,
        }
    }
}

/// A participant as the stage state shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParticipantState {
    pub id: ParticipantId,
    pub info: ParticipantInfo,
    pub is_publishing: bool,
    /// The kinds of media its publish sends (none while not publishing).
    pub streams: PublishedStreams,
    pub audio_muted: bool,
    pub video_stopped: bool,
}

/// The kinds of media one publish sends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PublishedStreams {
    pub audio: bool,
    pub video: bool,
}

#[derive(Debug)]
struct Participant {
    state: ParticipantState,
    connections: BTreeMap<ConnectionId, ConnectionKind>,
    /// Set while the participant has no connection: when it leaves.
    leaves_at: Option<Instant>,
    /// The participant said it is leaving: no grace once its connections are gone.
    leaving: bool,
}

impl Participant {
    fn find(&self, wanted: &ConnectionKind) -> Option<ConnectionId> {
        let same = |kind: &ConnectionKind| match (kind, wanted) {
            (ConnectionKind::Events, ConnectionKind::Events)
            | (ConnectionKind::Publish, ConnectionKind::Publish) => true,
            (
                ConnectionKind::Subscribe { publisher: a },
                ConnectionKind::Subscribe { publisher: b },
            ) => a == b,
            _ => false,
        };
        self.connections.iter().find(|(_, kind)| same(kind)).map(|(id, _)| *id)
    }
}

/// Presence of one stage.
#[derive(Debug)]
pub struct StagePresence {
    config: PresenceConfig,
    participants: BTreeMap<ParticipantId, Participant>,
    /// Which participant each open connection belongs to.
    owners: BTreeMap<ConnectionId, ParticipantId>,
    in_session: bool,
    /// Set while a refused participant that never joined keeps the session open: until when.
    refused_until: Option<Instant>,
    /// How many participants on the stage may subscribe (kept as a count: admission is checked
    /// per join, and a stage may have thousands of participants).
    subscribers: usize,
    /// Seats given by `admit` to participants that have not connected yet: until when.
    held: BTreeMap<ParticipantId, Instant>,
    /// Participants that said goodbye, for a grace period: a media session of theirs that was
    /// on its way (answered after the goodbye, ended by the client at once) leaves with it.
    farewells: BTreeMap<ParticipantId, Instant>,
    outputs: VecDeque<Output>,
    /// The state changed since the last StateChanged was emitted.
    dirty: bool,
    last_state_sent: Option<Instant>,
}

impl StagePresence {
    pub fn new(config: PresenceConfig) -> Self {
        StagePresence {
            config,
            participants: BTreeMap::new(),
            owners: BTreeMap::new(),
            in_session: false,
            refused_until: None,
            subscribers: 0,
            held: BTreeMap::new(),
            farewells: BTreeMap::new(),
            outputs: VecDeque::new(),
            dirty: false,
            last_state_sent: None,
        }
    }

    /// Whether a stage session is in progress.
    pub fn in_session(&self) -> bool {
        self.in_session
    }

    /// The participants that have joined, in id order.
    pub fn participants(&self) -> impl Iterator<Item = &ParticipantState> {
        self.participants.values().map(|p| &p.state)
    }

    /// How many publishers the stage has now (for the publisher limit).
    pub fn publishers(&self) -> usize {
        self.participants.values().filter(|p| p.state.is_publishing).count()
    }

    /// Whether a participant is publishing now (for subscriptions: PUBLISHER_NOT_FOUND).
    pub fn is_publishing(&self, participant: &str) -> bool {
        self.participants.get(participant).is_some_and(|p| p.state.is_publishing)
    }

    /// How many subscribers the stage has now: participants on it whose token allows
    /// subscribing, whether or not they subscribe yet (an events socket is how a viewer waits
    /// for publishers), plus seats held for admitted participants about to connect.
    pub fn subscribers(&self, now: Instant) -> usize {
        self.subscribers + self.held.values().filter(|until| **until > now).count()
    }

    /// Whether a participant may open a connection of `kind` now, asked before it connects.
    ///
    /// Only subscribers are limited: a participant that is not on the stage yet and whose token
    /// allows subscribing is refused when the stage has `max_subscribers`; otherwise it is given
    /// a seat, held for it for [`SEAT_HOLD`] or until it connects, so that joins racing for the
    /// last seat cannot all take it. A participant already on the stage is never refused (it
    /// holds its place); a publish never is either (publishers have their own limit, kept by
    /// the media plane).
    pub fn admit(
        &mut self,
        participant: &str,
        info: &ParticipantInfo,
        kind: &ConnectionKind,
        now: Instant,
    ) -> Result<(), Refusal> {
        if *kind == ConnectionKind::Publish
            || !info.can_subscribe
            || self.participants.contains_key(participant)
        {
            return Ok(());
        }
        self.held.retain(|_, until| *until > now);
        if !self.held.contains_key(participant)
            && self.subscribers + self.held.len() >= self.config.max_subscribers
        {
            return Err(Refusal::StageAtCapacity { max_subscribers: self.config.max_subscribers });
        }
        self.held.insert(participant.to_string(), now + SEAT_HOLD);
        Ok(())
    }

    /// Applies one input at time `now`.
    pub fn handle_input(&mut self, input: Input, now: Instant) {
        match input {
            Input::Connected { participant, info, connection, kind } => {
                self.connected(participant, info, connection, kind, now)
            }
            Input::Closed { connection } => self.closed(connection, now),
            Input::Left { connection } => {
                if let Some(p) =
                    self.owners.get(&connection).and_then(|id| self.participants.get_mut(id))
                {
                    p.leaving = true;
                }
                self.closed(connection, now);
            }
            Input::Streams { participant, connection, streams } => {
                if let Some(p) = self.participants.get_mut(&participant)
                    && p.connections.get(&connection) == Some(&ConnectionKind::Publish)
                    && p.state.streams != streams
                {
                    p.state.streams = streams;
                    self.mark_dirty(now);
                }
            }
            Input::Mute { participant, audio_muted, video_stopped } => {
                if let Some(p) = self.participants.get_mut(&participant) {
                    let before = (p.state.audio_muted, p.state.video_stopped);
                    p.state.audio_muted = audio_muted.unwrap_or(p.state.audio_muted);
                    p.state.video_stopped = video_stopped.unwrap_or(p.state.video_stopped);
                    if before != (p.state.audio_muted, p.state.video_stopped) {
                        self.mark_dirty(now);
                    }
                }
            }
            Input::InfoChanged { participant, info } => self.info_changed(&participant, info, now),
            Input::Refused { participant } => {
                if !self.in_session {
                    self.in_session = true;
                    self.outputs.push_back(Output::SessionStarted);
                }
                if !self.participants.contains_key(&participant) {
                    let until = now + self.config.grace;
                    self.refused_until = Some(self.refused_until.map_or(until, |t| t.max(until)));
                }
            }
            Input::Disconnect { participant } => {
                self.remove(&participant, CloseReason::Disconnected, now)
            }
            Input::DeleteStage | Input::Shutdown => {
                let reason = if input == Input::Shutdown {
                    CloseReason::Shutdown
                } else {
                    CloseReason::StageDeleted
                };
                // Everything ends now, a session kept open only by refusals included.
                self.refused_until = None;
                self.held.clear();
                let everyone: Vec<ParticipantId> = self.participants.keys().cloned().collect();
                for participant in everyone {
                    self.remove(&participant, reason, now);
                }
                self.end_session_if_over(now);
            }
        }
    }

    /// The next output to carry out, if any.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// When [`StagePresence::handle_timeout`] must be called next, if ever.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let grace =
            self.participants.values().filter_map(|p| p.leaves_at).chain(self.refused_until).min();
        let state = if self.dirty { self.next_state_at() } else { None };
        match (grace, state) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Lets time pass: participants whose grace ran out leave, a pending state update is sent.
    pub fn handle_timeout(&mut self, now: Instant) {
        let expired: Vec<ParticipantId> = self
            .participants
            .iter()
            .filter(|(_, p)| p.leaves_at.is_some_and(|at| at <= now))
            .map(|(id, _)| id.clone())
            .collect();
        for participant in expired {
            self.leave(&participant, now);
        }
        if self.refused_until.is_some_and(|at| at <= now) {
            self.refused_until = None;
            self.end_session_if_over(now);
        }
        if self.dirty && self.next_state_at().is_some_and(|at| at <= now) {
            self.emit_state(now);
        }
    }

    fn connected(
        &mut self,
        participant: ParticipantId,
        info: ParticipantInfo,
        connection: ConnectionId,
        kind: ConnectionKind,
        now: Instant,
    ) {
        if self.owners.contains_key(&connection) {
            return; // The caller numbered two connections alike; keep the first.
        }
        if !self.participants.contains_key(&participant) {
            if !self.in_session {
                self.in_session = true;
                self.outputs.push_back(Output::SessionStarted);
            }
            // Its held seat (if any) becomes the participant itself.
            self.held.remove(&participant);
            self.subscribers += usize::from(info.can_subscribe);
            self.participants.insert(
                participant.clone(),
                Participant {
                    state: ParticipantState {
                        id: participant.clone(),
                        info: info.clone(),
                        is_publishing: false,
                        streams: PublishedStreams::default(),
                        audio_muted: false,
                        video_stopped: false,
                    },
                    connections: BTreeMap::new(),
                    leaves_at: None,
                    leaving: false,
                },
            );
            self.outputs.push_back(Output::Joined { participant: participant.clone() });
            self.mark_dirty(now);
        }
        let farewell = self.farewells.get(&participant).is_some_and(|until| *until > now);
        let Some(p) = self.participants.get_mut(&participant) else { return };
        p.leaves_at = None;
        if farewell && kind != ConnectionKind::Events {
            p.leaving = true;
        }
        if kind == ConnectionKind::Events {
            // Back after all. (A media session that was on its way when the participant said
            // goodbye does not bring it back: the client ends it as soon as it is answered.)
            p.leaving = false;
            self.farewells.remove(&participant);
        }
        let info_changed = p.state.info != info;
        let could_subscribe = p.state.info.can_subscribe;
        p.state.info = info;
        let can_subscribe = p.state.info.can_subscribe;
        // One connection of each kind per participant: the newer replaces the older, which is
        // closed without the participant ever looking as if it stopped.
        let replaced = p.find(&kind);
        if let Some(old) = replaced {
            p.connections.remove(&old);
            self.owners.remove(&old);
            self.outputs
                .push_back(Output::Close { connection: old, reason: CloseReason::Replaced });
        }
        p.connections.insert(connection, kind.clone());
        self.owners.insert(connection, participant.clone());
        if replaced.is_none() {
            match kind {
                ConnectionKind::Events => {}
                ConnectionKind::Publish => {
                    p.state.is_publishing = true;
                    let participant = participant.clone();
                    self.outputs.push_back(Output::PublishStarted { participant });
                    self.mark_dirty(now);
                }
                ConnectionKind::Subscribe { publisher } => {
                    let participant = participant.clone();
                    self.outputs.push_back(Output::SubscribeStarted { participant, publisher });
                }
            }
        }
        if info_changed {
            self.recount(could_subscribe, can_subscribe);
            self.mark_dirty(now);
            self.end_what_is_not_allowed(&participant, now);
        }
    }

    /// A token exchange: the new user id, attributes and capabilities take effect, and media
    /// the new token does not allow ends now.
    fn info_changed(&mut self, participant: &str, info: ParticipantInfo, now: Instant) {
        let Some(p) = self.participants.get_mut(participant) else { return };
        if p.state.info != info {
            let could_subscribe = p.state.info.can_subscribe;
            p.state.info = info;
            let can_subscribe = p.state.info.can_subscribe;
            self.recount(could_subscribe, can_subscribe);
            self.mark_dirty(now);
        }
        // Checked even when the info is unchanged: a media session that connected with an
        // older token (a request racing the exchange) must not outlive the newer one.
        self.end_what_is_not_allowed(participant, now);
    }

    /// Closes the participant's media sessions that its token (the latest one, whether it came
    /// by exchange or with a newer connection) does not allow.
    fn end_what_is_not_allowed(&mut self, participant: &str, now: Instant) {
        let Some(p) = self.participants.get(participant) else { return };
        let info = &p.state.info;
        let not_allowed: Vec<ConnectionId> = p
            .connections
            .iter()
            .filter(|(_, kind)| match kind {
                ConnectionKind::Events => false,
                ConnectionKind::Publish => !info.can_publish,
                ConnectionKind::Subscribe { .. } => !info.can_subscribe,
            })
            .map(|(id, _)| *id)
            .collect();
        for connection in not_allowed {
            self.outputs
                .push_back(Output::Close { connection, reason: CloseReason::CapabilityRemoved });
            self.closed(connection, now);
        }
    }

    /// Keeps the subscriber count when a participant's token changes. A token exchange that
    /// adds `allow_subscribe` is not refused at capacity: the participant is on the stage
    /// already, and refusing an exchange would leave its client with a token the server
    /// ignores.
    fn recount(&mut self, could_subscribe: bool, can_subscribe: bool) {
        match (could_subscribe, can_subscribe) {
            (false, true) => self.subscribers += 1,
            (true, false) => self.subscribers = self.subscribers.saturating_sub(1),
            _ => {}
        }
    }

    fn closed(&mut self, connection: ConnectionId, now: Instant) {
        let Some(participant) = self.owners.remove(&connection) else { return };
        let Some(p) = self.participants.get_mut(&participant) else { return };
        let Some(kind) = p.connections.remove(&connection) else { return };
        match kind {
            ConnectionKind::Events => {}
            ConnectionKind::Publish => {
                p.state.is_publishing = false;
                p.state.streams = PublishedStreams::default();
                self.outputs.push_back(Output::PublishStopped { participant: participant.clone() });
                self.mark_dirty(now);
            }
            ConnectionKind::Subscribe { publisher } => {
                self.outputs.push_back(Output::SubscribeStopped {
                    participant: participant.clone(),
                    publisher,
                });
            }
        }
        if let Some(p) = self.participants.get_mut(&participant)
            && p.connections.is_empty()
        {
            if p.leaving {
                self.farewells.retain(|_, until| *until > now);
                self.farewells.insert(participant.clone(), now + self.config.grace);
                self.leave(&participant, now);
            } else {
                p.leaves_at = Some(now + self.config.grace);
            }
        }
    }

    /// Closes all of a participant's connections and makes it leave at once.
    fn remove(&mut self, participant: &str, reason: CloseReason, now: Instant) {
        let Some(p) = self.participants.get_mut(participant) else { return };
        let connections: Vec<ConnectionId> = p.connections.keys().copied().collect();
        for connection in connections {
            self.outputs.push_back(Output::Close { connection, reason });
            self.closed(connection, now);
        }
        self.leave(participant, now);
    }

    fn leave(&mut self, participant: &str, now: Instant) {
        let Some(p) = self.participants.remove(participant) else { return };
        for connection in p.connections.keys() {
            self.owners.remove(connection);
        }
        if p.state.info.can_subscribe {
            self.subscribers = self.subscribers.saturating_sub(1);
        }
        self.outputs.push_back(Output::Left { participant: participant.to_string() });
        self.end_session_if_over(now);
        self.mark_dirty(now);
    }

    /// Ends the session once nobody is on the stage and no refusal keeps it open.
    fn end_session_if_over(&mut self, now: Instant) {
        if self.in_session
            && self.participants.is_empty()
            && self.refused_until.is_none_or(|at| at <= now)
        {
            self.in_session = false;
            self.refused_until = None;
            self.outputs.push_back(Output::SessionEnded);
        }
    }

    fn next_state_at(&self) -> Option<Instant> {
        self.last_state_sent.map(|last| last + self.config.coalesce)
    }

    /// Records a change; sends StateChanged now if the last one is old enough, else later.
    fn mark_dirty(&mut self, now: Instant) {
        self.dirty = true;
        match self.last_state_sent {
            Some(last) if now < last + self.config.coalesce => {}
            _ => self.emit_state(now),
        }
    }

    fn emit_state(&mut self, now: Instant) {
        self.dirty = false;
        self.last_state_sent = Some(now);
        self.outputs.push_back(Output::StateChanged);
    }
}
