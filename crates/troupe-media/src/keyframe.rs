//! Keyframe requests towards a publisher, throttled. Every new subscription needs a keyframe,
//! and every subscriber that loses one asks for another (PLI or FIR); forwarding each request
//! would make the publisher send keyframes back to back — large frames that cost everyone
//! bandwidth. At most one request goes out per interval; requests in between are remembered
//! and sent when the interval ends, unless a keyframe arrived meanwhile.

use std::time::{Duration, Instant};

/// The throttle for one published video track.
#[derive(Debug, Clone)]
pub struct KeyframeRequests {
    interval: Duration,
    last_sent: Option<Instant>,
    pending: bool,
}

impl KeyframeRequests {
    pub fn new(interval: Duration) -> Self {
        KeyframeRequests { interval, last_sent: None, pending: false }
    }

    /// Someone needs a keyframe. Returns whether to send a request to the publisher now.
    pub fn request(&mut self, now: Instant) -> bool {
        match self.last_sent {
            Some(last) if now < last + self.interval => {
                self.pending = true;
                false
            }
            _ => {
                self.last_sent = Some(now);
                self.pending = false;
                true
            }
        }
    }

    /// A keyframe arrived from the publisher: whoever was waiting has it now.
    pub fn keyframe_received(&mut self) {
        self.pending = false;
    }

    /// When a remembered request may be sent.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match (self.pending, self.last_sent) {
            (true, Some(last)) => Some(last + self.interval),
            _ => None,
        }
    }

    /// Returns whether to send the remembered request now.
    pub fn handle_timeout(&mut self, now: Instant) -> bool {
        if self.poll_timeout().is_some_and(|at| at <= now) {
            self.last_sent = Some(now);
            self.pending = false;
            true
        } else {
            false
        }
    }
}
