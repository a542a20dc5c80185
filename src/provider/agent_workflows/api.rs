//! Agent Workflows' endpoints and the envelopes of its answers: the only place that knows its
//! URL paths and query parameters (`shared/api/agent-workflows.md`, and
//! `docs/agent-workflows-contract.md` where the docs are silent). Agents travel as JSON objects
//! ([`WireObject`]); only `mapping` reads their fields.

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::provider::http::{ApiRequest, HttpClient, path_segment};
use crate::provider::{ProviderError, Result};

/// An agent (a "workflow") as the platform sends it.
pub type WireObject = Map<String, Value>;

const WORKFLOW: &str = "/workflow";
const FETCH: &str = "/workflow/fetch";

/// The agent list, as errors name it.
pub const LIST_ENDPOINT: &str = "GET /workflow/fetch";
const CREATE: &str = "/workflow/create/definition";

/// The list filter that includes archived agents (contract 3).
const EVERY_STATUS: &str = "all";

/// `GET /workflow/fetch`: every agent in one answer, without configuration (contract 3).
#[derive(Debug)]
pub struct WorkflowList {
    pub workflows: Vec<WireObject>,
}

/// The list as it came: without `workflows` it says nothing, which is not "no agents".
#[derive(Debug, Deserialize)]
struct WorkflowListWire {
    #[serde(default)]
    workflows: Option<Vec<WireObject>>,
}

/// `POST /workflow/{id}/validate` (documented).
#[derive(Debug, Deserialize)]
pub struct Validation {
    pub is_valid: bool,
    #[serde(default)]
    pub errors: Vec<ValidationError>,
}

/// One error of a validation, as documented: `kind`, `id`, `field`, `message`.
#[derive(Debug, Deserialize)]
pub struct ValidationError {
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub id: Option<Value>,
    #[serde(default)]
    pub field: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
}

/// `GET /workflow/{id}/versions` (contract 10).
#[derive(Debug, Deserialize)]
pub struct VersionPage {
    pub versions: Vec<WireObject>,
}

/// The agent endpoints over one [`HttpClient`].
#[derive(Debug, Clone)]
pub struct Api {
    http: HttpClient,
}

fn workflow_path(id: &str, rest: &str) -> String {
    format!("{WORKFLOW}/{}{rest}", path_segment(id))
}

impl Api {
    pub fn new(http: HttpClient) -> Api {
        Api { http }
    }

    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    pub async fn list(&self) -> Result<WorkflowList> {
        let what = "the agent list";
        let request = ApiRequest::get(FETCH, what).query("status", EVERY_STATUS);
        let list: WorkflowListWire = self.http.send(request).await?;
        match list.workflows {
            Some(workflows) => Ok(WorkflowList { workflows }),
            None => Err(ProviderError::BrokenAnswer {
                endpoint: LIST_ENDPOINT.to_owned(),
                what: what.to_owned(),
                problem: "it has no `workflows`".to_owned(),
            }),
        }
    }

    pub async fn get(&self, id: &str) -> Result<WireObject> {
        let path = format!("{FETCH}/{}", path_segment(id));
        self.http
            .send(ApiRequest::get(path, format!("agent {id}")))
            .await
    }

    pub async fn create(&self, body: &Value, what: &str) -> Result<WireObject> {
        self.http
            .send(ApiRequest::post(CREATE, what).json(body))
            .await
    }

    /// A partial update of `name`, `definition`, `configuration` (contract 6).
    pub async fn update(&self, id: &str, body: &Value, what: &str) -> Result<WireObject> {
        let request = ApiRequest::put(workflow_path(id, ""), what).json(body);
        self.http.send(request).await
    }

    /// [`Api::update`] with a body that is JSON text already.
    pub async fn update_text(&self, id: &str, body: &str, what: &str) -> Result<WireObject> {
        let request = ApiRequest::put(workflow_path(id, ""), what).json_text(body);
        self.http.send(request).await
    }

    pub async fn set_status(&self, id: &str, body: &Value) -> Result<WireObject> {
        let request = ApiRequest::put(
            workflow_path(id, "/status"),
            format!("the status of agent {id}"),
        );
        self.http.send(request.json(body)).await
    }

    pub async fn move_to_folder(&self, id: &str, body: &Value) -> Result<WireObject> {
        let request = ApiRequest::put(
            workflow_path(id, "/folder"),
            format!("the folder of agent {id}"),
        );
        self.http.send(request.json(body)).await
    }

    /// Opens a draft from the live definition (contract 7). Repeating it is refused with a
    /// 409 (a draft is open), which the caller takes as done: safe to retry.
    pub async fn create_draft(&self, id: &str) -> Result<WireObject> {
        let request = ApiRequest::post(
            workflow_path(id, "/create-draft"),
            format!("a new draft of agent {id}"),
        );
        self.http.send(request.repeatable()).await
    }

    /// A dry run that changes nothing (documented): safe to retry.
    pub async fn validate(&self, id: &str) -> Result<Validation> {
        let request = ApiRequest::post(
            workflow_path(id, "/validate"),
            format!("the validation of agent {id}"),
        );
        self.http.send(request.repeatable()).await
    }

    pub async fn publish(&self, id: &str) -> Result<WireObject> {
        let request = ApiRequest::post(
            workflow_path(id, "/publish"),
            format!("the draft of agent {id}"),
        );
        self.http.send(request).await
    }

    /// The newest published version only: the first item of the first page (contract 10).
    pub async fn newest_version(&self, id: &str) -> Result<Option<WireObject>> {
        let request = ApiRequest::get(
            workflow_path(id, "/versions"),
            format!("the versions of agent {id}"),
        )
        .query("limit", 1)
        .query("offset", 0);
        let page: VersionPage = self.http.send(request).await?;
        Ok(page.versions.into_iter().next())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_ids_cannot_change_the_path() {
        assert_eq!(
            workflow_path("1/../2", "/publish"),
            "/workflow/1%2F..%2F2/publish"
        );
        assert_eq!(workflow_path("7", ""), "/workflow/7");
    }
}
