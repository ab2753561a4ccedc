//! The TURN server's counters: atomics written by its thread, read by `/metrics` and tests.

use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Default)]
pub struct TurnStats {
    /// Allocations held now (a gauge).
    pub allocations: AtomicU64,
    pub allocations_total: AtomicU64,
    /// TCP and TLS client connections held now (a gauge).
    pub connections: AtomicU64,
    /// Requests refused for their credentials (wrong, expired, malformed).
    pub auth_failures: AtomicU64,
    pub expired_credentials: AtomicU64,
    /// Permissions, channels and sends towards anything but this node's media ports.
    pub forbidden_peers: AtomicU64,
    /// Allocations refused by the per-participant or the global cap.
    pub quota_refusals: AtomicU64,
    pub packets_to_peers: AtomicU64,
    pub bytes_to_peers: AtomicU64,
    pub packets_to_clients: AtomicU64,
    pub bytes_to_clients: AtomicU64,
    /// Client data without an allocation, channel or permission to carry it.
    pub client_packets_dropped: AtomicU64,
    /// Datagrams on relays from no permitted peer.
    pub peer_packets_dropped: AtomicU64,
    /// Messages that were not STUN or ChannelData.
    pub malformed: AtomicU64,
    /// Messages not sent to a stream client whose backlog was full.
    pub backlog_drops: AtomicU64,
}

impl TurnStats {
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
