//! A WebRTC client built on str0m, as a browser or OBS would be: it offers one track (sending
//! or receiving), takes the server's answer, and then publishes numbered synthetic frames or
//! records the frames it receives. Signaling is the caller's (WHIP over HTTP, or a worker
//! directly in tests). Used by the tests; `troupe-load` has peers of its own (RTP mode, real
//! encoded media, many per thread).
//!
//! Frames carry a counter so that order and loss can be checked: Opus frames are
//! `[0xF8, counter, 0xFE]` (a TOC byte and padding) and the whole frame number (u32, little
//! endian; see [`audio_frame_number`]) every 20 ms; VP8 frames are a frame header
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

/// Which video codec a client offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VideoChoice {
    /// VP8, H.264 and the rest of str0m's defaults (sends VP8).
    Default,
    /// Only H.264 (a client that cannot decode VP8): it receives, it does not send.
    H264Only,
}

/// One track of a client.
struct Track {
    mid: Mid,
    kind: MediaKind,
    next_frame: Instant,
    frames_sent: u64,
}

/// One client with one or more tracks.
pub struct Client {
    rtc: Rtc,
    socket: UdpSocket,
    tracks: Vec<Track>,
    pending: Option<SdpPendingOffer>,
    /// ICE and DTLS completed.
    pub connected: bool,
    /// Frames received (when receiving), of every track.
    pub received: Vec<Vec<u8>>,
    /// Frames received per kind.
    pub audio_frames: usize,
    pub video_frames: usize,
    /// Frames sent (when sending), of every track.
    pub frames_sent: u64,
    /// Keyframe requests received from the server (when sending video).
    pub keyframe_requests: usize,
    keyframe_wanted: bool,
}

impl Client {
    /// A client on `bind` (e.g. `127.0.0.1:0`) offering one track; returns it and the offer.
    pub fn offer(
        bind: SocketAddr,
        kind: MediaKind,
        direction: Direction,
    ) -> Result<(Client, String), ClientError> {
        Client::offer_tracks(bind, &[(kind, direction)], VideoChoice::Default)
    }

    /// A client offering several tracks (e.g. audio and video, as a browser publishes).
    pub fn offer_tracks(
        bind: SocketAddr,
        tracks: &[(MediaKind, Direction)],
        video: VideoChoice,
    ) -> Result<(Client, String), ClientError> {
        let socket = UdpSocket::bind(bind)?;
        let config = match video {
            VideoChoice::Default => RtcConfig::new(),
            VideoChoice::H264Only => {
                RtcConfig::new().clear_codecs().enable_opus(true, false).enable_h264(true)
            }
        };
        let mut rtc = config.build(Instant::now());
        if let Ok(candidate) = Candidate::host(socket.local_addr()?, "udp") {
            rtc.add_local_candidate(candidate);
        }
        let mut api = rtc.sdp_api();
        let now = Instant::now();
        let tracks: Vec<Track> = tracks
            .iter()
            .map(|&(kind, direction)| Track {
                mid: api.add_media(kind, direction, None, None, None),
                kind,
                next_frame: now,
                frames_sent: 0,
            })
            .collect();
        let Some((offer, pending)) = api.apply() else {
            return Err(ClientError::Answer("nothing to offer".into()));
        };
        let client = Client {
            rtc,
            socket,
            tracks,
            pending: Some(pending),
            connected: false,
            received: Vec::new(),
            audio_frames: 0,
            video_frames: 0,
            frames_sent: 0,
            keyframe_requests: 0,
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

    /// The client's ICE credentials (ufrag, password), as in its offer.
    pub fn ice_credentials(&mut self) -> (String, String) {
        let creds = self.rtc.direct_api().local_ice_credentials();
        (creds.ufrag, creds.pass)
    }

    /// Restarts ICE on the client's side with new credentials, given the server's new ones
    /// (from a WHIP PATCH answer). Returns the client's new (ufrag, password).
    pub fn restart_ice(&mut self, server_ufrag: &str, server_pwd: &str) -> (String, String) {
        let local = str0m::IceCreds::new();
        let mut api = self.rtc.direct_api();
        api.set_local_ice_credentials(local.clone());
        api.set_remote_ice_credentials(str0m::IceCreds {
            ufrag: server_ufrag.to_string(),
            pass: server_pwd.to_string(),
        });
        (local.ufrag, local.pass)
    }

    fn send_frame(&mut self, index: usize) -> Result<(), ClientError> {
        let track = &mut self.tracks[index];
        let (codec, clock, period) = match track.kind {
            MediaKind::Audio => (Codec::Opus, Frequency::FORTY_EIGHT_KHZ, 20),
            MediaKind::Video => (Codec::Vp8, Frequency::NINETY_KHZ, 33),
        };
        let counter = track.frames_sent as u8;
        let frame = match track.kind {
            MediaKind::Audio => {
                let mut frame = vec![0xF8u8, counter, 0xFE];
                frame.extend_from_slice(&(track.frames_sent as u32).to_le_bytes());
                frame
            }
            MediaKind::Video => {
                let key = self.keyframe_wanted || track.frames_sent.is_multiple_of(50);
                self.keyframe_wanted = false;
                vec![if key { 0x10 } else { 0x11 }, counter, 0x9d, 0x01, 0x2a]
            }
        };
        track.next_frame += Duration::from_millis(period);
        let ticks = u64::from(clock.get()) * period / 1000;
        let time = MediaTime::new(track.frames_sent * ticks, clock);
        let Some(writer) = self.rtc.writer(track.mid) else { return Ok(()) };
        let Some(pt) = writer.payload_params().find(|p| p.spec().codec == codec).map(|p| p.pt())
        else {
            return Ok(()); // The server did not accept this codec: nothing to send.
        };
        writer.write(pt, Instant::now(), time, frame)?;
        track.frames_sent += 1;
        self.frames_sent += 1;
        Ok(())
    }

    /// The sending track whose next frame is due first, and when.
    fn next_frame(&self) -> Option<(usize, Instant)> {
        if !self.connected {
            return None;
        }
        self.tracks
            .iter()
            .enumerate()
            .filter(|(_, t)| self.rtc.media(t.mid).is_some_and(|m| m.direction().is_sending()))
            .map(|(i, t)| (i, t.next_frame))
            .min_by_key(|(_, at)| *at)
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
                    Output::Event(event) => self.on_event(event),
                }
            };
            let next = self.next_frame();
            if let Some((index, at)) = next
                && Instant::now() >= at
            {
                self.send_frame(index)?;
                continue;
            }
            let wake = next.map_or(timeout, |(_, at)| timeout.min(at));
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

    fn on_event(&mut self, event: Event) {
        match event {
            Event::Connected => self.connected = true,
            Event::MediaData(data) => {
                match self.tracks.iter().find(|t| t.mid == data.mid).map(|t| t.kind) {
                    Some(MediaKind::Audio) => self.audio_frames += 1,
                    Some(MediaKind::Video) => self.video_frames += 1,
                    None => {}
                }
                self.received.push(data.data.to_vec());
            }
            Event::KeyframeRequest(_) => {
                self.keyframe_wanted = true;
                self.keyframe_requests += 1;
            }
            _ => {}
        }
    }
}

/// The frame number an audio frame of this client carries (its counter byte wraps at 256).
pub fn audio_frame_number(frame: &[u8]) -> Option<u32> {
    Some(u32::from_le_bytes(frame.get(3..7)?.try_into().ok()?))
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
