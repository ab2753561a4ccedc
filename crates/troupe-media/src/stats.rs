//! The counters a media worker keeps: plain atomics, updated by the worker thread with relaxed
//! stores and read by `/metrics` and the tests. Nothing else is shared with the worker.

use std::sync::atomic::{AtomicU64, Ordering};

/// A worker's counters. Gauges (current values) and counters (totals since start).
#[derive(Debug, Default)]
pub struct MediaStats {
    // Gauges.
    pub sessions: AtomicU64,
    pub connected_sessions: AtomicU64,
    pub stages: AtomicU64,
    pub participants: AtomicU64,
    pub publishers: AtomicU64,
    pub subscriptions: AtomicU64,
    /// ICE-TCP connections the worker holds.
    pub tcp_connections: AtomicU64,
    // Counters.
    pub datagrams_in: AtomicU64,
    pub bytes_in: AtomicU64,
    pub datagrams_out: AtomicU64,
    pub bytes_out: AtomicU64,
    pub rtp_packets_in: AtomicU64,
    pub rtp_packets_out: AtomicU64,
    /// Datagrams no session took: garbage, strays, STUN for unknown sessions.
    pub datagrams_dropped: AtomicU64,
    /// Packets from publishers that were not forwarded to a subscription (waiting for a
    /// keyframe, older than a source switch, a codec the subscription did not negotiate).
    pub rtp_packets_dropped: AtomicU64,
    /// Keyframe requests (PLI) the server sent to publishers.
    pub keyframe_requests: AtomicU64,
    /// PLI and FIR received from subscribers.
    pub keyframe_requests_received: AtomicU64,
    /// NACKs the server sent to publishers (for packets lost on their uplink).
    pub nacks_sent: AtomicU64,
    /// NACKs received from subscribers (answered with RTX from the send buffer).
    pub nacks_received: AtomicU64,
    /// Batched socket calls: how many `recvmmsg`/`sendmmsg` calls moved the datagrams above.
    pub receive_calls: AtomicU64,
    pub send_calls: AtomicU64,
    /// Datagrams the kernel refused to send (unreachable destination, full buffer).
    pub send_failures: AtomicU64,
    /// Sessions ended because they reached the maximum duration.
    pub sessions_expired: AtomicU64,
    /// Frames not sent on an ICE-TCP connection: its client reads slower than media arrives
    /// (the backlog is full), or the connection is gone.
    pub tcp_frames_dropped: AtomicU64,
    /// ICE-TCP connections closed: by the client, idle, in error, or refused (no session
    /// took their first frame).
    pub tcp_connections_closed: AtomicU64,
}

impl MediaStats {
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub fn set(gauge: &AtomicU64, value: u64) {
        gauge.store(value, Ordering::Relaxed);
    }

    pub fn get(value: &AtomicU64) -> u64 {
        value.load(Ordering::Relaxed)
    }
}
