//! Handlers for the workflows themselves: list, get, create, update, status, folder, duplicate,
//! count and summary.

use std::sync::Arc;

use axum::{
    Json,
    body::Bytes,
    extract::{RawQuery, State, rejection::BytesRejection},
};
use serde_json::{Map, Value, json};

use super::{
    AgentWorkflows, Answer, conflict,
    entities::{NewWorkflow, Status, StatusFilter, Workflow},
    schema, workflow_not_found,
};
use crate::sim::ListShape;
use crate::sim::fastapi::{ApiError, PathParam, Query, Validator, json_body};

/// The `?status=` filter of the list and the summary.
fn status_filter(validator: &mut Validator, query: &Query) -> StatusFilter {
    validator.query_known(query, schema::LIST_QUERY);
    StatusFilter::parse(validator.query_one_of(
        query,
        "status",
        schema::STATUS_FILTERS,
        schema::DEFAULT_STATUS_FILTER,
    ))
}

pub(crate) async fn list(
    State(app): State<Arc<AgentWorkflows>>,
    RawQuery(raw_query): RawQuery,
) -> Answer {
    let Json(mut answer) = listed(&app, raw_query, Workflow::list_json).await?;
    let shape = app.faults.faults().agent_list;
    if shape == ListShape::NoPagingFields
        && let Some(object) = answer.as_object_mut()
    {
        object.remove("workflows");
    }
    if let Some(Value::Array(workflows)) = answer.get_mut("workflows") {
        match shape {
            ListShape::NoItems => workflows.clear(),
            ListShape::Repeats => {
                let twice: Vec<Value> = workflows
                    .iter()
                    .flat_map(|item| [item.clone(), item.clone()])
                    .collect();
                *workflows = twice;
            }
            // No paging here: the other shapes answer as documented.
            _ => {}
        }
    }
    Ok(Json(answer))
}

pub(crate) async fn summary(
    State(app): State<Arc<AgentWorkflows>>,
    RawQuery(raw_query): RawQuery,
) -> Answer {
    listed(&app, raw_query, Workflow::summary_json).await
}

/// The list and the summary: the same filter, each item in its own shape.
async fn listed(
    app: &AgentWorkflows,
    raw_query: Option<String>,
    shape: fn(&Workflow) -> Value,
) -> Answer {
    let (query, mut validator) = app.begin(raw_query);
    let filter = status_filter(&mut validator, &query);
    validator.finish()?;
    let workflows = app
        .store
        .read(|state| state.list(filter).map(shape).collect::<Vec<_>>())
        .await;
    Ok(Json(json!({ "workflows": workflows })))
}

pub(crate) async fn count(
    State(app): State<Arc<AgentWorkflows>>,
    RawQuery(raw_query): RawQuery,
) -> Answer {
    let (query, mut validator) = app.begin(raw_query);
    validator.query_known(&query, schema::NO_QUERY);
    validator.finish()?;
    let (active, archived) = app
        .store
        .read(|state| (state.count(Status::Active), state.count(Status::Archived)))
        .await;
    Ok(Json(json!({
        "active": active,
        "archived": archived,
        "total": active + archived,
    })))
}

pub(crate) async fn get(
    State(app): State<Arc<AgentWorkflows>>,
    PathParam(raw_id): PathParam,
    RawQuery(raw_query): RawQuery,
) -> Answer {
    let id = app.workflow_id(raw_query, &raw_id)?;
    app.store
        .read(|state| state.get(id).map(|workflow| workflow.to_json()))
        .await
        .map(Json)
        .ok_or_else(workflow_not_found)
}

pub(crate) async fn create(
    State(app): State<Arc<AgentWorkflows>>,
    RawQuery(raw_query): RawQuery,
    body: Result<Bytes, BytesRejection>,
) -> Answer {
    let (query, mut validator) = app.begin(raw_query);
    let body = json_body(body)?;
    validator.query_known(&query, schema::NO_QUERY);
    let fields = validator.body(body.as_ref(), schema::CREATE);
    validator.finish()?;
    let new = NewWorkflow {
        name: text(&fields, "name"),
        draft: object(&fields, "definition"),
        configuration: object(&fields, "configuration"),
        folder_id: None,
    };
    let now = app.now();
    let created = app
        .store
        .write(|state| Ok::<_, ApiError>(state.insert(new, &now).to_json()))
        .await?;
    Ok(Json(created))
}

/// A string field the schema already checked.
fn text(fields: &Map<String, Value>, name: &str) -> String {
    fields
        .get(name)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// An object field the schema already checked; `{}` when absent.
fn object(fields: &Map<String, Value>, name: &str) -> Value {
    fields
        .get(name)
        .filter(|value| value.is_object())
        .cloned()
        .unwrap_or_else(|| json!({}))
}

pub(crate) async fn update(
    State(app): State<Arc<AgentWorkflows>>,
    PathParam(raw_id): PathParam,
    RawQuery(raw_query): RawQuery,
    body: Result<Bytes, BytesRejection>,
) -> Answer {
    let (query, mut validator) = app.begin(raw_query);
    let body = json_body(body)?;
    let id = validator.path_int("id", &raw_id);
    validator.query_known(&query, schema::NO_QUERY);
    let fields = validator.body(body.as_ref(), schema::UPDATE);
    if let Some(body) = &body
        && body.as_object().is_some_and(Map::is_empty)
    {
        validator.body_value_error(body, "give at least one of name, definition, configuration");
    }
    validator.finish()?;
    let name = fields.get("name").map(|_| text(&fields, "name"));
    let definition = fields
        .get("definition")
        .map(|_| object(&fields, "definition"));
    let configuration = fields
        .get("configuration")
        .map(|_| object(&fields, "configuration"));
    let now = app.now();
    let updated = app
        .store
        .write(|state| {
            let workflow = state.get_mut(id).ok_or_else(workflow_not_found)?;
            // Checked before anything changes: a refused update changes nothing, not even
            // the name it also carried.
            if definition.is_some() && workflow.draft.is_none() {
                return Err(conflict(
                    "No draft is open: create a draft before updating the definition",
                ));
            }
            if let Some(name) = name {
                workflow.name = name;
            }
            if let Some(configuration) = configuration {
                workflow.configuration = configuration;
            }
            if let Some(definition) = definition {
                workflow.draft = Some(definition);
            }
            workflow.touch(&now);
            Ok(workflow.to_json())
        })
        .await?;
    Ok(Json(updated))
}

pub(crate) async fn set_status(
    State(app): State<Arc<AgentWorkflows>>,
    PathParam(raw_id): PathParam,
    RawQuery(raw_query): RawQuery,
    body: Result<Bytes, BytesRejection>,
) -> Answer {
    let (query, mut validator) = app.begin(raw_query);
    let body = json_body(body)?;
    let id = validator.path_int("id", &raw_id);
    validator.query_known(&query, schema::NO_QUERY);
    let fields = validator.body(body.as_ref(), schema::STATUS);
    validator.finish()?;
    let status = Status::parse(&text(&fields, "status"));
    changed(&app, id, |workflow| workflow.status = status).await
}

pub(crate) async fn move_to_folder(
    State(app): State<Arc<AgentWorkflows>>,
    PathParam(raw_id): PathParam,
    RawQuery(raw_query): RawQuery,
    body: Result<Bytes, BytesRejection>,
) -> Answer {
    let (query, mut validator) = app.begin(raw_query);
    let body = json_body(body)?;
    let id = validator.path_int("id", &raw_id);
    validator.query_known(&query, schema::NO_QUERY);
    let fields = validator.body(body.as_ref(), schema::FOLDER);
    validator.finish()?;
    let folder_id = fields.get("folder_id").and_then(Value::as_u64);
    changed(&app, id, |workflow| workflow.folder_id = folder_id).await
}

/// Applies `change` to one workflow, marks it updated, and answers it in full (404 when there
/// is no such workflow).
async fn changed(
    app: &AgentWorkflows,
    id: i64,
    change: impl FnOnce(&mut Workflow) + Send,
) -> Answer {
    let now = app.now();
    let updated = app
        .store
        .write(|state| {
            let workflow = state.get_mut(id).ok_or_else(workflow_not_found)?;
            change(workflow);
            workflow.touch(&now);
            Ok::<_, ApiError>(workflow.to_json())
        })
        .await?;
    Ok(Json(updated))
}

pub(crate) async fn duplicate(
    State(app): State<Arc<AgentWorkflows>>,
    PathParam(raw_id): PathParam,
    RawQuery(raw_query): RawQuery,
) -> Answer {
    let id = app.workflow_id(raw_query, &raw_id)?;
    let now = app.now();
    let new_id = app
        .store
        .write(|state| {
            let source = state.get(id).ok_or_else(workflow_not_found)?;
            let copy = NewWorkflow {
                name: format!("{} (copy)", source.name),
                draft: source
                    .current_definition()
                    .cloned()
                    .unwrap_or_else(|| json!({})),
                configuration: source.configuration.clone(),
                folder_id: source.folder_id,
            };
            Ok::<_, ApiError>(state.insert(copy, &now).id)
        })
        .await?;
    Ok(Json(json!({ "workflow_id": new_id })))
}
