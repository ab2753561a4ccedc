//! The demo's backend, the part a real app keeps on its own server: get-or-create a stage by
//! name, mint a participant token for a display name and a role, and list the active stages.
//! It calls the same IVS operations a backend would call with an AWS SDK (in-process, without
//! SigV4), so it holds no state of its own and shows what a backend needs to do.
//!
//! `POST /demo/api/stage`  `{"name"}` → `{"stageArn", "name", "created"}`
//! `POST /demo/api/token`  `{"stageName", "userName", "role"}` → `{"token", "participantId", …}`
//! `GET  /demo/api/stages` → `{"stages": [{"name", "stageArn", "participants"}]}`
//!
//! Errors are `{"code", "message"}` like the WHIP endpoints: `INVALID_INPUT` (400),
//! `STAGE_NOT_FOUND` (404), `QUOTA_EXCEEDED` (402), `INTERNAL` (500).

use std::sync::Arc;

use axum::{
    Json,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::Mutex;
use troupe_control::{ApiError, Call, ControlPlane, ErrorType, operation::Operation, request};
use troupe_events::socket::refusal;

/// A display name's limit: enough for any name, short enough for a tile.
const MAX_USER_NAME: usize = 64;
/// Stages listed on the landing page.
const MAX_LISTED: usize = 20;
/// Request bodies are a few short strings.
pub const MAX_BODY_BYTES: usize = 4 * 1024;

#[derive(Clone)]
pub struct DemoApi {
    plane: ControlPlane,
    /// Get-or-create is a read then a write: two people opening the same new stage name at
    /// once must end up on one stage.
    creating: Arc<Mutex<()>>,
}

/// How someone joins: what their token allows and what the demo shows of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Camera and microphone, sees everyone.
    Host,
    /// Microphone only.
    Audio,
    /// Watches; not published, not shown to the hosts.
    Viewer,
}

impl Role {
    fn parse(text: &str) -> Option<Role> {
        match text {
            "host" => Some(Role::Host),
            "audio" => Some(Role::Audio),
            "viewer" => Some(Role::Viewer),
            _ => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Role::Host => "host",
            Role::Audio => "audio",
            Role::Viewer => "viewer",
        }
    }

    fn capabilities(self) -> &'static [&'static str] {
        match self {
            Role::Host | Role::Audio => &["PUBLISH", "SUBSCRIBE"],
            Role::Viewer => &["SUBSCRIBE"],
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StageRequest {
    name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct TokenRequest {
    stage_name: Option<String>,
    user_name: Option<String>,
    role: Option<String>,
}

/// A demo API failure, answered as `{"code", "message"}`.
pub struct DemoError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl DemoError {
    fn invalid(message: impl Into<String>) -> Self {
        DemoError {
            status: StatusCode::BAD_REQUEST,
            code: "INVALID_INPUT",
            message: message.into(),
        }
    }
}

impl From<ApiError> for DemoError {
    fn from(e: ApiError) -> Self {
        let (status, code) = match e.kind {
            ErrorType::Validation => (StatusCode::BAD_REQUEST, "INVALID_INPUT"),
            ErrorType::ResourceNotFound => (StatusCode::NOT_FOUND, "STAGE_NOT_FOUND"),
            ErrorType::ServiceQuotaExceeded => (StatusCode::PAYMENT_REQUIRED, "QUOTA_EXCEEDED"),
            _ => (StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL"),
        };
        DemoError { status, code, message: e.message }
    }
}

impl IntoResponse for DemoError {
    fn into_response(self) -> Response {
        refusal(self.status, self.code, self.message)
    }
}

pub type DemoResult = Result<Json<Value>, DemoError>;

/// Reads a JSON request body into `T`, with the demo API's errors: 413 over the size limit,
/// 415 for another content type, 400 naming the member at fault.
fn read_json<T: serde::de::DeserializeOwned>(
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<T, DemoError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(DemoError {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            code: "INVALID_INPUT",
            message: format!("the body is {} bytes; the limit is {MAX_BODY_BYTES}", body.len()),
        });
    }
    let content_type =
        headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !content_type.starts_with("application/json") {
        return Err(DemoError {
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            code: "INVALID_INPUT",
            message: format!("send JSON (Content-Type: application/json), not {content_type:?}"),
        });
    }
    Ok(request::parse_body(body)?)
}

impl DemoApi {
    pub fn new(plane: ControlPlane) -> Self {
        DemoApi { plane, creating: Arc::new(Mutex::new(())) }
    }

    async fn call(&self, operation: Operation, body: Value) -> Result<Value, DemoError> {
        let body = body.to_string();
        let call =
            Call { operation, body: body.as_bytes(), resource_arn: None, tag_keys: Vec::new() };
        Ok(self.plane.call(call).await?)
    }

    /// Every stage, page by page (ListStages), as `(name, arn, activeSessionId)`.
    async fn all_stages(&self) -> Result<Vec<(String, String, Option<String>)>, DemoError> {
        let mut stages = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let mut body = json!({ "maxResults": 100 });
            if let Some(token) = &next {
                body["nextToken"] = json!(token);
            }
            let page = self.call(Operation::ListStages, body).await?;
            for s in page["stages"].as_array().into_iter().flatten() {
                let text = |k: &str| s[k].as_str().filter(|v| !v.is_empty()).map(str::to_string);
                if let (Some(name), Some(arn)) = (text("name"), text("arn")) {
                    stages.push((name, arn, text("activeSessionId")));
                }
            }
            next = page["nextToken"].as_str().filter(|t| !t.is_empty()).map(str::to_string);
            if next.is_none() {
                return Ok(stages);
            }
        }
    }

    /// The ARN of the stage named `name`: the active one if several share the name.
    async fn find_stage(&self, name: &str) -> Result<Option<String>, DemoError> {
        let mut matches: Vec<_> =
            self.all_stages().await?.into_iter().filter(|(n, _, _)| n == name).collect();
        matches.sort_by_key(|(_, _, active)| active.is_none());
        Ok(matches.into_iter().next().map(|(_, arn, _)| arn))
    }

    /// How many participants are on a stage session now (ListParticipants, CONNECTED).
    async fn connected(&self, arn: &str, session: &str) -> Result<usize, DemoError> {
        let mut count = 0;
        let mut next: Option<String> = None;
        loop {
            let mut body = json!({
                "stageArn": arn, "sessionId": session, "filterByState": "CONNECTED", "maxResults": 100,
            });
            if let Some(token) = &next {
                body["nextToken"] = json!(token);
            }
            let page = self.call(Operation::ListParticipants, body).await?;
            count += page["participants"].as_array().map_or(0, Vec::len);
            next = page["nextToken"].as_str().filter(|t| !t.is_empty()).map(str::to_string);
            if next.is_none() {
                return Ok(count);
            }
        }
    }
}

fn stage_name(value: Option<String>, field: &str) -> Result<String, DemoError> {
    let name = value.map(|n| n.trim().to_string()).unwrap_or_default();
    if name.is_empty() {
        return Err(DemoError::invalid(format!("{field} is required")));
    }
    request::check_name(&name, field)?;
    Ok(name)
}

fn user_name(value: Option<String>) -> Result<String, DemoError> {
    let name = value.map(|n| n.trim().to_string()).unwrap_or_default();
    if name.is_empty() {
        return Err(DemoError::invalid("userName is required"));
    }
    if name.chars().count() > MAX_USER_NAME {
        return Err(DemoError::invalid(format!(
            "userName must be at most {MAX_USER_NAME} characters"
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(DemoError::invalid("userName must not contain control characters"));
    }
    Ok(name)
}

/// `POST /demo/api/stage`: the stage with this name, created when there is none.
pub async fn stage(State(api): State<DemoApi>, headers: HeaderMap, body: Bytes) -> DemoResult {
    let req: StageRequest = read_json(&headers, &body)?;
    let name = stage_name(req.name, "name")?;
    let _one_at_a_time = api.creating.lock().await;
    if let Some(arn) = api.find_stage(&name).await? {
        return Ok(Json(json!({ "stageArn": arn, "name": name, "created": false })));
    }
    let created = api.call(Operation::CreateStage, json!({ "name": name })).await?;
    let arn = created["stage"]["arn"].as_str().unwrap_or_default();
    tracing::info!(stage = %name, arn, "demo stage created");
    Ok(Json(json!({ "stageArn": arn, "name": name, "created": true })))
}

/// `POST /demo/api/token`: a participant token on the named stage for a display name.
pub async fn token(State(api): State<DemoApi>, headers: HeaderMap, body: Bytes) -> DemoResult {
    let req: TokenRequest = read_json(&headers, &body)?;
    let stage = stage_name(req.stage_name, "stageName")?;
    let user = user_name(req.user_name)?;
    let role_text = req.role.unwrap_or_else(|| "host".into());
    let role = Role::parse(&role_text).ok_or_else(|| {
        DemoError::invalid(format!("role must be host, audio or viewer (got {role_text:?})"))
    })?;
    let Some(arn) = api.find_stage(&stage).await? else {
        return Err(DemoError {
            status: StatusCode::NOT_FOUND,
            code: "STAGE_NOT_FOUND",
            message: format!("no stage is named {stage}"),
        });
    };
    let minted = api
        .call(
            Operation::CreateParticipantToken,
            json!({
                "stageArn": arn,
                "userId": user,
                "capabilities": role.capabilities(),
                "attributes": { "name": user, "role": role.as_str() },
            }),
        )
        .await?;
    let t = &minted["participantToken"];
    Ok(Json(json!({
        "token": t["token"],
        "participantId": t["participantId"],
        "userId": t["userId"],
        "expirationTime": t["expirationTime"],
        "stageArn": arn,
        "role": role.as_str(),
    })))
}

/// `GET /demo/api/stages`: the stages with people on them, busiest first.
pub async fn stages(State(api): State<DemoApi>) -> DemoResult {
    let mut listed = Vec::new();
    for (name, arn, session) in api.all_stages().await? {
        let Some(session) = session else { continue };
        let participants = api.connected(&arn, &session).await?;
        if participants > 0 {
            listed.push((name, arn, participants));
        }
    }
    listed.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.cmp(&b.0)));
    listed.truncate(MAX_LISTED);
    let stages: Vec<Value> = listed
        .into_iter()
        .map(|(name, arn, participants)| {
            json!({ "name": name, "stageArn": arn, "participants": participants })
        })
        .collect();
    Ok(Json(json!({ "stages": stages })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        assert_eq!(stage_name(Some(" show-1 ".into()), "name").ok().as_deref(), Some("show-1"));
        assert!(stage_name(None, "name").is_err());
        assert!(stage_name(Some("a b".into()), "name").is_err());
        assert!(stage_name(Some("x".repeat(129)), "name").is_err());
        assert_eq!(user_name(Some("  Zoë  ".into())).ok().as_deref(), Some("Zoë"));
        assert!(user_name(Some("".into())).is_err());
        assert!(user_name(Some("a\u{7}b".into())).is_err());
        assert!(user_name(Some("é".repeat(65))).is_err());
        assert!(user_name(Some("é".repeat(64))).is_ok());
    }

    #[test]
    fn roles_map_to_capabilities() {
        assert_eq!(Role::parse("viewer").map(Role::capabilities), Some(&["SUBSCRIBE"][..]));
        assert_eq!(Role::parse("audio").map(Role::as_str), Some("audio"));
        assert_eq!(Role::parse("Host"), None);
    }
}
