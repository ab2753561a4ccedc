//! A stage's hub against a real store (SQLite in memory): what refusals, token exchanges and the
//! subscriber limit leave in the history, and what connections are sent.

use std::{sync::Arc, time::Duration};

use time::OffsetDateTime;
use tokio::sync::mpsc::UnboundedReceiver;
use troupe_events::{
    history::EventErrorCode,
    hub::{ClientDetails, HubHandle, Outbound, StageHubs},
    messages::{Capability, ServerMessage},
    presence::{ConnectionKind, ParticipantInfo, PresenceConfig, Refusal},
};
use troupe_store::{
    EventRecord, NewStage, PageRequest, ParticipantFilter, ParticipantRecord, ParticipantState,
    SessionRecord, Store,
};

const STAGE: &str = "hubstage0001";
const GRACE: Duration = Duration::from_millis(300);

async fn setup(max_subscribers: usize) -> (Arc<dyn Store>, Arc<StageHubs>, HubHandle) {
    let store = troupe_store::open("sqlite::memory:").await.expect("store");
    let stage = NewStage {
        id: STAGE.into(),
        name: "hub".into(),
        tags: Default::default(),
        auto_recording: None,
        storage_configuration_id: None,
        created_at: OffsetDateTime::now_utc(),
    };
    store.create_stage(&stage, &[], 10).await.expect("stage");
    let config = PresenceConfig { grace: GRACE, max_subscribers, ..PresenceConfig::default() };
    let hubs = StageHubs::new(store.clone(), config);
    let hub = hubs.hub(STAGE);
    (store, hubs, hub)
}

fn caps(can_publish: bool, can_subscribe: bool) -> ParticipantInfo {
    ParticipantInfo {
        user_id: Some("someone".into()),
        can_publish,
        can_subscribe,
        ..Default::default()
    }
}

/// Polls `probe` until it gives something: the history is written in the background.
async fn eventually<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    for _ in 0..200 {
        if let Some(value) = probe().await {
            return value;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for {what}");
}

async fn sessions(store: &Arc<dyn Store>) -> Vec<SessionRecord> {
    store.list_sessions(STAGE, PageRequest::first(100)).await.expect("sessions").items
}

async fn participants(store: &Arc<dyn Store>, session: &str) -> Vec<ParticipantRecord> {
    let filter = ParticipantFilter::default();
    let page = PageRequest::first(100);
    store.list_participants(STAGE, session, &filter, page).await.expect("participants").items
}

async fn events(store: &Arc<dyn Store>, session: &str, participant: &str) -> Vec<EventRecord> {
    let page = PageRequest::first(100);
    store.list_events(STAGE, session, participant, page).await.expect("events").items
}

/// Waits for `participant` to have `n` events in the stage's only session.
async fn events_of(store: &Arc<dyn Store>, participant: &str, n: usize) -> Vec<EventRecord> {
    eventually(&format!("{n} events of {participant}"), || async {
        let session = sessions(store).await.pop()?;
        let events = events(store, &session.session_id, participant).await;
        (events.len() >= n).then_some(events)
    })
    .await
}

fn names(events: &[EventRecord]) -> Vec<&str> {
    events.iter().map(|e| e.name.as_str()).collect()
}

/// The next text message on a connection, parsed.
async fn next_message(outbound: &mut UnboundedReceiver<Outbound>) -> ServerMessage {
    let message = tokio::time::timeout(Duration::from_secs(2), outbound.recv())
        .await
        .expect("a message in time")
        .expect("the connection is open");
    match message {
        Outbound::Text(text) => ServerMessage::from_json(text.as_str()).expect("a server message"),
        Outbound::Close { code, reason } => panic!("closed: {code} {reason}"),
    }
}

#[tokio::test]
async fn a_refusal_on_an_empty_stage_is_recorded_in_a_session_of_its_own() {
    let (store, _hubs, hub) = setup(10).await;
    let refused_at = OffsetDateTime::now_utc();
    // Not async: the refused request never waits for the history.
    hub.record_error(
        "late".into(),
        caps(true, true),
        ClientDetails::default(),
        ConnectionKind::Publish,
        EventErrorCode::QuotaExceeded,
    );
    let events = events_of(&store, "late", 1).await;
    assert_eq!(names(&events), ["PUBLISH_ERROR"]);
    assert_eq!(events[0].details.error_code.as_deref(), Some("QUOTA_EXCEEDED"));
    assert_eq!(events[0].details.remote_participant_id, None);
    let session = sessions(&store).await.pop().expect("a session");
    let listed = participants(&store, &session.session_id).await;
    assert_eq!(listed.len(), 1, "ListParticipants shows the refused participant");
    assert_eq!(listed[0].participant_id, "late");
    assert_eq!(listed[0].state, ParticipantState::Disconnected, "it never joined");
    assert_eq!(listed[0].user_id.as_deref(), Some("someone"));
    assert!(!listed[0].published);

    // The session lasts the grace, then ends when the refusal happened, not a grace later.
    let ended = eventually("the session to end", || async {
        sessions(&store).await.pop().filter(|s| s.end_time.is_some())
    })
    .await;
    let end = ended.end_time.expect("ended");
    assert!(end - refused_at < time::Duration::milliseconds(200), "ended at {end}");
}

#[tokio::test]
async fn a_refusal_on_the_stage_adds_an_event_to_the_participant() {
    let (store, _hubs, hub) = setup(10).await;
    let (_ws, _out) = hub
        .connect("alice".into(), caps(true, true), ConnectionKind::Events, Default::default())
        .await
        .expect("connected");
    hub.record_error(
        "alice".into(),
        caps(true, true),
        ClientDetails::default(),
        ConnectionKind::Subscribe { publisher: "bob".into() },
        EventErrorCode::PublisherNotFound,
    );
    hub.record_error(
        "alice".into(),
        caps(true, true),
        ClientDetails::default(),
        ConnectionKind::Publish,
        EventErrorCode::codec_mismatch("v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n"),
    );
    let events = events_of(&store, "alice", 3).await;
    assert_eq!(names(&events), ["JOINED", "SUBSCRIBE_ERROR", "PUBLISH_ERROR"]);
    assert_eq!(events[1].details.error_code.as_deref(), Some("PUBLISHER_NOT_FOUND"));
    assert_eq!(events[1].details.remote_participant_id.as_deref(), Some("bob"));
    assert_eq!(events[2].details.error_code.as_deref(), Some("INVALID_VIDEO_CODEC"));
    let session = sessions(&store).await.pop().expect("a session");
    let listed = participants(&store, &session.session_id).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].state, ParticipantState::Connected, "still on the stage");
}

#[tokio::test]
async fn an_exchange_without_publish_ends_the_publish_and_is_answered() {
    let (store, _hubs, hub) = setup(10).await;
    let both = caps(true, true);
    let (ws, mut events_out) = hub
        .connect("alice".into(), both.clone(), ConnectionKind::Events, Default::default())
        .await
        .expect("connected");
    let (_publish, mut publish_out) = hub
        .connect("alice".into(), both, ConnectionKind::Publish, Default::default())
        .await
        .expect("connected");
    assert!(matches!(next_message(&mut events_out).await, ServerMessage::StageState(_)));

    hub.exchanged("alice".into(), ws, caps(false, true)).await;
    let closed = tokio::time::timeout(Duration::from_secs(2), publish_out.recv()).await;
    assert!(
        matches!(closed, Ok(Some(Outbound::Close { .. }))),
        "the media session is told to end: {closed:?}"
    );
    // The answer, and (at once or after the coalescing interval) the state without publishing.
    let (mut answered, mut stopped) = (false, false);
    while !(answered && stopped) {
        match next_message(&mut events_out).await {
            ServerMessage::TokenExchanged(ack) => {
                assert_eq!(ack.capabilities, [Capability::Subscribe]);
                answered = true;
            }
            ServerMessage::StageState(state) => {
                let alice = &state.participants[0];
                stopped = !alice.is_publishing && alice.capabilities == [Capability::Subscribe];
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    let events = events_of(&store, "alice", 4).await;
    assert_eq!(names(&events), ["JOINED", "PUBLISH_STARTED", "TOKEN_EXCHANGED", "PUBLISH_STOPPED"]);
}

#[tokio::test]
async fn the_subscriber_limit_refuses_and_records_why() {
    let (store, hubs, hub) = setup(1).await;
    let viewer = caps(false, true);
    let events = ConnectionKind::Events;
    let client = ClientDetails::default;
    assert_eq!(hub.admit("alice".into(), viewer.clone(), events.clone(), client()).await, Ok(()));
    hub.connect("alice".into(), viewer.clone(), events.clone(), client()).await.expect("alice");
    // The hub stays reachable through StageHubs as well: the same hub.
    let again = hubs.hub(STAGE);
    let full = Err(Refusal::StageAtCapacity { max_subscribers: 1 });
    assert_eq!(again.admit("bob".into(), viewer.clone(), events.clone(), client()).await, full);
    let to_alice = ConnectionKind::Subscribe { publisher: "alice".into() };
    assert_eq!(hub.admit("bob".into(), viewer.clone(), to_alice, client()).await, full);
    assert_eq!(hub.admit("host".into(), caps(true, false), events, client()).await, Ok(()));

    let bob = events_of(&store, "bob", 2).await;
    assert_eq!(names(&bob), ["JOIN_ERROR", "SUBSCRIBE_ERROR"]);
    assert!(bob.iter().all(|e| e.details.error_code.as_deref() == Some("QUOTA_EXCEEDED")));
    assert_eq!(bob[1].details.remote_participant_id.as_deref(), Some("alice"));
    let session = sessions(&store).await.pop().expect("alice's session");
    let listed = participants(&store, &session.session_id).await;
    let states: Vec<_> = listed.iter().map(|p| (p.participant_id.as_str(), p.state)).collect();
    assert_eq!(
        states,
        [("alice", ParticipantState::Connected), ("bob", ParticipantState::Disconnected)]
    );
}
