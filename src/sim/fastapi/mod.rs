//! Answers in FastAPI's own shape (`{"detail": ...}`), shared by every simulated platform:
//! the error type handlers return, and the request-validation helpers that produce its 422s.

mod validation;

pub(crate) use validation::{Field, Kind, Query, Validator, json_body};

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

use super::SimError;

/// An error answer: a status and FastAPI's `detail` (a message, or a list of validation
/// issues).
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    detail: Value,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, message: &str) -> ApiError {
        ApiError {
            status,
            detail: Value::from(message),
        }
    }

    pub(crate) fn not_found(message: &str) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, message)
    }

    /// 422, as FastAPI answers a `RequestValidationError`.
    pub(crate) fn validation(issues: Vec<Value>) -> ApiError {
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            detail: Value::Array(issues),
        }
    }
}

impl From<SimError> for ApiError {
    /// The only `SimError` a request can meet is a failed save; the client gets a plain 500 and
    /// the details go to the log, as a real service would do.
    fn from(err: SimError) -> ApiError {
        tracing::error!(error = %err, cause = ?std::error::Error::source(&err), "request failed");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({ "detail": self.detail }))).into_response()
    }
}

/// An error in FastAPI's shape, as the shared layers answer it for workfx and Agent Workflows
/// (see [`ErrorAnswer`](crate::sim::error::ErrorAnswer)).
pub(crate) fn error_answer(status: StatusCode, message: &str) -> Response {
    ApiError::new(status, message).into_response()
}

/// Starlette's answer for a path that no route matches.
pub(crate) async fn not_found() -> ApiError {
    ApiError::not_found("Not Found")
}

/// Starlette's answer for a known path with a method it does not serve (axum keeps `Allow`).
pub(crate) async fn method_not_allowed() -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed")
}

/// One path parameter as text; a path that cannot be decoded is answered in FastAPI's shape.
pub(crate) struct PathParam(pub String);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for PathParam {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<PathParam, ApiError> {
        axum::extract::Path::<String>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| PathParam(value))
            .map_err(|rejection| ApiError::new(rejection.status(), &rejection.body_text()))
    }
}
