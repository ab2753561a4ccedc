//! Opening a store from its URL (`sqlite://…` or `postgres://…`).

use std::sync::Arc;

use crate::{Store, StoreError, StoreResult, postgres::PostgresStore, sqlite::SqliteStore};

/// Opens (creating and migrating if needed) the store named by `url`.
pub async fn open(url: &str) -> StoreResult<Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::open(url).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PostgresStore::open(url).await?))
    } else {
        Err(StoreError::Config(format!(
            "unsupported store URL {url:?}: expected sqlite://PATH or postgres://USER@HOST/DB"
        )))
    }
}
