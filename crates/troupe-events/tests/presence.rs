//! Presence as a state machine, in simulated time: scenarios named after the behaviour, and a
//! long randomized run checked against invariants.

use std::{
    collections::{BTreeMap, BTreeSet},
    time::{Duration, Instant},
};

use troupe_events::presence::{
    CloseReason, ConnectionId, ConnectionKind, Input, Output, ParticipantInfo, PresenceConfig,
    Refusal, SEAT_HOLD, StagePresence,
};

const GRACE: Duration = Duration::from_secs(10);
const COALESCE: Duration = Duration::from_millis(100);

struct Sim {
    presence: StagePresence,
    now: Instant,
    next_connection: u64,
}

impl Sim {
    fn new() -> Sim {
        Sim::with_subscribers(10_000)
    }

    fn with_subscribers(max_subscribers: usize) -> Sim {
        let config = PresenceConfig { grace: GRACE, coalesce: COALESCE, max_subscribers };
        Sim { presence: StagePresence::new(config), now: Instant::now(), next_connection: 1 }
    }

    fn input(&mut self, input: Input) -> Vec<Output> {
        self.presence.handle_input(input, self.now);
        self.drain()
    }

    fn connect(&mut self, participant: &str, kind: ConnectionKind) -> (ConnectionId, Vec<Output>) {
        self.connect_as(participant, caps(true, true), kind)
    }

    fn connect_as(
        &mut self,
        participant: &str,
        info: ParticipantInfo,
        kind: ConnectionKind,
    ) -> (ConnectionId, Vec<Output>) {
        let connection = ConnectionId(self.next_connection);
        self.next_connection += 1;
        let out = self.input(Input::Connected {
            participant: participant.into(),
            info,
            connection,
            kind,
        });
        (connection, out)
    }

    fn close(&mut self, connection: ConnectionId) -> Vec<Output> {
        self.input(Input::Closed { connection })
    }

    /// Advances simulated time, firing every timeout on the way.
    fn advance(&mut self, by: Duration) -> Vec<Output> {
        self.advance_timed(by).into_iter().map(|(_, o)| o).collect()
    }

    /// The same, with the simulated time each output came out at.
    fn advance_timed(&mut self, by: Duration) -> Vec<(Instant, Output)> {
        let end = self.now + by;
        let mut out = Vec::new();
        while let Some(at) = self.presence.poll_timeout().filter(|at| *at <= end) {
            self.now = self.now.max(at);
            self.presence.handle_timeout(self.now);
            let now = self.now;
            out.extend(self.drain().into_iter().map(|o| (now, o)));
        }
        self.now = end;
        out
    }

    fn drain(&mut self) -> Vec<Output> {
        std::iter::from_fn(|| self.presence.poll_output()).collect()
    }
}

fn caps(can_publish: bool, can_subscribe: bool) -> ParticipantInfo {
    ParticipantInfo { can_publish, can_subscribe, ..Default::default() }
}

fn refused(p: &str) -> Input {
    Input::Refused { participant: p.into() }
}

fn joined(p: &str) -> Output {
    Output::Joined { participant: p.into() }
}
fn left(p: &str) -> Output {
    Output::Left { participant: p.into() }
}

#[test]
fn first_join_starts_the_session() {
    let mut sim = Sim::new();
    let (_, out) = sim.connect("alice", ConnectionKind::Events);
    assert_eq!(out, vec![Output::SessionStarted, joined("alice"), Output::StateChanged]);
    assert!(sim.presence.in_session());
}

#[test]
fn leaving_on_purpose_skips_the_grace() {
    let mut sim = Sim::new();
    let (_bob, _) = sim.connect("bob", ConnectionKind::Events);
    let (ws, _) = sim.connect("alice", ConnectionKind::Events);
    let (publish, _) = sim.connect("alice", ConnectionKind::Publish);
    // The SDK's leave(): the events socket closes normally first, its media sessions a moment
    // later (DELETE): alice leaves when the last one is gone, not a grace period later.
    let out = sim.input(Input::Left { connection: ws });
    assert!(!out.contains(&left("alice")), "her publish is still open: {out:?}");
    let out = sim.close(publish);
    assert!(out.contains(&left("alice")), "{out:?}");
    assert_eq!(sim.presence.participants().count(), 1);
    // The other order: media first, then the socket's goodbye.
    let (ws, _) = sim.connect("carol", ConnectionKind::Events);
    let (publish, _) = sim.connect("carol", ConnectionKind::Publish);
    assert!(!sim.close(publish).contains(&left("carol")));
    assert!(sim.input(Input::Left { connection: ws }).contains(&left("carol")));
    // A subscription that was being opened when the socket said goodbye (the SDK ends it as
    // soon as it is answered) does not undo the goodbye.
    let (ws, _) = sim.connect("erin", ConnectionKind::Events);
    sim.input(Input::Left { connection: ws });
    let (late, out) = sim.connect("erin", ConnectionKind::Subscribe { publisher: "bob".into() });
    assert!(!out.contains(&left("erin")));
    assert!(sim.close(late).contains(&left("erin")), "no grace after the goodbye");
    // A participant that said goodbye and came back within the grace is a returning one:
    // a later drop gets the grace again.
    let (ws, _) = sim.connect("dave", ConnectionKind::Events);
    let (publish, _) = sim.connect("dave", ConnectionKind::Publish);
    sim.input(Input::Left { connection: ws });
    let (again, _) = sim.connect("dave", ConnectionKind::Events);
    sim.close(publish);
    assert!(!sim.close(again).contains(&left("dave")), "a drop keeps the grace");
    assert!(sim.advance(GRACE * 2).contains(&left("dave")));
    // Erin comes back with a new socket after her goodbye: she is a returning participant,
    // and her media sessions get the grace again.
    let (ws, _) = sim.connect("erin", ConnectionKind::Events);
    let (publish, _) = sim.connect("erin", ConnectionKind::Publish);
    sim.close(ws);
    assert!(!sim.close(publish).contains(&left("erin")), "a drop keeps the grace");
    assert!(sim.advance(GRACE * 2).contains(&left("erin")));
}

#[test]
fn reconnect_inside_the_grace_keeps_the_participant() {
    let mut sim = Sim::new();
    let (ws, _) = sim.connect("alice", ConnectionKind::Events);
    assert_eq!(sim.close(ws), vec![]);
    assert!(sim.advance(GRACE - Duration::from_secs(1)).is_empty());
    let (_, out) = sim.connect("alice", ConnectionKind::Events);
    assert!(!out.contains(&joined("alice")), "{out:?}");
    assert!(sim.advance(GRACE * 3).is_empty(), "still joined: no leave");
    assert_eq!(sim.presence.participants().count(), 1);
}

#[test]
fn leaving_after_the_grace_ends_the_session_with_the_last_participant() {
    let mut sim = Sim::new();
    let (a, _) = sim.connect("alice", ConnectionKind::Events);
    let (b, _) = sim.connect("bob", ConnectionKind::Publish);
    sim.advance(Duration::from_secs(1));
    sim.close(a);
    let out = sim.advance(GRACE);
    assert_eq!(out, vec![left("alice"), Output::StateChanged]);
    let out = sim.close(b);
    assert_eq!(out, vec![Output::PublishStopped { participant: "bob".into() }]);
    // The update waits for the coalescing interval (one went out when alice left).
    assert_eq!(sim.advance(COALESCE), vec![Output::StateChanged]);
    let out = sim.advance(GRACE);
    assert_eq!(out, vec![left("bob"), Output::SessionEnded, Output::StateChanged]);
    assert!(!sim.presence.in_session());
    // A new join starts a new session.
    let (_, out) = sim.connect("carol", ConnectionKind::Events);
    assert_eq!(out[0], Output::SessionStarted);
}

#[test]
fn a_media_session_alone_keeps_a_participant_joined() {
    let mut sim = Sim::new();
    let (ws, _) = sim.connect("obs", ConnectionKind::Publish);
    assert!(sim.presence.is_publishing("obs"));
    assert_eq!(sim.presence.publishers(), 1);
    let out = sim.advance(GRACE * 10);
    assert!(!out.contains(&left("obs")), "a WHIP-only publisher is a full participant");
    sim.close(ws);
    assert!(sim.advance(GRACE).contains(&left("obs")));
}

#[test]
fn a_second_publish_replaces_the_first_without_stopping() {
    let mut sim = Sim::new();
    let (first, _) = sim.connect("alice", ConnectionKind::Publish);
    sim.advance(Duration::from_secs(1));
    let (_, out) = sim.connect("alice", ConnectionKind::Publish);
    assert_eq!(out, vec![Output::Close { connection: first, reason: CloseReason::Replaced }]);
    assert!(sim.presence.is_publishing("alice"));
    // The replaced connection closing later changes nothing.
    assert!(sim.close(first).is_empty());
    assert!(sim.presence.is_publishing("alice"));
}

#[test]
fn subscriptions_are_per_publisher() {
    let mut sim = Sim::new();
    sim.connect("alice", ConnectionKind::Publish);
    sim.connect("bob", ConnectionKind::Publish);
    let sub = |p: &str| ConnectionKind::Subscribe { publisher: p.into() };
    let (to_alice, out) = sim.connect("viewer", sub("alice"));
    assert!(out.contains(&Output::SubscribeStarted {
        participant: "viewer".into(),
        publisher: "alice".into()
    }));
    let (_, out) = sim.connect("viewer", sub("bob"));
    assert!(!out.iter().any(|o| matches!(o, Output::Close { .. })), "different publishers");
    let (_, out) = sim.connect("viewer", sub("alice"));
    assert!(out.contains(&Output::Close { connection: to_alice, reason: CloseReason::Replaced }));
}

#[test]
fn disconnect_closes_everything_at_once() {
    let mut sim = Sim::new();
    let (ws, _) = sim.connect("alice", ConnectionKind::Events);
    let (publish, _) = sim.connect("alice", ConnectionKind::Publish);
    sim.connect("bob", ConnectionKind::Events);
    sim.advance(Duration::from_secs(1));
    let out = sim.input(Input::Disconnect { participant: "alice".into() });
    assert!(out.contains(&Output::Close { connection: ws, reason: CloseReason::Disconnected }));
    assert!(
        out.contains(&Output::Close { connection: publish, reason: CloseReason::Disconnected })
    );
    assert!(out.contains(&Output::PublishStopped { participant: "alice".into() }));
    assert!(out.contains(&left("alice")), "no grace after DisconnectParticipant");
    assert!(sim.presence.in_session(), "bob is still there");
    let out = sim.input(Input::DeleteStage);
    assert!(out.contains(&left("bob")));
    assert!(out.contains(&Output::SessionEnded));
    assert_eq!(sim.presence.participants().count(), 0);
}

#[test]
fn mute_and_token_exchange_change_the_state() {
    let mut sim = Sim::new();
    sim.connect("alice", ConnectionKind::Events);
    sim.advance(Duration::from_secs(1));
    let out = sim.input(Input::Mute {
        participant: "alice".into(),
        audio_muted: Some(true),
        video_stopped: None,
    });
    assert_eq!(out, vec![Output::StateChanged]);
    let state = sim.presence.participants().next().unwrap().clone();
    assert!(state.audio_muted && !state.video_stopped);
    sim.advance(Duration::from_secs(1));
    let out = sim.input(Input::Mute {
        participant: "alice".into(),
        audio_muted: Some(true),
        video_stopped: Some(false),
    });
    assert!(out.is_empty(), "no change, no update");
    let info = ParticipantInfo { user_id: Some("alice-2".into()), ..Default::default() };
    let out = sim.input(Input::InfoChanged { participant: "alice".into(), info });
    assert_eq!(out, vec![Output::StateChanged]);
}

#[test]
fn a_burst_of_changes_is_one_update_per_interval() {
    let mut sim = Sim::new();
    let mut out = Vec::new();
    for i in 0..1000 {
        out.extend(sim.connect(&format!("viewer{i}"), ConnectionKind::Events).1);
    }
    let updates = out.iter().filter(|o| **o == Output::StateChanged).count();
    assert_eq!(updates, 1, "the first change goes out at once, the rest wait");
    let later = sim.advance(COALESCE);
    assert_eq!(later, vec![Output::StateChanged], "then one update for the whole burst");
    assert!(sim.advance(COALESCE * 10).is_empty(), "nothing pending");
}

#[test]
fn a_refusal_on_an_empty_stage_opens_a_session_for_the_grace() {
    let mut sim = Sim::new();
    assert_eq!(sim.input(refused("late")), vec![Output::SessionStarted]);
    assert!(sim.presence.in_session(), "the refusal has a session to be recorded in");
    assert_eq!(sim.presence.participants().count(), 0, "but nobody joined");
    // A client retrying inside the grace stays in the same session.
    sim.advance(GRACE - Duration::from_secs(1));
    assert!(sim.input(refused("late")).is_empty());
    let retried = sim.now;
    let out = sim.advance_timed(GRACE * 2);
    assert_eq!(out, vec![(retried + GRACE, Output::SessionEnded)]);
    assert!(!sim.presence.in_session());
    assert_eq!(sim.input(refused("late")), vec![Output::SessionStarted], "a new session");
}

#[test]
fn a_session_kept_by_a_refusal_outlasts_the_participants_until_its_grace() {
    let mut sim = Sim::new();
    let (ws, _) = sim.connect("alice", ConnectionKind::Events);
    sim.close(ws);
    sim.advance(GRACE / 2);
    assert!(sim.input(refused("bob")).is_empty(), "in session already");
    let refused_at = sim.now;
    let out = sim.advance_timed(GRACE * 2);
    let ended: Vec<_> = out.iter().filter(|(_, o)| *o == Output::SessionEnded).collect();
    assert!(out.iter().any(|(_, o)| *o == left("alice")));
    assert_eq!(ended, vec![&(refused_at + GRACE, Output::SessionEnded)], "{out:?}");

    // A refused participant that then joins is an ordinary participant: its grace, not the
    // refusal's, ends the session.
    let mut sim = Sim::new();
    sim.input(refused("carol"));
    let (ws, out) = sim.connect("carol", ConnectionKind::Events);
    assert_eq!(out, vec![joined("carol"), Output::StateChanged], "same session");
    sim.advance(GRACE * 3);
    assert!(sim.presence.in_session(), "carol is connected");
    sim.close(ws);
    assert!(sim.advance(GRACE).contains(&Output::SessionEnded));
}

#[test]
fn a_refusal_of_a_participant_on_the_stage_changes_nothing() {
    let mut sim = Sim::new();
    let (ws, _) = sim.connect("alice", ConnectionKind::Events);
    sim.advance(Duration::from_secs(1));
    assert!(sim.input(refused("alice")).is_empty());
    sim.close(ws);
    let out = sim.advance(GRACE);
    assert!(out.contains(&Output::SessionEnded), "ends with alice, no extra grace: {out:?}");
}

#[test]
fn delete_stage_ends_a_session_kept_by_refusals() {
    let mut sim = Sim::new();
    sim.input(refused("late"));
    assert_eq!(sim.input(Input::DeleteStage), vec![Output::SessionEnded]);
    assert_eq!(sim.presence.poll_timeout(), None);
    assert!(sim.advance(GRACE * 2).is_empty());
}

#[test]
fn an_exchange_without_publish_ends_publishing_and_keeps_the_rest() {
    let mut sim = Sim::new();
    sim.connect("bob", ConnectionKind::Publish);
    let (ws, _) = sim.connect("alice", ConnectionKind::Events);
    let (publish, _) = sim.connect("alice", ConnectionKind::Publish);
    let (to_bob, _) = sim.connect("alice", ConnectionKind::Subscribe { publisher: "bob".into() });
    sim.advance(Duration::from_secs(1));
    assert!(sim.presence.is_publishing("alice"));

    let out =
        sim.input(Input::InfoChanged { participant: "alice".into(), info: caps(false, true) });
    assert_eq!(
        out,
        vec![
            Output::StateChanged,
            Output::Close { connection: publish, reason: CloseReason::CapabilityRemoved },
            Output::PublishStopped { participant: "alice".into() },
        ]
    );
    assert!(!sim.presence.is_publishing("alice"));
    assert_eq!(sim.presence.publishers(), 1, "bob still publishes");
    // The publish change waits for the coalescing interval, then goes out.
    assert_eq!(sim.advance(COALESCE), vec![Output::StateChanged]);
    let alice = sim.presence.participants().find(|p| p.id == "alice").unwrap().clone();
    assert!(!alice.is_publishing && !alice.info.can_publish);
    // The media task's own close, arriving later, changes nothing.
    assert!(sim.close(publish).is_empty());

    // Then without subscribe: the subscription ends, the events socket stays.
    let out =
        sim.input(Input::InfoChanged { participant: "alice".into(), info: caps(false, false) });
    assert!(
        out.contains(&Output::Close { connection: to_bob, reason: CloseReason::CapabilityRemoved })
    );
    assert!(out.contains(&Output::SubscribeStopped {
        participant: "alice".into(),
        publisher: "bob".into()
    }));
    assert!(
        !out.iter().any(|o| matches!(o, Output::Close { connection, .. } if *connection == ws))
    );
    assert!(sim.advance(GRACE * 3).iter().all(|o| *o != left("alice")), "still on the stage");
}

#[test]
fn an_exchange_without_subscribe_ends_every_subscription_only() {
    let mut sim = Sim::new();
    sim.connect("bob", ConnectionKind::Publish);
    sim.connect("carol", ConnectionKind::Publish);
    sim.connect("alice", ConnectionKind::Events);
    let (publish, _) = sim.connect("alice", ConnectionKind::Publish);
    let (a, _) = sim.connect("alice", ConnectionKind::Subscribe { publisher: "bob".into() });
    let (b, _) = sim.connect("alice", ConnectionKind::Subscribe { publisher: "carol".into() });
    let out =
        sim.input(Input::InfoChanged { participant: "alice".into(), info: caps(true, false) });
    let closed: Vec<ConnectionId> = out
        .iter()
        .filter_map(|o| match o {
            Output::Close { connection, reason: CloseReason::CapabilityRemoved } => {
                Some(*connection)
            }
            _ => None,
        })
        .collect();
    assert_eq!(closed, vec![a, b]);
    assert!(sim.presence.is_publishing("alice"));
    assert!(!closed.contains(&publish));
}

#[test]
fn the_subscriber_limit_counts_participants_that_may_subscribe() {
    let mut sim = Sim::with_subscribers(2);
    let events = ConnectionKind::Events;
    let full = Err(Refusal::StageAtCapacity { max_subscribers: 2 });
    let viewer = caps(false, true);
    assert_eq!(sim.presence.admit("a", &viewer, &events, sim.now), Ok(()));
    sim.connect_as("a", viewer.clone(), events.clone());
    assert_eq!(sim.presence.admit("b", &viewer, &events, sim.now), Ok(()));
    // b holds its seat before it connects: a third is refused already.
    assert_eq!(sim.presence.subscribers(sim.now), 2);
    assert_eq!(sim.presence.admit("c", &viewer, &events, sim.now), full);
    let (b, _) = sim.connect_as("b", viewer.clone(), events.clone());
    assert_eq!(sim.presence.subscribers(sim.now), 2, "the seat became the participant");
    assert_eq!(sim.presence.admit("c", &viewer, &events, sim.now), full);
    let sub = ConnectionKind::Subscribe { publisher: "x".into() };
    assert_eq!(sim.presence.admit("c", &viewer, &sub, sim.now), full, "WHIP subscribe too");

    // Never refused: who is already on the stage, a token that cannot subscribe, a publish.
    assert_eq!(sim.presence.admit("a", &viewer, &sub, sim.now), Ok(()));
    assert_eq!(sim.presence.admit("host", &caps(true, false), &events, sim.now), Ok(()));
    let both = caps(true, true);
    assert_eq!(sim.presence.admit("c", &both, &ConnectionKind::Publish, sim.now), Ok(()));
    sim.connect_as("host", caps(true, false), events.clone());
    assert_eq!(sim.presence.subscribers(sim.now), 2, "publish-only is not a subscriber");

    // A seat frees when its participant leaves (after the grace) ...
    sim.close(b);
    assert_eq!(sim.presence.admit("c", &viewer, &events, sim.now), full, "b may come back");
    sim.advance(GRACE);
    assert_eq!(sim.presence.admit("c", &viewer, &events, sim.now), Ok(()));
    // ... and a held seat whose participant never connects frees after SEAT_HOLD.
    assert_eq!(sim.presence.admit("d", &viewer, &events, sim.now), full);
    sim.advance(SEAT_HOLD);
    assert_eq!(sim.presence.admit("d", &viewer, &events, sim.now), Ok(()));

    // An exchange that drops SUBSCRIBE frees a seat; one that adds it is not refused.
    sim.connect_as("d", viewer.clone(), events.clone());
    sim.input(Input::InfoChanged { participant: "a".into(), info: caps(true, false) });
    assert_eq!(sim.presence.subscribers(sim.now), 1);
    sim.input(Input::InfoChanged { participant: "host".into(), info: caps(true, true) });
    sim.input(Input::InfoChanged { participant: "a".into(), info: caps(true, true) });
    assert_eq!(sim.presence.subscribers(sim.now), 3, "over the limit, never below what is there");
    assert_eq!(sim.presence.admit("e", &viewer, &events, sim.now), full);
}

/// A small deterministic PRNG (xorshift64*), so the long run is the same every time.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Hours of simulated joins, leaves, publishes, lost sockets and disconnects, checked against
/// the presence rules after every step.
#[test]
fn hours_of_random_traffic_keep_the_invariants() {
    let mut sim = Sim::new();
    let mut rng = Rng(0x7e57_c0de);
    let mut open: BTreeMap<ConnectionId, (String, ConnectionKind)> = BTreeMap::new();
    let mut joined_now: BTreeSet<String> = BTreeSet::new();
    let mut in_session = false;
    let mut sessions = 0;
    let mut last_update: Option<Instant> = None;
    let start = sim.now;

    let mut check = |sim: &Sim, outputs: Vec<(Instant, Output)>, open: &mut BTreeMap<_, _>| {
        for (at, output) in outputs {
            match output {
                Output::SessionStarted => {
                    assert!(!in_session, "session started twice");
                    in_session = true;
                    sessions += 1;
                }
                Output::SessionEnded => {
                    assert!(in_session && joined_now.is_empty(), "ended with people inside");
                    in_session = false;
                }
                Output::Joined { participant } => {
                    assert!(in_session, "joined outside a session");
                    assert!(joined_now.insert(participant), "joined twice");
                }
                Output::Left { participant } => {
                    assert!(joined_now.remove(&participant), "left without joining");
                }
                Output::Close { connection, .. } => {
                    open.remove(&connection);
                }
                Output::StateChanged => {
                    if let Some(last) = last_update {
                        assert!(at >= last + COALESCE, "updates closer than the interval");
                    }
                    last_update = Some(at);
                }
                _ => {}
            }
        }
        assert_eq!(sim.presence.in_session(), in_session);
        let listed: BTreeSet<String> = sim.presence.participants().map(|p| p.id.clone()).collect();
        assert_eq!(listed, joined_now);
        let may_subscribe = sim.presence.participants().filter(|p| p.info.can_subscribe).count();
        assert_eq!(sim.presence.subscribers(sim.now), may_subscribe);
        for p in sim.presence.participants() {
            let kinds = open.values().filter(|(id, _)| *id == p.id).map(|(_, kind)| kind);
            for kind in kinds {
                match kind {
                    ConnectionKind::Publish => assert!(p.info.can_publish, "publishes without"),
                    ConnectionKind::Subscribe { .. } => assert!(p.info.can_subscribe),
                    ConnectionKind::Events => {}
                }
            }
        }
        let publishing: BTreeSet<&String> =
            open.values().filter(|(_, k)| *k == ConnectionKind::Publish).map(|(p, _)| p).collect();
        assert_eq!(sim.presence.publishers(), publishing.len());
        for (participant, _) in open.values() {
            assert!(joined_now.contains(participant), "{participant} has a connection but left");
        }
    };

    for _ in 0..50_000 {
        let participant = format!("p{}", rng.below(30));
        let out = match rng.below(10) {
            0..=3 => {
                let kind = match rng.below(3) {
                    0 => ConnectionKind::Events,
                    1 => ConnectionKind::Publish,
                    _ => ConnectionKind::Subscribe { publisher: format!("p{}", rng.below(30)) },
                };
                // Connecting always brings a token that allows it (WHIP checks), plus another
                // capability at random.
                let info = match kind {
                    ConnectionKind::Events => caps(rng.below(2) == 0, rng.below(2) == 0),
                    ConnectionKind::Publish => caps(true, rng.below(2) == 0),
                    ConnectionKind::Subscribe { .. } => caps(rng.below(2) == 0, true),
                };
                let (id, out) = sim.connect_as(&participant, info, kind.clone());
                open.insert(id, (participant, kind));
                out
            }
            4..=7 if !open.is_empty() => {
                let nth = rng.below(open.len() as u64) as usize;
                let id = *open.keys().nth(nth).unwrap();
                open.remove(&id);
                // Now and then the client says it is leaving (the SDK's leave()).
                if rng.below(4) == 0 {
                    sim.input(Input::Left { connection: id })
                } else {
                    sim.close(id)
                }
            }
            8 => sim.input(Input::Mute {
                participant,
                audio_muted: Some(rng.below(2) == 0),
                video_stopped: None,
            }),
            9 if rng.below(3) == 0 => sim.input(refused(&participant)),
            9 if rng.below(3) == 0 => sim.input(Input::InfoChanged {
                participant,
                info: caps(rng.below(2) == 0, rng.below(2) == 0),
            }),
            9 if rng.below(20) == 0 => {
                let out = sim.input(Input::Disconnect { participant: participant.clone() });
                open.retain(|_, (p, _)| *p != participant);
                out
            }
            _ => Vec::new(),
        };
        let at = sim.now;
        check(&sim, out.into_iter().map(|o| (at, o)).collect(), &mut open);
        let out = sim.advance_timed(Duration::from_millis(rng.below(3000)));
        check(&sim, out, &mut open);
    }
    // Everyone goes away: after the grace the stage is empty and the session over.
    for id in open.keys().copied().collect::<Vec<_>>() {
        let out = sim.close(id);
        open.remove(&id);
        let at = sim.now;
        check(&sim, out.into_iter().map(|o| (at, o)).collect(), &mut open);
    }
    let out = sim.advance_timed(GRACE + COALESCE);
    check(&sim, out, &mut open);
    assert!(joined_now.is_empty() && !in_session);
    assert!(sessions > 1, "the run saw the stage empty and fill again");
    assert!(sim.now - start > Duration::from_secs(3600), "simulated over an hour");
}
