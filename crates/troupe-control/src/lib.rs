//! The IVS control plane: the Real-Time operations (stages, tokens, storage configurations)
//! and the low-latency `ivs` ones (channels, stream keys, streams, recording configurations)
//! in `ops/`, over the store; their validation and error types, SigV4 authentication, the
//! HTTP routes that expose them, and the hooks the media side implements (`live_streams`)
//! and calls (`ingest`).
//!
//! Owns: everything a backend calls with an AWS SDK, and the verification of participant
//! tokens for the media and events planes. Must not touch: media, sockets other than HTTP,
//! or the storage engines (only the `troupe_store::Store` trait).

pub mod arn;
mod broadcast_shapes;
pub mod config;
pub mod error;
pub mod http;
mod ingest;
pub mod live_streams;
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
pub use ingest::IngestUrls;
pub use live_streams::{
    AudioIngest, BucketCheck, IngestConfiguration, IngestRefusal, LiveStreamInfo, LiveStreams,
    StreamHealth, VideoIngest,
};
pub use ops::{ChannelMembersInput, MintedToken, TokenRequest};
pub use plane::{Call, ControlNotice, ControlPlane};
