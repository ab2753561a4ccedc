//! The directory backend: objects appear under `<root>/<bucket>/<key>`, whole or not at all,
//! in order within a directory; uploads survive a backend that fails for a while, spill to
//! the spool past the memory budget, and are given up (counted) after the retry window.

use std::{
    path::Path,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use bytes::Bytes;
use troupe_storage::{RetryPolicy, Storage, StorageBackend, StorageError, StorageOptions};

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("troupe-storage-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn object(i: usize, len: usize) -> Bytes {
    Bytes::from((0..len).map(|j| (i * 31 + j) as u8).collect::<Vec<_>>())
}

fn fast_retry(give_up_after: Duration) -> RetryPolicy {
    RetryPolicy {
        first_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(200),
        give_up_after,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objects_appear_whole_and_readable() {
    let root = temp_dir("whole");
    let storage = Storage::new(StorageBackend::Directory { root: root.clone() });
    assert!(!storage.bucket_exists("rec-bucket").await.unwrap());
    storage.prepare_bucket("rec-bucket").await.unwrap();
    assert!(storage.bucket_exists("rec-bucket").await.unwrap());

    // A reader polls the final name all along: it must only ever see the complete bytes.
    let big = object(7, 4 * 1024 * 1024);
    let path = root.join("rec-bucket/s/st/p/1/media/hls/high/big.mp4");
    let stop = Arc::new(AtomicBool::new(false));
    let reader = {
        let (path, big, stop) = (path.clone(), big.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut seen_whole = 0;
            while !stop.load(Ordering::Relaxed) {
                if let Ok(read) = std::fs::read(&path) {
                    assert_eq!(read.len(), big.len(), "a reader saw a partial file");
                    assert!(read == big[..]);
                    seen_whole += 1;
                }
            }
            seen_whole
        })
    };
    for i in 0..20 {
        let key = format!("s/st/p/1/media/hls/high/{i}.mp4");
        storage.upload("rec-bucket", &key, object(i, 10_000 + i)).unwrap();
    }
    storage.upload("rec-bucket", "s/st/p/1/media/hls/high/big.mp4", big.clone()).unwrap();
    storage.flush(Duration::from_secs(30)).await.unwrap();
    std::thread::sleep(Duration::from_millis(50));
    stop.store(true, Ordering::Relaxed);
    assert!(reader.join().unwrap() > 0);

    for i in 0..20 {
        let key = format!("s/st/p/1/media/hls/high/{i}.mp4");
        let on_disk = std::fs::read(root.join("rec-bucket").join(&key)).unwrap();
        assert!(on_disk == object(i, 10_000 + i)[..], "{key}");
        assert_eq!(storage.get("rec-bucket", &key).await.unwrap(), object(i, 10_000 + i));
    }
    let stats = storage.stats();
    assert_eq!(stats.uploaded_objects, 21);
    assert_eq!(stats.queued_objects, 0);
    assert_eq!(stats.memory_bytes, 0);
    assert_eq!(stats.failures, 0);
    // Nothing but the objects: no staging files left behind.
    let names: Vec<_> = std::fs::read_dir(root.join("rec-bucket/s/st/p/1/media/hls/high"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names.len(), 21, "{names:?}");
    assert!(matches!(
        storage.get("rec-bucket", "nope").await,
        Err(StorageError::ObjectNotFound { .. })
    ));
}

#[tokio::test]
async fn bad_names_are_refused_before_queueing() {
    let root = temp_dir("names");
    let storage = Storage::new(StorageBackend::Directory { root: root.clone() });
    assert!(matches!(
        storage.upload("..", "a", Bytes::new()),
        Err(StorageError::InvalidBucketName { .. })
    ));
    assert!(matches!(
        storage.upload("good-bucket", "../../etc/passwd", Bytes::new()),
        Err(StorageError::InvalidKey { .. })
    ));
    assert!(storage.bucket_exists("UPPER").await.is_err());
    assert_eq!(storage.stats().queued_objects, 0);
}

/// The root is a file at first, so every write fails; once it becomes a directory, every
/// queued object lands, in queue order within its directory, including those that waited
/// in the spool because the memory budget (10 KB) was full.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_loses_nothing_and_spills_past_the_budget() {
    let base = temp_dir("outage");
    let root = base.join("root");
    std::fs::write(&root, b"not a directory").unwrap();
    let storage = Storage::with_options(
        StorageBackend::Directory { root: root.clone() },
        StorageOptions {
            retry: fast_retry(Duration::from_secs(120)),
            memory_budget: 10_000,
            spool_dir: Some(base.join("spool")),
            max_in_flight: 4,
        },
    );
    for i in 0..20 {
        storage.upload("bucket", &format!("d/{i}.bin"), object(i, 3_000)).unwrap();
    }
    // The playlist, queued last in the same directory, must be written last.
    storage.upload("bucket", "d/playlist.m3u8", Bytes::from_static(b"#EXTM3U\n")).unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let stats = storage.stats();
    assert_eq!(stats.queued_objects, 21);
    assert!(stats.memory_bytes <= 10_000, "{stats:?}");
    assert!(stats.spooled_objects >= 17, "{stats:?}");
    assert!(stats.retries > 0, "{stats:?}");
    assert_eq!(
        std::fs::read_dir(base.join("spool")).unwrap().count() as u64,
        stats.spooled_objects
    );

    std::fs::remove_file(&root).unwrap();
    std::fs::create_dir(&root).unwrap();
    storage.flush(Duration::from_secs(30)).await.unwrap();
    let mut modified = Vec::new();
    for i in 0..20 {
        let path = root.join(format!("bucket/d/{i}.bin"));
        assert!(std::fs::read(&path).unwrap() == object(i, 3_000)[..]);
        modified.push(mtime(&path));
    }
    let playlist = mtime(&root.join("bucket/d/playlist.m3u8"));
    assert!(modified.iter().all(|m| *m <= playlist), "the playlist was written before a segment");
    assert!(modified.windows(2).all(|w| w[0] <= w[1]), "segments out of order");
    let stats = storage.stats();
    assert_eq!((stats.uploaded_objects, stats.failures, stats.spooled_objects), (21, 0, 0));
    assert_eq!(std::fs::read_dir(base.join("spool")).unwrap().count(), 0);
}

fn mtime(path: &Path) -> std::time::SystemTime {
    std::fs::metadata(path).unwrap().modified().unwrap()
}

#[tokio::test]
async fn a_lasting_failure_is_given_up_and_counted() {
    let base = temp_dir("giveup");
    let root = base.join("root");
    std::fs::write(&root, b"file").unwrap();
    let storage = Storage::with_options(
        StorageBackend::Directory { root },
        StorageOptions {
            retry: fast_retry(Duration::from_millis(300)),
            memory_budget: 1_000,
            spool_dir: None,
            max_in_flight: 2,
        },
    );
    storage.upload("bucket", "a/1", object(1, 800)).unwrap();
    // Over the budget with no spool: dropped, counted, not queued.
    storage.upload("bucket", "a/2", object(2, 800)).unwrap();
    assert_eq!(storage.stats().dropped, 1);
    assert!(matches!(
        storage.flush(Duration::from_millis(50)).await,
        Err(StorageError::FlushTimeout { queued_objects: 1, .. })
    ));
    storage.flush(Duration::from_secs(10)).await.unwrap();
    let stats = storage.stats();
    assert_eq!((stats.failures, stats.uploaded_objects, stats.memory_bytes), (1, 0, 0));
}
