//! Message type ids, and the protocol control and user control messages (the small binary
//! ones on chunk stream 2).

use crate::error::RtmpError;

pub const SET_CHUNK_SIZE: u8 = 1;
pub const ABORT: u8 = 2;
pub const ACKNOWLEDGEMENT: u8 = 3;
pub const USER_CONTROL: u8 = 4;
pub const WINDOW_ACK_SIZE: u8 = 5;
pub const SET_PEER_BANDWIDTH: u8 = 6;
pub const AUDIO: u8 = 8;
pub const VIDEO: u8 = 9;
pub const DATA_AMF3: u8 = 15;
pub const SHARED_OBJECT_AMF3: u8 = 16;
pub const COMMAND_AMF3: u8 = 17;
pub const DATA_AMF0: u8 = 18;
pub const SHARED_OBJECT_AMF0: u8 = 19;
pub const COMMAND_AMF0: u8 = 20;
pub const AGGREGATE: u8 = 22;

/// User control event types this side sends or answers.
pub const STREAM_BEGIN: u16 = 0;
pub const PING_REQUEST: u16 = 6;
pub const PING_RESPONSE: u16 = 7;

/// Set Peer Bandwidth's "dynamic" limit type.
pub const LIMIT_DYNAMIC: u8 = 2;

/// The 32-bit number at the start of a control message.
pub fn read_u32(payload: &[u8], what: &'static str) -> Result<u32, RtmpError> {
    match payload.get(..4) {
        Some(b) => Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]])),
        None => Err(RtmpError::ShortControlMessage { what, length: payload.len(), needed: 4 }),
    }
}

/// A user control message's event type and data.
pub fn read_user_control(payload: &[u8]) -> Result<(u16, &[u8]), RtmpError> {
    match payload {
        [a, b, rest @ ..] => Ok((u16::from_be_bytes([*a, *b]), rest)),
        _ => Err(RtmpError::ShortControlMessage {
            what: "User Control",
            length: payload.len(),
            needed: 2,
        }),
    }
}

/// A user control message body.
pub fn user_control(event: u16, data: u32) -> Vec<u8> {
    let mut body = event.to_be_bytes().to_vec();
    body.extend_from_slice(&data.to_be_bytes());
    body
}
