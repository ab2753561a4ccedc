//! Records to write, with every field set to something distinctive.

use time::OffsetDateTime;
use troupe_store::{
    Capabilities, EventDetails, EventRecord, NewStage, ParticipantDetails, ParticipantRecord,
    ParticipantState, PublicKeyRecord, Revocation, StringMap, TokenRecord,
};

/// A fixed instant plus `secs`, with milliseconds (the precision the store keeps).
pub fn at(secs: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(
        i128::from(1_700_000_000 + secs) * 1_000_000_000 + 123_000_000,
    )
    .unwrap()
}

pub fn map(pairs: &[(&str, &str)]) -> StringMap {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

pub fn stage(id: &str, name: &str) -> NewStage {
    NewStage {
        id: id.into(),
        name: name.into(),
        tags: map(&[("team", "blue")]),
        auto_recording: Some(serde_json::json!({
            "storageConfigurationArn": "",
            "mediaTypes": ["AUDIO_VIDEO"],
        })),
        storage_configuration_id: None,
        created_at: at(0),
    }
}

pub fn token(participant_id: &str, stage_id: &str, expires_at: OffsetDateTime) -> TokenRecord {
    TokenRecord {
        participant_id: participant_id.into(),
        stage_id: stage_id.into(),
        user_id: Some(format!("user-of-{participant_id}")),
        attributes: map(&[("role", "host"), ("emoji", "🎭")]),
        capabilities: Capabilities { publish: true, subscribe: false },
        duration_minutes: 720,
        issued_at: at(1),
        expires_at,
    }
}

pub fn revocation(participant_id: &str, stage_id: &str, expires_at: OffsetDateTime) -> Revocation {
    Revocation {
        participant_id: participant_id.into(),
        stage_id: stage_id.into(),
        reason: Some("misbehaving".into()),
        revoked_at: at(2),
        expires_at,
    }
}

pub fn public_key(id: &str, fingerprint: &str) -> PublicKeyRecord {
    PublicKeyRecord {
        seq: 0,
        id: id.into(),
        name: format!("key {id}"),
        material: format!("-----BEGIN PUBLIC KEY-----\n{id}\n-----END PUBLIC KEY-----\n"),
        fingerprint: fingerprint.into(),
        tags: map(&[("env", "test")]),
        created_at: at(3),
    }
}

pub fn participant(stage_id: &str, session_id: &str, participant_id: &str) -> ParticipantRecord {
    ParticipantRecord {
        seq: 0,
        stage_id: stage_id.into(),
        session_id: session_id.into(),
        participant_id: participant_id.into(),
        user_id: Some(format!("user-of-{participant_id}")),
        state: ParticipantState::Connected,
        first_join_time: at(10),
        attributes: map(&[("seat", "front")]),
        published: false,
        recording_state: "DISABLED".into(),
        details: ParticipantDetails {
            os_name: Some("Linux".into()),
            browser_name: Some("Firefox".into()),
            sdk_version: Some("1.2.3".into()),
            protocol: Some("WHIP".into()),
            ..Default::default()
        },
    }
}

pub fn event(
    stage_id: &str,
    session_id: &str,
    participant_id: &str,
    name: &str,
    event_time: OffsetDateTime,
) -> EventRecord {
    EventRecord {
        seq: 0,
        stage_id: stage_id.into(),
        session_id: session_id.into(),
        participant_id: participant_id.into(),
        name: name.into(),
        event_time,
        details: EventDetails {
            remote_participant_id: Some("other".into()),
            replica: Some(false),
            new_token: Some(serde_json::json!({"capabilities": ["PUBLISH"]})),
            ..Default::default()
        },
    }
}
