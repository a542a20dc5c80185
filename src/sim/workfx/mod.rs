//! The workfx platform (`https://api.workfx.ai`, under `/admin/api/v2`): its routes, and which
//! of them change state. Implements the docs in `shared/api/workfx-*.md` and, where they are
//! silent, exactly the assumptions of `shared/api/README.md`:
//!
//! - agents: create (200), list (paginated, filtered), get by id or code, update (PUT;
//!   `status` archives and restores; partial, or replacing under [`UpdateReading::Replace`]),
//!   delete (answers `{}`, removes the flows too);
//! - flows: write the draft (201, creates or replaces), read it (404 until written), publish
//!   (copies the draft into version "1", "2", ...; 404 without a draft), list (draft first,
//!   then newest first; or by creation, under [`FlowOrder::ByCreation`]), run the draft (404
//!   without one);
//! - invoke: chat, chat/resume, job, answering a deterministic JSON string that echoes the input.
//!
//! Errors: see [`crate::sim::fastapi`]; a non-UUID `agent_id` is a 422 `uuid_parsing`, as
//! FastAPI answers for a `UUID` path parameter (the flows docs declare `format: uuid`).

mod agents;
mod entities;
mod flows;
mod invoke;
mod paging;
mod schema;
mod tenancy;

use std::sync::Arc;

use axum::{
    Router,
    http::Method,
    routing::{get, post},
};

use self::{
    entities::{Scope, WorkfxState},
    tenancy::Tenancy,
};
use super::{
    Clock, Readings, SimError, SimOptions,
    fastapi::{self, ApiError, Query, Validator},
    faults::FaultInjector,
    persist::StateFile,
    platform::PlatformApi,
    store::Store,
};
#[cfg(doc)]
use super::{FlowOrder, UpdateReading};

pub(crate) const NAME: &str = "workfx";

const AGENTS: &str = "/admin/api/v2/agents";
const AGENT_BY_CODE: &str = "/admin/api/v2/agents/code/{agent_code}";
const AGENT: &str = "/admin/api/v2/agents/{agent_id}";
const FLOWS: &str = "/admin/api/v2/agents/{agent_id}/flows";
const DRAFT: &str = "/admin/api/v2/agents/{agent_id}/flows/draft";
const PUBLISH: &str = "/admin/api/v2/agents/{agent_id}/flows/publish";
const DRAFT_RUNS: &str = "/admin/api/v2/agents/{agent_id}/flows/draft/runs";
const CHAT: &str = "/admin/api/v2/agents/{agent_id}/chat";
const CHAT_RESUME: &str = "/admin/api/v2/agents/{agent_id}/chat/resume";
const JOB: &str = "/admin/api/v2/agents/{agent_id}/job";

/// The routes that change state. Invocations (chat, job, draft runs) are POSTs that change
/// nothing, so they are not here.
const WRITES: [(Method, &str); 5] = [
    (Method::POST, AGENTS),
    (Method::PUT, AGENT),
    (Method::DELETE, AGENT),
    (Method::POST, FLOWS),
    (Method::POST, PUBLISH),
];

/// The shared state of the workfx handlers.
#[derive(Debug)]
pub(crate) struct Workfx {
    store: Arc<Store<WorkfxState>>,
    tenancy: Tenancy,
    clock: Clock,
    max_page_size: u32,
    readings: Readings,
    /// For the answer faults of the lists and of create.
    faults: Arc<FaultInjector>,
}

impl Workfx {
    /// What every handler does first: read the query and check the tenant (a 403 comes before
    /// any 422, as a FastAPI dependency would raise it).
    fn begin(&self, raw_query: Option<String>) -> Result<(Scope, Query, Validator), ApiError> {
        let query = Query::parse(raw_query.as_deref());
        let scope = self.tenancy.scope(&query)?;
        Ok((scope, query, Validator::new()))
    }

    fn now(&self) -> String {
        self.clock.now_rfc3339()
    }
}

fn agent_not_found() -> ApiError {
    ApiError::not_found("Agent not found")
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
    let store = Arc::new(Store::<WorkfxState>::open(file, options.saving)?);
    let workfx = Arc::new(Workfx {
        store: store.clone(),
        tenancy: Tenancy {
            tenant_id: options.tenant_id.clone(),
            tenant_unit_id: options.tenant_unit_id.clone(),
        },
        clock: options.clock.clone(),
        max_page_size: options.max_page_size,
        readings: options.readings,
        faults,
    });
    let router = Router::new()
        .route(AGENTS, get(agents::list).post(agents::create))
        .route(AGENT_BY_CODE, get(agents::get_by_code))
        .route(
            AGENT,
            get(agents::get).put(agents::update).delete(agents::delete),
        )
        .route(FLOWS, get(flows::list).post(flows::write_draft))
        .route(DRAFT, get(flows::get_draft))
        .route(PUBLISH, post(flows::publish))
        .route(DRAFT_RUNS, post(invoke::run_draft))
        .route(CHAT, post(invoke::chat))
        .route(CHAT_RESUME, post(invoke::resume))
        .route(JOB, post(invoke::job))
        .with_state(workfx);
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
    fn invocations_are_not_writes_but_publishing_is() {
        assert!(is_write(&Method::POST, PUBLISH));
        assert!(is_write(&Method::DELETE, AGENT));
        assert!(!is_write(&Method::POST, CHAT));
        assert!(!is_write(&Method::POST, DRAFT_RUNS));
        assert!(!is_write(&Method::GET, AGENTS));
        assert!(!is_write(&Method::PATCH, AGENT));
    }
}
