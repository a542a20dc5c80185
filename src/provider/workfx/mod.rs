//! The workfx platform: its definition format, and [`WorkfxProvider`], its API client.
//!
//! `api` holds the endpoints, `mapping` the field names (the marker in `extend_properties` is
//! written by the shared [`crate::provider::marker`]); this module strings them into the
//! [`Provider`] operations. Requests per operation: list: 1 + (pages - 1), pages after the first
//! fetched concurrently; find_agents: 1 per page of the agents of one name; read_content: 1
//! (more only if the platform breaks the documented order); create, update, set_lifecycle,
//! write_draft, publish, delete: 1; claim, set_lifecycle_and_marker: 2 (read, then write); an
//! update with no fields: 0.

pub mod api;
pub mod definition;
pub mod mapping;

use std::collections::HashSet;

use futures_util::{StreamExt, TryStreamExt, stream};
use reqwest::Url;

use self::api::{Api, MAX_PAGE_SIZE, NEWEST_FLOWS, WireFlow};
use crate::content::Content;
use crate::http::{HttpClient, HttpSettings, HttpStats, Secret, SetupError};
use crate::model::{Document, Key, Lifecycle, Marker};
use crate::provider::{Provider, ProviderError, ProviderKind, RemoteAgent, RemoteContent, Result};

/// A list longer than this many pages is taken for a platform that never says "last page".
const MAX_PAGES: u64 = 100_000;

/// Where and as whom to reach workfx.
#[derive(Debug, Clone)]
pub struct WorkfxSettings {
    /// The platform's root, e.g. `https://api.workfx.ai` or a simulator's base URL.
    pub base_url: Url,
    pub token: Option<Secret>,
    pub tenant_id: Option<String>,
    pub tenant_unit_id: Option<String>,
    pub http: HttpSettings,
}

impl WorkfxSettings {
    /// No token, no tenancy, the default HTTP policy.
    pub fn new(base_url: Url) -> WorkfxSettings {
        WorkfxSettings {
            base_url,
            token: None,
            tenant_id: None,
            tenant_unit_id: None,
            http: HttpSettings::default(),
        }
    }
}

/// The workfx API client, as the engine uses it.
#[derive(Debug, Clone)]
pub struct WorkfxProvider {
    api: Api,
}

impl WorkfxProvider {
    pub fn new(settings: WorkfxSettings) -> Result<WorkfxProvider, SetupError> {
        let query = api::tenancy_query(
            settings.tenant_id.as_deref(),
            settings.tenant_unit_id.as_deref(),
        );
        let http = HttpClient::new(settings.base_url, settings.token, query, settings.http)?;
        Ok(WorkfxProvider {
            api: Api::new(http),
        })
    }

    /// The HTTP counters (answers by status, retries), for metrics.
    pub fn http_stats(&self) -> HttpStats {
        self.api.http().stats()
    }

    /// Every flow of an agent, page by page: only when the first page cannot be trusted.
    async fn all_flows(&self, id: &str) -> Result<Vec<WireFlow>> {
        let mut flows = Vec::new();
        for page_num in 1..=MAX_PAGES {
            let page = self.api.list_flows(id, page_num, MAX_PAGE_SIZE).await?;
            let last = !page.has_next_page || page.data.is_empty();
            flows.extend(page.data);
            if last {
                return Ok(flows);
            }
        }
        Err(too_many_pages(format!("the flows of agent {id}")))
    }
}

fn too_many_pages(what: String) -> ProviderError {
    ProviderError::Protocol {
        what,
        message: format!("more than {MAX_PAGES} pages"),
    }
}

impl Provider for WorkfxProvider {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Workfx
    }

    async fn list_agents(&self) -> Result<Vec<RemoteAgent>> {
        let first = self.api.list_agents(1).await?;
        let mut more = first.has_next_page;
        let mut next = 2;
        let mut wire = first.data;
        if let Some(total) = first.total_pages.filter(|total| *total >= 2) {
            let total = total.min(MAX_PAGES);
            // As many at once as the client lets through; the client holds the real limit.
            let at_once = self.api.http().settings().max_in_flight.max(1);
            let rest: Vec<_> = stream::iter(2..=total)
                .map(|page_num| self.api.list_agents(page_num))
                .buffered(at_once)
                .try_collect()
                .await?;
            more = rest.last().is_some_and(|page| page.has_next_page);
            next = total + 1;
            wire.extend(rest.into_iter().flat_map(|page| page.data));
        }
        // Pages added while listing, or a platform that gives no total: one by one.
        while more {
            if next > MAX_PAGES {
                return Err(too_many_pages("the agent list".to_owned()));
            }
            let page = self.api.list_agents(next).await?;
            more = page.has_next_page && !page.data.is_empty();
            wire.extend(page.data);
            next += 1;
        }
        // A page boundary that moved while listing can repeat an agent; each counts once.
        let mut seen = HashSet::new();
        let mut agents = Vec::with_capacity(wire.len());
        for object in &wire {
            let agent = mapping::agent_from_wire(object, "the agent list")?;
            if seen.insert(agent.id.clone()) {
                agents.push(agent);
            }
        }
        Ok(agents)
    }

    async fn find_agents(&self, key: &Key, name: Option<&str>) -> Result<Vec<RemoteAgent>> {
        let Some(name) = name else {
            let agents = self.list_agents().await?;
            return Ok(agents
                .into_iter()
                .filter(|a| a.key.as_ref() == Some(key))
                .collect());
        };
        // Few agents share a name: the pages are read one by one.
        let mut found = Vec::new();
        let mut seen = HashSet::new();
        for page_num in 1..=MAX_PAGES {
            let page = self.api.list_agents_named(name, page_num).await?;
            let last = !page.has_next_page || page.data.is_empty();
            for object in &page.data {
                let agent = mapping::agent_from_wire(object, "the agents of one name")?;
                if agent.key.as_ref() == Some(key) && seen.insert(agent.id.clone()) {
                    found.push(agent);
                }
            }
            if last {
                return Ok(found);
            }
        }
        Err(too_many_pages(format!("the agents named {name:?}")))
    }

    async fn read_content(&self, id: &str) -> Result<RemoteContent> {
        let page = self.api.list_flows(id, 1, NEWEST_FLOWS).await?;
        let flows = if !page.has_next_page || mapping::in_documented_order(&page.data) {
            page.data
        } else {
            tracing::warn!(
                agent = id,
                "the flows of this agent are not listed draft first, newest first; reading them all"
            );
            self.all_flows(id).await?
        };
        mapping::content_from_flows(flows)
    }

    async fn create_agent(&self, marker: &Marker, fields: &Document) -> Result<RemoteAgent> {
        let what = format!("the new agent '{}'", marker.key);
        let created = self
            .api
            .create_agent(&mapping::create_body(marker, fields), &what)
            .await?;
        mapping::agent_from_wire(&created, &what)
    }

    async fn update_agent(&self, id: &str, _marker: &Marker, fields: &Document) -> Result<()> {
        if fields.is_empty() {
            return Ok(());
        }
        let body = mapping::update_body(fields, &format!("the update of agent {id}"))?;
        self.api.update_agent(id, &body).await?;
        Ok(())
    }

    async fn claim_agent(&self, id: &str, marker: &Marker) -> Result<()> {
        // workfx replaces extend_properties whole, so the others are read first and sent back.
        let agent = self.api.get_agent(id).await?;
        self.api
            .update_agent(id, &mapping::claim_body(&agent, marker))
            .await?;
        Ok(())
    }

    async fn set_lifecycle(&self, id: &str, lifecycle: Lifecycle) -> Result<()> {
        self.api
            .update_agent(id, &mapping::lifecycle_body(lifecycle))
            .await?;
        Ok(())
    }

    async fn set_lifecycle_and_marker(
        &self,
        id: &str,
        lifecycle: Lifecycle,
        marker: &Marker,
    ) -> Result<()> {
        // One write: the status beside extend_properties, read first as for a claim.
        let agent = self.api.get_agent(id).await?;
        self.api
            .update_agent(
                id,
                &mapping::lifecycle_claim_body(&agent, lifecycle, marker),
            )
            .await?;
        Ok(())
    }

    async fn write_draft(&self, id: &str, content: &Content) -> Result<()> {
        self.api
            .write_draft(id, &mapping::draft_body(content))
            .await
    }

    async fn publish(&self, id: &str) -> Result<String> {
        let published = self.api.publish(id).await?;
        mapping::published_version(&published, &format!("the publication of agent {id}"))
    }

    async fn delete_agent(&self, id: &str) -> Result<()> {
        match self.api.delete_agent(id).await {
            // Already gone (perhaps by an earlier attempt whose answer was lost): done.
            Err(ProviderError::NotFound { .. }) => {
                tracing::debug!(agent = id, "agent already deleted");
                Ok(())
            }
            other => other,
        }
    }
}
