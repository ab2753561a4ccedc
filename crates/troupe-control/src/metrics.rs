//! Control-plane metrics: how many calls per operation and how they ended, and how long they
//! took. Registered into the binary's Prometheus registry.

use prometheus_client::{
    metrics::{
        counter::Counter,
        family::{Family, MetricConstructor},
        histogram::{Histogram, exponential_buckets},
    },
    registry::Registry,
};

type OpOutcome = [(&'static str, String); 2];
type OpOnly = [(&'static str, String); 1];

#[derive(Clone)]
struct LatencyBuckets;

impl MetricConstructor<Histogram> for LatencyBuckets {
    fn new_metric(&self) -> Histogram {
        // 0.5 ms to ~4 s: control-plane calls are store round trips.
        Histogram::new(exponential_buckets(0.0005, 2.0, 14))
    }
}

/// Counters and histograms of the IVS API.
#[derive(Clone)]
pub struct ApiMetrics {
    requests: Family<OpOutcome, Counter>,
    duration: Family<OpOnly, Histogram, LatencyBuckets>,
}

impl Default for ApiMetrics {
    fn default() -> Self {
        ApiMetrics {
            requests: Family::default(),
            duration: Family::new_with_constructor(LatencyBuckets),
        }
    }
}

impl ApiMetrics {
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "troupe_api_requests",
            "Control-plane API calls by operation and outcome (ok or the error type)",
            self.requests.clone(),
        );
        registry.register(
            "troupe_api_request_duration_seconds",
            "Control-plane API call latency by operation, from first byte read to response",
            self.duration.clone(),
        );
    }

    /// Records one call. `operation` is the IVS name, or `unknown` for unroutable requests.
    pub fn observe(&self, operation: &str, outcome: &str, seconds: f64) {
        self.requests
            .get_or_create(&[
                ("operation", operation.to_string()),
                ("outcome", outcome.to_string()),
            ])
            .inc();
        self.duration.get_or_create(&[("operation", operation.to_string())]).observe(seconds);
    }
}
