//! The `/_sim` routes, for tests and debugging; never counted, never faulted, never
//! authenticated:
//!
//! - `GET /_sim/requests`: [`RequestCounts`](super::RequestCounts) as JSON;
//! - `POST /_sim/reset`: zeroes the counters (not the state);
//! - `GET /_sim/state`: `{"platform": "...", "state": {...}}`, the state as saved;
//! - `GET /_sim/faults`, `PUT /_sim/faults`: read or replace the [`Faults`] (a PUT restarts
//!   the generator from the given seed; fields left out take their "no fault" value).

use std::sync::Arc;

use axum::{
    Json, Router,
    body::Bytes,
    extract::{State, rejection::BytesRejection},
    http::StatusCode,
    routing::{any, get, post},
};
use serde_json::{Value, json};

use super::{
    Faults,
    fastapi::{self, ApiError, json_body},
    platform::Control,
};

pub(crate) fn router(control: Arc<Control>) -> Router {
    Router::new()
        .route("/_sim/requests", get(requests))
        .route("/_sim/reset", post(reset))
        .route("/_sim/state", get(state))
        .route("/_sim/faults", get(faults).put(set_faults))
        .route("/_sim/{*rest}", any(fastapi::not_found))
        .method_not_allowed_fallback(fastapi::method_not_allowed)
        .with_state(control)
}

async fn requests(State(control): State<Arc<Control>>) -> Json<Value> {
    Json(json!(control.requests.counts()))
}

async fn reset(State(control): State<Arc<Control>>) -> Json<Value> {
    control.requests.reset();
    Json(json!({}))
}

async fn state(State(control): State<Arc<Control>>) -> Json<Value> {
    let state = control.state.snapshot().await;
    Json(json!({ "platform": control.platform.name(), "state": state }))
}

async fn faults(State(control): State<Arc<Control>>) -> Json<Value> {
    Json(json!(control.faults.faults()))
}

async fn set_faults(
    State(control): State<Arc<Control>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let body = json_body(body)?.unwrap_or_else(|| json!({}));
    let unprocessable = |message: String| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, &message);
    let faults: Faults =
        serde_json::from_value(body).map_err(|err| unprocessable(err.to_string()))?;
    faults
        .validate()
        .map_err(|err| unprocessable(err.to_string()))?;
    control.faults.set(faults.clone());
    Ok(Json(json!(faults)))
}
