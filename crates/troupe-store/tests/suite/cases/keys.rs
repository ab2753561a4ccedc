use std::sync::Arc;

use troupe_store::{PageRequest, Store, StoreError};

use super::{assert_conflict, assert_not_found, assert_quota, concurrently};
use crate::suite::fixtures::{at, public_key};

pub async fn public_keys(store: Arc<dyn Store>) {
    let key = public_key("k1", "fp1");
    let stored = store.insert_public_key(&key, 10).await.unwrap();
    assert!(stored.seq > 0);
    assert_eq!(stored, troupe_store::PublicKeyRecord { seq: stored.seq, ..key.clone() });
    assert_eq!(store.get_public_key("k1").await.unwrap(), Some(stored.clone()));
    assert_eq!(store.get_public_key("k9").await.unwrap(), None);

    assert_conflict(store.insert_public_key(&public_key("k2", "fp1"), 10).await);
    assert_conflict(store.insert_public_key(&public_key("k1", "fp2"), 10).await);
    assert_eq!(store.get_public_key("k2").await.unwrap(), None);

    for i in 2..=5 {
        store
            .insert_public_key(&public_key(&format!("k{i}"), &format!("fp{i}")), 10)
            .await
            .unwrap();
    }
    let first = store.list_public_keys(PageRequest::first(2)).await.unwrap();
    assert_eq!(first.items[0], stored);
    assert_eq!(first.items.len(), 2);
    let mut all: Vec<String> = first.items.iter().map(|k| k.id.clone()).collect();
    let mut request = PageRequest { after: first.next_after, limit: 2 };
    while request.after.is_some() {
        let page = store.list_public_keys(request).await.unwrap();
        all.extend(page.items.iter().map(|k| k.id.clone()));
        request.after = page.next_after;
    }
    assert_eq!(all, ["k1", "k2", "k3", "k4", "k5"]);

    store.delete_public_key("k1").await.unwrap();
    assert_eq!(store.get_public_key("k1").await.unwrap(), None);
    assert_not_found(store.delete_public_key("k1").await);
    // Once deleted, the same key material may be imported again.
    store.insert_public_key(&public_key("k6", "fp1"), 10).await.unwrap();
}

pub async fn public_key_quota(store: Arc<dyn Store>) {
    assert_quota(store.insert_public_key(&public_key("k0", "fp0"), 0).await);
    store.insert_public_key(&public_key("k1", "fp1"), 2).await.unwrap();
    store.insert_public_key(&public_key("k2", "fp2"), 2).await.unwrap();
    assert_quota(store.insert_public_key(&public_key("k3", "fp3"), 2).await);
    assert_eq!(store.get_public_key("k3").await.unwrap(), None);
    // A duplicate is a conflict even when the quota is full.
    assert_conflict(store.insert_public_key(&public_key("k4", "fp1"), 2).await);
}

pub async fn public_key_races(store: Arc<dyn Store>) {
    let results = concurrently(&store, 10, |store, i| async move {
        store.insert_public_key(&public_key(&format!("k{i}"), &format!("fp{i}")), 4).await
    })
    .await;
    let ok = results.iter().filter(|r| r.is_ok()).count();
    let refused = results.iter().filter(|r| matches!(r, Err(StoreError::QuotaExceeded(_)))).count();
    assert_eq!((ok, refused), (4, 6), "results: {results:?}");

    let results = concurrently(&store, 8, |store, i| async move {
        store.insert_public_key(&public_key(&format!("dup{i}"), "same-fp"), 100).await
    })
    .await;
    let ok = results.iter().filter(|r| r.is_ok()).count();
    let conflicts = results.iter().filter(|r| matches!(r, Err(StoreError::Conflict(_)))).count();
    assert_eq!((ok, conflicts), (1, 7), "results: {results:?}");
}

pub async fn node_keys(store: Arc<dyn Store>) {
    assert_eq!(store.get_node_key("kid-1").await.unwrap(), None);
    store.register_node_key("kid-1", "PEM-1").await.unwrap();
    store.register_node_key("kid-1", "PEM-1").await.unwrap();
    assert_eq!(store.get_node_key("kid-1").await.unwrap().as_deref(), Some("PEM-1"));
    assert_conflict(store.register_node_key("kid-1", "PEM-other").await);
    assert_eq!(store.get_node_key("kid-1").await.unwrap().as_deref(), Some("PEM-1"));
    store.register_node_key("kid-2", "PEM-2").await.unwrap();
    assert_eq!(store.get_node_key("kid-2").await.unwrap().as_deref(), Some("PEM-2"));
    // Several nodes registering at once.
    let results = concurrently(&store, 8, |store, _| async move {
        store.register_node_key("kid-3", "PEM-3").await
    })
    .await;
    assert!(results.iter().all(|r| r.is_ok()), "results: {results:?}");

    // Retiring: no longer trusted, listed as retired, never registered again.
    store.retire_node_key("kid-2", at(500)).await.unwrap();
    store.retire_node_key("kid-2", at(600)).await.unwrap();
    assert_eq!(store.get_node_key("kid-2").await.unwrap(), None);
    assert_conflict(store.register_node_key("kid-2", "PEM-2").await);
    assert_not_found(store.retire_node_key("kid-nobody", at(500)).await);
    let listed = store.list_node_keys().await.unwrap();
    let kids: Vec<_> = listed.iter().map(|k| (k.kid.as_str(), k.retired_at)).collect();
    assert_eq!(kids, vec![("kid-1", None), ("kid-2", Some(at(500))), ("kid-3", None)]);
}
