//! Durable control-plane state: stages, participant tokens and revocations, public keys, node
//! keys, tags, stage sessions, participants and participant events.
//!
//! Everything goes through the [`Store`] trait; [`sqlite::SqliteStore`] (embedded, the default)
//! and [`postgres::PostgresStore`] (several nodes sharing state) implement it and pass the same
//! test suite. This crate knows nothing of HTTP, ARNs, JSON request shapes or media: callers pass
//! plain records, and validation (names, limits, formats) is the control plane's job. A write that
//! returns `Ok` is committed: nothing acknowledged may be lost when the process is killed.

mod backend;
mod error;
mod model;
mod open;
mod page;
pub mod postgres;
mod rows;
mod sql_store;
pub mod sqlite;
mod store;

pub use error::{StoreError, StoreResult};
pub use model::*;
pub use open::open;
pub use page::{Page, PageRequest};
pub use store::Store;
