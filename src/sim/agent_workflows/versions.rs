//! Handlers for a workflow's versioning: open a draft, validate, publish, list the versions.

use std::sync::Arc;

use axum::{
    Json,
    extract::{RawQuery, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

use super::{AgentWorkflows, Answer, conflict, rules, schema, workflow_not_found};
use crate::sim::{
    SimError,
    fastapi::{ApiError, PathParam},
};

pub(crate) async fn create_draft(
    State(app): State<Arc<AgentWorkflows>>,
    PathParam(raw_id): PathParam,
    RawQuery(raw_query): RawQuery,
) -> Answer {
    let id = app.workflow_id(raw_query, &raw_id)?;
    let now = app.now();
    let updated = app
        .store
        .write(|state| {
            let workflow = state.get_mut(id).ok_or_else(workflow_not_found)?;
            if !workflow.open_draft(&now) {
                return Err(conflict("A draft is already open"));
            }
            Ok(workflow.to_json())
        })
        .await?;
    Ok(Json(updated))
}

pub(crate) async fn validate(
    State(app): State<Arc<AgentWorkflows>>,
    PathParam(raw_id): PathParam,
    RawQuery(raw_query): RawQuery,
) -> Answer {
    let id = app.workflow_id(raw_query, &raw_id)?;
    app.store
        .read(|state| {
            let workflow = state.get(id).ok_or_else(workflow_not_found)?;
            let definition = workflow.current_definition().unwrap_or(&Value::Null);
            Ok(Json(rules::report(&rules::check(definition))))
        })
        .await
}

/// Why a publish was refused: the usual `{"detail": ...}` errors, or an invalid draft, whose
/// 400 carries the validation report itself (contract item 8), not a `detail`.
#[derive(Debug)]
pub(crate) enum PublishRefused {
    Api(ApiError),
    Invalid(Value),
}

impl From<ApiError> for PublishRefused {
    fn from(err: ApiError) -> PublishRefused {
        PublishRefused::Api(err)
    }
}

impl From<SimError> for PublishRefused {
    fn from(err: SimError) -> PublishRefused {
        PublishRefused::Api(err.into())
    }
}

impl IntoResponse for PublishRefused {
    fn into_response(self) -> Response {
        match self {
            PublishRefused::Api(err) => err.into_response(),
            PublishRefused::Invalid(report) => {
                (StatusCode::BAD_REQUEST, Json(report)).into_response()
            }
        }
    }
}

pub(crate) async fn publish(
    State(app): State<Arc<AgentWorkflows>>,
    PathParam(raw_id): PathParam,
    RawQuery(raw_query): RawQuery,
) -> Result<Json<Value>, PublishRefused> {
    let id = app.workflow_id(raw_query, &raw_id)?;
    let now = app.now();
    let published = app
        .store
        .write(|state| {
            let workflow = state.get_mut(id).ok_or_else(workflow_not_found)?;
            let Some(draft) = &workflow.draft else {
                return Err(conflict("No draft is open: there is nothing to publish").into());
            };
            let problems = rules::check(draft);
            if !problems.is_empty() {
                return Err(PublishRefused::Invalid(rules::report(&problems)));
            }
            workflow.publish(&now);
            Ok(workflow.to_json())
        })
        .await?;
    Ok(Json(published))
}

pub(crate) async fn list(
    State(app): State<Arc<AgentWorkflows>>,
    PathParam(raw_id): PathParam,
    RawQuery(raw_query): RawQuery,
) -> Answer {
    let (query, mut validator) = app.begin(raw_query);
    let id = validator.path_int("id", &raw_id);
    validator.query_known(&query, schema::VERSIONS_QUERY);
    let limit = validator.query_int(
        &query,
        "limit",
        schema::DEFAULT_LIMIT,
        1,
        Some(schema::MAX_LIMIT),
    );
    let offset = validator.query_int(&query, "offset", 0, 0, None);
    validator.finish()?;
    app.store
        .read(|state| {
            let workflow = state.get(id).ok_or_else(workflow_not_found)?;
            let live = workflow.live().map(|version| version.number());
            let versions: Vec<Value> = workflow
                .versions_newest_first()
                .skip(offset as usize)
                .take(limit as usize)
                .map(|version| version.to_json(Some(version.number()) == live))
                .collect();
            Ok(Json(json!({
                "versions": versions,
                "total": workflow.version_count(),
            })))
        })
        .await
}
