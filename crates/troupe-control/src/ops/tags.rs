//! TagResource, UntagResource, ListTagsForResource (`/tags/{resourceArn}`).

use serde::Deserialize;
use serde_json::{Value, json};
use troupe_store::{StoreError, StringMap, TaggedKind};

use crate::{
    arn::{Arn, ResourceType},
    error::{ApiError, ApiResult},
    plane::ControlPlane,
    request::{check_tag_key, check_tags, parse_body, required},
};

#[derive(Deserialize)]
struct TagRequest {
    tags: Option<StringMap>,
}

impl ControlPlane {
    /// Resolves a tagged resource's ARN to its kind and id; the resource must exist.
    fn tagged_resource(&self, arn: Option<String>) -> ApiResult<(TaggedKind, String, String)> {
        let arn = arn
            .filter(|a| !a.is_empty())
            .ok_or_else(|| ApiError::validation("resourceArn is required"))?;
        let parsed = Arn::parse(&arn, "resourceArn")?;
        let not_found = || ApiError::not_found(format!("resource {arn} not found"));
        let kind = match parsed.resource {
            ResourceType::Stage => TaggedKind::Stage,
            ResourceType::PublicKey => TaggedKind::PublicKey,
            ResourceType::Channel => TaggedKind::Channel,
            ResourceType::StreamKey => TaggedKind::StreamKey,
            ResourceType::RecordingConfiguration => TaggedKind::RecordingConfiguration,
            ResourceType::StorageConfiguration => TaggedKind::StorageConfiguration,
            // Troupe has no resources of the other types yet, so none of them can exist.
            ResourceType::Composition
            | ResourceType::EncoderConfiguration
            | ResourceType::IngestConfiguration => return Err(not_found()),
        };
        if !self.config.scope.owns(&parsed) {
            return Err(not_found());
        }
        Ok((kind, parsed.id, arn))
    }

    async fn update_tags(
        &self,
        arn: Option<String>,
        set: &StringMap,
        remove: &[String],
    ) -> ApiResult<StringMap> {
        let (kind, id, arn) = self.tagged_resource(arn)?;
        let max = self.config.limits.max_tags;
        self.store.update_tags(kind, &id, set, remove, max).await.map_err(|e| match e {
            StoreError::NotFound => ApiError::not_found(format!("resource {arn} not found")),
            // The IVS model has no quota error for TagResource: too many tags is invalid.
            StoreError::QuotaExceeded(_) => ApiError::validation(format!(
                "tags: a resource may carry at most {max} tags; remove some first"
            )),
            other => ApiError::from_store(other, "resource"),
        })
    }

    pub(crate) async fn tag_resource(&self, arn: Option<String>, body: &[u8]) -> ApiResult<Value> {
        let req: TagRequest = parse_body(body)?;
        let tags = required(&req.tags, "tags")?;
        check_tags(tags, self.config.limits.max_tags, "tags")?;
        self.update_tags(arn, tags, &[]).await?;
        Ok(json!({}))
    }

    pub(crate) async fn untag_resource(
        &self,
        arn: Option<String>,
        keys: Vec<String>,
    ) -> ApiResult<Value> {
        if keys.is_empty() {
            return Err(ApiError::validation("tagKeys is required (at least one key)"));
        }
        if keys.len() > self.config.limits.max_tags {
            return Err(ApiError::validation(format!(
                "tagKeys may name at most {} keys",
                self.config.limits.max_tags
            )));
        }
        for key in &keys {
            check_tag_key(key, "tagKeys")?;
        }
        self.update_tags(arn, &StringMap::new(), &keys).await?;
        Ok(json!({}))
    }

    pub(crate) async fn list_tags_for_resource(&self, arn: Option<String>) -> ApiResult<Value> {
        let (kind, id, arn) = self.tagged_resource(arn)?;
        let store_err = |e| ApiError::from_store(e, "resource");
        let tags = match kind {
            TaggedKind::Stage => {
                self.store.get_stage(&id).await.map_err(store_err)?.map(|s| s.tags)
            }
            TaggedKind::PublicKey => {
                self.store.get_public_key(&id).await.map_err(store_err)?.map(|k| k.tags)
            }
            TaggedKind::Channel => {
                self.store.get_channel(&id).await.map_err(store_err)?.map(|c| c.tags)
            }
            TaggedKind::StreamKey => {
                self.store.get_stream_key(&id).await.map_err(store_err)?.map(|k| k.tags)
            }
            TaggedKind::RecordingConfiguration => self
                .store
                .get_recording_configuration(&id)
                .await
                .map_err(store_err)?
                .map(|c| c.tags),
            TaggedKind::StorageConfiguration => {
                self.store.get_storage_configuration(&id).await.map_err(store_err)?.map(|c| c.tags)
            }
        };
        let tags = tags.ok_or_else(|| ApiError::not_found(format!("resource {arn} not found")))?;
        Ok(json!({ "tags": tags }))
    }
}
