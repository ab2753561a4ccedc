//! IVS Real-Time participant tokens.
//!
//! A participant token is an ES384 (ECDSA P-384 + SHA-384) JSON Web Token
//! whose header is `{"alg":"ES384","typ":"JWT","kid":"<key id>"}` and whose
//! claims are those listed in [`Claims`]. This crate owns everything about
//! those tokens that does not need a database or the network:
//!
//! | module              | owns                                                        |
//! |---------------------|-------------------------------------------------------------|
//! | [`claims`]          | the claim set ([`Claims`], [`TokenCapabilities`])           |
//! | `encoding`          | unpadded base64url, shared by signing and decoding          |
//! | [`mod@sign`]        | producing a signed compact JWS ([`sign()`])                 |
//! | [`mod@decode`]      | structural parsing, signature check ([`decode()`], [`UnverifiedToken`]) |
//! | [`times`]           | `exp` / `iat` / `nbf` / lifetime checks ([`check_times`])   |
//! | [`public_key`]      | imported public keys: PEM parsing, fingerprints             |
//! | [`node_key`]        | the node's own signing key and its key file ([`NodeKey`])   |
//! | [`error`]           | [`TokenError`], [`KeyError`], [`KeyFileError`]              |
//!
//! Verifying a token received from a client is a three-step affair, left to
//! the caller because only it knows which keys exist:
//!
//! 1. [`decode()`] the token (bounded, never panics);
//! 2. look up the verifying key by [`UnverifiedToken::kid`] and call
//!    [`UnverifiedToken::verify_signature`];
//! 3. [`check_times`] against the current time.

pub mod claims;
pub mod decode;
mod encoding;
pub mod error;
pub mod node_key;
pub mod public_key;
pub mod sign;
pub mod times;

pub use claims::{Claims, TOKEN_VERSION, TokenCapabilities};
pub use decode::{Header, MAX_TOKEN_LEN, UnverifiedToken, decode};
pub use error::{KeyError, KeyFileError, TokenError};
pub use node_key::{KEY_FILE_NAME, NodeKey};
pub use public_key::{encode_public_key_pem, fingerprint, parse_public_key_pem};
pub use sign::{ALGORITHM, sign};
pub use times::check_times;

/// Re-exported so callers can name key types without depending on `p384`.
pub use p384::ecdsa::{SigningKey, VerifyingKey};
