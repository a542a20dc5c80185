//! Counts the platform requests a simulator received, by route template and by status, so that
//! tests can assert how many calls (and writes) a client made.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex, PoisonError},
};

use axum::{
    extract::{MatchedPath, Request, State},
    http::Method,
    middleware::Next,
    response::Response,
};
use serde::{Deserialize, Serialize};

use super::faults::DropConnection;

/// The answer of `GET /_sim/requests`.
///
/// - `total`: every request to the platform API, whatever its outcome.
/// - `writes`: those to routes that change state (see the platform's classification), counted
///   when received, whether or not they succeeded.
/// - `dropped`: those whose connection was closed without an answer (not in `by_status`).
/// - `by_route`: `"<METHOD> <route template>"`, e.g. `"GET /admin/api/v2/agents/{agent_id}"`.
/// - `by_status`: the status answered, as a string (`"200"`, `"429"`).
/// - `unmatched`: `"<METHOD> <path>"` of requests that matched no route (404), to spot a
///   client's typo.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestCounts {
    pub total: u64,
    pub writes: u64,
    pub dropped: u64,
    pub by_route: BTreeMap<String, u64>,
    pub by_status: BTreeMap<String, u64>,
    pub unmatched: BTreeMap<String, u64>,
}

impl RequestCounts {
    /// How many requests hit `"<METHOD> <route template>"`.
    pub fn route(&self, route: &str) -> u64 {
        self.by_route.get(route).copied().unwrap_or(0)
    }

    /// How many answers had this status.
    pub fn status(&self, status: u16) -> u64 {
        self.by_status
            .get(&status.to_string())
            .copied()
            .unwrap_or(0)
    }
}

/// Tells which routes change state; each platform has its own.
pub(crate) type WriteClassifier = fn(&Method, &str) -> bool;

#[derive(Debug)]
pub(crate) struct RequestLog {
    counts: Mutex<RequestCounts>,
    is_write: WriteClassifier,
}

impl RequestLog {
    pub(crate) fn new(is_write: WriteClassifier) -> RequestLog {
        RequestLog {
            counts: Mutex::new(RequestCounts::default()),
            is_write,
        }
    }

    pub(crate) fn counts(&self) -> RequestCounts {
        self.lock().clone()
    }

    pub(crate) fn reset(&self) {
        *self.lock() = RequestCounts::default();
    }

    // A panic while counting cannot leave the counters inconsistent in a way that matters.
    fn lock(&self) -> std::sync::MutexGuard<'_, RequestCounts> {
        self.counts.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn record(&self, method: &Method, route: Result<&str, &str>, outcome: Outcome) {
        let mut counts = self.lock();
        counts.total += 1;
        match route {
            Ok(template) => {
                if (self.is_write)(method, template) {
                    counts.writes += 1;
                }
                *counts
                    .by_route
                    .entry(format!("{method} {template}"))
                    .or_default() += 1;
            }
            Err(path) => {
                *counts
                    .unmatched
                    .entry(format!("{method} {path}"))
                    .or_default() += 1
            }
        }
        match outcome {
            Outcome::Dropped => counts.dropped += 1,
            Outcome::Answered(status) => {
                *counts.by_status.entry(status.to_string()).or_default() += 1
            }
        }
    }
}

enum Outcome {
    Answered(u16),
    Dropped,
}

/// Middleware, outermost on the platform routes, so it sees what the client sees.
pub(crate) async fn count(
    State(log): State<Arc<RequestLog>>,
    request: Request,
    next: Next,
) -> Response {
    let method = request.method().clone();
    let template = request.extensions().get::<MatchedPath>().cloned();
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    let outcome = if response.extensions().get::<DropConnection>().is_some() {
        Outcome::Dropped
    } else {
        Outcome::Answered(response.status().as_u16())
    };
    let route = match &template {
        Some(template) => Ok(template.as_str()),
        None => Err(path.as_str()),
    };
    log.record(&method, route, outcome);
    response
}
