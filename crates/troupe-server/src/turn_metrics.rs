//! TURN metrics, read from the TURN thread's atomic counters at each scrape.

use std::{fmt, sync::Arc};

use prometheus_client::{
    collector::Collector,
    encoding::{DescriptorEncoder, EncodeMetric},
    metrics::{MetricType, counter::ConstCounter, gauge::ConstGauge},
};
use troupe_turn::stats::TurnStats;

#[derive(Debug)]
pub struct TurnMetrics {
    stats: Arc<TurnStats>,
}

impl TurnMetrics {
    pub fn new(stats: Arc<TurnStats>) -> Self {
        TurnMetrics { stats }
    }
}

type Read = fn(&TurnStats) -> u64;

macro_rules! read {
    ($field:ident) => {
        |s: &TurnStats| TurnStats::get(&s.$field)
    };
}

const COUNTERS: &[(&str, &str, Read)] = &[
    ("troupe_turn_allocations", "TURN allocations granted", read!(allocations_total)),
    (
        "troupe_turn_auth_failures",
        "TURN requests refused for their credentials",
        read!(auth_failures),
    ),
    (
        "troupe_turn_expired_credentials",
        "TURN requests with an expired credential",
        read!(expired_credentials),
    ),
    (
        "troupe_turn_forbidden_peers",
        "Permissions, channels and sends towards anything but the media ports (refused)",
        read!(forbidden_peers),
    ),
    ("troupe_turn_quota_refusals", "Allocations refused by a quota", read!(quota_refusals)),
    (
        "troupe_turn_packets_to_peers",
        "Packets relayed from clients to the media ports",
        read!(packets_to_peers),
    ),
    (
        "troupe_turn_bytes_to_peers",
        "Bytes relayed from clients to the media ports",
        read!(bytes_to_peers),
    ),
    (
        "troupe_turn_packets_to_clients",
        "Packets relayed from the media ports to clients",
        read!(packets_to_clients),
    ),
    (
        "troupe_turn_bytes_to_clients",
        "Bytes relayed from the media ports to clients",
        read!(bytes_to_clients),
    ),
    (
        "troupe_turn_dropped",
        "Client and peer packets no allocation, channel or permission carried",
        read!(client_packets_dropped),
    ),
    (
        "troupe_turn_backlog_drops",
        "Messages not sent to a TCP/TLS client whose backlog was full",
        read!(backlog_drops),
    ),
];

const GAUGES: &[(&str, &str, Read)] = &[
    ("troupe_turn_active_allocations", "TURN allocations held", read!(allocations)),
    ("troupe_turn_connections", "TURN TCP and TLS connections held", read!(connections)),
];

impl Collector for TurnMetrics {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), fmt::Error> {
        for (name, help, read) in COUNTERS {
            let family = encoder.encode_descriptor(name, help, None, MetricType::Counter)?;
            ConstCounter::new(read(&self.stats)).encode(family)?;
        }
        for (name, help, read) in GAUGES {
            let family = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
            let value = i64::try_from(read(&self.stats)).unwrap_or(i64::MAX);
            ConstGauge::new(value).encode(family)?;
        }
        Ok(())
    }
}
