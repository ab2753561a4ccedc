//! The node's storage for recordings: buckets as directories `<data-dir>/storage/<bucket>/`,
//! or an S3 (compatible) service with `--s3-endpoint` (credentials from the AWS environment).
//! Uploads that cannot be held in memory during an outage wait in `<data-dir>/storage-spool/`.

use async_trait::async_trait;
use troupe_control::live_streams::BucketCheck;
use troupe_storage::{Storage, StorageBackend, StorageError, StorageOptions};

use crate::config::Settings;

pub fn backend(settings: &Settings) -> StorageBackend {
    match &settings.broadcast.s3_endpoint {
        Some(endpoint) => StorageBackend::S3 {
            endpoint: Some(endpoint.clone()),
            region: None,
            allow_http: endpoint.starts_with("http://"),
        },
        None => StorageBackend::Directory { root: settings.data_dir.join("storage") },
    }
}

/// Must be called inside the runtime (the upload queue runs on it).
pub fn open(settings: &Settings) -> Storage {
    let options = StorageOptions {
        spool_dir: Some(settings.data_dir.join("storage-spool")),
        ..StorageOptions::default()
    };
    Storage::with_options(backend(settings), options)
}

/// CreateStorageConfiguration's check: a directory bucket is made on the spot (nobody else
/// would make it); an S3 bucket must exist, as with IVS.
pub struct Buckets(pub Storage);

#[async_trait]
impl BucketCheck for Buckets {
    async fn bucket_exists(&self, bucket: &str) -> Result<bool, String> {
        match self.0.prepare_bucket(bucket).await {
            Ok(()) => Ok(true),
            Err(StorageError::BucketNotFound { .. }) => Ok(false),
            Err(e) => Err(e.to_string()),
        }
    }
}
