//! workfx's endpoints and the envelopes of its answers: the only place that knows workfx's URL
//! paths and query parameters. Agents and flows travel as JSON objects ([`WireObject`]); only
//! `mapping` reads their fields.

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::paging::PageInfo;
use crate::provider::http::{ApiRequest, HttpClient, path_segment};
use crate::provider::{ProviderError, Result};

/// An agent or a flow as workfx sends it.
pub type WireObject = Map<String, Value>;

const AGENTS: &str = "/admin/api/v2/agents";

/// The agent list, as errors name it.
pub const AGENT_LIST: &str = "GET /admin/api/v2/agents";

/// The version list, as errors name it.
pub const FLOW_LIST: &str = "GET /admin/api/v2/agents/{agent_id}/flows";

/// The largest `page_size` workfx accepts (the docs are silent; the simulator enforces 100).
pub const MAX_PAGE_SIZE: u32 = 100;

/// The flow list is read newest first, draft first: its first two items hold the draft and the
/// live version whenever both exist (`shared/api/README.md`, assumption 6).
pub const NEWEST_FLOWS: u32 = 2;

/// Oldest first, so that agents created while the pages are read land on later pages instead of
/// shifting earlier ones (which would skip or repeat agents).
const LIST_ORDER: &str = "oldest";

/// The tenancy query parameters sent with every request (assumption 1).
pub fn tenancy_query(
    tenant_id: Option<&str>,
    tenant_unit_id: Option<&str>,
) -> Vec<(String, String)> {
    [("tenant_id", tenant_id), ("tenant_unit_id", tenant_unit_id)]
        .into_iter()
        .filter_map(|(name, value)| value.map(|value| (name.to_owned(), value.to_owned())))
        .collect()
}

/// One page of a list, its paging fields checked present ([`Page::checked`]).
#[derive(Debug)]
pub struct Page<T> {
    pub info: PageInfo,
    pub data: Vec<T>,
}

/// One page of `GET /agents`.
pub type AgentPage = Page<WireObject>;

/// One page of `GET /agents/{id}/flows` (`FlowVersionListResponse`: no `total_pages`).
pub type FlowPage = Page<WireFlow>;

/// [`FlowPage`] as it came, before [`PageWire::checked`].
pub type FlowPageWire = PageWire<WireFlow>;

/// A page as it came: whatever of the fields the contract relies on it holds.
#[derive(Debug, Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
pub struct PageWire<T> {
    #[serde(default)]
    total_count: Option<u64>,
    #[serde(default)]
    total_pages: Option<u64>,
    #[serde(default)]
    has_next_page: Option<bool>,
    #[serde(default)]
    data: Option<Vec<T>>,
}

impl<T> PageWire<T> {
    /// The page, when it holds every field the contract relies on: `total_count`,
    /// `has_next_page`, `data`, and `total_pages` where `with_total_pages` (the agent list
    /// documents it). `endpoint` and `what` name the answer, for errors.
    pub fn checked(self, with_total_pages: bool, endpoint: &str, what: &str) -> Result<Page<T>> {
        let mut missing = Vec::new();
        if self.total_count.is_none() {
            missing.push("total_count");
        }
        if with_total_pages && self.total_pages.is_none() {
            missing.push("total_pages");
        }
        if self.has_next_page.is_none() {
            missing.push("has_next_page");
        }
        if self.data.is_none() {
            missing.push("data");
        }
        match (self.total_count, self.has_next_page, self.data) {
            (Some(total_count), Some(has_next_page), Some(data)) if missing.is_empty() => {
                Ok(Page {
                    info: PageInfo {
                        total_count,
                        total_pages: self.total_pages.filter(|_| with_total_pages),
                        has_next_page,
                        items: data.len() as u64,
                    },
                    data,
                })
            }
            _ => Err(broken(
                endpoint,
                what,
                format!("it has no `{}`", missing.join("`, `")),
            )),
        }
    }
}

/// The error of an answer that cannot be believed: `problem` says why.
pub fn broken(endpoint: &str, what: &str, problem: String) -> ProviderError {
    ProviderError::BrokenAnswer {
        endpoint: endpoint.to_owned(),
        what: what.to_owned(),
        problem,
    }
}

/// The agent list's page `page_num`, in words.
pub fn agent_page_what(page_num: u64) -> String {
    format!("the agent list (page {page_num})")
}

/// Names page `page_num` of the agents of one name, for errors.
pub fn named_page_what(name: &str, page_num: u64) -> String {
    format!("the agents named {name:?} (page {page_num})")
}

/// The version list of agent `id`, in words.
pub fn flows_what(id: &str) -> String {
    format!("the flows of agent {id}")
}

/// One flow as listed: its small members as values, its graph as the JSON text it came in. The
/// graph is the bulk of a flow, and only its content's text and digest are kept, so it is
/// never built as a tree.
#[derive(Debug, Default)]
pub struct WireFlow {
    /// Every member but the graph.
    pub fields: WireObject,
    pub graph: Option<Box<RawValue>>,
}

/// The member of a flow that holds its graph.
pub const GRAPH: &str = "graph";

impl<'de> Deserialize<'de> for WireFlow {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(WireFlowVisitor)
    }
}

struct WireFlowVisitor;

impl<'de> serde::de::Visitor<'de> for WireFlowVisitor {
    type Value = WireFlow;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a flow object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<WireFlow, A::Error> {
        let mut flow = WireFlow::default();
        while let Some(name) = map.next_key::<String>()? {
            if name == GRAPH {
                flow.graph = Some(map.next_value()?);
            } else {
                let value: Value = map.next_value()?;
                flow.fields.insert(name, value);
            }
        }
        Ok(flow)
    }
}

/// What agentsync reads of a flow the platform answers a publish with: its version. The graph
/// echoed beside it is skipped by the JSON reader, not built (it can be large).
#[derive(Debug, Deserialize)]
pub struct FlowVersion {
    #[serde(default)]
    pub version: Option<Value>,
}

/// workfx's agent and flow endpoints over one [`HttpClient`].
#[derive(Debug, Clone)]
pub struct Api {
    http: HttpClient,
}

fn agent_path(id: &str) -> String {
    format!("{AGENTS}/{}", path_segment(id))
}

impl Api {
    pub fn new(http: HttpClient) -> Api {
        Api { http }
    }

    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    pub async fn list_agents(&self, page_num: u64) -> Result<AgentPage> {
        let what = agent_page_what(page_num);
        let request = ApiRequest::get(AGENTS, what.as_str())
            .query("page_num", page_num)
            .query("page_size", MAX_PAGE_SIZE)
            .query("order_by", LIST_ORDER);
        let page: PageWire<WireObject> = self.http.send(request).await?;
        page.checked(true, AGENT_LIST, &what)
    }

    /// One page of the agents whose name matches `name` (workfx's filter is fuzzy: a match
    /// holds at least every agent of exactly that name), oldest first like the full list.
    pub async fn list_agents_named(&self, name: &str, page_num: u64) -> Result<AgentPage> {
        let what = named_page_what(name, page_num);
        let request = ApiRequest::get(AGENTS, what.as_str())
            .query("page_num", page_num)
            .query("page_size", MAX_PAGE_SIZE)
            .query("order_by", LIST_ORDER)
            .query("name", name);
        let page: PageWire<WireObject> = self.http.send(request).await?;
        page.checked(true, AGENT_LIST, &what)
    }

    pub async fn get_agent(&self, id: &str) -> Result<WireObject> {
        let what = format!("agent {id}");
        self.http.send(ApiRequest::get(agent_path(id), what)).await
    }

    pub async fn create_agent(&self, body: &Value, what: &str) -> Result<WireObject> {
        self.http
            .send(ApiRequest::post(AGENTS, what).json(body))
            .await
    }

    /// An update: `body` holds every field of the update model the agent has (see
    /// `mapping::UPDATE_FIELDS`), so it does the same whether the platform keeps or resets the
    /// fields a body leaves out.
    pub async fn update_agent(&self, id: &str, body: &Value) -> Result<WireObject> {
        let what = format!("agent {id}");
        self.http
            .send(ApiRequest::put(agent_path(id), what).json(body))
            .await
    }

    pub async fn delete_agent(&self, id: &str) -> Result<()> {
        let what = format!("agent {id}");
        // The answer is `{}`; nothing in it matters.
        let _: Value = self
            .http
            .send(ApiRequest::delete(agent_path(id), what))
            .await?;
        Ok(())
    }

    pub async fn list_flows(&self, id: &str, page_num: u64, page_size: u32) -> Result<FlowPage> {
        let what = flows_what(id);
        let request = ApiRequest::get(format!("{}/flows", agent_path(id)), what.as_str())
            .query("page_num", page_num)
            .query("page_size", page_size);
        let page: PageWire<WireFlow> = self.http.send(request).await?;
        page.checked(false, FLOW_LIST, &what)
    }

    /// The draft flow, `None` when the agent has none (assumption 5: a 404).
    pub async fn get_draft(&self, id: &str) -> Result<Option<WireFlow>> {
        let what = format!("the draft of agent {id}");
        let request = ApiRequest::get(format!("{}/flows/draft", agent_path(id)), what);
        match self.http.send(request).await {
            Ok(flow) => Ok(Some(flow)),
            Err(ProviderError::NotFound { .. }) => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// Creates or replaces the draft (assumption 4) with `body`, JSON text. The answer echoes
    /// the draft; nothing in it is needed, so it is skipped unread.
    pub async fn write_draft(&self, id: &str, body: &str) -> Result<()> {
        let what = format!("the draft of agent {id}");
        let _: serde::de::IgnoredAny = self
            .http
            .send(ApiRequest::post(format!("{}/flows", agent_path(id)), what).json_text(body))
            .await?;
        Ok(())
    }

    /// Copies the draft into a new published version and answers its version (assumption 7).
    pub async fn publish(&self, id: &str) -> Result<FlowVersion> {
        let what = format!("the draft of agent {id}");
        self.http
            .send(ApiRequest::post(
                format!("{}/flows/publish", agent_path(id)),
                what,
            ))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenancy_is_sent_only_when_configured() {
        assert!(tenancy_query(None, None).is_empty());
        assert_eq!(
            tenancy_query(Some("t"), None),
            vec![("tenant_id".to_owned(), "t".to_owned())]
        );
        assert_eq!(tenancy_query(Some("t"), Some("u")).len(), 2);
    }

    #[test]
    fn agent_ids_cannot_change_the_path() {
        assert_eq!(agent_path("a/b"), "/admin/api/v2/agents/a%2Fb");
    }
}
