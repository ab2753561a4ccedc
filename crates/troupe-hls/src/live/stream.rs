//! The read side of a live stream, for HTTP handlers: every answer is a clone of bytes rendered
//! once, and blocking requests wait on the packager's snapshots.

use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::watch;

use super::names::FileName;
use super::state::Snapshot;

pub const PLAYLIST_CONTENT_TYPE: &str = "application/vnd.apple.mpegurl";

/// Cheap to clone; one per HTTP handler is fine.
#[derive(Debug, Clone)]
pub struct LiveStream {
    snapshots: watch::Receiver<Arc<Snapshot>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MediaFile {
    pub bytes: Bytes,
    pub content_type: &'static str,
    /// Never changes under this name: may be cached for good.
    pub immutable: bool,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PlaylistError {
    /// HTTP 400, RFC 8216bis §6.2.5.2.
    #[error("_HLS_msn={requested} is more than two segments ahead of the last one ({last})")]
    TooFarAhead { requested: u64, last: i64 },
    /// HTTP 400.
    #[error("_HLS_part given without _HLS_msn")]
    PartWithoutMsn,
    /// HTTP 503: the stream did not produce the part in time (stalled publisher).
    #[error("segment {msn} part {part:?} did not arrive within the blocking timeout")]
    Timeout { msn: u64, part: Option<u32> },
}

impl LiveStream {
    pub(crate) fn new(snapshots: watch::Receiver<Arc<Snapshot>>) -> LiveStream {
        LiveStream { snapshots }
    }

    fn current(&self) -> Arc<Snapshot> {
        self.snapshots.borrow().clone()
    }

    /// index.m3u8: `None` until the first part exists (nothing to play yet).
    pub fn multivariant(&self) -> Option<Bytes> {
        self.current().multivariant.clone()
    }

    /// True once the publisher has finished (the playlist carries EXT-X-ENDLIST).
    pub fn ended(&self) -> bool {
        self.current().ended
    }

    /// media.m3u8. With `msn` (and `part`), waits until the playlist holds that segment (or
    /// part) — a blocking playlist reload.
    pub async fn media_playlist(
        &self,
        msn: Option<u64>,
        part: Option<u32>,
    ) -> Result<Bytes, PlaylistError> {
        let snapshot = self.current();
        let Some(msn) = msn else {
            return match part {
                Some(_) => Err(PlaylistError::PartWithoutMsn),
                None => Ok(snapshot.media_playlist.clone()),
            };
        };
        if snapshot.has(msn, part) {
            return Ok(snapshot.media_playlist.clone());
        }
        let last_complete = snapshot.open_msn as i64 - 1;
        if msn as i64 > last_complete + 2 || msn > u64::MAX / 2 {
            return Err(PlaylistError::TooFarAhead { requested: msn, last: last_complete });
        }
        match self.wait_for(snapshot.blocking_timeout, |s| s.has(msn, part)).await {
            Some(snapshot) => Ok(snapshot.media_playlist.clone()),
            None => Err(PlaylistError::Timeout { msn, part }),
        }
    }

    /// init, segment and part files by name. A request for the part the playlist's preload
    /// hint names waits until it is complete.
    pub async fn file(&self, name: &str) -> Option<MediaFile> {
        let snapshot = self.current();
        let file = snapshot.names.parse(name)?;
        if let Some(found) = find(&snapshot, file) {
            return Some(found);
        }
        let FileName::Part(msn, index) = file else { return None };
        let is_hint = !snapshot.ended
            && msn == snapshot.open_msn
            && index as usize == snapshot.open_parts.len();
        if !is_hint {
            return None;
        }
        // Done waiting once the part exists or can no longer come (its segment closed first).
        let settled =
            |s: &Snapshot| s.ended || s.open_msn != msn || s.open_parts.len() > index as usize;
        let snapshot = self.wait_for(snapshot.blocking_timeout, settled).await?;
        find(&snapshot, file)
    }

    /// The first snapshot satisfying `ready` within `timeout`; after the packager is gone, the
    /// last one if it satisfies.
    async fn wait_for(
        &self,
        timeout: std::time::Duration,
        ready: impl Fn(&Snapshot) -> bool,
    ) -> Option<Arc<Snapshot>> {
        let mut receiver = self.snapshots.clone();
        match tokio::time::timeout(timeout, receiver.wait_for(|s| ready(s))).await {
            Ok(Ok(snapshot)) => Some(snapshot.clone()),
            Ok(Err(_closed)) => Some(self.current()).filter(|s| ready(s)),
            Err(_elapsed) => None,
        }
    }
}

fn find(snapshot: &Snapshot, file: FileName) -> Option<MediaFile> {
    let bytes = match file {
        FileName::Init => snapshot.init.clone(),
        FileName::Segment(msn) => snapshot.segment(msn)?.bytes.clone(),
        FileName::Part(msn, index) => snapshot.part(msn, index)?.bytes.clone(),
    };
    Some(MediaFile { bytes, content_type: snapshot.content_type, immutable: true })
}
