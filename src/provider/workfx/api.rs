//! workfx's endpoints and the envelopes of its answers: the only place that knows workfx's URL
//! paths and query parameters. Agents and flows travel as JSON objects ([`WireObject`]); only
//! `mapping` reads their fields.

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::http::{ApiRequest, HttpClient, path_segment};
use crate::provider::Result;

/// An agent or a flow as workfx sends it.
pub type WireObject = Map<String, Value>;

const AGENTS: &str = "/admin/api/v2/agents";

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

/// One page of `GET /agents`.
#[derive(Debug, Deserialize)]
pub struct AgentPage {
    /// Documented for agents; absent, the pages are followed one by one.
    #[serde(default)]
    pub total_pages: Option<u64>,
    #[serde(default)]
    pub has_next_page: bool,
    pub data: Vec<WireObject>,
}

/// One page of `GET /agents/{id}/flows` (`FlowVersionListResponse`: no `total_pages`).
#[derive(Debug, Deserialize)]
pub struct FlowPage {
    #[serde(default)]
    pub has_next_page: bool,
    pub data: Vec<WireFlow>,
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
        let request = ApiRequest::get(AGENTS, format!("the agent list (page {page_num})"))
            .query("page_num", page_num)
            .query("page_size", MAX_PAGE_SIZE)
            .query("order_by", LIST_ORDER);
        self.http.send(request).await
    }

    /// One page of the agents whose name matches `name` (workfx's filter is fuzzy: a match
    /// holds at least every agent of exactly that name), oldest first like the full list.
    pub async fn list_agents_named(&self, name: &str, page_num: u64) -> Result<AgentPage> {
        let request = ApiRequest::get(
            AGENTS,
            format!("the agents named {name:?} (page {page_num})"),
        )
        .query("page_num", page_num)
        .query("page_size", MAX_PAGE_SIZE)
        .query("order_by", LIST_ORDER)
        .query("name", name);
        self.http.send(request).await
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

    /// A partial update: fields the body leaves out keep their value.
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
        let what = format!("the flows of agent {id}");
        let request = ApiRequest::get(format!("{}/flows", agent_path(id)), what)
            .query("page_num", page_num)
            .query("page_size", page_size);
        self.http.send(request).await
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
