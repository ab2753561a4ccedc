//! The worker's side of a tap (WHIP ingest, a participant's recording): packets go into a
//! bounded queue for a task, and the worker thread never waits. A full queue drops the packet
//! (the depacketizer sees the gap and recovers at the next keyframe, which it asks for).

use std::sync::{
    Arc,
    atomic::{AtomicBool, AtomicU64, Ordering},
};

use tokio::sync::mpsc;
use troupe_media::tap::{MediaTap, TappedPacket};

/// Packets queued between the worker and the task: a few seconds of a 4 Mbit/s stream.
const DEPTH: usize = 2048;

pub struct TapQueue {
    queue: mpsc::Sender<TappedPacket>,
    wants_keyframe: AtomicBool,
    dropped: AtomicU64,
}

impl TapQueue {
    /// The tap (for the media session, which should be its only strong owner: the session's
    /// end then closes the queue) and the queue's receiving end (for the task).
    pub fn new() -> (Arc<TapQueue>, mpsc::Receiver<TappedPacket>) {
        let (queue, packets) = mpsc::channel(DEPTH);
        let tap =
            TapQueue { queue, wants_keyframe: AtomicBool::new(false), dropped: AtomicU64::new(0) };
        (Arc::new(tap), packets)
    }

    /// Asks the publisher for a keyframe, with the next packet.
    pub fn want_keyframe(&self) {
        self.wants_keyframe.store(true, Ordering::Relaxed);
    }
}

impl Drop for TapQueue {
    // With the session: say whether its task kept up.
    fn drop(&mut self) {
        let dropped = self.dropped.load(Ordering::Relaxed);
        if dropped > 0 {
            tracing::warn!(
                dropped,
                "a tap's task fell behind: packets were dropped (the stream recovered at keyframes)"
            );
        }
    }
}

impl MediaTap for TapQueue {
    fn packet(&self, packet: TappedPacket) -> bool {
        if self.queue.try_send(packet).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
        self.wants_keyframe.swap(false, Ordering::Relaxed)
    }
}

/// Asks a WebRTC publisher for a keyframe when it has sent none for `interval`. Browsers send
/// keyframes only when asked (or every few minutes); HLS needs one to start every segment,
/// and a player joining needs one at the start of a recent part. IVS asks encoders for one
/// every 2 seconds.
pub struct KeyframeCadence {
    interval: std::time::Duration,
    last: Option<std::time::Instant>,
    asked: Option<std::time::Instant>,
}

impl KeyframeCadence {
    pub fn new(interval: std::time::Duration) -> KeyframeCadence {
        KeyframeCadence { interval, last: None, asked: None }
    }

    /// Notes a video sample; returns whether to ask for a keyframe now.
    pub fn sample(&mut self, keyframe: bool, now: std::time::Instant) -> bool {
        if keyframe {
            self.last = Some(now);
            self.asked = None;
            return false;
        }
        let due = self.last.is_none_or(|at| now.duration_since(at) >= self.interval);
        // Once per interval: the answer takes a round trip and an encode.
        let asked_lately = self.asked.is_some_and(|at| now.duration_since(at) < self.interval / 4);
        if due && !asked_lately {
            self.asked = Some(now);
            return true;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn asks_when_no_keyframe_came_for_an_interval() {
        let mut cadence = KeyframeCadence::new(Duration::from_secs(2));
        let t0 = Instant::now();
        assert!(!cadence.sample(true, t0));
        assert!(!cadence.sample(false, t0 + Duration::from_secs(1)));
        assert!(cadence.sample(false, t0 + Duration::from_secs(2)));
        // Not again until a quarter interval passed…
        assert!(!cadence.sample(false, t0 + Duration::from_millis(2100)));
        assert!(cadence.sample(false, t0 + Duration::from_millis(2600)));
        // …and not at all once the keyframe came.
        assert!(!cadence.sample(true, t0 + Duration::from_millis(2700)));
        assert!(!cadence.sample(false, t0 + Duration::from_millis(3000)));
    }
}
