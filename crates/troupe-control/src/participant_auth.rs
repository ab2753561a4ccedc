//! Verifying participant tokens presented to the media and events planes: signature (node keys
//! of any node sharing the store, or an imported public key for self-signed tokens), validity
//! window, claims that must match the stage, the stage's existence, and revocation.
//! Capabilities are checked by the caller, which knows whether it publishes or subscribes.

use time::OffsetDateTime;
use troupe_store::StageRecord;
use troupe_tokens::{Claims, TOKEN_VERSION, TokenError, UnverifiedToken, VerifyingKey};

use crate::{
    arn::{Arn, ResourceType},
    plane::ControlPlane,
    request::{attributes_size, check_len, check_participant_id},
};

/// Clock skew tolerated between the token's signer and this server, in seconds. Small, so an
/// expired token stops working promptly, but enough for a customer's signer a little ahead.
pub const LEEWAY_SECS: i64 = 5;

/// Why a token was refused, as the Web SDK and the WHIP/events endpoints report it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenRejection {
    /// Unreadable, badly signed, or signed by a key that is not (or no longer) trusted.
    #[error("{0}")]
    Malformed(String),
    /// Outside its validity window.
    #[error("{0}")]
    Expired(String),
    /// Valid, but not for this: a claim does not match, or a capability is missing.
    #[error("{0}")]
    NotAllowed(String),
    /// The stage it names does not exist (any more).
    #[error("stage {0} does not exist")]
    StageDeleted(String),
    /// DisconnectParticipant revoked this participant.
    #[error("participant {0} was disconnected")]
    Disconnected(String),
    /// The store could not be asked; the client may retry. (Details are logged, not sent.)
    #[error("the token could not be checked right now; try again")]
    Unavailable,
}

impl TokenRejection {
    /// The SDK-facing code (`StageErrorCode` names).
    pub fn code(&self) -> &'static str {
        match self {
            TokenRejection::Malformed(_) => "TOKEN_MALFORMED",
            TokenRejection::Expired(_) => "TOKEN_EXPIRED",
            TokenRejection::NotAllowed(_) => "TOKEN_NOT_ALLOWED",
            TokenRejection::StageDeleted(_) => "STAGE_DELETED",
            TokenRejection::Disconnected(_) => "PARTICIPANT_DISCONNECTED",
            TokenRejection::Unavailable => "FAILED",
        }
    }

    /// The HTTP status the WHIP and events endpoints answer with.
    pub fn http_status(&self) -> u16 {
        match self {
            TokenRejection::Malformed(_) | TokenRejection::Expired(_) => 401,
            TokenRejection::NotAllowed(_) | TokenRejection::Disconnected(_) => 403,
            TokenRejection::StageDeleted(_) => 404,
            TokenRejection::Unavailable => 503,
        }
    }
}

impl From<TokenError> for TokenRejection {
    fn from(err: TokenError) -> Self {
        if err.is_time_window() {
            TokenRejection::Expired(err.to_string())
        } else {
            TokenRejection::Malformed(err.to_string())
        }
    }
}

/// Maps a store failure during verification; the detail goes to the log only, because the
/// rejection's text is sent to unauthenticated clients.
fn unavailable(err: troupe_store::StoreError) -> TokenRejection {
    tracing::error!(error = %err, "token verification could not reach the store");
    TokenRejection::Unavailable
}

/// Who signed a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signer {
    /// A Troupe node (its key id).
    Node(String),
    /// A customer key imported with ImportPublicKey (its ARN).
    PublicKey(String),
}

/// A token that passed every check.
#[derive(Debug, Clone)]
pub struct VerifiedParticipant {
    /// The token as presented (to check it again later, e.g. after a WebSocket upgrade).
    pub token: String,
    pub claims: Claims,
    pub stage: StageRecord,
    pub signer: Signer,
}

impl VerifiedParticipant {
    pub fn participant_id(&self) -> &str {
        &self.claims.jti
    }

    pub fn require_publish(&self) -> Result<(), TokenRejection> {
        if self.claims.capabilities.allow_publish {
            Ok(())
        } else {
            Err(TokenRejection::NotAllowed("the token does not allow publishing".into()))
        }
    }

    pub fn require_subscribe(&self) -> Result<(), TokenRejection> {
        if self.claims.capabilities.allow_subscribe {
            Ok(())
        } else {
            Err(TokenRejection::NotAllowed("the token does not allow subscribing".into()))
        }
    }
}

impl ControlPlane {
    /// Verifies a participant token at time `now`.
    pub async fn verify_participant_token(
        &self,
        token: &str,
        now: OffsetDateTime,
    ) -> Result<VerifiedParticipant, TokenRejection> {
        let unverified = troupe_tokens::decode(token)?;
        let (key, signer) = self.signing_key(&unverified).await?;
        unverified.verify_signature(&key)?;
        let claims = unverified.into_claims();
        let max_lifetime = i64::from(self.config.limits.max_token_minutes) * 60;
        troupe_tokens::check_times(&claims, now.unix_timestamp(), LEEWAY_SECS, max_lifetime)?;
        if claims.version != TOKEN_VERSION {
            return Err(TokenRejection::Malformed(format!(
                "token version {:?} is not supported (expected {TOKEN_VERSION:?})",
                claims.version
            )));
        }
        check_participant_id(&claims.jti, "jti")
            .map_err(|e| TokenRejection::Malformed(format!("token claim {}", e.message)))?;
        if let Some(user_id) = &claims.user_id {
            check_len(user_id, 128, "user_id")
                .map_err(|e| TokenRejection::Malformed(format!("token claim {}", e.message)))?;
        }
        let size = attributes_size(&claims.attributes);
        if size > self.config.limits.max_attributes_bytes {
            return Err(TokenRejection::Malformed(format!(
                "token attributes are {size} bytes, over the {}-byte limit",
                self.config.limits.max_attributes_bytes
            )));
        }

        let stage_arn = Arn::parse_as(&claims.resource, "resource", ResourceType::Stage)
            .map_err(|e| TokenRejection::Malformed(format!("token claim {}", e.message)))?;
        if claims.topic != stage_arn.id {
            return Err(TokenRejection::NotAllowed(format!(
                "token topic {:?} does not match its resource {}",
                claims.topic, claims.resource
            )));
        }
        if !self.config.scope.owns(&stage_arn) {
            return Err(TokenRejection::StageDeleted(claims.resource.clone()));
        }
        let stage = self
            .store
            .get_stage(&stage_arn.id)
            .await
            .map_err(unavailable)?
            .ok_or_else(|| TokenRejection::StageDeleted(claims.resource.clone()))?;
        // Any revocation row counts, whatever its expiry: DisconnectParticipant keeps rows
        // past the end of the token's validity, and they are purged only once useless.
        if self.store.get_revocation(&stage.id, &claims.jti).await.map_err(unavailable)?.is_some() {
            return Err(TokenRejection::Disconnected(claims.jti.clone()));
        }
        Ok(VerifiedParticipant { token: token.to_string(), claims, stage, signer })
    }

    /// The key a token's `kid` names: this node's, another node's (shared store), or an
    /// imported public key (`kid` = its ARN). Deleted keys are unknown from then on.
    async fn signing_key(
        &self,
        token: &UnverifiedToken,
    ) -> Result<(VerifyingKey, Signer), TokenRejection> {
        let kid = token.kid();
        let unknown = || TokenRejection::from(TokenError::UnknownKey { kid: kid.to_string() });
        if kid == self.node_key.kid() {
            return Ok((*self.node_key.verifying_key(), Signer::Node(kid.to_string())));
        }
        if kid.starts_with("arn:") {
            let arn = Arn::parse_as(kid, "kid", ResourceType::PublicKey).map_err(|_| unknown())?;
            if !self.config.scope.owns(&arn) {
                return Err(unknown());
            }
            let record = self
                .store
                .get_public_key(&arn.id)
                .await
                .map_err(unavailable)?
                .ok_or_else(unknown)?;
            let key = troupe_tokens::parse_public_key_pem(&record.material).map_err(|e| {
                TokenRejection::Malformed(format!("imported public key {kid} is unusable: {e}"))
            })?;
            return Ok((key, Signer::PublicKey(kid.to_string())));
        }
        let pem = self.store.get_node_key(kid).await.map_err(unavailable)?.ok_or_else(unknown)?;
        let key = troupe_tokens::parse_public_key_pem(&pem)
            .map_err(|e| TokenRejection::Malformed(format!("node key {kid} is unusable: {e}")))?;
        Ok((key, Signer::Node(kid.to_string())))
    }
}
