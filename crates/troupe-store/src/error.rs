//! The few ways a store call fails that callers act on differently.

/// Result of every store call.
pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The record the call works on does not exist.
    #[error("not found")]
    NotFound,
    /// The write would break a uniqueness rule (for example the same public key imported twice).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The write would exceed a limit passed by the caller (stages, public keys, tags).
    #[error("quota exceeded: {0}")]
    QuotaExceeded(String),
    /// The store URL or its options are wrong; raised only by [`crate::open`].
    #[error("invalid store configuration: {0}")]
    Config(String),
    /// The database failed or is unreachable.
    #[error("store backend error: {0}")]
    Backend(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        StoreError::Backend(err.to_string())
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(err: sqlx::migrate::MigrateError) -> Self {
        StoreError::Backend(format!("migration failed: {err}"))
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(err: serde_json::Error) -> Self {
        StoreError::Backend(format!("corrupt JSON column: {err}"))
    }
}
