//! A storage outage loses nothing: the S3 test server is stopped, 20 objects are queued, and
//! when it comes back (same port, same data) all 20 land byte-equal. Its own test binary,
//! because it stops the server other tests use. The outage lasts TROUPE_TEST_S3_OUTAGE_SECS
//! (default 20 s; the guarantee the retry policy gives is ten minutes and more).

mod common;

use std::{process::Command, time::Duration};

use common::{create_bucket, object, s3_backend, s3_endpoint, unique_bucket};
use troupe_storage::{RetryPolicy, Storage, StorageOptions};

fn control(action: &str) {
    let script = std::env::var("TROUPE_TEST_S3_CONTROL").unwrap_or_else(|_| {
        panic!("TROUPE_TEST_S3_CONTROL is not set: the outage test stops and starts the server; start it with eval \"$(scripts/s3-test-server start)\"")
    });
    let status = Command::new(&script).arg(action).status().unwrap();
    assert!(status.success(), "{script} {action}: {status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_loses_nothing() {
    let endpoint = s3_endpoint();
    let outage = Duration::from_secs(
        std::env::var("TROUPE_TEST_S3_OUTAGE_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(20),
    );
    let bucket = unique_bucket("outage");
    create_bucket(&endpoint, &bucket).await;
    let storage = Storage::with_options(
        s3_backend(&endpoint),
        StorageOptions {
            retry: RetryPolicy {
                first_delay: Duration::from_millis(100),
                max_delay: Duration::from_secs(2),
                give_up_after: Duration::from_secs(600),
            },
            ..StorageOptions::default()
        },
    );

    control("stop");
    for i in 0..20 {
        storage.upload(&bucket, &format!("rec/media/hls/high/{i}.mp4"), object(i, 20_000)).unwrap();
    }
    tokio::time::sleep(outage).await;
    let during = storage.stats();
    control("start");
    assert_eq!(during.queued_objects, 20, "{during:?}");
    assert!(during.retries > 0, "{during:?}");

    storage.flush(Duration::from_secs(120)).await.unwrap();
    for i in 0..20 {
        let key = format!("rec/media/hls/high/{i}.mp4");
        assert_eq!(storage.get(&bucket, &key).await.unwrap(), object(i, 20_000), "{key}");
    }
    let stats = storage.stats();
    assert_eq!((stats.uploaded_objects, stats.failures), (20, 0), "{stats:?}");
}
