//! The broadcast half of the store: channels, stream keys, stream sessions, recording and
//! storage configurations, participant recordings. A supertrait of [`crate::Store`], so every
//! store has it and `dyn Store` callers reach it; implemented once for both backends in
//! `broadcast_sql.rs`.

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::{
    ChannelFilter, ChannelRecord, Page, PageRequest, ParticipantRecording,
    RecordingConfigurationRecord, StorageConfigurationRecord, StoreResult, StreamEventRecord,
    StreamKeyRecord, StreamSessionRecord,
};

#[async_trait]
pub trait BroadcastStore: Send + Sync + 'static {
    // --- channels and stream keys ------------------------------------------------------------
    /// Creates the channel with its first stream key, atomically. `QuotaExceeded` when
    /// `max_channels` channels exist; `NotFound` when its recording configuration does not.
    async fn create_channel(
        &self,
        channel: &ChannelRecord,
        key: Option<&StreamKeyRecord>,
        max_channels: u64,
    ) -> StoreResult<ChannelRecord>;
    async fn get_channel(&self, id: &str) -> StoreResult<Option<ChannelRecord>>;
    /// Channels in creation order, filtered (all filters given are ANDed).
    async fn list_channels(
        &self,
        filter: &ChannelFilter,
        page: PageRequest,
    ) -> StoreResult<Page<ChannelRecord>>;
    /// Writes the channel's name, recording configuration and settings (not its tags).
    /// `NotFound` when the channel or its recording configuration does not exist.
    async fn update_channel(&self, channel: &ChannelRecord) -> StoreResult<ChannelRecord>;
    /// Deletes the channel with its stream keys and stream sessions. `NotFound` if missing.
    async fn delete_channel(&self, id: &str) -> StoreResult<()>;

    /// `NotFound` when the channel does not exist; `QuotaExceeded` when it has
    /// `max_per_channel` keys already.
    async fn create_stream_key(
        &self,
        key: &StreamKeyRecord,
        max_per_channel: u64,
    ) -> StoreResult<StreamKeyRecord>;
    async fn get_stream_key(&self, id: &str) -> StoreResult<Option<StreamKeyRecord>>;
    /// The key with this secret value (what an encoder presents on ingest).
    async fn find_stream_key(&self, value: &str) -> StoreResult<Option<StreamKeyRecord>>;
    async fn list_stream_keys(
        &self,
        channel_id: &str,
        page: PageRequest,
    ) -> StoreResult<Page<StreamKeyRecord>>;
    /// `NotFound` when the key does not exist.
    async fn delete_stream_key(&self, id: &str) -> StoreResult<()>;

    // --- stream sessions (written by the ingest) --------------------------------------------
    /// `NotFound` when the channel does not exist; `Conflict` when the stream id is taken.
    async fn start_stream_session(
        &self,
        session: &StreamSessionRecord,
    ) -> StoreResult<StreamSessionRecord>;
    /// Ends a stream session and appends `events` (idempotent: an ended session keeps its
    /// first end time, and its events are not appended twice). `NotFound` if missing.
    async fn end_stream_session(
        &self,
        channel_id: &str,
        stream_id: &str,
        at: OffsetDateTime,
        events: &[StreamEventRecord],
    ) -> StoreResult<StreamSessionRecord>;
    async fn get_stream_session(
        &self,
        channel_id: &str,
        stream_id: &str,
    ) -> StoreResult<Option<StreamSessionRecord>>;
    /// The channel's most recent stream session, if it ever streamed.
    async fn latest_stream_session(
        &self,
        channel_id: &str,
    ) -> StoreResult<Option<StreamSessionRecord>>;
    /// Stream sessions of a channel, oldest first.
    async fn list_stream_sessions(
        &self,
        channel_id: &str,
        page: PageRequest,
    ) -> StoreResult<Page<StreamSessionRecord>>;

    // --- recording configurations (channels) ---------------------------------------------------
    /// `QuotaExceeded` when `max` exist already.
    async fn create_recording_configuration(
        &self,
        config: &RecordingConfigurationRecord,
        max: u64,
    ) -> StoreResult<RecordingConfigurationRecord>;
    async fn get_recording_configuration(
        &self,
        id: &str,
    ) -> StoreResult<Option<RecordingConfigurationRecord>>;
    async fn list_recording_configurations(
        &self,
        page: PageRequest,
    ) -> StoreResult<Page<RecordingConfigurationRecord>>;
    /// `NotFound` when missing; `Conflict` while a channel uses it.
    async fn delete_recording_configuration(&self, id: &str) -> StoreResult<()>;

    // --- storage configurations (stages) --------------------------------------------------------
    /// `QuotaExceeded` when `max` exist already.
    async fn create_storage_configuration(
        &self,
        config: &StorageConfigurationRecord,
        max: u64,
    ) -> StoreResult<StorageConfigurationRecord>;
    async fn get_storage_configuration(
        &self,
        id: &str,
    ) -> StoreResult<Option<StorageConfigurationRecord>>;
    async fn list_storage_configurations(
        &self,
        page: PageRequest,
    ) -> StoreResult<Page<StorageConfigurationRecord>>;
    /// `NotFound` when missing; `Conflict` while a stage uses it.
    async fn delete_storage_configuration(&self, id: &str) -> StoreResult<()>;

    // --- participant recordings (written by the recorder) ---------------------------------------
    /// Records a participant's recording state in one session of the stage (a recording that
    /// continues across a reconnect covers the sessions it spans), which GetParticipant and
    /// ListParticipants then show whatever the events hub writes. `NotFound` when the stage
    /// has no such session.
    async fn set_participant_recording(
        &self,
        stage_id: &str,
        session_id: &str,
        participant_id: &str,
        recording: &ParticipantRecording,
    ) -> StoreResult<()>;
}
