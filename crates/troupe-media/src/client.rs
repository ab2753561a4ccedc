//! A WebRTC client built on str0m, as a browser or OBS would be: it offers one track (sending
//! or receiving), takes the server's answer, and then publishes numbered synthetic frames or
//! records the frames it receives. Signaling is the caller's (WHIP over HTTP, or a worker
//! directly in tests). Used by the tests and, later, by the load tool.
//!
//! Frames carry a counter so that order and loss can be checked: Opus frames are
//! `[0xF8, counter, 0xFE]` (a TOC byte and padding) every 20 ms; VP8 frames are a frame header
//! whose bit 0 marks a keyframe (clear) or not, then the counter, every 33 ms — a keyframe every
//! 50 frames, or at once when the server asks (PLI/FIR).

use std::{
    io,
    net::{SocketAddr, UdpSocket},
    time::{Duration, Instant},
};

use str0m::{
    Candidate, Event, Input, Output, Rtc, RtcConfig, RtcError,
    change::{SdpAnswer, SdpPendingOffer},
    format::Codec,
    media::{Direction, Frequency, MediaKind, MediaTime, Mid},
    net::{Protocol, Receive},
};

/// Why the client stopped.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("network: {0}")]
    Io(#[from] io::Error),
    #[error("WebRTC: {0}")]
    Rtc(#[from] RtcError),
    #[error("the answer is not valid SDP: {0}")]
    Answer(String),
}

/// One client with one track.
pub struct Client {
    rtc: Rtc,
    socket: UdpSocket,
    mid: Mid,
    kind: MediaKind,
    pending: Option<SdpPendingOffer>,
    /// ICE and DTLS completed.
    pub connected: bool,
    /// Frames received (when receiving).
    pub received: Vec<Vec<u8>>,
    /// Frames sent (when sending).
    pub frames_sent: u64,
    /// Keyframe requests received from the server (when sending video).
    pub keyframe_requests: usize,
    next_frame: Instant,
    keyframe_wanted: bool,
}

impl Client {
    /// A client on `bind` (e.g. `127.0.0.1:0`) offering one track; returns it and the offer.
    pub fn offer(
        bind: SocketAddr,
        kind: MediaKind,
        direction: Direction,
    ) -> Result<(Client, String), ClientError> {
        let socket = UdpSocket::bind(bind)?;
        let mut rtc = RtcConfig::new().build(Instant::now());
        if let Ok(candidate) = Candidate::host(socket.local_addr()?, "udp") {
            rtc.add_local_candidate(candidate);
        }
        let mut api = rtc.sdp_api();
        let mid = api.add_media(kind, direction, None, None, None);
        let Some((offer, pending)) = api.apply() else {
            return Err(ClientError::Answer("nothing to offer".into()));
        };
        let client = Client {
            rtc,
            socket,
            mid,
            kind,
            pending: Some(pending),
            connected: false,
            received: Vec::new(),
            frames_sent: 0,
            keyframe_requests: 0,
            next_frame: Instant::now(),
            keyframe_wanted: false,
        };
        Ok((client, offer.to_sdp_string()))
    }

    /// Applies the server's answer.
    pub fn accept(&mut self, answer: &str) -> Result<(), ClientError> {
        let answer =
            SdpAnswer::from_sdp_string(answer).map_err(|e| ClientError::Answer(e.to_string()))?;
        let Some(pending) = self.pending.take() else {
            return Err(ClientError::Answer("the offer was answered already".into()));
        };
        self.rtc.sdp_api().accept_answer(pending, answer)?;
        Ok(())
    }

    fn send_frame(&mut self) -> Result<(), ClientError> {
        let (codec, clock, period) = match self.kind {
            MediaKind::Audio => (Codec::Opus, Frequency::FORTY_EIGHT_KHZ, 20),
            MediaKind::Video => (Codec::Vp8, Frequency::NINETY_KHZ, 33),
        };
        let counter = self.frames_sent as u8;
        let frame = match self.kind {
            MediaKind::Audio => vec![0xF8u8, counter, 0xFE],
            MediaKind::Video => {
                let key = self.keyframe_wanted || self.frames_sent.is_multiple_of(50);
                self.keyframe_wanted = false;
                vec![if key { 0x10 } else { 0x11 }, counter, 0x9d, 0x01, 0x2a]
            }
        };
        self.next_frame += Duration::from_millis(period);
        let Some(writer) = self.rtc.writer(self.mid) else { return Ok(()) };
        let Some(pt) = writer.payload_params().find(|p| p.spec().codec == codec).map(|p| p.pt())
        else {
            return Ok(()); // The server did not accept this codec: nothing to send.
        };
        let ticks = u64::from(clock.get()) * period / 1000;
        let time = MediaTime::new(self.frames_sent * ticks, clock);
        writer.write(pt, Instant::now(), time, frame)?;
        self.frames_sent += 1;
        Ok(())
    }

    /// Runs the client until `deadline`, sending frames on time when it publishes.
    pub fn run_until(&mut self, deadline: Instant) -> Result<(), ClientError> {
        let mut buffer = vec![0u8; 2048];
        while Instant::now() < deadline {
            let timeout = loop {
                match self.rtc.poll_output()? {
                    Output::Timeout(at) => break at,
                    Output::Transmit(t) => {
                        self.socket.send_to(&t.contents, t.destination)?;
                    }
                    Output::Event(Event::Connected) => self.connected = true,
                    Output::Event(Event::MediaData(data)) => self.received.push(data.data.to_vec()),
                    Output::Event(Event::KeyframeRequest(_)) => {
                        self.keyframe_wanted = true;
                        self.keyframe_requests += 1;
                    }
                    Output::Event(_) => {}
                }
            };
            let sending = self.rtc.media(self.mid).is_some_and(|m| m.direction().is_sending());
            if sending && self.connected && Instant::now() >= self.next_frame {
                self.send_frame()?;
                continue;
            }
            let wake =
                if sending && self.connected { timeout.min(self.next_frame) } else { timeout };
            let wait = wake
                .min(deadline)
                .saturating_duration_since(Instant::now())
                .max(Duration::from_millis(1));
            self.socket.set_read_timeout(Some(wait))?;
            let input = match self.socket.recv_from(&mut buffer) {
                Ok((n, source)) => match buffer[..n].try_into() {
                    Ok(contents) => Input::Receive(
                        Instant::now(),
                        Receive {
                            proto: Protocol::Udp,
                            source,
                            destination: self.socket.local_addr()?,
                            contents,
                        },
                    ),
                    Err(_) => continue,
                },
                Err(e)
                    if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) =>
                {
                    Input::Timeout(Instant::now())
                }
                Err(e) => return Err(e.into()),
            };
            self.rtc.handle_input(input)?;
        }
        Ok(())
    }
}

/// Runs several clients side by side, in small slices, until `done` or `limit` passes.
pub fn run_together(
    clients: &mut [&mut Client],
    limit: Duration,
    mut done: impl FnMut(&[&mut Client]) -> bool,
) -> Result<(), ClientError> {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline && !done(clients) {
        for client in clients.iter_mut() {
            client.run_until(Instant::now() + Duration::from_millis(5))?;
        }
    }
    Ok(())
}
