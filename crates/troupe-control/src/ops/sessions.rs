//! ListStageSessions and GetStageSession. Sessions are written by the media plane.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::{
    error::{ApiError, ApiResult},
    pagination::{list_response, page_request},
    plane::ControlPlane,
    request::{check_session_id, parse_body, required},
    shapes::session_json,
};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListSessionsRequest {
    stage_arn: Option<String>,
    next_token: Option<String>,
    max_results: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GetSessionRequest {
    stage_arn: Option<String>,
    session_id: Option<String>,
}

impl ControlPlane {
    pub(crate) async fn list_stage_sessions(&self, body: &[u8]) -> ApiResult<Value> {
        let req: ListSessionsRequest = parse_body(body)?;
        let stage = self.find_stage(required(&req.stage_arn, "stageArn")?, "stageArn").await?;
        let scope = format!("sessions/{}", stage.id);
        let page = page_request(&scope, req.next_token.as_deref(), req.max_results, 50)?;
        let page = self
            .store
            .list_sessions(&stage.id, page)
            .await
            .map_err(|e| ApiError::from_store(e, "stage"))?;
        Ok(list_response("stageSessions", &scope, &page, session_json))
    }

    pub(crate) async fn get_stage_session(&self, body: &[u8]) -> ApiResult<Value> {
        let req: GetSessionRequest = parse_body(body)?;
        let stage_arn = required(&req.stage_arn, "stageArn")?;
        let session_id = required(&req.session_id, "sessionId")?;
        check_session_id(session_id, "sessionId")?;
        let stage = self.find_stage(stage_arn, "stageArn").await?;
        let session = self
            .store
            .get_session(&stage.id, session_id)
            .await
            .map_err(|e| ApiError::from_store(e, "stage session"))?
            .ok_or_else(|| {
                ApiError::not_found(format!("session {session_id} not found on stage {stage_arn}"))
            })?;
        Ok(json!({ "stageSession": session_json(&session) }))
    }
}
