//! Media metrics, per worker (label `worker` = its UDP port), read from the workers' atomic
//! counters at each scrape: nothing is updated on the packet path but those counters.

use std::{
    fmt,
    sync::{Arc, atomic::Ordering},
};

use prometheus_client::{
    collector::Collector,
    encoding::{DescriptorEncoder, EncodeMetric},
    metrics::{MetricType, counter::ConstCounter, gauge::ConstGauge},
};

use crate::media_plane::MediaPlane;

#[derive(Debug)]
pub struct MediaMetrics {
    media: Arc<MediaPlane>,
}

impl MediaMetrics {
    pub fn new(media: Arc<MediaPlane>) -> Self {
        MediaMetrics { media }
    }
}

type Read = fn(&troupe_media::worker::WorkerStats) -> u64;

const COUNTERS: &[(&str, &str, Read)] = &[
    ("troupe_media_datagrams_in", "UDP datagrams received", |s| {
        s.datagrams_in.load(Ordering::Relaxed)
    }),
    ("troupe_media_bytes_in", "UDP bytes received", |s| s.bytes_in.load(Ordering::Relaxed)),
    ("troupe_media_datagrams_out", "UDP datagrams sent", |s| {
        s.datagrams_out.load(Ordering::Relaxed)
    }),
    ("troupe_media_bytes_out", "UDP bytes sent", |s| s.bytes_out.load(Ordering::Relaxed)),
    ("troupe_media_rtp_packets_in", "RTP packets received from publishers", |s| {
        s.rtp_packets_in.load(Ordering::Relaxed)
    }),
    ("troupe_media_rtp_packets_out", "RTP packets forwarded to subscribers", |s| {
        s.rtp_packets_out.load(Ordering::Relaxed)
    }),
    ("troupe_media_keyframe_requests", "Keyframe requests (PLI) sent to publishers", |s| {
        s.keyframe_requests.load(Ordering::Relaxed)
    }),
    ("troupe_media_datagrams_dropped", "Datagrams no session accepted (garbage, strays)", |s| {
        s.datagrams_dropped.load(Ordering::Relaxed)
    }),
];

const GAUGES: &[(&str, &str, Read)] = &[
    ("troupe_media_sessions", "Media sessions (publishes and subscriptions)", |s| {
        s.sessions.load(Ordering::Relaxed)
    }),
    ("troupe_media_connected_sessions", "Media sessions with ICE and DTLS done", |s| {
        s.connected_sessions.load(Ordering::Relaxed)
    }),
];

impl Collector for MediaMetrics {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), fmt::Error> {
        let workers = self.media.workers();
        for (name, help, read) in COUNTERS {
            let mut family = encoder.encode_descriptor(name, help, None, MetricType::Counter)?;
            for worker in workers {
                let labels = [("worker", worker.local_addr().port().to_string())];
                ConstCounter::new(read(worker.stats())).encode(family.encode_family(&labels)?)?;
            }
        }
        for (name, help, read) in GAUGES {
            let mut family = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
            for worker in workers {
                let labels = [("worker", worker.local_addr().port().to_string())];
                let value = i64::try_from(read(worker.stats())).unwrap_or(i64::MAX);
                ConstGauge::new(value).encode(family.encode_family(&labels)?)?;
            }
        }
        let mut family = encoder.encode_descriptor(
            "troupe_media_publishers",
            "Participants publishing",
            None,
            MetricType::Gauge,
        )?;
        for worker in workers {
            let labels = [("worker", worker.local_addr().port().to_string())];
            let value = i64::try_from(worker.publisher_count("")).unwrap_or(i64::MAX);
            ConstGauge::new(value).encode(family.encode_family(&labels)?)?;
        }
        Ok(())
    }
}
