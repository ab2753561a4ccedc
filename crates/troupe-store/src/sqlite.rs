//! The embedded backend: one SQLite file in WAL mode, shared with other processes on the same
//! machine (the `troupe token` CLI writes while the server runs).

use std::{path::Path, str::FromStr, time::Duration};

use async_trait::async_trait;
use sqlx::{
    Sqlite, SqlitePool,
    migrate::Migrator,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};

use crate::{
    StoreError, StoreResult,
    backend::{Backend, impl_conn},
};

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");

/// How long a statement waits for another connection or process holding the write lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(15);
/// Readers run in parallel in WAL mode; writers take turns whatever the pool size.
const MAX_CONNECTIONS: u32 = 8;

/// A store in a SQLite database file (or in memory, for tests).
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens the database named by `url` (`sqlite:///abs/path.db`, `sqlite://relative.db` or
    /// `sqlite::memory:`), creating the file and its directory if missing, and migrates it.
    pub async fn open(url: &str) -> StoreResult<Self> {
        let invalid = |err: &dyn std::fmt::Display| {
            StoreError::Config(format!("invalid SQLite URL {url:?}: {err}"))
        };
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|err| invalid(&err))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL syncs the WAL on every commit: an acknowledged write survives power loss,
            // not only a killed process.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let pool_options = if in_memory {
            // An in-memory database lives as long as its last connection: keep exactly one
            // forever (which also serializes writers, as shared-cache locks do not wait).
            SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
        } else {
            create_parent_dir(options.get_filename())?;
            SqlitePoolOptions::new().max_connections(MAX_CONNECTIONS)
        };
        let pool = pool_options.connect_with(options).await?;
        // Two processes opening a new file at once can both try the first migration; the loser
        // fails on "table exists" and, retrying, finds it applied.
        if MIGRATOR.run(&pool).await.is_err() {
            MIGRATOR.run(&pool).await?;
        }
        Ok(SqliteStore { pool })
    }
}

fn create_parent_dir(file: &Path) -> StoreResult<()> {
    match file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => std::fs::create_dir_all(dir).map_err(|err| {
            StoreError::Config(format!("cannot create directory {}: {err}", dir.display()))
        }),
        _ => Ok(()),
    }
}

impl_conn!(Sqlite);

#[async_trait]
impl Backend for SqliteStore {
    type Pool = SqlitePool;
    type Tx = sqlx::Transaction<'static, Sqlite>;
    const NAME: &'static str = "sqlite";
    // SQLite has no row locks: `BEGIN IMMEDIATE` already holds the database write lock.
    const FOR_UPDATE: &'static str = "";

    fn pool(&self) -> SqlitePool {
        self.pool.clone()
    }

    async fn begin(&self, _exclusive_table: Option<&'static str>) -> sqlx::Result<Self::Tx> {
        // Every write transaction takes the write lock up front: a deferred transaction that
        // reads and then writes fails with SQLITE_BUSY instead of waiting when another writer
        // got in between. That one lock also makes count-then-insert quota checks race-free.
        self.pool.begin_with("BEGIN IMMEDIATE").await
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}
