//! The session driven as an encoder drives it, from bytes built by `client::Publisher`, with
//! the server's answers decoded by the crate's own chunk reader.

use troupe_rtmp::amf0::{self, Amf0Value, string};
use troupe_rtmp::chunk_reader::{ChunkReader, Message, ReaderLimits};
use troupe_rtmp::client::{Publisher, STREAM_ID, video_frame_body};
use troupe_rtmp::control;
use troupe_rtmp::{Event, RtmpError, ServerSession, SessionConfig};

const KEY: &str = "sk_us-west-2_abc123";

/// Decodes what the server wrote (after S0+S1+S2), following its Set Chunk Size.
struct ServerOutput {
    reader: ChunkReader,
    handshake_left: usize,
}

impl ServerOutput {
    fn new() -> Self {
        let limits = ReaderLimits {
            max_message_size: 1 << 20,
            max_buffered_bytes: 1 << 20,
            max_chunk_streams: 8,
        };
        ServerOutput { reader: ChunkReader::new(limits), handshake_left: 1 + 2 * 1536 }
    }

    fn messages(&mut self, session: &mut ServerSession) -> Vec<Message> {
        let output = session.take_output();
        let skip = self.handshake_left.min(output.len());
        self.handshake_left -= skip;
        let mut input = &output[skip..];
        let mut messages = Vec::new();
        while let Some(m) = self.reader.next_message(&mut input).unwrap() {
            if m.type_id == control::SET_CHUNK_SIZE {
                self.reader.set_chunk_size(control::read_u32(&m.payload, "test").unwrap()).unwrap();
            }
            messages.push(m);
        }
        messages
    }
}

fn values(m: &Message) -> Vec<Amf0Value> {
    amf0::decode_all(&m.payload).unwrap()
}

fn status_code(m: &Message) -> String {
    values(m)[3].get("code").and_then(Amf0Value::as_str).unwrap().to_owned()
}

fn events(session: &mut ServerSession) -> Vec<Event> {
    std::iter::from_fn(|| session.poll_event()).collect()
}

fn connected() -> (ServerSession, ServerOutput) {
    let mut session = ServerSession::new(SessionConfig::default());
    let mut out = ServerOutput::new();
    session.receive(Publisher::default().handshake().connect("app").bytes()).unwrap();
    out.messages(&mut session);
    (session, out)
}

fn publishing() -> (ServerSession, ServerOutput) {
    let (mut session, mut out) = connected();
    session.receive(Publisher::default().publish(KEY).bytes()).unwrap();
    session.accept_publish();
    out.messages(&mut session);
    events(&mut session);
    (session, out)
}

#[test]
fn a_whole_publish() {
    let mut session = ServerSession::new(SessionConfig::default());
    let mut out = ServerOutput::new();

    session.receive(Publisher::default().handshake().bytes()).unwrap();
    assert_eq!(session.take_output().len(), 1 + 2 * 1536);
    out.handshake_left = 0;

    session.receive(Publisher::default().connect("app").bytes()).unwrap();
    let answer = out.messages(&mut session);
    let types: Vec<u8> = answer.iter().map(|m| m.type_id).collect();
    assert_eq!(
        types,
        [
            control::WINDOW_ACK_SIZE,
            control::SET_PEER_BANDWIDTH,
            control::SET_CHUNK_SIZE,
            control::COMMAND_AMF0
        ]
    );
    assert_eq!(control::read_u32(&answer[0].payload, "").unwrap(), 2_500_000);
    assert_eq!(answer[1].payload.as_ref(), &[0, 0x26, 0x25, 0xa0, 2]);
    assert_eq!(control::read_u32(&answer[2].payload, "").unwrap(), 4096);
    assert_eq!(values(&answer[3])[0], string("_result"));
    assert_eq!(values(&answer[3])[1], Amf0Value::Number(1.0));
    assert_eq!(status_code(&answer[3]), "NetConnection.Connect.Success");
    assert!(events(&mut session).is_empty());

    session.receive(Publisher::default().publish(KEY).bytes()).unwrap();
    let answer = out.messages(&mut session);
    let names: Vec<String> =
        answer.iter().map(|m| values(m)[0].as_str().unwrap().to_owned()).collect();
    assert_eq!(names, ["_result", "onFCPublish", "_result"], "no onStatus before the answer");
    assert_eq!(values(&answer[2])[3], Amf0Value::Number(1.0), "createStream's stream id");
    assert_eq!(
        events(&mut session),
        [Event::PublishRequested {
            app: "app".into(),
            stream_key: KEY.into(),
            tc_url: Some("rtmp://127.0.0.1:1935/app".into()),
        }]
    );

    session.accept_publish();
    let answer = out.messages(&mut session);
    assert_eq!(answer[0].type_id, control::USER_CONTROL);
    assert_eq!(answer[0].payload.as_ref(), &[0, 0, 0, 0, 0, 1], "StreamBegin 1");
    assert_eq!(answer[1].stream_id, STREAM_ID);
    assert_eq!(status_code(&answer[1]), "NetStream.Publish.Start");

    let mut media = Publisher::default();
    media
        .metadata(1280.0, 720.0, 30.0)
        .video_config()
        .audio_config()
        .video_frame(0, true, 66, &[b"\x65key"])
        .audio_frame(10, b"aac1")
        .video_frame(33, false, 0, &[b"\x41p1", b"\x41p2"])
        .unpublish(KEY);
    session.receive(media.bytes()).unwrap();
    let got = events(&mut session);
    assert!(
        matches!(&got[0], Event::Metadata(m) if m.width == Some(1280.0) && m.framerate == Some(30.0))
    );
    assert!(
        matches!(&got[1], Event::VideoConfig { avc_decoder_configuration } if avc_decoder_configuration.len() == 7)
    );
    assert!(
        matches!(&got[2], Event::AudioConfig { audio_specific_config } if audio_specific_config.as_ref() == [0x11, 0x90])
    );
    assert!(
        matches!(&got[3], Event::Video { dts_ms: 0, cts_ms: 66, keyframe: true, data } if data.len() == 8)
    );
    assert!(matches!(&got[4], Event::Audio { pts_ms: 10, data } if data.as_ref() == b"aac1"));
    assert!(
        matches!(&got[5], Event::Video { dts_ms: 33, cts_ms: 0, keyframe: false, data } if data.len() == 14)
    );
    assert_eq!(got[6], Event::Unpublished);
    assert_eq!(got.len(), 7, "FCUnpublish and deleteStream make one Unpublished");
}

fn whole_stream() -> Vec<u8> {
    let mut p = Publisher::default();
    p.handshake().set_chunk_size(60).connect("live").publish(KEY);
    p.bytes().to_vec()
}

#[test]
fn any_split_of_the_input_gives_the_same_events() {
    let stream = whole_stream();
    let mut media = Publisher::default();
    media.set_chunk_size(100).video_config();
    for i in 0..20u32 {
        media.video_frame(i * 33, i % 10 == 0, 0, &[&vec![i as u8; 250]]);
    }
    let media = media.take();
    let run = |sizes: &mut dyn FnMut() -> usize| {
        let mut session = ServerSession::new(SessionConfig::default());
        let mut all = Vec::new();
        for part in [&stream[..], &media[..]] {
            let mut rest = part;
            while !rest.is_empty() {
                let n = sizes().clamp(1, rest.len());
                session.receive(&rest[..n]).unwrap();
                rest = &rest[n..];
                session.accept_publish();
                all.extend(events(&mut session));
            }
        }
        all
    };
    let whole = run(&mut || usize::MAX);
    assert_eq!(whole.len(), 22);
    assert_eq!(run(&mut || 1), whole);
    let mut seed = 7u64;
    for _ in 0..20 {
        let got = run(&mut || {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 33) as usize % 300
        });
        assert_eq!(got, whole);
    }
}

#[test]
fn a_rejected_key_gets_bad_name_and_no_media_is_read() {
    let (mut session, mut out) = connected();
    session.receive(Publisher::default().publish(KEY).bytes()).unwrap();
    out.messages(&mut session);
    events(&mut session);
    session.reject_publish("no such stream key");
    let answer = out.messages(&mut session);
    assert_eq!(answer.len(), 1);
    assert_eq!(status_code(&answer[0]), "NetStream.Publish.BadName");
    assert_eq!(values(&answer[0])[3].get("level"), Some(&string("error")));
    session.accept_publish();
    assert!(out.messages(&mut session).is_empty(), "accepting after rejecting does nothing");
    let err = session.receive(Publisher::default().video_config().bytes()).unwrap_err();
    assert_eq!(err, RtmpError::MediaAfterReject("video"));
    assert!(events(&mut session).is_empty());
}

#[test]
fn media_and_metadata_before_the_answer() {
    let (mut session, _) = connected();
    session.receive(Publisher::default().publish(KEY).bytes()).unwrap();
    events(&mut session);
    session.receive(Publisher::default().metadata(1.0, 2.0, 3.0).bytes()).unwrap();
    assert!(events(&mut session).is_empty(), "metadata before the key is accepted is dropped");
    let err = session.receive(Publisher::default().audio_config().bytes()).unwrap_err();
    assert_eq!(err, RtmpError::MediaBeforePublish("audio"));
    assert_eq!(err.to_string(), "audio message before the publish was accepted");
    assert_eq!(session.receive(&[]), Err(RtmpError::AlreadyFailed));

    let (mut session, _) = connected();
    let err = session.receive(Publisher::default().video_config().bytes()).unwrap_err();
    assert_eq!(err, RtmpError::MediaBeforePublish("video"));
}

#[test]
fn command_errors() {
    let mut session = ServerSession::new(SessionConfig::default());
    let mut p = Publisher::default();
    p.handshake().command(0, &[string("createStream"), Amf0Value::Number(2.0), Amf0Value::Null]);
    assert_eq!(
        session.receive(p.bytes()),
        Err(RtmpError::CommandBeforeConnect("createStream".into()))
    );

    let (mut session, _) = connected();
    assert_eq!(
        session.receive(Publisher::default().connect("again").bytes()),
        Err(RtmpError::ConnectTwice)
    );

    let mut session = ServerSession::new(SessionConfig::default());
    let mut p = Publisher::default();
    p.handshake().command(0, &[string("connect"), Amf0Value::Number(1.0), Amf0Value::Null]);
    let err = session.receive(p.bytes()).unwrap_err();
    assert_eq!(err.to_string(), "connect is missing an app name in its command object");

    let publish = |stream_id, name: Amf0Value| {
        let mut p = Publisher::default();
        p.command(0, &[string("createStream"), Amf0Value::Number(4.0), Amf0Value::Null]);
        p.command(stream_id, &[string("publish"), Amf0Value::Number(5.0), Amf0Value::Null, name]);
        let (mut session, _) = connected();
        session.receive(p.bytes())
    };
    assert_eq!(publish(2, string(KEY)), Err(RtmpError::UnknownStream(2)));
    assert_eq!(publish(0, string(KEY)), Err(RtmpError::UnknownStream(0)));
    assert_eq!(
        publish(1, Amf0Value::Null),
        Err(RtmpError::MalformedCommand { command: "publish", what: "a stream name" })
    );

    let (mut session, _) = connected();
    session.receive(Publisher::default().publish(KEY).bytes()).unwrap();
    let again = [string("publish"), Amf0Value::Number(6.0), Amf0Value::Null, string(KEY)];
    assert_eq!(
        session.receive(Publisher::default().command(STREAM_ID, &again).bytes()),
        Err(RtmpError::PublishTwice)
    );

    let (mut session, _) = connected();
    let mut p = Publisher::default();
    for _ in 0..9 {
        p.command(0, &[string("createStream"), Amf0Value::Number(4.0), Amf0Value::Null]);
    }
    assert_eq!(session.receive(p.bytes()), Err(RtmpError::TooManyStreams(8)));

    let (mut session, _) = connected();
    assert_eq!(
        session.receive(Publisher::default().message(3, 0, 20, 0, &[0x05]).bytes()),
        Err(RtmpError::CommandWithoutName)
    );

    let (mut session, _) = connected();
    let err = session
        .receive(Publisher::default().message(3, 0, 20, 0, &[0x02, 0, 4, b'a']).bytes())
        .unwrap_err();
    assert!(matches!(err, RtmpError::Amf { context: "a command message", .. }), "{err}");
}

#[test]
fn unknown_commands_are_ignored() {
    let (mut session, mut out) = connected();
    let p = Publisher::default()
        .command(0, &[string("getStreamLength"), Amf0Value::Number(9.0)])
        .take();
    session.receive(&p).unwrap();
    assert!(out.messages(&mut session).is_empty());
    assert!(events(&mut session).is_empty());
}

#[test]
fn message_type_errors() {
    let send = |type_id: u8, payload: &[u8]| {
        let (mut session, _) = connected();
        session
            .receive(Publisher::default().message(3, 0, type_id, 0, payload).bytes())
            .unwrap_err()
    };
    assert_eq!(
        send(17, &[0, 2, 0, 1, b'x']),
        RtmpError::Amf3Message { what: "command", type_id: 17 }
    );
    assert_eq!(send(15, &[0]), RtmpError::Amf3Message { what: "data", type_id: 15 });
    assert_eq!(send(16, &[0]), RtmpError::Amf3Message { what: "shared object", type_id: 16 });
    assert_eq!(send(19, &[0]), RtmpError::UnsupportedMessageType(19, "shared object"));
    assert_eq!(send(22, &[0]), RtmpError::UnsupportedMessageType(22, "aggregate"));
    assert_eq!(send(7, &[0]), RtmpError::UnsupportedMessageType(7, "unknown type"));
    assert_eq!(send(1, &[0, 0, 0, 0]), RtmpError::BadChunkSize(0));
    assert_eq!(
        send(1, &[0, 1]),
        RtmpError::ShortControlMessage { what: "Set Chunk Size", length: 2, needed: 4 }
    );
    assert_eq!(
        send(4, &[0]),
        RtmpError::ShortControlMessage { what: "User Control", length: 1, needed: 2 }
    );
    assert_eq!(
        send(5, &[]),
        RtmpError::ShortControlMessage {
            what: "Window Acknowledgement Size",
            length: 0,
            needed: 4
        }
    );
    let err = RtmpError::MessageTooLong { length: 9, limit: 8 };
    assert_eq!(err.to_string(), "a message of 9 bytes is longer than the limit of 8 bytes");
}

#[test]
fn data_message_errors_while_publishing() {
    let (mut session, _) = publishing();
    let err =
        session.receive(Publisher::default().message(4, 0, 18, 1, &[0x11]).bytes()).unwrap_err();
    assert_eq!(
        err,
        RtmpError::Amf { context: "a data message", source: troupe_rtmp::AmfError::Amf3 }
    );
}

#[test]
fn codecs_other_than_h264_and_aac_are_refused() {
    let (mut session, _) = publishing();
    let err = session
        .receive(Publisher::default().message(6, 0, 9, 1, &[0x22, 0, 0]).bytes())
        .unwrap_err();
    assert_eq!(err, RtmpError::UnsupportedVideoCodec("Sorenson H.263 (FLV codec id 2)".into()));
    let (mut session, _) = publishing();
    let err = session
        .receive(Publisher::default().message(4, 0, 8, 1, &[0x2f, 0xff]).bytes())
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "unsupported audio codec MP3 (FLV sound format 2): only AAC (FLV sound format 10) is accepted"
    );
}

#[test]
fn timestamps_extend_across_the_32_bit_wrap() {
    let (mut session, _) = publishing();
    let mut p = Publisher::default();
    p.video_config();
    for ts in [u32::MAX - 66, u32::MAX - 33, 0, 33] {
        p.video_frame(ts, false, 0, &[b"\x41"]);
    }
    session.receive(p.bytes()).unwrap();
    let dts: Vec<u64> = events(&mut session)
        .into_iter()
        .filter_map(|e| match e {
            Event::Video { dts_ms, .. } => Some(dts_ms),
            _ => None,
        })
        .collect();
    let max = u64::from(u32::MAX);
    assert_eq!(dts, [max - 66, max - 33, max + 1, max + 34]);
}

#[test]
fn acknowledgements_follow_the_window() {
    let config = SessionConfig { ack_window: 5000, ..SessionConfig::default() };
    let mut session = ServerSession::new(config);
    let mut out = ServerOutput::new();
    let mut p = Publisher::default();
    p.handshake().connect("app").publish(KEY);
    session.receive(p.bytes()).unwrap();
    session.accept_publish();
    let acks = |messages: Vec<Message>| -> Vec<u32> {
        messages
            .iter()
            .filter(|m| m.type_id == control::ACKNOWLEDGEMENT)
            .map(|m| control::read_u32(&m.payload, "").unwrap())
            .collect()
    };
    let sent = p.bytes().len() as u32;
    assert!(sent < 5000);
    assert!(acks(out.messages(&mut session)).is_empty());

    let frame =
        Publisher::default().video_config().video_frame(0, true, 0, &[&[0x65; 3000]]).take();
    session.receive(&frame).unwrap();
    assert_eq!(acks(out.messages(&mut session)), [sent + frame.len() as u32]);

    // The client's own window takes over.
    let window = Publisher::default()
        .message(2, 0, control::WINDOW_ACK_SIZE, 0, &100u32.to_be_bytes())
        .take();
    session.receive(&window).unwrap();
    let body = video_frame_body(false, 0, &[&[0x41; 80]]);
    let small = Publisher::default().message(6, 33, 9, 1, &body).take();
    session.receive(&small).unwrap();
    assert_eq!(
        acks(out.messages(&mut session)),
        [sent + (frame.len() + window.len() + small.len()) as u32]
    );
}

#[test]
fn ping_requests_are_answered() {
    let (mut session, mut out) = connected();
    let ping = control::user_control(control::PING_REQUEST, 0xdead_beef);
    session
        .receive(Publisher::default().message(2, 0, control::USER_CONTROL, 0, &ping).bytes())
        .unwrap();
    let answer = out.messages(&mut session);
    assert_eq!(answer[0].payload.as_ref(), &[0, 7, 0xde, 0xad, 0xbe, 0xef]);
}

#[test]
fn publishing_again_after_unpublish() {
    let (mut session, mut out) = publishing();
    let mut p = Publisher::default();
    p.unpublish(KEY);
    p.command(0, &[string("createStream"), Amf0Value::Number(8.0), Amf0Value::Null]);
    p.command(
        2,
        &[
            string("publish"),
            Amf0Value::Number(9.0),
            Amf0Value::Null,
            string("other"),
            string("live"),
        ],
    );
    session.receive(p.bytes()).unwrap();
    let got = events(&mut session);
    assert_eq!(got[0], Event::Unpublished);
    assert!(matches!(&got[1], Event::PublishRequested { stream_key, .. } if stream_key == "other"));
    session.accept_publish();
    let answer = out.messages(&mut session);
    assert_eq!(answer.last().unwrap().stream_id, 2);
}
