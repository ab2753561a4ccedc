//! Counters of the upload queue, read by `/metrics`.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// A snapshot of the upload queue. "Queued" counts every upload not finished yet (waiting,
/// in flight, or waiting to retry); the memory and spool figures split its bytes by where
/// they are held.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UploadStats {
    pub queued_objects: u64,
    pub queued_bytes: u64,
    /// Bytes of queued uploads held in memory (bounded by `StorageOptions::memory_budget`).
    pub memory_bytes: u64,
    /// Queued uploads whose bytes wait in the spool directory.
    pub spooled_objects: u64,
    pub spooled_bytes: u64,
    /// Requests being sent right now.
    pub in_flight: u64,
    /// Finished uploads since start.
    pub uploaded_objects: u64,
    pub uploaded_bytes: u64,
    /// Failed tries that were tried again.
    pub retries: u64,
    /// Uploads given up after `RetryPolicy::give_up_after` (or whose spool file was lost).
    pub failures: u64,
    /// Uploads refused because the memory budget was full and no spool could take them.
    pub dropped: u64,
}

#[derive(Default)]
pub(crate) struct Counters {
    pub queued_objects: AtomicU64,
    pub queued_bytes: AtomicU64,
    pub memory_bytes: AtomicU64,
    pub spooled_objects: AtomicU64,
    pub spooled_bytes: AtomicU64,
    pub in_flight: AtomicU64,
    pub uploaded_objects: AtomicU64,
    pub uploaded_bytes: AtomicU64,
    pub retries: AtomicU64,
    pub failures: AtomicU64,
    pub dropped: AtomicU64,
}

impl Counters {
    pub fn snapshot(&self) -> UploadStats {
        UploadStats {
            queued_objects: self.queued_objects.load(Relaxed),
            queued_bytes: self.queued_bytes.load(Relaxed),
            memory_bytes: self.memory_bytes.load(Relaxed),
            spooled_objects: self.spooled_objects.load(Relaxed),
            spooled_bytes: self.spooled_bytes.load(Relaxed),
            in_flight: self.in_flight.load(Relaxed),
            uploaded_objects: self.uploaded_objects.load(Relaxed),
            uploaded_bytes: self.uploaded_bytes.load(Relaxed),
            retries: self.retries.load(Relaxed),
            failures: self.failures.load(Relaxed),
            dropped: self.dropped.load(Relaxed),
        }
    }
}

pub(crate) fn add(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Relaxed);
}

pub(crate) fn sub(counter: &AtomicU64, n: u64) {
    counter.fetch_sub(n, Relaxed);
}
