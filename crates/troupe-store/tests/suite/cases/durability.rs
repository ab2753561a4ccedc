use std::sync::Arc;

use troupe_store::{PageRequest, ParticipantFilter, Store, StoreError, TaggedKind};

use super::{assert_backend, concurrently};
use crate::suite::{
    TestDb,
    fixtures::{at, event, map, participant, public_key, revocation, stage, token},
};

/// Everything written before close is read back by a new store on the same database.
pub async fn persistence_across_reopen(db: Arc<TestDb>) {
    let store = db.open_again().await;
    let created =
        store.create_stage(&stage("st", "n"), &[token("p", "st", at(100))], 10).await.unwrap();
    store.revoke(&revocation("r", "st", at(100))).await.unwrap();
    let key = store.insert_public_key(&public_key("k", "fp"), 10).await.unwrap();
    store.register_node_key("kid", "PEM").await.unwrap();
    let tags =
        store.update_tags(TaggedKind::Stage, "st", &map(&[("x", "y")]), &[], 10).await.unwrap();
    let session = store.start_session("st", "s", at(1)).await.unwrap();
    let member = store.upsert_participant(&participant("st", "s", "p")).await.unwrap();
    let joined = store.append_event(&event("st", "s", "p", "JOINED", at(2))).await.unwrap();
    store.close().await;
    assert!(store.ping().await.is_err(), "a closed store refuses calls");

    let reopened = db.open_again().await;
    let read = reopened.get_stage("st").await.unwrap().unwrap();
    assert_eq!(read.seq, created.seq);
    assert_eq!(read.tags, tags);
    assert_eq!(read.active_session_id.as_deref(), Some("s"));
    assert_eq!(reopened.get_token("p").await.unwrap(), Some(token("p", "st", at(100))));
    assert_eq!(
        reopened.get_revocation("st", "r").await.unwrap(),
        Some(revocation("r", "st", at(100)))
    );
    assert_eq!(reopened.get_public_key("k").await.unwrap(), Some(key));
    assert_eq!(reopened.get_node_key("kid").await.unwrap().as_deref(), Some("PEM"));
    assert_eq!(reopened.get_session("st", "s").await.unwrap(), Some(session));
    assert_eq!(reopened.get_participant("st", "s", "p").await.unwrap(), Some(member));
    let events = reopened.list_events("st", "s", "p", PageRequest::first(10)).await.unwrap();
    assert_eq!(events.items, vec![joined]);
    // Sequences continue after the rows already there.
    let next = reopened.create_stage(&stage("st-2", "n"), &[], 10).await.unwrap();
    assert!(next.seq > created.seq);
    reopened.close().await;
}

/// Two stores on one database (two processes, or two nodes) see each other's writes and share
/// the quota.
pub async fn two_handles_share_state(db: Arc<TestDb>) {
    let other = db.open_again().await;
    let stores = [db.store.clone(), other.clone()];
    let results = concurrently(&db.store, 20, move |_, i| {
        let store = stores[i % 2].clone();
        async move { store.create_stage(&stage(&format!("s{i}"), "n"), &[], 12).await }
    })
    .await;
    let ok = results.iter().filter(|r| r.is_ok()).count();
    let refused = results.iter().filter(|r| matches!(r, Err(StoreError::QuotaExceeded(_)))).count();
    assert_eq!((ok, refused), (12, 8), "results: {results:?}");
    let listed = other.list_stages(PageRequest::first(100)).await.unwrap();
    assert_eq!(listed.items.len(), 12);
    other.start_session("s0", "x", at(0)).await.ok();
    other.close().await;
}

/// Rows the store cannot read back are `Backend` errors, never panics.
pub async fn corrupt_rows_are_backend_errors(db: Arc<TestDb>) {
    let store = &db.store;
    store.create_stage(&stage("st", "n"), &[], 10).await.unwrap();
    store.start_session("st", "s", at(0)).await.unwrap();
    store.upsert_participant(&participant("st", "s", "p")).await.unwrap();
    store.insert_public_key(&public_key("k", "fp"), 10).await.unwrap();

    db.execute_raw("UPDATE stages SET tags = '{not json' WHERE id = 'st'").await;
    assert_backend(store.get_stage("st").await);
    assert_backend(store.list_stages(PageRequest::first(10)).await);
    assert_backend(store.find_stages_by_name("n").await);
    assert_backend(store.update_tags(TaggedKind::Stage, "st", &map(&[]), &[], 10).await);

    db.execute_raw("UPDATE participants SET state = 'DANCING'").await;
    assert_backend(store.get_participant("st", "s", "p").await);
    let filter = ParticipantFilter::default();
    assert_backend(store.list_participants("st", "s", &filter, PageRequest::first(10)).await);

    db.execute_raw("UPDATE public_keys SET created_at = 9223372036854775807").await;
    assert_backend(store.get_public_key("k").await);

    // The rest of the store still works.
    store.ping().await.unwrap();
    store.register_node_key("kid", "PEM").await.unwrap();
}

pub async fn calls_after_close_fail(store: Arc<dyn Store>) {
    store.ping().await.unwrap();
    store.close().await;
    assert_backend(store.ping().await);
    assert_backend(store.get_stage("st").await);
    assert_backend(store.create_stage(&stage("st", "n"), &[], 10).await);
}
