//! CreateStorageConfiguration, GetStorageConfiguration, ListStorageConfigurations,
//! DeleteStorageConfiguration (`ivs-realtime`: where stages and compositions record).

use serde::Deserialize;
use serde_json::{Value, json};
use troupe_store::{StorageConfigurationRecord, StoreError, StringMap};

use crate::{
    arn::{ResourceType, new_resource_id},
    error::{ApiError, ApiResult},
    pagination::{list_response, page_request},
    plane::ControlPlane,
    request::{
        ArnRequest, ListRequest, check_bucket_name, check_name, check_tags, parse_body, required,
    },
};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct S3Storage {
    bucket_name: Option<String>,
}

#[derive(Deserialize)]
struct CreateStorageConfigurationRequest {
    name: Option<String>,
    s3: Option<S3Storage>,
    tags: Option<StringMap>,
}

impl ControlPlane {
    pub(crate) async fn find_storage_configuration(
        &self,
        arn: &str,
        field: &str,
    ) -> ApiResult<StorageConfigurationRecord> {
        let id = self.own_id(arn, field, ResourceType::StorageConfiguration)?;
        self.store
            .get_storage_configuration(&id)
            .await
            .map_err(|e| ApiError::from_store(e, "storage configuration"))?
            .ok_or_else(|| ApiError::not_found(format!("storage configuration {arn} not found")))
    }

    pub(crate) async fn create_storage_configuration(&self, body: &[u8]) -> ApiResult<Value> {
        let req: CreateStorageConfigurationRequest = parse_body(body)?;
        let name = req.name.unwrap_or_default();
        check_name(&name, "name")?;
        let field = "s3.bucketName";
        let bucket = req
            .s3
            .and_then(|s3| s3.bucket_name)
            .ok_or_else(|| ApiError::validation(format!("{field} is required")))?;
        check_bucket_name(&bucket, field)?;
        let tags = req.tags.unwrap_or_default();
        check_tags(&tags, self.config.limits.max_tags, "tags")?;
        self.require_bucket(&bucket, field).await?;
        let record = StorageConfigurationRecord {
            seq: 0,
            id: new_resource_id(),
            name,
            bucket_name: bucket,
            tags,
            created_at: self.now(),
        };
        let max = self.config.limits.max_storage_configurations;
        let created =
            self.store.create_storage_configuration(&record, max).await.map_err(|e| match e {
                StoreError::QuotaExceeded(_) => ApiError::quota(format!(
                    "this server allows at most {max} storage configurations"
                )),
                other => ApiError::from_store(other, "storage configuration"),
            })?;
        Ok(json!({ "storageConfiguration": self.storage_configuration_json(&created) }))
    }

    pub(crate) async fn get_storage_configuration(&self, body: &[u8]) -> ApiResult<Value> {
        let req: ArnRequest = parse_body(body)?;
        let config = self.find_storage_configuration(required(&req.arn, "arn")?, "arn").await?;
        Ok(json!({ "storageConfiguration": self.storage_configuration_json(&config) }))
    }

    pub(crate) async fn list_storage_configurations(&self, body: &[u8]) -> ApiResult<Value> {
        let req: ListRequest = parse_body(body)?;
        let scope = "storageConfigurations";
        let page = page_request(scope, req.next_token.as_deref(), req.max_results, 50)?;
        let page = self
            .store
            .list_storage_configurations(page)
            .await
            .map_err(|e| ApiError::from_store(e, "storage configuration"))?;
        Ok(list_response(scope, scope, &page, |c| self.storage_configuration_json(c)))
    }

    pub(crate) async fn delete_storage_configuration(&self, body: &[u8]) -> ApiResult<Value> {
        let req: ArnRequest = parse_body(body)?;
        let arn = required(&req.arn, "arn")?;
        let config = self.find_storage_configuration(arn, "arn").await?;
        self.store.delete_storage_configuration(&config.id).await.map_err(|e| match e {
            StoreError::Conflict(_) => ApiError::conflict(format!(
                "storage configuration {arn} is used by a stage's \
                 autoParticipantRecordingConfiguration; point that stage elsewhere (UpdateStage) \
                 first"
            )),
            other => ApiError::from_store(other, &format!("storage configuration {arn}")),
        })?;
        Ok(json!({}))
    }
}
