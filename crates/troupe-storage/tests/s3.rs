//! The S3 backend against the S3 test server (`scripts/s3-test-server`).

mod common;

use std::time::Duration;

use common::{create_bucket, object, s3_backend, s3_endpoint, unique_bucket};
use troupe_storage::{Storage, StorageError};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_land_byte_equal_and_buckets_are_checked() {
    let endpoint = s3_endpoint();
    let storage = Storage::new(s3_backend(&endpoint));
    let bucket = unique_bucket("s3");
    assert!(!storage.bucket_exists(&bucket).await.unwrap());
    assert!(matches!(
        storage.prepare_bucket(&bucket).await,
        Err(StorageError::BucketNotFound { .. })
    ));
    create_bucket(&endpoint, &bucket).await;
    assert!(storage.bucket_exists(&bucket).await.unwrap());
    storage.prepare_bucket(&bucket).await.unwrap();

    for i in 0..20 {
        let key = format!("stage/st-1/p/1700000000/media/hls/high/{i}.mp4");
        storage.upload(&bucket, &key, object(i, 50_000 + i * 1000)).unwrap();
    }
    storage.flush(Duration::from_secs(60)).await.unwrap();
    for i in 0..20 {
        let key = format!("stage/st-1/p/1700000000/media/hls/high/{i}.mp4");
        assert_eq!(
            storage.get(&bucket, &key).await.unwrap(),
            object(i, 50_000 + i * 1000),
            "{key}"
        );
    }
    let stats = storage.stats();
    assert_eq!((stats.uploaded_objects, stats.failures, stats.queued_objects), (20, 0, 0));
    assert!(matches!(
        storage.get(&bucket, "missing").await,
        Err(StorageError::ObjectNotFound { .. })
    ));
}
