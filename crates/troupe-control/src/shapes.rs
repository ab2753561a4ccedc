//! Response shapes, with the exact member names of the IVS Real-Time model, built from store
//! records. Optional members that have no value are left out, as the hosted service does.

use serde_json::{Map, Value, json};
use troupe_store::{
    EventRecord, ParticipantRecord, PublicKeyRecord, SessionRecord, StageRecord, StringMap,
};

use crate::{arn::ResourceType, plane::ControlPlane, timestamp::iso8601};

fn insert_opt(map: &mut Map<String, Value>, key: &str, value: Option<impl Into<Value>>) {
    if let Some(v) = value {
        map.insert(key.to_string(), v.into());
    }
}

fn tags(tags: &StringMap) -> Value {
    json!(tags)
}

impl ControlPlane {
    pub(crate) fn stage_summary_json(&self, stage: &StageRecord) -> Value {
        let mut m = Map::new();
        m.insert("arn".into(), self.config.scope.arn(ResourceType::Stage, &stage.id).into());
        m.insert("name".into(), stage.name.clone().into());
        insert_opt(&mut m, "activeSessionId", stage.active_session_id.clone());
        m.insert("tags".into(), tags(&stage.tags));
        Value::Object(m)
    }

    /// The full `Stage`: the summary plus recording configuration and endpoints.
    pub(crate) fn stage_json(&self, stage: &StageRecord) -> Value {
        let mut out = self.stage_summary_json(stage);
        // A stage that never set one shows what IVS shows: the defaults, no storage.
        out["autoParticipantRecordingConfiguration"] = match &stage.auto_recording {
            Some(config) => config.clone(),
            None => crate::ops::stage_recording_defaults(),
        };
        out["endpoints"] = json!({
            "whip": self.config.endpoints.whip,
            "events": self.config.endpoints.events,
        });
        out
    }

    pub(crate) fn public_key_json(&self, key: &PublicKeyRecord, with_material: bool) -> Value {
        let mut m = Map::new();
        m.insert("arn".into(), self.config.scope.arn(ResourceType::PublicKey, &key.id).into());
        m.insert("name".into(), key.name.clone().into());
        if with_material {
            m.insert("publicKeyMaterial".into(), key.material.clone().into());
            m.insert("fingerprint".into(), key.fingerprint.clone().into());
        }
        m.insert("tags".into(), tags(&key.tags));
        Value::Object(m)
    }
}

pub(crate) fn session_json(session: &SessionRecord) -> Value {
    let mut m = Map::new();
    m.insert("sessionId".into(), session.session_id.clone().into());
    m.insert("startTime".into(), iso8601(session.start_time).into());
    insert_opt(&mut m, "endTime", session.end_time.map(iso8601));
    Value::Object(m)
}

pub(crate) fn participant_summary_json(p: &ParticipantRecord) -> Value {
    let mut m = Map::new();
    m.insert("participantId".into(), p.participant_id.clone().into());
    insert_opt(&mut m, "userId", p.user_id.clone());
    m.insert("state".into(), p.state.as_str().into());
    m.insert("firstJoinTime".into(), iso8601(p.first_join_time).into());
    m.insert("published".into(), p.published.into());
    m.insert("recordingState".into(), p.recording_state.clone().into());
    Value::Object(m)
}

pub(crate) fn participant_json(p: &ParticipantRecord) -> Value {
    let mut m = match participant_summary_json(p) {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    m.insert("attributes".into(), json!(p.attributes));
    if let Ok(Value::Object(details)) = serde_json::to_value(&p.details) {
        m.extend(details);
    }
    Value::Object(m)
}

pub(crate) fn event_json(e: &EventRecord) -> Value {
    let mut m = Map::new();
    m.insert("name".into(), e.name.clone().into());
    m.insert("participantId".into(), e.participant_id.clone().into());
    m.insert("eventTime".into(), iso8601(e.event_time).into());
    if let Ok(Value::Object(details)) = serde_json::to_value(&e.details) {
        m.extend(details);
    }
    Value::Object(m)
}
