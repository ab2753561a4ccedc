use std::sync::Arc;

use troupe_store::{Store, StoreError, TaggedKind};

use super::{assert_not_found, assert_quota, concurrently};
use crate::suite::fixtures::{map, public_key, stage};

pub async fn stage_tags(store: Arc<dyn Store>) {
    let mut new = stage("st", "n");
    new.tags = map(&[("a", "1")]);
    store.create_stage(&new, &[], 10).await.unwrap();

    let tags =
        store.update_tags(TaggedKind::Stage, "st", &map(&[("b", "2")]), &[], 3).await.unwrap();
    assert_eq!(tags, map(&[("a", "1"), ("b", "2")]));
    assert_eq!(store.get_stage("st").await.unwrap().unwrap().tags, tags);

    let tags = store
        .update_tags(TaggedKind::Stage, "st", &map(&[("b", "3")]), &["a".into(), "zz".into()], 3)
        .await
        .unwrap();
    assert_eq!(tags, map(&[("b", "3")]));

    // Over the limit: refused, nothing written.
    let too_many = map(&[("c", "1"), ("d", "1"), ("e", "1")]);
    assert_quota(store.update_tags(TaggedKind::Stage, "st", &too_many, &[], 3).await);
    assert_eq!(store.get_stage("st").await.unwrap().unwrap().tags, map(&[("b", "3")]));
    // Exactly at the limit is fine; removing in the same call makes room.
    let tags =
        store.update_tags(TaggedKind::Stage, "st", &too_many, &["b".into()], 3).await.unwrap();
    assert_eq!(tags, too_many);
    assert_eq!(store.get_stage("st").await.unwrap().unwrap().tags, too_many);

    assert_not_found(store.update_tags(TaggedKind::Stage, "nope", &map(&[]), &[], 3).await);
    assert_not_found(store.update_tags(TaggedKind::PublicKey, "st", &map(&[]), &[], 3).await);
}

pub async fn public_key_tags(store: Arc<dyn Store>) {
    store.insert_public_key(&public_key("k1", "fp1"), 10).await.unwrap();
    let tags = store
        .update_tags(TaggedKind::PublicKey, "k1", &map(&[("owner", "me")]), &["env".into()], 5)
        .await
        .unwrap();
    assert_eq!(tags, map(&[("owner", "me")]));
    assert_eq!(store.get_public_key("k1").await.unwrap().unwrap().tags, tags);
    assert_quota(
        store
            .update_tags(TaggedKind::PublicKey, "k1", &map(&[("x", "1"), ("y", "2")]), &[], 2)
            .await,
    );
    assert_not_found(store.update_tags(TaggedKind::PublicKey, "k9", &map(&[]), &[], 5).await);
}

pub async fn concurrent_tag_updates(store: Arc<dyn Store>) {
    let mut new = stage("st", "n");
    new.tags.clear();
    store.create_stage(&new, &[], 10).await.unwrap();

    // Different keys at once: no update is lost.
    let results = concurrently(&store, 10, |store, i| async move {
        store.update_tags(TaggedKind::Stage, "st", &map(&[(&format!("k{i}"), "v")]), &[], 50).await
    })
    .await;
    assert!(results.iter().all(|r| r.is_ok()), "results: {results:?}");
    assert_eq!(store.get_stage("st").await.unwrap().unwrap().tags.len(), 10);

    // Racing for the last free slots: exactly that many win.
    let results = concurrently(&store, 10, |store, i| async move {
        store
            .update_tags(TaggedKind::Stage, "st", &map(&[(&format!("new{i}"), "v")]), &[], 15)
            .await
    })
    .await;
    let ok = results.iter().filter(|r| r.is_ok()).count();
    let refused = results.iter().filter(|r| matches!(r, Err(StoreError::QuotaExceeded(_)))).count();
    assert_eq!((ok, refused), (5, 5), "results: {results:?}");
    assert_eq!(store.get_stage("st").await.unwrap().unwrap().tags.len(), 15);
}
