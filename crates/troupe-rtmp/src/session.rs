//! One ingest connection's protocol state: handshake, then connect → createStream → publish,
//! then media. Sans-IO: bytes in through [`ServerSession::receive`], events out through
//! [`ServerSession::poll_event`], bytes to send through [`ServerSession::take_output`].

use std::collections::VecDeque;

use crate::amf0::{self, Amf0Value};
use crate::chunk_reader::{ChunkReader, DEFAULT_CHUNK_SIZE, Message, ReaderLimits};
use crate::chunk_writer::write_message;
use crate::command::{self, Command};
use crate::config::SessionConfig;
use crate::control::{self, *};
use crate::error::RtmpError;
use crate::event::Event;
use crate::handshake::Handshake;
use crate::media::{self, AudioBody, VideoBody};
use crate::metadata;
use crate::timeline::Timeline;

const CSID_CONTROL: u32 = 2;
const CSID_COMMAND: u32 = 3;

/// Where the connection is in its life.
#[derive(Debug, Clone, PartialEq)]
enum State {
    AwaitConnect,
    Connected,
    /// Publish asked for, awaiting the caller's answer.
    PublishPending {
        stream_id: u32,
        stream_key: String,
    },
    Publishing,
    Rejected,
}

/// The server side of one RTMP connection.
#[derive(Debug)]
pub struct ServerSession {
    config: SessionConfig,
    handshake: Handshake,
    reader: ChunkReader,
    state: State,
    app: String,
    tc_url: Option<String>,
    /// Message streams createStream made: 1 to `streams_created`.
    streams_created: u32,
    /// A publish was requested and no FCUnpublish/deleteStream followed yet.
    publish_open: bool,
    output: Vec<u8>,
    out_chunk_size: u32,
    events: VecDeque<Event>,
    bytes_received: u64,
    bytes_acknowledged: u64,
    /// The client's Window Acknowledgement Size, once it sent one.
    peer_ack_window: Option<u32>,
    timeline: Timeline,
    nalu_length_size: Option<usize>,
    aac_configured: bool,
    failed: bool,
}

impl ServerSession {
    pub fn new(config: SessionConfig) -> Self {
        let limits = ReaderLimits {
            max_message_size: config.max_message_size,
            max_buffered_bytes: config.max_buffered_bytes,
            max_chunk_streams: config.max_chunk_streams,
        };
        ServerSession {
            config,
            handshake: Handshake::default(),
            reader: ChunkReader::new(limits),
            state: State::AwaitConnect,
            app: String::new(),
            tc_url: None,
            streams_created: 0,
            publish_open: false,
            output: Vec::new(),
            out_chunk_size: DEFAULT_CHUNK_SIZE,
            events: VecDeque::new(),
            bytes_received: 0,
            bytes_acknowledged: 0,
            peer_ack_window: None,
            timeline: Timeline::default(),
            nalu_length_size: None,
            aac_configured: false,
            failed: false,
        }
    }

    /// Feeds bytes read from the socket. Errors are fatal for the connection: write out
    /// [`take_output`](Self::take_output) if you like, then close.
    pub fn receive(&mut self, input: &[u8]) -> Result<(), RtmpError> {
        if self.failed {
            return Err(RtmpError::AlreadyFailed);
        }
        let result = self.receive_inner(input);
        self.failed = result.is_err();
        result
    }

    fn receive_inner(&mut self, input: &[u8]) -> Result<(), RtmpError> {
        self.bytes_received += input.len() as u64;
        let mut rest = self.handshake.receive(input, &mut self.output)?;
        if !self.handshake.is_done() {
            return Ok(());
        }
        while let Some(message) = self.reader.next_message(&mut rest)? {
            self.handle(message)?;
        }
        self.acknowledge();
        Ok(())
    }

    /// The next event, in arrival order.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Bytes to write to the socket; empty when there are none.
    pub fn take_output(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.output)
    }

    /// Accepts the publish that [`Event::PublishRequested`] asked for: the client is told
    /// `NetStream.Publish.Start` and media is read from now on. Does nothing otherwise.
    pub fn accept_publish(&mut self) {
        let State::PublishPending { stream_id, stream_key } = &self.state else { return };
        let (stream_id, description) = (*stream_id, format!("{stream_key} is now published."));
        self.send_control(USER_CONTROL, &control::user_control(STREAM_BEGIN, stream_id));
        self.send_command(
            stream_id,
            &command::on_status("status", "NetStream.Publish.Start", &description),
        );
        self.state = State::Publishing;
    }

    /// Refuses the requested publish (`NetStream.Publish.BadName` with `description`); any
    /// media after it is an error. The caller closes the connection once the output is sent.
    pub fn reject_publish(&mut self, description: &str) {
        let State::PublishPending { stream_id, .. } = &self.state else { return };
        let stream_id = *stream_id;
        self.send_command(
            stream_id,
            &command::on_status("error", "NetStream.Publish.BadName", description),
        );
        self.state = State::Rejected;
    }

    fn handle(&mut self, message: Message) -> Result<(), RtmpError> {
        let payload = &message.payload;
        match message.type_id {
            SET_CHUNK_SIZE => {
                self.reader.set_chunk_size(control::read_u32(payload, "Set Chunk Size")?)?
            }
            ABORT => self.reader.abort(control::read_u32(payload, "Abort Message")?),
            ACKNOWLEDGEMENT => {
                control::read_u32(payload, "Acknowledgement")?;
            }
            WINDOW_ACK_SIZE => {
                self.peer_ack_window =
                    Some(control::read_u32(payload, "Window Acknowledgement Size")?);
            }
            SET_PEER_BANDWIDTH => {
                // This side sends only small answers, so the client's limit never binds.
                control::read_u32(payload, "Set Peer Bandwidth")?;
            }
            USER_CONTROL => {
                let (event, data) = control::read_user_control(payload)?;
                if event == PING_REQUEST {
                    let time = control::read_u32(data, "Ping Request")?;
                    self.send_control(USER_CONTROL, &control::user_control(PING_RESPONSE, time));
                }
            }
            COMMAND_AMF0 => self.handle_command(&message)?,
            DATA_AMF0 => self.handle_data(payload)?,
            VIDEO => self.handle_video(&message)?,
            AUDIO => self.handle_audio(&message)?,
            DATA_AMF3 => return Err(RtmpError::Amf3Message { what: "data", type_id: DATA_AMF3 }),
            SHARED_OBJECT_AMF3 => {
                return Err(RtmpError::Amf3Message {
                    what: "shared object",
                    type_id: SHARED_OBJECT_AMF3,
                });
            }
            COMMAND_AMF3 => {
                return Err(RtmpError::Amf3Message { what: "command", type_id: COMMAND_AMF3 });
            }
            SHARED_OBJECT_AMF0 => {
                return Err(RtmpError::UnsupportedMessageType(SHARED_OBJECT_AMF0, "shared object"));
            }
            AGGREGATE => return Err(RtmpError::UnsupportedMessageType(AGGREGATE, "aggregate")),
            other => return Err(RtmpError::UnsupportedMessageType(other, "unknown type")),
        }
        Ok(())
    }

    fn handle_command(&mut self, message: &Message) -> Result<(), RtmpError> {
        let command = Command::parse(&message.payload)?;
        if self.state == State::AwaitConnect && command.name != "connect" {
            return Err(RtmpError::CommandBeforeConnect(command.name));
        }
        let txn = command.transaction_id;
        match command.name.as_str() {
            "connect" => self.connect(&command)?,
            "releaseStream" => self.send_command(0, &command::result(txn, Amf0Value::Undefined)),
            "FCPublish" => {
                let key = command.first_string_arg().unwrap_or_default().to_owned();
                self.send_command(0, &command::on_fc_publish(&key));
            }
            "createStream" => {
                if self.streams_created >= self.config.max_streams {
                    return Err(RtmpError::TooManyStreams(self.config.max_streams));
                }
                self.streams_created += 1;
                let id = f64::from(self.streams_created);
                self.send_command(0, &command::result(txn, Amf0Value::Number(id)));
            }
            "publish" => self.publish(&command, message.stream_id)?,
            "FCUnpublish" | "deleteStream" | "closeStream" if self.publish_open => {
                self.publish_open = false;
                self.events.push_back(Event::Unpublished);
                if self.state != State::Rejected {
                    self.state = State::Connected;
                }
            }
            // Answers to calls this side never makes, and calls ingest does not need
            // (getStreamLength, _checkbw…): ignored, as other servers do.
            _ => {}
        }
        Ok(())
    }

    fn connect(&mut self, command: &Command) -> Result<(), RtmpError> {
        if self.state != State::AwaitConnect {
            return Err(RtmpError::ConnectTwice);
        }
        let Some(app) = command.object.get("app").and_then(Amf0Value::as_str) else {
            return Err(RtmpError::MalformedCommand {
                command: "connect",
                what: "an app name in its command object",
            });
        };
        self.app = app.to_owned();
        self.tc_url = command.object.get("tcUrl").and_then(Amf0Value::as_str).map(str::to_owned);
        self.send_control(WINDOW_ACK_SIZE, &self.config.ack_window.to_be_bytes());
        let mut bandwidth = self.config.peer_bandwidth.to_be_bytes().to_vec();
        bandwidth.push(LIMIT_DYNAMIC);
        self.send_control(SET_PEER_BANDWIDTH, &bandwidth);
        let chunk_size = self.config.chunk_size.clamp(1, 0x7FFF_FFFF);
        self.send_control(SET_CHUNK_SIZE, &chunk_size.to_be_bytes());
        self.out_chunk_size = chunk_size;
        self.send_command(0, &command::connect_result(command.transaction_id));
        self.state = State::Connected;
        Ok(())
    }

    fn publish(&mut self, command: &Command, stream_id: u32) -> Result<(), RtmpError> {
        if stream_id == 0 || stream_id > self.streams_created {
            return Err(RtmpError::UnknownStream(stream_id));
        }
        let Some(stream_key) = command.first_string_arg() else {
            return Err(RtmpError::MalformedCommand { command: "publish", what: "a stream name" });
        };
        if self.state != State::Connected {
            return Err(RtmpError::PublishTwice);
        }
        self.state = State::PublishPending { stream_id, stream_key: stream_key.to_owned() };
        self.publish_open = true;
        self.events.push_back(Event::PublishRequested {
            app: self.app.clone(),
            stream_key: stream_key.to_owned(),
            tc_url: self.tc_url.clone(),
        });
        Ok(())
    }

    /// Data messages are read only while publishing: before the key is accepted, nothing the
    /// client sends about the stream is passed on.
    fn handle_data(&mut self, payload: &[u8]) -> Result<(), RtmpError> {
        if self.state != State::Publishing {
            return Ok(());
        }
        let values = amf0::decode_all(payload)
            .map_err(|source| RtmpError::Amf { context: "a data message", source })?;
        if let Some(metadata) = metadata::from_data_message(&values) {
            self.events.push_back(Event::Metadata(metadata));
        }
        Ok(())
    }

    fn check_publishing(&self, kind: &'static str) -> Result<(), RtmpError> {
        match self.state {
            State::Publishing => Ok(()),
            State::Rejected => Err(RtmpError::MediaAfterReject(kind)),
            _ => Err(RtmpError::MediaBeforePublish(kind)),
        }
    }

    fn handle_video(&mut self, message: &Message) -> Result<(), RtmpError> {
        self.check_publishing("video")?;
        match media::parse_video(&message.payload, self.nalu_length_size)? {
            VideoBody::Config(record) => {
                self.nalu_length_size = Some(media::avc_nalu_length_size(&record)?);
                self.events.push_back(Event::VideoConfig { avc_decoder_configuration: record });
            }
            VideoBody::Frame { cts_ms, keyframe, data } => {
                let dts_ms = self.timeline.extend(message.timestamp);
                self.events.push_back(Event::Video { dts_ms, cts_ms, keyframe, data });
            }
            VideoBody::Nothing => {}
        }
        Ok(())
    }

    fn handle_audio(&mut self, message: &Message) -> Result<(), RtmpError> {
        self.check_publishing("audio")?;
        match media::parse_audio(&message.payload, self.aac_configured)? {
            AudioBody::Config(config) => {
                self.aac_configured = true;
                self.events.push_back(Event::AudioConfig { audio_specific_config: config });
            }
            AudioBody::Frame(data) => {
                let pts_ms = self.timeline.extend(message.timestamp);
                self.events.push_back(Event::Audio { pts_ms, data });
            }
            AudioBody::Nothing => {}
        }
        Ok(())
    }

    /// Sends an Acknowledgement whenever a window's worth of bytes arrived since the last
    /// one: the client's window once it announced one, else the one this side announced.
    fn acknowledge(&mut self) {
        let window = u64::from(self.peer_ack_window.unwrap_or(self.config.ack_window));
        if window > 0 && self.bytes_received - self.bytes_acknowledged >= window {
            self.bytes_acknowledged = self.bytes_received;
            // The sequence number is the byte count, wrapping at 32 bits like the protocol's.
            self.send_control(ACKNOWLEDGEMENT, &(self.bytes_received as u32).to_be_bytes());
        }
    }

    fn send_control(&mut self, type_id: u8, payload: &[u8]) {
        write_message(&mut self.output, self.out_chunk_size, CSID_CONTROL, 0, type_id, 0, payload);
    }

    fn send_command(&mut self, stream_id: u32, payload: &[u8]) {
        write_message(
            &mut self.output,
            self.out_chunk_size,
            CSID_COMMAND,
            0,
            COMMAND_AMF0,
            stream_id,
            payload,
        );
    }
}
