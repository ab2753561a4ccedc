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
