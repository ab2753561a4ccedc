//! The [`Store`] implementation shared by both backends: every backend implements
//! [`Backend`], and this blanket impl turns it into a `Store`. The SQL is the same for SQLite and
//! PostgreSQL; where they differ (how a write transaction locks, `FOR UPDATE`) the backend says.

use std::collections::BTreeSet;

use async_trait::async_trait;
use sqlx::error::ErrorKind;
use time::OffsetDateTime;

use crate::{
    EventRecord, NewStage, NodeKeyRecord, Page, PageRequest, ParticipantFilter, ParticipantRecord,
    PublicKeyRecord, Revocation, SessionRecord, StageRecord, StageUpdate, Store, StoreCounts,
    StoreError, StoreResult, StringMap, TaggedKind, TokenRecord,
    backend::{Arg, Backend, Conn, Tx, sql},
    rows::{
        EVENT_COLUMNS, PARTICIPANT_RECORDING_STATE, PARTICIPANT_SELECT, PUBLIC_KEY_COLUMNS,
        REVOCATION_COLUMNS, RawEvent, RawParticipant, RawPublicKey, RawRevocation, RawSession,
        RawStage, RawToken, SESSION_COLUMNS, STAGE_SELECT, TOKEN_COLUMNS, convert, from_json,
        from_ms, to_json, to_ms,
    },
};

/// How many times `start_session` re-reads after losing a race before giving up (each retry
/// means another caller started or ended a session in between: more is pathological).
const START_SESSION_ATTEMPTS: usize = 8;

/// Maps the error of a write: uniqueness violations are conflicts, and a missing parent row
/// (foreign key) means the stage or session written under does not exist.
pub(crate) fn write_error(err: sqlx::Error) -> StoreError {
    match err.as_database_error() {
        Some(db) if db.kind() == ErrorKind::UniqueViolation => {
            StoreError::Conflict(db.message().to_owned())
        }
        Some(db) if db.kind() == ErrorKind::ForeignKeyViolation => StoreError::NotFound,
        _ => err.into(),
    }
}

/// `Err(err())` unless `condition` holds. Used with `?` before `commit`: leaving early drops
/// the transaction, which rolls it back, so a refused write leaves nothing behind.
pub(crate) fn ensure(condition: bool, err: impl FnOnce() -> StoreError) -> StoreResult<()> {
    if condition { Ok(()) } else { Err(err()) }
}

pub(crate) fn count_below(count: i64, max: u64) -> bool {
    u64::try_from(count).map_or(true, |count| count < max)
}

async fn insert_token_in(conn: &mut impl Conn, token: &TokenRecord) -> StoreResult<()> {
    let attributes = to_json(&token.attributes)?;
    let statement = sql(format!(
        "INSERT INTO tokens ({TOKEN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    ))
    .bind(&token.participant_id)
    .bind(&token.stage_id)
    .bind(token.user_id.as_deref())
    .bind(attributes.as_str())
    .bind(token.capabilities.publish)
    .bind(token.capabilities.subscribe)
    .bind(i64::from(token.duration_minutes))
    .bind(to_ms(token.issued_at))
    .bind(to_ms(token.expires_at));
    conn.execute(statement).await.map_err(write_error)?;
    Ok(())
}

async fn read_stage(conn: &mut impl Conn, id: &str) -> StoreResult<Option<StageRecord>> {
    let raw: Option<RawStage> =
        conn.fetch_optional(sql(format!("{STAGE_SELECT} WHERE s.id = $1")).bind(id)).await?;
    raw.map(StageRecord::try_from).transpose()
}

async fn read_session(
    conn: &mut impl Conn,
    stage_id: &str,
    session_id: &str,
) -> StoreResult<Option<SessionRecord>> {
    let statement = sql(format!(
        "SELECT {SESSION_COLUMNS} FROM sessions WHERE stage_id = $1 AND session_id = $2"
    ));
    let raw: Option<RawSession> =
        conn.fetch_optional(statement.bind(stage_id).bind(session_id)).await?;
    raw.map(SessionRecord::try_from).transpose()
}

async fn read_active_session(
    conn: &mut impl Conn,
    stage_id: &str,
) -> StoreResult<Option<SessionRecord>> {
    let statement = sql(format!(
        "SELECT {SESSION_COLUMNS} FROM sessions WHERE stage_id = $1 AND end_time IS NULL"
    ));
    let raw: Option<RawSession> = conn.fetch_optional(statement.bind(stage_id)).await?;
    raw.map(SessionRecord::try_from).transpose()
}

/// The tags after an update: `set` applied, then `remove` removed.
fn merge_tags(mut tags: StringMap, set: &StringMap, remove: &[String]) -> StringMap {
    tags.extend(set.iter().map(|(k, v)| (k.clone(), v.clone())));
    let remove: BTreeSet<&String> = remove.iter().collect();
    tags.retain(|k, _| !remove.contains(k));
    tags
}

#[async_trait]
impl<B: Backend> Store for B {
    fn backend(&self) -> &'static str {
        B::NAME
    }

    async fn ping(&self) -> StoreResult<()> {
        self.pool().execute(sql("SELECT 1")).await?;
        Ok(())
    }

    async fn counts(&self) -> StoreResult<StoreCounts> {
        let (stages, active_sessions, public_keys): (i64, i64, i64) = self
            .pool()
            .fetch_one(sql("SELECT (SELECT COUNT(*) FROM stages), \
                 (SELECT COUNT(*) FROM sessions WHERE end_time IS NULL), \
                 (SELECT COUNT(*) FROM public_keys)"))
            .await?;
        Ok(StoreCounts { stages, active_sessions, public_keys })
    }

    async fn close(&self) {
        Backend::close(self).await;
    }

    // --- stages -----------------------------------------------------------------------------

    async fn create_stage(
        &self,
        stage: &NewStage,
        tokens: &[TokenRecord],
        max_stages: u64,
    ) -> StoreResult<StageRecord> {
        let tags = to_json(&stage.tags)?;
        let auto_recording = stage.auto_recording.as_ref().map(to_json).transpose()?;
        let mut tx = self.begin(Some("stages")).await?;
        let (count,): (i64,) = tx.fetch_one(sql("SELECT COUNT(*) FROM stages")).await?;
        ensure(count_below(count, max_stages), || {
            StoreError::QuotaExceeded(format!("at most {max_stages} stages"))
        })?;
        let insert = sql("INSERT INTO stages (id, name, tags, auto_recording, created_at, \
             storage_configuration_id) VALUES ($1, $2, $3, $4, $5, $6) RETURNING seq")
        .bind(&stage.id)
        .bind(&stage.name)
        .bind(tags.as_str())
        .bind(auto_recording.as_deref())
        .bind(to_ms(stage.created_at))
        .bind(stage.storage_configuration_id.as_deref());
        let (seq,): (i64,) = tx.fetch_one(insert).await.map_err(write_error)?;
        for token in tokens {
            insert_token_in(&mut tx, token).await?;
        }
        tx.commit().await?;
        Ok(StageRecord {
            seq,
            id: stage.id.clone(),
            name: stage.name.clone(),
            tags: stage.tags.clone(),
            auto_recording: stage.auto_recording.clone(),
            created_at: from_ms(to_ms(stage.created_at))?,
            active_session_id: None,
        })
    }

    async fn get_stage(&self, id: &str) -> StoreResult<Option<StageRecord>> {
        read_stage(&mut self.pool(), id).await
    }

    async fn find_stages_by_name(&self, name: &str) -> StoreResult<Vec<StageRecord>> {
        let statement = sql(format!("{STAGE_SELECT} WHERE s.name = $1 ORDER BY s.seq"));
        let rows: Vec<RawStage> = self.pool().fetch_all(statement.bind(name)).await?;
        convert(rows)
    }

    async fn list_stages(&self, page: PageRequest) -> StoreResult<Page<StageRecord>> {
        let statement = sql(format!("{STAGE_SELECT} WHERE s.seq > $1 ORDER BY s.seq LIMIT $2"));
        let rows: Vec<RawStage> = self
            .pool()
            .fetch_all(statement.bind(page.after_seq()).bind(page.fetch_limit()))
            .await?;
        Ok(Page::from_rows(convert(rows)?, page, |s: &StageRecord| s.seq))
    }

    async fn update_stage(&self, id: &str, update: &StageUpdate) -> StoreResult<StageRecord> {
        let auto_recording = update.auto_recording.as_ref().map(to_json).transpose()?;
        let mut tx = self.begin(None).await?;
        // The storage reference changes with the recording configuration, never without it.
        let statement = sql("UPDATE stages SET name = COALESCE($2, name), \
             auto_recording = COALESCE($3, auto_recording), \
             storage_configuration_id = CASE WHEN $4 THEN $5 ELSE storage_configuration_id END \
             WHERE id = $1")
        .bind(id)
        .bind(update.name.as_deref())
        .bind(auto_recording.as_deref())
        .bind(auto_recording.is_some())
        .bind(update.storage_configuration_id.as_deref());
        let changed = tx.execute(statement).await.map_err(write_error)?;
        ensure(changed > 0, || StoreError::NotFound)?;
        let stage = read_stage(&mut tx, id).await?.ok_or(StoreError::NotFound)?;
        tx.commit().await?;
        Ok(stage)
    }

    async fn delete_stage(&self, id: &str) -> StoreResult<()> {
        let mut tx = self.begin(None).await?;
        // Revocations have no foreign key (see the migration); everything else cascades.
        tx.execute(sql("DELETE FROM revocations WHERE stage_id = $1").bind(id)).await?;
        let deleted = tx.execute(sql("DELETE FROM stages WHERE id = $1").bind(id)).await?;
        ensure(deleted > 0, || StoreError::NotFound)?;
        tx.commit().await?;
        Ok(())
    }

    // --- participant tokens and revocation ---------------------------------------------------

    async fn insert_token(&self, token: &TokenRecord) -> StoreResult<()> {
        insert_token_in(&mut self.pool(), token).await
    }

    async fn get_token(&self, participant_id: &str) -> StoreResult<Option<TokenRecord>> {
        let statement =
            sql(format!("SELECT {TOKEN_COLUMNS} FROM tokens WHERE participant_id = $1"));
        let raw: Option<RawToken> =
            self.pool().fetch_optional(statement.bind(participant_id)).await?;
        raw.map(TokenRecord::try_from).transpose()
    }

    async fn revoke(&self, revocation: &Revocation) -> StoreResult<()> {
        let statement = sql(format!(
            "INSERT INTO revocations ({REVOCATION_COLUMNS}) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (stage_id, participant_id) DO UPDATE SET \
             reason = excluded.reason, revoked_at = excluded.revoked_at, \
             expires_at = excluded.expires_at"
        ))
        .bind(&revocation.participant_id)
        .bind(&revocation.stage_id)
        .bind(revocation.reason.as_deref())
        .bind(to_ms(revocation.revoked_at))
        .bind(to_ms(revocation.expires_at));
        self.pool().execute(statement).await.map_err(write_error)?;
        Ok(())
    }

    async fn get_revocation(
        &self,
        stage_id: &str,
        participant_id: &str,
    ) -> StoreResult<Option<Revocation>> {
        let statement = sql(format!(
            "SELECT {REVOCATION_COLUMNS} FROM revocations \
             WHERE stage_id = $1 AND participant_id = $2"
        ));
        let raw: Option<RawRevocation> =
            self.pool().fetch_optional(statement.bind(stage_id).bind(participant_id)).await?;
        raw.map(Revocation::try_from).transpose()
    }

    async fn purge_expired(&self, now: OffsetDateTime) -> StoreResult<u64> {
        let now = to_ms(now);
        let mut tx = self.begin(None).await?;
        let tokens = tx.execute(sql("DELETE FROM tokens WHERE expires_at < $1").bind(now)).await?;
        let revocations =
            tx.execute(sql("DELETE FROM revocations WHERE expires_at < $1").bind(now)).await?;
        tx.commit().await?;
        Ok(tokens + revocations)
    }

    // --- public keys ------------------------------------------------------------------------

    async fn insert_public_key(
        &self,
        key: &PublicKeyRecord,
        max_keys: u64,
    ) -> StoreResult<PublicKeyRecord> {
        let tags = to_json(&key.tags)?;
        let mut tx = self.begin(Some("public_keys")).await?;
        let existing: Option<(String,)> = tx
            .fetch_optional(
                sql("SELECT id FROM public_keys WHERE fingerprint = $1").bind(&key.fingerprint),
            )
            .await?;
        if let Some((id,)) = existing {
            return Err(StoreError::Conflict(format!("public key {id} has the same fingerprint")));
        }
        let (count,): (i64,) = tx.fetch_one(sql("SELECT COUNT(*) FROM public_keys")).await?;
        ensure(count_below(count, max_keys), || {
            StoreError::QuotaExceeded(format!("at most {max_keys} public keys"))
        })?;
        let insert = sql("INSERT INTO public_keys (id, name, material, fingerprint, tags, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING seq")
        .bind(&key.id)
        .bind(&key.name)
        .bind(&key.material)
        .bind(&key.fingerprint)
        .bind(tags.as_str())
        .bind(to_ms(key.created_at));
        let (seq,): (i64,) = tx.fetch_one(insert).await.map_err(write_error)?;
        tx.commit().await?;
        Ok(PublicKeyRecord { seq, created_at: from_ms(to_ms(key.created_at))?, ..key.clone() })
    }

    async fn get_public_key(&self, id: &str) -> StoreResult<Option<PublicKeyRecord>> {
        let statement = sql(format!("SELECT {PUBLIC_KEY_COLUMNS} FROM public_keys WHERE id = $1"));
        let raw: Option<RawPublicKey> = self.pool().fetch_optional(statement.bind(id)).await?;
        raw.map(PublicKeyRecord::try_from).transpose()
    }

    async fn list_public_keys(&self, page: PageRequest) -> StoreResult<Page<PublicKeyRecord>> {
        let statement = sql(format!(
            "SELECT {PUBLIC_KEY_COLUMNS} FROM public_keys WHERE seq > $1 ORDER BY seq LIMIT $2"
        ));
        let rows: Vec<RawPublicKey> = self
            .pool()
            .fetch_all(statement.bind(page.after_seq()).bind(page.fetch_limit()))
            .await?;
        Ok(Page::from_rows(convert(rows)?, page, |k: &PublicKeyRecord| k.seq))
    }

    async fn delete_public_key(&self, id: &str) -> StoreResult<()> {
        let deleted =
            self.pool().execute(sql("DELETE FROM public_keys WHERE id = $1").bind(id)).await?;
        ensure(deleted > 0, || StoreError::NotFound)
    }

    // --- node signing keys --------------------------------------------------------------------

    async fn register_node_key(&self, kid: &str, public_pem: &str) -> StoreResult<()> {
        let mut pool = self.pool();
        let insert = sql("INSERT INTO node_keys (kid, public_pem) VALUES ($1, $2) \
                          ON CONFLICT (kid) DO NOTHING")
        .bind(kid)
        .bind(public_pem);
        if pool.execute(insert).await.map_err(write_error)? > 0 {
            return Ok(());
        }
        // The kid was registered already: a no-op for the same key, never a silent swap, and
        // never a way back for a retired key.
        let (existing, retired_at): (String, Option<i64>) = pool
            .fetch_one(sql("SELECT public_pem, retired_at FROM node_keys WHERE kid = $1").bind(kid))
            .await?;
        ensure(retired_at.is_none(), || {
            StoreError::Conflict(format!("node key {kid} was retired and cannot be used again"))
        })?;
        ensure(existing == public_pem, || {
            StoreError::Conflict(format!("node key {kid} is registered with another key"))
        })
    }

    async fn get_node_key(&self, kid: &str) -> StoreResult<Option<String>> {
        let row: Option<(String,)> = self
            .pool()
            .fetch_optional(
                sql("SELECT public_pem FROM node_keys WHERE kid = $1 AND retired_at IS NULL")
                    .bind(kid),
            )
            .await?;
        Ok(row.map(|(pem,)| pem))
    }

    async fn list_node_keys(&self) -> StoreResult<Vec<NodeKeyRecord>> {
        let rows: Vec<(String, String, Option<i64>)> = self
            .pool()
            .fetch_all(sql("SELECT kid, public_pem, retired_at FROM node_keys ORDER BY kid"))
            .await?;
        rows.into_iter()
            .map(|(kid, public_pem, retired_at)| {
                Ok(NodeKeyRecord {
                    kid,
                    public_pem,
                    retired_at: retired_at.map(from_ms).transpose()?,
                })
            })
            .collect()
    }

    async fn retire_node_key(&self, kid: &str, at: OffsetDateTime) -> StoreResult<()> {
        let updated = self
            .pool()
            .execute(
                sql("UPDATE node_keys SET retired_at = $2 WHERE kid = $1 AND retired_at IS NULL")
                    .bind(kid)
                    .bind(to_ms(at)),
            )
            .await
            .map_err(write_error)?;
        if updated > 0 {
            return Ok(());
        }
        // Retiring twice is fine; retiring a key nobody registered is a mistake worth saying.
        let exists: Option<(String,)> = self
            .pool()
            .fetch_optional(sql("SELECT kid FROM node_keys WHERE kid = $1").bind(kid))
            .await?;
        ensure(exists.is_some(), || StoreError::NotFound)
    }

    // --- tags ---------------------------------------------------------------------------------

    async fn update_tags(
        &self,
        kind: TaggedKind,
        id: &str,
        set: &StringMap,
        remove: &[String],
        max_tags: usize,
    ) -> StoreResult<StringMap> {
        let table = kind.table();
        let mut tx = self.begin(None).await?;
        // Read, merge and write in one transaction with the row locked: concurrent updates of
        // different keys must not lose each other's changes.
        let select = sql(format!("SELECT tags FROM {table} WHERE id = $1{}", B::FOR_UPDATE));
        let (current,): (String,) =
            tx.fetch_optional(select.bind(id)).await?.ok_or(StoreError::NotFound)?;
        let tags = merge_tags(from_json(&current)?, set, remove);
        ensure(tags.len() <= max_tags, || {
            StoreError::QuotaExceeded(format!("at most {max_tags} tags per resource"))
        })?;
        let encoded = to_json(&tags)?;
        let update = sql(format!("UPDATE {table} SET tags = $2 WHERE id = $1"));
        tx.execute(update.bind(id).bind(encoded.as_str())).await?;
        tx.commit().await?;
        Ok(tags)
    }

    // --- stage sessions -------------------------------------------------------------------------

    async fn start_session(
        &self,
        stage_id: &str,
        session_id: &str,
        at: OffsetDateTime,
    ) -> StoreResult<SessionRecord> {
        let mut pool = self.pool();
        // No transaction: the partial unique index `sessions_one_active` arbitrates. Whoever
        // loses the insert race re-reads the winner's session.
        for _ in 0..START_SESSION_ATTEMPTS {
            if let Some(active) = read_active_session(&mut pool, stage_id).await? {
                return Ok(active);
            }
            let insert = sql(format!(
                "INSERT INTO sessions (stage_id, session_id, start_time) VALUES ($1, $2, $3) \
                 ON CONFLICT DO NOTHING RETURNING {SESSION_COLUMNS}"
            ))
            .bind(stage_id)
            .bind(session_id)
            .bind(to_ms(at));
            let inserted: Option<RawSession> =
                pool.fetch_optional(insert).await.map_err(write_error)?;
            if let Some(raw) = inserted {
                return SessionRecord::try_from(raw);
            }
            // Nothing inserted: either another session became active meanwhile (read it on the
            // next round) or this session id was used before and has ended.
            if let Some(existing) = read_session(&mut pool, stage_id, session_id).await? {
                ensure(existing.end_time.is_none(), || {
                    StoreError::Conflict(format!("session {session_id} has ended already"))
                })?;
            }
        }
        Err(StoreError::Backend(format!(
            "could not start a session on stage {stage_id}: too much contention"
        )))
    }

    async fn end_session(
        &self,
        stage_id: &str,
        session_id: &str,
        at: OffsetDateTime,
    ) -> StoreResult<SessionRecord> {
        let statement = sql(format!(
            "UPDATE sessions SET end_time = COALESCE(end_time, $3) \
             WHERE stage_id = $1 AND session_id = $2 RETURNING {SESSION_COLUMNS}"
        ))
        .bind(stage_id)
        .bind(session_id)
        .bind(to_ms(at));
        let raw: Option<RawSession> = self.pool().fetch_optional(statement).await?;
        SessionRecord::try_from(raw.ok_or(StoreError::NotFound)?)
    }

    async fn get_session(
        &self,
        stage_id: &str,
        session_id: &str,
    ) -> StoreResult<Option<SessionRecord>> {
        read_session(&mut self.pool(), stage_id, session_id).await
    }

    async fn list_sessions(
        &self,
        stage_id: &str,
        page: PageRequest,
    ) -> StoreResult<Page<SessionRecord>> {
        let statement = sql(format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE stage_id = $1 AND seq > $2 \
             ORDER BY seq LIMIT $3"
        ))
        .bind(stage_id)
        .bind(page.after_seq())
        .bind(page.fetch_limit());
        let rows: Vec<RawSession> = self.pool().fetch_all(statement).await?;
        Ok(Page::from_rows(convert(rows)?, page, |s: &SessionRecord| s.seq))
    }

    // --- participants and their events --------------------------------------------------------

    async fn upsert_participant(
        &self,
        participant: &ParticipantRecord,
    ) -> StoreResult<ParticipantRecord> {
        let attributes = to_json(&participant.attributes)?;
        let details = to_json(&participant.details)?;
        // `seq` and `first_join_time` are not in the update list: an existing row keeps them.
        let statement =
            sql("INSERT INTO participants (stage_id, session_id, participant_id, user_id, state, \
             first_join_time, attributes, published, recording_state, details) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
             ON CONFLICT (stage_id, session_id, participant_id) DO UPDATE SET \
             user_id = excluded.user_id, state = excluded.state, \
             attributes = excluded.attributes, published = excluded.published, \
             recording_state = excluded.recording_state, details = excluded.details \
             RETURNING seq")
            .bind(&participant.stage_id)
            .bind(&participant.session_id)
            .bind(&participant.participant_id)
            .bind(participant.user_id.as_deref())
            .bind(participant.state.as_str())
            .bind(to_ms(participant.first_join_time))
            .bind(attributes.as_str())
            .bind(participant.published)
            .bind(participant.recording_state.as_str())
            .bind(details.as_str());
        let mut pool = self.pool();
        let (seq,): (i64,) = pool.fetch_one(statement).await.map_err(write_error)?;
        // Read back through the select that adds what the recorder reported.
        let raw: RawParticipant =
            pool.fetch_one(sql(format!("{PARTICIPANT_SELECT} WHERE p.seq = $1")).bind(seq)).await?;
        ParticipantRecord::try_from(raw)
    }

    async fn get_participant(
        &self,
        stage_id: &str,
        session_id: &str,
        participant_id: &str,
    ) -> StoreResult<Option<ParticipantRecord>> {
        let statement = sql(format!(
            "{PARTICIPANT_SELECT} \
             WHERE p.stage_id = $1 AND p.session_id = $2 AND p.participant_id = $3"
        ))
        .bind(stage_id)
        .bind(session_id)
        .bind(participant_id);
        let raw: Option<RawParticipant> = self.pool().fetch_optional(statement).await?;
        raw.map(ParticipantRecord::try_from).transpose()
    }

    async fn list_participants(
        &self,
        stage_id: &str,
        session_id: &str,
        filter: &ParticipantFilter,
        page: PageRequest,
    ) -> StoreResult<Page<ParticipantRecord>> {
        let conditions = [
            ("p.user_id", filter.user_id.as_deref().map(Arg::from)),
            ("p.published", filter.published.map(Arg::from)),
            ("p.state", filter.state.map(|s| Arg::from(s.as_str()))),
            (PARTICIPANT_RECORDING_STATE, filter.recording_state.as_deref().map(Arg::from)),
        ];
        let mut text = format!(
            "{PARTICIPANT_SELECT} WHERE p.stage_id = $1 AND p.session_id = $2 AND p.seq > $3"
        );
        let mut statement = sql("").bind(stage_id).bind(session_id).bind(page.after_seq());
        // One condition per filter given, all of them ANDed; placeholders numbered as added.
        for (column, arg) in conditions {
            if let Some(arg) = arg {
                statement = statement.bind(arg);
                text.push_str(&format!(" AND {column} = ${}", statement.args.len()));
            }
        }
        statement = statement.bind(page.fetch_limit());
        text.push_str(&format!(" ORDER BY p.seq LIMIT ${}", statement.args.len()));
        statement.text = text.into();
        let rows: Vec<RawParticipant> = self.pool().fetch_all(statement).await?;
        Ok(Page::from_rows(convert(rows)?, page, |p: &ParticipantRecord| p.seq))
    }

    async fn participant_seen(&self, stage_id: &str, participant_id: &str) -> StoreResult<bool> {
        let statement = sql("SELECT participant_id FROM participants \
                             WHERE stage_id = $1 AND participant_id = $2 LIMIT 1")
        .bind(stage_id)
        .bind(participant_id);
        let row: Option<(String,)> = self.pool().fetch_optional(statement).await?;
        Ok(row.is_some())
    }

    async fn append_event(&self, event: &EventRecord) -> StoreResult<EventRecord> {
        let details = to_json(&event.details)?;
        let statement = sql(format!(
            "INSERT INTO events (stage_id, session_id, participant_id, name, event_time, \
             details) VALUES ($1, $2, $3, $4, $5, $6) RETURNING {EVENT_COLUMNS}"
        ))
        .bind(&event.stage_id)
        .bind(&event.session_id)
        .bind(&event.participant_id)
        .bind(&event.name)
        .bind(to_ms(event.event_time))
        .bind(details.as_str());
        let raw: RawEvent = self.pool().fetch_one(statement).await.map_err(write_error)?;
        EventRecord::try_from(raw)
    }

    async fn list_events(
        &self,
        stage_id: &str,
        session_id: &str,
        participant_id: &str,
        page: PageRequest,
    ) -> StoreResult<Page<EventRecord>> {
        let statement = sql(format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE stage_id = $1 AND session_id = $2 \
             AND participant_id = $3 AND seq > $4 ORDER BY seq LIMIT $5"
        ))
        .bind(stage_id)
        .bind(session_id)
        .bind(participant_id)
        .bind(page.after_seq())
        .bind(page.fetch_limit());
        let rows: Vec<RawEvent> = self.pool().fetch_all(statement).await?;
        Ok(Page::from_rows(convert(rows)?, page, |e: &EventRecord| e.seq))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_sets_then_removes() {
        let tags: StringMap = [("a".into(), "1".into()), ("b".into(), "2".into())].into();
        let set: StringMap = [("b".into(), "3".into()), ("c".into(), "4".into())].into();
        let merged = merge_tags(tags, &set, &["a".into(), "missing".into()]);
        let expected: StringMap = [("b".into(), "3".into()), ("c".into(), "4".into())].into();
        assert_eq!(merged, expected);
    }

    #[test]
    fn quota_counts() {
        assert!(count_below(9, 10));
        assert!(!count_below(10, 10));
        assert!(!count_below(0, 0));
    }
}
