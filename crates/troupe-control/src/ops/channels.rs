//! CreateChannel, GetChannel, BatchGetChannel, ListChannels, UpdateChannel, DeleteChannel.

use serde::Deserialize;
use serde_json::{Value, json};
use troupe_store::{ChannelFilter, ChannelRecord, StoreError, StreamKeyRecord, StringMap};

use crate::{
    arn::{ResourceType, new_resource_id, new_stream_key_value},
    error::{ApiError, ApiResult},
    ops::channel_settings::{ChannelMembers, default_settings},
    pagination::{list_response, page_request},
    plane::ControlPlane,
    request::{ArnRequest, check_name, check_tags, parse_body, required},
};

/// BatchGetChannel's limit on `arns`, from the model.
const MAX_BATCH: usize = 50;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateChannelRequest {
    #[serde(flatten)]
    members: ChannelMembers,
    tags: Option<StringMap>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UpdateChannelRequest {
    arn: Option<String>,
    #[serde(flatten)]
    members: ChannelMembers,
}

#[derive(Deserialize)]
struct BatchGetRequest {
    arns: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListChannelsRequest {
    filter_by_name: Option<String>,
    filter_by_recording_configuration_arn: Option<String>,
    filter_by_playback_restriction_policy_arn: Option<String>,
    next_token: Option<String>,
    max_results: Option<i64>,
}

impl ControlPlane {
    /// Resolves a channel ARN to the stored channel (ValidationException when malformed,
    /// ResourceNotFoundException when unknown).
    pub(crate) async fn find_channel(&self, arn: &str, field: &str) -> ApiResult<ChannelRecord> {
        let id = self.own_id(arn, field, ResourceType::Channel)?;
        self.store
            .get_channel(&id)
            .await
            .map_err(|e| ApiError::from_store(e, "channel"))?
            .ok_or_else(|| ApiError::not_found(format!("channel {arn} not found")))
    }

    /// `recordingConfigurationArn`: `""` turns recording off; an ARN must name a recording
    /// configuration that exists (ResourceNotFoundException, as CreateChannel's model has).
    async fn recording_reference(&self, arn: &str) -> ApiResult<Option<String>> {
        if arn.is_empty() {
            return Ok(None);
        }
        let field = "recordingConfigurationArn";
        let id = self.own_id(arn, field, ResourceType::RecordingConfiguration)?;
        let found = self
            .store
            .get_recording_configuration(&id)
            .await
            .map_err(|e| ApiError::from_store(e, "recording configuration"))?;
        if found.is_none() {
            return Err(ApiError::not_found(format!(
                "{field}: recording configuration {arn} not found"
            )));
        }
        Ok(Some(id))
    }

    fn channel_store_error(&self, err: StoreError, arn: &str) -> ApiError {
        match err {
            // The only reference a channel write can miss: its recording configuration,
            // deleted between our check and the write.
            StoreError::NotFound => ApiError::not_found(format!(
                "channel {arn} or its recording configuration not found"
            )),
            StoreError::QuotaExceeded(_) => ApiError::quota(format!(
                "this server allows at most {} channels; delete some or raise max_channels",
                self.config.limits.max_channels
            )),
            other => ApiError::from_store(other, "channel"),
        }
    }

    /// Creates a channel with its stream key; also what `troupe channel create` calls.
    pub async fn create_channel_record(
        &self,
        name: String,
        members: &ChannelMembersInput,
        tags: StringMap,
    ) -> ApiResult<(ChannelRecord, StreamKeyRecord)> {
        let settings = members.0.apply(&default_settings())?;
        let recording_configuration_id = match &members.0.recording_configuration_arn {
            Some(arn) => self.recording_reference(arn).await?,
            None => None,
        };
        let channel = ChannelRecord {
            seq: 0,
            id: new_resource_id(),
            name,
            recording_configuration_id,
            settings,
            tags,
            created_at: self.now(),
        };
        let key = StreamKeyRecord {
            seq: 0,
            id: new_resource_id(),
            channel_id: channel.id.clone(),
            value: new_stream_key_value(&self.config.scope.region),
            tags: StringMap::new(),
            created_at: self.now(),
        };
        let created = self
            .store
            .create_channel(&channel, Some(&key), self.config.limits.max_channels)
            .await
            .map_err(|e| self.channel_store_error(e, "(new)"))?;
        tracing::info!(channel = %created.id, "channel created");
        Ok((created, key))
    }

    pub(crate) async fn create_channel(&self, body: &[u8]) -> ApiResult<Value> {
        let req: CreateChannelRequest = parse_body(body)?;
        let name = req.members.checked_name()?.unwrap_or_default();
        let tags = req.tags.unwrap_or_default();
        check_tags(&tags, self.config.limits.max_tags, "tags")?;
        let (channel, key) =
            self.create_channel_record(name, &ChannelMembersInput(req.members), tags).await?;
        Ok(json!({
            "channel": self.channel_json(&channel),
            "streamKey": self.stream_key_json(&key, true),
        }))
    }

    pub(crate) async fn get_channel(&self, body: &[u8]) -> ApiResult<Value> {
        let req: ArnRequest = parse_body(body)?;
        let channel = self.find_channel(required(&req.arn, "arn")?, "arn").await?;
        Ok(json!({ "channel": self.channel_json(&channel) }))
    }

    /// Each ARN answers for itself: found channels in `channels`, the rest in `errors`.
    pub(crate) async fn batch_get_channel(&self, body: &[u8]) -> ApiResult<Value> {
        let req: BatchGetRequest = parse_body(body)?;
        let arns = required(&req.arns, "arns")?;
        if arns.is_empty() || arns.len() > MAX_BATCH {
            return Err(ApiError::validation(format!(
                "arns must hold 1 to {MAX_BATCH} channel ARNs (got {})",
                arns.len()
            )));
        }
        let (mut channels, mut errors) = (Vec::new(), Vec::new());
        for (i, arn) in arns.iter().enumerate() {
            match self.find_channel(arn, &format!("arns[{i}]")).await {
                Ok(channel) => channels.push(self.channel_json(&channel)),
                Err(err) if err.kind == crate::error::ErrorType::InternalServer => return Err(err),
                Err(err) => errors.push(json!({
                    "arn": arn,
                    "code": err.kind.name(),
                    "message": err.message,
                })),
            }
        }
        Ok(json!({ "channels": channels, "errors": errors }))
    }

    pub(crate) async fn list_channels(&self, body: &[u8]) -> ApiResult<Value> {
        let req: ListChannelsRequest = parse_body(body)?;
        let given: Vec<&str> = [
            ("filterByName", req.filter_by_name.is_some()),
            (
                "filterByRecordingConfigurationArn",
                req.filter_by_recording_configuration_arn.is_some(),
            ),
            (
                "filterByPlaybackRestrictionPolicyArn",
                req.filter_by_playback_restriction_policy_arn.is_some(),
            ),
        ]
        .into_iter()
        .filter_map(|(name, set)| set.then_some(name))
        .collect();
        if given.len() > 1 {
            // The model's answer to combined filters: 409, not 400.
            return Err(ApiError::conflict(format!(
                "the filters are mutually exclusive (got {})",
                given.join(", ")
            )));
        }
        let mut filter = ChannelFilter::default();
        if let Some(name) = &req.filter_by_name {
            check_name(name, "filterByName")?;
            filter.name = Some(name.clone());
        }
        let page = page_request("channels", req.next_token.as_deref(), req.max_results, 100)?;
        if let Some(arn) = &req.filter_by_recording_configuration_arn {
            let field = "filterByRecordingConfigurationArn";
            match self.own_id(arn, field, ResourceType::RecordingConfiguration) {
                Ok(id) => filter.recording_configuration_id = Some(id),
                // Another account's configuration: no channel of ours uses it.
                Err(e) if e.kind == crate::error::ErrorType::ResourceNotFound => {
                    return Ok(json!({ "channels": [] }));
                }
                Err(e) => return Err(e),
            }
        }
        if req.filter_by_playback_restriction_policy_arn.as_deref().is_some_and(|a| !a.is_empty()) {
            // Troupe has no playback restriction policies: no channel uses one.
            return Ok(json!({ "channels": [] }));
        }
        let page = self
            .store
            .list_channels(&filter, page)
            .await
            .map_err(|e| ApiError::from_store(e, "channel"))?;
        Ok(list_response("channels", "channels", &page, |c| self.channel_summary_json(c)))
    }

    /// Live channels cannot be changed or deleted: ConflictException, as IVS.
    fn refuse_if_live(&self, channel: &ChannelRecord, arn: &str, what: &str) -> ApiResult<()> {
        if self.live_streams().get(&channel.id).is_some() {
            return Err(ApiError::conflict(format!(
                "channel {arn} is live; stop the stream (StopStream) before you {what} it"
            )));
        }
        Ok(())
    }

    pub(crate) async fn update_channel(&self, body: &[u8]) -> ApiResult<Value> {
        let req: UpdateChannelRequest = parse_body(body)?;
        let arn = required(&req.arn, "arn")?;
        let name = req.members.checked_name()?;
        let mut channel = self.find_channel(arn, "arn").await?;
        channel.settings = req.members.apply(&channel.settings)?;
        if let Some(name) = name {
            channel.name = name;
        }
        if let Some(recording) = &req.members.recording_configuration_arn {
            channel.recording_configuration_id = self.recording_reference(recording).await?;
        }
        self.refuse_if_live(&channel, arn, "update")?;
        let updated = self
            .store
            .update_channel(&channel)
            .await
            .map_err(|e| self.channel_store_error(e, arn))?;
        Ok(json!({ "channel": self.channel_json(&updated) }))
    }

    pub(crate) async fn delete_channel(&self, body: &[u8]) -> ApiResult<Value> {
        let req: ArnRequest = parse_body(body)?;
        let arn = required(&req.arn, "arn")?;
        let channel = self.find_channel(arn, "arn").await?;
        self.refuse_if_live(&channel, arn, "delete")?;
        self.store
            .delete_channel(&channel.id)
            .await
            .map_err(|e| ApiError::from_store(e, &format!("channel {arn}")))?;
        tracing::info!(channel = %channel.id, "channel deleted");
        Ok(json!({}))
    }

    /// The channel with this name (the oldest, if several share it), for the CLI.
    pub async fn channel_by_name(&self, name: &str) -> ApiResult<Option<ChannelRecord>> {
        check_name(name, "name")?;
        let filter = ChannelFilter { name: Some(name.to_string()), ..Default::default() };
        let page = self
            .store
            .list_channels(&filter, troupe_store::PageRequest::first(1))
            .await
            .map_err(|e| ApiError::from_store(e, "channel"))?;
        Ok(page.items.into_iter().next())
    }
}

/// The configuring members of a channel as a caller outside HTTP gives them (the CLI):
/// parsed from the same JSON members as CreateChannel.
pub struct ChannelMembersInput(ChannelMembers);

impl ChannelMembersInput {
    /// From a JSON object with CreateChannel's members (`{}` for IVS's defaults).
    pub fn from_json(value: &Value) -> ApiResult<Self> {
        let members = serde_json::from_value(value.clone())
            .map_err(|e| ApiError::validation(format!("channel settings: {e}")))?;
        Ok(ChannelMembersInput(members))
    }
}
