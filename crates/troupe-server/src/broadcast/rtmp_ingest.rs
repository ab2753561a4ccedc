//! RTMP ingest (`rtmp://<host>:<rtmp-port>/app/<streamKey>`, what OBS and ffmpeg send), and
//! RTMPS on the same port when the node has TLS: the first byte tells them apart (a TLS
//! handshake record starts with 0x16, RTMP with its version, 3). The protocol is the sans-IO
//! `troupe_rtmp::ServerSession`; this file reads and writes the socket and hands the media to
//! the channel's [`Ingest`].
//!
//! A stream key is checked before any media is read: until the publish is accepted the session
//! refuses audio and video messages. With TLS on, plain RTMP is taken only for channels that
//! allow it (`insecureIngest`), as IVS does.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use tokio::{
    io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};
use troupe_hls::{AudioSample, AudioTrack, VideoSample, VideoTrack};
use troupe_rtmp::{Event, ServerSession, SessionConfig};

use super::{
    Broadcast,
    ingest::Ingest,
    live_channels::IngestProtocol,
    rtmp_timing::{AacClock, composition_offset, video_time},
};
use crate::tls::NodeTls;

/// The first byte of a TLS record carrying a handshake (RFC 8446 §5.1).
const TLS_HANDSHAKE: u8 = 0x16;
/// Handshake and publish must be done within this: a connection that says nothing goes.
const SETUP_TIMEOUT: Duration = Duration::from_secs(10);
/// A publishing connection that sends nothing for this long is dropped (the stream ends).
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// Listens on `bind` until the process ends.
pub async fn start(
    bind: SocketAddr,
    tls: Option<Arc<NodeTls>>,
    broadcast: Arc<Broadcast>,
) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind(bind).await?;
    let local = listener.local_addr()?;
    tokio::spawn(async move {
        loop {
            let (stream, peer) = match listener.accept().await {
                Ok(accepted) => accepted,
                Err(e) => {
                    tracing::warn!(error = %e, "accepting an RTMP connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            let broadcast = broadcast.clone();
            let tls = tls.clone();
            tokio::spawn(async move {
                if let Err(e) = accept(stream, tls, &broadcast).await {
                    tracing::info!(%peer, error = %e, "RTMP connection ended");
                }
            });
        }
    });
    Ok(local)
}

async fn accept(
    stream: TcpStream,
    tls: Option<Arc<NodeTls>>,
    broadcast: &Broadcast,
) -> Result<(), String> {
    let mut first = [0u8; 1];
    let peeked = tokio::time::timeout(SETUP_TIMEOUT, stream.peek(&mut first))
        .await
        .map_err(|_| "nothing sent".to_string())?
        .map_err(|e| e.to_string())?;
    if peeked == 0 {
        return Ok(());
    }
    match (first[0], tls) {
        (TLS_HANDSHAKE, Some(tls)) => {
            let acceptor = tokio_rustls::TlsAcceptor::from(tls.server_config());
            let secured = tokio::time::timeout(SETUP_TIMEOUT, acceptor.accept(stream))
                .await
                .map_err(|_| "TLS handshake timed out".to_string())?
                .map_err(|e| format!("TLS handshake failed: {e}"))?;
            serve(secured, IngestProtocol::Rtmps, broadcast).await
        }
        (TLS_HANDSHAKE, None) => {
            Err("RTMPS (TLS) asked for, but this node has no TLS configured: use rtmp://".into())
        }
        _ => serve(stream, IngestProtocol::Rtmp, broadcast).await,
    }
}

/// Drives one connection: bytes in, session events, bytes out.
async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    mut io: S,
    protocol: IngestProtocol,
    broadcast: &Broadcast,
) -> Result<(), String> {
    let mut session = ServerSession::new(SessionConfig::default());
    let mut buffer = vec![0u8; 64 * 1024];
    let mut publishing: Option<Publishing> = None;
    let result = loop {
        let timeout = if publishing.is_some() { IDLE_TIMEOUT } else { SETUP_TIMEOUT };
        let mut stop = publishing.as_ref().map(|p| p.ingest.live().stop_requested());
        let read = tokio::select! {
            read = tokio::time::timeout(timeout, io.read(&mut buffer)) => read,
            _ = async { match &mut stop { Some(s) => { let _ = s.wait_for(|stop| *stop).await; } None => std::future::pending().await } } => {
                break Ok(()); // StopStream.
            }
        };
        let n = match read {
            Err(_) => break Err(format!("nothing received for {} s", timeout.as_secs())),
            Ok(Err(e)) => break Err(e.to_string()),
            Ok(Ok(0)) => break Ok(()),
            Ok(Ok(n)) => n,
        };
        if let Err(e) = session.receive(&buffer[..n]) {
            break Err(format!("bad RTMP from the client: {e}"));
        }
        let mut ended = false;
        while let Some(event) = session.poll_event() {
            match event {
                Event::PublishRequested { app, stream_key, .. } => {
                    match broadcast.admit_rtmp(&app, &stream_key, protocol).await {
                        Ok(ingest) => {
                            session.accept_publish();
                            publishing = Some(Publishing::new(ingest));
                        }
                        Err(refusal) => {
                            tracing::info!(%refusal, "RTMP publish refused");
                            session.reject_publish(&refusal);
                            ended = true;
                        }
                    }
                }
                Event::Unpublished => ended = true,
                media => {
                    if let Some(p) = &mut publishing {
                        p.media(media);
                    }
                }
            }
        }
        let out = session.take_output();
        if !out.is_empty()
            && let Err(e) = io.write_all(&out).await
        {
            break Err(e.to_string());
        }
        if ended {
            let _ = io.flush().await;
            break Ok(());
        }
    };
    if let Some(mut p) = publishing {
        p.ingest.finish();
        broadcast.ended(p.ingest.live()).await;
    }
    let _ = io.shutdown().await;
    result
}

/// A connection whose publish was accepted.
struct Publishing {
    ingest: Ingest,
    aac: Option<AacClock>,
}

impl Publishing {
    fn new(ingest: Ingest) -> Publishing {
        Publishing { ingest, aac: None }
    }

    fn media(&mut self, event: Event) {
        match event {
            Event::Metadata(meta) => {
                // Encoders that send no video say so by leaving out its codec and size.
                let video = meta.video_codec_id.is_some() || meta.width.is_some();
                self.ingest.set_expects_video(video);
                self.ingest.describe(&meta);
            }
            Event::VideoConfig { avc_decoder_configuration } => {
                match VideoTrack::from_avcc(avc_decoder_configuration) {
                    Ok(track) => self.ingest.set_video(track),
                    Err(e) => tracing::warn!(error = %e, "unusable AVC sequence header"),
                }
            }
            Event::AudioConfig { audio_specific_config } => {
                let track = AudioTrack::Aac { audio_specific_config };
                match track.timescale() {
                    Ok(rate) => {
                        self.aac = Some(AacClock::new(rate));
                        self.ingest.set_audio(track);
                    }
                    Err(e) => tracing::warn!(error = %e, "unusable AAC sequence header"),
                }
            }
            Event::Video { dts_ms, cts_ms, keyframe, data } => {
                self.ingest.video(VideoSample {
                    dts: video_time(dts_ms),
                    cts: composition_offset(cts_ms),
                    keyframe,
                    data,
                });
            }
            Event::Audio { pts_ms, data } => {
                if let Some(clock) = &mut self.aac {
                    let pts = clock.frame_time(pts_ms);
                    self.ingest.audio(AudioSample { pts, data });
                }
            }
            Event::PublishRequested { .. } | Event::Unpublished => {}
        }
    }
}
