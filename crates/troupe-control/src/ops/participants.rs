//! GetParticipant, ListParticipants, ListParticipantEvents. Rows are written by the media plane.

use serde::Deserialize;
use serde_json::{Value, json};
use troupe_store::{ParticipantFilter, ParticipantState, StageRecord};

use crate::{
    error::{ApiError, ApiResult},
    pagination::{list_response, page_request},
    plane::ControlPlane,
    request::{check_len, check_participant_id, check_session_id, parse_body, required},
    shapes::{event_json, participant_json, participant_summary_json},
};

/// IVS `ParticipantRecordingState` values, accepted by `filterByRecordingState`.
const RECORDING_STATES: &[&str] =
    &["STARTING", "ACTIVE", "STOPPING", "STOPPED", "FAILED", "DISABLED"];

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GetParticipantRequest {
    stage_arn: Option<String>,
    session_id: Option<String>,
    participant_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListParticipantsRequest {
    stage_arn: Option<String>,
    session_id: Option<String>,
    filter_by_user_id: Option<String>,
    filter_by_published: Option<bool>,
    filter_by_state: Option<String>,
    filter_by_recording_state: Option<String>,
    next_token: Option<String>,
    max_results: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListEventsRequest {
    stage_arn: Option<String>,
    session_id: Option<String>,
    participant_id: Option<String>,
    next_token: Option<String>,
    max_results: Option<i64>,
}

impl ListParticipantsRequest {
    /// The IVS model allows one filter per request; say which ones collided rather than
    /// guessing which the caller meant.
    fn filter(&self) -> ApiResult<ParticipantFilter> {
        let given: Vec<&str> = [
            ("filterByUserId", self.filter_by_user_id.is_some()),
            ("filterByPublished", self.filter_by_published.is_some()),
            ("filterByState", self.filter_by_state.is_some()),
            ("filterByRecordingState", self.filter_by_recording_state.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, set)| set.then_some(name))
        .collect();
        if given.len() > 1 {
            return Err(ApiError::validation(format!(
                "only one filter may be given per request (got {})",
                given.join(", ")
            )));
        }
        if let Some(user) = &self.filter_by_user_id {
            check_len(user, 128, "filterByUserId")?;
        }
        let state = match &self.filter_by_state {
            None => None,
            Some(s) => Some(ParticipantState::parse(s).ok_or_else(|| {
                ApiError::validation(format!(
                    "filterByState: {s:?} is not CONNECTED or DISCONNECTED"
                ))
            })?),
        };
        if let Some(r) = &self.filter_by_recording_state
            && !RECORDING_STATES.contains(&r.as_str())
        {
            return Err(ApiError::validation(format!(
                "filterByRecordingState: {r:?} is not one of {}",
                RECORDING_STATES.join(", ")
            )));
        }
        Ok(ParticipantFilter {
            user_id: self.filter_by_user_id.clone(),
            published: self.filter_by_published,
            state,
            recording_state: self.filter_by_recording_state.clone(),
        })
    }
}

impl ControlPlane {
    /// Checks `stageArn` and `sessionId` and resolves the stage.
    async fn stage_and_session(
        &self,
        stage_arn: &Option<String>,
        session_id: &Option<String>,
    ) -> ApiResult<(StageRecord, String)> {
        let stage_arn = required(stage_arn, "stageArn")?;
        let session_id = required(session_id, "sessionId")?;
        check_session_id(session_id, "sessionId")?;
        let stage = self.find_stage(stage_arn, "stageArn").await?;
        Ok((stage, session_id.clone()))
    }

    pub(crate) async fn get_participant(&self, body: &[u8]) -> ApiResult<Value> {
        let req: GetParticipantRequest = parse_body(body)?;
        let participant_id = required(&req.participant_id, "participantId")?;
        check_participant_id(participant_id, "participantId")?;
        let (stage, session_id) = self.stage_and_session(&req.stage_arn, &req.session_id).await?;
        let participant = self
            .store
            .get_participant(&stage.id, &session_id, participant_id)
            .await
            .map_err(|e| ApiError::from_store(e, "participant"))?
            .ok_or_else(|| {
                ApiError::not_found(format!(
                    "participant {participant_id} not found in session {session_id}"
                ))
            })?;
        Ok(json!({ "participant": participant_json(&participant) }))
    }

    pub(crate) async fn list_participants(&self, body: &[u8]) -> ApiResult<Value> {
        let req: ListParticipantsRequest = parse_body(body)?;
        let filter = req.filter()?;
        let (stage, session_id) = self.stage_and_session(&req.stage_arn, &req.session_id).await?;
        let scope = format!("participants/{}/{session_id}", stage.id);
        let page = page_request(&scope, req.next_token.as_deref(), req.max_results, 50)?;
        let page = self
            .store
            .list_participants(&stage.id, &session_id, &filter, page)
            .await
            .map_err(|e| ApiError::from_store(e, "stage session"))?;
        Ok(list_response("participants", &scope, &page, participant_summary_json))
    }

    pub(crate) async fn list_participant_events(&self, body: &[u8]) -> ApiResult<Value> {
        let req: ListEventsRequest = parse_body(body)?;
        let participant_id = required(&req.participant_id, "participantId")?;
        check_participant_id(participant_id, "participantId")?;
        let (stage, session_id) = self.stage_and_session(&req.stage_arn, &req.session_id).await?;
        let scope = format!("events/{}/{session_id}/{participant_id}", stage.id);
        let page = page_request(&scope, req.next_token.as_deref(), req.max_results, 50)?;
        let page = self
            .store
            .list_events(&stage.id, &session_id, participant_id, page)
            .await
            .map_err(|e| ApiError::from_store(e, "participant"))?;
        Ok(list_response("events", &scope, &page, event_json))
    }
}
