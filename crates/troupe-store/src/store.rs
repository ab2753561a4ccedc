//! The one trait every backend implements. Methods are grouped by the resource they touch; each
//! is a single transaction.

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::{
    EventRecord, NewStage, NodeKeyRecord, Page, PageRequest, ParticipantFilter, ParticipantRecord,
    PublicKeyRecord, Revocation, SessionRecord, StageRecord, StageUpdate, StoreCounts, StoreResult,
    StringMap, TaggedKind, TokenRecord,
};

/// The broadcast half ([`crate::BroadcastStore`]) is a supertrait: one store holds both.
#[async_trait]
pub trait Store: crate::BroadcastStore + Send + Sync + 'static {
    /// `"sqlite"` or `"postgres"`, for logs and metrics.
    fn backend(&self) -> &'static str;
    /// Cheap round trip to the database, for `/readyz`.
    async fn ping(&self) -> StoreResult<()>;
    /// How many stages, active sessions and public keys exist, for metrics.
    async fn counts(&self) -> StoreResult<StoreCounts>;
    /// Flushes and closes connections; later calls fail with `Backend`.
    async fn close(&self);

    // --- stages -------------------------------------------------------------------------
    /// Creates the stage and records the tokens issued with it, atomically. Fails with
    /// `QuotaExceeded` when `max_stages` stages exist already.
    async fn create_stage(
        &self,
        stage: &NewStage,
        tokens: &[TokenRecord],
        max_stages: u64,
    ) -> StoreResult<StageRecord>;
    async fn get_stage(&self, id: &str) -> StoreResult<Option<StageRecord>>;
    /// Every stage with this exact name, oldest first (names are not unique).
    async fn find_stages_by_name(&self, name: &str) -> StoreResult<Vec<StageRecord>>;
    async fn list_stages(&self, page: PageRequest) -> StoreResult<Page<StageRecord>>;
    /// `NotFound` when the stage does not exist.
    async fn update_stage(&self, id: &str, update: &StageUpdate) -> StoreResult<StageRecord>;
    /// Deletes the stage with its sessions, participants, events, tokens and revocations.
    /// `NotFound` when the stage does not exist.
    async fn delete_stage(&self, id: &str) -> StoreResult<()>;

    // --- participant tokens and revocation ------------------------------------------------
    /// `NotFound` when the stage does not exist.
    async fn insert_token(&self, token: &TokenRecord) -> StoreResult<()>;
    async fn get_token(&self, participant_id: &str) -> StoreResult<Option<TokenRecord>>;
    /// Records (or replaces) the revocation of a participant id on one stage.
    async fn revoke(&self, revocation: &Revocation) -> StoreResult<()>;
    async fn get_revocation(
        &self,
        stage_id: &str,
        participant_id: &str,
    ) -> StoreResult<Option<Revocation>>;
    /// Drops token records and revocations that expired before `now`; returns how many.
    async fn purge_expired(&self, now: OffsetDateTime) -> StoreResult<u64>;

    // --- public keys ------------------------------------------------------------------------
    /// `Conflict` when a key with the same fingerprint exists; `QuotaExceeded` when `max_keys`
    /// keys exist already.
    async fn insert_public_key(
        &self,
        key: &PublicKeyRecord,
        max_keys: u64,
    ) -> StoreResult<PublicKeyRecord>;
    async fn get_public_key(&self, id: &str) -> StoreResult<Option<PublicKeyRecord>>;
    async fn list_public_keys(&self, page: PageRequest) -> StoreResult<Page<PublicKeyRecord>>;
    /// `NotFound` when the key does not exist.
    async fn delete_public_key(&self, id: &str) -> StoreResult<()>;

    // --- node signing keys (so any node sharing the store verifies any node's tokens) -----
    /// Records a node's public key under its key id; re-registering the same pair is a no-op.
    /// `Conflict` when the kid was retired or is registered with another key.
    async fn register_node_key(&self, kid: &str, public_pem: &str) -> StoreResult<()>;
    /// The public key of a node key that is not retired.
    async fn get_node_key(&self, kid: &str) -> StoreResult<Option<String>>;
    /// Every node key ever registered, retired ones included, by kid.
    async fn list_node_keys(&self) -> StoreResult<Vec<NodeKeyRecord>>;
    /// Stops trusting a node key: tokens it signed are refused from now on, and it cannot be
    /// registered again. `NotFound` when no such key was registered.
    async fn retire_node_key(&self, kid: &str, at: OffsetDateTime) -> StoreResult<()>;

    // --- tags ---------------------------------------------------------------------------------
    /// Sets `set` and removes `remove` on a resource, atomically; returns the resulting tags.
    /// `NotFound` when the resource does not exist; `QuotaExceeded` when the result would hold
    /// more than `max_tags` tags (nothing is written then).
    async fn update_tags(
        &self,
        kind: TaggedKind,
        id: &str,
        set: &StringMap,
        remove: &[String],
        max_tags: usize,
    ) -> StoreResult<StringMap>;

    // --- stage sessions (written by the media plane) --------------------------------------
    /// Returns the stage's active session, creating it with `session_id` and `at` when there is
    /// none. At most one session per stage is active at a time, even under concurrent calls.
    /// `NotFound` when the stage does not exist.
    async fn start_session(
        &self,
        stage_id: &str,
        session_id: &str,
        at: OffsetDateTime,
    ) -> StoreResult<SessionRecord>;
    /// Ends a session (idempotent: an ended session keeps its first end time).
    /// `NotFound` when the session does not exist.
    async fn end_session(
        &self,
        stage_id: &str,
        session_id: &str,
        at: OffsetDateTime,
    ) -> StoreResult<SessionRecord>;
    async fn get_session(
        &self,
        stage_id: &str,
        session_id: &str,
    ) -> StoreResult<Option<SessionRecord>>;
    /// Sessions of a stage, oldest first.
    async fn list_sessions(
        &self,
        stage_id: &str,
        page: PageRequest,
    ) -> StoreResult<Page<SessionRecord>>;

    // --- participants and their events (written by the media plane) ------------------------
    /// Inserts the participant or updates it in place (keeping `seq` and `first_join_time`).
    /// `NotFound` when the session does not exist.
    async fn upsert_participant(
        &self,
        participant: &ParticipantRecord,
    ) -> StoreResult<ParticipantRecord>;
    async fn get_participant(
        &self,
        stage_id: &str,
        session_id: &str,
        participant_id: &str,
    ) -> StoreResult<Option<ParticipantRecord>>;
    /// Participants of a session in join order, filtered.
    async fn list_participants(
        &self,
        stage_id: &str,
        session_id: &str,
        filter: &ParticipantFilter,
        page: PageRequest,
    ) -> StoreResult<Page<ParticipantRecord>>;
    /// Whether this participant id appears in any session of the stage.
    async fn participant_seen(&self, stage_id: &str, participant_id: &str) -> StoreResult<bool>;
    /// Appends an event; returns it with its `seq`. `NotFound` when the session does not exist.
    async fn append_event(&self, event: &EventRecord) -> StoreResult<EventRecord>;
    /// Events of one participant in one session, in the order they were appended.
    async fn list_events(
        &self,
        stage_id: &str,
        session_id: &str,
        participant_id: &str,
        page: PageRequest,
    ) -> StoreResult<Page<EventRecord>>;
}
