//! A control plane over a fresh SQLite store in a temporary directory.

#![allow(dead_code)]

use std::{path::PathBuf, sync::Arc};

use serde_json::{Value, json};
use troupe_control::{
    ApiError, Call, ControlConfig, ControlPlane, Credential, Endpoints, Limits, arn::ArnScope,
    operation::Operation,
};
use troupe_tokens::NodeKey;

pub struct TestPlane {
    pub plane: ControlPlane,
    pub dir: PathBuf,
}

impl Drop for TestPlane {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub fn temp_dir(tag: &str) -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "troupe-control-{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub async fn plane_with(limits: Limits) -> TestPlane {
    let dir = temp_dir("plane");
    let store =
        troupe_store::open(&format!("sqlite://{}", dir.join("t.db").display())).await.unwrap();
    let key = NodeKey::load_or_create(&dir).unwrap();
    store.register_node_key(key.kid(), key.public_pem()).await.unwrap();
    let config = ControlConfig {
        scope: ArnScope { region: "us-east-1".into(), account: "000000000000".into() },
        endpoints: Endpoints::from_public_url("http://127.0.0.1:7800"),
        credentials: vec![Credential {
            access_key_id: "devkey".into(),
            secret_access_key: "devsecret".into(),
            read_only: false,
        }],
        limits,
        rtmp_port: Some(1935),
        rtmps: false,
    };
    TestPlane { plane: ControlPlane::new(store, config, Arc::new(key)), dir }
}

pub async fn plane() -> TestPlane {
    plane_with(Limits::default()).await
}

impl TestPlane {
    pub async fn call(&self, op: Operation, body: Value) -> Result<Value, ApiError> {
        let body = body.to_string();
        self.plane
            .call(Call {
                operation: op,
                body: body.as_bytes(),
                resource_arn: None,
                tag_keys: vec![],
            })
            .await
    }

    pub async fn create_stage(&self) -> String {
        let out = self.call(Operation::CreateStage, json!({"name": "s"})).await.unwrap();
        out["stage"]["arn"].as_str().unwrap().to_string()
    }

    /// Imports a fresh P-384 key (ImportPublicKey); returns it with its ARN, the `kid` of the
    /// tokens it signs.
    pub async fn import_new_key(&self) -> (p384::ecdsa::SigningKey, String) {
        use p384::{elliptic_curve::rand_core::OsRng, pkcs8::EncodePublicKey};
        let signing = p384::ecdsa::SigningKey::random(&mut OsRng);
        let pem = signing.verifying_key().to_public_key_pem(Default::default()).unwrap();
        let imported =
            self.call(Operation::ImportPublicKey, json!({"publicKeyMaterial": pem})).await.unwrap();
        (signing, imported["publicKey"]["arn"].as_str().unwrap().to_string())
    }

    pub async fn token(&self, stage_arn: &str, body: Value) -> Value {
        let mut body = body;
        body["stageArn"] = stage_arn.into();
        let out = self.call(Operation::CreateParticipantToken, body).await.unwrap();
        out["participantToken"].clone()
    }
}
