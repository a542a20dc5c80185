//! The handlers of Agents v1: list, create, get, update and delete agents.

use std::sync::Arc;

use axum::{
    Extension, Json,
    body::Bytes,
    extract::{FromRequestParts, Path, RawQuery, State, rejection::BytesRejection},
    http::{StatusCode, request::Parts},
    response::IntoResponse,
};
use serde_json::{Map, Value, json};

use super::{
    AgentsV1, Answer,
    entities::Agent,
    envelope::{Detail, V1Error, success},
    paging::Page,
    schema,
};
use crate::sim::{auth::Role, fastapi::Query};

/// The `{id}` of a route on one agent. Any id that names no agent is a 404, whatever it looks
/// like (contract item 4).
pub(crate) struct AgentId(String);

impl<S: Send + Sync> FromRequestParts<S> for AgentId {
    type Rejection = V1Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<AgentId, V1Error> {
        Path::<String>::from_request_parts(parts, state)
            .await
            .map(|Path(id)| AgentId(id))
            .map_err(|rejection| {
                V1Error::validation(vec![Detail::new("id", rejection.body_text())])
            })
    }
}

/// Whose token the request carried (an admin's when the simulator takes no token).
fn role_of(role: Option<Extension<Role>>) -> Role {
    role.map(|Extension(role)| role).unwrap_or_default()
}

/// 400 with every problem found, or nothing when there is none.
fn refuse(details: Vec<Detail>) -> Result<(), V1Error> {
    if details.is_empty() {
        Ok(())
    } else {
        Err(V1Error::validation(details))
    }
}

/// The query parameters of a route that declares none.
fn no_query(raw_query: Option<String>) -> Vec<Detail> {
    schema::check_query_names(&Query::parse(raw_query.as_deref()), schema::NO_QUERY)
}

/// The body as a JSON object; `None` when there is none. Not JSON, or not an object, is a 400;
/// over the size limit a 413.
fn body_object(body: Result<Bytes, BytesRejection>) -> Result<Option<Map<String, Value>>, V1Error> {
    let bytes =
        body.map_err(|rejection| V1Error::new(rejection.status(), rejection.body_text()))?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let refused = |message: String| V1Error::validation(vec![Detail::new("body", message)]);
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(fields)) => Ok(Some(fields)),
        Ok(_) => Err(refused("must be a JSON object".to_owned())),
        Err(err) => Err(refused(format!("is not valid JSON: {err}"))),
    }
}

/// A member may update or delete a private agent only (contract item 3).
fn permitted(role: Role, agent: &Agent, action: &str) -> Result<(), V1Error> {
    if role == Role::Member && !agent.members_may_change() {
        return Err(V1Error::new(
            StatusCode::FORBIDDEN,
            format!(
                "Only org owners and admins may {action} public or commercial agents; \
                 this agent is {}",
                agent.mode()
            ),
        ));
    }
    Ok(())
}

pub(crate) async fn list(
    State(app): State<Arc<AgentsV1>>,
    RawQuery(raw_query): RawQuery,
) -> Answer {
    let query = Query::parse(raw_query.as_deref());
    let mut details = schema::check_query_names(&query, schema::LIST_QUERY);
    let num = schema::query_int(&query, "page", 1, (1, None), &mut details);
    let limit = schema::query_int(
        &query,
        "limit",
        schema::DEFAULT_LIMIT,
        (1, Some(schema::MAX_LIMIT)),
        &mut details,
    );
    let mode = schema::query_one_of(&query, "mode", schema::MODES, &mut details);
    refuse(details)?;
    let all = app
        .store
        .read(|state| state.list(mode).map(Agent::summary_json).collect())
        .await;
    let answer = Page { num, limit }.answer(all, app.faults.faults().agent_list);
    Ok(Json(answer).into_response())
}

pub(crate) async fn create(
    State(app): State<Arc<AgentsV1>>,
    RawQuery(raw_query): RawQuery,
    body: Result<Bytes, BytesRejection>,
) -> Answer {
    let body = body_object(body)?;
    let mut details = no_query(raw_query);
    let Some(fields) = body else {
        details.push(Detail::new(
            "body",
            "is required: the agent's fields, as a JSON object",
        ));
        return Err(V1Error::validation(details));
    };
    details.extend(schema::check_fields(&fields));
    details.extend(schema::missing(&fields));
    refuse(details)?;
    let now = app.now();
    let created = app
        .store
        .write(|state| Ok::<_, V1Error>(state.insert(fields, &now).to_json()))
        .await?;
    Ok(success(StatusCode::CREATED, created))
}

pub(crate) async fn get(
    State(app): State<Arc<AgentsV1>>,
    AgentId(id): AgentId,
    RawQuery(raw_query): RawQuery,
) -> Answer {
    refuse(no_query(raw_query))?;
    let agent = app
        .store
        .read(|state| state.get(&id).map(Agent::to_json))
        .await
        .ok_or_else(V1Error::agent_not_found)?;
    Ok(success(StatusCode::OK, agent))
}

/// Checks in this order: the request (400), the agent (404), the token's role (403), then
/// the agent as it would be (400: an architecture change, a required field blanked).
pub(crate) async fn update(
    State(app): State<Arc<AgentsV1>>,
    role: Option<Extension<Role>>,
    AgentId(id): AgentId,
    RawQuery(raw_query): RawQuery,
    body: Result<Bytes, BytesRejection>,
) -> Answer {
    let body = body_object(body)?;
    let mut details = no_query(raw_query);
    match &body {
        None => details.push(Detail::new(
            "body",
            "is required: the fields to change, as a JSON object",
        )),
        Some(fields) if fields.is_empty() => details.push(Detail::new(
            "body",
            "must name at least one field to change",
        )),
        Some(fields) => details.extend(schema::check_fields(fields)),
    }
    refuse(details)?;
    let changes = body.unwrap_or_default();
    let role = role_of(role);
    let now = app.now();
    let updated = app
        .store
        .write(|state| {
            let agent = state.get_mut(&id).ok_or_else(V1Error::agent_not_found)?;
            permitted(role, agent, "update")?;
            if let Some(architecture) = changes.get("agentArchitecture")
                && architecture.as_str() != Some(agent.architecture())
            {
                return Err(V1Error::validation(vec![Detail::new(
                    "agentArchitecture",
                    format!(
                        "cannot change (this agent is {}); create another agent instead",
                        agent.architecture()
                    ),
                )]));
            }
            let merged = agent.merged(changes);
            refuse(schema::missing(&merged))?;
            agent.update(merged, &now);
            Ok(agent.to_json())
        })
        .await?;
    Ok(success(StatusCode::OK, updated))
}

pub(crate) async fn delete(
    State(app): State<Arc<AgentsV1>>,
    role: Option<Extension<Role>>,
    AgentId(id): AgentId,
    RawQuery(raw_query): RawQuery,
) -> Answer {
    refuse(no_query(raw_query))?;
    let role = role_of(role);
    app.store
        .write(|state| {
            let agent = state.get(&id).ok_or_else(V1Error::agent_not_found)?;
            permitted(role, agent, "delete")?;
            state.remove(&id);
            Ok::<_, V1Error>(())
        })
        .await?;
    Ok(success(
        StatusCode::OK,
        json!({ "message": "Agent deleted successfully" }),
    ))
}
