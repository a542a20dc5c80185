//! The daemon's HTTP face: `/healthz` (the loop runs), `/readyz` (synced, platform reachable),
//! `/metrics` (Prometheus text).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;

use super::metrics::Status;

/// What the handlers read.
#[derive(Clone)]
pub struct Shared {
    pub status: Arc<Mutex<Status>>,
    pub unready_after: Duration,
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

async fn readyz(State(shared): State<Shared>) -> impl IntoResponse {
    let (ready, synced) = shared.with(|s| (s.ready(shared.unready_after), s.synced_once));
    match (ready, synced) {
        (true, _) => (StatusCode::OK, "ready\n"),
        (false, false) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "no full sync has succeeded yet\n",
        ),
        (false, true) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "the platform has been unreachable for too long\n",
        ),
    }
}

async fn metrics(State(shared): State<Shared>) -> impl IntoResponse {
    let text = shared.with(|s| s.metrics.render(s.ready(shared.unready_after)));
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
}
