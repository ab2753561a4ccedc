//! The IVS Real-Time control plane: the operations (`ops/`) over the store, their validation
//! and error types, SigV4 authentication, and the HTTP routes that expose them.
//!
//! Owns: everything a backend calls with an AWS SDK, and the verification of participant
//! tokens for the media and events planes. Must not touch: media, sockets other than HTTP,
//! or the storage engines (only the `troupe_store::Store` trait).

pub mod arn;
pub mod config;
pub mod error;
pub mod http;
pub mod metrics;
pub mod operation;
mod ops;
pub mod pagination;
pub mod participant_auth;
mod plane;
pub mod request;
mod shapes;
pub mod sigv4;
pub mod timestamp;

pub use config::{ControlConfig, Credential, Endpoints, Limits};
pub use error::{ApiError, ApiResult, ErrorType};
pub use ops::{MintedToken, TokenRequest};
pub use plane::{Call, ControlNotice, ControlPlane};
