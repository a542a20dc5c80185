//! The Agent Workflows voice-agent platform (`shared/api/agent-workflows.md`): its definition
//! format, and [`AgentWorkflowsProvider`], its API client. Where the vendor docs are silent it
//! relies on exactly `docs/agent-workflows-contract.md`.
//!
//! `api` holds the endpoints, `mapping` the field names; this module strings them into the
//! [`Provider`] operations. Requests per operation: list: 1 + one get per agent (the list carries
//! no configuration, so the marker is only found in each agent's full answer), run up to the
//! configured concurrency; find_agents: 1 + one get per agent of the name; read_content: 0
//! after a list (the full answers are kept for the run), 1 otherwise; create: 1 (+1 to set a
//! folder); update: 1 per part changed (name and configuration; folder); claim: 2;
//! set_lifecycle: 1; set_lifecycle_and_marker: 3; write_draft: 1 (+1 to open a draft when
//! none is open); publish: 2 (validate, then publish; +1 to locate the problems of an invalid
//! draft); delete: not possible.

pub mod api;
pub mod definition;
pub mod mapping;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};

use futures_util::{StreamExt, TryStreamExt, stream};
use reqwest::Url;

use self::api::{Api, WireObject};
use crate::model::content::Content;
use crate::model::{Document, Key, Lifecycle, Marker};
use crate::provider::http::{HttpClient, HttpSettings, HttpStats, Secret, SetupError};
use crate::provider::{
    Account, Capabilities, DraftProblem, Platform, Provider, ProviderError, ProviderKind,
    RemoteAgent, RemoteContent, Result,
};

/// Where and as whom to reach the platform.
#[derive(Debug, Clone)]
pub struct AgentWorkflowsSettings {
    /// The API root, under which `/workflow/...` lives.
    pub base_url: Url,
    pub token: Option<Secret>,
    /// How many agents are read at once while listing.
    pub concurrency: usize,
    pub http: HttpSettings,
}

impl AgentWorkflowsSettings {
    /// No token, the default concurrency and HTTP policy.
    pub fn new(base_url: Url) -> AgentWorkflowsSettings {
        AgentWorkflowsSettings {
            base_url,
            token: None,
            concurrency: crate::provider::DEFAULT_CONCURRENCY as usize,
            http: HttpSettings::default(),
        }
    }
}

/// The Agent Workflows API client, as the engine uses it.
#[derive(Debug, Clone)]
pub struct AgentWorkflowsProvider {
    api: Api,
    concurrency: usize,
    /// The full answers of the last list, each taken by the first content read of its agent:
    /// a run never reads twice what the list already read, and a later read (after a write)
    /// asks the platform again.
    listed: Arc<Mutex<HashMap<String, WireObject>>>,
    /// Whether each agent seen has an open draft, so that a draft write opens one first
    /// instead of learning it from a refusal.
    open_drafts: Arc<Mutex<HashMap<String, bool>>>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Single inserts and removals: a panic elsewhere cannot leave these maps inconsistent.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl AgentWorkflowsProvider {
    pub fn new(settings: AgentWorkflowsSettings) -> Result<AgentWorkflowsProvider, SetupError> {
        let http = HttpClient::new(settings.base_url, settings.token, Vec::new(), settings.http)?;
        Ok(AgentWorkflowsProvider {
            api: Api::new(http),
            concurrency: settings.concurrency.max(1),
            listed: Arc::default(),
            open_drafts: Arc::default(),
        })
    }

    /// The HTTP counters (answers by status, retries), for metrics.
    pub fn http_stats(&self) -> HttpStats {
        self.api.http().stats()
    }

    /// Remembers what a full answer says about the agent's draft.
    fn saw(&self, wire: &WireObject) {
        if let Some(id) = mapping::agent_id(wire) {
            lock(&self.open_drafts).insert(id, mapping::has_open_draft(wire));
        }
    }

    async fn get(&self, id: &str) -> Result<WireObject> {
        let wire = self.api.get(id).await?;
        self.saw(&wire);
        Ok(wire)
    }

    /// The full answer of each agent of `ids`, in their order, up to `concurrency` at once;
    /// `None` for one gone between the list and its read (it is not there any more).
    async fn read_each(&self, ids: Vec<String>) -> Result<Vec<Option<WireObject>>> {
        stream::iter(ids)
            .map(|id| async move {
                match self.get(&id).await {
                    Ok(wire) => Ok(Some(wire)),
                    Err(ProviderError::NotFound { .. }) => Ok(None),
                    Err(err) => Err(err),
                }
            })
            .buffered(self.concurrency)
            .try_collect()
            .await
    }

    /// Opens a draft; one that is already open (a 409) is as good.
    async fn open_draft(&self, id: &str) -> Result<()> {
        match self.api.create_draft(id).await {
            Ok(wire) => {
                self.saw(&wire);
                Ok(())
            }
            Err(ProviderError::Rejected { status: 409, .. }) => {
                lock(&self.open_drafts).insert(id.to_owned(), true);
                Ok(())
            }
            Err(err) => Err(err),
        }
    }

    async fn put_draft(&self, id: &str, body: &str) -> Result<WireObject> {
        self.api
            .update_text(id, body, &format!("the draft of agent {id}"))
            .await
    }
}

impl Platform for AgentWorkflowsProvider {
    const NAME: &'static str = "agent-workflows";
    const ABOUT: &'static str = "Agent Workflows: voice agents with workflow graphs (`/workflow`)";
    const SCHEMA: &'static crate::spec::schema::DefinitionSchema = &definition::SCHEMA;
    const CAPABILITIES: Capabilities = Capabilities {
        publish: true,
        archive: true,
        delete: false,
        tenancy: false,
        markers: true,
    };
    const SIMULATOR: crate::sim::Platform = crate::sim::Platform::AgentWorkflows;

    fn connect(account: Account) -> std::result::Result<Self, SetupError> {
        AgentWorkflowsProvider::new(AgentWorkflowsSettings {
            base_url: account.base_url,
            token: account.token,
            concurrency: account.concurrency,
            http: HttpSettings::with_max_in_flight(account.concurrency),
        })
    }
}

impl Provider for AgentWorkflowsProvider {
    fn kind(&self) -> ProviderKind {
        ProviderKind::AgentWorkflows
    }

    async fn list_agents(&self) -> Result<Vec<RemoteAgent>> {
        let list = self.api.list().await?;
        let ids: Vec<String> = list
            .workflows
            .iter()
            .map(|summary| {
                mapping::agent_id(summary).ok_or_else(|| ProviderError::Protocol {
                    what: "the agent list".to_owned(),
                    message: "an agent without an id".to_owned(),
                })
            })
            .collect::<Result<_>>()?;
        // One answer, no pages: an agent in it twice is a contradiction, not a moved boundary.
        let mut seen = HashSet::with_capacity(ids.len());
        if let Some(twice) = ids.iter().find(|id| !seen.insert(id.as_str())) {
            return Err(ProviderError::BrokenAnswer {
                endpoint: api::LIST_ENDPOINT.to_owned(),
                what: "the agent list".to_owned(),
                problem: format!("it lists agent {twice} twice"),
            });
        }
        let full = self.read_each(ids).await?;
        let mut agents = Vec::with_capacity(full.len());
        let mut listed = HashMap::with_capacity(full.len());
        for wire in full.into_iter().flatten() {
            let agent = mapping::agent_from_wire(&wire, "the agent list")?;
            listed.insert(agent.id.clone(), wire);
            agents.push(agent);
        }
        *lock(&self.listed) = listed;
        Ok(agents)
    }

    async fn find_agents(&self, key: &Key, name: Option<&str>) -> Result<Vec<RemoteAgent>> {
        // The list carries names but no configuration: only the namesakes are read for their
        // markers, in list order (by id, so oldest first: contract 2 and 3).
        let list = self.api.list().await?;
        let ids: Vec<String> = list
            .workflows
            .iter()
            .filter(|summary| name.is_none_or(|name| mapping::agent_name(summary) == Some(name)))
            .filter_map(mapping::agent_id)
            .collect();
        let full = self.read_each(ids).await?;
        let mut found = Vec::new();
        for wire in full.into_iter().flatten() {
            let agent = mapping::agent_from_wire(&wire, "the agents of one name")?;
            if agent.key.as_ref() == Some(key) {
                found.push(agent);
            }
        }
        Ok(found)
    }

    async fn read_content(&self, id: &str) -> Result<RemoteContent> {
        let cached = lock(&self.listed).remove(id);
        let wire = match cached {
            Some(wire) => wire,
            None => self.get(id).await?,
        };
        let mut content = mapping::content_from_wire(&wire);
        if content.live.is_some() && !mapping::tells_live_version(&wire) {
            // The full answer should name the live version (contract 4); if it does not, the
            // version list's first item does.
            content.live_version = self
                .api
                .newest_version(id)
                .await?
                .as_ref()
                .and_then(mapping::version_name);
        }
        Ok(content)
    }

    async fn create_agent(&self, marker: &Marker, fields: &Document) -> Result<RemoteAgent> {
        let what = format!("the new agent '{}'", marker.key);
        let created = self
            .api
            .create(&mapping::create_body(marker, fields), &what)
            .await?;
        self.saw(&created);
        let agent = mapping::agent_from_wire(&created, &what)?;
        if agent.key.as_ref() != Some(&marker.key) {
            // Without the marker the next run would not recognise this agent and would create
            // it again: stop here instead (contract 14).
            return Err(ProviderError::Protocol {
                what,
                message: format!(
                    "agent {} was created, but the platform dropped agentsync's marker from its \
                     configuration, so agentsync cannot recognise it later; archive it on the \
                     platform and report this",
                    agent.id
                ),
            });
        }
        if let Some(body) = mapping::folder_body(fields) {
            self.api.move_to_folder(&agent.id, &body).await?;
        }
        Ok(agent)
    }

    async fn update_agent(&self, id: &str, marker: &Marker, fields: &Document) -> Result<()> {
        if let Some(body) = mapping::update_body(marker, fields) {
            let updated = self.api.update(id, &body, &format!("agent {id}")).await?;
            self.saw(&updated);
        }
        if let Some(body) = mapping::folder_body(fields) {
            self.api.move_to_folder(id, &body).await?;
        }
        Ok(())
    }

    async fn claim_agent(&self, id: &str, marker: &Marker) -> Result<()> {
        // The configuration is replaced whole (contract 6): the rest of it is read first.
        let agent = self.get(id).await?;
        self.api
            .update(
                id,
                &mapping::claim_body(&agent, marker),
                &format!("agent {id}"),
            )
            .await?;
        Ok(())
    }

    async fn set_lifecycle(&self, id: &str, lifecycle: Lifecycle) -> Result<()> {
        self.api
            .set_status(id, &mapping::lifecycle_body(lifecycle))
            .await?;
        Ok(())
    }

    async fn set_lifecycle_and_marker(
        &self,
        id: &str,
        lifecycle: Lifecycle,
        marker: &Marker,
    ) -> Result<()> {
        // Status and configuration are separate writes (contract 6 and 11).
        match lifecycle {
            Lifecycle::Archived => {
                self.claim_agent(id, marker).await?;
                self.set_lifecycle(id, lifecycle).await
            }
            Lifecycle::Active => {
                self.set_lifecycle(id, lifecycle).await?;
                self.claim_agent(id, marker).await
            }
        }
    }

    async fn write_draft(&self, id: &str, content: &Content) -> Result<()> {
        let body = mapping::draft_body(content);
        let known_closed = lock(&self.open_drafts).get(id) == Some(&false);
        if known_closed {
            self.open_draft(id).await?;
        }
        let written = match self.put_draft(id, &body).await {
            // No draft open (contract 6): open one from the live version, then write it.
            Err(ProviderError::Rejected { status: 409, .. }) if !known_closed => {
                self.open_draft(id).await?;
                self.put_draft(id, &body).await?
            }
            other => other?,
        };
        self.saw(&written);
        Ok(())
    }

    async fn publish(&self, id: &str) -> Result<String> {
        let validation = self.api.validate(id).await?;
        if !validation.is_valid {
            // Only on a refusal: read the draft to say where each problem is.
            let graph = match self.get(id).await {
                Ok(wire) => mapping::draft_graph(&wire),
                Err(err) => {
                    tracing::debug!(agent = id, error = %err, "the draft could not be read to locate its problems");
                    None
                }
            };
            return Err(ProviderError::DraftInvalid {
                id: id.to_owned(),
                problems: validation
                    .errors
                    .into_iter()
                    .map(|error| {
                        let kind = error.kind.unwrap_or_else(|| "workflow".to_owned());
                        let id = error.id.and_then(|id| match id {
                            serde_json::Value::String(s) => Some(s),
                            serde_json::Value::Null => None,
                            other => Some(other.to_string()),
                        });
                        let path = graph.as_ref().and_then(|graph| {
                            mapping::locate(graph, &kind, id.as_deref(), error.field.as_deref())
                        });
                        DraftProblem {
                            path,
                            kind,
                            id,
                            field: error.field,
                            message: error
                                .message
                                .unwrap_or_else(|| "(no message given)".to_owned()),
                        }
                    })
                    .collect(),
            });
        }
        let what = format!("the publication of agent {id}");
        let published = self.api.publish(id).await?;
        self.saw(&published);
        mapping::published_version(&published, &what)
    }

    async fn delete_agent(&self, _id: &str) -> Result<()> {
        Err(ProviderError::Unsupported {
            platform: ProviderKind::AgentWorkflows,
            what: "delete an agent (it has no delete endpoint); use prune: archive",
        })
    }
}
