//! CreateStreamKey, GetStreamKey, ListStreamKeys, DeleteStreamKey. A channel has one key at a
//! time, as on IVS: to rotate, delete it and create another.

use serde::Deserialize;
use serde_json::{Value, json};
use troupe_store::{StoreError, StreamKeyRecord, StringMap};

use crate::{
    arn::{ResourceType, new_resource_id, new_stream_key_value},
    error::{ApiError, ApiResult},
    pagination::{list_response, page_request},
    plane::ControlPlane,
    request::{ArnRequest, check_tags, parse_body, required},
};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateStreamKeyRequest {
    channel_arn: Option<String>,
    tags: Option<StringMap>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListStreamKeysRequest {
    channel_arn: Option<String>,
    next_token: Option<String>,
    max_results: Option<i64>,
}

impl ControlPlane {
    async fn find_stream_key(&self, arn: &str) -> ApiResult<StreamKeyRecord> {
        let id = self.own_id(arn, "arn", ResourceType::StreamKey)?;
        self.store
            .get_stream_key(&id)
            .await
            .map_err(|e| ApiError::from_store(e, "stream key"))?
            .ok_or_else(|| ApiError::not_found(format!("stream key {arn} not found")))
    }

    pub(crate) async fn create_stream_key(&self, body: &[u8]) -> ApiResult<Value> {
        let req: CreateStreamKeyRequest = parse_body(body)?;
        let channel_arn = required(&req.channel_arn, "channelArn")?;
        let tags = req.tags.unwrap_or_default();
        check_tags(&tags, self.config.limits.max_tags, "tags")?;
        let channel = self.find_channel(channel_arn, "channelArn").await?;
        let key = StreamKeyRecord {
            seq: 0,
            id: new_resource_id(),
            channel_id: channel.id,
            value: new_stream_key_value(&self.config.scope.region),
            tags,
            created_at: self.now(),
        };
        let max = self.config.limits.max_stream_keys_per_channel;
        let created = self.store.create_stream_key(&key, max).await.map_err(|e| match e {
            StoreError::QuotaExceeded(_) => ApiError::quota(format!(
                "channel {channel_arn} has a stream key already (at most {max} per channel); \
                 delete it (DeleteStreamKey) to make another"
            )),
            StoreError::NotFound => ApiError::not_found(format!("channel {channel_arn} not found")),
            other => ApiError::from_store(other, "stream key"),
        })?;
        Ok(json!({ "streamKey": self.stream_key_json(&created, true) }))
    }

    pub(crate) async fn get_stream_key(&self, body: &[u8]) -> ApiResult<Value> {
        let req: ArnRequest = parse_body(body)?;
        let key = self.find_stream_key(required(&req.arn, "arn")?).await?;
        Ok(json!({ "streamKey": self.stream_key_json(&key, true) }))
    }

    pub(crate) async fn list_stream_keys(&self, body: &[u8]) -> ApiResult<Value> {
        let req: ListStreamKeysRequest = parse_body(body)?;
        let channel = self.find_channel(required(&req.channel_arn, "channelArn")?, "channelArn");
        let channel = channel.await?;
        let scope = format!("streamKeys/{}", channel.id);
        let page = page_request(&scope, req.next_token.as_deref(), req.max_results, 1)
            .and_then(|p| limit_max(p, req.max_results, 50))?;
        let page = self
            .store
            .list_stream_keys(&channel.id, page)
            .await
            .map_err(|e| ApiError::from_store(e, "channel"))?;
        Ok(list_response("streamKeys", &scope, &page, |k| self.stream_key_json(k, false)))
    }

    pub(crate) async fn delete_stream_key(&self, body: &[u8]) -> ApiResult<Value> {
        let req: ArnRequest = parse_body(body)?;
        let arn = required(&req.arn, "arn")?;
        let key = self.find_stream_key(arn).await?;
        self.store
            .delete_stream_key(&key.id)
            .await
            .map_err(|e| ApiError::from_store(e, &format!("stream key {arn}")))?;
        tracing::info!(channel = %key.channel_id, key = %key.id, "stream key deleted");
        Ok(json!({}))
    }
}

/// ListStreamKeys allows at most 50 a page (the shared pager allows 100).
fn limit_max(
    page: troupe_store::PageRequest,
    asked: Option<i64>,
    max: i64,
) -> ApiResult<troupe_store::PageRequest> {
    if asked.is_some_and(|n| n > max) {
        return Err(ApiError::validation(format!("maxResults must be between 1 and {max}")));
    }
    Ok(page)
}
