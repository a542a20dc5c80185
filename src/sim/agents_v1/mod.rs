//! The Agents v1 platform (voice and text agents, under `/v1/agents`): its routes, and which
//! of them change state. Implements `shared/api/agents-v1.md` and, where it is silent, exactly
//! items 1 to 11 of `docs/agents-v1-contract.md`. This is the one place in the simulator where
//! those assumptions live. (Items 12 to 14, agentsync's inventory agent, are the client's:
//! here it is an agent like any other.)
//!
//! The contract, briefly (its item numbers in brackets):
//! - [1] paths at the API root; bearer token (401 through the shared layer); no tenancy.
//! - [2] the envelope: `{"success": true, "data"}` (the list adds `pagination`), or
//!   `{"success": false, "error": {"code", "message"}}`, with `details: [{"field",
//!   "message"}]` on a 400 (see [`envelope`]), for every answer of the platform's routes,
//!   those of the shared layers too (401, 404 and 405 for an unknown route or method, the
//!   injected 5xx and 429 with `Retry-After`).
//! - [3] `400 validation_error`, `401 unauthorized`, `403 forbidden`, `404 not_found`,
//!   `429 rate_limited`. The 403: with the member token (`SimOptions::member_token`), an
//!   update or delete of a `public` or `commercial` agent.
//! - [4] ids `agent_` and 10 lowercase letters and digits, never reused (made from the count
//!   of agents ever created, kept in the state file); any id naming no agent is a 404.
//! - [5] `GET /v1/agents?page&limit&mode`: creation order, oldest first; `page` from 1,
//!   `limit` 1 to 100 (default 20), else 400; summary items `{id, name, mode,
//!   agentArchitecture, active, createdAt}`; `pagination: {page, total, hasNext}`.
//! - [6] get: the full agent (id, every writable field ever set, createdAt, updatedAt).
//! - [7] create: 201 with the full agent; the docs' table of required fields per
//!   architecture; `active: false` whatever the body says; `mode` `private` when not given.
//! - [8] update (PATCH): the fields sent replace those of the agent, the rest are kept; 200
//!   with the full agent; `agentArchitecture` cannot change; live at once (no drafts).
//! - [9] the writable fields and their types (see [`schema`]); any other body field is a 400.
//! - [10] delete: permanent, `{"data": {"message": "Agent deleted successfully"}}`; again,
//!   404. [11] names are not unique.
//! - writes (`/_sim/requests`): create, update, delete.
//!
//! Further decisions of the simulator, where both texts are silent:
//! - timestamps are RFC 3339 UTC in whole seconds (`2024-01-15T10:30:00Z`), as the docs show
//!   them; every successful update sets `updatedAt`, even one that changes no value;
//! - a field never set is left out of the agent (not `null`); the full agent lists the set
//!   fields in the docs' order, `realtimeProvider` after `voiceId`;
//! - `null` is refused for every field (a 400 saying to leave the field out), as is a blank
//!   string for a field the architecture requires (in a create, and in an agent as an update
//!   would leave it); fields the architecture does not use (`stt` on a text agent) are kept;
//! - an update sending the agent's own `agentArchitecture` is no change, and is accepted; an
//!   update with an empty object is a 400, and so is a create or update without a body;
//! - an update is checked in the order 400 (the request), 404, 403, 400 (the agent it would
//!   make); a delete 404, then 403; a member may update or delete any private agent (the
//!   simulator has no users to tell who created one), and the 403 looks at the mode the agent
//!   has, so a member may make a private agent public (and then no longer change it); a
//!   member may create agents of any mode;
//! - the list's documented `mode` filter works (one of the three modes, else 400); `total`
//!   counts what the filter keeps; a page past the end is empty, with the true total;
//! - unknown query parameters are refused (400), on every route, like everywhere in the
//!   simulator; a body sent to get or delete is ignored;
//! - the list's answer faults ([`Faults::agent_list`](crate::sim::Faults::agent_list)) apply:
//!   see [`paging::Page::answer`]; the other answer faults concern other platforms.

mod agents;
mod entities;
mod envelope;
mod paging;
mod schema;

use std::sync::Arc;

use axum::{Router, http::Method, response::Response, routing::get};

use self::{entities::AgentsV1State, envelope::V1Error};
use super::{
    Clock, SimError, SimOptions, faults::FaultInjector, persist::StateFile, platform::PlatformApi,
    store::Store,
};

pub(crate) const NAME: &str = "agents-v1";

const AGENTS: &str = "/v1/agents";
const AGENT: &str = "/v1/agents/{id}";

/// The routes that change state.
const WRITES: [(Method, &str); 3] = [
    (Method::POST, AGENTS),
    (Method::PATCH, AGENT),
    (Method::DELETE, AGENT),
];

type Answer = Result<Response, V1Error>;

/// The shared state of the Agents v1 handlers.
#[derive(Debug)]
pub(crate) struct AgentsV1 {
    store: Arc<Store<AgentsV1State>>,
    clock: Clock,
    /// For the answer faults of the list.
    faults: Arc<FaultInjector>,
}

impl AgentsV1 {
    fn now(&self) -> String {
        self.clock.now_rfc3339_seconds()
    }
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
    let store = Arc::new(Store::<AgentsV1State>::open(file, options.saving)?);
    let app = Arc::new(AgentsV1 {
        store: store.clone(),
        clock: options.clock.clone(),
        faults,
    });
    let router = Router::new()
        .route(AGENTS, get(agents::list).post(agents::create))
        .route(
            AGENT,
            get(agents::get)
                .patch(agents::update)
                .delete(agents::delete),
        )
        .with_state(app);
    Ok(PlatformApi {
        router,
        snapshot: store,
        is_write,
        error: envelope::error_answer,
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
    fn create_update_and_delete_are_writes_and_reads_are_not() {
        assert!(is_write(&Method::POST, AGENTS));
        assert!(is_write(&Method::PATCH, AGENT));
        assert!(is_write(&Method::DELETE, AGENT));
        assert!(!is_write(&Method::GET, AGENTS));
        assert!(!is_write(&Method::GET, AGENT));
        assert!(!is_write(&Method::PUT, AGENT));
    }
}
