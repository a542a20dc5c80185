//! Handlers for an agent's flows: write and read the draft, publish it, list the versions.

use std::sync::Arc;

use axum::{
    body::Bytes,
    extract::{RawQuery, State, rejection::BytesRejection},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;

use super::{
    Workfx, agent_not_found,
    entities::{AgentRecord, FlowContent},
    paging::Page,
    schema,
    tenancy::TENANT_PARAMS,
};
use crate::sim::fastapi::{ApiError, PathParam, json_body};

pub(super) fn draft_not_found() -> ApiError {
    ApiError::not_found("Draft flow not found")
}

pub(crate) async fn write_draft(
    State(app): State<Arc<Workfx>>,
    PathParam(agent_id): PathParam,
    RawQuery(raw_query): RawQuery,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let (scope, query, mut validator) = app.begin(raw_query)?;
    let body = json_body(body)?;
    let id = validator.path_uuid("agent_id", &agent_id);
    validator.query_known(&query, &TENANT_PARAMS);
    let fields = validator.body(body.as_ref(), schema::FLOW_DRAFT);
    validator.finish()?;
    let content = FlowContent::from_request(&fields);
    let now = app.now();
    app.store
        .write(|state| {
            let record = state.agent_mut(&scope, id).ok_or_else(agent_not_found)?;
            json_response(
                StatusCode::CREATED,
                &record.write_draft(content, &now).wire(),
            )
        })
        .await
}

pub(crate) async fn get_draft(
    State(app): State<Arc<Workfx>>,
    PathParam(agent_id): PathParam,
    RawQuery(raw_query): RawQuery,
) -> Result<Response, ApiError> {
    let (scope, query, mut validator) = app.begin(raw_query)?;
    let id = validator.path_uuid("agent_id", &agent_id);
    validator.query_known(&query, &TENANT_PARAMS);
    validator.finish()?;
    app.store
        .read(|state| {
            let record = state.agent(&scope, id).ok_or_else(agent_not_found)?;
            let draft = record.draft.as_ref().ok_or_else(draft_not_found)?;
            json_response(StatusCode::OK, &draft.wire())
        })
        .await
}

pub(crate) async fn publish(
    State(app): State<Arc<Workfx>>,
    PathParam(agent_id): PathParam,
    RawQuery(raw_query): RawQuery,
) -> Result<Response, ApiError> {
    let (scope, query, mut validator) = app.begin(raw_query)?;
    let id = validator.path_uuid("agent_id", &agent_id);
    validator.query_known(&query, &TENANT_PARAMS);
    validator.finish()?;
    let now = app.now();
    app.store
        .write(|state| {
            let record = state.agent_mut(&scope, id).ok_or_else(agent_not_found)?;
            let published = record.publish(&now).ok_or_else(draft_not_found)?;
            json_response(StatusCode::OK, &published.wire())
        })
        .await
}

pub(crate) async fn list(
    State(app): State<Arc<Workfx>>,
    PathParam(agent_id): PathParam,
    RawQuery(raw_query): RawQuery,
) -> Result<Response, ApiError> {
    let (scope, query, mut validator) = app.begin(raw_query)?;
    let id = validator.path_uuid("agent_id", &agent_id);
    validator.query_known(&query, schema::LIST_FLOWS_QUERY);
    let page = Page::from_query(&mut validator, &query, app.max_page_size);
    validator.finish()?;
    let shape = app.faults.faults().flow_list;
    let order = app.readings.flow_order;
    app.store
        .read(|state| {
            let record: &AgentRecord = state.agent(&scope, id).ok_or_else(agent_not_found)?;
            // FlowVersionListResponse, as documented: no total_pages here. Written while the
            // state is borrowed, so that no graph is copied on the way out.
            let list = page
                .answer(record.flows_newest_first(order), shape, false)
                .map(|flow| flow.wire());
            json_response(StatusCode::OK, &list)
        })
        .await
}

/// An answer written while the state is borrowed: flows are serialized from where they are
/// stored, their graphs never copied into a `Value` first.
fn json_response(status: StatusCode, answer: &impl Serialize) -> Result<Response, ApiError> {
    let body = serde_json::to_vec(answer).map_err(|err| {
        let message = format!("the answer did not serialize: {err}");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, &message)
    })?;
    Ok((status, [(header::CONTENT_TYPE, "application/json")], body).into_response())
}
