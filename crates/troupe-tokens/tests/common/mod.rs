//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use troupe_tokens::{Claims, TokenCapabilities};

/// Claims for a token issued at `iat`, valid for an hour.
pub fn sample_claims(iat: i64) -> Claims {
    Claims {
        exp: iat.saturating_add(3600),
        iat,
        nbf: None,
        jti: "p-0123456789ab".into(),
        user_id: Some("alice".into()),
        resource: "arn:aws:ivs:us-west-2:123456789012:stage/AbCdEf012345".into(),
        topic: "AbCdEf012345".into(),
        events_url: "wss://troupe.example/events".into(),
        whip_url: "https://troupe.example/whip".into(),
        capabilities: TokenCapabilities { allow_publish: true, allow_subscribe: false },
        attributes: BTreeMap::from([("role".into(), "host".into())]),
        version: "1.0".into(),
    }
}

/// Current unix time in seconds.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs() as i64
}

/// A fresh, not yet existing directory path under the system temp dir.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock after 1970")
            .subsec_nanos();
        TempDir(
            std::env::temp_dir()
                .join(format!("troupe-tokens-{tag}-{}-{nanos}-{n}", std::process::id())),
        )
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// base64url without padding.
pub fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// base64url-decodes `text`, panicking on error (test inputs only).
pub fn unb64(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text).expect("test input is base64url")
}
