//! Broadcast metrics, read at each scrape: live channels and their viewers (a gauge per
//! channel), and the recording upload queue (what an outage holds back, and what it cost).

use std::{fmt, sync::Arc, time::Instant};

use prometheus_client::{
    collector::Collector,
    encoding::{DescriptorEncoder, EncodeMetric},
    metrics::{MetricType, counter::ConstCounter, gauge::ConstGauge},
};
use troupe_storage::UploadStats;

use super::Broadcast;

#[derive(Debug)]
pub struct BroadcastMetrics {
    broadcast: Arc<Broadcast>,
}

impl std::fmt::Debug for Broadcast {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Broadcast").finish_non_exhaustive()
    }
}

impl BroadcastMetrics {
    pub fn new(broadcast: Arc<Broadcast>) -> Self {
        BroadcastMetrics { broadcast }
    }
}

type Read = fn(&UploadStats) -> u64;

const UPLOAD_GAUGES: &[(&str, &str, Read)] = &[
    ("troupe_storage_queued_objects", "Recording objects waiting to be uploaded", |s| {
        s.queued_objects
    }),
    ("troupe_storage_queued_bytes", "Bytes of recording objects waiting to be uploaded", |s| {
        s.queued_bytes
    }),
    (
        "troupe_storage_spooled_bytes",
        "Queued bytes waiting on disk (memory budget exceeded)",
        |s| s.spooled_bytes,
    ),
    ("troupe_storage_in_flight", "Uploads being sent", |s| s.in_flight),
];

const UPLOAD_COUNTERS: &[(&str, &str, Read)] = &[
    ("troupe_storage_uploaded_objects", "Recording objects uploaded", |s| s.uploaded_objects),
    ("troupe_storage_uploaded_bytes", "Recording bytes uploaded", |s| s.uploaded_bytes),
    ("troupe_storage_retries", "Upload attempts that failed and were retried", |s| s.retries),
    (
        "troupe_storage_failures",
        "Uploads given up after retrying for the whole retry period",
        |s| s.failures,
    ),
    ("troupe_storage_dropped", "Uploads dropped: memory budget exceeded and no spool", |s| {
        s.dropped
    }),
];

fn gauge(value: u64) -> ConstGauge {
    ConstGauge::new(i64::try_from(value).unwrap_or(i64::MAX))
}

impl Collector for BroadcastMetrics {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), fmt::Error> {
        let live = self.broadcast.channels.all();
        let now = Instant::now();
        let streaming = live.iter().filter(|l| l.stream_id.get().is_some()).count() as u64;
        let family = encoder.encode_descriptor(
            "troupe_channels_live",
            "Channels with a live stream",
            None,
            MetricType::Gauge,
        )?;
        gauge(streaming).encode(family)?;
        let mut family = encoder.encode_descriptor(
            "troupe_channel_viewers",
            "HLS players of a live channel (distinct address and user agent, last 15 s)",
            None,
            MetricType::Gauge,
        )?;
        for channel in &live {
            let labels = [("channel", channel.channel_id.clone())];
            gauge(channel.viewers.count(now)).encode(family.encode_family(&labels)?)?;
        }
        let stats = self.broadcast.storage.stats();
        for (name, help, read) in UPLOAD_GAUGES {
            let family = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
            gauge(read(&stats)).encode(family)?;
        }
        for (name, help, read) in UPLOAD_COUNTERS {
            let family = encoder.encode_descriptor(name, help, None, MetricType::Counter)?;
            ConstCounter::new(read(&stats)).encode(family)?;
        }
        Ok(())
    }
}
