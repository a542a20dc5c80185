//! Handlers that run an agent (chat, chat/resume, job) or its draft: no model behind them, a
//! deterministic JSON string that echoes the request, so tests can assert on it.

use std::sync::Arc;

use axum::{
    Json,
    body::Bytes,
    extract::{RawQuery, State, rejection::BytesRejection},
};
use serde_json::{Map, Value};

use super::{Workfx, agent_not_found, flows::draft_not_found, schema, tenancy::TENANT_PARAMS};
use crate::sim::fastapi::{ApiError, Field, PathParam, json_body};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Invocation {
    Chat,
    Resume,
    Job,
    DraftRun,
}

impl Invocation {
    fn name(self) -> &'static str {
        match self {
            Invocation::Chat => "chat",
            Invocation::Resume => "chat/resume",
            Invocation::Job => "job",
            Invocation::DraftRun => "draft run",
        }
    }

    fn schema(self) -> &'static [Field] {
        match self {
            Invocation::Resume => schema::RESUME,
            _ => schema::INVOKE,
        }
    }
}

pub(crate) async fn chat(
    state: State<Arc<Workfx>>,
    agent_id: PathParam,
    query: RawQuery,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    invoke(Invocation::Chat, state, agent_id, query, body).await
}

pub(crate) async fn resume(
    state: State<Arc<Workfx>>,
    agent_id: PathParam,
    query: RawQuery,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    invoke(Invocation::Resume, state, agent_id, query, body).await
}

pub(crate) async fn job(
    state: State<Arc<Workfx>>,
    agent_id: PathParam,
    query: RawQuery,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    invoke(Invocation::Job, state, agent_id, query, body).await
}

pub(crate) async fn run_draft(
    state: State<Arc<Workfx>>,
    agent_id: PathParam,
    query: RawQuery,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    invoke(Invocation::DraftRun, state, agent_id, query, body).await
}

async fn invoke(
    invocation: Invocation,
    State(app): State<Arc<Workfx>>,
    PathParam(agent_id): PathParam,
    RawQuery(raw_query): RawQuery,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let (scope, query, mut validator) = app.begin(raw_query)?;
    let body = json_body(body)?;
    let id = validator.path_uuid("agent_id", &agent_id);
    validator.query_known(&query, &TENANT_PARAMS);
    let fields = validator.body(body.as_ref(), invocation.schema());
    validator.finish()?;
    app.store
        .read(|state| {
            let record = state.agent(&scope, id).ok_or_else(agent_not_found)?;
            // Invoking needs only the agent; running the draft needs the draft.
            if invocation == Invocation::DraftRun && record.draft.is_none() {
                return Err(draft_not_found());
            }
            Ok(Json(Value::from(reply(
                invocation,
                &record.agent.name,
                &fields,
            ))))
        })
        .await
}

/// `[sim] chat by <name>: query="..." inputs={...}`: the same request, the same answer.
fn reply(invocation: Invocation, agent_name: &str, fields: &Map<String, Value>) -> String {
    let query = fields.get("query").and_then(Value::as_str).unwrap_or("");
    let inputs = fields
        .get("inputs")
        .filter(|inputs| !inputs.is_null())
        .map(Value::to_string)
        .unwrap_or_else(|| "{}".to_owned());
    format!(
        "[sim] {} by {agent_name}: query={query:?} inputs={inputs}",
        invocation.name()
    )
}
