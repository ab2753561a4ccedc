use std::{collections::HashSet, sync::Arc};

use troupe_store::{PageRequest, StageRecord, StageUpdate, Store, StoreError};

use super::{assert_conflict, assert_not_found, assert_quota, concurrently};
use crate::suite::fixtures::stage;

pub async fn backend_and_ping(store: Arc<dyn Store>) {
    assert!(["sqlite", "postgres"].contains(&store.backend()));
    store.ping().await.unwrap();
    assert_eq!(store.counts().await.unwrap(), troupe_store::StoreCounts::default());
    store.create_stage(&stage("st-1", "a"), &[], 10).await.unwrap();
    store.create_stage(&stage("st-2", "b"), &[], 10).await.unwrap();
    store.start_session("st-1", "s1", crate::suite::fixtures::at(1)).await.unwrap();
    store.start_session("st-2", "s2", crate::suite::fixtures::at(1)).await.unwrap();
    store.end_session("st-2", "s2", crate::suite::fixtures::at(2)).await.unwrap();
    let counts = store.counts().await.unwrap();
    assert_eq!((counts.stages, counts.active_sessions, counts.public_keys), (2, 1, 0));
}

pub async fn stage_crud(store: Arc<dyn Store>) {
    let new = stage("st-1", "alpha");
    let created = store.create_stage(&new, &[], 10).await.unwrap();
    assert!(created.seq > 0);
    assert_eq!(created.id, new.id);
    assert_eq!(created.name, new.name);
    assert_eq!(created.tags, new.tags);
    assert_eq!(created.auto_recording, new.auto_recording);
    assert_eq!(created.created_at, new.created_at);
    assert_eq!(created.active_session_id, None);
    assert_eq!(store.get_stage("st-1").await.unwrap(), Some(created.clone()));
    assert_eq!(store.get_stage("st-nope").await.unwrap(), None);

    // Same id again: the store refuses rather than overwrite.
    assert_conflict(store.create_stage(&stage("st-1", "again"), &[], 10).await);

    let renamed = store
        .update_stage("st-1", &StageUpdate { name: Some("beta".into()), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(renamed.name, "beta");
    assert_eq!(renamed.auto_recording, created.auto_recording, "None leaves a field as it is");
    assert_eq!(renamed.seq, created.seq);

    let recording = serde_json::json!({"storageConfigurationArn": "arn:x", "mediaTypes": []});
    let updated = store
        .update_stage(
            "st-1",
            &StageUpdate { auto_recording: Some(recording.clone()), ..Default::default() },
        )
        .await
        .unwrap();
    assert_eq!(updated.name, "beta");
    assert_eq!(updated.auto_recording, Some(recording));
    assert_eq!(store.get_stage("st-1").await.unwrap(), Some(updated.clone()));
    let unchanged = store.update_stage("st-1", &StageUpdate::default()).await.unwrap();
    assert_eq!(unchanged, updated);
    assert_not_found(store.update_stage("st-nope", &StageUpdate::default()).await);

    // A stage without recording configuration and without tags.
    let mut bare = stage("st-2", "bare");
    bare.auto_recording = None;
    bare.tags.clear();
    let bare = store.create_stage(&bare, &[], 10).await.unwrap();
    assert_eq!(store.get_stage("st-2").await.unwrap(), Some(bare));

    store.delete_stage("st-1").await.unwrap();
    assert_eq!(store.get_stage("st-1").await.unwrap(), None);
    assert_not_found(store.delete_stage("st-1").await);
    assert!(store.get_stage("st-2").await.unwrap().is_some());
}

pub async fn stage_names(store: Arc<dyn Store>) {
    let first = store.create_stage(&stage("a", "shared"), &[], 10).await.unwrap();
    store.create_stage(&stage("b", "other"), &[], 10).await.unwrap();
    let second = store.create_stage(&stage("c", "shared"), &[], 10).await.unwrap();
    assert_eq!(store.find_stages_by_name("shared").await.unwrap(), vec![first, second]);
    assert_eq!(store.find_stages_by_name("Shared").await.unwrap(), vec![], "exact match only");
    assert_eq!(store.find_stages_by_name("none").await.unwrap(), vec![]);
}

/// Reads every page of stages, `limit` at a time.
async fn list_all_stages(store: &dyn Store, limit: u32) -> Vec<StageRecord> {
    let mut all = Vec::new();
    let mut request = PageRequest::first(limit);
    loop {
        let page = store.list_stages(request).await.unwrap();
        assert!(page.items.len() <= limit as usize);
        all.extend(page.items);
        match page.next_after {
            Some(after) => request = PageRequest { after: Some(after), limit },
            None => return all,
        }
    }
}

pub async fn stage_pages(store: Arc<dyn Store>) {
    let empty = store.list_stages(PageRequest::first(5)).await.unwrap();
    assert!(empty.items.is_empty());
    assert_eq!(empty.next_after, None);

    for i in 0..7 {
        store.create_stage(&stage(&format!("s{i}"), "n"), &[], 100).await.unwrap();
    }
    let first = store.list_stages(PageRequest::first(3)).await.unwrap();
    let ids: Vec<_> = first.items.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["s0", "s1", "s2"]);
    assert_eq!(first.next_after, Some(first.items[2].seq));
    let second =
        store.list_stages(PageRequest { after: first.next_after, limit: 3 }).await.unwrap();
    let ids: Vec<_> = second.items.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["s3", "s4", "s5"]);
    let last = store.list_stages(PageRequest { after: second.next_after, limit: 3 }).await.unwrap();
    let ids: Vec<_> = last.items.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["s6"]);
    assert_eq!(last.next_after, None);

    // A page exactly as long as what is left has no next page.
    let exact = store.list_stages(PageRequest::first(7)).await.unwrap();
    assert_eq!(exact.items.len(), 7);
    assert_eq!(exact.next_after, None);

    // Deleting a row already listed shifts nothing.
    store.delete_stage("s1").await.unwrap();
    let after_delete =
        store.list_stages(PageRequest { after: first.next_after, limit: 3 }).await.unwrap();
    assert_eq!(after_delete.items, second.items);
}

pub async fn pagination_during_concurrent_inserts(store: Arc<dyn Store>) {
    for i in 0..30 {
        store.create_stage(&stage(&format!("pre-{i:02}"), "pre"), &[], 1000).await.unwrap();
    }
    let writer = {
        let store = store.clone();
        tokio::spawn(async move {
            for i in 0..60 {
                store
                    .create_stage(&stage(&format!("during-{i:02}"), "during"), &[], 1000)
                    .await
                    .unwrap();
            }
        })
    };
    let mut seen = Vec::new();
    let mut request = PageRequest::first(4);
    loop {
        let page = store.list_stages(request).await.unwrap();
        seen.extend(page.items);
        tokio::task::yield_now().await;
        match page.next_after {
            Some(after) => request = PageRequest { after: Some(after), limit: 4 },
            None => break,
        }
    }
    writer.await.unwrap();

    let mut ids = HashSet::new();
    for s in &seen {
        assert!(ids.insert(s.id.clone()), "stage {} listed twice", s.id);
    }
    assert!(seen.windows(2).all(|w| w[0].seq < w[1].seq), "listing not in seq order");
    for i in 0..30 {
        assert!(ids.contains(&format!("pre-{i:02}")), "pre-{i:02} missed");
    }
    // Once the writer is done, a listing sees everything exactly once.
    let all = list_all_stages(store.as_ref(), 7).await;
    assert_eq!(all.len(), 90);
    assert_eq!(all.iter().map(|s| &s.id).collect::<HashSet<_>>().len(), 90);
}

pub async fn stage_quota(store: Arc<dyn Store>) {
    assert_quota(store.create_stage(&stage("zero", "n"), &[], 0).await);
    for i in 0..3 {
        store.create_stage(&stage(&format!("q{i}"), "n"), &[], 3).await.unwrap();
    }
    assert_quota(store.create_stage(&stage("q3", "n"), &[], 3).await);
    assert_eq!(store.get_stage("q3").await.unwrap(), None);
    store.delete_stage("q0").await.unwrap();
    store.create_stage(&stage("q3", "n"), &[], 3).await.unwrap();
    // A higher limit lets more in.
    store.create_stage(&stage("q4", "n"), &[], 5).await.unwrap();
}

pub async fn stage_quota_race(store: Arc<dyn Store>) {
    let results = concurrently(&store, 20, |store, i| async move {
        store.create_stage(&stage(&format!("race-{i}"), "race"), &[], 10).await
    })
    .await;
    let created = results.iter().filter(|r| r.is_ok()).count();
    let refused = results.iter().filter(|r| matches!(r, Err(StoreError::QuotaExceeded(_)))).count();
    assert_eq!((created, refused), (10, 10), "results: {results:?}");
    assert_eq!(list_all_stages(store.as_ref(), 100).await.len(), 10);
    // Seqs handed out are all distinct.
    let seqs: HashSet<i64> =
        results.iter().filter_map(|r| r.as_ref().ok()).map(|s| s.seq).collect();
    assert_eq!(seqs.len(), 10);
}
