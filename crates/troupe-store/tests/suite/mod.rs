//! The store test suite: every case runs against SQLite and PostgreSQL (see `store_suite.rs`),
//! each on a fresh database of its own so that tests run in parallel.

pub mod cases;
pub mod fixtures;

use std::{
    future::Future,
    path::PathBuf,
    str::FromStr,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{SystemTime, UNIX_EPOCH},
};

use sqlx::{Connection, Executor};
use troupe_store::{Store, postgres::PostgresStore, sqlite::SqliteStore};

pub const POSTGRES_URL_VAR: &str = "TROUPE_TEST_POSTGRES_URL";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    Postgres,
}

/// A fresh database and a store opened on it; removed when the test ends.
pub struct TestDb {
    pub kind: Kind,
    /// What `troupe_store::open` takes to reach this database.
    pub url: String,
    pub store: Arc<dyn Store>,
    cleanup: Cleanup,
}

enum Cleanup {
    /// The directory holding the SQLite file and its WAL.
    SqliteDir(PathBuf),
    /// The database to drop through the admin connection.
    Postgres { admin_url: String, database: String },
}

fn unique_name() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    format!(
        "troupe_test_{}_{}_{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// `postgres://user@host:port/db?opts` with `db` replaced.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (url, String::new()),
    };
    let host_start = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[host_start..].find('/').map_or(base.len(), |i| host_start + i);
    format!("{}/{database}{query}", &base[..host_end])
}

impl TestDb {
    pub async fn new(kind: Kind) -> TestDb {
        match kind {
            Kind::Sqlite => {
                // A directory that does not exist yet: opening must create it.
                let dir = std::env::temp_dir().join(unique_name());
                let url = format!("sqlite://{}", dir.join("troupe.db").display());
                let store = SqliteStore::open(&url).await.expect("open SQLite store");
                TestDb { kind, url, store: Arc::new(store), cleanup: Cleanup::SqliteDir(dir) }
            }
            Kind::Postgres => {
                let admin_url = std::env::var(POSTGRES_URL_VAR).unwrap_or_else(|_| {
                    panic!(
                        "{POSTGRES_URL_VAR} is not set, so the PostgreSQL half of the store suite \
                         cannot run. Run `scripts/test`, or start a throwaway server with \
                         `eval \"$(scripts/pg-test-server start)\"` and run cargo test again."
                    )
                });
                let database = unique_name();
                let mut admin =
                    sqlx::PgConnection::connect(&admin_url).await.unwrap_or_else(|err| {
                        panic!("connect to {admin_url} ({POSTGRES_URL_VAR}): {err}")
                    });
                admin
                    .execute(format!("CREATE DATABASE \"{database}\"").as_str())
                    .await
                    .expect("create test database");
                admin.close().await.ok();
                let url = with_database(&admin_url, &database);
                let store = PostgresStore::open(&url).await.expect("open PostgreSQL store");
                TestDb {
                    kind,
                    url,
                    store: Arc::new(store),
                    cleanup: Cleanup::Postgres { admin_url, database },
                }
            }
        }
    }

    /// Opens another store on the same database, as a restarted process (or another node) would.
    pub async fn open_again(&self) -> Arc<dyn Store> {
        troupe_store::open(&self.url).await.expect("reopen store")
    }

    /// Runs SQL directly, behind the store's back (to corrupt rows, for instance).
    pub async fn execute_raw(&self, statement: &str) {
        match self.kind {
            Kind::Sqlite => {
                let options = sqlx::sqlite::SqliteConnectOptions::from_str(&self.url)
                    .expect("SQLite URL")
                    .busy_timeout(std::time::Duration::from_secs(10));
                let mut conn =
                    sqlx::SqliteConnection::connect_with(&options).await.expect("connect");
                conn.execute(statement).await.expect("raw statement");
                conn.close().await.ok();
            }
            Kind::Postgres => {
                let mut conn = sqlx::PgConnection::connect(&self.url).await.expect("connect");
                conn.execute(statement).await.expect("raw statement");
                conn.close().await.ok();
            }
        }
    }

    async fn remove(self) {
        self.store.close().await;
        match self.cleanup {
            Cleanup::SqliteDir(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Postgres { admin_url, database } => {
                if let Ok(mut admin) = sqlx::PgConnection::connect(&admin_url).await {
                    let drop = format!("DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)");
                    let _ = admin.execute(drop.as_str()).await;
                    admin.close().await.ok();
                }
            }
        }
    }
}

/// Runs one case on a fresh database of `kind`, then removes the database, also when the case
/// panics (the panic is re-raised afterwards so the test fails with its message).
pub async fn run<F, Fut>(kind: Kind, case: F)
where
    F: FnOnce(Arc<TestDb>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let db = Arc::new(TestDb::new(kind).await);
    let outcome = tokio::spawn(case(db.clone())).await;
    match Arc::try_unwrap(db) {
        Ok(db) => db.remove().await,
        // A case that leaked its handle into a still-running task: leave the database.
        Err(db) => db.store.close().await,
    }
    if let Err(err) = outcome {
        match err.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(err) => panic!("test task failed: {err}"),
        }
    }
}

#[test]
fn database_name_replaced_in_url() {
    assert_eq!(with_database("postgres://u@h:1/postgres", "x"), "postgres://u@h:1/x");
    assert_eq!(with_database("postgres://u@h:1", "x"), "postgres://u@h:1/x");
    assert_eq!(
        with_database("postgresql://u:p@h/db?sslmode=disable", "x"),
        "postgresql://u:p@h/x?sslmode=disable"
    );
}
