//! The shared backend: several nodes keep their state in one PostgreSQL database.

use std::{str::FromStr, time::Duration};

use async_trait::async_trait;
use sqlx::{
    PgPool, Postgres,
    migrate::Migrator,
    postgres::{PgConnectOptions, PgPoolOptions},
};

use crate::{
    StoreError, StoreResult,
    backend::{Backend, Conn, impl_conn, sql},
};

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/postgres");

const MAX_CONNECTIONS: u32 = 10;
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(15);

/// A store in a PostgreSQL database.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// Connects to `url` (`postgres://USER[:PASSWORD]@HOST[:PORT]/DB[?OPTIONS]`) and migrates
    /// the database (migrations take an advisory lock, so nodes may start together).
    pub async fn open(url: &str) -> StoreResult<Self> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|err| StoreError::Config(format!("invalid PostgreSQL URL: {err}")))?;
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(PostgresStore { pool })
    }
}

impl_conn!(Postgres);

#[async_trait]
impl Backend for PostgresStore {
    type Pool = PgPool;
    type Tx = sqlx::Transaction<'static, Postgres>;
    const NAME: &'static str = "postgres";
    const FOR_UPDATE: &'static str = " FOR UPDATE";

    fn pool(&self) -> PgPool {
        self.pool.clone()
    }

    async fn begin(&self, exclusive_table: Option<&'static str>) -> sqlx::Result<Self::Tx> {
        let mut tx = self.pool.begin().await?;
        if let Some(table) = exclusive_table {
            // SHARE ROW EXCLUSIVE conflicts with itself and with every write to the table but
            // not with reads: quota checks run one at a time, listings carry on.
            tx.execute(sql(format!("LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE"))).await?;
        }
        Ok(tx)
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}
