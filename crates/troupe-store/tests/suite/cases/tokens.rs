use std::sync::Arc;

use troupe_store::Store;

use super::{assert_conflict, assert_not_found, assert_quota};
use crate::suite::fixtures::{at, revocation, stage, token};

pub async fn stage_with_tokens(store: Arc<dyn Store>) {
    let tokens = [token("p1", "st", at(100)), token("p2", "st", at(200))];
    store.create_stage(&stage("st", "n"), &tokens, 10).await.unwrap();
    assert_eq!(store.get_token("p1").await.unwrap(), Some(tokens[0].clone()));
    assert_eq!(store.get_token("p2").await.unwrap(), Some(tokens[1].clone()));

    // Over quota: neither the stage nor its tokens are written.
    let refused = [token("p3", "st-2", at(100))];
    assert_quota(store.create_stage(&stage("st-2", "n"), &refused, 1).await);
    assert_eq!(store.get_token("p3").await.unwrap(), None);

    // A token that cannot be written undoes the stage too.
    let bad = [token("p4", "st-3", at(100)), token("p1", "st-3", at(100))];
    assert_conflict(store.create_stage(&stage("st-3", "n"), &bad, 10).await);
    assert_eq!(store.get_stage("st-3").await.unwrap(), None);
    assert_eq!(store.get_token("p4").await.unwrap(), None);
    let orphan = [token("p5", "no-such-stage", at(100))];
    assert_not_found(store.create_stage(&stage("st-4", "n"), &orphan, 10).await);
    assert_eq!(store.get_stage("st-4").await.unwrap(), None);
}

pub async fn tokens_and_revocations(store: Arc<dyn Store>) {
    assert_not_found(store.insert_token(&token("p1", "missing", at(100))).await);
    store.create_stage(&stage("st", "n"), &[], 10).await.unwrap();

    let mut t = token("p1", "st", at(100));
    t.user_id = None;
    t.attributes.clear();
    t.capabilities.subscribe = true;
    store.insert_token(&t).await.unwrap();
    assert_eq!(store.get_token("p1").await.unwrap(), Some(t));
    assert_eq!(store.get_token("p2").await.unwrap(), None);
    assert_conflict(store.insert_token(&token("p1", "st", at(100))).await);

    assert_eq!(store.get_revocation("st", "p1").await.unwrap(), None);
    let first = revocation("p1", "st", at(100));
    store.revoke(&first).await.unwrap();
    assert_eq!(store.get_revocation("st", "p1").await.unwrap(), Some(first));
    let replaced = revocation("p1", "st", at(300));
    let replaced = troupe_store::Revocation { reason: None, revoked_at: at(5), ..replaced };
    store.revoke(&replaced).await.unwrap();
    assert_eq!(store.get_revocation("st", "p1").await.unwrap(), Some(replaced.clone()));
    // Revoking needs no stage row (the control plane checks the stage; a racing delete must
    // not make DisconnectParticipant fail).
    let loose = revocation("p9", "gone", at(100));
    store.revoke(&loose).await.unwrap();
    assert_eq!(store.get_revocation("gone", "p9").await.unwrap(), Some(loose));
    // The same participant id revoked on another stage is a separate revocation: neither
    // replaces the other.
    let elsewhere = revocation("p1", "other", at(400));
    store.revoke(&elsewhere).await.unwrap();
    assert_eq!(store.get_revocation("other", "p1").await.unwrap(), Some(elsewhere));
    assert_eq!(store.get_revocation("st", "p1").await.unwrap(), Some(replaced.clone()));
    assert_eq!(store.get_revocation("st", "p9").await.unwrap(), None);
}

pub async fn purge_expired(store: Arc<dyn Store>) {
    store.create_stage(&stage("st", "n"), &[], 10).await.unwrap();
    store.insert_token(&token("old", "st", at(10))).await.unwrap();
    store.insert_token(&token("edge", "st", at(50))).await.unwrap();
    store.insert_token(&token("new", "st", at(100))).await.unwrap();
    store.revoke(&revocation("old", "st", at(10))).await.unwrap();
    store.revoke(&revocation("new", "st", at(100))).await.unwrap();

    assert_eq!(store.purge_expired(at(50)).await.unwrap(), 2);
    assert_eq!(store.get_token("old").await.unwrap(), None);
    assert_eq!(store.get_revocation("st", "old").await.unwrap(), None);
    assert!(store.get_token("edge").await.unwrap().is_some(), "expires_at == now is kept");
    assert!(store.get_token("new").await.unwrap().is_some());
    assert!(store.get_revocation("st", "new").await.unwrap().is_some());
    assert_eq!(store.purge_expired(at(50)).await.unwrap(), 0);
    assert_eq!(store.purge_expired(at(1000)).await.unwrap(), 3);
}
