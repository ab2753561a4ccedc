//! The store test suite, run against both backends. Each case gets a fresh database: a SQLite
//! file in the temp directory, or a PostgreSQL database created through
//! `TROUPE_TEST_POSTGRES_URL` (`scripts/test` provides it; without it the PostgreSQL tests fail
//! on purpose, they do not skip).

mod suite;

use suite::{Kind, cases, run};

/// Instantiates every case once per backend: `sqlite::name` and `postgres::name`.
macro_rules! store_suite {
    (store: [$($store_case:ident),* $(,)?], db: [$($db_case:ident),* $(,)?] $(,)?) => {
        store_suite!(@backend sqlite, Kind::Sqlite, [$($store_case),*], [$($db_case),*]);
        store_suite!(@backend postgres, Kind::Postgres, [$($store_case),*], [$($db_case),*]);
    };
    (@backend $module:ident, $kind:expr, [$($store_case:ident),*], [$($db_case:ident),*]) => {
        mod $module {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $store_case() {
                    run($kind, |db| cases::$store_case(db.store.clone())).await;
                }
            )*
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $db_case() {
                    run($kind, cases::$db_case).await;
                }
            )*
        }
    };
}

store_suite! {
    store: [
        backend_and_ping,
        stage_crud,
        stage_names,
        stage_pages,
        pagination_during_concurrent_inserts,
        stage_quota,
        stage_quota_race,
        stage_with_tokens,
        tokens_and_revocations,
        purge_expired,
        public_keys,
        public_key_quota,
        public_key_races,
        node_keys,
        stage_tags,
        public_key_tags,
        concurrent_tag_updates,
        sessions,
        concurrent_start_session,
        participants,
        participant_filters,
        events,
        cascade_delete,
        calls_after_close_fail,
        channel_crud,
        channel_quota_and_filters,
        stream_keys,
        stream_sessions,
        recording_configurations,
        storage_configurations,
        broadcast_tags,
        participant_recordings,
    ],
    db: [
        persistence_across_reopen,
        two_handles_share_state,
        corrupt_rows_are_backend_errors,
    ],
}

/// `sqlite::memory:` works (one connection kept for the database's lifetime).
#[tokio::test]
async fn sqlite_in_memory() {
    let store = troupe_store::open("sqlite::memory:").await.unwrap();
    assert_eq!(store.backend(), "sqlite");
    store.create_stage(&suite::fixtures::stage("st", "n"), &[], 10).await.unwrap();
    assert!(store.get_stage("st").await.unwrap().is_some());
    store.close().await;
}

/// A relative path (`sqlite://dir/file.db`) is taken from the working directory, and missing
/// directories are created. The path climbs to `/` and back down into the temp directory, so
/// the test leaves nothing in the source tree.
#[tokio::test]
async fn sqlite_relative_path() {
    let dir = std::env::temp_dir().join(format!("troupe-rel-{}", std::process::id()));
    let cwd = std::env::current_dir().unwrap();
    let up = "../".repeat(cwd.components().count());
    let target = dir.strip_prefix("/").unwrap().join("nested/troupe.db");
    let url = format!("sqlite://{up}{}", target.display());
    let store = troupe_store::open(&url).await.unwrap();
    store.ping().await.unwrap();
    store.close().await;
    assert!(dir.join("nested/troupe.db").exists(), "{url} not created");
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn unsupported_urls_are_config_errors() {
    for url in ["mysql://localhost/db", "sqlite://?mode=bogus"] {
        let result = troupe_store::open(url).await;
        assert!(
            matches!(result, Err(troupe_store::StoreError::Config(_))),
            "{url}: {:?}",
            result.map(|_| ())
        );
    }
}
