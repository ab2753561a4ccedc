//! The runtime around [`StagePresence`]: one task per active stage (a "hub") owns its presence,
//! the outbound channel of every connection, and the stage's history writer. Events sockets
//! and media sessions talk to it through [`HubHandle`]; the control plane's notices
//! (DisconnectParticipant, DeleteStage) reach it through [`StageHubs::notice`]. Requests that
//! are refused before they become connections are recorded through it too
//! ([`HubHandle::record_error`]), so that the participant's history shows why.
//!
//! History (sessions, participants, events) is written by a separate task per hub, in order, so
//! a slow store delays only the history, never the fan-out of stage state.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    sync::{Arc, Mutex},
    time::Instant,
};

use axum::extract::ws::Utf8Bytes;
use time::OffsetDateTime;
use tokio::sync::mpsc;
use troupe_control::{ControlNotice, arn::new_session_id, participant_auth::VerifiedParticipant};
use troupe_store::{
    EventDetails, EventRecord, ParticipantDetails, ParticipantRecord, ParticipantState as Stored,
    Store,
};

use crate::{
    history::{EventErrorCode, HistoryWrite, error_event_name, write_history},
    messages::{
        Capability, DisconnectReason, ParticipantView, ServerMessage, StageState as StageStateMsg,
    },
    presence::{
        CloseReason, ConnectionId, ConnectionKind, Input, Output, ParticipantId, ParticipantInfo,
        PresenceConfig, Refusal, StagePresence,
    },
    socket::participant_info,
};

/// What a connection's task is told to do.
#[derive(Debug, Clone)]
pub enum Outbound {
    /// Send this text message. Cheap to clone (reference-counted bytes): one STAGE_STATE
    /// serialization is shared by every listener, never copied per socket.
    Text(Utf8Bytes),
    /// Send DISCONNECTED (already in the Text before it) and close with this code and reason.
    Close { code: u16, reason: &'static str },
}

/// Descriptive fields recorded with a participant (from its User-Agent and protocol).
#[derive(Debug, Clone, Default)]
pub struct ClientDetails {
    pub details: ParticipantDetails,
}

/// A request from a connection to its stage's hub. The large ones are boxed: rare next to the
/// inputs.
enum Command {
    Connect(Box<ConnectRequest>),
    Admit(Box<AdmitRequest>),
    Input(Input),
    Refused(Box<RefusedRequest>),
    /// The participant's token was exchanged: record TOKEN_EXCHANGED, apply the new info, and
    /// acknowledge on the connection that sent it.
    Exchanged {
        participant: ParticipantId,
        connection: ConnectionId,
        info: ParticipantInfo,
    },
    /// Close everyone, write the history out, then answer.
    Shutdown(tokio::sync::oneshot::Sender<()>),
}

struct AdmitRequest {
    participant: ParticipantId,
    info: ParticipantInfo,
    kind: ConnectionKind,
    client: ClientDetails,
    reply: tokio::sync::oneshot::Sender<Result<(), Refusal>>,
}

/// A refused attempt to open a connection of kind `attempt`, to record.
struct RefusedRequest {
    participant: ParticipantId,
    info: ParticipantInfo,
    client: ClientDetails,
    attempt: ConnectionKind,
    code: EventErrorCode,
}

struct ConnectRequest {
    participant: ParticipantId,
    info: ParticipantInfo,
    kind: ConnectionKind,
    client: ClientDetails,
    outbound: mpsc::UnboundedSender<Outbound>,
    reply: tokio::sync::oneshot::Sender<ConnectionId>,
}

/// How a connection reaches its stage.
#[derive(Clone)]
pub struct HubHandle {
    commands: mpsc::Sender<Command>,
}

impl HubHandle {
    /// Registers a connection; its outbound messages arrive on the returned receiver, starting
    /// with the current STAGE_STATE for an events socket.
    pub async fn connect(
        &self,
        participant: ParticipantId,
        info: ParticipantInfo,
        kind: ConnectionKind,
        client: ClientDetails,
    ) -> Option<(ConnectionId, mpsc::UnboundedReceiver<Outbound>)> {
        let (outbound, receiver) = mpsc::unbounded_channel();
        let (reply, answer) = tokio::sync::oneshot::channel();
        let command = Command::Connect(Box::new(ConnectRequest {
            participant,
            info,
            kind,
            client,
            outbound,
            reply,
        }));
        self.commands.send(command).await.ok()?;
        Some((answer.await.ok()?, receiver))
    }

    /// Sends an input, waiting while the hub's queue is full: a socket that floods the stage
    /// is slowed down instead of growing the queue.
    pub async fn input(&self, input: Input) {
        let _ = self.commands.send(Command::Input(input)).await;
    }

    /// Sends from code that cannot wait (control-plane notices): never blocks, never lost.
    fn input_detached(&self, input: Input) {
        self.send_detached(Command::Input(input));
    }

    fn send_detached(&self, command: Command) {
        if let Err(mpsc::error::TrySendError::Full(command)) = self.commands.try_send(command) {
            let commands = self.commands.clone();
            tokio::spawn(async move {
                let _ = commands.send(command).await;
            });
        }
    }

    /// Asks, before a connection is opened, whether the participant may open it: the subscriber
    /// limit (see [`StagePresence::admit`]). The events socket asks before its upgrade, a WHIP
    /// subscription before its offer is answered. A refusal is recorded in the participant's
    /// history (JOIN_ERROR or SUBSCRIBE_ERROR with QUOTA_EXCEEDED) by the hub itself. A hub that
    /// is gone admits: the connection then fails as it does on a deleted stage.
    pub async fn admit(
        &self,
        participant: ParticipantId,
        info: ParticipantInfo,
        kind: ConnectionKind,
        client: ClientDetails,
    ) -> Result<(), Refusal> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let request = AdmitRequest { participant, info, kind, client, reply };
        if self.commands.send(Command::Admit(Box::new(request))).await.is_err() {
            return Ok(());
        }
        answer.await.unwrap_or(Ok(()))
    }

    /// Records that a participant with a valid token was refused an attempt to open a
    /// connection of kind `attempt` (events → JOIN_ERROR, publish → PUBLISH_ERROR, subscribe →
    /// SUBSCRIBE_ERROR naming the publisher), with `code`. A participant that is not on the
    /// stage is recorded in the current session (one starts if there is none) as not connected,
    /// so that ListParticipants shows it and ListParticipantEvents its error. Never waits: the
    /// refused request answers at once, the history follows.
    pub fn record_error(
        &self,
        participant: ParticipantId,
        info: ParticipantInfo,
        client: ClientDetails,
        attempt: ConnectionKind,
        code: EventErrorCode,
    ) {
        let request = RefusedRequest { participant, info, client, attempt, code };
        self.send_detached(Command::Refused(Box::new(request)));
    }

    /// Applies an exchanged token: TOKEN_EXCHANGED is recorded, its info takes effect (media it
    /// no longer allows ends: PUBLISH_STOPPED, SUBSCRIBE_STOPPED), and `connection` (the events
    /// socket that sent the token) is sent TOKEN_EXCHANGED once all that is done.
    pub async fn exchanged(
        &self,
        participant: ParticipantId,
        connection: ConnectionId,
        info: ParticipantInfo,
    ) {
        let _ = self.commands.send(Command::Exchanged { participant, connection, info }).await;
    }
}

/// Commands a hub may have queued; beyond this, senders wait (backpressure on the socket that
/// sends too fast, never an unbounded queue).
const COMMAND_QUEUE: usize = 1024;

/// Every stage's hub on this node.
pub struct StageHubs {
    store: Arc<dyn Store>,
    config: PresenceConfig,
    hubs: Mutex<HashMap<String, HubHandle>>,
}

impl StageHubs {
    pub fn new(store: Arc<dyn Store>, config: PresenceConfig) -> Arc<StageHubs> {
        Arc::new(StageHubs { store, config, hubs: Mutex::new(HashMap::new()) })
    }

    /// The hub of a stage, started if needed. Hubs live until their stage is deleted: an idle
    /// hub is one parked task and a few maps.
    pub fn hub(&self, stage_id: &str) -> HubHandle {
        let mut hubs = self.hubs.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(hub) = hubs.get(stage_id).filter(|h| !h.commands.is_closed()) {
            return hub.clone();
        }
        let (commands, receiver) = mpsc::channel(COMMAND_QUEUE);
        let hub = Hub::new(stage_id.to_string(), self.store.clone(), self.config);
        tokio::spawn(hub.run(receiver));
        let handle = HubHandle { commands };
        hubs.insert(stage_id.to_string(), handle.clone());
        handle
    }

    /// Server shutdown: tells every participant (DISCONNECTED `SERVER_SHUTDOWN`), records them
    /// as left and their sessions as ended, and returns once every hub's history is written.
    pub async fn shutdown(&self) {
        let hubs: Vec<HubHandle> = {
            let mut hubs = self.hubs.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            hubs.drain().map(|(_, hub)| hub).collect()
        };
        let mut acks = Vec::new();
        for hub in hubs {
            let (ack, done) = tokio::sync::oneshot::channel();
            if hub.commands.send(Command::Shutdown(ack)).await.is_ok() {
                acks.push(done);
            }
        }
        for done in acks {
            let _ = done.await;
        }
    }

    /// [`HubHandle::admit`] for a verified participant on its stage.
    pub async fn admit(
        &self,
        verified: &VerifiedParticipant,
        client: ClientDetails,
        kind: ConnectionKind,
    ) -> Result<(), Refusal> {
        let participant = verified.participant_id().to_string();
        self.hub(&verified.stage.id)
            .admit(participant, participant_info(verified), kind, client)
            .await
    }

    /// [`HubHandle::record_error`] for a verified participant on its stage. Never waits.
    pub fn record_error(
        &self,
        verified: &VerifiedParticipant,
        client: ClientDetails,
        attempt: ConnectionKind,
        code: EventErrorCode,
    ) {
        let participant = verified.participant_id().to_string();
        let info = participant_info(verified);
        self.hub(&verified.stage.id).record_error(participant, info, client, attempt, code);
    }

    /// Acts on a control-plane notice.
    pub fn notice(&self, notice: ControlNotice) {
        let mut hubs = self.hubs.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        match notice {
            ControlNotice::ParticipantDisconnected { stage_id, participant_id, .. } => {
                if let Some(hub) = hubs.get(&stage_id) {
                    hub.input_detached(Input::Disconnect { participant: participant_id });
                }
            }
            ControlNotice::StageDeleted { stage_id } => {
                if let Some(hub) = hubs.remove(&stage_id) {
                    hub.input_detached(Input::DeleteStage);
                }
            }
        }
    }
}

/// A participant as its history record needs it (kept until it has left, so that the LEFT
/// record still carries its user id and attributes).
struct Joined {
    first_join_time: OffsetDateTime,
    info: ParticipantInfo,
    client: ClientDetails,
    /// When its last connection closed: the time LEFT is recorded at, not when the grace ran
    /// out.
    last_closed: Option<OffsetDateTime>,
}

struct Connection {
    participant: ParticipantId,
    kind: ConnectionKind,
    outbound: mpsc::UnboundedSender<Outbound>,
}

/// One stage's hub: presence, connections and the history writer's queue.
struct Hub {
    stage_id: String,
    presence: StagePresence,
    connections: BTreeMap<ConnectionId, Connection>,
    next_connection: u64,
    session_id: Option<String>,
    /// What the history records of each participant of this session.
    joined: BTreeMap<ParticipantId, Joined>,
    ever_published: BTreeSet<ParticipantId>,
    /// Every participant this session has a record of (joined, left or refused), so that a
    /// refusal adds a record only for a participant the session has not seen.
    recorded: BTreeSet<ParticipantId>,
    /// When the stage last lost a participant — the last LEFT, or a refused participant that
    /// never joined: the session's end time.
    last_left_at: Option<OffsetDateTime>,
    history: mpsc::UnboundedSender<HistoryWrite>,
    writer: Option<tokio::task::JoinHandle<()>>,
}

impl Hub {
    fn new(stage_id: String, store: Arc<dyn Store>, config: PresenceConfig) -> Hub {
        let (history, writes) = mpsc::unbounded_channel();
        let writer = Some(tokio::spawn(write_history(store, writes)));
        Hub {
            stage_id,
            presence: StagePresence::new(config),
            connections: BTreeMap::new(),
            next_connection: 1,
            session_id: None,
            joined: BTreeMap::new(),
            ever_published: BTreeSet::new(),
            recorded: BTreeSet::new(),
            last_left_at: None,
            history,
            writer,
        }
    }

    async fn run(mut self, mut commands: mpsc::Receiver<Command>) {
        loop {
            let timeout = self.presence.poll_timeout();
            let sleep = async {
                match timeout {
                    Some(at) => tokio::time::sleep_until(at.into()).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                command = commands.recv() => match command {
                    Some(Command::Shutdown(ack)) => {
                        self.presence.handle_input(Input::Shutdown, Instant::now());
                        self.carry_out();
                        self.history_closed();
                        if let Some(writer) = self.writer.take() {
                            let _ = writer.await;
                        }
                        let _ = ack.send(());
                        break;
                    }
                    Some(command) => self.handle(command),
                    None => break,
                },
                () = sleep => self.presence.handle_timeout(Instant::now()),
            }
            self.carry_out();
            if self.deleted() {
                break;
            }
        }
    }

    /// After DeleteStage everyone has been closed: the hub is done.
    fn deleted(&self) -> bool {
        self.connections.is_empty() && !self.presence.in_session() && self.history.is_closed()
    }

    fn handle(&mut self, command: Command) {
        let now = Instant::now();
        match command {
            Command::Connect(request) => {
                let ConnectRequest { participant, info, kind, client, outbound, reply } = *request;
                let connection = ConnectionId(self.next_connection);
                self.next_connection += 1;
                let info_now = info.clone();
                self.joined
                    .entry(participant.clone())
                    .and_modify(|j| {
                        j.client = client.clone();
                        j.info = info_now.clone();
                        j.last_closed = None;
                    })
                    .or_insert(Joined {
                        first_join_time: OffsetDateTime::now_utc(),
                        info: info_now,
                        client,
                        last_closed: None,
                    });
                let is_events = kind == ConnectionKind::Events;
                self.connections.insert(
                    connection,
                    Connection { participant: participant.clone(), kind: kind.clone(), outbound },
                );
                self.presence
                    .handle_input(Input::Connected { participant, info, connection, kind }, now);
                let _ = reply.send(connection);
                if is_events {
                    // Every socket starts with the state as it is now, session included.
                    self.carry_out();
                    let state = Utf8Bytes::from(self.stage_state());
                    self.send(connection, Outbound::Text(state));
                }
            }
            Command::Input(input) => {
                if let Input::Closed { connection } | Input::Left { connection } = &input
                    && let Some(closed) = self.connections.remove(connection)
                    && !self.connections.values().any(|c| c.participant == closed.participant)
                    && let Some(j) = self.joined.get_mut(&closed.participant)
                {
                    j.last_closed = Some(OffsetDateTime::now_utc());
                }
                if let Input::InfoChanged { participant, info } = &input {
                    self.info_changed(participant, info);
                }
                if matches!(input, Input::DeleteStage) {
                    // No more history for a deleted stage: the store dropped it.
                    self.history_closed();
                }
                self.presence.handle_input(input, now);
            }
            Command::Admit(request) => {
                let AdmitRequest { participant, info, kind, client, reply } = *request;
                let admitted = self.presence.admit(&participant, &info, &kind, now);
                if admitted.is_err() {
                    let code = EventErrorCode::QuotaExceeded;
                    self.refused(RefusedRequest { participant, info, client, attempt: kind, code });
                }
                let _ = reply.send(admitted);
            }
            Command::Refused(request) => self.refused(*request),
            Command::Exchanged { participant, connection, info } => {
                // Recorded first: what the exchange ends follows from it.
                self.event(&participant, "TOKEN_EXCHANGED");
                self.info_changed(&participant, &info);
                self.presence.handle_input(
                    Input::InfoChanged { participant: participant.clone(), info },
                    now,
                );
                // The answer follows what the exchange changed (an immediate STAGE_STATE).
                self.carry_out();
                if let Some(j) = self.joined.get(&participant) {
                    let capabilities =
                        Capability::from_flags(j.info.can_publish, j.info.can_subscribe);
                    let ack = ServerMessage::token_exchanged(capabilities).to_json();
                    self.send(connection, Outbound::Text(Utf8Bytes::from(ack)));
                }
            }
            Command::Shutdown(_) => {} // Handled in `run`, which must await the writer.
        }
    }

    /// Keeps the history's copy of a participant's info (before presence applies it).
    fn info_changed(&mut self, participant: &str, info: &ParticipantInfo) {
        if let Some(j) = self.joined.get_mut(participant)
            && j.info != *info
        {
            j.info = info.clone();
            // GetParticipant and the userId filter show the exchanged token's values.
            self.record_participant(participant, Stored::Connected);
        }
    }

    /// Records a refusal: an error event, and the participant itself if the session has no
    /// record of it yet.
    fn refused(&mut self, request: RefusedRequest) {
        let RefusedRequest { participant, info, client, attempt, code } = request;
        tracing::debug!(stage = %self.stage_id, participant, %code, "refused");
        self.presence
            .handle_input(Input::Refused { participant: participant.clone() }, Instant::now());
        // Carried out now, so that a session started by this refusal has its id.
        self.carry_out();
        if !self.joined.contains_key(&participant) {
            // Not on the stage: the refusal is its whole visit, and the session lasts past it.
            let at = OffsetDateTime::now_utc();
            self.last_left_at = Some(self.last_left_at.map_or(at, |t| t.max(at)));
            if !self.recorded.contains(&participant) {
                self.record(&participant, &info, &client, at, Stored::Disconnected);
            }
        }
        let name = error_event_name(&attempt);
        let remote_participant_id = match attempt {
            ConnectionKind::Subscribe { publisher } => Some(publisher),
            ConnectionKind::Events | ConnectionKind::Publish => None,
        };
        let details = EventDetails {
            remote_participant_id,
            error_code: Some(code.as_str().to_string()),
            ..Default::default()
        };
        self.event_with(&participant, name, details);
    }

    fn history_closed(&mut self) {
        let (closed, _) = mpsc::unbounded_channel();
        self.history = closed;
    }

    /// Carries out everything presence asked for.
    fn carry_out(&mut self) {
        while let Some(output) = self.presence.poll_output() {
            match output {
                Output::SessionStarted => {
                    let session_id = new_session_id();
                    self.write(HistoryWrite::StartSession {
                        stage_id: self.stage_id.clone(),
                        session_id: session_id.clone(),
                        at: OffsetDateTime::now_utc(),
                    });
                    self.session_id = Some(session_id);
                    self.ever_published.clear();
                    self.recorded.clear();
                }
                Output::SessionEnded => {
                    if let Some(session_id) = self.session_id.take() {
                        let at = self.last_left_at.take().unwrap_or_else(OffsetDateTime::now_utc);
                        let stage_id = self.stage_id.clone();
                        self.write(HistoryWrite::EndSession { stage_id, session_id, at });
                    }
                }
                Output::Joined { participant } => {
                    self.record_participant(&participant, Stored::Connected);
                    self.event(&participant, "JOINED");
                }
                Output::Left { participant } => {
                    let at = self
                        .joined
                        .get(&participant)
                        .and_then(|j| j.last_closed)
                        .unwrap_or_else(OffsetDateTime::now_utc);
                    self.record_participant(&participant, Stored::Disconnected);
                    self.event_at(&participant, "LEFT", EventDetails::default(), at);
                    self.joined.remove(&participant);
                    self.last_left_at = Some(self.last_left_at.map_or(at, |t| t.max(at)));
                }
                Output::PublishStarted { participant } => {
                    self.ever_published.insert(participant.clone());
                    self.record_participant(&participant, Stored::Connected);
                    self.event(&participant, "PUBLISH_STARTED");
                }
                Output::PublishStopped { participant } => {
                    self.event(&participant, "PUBLISH_STOPPED")
                }
                Output::SubscribeStarted { participant, publisher } => {
                    self.remote_event(&participant, "SUBSCRIBE_STARTED", publisher)
                }
                Output::SubscribeStopped { participant, publisher } => {
                    self.remote_event(&participant, "SUBSCRIBE_STOPPED", publisher)
                }
                Output::Close { connection, reason } => self.close(connection, reason),
                Output::StateChanged => {
                    let state = Utf8Bytes::from(self.stage_state());
                    let listeners: Vec<ConnectionId> = self
                        .connections
                        .iter()
                        .filter(|(_, c)| c.kind == ConnectionKind::Events)
                        .map(|(id, _)| *id)
                        .collect();
                    for connection in listeners {
                        self.send(connection, Outbound::Text(state.clone()));
                    }
                }
            }
        }
    }

    fn send(&mut self, connection: ConnectionId, message: Outbound) {
        if let Some(c) = self.connections.get(&connection)
            && c.outbound.send(message).is_err()
        {
            // The connection's task is gone; its Closed input is on its way.
            tracing::debug!(stage = %self.stage_id, connection = connection.0, "send to a closed connection");
        }
    }

    fn close(&mut self, connection: ConnectionId, reason: CloseReason) {
        let reason = match reason {
            CloseReason::Replaced => DisconnectReason::Replaced,
            CloseReason::Disconnected => DisconnectReason::ParticipantDisconnected,
            CloseReason::StageDeleted => DisconnectReason::StageDeleted,
            CloseReason::Shutdown => DisconnectReason::ServerShutdown,
            CloseReason::CapabilityRemoved => {
                // Only media sessions are closed for this (the events socket stays, and hears
                // TOKEN_EXCHANGED); a media session's task ends the session on any Close.
                self.send(connection, Outbound::Close { code: 1000, reason: "CAPABILITY_REMOVED" });
                self.connections.remove(&connection);
                return;
            }
        };
        // Only an events socket can be told why; media sessions just end.
        if self.connections.get(&connection).is_some_and(|c| c.kind == ConnectionKind::Events) {
            let text = Utf8Bytes::from(ServerMessage::disconnected(reason).to_json());
            self.send(connection, Outbound::Text(text));
        }
        self.send(
            connection,
            Outbound::Close { code: reason.close_code(), reason: reason.as_str() },
        );
        self.connections.remove(&connection);
    }

    fn stage_state(&self) -> String {
        let participants = self
            .presence
            .participants()
            .map(|p| ParticipantView {
                id: p.id.clone(),
                user_id: p.info.user_id.clone(),
                attributes: p.info.attributes.clone(),
                is_publishing: p.is_publishing,
                streams: [("audio", p.streams.audio), ("video", p.streams.video)]
                    .into_iter()
                    .filter(|(_, on)| *on)
                    .map(|(kind, _)| kind.to_string())
                    .collect(),
                audio_muted: p.audio_muted,
                video_stopped: p.video_stopped,
                capabilities: Capability::from_flags(p.info.can_publish, p.info.can_subscribe),
            })
            .collect();
        ServerMessage::StageState(StageStateMsg {
            stage_id: self.stage_id.clone(),
            session_id: self.session_id.clone(),
            participants,
        })
        .to_json()
    }

    fn write(&self, write: HistoryWrite) {
        // A closed queue means the stage was deleted: nothing left to record.
        let _ = self.history.send(write);
    }

    /// Records a participant on the stage as it is now.
    fn record_participant(&mut self, participant: &str, state: Stored) {
        let Some(record) = self.joined.get(participant).and_then(|j| {
            self.participant_record(participant, &j.info, &j.client, j.first_join_time, state)
        }) else {
            return;
        };
        self.recorded.insert(participant.to_string());
        self.write(HistoryWrite::Participant(Box::new(record)));
    }

    /// Records a participant that is not on the stage (refused before it joined).
    fn record(
        &mut self,
        participant: &str,
        info: &ParticipantInfo,
        client: &ClientDetails,
        first_join_time: OffsetDateTime,
        state: Stored,
    ) {
        let Some(record) =
            self.participant_record(participant, info, client, first_join_time, state)
        else {
            return;
        };
        self.recorded.insert(participant.to_string());
        self.write(HistoryWrite::Participant(Box::new(record)));
    }

    fn participant_record(
        &self,
        participant: &str,
        info: &ParticipantInfo,
        client: &ClientDetails,
        first_join_time: OffsetDateTime,
        state: Stored,
    ) -> Option<ParticipantRecord> {
        Some(ParticipantRecord {
            seq: 0,
            stage_id: self.stage_id.clone(),
            session_id: self.session_id.clone()?,
            participant_id: participant.to_string(),
            user_id: info.user_id.clone(),
            state,
            first_join_time,
            attributes: info.attributes.clone(),
            published: self.ever_published.contains(participant),
            recording_state: "DISABLED".into(),
            details: client.details.clone(),
        })
    }

    fn event(&self, participant: &str, name: &str) {
        self.event_with(participant, name, EventDetails::default());
    }

    fn remote_event(&self, participant: &str, name: &str, publisher: ParticipantId) {
        let details = EventDetails { remote_participant_id: Some(publisher), ..Default::default() };
        self.event_with(participant, name, details);
    }

    fn event_with(&self, participant: &str, name: &str, details: EventDetails) {
        self.event_at(participant, name, details, OffsetDateTime::now_utc());
    }

    fn event_at(&self, participant: &str, name: &str, details: EventDetails, at: OffsetDateTime) {
        let Some(session_id) = &self.session_id else { return };
        self.write(HistoryWrite::Event(Box::new(EventRecord {
            seq: 0,
            stage_id: self.stage_id.clone(),
            session_id: session_id.clone(),
            participant_id: participant.to_string(),
            name: name.to_string(),
            event_time: at,
            details,
        })));
    }
}
