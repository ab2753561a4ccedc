//! AMF0 command messages: reading the client's commands, writing this side's answers.

use crate::amf0::{self, Amf0Value, object, string};
use crate::error::RtmpError;

/// A command as sent: `name(transaction_id, command_object, args…)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Command {
    pub name: String,
    pub transaction_id: f64,
    /// The command object (`null` for most commands but connect).
    pub object: Amf0Value,
    pub args: Vec<Amf0Value>,
}

impl Command {
    /// Parses a command message body.
    pub fn parse(payload: &[u8]) -> Result<Command, RtmpError> {
        let values = amf0::decode_all(payload)
            .map_err(|source| RtmpError::Amf { context: "a command message", source })?;
        let mut values = values.into_iter();
        let Some(Amf0Value::String(name)) = values.next() else {
            return Err(RtmpError::CommandWithoutName);
        };
        let transaction_id = values.next().and_then(|v| v.as_number()).unwrap_or(0.0);
        let object = values.next().unwrap_or(Amf0Value::Null);
        Ok(Command { name, transaction_id, object, args: values.collect() })
    }

    /// The first argument as a string (publish's and FCPublish's stream name).
    pub fn first_string_arg(&self) -> Option<&str> {
        self.args.first().and_then(Amf0Value::as_str)
    }
}

/// `_result` for connect.
pub fn connect_result(transaction_id: f64) -> Vec<u8> {
    amf0::encode_all(&[
        string("_result"),
        Amf0Value::Number(transaction_id),
        object(&[("fmsVer", string("FMS/3,0,1,123")), ("capabilities", Amf0Value::Number(31.0))]),
        object(&[
            ("level", string("status")),
            ("code", string("NetConnection.Connect.Success")),
            ("description", string("Connection succeeded.")),
            ("objectEncoding", Amf0Value::Number(0.0)),
        ]),
    ])
}

/// `_result(transaction_id, null, value)`: the answer to createStream and releaseStream.
pub fn result(transaction_id: f64, value: Amf0Value) -> Vec<u8> {
    amf0::encode_all(&[
        string("_result"),
        Amf0Value::Number(transaction_id),
        Amf0Value::Null,
        value,
    ])
}

/// `onFCPublish`, which some encoders wait for after FCPublish.
pub fn on_fc_publish(stream_key: &str) -> Vec<u8> {
    amf0::encode_all(&[
        string("onFCPublish"),
        Amf0Value::Number(0.0),
        Amf0Value::Null,
        object(&[("code", string("NetStream.Publish.Start")), ("description", string(stream_key))]),
    ])
}

/// `onStatus(0, null, {level, code, description})`.
pub fn on_status(level: &str, code: &str, description: &str) -> Vec<u8> {
    amf0::encode_all(&[
        string("onStatus"),
        Amf0Value::Number(0.0),
        Amf0Value::Null,
        object(&[
            ("level", string(level)),
            ("code", string(code)),
            ("description", string(description)),
        ]),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_publish() {
        let body = amf0::encode_all(&[
            string("publish"),
            Amf0Value::Number(5.0),
            Amf0Value::Null,
            string("sk_live_abc"),
            string("live"),
        ]);
        let c = Command::parse(&body).unwrap();
        assert_eq!((c.name.as_str(), c.transaction_id), ("publish", 5.0));
        assert_eq!(c.object, Amf0Value::Null);
        assert_eq!(c.first_string_arg(), Some("sk_live_abc"));
    }

    #[test]
    fn a_bare_name_is_a_command() {
        let c = Command::parse(&amf0::encode_all(&[string("closeStream")])).unwrap();
        assert_eq!((c.transaction_id, c.object, c.args.len()), (0.0, Amf0Value::Null, 0));
    }

    #[test]
    fn bad_commands_are_refused() {
        assert_eq!(Command::parse(&[]), Err(RtmpError::CommandWithoutName));
        assert_eq!(
            Command::parse(&amf0::encode_all(&[Amf0Value::Number(1.0)])),
            Err(RtmpError::CommandWithoutName)
        );
        let e = Command::parse(&[0x02, 0, 9, b'c']).unwrap_err();
        assert!(
            e.to_string().contains("bad AMF0 in a command message: AMF0 data ends inside a string"),
            "{e}"
        );
    }

    #[test]
    fn answers_decode_as_sent() {
        let values = amf0::decode_all(&connect_result(1.0)).unwrap();
        assert_eq!(values[0].as_str(), Some("_result"));
        assert_eq!(
            values[3].get("code").and_then(Amf0Value::as_str),
            Some("NetConnection.Connect.Success")
        );
        let values =
            amf0::decode_all(&on_status("error", "NetStream.Publish.BadName", "no")).unwrap();
        assert_eq!(values[3].get("level").and_then(Amf0Value::as_str), Some("error"));
    }
}
