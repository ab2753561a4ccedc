//! The JSON messages of the stage events WebSocket, and how a socket is closed.
//!
//! Owns: the wire shape of every message in both directions ([`ServerMessage`],
//! [`ClientMessage`]), parsing of untrusted client text ([`parse_client_message`], bounded and
//! panic-free), the protocol errors ([`ProtocolError`]) and every close code the events socket
//! uses, both for protocol errors and for the server's own reasons ([`DisconnectReason`]).
//! Must not touch: sockets, timers, presence — the socket task calls into this module and does
//! the I/O itself.
//!
//! # Messages
//!
//! Every message is one UTF-8 text frame holding a JSON object `{"type": "...", "payload": {...}}`
//! (the hosted service's shape). Payload members are camelCase. Receivers ignore members they do
//! not know, at the top level and inside the payload.
//!
//! | direction       | `type`            | `payload`                                                                          |
//! |-----------------|-------------------|------------------------------------------------------------------------------------|
//! | server → client | `STAGE_STATE`     | `{stageId, sessionId, participants: [{id, userId?, attributes, isPublishing, streams, audioMuted, videoStopped, capabilities}]}` |
//! | server → client | `PONG`            | none (no `payload` member)                                                         |
//! | server → client | `DISCONNECTED`    | `{reason, message?}`, sent just before the server closes the socket                |
//! | server → client | `TOKEN_EXCHANGED` | `{capabilities}`: the answer to `EXCHANGE_TOKEN`, once the new token is in effect  |
//! | client → server | `PING`            | none (anything sent is ignored)                                                    |
//! | client → server | `MUTE`            | `{audioMuted?, videoStopped?}`: booleans; absent or `null` means "unchanged"       |
//! | client → server | `EXCHANGE_TOKEN`  | `{token}`: a non-empty string                                                      |
//!
//! `TOKEN_EXCHANGED` tells the client that its `EXCHANGE_TOKEN` was applied (so the SDK's
//! `exchangeToken()` can resolve; a refused token closes the socket instead, see below), also
//! when the token sent is the one already in use. `capabilities` are those of the token now in
//! effect, listed as in `STAGE_STATE`: media sessions that the new token no longer allows
//! (publishing without `PUBLISH`, subscriptions without `SUBSCRIBE`) have been ended by then,
//! and the next `STAGE_STATE` shows the participant no longer publishing.
//!
//! In `STAGE_STATE`, `sessionId` is always present and is `null` while the stage has no session;
//! a participant's `userId` is omitted when its token carried none; `attributes` is a string →
//! string object (`{}` when empty); `capabilities` is a list of `"PUBLISH"` / `"SUBSCRIBE"`.
//!
//! # Unknown message types are ignored
//!
//! [`parse_client_message`] returns `Ok(None)` for a well-formed message whose `type` it does
//! not know (matching is exact and case-sensitive). Newer client SDKs may send messages this
//! server predates; closing their socket for it would turn every protocol addition into an
//! outage, whereas ignoring it degrades to "that feature does nothing here". The same rule is
//! why unknown members are ignored. Only what cannot be a message at all (too large, binary, not
//! JSON, no `type`) or a *known* message with a payload we cannot act on is an error.
//!
//! # Close codes
//!
//! On a [`ProtocolError`] the server closes the socket with [`ProtocolError::close_code`] and
//! the reason [`ProtocolError::code_name`] (no `DISCONNECTED` message is sent first):
//!
//! | code | reason (`code_name`) | cause                                                            |
//! |------|----------------------|------------------------------------------------------------------|
//! | 4400 | `MALFORMED_MESSAGE`  | the text is not JSON ([`ProtocolError::NotJson`])                |
//! | 4413 | `MESSAGE_TOO_LARGE`  | over the size limit, checked before parsing ([`ProtocolError::TooLarge`]) |
//! | 4415 | `UNSUPPORTED_DATA`   | a binary frame, or bytes that are not UTF-8 ([`ProtocolError::UnsupportedData`]) |
//! | 4420 | `MISSING_TYPE`       | JSON, but not an object with a string `type` ([`ProtocolError::MissingType`]) |
//! | 4422 | `INVALID_PAYLOAD`    | a known `type` whose payload is unusable ([`ProtocolError::InvalidPayload`]) |
//!
//! When the server closes for its own reasons it first sends `DISCONNECTED {reason}`, then
//! closes with [`DisconnectReason::close_code`] and the reason [`DisconnectReason::as_str`]:
//!
//! | code | reason                     | cause                                                     |
//! |------|----------------------------|-----------------------------------------------------------|
//! | 4001 | `PARTICIPANT_DISCONNECTED` | DisconnectParticipant was called for this participant     |
//! | 4002 | `STAGE_DELETED`            | DeleteStage was called for the stage                      |
//! | 4003 | `TOKEN_EXPIRED`            | the participant token expired and was not exchanged       |
//! | 4004 | `REPLACED`                 | the same participant opened a newer events connection     |
//! | 4005 | `SERVER_SHUTDOWN`          | the server is stopping (SIGINT/SIGTERM); reconnect later  |
//!
//! Two more closes come from the socket itself: an `EXCHANGE_TOKEN` whose token is refused
//! closes with 4401 and the refusal's code (`TOKEN_MALFORMED`, `TOKEN_EXPIRED`, ...) or, when
//! it names another participant or stage, 4403 `TOKEN_NOT_ALLOWED`; a stage whose hub is gone
//! (deleted while connecting) closes with 4500 `STAGE_UNAVAILABLE`.
//!
//! Every close reason is ASCII and well under the WebSocket limit of
//! [`MAX_CLOSE_REASON_BYTES`] (123) bytes.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value};

/// The default limit on one client message, in bytes of UTF-8 text.
pub const MAX_MESSAGE_BYTES: usize = 16 * 1024;

/// The most bytes a WebSocket close reason may have (125-byte control frame payload minus the
/// 2-byte code).
pub const MAX_CLOSE_REASON_BYTES: usize = 123;

// ---------------------------------------------------------------------------------------------
// Server → client
// ---------------------------------------------------------------------------------------------

/// A message the server sends. Serialize with [`ServerMessage::to_json`].
///
/// `Deserialize` is provided for test clients; it follows the same shapes (and ignores unknown
/// members), but fails on a `type` it does not know.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", content = "payload", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ServerMessage {
    /// `STAGE_STATE`: who is on the stage, sent on connect and whenever it changes.
    StageState(StageState),
    /// `PONG`: the answer to a `PING`. Has no payload.
    Pong,
    /// `DISCONNECTED`: sent just before the server closes the socket for its own reasons.
    Disconnected(Disconnected),
    /// `TOKEN_EXCHANGED`: the client's `EXCHANGE_TOKEN` is in effect.
    TokenExchanged(TokenExchanged),
}

/// The payload of `TOKEN_EXCHANGED`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct TokenExchanged {
    /// What the token now in effect allows.
    pub capabilities: Vec<Capability>,
}

/// The payload of `STAGE_STATE`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StageState {
    /// The stage's id (the last part of its ARN), as the hosted service sends it.
    pub stage_id: String,
    /// The current stage session's id; serialized as `null` when there is no session.
    #[serde(default)]
    pub session_id: Option<String>,
    /// Everyone on the stage, in the order given.
    pub participants: Vec<ParticipantView>,
}

/// One participant as every other participant sees it (an entry of `STAGE_STATE`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ParticipantView {
    /// The participant id (the token's `jti`).
    pub id: String,
    /// The token's `user_id`; omitted from the JSON when `None`.
    #[serde(default)]
    pub user_id: Option<String>,
    /// The token's attributes.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    /// Whether it currently publishes media.
    pub is_publishing: bool,
    /// The kinds its publish sends: `"audio"`, `"video"` (empty while not publishing). An
    /// addition to the hosted service's shape: subscribers learn which streams to expect
    /// without waiting for media that may never come (an audio-only guest).
    #[serde(default)]
    pub streams: Vec<String>,
    /// Whether it has muted its audio.
    pub audio_muted: bool,
    /// Whether it has stopped its video.
    pub video_stopped: bool,
    /// What its token allows.
    #[serde(default)]
    pub capabilities: Vec<Capability>,
}

/// A token capability, as shown in `STAGE_STATE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Capability {
    /// `"PUBLISH"`.
    Publish,
    /// `"SUBSCRIBE"`.
    Subscribe,
}

impl Capability {
    /// The wire string: `"PUBLISH"` or `"SUBSCRIBE"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Publish => "PUBLISH",
            Self::Subscribe => "SUBSCRIBE",
        }
    }

    /// The capability list for a token's two flags, in the fixed order `PUBLISH`, `SUBSCRIBE`.
    pub fn from_flags(can_publish: bool, can_subscribe: bool) -> Vec<Self> {
        let mut list = Vec::with_capacity(2);
        if can_publish {
            list.push(Self::Publish);
        }
        if can_subscribe {
            list.push(Self::Subscribe);
        }
        list
    }
}

/// The payload of `DISCONNECTED`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Disconnected {
    /// Why the server is closing the socket.
    pub reason: DisconnectReason,
    /// Optional human-readable detail; omitted from the JSON when `None`.
    #[serde(default)]
    pub message: Option<String>,
}

/// Why the server closes an events socket on its own initiative. The wire strings and close
/// codes are stable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DisconnectReason {
    /// `"PARTICIPANT_DISCONNECTED"`, close code 4001: DisconnectParticipant was called.
    ParticipantDisconnected,
    /// `"STAGE_DELETED"`, close code 4002: DeleteStage was called.
    StageDeleted,
    /// `"TOKEN_EXPIRED"`, close code 4003: the token expired and was not exchanged.
    TokenExpired,
    /// `"REPLACED"`, close code 4004: the participant opened a newer events connection.
    Replaced,
    /// `"SERVER_SHUTDOWN"`, close code 4005: the server is stopping; reconnecting later works.
    ServerShutdown,
}

impl DisconnectReason {
    /// Every reason, for tables and tests.
    pub const ALL: [Self; 5] = [
        Self::ParticipantDisconnected,
        Self::StageDeleted,
        Self::TokenExpired,
        Self::Replaced,
        Self::ServerShutdown,
    ];

    /// The stable wire string, also used as the WebSocket close reason.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ParticipantDisconnected => "PARTICIPANT_DISCONNECTED",
            Self::StageDeleted => "STAGE_DELETED",
            Self::TokenExpired => "TOKEN_EXPIRED",
            Self::Replaced => "REPLACED",
            Self::ServerShutdown => "SERVER_SHUTDOWN",
        }
    }

    /// The WebSocket close code the server uses after sending `DISCONNECTED` (4001–4005).
    pub const fn close_code(self) -> u16 {
        match self {
            Self::ParticipantDisconnected => 4001,
            Self::StageDeleted => 4002,
            Self::TokenExpired => 4003,
            Self::Replaced => 4004,
            Self::ServerShutdown => 4005,
        }
    }
}

impl std::fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl ServerMessage {
    /// A `DISCONNECTED` message without free text.
    pub fn disconnected(reason: DisconnectReason) -> Self {
        Self::Disconnected(Disconnected { reason, message: None })
    }

    /// A `TOKEN_EXCHANGED` message.
    pub fn token_exchanged(capabilities: Vec<Capability>) -> Self {
        Self::TokenExchanged(TokenExchanged { capabilities })
    }

    /// The wire `type`.
    pub const fn type_name(&self) -> &'static str {
        match self {
            Self::StageState(_) => "STAGE_STATE",
            Self::Pong => "PONG",
            Self::Disconnected(_) => "DISCONNECTED",
            Self::TokenExchanged(_) => "TOKEN_EXCHANGED",
        }
    }

    /// The message as a JSON value, in exactly the documented shape.
    pub fn to_value(&self) -> Value {
        let payload = match self {
            Self::StageState(state) => Some(state.to_value()),
            Self::Pong => None,
            Self::Disconnected(d) => {
                let mut obj = Map::new();
                obj.insert("reason".into(), Value::from(d.reason.as_str()));
                if let Some(message) = &d.message {
                    obj.insert("message".into(), Value::from(message.as_str()));
                }
                Some(Value::Object(obj))
            }
            Self::TokenExchanged(t) => {
                let mut obj = Map::new();
                obj.insert("capabilities".into(), capabilities_value(&t.capabilities));
                Some(Value::Object(obj))
            }
        };
        envelope(self.type_name(), payload)
    }

    /// The message as JSON text, ready for a text frame. Infallible.
    pub fn to_json(&self) -> String {
        self.to_value().to_string()
    }

    /// Parses a server message (for test clients). Unknown members are ignored; an unknown
    /// `type` is an error.
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }
}

impl StageState {
    fn to_value(&self) -> Value {
        let mut obj = Map::new();
        obj.insert("stageId".into(), Value::from(self.stage_id.as_str()));
        obj.insert("sessionId".into(), self.session_id.as_deref().map_or(Value::Null, Value::from));
        obj.insert(
            "participants".into(),
            Value::Array(self.participants.iter().map(ParticipantView::to_value).collect()),
        );
        Value::Object(obj)
    }
}

impl ParticipantView {
    /// The participant entry as a JSON value.
    pub fn to_value(&self) -> Value {
        let mut obj = Map::new();
        obj.insert("id".into(), Value::from(self.id.as_str()));
        if let Some(user_id) = &self.user_id {
            obj.insert("userId".into(), Value::from(user_id.as_str()));
        }
        let attributes: Map<String, Value> =
            self.attributes.iter().map(|(k, v)| (k.clone(), Value::from(v.as_str()))).collect();
        obj.insert("attributes".into(), Value::Object(attributes));
        obj.insert("isPublishing".into(), Value::Bool(self.is_publishing));
        let streams = self.streams.iter().map(|s| Value::from(s.as_str())).collect();
        obj.insert("streams".into(), Value::Array(streams));
        obj.insert("audioMuted".into(), Value::Bool(self.audio_muted));
        obj.insert("videoStopped".into(), Value::Bool(self.video_stopped));
        obj.insert("capabilities".into(), capabilities_value(&self.capabilities));
        Value::Object(obj)
    }
}

fn capabilities_value(capabilities: &[Capability]) -> Value {
    Value::Array(capabilities.iter().map(|c| Value::from(c.as_str())).collect())
}

fn envelope(type_name: &str, payload: Option<Value>) -> Value {
    let mut obj = Map::new();
    obj.insert("type".into(), Value::from(type_name));
    if let Some(payload) = payload {
        obj.insert("payload".into(), payload);
    }
    Value::Object(obj)
}

// ---------------------------------------------------------------------------------------------
// Client → server
// ---------------------------------------------------------------------------------------------

/// A message a client sends, as parsed by [`parse_client_message`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientMessage {
    /// `PING`: answer with `PONG`.
    Ping,
    /// `MUTE`: the participant's new mute state; `None` leaves that flag unchanged.
    Mute {
        /// `audioMuted`.
        audio_muted: Option<bool>,
        /// `videoStopped`.
        video_stopped: Option<bool>,
    },
    /// `EXCHANGE_TOKEN`: a fresh token for the same participant, to be verified by the caller.
    ExchangeToken {
        /// `token`: the compact JWS, never empty.
        token: String,
    },
}

impl ClientMessage {
    /// The wire `type`.
    pub const fn type_name(&self) -> &'static str {
        match self {
            Self::Ping => "PING",
            Self::Mute { .. } => "MUTE",
            Self::ExchangeToken { .. } => "EXCHANGE_TOKEN",
        }
    }

    /// The message as a JSON value (what a client sends; for test clients and round trips).
    /// `None` mute flags are omitted.
    pub fn to_value(&self) -> Value {
        let payload = match self {
            Self::Ping => None,
            Self::Mute { audio_muted, video_stopped } => {
                let mut obj = Map::new();
                if let Some(a) = audio_muted {
                    obj.insert("audioMuted".into(), Value::Bool(*a));
                }
                if let Some(v) = video_stopped {
                    obj.insert("videoStopped".into(), Value::Bool(*v));
                }
                Some(Value::Object(obj))
            }
            Self::ExchangeToken { token } => {
                let mut obj = Map::new();
                obj.insert("token".into(), Value::from(token.as_str()));
                Some(Value::Object(obj))
            }
        };
        envelope(self.type_name(), payload)
    }

    /// The message as JSON text. Infallible.
    pub fn to_json(&self) -> String {
        self.to_value().to_string()
    }
}

/// Parses one client text frame.
///
/// * `Ok(Some(message))`: a known message.
/// * `Ok(None)`: a well-formed message of a `type` this server does not know — ignore it (see
///   the module docs).
/// * `Err(e)`: close the socket with `e.close_code()` and reason `e.code_name()`.
///
/// The length is checked against `max_bytes` (normally [`MAX_MESSAGE_BYTES`]) before anything
/// else. Never panics; nesting depth is bounded by `serde_json`'s recursion limit.
///
/// Leniency: unknown members anywhere are ignored; a `PING`'s payload is ignored whatever it
/// is; a `MUTE` flag that is absent or `null` is "unchanged". Strictness: `MUTE` and
/// `EXCHANGE_TOKEN` need an object payload, `MUTE` flags must be booleans, and `token` must be a
/// non-empty string.
pub fn parse_client_message(
    text: &str,
    max_bytes: usize,
) -> Result<Option<ClientMessage>, ProtocolError> {
    if text.len() > max_bytes {
        return Err(ProtocolError::TooLarge { len: text.len(), max: max_bytes });
    }
    let value: Value =
        serde_json::from_str(text).map_err(|e| ProtocolError::NotJson { detail: e.to_string() })?;
    let mut obj = match value {
        Value::Object(obj) => obj,
        other => return Err(ProtocolError::MissingType { found: json_kind(&other) }),
    };
    let type_name = match obj.get("type") {
        Some(Value::String(s)) => s.as_str(),
        Some(_) => {
            return Err(ProtocolError::MissingType {
                found: "an object whose \"type\" is not a string",
            });
        }
        None => return Err(ProtocolError::MissingType { found: "an object without \"type\"" }),
    };
    match type_name {
        "PING" => Ok(Some(ClientMessage::Ping)),
        "MUTE" => {
            let payload = payload_object(&mut obj, "MUTE")?;
            let audio_muted = optional_bool(&payload, "MUTE", "audioMuted")?;
            let video_stopped = optional_bool(&payload, "MUTE", "videoStopped")?;
            Ok(Some(ClientMessage::Mute { audio_muted, video_stopped }))
        }
        "EXCHANGE_TOKEN" => {
            let mut payload = payload_object(&mut obj, "EXCHANGE_TOKEN")?;
            match payload.remove("token") {
                Some(Value::String(token)) if !token.is_empty() => {
                    Ok(Some(ClientMessage::ExchangeToken { token }))
                }
                _ => Err(ProtocolError::InvalidPayload {
                    message_type: "EXCHANGE_TOKEN",
                    member: "token",
                    expected: "a non-empty string",
                }),
            }
        }
        _ => Ok(None),
    }
}

fn payload_object(
    obj: &mut Map<String, Value>,
    message_type: &'static str,
) -> Result<Map<String, Value>, ProtocolError> {
    match obj.remove("payload") {
        Some(Value::Object(payload)) => Ok(payload),
        _ => Err(ProtocolError::InvalidPayload {
            message_type,
            member: "payload",
            expected: "an object",
        }),
    }
}

fn optional_bool(
    payload: &Map<String, Value>,
    message_type: &'static str,
    member: &'static str,
) -> Result<Option<bool>, ProtocolError> {
    match payload.get(member) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(ProtocolError::InvalidPayload {
            message_type,
            member,
            expected: "a boolean or null",
        }),
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// Why a client frame cannot be accepted. Each closes the socket with [`Self::close_code`] and
/// the reason [`Self::code_name`]; the `Display` text is for logs (it never echoes the
/// client's text beyond `serde_json`'s position information).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    /// Longer than the limit; nothing else was looked at. 4413 `MESSAGE_TOO_LARGE`.
    #[error("message is {len} bytes, over the {max}-byte limit")]
    TooLarge {
        /// Length received, in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A binary frame, or bytes that are not UTF-8. Never produced by [`parse_client_message`]
    /// (which takes `&str`); the socket task returns it for binary frames. 4415
    /// `UNSUPPORTED_DATA`.
    #[error("only UTF-8 text frames are accepted")]
    UnsupportedData,
    /// The text is not JSON. 4400 `MALFORMED_MESSAGE`.
    #[error("message is not JSON: {detail}")]
    NotJson {
        /// `serde_json`'s description (position information, no input text).
        detail: String,
    },
    /// JSON, but not an object with a string `type`. 4420 `MISSING_TYPE`.
    #[error("message is not an object with a string \"type\": found {found}")]
    MissingType {
        /// What was found instead.
        found: &'static str,
    },
    /// A known `type` whose payload cannot be used. 4422 `INVALID_PAYLOAD`.
    #[error("{message_type} message has an invalid \"{member}\": expected {expected}")]
    InvalidPayload {
        /// The message `type`.
        message_type: &'static str,
        /// The offending member (`"payload"` when the payload itself is missing or not an
        /// object).
        member: &'static str,
        /// What was expected.
        expected: &'static str,
    },
}

impl ProtocolError {
    /// The WebSocket close code (4000–4999, distinct per variant; see the module docs).
    pub const fn close_code(&self) -> u16 {
        match self {
            Self::NotJson { .. } => 4400,
            Self::TooLarge { .. } => 4413,
            Self::UnsupportedData => 4415,
            Self::MissingType { .. } => 4420,
            Self::InvalidPayload { .. } => 4422,
        }
    }

    /// The stable error code name, used as the WebSocket close reason (ASCII, at most
    /// [`MAX_CLOSE_REASON_BYTES`]).
    pub const fn code_name(&self) -> &'static str {
        match self {
            Self::NotJson { .. } => "MALFORMED_MESSAGE",
            Self::TooLarge { .. } => "MESSAGE_TOO_LARGE",
            Self::UnsupportedData => "UNSUPPORTED_DATA",
            Self::MissingType { .. } => "MISSING_TYPE",
            Self::InvalidPayload { .. } => "INVALID_PAYLOAD",
        }
    }
}
