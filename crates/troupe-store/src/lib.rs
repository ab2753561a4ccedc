//! Durable control-plane state: stages, participant tokens and revocations, public keys, node
//! keys, tags, stage sessions, participants and participant events; and for broadcasting,
//! channels, stream keys, stream sessions, recording and storage configurations.
//!
//! Everything goes through the [`Store`] trait; [`sqlite::SqliteStore`] (embedded, the default)
//! and [`postgres::PostgresStore`] (several nodes sharing state) implement it and pass the same
//! test suite. This crate knows nothing of HTTP, ARNs, JSON request shapes or media: callers pass
//! plain records, and validation (names, limits, formats) is the control plane's job. A write that
//! returns `Ok` is committed: nothing acknowledged may be lost when the process is killed.

mod backend;
mod broadcast_model;
mod broadcast_rows;
mod broadcast_sql;
mod broadcast_store;
mod error;
mod model;
mod open;
mod page;
pub mod postgres;
mod rows;
mod sql_store;
pub mod sqlite;
mod store;

pub use broadcast_model::*;
pub use broadcast_store::BroadcastStore;
pub use error::{StoreError, StoreResult};
pub use model::*;
pub use open::open;
pub use page::{Page, PageRequest};
pub use store::Store;
