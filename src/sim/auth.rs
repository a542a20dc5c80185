//! The bearer-token check in front of a platform's routes, answering 401 as FastAPI's
//! `HTTPBearer` does.

use std::sync::Arc;

use axum::{
    extract::{Request, State},
    http::header,
    middleware::Next,
    response::{IntoResponse, Response},
};

use super::fastapi::ApiError;

pub(crate) async fn require_bearer(
    State(token): State<Arc<str>>,
    request: Request,
    next: Next,
) -> Response {
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok());
    let Some(given) = given else {
        return ApiError::unauthorized("Not authenticated").into_response();
    };
    let presented = given
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, credentials)| credentials.trim());
    if presented == Some(&*token) {
        next.run(request).await
    } else {
        ApiError::unauthorized("Invalid authentication credentials").into_response()
    }
}
