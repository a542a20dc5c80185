//! The Agents v1 envelope (contract items 2 and 3): `{"success": true, "data": ...}` for a
//! success, `{"success": false, "error": {"code", "message"}}` for an error, with
//! `"details": [{"field", "message"}]` on a validation error.

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Serialize;
use serde_json::{Value, json};

use crate::sim::SimError;

/// One problem of a refused request: the body field or query parameter, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Detail {
    pub field: String,
    pub message: String,
}

impl Detail {
    pub(crate) fn new(field: &str, message: impl Into<String>) -> Detail {
        Detail {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

/// An error answer of Agents v1.
#[derive(Debug)]
pub(crate) struct V1Error {
    status: StatusCode,
    message: String,
    /// Only on a validation error (400), never empty there.
    details: Vec<Detail>,
}

impl V1Error {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> V1Error {
        V1Error {
            status,
            message: message.into(),
            details: Vec::new(),
        }
    }

    /// 400 `validation_error`, its message naming every problem.
    pub(crate) fn validation(details: Vec<Detail>) -> V1Error {
        let problems: Vec<String> = details
            .iter()
            .map(|detail| format!("{} {}", detail.field, detail.message))
            .collect();
        V1Error {
            status: StatusCode::BAD_REQUEST,
            message: format!("Validation failed: {}", problems.join("; ")),
            details,
        }
    }

    pub(crate) fn agent_not_found() -> V1Error {
        V1Error::new(StatusCode::NOT_FOUND, "Agent not found")
    }
}

/// The `code` of an error (contract item 3 for 400, 401, 403, 404 and 429; the simulator's own
/// for the rest).
fn code(status: StatusCode) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST => "validation_error",
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::TOO_MANY_REQUESTS => "rate_limited",
        StatusCode::SERVICE_UNAVAILABLE => "service_unavailable",
        _ if status.is_server_error() => "internal_error",
        _ => "error",
    }
}

impl IntoResponse for V1Error {
    fn into_response(self) -> Response {
        let mut error = json!({ "code": code(self.status), "message": self.message });
        if !self.details.is_empty() {
            error["details"] = json!(self.details);
        }
        (
            self.status,
            Json(json!({ "success": false, "error": error })),
        )
            .into_response()
    }
}

impl From<SimError> for V1Error {
    /// The only `SimError` a request can meet is a failed save; the client gets a plain 500 and
    /// the details go to the log, as a real service would do.
    fn from(err: SimError) -> V1Error {
        tracing::error!(error = %err, cause = ?std::error::Error::source(&err), "request failed");
        V1Error::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
    }
}

/// An error the shared layers answer for Agents v1 (see
/// [`ErrorAnswer`](crate::sim::error::ErrorAnswer)).
pub(crate) fn error_answer(status: StatusCode, message: &str) -> Response {
    V1Error::new(status, message).into_response()
}

/// A success: `{"success": true, "data": data}`.
pub(crate) fn success(status: StatusCode, data: Value) -> Response {
    (status, Json(json!({ "success": true, "data": data }))).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_status_has_its_documented_code() {
        let codes: Vec<&str> = [400, 401, 403, 404, 429]
            .map(|status| code(StatusCode::from_u16(status).expect("a status")))
            .to_vec();
        assert_eq!(
            codes,
            [
                "validation_error",
                "unauthorized",
                "forbidden",
                "not_found",
                "rate_limited"
            ]
        );
        assert_eq!(code(StatusCode::INTERNAL_SERVER_ERROR), "internal_error");
    }

    #[test]
    fn a_validation_message_names_every_problem() {
        let error = V1Error::validation(vec![
            Detail::new("name", "is required"),
            Detail::new("temperature", "must be a number from 0 to 2"),
        ]);
        assert_eq!(
            error.message,
            "Validation failed: name is required; temperature must be a number from 0 to 2"
        );
    }
}
