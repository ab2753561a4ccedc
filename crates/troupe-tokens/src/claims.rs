//! The claim set carried by a participant token.
//!
//! Field names are exactly the JSON claim names IVS uses; do not rename them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The value of the `version` claim in every token this crate produces.
pub const TOKEN_VERSION: &str = "1.0";

/// The claims of an IVS participant token.
///
/// Unknown claims in a received token are ignored. `nbf` is not part of the
/// IVS claim set but is honoured by [`crate::check_times`] when present,
/// as RFC 7519 asks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Expiry, unix seconds.
    pub exp: i64,
    /// Issued-at, unix seconds.
    pub iat: i64,
    /// Optional not-before, unix seconds. Omitted from the JSON when `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    /// The participant id (at most 64 characters of `[a-zA-Z0-9-]`).
    pub jti: String,
    /// The application's user id (at most 128 characters). Omitted when `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// The stage ARN, `arn:aws:ivs:<region>:<account>:stage/<id>`.
    pub resource: String,
    /// The stage id: the last segment of [`Claims::resource`].
    pub topic: String,
    /// Where the client SDK opens its event WebSocket.
    pub events_url: String,
    /// Where the client SDK sends its WHIP offers.
    pub whip_url: String,
    /// What the participant may do.
    pub capabilities: TokenCapabilities,
    /// Free-form application attributes, exposed to other participants.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    /// Token format version, [`TOKEN_VERSION`].
    pub version: String,
}

/// The `capabilities` claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TokenCapabilities {
    /// The participant may publish media.
    pub allow_publish: bool,
    /// The participant may subscribe to others' media.
    pub allow_subscribe: bool,
}

impl Claims {
    /// The names of the claims a token must carry; [`crate::decode()`]
    /// reports the first one missing. (`attributes` defaults to empty and
    /// `user_id` and `nbf` are optional.)
    pub const REQUIRED: [&'static str; 9] = [
        "exp",
        "iat",
        "jti",
        "resource",
        "topic",
        "events_url",
        "whip_url",
        "capabilities",
        "version",
    ];
}
