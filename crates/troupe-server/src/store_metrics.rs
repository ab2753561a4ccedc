//! Gauges read from the store at each scrape: how many stages, active sessions and public keys
//! exist, and whether the store answers. Read on demand rather than tracked in memory, so that
//! every node sharing a store reports the same figures.

use std::time::Duration;

use prometheus_client::{metrics::gauge::Gauge, registry::Registry};
use troupe_store::Store;

/// How long a scrape waits for the store before reporting it down.
const COUNT_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Clone, Default)]
pub struct StoreGauges {
    stages: Gauge,
    active_sessions: Gauge,
    public_keys: Gauge,
    up: Gauge,
}

impl StoreGauges {
    pub fn register(&self, registry: &mut Registry) {
        registry.register("troupe_stages", "Stages that exist", self.stages.clone());
        registry.register(
            "troupe_active_sessions",
            "Stage sessions in progress",
            self.active_sessions.clone(),
        );
        registry.register("troupe_public_keys", "Imported public keys", self.public_keys.clone());
        registry.register(
            "troupe_store_up",
            "1 when the store answered the last scrape, else 0",
            self.up.clone(),
        );
    }

    /// Reads the counts; on failure keeps the last figures and reports the store down.
    pub async fn refresh(&self, store: &dyn Store) {
        match tokio::time::timeout(COUNT_TIMEOUT, store.counts()).await {
            Ok(Ok(counts)) => {
                self.stages.set(counts.stages);
                self.active_sessions.set(counts.active_sessions);
                self.public_keys.set(counts.public_keys);
                self.up.set(1);
            }
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "metrics: the store did not answer");
                self.up.set(0);
            }
            Err(_) => {
                tracing::warn!("metrics: the store did not answer in time");
                self.up.set(0);
            }
        }
    }
}
