//! Assembles one simulator's HTTP application: the platform's routes wrapped in the shared
//! layers (request counting, faults, auth, FastAPI-style 404/405), beside the `/_sim` routes.

use std::sync::Arc;

use axum::{Router, extract::DefaultBodyLimit, http::StatusCode, middleware::from_fn_with_state};

use super::{
    Platform, SimError, SimOptions, admin, agent_workflows, agents_v1,
    auth::{self, Credentials},
    faults::{self, FaultInjector},
    platform::Control,
    requests::{self, RequestLog},
    workfx,
};

/// Flow graphs can be large; axum's default of 2 MiB is too tight for a platform stand-in.
const BODY_LIMIT: usize = 64 * 1024 * 1024;

pub(crate) fn build(options: &SimOptions) -> Result<(Router, Arc<Control>), SimError> {
    // The platforms read the answer faults from the injector.
    let faults = Arc::new(FaultInjector::new(options.faults.clone()));
    let api = match options.platform {
        Platform::Workfx => workfx::api(options, faults.clone())?,
        Platform::AgentWorkflows => agent_workflows::api(options, faults.clone())?,
        Platform::AgentsV1 => agents_v1::api(options, faults.clone())?,
    };
    let requests = Arc::new(RequestLog::new(api.is_write));
    let error = api.error;
    let mut platform = api.router.method_not_allowed_fallback(move || async move {
        error(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed")
    });
    if let Some(token) = &options.token {
        // A route layer: an unknown path is a 404 even without a token, as in FastAPI, where
        // the token is checked by the routes' dependencies.
        let credentials = Credentials {
            token: Arc::from(token.as_str()),
            member_token: options.member_token.as_deref().map(Arc::from),
            error,
        };
        platform = platform.route_layer(from_fn_with_state(credentials, auth::require_bearer));
    }
    let platform = platform
        .fallback(move || async move { error(StatusCode::NOT_FOUND, "Not Found") })
        .layer(from_fn_with_state((faults.clone(), error), faults::inject))
        .layer(from_fn_with_state(requests.clone(), requests::count))
        .layer(DefaultBodyLimit::max(BODY_LIMIT));
    let control = Arc::new(Control {
        platform: options.platform,
        requests,
        faults,
        state: api.snapshot,
    });
    let app = platform.merge(admin::router(control.clone()));
    Ok((app, control))
}
