//! The control plane over HTTP: routing by IVS operation name, SigV4 authentication, body
//! limits, request ids, metrics and access logs. Everything else is [`ControlPlane::call`].

use std::time::Instant;

use axum::{
    Router,
    body::{Body, to_bytes},
    extract::{Request, State},
    http::{HeaderValue, Method, header},
    response::{IntoResponse, Response},
    routing::any,
};
use percent_encoding::percent_decode_str;
use rand::RngCore;
use tracing::Instrument;

use crate::{
    error::{ApiError, ErrorType},
    metrics::ApiMetrics,
    operation::{NOT_YET_IMPLEMENTED, Operation},
    plane::{Call, ControlPlane},
    sigv4,
};

/// How far a signature's date may be from the server's clock, either way (as AWS).
const MAX_CLOCK_SKEW: time::Duration = time::Duration::minutes(15);

#[derive(Clone)]
struct ApiState {
    plane: ControlPlane,
    metrics: ApiMetrics,
}

/// The IVS API routes: `POST /{Operation}` and `/tags/{resourceArn}`. Merge it into the
/// server's router; more specific routes (`/whip`, `/healthz`, ...) take precedence.
pub fn api_router(plane: ControlPlane, metrics: ApiMetrics) -> Router {
    Router::new()
        .route("/{operation}", any(handle))
        .route("/tags/{*resource_arn}", any(handle))
        .with_state(ApiState { plane, metrics })
}

/// What a request is, before authentication.
enum Route {
    Operation(Operation),
    NotYetImplemented(&'static str, &'static str),
    Unknown(String),
}

fn route(method: &Method, path: &str) -> Route {
    if path.starts_with("/tags/") {
        return match *method {
            Method::POST => Route::Operation(Operation::TagResource),
            Method::DELETE => Route::Operation(Operation::UntagResource),
            Method::GET => Route::Operation(Operation::ListTagsForResource),
            _ => Route::Unknown(format!("no operation at {method} {path}")),
        };
    }
    let name = path.trim_start_matches('/');
    if let Some(op) = Operation::from_post_path(name) {
        if method == Method::POST {
            return Route::Operation(op);
        }
        return Route::Unknown(format!("{name} is called with POST, not {method}"));
    }
    if let Some((name, what)) = NOT_YET_IMPLEMENTED.iter().find(|(n, _)| *n == name) {
        return Route::NotYetImplemented(name, what);
    }
    Route::Unknown(format!("no operation at {method} {path}"))
}

fn new_request_id() -> String {
    let mut b = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut b);
    let h = hex::encode(b);
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

async fn handle(State(state): State<ApiState>, request: Request) -> Response {
    let started = Instant::now();
    let request_id = new_request_id();
    let route = route(request.method(), request.uri().path());
    let op_name = match &route {
        Route::Operation(op) => op.name(),
        Route::NotYetImplemented(name, _) => name,
        Route::Unknown(_) => "unknown",
    };
    let route_op = match &route {
        Route::Operation(op) => Some(*op),
        _ => None,
    };
    let span = tracing::info_span!("api", op = op_name, request_id = %request_id);
    let result = async {
        match route {
            Route::Unknown(message) => Err(ApiError::new(ErrorType::UnknownOperation, message)),
            Route::NotYetImplemented(name, what) => {
                authenticate(&state, request, Operation::ListStages).await?;
                Err(ApiError::new(
                    ErrorType::NotImplemented,
                    format!("{name} is not supported by Troupe yet ({what})"),
                ))
            }
            Route::Operation(op) => {
                let authed = authenticate(&state, request, op).await?;
                state.plane.call(authed.call(op)).await
            }
        }
    }
    .instrument(span.clone())
    .await;

    let elapsed = started.elapsed();
    let (mut response, outcome) = match result {
        Ok(_) if route_op.is_some_and(Operation::answers_no_content) => {
            (axum::http::StatusCode::NO_CONTENT.into_response(), "ok")
        }
        Ok(body) => (axum::Json(body).into_response(), "ok"),
        Err(err) => {
            let _enter = span.enter();
            if err.kind == ErrorType::InternalServer {
                tracing::error!(error = %err.message, "api call failed");
            } else {
                tracing::info!(error = err.kind.name(), message = %err.message, "api call refused");
            }
            let outcome = err.kind.name();
            (err.into_response(), outcome)
        }
    };
    {
        let _enter = span.enter();
        tracing::debug!(
            status = response.status().as_u16(),
            ms = elapsed.as_secs_f64() * 1e3,
            "api call"
        );
    }
    state.metrics.observe(op_name, outcome, elapsed.as_secs_f64());
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("x-amzn-RequestId", v);
    }
    response
}

/// A request that passed authentication, with what the operation needs from it.
struct Authenticated {
    body: bytes::Bytes,
    resource_arn: Option<String>,
    tag_keys: Vec<String>,
}

impl Authenticated {
    fn call(&self, operation: Operation) -> Call<'_> {
        Call {
            operation,
            body: &self.body,
            resource_arn: self.resource_arn.clone(),
            tag_keys: self.tag_keys.clone(),
        }
    }
}

/// Reads the body (bounded), checks the SigV4 signature and the key's permission.
async fn authenticate(
    state: &ApiState,
    request: Request,
    op: Operation,
) -> Result<Authenticated, ApiError> {
    let limit = state.plane.config().limits.max_body_bytes;
    let (parts, body): (_, Body) = request.into_parts();
    let too_large = || {
        ApiError::new(
            ErrorType::PayloadTooLarge,
            format!("request body is larger than {limit} bytes"),
        )
    };
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let body = to_bytes(body, limit).await.map_err(|e| {
        let inner = e.into_inner();
        if inner.is::<http_body_util::LengthLimitError>() {
            too_large()
        } else {
            ApiError::validation(format!("the request body could not be read: {inner}"))
        }
    })?;

    let raw_path = parts.uri.path();
    // HTTP/2 carries the host as `:authority`, which SigV4 signs as `host`.
    let mut headers = parts.headers.clone();
    if !headers.contains_key(header::HOST)
        && let Some(authority) = parts.uri.authority()
        && let Ok(v) = HeaderValue::from_str(authority.as_str())
    {
        headers.insert(header::HOST, v);
    }
    let signed = sigv4::SignedRequest {
        method: parts.method.as_str(),
        raw_path,
        raw_query: parts.uri.query(),
        headers: &headers,
        body: &body,
    };
    let credentials = &state.plane.config().credentials;
    let secret_for = |akid: &str| {
        credentials.iter().find(|c| c.access_key_id == akid).map(|c| c.secret_access_key.clone())
    };
    let verified =
        sigv4::verify(&signed, secret_for, time::OffsetDateTime::now_utc(), MAX_CLOCK_SKEW)
            .map_err(|e| ApiError::new(auth_error_type(e.error_type()), e.to_string()))?;
    let read_only =
        credentials.iter().any(|c| c.access_key_id == verified.access_key_id && c.read_only);
    if read_only && !op.is_read_only() {
        return Err(ApiError::new(
            ErrorType::AccessDenied,
            format!(
                "access key {} is read-only and may not call {}",
                verified.access_key_id,
                op.name()
            ),
        ));
    }

    let resource_arn = raw_path
        .strip_prefix("/tags/")
        .map(|arn| percent_decode_str(arn).decode_utf8_lossy().into_owned());
    let tag_keys = parts
        .uri
        .query()
        .map(|q| {
            q.split('&')
                .filter_map(|pair| pair.split_once('=').or(Some((pair, ""))))
                .filter(|(k, _)| *k == "tagKeys")
                .map(|(_, v)| {
                    let v = v.replace('+', " ");
                    percent_decode_str(&v).decode_utf8_lossy().into_owned()
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(Authenticated { body, resource_arn, tag_keys })
}

fn auth_error_type(name: &str) -> ErrorType {
    match name {
        "MissingAuthenticationTokenException" => ErrorType::MissingAuthenticationToken,
        "IncompleteSignatureException" => ErrorType::IncompleteSignature,
        "UnrecognizedClientException" => ErrorType::UnrecognizedClient,
        _ => ErrorType::InvalidSignature,
    }
}

/// The answer for a path nothing serves: the IVS error shape, never an HTML page.
pub async fn unknown_route(request: Request) -> Response {
    let message = format!("no operation at {} {}", request.method(), request.uri().path());
    let mut response = ApiError::new(ErrorType::UnknownOperation, message).into_response();
    if let Ok(v) = HeaderValue::from_str(&new_request_id()) {
        response.headers_mut().insert("x-amzn-RequestId", v);
    }
    response
}
