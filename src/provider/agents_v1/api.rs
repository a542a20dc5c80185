//! Agents v1's endpoints and the envelope of its answers: the only place that knows its URL
//! paths and query parameters (`shared/api/agents-v1.md`, and `docs/agents-v1-contract.md`
//! where the docs are silent). Agents travel as JSON objects ([`WireObject`]); only `mapping`
//! reads their fields.

use std::collections::HashSet;

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::provider::http::{ApiRequest, HttpClient, path_segment};
use crate::provider::{ProviderError, Result};

/// An agent as the platform sends it.
pub type WireObject = Map<String, Value>;

const AGENTS: &str = "/v1/agents";

/// The agent list, as errors name it.
pub const LIST_ENDPOINT: &str = "GET /v1/agents";

/// The most agents a page holds (contract 5); asked for on every page.
pub const PAGE_LIMIT: u32 = 100;

/// `{success, data}` (contract 2). A `2xx` without `success: true` or without `data` is not an
/// answer to act on.
#[derive(Debug, Deserialize)]
struct Envelope<T> {
    success: Option<bool>,
    data: Option<T>,
    pagination: Option<Pagination>,
}

/// A list page's `pagination` (contract 5).
#[derive(Debug, Clone, Copy, Deserialize)]
struct Pagination {
    page: Option<u64>,
    total: Option<u64>,
    #[serde(rename = "hasNext")]
    has_next: Option<bool>,
}

/// The agent endpoints over one [`HttpClient`].
#[derive(Debug, Clone)]
pub struct Api {
    http: HttpClient,
}

fn agent_path(id: &str) -> String {
    format!("{AGENTS}/{}", path_segment(id))
}

fn broken(endpoint: &str, what: &str, problem: impl Into<String>) -> ProviderError {
    ProviderError::BrokenAnswer {
        endpoint: endpoint.to_owned(),
        what: what.to_owned(),
        problem: problem.into(),
    }
}

/// The `data` of a success, or why the answer cannot be relied on.
fn data<T>(envelope: Envelope<T>, endpoint: &str, what: &str) -> Result<T> {
    if envelope.success != Some(true) {
        return Err(broken(endpoint, what, "the answer does not say success"));
    }
    envelope
        .data
        .ok_or_else(|| broken(endpoint, what, "the answer has no data"))
}

impl Api {
    pub fn new(http: HttpClient) -> Api {
        Api { http }
    }

    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    /// Every agent, page after page while `hasNext` says so, each page checked against the
    /// first (contract 5): a wrong page, an agent seen twice, a changing total or more pages
    /// than the total allows are a [`ProviderError::BrokenAnswer`].
    pub async fn list(&self) -> Result<Vec<WireObject>> {
        let what = "the agent list";
        let mut agents: Vec<WireObject> = Vec::new();
        let mut seen: HashSet<String> = HashSet::new();
        let mut total: Option<u64> = None;
        let mut page: u64 = 1;
        loop {
            let request = ApiRequest::get(AGENTS, what)
                .query("page", page)
                .query("limit", PAGE_LIMIT);
            let envelope: Envelope<Vec<WireObject>> = self.http.send(request).await?;
            let Some(pagination) = envelope.pagination else {
                return Err(broken(LIST_ENDPOINT, what, "a page without pagination"));
            };
            let items = data(envelope, LIST_ENDPOINT, what)?;
            if pagination.page != Some(page) {
                return Err(broken(
                    LIST_ENDPOINT,
                    what,
                    format!("page {page} was asked for, and another came"),
                ));
            }
            let (Some(page_total), Some(has_next)) = (pagination.total, pagination.has_next) else {
                return Err(broken(
                    LIST_ENDPOINT,
                    what,
                    "a page without total or hasNext",
                ));
            };
            match total {
                None => total = Some(page_total),
                Some(first) if first != page_total => {
                    return Err(broken(
                        LIST_ENDPOINT,
                        what,
                        format!("the total changed from {first} to {page_total} between pages"),
                    ));
                }
                Some(_) => {}
            }
            for item in items {
                let id = item.get("id").and_then(Value::as_str).unwrap_or_default();
                if id.is_empty() {
                    return Err(broken(LIST_ENDPOINT, what, "an agent without an id"));
                }
                if !seen.insert(id.to_owned()) {
                    return Err(broken(
                        LIST_ENDPOINT,
                        what,
                        format!("agent {id} came on two pages"),
                    ));
                }
                agents.push(item);
            }
            if !has_next {
                break;
            }
            // A page holds at least one agent, so no more pages than agents (and one more).
            if page > page_total {
                return Err(broken(
                    LIST_ENDPOINT,
                    what,
                    format!("more pages than the {page_total} agents it announced"),
                ));
            }
            page += 1;
        }
        if agents.len() as u64 != total.unwrap_or(0) {
            return Err(broken(
                LIST_ENDPOINT,
                what,
                format!(
                    "{} agents came where the total said {}",
                    agents.len(),
                    total.unwrap_or(0)
                ),
            ));
        }
        Ok(agents)
    }

    /// `GET /v1/agents/{id}`: the full agent (contract 6).
    pub async fn get(&self, id: &str) -> Result<WireObject> {
        let what = format!("agent {id}");
        let envelope = self
            .http
            .send(ApiRequest::get(agent_path(id), &what))
            .await?;
        data(envelope, &format!("GET {AGENTS}/{{id}}"), &what)
    }

    /// `POST /v1/agents` (contract 7).
    pub async fn create(&self, body: &Value, what: &str) -> Result<WireObject> {
        let envelope = self
            .http
            .send(ApiRequest::post(AGENTS, what).json(body))
            .await?;
        data(envelope, &format!("POST {AGENTS}"), what)
    }

    /// `PATCH /v1/agents/{id}` of the fields in `body` (contract 8). Setting fields to values
    /// twice does nothing more than once: retried like a PUT.
    pub async fn patch(&self, id: &str, body: &Value, what: &str) -> Result<WireObject> {
        let request = ApiRequest::patch(agent_path(id), what)
            .json(body)
            .repeatable();
        let envelope = self.http.send(request).await?;
        data(envelope, &format!("PATCH {AGENTS}/{{id}}"), what)
    }

    /// `DELETE /v1/agents/{id}`; an agent already gone is deleted (contract 10).
    pub async fn delete(&self, id: &str, what: &str) -> Result<()> {
        match self
            .http
            .send::<Value>(ApiRequest::delete(agent_path(id), what))
            .await
        {
            Ok(_) | Err(ProviderError::NotFound { .. }) => Ok(()),
            Err(err) => Err(err),
        }
    }
}
