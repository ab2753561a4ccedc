//! CreateStage, GetStage, ListStages, UpdateStage, DeleteStage.

use serde::Deserialize;
use serde_json::{Value, json};
use troupe_store::{NewStage, StageUpdate, StoreError, StringMap};

use crate::{
    arn::new_resource_id,
    error::{ApiError, ApiResult},
    ops::tokens::TokenRequest,
    pagination::{list_response, page_request},
    plane::{ControlNotice, ControlPlane},
    request::{ArnRequest, ListRequest, check_name, check_tags, parse_body, required},
};

/// The hosted service's limit on `participantTokenConfigurations`.
const MAX_TOKENS_WITH_STAGE: usize = 12;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateStageRequest {
    name: Option<String>,
    participant_token_configurations: Option<Vec<TokenRequest>>,
    tags: Option<StringMap>,
    auto_participant_recording_configuration: Option<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UpdateStageRequest {
    arn: Option<String>,
    name: Option<String>,
    auto_participant_recording_configuration: Option<Value>,
}

/// Recording needs a storage configuration, which Troupe does not have yet; accept the
/// configuration only when it does not ask for one, so nobody believes they are recording.
fn check_recording(config: &Option<Value>) -> ApiResult<()> {
    let Some(config) = config else { return Ok(()) };
    let Some(obj) = config.as_object() else {
        return Err(ApiError::validation(
            "autoParticipantRecordingConfiguration must be an object",
        ));
    };
    match obj.get("storageConfigurationArn") {
        None | Some(Value::Null) => Ok(()),
        Some(Value::String(s)) if s.is_empty() => Ok(()),
        Some(other) => Err(ApiError::not_found(format!(
            "autoParticipantRecordingConfiguration.storageConfigurationArn: storage configuration \
             {other} not found (Troupe does not support recording to storage yet)"
        ))),
    }
}

impl ControlPlane {
    pub(crate) async fn create_stage(&self, body: &[u8]) -> ApiResult<Value> {
        let req: CreateStageRequest = parse_body(body)?;
        let name = req.name.unwrap_or_default();
        check_name(&name, "name")?;
        let tags = req.tags.unwrap_or_default();
        check_tags(&tags, self.config.limits.max_tags, "tags")?;
        check_recording(&req.auto_participant_recording_configuration)?;
        let token_requests = req.participant_token_configurations.unwrap_or_default();
        if token_requests.len() > MAX_TOKENS_WITH_STAGE {
            return Err(ApiError::validation(format!(
                "participantTokenConfigurations may hold at most {MAX_TOKENS_WITH_STAGE} entries"
            )));
        }
        for (i, t) in token_requests.iter().enumerate() {
            t.validate(
                &self.config.limits,
                &format!("participantTokenConfigurations[{i}]."),
            )?;
        }

        let stage = NewStage {
            id: new_resource_id(),
            name,
            tags,
            auto_recording: req.auto_participant_recording_configuration,
            created_at: self.now(),
        };
        let minted: Vec<_> = token_requests
            .iter()
            .map(|t| self.mint_token(&stage.id, t))
            .collect();
        let records: Vec<_> = minted.iter().map(|m| m.record.clone()).collect();
        let created = self
            .store
            .create_stage(&stage, &records, self.config.limits.max_stages)
            .await
            .map_err(|e| match e {
                StoreError::QuotaExceeded(_) => ApiError::quota(format!(
                    "this server allows at most {} stages; delete some or raise max_stages",
                    self.config.limits.max_stages
                )),
                other => ApiError::from_store(other, "stage"),
            })?;
        let tokens: Vec<Value> = minted.iter().map(|m| m.json()).collect();
        tracing::info!(stage = %created.id, tokens = tokens.len(), "stage created");
        Ok(json!({ "stage": self.stage_json(&created), "participantTokens": tokens }))
    }

    pub(crate) async fn get_stage(&self, body: &[u8]) -> ApiResult<Value> {
        let req: ArnRequest = parse_body(body)?;
        let stage = self.find_stage(required(&req.arn, "arn")?, "arn").await?;
        Ok(json!({ "stage": self.stage_json(&stage) }))
    }

    pub(crate) async fn list_stages(&self, body: &[u8]) -> ApiResult<Value> {
        let req: ListRequest = parse_body(body)?;
        let page = page_request("stages", req.next_token.as_deref(), req.max_results, 50)?;
        let page = self
            .store
            .list_stages(page)
            .await
            .map_err(|e| ApiError::from_store(e, "stage"))?;
        Ok(list_response("stages", "stages", &page, |s| {
            self.stage_summary_json(s)
        }))
    }

    pub(crate) async fn update_stage(&self, body: &[u8]) -> ApiResult<Value> {
        let req: UpdateStageRequest = parse_body(body)?;
        let arn = required(&req.arn, "arn")?;
        if let Some(name) = &req.name {
            check_name(name, "name")?;
        }
        check_recording(&req.auto_participant_recording_configuration)?;
        let stage = self.find_stage(arn, "arn").await?;
        let update = StageUpdate {
            name: req.name,
            auto_recording: req.auto_participant_recording_configuration,
        };
        let updated = self
            .store
            .update_stage(&stage.id, &update)
            .await
            .map_err(|e| ApiError::from_store(e, &format!("stage {arn}")))?;
        Ok(json!({ "stage": self.stage_json(&updated) }))
    }

    pub(crate) async fn delete_stage(&self, body: &[u8]) -> ApiResult<Value> {
        let req: ArnRequest = parse_body(body)?;
        let arn = required(&req.arn, "arn")?;
        let stage = self.find_stage(arn, "arn").await?;
        self.store
            .delete_stage(&stage.id)
            .await
            .map_err(|e| ApiError::from_store(e, &format!("stage {arn}")))?;
        tracing::info!(stage = %stage.id, "stage deleted");
        self.notify(ControlNotice::StageDeleted { stage_id: stage.id });
        Ok(json!({}))
    }
}

impl ControlPlane {
    /// The ARN of a stage of this deployment.
    pub fn stage_arn(&self, stage_id: &str) -> String {
        self.config
            .scope
            .arn(crate::arn::ResourceType::Stage, stage_id)
    }

    /// The stage with this name (the oldest, if several share it), created when `create` is
    /// set and none exists. For `troupe token --create` and the demo backend.
    pub async fn stage_by_name(
        &self,
        name: &str,
        create: bool,
    ) -> ApiResult<troupe_store::StageRecord> {
        check_name(name, "name")?;
        let found = self
            .store
            .find_stages_by_name(name)
            .await
            .map_err(|e| ApiError::from_store(e, "stage"))?;
        if let Some(stage) = found.into_iter().next() {
            return Ok(stage);
        }
        if !create {
            return Err(ApiError::not_found(format!(
                "no stage is named {name:?} (pass --create to create it)"
            )));
        }
        let body = json!({ "name": name }).to_string();
        let created = self.create_stage(body.as_bytes()).await?;
        let arn = created["stage"]["arn"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        self.find_stage(&arn, "arn").await
    }
}
