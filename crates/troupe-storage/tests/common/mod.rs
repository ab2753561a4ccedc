//! The S3 test server's settings, and a bucket of one's own on it.

use std::{
    sync::atomic::{AtomicU32, Ordering},
    time::Duration,
};

use object_store::{aws::AmazonS3Builder, path::Path, signer::Signer};
use troupe_storage::StorageBackend;

/// The endpoint of the S3 test server; without it the test fails saying how to start it
/// (scripts/test does). There is no way to skip: a skipped S3 test would pass unseen.
pub fn s3_endpoint() -> String {
    match std::env::var("TROUPE_TEST_S3_ENDPOINT") {
        Ok(endpoint) if !endpoint.is_empty() => endpoint,
        _ => panic!(
            "TROUPE_TEST_S3_ENDPOINT is not set. Start the S3 test server with\n  \
             eval \"$(scripts/s3-test-server start)\""
        ),
    }
}

pub fn s3_backend(endpoint: &str) -> StorageBackend {
    StorageBackend::S3 {
        endpoint: Some(endpoint.to_owned()),
        region: None,
        allow_http: endpoint.starts_with("http://"),
    }
}

/// A bucket name no other test (or earlier run) uses.
pub fn unique_bucket(test: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!(
        "troupe-{test}-{}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed),
        nanos % 1_000_000
    )
}

/// CreateBucket through a presigned PUT (object_store has no bucket operations).
pub async fn create_bucket(endpoint: &str, bucket: &str) {
    let s3 = AmazonS3Builder::from_env()
        .with_endpoint(endpoint)
        .with_bucket_name(bucket)
        .with_allow_http(true)
        .with_virtual_hosted_style_request(false)
        .build()
        .unwrap();
    let url =
        s3.signed_url(http::Method::PUT, &Path::from(""), Duration::from_secs(60)).await.unwrap();
    let response = reqwest::Client::new().put(url.as_str()).send().await.unwrap();
    assert!(
        response.status().is_success(),
        "CreateBucket {bucket}: {} {}",
        response.status(),
        response.text().await.unwrap_or_default()
    );
}

pub fn object(i: usize, len: usize) -> bytes::Bytes {
    bytes::Bytes::from((0..len).map(|j| (i * 131 + j * 7) as u8).collect::<Vec<_>>())
}
