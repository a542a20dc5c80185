//! The Agent Workflows platform (voice agents, "workflows" in the API, under `/workflow`): its
//! routes, and which of them change state. Implements `shared/api/agent-workflows.md` and,
//! where it is silent, exactly `docs/agent-workflows-contract.md`. This is the one place in the
//! simulator where those assumptions live.
//!
//! The contract, briefly (its item numbers in brackets):
//! - [1] paths at the API root; bearer token (401 through the shared layer); no tenancy.
//! - [2] integer ids 1, 2, 3, ... never reused (the last id is kept in the state file), and a
//!   server `uuid`; a non-integer path id is a 422 `int_parsing` at `["path", "id"]`; an unknown
//!   one a 404 `{"detail": "Workflow not found"}`.
//! - [3] `GET /workflow/fetch?status=active|archived|all` (default `active`, else 422 `enum`):
//!   every match in one answer, by id, without configuration or definition.
//! - [4] `GET /workflow/fetch/{id}`: the full agent; `definition` is the live one (`null` before
//!   the first publish), `draft_definition` the open draft (`null` when none), and
//!   `node_count` / `trigger_paths` describe the draft when one is open, else the live one.
//! - [5] create: `name` (non-empty), `definition`, `configuration`? (objects); the definition
//!   becomes the open draft; `active`, no folder, nothing published; answers the full agent.
//! - [6] `PUT /workflow/{id}`: `name` and `configuration` (replaced whole) at once; `definition`
//!   replaces the open draft, and without one the whole request is a 409 that changes nothing.
//! - [7] create-draft copies the live definition; 409 when a draft is open.
//! - [8] publish makes the draft version 1, 2, ... and closes it; 409 without a draft; an
//!   invalid draft is a 400 whose body is the validation report; nothing changes then.
//! - [9] validate checks the draft, else the live definition: see [`rules`].
//! - [10] versions: `limit` 1 to 100 (default 20), `offset` 0 or more, newest first,
//!   `{"versions": [...], "total"}`; the draft is not a version.
//! - [11] status archives and restores, never publishes. [12] folder: any positive integer,
//!   or `null`. [13] no delete. [14] `configuration` verbatim.
//! - [16] writes (`/_sim/requests`): create, update, create-draft, publish, status, folder,
//!   duplicate; validate is not one.
//!
//! Further decisions of the simulator, where both texts are silent:
//! - timestamps are RFC 3339 UTC in whole seconds (`2026-05-01T10:00:00Z`), as the docs show
//!   them; every successful write sets `updated_at`, even one that changes no value;
//! - publish and create-draft answer `200` with the full agent (as create-draft, update,
//!   status and folder do); publishing an archived workflow is allowed (status and versions
//!   are independent); a check fails in the order 422, 404, 409, 400;
//! - `name` in an update must be non-empty, as in create; an update body of `{}` is a 422
//!   `value_error` at `["body"]`, an absent body a 422 `missing`; `null` is refused for
//!   `name`, `definition` and `configuration` (`configuration` may be left out, not nulled);
//! - `folder_id` must be present (`null` or an integer above 0; `0`, `"5"`, `5.0` are 422s);
//! - each version's `author` is `"agentsync-sim"`; `is_published` is true for the newest
//!   version, which is always the live one (nothing rolls back);
//! - `GET /workflow/count` answers `{"active", "archived", "total"}`; `GET /workflow/summary`
//!   answers `{"workflows": [{"id", "name"}]}` by id and takes the list's `status` filter;
//! - `POST /workflow/{id}/duplicate` (no body) makes a new workflow named `"<name> (copy)"`, in
//!   the same folder, `active`, with the source's configuration (its agentsync marker too)
//!   and its current definition (draft, else live) as the open draft, nothing published;
//!   answers `{"workflow_id": N}`;
//! - routes without a body ignore one (as a FastAPI route with no body parameter does);
//!   unknown query parameters are refused like everywhere in the simulator;
//! - `trigger_paths` lists the string trigger paths in node order, duplicates included;
//! - templates (`GET /workflow/templates`, `POST /workflow/create/template`,
//!   `POST /workflow/templates/duplicate`), the CSV report and the ambient-noise upload URL
//!   answer `501` with a `detail` naming the route (see [`unsupported`]); they are not writes.

mod entities;
mod rules;
mod schema;
mod unsupported;
mod versions;
mod workflows;

use std::sync::Arc;

use axum::{
    Json, Router,
    http::{Method, StatusCode},
    routing::{get, post, put},
};
use serde_json::Value;

use self::entities::AgentWorkflowsState;
use super::{
    Clock, SimError, SimOptions,
    fastapi::{self, ApiError, Query, Validator},
    faults::FaultInjector,
    persist::StateFile,
    platform::PlatformApi,
    store::Store,
};

pub(crate) const NAME: &str = "agent-workflows";

const LIST: &str = "/workflow/fetch";
const GET: &str = "/workflow/fetch/{id}";
const CREATE: &str = "/workflow/create/definition";
const WORKFLOW: &str = "/workflow/{id}";
const STATUS: &str = "/workflow/{id}/status";
const FOLDER: &str = "/workflow/{id}/folder";
const DUPLICATE: &str = "/workflow/{id}/duplicate";
const VALIDATE: &str = "/workflow/{id}/validate";
const PUBLISH: &str = "/workflow/{id}/publish";
const CREATE_DRAFT: &str = "/workflow/{id}/create-draft";
const VERSIONS: &str = "/workflow/{id}/versions";
const COUNT: &str = "/workflow/count";
const SUMMARY: &str = "/workflow/summary";

const CREATE_FROM_TEMPLATE: &str = "/workflow/create/template";
const DUPLICATE_TEMPLATE: &str = "/workflow/templates/duplicate";
const TEMPLATES: &str = "/workflow/templates";
const REPORT: &str = "/workflow/{id}/report";
const AMBIENT_NOISE_UPLOAD: &str = "/workflow/ambient-noise/upload-url";

/// The routes that change state (contract item 16). Validate is a POST that changes nothing.
const WRITES: [(Method, &str); 7] = [
    (Method::POST, CREATE),
    (Method::PUT, WORKFLOW),
    (Method::POST, CREATE_DRAFT),
    (Method::POST, PUBLISH),
    (Method::PUT, STATUS),
    (Method::PUT, FOLDER),
    (Method::POST, DUPLICATE),
];

type Answer = Result<Json<Value>, ApiError>;

/// The shared state of the Agent Workflows handlers.
#[derive(Debug)]
pub(crate) struct AgentWorkflows {
    store: Arc<Store<AgentWorkflowsState>>,
    clock: Clock,
    /// For the answer faults of the list.
    faults: Arc<FaultInjector>,
}

impl AgentWorkflows {
    /// What every handler does first: read the query, and start collecting 422 issues.
    fn begin(&self, raw_query: Option<String>) -> (Query, Validator) {
        (Query::parse(raw_query.as_deref()), Validator::new())
    }

    fn now(&self) -> String {
        self.clock.now_rfc3339_seconds()
    }

    /// What a route on one workflow that takes neither a query nor a body checks first: its id
    /// (and that no query parameter was sent).
    fn workflow_id(&self, raw_query: Option<String>, raw_id: &str) -> Result<i64, ApiError> {
        let (query, mut validator) = self.begin(raw_query);
        let id = validator.path_int("id", raw_id);
        validator.query_known(&query, schema::NO_QUERY);
        validator.finish()?;
        Ok(id)
    }
}

fn workflow_not_found() -> ApiError {
    ApiError::not_found("Workflow not found")
}

fn conflict(message: &str) -> ApiError {
    ApiError::new(StatusCode::CONFLICT, message)
}

/// Loads the state and builds the routes.
pub(crate) fn api(
    options: &SimOptions,
    faults: Arc<FaultInjector>,
) -> Result<PlatformApi, SimError> {
    let file = options
        .state_file
        .clone()
        .map(|path| StateFile::new(path, NAME));
    let store = Arc::new(Store::<AgentWorkflowsState>::open(file, options.saving)?);
    let app = Arc::new(AgentWorkflows {
        store: store.clone(),
        clock: options.clock.clone(),
        faults,
    });
    let router = Router::new()
        .route(LIST, get(workflows::list))
        .route(GET, get(workflows::get))
        .route(CREATE, post(workflows::create))
        .route(WORKFLOW, put(workflows::update))
        .route(STATUS, put(workflows::set_status))
        .route(FOLDER, put(workflows::move_to_folder))
        .route(DUPLICATE, post(workflows::duplicate))
        .route(COUNT, get(workflows::count))
        .route(SUMMARY, get(workflows::summary))
        .route(VALIDATE, post(versions::validate))
        .route(PUBLISH, post(versions::publish))
        .route(CREATE_DRAFT, post(versions::create_draft))
        .route(VERSIONS, get(versions::list))
        .route(CREATE_FROM_TEMPLATE, post(unsupported::not_simulated))
        .route(DUPLICATE_TEMPLATE, post(unsupported::not_simulated))
        .route(TEMPLATES, get(unsupported::not_simulated))
        .route(REPORT, get(unsupported::not_simulated))
        .route(AMBIENT_NOISE_UPLOAD, post(unsupported::not_simulated))
        .with_state(app);
    Ok(PlatformApi {
        router,
        snapshot: store,
        is_write,
        error: fastapi::error_answer,
    })
}

/// Whether a request to this route can change state (whatever its outcome).
fn is_write(method: &Method, template: &str) -> bool {
    super::platform::listed_write(&WRITES, method, template)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validating_and_reading_are_not_writes_but_publishing_and_duplicating_are() {
        assert!(is_write(&Method::POST, PUBLISH));
        assert!(is_write(&Method::POST, DUPLICATE));
        assert!(is_write(&Method::PUT, WORKFLOW));
        assert!(!is_write(&Method::POST, VALIDATE));
        assert!(!is_write(&Method::GET, LIST));
        assert!(!is_write(&Method::POST, CREATE_FROM_TEMPLATE));
    }
}
