//! The cases. Most take only the store; the few that need the database itself (reopening it,
//! corrupting rows) take the [`super::TestDb`].

mod broadcast;
mod durability;
mod keys;
mod sessions;
mod stages;
mod tags;
mod tokens;

pub use broadcast::*;
pub use durability::*;
pub use keys::*;
pub use sessions::*;
pub use stages::*;
pub use tags::*;
pub use tokens::*;

use std::{fmt::Debug, sync::Arc};

use troupe_store::{Store, StoreError};

/// Runs `n` copies of a call at once (as separate tasks) and returns their results.
pub async fn concurrently<T, F, Fut>(store: &Arc<dyn Store>, n: usize, call: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn(Arc<dyn Store>, usize) -> Fut,
    Fut: std::future::Future<Output = T> + Send + 'static,
{
    let tasks: Vec<_> = (0..n).map(|i| tokio::spawn(call(store.clone(), i))).collect();
    let mut results = Vec::with_capacity(n);
    for task in tasks {
        results.push(task.await.expect("task panicked"));
    }
    results
}

#[track_caller]
pub fn assert_not_found<T: Debug>(result: Result<T, StoreError>) {
    assert!(matches!(result, Err(StoreError::NotFound)), "expected NotFound, got {result:?}");
}

#[track_caller]
pub fn assert_conflict<T: Debug>(result: Result<T, StoreError>) {
    assert!(matches!(result, Err(StoreError::Conflict(_))), "expected Conflict, got {result:?}");
}

#[track_caller]
pub fn assert_quota<T: Debug>(result: Result<T, StoreError>) {
    assert!(
        matches!(result, Err(StoreError::QuotaExceeded(_))),
        "expected QuotaExceeded, got {result:?}"
    );
}

#[track_caller]
pub fn assert_backend<T: Debug>(result: Result<T, StoreError>) {
    assert!(matches!(result, Err(StoreError::Backend(_))), "expected Backend, got {result:?}");
}
