//! [`AnyProvider`]: one of the platforms, chosen by the configuration at run time. The
//! [`Provider`] trait returns `impl Future` (no boxing per request), so it cannot be a trait
//! object; this enum dispatches instead, and the engine stays generic over `P: Provider`.

use crate::model::content::Content;
use crate::model::{Document, Key, Lifecycle, Marker};
use crate::provider::agent_workflows::AgentWorkflowsProvider;
use crate::provider::http::HttpStats;
use crate::provider::workfx::WorkfxProvider;
use crate::provider::{Provider, ProviderKind, RemoteAgent, RemoteContent, Result};

/// The provider of a configured target.
#[derive(Debug, Clone)]
pub enum AnyProvider {
    Workfx(WorkfxProvider),
    AgentWorkflows(AgentWorkflowsProvider),
}

/// Calls the same method on whichever provider this is.
macro_rules! dispatch {
    ($self:ident, $p:ident => $call:expr) => {
        match $self {
            AnyProvider::Workfx($p) => $call,
            AnyProvider::AgentWorkflows($p) => $call,
        }
    };
}

impl AnyProvider {
    /// The HTTP counters (answers by status, retries), for metrics.
    pub fn http_stats(&self) -> HttpStats {
        dispatch!(self, p => p.http_stats())
    }
}

impl Provider for AnyProvider {
    fn kind(&self) -> ProviderKind {
        dispatch!(self, p => p.kind())
    }

    async fn list_agents(&self) -> Result<Vec<RemoteAgent>> {
        dispatch!(self, p => p.list_agents().await)
    }

    async fn find_agents(&self, key: &Key, name: Option<&str>) -> Result<Vec<RemoteAgent>> {
        dispatch!(self, p => p.find_agents(key, name).await)
    }

    async fn read_content(&self, id: &str) -> Result<RemoteContent> {
        dispatch!(self, p => p.read_content(id).await)
    }

    async fn create_agent(&self, marker: &Marker, fields: &Document) -> Result<RemoteAgent> {
        dispatch!(self, p => p.create_agent(marker, fields).await)
    }

    async fn update_agent(&self, id: &str, marker: &Marker, fields: &Document) -> Result<()> {
        dispatch!(self, p => p.update_agent(id, marker, fields).await)
    }

    async fn claim_agent(&self, id: &str, marker: &Marker) -> Result<()> {
        dispatch!(self, p => p.claim_agent(id, marker).await)
    }

    async fn set_lifecycle(&self, id: &str, lifecycle: Lifecycle) -> Result<()> {
        dispatch!(self, p => p.set_lifecycle(id, lifecycle).await)
    }

    async fn set_lifecycle_and_marker(
        &self,
        id: &str,
        lifecycle: Lifecycle,
        marker: &Marker,
    ) -> Result<()> {
        dispatch!(self, p => p.set_lifecycle_and_marker(id, lifecycle, marker).await)
    }

    async fn write_draft(&self, id: &str, content: &Content) -> Result<()> {
        dispatch!(self, p => p.write_draft(id, content).await)
    }

    async fn publish(&self, id: &str) -> Result<String> {
        dispatch!(self, p => p.publish(id).await)
    }

    async fn delete_agent(&self, id: &str) -> Result<()> {
        dispatch!(self, p => p.delete_agent(id).await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::agent_workflows::AgentWorkflowsSettings;
    use crate::provider::workfx::WorkfxSettings;

    fn assert_send<T: Send>(_: &T) {}

    #[test]
    fn every_operation_of_every_provider_can_run_on_a_multi_threaded_runtime() {
        let url = reqwest::Url::parse("http://127.0.0.1:9").expect("a URL");
        let providers = [
            AnyProvider::Workfx(
                WorkfxProvider::new(WorkfxSettings::new(url.clone())).expect("set up"),
            ),
            AnyProvider::AgentWorkflows(
                AgentWorkflowsProvider::new(AgentWorkflowsSettings::new(url)).expect("set up"),
            ),
        ];
        let key = Marker::new(crate::model::Key::parse("k").expect("a key"), false);
        let fields = Document::new();
        for provider in &providers {
            // Futures are only built here, never polled: no request is made.
            assert_send(&provider.list_agents());
            assert_send(&provider.find_agents(&key.key, Some("name")));
            assert_send(&provider.set_lifecycle_and_marker("1", Lifecycle::Archived, &key));
            assert_send(&provider.read_content("1"));
            assert_send(&provider.create_agent(&key, &fields));
            assert_send(&provider.update_agent("1", &key, &fields));
            assert_send(&provider.claim_agent("1", &key));
            assert_send(&provider.set_lifecycle("1", Lifecycle::Active));
            assert_send(&provider.write_draft("1", &Content::new(&fields)));
            assert_send(&provider.publish("1"));
            assert_send(&provider.delete_agent("1"));
        }
    }
}
