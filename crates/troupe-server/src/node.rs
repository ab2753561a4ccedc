//! What `serve` and `token` both need: resolved settings, the node key, the store and the
//! control plane, and the failure type that carries the exit code.

use std::sync::Arc;

use troupe_control::{ControlConfig, ControlPlane, Endpoints};
use troupe_store::StoreError;
use troupe_tokens::NodeKey;

use crate::config::{ConfigArgs, ConfigError, Settings};

/// Why the command stopped, and so its exit code.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error("bad configuration: {0}")]
    Config(#[from] ConfigError),
    #[error("{0}")]
    Other(String),
}

impl Failure {
    pub fn exit_code(&self) -> u8 {
        match self {
            Failure::Config(_) => 2,
            Failure::Other(_) => 1,
        }
    }

    pub fn other(message: impl Into<String>) -> Self {
        Failure::Other(message.into())
    }
}

/// A node's long-lived parts.
pub struct Node {
    pub settings: Settings,
    pub plane: ControlPlane,
}

pub fn load_settings(args: &ConfigArgs) -> Result<Settings, Failure> {
    Ok(Settings::load(args)?)
}

/// Loads the node key, opens the store and builds the control plane.
pub async fn open(settings: Settings) -> Result<Node, Failure> {
    let data_dir = &settings.data_dir;
    let node_key = NodeKey::load_or_create(data_dir).map_err(|e| {
        Failure::Config(ConfigError {
            key: "data_dir".into(),
            message: format!("cannot use {} for the node key: {e}", data_dir.display()),
        })
    })?;
    let store = troupe_store::open(&settings.store_url).await.map_err(|e| match e {
        StoreError::Config(message) => {
            Failure::Config(ConfigError { key: "store".into(), message })
        }
        other => Failure::other(format!("cannot open the store: {other}")),
    })?;
    store.register_node_key(node_key.kid(), node_key.public_pem()).await.map_err(|e| match e {
        StoreError::Conflict(_) => Failure::other(format!(
            "the node key in {} ({}) was retired: delete its node-key.pem to generate a new one",
            data_dir.display(),
            node_key.kid()
        )),
        other => Failure::other(format!("cannot register the node key in the store: {other}")),
    })?;
    let config = ControlConfig {
        scope: settings.scope.clone(),
        endpoints: Endpoints::from_public_url(&settings.public_url),
        credentials: settings.credentials.clone(),
        limits: settings.limits.clone(),
        rtmp_port: settings.broadcast.rtmp_port,
        // The RTMP port takes RTMPS when the node runs TLS.
        rtmps: settings.network.tls.is_on(),
    };
    let plane = ControlPlane::new(store, config, Arc::new(node_key));
    Ok(Node { settings, plane })
}
