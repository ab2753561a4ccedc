//! Where buckets live (a directory per bucket, or S3) and the `object_store` client for one
//! bucket. The upload queue owns retries, so the clients retry only briefly themselves.

use std::{path::PathBuf, sync::Arc, time::Duration};

use object_store::{
    ClientOptions, ObjectStore, RetryConfig, aws::AmazonS3Builder, local::LocalFileSystem,
};

use crate::StorageError;

/// Where a StorageConfiguration's bucket is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StorageBackend {
    /// Bucket `b` is the directory `<root>/b/` (Troupe's default: `<data-dir>/storage`).
    Directory { root: PathBuf },
    /// Real S3 or an S3-compatible server. Credentials come from the environment
    /// (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`), web identity or
    /// instance metadata, as `object_store`'s `AmazonS3Builder::from_env` reads them (not
    /// `~/.aws/credentials` profiles). `endpoint` set means path-style requests to that URL;
    /// `region` falls back to `AWS_REGION`/`AWS_DEFAULT_REGION`, then `us-east-1`.
    S3 { endpoint: Option<String>, region: Option<String>, allow_http: bool },
}

/// One request's time limit: a stuck connection must not hold a lane forever.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

impl StorageBackend {
    /// The directory bucket `bucket` maps to, for the directory backend.
    pub fn directory_of(&self, bucket: &str) -> Option<PathBuf> {
        match self {
            StorageBackend::Directory { root } => Some(root.join(bucket)),
            StorageBackend::S3 { .. } => None,
        }
    }

    /// A client for one bucket. For a directory, creates the directory: a client is only
    /// built to write (existence checks go through `Storage::bucket_exists`).
    pub(crate) fn open(&self, bucket: &str) -> Result<Arc<dyn ObjectStore>, StorageError> {
        match self {
            StorageBackend::Directory { root } => {
                let dir = root.join(bucket);
                std::fs::create_dir_all(&dir).map_err(|e| StorageError::Backend {
                    bucket: bucket.to_owned(),
                    message: format!("creating {}: {e}", dir.display()),
                })?;
                let fs = LocalFileSystem::new_with_prefix(&dir).map_err(|e| {
                    StorageError::Backend { bucket: bucket.to_owned(), message: e.to_string() }
                })?;
                Ok(Arc::new(fs))
            }
            StorageBackend::S3 { endpoint, region, allow_http } => {
                let mut builder = AmazonS3Builder::from_env()
                    .with_bucket_name(bucket)
                    .with_allow_http(*allow_http)
                    .with_retry(RetryConfig {
                        max_retries: 2,
                        retry_timeout: Duration::from_secs(30),
                        ..RetryConfig::default()
                    })
                    .with_client_options(
                        ClientOptions::new()
                            .with_timeout(REQUEST_TIMEOUT)
                            .with_connect_timeout(CONNECT_TIMEOUT)
                            .with_allow_http(*allow_http),
                    );
                if let Some(endpoint) = endpoint {
                    builder =
                        builder.with_endpoint(endpoint).with_virtual_hosted_style_request(false);
                }
                let region = region
                    .clone()
                    .or_else(|| std::env::var("AWS_REGION").ok())
                    .or_else(|| std::env::var("AWS_DEFAULT_REGION").ok())
                    .unwrap_or_else(|| "us-east-1".to_owned());
                builder = builder.with_region(region);
                let s3 = builder.build().map_err(|e| StorageError::Config {
                    bucket: bucket.to_owned(),
                    message: e.to_string(),
                })?;
                Ok(Arc::new(s3))
            }
        }
    }
}
