use std::sync::Arc;

use troupe_store::{PageRequest, ParticipantFilter, ParticipantState, Store};

use super::{assert_conflict, assert_not_found, concurrently};
use crate::suite::fixtures::{at, event, participant, revocation, stage, token};

pub async fn sessions(store: Arc<dyn Store>) {
    assert_not_found(store.start_session("missing", "s1", at(0)).await);
    store.create_stage(&stage("st", "n"), &[], 10).await.unwrap();
    assert_eq!(store.get_session("st", "s1").await.unwrap(), None);

    let s1 = store.start_session("st", "s1", at(10)).await.unwrap();
    assert_eq!((s1.stage_id.as_str(), s1.session_id.as_str()), ("st", "s1"));
    assert_eq!((s1.start_time, s1.end_time), (at(10), None));
    assert_eq!(
        store.get_stage("st").await.unwrap().unwrap().active_session_id.as_deref(),
        Some("s1")
    );
    // While s1 is active, starting another returns s1.
    assert_eq!(store.start_session("st", "s2", at(11)).await.unwrap(), s1);
    assert_eq!(store.get_session("st", "s2").await.unwrap(), None);

    let ended = store.end_session("st", "s1", at(20)).await.unwrap();
    assert_eq!(ended.end_time, Some(at(20)));
    assert_eq!((ended.seq, ended.start_time), (s1.seq, s1.start_time));
    let again = store.end_session("st", "s1", at(30)).await.unwrap();
    assert_eq!(again.end_time, Some(at(20)), "an ended session keeps its first end time");
    assert_eq!(store.get_stage("st").await.unwrap().unwrap().active_session_id, None);
    assert_not_found(store.end_session("st", "nope", at(30)).await);
    assert_not_found(store.end_session("other", "s1", at(30)).await);
    // An ended session's id cannot start again.
    assert_conflict(store.start_session("st", "s1", at(40)).await);

    let s2 = store.start_session("st", "s2", at(40)).await.unwrap();
    assert!(s2.seq > s1.seq);
    assert_eq!(
        store.get_stage("st").await.unwrap().unwrap().active_session_id.as_deref(),
        Some("s2")
    );
    assert_eq!(store.get_session("st", "s2").await.unwrap(), Some(s2.clone()));
    assert_eq!(store.get_session("other", "s2").await.unwrap(), None);

    let all = store.list_sessions("st", PageRequest::first(10)).await.unwrap();
    assert_eq!(all.items, vec![again, s2.clone()]);
    assert_eq!(all.next_after, None);
    let first = store.list_sessions("st", PageRequest::first(1)).await.unwrap();
    assert_eq!(first.items.len(), 1);
    let second =
        store.list_sessions("st", PageRequest { after: first.next_after, limit: 1 }).await.unwrap();
    assert_eq!(second.items, vec![s2]);
    assert_eq!(second.next_after, None);
    assert!(store.list_sessions("other", PageRequest::first(10)).await.unwrap().items.is_empty());
}

pub async fn concurrent_start_session(store: Arc<dyn Store>) {
    store.create_stage(&stage("st", "n"), &[], 10).await.unwrap();
    for round in 0..3 {
        let results = concurrently(&store, 16, move |store, i| async move {
            store.start_session("st", &format!("r{round}-s{i}"), at(i as i64)).await
        })
        .await;
        let first = results[0].as_ref().unwrap().clone();
        for result in &results {
            assert_eq!(result.as_ref().unwrap(), &first, "one active session per stage");
        }
        store.end_session("st", &first.session_id, at(100)).await.unwrap();
    }
    let sessions = store.list_sessions("st", PageRequest::first(100)).await.unwrap();
    assert_eq!(sessions.items.len(), 3);
}

pub async fn participants(store: Arc<dyn Store>) {
    store.create_stage(&stage("st", "n"), &[], 10).await.unwrap();
    assert_not_found(store.upsert_participant(&participant("st", "s1", "p1")).await);
    store.start_session("st", "s1", at(0)).await.unwrap();

    let p1 = store.upsert_participant(&participant("st", "s1", "p1")).await.unwrap();
    assert!(p1.seq > 0);
    assert_eq!(
        p1,
        troupe_store::ParticipantRecord { seq: p1.seq, ..participant("st", "s1", "p1") }
    );
    assert_eq!(store.get_participant("st", "s1", "p1").await.unwrap(), Some(p1.clone()));

    let p2 = store.upsert_participant(&participant("st", "s1", "p2")).await.unwrap();
    assert!(p2.seq > p1.seq);

    // Updating keeps seq and first_join_time, replaces the rest.
    let mut change = participant("st", "s1", "p1");
    change.seq = 999;
    change.first_join_time = at(50);
    change.state = ParticipantState::Disconnected;
    change.published = true;
    change.recording_state = "ACTIVE".into();
    change.attributes.clear();
    change.details.isp_name = Some("ISP".into());
    let updated = store.upsert_participant(&change).await.unwrap();
    assert_eq!(updated.seq, p1.seq);
    assert_eq!(updated.first_join_time, p1.first_join_time);
    assert_eq!(
        updated,
        troupe_store::ParticipantRecord {
            seq: p1.seq,
            first_join_time: p1.first_join_time,
            ..change
        }
    );
    assert_eq!(store.get_participant("st", "s1", "p1").await.unwrap(), Some(updated.clone()));
    assert_eq!(store.get_participant("st", "s1", "p9").await.unwrap(), None);
    assert_eq!(store.get_participant("st", "s9", "p1").await.unwrap(), None);

    // The same participant id in a later session is another row.
    store.end_session("st", "s1", at(60)).await.unwrap();
    store.start_session("st", "s2", at(70)).await.unwrap();
    let p1_again = store.upsert_participant(&participant("st", "s2", "p1")).await.unwrap();
    assert!(p1_again.seq > p2.seq);
    assert_eq!(store.get_participant("st", "s1", "p1").await.unwrap(), Some(updated.clone()));

    assert!(store.participant_seen("st", "p1").await.unwrap());
    assert!(store.participant_seen("st", "p2").await.unwrap());
    assert!(!store.participant_seen("st", "p9").await.unwrap());
    assert!(!store.participant_seen("other", "p1").await.unwrap());

    // Join order, paged.
    for i in 3..=5 {
        store.upsert_participant(&participant("st", "s1", &format!("p{i}"))).await.unwrap();
    }
    let mut ids = Vec::new();
    let mut request = PageRequest::first(2);
    loop {
        let page = store
            .list_participants("st", "s1", &ParticipantFilter::default(), request)
            .await
            .unwrap();
        assert!(page.items.len() <= 2);
        ids.extend(page.items.into_iter().map(|p| p.participant_id));
        match page.next_after {
            Some(after) => request.after = Some(after),
            None => break,
        }
    }
    assert_eq!(ids, ["p1", "p2", "p3", "p4", "p5"]);
    let no_filter = ParticipantFilter::default();
    let s2 = store.list_participants("st", "s2", &no_filter, PageRequest::first(10)).await;
    assert_eq!(s2.unwrap().items, vec![p1_again]);
}

pub async fn participant_filters(store: Arc<dyn Store>) {
    store.create_stage(&stage("st", "n"), &[], 10).await.unwrap();
    store.start_session("st", "s", at(0)).await.unwrap();
    // (id, user, published, state, recording state)
    let rows = [
        ("a", Some("u1"), true, ParticipantState::Connected, "ACTIVE"),
        ("b", Some("u1"), false, ParticipantState::Disconnected, "DISABLED"),
        ("c", Some("u2"), true, ParticipantState::Disconnected, "ACTIVE"),
        ("d", None, false, ParticipantState::Connected, "DISABLED"),
        ("e", Some("u2"), true, ParticipantState::Connected, "FAILED"),
    ];
    for (id, user, published, state, recording) in rows {
        let mut p = participant("st", "s", id);
        p.user_id = user.map(Into::into);
        p.published = published;
        p.state = state;
        p.recording_state = recording.into();
        store.upsert_participant(&p).await.unwrap();
    }
    let list = |filter: ParticipantFilter| {
        let store = store.clone();
        async move {
            let page = store.list_participants("st", "s", &filter, PageRequest::first(100)).await;
            page.unwrap().items.into_iter().map(|p| p.participant_id).collect::<Vec<_>>()
        }
    };
    let none = ParticipantFilter::default;
    assert_eq!(list(none()).await, ["a", "b", "c", "d", "e"]);
    assert_eq!(list(ParticipantFilter { user_id: Some("u1".into()), ..none() }).await, ["a", "b"]);
    assert_eq!(list(ParticipantFilter { published: Some(true), ..none() }).await, ["a", "c", "e"]);
    assert_eq!(list(ParticipantFilter { published: Some(false), ..none() }).await, ["b", "d"]);
    let connected = Some(ParticipantState::Connected);
    assert_eq!(list(ParticipantFilter { state: connected, ..none() }).await, ["a", "d", "e"]);
    let active = Some("ACTIVE".to_string());
    assert_eq!(
        list(ParticipantFilter { recording_state: active.clone(), ..none() }).await,
        ["a", "c"]
    );
    // Every filter given applies.
    let both = ParticipantFilter { user_id: Some("u2".into()), state: connected, ..none() };
    assert_eq!(list(both).await, ["e"]);
    let all = ParticipantFilter {
        user_id: Some("u1".into()),
        published: Some(true),
        state: connected,
        recording_state: active,
    };
    assert_eq!(list(all).await, ["a"]);
    let nobody = ParticipantFilter { user_id: Some("u3".into()), ..none() };
    assert!(list(nobody).await.is_empty());

    // Filters and paging together.
    let filter = ParticipantFilter { published: Some(true), ..none() };
    let first = store.list_participants("st", "s", &filter, PageRequest::first(2)).await.unwrap();
    assert_eq!(first.items.len(), 2);
    let rest = PageRequest { after: first.next_after, limit: 2 };
    let rest = store.list_participants("st", "s", &filter, rest).await.unwrap();
    assert_eq!(rest.items.iter().map(|p| p.participant_id.as_str()).collect::<Vec<_>>(), ["e"]);
    assert_eq!(rest.next_after, None);
}

pub async fn events(store: Arc<dyn Store>) {
    store.create_stage(&stage("st", "n"), &[], 10).await.unwrap();
    assert_not_found(store.append_event(&event("st", "s", "p1", "JOINED", at(0))).await);
    store.start_session("st", "s", at(0)).await.unwrap();

    // Appended out of event-time order, interleaved with another participant's events.
    let names = ["JOINED", "PUBLISH_STARTED", "SUBSCRIBE_STARTED", "PUBLISH_STOPPED", "LEFT"];
    let mut appended = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let e = event("st", "s", "p1", name, at(100 - i as i64));
        let stored = store.append_event(&e).await.unwrap();
        assert_eq!(stored, troupe_store::EventRecord { seq: stored.seq, ..e });
        appended.push(stored);
        store.append_event(&event("st", "s", "p2", name, at(0))).await.unwrap();
    }
    assert!(appended.windows(2).all(|w| w[0].seq < w[1].seq));

    let all = store.list_events("st", "s", "p1", PageRequest::first(100)).await.unwrap();
    assert_eq!(all.items, appended, "append order, not event time");
    assert_eq!(all.next_after, None);
    let mut paged = Vec::new();
    let mut request = PageRequest::first(2);
    loop {
        let page = store.list_events("st", "s", "p1", request).await.unwrap();
        paged.extend(page.items);
        match page.next_after {
            Some(after) => request.after = Some(after),
            None => break,
        }
    }
    assert_eq!(paged, appended);
    assert_eq!(
        store.list_events("st", "s", "p2", PageRequest::first(100)).await.unwrap().items.len(),
        5
    );
    assert!(
        store.list_events("st", "s", "p3", PageRequest::first(100)).await.unwrap().items.is_empty()
    );
    assert!(
        store.list_events("st", "x", "p1", PageRequest::first(100)).await.unwrap().items.is_empty()
    );
}

pub async fn cascade_delete(store: Arc<dyn Store>) {
    for id in ["doomed", "kept"] {
        let tokens = [token(&format!("{id}-p"), id, at(100))];
        store.create_stage(&stage(id, "n"), &tokens, 10).await.unwrap();
        store.revoke(&revocation(&format!("{id}-r"), id, at(100))).await.unwrap();
        store.start_session(id, &format!("{id}-s1"), at(0)).await.unwrap();
        store.upsert_participant(&participant(id, &format!("{id}-s1"), "p")).await.unwrap();
        store.append_event(&event(id, &format!("{id}-s1"), "p", "JOINED", at(1))).await.unwrap();
        store.end_session(id, &format!("{id}-s1"), at(2)).await.unwrap();
        store.start_session(id, &format!("{id}-s2"), at(3)).await.unwrap();
    }
    store.insert_public_key(&crate::suite::fixtures::public_key("k", "fp"), 10).await.unwrap();

    store.delete_stage("doomed").await.unwrap();

    assert_eq!(store.get_stage("doomed").await.unwrap(), None);
    assert_eq!(store.get_token("doomed-p").await.unwrap(), None);
    assert_eq!(store.get_revocation("doomed", "doomed-r").await.unwrap(), None);
    assert_eq!(store.get_session("doomed", "doomed-s1").await.unwrap(), None);
    assert!(store.list_sessions("doomed", PageRequest::first(10)).await.unwrap().items.is_empty());
    assert_eq!(store.get_participant("doomed", "doomed-s1", "p").await.unwrap(), None);
    assert!(!store.participant_seen("doomed", "p").await.unwrap());
    let events = store.list_events("doomed", "doomed-s1", "p", PageRequest::first(10));
    assert!(events.await.unwrap().items.is_empty());

    let kept = store.get_stage("kept").await.unwrap().unwrap();
    assert_eq!(kept.active_session_id.as_deref(), Some("kept-s2"));
    assert!(store.get_token("kept-p").await.unwrap().is_some());
    assert!(store.get_revocation("kept", "kept-r").await.unwrap().is_some());
    assert_eq!(store.list_sessions("kept", PageRequest::first(10)).await.unwrap().items.len(), 2);
    assert!(store.get_participant("kept", "kept-s1", "p").await.unwrap().is_some());
    let events = store.list_events("kept", "kept-s1", "p", PageRequest::first(10));
    assert_eq!(events.await.unwrap().items.len(), 1);
    assert!(store.get_public_key("k").await.unwrap().is_some());

    // The stage id can be used again, with nothing of the old one attached.
    store.create_stage(&stage("doomed", "n"), &[], 10).await.unwrap();
    let reborn = store.get_stage("doomed").await.unwrap().unwrap();
    assert_eq!(reborn.active_session_id, None);
    store.start_session("doomed", "doomed-s1", at(10)).await.unwrap();
}
