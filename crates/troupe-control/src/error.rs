//! The IVS error model: every failure of a control-plane call is one [`ApiError`], rendered the
//! way the AWS SDKs read errors: the `x-amzn-ErrorType` header (JS SDK), `__type` (botocore and
//! the CLI) and both `message` and `exceptionMessage` (the model's member name) in the body.

use axum::{
    Json,
    http::{HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use troupe_store::StoreError;

/// The error types Troupe answers with: the IVS Real-Time and `ivs` models' (the first seven,
/// and the two stream errors at the end), and the service-framework errors every AWS endpoint
/// uses for authentication and routing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorType {
    Validation,
    AccessDenied,
    PendingVerification,
    ResourceNotFound,
    Conflict,
    ServiceQuotaExceeded,
    InternalServer,
    MissingAuthenticationToken,
    IncompleteSignature,
    UnrecognizedClient,
    InvalidSignature,
    UnknownOperation,
    /// An IVS operation Troupe does not implement yet (compositions, configurations, ...).
    /// 501, which the SDKs do not retry.
    NotImplemented,
    /// The request body is larger than the control plane accepts.
    PayloadTooLarge,
    /// The `ivs` API's answer for a stream operation on a channel that is not live.
    ChannelNotBroadcasting,
    /// The `ivs` API's answer when the ingest cannot act on a stream right now.
    StreamUnavailable,
}

impl ErrorType {
    pub fn name(self) -> &'static str {
        match self {
            ErrorType::Validation => "ValidationException",
            ErrorType::AccessDenied => "AccessDeniedException",
            ErrorType::PendingVerification => "PendingVerification",
            ErrorType::ResourceNotFound => "ResourceNotFoundException",
            ErrorType::Conflict => "ConflictException",
            ErrorType::ServiceQuotaExceeded => "ServiceQuotaExceededException",
            ErrorType::InternalServer => "InternalServerException",
            ErrorType::MissingAuthenticationToken => "MissingAuthenticationTokenException",
            ErrorType::IncompleteSignature => "IncompleteSignatureException",
            ErrorType::UnrecognizedClient => "UnrecognizedClientException",
            ErrorType::InvalidSignature => "InvalidSignatureException",
            ErrorType::UnknownOperation => "UnknownOperationException",
            ErrorType::NotImplemented => "NotImplementedException",
            ErrorType::PayloadTooLarge => "RequestEntityTooLargeException",
            ErrorType::ChannelNotBroadcasting => "ChannelNotBroadcasting",
            ErrorType::StreamUnavailable => "StreamUnavailable",
        }
    }

    pub fn status(self) -> StatusCode {
        match self {
            ErrorType::Validation => StatusCode::BAD_REQUEST,
            ErrorType::AccessDenied
            | ErrorType::PendingVerification
            | ErrorType::MissingAuthenticationToken
            | ErrorType::IncompleteSignature
            | ErrorType::UnrecognizedClient
            | ErrorType::InvalidSignature => StatusCode::FORBIDDEN,
            ErrorType::ResourceNotFound
            | ErrorType::UnknownOperation
            | ErrorType::ChannelNotBroadcasting => StatusCode::NOT_FOUND,
            ErrorType::Conflict => StatusCode::CONFLICT,
            ErrorType::ServiceQuotaExceeded => StatusCode::PAYMENT_REQUIRED,
            ErrorType::InternalServer => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorType::NotImplemented => StatusCode::NOT_IMPLEMENTED,
            ErrorType::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorType::StreamUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

/// A failed control-plane call: its type and a message naming the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", kind.name())]
pub struct ApiError {
    pub kind: ErrorType,
    pub message: String,
}

/// Result of every operation.
pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(kind: ErrorType, message: impl Into<String>) -> Self {
        ApiError { kind, message: message.into() }
    }

    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(ErrorType::Validation, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorType::ResourceNotFound, message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorType::Conflict, message)
    }

    pub fn quota(message: impl Into<String>) -> Self {
        Self::new(ErrorType::ServiceQuotaExceeded, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorType::InternalServer, message)
    }

    /// Maps a store failure that the operation did not handle itself. Backend details are
    /// logged, not sent: they may name hosts or SQL.
    pub fn from_store(err: StoreError, what: &str) -> Self {
        match err {
            StoreError::NotFound => Self::not_found(format!("{what} not found")),
            StoreError::Conflict(m) => Self::conflict(m),
            StoreError::QuotaExceeded(m) => Self::quota(m),
            StoreError::Config(m) | StoreError::Backend(m) => {
                tracing::error!(error = %m, "store failure");
                Self::internal("the server could not reach its store; try again")
            }
        }
    }

    /// The JSON body every SDK can read.
    pub fn body(&self) -> serde_json::Value {
        serde_json::json!({
            "__type": self.kind.name(),
            "message": self.message,
            "exceptionMessage": self.message,
        })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.kind.status(), Json(self.body())).into_response();
        response
            .headers_mut()
            .insert("x-amzn-ErrorType", HeaderValue::from_static(self.kind.name()));
        response
    }
}
