//! One simulated player, in one of two ways:
//!
//! - **low latency** (`ll`): what an LL-HLS player does at the live edge: a blocking reload of
//!   the media playlist for the part the server hints at next (`_HLS_msn`, `_HLS_part`), then
//!   a GET of each part it did not have. A part's *lateness* is when its last byte arrived
//!   minus the wall-clock end of its media (PROGRAM-DATE-TIME + duration); the player stalls
//!   when that exceeds a part's duration (it has played what it had by then).
//! - **polling** (`poll`): a plain HLS player: the playlist every `--poll-interval`, and each
//!   segment it did not have. Without wall-clock stamps in the playlist, a poll or a segment
//!   whose response takes longer than `--stall` (default: the target duration) is a stall.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering::Relaxed},
    },
    time::{Duration, Instant, SystemTime},
};

use super::{client::Connection, playlist};
use crate::histogram::Histogram;

const SHARDS: usize = 64;

/// What every viewer adds to, counted only while `measuring`.
pub struct Shared {
    pub measuring: AtomicBool,
    pub stop: AtomicBool,
    pub playlist_requests: AtomicU64,
    pub media_requests: AtomicU64,
    pub bytes: AtomicU64,
    pub errors: AtomicU64,
    /// Media that arrived before the wall-clock end its PROGRAM-DATE-TIME gives (the server's
    /// clock of the stream started a little after the publisher's): recorded as 0 late.
    pub early: AtomicU64,
    pub last_error: Mutex<Option<String>>,
    pub stalls: Vec<AtomicU32>,
    /// Media requests each viewer completed in the window.
    pub got: Vec<AtomicU32>,
    /// Lateness of parts (ll) or of segments with PROGRAM-DATE-TIME (poll), µs.
    lateness: Vec<Mutex<Histogram>>,
    /// Response times of playlist requests (non-blocking ones only: a blocking reload waits
    /// for the part by design) and of media requests, µs.
    playlist_response: Vec<Mutex<Histogram>>,
    media_response: Vec<Mutex<Histogram>>,
}

fn merged(shards: &[Mutex<Histogram>]) -> Histogram {
    let mut all = Histogram::default();
    for shard in shards {
        all.merge(&shard.lock().unwrap_or_else(|p| p.into_inner()));
    }
    all
}

impl Shared {
    pub fn new(viewers: usize) -> Self {
        let shards = || (0..SHARDS).map(|_| Mutex::new(Histogram::default())).collect();
        Shared {
            measuring: AtomicBool::new(false),
            stop: AtomicBool::new(false),
            playlist_requests: AtomicU64::new(0),
            media_requests: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            early: AtomicU64::new(0),
            last_error: Mutex::new(None),
            stalls: (0..viewers).map(|_| AtomicU32::new(0)).collect(),
            got: (0..viewers).map(|_| AtomicU32::new(0)).collect(),
            lateness: shards(),
            playlist_response: shards(),
            media_response: shards(),
        }
    }

    pub fn lateness(&self) -> Histogram {
        merged(&self.lateness)
    }
    pub fn playlist_response(&self) -> Histogram {
        merged(&self.playlist_response)
    }
    pub fn media_response(&self) -> Histogram {
        merged(&self.media_response)
    }

    fn measuring(&self) -> bool {
        self.measuring.load(Relaxed)
    }

    fn record(&self, shards: &[Mutex<Histogram>], id: usize, value: Duration) {
        let micros = value.as_micros().min(u128::from(u64::MAX)) as u64;
        shards[id % SHARDS].lock().unwrap_or_else(|p| p.into_inner()).record(micros);
    }

    fn error(&self, e: anyhow::Error) {
        if self.measuring() {
            self.errors.fetch_add(1, Relaxed);
        }
        let mut last = self.last_error.lock().unwrap_or_else(|p| p.into_inner());
        *last = Some(format!("{e:#}"));
    }

    fn stall(&self, id: usize) {
        if self.measuring() {
            self.stalls[id].fetch_add(1, Relaxed);
        }
    }
}

/// Where a viewer fetches from.
pub struct Source {
    pub addr: std::net::SocketAddr,
    pub host: String,
    /// The media playlist's path.
    pub playlist: String,
    /// Its directory (relative URIs are resolved against it), ending in '/'.
    pub dir: String,
}

impl Source {
    fn resolve(&self, uri: &str) -> String {
        if uri.starts_with('/') { uri.to_string() } else { format!("{}{uri}", self.dir) }
    }
}

pub struct Viewer {
    pub id: usize,
    pub shared: Arc<Shared>,
    pub source: Arc<Source>,
    pub stall_after: Option<Duration>,
}

impl Viewer {
    fn connection(&self) -> Connection {
        // A distinct user agent per viewer: the server counts players by address and agent.
        Connection::new(self.source.addr, &self.source.host, format!("troupe-load-hls/{}", self.id))
    }

    async fn fetch(&self, conn: &mut Connection, path: &str, playlist: bool) -> Option<Duration> {
        let started = Instant::now();
        let status = match conn.get(path).await {
            Ok(status) => status,
            Err(e) => {
                self.shared.error(e);
                return None;
            }
        };
        let took = started.elapsed();
        if status != 200 {
            let text = String::from_utf8_lossy(&conn.body);
            let text = crate::http::truncate(text.trim(), 120).to_string();
            self.shared.error(anyhow::anyhow!("GET {path}: {status} {text}"));
            return None;
        }
        if self.shared.measuring() {
            let counter =
                if playlist { &self.shared.playlist_requests } else { &self.shared.media_requests };
            counter.fetch_add(1, Relaxed);
            if !playlist {
                self.shared.got[self.id].fetch_add(1, Relaxed);
            }
            self.shared.bytes.fetch_add(conn.body.len() as u64, Relaxed);
        }
        Some(took)
    }

    fn lateness(&self, media: &playlist::Media) -> Option<Duration> {
        let end = media.end?;
        Some(SystemTime::now().duration_since(end).unwrap_or_else(|_| {
            self.shared.early.fetch_add(1, Relaxed);
            Duration::ZERO
        }))
    }

    async fn pause(&self) {
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    /// The low-latency player, until `stop`.
    pub async fn low_latency(self) {
        let mut conn = self.connection();
        let mut hint: Option<(u64, u32)> = None;
        let mut have: Option<(u64, u32)> = None;
        let mut init_done = false;
        while !self.shared.stop.load(Relaxed) {
            let path = match hint {
                Some((msn, part)) => {
                    format!("{}?_HLS_msn={msn}&_HLS_part={part}", self.source.playlist)
                }
                None => self.source.playlist.clone(),
            };
            let Some(took) = self.fetch(&mut conn, &path, true).await else {
                hint = None;
                self.pause().await;
                continue;
            };
            if hint.is_none() && self.shared.measuring() {
                self.shared.record(&self.shared.playlist_response, self.id, took);
            }
            let parsed = match std::str::from_utf8(&conn.body)
                .map_err(anyhow::Error::from)
                .and_then(playlist::parse)
            {
                Ok(p) => p,
                Err(e) => {
                    self.shared.error(e);
                    hint = None;
                    self.pause().await;
                    continue;
                }
            };
            if parsed.hint.is_none() {
                self.shared.error(anyhow::anyhow!(
                    "the playlist has no preload hint (not LL-HLS, or ended)"
                ));
                hint = None;
                self.pause().await;
                continue;
            }
            hint = parsed.hint;
            if !init_done && let Some(init) = &parsed.init {
                let path = self.source.resolve(init);
                init_done = self.fetch(&mut conn, &path, false).await.is_some();
            }
            let stall_after = self
                .stall_after
                .or(parsed.part_target.map(Duration::from_secs_f64))
                .unwrap_or(Duration::from_secs(1));
            // Joining, a player starts at the newest part; then it takes every part it lacks.
            let wanted: Vec<playlist::Media> = match have {
                None => parsed.parts.last().cloned().into_iter().collect(),
                Some(had) => parsed.parts.iter().filter(|p| p.position() > had).cloned().collect(),
            };
            for part in wanted {
                let path = self.source.resolve(&part.uri);
                let Some(took) = self.fetch(&mut conn, &path, false).await else { break };
                have = Some(part.position());
                if self.shared.measuring() {
                    self.shared.record(&self.shared.media_response, self.id, took);
                    if let Some(late) = self.lateness(&part) {
                        self.shared.record(&self.shared.lateness, self.id, late);
                        if late > stall_after {
                            self.shared.stall(self.id);
                        }
                    }
                }
            }
        }
    }

    /// The polling player, until `stop`. `phase` spreads the viewers' polls over the interval.
    pub async fn polling(self, interval: Duration, phase: Duration) {
        let mut conn = self.connection();
        let mut have: Option<u64> = None;
        tokio::time::sleep(phase).await;
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        while !self.shared.stop.load(Relaxed) {
            ticks.tick().await;
            let Some(took) = self.fetch(&mut conn, &self.source.playlist, true).await else {
                continue;
            };
            let parsed = match std::str::from_utf8(&conn.body)
                .map_err(anyhow::Error::from)
                .and_then(playlist::parse)
            {
                Ok(p) => p,
                Err(e) => {
                    self.shared.error(e);
                    continue;
                }
            };
            let stall_after = self
                .stall_after
                .unwrap_or(Duration::from_secs_f64(parsed.target_duration.max(0.5)));
            if self.shared.measuring() {
                self.shared.record(&self.shared.playlist_response, self.id, took);
                if took > stall_after {
                    self.shared.stall(self.id);
                }
            }
            let wanted: Vec<playlist::Media> = match have {
                None => parsed.segments.last().cloned().into_iter().collect(),
                Some(had) => parsed.segments.iter().filter(|s| s.msn > had).cloned().collect(),
            };
            for segment in wanted {
                let path = self.source.resolve(&segment.uri);
                let Some(took) = self.fetch(&mut conn, &path, false).await else { break };
                have = Some(segment.msn);
                if self.shared.measuring() {
                    self.shared.record(&self.shared.media_response, self.id, took);
                    if let Some(late) = self.lateness(&segment) {
                        self.shared.record(&self.shared.lateness, self.id, late);
                    }
                    if took > stall_after {
                        self.shared.stall(self.id);
                    }
                }
            }
        }
    }
}
