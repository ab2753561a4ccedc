//! `troupe node-keys`: list and retire the keys nodes sign participant tokens with.

use crate::{
    cli::{NodeKeysAction, NodeKeysArgs},
    node,
    node::Failure,
};

pub async fn run(args: NodeKeysArgs) -> Result<(), Failure> {
    let config = match &args.action {
        NodeKeysAction::List { config } | NodeKeysAction::Retire { config, .. } => config,
    };
    let settings = node::load_settings(config)?;
    let node = node::open(settings).await?;
    let store = node.plane.store().clone();
    let own = node.plane.node_key().kid().to_string();
    let result = match args.action {
        NodeKeysAction::List { .. } => {
            let keys = store
                .list_node_keys()
                .await
                .map_err(|e| Failure::other(format!("cannot list node keys: {e}")))?;
            println!("{:<24}  status", "kid");
            for key in keys {
                let status = match key.retired_at {
                    Some(at) => format!("retired {}", troupe_control::timestamp::iso8601(at)),
                    None if key.kid == own => "active (this data directory)".to_string(),
                    None => "active".to_string(),
                };
                println!("{:<24}  {status}", key.kid);
            }
            Ok(())
        }
        NodeKeysAction::Retire { kid, .. } if kid == own => Err(Failure::other(format!(
            "{kid} is the key of this data directory ({}); stop the node, delete node-key.pem \
             there, start it again, then retire {kid}",
            node.settings.data_dir.display()
        ))),
        NodeKeysAction::Retire { kid, .. } => {
            store.retire_node_key(&kid, time::OffsetDateTime::now_utc()).await.map_err(
                |e| match e {
                    troupe_store::StoreError::NotFound => {
                        Failure::other(format!("no node key {kid} is registered"))
                    }
                    other => Failure::other(format!("cannot retire {kid}: {other}")),
                },
            )?;
            println!("retired {kid}: tokens it signed are refused from now on");
            Ok(())
        }
    };
    store.close().await;
    result
}
