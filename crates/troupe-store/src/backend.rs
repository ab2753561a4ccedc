//! The narrow interface between the shared store logic (`sql_store.rs`) and a database driver:
//! run a statement with positional arguments, decode rows, open a write transaction.
//!
//! SQLite and PostgreSQL both accept `$1`-style placeholders and the SQL the store needs
//! (`RETURNING`, `ON CONFLICT`, partial indexes), so every statement is written once. A backend
//! only binds arguments, opens transactions its own way (SQLite `BEGIN IMMEDIATE`, PostgreSQL
//! table locks) and says how to lock a row (`FOR UPDATE` exists only in PostgreSQL).
//! Being generic over `sqlx::Database` instead would need long `where` clauses on every
//! function, since Rust does not imply bounds like `i64: Encode<'q, DB>`.

use std::borrow::Cow;

use async_trait::async_trait;
use sqlx::{FromRow, postgres::PgRow, sqlite::SqliteRow};

/// One positional argument: the few column types the schema uses.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Arg<'a> {
    Int(i64),
    OptInt(Option<i64>),
    Text(&'a str),
    OptText(Option<&'a str>),
    Bool(bool),
}

impl From<i64> for Arg<'_> {
    fn from(v: i64) -> Self {
        Arg::Int(v)
    }
}

impl From<Option<i64>> for Arg<'_> {
    fn from(v: Option<i64>) -> Self {
        Arg::OptInt(v)
    }
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(v: &'a str) -> Self {
        Arg::Text(v)
    }
}

impl<'a> From<&'a String> for Arg<'a> {
    fn from(v: &'a String) -> Self {
        Arg::Text(v)
    }
}

impl<'a> From<Option<&'a str>> for Arg<'a> {
    fn from(v: Option<&'a str>) -> Self {
        Arg::OptText(v)
    }
}

impl From<bool> for Arg<'_> {
    fn from(v: bool) -> Self {
        Arg::Bool(v)
    }
}

/// A statement and its arguments, in placeholder order.
#[derive(Debug)]
pub(crate) struct Sql<'a> {
    pub text: Cow<'static, str>,
    pub args: Vec<Arg<'a>>,
}

/// Starts a statement: `sql("... WHERE id = $1").bind(id)`.
pub(crate) fn sql<'a>(text: impl Into<Cow<'static, str>>) -> Sql<'a> {
    Sql { text: text.into(), args: Vec::new() }
}

impl<'a> Sql<'a> {
    pub fn bind(mut self, arg: impl Into<Arg<'a>>) -> Self {
        self.args.push(arg.into());
        self
    }
}

/// A row type both drivers can decode (the `Raw*` structs of `rows.rs`, or tuples).
pub(crate) trait DbRow:
    for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin + 'static
{
}

impl<T> DbRow for T where
    T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin + 'static
{
}

/// Somewhere to run statements: the pool (each statement its own transaction) or a
/// transaction. Errors stay `sqlx::Error` so that callers can tell constraint violations apart.
#[async_trait]
pub(crate) trait Conn: Send {
    async fn fetch_all<R: DbRow>(&mut self, sql: Sql<'_>) -> sqlx::Result<Vec<R>>;
    async fn fetch_optional<R: DbRow>(&mut self, sql: Sql<'_>) -> sqlx::Result<Option<R>>;
    /// Runs a statement; returns the number of rows it changed.
    async fn execute(&mut self, sql: Sql<'_>) -> sqlx::Result<u64>;

    async fn fetch_one<R: DbRow>(&mut self, sql: Sql<'_>) -> sqlx::Result<R> {
        self.fetch_optional(sql).await?.ok_or(sqlx::Error::RowNotFound)
    }
}

/// A write transaction; dropping it without `commit` rolls it back.
#[async_trait]
pub(crate) trait Tx: Conn {
    async fn commit(self) -> sqlx::Result<()>;
}

/// What a database driver provides to the shared store logic.
#[async_trait]
pub(crate) trait Backend: Send + Sync + 'static {
    type Pool: Conn;
    type Tx: Tx;
    /// `Store::backend`.
    const NAME: &'static str;
    /// Appended to a `SELECT` that reads a row the transaction will then update.
    const FOR_UPDATE: &'static str;

    /// The connection pool (a cheap handle), for statements that need no transaction.
    fn pool(&self) -> Self::Pool;
    /// Begins a write transaction. With `exclusive_table`, concurrent transactions that also
    /// name that table wait for this one to end, so that a count followed by an insert (a
    /// quota check) cannot race.
    async fn begin(&self, exclusive_table: Option<&'static str>) -> sqlx::Result<Self::Tx>;
    async fn close(&self);
}

/// Implements [`Conn`] and [`Tx`] for one driver's pool and transaction types; the code is the
/// same for both drivers, only the types differ.
macro_rules! impl_conn {
    ($db:ty) => {
        fn bind_args<'q>(
            sql: &'q $crate::backend::Sql<'q>,
        ) -> sqlx::query::Query<'q, $db, <$db as sqlx::Database>::Arguments<'q>> {
            use $crate::backend::Arg;
            let mut query = sqlx::query(&sql.text);
            for arg in &sql.args {
                query = match *arg {
                    Arg::Int(v) => query.bind(v),
                    Arg::OptInt(v) => query.bind(v),
                    Arg::Text(v) => query.bind(v),
                    Arg::OptText(v) => query.bind(v),
                    Arg::Bool(v) => query.bind(v),
                };
            }
            query
        }

        impl_conn!(@conn $db, sqlx::Pool<$db>, |this| &*this);
        impl_conn!(@conn $db, sqlx::Transaction<'static, $db>, |this| &mut **this);

        #[async_trait::async_trait]
        impl $crate::backend::Tx for sqlx::Transaction<'static, $db> {
            async fn commit(self) -> sqlx::Result<()> {
                sqlx::Transaction::commit(self).await
            }
        }
    };
    (@conn $db:ty, $target:ty, |$this:ident| $executor:expr) => {
        #[async_trait::async_trait]
        impl $crate::backend::Conn for $target {
            async fn fetch_all<R: $crate::backend::DbRow>(
                &mut self,
                sql: $crate::backend::Sql<'_>,
            ) -> sqlx::Result<Vec<R>> {
                let $this = self;
                bind_args(&sql).try_map(|row| R::from_row(&row)).fetch_all($executor).await
            }

            async fn fetch_optional<R: $crate::backend::DbRow>(
                &mut self,
                sql: $crate::backend::Sql<'_>,
            ) -> sqlx::Result<Option<R>> {
                let $this = self;
                bind_args(&sql).try_map(|row| R::from_row(&row)).fetch_optional($executor).await
            }

            async fn execute(&mut self, sql: $crate::backend::Sql<'_>) -> sqlx::Result<u64> {
                let $this = self;
                Ok(bind_args(&sql).execute($executor).await?.rows_affected())
            }
        }
    };
}

pub(crate) use impl_conn;
