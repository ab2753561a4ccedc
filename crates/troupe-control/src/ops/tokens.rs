//! CreateParticipantToken and DisconnectParticipant, and minting the tokens CreateStage returns.

use serde::Deserialize;
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};
use troupe_store::{Capabilities, Revocation, StringMap, TokenRecord};
use troupe_tokens::{Claims, TokenCapabilities};

use crate::{
    arn::{ResourceType, new_participant_id},
    config::Limits,
    error::{ApiError, ApiResult},
    participant_auth::LEEWAY_SECS,
    plane::{ControlNotice, ControlPlane},
    request::{check_attributes, check_len, check_participant_id, parse_body, required},
    timestamp::iso8601,
};

/// Token lifetime when the request names none: 12 hours, as the hosted service.
pub const DEFAULT_TOKEN_MINUTES: u32 = 720;

/// The members that describe a token, in CreateParticipantToken and in CreateStage's
/// `participantTokenConfigurations`, as the client sent them.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenRequest {
    pub duration: Option<i64>,
    pub user_id: Option<String>,
    pub attributes: Option<StringMap>,
    pub capabilities: Option<Vec<String>>,
}

/// A token request that passed every check, with its defaults applied.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenSpec {
    pub minutes: u32,
    pub user_id: Option<String>,
    pub attributes: StringMap,
    pub capabilities: Capabilities,
}

impl TokenRequest {
    /// Checks the members and applies defaults; `prefix` goes before member names in messages.
    pub fn parse(&self, limits: &Limits, prefix: &str) -> ApiResult<TokenSpec> {
        let minutes = match self.duration {
            None => DEFAULT_TOKEN_MINUTES,
            Some(d) => u32::try_from(d)
                .ok()
                .filter(|m| (1..=limits.max_token_minutes).contains(m))
                .ok_or_else(|| {
                    ApiError::validation(format!(
                        "{prefix}duration must be between 1 and {} minutes (got {d})",
                        limits.max_token_minutes
                    ))
                })?,
        };
        if let Some(user) = &self.user_id {
            check_len(user, 128, &format!("{prefix}userId"))?;
        }
        let attributes = self.attributes.clone().unwrap_or_default();
        check_attributes(&attributes, limits.max_attributes_bytes, &format!("{prefix}attributes"))?;
        let capabilities = match &self.capabilities {
            None => Capabilities { publish: true, subscribe: true },
            Some(list) => {
                let mut caps = Capabilities { publish: false, subscribe: false };
                for c in list {
                    match c.as_str() {
                        "PUBLISH" => caps.publish = true,
                        "SUBSCRIBE" => caps.subscribe = true,
                        other => {
                            return Err(ApiError::validation(format!(
                                "{prefix}capabilities: {other:?} is not PUBLISH or SUBSCRIBE"
                            )));
                        }
                    }
                }
                caps
            }
        };
        Ok(TokenSpec { minutes, user_id: self.user_id.clone(), attributes, capabilities })
    }
}

/// A freshly signed token with what was recorded about it.
#[derive(Debug, Clone)]
pub struct MintedToken {
    pub token: String,
    pub record: TokenRecord,
}

impl MintedToken {
    /// The `ParticipantToken` shape.
    pub fn json(&self) -> Value {
        let r = &self.record;
        let mut caps = Vec::new();
        if r.capabilities.publish {
            caps.push("PUBLISH");
        }
        if r.capabilities.subscribe {
            caps.push("SUBSCRIBE");
        }
        let mut out = json!({
            "participantId": r.participant_id,
            "token": self.token,
            "attributes": r.attributes,
            "duration": r.duration_minutes,
            "capabilities": caps,
            "expirationTime": iso8601(r.expires_at),
        });
        if let Some(user) = &r.user_id {
            out["userId"] = user.clone().into();
        }
        out
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateTokenRequest {
    stage_arn: Option<String>,
    // Not `#[serde(flatten)] TokenRequest`: flattening loses the member path in type errors.
    duration: Option<i64>,
    user_id: Option<String>,
    attributes: Option<StringMap>,
    capabilities: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DisconnectRequest {
    stage_arn: Option<String>,
    participant_id: Option<String>,
    reason: Option<String>,
}

/// `at + minutes`, or an internal error instead of a panic past year 9999 (limits are checked
/// at configuration, so this is a guard, not a path).
fn plus_minutes(at: OffsetDateTime, minutes: u32) -> ApiResult<OffsetDateTime> {
    at.checked_add(Duration::minutes(i64::from(minutes)))
        .ok_or_else(|| ApiError::internal("token expiry is out of range"))
}

impl ControlPlane {
    /// Signs a token for a stage with the node key.
    pub(crate) fn mint_token(&self, stage_id: &str, spec: &TokenSpec) -> ApiResult<MintedToken> {
        // Whole seconds: JWT times are integers, and expirationTime must equal `exp`.
        let now = self.now();
        let now = now.replace_nanosecond(0).unwrap_or(now);
        let expires_at = plus_minutes(now, spec.minutes)?;
        let record = TokenRecord {
            participant_id: new_participant_id(),
            stage_id: stage_id.to_string(),
            user_id: spec.user_id.clone(),
            attributes: spec.attributes.clone(),
            capabilities: spec.capabilities,
            duration_minutes: spec.minutes,
            issued_at: now,
            expires_at,
        };
        let claims = Claims {
            exp: expires_at.unix_timestamp(),
            iat: now.unix_timestamp(),
            nbf: None,
            jti: record.participant_id.clone(),
            user_id: record.user_id.clone(),
            resource: self.config.scope.arn(ResourceType::Stage, stage_id),
            topic: stage_id.to_string(),
            events_url: self.config.endpoints.events.clone(),
            whip_url: self.config.endpoints.whip.clone(),
            capabilities: TokenCapabilities {
                allow_publish: spec.capabilities.publish,
                allow_subscribe: spec.capabilities.subscribe,
            },
            attributes: record.attributes.clone(),
            version: "1.0".to_string(),
        };
        Ok(MintedToken { token: self.node_key.sign(&claims), record })
    }

    /// Validates, signs and records a token for an existing stage (CreateParticipantToken,
    /// and `troupe token` on the command line).
    pub async fn issue_token(&self, stage_arn: &str, req: &TokenRequest) -> ApiResult<MintedToken> {
        let spec = req.parse(&self.config.limits, "")?;
        let stage = self.find_stage(stage_arn, "stageArn").await?;
        let minted = self.mint_token(&stage.id, &spec)?;
        self.store
            .insert_token(&minted.record)
            .await
            .map_err(|e| ApiError::from_store(e, &format!("stage {stage_arn}")))?;
        Ok(minted)
    }

    pub(crate) async fn create_participant_token(&self, body: &[u8]) -> ApiResult<Value> {
        let req: CreateTokenRequest = parse_body(body)?;
        let stage_arn = required(&req.stage_arn, "stageArn")?;
        let token = TokenRequest {
            duration: req.duration,
            user_id: req.user_id,
            attributes: req.attributes,
            capabilities: req.capabilities,
        };
        let minted = self.issue_token(stage_arn, &token).await?;
        Ok(json!({ "participantToken": minted.json() }))
    }

    pub(crate) async fn disconnect_participant(&self, body: &[u8]) -> ApiResult<Value> {
        let req: DisconnectRequest = parse_body(body)?;
        let stage_arn = required(&req.stage_arn, "stageArn")?;
        let participant_id = required(&req.participant_id, "participantId")?;
        check_participant_id(participant_id, "participantId")?;
        if let Some(reason) = &req.reason {
            check_len(reason, 128, "reason")?;
        }
        let stage = self.find_stage(stage_arn, "stageArn").await?;
        let store_err = |e| ApiError::from_store(e, "participant");
        let token = self.store.get_token(participant_id).await.map_err(store_err)?;
        let known = match &token {
            Some(t) => t.stage_id == stage.id,
            None => {
                self.store.participant_seen(&stage.id, participant_id).await.map_err(store_err)?
            }
        };
        if !known {
            return Err(ApiError::not_found(format!(
                "participant {participant_id} not found on stage {stage_arn}"
            )));
        }
        // Keep the revocation until no token of this participant can be accepted any more:
        // its expiry plus the verifier's clock leeway, or, for self-signed tokens we never
        // saw, the longest lifetime a token may have from now.
        let now = self.now();
        let leeway = Duration::seconds(LEEWAY_SECS);
        let expires_at = match &token {
            Some(t) => t.expires_at + leeway,
            None => plus_minutes(now, self.config.limits.max_token_minutes)? + leeway,
        };
        let revocation = Revocation {
            participant_id: participant_id.clone(),
            stage_id: stage.id.clone(),
            reason: req.reason.clone(),
            revoked_at: now,
            expires_at,
        };
        self.store.revoke(&revocation).await.map_err(store_err)?;
        tracing::info!(stage = %stage.id, participant = %participant_id, "participant disconnected");
        self.notify(ControlNotice::ParticipantDisconnected {
            stage_id: stage.id,
            participant_id: participant_id.clone(),
            reason: req.reason,
        });
        Ok(json!({}))
    }
}
