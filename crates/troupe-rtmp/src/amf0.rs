//! AMF0, the encoding of RTMP command and data messages: decoding what clients send, encoding
//! the answers. AMF3 (what Flash Player uses with objectEncoding 3) is refused, since no
//! encoder that publishes H.264 needs it.

use crate::error::AmfError;

/// How deep objects and arrays may nest; real messages nest two or three levels, and the limit
/// keeps a hostile message from exhausting the stack.
pub const MAX_DEPTH: usize = 32;

const NUMBER: u8 = 0x00;
const BOOLEAN: u8 = 0x01;
const STRING: u8 = 0x02;
const OBJECT: u8 = 0x03;
const NULL: u8 = 0x05;
const UNDEFINED: u8 = 0x06;
const ECMA_ARRAY: u8 = 0x08;
const OBJECT_END: u8 = 0x09;
const STRICT_ARRAY: u8 = 0x0a;
const DATE: u8 = 0x0b;
const LONG_STRING: u8 = 0x0c;
const AVMPLUS: u8 = 0x11;

/// One AMF0 value. Strings longer than 65535 bytes are long strings on the wire; both
/// decode to [`Amf0Value::String`].
#[derive(Debug, Clone, PartialEq)]
pub enum Amf0Value {
    Number(f64),
    Boolean(bool),
    String(String),
    Object(Vec<(String, Amf0Value)>),
    Null,
    Undefined,
    EcmaArray(Vec<(String, Amf0Value)>),
    StrictArray(Vec<Amf0Value>),
    /// Milliseconds since the Unix epoch, and the (unused, reserved) time zone field.
    Date {
        millis: f64,
        time_zone: i16,
    },
}

impl Amf0Value {
    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Amf0Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The number, if this is one.
    pub fn as_number(&self) -> Option<f64> {
        match self {
            Amf0Value::Number(n) => Some(*n),
            _ => None,
        }
    }

    /// The properties of an object or ECMA array (encoders send metadata as either).
    pub fn properties(&self) -> Option<&[(String, Amf0Value)]> {
        match self {
            Amf0Value::Object(p) | Amf0Value::EcmaArray(p) => Some(p),
            _ => None,
        }
    }

    /// The value of property `name` of an object or ECMA array.
    pub fn get(&self, name: &str) -> Option<&Amf0Value> {
        self.properties()?.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }
}

/// Decodes every value in `data` (a command or data message body).
pub fn decode_all(data: &[u8]) -> Result<Vec<Amf0Value>, AmfError> {
    let mut reader = Reader { data, pos: 0 };
    let mut values = Vec::new();
    while reader.pos < data.len() {
        values.push(reader.value(0)?);
    }
    Ok(values)
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&[u8], AmfError> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.data.len());
        let end = end.ok_or(AmfError::Truncated(what))?;
        let bytes = &self.data[self.pos..end];
        self.pos = end;
        Ok(bytes)
    }

    fn u8(&mut self, what: &'static str) -> Result<u8, AmfError> {
        Ok(self.take(1, what)?[0])
    }

    fn u16(&mut self, what: &'static str) -> Result<u16, AmfError> {
        let b = self.take(2, what)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&mut self, what: &'static str) -> Result<u32, AmfError> {
        let b = self.take(4, what)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn f64(&mut self, what: &'static str) -> Result<f64, AmfError> {
        let b = self.take(8, what)?;
        Ok(f64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
    }

    // Lossy, not strict: a Latin-1 encoder name in metadata is no reason to drop a stream.
    fn string_of(&mut self, len: usize, what: &'static str) -> Result<String, AmfError> {
        Ok(String::from_utf8_lossy(self.take(len, what)?).into_owned())
    }

    fn short_string(&mut self, what: &'static str) -> Result<String, AmfError> {
        let len = self.u16(what)?;
        self.string_of(usize::from(len), what)
    }

    fn value(&mut self, depth: usize) -> Result<Amf0Value, AmfError> {
        if depth >= MAX_DEPTH {
            return Err(AmfError::TooDeep(MAX_DEPTH));
        }
        Ok(match self.u8("a type marker")? {
            NUMBER => Amf0Value::Number(self.f64("a number")?),
            BOOLEAN => Amf0Value::Boolean(self.u8("a boolean")? != 0),
            STRING => Amf0Value::String(self.short_string("a string")?),
            LONG_STRING => {
                let len = self.u32("a long string")?;
                Amf0Value::String(self.string_of(len as usize, "a long string")?)
            }
            OBJECT => Amf0Value::Object(self.properties_until_end(depth)?),
            NULL => Amf0Value::Null,
            UNDEFINED => Amf0Value::Undefined,
            ECMA_ARRAY => {
                // The count is only a hint (encoders get it wrong); the end marker decides.
                self.u32("an ECMA array count")?;
                Amf0Value::EcmaArray(self.properties_until_end(depth)?)
            }
            STRICT_ARRAY => {
                let count = self.u32("a strict array count")?;
                // No preallocation from the count: each element takes at least one byte, so
                // the loop ends at the data's end whatever the count says.
                let mut items = Vec::new();
                for _ in 0..count {
                    items.push(self.value(depth + 1)?);
                }
                Amf0Value::StrictArray(items)
            }
            DATE => {
                let millis = self.f64("a date")?;
                let time_zone = self.u16("a date")? as i16;
                Amf0Value::Date { millis, time_zone }
            }
            AVMPLUS => return Err(AmfError::Amf3),
            other => return Err(AmfError::UnsupportedMarker(other)),
        })
    }

    fn properties_until_end(&mut self, depth: usize) -> Result<Vec<(String, Amf0Value)>, AmfError> {
        let mut props = Vec::new();
        loop {
            let key = self.short_string("an object key")?;
            if key.is_empty() && self.data.get(self.pos) == Some(&OBJECT_END) {
                self.pos += 1;
                return Ok(props);
            }
            let value = self.value(depth + 1)?;
            props.push((key, value));
        }
    }
}

/// Appends the encoding of `value` to `out`.
pub fn encode(value: &Amf0Value, out: &mut Vec<u8>) {
    match value {
        Amf0Value::Number(n) => {
            out.push(NUMBER);
            out.extend_from_slice(&n.to_be_bytes());
        }
        Amf0Value::Boolean(b) => out.extend_from_slice(&[BOOLEAN, u8::from(*b)]),
        Amf0Value::String(s) => match u16::try_from(s.len()) {
            Ok(len) => {
                out.push(STRING);
                out.extend_from_slice(&len.to_be_bytes());
                out.extend_from_slice(s.as_bytes());
            }
            Err(_) => {
                out.push(LONG_STRING);
                out.extend_from_slice(&(s.len() as u32).to_be_bytes());
                out.extend_from_slice(s.as_bytes());
            }
        },
        Amf0Value::Object(props) => {
            out.push(OBJECT);
            encode_properties(props, out);
        }
        Amf0Value::Null => out.push(NULL),
        Amf0Value::Undefined => out.push(UNDEFINED),
        Amf0Value::EcmaArray(props) => {
            out.push(ECMA_ARRAY);
            out.extend_from_slice(&(props.len() as u32).to_be_bytes());
            encode_properties(props, out);
        }
        Amf0Value::StrictArray(items) => {
            out.push(STRICT_ARRAY);
            out.extend_from_slice(&(items.len() as u32).to_be_bytes());
            for item in items {
                encode(item, out);
            }
        }
        Amf0Value::Date { millis, time_zone } => {
            out.push(DATE);
            out.extend_from_slice(&millis.to_be_bytes());
            out.extend_from_slice(&time_zone.to_be_bytes());
        }
    }
}

fn encode_properties(props: &[(String, Amf0Value)], out: &mut Vec<u8>) {
    for (key, value) in props {
        // Keys are short strings on the wire; longer ones are cut (only this side's own
        // fixed keys are ever encoded).
        let key = &key.as_bytes()[..key.len().min(usize::from(u16::MAX))];
        out.extend_from_slice(&(key.len() as u16).to_be_bytes());
        out.extend_from_slice(key);
        encode(value, out);
    }
    out.extend_from_slice(&[0, 0, OBJECT_END]);
}

/// Encodes a sequence of values, as a command message body.
pub fn encode_all(values: &[Amf0Value]) -> Vec<u8> {
    let mut out = Vec::new();
    for v in values {
        encode(v, &mut out);
    }
    out
}

/// An object from `(key, value)` pairs, for building answers.
pub fn object(props: &[(&str, Amf0Value)]) -> Amf0Value {
    Amf0Value::Object(props.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect())
}

/// A string value.
pub fn string(s: &str) -> Amf0Value {
    Amf0Value::String(s.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(v: Amf0Value) {
        let bytes = encode_all(std::slice::from_ref(&v));
        assert_eq!(decode_all(&bytes).unwrap(), vec![v]);
    }

    #[test]
    fn every_supported_type_round_trips() {
        round_trip(Amf0Value::Number(1.5));
        round_trip(Amf0Value::Number(-0.0));
        round_trip(Amf0Value::Boolean(true));
        round_trip(Amf0Value::Boolean(false));
        round_trip(string(""));
        round_trip(string("héllo"));
        round_trip(Amf0Value::String("x".repeat(70_000)));
        round_trip(Amf0Value::Null);
        round_trip(Amf0Value::Undefined);
        round_trip(Amf0Value::Date { millis: 1.7e12, time_zone: -60 });
        round_trip(Amf0Value::StrictArray(vec![
            Amf0Value::Number(1.0),
            string("a"),
            Amf0Value::Null,
        ]));
        round_trip(Amf0Value::EcmaArray(vec![
            ("width".into(), Amf0Value::Number(1280.0)),
            ("nested".into(), object(&[("k", Amf0Value::StrictArray(vec![]))])),
        ]));
        round_trip(object(&[("app", string("live")), ("empty", object(&[]))]));
    }

    #[test]
    fn long_string_marker_used_past_65535_bytes() {
        let bytes = encode_all(&[Amf0Value::String("x".repeat(65_536))]);
        assert_eq!(bytes[0], LONG_STRING);
        let bytes = encode_all(&[Amf0Value::String("x".repeat(65_535))]);
        assert_eq!(bytes[0], STRING);
    }

    #[test]
    fn known_wire_bytes_decode() {
        // "connect", 1.0, {app: "a"} as ffmpeg writes them.
        let mut wire = vec![0x02, 0x00, 0x07];
        wire.extend_from_slice(b"connect");
        wire.push(0x00);
        wire.extend_from_slice(&1.0f64.to_be_bytes());
        wire.extend_from_slice(&[0x03, 0x00, 0x03]);
        wire.extend_from_slice(b"app");
        wire.extend_from_slice(&[0x02, 0x00, 0x01, b'a', 0x00, 0x00, 0x09]);
        let values = decode_all(&wire).unwrap();
        assert_eq!(values[0].as_str(), Some("connect"));
        assert_eq!(values[1].as_number(), Some(1.0));
        assert_eq!(values[2].get("app").and_then(Amf0Value::as_str), Some("a"));
    }

    #[test]
    fn ecma_array_count_is_only_a_hint() {
        let wire = [0x08, 0, 0, 0, 9, 0, 1, b'k', 0x05, 0, 0, 0x09];
        let v = decode_all(&wire).unwrap();
        assert_eq!(v, vec![Amf0Value::EcmaArray(vec![("k".into(), Amf0Value::Null)])]);
    }

    #[test]
    fn truncations_name_what_was_cut() {
        assert_eq!(decode_all(&[0x00, 1, 2]), Err(AmfError::Truncated("a number")));
        assert_eq!(decode_all(&[0x02, 0, 5, b'a']), Err(AmfError::Truncated("a string")));
        assert_eq!(decode_all(&[0x01]), Err(AmfError::Truncated("a boolean")));
        assert_eq!(decode_all(&[0x03, 0, 1, b'k']), Err(AmfError::Truncated("a type marker")));
        assert_eq!(decode_all(&[0x03]), Err(AmfError::Truncated("an object key")));
        assert_eq!(
            decode_all(&[0x0c, 0xff, 0xff, 0xff, 0xff]),
            Err(AmfError::Truncated("a long string"))
        );
        assert_eq!(
            decode_all(&[0x0b, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
            Err(AmfError::Truncated("a date"))
        );
        // A huge strict array count with no elements: an error, not a huge allocation.
        assert_eq!(
            decode_all(&[0x0a, 0xff, 0xff, 0xff, 0xff]),
            Err(AmfError::Truncated("a type marker"))
        );
        assert_eq!(decode_all(&[0x08, 0, 0]), Err(AmfError::Truncated("an ECMA array count")));
    }

    #[test]
    fn unsupported_markers_are_refused() {
        assert_eq!(decode_all(&[0x11, 0x01]), Err(AmfError::Amf3));
        for marker in [0x04, 0x07, 0x09, 0x0d, 0x0e, 0x0f, 0x10, 0x12, 0xff] {
            assert_eq!(decode_all(&[marker]), Err(AmfError::UnsupportedMarker(marker)));
        }
    }

    #[test]
    fn deep_nesting_is_refused() {
        let mut wire = Vec::new();
        for _ in 0..MAX_DEPTH + 1 {
            wire.extend_from_slice(&[0x0a, 0, 0, 0, 1]);
        }
        wire.push(0x05);
        assert_eq!(decode_all(&wire), Err(AmfError::TooDeep(MAX_DEPTH)));
    }

    #[test]
    fn invalid_utf8_is_replaced_not_refused() {
        let v = decode_all(&[0x02, 0, 2, 0xff, b'a']).unwrap();
        assert_eq!(v[0].as_str(), Some("\u{fffd}a"));
    }
}
