//! CreateStage, GetStage, ListStages, UpdateStage, DeleteStage.

use serde::Deserialize;
use serde_json::{Value, json};
use troupe_store::{NewStage, StageRecord, StageUpdate, StoreError, StringMap};

use crate::{
    arn::new_resource_id,
    error::{ApiError, ApiResult},
    ops::{
        stage_recording::{StageRecording, StageRecordingRequest},
        tokens::{TokenRequest, TokenSpec},
    },
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
    auto_participant_recording_configuration: Option<StageRecordingRequest>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UpdateStageRequest {
    arn: Option<String>,
    name: Option<String>,
    auto_participant_recording_configuration: Option<StageRecordingRequest>,
}

impl ControlPlane {
    pub(crate) async fn create_stage(&self, body: &[u8]) -> ApiResult<Value> {
        let req: CreateStageRequest = parse_body(body)?;
        let name = req.name.unwrap_or_default();
        check_name(&name, "name")?;
        let tags = req.tags.unwrap_or_default();
        check_tags(&tags, self.config.limits.max_tags, "tags")?;
        let recording = self.stage_recording(&req.auto_participant_recording_configuration).await?;
        let token_requests = req.participant_token_configurations.unwrap_or_default();
        if token_requests.len() > MAX_TOKENS_WITH_STAGE {
            return Err(ApiError::validation(format!(
                "participantTokenConfigurations may hold at most {MAX_TOKENS_WITH_STAGE} entries"
            )));
        }
        let specs = token_requests
            .iter()
            .enumerate()
            .map(|(i, t)| {
                t.parse(&self.config.limits, &format!("participantTokenConfigurations[{i}]."))
            })
            .collect::<ApiResult<Vec<_>>>()?;
        let (created, minted) = self.create_stage_record(name, tags, recording, &specs).await?;
        let tokens: Vec<Value> = minted.iter().map(|m| m.json()).collect();
        tracing::info!(stage = %created.id, tokens = tokens.len(), "stage created");
        Ok(json!({ "stage": self.stage_json(&created), "participantTokens": tokens }))
    }

    /// Creates a stage with tokens minted for it, atomically.
    async fn create_stage_record(
        &self,
        name: String,
        tags: StringMap,
        recording: Option<StageRecording>,
        specs: &[TokenSpec],
    ) -> ApiResult<(StageRecord, Vec<super::MintedToken>)> {
        let (auto_recording, storage_configuration_id) = match recording {
            Some(r) => (Some(r.json), r.storage_configuration_id),
            None => (None, None),
        };
        let stage = NewStage {
            id: new_resource_id(),
            name,
            tags,
            auto_recording,
            storage_configuration_id,
            created_at: self.now(),
        };
        let minted =
            specs.iter().map(|t| self.mint_token(&stage.id, t)).collect::<ApiResult<Vec<_>>>()?;
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
                // The storage configuration went away between our check and the write.
                StoreError::NotFound => ApiError::validation(
                    "autoParticipantRecordingConfiguration.storageConfigurationArn: storage \
                     configuration not found",
                ),
                other => ApiError::from_store(other, "stage"),
            })?;
        Ok((created, minted))
    }

    pub(crate) async fn get_stage(&self, body: &[u8]) -> ApiResult<Value> {
        let req: ArnRequest = parse_body(body)?;
        let stage = self.find_stage(required(&req.arn, "arn")?, "arn").await?;
        Ok(json!({ "stage": self.stage_json(&stage) }))
    }

    pub(crate) async fn list_stages(&self, body: &[u8]) -> ApiResult<Value> {
        let req: ListRequest = parse_body(body)?;
        let page = page_request("stages", req.next_token.as_deref(), req.max_results, 50)?;
        let page =
            self.store.list_stages(page).await.map_err(|e| ApiError::from_store(e, "stage"))?;
        Ok(list_response("stages", "stages", &page, |s| self.stage_summary_json(s)))
    }

    pub(crate) async fn update_stage(&self, body: &[u8]) -> ApiResult<Value> {
        let req: UpdateStageRequest = parse_body(body)?;
        let arn = required(&req.arn, "arn")?;
        if let Some(name) = &req.name {
            check_name(name, "name")?;
        }
        let stage = self.find_stage(arn, "arn").await?;
        let recording = self.stage_recording(&req.auto_participant_recording_configuration).await?;
        let update = match recording {
            Some(r) => StageUpdate {
                name: req.name,
                auto_recording: Some(r.json),
                storage_configuration_id: r.storage_configuration_id,
            },
            None => StageUpdate { name: req.name, ..Default::default() },
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
        self.config.scope.arn(crate::arn::ResourceType::Stage, stage_id)
    }

    /// The stage with this name (the oldest, if several share it), created when `create` is
    /// set and none exists. For `troupe token --create` and the demo backend.
    pub async fn stage_by_name(&self, name: &str, create: bool) -> ApiResult<StageRecord> {
        check_name(name, "name")?;
        if let Some(stage) = self.oldest_stage_named(name).await? {
            return Ok(stage);
        }
        if !create {
            return Err(ApiError::not_found(format!(
                "no stage is named {name:?} (pass --create to create it)"
            )));
        }
        let (created, _) =
            self.create_stage_record(name.to_string(), StringMap::new(), None, &[]).await?;
        // Two callers may have created the stage at once: both settle on the oldest, and the
        // loser removes its own so that participants do not end up on different stages.
        let oldest = self.oldest_stage_named(name).await?.unwrap_or_else(|| created.clone());
        if oldest.id != created.id {
            if let Err(e) = self.store.delete_stage(&created.id).await {
                tracing::warn!(stage = %created.id, error = %e, "could not remove a duplicate stage");
            }
        } else {
            tracing::info!(stage = %created.id, name, "stage created by name");
        }
        Ok(oldest)
    }

    async fn oldest_stage_named(&self, name: &str) -> ApiResult<Option<StageRecord>> {
        let found = self
            .store
            .find_stages_by_name(name)
            .await
            .map_err(|e| ApiError::from_store(e, "stage"))?;
        Ok(found.into_iter().next())
    }
}
