//! Rows as the database returns them (`Raw*`, one per table, decodable by both drivers) and
//! their conversion to and from the public records. Conversions never panic: a column the
//! store cannot read back (corrupt JSON, a timestamp out of range) is a `Backend` error.

use serde::{Serialize, de::DeserializeOwned};
use time::OffsetDateTime;

use crate::{
    Capabilities, EventRecord, ParticipantDetails, ParticipantRecord, ParticipantState,
    PublicKeyRecord, Revocation, SessionRecord, StageRecord, StoreError, StoreResult, TokenRecord,
};

/// Timestamps are stored as unix milliseconds (sub-millisecond precision is dropped).
pub(crate) fn to_ms(t: OffsetDateTime) -> i64 {
    // Every OffsetDateTime (years -9999..=9999) fits in i64 milliseconds.
    (t.unix_timestamp_nanos().div_euclid(1_000_000)) as i64
}

pub(crate) fn from_ms(ms: i64) -> StoreResult<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .map_err(|err| StoreError::Backend(format!("timestamp {ms} out of range: {err}")))
}

fn opt_from_ms(ms: Option<i64>) -> StoreResult<Option<OffsetDateTime>> {
    ms.map(from_ms).transpose()
}

pub(crate) fn to_json<T: Serialize + ?Sized>(value: &T) -> StoreResult<String> {
    serde_json::to_string(value)
        .map_err(|err| StoreError::Backend(format!("cannot encode JSON column: {err}")))
}

pub(crate) fn from_json<T: DeserializeOwned>(text: &str) -> StoreResult<T> {
    Ok(serde_json::from_str(text)?)
}

/// Selects a stage with its active session (at most one, enforced by a partial unique index).
pub(crate) const STAGE_SELECT: &str = "SELECT s.seq, s.id, s.name, s.tags, s.auto_recording, \
     s.created_at, (SELECT a.session_id FROM sessions a \
     WHERE a.stage_id = s.id AND a.end_time IS NULL) AS active_session_id FROM stages s";

#[derive(sqlx::FromRow)]
pub(crate) struct RawStage {
    seq: i64,
    id: String,
    name: String,
    tags: String,
    auto_recording: Option<String>,
    created_at: i64,
    active_session_id: Option<String>,
}

impl TryFrom<RawStage> for StageRecord {
    type Error = StoreError;

    fn try_from(raw: RawStage) -> StoreResult<Self> {
        Ok(StageRecord {
            seq: raw.seq,
            id: raw.id,
            name: raw.name,
            tags: from_json(&raw.tags)?,
            auto_recording: raw.auto_recording.as_deref().map(from_json).transpose()?,
            created_at: from_ms(raw.created_at)?,
            active_session_id: raw.active_session_id,
        })
    }
}

pub(crate) const TOKEN_COLUMNS: &str = "participant_id, stage_id, user_id, attributes, \
     can_publish, can_subscribe, duration_minutes, issued_at, expires_at";

#[derive(sqlx::FromRow)]
pub(crate) struct RawToken {
    participant_id: String,
    stage_id: String,
    user_id: Option<String>,
    attributes: String,
    can_publish: bool,
    can_subscribe: bool,
    duration_minutes: i64,
    issued_at: i64,
    expires_at: i64,
}

impl TryFrom<RawToken> for TokenRecord {
    type Error = StoreError;

    fn try_from(raw: RawToken) -> StoreResult<Self> {
        let duration_minutes = u32::try_from(raw.duration_minutes).map_err(|_| {
            StoreError::Backend(format!("token duration {} out of range", raw.duration_minutes))
        })?;
        Ok(TokenRecord {
            participant_id: raw.participant_id,
            stage_id: raw.stage_id,
            user_id: raw.user_id,
            attributes: from_json(&raw.attributes)?,
            capabilities: Capabilities { publish: raw.can_publish, subscribe: raw.can_subscribe },
            duration_minutes,
            issued_at: from_ms(raw.issued_at)?,
            expires_at: from_ms(raw.expires_at)?,
        })
    }
}

pub(crate) const REVOCATION_COLUMNS: &str =
    "participant_id, stage_id, reason, revoked_at, expires_at";

#[derive(sqlx::FromRow)]
pub(crate) struct RawRevocation {
    participant_id: String,
    stage_id: String,
    reason: Option<String>,
    revoked_at: i64,
    expires_at: i64,
}

impl TryFrom<RawRevocation> for Revocation {
    type Error = StoreError;

    fn try_from(raw: RawRevocation) -> StoreResult<Self> {
        Ok(Revocation {
            participant_id: raw.participant_id,
            stage_id: raw.stage_id,
            reason: raw.reason,
            revoked_at: from_ms(raw.revoked_at)?,
            expires_at: from_ms(raw.expires_at)?,
        })
    }
}

pub(crate) const PUBLIC_KEY_COLUMNS: &str =
    "seq, id, name, material, fingerprint, tags, created_at";

#[derive(sqlx::FromRow)]
pub(crate) struct RawPublicKey {
    seq: i64,
    id: String,
    name: String,
    material: String,
    fingerprint: String,
    tags: String,
    created_at: i64,
}

impl TryFrom<RawPublicKey> for PublicKeyRecord {
    type Error = StoreError;

    fn try_from(raw: RawPublicKey) -> StoreResult<Self> {
        Ok(PublicKeyRecord {
            seq: raw.seq,
            id: raw.id,
            name: raw.name,
            material: raw.material,
            fingerprint: raw.fingerprint,
            tags: from_json(&raw.tags)?,
            created_at: from_ms(raw.created_at)?,
        })
    }
}

pub(crate) const SESSION_COLUMNS: &str = "seq, stage_id, session_id, start_time, end_time";

#[derive(sqlx::FromRow)]
pub(crate) struct RawSession {
    seq: i64,
    stage_id: String,
    session_id: String,
    start_time: i64,
    end_time: Option<i64>,
}

impl TryFrom<RawSession> for SessionRecord {
    type Error = StoreError;

    fn try_from(raw: RawSession) -> StoreResult<Self> {
        Ok(SessionRecord {
            seq: raw.seq,
            stage_id: raw.stage_id,
            session_id: raw.session_id,
            start_time: from_ms(raw.start_time)?,
            end_time: opt_from_ms(raw.end_time)?,
        })
    }
}

/// Selects participants (`p`) with what the recorder reported for them (`r`), which wins over
/// the row's own recording state: the events hub rewrites participant rows without knowing it.
pub(crate) const PARTICIPANT_SELECT: &str = "SELECT p.seq, p.stage_id, p.session_id, \
     p.participant_id, p.user_id, p.state, p.first_join_time, p.attributes, p.published, \
     COALESCE(r.state, p.recording_state) AS recording_state, p.details, \
     r.bucket_name AS recording_bucket_name, r.prefix AS recording_prefix \
     FROM participants p LEFT JOIN participant_recordings r ON r.stage_id = p.stage_id \
     AND r.session_id = p.session_id AND r.participant_id = p.participant_id";

/// The recording state as [`PARTICIPANT_SELECT`] shows it, for filters.
pub(crate) const PARTICIPANT_RECORDING_STATE: &str = "COALESCE(r.state, p.recording_state)";

#[derive(sqlx::FromRow)]
pub(crate) struct RawParticipant {
    seq: i64,
    stage_id: String,
    session_id: String,
    participant_id: String,
    user_id: Option<String>,
    state: String,
    first_join_time: i64,
    attributes: String,
    published: bool,
    recording_state: String,
    details: String,
    recording_bucket_name: Option<String>,
    recording_prefix: Option<String>,
}

impl TryFrom<RawParticipant> for ParticipantRecord {
    type Error = StoreError;

    fn try_from(raw: RawParticipant) -> StoreResult<Self> {
        let state = ParticipantState::parse(&raw.state).ok_or_else(|| {
            StoreError::Backend(format!("unknown participant state {:?}", raw.state))
        })?;
        let mut details: ParticipantDetails = from_json(&raw.details)?;
        if raw.recording_bucket_name.is_some() {
            details.recording_s3_bucket_name = raw.recording_bucket_name;
            details.recording_s3_prefix = raw.recording_prefix;
        }
        Ok(ParticipantRecord {
            seq: raw.seq,
            stage_id: raw.stage_id,
            session_id: raw.session_id,
            participant_id: raw.participant_id,
            user_id: raw.user_id,
            state,
            first_join_time: from_ms(raw.first_join_time)?,
            attributes: from_json(&raw.attributes)?,
            published: raw.published,
            recording_state: raw.recording_state,
            details,
        })
    }
}

pub(crate) const EVENT_COLUMNS: &str =
    "seq, stage_id, session_id, participant_id, name, event_time, details";

#[derive(sqlx::FromRow)]
pub(crate) struct RawEvent {
    seq: i64,
    stage_id: String,
    session_id: String,
    participant_id: String,
    name: String,
    event_time: i64,
    details: String,
}

impl TryFrom<RawEvent> for EventRecord {
    type Error = StoreError;

    fn try_from(raw: RawEvent) -> StoreResult<Self> {
        Ok(EventRecord {
            seq: raw.seq,
            stage_id: raw.stage_id,
            session_id: raw.session_id,
            participant_id: raw.participant_id,
            name: raw.name,
            event_time: from_ms(raw.event_time)?,
            details: from_json(&raw.details)?,
        })
    }
}

/// Converts fetched rows, failing on the first one that cannot be read.
pub(crate) fn convert<R, T: TryFrom<R, Error = StoreError>>(rows: Vec<R>) -> StoreResult<Vec<T>> {
    rows.into_iter().map(T::try_from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn milliseconds_round_trip() {
        let t = OffsetDateTime::from_unix_timestamp_nanos(1_700_000_000_123_456_789).unwrap();
        let back = from_ms(to_ms(t)).unwrap();
        assert_eq!(back.unix_timestamp_nanos(), 1_700_000_000_123_000_000);
        let before_epoch = OffsetDateTime::from_unix_timestamp_nanos(-1_500_000).unwrap();
        assert_eq!(to_ms(before_epoch), -2);
    }

    #[test]
    fn unreadable_columns_are_backend_errors() {
        assert!(matches!(from_ms(i64::MAX), Err(StoreError::Backend(_))));
        assert!(matches!(from_json::<crate::StringMap>("{not json"), Err(StoreError::Backend(_))));
    }
}
