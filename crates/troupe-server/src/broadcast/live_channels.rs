//! The channels that are live on this node, each with its one stream: who is pushing it, its
//! HLS packager's read handle (what playback serves), its viewers and its health. One stream
//! per channel: a second push is refused while the first is on (IVS does the same).

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex, OnceLock,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use time::OffsetDateTime;
use tokio::sync::{oneshot, watch};
use troupe_control::live_streams::{IngestConfiguration, StreamHealth};
use troupe_hls::LiveStream;

use super::viewers::Viewers;

/// A stream with no media for this long is STARVING (IVS: the encoder is not keeping up or
/// the network drops it).
const STARVING_AFTER: Duration = Duration::from_secs(2);

/// How media reaches the channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IngestProtocol {
    Rtmp,
    Rtmps,
    Whip,
}

impl IngestProtocol {
    pub fn name(self) -> &'static str {
        match self {
            IngestProtocol::Rtmp => "RTMP",
            IngestProtocol::Rtmps => "RTMPS",
            IngestProtocol::Whip => "WHIP",
        }
    }
}

/// One live stream.
pub struct LiveChannel {
    pub channel_id: String,
    pub channel_name: String,
    /// This push's claim on the channel (a stale release of an earlier push must not end it).
    claim: u64,
    /// The IVS stream id, once the media started and the stream session was recorded.
    pub stream_id: OnceLock<String>,
    pub started: OffsetDateTime,
    pub protocol: IngestProtocol,
    /// Set once the first media arrived and the packager knows its tracks.
    pub stream: OnceLock<LiveStream>,
    pub viewers: Viewers,
    stop: watch::Sender<bool>,
    last_media: Mutex<Option<Instant>>,
    /// What the encoder sends (IVS `ingestConfiguration`).
    ingest: Mutex<IngestConfiguration>,
    /// Resolves once the stream session's start is in the store.
    session_written: Mutex<Option<oneshot::Receiver<()>>>,
}

impl LiveChannel {
    pub fn set_session_written(&self, written: oneshot::Receiver<()>) {
        *self.session_written.lock().unwrap_or_else(|p| p.into_inner()) = Some(written);
    }

    pub fn take_session_written(&self) -> Option<oneshot::Receiver<()>> {
        self.session_written.lock().unwrap_or_else(|p| p.into_inner()).take()
    }

    pub fn ingest(&self) -> IngestConfiguration {
        self.ingest.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn describe(&self, change: impl FnOnce(&mut IngestConfiguration)) {
        change(&mut self.ingest.lock().unwrap_or_else(|p| p.into_inner()));
    }

    /// Notes that media arrived (for the health).
    pub fn media_arrived(&self, now: Instant) {
        *self.last_media.lock().unwrap_or_else(|p| p.into_inner()) = Some(now);
    }

    pub fn health(&self, now: Instant) -> StreamHealth {
        match *self.last_media.lock().unwrap_or_else(|p| p.into_inner()) {
            None => StreamHealth::Unknown,
            Some(at) if now.duration_since(at) > STARVING_AFTER => StreamHealth::Starving,
            Some(_) => StreamHealth::Healthy,
        }
    }

    /// Resolves when StopStream (or shutdown) asks the ingest to end.
    pub fn stop_requested(&self) -> watch::Receiver<bool> {
        self.stop.subscribe()
    }
}

/// Why a push was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("channel {0} is already live: one stream per channel (stop it first, with StopStream)")]
pub struct AlreadyLive(pub String);

#[derive(Default)]
pub struct LiveChannels {
    channels: Mutex<HashMap<String, Arc<LiveChannel>>>,
    claims: AtomicU64,
}

impl LiveChannels {
    /// Makes the channel live with a new stream, unless it is live already.
    pub fn claim(
        &self,
        channel_id: &str,
        channel_name: &str,
        protocol: IngestProtocol,
    ) -> Result<Arc<LiveChannel>, AlreadyLive> {
        let mut channels = self.channels.lock().unwrap_or_else(|p| p.into_inner());
        if channels.contains_key(channel_id) {
            return Err(AlreadyLive(channel_id.to_string()));
        }
        let (stop, _) = watch::channel(false);
        let claim = self.claims.fetch_add(1, Ordering::Relaxed);
        let live = Arc::new(LiveChannel {
            channel_id: channel_id.to_string(),
            channel_name: channel_name.to_string(),
            claim,
            stream_id: OnceLock::new(),
            started: OffsetDateTime::now_utc(),
            protocol,
            stream: OnceLock::new(),
            viewers: Viewers::default(),
            stop,
            last_media: Mutex::new(None),
            ingest: Mutex::new(IngestConfiguration::default()),
            session_written: Mutex::new(None),
        });
        channels.insert(channel_id.to_string(), live.clone());
        Ok(live)
    }

    /// Ends the push `live` (a newer push to the channel is left alone).
    pub fn release(&self, live: &LiveChannel) {
        let mut channels = self.channels.lock().unwrap_or_else(|p| p.into_inner());
        if channels.get(&live.channel_id).is_some_and(|c| c.claim == live.claim) {
            channels.remove(&live.channel_id);
        }
    }

    pub fn get(&self, channel_id: &str) -> Option<Arc<LiveChannel>> {
        self.channels.lock().unwrap_or_else(|p| p.into_inner()).get(channel_id).cloned()
    }

    pub fn all(&self) -> Vec<Arc<LiveChannel>> {
        self.channels.lock().unwrap_or_else(|p| p.into_inner()).values().cloned().collect()
    }

    /// Asks the channel's ingest to end; false when it is not live.
    pub fn stop(&self, channel_id: &str) -> bool {
        match self.get(channel_id) {
            Some(live) => {
                live.stop.send_replace(true);
                true
            }
            None => false,
        }
    }

    /// Asks every ingest to end (shutdown).
    pub fn stop_all(&self) {
        for live in self.all() {
            live.stop.send_replace(true);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_stream_per_channel() {
        let live = LiveChannels::default();
        let first = live.claim("ch1", "show", IngestProtocol::Rtmp).unwrap();
        assert_eq!(
            live.claim("ch1", "show", IngestProtocol::Whip).err(),
            Some(AlreadyLive("ch1".into()))
        );
        assert!(live.claim("ch2", "other", IngestProtocol::Rtmp).is_ok());
        live.release(&first);
        assert!(live.get("ch1").is_none());
        let second = live.claim("ch1", "show", IngestProtocol::Rtmp).unwrap();
        // A stale release (the first push's task ending late) leaves the current one.
        live.release(&first);
        assert!(live.get("ch1").is_some());
        live.release(&second);
        assert!(live.get("ch1").is_none());
    }

    #[test]
    fn stop_reaches_the_ingest() {
        let live = LiveChannels::default();
        let channel = live.claim("ch1", "show", IngestProtocol::Rtmp).unwrap();
        let stop = channel.stop_requested();
        assert!(!*stop.borrow());
        assert!(live.stop("ch1"));
        assert!(*stop.borrow());
        assert!(!live.stop("nope"));
    }

    #[test]
    fn health_follows_the_media() {
        let live = LiveChannels::default();
        let channel = live.claim("ch1", "show", IngestProtocol::Rtmp).unwrap();
        let t0 = Instant::now();
        assert_eq!(channel.health(t0), StreamHealth::Unknown);
        channel.media_arrived(t0);
        assert_eq!(channel.health(t0 + Duration::from_secs(1)), StreamHealth::Healthy);
        assert_eq!(channel.health(t0 + Duration::from_secs(3)), StreamHealth::Starving);
    }
}
