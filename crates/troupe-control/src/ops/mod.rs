//! One file per group of operations, each an `impl ControlPlane` block.

mod participants;
mod public_keys;
mod sessions;
mod stages;
mod tags;
mod tokens;

pub use tokens::{MintedToken, TokenRequest};
