//! The events socket wire protocol: exact shapes, round trips, errors and close codes, and a
//! deterministic never-panics loop over mutated inputs.

use std::collections::{BTreeMap, HashSet};

use serde_json::{Value, json};
use troupe_events::messages::{
    Capability, ClientMessage, DisconnectReason, Disconnected, MAX_CLOSE_REASON_BYTES,
    MAX_MESSAGE_BYTES, ParticipantView, ProtocolError, ServerMessage, StageState,
    parse_client_message,
};

fn parse(text: &str) -> Result<Option<ClientMessage>, ProtocolError> {
    parse_client_message(text, MAX_MESSAGE_BYTES)
}

fn as_value(msg: &ServerMessage) -> Value {
    serde_json::from_str(&msg.to_json()).expect("to_json emits JSON")
}

fn sample_state() -> ServerMessage {
    ServerMessage::StageState(StageState {
        stage_id: "abcdEFGH1234".into(),
        session_id: Some("st-SESSION1".into()),
        participants: vec![
            ParticipantView {
                id: "p-1".into(),
                user_id: Some("alice".into()),
                attributes: BTreeMap::from([
                    ("role".to_string(), "host".to_string()),
                    ("name".to_string(), "Alice \"A\" ✓".to_string()),
                ]),
                is_publishing: true,
                streams: vec!["audio".into(), "video".into()],
                audio_muted: false,
                video_stopped: true,
                capabilities: Capability::from_flags(true, true),
            },
            ParticipantView {
                id: "p-2".into(),
                user_id: None,
                attributes: BTreeMap::new(),
                is_publishing: false,
                streams: vec![],
                audio_muted: true,
                video_stopped: false,
                capabilities: Capability::from_flags(false, true),
            },
        ],
    })
}

// ---- server messages: exact JSON -------------------------------------------------------------

#[test]
fn stage_state_exact_json() {
    assert_eq!(
        as_value(&sample_state()),
        json!({
            "type": "STAGE_STATE",
            "payload": {
                "stageId": "abcdEFGH1234",
                "sessionId": "st-SESSION1",
                "participants": [
                    {
                        "id": "p-1",
                        "userId": "alice",
                        "attributes": {"name": "Alice \"A\" ✓", "role": "host"},
                        "isPublishing": true,
                        "streams": ["audio", "video"],
                        "audioMuted": false,
                        "videoStopped": true,
                        "capabilities": ["PUBLISH", "SUBSCRIBE"]
                    },
                    {
                        "id": "p-2",
                        "attributes": {},
                        "isPublishing": false,
                        "streams": [],
                        "audioMuted": true,
                        "videoStopped": false,
                        "capabilities": ["SUBSCRIBE"]
                    }
                ]
            }
        })
    );
}

#[test]
fn stage_state_without_session_has_null_session_id() {
    let msg = ServerMessage::StageState(StageState {
        stage_id: "s".into(),
        session_id: None,
        participants: vec![],
    });
    assert_eq!(
        as_value(&msg),
        json!({"type": "STAGE_STATE", "payload": {"stageId": "s", "sessionId": null, "participants": []}})
    );
}

#[test]
fn user_id_is_omitted_not_null() {
    let v = as_value(&sample_state());
    let second = &v["payload"]["participants"][1];
    assert!(second.as_object().is_some_and(|o| !o.contains_key("userId")));
}

#[test]
fn pong_exact_json() {
    assert_eq!(as_value(&ServerMessage::Pong), json!({"type": "PONG"}));
    assert_eq!(ServerMessage::Pong.to_json(), r#"{"type":"PONG"}"#);
}

#[test]
fn disconnected_exact_json() {
    for reason in DisconnectReason::ALL {
        assert_eq!(
            as_value(&ServerMessage::disconnected(reason)),
            json!({"type": "DISCONNECTED", "payload": {"reason": reason.as_str()}})
        );
    }
    let with_text = ServerMessage::Disconnected(Disconnected {
        reason: DisconnectReason::StageDeleted,
        message: Some("the stage was deleted".into()),
    });
    assert_eq!(
        as_value(&with_text),
        json!({"type": "DISCONNECTED", "payload": {"reason": "STAGE_DELETED", "message": "the stage was deleted"}})
    );
}

#[test]
fn token_exchanged_exact_json() {
    let ack = ServerMessage::token_exchanged(vec![Capability::Subscribe]);
    assert_eq!(
        as_value(&ack),
        json!({"type": "TOKEN_EXCHANGED", "payload": {"capabilities": ["SUBSCRIBE"]}})
    );
    assert_eq!(
        as_value(&ServerMessage::token_exchanged(Vec::new())),
        json!({"type": "TOKEN_EXCHANGED", "payload": {"capabilities": []}}),
        "an empty list, never omitted"
    );
}

#[test]
fn disconnect_reason_strings_and_codes() {
    let table: Vec<(&str, u16)> =
        DisconnectReason::ALL.iter().map(|r| (r.as_str(), r.close_code())).collect();
    assert_eq!(
        table,
        vec![
            ("PARTICIPANT_DISCONNECTED", 4001),
            ("STAGE_DELETED", 4002),
            ("TOKEN_EXPIRED", 4003),
            ("REPLACED", 4004),
            ("SERVER_SHUTDOWN", 4005),
        ]
    );
    for r in DisconnectReason::ALL {
        assert!(r.as_str().len() <= MAX_CLOSE_REASON_BYTES && r.as_str().is_ascii());
        assert_eq!(r.to_string(), r.as_str());
    }
}

#[test]
fn type_names() {
    assert_eq!(sample_state().type_name(), "STAGE_STATE");
    assert_eq!(ServerMessage::Pong.type_name(), "PONG");
    assert_eq!(ServerMessage::disconnected(DisconnectReason::Replaced).type_name(), "DISCONNECTED");
    assert_eq!(ServerMessage::token_exchanged(Vec::new()).type_name(), "TOKEN_EXCHANGED");
    assert_eq!(ClientMessage::Ping.type_name(), "PING");
}

// ---- round trips -----------------------------------------------------------------------------

#[test]
fn server_messages_round_trip() {
    let messages = vec![
        sample_state(),
        ServerMessage::StageState(StageState::default()),
        ServerMessage::Pong,
        ServerMessage::disconnected(DisconnectReason::TokenExpired),
        ServerMessage::Disconnected(Disconnected {
            reason: DisconnectReason::ParticipantDisconnected,
            message: Some("bye".into()),
        }),
        ServerMessage::token_exchanged(vec![Capability::Publish, Capability::Subscribe]),
    ];
    for msg in messages {
        let text = msg.to_json();
        assert_eq!(ServerMessage::from_json(&text).expect("round trip"), msg, "{text}");
    }
}

#[test]
fn server_message_parse_ignores_unknown_members() {
    let text =
        r#"{"type":"DISCONNECTED","extra":1,"payload":{"reason":"REPLACED","future":[1,2]}}"#;
    assert_eq!(
        ServerMessage::from_json(text).expect("parses"),
        ServerMessage::disconnected(DisconnectReason::Replaced)
    );
    let text = r#"{"type":"STAGE_STATE","payload":{"stageId":"s","sessionId":null,"participants":[
        {"id":"p","attributes":{},"isPublishing":false,"audioMuted":false,"videoStopped":false,
         "capabilities":["PUBLISH"],"newField":true}]}}"#;
    assert!(ServerMessage::from_json(text).is_ok());
}

#[test]
fn client_messages_round_trip() {
    let messages = vec![
        ClientMessage::Ping,
        ClientMessage::Mute { audio_muted: Some(true), video_stopped: Some(false) },
        ClientMessage::Mute { audio_muted: None, video_stopped: Some(true) },
        ClientMessage::Mute { audio_muted: Some(false), video_stopped: None },
        ClientMessage::Mute { audio_muted: None, video_stopped: None },
        ClientMessage::ExchangeToken { token: "eyJ.eyJ.sig".into() },
    ];
    for msg in messages {
        let text = msg.to_json();
        assert_eq!(parse(&text), Ok(Some(msg)), "{text}");
    }
}

#[test]
fn client_message_exact_json() {
    let v = |m: ClientMessage| serde_json::from_str::<Value>(&m.to_json()).expect("json");
    assert_eq!(v(ClientMessage::Ping), json!({"type": "PING"}));
    assert_eq!(
        v(ClientMessage::Mute { audio_muted: Some(true), video_stopped: None }),
        json!({"type": "MUTE", "payload": {"audioMuted": true}})
    );
    assert_eq!(
        v(ClientMessage::ExchangeToken { token: "t".into() }),
        json!({"type": "EXCHANGE_TOKEN", "payload": {"token": "t"}})
    );
}

// ---- client parsing --------------------------------------------------------------------------

#[test]
fn parses_known_client_messages() {
    assert_eq!(parse(r#"{"type":"PING"}"#), Ok(Some(ClientMessage::Ping)));
    assert_eq!(parse(r#"{"type":"PING","payload":"whatever"}"#), Ok(Some(ClientMessage::Ping)));
    assert_eq!(
        parse(r#"{"type":"MUTE","payload":{"audioMuted":true,"videoStopped":false}}"#),
        Ok(Some(ClientMessage::Mute { audio_muted: Some(true), video_stopped: Some(false) }))
    );
    assert_eq!(
        parse(r#"{"type":"MUTE","payload":{"audioMuted":null}}"#),
        Ok(Some(ClientMessage::Mute { audio_muted: None, video_stopped: None }))
    );
    assert_eq!(
        parse(r#"{"payload":{"token":"abc"},"type":"EXCHANGE_TOKEN"}"#),
        Ok(Some(ClientMessage::ExchangeToken { token: "abc".into() }))
    );
    assert_eq!(parse(" \n{\"type\" : \"PING\"}\t "), Ok(Some(ClientMessage::Ping)));
}

#[test]
fn unknown_types_are_ignored() {
    for text in [
        r#"{"type":"FUTURE_FEATURE","payload":{"x":1}}"#,
        r#"{"type":"ping"}"#,
        r#"{"type":""}"#,
        r#"{"type":"STAGE_STATE","payload":{}}"#,
        r#"{"type":"SUBSCRIBE_V2","payload":"not even an object"}"#,
    ] {
        assert_eq!(parse(text), Ok(None), "{text}");
    }
}

#[test]
fn unknown_fields_are_ignored() {
    assert_eq!(
        parse(r#"{"type":"PING","id":7,"meta":{"a":[1,2,3]}}"#),
        Ok(Some(ClientMessage::Ping))
    );
    assert_eq!(
        parse(r#"{"v":2,"type":"MUTE","payload":{"audioMuted":false,"screenShared":true,"n":{}}}"#),
        Ok(Some(ClientMessage::Mute { audio_muted: Some(false), video_stopped: None }))
    );
    assert_eq!(
        parse(r#"{"type":"EXCHANGE_TOKEN","payload":{"token":"t","reason":"refresh"},"x":null}"#),
        Ok(Some(ClientMessage::ExchangeToken { token: "t".into() }))
    );
}

// ---- errors and close codes ------------------------------------------------------------------

fn invalid(
    message_type: &'static str,
    member: &'static str,
    expected: &'static str,
) -> ProtocolError {
    ProtocolError::InvalidPayload { message_type, member, expected }
}

#[test]
fn too_large_is_rejected_before_parsing() {
    // Not JSON at all, but the size check wins.
    let text = "x".repeat(MAX_MESSAGE_BYTES + 1);
    assert_eq!(
        parse(&text),
        Err(ProtocolError::TooLarge { len: MAX_MESSAGE_BYTES + 1, max: MAX_MESSAGE_BYTES })
    );
    // A valid message over a custom limit.
    let ping = r#"{"type":"PING"}"#;
    assert_eq!(
        parse_client_message(ping, ping.len() - 1),
        Err(ProtocolError::TooLarge { len: ping.len(), max: ping.len() - 1 })
    );
    // Exactly at the limit is fine.
    assert_eq!(parse_client_message(ping, ping.len()), Ok(Some(ClientMessage::Ping)));
    // Bytes, not chars.
    let multibyte = format!(r#"{{"type":"PING","n":"{}"}}"#, "é".repeat(10));
    assert!(matches!(
        parse_client_message(&multibyte, multibyte.chars().count()),
        Err(ProtocolError::TooLarge { .. })
    ));
    // A large but legal message parses.
    let big = format!(r#"{{"type":"PING","pad":"{}"}}"#, "a".repeat(MAX_MESSAGE_BYTES - 40));
    assert!(big.len() <= MAX_MESSAGE_BYTES);
    assert_eq!(parse(&big), Ok(Some(ClientMessage::Ping)));
}

#[test]
fn not_json() {
    for text in ["", "   ", "{", "PING", r#"{"type":"PING"} trailing"#, "{'type':'PING'}", "nul"] {
        match parse(text) {
            Err(e @ ProtocolError::NotJson { .. }) => {
                assert_eq!((e.close_code(), e.code_name()), (4400, "MALFORMED_MESSAGE"));
            }
            other => panic!("{text:?}: {other:?}"),
        }
    }
    // Deep nesting hits serde_json's recursion limit instead of the stack.
    let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    assert!(matches!(parse(&deep), Err(ProtocolError::NotJson { .. })));
}

#[test]
fn missing_type() {
    let cases = [
        ("[]", "an array"),
        ("null", "null"),
        ("42", "a number"),
        ("true", "a boolean"),
        (r#""PING""#, "a string"),
        ("{}", "an object without \"type\""),
        (r#"{"payload":{}}"#, "an object without \"type\""),
        (r#"{"type":1}"#, "an object whose \"type\" is not a string"),
        (r#"{"type":null}"#, "an object whose \"type\" is not a string"),
        (r#"{"type":["PING"]}"#, "an object whose \"type\" is not a string"),
    ];
    for (text, found) in cases {
        let e = parse(text).expect_err(text);
        assert_eq!(e, ProtocolError::MissingType { found }, "{text}");
        assert_eq!((e.close_code(), e.code_name()), (4420, "MISSING_TYPE"));
    }
}

#[test]
fn invalid_payloads_name_the_member() {
    let cases = [
        (r#"{"type":"MUTE"}"#, invalid("MUTE", "payload", "an object")),
        (r#"{"type":"MUTE","payload":null}"#, invalid("MUTE", "payload", "an object")),
        (r#"{"type":"MUTE","payload":[true]}"#, invalid("MUTE", "payload", "an object")),
        (
            r#"{"type":"MUTE","payload":{"audioMuted":"yes"}}"#,
            invalid("MUTE", "audioMuted", "a boolean or null"),
        ),
        (
            r#"{"type":"MUTE","payload":{"audioMuted":true,"videoStopped":1}}"#,
            invalid("MUTE", "videoStopped", "a boolean or null"),
        ),
        (r#"{"type":"EXCHANGE_TOKEN"}"#, invalid("EXCHANGE_TOKEN", "payload", "an object")),
        (
            r#"{"type":"EXCHANGE_TOKEN","payload":"tok"}"#,
            invalid("EXCHANGE_TOKEN", "payload", "an object"),
        ),
        (
            r#"{"type":"EXCHANGE_TOKEN","payload":{}}"#,
            invalid("EXCHANGE_TOKEN", "token", "a non-empty string"),
        ),
        (
            r#"{"type":"EXCHANGE_TOKEN","payload":{"token":""}}"#,
            invalid("EXCHANGE_TOKEN", "token", "a non-empty string"),
        ),
        (
            r#"{"type":"EXCHANGE_TOKEN","payload":{"token":42}}"#,
            invalid("EXCHANGE_TOKEN", "token", "a non-empty string"),
        ),
    ];
    for (text, expected) in cases {
        let e = parse(text).expect_err(text);
        assert_eq!(e, expected, "{text}");
        assert_eq!((e.close_code(), e.code_name()), (4422, "INVALID_PAYLOAD"));
        let shown = e.to_string();
        if let ProtocolError::InvalidPayload { member, .. } = &e {
            assert!(shown.contains(member), "{shown}");
        }
    }
}

#[test]
fn every_error_variant_has_a_distinct_documented_code() {
    let all = [
        ProtocolError::TooLarge { len: 2, max: 1 },
        ProtocolError::UnsupportedData,
        ProtocolError::NotJson { detail: "x".into() },
        ProtocolError::MissingType { found: "null" },
        invalid("MUTE", "audioMuted", "a boolean or null"),
    ];
    let table: Vec<(u16, &str)> = all.iter().map(|e| (e.close_code(), e.code_name())).collect();
    assert_eq!(
        table,
        vec![
            (4413, "MESSAGE_TOO_LARGE"),
            (4415, "UNSUPPORTED_DATA"),
            (4400, "MALFORMED_MESSAGE"),
            (4420, "MISSING_TYPE"),
            (4422, "INVALID_PAYLOAD"),
        ]
    );
    let codes: HashSet<u16> = table.iter().map(|(c, _)| *c).collect();
    assert_eq!(codes.len(), all.len());
    for e in &all {
        assert!((4000..=4999).contains(&e.close_code()));
        assert!(e.code_name().is_ascii() && e.code_name().len() <= MAX_CLOSE_REASON_BYTES);
        assert!(!e.to_string().is_empty());
    }
    // Server-initiated close codes never collide with protocol error codes.
    for r in DisconnectReason::ALL {
        assert!((4000..=4999).contains(&r.close_code()));
        assert!(!codes.contains(&r.close_code()));
    }
}

#[test]
fn capability_flags() {
    assert_eq!(Capability::from_flags(false, false), vec![]);
    assert_eq!(Capability::from_flags(true, false), vec![Capability::Publish]);
    assert_eq!(
        Capability::from_flags(true, true),
        vec![Capability::Publish, Capability::Subscribe]
    );
    assert_eq!(Capability::Subscribe.as_str(), "SUBSCRIBE");
}

// ---- never panics ----------------------------------------------------------------------------

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const SEEDS: &[&str] = &[
    r#"{"type":"PING"}"#,
    r#"{"type":"MUTE","payload":{"audioMuted":true,"videoStopped":false}}"#,
    r#"{"type":"EXCHANGE_TOKEN","payload":{"token":"eyJhbGciOiJFUzM4NCJ9.e30.c2ln"}}"#,
    r#"{"type":"FUTURE","payload":{"a":[1,2,{"b":null}]}}"#,
    r#"[{"type":"PING"}]"#,
    r#"{"type":"MUTE","payload":{"audioMuted":null}}"#,
];

const TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    "\"",
    ":",
    ",",
    "null",
    "true",
    "false",
    "-1e999",
    "\\u0000",
    "\\ud800",
    "\"type\"",
    "\"payload\"",
    "\"MUTE\"",
    "\"PING\"",
    "\"EXCHANGE_TOKEN\"",
    "\"token\"",
    "\"audioMuted\"",
    "é",
    "😀",
    " ",
    "\n",
    "0",
    "1.5e3",
];

fn mutate(rng: &mut XorShift, input: &str) -> String {
    let mut s: Vec<char> = input.chars().collect();
    for _ in 0..=rng.below(4) {
        match rng.below(5) {
            0 if !s.is_empty() => {
                s.remove(rng.below(s.len()));
            }
            1 => {
                let at = rng.below(s.len() + 1);
                let token = TOKENS[rng.below(TOKENS.len())];
                for (i, c) in token.chars().enumerate() {
                    s.insert(at + i, c);
                }
            }
            2 if !s.is_empty() => {
                let at = rng.below(s.len());
                s[at] = char::from_u32((rng.next() % 0x80) as u32).unwrap_or('x');
            }
            3 if !s.is_empty() => {
                let cut = rng.below(s.len());
                s.truncate(cut);
            }
            _ => {
                let depth = rng.below(200);
                let open: String = std::iter::repeat_n('[', depth).collect();
                let at = rng.below(s.len() + 1);
                for (i, c) in open.chars().enumerate() {
                    s.insert(at + i, c);
                }
            }
        }
    }
    s.into_iter().collect()
}

#[test]
fn never_panics_on_mutated_inputs() {
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let mut outcomes = [0usize; 3]; // known, ignored, error
    for i in 0..5000 {
        let seed = SEEDS[i % SEEDS.len()];
        let text = mutate(&mut rng, seed);
        let max = if i % 7 == 0 { rng.below(64) } else { MAX_MESSAGE_BYTES };
        match parse_client_message(&text, max) {
            Ok(Some(msg)) => {
                outcomes[0] += 1;
                // Anything accepted re-serializes to something that parses to the same message.
                assert_eq!(parse(&msg.to_json()), Ok(Some(msg)), "{text:?}");
            }
            Ok(None) => outcomes[1] += 1,
            Err(e) => {
                outcomes[2] += 1;
                assert!((4000..=4999).contains(&e.close_code()));
                assert!(e.code_name().len() <= MAX_CLOSE_REASON_BYTES);
                let _ = e.to_string();
                if text.len() > max {
                    assert!(matches!(e, ProtocolError::TooLarge { .. }), "{text:?}");
                }
            }
        }
    }
    // The loop exercises all three outcomes, so it is not trivially rejecting everything.
    assert!(outcomes.iter().all(|&n| n > 0), "{outcomes:?}");
}

#[test]
fn never_panics_on_random_text() {
    let mut rng = XorShift(0xDEAD_BEEF_CAFE_F00D);
    let alphabet: Vec<char> =
        "{}[]\":,.-+eE0123456789 \\/tnrufalsTYPEPINGMUTE_é😀\u{0}".chars().collect();
    for _ in 0..3000 {
        let len = rng.below(80);
        let text: String = (0..len).map(|_| alphabet[rng.below(alphabet.len())]).collect();
        let _ = parse(&text);
    }
}
