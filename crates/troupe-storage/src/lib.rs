//! Recording uploads: a StorageConfiguration's bucket is a directory or an S3 bucket, and
//! everything a recording writes goes through [`Storage::upload`], a queue that never makes
//! the media path wait, retries for as long as [`RetryPolicy`] says, keeps the order of
//! objects within one directory (a playlist is never written before the segments queued
//! before it), and holds at most [`StorageOptions::memory_budget`] bytes in memory (the rest
//! goes to a spool directory). [`layout`] knows IVS's recording object layout.

mod backend;
mod error;
pub mod layout;
mod names;
mod queue;
mod retry;
mod spool;
mod stats;

use std::{path::PathBuf, sync::Arc, time::Duration, time::Instant};

use bytes::Bytes;
use object_store::{ObjectStoreExt, path::Path as ObjectPath};

pub use backend::StorageBackend;
pub use error::StorageError;
pub use names::{check_bucket_name, check_key};
pub use retry::RetryPolicy;
pub use stats::UploadStats;

use queue::{Job, Shared};

/// How the upload queue behaves.
#[derive(Clone, Debug)]
pub struct StorageOptions {
    pub retry: RetryPolicy,
    /// Bytes of queued uploads held in memory at most. Past it, uploads are written to
    /// `spool_dir` (disk is larger than memory and an outage must lose nothing); without a
    /// spool directory they are dropped and counted (`UploadStats::dropped`): running the
    /// whole server out of memory would end every stage, not just a recording.
    pub memory_budget: u64,
    /// Where uploads wait on disk when memory is full (Troupe: `<data-dir>/storage-spool`).
    pub spool_dir: Option<PathBuf>,
    /// Requests sent at once, over all lanes.
    pub max_in_flight: usize,
}

impl Default for StorageOptions {
    fn default() -> Self {
        StorageOptions {
            retry: RetryPolicy::default(),
            memory_budget: 256 * 1024 * 1024,
            spool_dir: None,
            max_in_flight: 16,
        }
    }
}

/// The storage of all buckets of one backend. Cheap to clone (one shared queue).
#[derive(Clone)]
pub struct Storage {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Storage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Storage").field("backend", &self.shared.backend).finish_non_exhaustive()
    }
}

impl Storage {
    /// A storage with default options. Must be called inside a Tokio runtime: uploads run on
    /// it, and `upload` may then be called from any thread.
    pub fn new(backend: StorageBackend) -> Self {
        Self::with_options(backend, StorageOptions::default())
    }

    /// See [`Storage::new`].
    pub fn with_options(backend: StorageBackend, options: StorageOptions) -> Self {
        let shared = Shared::new(
            backend,
            options.retry,
            options.memory_budget,
            options.spool_dir.map(spool::Spool::new),
            options.max_in_flight,
            tokio::runtime::Handle::current(),
        );
        Storage { shared: Arc::new(shared) }
    }

    pub fn backend(&self) -> &StorageBackend {
        &self.shared.backend
    }

    /// Whether the bucket exists, for CreateStorageConfiguration. A directory bucket exists
    /// when its directory does; [`Storage::prepare_bucket`] creates it. An S3 bucket exists
    /// when listing it succeeds; S3's "no such bucket" (404) is `false`, any other failure
    /// (credentials, network) is an error.
    pub async fn bucket_exists(&self, bucket: &str) -> Result<bool, StorageError> {
        check_bucket_name(bucket)?;
        if let Some(dir) = self.shared.backend.directory_of(bucket) {
            return Ok(tokio::fs::metadata(&dir).await.map(|m| m.is_dir()).unwrap_or(false));
        }
        let store = self.shared.store(bucket)?;
        // One page of at most 1000 keys at the root; all that matters is the status.
        match store.list_with_delimiter(None).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) if e.to_string().contains("NoSuchBucket") => Ok(false),
            Err(e) => {
                Err(StorageError::Backend { bucket: bucket.to_owned(), message: e.to_string() })
            }
        }
    }

    /// Makes the bucket usable: creates a directory bucket (a local directory has no owner
    /// to create it, unlike an S3 bucket, which IVS also requires to exist beforehand);
    /// for S3, checks that the bucket exists.
    pub async fn prepare_bucket(&self, bucket: &str) -> Result<(), StorageError> {
        check_bucket_name(bucket)?;
        if let Some(dir) = self.shared.backend.directory_of(bucket) {
            return tokio::fs::create_dir_all(&dir).await.map_err(|e| StorageError::Backend {
                bucket: bucket.to_owned(),
                message: format!("creating {}: {e}", dir.display()),
            });
        }
        if self.bucket_exists(bucket).await? {
            Ok(())
        } else {
            Err(StorageError::BucketNotFound { bucket: bucket.to_owned() })
        }
    }

    /// Queues an upload (a PUT of the whole object; a directory backend writes a temporary
    /// file and renames it, so a reader never sees half an object). Returns at once; objects
    /// in the same directory of the same bucket are written in the order queued. Errors only
    /// for a bad bucket name or key; a full memory budget without spool drops the upload
    /// (counted, logged).
    pub fn upload(&self, bucket: &str, key: &str, bytes: Bytes) -> Result<(), StorageError> {
        self.upload_in_lane(bucket, names::directory_of(key), key, bytes)
    }

    /// Like [`Storage::upload`], with an explicit ordering lane: uploads with the same
    /// `(bucket, lane)` are written one after another in the order queued. A recorder that
    /// passes its recording prefix gets one total order for the recording (its
    /// `recording-ended.json` after every segment).
    pub fn upload_in_lane(
        &self,
        bucket: &str,
        lane: &str,
        key: &str,
        bytes: Bytes,
    ) -> Result<(), StorageError> {
        check_bucket_name(bucket)?;
        check_key(key)?;
        let Some(payload) = self.shared.admit(bucket, key, bytes) else {
            stats::add(&self.shared.counters.dropped, 1);
            return Ok(());
        };
        let job = Job { key: key.to_owned(), payload, queued_at: Instant::now() };
        self.shared.enqueue(bucket, lane, job);
        Ok(())
    }

    /// Waits until every queued upload is finished (uploaded or given up), for shutdown and
    /// tests.
    pub async fn flush(&self, timeout: Duration) -> Result<(), StorageError> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            // Created before the check, so a wake-up between the check and the wait counts.
            let drained = self.shared.drained.notified();
            let stats = self.stats();
            if stats.queued_objects == 0 {
                return Ok(());
            }
            if tokio::time::timeout_at(deadline, drained).await.is_err() {
                let stats = self.stats();
                return Err(StorageError::FlushTimeout {
                    queued_objects: stats.queued_objects,
                    queued_bytes: stats.queued_bytes,
                });
            }
        }
    }

    /// The queue's counters.
    pub fn stats(&self) -> UploadStats {
        self.shared.counters.snapshot()
    }

    /// Reads a whole object back (tests, and serving recordings from a directory backend).
    /// Bounded by what was written: objects here are segments and playlists.
    pub async fn get(&self, bucket: &str, key: &str) -> Result<Bytes, StorageError> {
        check_bucket_name(bucket)?;
        check_key(key)?;
        let store = self.shared.store(bucket)?;
        let backend = |e: object_store::Error| match e {
            object_store::Error::NotFound { .. } => {
                StorageError::ObjectNotFound { bucket: bucket.to_owned(), key: key.to_owned() }
            }
            e => StorageError::Backend { bucket: bucket.to_owned(), message: e.to_string() },
        };
        let result = store.get(&ObjectPath::from(key)).await.map_err(backend)?;
        result.bytes().await.map_err(backend)
    }
}
