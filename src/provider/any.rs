//! [`AnyProvider`]: one of the platforms, chosen by the configuration at run time. The
//! [`Provider`] trait returns `impl Future` (no boxing per request), so it cannot be a trait
//! object; this enum dispatches instead, and the engine stays generic over `P: Provider`.

use crate::http::HttpStats;
use crate::model::{Document, Lifecycle, Marker};
use crate::provider::agent_workflows::AgentWorkflowsProvider;
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

    async fn write_draft(&self, id: &str, content: &Document) -> Result<()> {
        dispatch!(self, p => p.write_draft(id, content).await)
    }

    async fn publish(&self, id: &str) -> Result<String> {
        dispatch!(self, p => p.publish(id).await)
    }

    async fn delete_agent(&self, id: &str) -> Result<()> {
        dispatch!(self, p => p.delete_agent(id).await)
    }
}
