//! The upload queue: one FIFO lane per (bucket, lane name), each drained by its own task, so
//! that objects in one lane are written in the order they were queued while lanes go on in
//! parallel (up to `StorageOptions::max_in_flight` requests at once). A lane's task exists
//! exactly while the lane has uploads; its entry in the map is the sign that it runs.

use std::{
    collections::{HashMap, VecDeque},
    path::PathBuf,
    sync::{Arc, Mutex},
    time::Instant,
};

use bytes::Bytes;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, path::Path as ObjectPath};
use tokio::sync::{Notify, Semaphore};

use crate::{
    RetryPolicy, StorageBackend, StorageError,
    spool::Spool,
    stats::{Counters, add, sub},
};

/// Where a queued upload's bytes are.
pub(crate) enum Payload {
    Memory(Bytes),
    Spooled { path: PathBuf, len: u64 },
}

impl Payload {
    fn len(&self) -> u64 {
        match self {
            Payload::Memory(b) => b.len() as u64,
            Payload::Spooled { len, .. } => *len,
        }
    }
}

pub(crate) struct Job {
    pub key: String,
    pub payload: Payload,
    pub queued_at: Instant,
}

type LaneId = (String, String);

pub(crate) struct Shared {
    pub backend: StorageBackend,
    pub retry: RetryPolicy,
    pub memory_budget: u64,
    pub spool: Option<Spool>,
    pub counters: Counters,
    pub drained: Notify,
    pub runtime: tokio::runtime::Handle,
    permits: Semaphore,
    lanes: Mutex<HashMap<LaneId, VecDeque<Job>>>,
    stores: Mutex<HashMap<String, Arc<dyn ObjectStore>>>,
}

impl Shared {
    pub fn new(
        backend: StorageBackend,
        retry: RetryPolicy,
        memory_budget: u64,
        spool: Option<Spool>,
        max_in_flight: usize,
        runtime: tokio::runtime::Handle,
    ) -> Self {
        Shared {
            backend,
            retry,
            memory_budget,
            spool,
            counters: Counters::default(),
            drained: Notify::new(),
            runtime,
            permits: Semaphore::new(max_in_flight.max(1)),
            lanes: Mutex::new(HashMap::new()),
            stores: Mutex::new(HashMap::new()),
        }
    }

    /// The cached client of a bucket, built on first use.
    pub fn store(&self, bucket: &str) -> Result<Arc<dyn ObjectStore>, StorageError> {
        if let Some(store) = lock(&self.stores).get(bucket) {
            return Ok(store.clone());
        }
        let store = self.backend.open(bucket)?;
        lock(&self.stores).insert(bucket.to_owned(), store.clone());
        Ok(store)
    }

    /// Holds the bytes in memory, or spools them when the budget is full. `None` when neither
    /// can take them.
    pub fn admit(&self, bucket: &str, key: &str, bytes: Bytes) -> Option<Payload> {
        let len = bytes.len() as u64;
        let in_memory = self.counters.memory_bytes.load(std::sync::atomic::Ordering::Relaxed);
        if in_memory + len <= self.memory_budget {
            add(&self.counters.memory_bytes, len);
            return Some(Payload::Memory(bytes));
        }
        let Some(spool) = &self.spool else {
            tracing::error!(
                bucket,
                key,
                len,
                "upload dropped: memory budget full and no spool directory"
            );
            return None;
        };
        match spool.write(&bytes) {
            Ok(path) => {
                add(&self.counters.spooled_objects, 1);
                add(&self.counters.spooled_bytes, len);
                Some(Payload::Spooled { path, len })
            }
            Err(e) => {
                tracing::error!(bucket, key, len, error = %e, "upload dropped: memory budget full and the spool cannot be written");
                None
            }
        }
    }

    pub fn enqueue(self: &Arc<Self>, bucket: &str, lane: &str, job: Job) {
        add(&self.counters.queued_objects, 1);
        add(&self.counters.queued_bytes, job.payload.len());
        let id = (bucket.to_owned(), lane.to_owned());
        let mut lanes = lock(&self.lanes);
        if let Some(queue) = lanes.get_mut(&id) {
            queue.push_back(job);
            return;
        }
        lanes.insert(id.clone(), VecDeque::from([job]));
        drop(lanes);
        let shared = self.clone();
        self.runtime.spawn(async move { shared.drain_lane(id).await });
    }

    async fn drain_lane(self: Arc<Self>, id: LaneId) {
        loop {
            let job = {
                let mut lanes = lock(&self.lanes);
                let Some(queue) = lanes.get_mut(&id) else { return };
                match queue.pop_front() {
                    Some(job) => job,
                    None => {
                        lanes.remove(&id);
                        return;
                    }
                }
            };
            self.upload_with_retries(&id.0, job).await;
            self.drained.notify_waiters();
        }
    }

    /// Tries one upload until it succeeds or is given up; either way its bytes leave the
    /// queue's accounting here.
    async fn upload_with_retries(&self, bucket: &str, job: Job) {
        let len = job.payload.len();
        let bytes = match &job.payload {
            Payload::Memory(b) => Ok(b.clone()),
            Payload::Spooled { path, .. } => Spool::read(path).await,
        };
        let outcome = match bytes {
            Ok(bytes) => self.put_until_done(bucket, &job, bytes).await,
            Err(e) => {
                tracing::error!(bucket, key = job.key, error = %e, "upload lost: its spool file cannot be read");
                false
            }
        };
        match &job.payload {
            Payload::Memory(_) => sub(&self.counters.memory_bytes, len),
            Payload::Spooled { path, .. } => {
                Spool::remove(path).await;
                sub(&self.counters.spooled_objects, 1);
                sub(&self.counters.spooled_bytes, len);
            }
        }
        if outcome {
            add(&self.counters.uploaded_objects, 1);
            add(&self.counters.uploaded_bytes, len);
        } else {
            add(&self.counters.failures, 1);
        }
        sub(&self.counters.queued_objects, 1);
        sub(&self.counters.queued_bytes, len);
    }

    async fn put_until_done(&self, bucket: &str, job: &Job, bytes: Bytes) -> bool {
        let location = ObjectPath::from(job.key.as_str());
        let mut failures = 0u32;
        loop {
            let result = {
                // A closed semaphore never happens (it lives as long as `self`).
                let _permit = self.permits.acquire().await;
                add(&self.counters.in_flight, 1);
                let result = match self.store(bucket) {
                    Ok(store) => store
                        .put(&location, PutPayload::from_bytes(bytes.clone()))
                        .await
                        .map(|_| ())
                        .map_err(|e| e.to_string()),
                    Err(e) => Err(e.to_string()),
                };
                sub(&self.counters.in_flight, 1);
                result
            };
            let Err(error) = result else { return true };
            failures += 1;
            if job.queued_at.elapsed() >= self.retry.give_up_after {
                tracing::error!(bucket, key = job.key, failures, error, "upload given up");
                return false;
            }
            let delay = self.retry.jittered_delay(failures);
            tracing::warn!(
                bucket,
                key = job.key,
                failures,
                error,
                retry_in_ms = delay.as_millis() as u64,
                "upload failed, will retry"
            );
            add(&self.counters.retries, 1);
            tokio::time::sleep(delay).await;
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding these locks leaves plain data behind; go on with it.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
