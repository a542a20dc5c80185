//! The Agents v1 platform (`shared/api/agents-v1.md`): flat agents with string ids, three
//! architectures, page/limit lists, `PATCH` of the fields sent, permanent `DELETE`. Relies on
//! exactly `docs/agents-v1-contract.md`.
//!
//! Two things set it apart. It has no drafts and no versions: a write is live at once
//! (`Capabilities::publish` is false, and the engine plans no publish). And nothing in an agent
//! can hold agentsync's marker, so ownership is kept in the inventory agent
//! ([`crate::provider::inventory`], contract 12 to 14): every list reads it, and every write
//! that changes what agentsync manages rewrites it, announcing a create before making it.

pub mod api;
pub mod definition;
pub mod mapping;

use std::sync::Arc;

use futures_util::{StreamExt, TryStreamExt, stream};
use reqwest::Url;
use serde_json::Value;
use tokio::sync::Mutex;

use self::api::{Api, WireObject};
use crate::model::content::Content;
use crate::model::{Document, Key, Lifecycle, Marker};
use crate::provider::http::{HttpClient, HttpSettings, HttpStats, Secret, SetupError};
use crate::provider::inventory::{Inventory, InventoryError};
use crate::provider::{
    Account, Capabilities, Platform, Provider, ProviderError, ProviderKind, RemoteAgent,
    RemoteContent, Result,
};

/// Where and as whom to reach the platform.
#[derive(Debug, Clone)]
pub struct AgentsV1Settings {
    /// The API root, under which `/v1/agents` lives.
    pub base_url: Url,
    pub token: Option<Secret>,
    /// How many agents are read at once while listing.
    pub concurrency: usize,
    pub http: HttpSettings,
}

/// The Agents v1 API client, as the engine uses it.
#[derive(Debug, Clone)]
pub struct AgentsV1Provider {
    api: Api,
    concurrency: usize,
    /// The inventory as the last list read it and the writes since left it; `None` until a
    /// list has read it.
    ledger: Arc<Mutex<Option<Ledger>>>,
}

/// The inventory, and the agent that holds it (`None` until the first write makes it).
#[derive(Debug, Clone)]
struct Ledger {
    holder: Option<String>,
    inventory: Inventory,
    /// The document as the platform holds it (read, or last written).
    written: Option<String>,
}

/// What a `403` on a change means here (contract 3), and what to do.
const FORBIDDEN: &str = "only org owners and admins may change or delete public and commercial \
    agents (an agent's creator may change their own private ones); use an owner's or admin's \
    token in the variable token_env names, or make the agent private on the dashboard";

/// A refused change, said in the platform's terms.
fn forbidden(what: String) -> impl FnOnce(ProviderError) -> ProviderError {
    move |err| match err {
        ProviderError::Unauthorized { status: 403 } => ProviderError::Rejected {
            what,
            status: 403,
            message: FORBIDDEN.to_owned(),
        },
        other => other,
    }
}

const HELP_UNREADABLE: &str = "Restore the agent's systemPrompt from an earlier answer or a \
    backup, or delete the agent and run `apply --adopt` to record the agents again";
const HELP_TWO: &str = "Keep the one that lists the agents (the other was made by hand or by \
    a run that lost a race), delete the other, and run again";

impl AgentsV1Provider {
    pub fn new(settings: AgentsV1Settings) -> Result<AgentsV1Provider, SetupError> {
        let http = HttpClient::new(settings.base_url, settings.token, Vec::new(), settings.http)?;
        Ok(AgentsV1Provider {
            api: Api::new(http),
            concurrency: settings.concurrency.max(1),
            ledger: Arc::default(),
        })
    }

    /// The HTTP counters (answers by status, retries), for metrics.
    pub fn http_stats(&self) -> HttpStats {
        self.api.http().stats()
    }

    /// The full answer of each agent of `ids`, in their order, up to `concurrency` at once;
    /// `None` for one gone between the list and its read.
    async fn read_each(&self, ids: Vec<String>) -> Result<Vec<Option<WireObject>>> {
        stream::iter(ids)
            .map(|id| async move {
                match self.api.get(&id).await {
                    Ok(wire) => Ok(Some(wire)),
                    Err(ProviderError::NotFound { .. }) => Ok(None),
                    Err(err) => Err(err),
                }
            })
            .buffered(self.concurrency)
            .try_collect()
            .await
    }

    /// Every agent in full, oldest first (by `createdAt`, then id: contract 5), and the
    /// inventory read from its holder; the holder is not among the agents.
    async fn read_all(&self) -> Result<(Vec<WireObject>, Ledger)> {
        let listed = self.api.list().await?;
        let ids: Vec<String> = listed
            .iter()
            .filter_map(|wire| mapping::agent_id(wire).map(str::to_owned))
            .collect();
        let mut full: Vec<WireObject> = self.read_each(ids).await?.into_iter().flatten().collect();
        full.sort_by(|a, b| oldest_first(a).cmp(&oldest_first(b)));
        let (holders, agents): (Vec<WireObject>, Vec<WireObject>) = full
            .into_iter()
            .partition(|wire| mapping::agent_name(wire) == Some(mapping::INVENTORY_NAME));
        let ledger = match holders.as_slice() {
            [] => Ledger {
                holder: None,
                inventory: Inventory::default(),
                written: None,
            },
            [holder] => {
                let id = mapping::agent_id(holder).unwrap_or_default().to_owned();
                let text = mapping::inventory_document(holder).unwrap_or_default();
                let inventory = Inventory::parse(text).map_err(|err| inventory_error(&id, &err))?;
                Ledger {
                    holder: Some(id),
                    inventory,
                    written: Some(text.to_owned()),
                }
            }
            several => {
                let ids: Vec<&str> = several.iter().filter_map(mapping::agent_id).collect();
                return Err(ProviderError::Inventory {
                    where_: format!("(agents {})", ids.join(", ")),
                    problem: format!("{} agents are named {}", ids.len(), mapping::INVENTORY_NAME),
                    help: HELP_TWO,
                });
            }
        };
        Ok((agents, ledger))
    }

    /// The ledger, read by a list first if no list has read it yet.
    async fn ledger(&self) -> Result<tokio::sync::MutexGuard<'_, Option<Ledger>>> {
        let mut guard = self.ledger.lock().await;
        if guard.is_none() {
            let (_, ledger) = self.read_all().await?;
            *guard = Some(ledger);
        }
        Ok(guard)
    }

    /// Writes the inventory as `ledger` holds it, making its holder the first time; the answer
    /// must hold what was written (contract 14).
    async fn write(&self, ledger: &mut Ledger) -> Result<()> {
        let text = ledger.inventory.to_text();
        let what = "the inventory";
        let answer = match &ledger.holder {
            None => {
                let answer = self
                    .api
                    .create(&mapping::inventory_create_body(&text), what)
                    .await?;
                let id = mapping::agent_id(&answer).ok_or_else(|| ProviderError::Protocol {
                    what: what.to_owned(),
                    message: "the inventory agent was made without an id".to_owned(),
                })?;
                ledger.holder = Some(id.to_owned());
                answer
            }
            Some(id) => {
                self.api
                    .patch(id, &mapping::inventory_update_body(&text), what)
                    .await?
            }
        };
        // An answer that does not carry the document (a summary) says nothing against it.
        match mapping::inventory_document(&answer) {
            Some(held) if held != text => Err(ProviderError::Inventory {
                where_: format!("in agent {}", ledger.holder.as_deref().unwrap_or("?")),
                problem: "the platform did not keep what was written".to_owned(),
                help: HELP_UNREADABLE,
            }),
            _ => Ok(()),
        }
    }

    /// Changes the inventory with `change` and writes it.
    async fn change(&self, change: impl FnOnce(&mut Inventory)) -> Result<()> {
        let mut guard = self.ledger().await?;
        let Some(ledger) = guard.as_mut() else {
            return Err(ProviderError::Protocol {
                what: "the inventory".to_owned(),
                message: "it was not read".to_owned(),
            });
        };
        let before = ledger.inventory.clone();
        change(&mut ledger.inventory);
        if ledger.written.as_deref() == Some(ledger.inventory.to_text().as_str()) {
            return Ok(());
        }
        let written = self.write(ledger).await;
        match &written {
            Ok(()) => ledger.written = Some(ledger.inventory.to_text()),
            // What was not written is not what the platform holds.
            Err(_) => ledger.inventory = before,
        }
        written
    }

    /// Agents with the markers the inventory gives them.
    fn marked(&self, agents: &[WireObject], inventory: &Inventory) -> Result<Vec<RemoteAgent>> {
        let markers = inventory.markers();
        agents
            .iter()
            .map(|wire| {
                let mut agent = mapping::agent_from_wire(wire, "the agent list")?;
                if let Some(marker) = markers.get(agent.id.as_str()).cloned() {
                    agent.key = Some(marker.key);
                    agent.protected = marker.protect;
                    agent.pruned = marker.pruned;
                }
                Ok(agent)
            })
            .collect()
    }
}

/// The order every run sees agents in: by `createdAt`, then id (contract 5).
fn oldest_first(wire: &WireObject) -> (&str, &str) {
    let created = wire
        .get(mapping::CREATED_AT)
        .and_then(Value::as_str)
        .unwrap_or_default();
    (created, mapping::agent_id(wire).unwrap_or_default())
}

fn inventory_error(id: &str, err: &InventoryError) -> ProviderError {
    ProviderError::Inventory {
        where_: format!("in agent {id}"),
        problem: format!("its document {err}"),
        help: HELP_UNREADABLE,
    }
}

impl Platform for AgentsV1Provider {
    const NAME: &'static str = "agents-v1";
    const ABOUT: &'static str =
        "Agents v1: flat voice and text agents, live at once, no drafts (`/v1/agents`)";
    const SCHEMA: &'static crate::spec::schema::DefinitionSchema = &definition::SCHEMA;
    const CAPABILITIES: Capabilities = Capabilities {
        publish: false,
        archive: false,
        delete: true,
        tenancy: false,
        markers: false,
    };
    const SIMULATOR: crate::sim::Platform = crate::sim::Platform::AgentsV1;

    fn connect(account: Account) -> std::result::Result<Self, SetupError> {
        AgentsV1Provider::new(AgentsV1Settings {
            base_url: account.base_url,
            token: account.token,
            concurrency: account.concurrency,
            http: HttpSettings::with_max_in_flight(account.concurrency),
        })
    }
}

impl Provider for AgentsV1Provider {
    fn kind(&self) -> ProviderKind {
        ProviderKind::AgentsV1
    }

    async fn list_agents(&self) -> Result<Vec<RemoteAgent>> {
        let (agents, mut ledger) = self.read_all().await?;
        // Entries whose agent is gone are no longer managed; creates a killed run finished
        // are taken back from the one agent of the announced name (contract 13). Both are
        // written with the next change.
        let listed: std::collections::HashSet<&str> =
            agents.iter().filter_map(mapping::agent_id).collect();
        ledger.inventory.keep_existing(|id| listed.contains(id));
        let named = agents
            .iter()
            .filter_map(|w| Some((mapping::agent_id(w)?, mapping::agent_name(w)?)));
        let recovered =
            ledger
                .inventory
                .recover(named)
                .map_err(|ambiguous| ProviderError::Inventory {
                    where_: format!("in agent {}", ledger.holder.as_deref().unwrap_or("?")),
                    problem: format!(
                        "a create of '{}' was announced and agents {} both answer to its name",
                        ambiguous.key,
                        ambiguous.ids.join(" and ")
                    ),
                    help: HELP_TWO,
                })?;
        let unrecorded: Vec<String> = recovered.iter().map(|(_, id)| id.clone()).collect();
        for (key, id) in recovered {
            ledger.inventory.record(&id, &Marker::new(key, false));
        }
        let mut marked = self.marked(&agents, &ledger.inventory)?;
        for agent in &mut marked {
            agent.unrecorded = unrecorded.contains(&agent.id);
        }
        *self.ledger.lock().await = Some(ledger);
        Ok(marked)
    }

    async fn find_agents(&self, key: &Key, name: Option<&str>) -> Result<Vec<RemoteAgent>> {
        // Managed names are unique, so every agent of the key's name claims the key: the one
        // the inventory records, and a twin a concurrent run (another machine, another lock)
        // made and may not have recorded yet. Oldest first, as every run sees them.
        let Some(name) = name else {
            return Ok(Vec::new());
        };
        let mut namesakes: Vec<WireObject> = self
            .api
            .list()
            .await?
            .into_iter()
            .filter(|wire| mapping::agent_name(wire) == Some(name))
            .collect();
        namesakes.sort_by(|a, b| oldest_first(a).cmp(&oldest_first(b)));
        namesakes
            .iter()
            .map(|wire| {
                let mut agent = mapping::agent_from_wire(wire, "the agent list")?;
                agent.key = Some(key.clone());
                Ok(agent)
            })
            .collect()
    }

    async fn read_content(&self, _id: &str) -> Result<RemoteContent> {
        // No versioned content: every field is an agent field.
        Ok(RemoteContent::default())
    }

    async fn create_agent(&self, marker: &Marker, fields: &Document) -> Result<RemoteAgent> {
        let name = fields
            .get(mapping::NAME)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        // Announced before it is made: a run killed in between leaves the announcement, and
        // the next run takes the agent of that name back instead of making a second one.
        let key = marker.key.clone();
        self.change(|inventory| {
            inventory.pending.insert(key, name);
        })
        .await?;
        let what = format!("the new agent '{}'", marker.key);
        let created = self
            .api
            .create(&mapping::create_body(fields), &what)
            .await?;
        let mut agent = mapping::agent_from_wire(&created, &what)?;
        // A new agent is inactive whatever the create said (contract 7).
        let wants_active = fields.get(mapping::ACTIVE).and_then(Value::as_bool) == Some(true);
        if wants_active && !mapping::is_active(&created) {
            let body = serde_json::json!({ mapping::ACTIVE: true });
            let patched = self.api.patch(&agent.id, &body, &what).await?;
            agent = mapping::agent_from_wire(&patched, &what)?;
        }
        let id = agent.id.clone();
        self.change(|inventory| inventory.record(&id, marker))
            .await?;
        agent.key = Some(marker.key.clone());
        agent.protected = marker.protect;
        Ok(agent)
    }

    async fn update_agent(&self, id: &str, marker: &Marker, fields: &Document) -> Result<()> {
        if let Some(body) = mapping::update_body(fields) {
            let what = format!("the update of agent {id}");
            self.api
                .patch(id, &body, &what)
                .await
                .map_err(forbidden(what))?;
        }
        self.change(|inventory| inventory.record(id, marker)).await
    }

    async fn claim_agent(&self, id: &str, marker: &Marker) -> Result<()> {
        self.change(|inventory| inventory.record(id, marker)).await
    }

    async fn set_lifecycle(&self, _id: &str, _lifecycle: Lifecycle) -> Result<()> {
        Err(ProviderError::Unsupported {
            platform: ProviderKind::AgentsV1,
            what: "archive or restore agents",
        })
    }

    async fn set_lifecycle_and_marker(
        &self,
        id: &str,
        _lifecycle: Lifecycle,
        marker: &Marker,
    ) -> Result<()> {
        // The one use here: retiring the twin a concurrent run's create made. The key goes to
        // the older agent (its protection kept), and the twin, about to be deleted, claims
        // nothing.
        let Some(winner) = marker.duplicate_of.clone() else {
            return Err(ProviderError::Unsupported {
                platform: ProviderKind::AgentsV1,
                what: "archive or restore agents",
            });
        };
        let key = marker.key.clone();
        self.change(|inventory| {
            let protect = inventory.agents.get(&key).is_some_and(|e| e.protect);
            inventory.forget(id);
            inventory.record(&winner, &Marker::new(key, protect));
        })
        .await
    }

    async fn write_draft(&self, _id: &str, _content: &Content) -> Result<()> {
        Err(ProviderError::Unsupported {
            platform: ProviderKind::AgentsV1,
            what: "hold drafts (a write is live at once)",
        })
    }

    async fn publish(&self, _id: &str) -> Result<String> {
        Err(ProviderError::Unsupported {
            platform: ProviderKind::AgentsV1,
            what: "publish (a write is live at once)",
        })
    }

    async fn delete_agent(&self, id: &str) -> Result<()> {
        let what = format!("the delete of agent {id}");
        self.api.delete(id, &what).await.map_err(forbidden(what))?;
        self.change(|inventory| inventory.forget(id)).await
    }
}
