//! The bearer-token check in front of a platform's routes, answering 401 as FastAPI's
//! `HTTPBearer` does (in the platform's own wording of errors).

use std::sync::Arc;

use axum::{
    extract::{Request, State},
    http::{HeaderValue, StatusCode, header},
    middleware::Next,
    response::Response,
};

use super::error::ErrorAnswer;

/// The token a platform request must carry, and how the platform words the 401.
#[derive(Debug, Clone)]
pub(crate) struct Credentials {
    pub token: Arc<str>,
    pub error: ErrorAnswer,
}

pub(crate) async fn require_bearer(
    State(credentials): State<Credentials>,
    request: Request,
    next: Next,
) -> Response {
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok());
    let Some(given) = given else {
        return unauthorized(&credentials, "Not authenticated");
    };
    let presented = given
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, credentials)| credentials.trim());
    if presented == Some(&*credentials.token) {
        next.run(request).await
    } else {
        unauthorized(&credentials, "Invalid authentication credentials")
    }
}

/// 401 with the challenge header that FastAPI's `HTTPBearer` sends.
fn unauthorized(credentials: &Credentials, message: &str) -> Response {
    let mut response = (credentials.error)(StatusCode::UNAUTHORIZED, message);
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}
