//! ImportPublicKey, GetPublicKey, ListPublicKeys, DeletePublicKey: the keys customers sign their
//! own participant tokens with (`kid` = the public key ARN).

use serde::Deserialize;
use serde_json::{Value, json};
use troupe_store::{PublicKeyRecord, StoreError, StringMap};

use crate::{
    arn::{Arn, ResourceType, new_resource_id},
    error::{ApiError, ApiResult},
    pagination::{list_response, page_request},
    plane::ControlPlane,
    request::{ArnRequest, ListRequest, check_name, check_tags, parse_body, required},
};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ImportRequest {
    public_key_material: Option<String>,
    name: Option<String>,
    tags: Option<StringMap>,
}

impl ControlPlane {
    pub(crate) async fn import_public_key(&self, body: &[u8]) -> ApiResult<Value> {
        let req: ImportRequest = parse_body(body)?;
        let material = required(&req.public_key_material, "publicKeyMaterial")?.trim();
        let name = req.name.unwrap_or_default();
        check_name(&name, "name")?;
        let tags = req.tags.unwrap_or_default();
        check_tags(&tags, self.config.limits.max_tags, "tags")?;
        let key = troupe_tokens::parse_public_key_pem(material)
            .map_err(|e| ApiError::validation(format!("publicKeyMaterial: {e}")))?;
        let record = PublicKeyRecord {
            seq: 0,
            id: new_resource_id(),
            name,
            material: material.to_string(),
            fingerprint: troupe_tokens::fingerprint(&key),
            tags,
            created_at: self.now(),
        };
        let max = self.config.limits.max_public_keys;
        let stored = self.store.insert_public_key(&record, max).await.map_err(|e| match e {
            StoreError::Conflict(_) => ApiError::conflict(format!(
                "a public key with fingerprint {} is already imported",
                record.fingerprint
            )),
            StoreError::QuotaExceeded(_) => ApiError::quota(format!(
                "this server allows at most {max} public keys; delete some or raise max_public_keys"
            )),
            other => ApiError::from_store(other, "public key"),
        })?;
        Ok(json!({ "publicKey": self.public_key_json(&stored, true) }))
    }

    async fn find_public_key(&self, arn: &str) -> ApiResult<PublicKeyRecord> {
        let parsed = Arn::parse_as(arn, "arn", ResourceType::PublicKey)?;
        let not_found = || ApiError::not_found(format!("public key {arn} not found"));
        if !self.config.scope.owns(&parsed) {
            return Err(not_found());
        }
        self.store
            .get_public_key(&parsed.id)
            .await
            .map_err(|e| ApiError::from_store(e, "public key"))?
            .ok_or_else(not_found)
    }

    pub(crate) async fn get_public_key(&self, body: &[u8]) -> ApiResult<Value> {
        let req: ArnRequest = parse_body(body)?;
        let key = self.find_public_key(required(&req.arn, "arn")?).await?;
        Ok(json!({ "publicKey": self.public_key_json(&key, true) }))
    }

    pub(crate) async fn list_public_keys(&self, body: &[u8]) -> ApiResult<Value> {
        let req: ListRequest = parse_body(body)?;
        let page = page_request("publicKeys", req.next_token.as_deref(), req.max_results, 50)?;
        let page = self
            .store
            .list_public_keys(page)
            .await
            .map_err(|e| ApiError::from_store(e, "public key"))?;
        Ok(list_response("publicKeys", "publicKeys", &page, |k| self.public_key_json(k, false)))
    }

    pub(crate) async fn delete_public_key(&self, body: &[u8]) -> ApiResult<Value> {
        let req: ArnRequest = parse_body(body)?;
        let arn = required(&req.arn, "arn")?;
        let key = self.find_public_key(arn).await?;
        self.store
            .delete_public_key(&key.id)
            .await
            .map_err(|e| ApiError::from_store(e, &format!("public key {arn}")))?;
        Ok(json!({}))
    }
}
