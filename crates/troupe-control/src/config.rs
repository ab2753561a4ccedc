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

/// The URLs a stage's `endpoints` and its tokens carry, and the base that channels' playback
/// and ingest addresses are built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// `http(s)://host[:port][/prefix]`, without a trailing slash.
    pub public_url: String,
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
        Endpoints {
            public_url: base.to_string(),
            whip: format!("{base}/whip"),
            events: format!("{ws_base}/events"),
        }
    }

    /// The public host name, without scheme, port or path: a channel's `ingestEndpoint`.
    pub fn public_host(&self) -> &str {
        let rest = self.public_url.split_once("://").map_or(self.public_url.as_str(), |(_, r)| r);
        let authority = rest.split('/').next().unwrap_or(rest);
        if let Some(v6) = authority.strip_prefix('[') {
            // [::1]:7800 → ::1
            return v6.split(']').next().unwrap_or(v6);
        }
        authority.rsplit_once(':').map_or(authority, |(host, _)| host)
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
    /// Channels that may exist at once.
    pub max_channels: u64,
    /// Stream keys per channel (IVS: 1; to rotate, delete the key and create another).
    pub max_stream_keys_per_channel: u64,
    /// Recording configurations (channels) that may exist at once.
    pub max_recording_configurations: u64,
    /// Storage configurations (stages) that may exist at once.
    pub max_storage_configurations: u64,
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
            max_channels: 10_000,
            max_stream_keys_per_channel: 1,
            max_recording_configurations: 1_000,
            max_storage_configurations: 1_000,
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
    /// The RTMP ingest port (`troupe channel create` prints `rtmp://<host>:<port>/app/`);
    /// `None` when RTMP ingest is off.
    pub rtmp_port: Option<u16>,
    /// Whether the RTMP port takes RTMPS (TLS is on).
    pub rtmps: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_follow_the_scheme() {
        let e = Endpoints::from_public_url("https://live.example.com/troupe/");
        assert_eq!(e.whip, "https://live.example.com/troupe/whip");
        assert_eq!(e.events, "wss://live.example.com/troupe/events");
        assert_eq!(e.public_url, "https://live.example.com/troupe");
        assert_eq!(e.public_host(), "live.example.com");
        let e = Endpoints::from_public_url("http://127.0.0.1:7800");
        assert_eq!(e.events, "ws://127.0.0.1:7800/events");
        assert_eq!(e.public_host(), "127.0.0.1");
        assert_eq!(Endpoints::from_public_url("http://[::1]:7800/").public_host(), "::1");
    }
}
