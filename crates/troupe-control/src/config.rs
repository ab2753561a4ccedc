//! What the control plane is told by the binary: its identity (region, account, public
//! endpoints), who may call it, and its limits.

use crate::arn::ArnScope;

/// One API key pair accepted in SigV4 signatures.
#[derive(Clone, PartialEq, Eq)]
pub struct Credential {
    pub access_key_id: String,
    pub secret_access_key: String,
    /// A read-only key may call Get*/List* operations only: the rest answer
    /// AccessDeniedException. Meant for dashboards and monitoring.
    pub read_only: bool,
}

impl std::fmt::Debug for Credential {
    // Never print secrets, even in debug logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("access_key_id", &self.access_key_id)
            .field("read_only", &self.read_only)
            .finish_non_exhaustive()
    }
}

/// The URLs a stage's `endpoints` and its tokens carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// `<public-url>/whip`
    pub whip: String,
    /// `<ws(s) public-url>/events`
    pub events: String,
}

impl Endpoints {
    /// Derives both endpoints from the public base URL (`http(s)://host[:port][/prefix]`).
    pub fn from_public_url(base: &str) -> Endpoints {
        let base = base.trim_end_matches('/');
        let ws_base = if let Some(rest) = base.strip_prefix("https://") {
            format!("wss://{rest}")
        } else if let Some(rest) = base.strip_prefix("http://") {
            format!("ws://{rest}")
        } else {
            base.to_string()
        };
        Endpoints { whip: format!("{base}/whip"), events: format!("{ws_base}/events") }
    }
}

/// Limits the control plane enforces (defaults follow the hosted service where it has one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Stages that may exist at once.
    pub max_stages: u64,
    /// Public keys that may be imported at once.
    pub max_public_keys: u64,
    /// Tags on one resource (AWS: 50).
    pub max_tags: usize,
    /// Participant attributes, keys and values together (IVS: 1 KB).
    pub max_attributes_bytes: usize,
    /// Longest token lifetime in minutes (IVS: 14 days).
    pub max_token_minutes: u32,
    /// Largest request body the API reads.
    pub max_body_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_stages: 10_000,
            max_public_keys: 100,
            max_tags: 50,
            max_attributes_bytes: 1024,
            max_token_minutes: 20_160,
            max_body_bytes: 256 * 1024,
        }
    }
}

/// Everything [`crate::ControlPlane`] needs besides its store and key.
#[derive(Debug, Clone)]
pub struct ControlConfig {
    pub scope: ArnScope,
    pub endpoints: Endpoints,
    pub credentials: Vec<Credential>,
    pub limits: Limits,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_follow_the_scheme() {
        let e = Endpoints::from_public_url("https://live.example.com/troupe/");
        assert_eq!(e.whip, "https://live.example.com/troupe/whip");
        assert_eq!(e.events, "wss://live.example.com/troupe/events");
        let e = Endpoints::from_public_url("http://127.0.0.1:7800");
        assert_eq!(e.events, "ws://127.0.0.1:7800/events");
    }
}
