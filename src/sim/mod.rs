//! The embedded platform simulator: each platform's API served over real HTTP on loopback, with
//! state saved atomically to a file, FastAPI-style validation errors, request counting and
//! seeded fault injection. It is the other side of the wire from `crate::provider`, and imports
//! nothing from it: sharing types with the client would hide contract bugs.
//!
//! ```no_run
//! # async fn demo() -> Result<(), agentsync::sim::SimError> {
//! let sim = agentsync::sim::start(agentsync::sim::SimOptions::loopback()).await?;
//! let url = format!("{}/admin/api/v2/agents", sim.base_url());
//! # let _ = url;
//! sim.shutdown().await.expect("the simulator stops");
//! # Ok(()) }
//! ```
//!
//! Layout: platform-neutral parts here (`server`, `app`, `store`, `persist`, `faults`,
//! `requests`, `auth`, `fastapi`, `admin`, `clock`, and `platform`: what each platform hands
//! over); one module per platform beside them (`workfx`, `agent_workflows`, `agents_v1`). Each
//! platform module's doc lists its own assumptions; Agent Workflows follows
//! `docs/agent-workflows-contract.md`, Agents v1 `docs/agents-v1-contract.md`.
//!
//! Decisions where the vendor docs are silent (beyond `shared/api/README.md`), for the FastAPI
//! platforms (Agents v1 answers in its own envelope, with 400s where these are 422s: see its
//! module):
//! - unknown body fields and unknown query parameters are refused with 422 `extra_forbidden`
//!   (pydantic would ignore them, but the simulator exists to catch contract bugs);
//! - a non-UUID agent id is a 422 `uuid_parsing` at `["path", "agent_id"]` (workfx); a
//!   non-integer workflow id a 422 `int_parsing` at `["path", "id"]` (Agent Workflows);
//! - a wrong or missing tenant, when the simulator is pinned to one, is a 403 (workfx; the
//!   tenant options are refused for a platform without tenancy);
//! - `--drop-rate` drops after the request was applied (outcome unknown to the client);
//!   `--drop-before-rate` drops before anything happened;
//! - where the docs read two ways (`shared/api/README.md`, "known ambiguities"), the reading is
//!   chosen by [`Readings`] (workfx: a `PUT` merging or replacing, the version list draft
//!   first or by creation); the answer faults of [`Faults`] break answers in ways a client
//!   must refuse (lists without paging fields, without items, ending early, repeating, with a
//!   huge `total_pages`; oversized answers; a create that keeps no `extend_properties`);
//! - writes (`/_sim/requests`) are the requests to routes that change state (workfx: create,
//!   update, delete, write the draft, publish; not the invocations; Agent Workflows: see its
//!   module), counted when received, whatever their outcome (a 422, a fault, a drop).

mod admin;
mod agent_workflows;
mod agents_v1;
mod app;
mod auth;
mod clock;
mod error;
mod fastapi;
mod faults;
mod options;
mod persist;
mod platform;
mod requests;
mod server;
mod store;
mod workfx;

pub use clock::Clock;
pub use error::SimError;
pub use options::{
    Faults, FlowOrder, ListShape, Platform, Readings, Saving, SimOptions, UpdateReading,
};
pub use requests::RequestCounts;
pub use server::{RunningSim, run_until_signal, start};
