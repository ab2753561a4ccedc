//! One file per group of operations, each an `impl ControlPlane` block.

mod channel_settings;
mod channels;
mod participants;
mod public_keys;
mod recording_configurations;
mod sessions;
mod stage_recording;
mod stages;
mod storage_configurations;
mod stream_keys;
mod streams;
mod tags;
mod tokens;

pub use channels::ChannelMembersInput;
pub(crate) use stage_recording::default_json as stage_recording_defaults;
pub use tokens::{MintedToken, TokenRequest};
