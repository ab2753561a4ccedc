//! Media metrics, per worker (label `worker` = its UDP port), read from the workers' atomic
//! counters at each scrape: nothing is updated on the packet path but those counters.

use std::{fmt, sync::Arc};

use prometheus_client::{
    collector::Collector,
    encoding::{DescriptorEncoder, EncodeMetric},
    metrics::{MetricType, counter::ConstCounter, gauge::ConstGauge},
};

use troupe_media::stats::MediaStats;

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

type Read = fn(&MediaStats) -> u64;

macro_rules! read {
    ($field:ident) => {
        |s: &MediaStats| MediaStats::get(&s.$field)
    };
}

const COUNTERS: &[(&str, &str, Read)] = &[
    ("troupe_media_datagrams_in", "UDP datagrams received", read!(datagrams_in)),
    ("troupe_media_bytes_in", "UDP bytes received", read!(bytes_in)),
    ("troupe_media_datagrams_out", "UDP datagrams sent", read!(datagrams_out)),
    ("troupe_media_bytes_out", "UDP bytes sent", read!(bytes_out)),
    ("troupe_media_rtp_packets_in", "RTP packets received from publishers", read!(rtp_packets_in)),
    (
        "troupe_media_rtp_packets_out",
        "RTP packets forwarded to subscribers",
        read!(rtp_packets_out),
    ),
    (
        "troupe_media_datagrams_dropped",
        "Datagrams no session accepted (garbage, strays)",
        read!(datagrams_dropped),
    ),
    (
        "troupe_media_rtp_packets_dropped",
        "Publisher packets not forwarded to a subscription (waiting for a keyframe, codec)",
        read!(rtp_packets_dropped),
    ),
    (
        "troupe_media_plis_sent",
        "Keyframe requests (PLI) sent to publishers",
        read!(keyframe_requests),
    ),
    (
        "troupe_media_plis_received",
        "Keyframe requests (PLI/FIR) received from subscribers",
        read!(keyframe_requests_received),
    ),
    ("troupe_media_nacks_sent", "NACKs sent to publishers for lost packets", read!(nacks_sent)),
    ("troupe_media_nacks_received", "NACKs received from subscribers", read!(nacks_received)),
    (
        "troupe_media_receive_calls",
        "recvmmsg calls (datagrams are received in batches)",
        read!(receive_calls),
    ),
    (
        "troupe_media_send_calls",
        "sendmmsg calls (datagrams are sent in batches)",
        read!(send_calls),
    ),
    ("troupe_media_send_failures", "Datagrams the kernel refused to send", read!(send_failures)),
    (
        "troupe_media_sessions_expired",
        "Sessions ended at the maximum duration",
        read!(sessions_expired),
    ),
    (
        "troupe_media_tcp_frames_dropped",
        "Packets not sent on an ICE-TCP connection (its backlog was full, or it was gone)",
        read!(tcp_frames_dropped),
    ),
    (
        "troupe_media_tcp_connections_closed",
        "ICE-TCP connections closed (by the client, idle, failed, or claimed by no session)",
        read!(tcp_connections_closed),
    ),
];

const GAUGES: &[(&str, &str, Read)] = &[
    ("troupe_media_sessions", "Media sessions (publishes and subscriptions)", read!(sessions)),
    (
        "troupe_media_connected_sessions",
        "Media sessions with ICE and DTLS done",
        read!(connected_sessions),
    ),
    ("troupe_media_stages", "Stages with media sessions", read!(stages)),
    ("troupe_media_participants", "Participants with media sessions", read!(participants)),
    ("troupe_media_publishers", "Participants publishing", read!(publishers)),
    ("troupe_media_subscriptions", "Subscriptions", read!(subscriptions)),
    ("troupe_media_tcp_connections", "ICE-TCP connections held", read!(tcp_connections)),
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
        Ok(())
    }
}
