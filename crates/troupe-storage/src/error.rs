//! The errors a caller of the storage crate can see. Transient upload failures never show up
//! here: the queue retries them and counts them in `UploadStats`.

/// What went wrong with a storage request.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The bucket name breaks S3's naming rules (which the directory backend follows too, so
    /// that a name can never escape the storage root).
    #[error("invalid bucket name {name:?}: {reason}")]
    InvalidBucketName { name: String, reason: &'static str },
    /// The object key is empty, too long, or has an empty, `.` or `..` segment.
    #[error("invalid object key {key:?}: {reason}")]
    InvalidKey { key: String, reason: &'static str },
    /// The S3 client could not be configured (bad endpoint URL, no region, ...).
    #[error("S3 configuration for bucket {bucket:?}: {message}")]
    Config { bucket: String, message: String },
    /// The bucket does not exist.
    #[error("bucket {bucket:?} does not exist")]
    BucketNotFound { bucket: String },
    /// The object does not exist.
    #[error("object {key:?} not found in bucket {bucket:?}")]
    ObjectNotFound { bucket: String, key: String },
    /// The directory or S3 backend failed.
    #[error("storage backend, bucket {bucket:?}: {message}")]
    Backend { bucket: String, message: String },
    /// `flush` ran out of time with uploads still queued.
    #[error("flush timed out with {queued_objects} uploads ({queued_bytes} bytes) still queued")]
    FlushTimeout { queued_objects: u64, queued_bytes: u64 },
}
