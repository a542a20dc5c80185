//! Handlers for the agent routes: create, list, get (by id, by code), update, delete.

use std::sync::Arc;

use axum::{
    Json,
    body::Bytes,
    extract::{RawQuery, State, rejection::BytesRejection},
};
use serde_json::{Value, json};

use super::{
    Workfx, agent_not_found,
    entities::{Agent, AgentFilter, Order},
    paging::Page,
    schema,
    tenancy::TENANT_PARAMS,
};
use crate::sim::UpdateReading;
use crate::sim::fastapi::{ApiError, PathParam, Query, json_body};

type Answer = Result<Json<Value>, ApiError>;

pub(crate) async fn create(
    State(app): State<Arc<Workfx>>,
    RawQuery(raw_query): RawQuery,
    body: Result<Bytes, BytesRejection>,
) -> Answer {
    let (scope, query, mut validator) = app.begin(raw_query)?;
    let body = json_body(body)?;
    validator.query_known(&query, &TENANT_PARAMS);
    let fields = validator.body(body.as_ref(), schema::AGENT_CREATE);
    validator.finish()?;
    let mut agent = Agent::create(&fields, &scope, &app.now());
    if app.faults.faults().drop_extend_properties_on_create {
        agent.extend_properties = json!({});
    }
    let created = app
        .store
        .write(|state| Ok::<_, ApiError>(state.insert(agent).agent.to_json()))
        .await?;
    Ok(Json(created))
}

pub(crate) async fn list(State(app): State<Arc<Workfx>>, RawQuery(raw_query): RawQuery) -> Answer {
    let (scope, query, mut validator) = app.begin(raw_query)?;
    validator.query_known(&query, schema::LIST_AGENTS_QUERY);
    let page = Page::from_query(&mut validator, &query, app.max_page_size);
    let is_favorite = validator.query_bool(&query, "is_favorite");
    let order = validator.query_one_of(&query, "order_by", schema::ORDERS, "recent");
    let exclude_draft = validator.query_bool(&query, "exclude_draft");
    validator.finish()?;
    let filter = AgentFilter {
        name: non_empty(&query, "name"),
        tags: list_values(&query, "tags"),
        mode: non_empty(&query, "mode"),
        agent_type: non_empty(&query, "type"),
        ids: list_values(&query, "ids"),
        is_favorite,
        exclude_draft: exclude_draft.unwrap_or(false),
    };
    let order = if order == "oldest" {
        Order::Oldest
    } else {
        Order::Recent
    };
    let shape = app.faults.faults().agent_list;
    let answer = app
        .store
        .read(|state| {
            page.answer(state.list(&scope, &filter, order), shape, true)
                .map(|record| record.agent.to_json())
        })
        .await;
    Ok(Json(json!(answer)))
}

/// An empty filter value filters nothing.
fn non_empty(query: &Query, name: &str) -> Option<String> {
    query
        .get(name)
        .filter(|value| !value.is_empty())
        .map(str::to_owned)
}

/// A list filter, repeated (`ids=a&ids=b`) or comma-separated (`ids=a,b`).
fn list_values(query: &Query, name: &str) -> Vec<String> {
    query
        .all(name)
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .filter(|value| !value.is_empty())
        .map(str::to_owned)
        .collect()
}

pub(crate) async fn get(
    State(app): State<Arc<Workfx>>,
    PathParam(agent_id): PathParam,
    RawQuery(raw_query): RawQuery,
) -> Answer {
    let (scope, query, mut validator) = app.begin(raw_query)?;
    let id = validator.path_uuid("agent_id", &agent_id);
    validator.query_known(&query, &TENANT_PARAMS);
    validator.finish()?;
    app.store
        .read(|state| state.agent(&scope, id).map(|record| record.agent.to_json()))
        .await
        .map(Json)
        .ok_or_else(agent_not_found)
}

pub(crate) async fn get_by_code(
    State(app): State<Arc<Workfx>>,
    PathParam(code): PathParam,
    RawQuery(raw_query): RawQuery,
) -> Answer {
    let (scope, query, mut validator) = app.begin(raw_query)?;
    validator.query_known(&query, &TENANT_PARAMS);
    validator.finish()?;
    app.store
        .read(|state| {
            state
                .agent_by_code(&scope, &code)
                .map(|record| record.agent.to_json())
        })
        .await
        .map(Json)
        .ok_or_else(agent_not_found)
}

pub(crate) async fn update(
    State(app): State<Arc<Workfx>>,
    PathParam(agent_id): PathParam,
    RawQuery(raw_query): RawQuery,
    body: Result<Bytes, BytesRejection>,
) -> Answer {
    let (scope, query, mut validator) = app.begin(raw_query)?;
    let body = json_body(body)?;
    let id = validator.path_uuid("agent_id", &agent_id);
    validator.query_known(&query, &TENANT_PARAMS);
    let fields = validator.body(body.as_ref(), schema::AGENT_UPDATE);
    validator.finish()?;
    let now = app.now();
    let updated = app
        .store
        .write(|state| {
            let record = state.agent_mut(&scope, id).ok_or_else(agent_not_found)?;
            match app.readings.update {
                UpdateReading::Merge => record.agent.update(&fields, &now),
                UpdateReading::Replace => record.agent.replace(&fields, &now),
            }
            Ok::<_, ApiError>(record.agent.to_json())
        })
        .await?;
    Ok(Json(updated))
}

pub(crate) async fn delete(
    State(app): State<Arc<Workfx>>,
    PathParam(agent_id): PathParam,
    RawQuery(raw_query): RawQuery,
) -> Answer {
    let (scope, query, mut validator) = app.begin(raw_query)?;
    let id = validator.path_uuid("agent_id", &agent_id);
    validator.query_known(&query, &TENANT_PARAMS);
    validator.finish()?;
    app.store
        .write(|state| {
            if state.remove(&scope, id) {
                Ok(Json(json!({})))
            } else {
                Err(agent_not_found())
            }
        })
        .await
}
