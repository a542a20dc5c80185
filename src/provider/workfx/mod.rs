//! The workfx platform: its definition format, and [`WorkfxProvider`], its API client. Where
//! the vendor docs are silent it relies on exactly `docs/workfx-contract.md`.
//!
//! `api` holds the endpoints, `mapping` the field names (the marker in `extend_properties` is
//! written by the shared [`crate::provider::marker`]), `paging` what a list must be to be
//! believed; this module strings them into the [`Provider`] operations. Requests per
//! operation: list: 1 + (pages - 1), pages after the first fetched concurrently; find_agents:
//! 1 per page of the agents of one name; read_content: 1 (+1 to read the draft when the first
//! page holds the newest versions but not it; every page when the versions are out of order);
//! create, update, set_lifecycle, write_draft, publish, delete: 1 (update and set_lifecycle +1
//! to read the agent when it was neither listed nor written in this run); claim,
//! set_lifecycle_and_marker: 2 (read, then write); an update with no fields: 0.

pub mod api;
pub mod definition;
pub mod mapping;
pub mod paging;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use futures_util::{StreamExt, TryStreamExt, stream};
use reqwest::Url;
use serde_json::Value;

use self::api::{AGENT_LIST, Api, FLOW_LIST, MAX_PAGE_SIZE, NEWEST_FLOWS, WireFlow, WireObject};
use self::mapping::FirstPage;
use self::paging::Walk;
use crate::model::content::Content;
use crate::model::{Document, Key, Lifecycle, Marker};
use crate::provider::http::{HttpClient, HttpSettings, HttpStats, Secret, SetupError};
use crate::provider::{
    Account, Capabilities, Platform, Provider, ProviderError, ProviderKind, RemoteAgent,
    RemoteContent, Result,
};

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
    /// Each agent's update-model fields as last listed or written: the base of its next update
    /// (`mapping::UPDATE_FIELDS`), so that an update costs no read.
    known: Arc<Known>,
    /// Set once a create came back without agentsync's marker: no other create is sent in
    /// this run, each would leave one more agent agentsync cannot recognise.
    marker_lost: Arc<AtomicBool>,
}

/// What the provider knows of each agent's update-model fields, and when it learnt it: a list
/// that began before a write does not undo what the write set.
#[derive(Debug, Default)]
struct Known(Mutex<KnownState>);

#[derive(Debug, Default)]
struct KnownState {
    /// Ticks once per list begun and per write done.
    clock: u64,
    agents: HashMap<String, (u64, WireObject)>,
}

impl Known {
    // Single inserts and replacements: a panic elsewhere cannot leave the map inconsistent.
    fn lock(&self) -> std::sync::MutexGuard<'_, KnownState> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn tick(state: &mut KnownState) -> u64 {
        state.clock += 1;
        state.clock
    }

    /// When a list begins.
    fn list_begins(&self) -> u64 {
        Known::tick(&mut self.lock())
    }

    /// What a list begun at `began` found: it replaces what was known before it began.
    fn listed(&self, began: u64, listed: HashMap<String, WireObject>) {
        let mut state = self.lock();
        state
            .agents
            .retain(|id, (when, _)| *when > began || listed.contains_key(id));
        for (id, base) in listed {
            match state.agents.get(&id) {
                Some((when, _)) if *when > began => {}
                _ => {
                    state.agents.insert(id, (began, base));
                }
            }
        }
    }

    /// What a write (or a create) just set.
    fn wrote(&self, id: &str, base: WireObject) {
        let mut state = self.lock();
        let now = Known::tick(&mut state);
        state.agents.insert(id.to_owned(), (now, base));
    }

    fn get(&self, id: &str) -> Option<WireObject> {
        self.lock().agents.get(id).map(|(_, base)| base.clone())
    }

    fn forget(&self, id: &str) {
        self.lock().agents.remove(id);
    }
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
            known: Arc::default(),
            marker_lost: Arc::default(),
        })
    }

    /// The HTTP counters (answers by status, retries), for metrics.
    pub fn http_stats(&self) -> HttpStats {
        self.api.http().stats()
    }

    /// Every page of the agent list, as its first page announced them, and what they announced
    /// (for [`Walk::finish`], once the agents are counted).
    async fn agent_pages(&self) -> Result<(Vec<api::AgentPage>, Walk)> {
        let first = self.api.list_agents(1).await?;
        let mut walk = Walk::start(&first.info, MAX_PAGE_SIZE)
            .map_err(|problem| api::broken(AGENT_LIST, &api::agent_page_what(1), problem))?;
        // As many at once as the client lets through; the client holds the real limit.
        let at_once = self.api.http().settings().max_in_flight.max(1);
        let rest: Vec<_> = stream::iter(2..=walk.pages())
            .map(|page_num| self.api.list_agents(page_num))
            .buffered(at_once)
            .try_collect()
            .await?;
        let mut pages = Vec::with_capacity(rest.len() + 1);
        pages.push(first);
        for (page_num, page) in (2..).zip(rest) {
            walk.next(page_num, &page.info).map_err(|problem| {
                api::broken(AGENT_LIST, &api::agent_page_what(page_num), problem)
            })?;
            pages.push(page);
        }
        Ok((pages, walk))
    }

    /// Every flow of an agent, page by page, as many pages as the first announced: only when
    /// the first page of its newest flows cannot be trusted.
    async fn all_flows(&self, id: &str) -> Result<Vec<WireFlow>> {
        let what = api::flows_what(id);
        let broken = |problem| api::broken(FLOW_LIST, &what, problem);
        let first = self.api.list_flows(id, 1, MAX_PAGE_SIZE).await?;
        let mut walk = Walk::start(&first.info, MAX_PAGE_SIZE).map_err(broken)?;
        let mut more = first.info.has_next_page;
        let mut seen = HashSet::new();
        let mut flows = Vec::new();
        keep_new_flows(&mut seen, &mut flows, first.data);
        for page_num in 2..=walk.pages() {
            if !more {
                break;
            }
            let page = self.api.list_flows(id, page_num, MAX_PAGE_SIZE).await?;
            walk.next(page_num, &page.info).map_err(broken)?;
            more = page.info.has_next_page;
            // A page of nothing new ends the list: a publish while reading, newest first,
            // repeats the items at a page boundary, and nothing else may.
            if keep_new_flows(&mut seen, &mut flows, page.data) == 0 {
                break;
            }
        }
        walk.finish(flows.len() as u64).map_err(broken)?;
        Ok(flows)
    }

    /// The update base of agent `id`: as known, else read (one request).
    async fn base_of(&self, id: &str) -> Result<WireObject> {
        match self.known.get(id) {
            Some(base) => Ok(base),
            None => Ok(mapping::update_base(self.api.get_agent(id).await?)),
        }
    }

    /// Sends a whole update body, and remembers it as the agent's new base.
    async fn put(&self, id: &str, body: WireObject) -> Result<()> {
        let body = Value::Object(body);
        self.api.update_agent(id, &body).await?;
        if let Value::Object(base) = body {
            self.known.wrote(id, base);
        }
        Ok(())
    }
}

/// Adds the flows of a page not seen before; answers how many were new.
fn keep_new_flows(
    seen: &mut HashSet<String>,
    flows: &mut Vec<WireFlow>,
    page: Vec<WireFlow>,
) -> usize {
    let before = flows.len();
    for flow in page {
        let new = match mapping::flow_identity(&flow) {
            Some(identity) => seen.insert(identity.to_owned()),
            None => true,
        };
        if new {
            flows.push(flow);
        }
    }
    flows.len() - before
}

impl Platform for WorkfxProvider {
    const NAME: &'static str = "workfx";
    const ABOUT: &'static str = "workfx: agents with chat and voice flows (`/admin/api/v2`)";
    const SCHEMA: &'static crate::spec::schema::DefinitionSchema = &definition::SCHEMA;
    const CAPABILITIES: Capabilities = Capabilities {
        publish: true,
        archive: true,
        delete: true,
        tenancy: true,
        markers: true,
    };
    const SIMULATOR: crate::sim::Platform = crate::sim::Platform::Workfx;

    fn connect(account: Account) -> std::result::Result<Self, SetupError> {
        WorkfxProvider::new(WorkfxSettings {
            base_url: account.base_url,
            token: account.token,
            tenant_id: account.tenant_id,
            tenant_unit_id: account.tenant_unit_id,
            http: HttpSettings::with_max_in_flight(account.concurrency),
        })
    }
}

impl Provider for WorkfxProvider {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Workfx
    }

    async fn list_agents(&self) -> Result<Vec<RemoteAgent>> {
        let began = self.known.list_begins();
        let (pages, walk) = self.agent_pages().await?;
        let total = pages.iter().map(|page| page.data.len()).sum();
        let mut agents = Vec::with_capacity(total);
        let mut bases = HashMap::with_capacity(total);
        for (page_num, page) in (1..).zip(pages) {
            let what = api::agent_page_what(page_num);
            let before = agents.len();
            for object in page.data {
                let agent = mapping::agent_from_wire(&object, &what)?;
                if bases.contains_key(&agent.id) {
                    // Twice on one page is a contradiction; on two pages, a page boundary
                    // that moved while listing, and each agent counts once.
                    if agents[before..]
                        .iter()
                        .any(|a: &RemoteAgent| a.id == agent.id)
                    {
                        let problem = format!("it lists agent {} twice", agent.id);
                        return Err(api::broken(AGENT_LIST, &what, problem));
                    }
                    continue;
                }
                bases.insert(agent.id.clone(), mapping::update_base(object));
                agents.push(agent);
            }
        }
        walk.finish(agents.len() as u64)
            .map_err(|problem| api::broken(AGENT_LIST, "the agent list", problem))?;
        self.known.listed(began, bases);
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
        // Few agents share a name: the pages are read one by one, as many as the first
        // announced, and believed as the full list is (`paging`).
        let broken = |page_num, problem| {
            api::broken(AGENT_LIST, &api::named_page_what(name, page_num), problem)
        };
        let first = self.api.list_agents_named(name, 1).await?;
        let mut walk =
            Walk::start(&first.info, MAX_PAGE_SIZE).map_err(|problem| broken(1, problem))?;
        let mut found = Vec::new();
        let mut seen = HashSet::new();
        let mut keep = |page: api::AgentPage, page_num| -> Result<()> {
            for object in &page.data {
                let agent =
                    mapping::agent_from_wire(object, &api::named_page_what(name, page_num))?;
                if seen.insert(agent.id.clone()) && agent.key.as_ref() == Some(key) {
                    found.push(agent);
                }
            }
            Ok(())
        };
        keep(first, 1)?;
        for page_num in 2..=walk.pages() {
            let page = self.api.list_agents_named(name, page_num).await?;
            walk.next(page_num, &page.info)
                .map_err(|problem| broken(page_num, problem))?;
            keep(page, page_num)?;
        }
        walk.finish(seen.len() as u64)
            .map_err(|problem| broken(walk.pages(), problem))?;
        Ok(found)
    }

    async fn read_content(&self, id: &str) -> Result<RemoteContent> {
        let page = self.api.list_flows(id, 1, NEWEST_FLOWS).await?;
        paging::check_first_page(&page.info, NEWEST_FLOWS)
            .map_err(|problem| api::broken(FLOW_LIST, &api::flows_what(id), problem))?;
        let complete = !page.info.has_next_page || page.info.total_count <= page.info.items;
        let mut flows = page.data;
        if !complete {
            match mapping::first_page(&flows) {
                FirstPage::Enough => {}
                FirstPage::DraftElsewhere => flows.extend(self.api.get_draft(id).await?),
                FirstPage::Unordered => {
                    tracing::warn!(
                        agent = id,
                        "the newest flows of this agent are not listed newest first; reading them all"
                    );
                    flows = self.all_flows(id).await?;
                }
            }
        }
        mapping::content_from_flows(flows)
    }

    async fn create_agent(&self, marker: &Marker, fields: &Document) -> Result<RemoteAgent> {
        let what = format!("the new agent '{}'", marker.key);
        if self.marker_lost.load(Ordering::SeqCst) {
            return Err(ProviderError::Protocol {
                what,
                message: "not sent: the platform kept none of agentsync's marker on an agent \
                          created before in this run (see that error)"
                    .to_owned(),
            });
        }
        let created = self
            .api
            .create_agent(&mapping::create_body(marker, fields), &what)
            .await?;
        let agent = mapping::agent_from_wire(&created, &what)?;
        if let Some(message) = mapping::marker_lost(&agent, marker) {
            // Without the marker the next run would not recognise this agent and would create
            // it again: stop here instead (docs/workfx-contract.md, "Identity").
            self.marker_lost.store(true, Ordering::SeqCst);
            return Err(ProviderError::Protocol { what, message });
        }
        self.known.wrote(&agent.id, mapping::update_base(created));
        Ok(agent)
    }

    async fn update_agent(&self, id: &str, marker: &Marker, fields: &Document) -> Result<()> {
        if fields.is_empty() {
            return Ok(());
        }
        mapping::check_updatable(fields, &format!("the update of agent {id}"))?;
        let base = self.base_of(id).await?;
        self.put(id, mapping::update_body(base, marker, fields))
            .await
    }

    async fn claim_agent(&self, id: &str, marker: &Marker) -> Result<()> {
        // Read first: its other extend_properties (and every other field) are sent back.
        let agent = self.api.get_agent(id).await?;
        self.put(id, mapping::claim_body(agent, marker)).await
    }

    async fn set_lifecycle(&self, id: &str, lifecycle: Lifecycle) -> Result<()> {
        let base = self.base_of(id).await?;
        self.put(id, mapping::lifecycle_body(base, lifecycle)).await
    }

    async fn set_lifecycle_and_marker(
        &self,
        id: &str,
        lifecycle: Lifecycle,
        marker: &Marker,
    ) -> Result<()> {
        // One write: the status beside extend_properties, read first as for a claim.
        let agent = self.api.get_agent(id).await?;
        self.put(id, mapping::lifecycle_claim_body(agent, lifecycle, marker))
            .await
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
        let deleted = match self.api.delete_agent(id).await {
            // Already gone (perhaps by an earlier attempt whose answer was lost): done.
            Err(ProviderError::NotFound { .. }) => {
                tracing::debug!(agent = id, "agent already deleted");
                Ok(())
            }
            other => other,
        };
        if deleted.is_ok() {
            self.known.forget(id);
        }
        deleted
    }
}
