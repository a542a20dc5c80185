//! The bearer-token check in front of a platform's routes, answering 401 as FastAPI's
//! `HTTPBearer` does (in the platform's own wording of errors), and telling the handlers whose
//! token it was ([`Role`]).

use std::sync::Arc;

use axum::{
    extract::{Request, State},
    http::{HeaderValue, StatusCode, header},
    middleware::Next,
    response::Response,
};

use super::error::ErrorAnswer;

/// The tokens a platform request may carry, and how the platform words the 401.
#[derive(Debug, Clone)]
pub(crate) struct Credentials {
    /// An org owner's or admin's: may do everything.
    pub token: Arc<str>,
    /// An org member's (Agents v1 only; `SimOptions::validate` refuses it elsewhere).
    pub member_token: Option<Arc<str>>,
    pub error: ErrorAnswer,
}

/// Whose token a request carried, as a request extension for the handlers. Without a token
/// configured there is no check and no extension: every request is then an admin's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Role {
    #[default]
    Admin,
    Member,
}

pub(crate) async fn require_bearer(
    State(credentials): State<Credentials>,
    mut request: Request,
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
    let role = match presented {
        Some(token) if token == &*credentials.token => Role::Admin,
        Some(token) if credentials.member_token.as_deref() == Some(token) => Role::Member,
        _ => return unauthorized(&credentials, "Invalid authentication credentials"),
    };
    request.extensions_mut().insert(role);
    next.run(request).await
}

/// 401 with the challenge header that FastAPI's `HTTPBearer` sends.
fn unauthorized(credentials: &Credentials, message: &str) -> Response {
    let mut response = (credentials.error)(StatusCode::UNAUTHORIZED, message);
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}
