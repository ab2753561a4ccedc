//! [`BroadcastStore`] for every backend, in the same shared SQL as `sql_store.rs`.

use async_trait::async_trait;
use sqlx::error::ErrorKind;
use time::OffsetDateTime;

use crate::{
    BroadcastStore, ChannelFilter, ChannelRecord, Page, PageRequest, ParticipantRecording,
    RecordingConfigurationRecord, StorageConfigurationRecord, StoreError, StoreResult,
    StreamEventRecord, StreamKeyRecord, StreamSessionRecord,
    backend::{Arg, Backend, Conn, Tx, sql},
    broadcast_rows::{
        CHANNEL_COLUMNS, RECORDING_CONFIGURATION_COLUMNS, RawChannel, RawRecordingConfiguration,
        RawStorageConfiguration, RawStreamKey, RawStreamSession, STORAGE_CONFIGURATION_COLUMNS,
        STREAM_KEY_COLUMNS, STREAM_SESSION_COLUMNS, events_to_json,
    },
    rows::{convert, from_ms, to_json, to_ms},
    sql_store::{count_below, ensure, write_error},
};

/// Deleting a row that another still references (a configuration in use) is a conflict.
fn delete_error(err: sqlx::Error, what: &str) -> StoreError {
    match err.as_database_error() {
        Some(db) if db.kind() == ErrorKind::ForeignKeyViolation => {
            StoreError::Conflict(format!("{what} is in use"))
        }
        _ => err.into(),
    }
}

async fn insert_stream_key_in(
    conn: &mut impl Conn,
    key: &StreamKeyRecord,
) -> StoreResult<StreamKeyRecord> {
    let tags = to_json(&key.tags)?;
    let insert = sql(format!(
        "INSERT INTO stream_keys (id, channel_id, value, tags, created_at) \
         VALUES ($1, $2, $3, $4, $5) RETURNING {STREAM_KEY_COLUMNS}"
    ))
    .bind(&key.id)
    .bind(&key.channel_id)
    .bind(&key.value)
    .bind(tags.as_str())
    .bind(to_ms(key.created_at));
    let raw: RawStreamKey = conn.fetch_one(insert).await.map_err(write_error)?;
    StreamKeyRecord::try_from(raw)
}

async fn read_stream_session(
    conn: &mut impl Conn,
    channel_id: &str,
    stream_id: &str,
    lock: &str,
) -> StoreResult<Option<StreamSessionRecord>> {
    let statement = sql(format!(
        "SELECT {STREAM_SESSION_COLUMNS} FROM stream_sessions \
         WHERE channel_id = $1 AND stream_id = $2{lock}"
    ));
    let raw: Option<RawStreamSession> =
        conn.fetch_optional(statement.bind(channel_id).bind(stream_id)).await?;
    raw.map(StreamSessionRecord::try_from).transpose()
}

#[async_trait]
impl<B: Backend> BroadcastStore for B {
    // --- channels and stream keys ------------------------------------------------------------

    async fn create_channel(
        &self,
        channel: &ChannelRecord,
        key: Option<&StreamKeyRecord>,
        max_channels: u64,
    ) -> StoreResult<ChannelRecord> {
        let settings = to_json(&channel.settings)?;
        let tags = to_json(&channel.tags)?;
        let mut tx = self.begin(Some("channels")).await?;
        let (count,): (i64,) = tx.fetch_one(sql("SELECT COUNT(*) FROM channels")).await?;
        ensure(count_below(count, max_channels), || {
            StoreError::QuotaExceeded(format!("at most {max_channels} channels"))
        })?;
        let insert = sql(format!(
            "INSERT INTO channels (id, name, recording_configuration_id, settings, tags, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING {CHANNEL_COLUMNS}"
        ))
        .bind(&channel.id)
        .bind(&channel.name)
        .bind(channel.recording_configuration_id.as_deref())
        .bind(settings.as_str())
        .bind(tags.as_str())
        .bind(to_ms(channel.created_at));
        let raw: RawChannel = tx.fetch_one(insert).await.map_err(write_error)?;
        if let Some(key) = key {
            insert_stream_key_in(&mut tx, key).await?;
        }
        tx.commit().await?;
        ChannelRecord::try_from(raw)
    }

    async fn get_channel(&self, id: &str) -> StoreResult<Option<ChannelRecord>> {
        let statement = sql(format!("SELECT {CHANNEL_COLUMNS} FROM channels WHERE id = $1"));
        let raw: Option<RawChannel> = self.pool().fetch_optional(statement.bind(id)).await?;
        raw.map(ChannelRecord::try_from).transpose()
    }

    async fn list_channels(
        &self,
        filter: &ChannelFilter,
        page: PageRequest,
    ) -> StoreResult<Page<ChannelRecord>> {
        let conditions = [
            ("name", filter.name.as_deref().map(Arg::from)),
            (
                "recording_configuration_id",
                filter.recording_configuration_id.as_deref().map(Arg::from),
            ),
        ];
        let mut text = format!("SELECT {CHANNEL_COLUMNS} FROM channels WHERE seq > $1");
        let mut statement = sql("").bind(page.after_seq());
        for (column, arg) in conditions {
            if let Some(arg) = arg {
                statement = statement.bind(arg);
                text.push_str(&format!(" AND {column} = ${}", statement.args.len()));
            }
        }
        statement = statement.bind(page.fetch_limit());
        text.push_str(&format!(" ORDER BY seq LIMIT ${}", statement.args.len()));
        statement.text = text.into();
        let rows: Vec<RawChannel> = self.pool().fetch_all(statement).await?;
        Ok(Page::from_rows(convert(rows)?, page, |c: &ChannelRecord| c.seq))
    }

    async fn update_channel(&self, channel: &ChannelRecord) -> StoreResult<ChannelRecord> {
        let settings = to_json(&channel.settings)?;
        let statement = sql(format!(
            "UPDATE channels SET name = $2, recording_configuration_id = $3, settings = $4 \
             WHERE id = $1 RETURNING {CHANNEL_COLUMNS}"
        ))
        .bind(&channel.id)
        .bind(&channel.name)
        .bind(channel.recording_configuration_id.as_deref())
        .bind(settings.as_str());
        let raw: Option<RawChannel> =
            self.pool().fetch_optional(statement).await.map_err(write_error)?;
        ChannelRecord::try_from(raw.ok_or(StoreError::NotFound)?)
    }

    async fn delete_channel(&self, id: &str) -> StoreResult<()> {
        let deleted =
            self.pool().execute(sql("DELETE FROM channels WHERE id = $1").bind(id)).await?;
        ensure(deleted > 0, || StoreError::NotFound)
    }

    async fn create_stream_key(
        &self,
        key: &StreamKeyRecord,
        max_per_channel: u64,
    ) -> StoreResult<StreamKeyRecord> {
        let mut tx = self.begin(Some("stream_keys")).await?;
        let channel: Option<(String,)> = tx
            .fetch_optional(sql("SELECT id FROM channels WHERE id = $1").bind(&key.channel_id))
            .await?;
        ensure(channel.is_some(), || StoreError::NotFound)?;
        let (count,): (i64,) = tx
            .fetch_one(
                sql("SELECT COUNT(*) FROM stream_keys WHERE channel_id = $1").bind(&key.channel_id),
            )
            .await?;
        ensure(count_below(count, max_per_channel), || {
            StoreError::QuotaExceeded(format!("at most {max_per_channel} stream keys per channel"))
        })?;
        let created = insert_stream_key_in(&mut tx, key).await?;
        tx.commit().await?;
        Ok(created)
    }

    async fn get_stream_key(&self, id: &str) -> StoreResult<Option<StreamKeyRecord>> {
        let statement = sql(format!("SELECT {STREAM_KEY_COLUMNS} FROM stream_keys WHERE id = $1"));
        let raw: Option<RawStreamKey> = self.pool().fetch_optional(statement.bind(id)).await?;
        raw.map(StreamKeyRecord::try_from).transpose()
    }

    async fn find_stream_key(&self, value: &str) -> StoreResult<Option<StreamKeyRecord>> {
        let statement =
            sql(format!("SELECT {STREAM_KEY_COLUMNS} FROM stream_keys WHERE value = $1"));
        let raw: Option<RawStreamKey> = self.pool().fetch_optional(statement.bind(value)).await?;
        raw.map(StreamKeyRecord::try_from).transpose()
    }

    async fn list_stream_keys(
        &self,
        channel_id: &str,
        page: PageRequest,
    ) -> StoreResult<Page<StreamKeyRecord>> {
        let statement = sql(format!(
            "SELECT {STREAM_KEY_COLUMNS} FROM stream_keys WHERE channel_id = $1 AND seq > $2 \
             ORDER BY seq LIMIT $3"
        ))
        .bind(channel_id)
        .bind(page.after_seq())
        .bind(page.fetch_limit());
        let rows: Vec<RawStreamKey> = self.pool().fetch_all(statement).await?;
        Ok(Page::from_rows(convert(rows)?, page, |k: &StreamKeyRecord| k.seq))
    }

    async fn delete_stream_key(&self, id: &str) -> StoreResult<()> {
        let deleted =
            self.pool().execute(sql("DELETE FROM stream_keys WHERE id = $1").bind(id)).await?;
        ensure(deleted > 0, || StoreError::NotFound)
    }

    // --- stream sessions ------------------------------------------------------------------------

    async fn start_stream_session(
        &self,
        session: &StreamSessionRecord,
    ) -> StoreResult<StreamSessionRecord> {
        let channel = to_json(&session.channel)?;
        let ingest = to_json(&session.ingest_configuration)?;
        let recording = session.recording_configuration.as_ref().map(to_json).transpose()?;
        let events = events_to_json(&session.events)?;
        let insert = sql(format!(
            "INSERT INTO stream_sessions (channel_id, stream_id, start_time, end_time, channel, \
             ingest_configuration, recording_configuration, events) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {STREAM_SESSION_COLUMNS}"
        ))
        .bind(&session.channel_id)
        .bind(&session.stream_id)
        .bind(to_ms(session.start_time))
        .bind(session.end_time.map(to_ms))
        .bind(channel.as_str())
        .bind(ingest.as_str())
        .bind(recording.as_deref())
        .bind(events.as_str());
        let raw: RawStreamSession = self.pool().fetch_one(insert).await.map_err(write_error)?;
        StreamSessionRecord::try_from(raw)
    }

    async fn end_stream_session(
        &self,
        channel_id: &str,
        stream_id: &str,
        at: OffsetDateTime,
        events: &[StreamEventRecord],
    ) -> StoreResult<StreamSessionRecord> {
        let mut tx = self.begin(None).await?;
        let mut session = read_stream_session(&mut tx, channel_id, stream_id, B::FOR_UPDATE)
            .await?
            .ok_or(StoreError::NotFound)?;
        if session.end_time.is_some() {
            return Ok(session);
        }
        session.events.extend(events.iter().cloned());
        let encoded = events_to_json(&session.events)?;
        let update = sql("UPDATE stream_sessions SET end_time = $3, events = $4 \
                          WHERE channel_id = $1 AND stream_id = $2")
        .bind(channel_id)
        .bind(stream_id)
        .bind(to_ms(at))
        .bind(encoded.as_str());
        tx.execute(update).await?;
        tx.commit().await?;
        session.end_time = Some(from_ms(to_ms(at))?);
        Ok(session)
    }

    async fn get_stream_session(
        &self,
        channel_id: &str,
        stream_id: &str,
    ) -> StoreResult<Option<StreamSessionRecord>> {
        read_stream_session(&mut self.pool(), channel_id, stream_id, "").await
    }

    async fn latest_stream_session(
        &self,
        channel_id: &str,
    ) -> StoreResult<Option<StreamSessionRecord>> {
        let statement = sql(format!(
            "SELECT {STREAM_SESSION_COLUMNS} FROM stream_sessions WHERE channel_id = $1 \
             ORDER BY seq DESC LIMIT 1"
        ));
        let raw: Option<RawStreamSession> =
            self.pool().fetch_optional(statement.bind(channel_id)).await?;
        raw.map(StreamSessionRecord::try_from).transpose()
    }

    async fn list_stream_sessions(
        &self,
        channel_id: &str,
        page: PageRequest,
    ) -> StoreResult<Page<StreamSessionRecord>> {
        let statement = sql(format!(
            "SELECT {STREAM_SESSION_COLUMNS} FROM stream_sessions \
             WHERE channel_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"
        ))
        .bind(channel_id)
        .bind(page.after_seq())
        .bind(page.fetch_limit());
        let rows: Vec<RawStreamSession> = self.pool().fetch_all(statement).await?;
        Ok(Page::from_rows(convert(rows)?, page, |s: &StreamSessionRecord| s.seq))
    }

    // --- recording configurations ---------------------------------------------------------------

    async fn create_recording_configuration(
        &self,
        config: &RecordingConfigurationRecord,
        max: u64,
    ) -> StoreResult<RecordingConfigurationRecord> {
        let settings = to_json(&config.settings)?;
        let tags = to_json(&config.tags)?;
        let mut tx = self.begin(Some("recording_configurations")).await?;
        let (count,): (i64,) =
            tx.fetch_one(sql("SELECT COUNT(*) FROM recording_configurations")).await?;
        ensure(count_below(count, max), || {
            StoreError::QuotaExceeded(format!("at most {max} recording configurations"))
        })?;
        let insert = sql(format!(
            "INSERT INTO recording_configurations (id, name, bucket_name, settings, tags, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6) \
             RETURNING {RECORDING_CONFIGURATION_COLUMNS}"
        ))
        .bind(&config.id)
        .bind(&config.name)
        .bind(&config.bucket_name)
        .bind(settings.as_str())
        .bind(tags.as_str())
        .bind(to_ms(config.created_at));
        let raw: RawRecordingConfiguration = tx.fetch_one(insert).await.map_err(write_error)?;
        tx.commit().await?;
        RecordingConfigurationRecord::try_from(raw)
    }

    async fn get_recording_configuration(
        &self,
        id: &str,
    ) -> StoreResult<Option<RecordingConfigurationRecord>> {
        let statement = sql(format!(
            "SELECT {RECORDING_CONFIGURATION_COLUMNS} FROM recording_configurations WHERE id = $1"
        ));
        let raw: Option<RawRecordingConfiguration> =
            self.pool().fetch_optional(statement.bind(id)).await?;
        raw.map(RecordingConfigurationRecord::try_from).transpose()
    }

    async fn list_recording_configurations(
        &self,
        page: PageRequest,
    ) -> StoreResult<Page<RecordingConfigurationRecord>> {
        let statement = sql(format!(
            "SELECT {RECORDING_CONFIGURATION_COLUMNS} FROM recording_configurations \
             WHERE seq > $1 ORDER BY seq LIMIT $2"
        ));
        let rows: Vec<RawRecordingConfiguration> = self
            .pool()
            .fetch_all(statement.bind(page.after_seq()).bind(page.fetch_limit()))
            .await?;
        Ok(Page::from_rows(convert(rows)?, page, |c: &RecordingConfigurationRecord| c.seq))
    }

    async fn delete_recording_configuration(&self, id: &str) -> StoreResult<()> {
        let deleted = self
            .pool()
            .execute(sql("DELETE FROM recording_configurations WHERE id = $1").bind(id))
            .await
            .map_err(|e| delete_error(e, "the recording configuration"))?;
        ensure(deleted > 0, || StoreError::NotFound)
    }

    // --- storage configurations -----------------------------------------------------------------

    async fn create_storage_configuration(
        &self,
        config: &StorageConfigurationRecord,
        max: u64,
    ) -> StoreResult<StorageConfigurationRecord> {
        let tags = to_json(&config.tags)?;
        let mut tx = self.begin(Some("storage_configurations")).await?;
        let (count,): (i64,) =
            tx.fetch_one(sql("SELECT COUNT(*) FROM storage_configurations")).await?;
        ensure(count_below(count, max), || {
            StoreError::QuotaExceeded(format!("at most {max} storage configurations"))
        })?;
        let insert = sql(format!(
            "INSERT INTO storage_configurations (id, name, bucket_name, tags, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING {STORAGE_CONFIGURATION_COLUMNS}"
        ))
        .bind(&config.id)
        .bind(&config.name)
        .bind(&config.bucket_name)
        .bind(tags.as_str())
        .bind(to_ms(config.created_at));
        let raw: RawStorageConfiguration = tx.fetch_one(insert).await.map_err(write_error)?;
        tx.commit().await?;
        StorageConfigurationRecord::try_from(raw)
    }

    async fn get_storage_configuration(
        &self,
        id: &str,
    ) -> StoreResult<Option<StorageConfigurationRecord>> {
        let statement = sql(format!(
            "SELECT {STORAGE_CONFIGURATION_COLUMNS} FROM storage_configurations WHERE id = $1"
        ));
        let raw: Option<RawStorageConfiguration> =
            self.pool().fetch_optional(statement.bind(id)).await?;
        raw.map(StorageConfigurationRecord::try_from).transpose()
    }

    async fn list_storage_configurations(
        &self,
        page: PageRequest,
    ) -> StoreResult<Page<StorageConfigurationRecord>> {
        let statement = sql(format!(
            "SELECT {STORAGE_CONFIGURATION_COLUMNS} FROM storage_configurations \
             WHERE seq > $1 ORDER BY seq LIMIT $2"
        ));
        let rows: Vec<RawStorageConfiguration> = self
            .pool()
            .fetch_all(statement.bind(page.after_seq()).bind(page.fetch_limit()))
            .await?;
        Ok(Page::from_rows(convert(rows)?, page, |c: &StorageConfigurationRecord| c.seq))
    }

    async fn delete_storage_configuration(&self, id: &str) -> StoreResult<()> {
        let deleted = self
            .pool()
            .execute(sql("DELETE FROM storage_configurations WHERE id = $1").bind(id))
            .await
            .map_err(|e| delete_error(e, "the storage configuration"))?;
        ensure(deleted > 0, || StoreError::NotFound)
    }

    // --- participant recordings -----------------------------------------------------------------

    async fn set_participant_recording(
        &self,
        stage_id: &str,
        session_id: &str,
        participant_id: &str,
        recording: &ParticipantRecording,
    ) -> StoreResult<()> {
        let statement = sql("INSERT INTO participant_recordings (stage_id, session_id, \
             participant_id, state, bucket_name, prefix) \
             SELECT $1, session_id, $3, $4, $5, $6 FROM sessions \
             WHERE stage_id = $1 AND session_id = $2 \
             ON CONFLICT (stage_id, session_id, participant_id) DO UPDATE SET \
             state = excluded.state, bucket_name = excluded.bucket_name, prefix = excluded.prefix")
        .bind(stage_id)
        .bind(session_id)
        .bind(participant_id)
        .bind(recording.state.as_str())
        .bind(recording.bucket_name.as_str())
        .bind(recording.prefix.as_str());
        let written = self.pool().execute(statement).await.map_err(write_error)?;
        ensure(written > 0, || StoreError::NotFound)
    }
}
