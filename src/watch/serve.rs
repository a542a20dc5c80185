//! The daemon's HTTP face: `/healthz` (the process serves and is not shutting down), `/readyz`
//! (in step: see [`Status::unready`] for every reason it is not), `/metrics` (Prometheus text).

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;

use super::metrics::{Limits, Status};

/// What the handlers read.
#[derive(Clone)]
pub struct Shared {
    pub status: Arc<Mutex<Status>>,
    pub limits: Limits,
}

impl Shared {
    pub fn with<T>(&self, f: impl FnOnce(&mut Status) -> T) -> T {
        // A panic while holding the lock leaves counters that are still worth serving.
        let mut guard = self.status.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut guard)
    }
}

pub fn router(shared: Shared) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(shared)
}

async fn healthz(State(shared): State<Shared>) -> impl IntoResponse {
    if shared.with(|s| s.stopping) {
        (StatusCode::SERVICE_UNAVAILABLE, "stopping\n")
    } else {
        (StatusCode::OK, "ok\n")
    }
}

/// 200 `ready`, or 503 with one reason a line.
async fn readyz(State(shared): State<Shared>) -> impl IntoResponse {
    let reasons = shared.with(|s| s.unready(shared.limits));
    if reasons.is_empty() {
        return (StatusCode::OK, "ready\n".to_string());
    }
    let text: String = reasons.iter().map(|r| format!("{r}\n")).collect();
    (StatusCode::SERVICE_UNAVAILABLE, text)
}

async fn metrics(State(shared): State<Shared>) -> impl IntoResponse {
    let text = shared.with(|s| s.render(shared.limits));
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
}
