//! The platforms agentsync serves: the [`Provider`] contract the engine talks through, the HTTP
//! client every platform's API goes through ([`http`]), and one module per platform that
//! implements it.
//!
//! The engine (observe, plan, apply, render) sees agents only as provider-neutral documents in
//! the definition format's own field names. Only `provider/<platform>` knows its platform's
//! endpoints and field names.

mod declare;

pub mod agent_workflows;
pub mod agents_v1;
pub mod http;
pub mod inventory;
pub mod marker;
pub mod workfx;

use std::future::Future;

use serde::Serialize;

use crate::model::content::Content;
use crate::model::{Document, Key, Lifecycle, Marker};
use crate::spec::schema::DefinitionSchema;

/// Requests in flight at once, unless configured (`concurrency:`; a platform's settings start
/// from it too).
pub const DEFAULT_CONCURRENCY: u32 = 8;

// The one list of platforms. Each line names a platform's `ProviderKind` variant and its
// provider, whose `Platform` implementation declares the rest. `ProviderKind` and `AnyProvider`
// are made from this list: adding a platform is a line here and the platform's own folders
// (ARCHITECTURE.md, "Where things go").
declare::platforms! {
    Workfx => workfx::WorkfxProvider,
    AgentWorkflows => agent_workflows::AgentWorkflowsProvider,
    AgentsV1 => agents_v1::AgentsV1Provider,
}

/// What a platform declares about itself, once, beside its provider.
pub trait Platform: Provider + Sized {
    /// The name a configuration gives in `provider:` (and `sim --platform` takes).
    const NAME: &'static str;
    /// One line saying what the platform is, for help texts.
    const ABOUT: &'static str;
    /// The fields a definition for this platform may have.
    const SCHEMA: &'static DefinitionSchema;
    /// What the platform can do.
    const CAPABILITIES: Capabilities;
    /// The simulator that plays the platform, for `endpoint: embedded` and `agentsync sim`.
    const SIMULATOR: crate::sim::Platform;

    /// A client for one account of the platform.
    fn connect(account: Account) -> std::result::Result<Self, http::SetupError>;
}

/// Where and as whom a provider connects: a target's account settings. A platform reads the
/// ones it has; the configuration refuses the others for it (`tenant_id` where there are no
/// tenants).
#[derive(Debug, Clone)]
pub struct Account {
    /// The platform's root, e.g. `https://api.workfx.ai` or a simulator's base URL.
    pub base_url: reqwest::Url,
    pub token: Option<http::Secret>,
    pub tenant_id: Option<String>,
    pub tenant_unit_id: Option<String>,
    /// Requests in flight at once.
    pub concurrency: usize,
}

impl Account {
    /// No token, no tenancy, the default concurrency.
    pub fn new(base_url: reqwest::Url) -> Account {
        Account {
            base_url,
            token: None,
            tenant_id: None,
            tenant_unit_id: None,
            concurrency: DEFAULT_CONCURRENCY as usize,
        }
    }
}

impl std::fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for ProviderKind {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

/// What a platform can do; the planner only proposes what the platform supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Capabilities {
    /// Content goes live by publishing a draft; without it, a write is live at once.
    pub publish: bool,
    pub archive: bool,
    pub delete: bool,
    /// Requests carry a tenant (`tenant_id`, `tenant_unit_id`).
    pub tenancy: bool,
    /// Agents carry agentsync's marker. Without, the provider keeps ownership in an
    /// [`inventory`] on the platform, and the names agentsync manages must be unique.
    pub markers: bool,
}

/// An agent as the platform lists it, in the definition format's field names.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteAgent {
    /// The platform's id for the agent.
    pub id: String,
    /// The key from agentsync's ownership marker; `None` for agents agentsync does not manage.
    pub key: Option<Key>,
    /// The platform's own short identifier for the agent, where it has one (workfx: `code`);
    /// `export --key-from code` makes keys from it.
    pub code: Option<String>,
    /// The marker says `protect: true`: never archived or deleted by agentsync.
    pub protected: bool,
    /// The marker says `pruned: true`: agentsync archived it because its definition was gone.
    pub pruned: bool,
    /// agentsync's record of the agent is not written yet: a create a killed run made, found
    /// again from its announcement ([`inventory`]). The next apply writes the record.
    pub unrecorded: bool,
    /// Every agent field the definition format knows, canonicalized (tags as a list, ...).
    pub fields: Document,
    pub lifecycle: Lifecycle,
}

/// An agent's versioned content (its flow), in the definition format's field names.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RemoteContent {
    /// The editable draft; `None` until one is written.
    pub draft: Option<Content>,
    /// The live (published) version; `None` if never published.
    pub live: Option<Content>,
    /// The platform's name for the live version ("3").
    pub live_version: Option<String>,
}

impl RemoteContent {
    /// [`RemoteContent::from_documents`] for contents already made: one copy is kept when the
    /// draft and the live version say the same.
    pub fn from_contents(
        draft: Option<Content>,
        mut live: Option<Content>,
        live_version: Option<String>,
    ) -> RemoteContent {
        if let (Some(draft), Some(live)) = (&draft, &mut live) {
            live.share_with(draft);
        }
        RemoteContent {
            draft,
            live,
            live_version,
        }
    }

    /// The draft and the live version as read; one copy is kept when they say the same (the
    /// usual case right after a publish).
    pub fn from_documents(
        draft: Option<Document>,
        live: Option<Document>,
        live_version: Option<String>,
    ) -> RemoteContent {
        // Comparing the trees allocates nothing; making a second content would serialize and
        // digest the whole graph again.
        let same = match (&draft, &live) {
            (Some(draft), Some(live)) => crate::model::diff::documents_equivalent(draft, live),
            _ => false,
        };
        let live = live.as_ref().map(Content::new);
        let draft = match (same, &live) {
            (true, Some(live)) => Some(live.clone()),
            _ => draft.as_ref().map(Content::new),
        };
        RemoteContent {
            draft,
            live,
            live_version,
        }
    }
}

/// Why a request to the platform failed.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error("{}", unauthorized(*.status))]
    Unauthorized { status: u16 },
    #[error("{what} was not found on the platform (404)")]
    NotFound { what: String },
    #[error("the platform rejected {what} ({status}): {message}")]
    Rejected {
        what: String,
        status: u16,
        message: String,
    },
    #[error("the platform failed on {what} ({status})")]
    Server { what: String, status: u16 },
    #[error("the platform is rate limiting {what} (429)")]
    RateLimited { what: String },
    #[error("could not reach the platform for {what}")]
    Transport {
        what: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("the platform answered {what} with something unexpected: {message}")]
    Protocol { what: String, message: String },
    /// An answer agentsync cannot rely on: a field it needs is missing, the answer contradicts
    /// itself (or the pages before it), it announces more pages than agentsync reads, or it is
    /// larger than agentsync reads. Nothing is decided or written on its strength.
    #[error(
        "the platform's answer to {endpoint} ({what}) cannot be relied on: {problem}; agentsync \
         stopped rather than act on it. Check that the endpoint in the configuration is the \
         platform's API, and report this answer to the platform"
    )]
    BrokenAnswer {
        /// The method and path asked (`GET /admin/api/v2/agents`).
        endpoint: String,
        what: String,
        problem: String,
    },
    #[error("the token variable {var} is not set")]
    MissingToken { var: String },
    /// The inventory a platform without markers keeps of agentsync's agents
    /// ([`inventory`]) cannot be relied on; nothing is decided or written on its strength.
    #[error(
        "the inventory agentsync keeps on the platform {where_} cannot be relied on: {problem}; \
         nothing was written. {help}"
    )]
    Inventory {
        /// Where it is (`in agent agent_123`), or that it is missing.
        where_: String,
        problem: String,
        /// What to do about it.
        help: &'static str,
    },
    #[error("the platform found {} in the draft of agent {id} and refused to publish it: {}", problems_count(.problems), problems_text(.problems))]
    DraftInvalid {
        id: String,
        problems: Vec<DraftProblem>,
    },
    #[error("{platform} cannot {what}")]
    Unsupported {
        platform: ProviderKind,
        what: &'static str,
    },
}

fn unauthorized(status: u16) -> String {
    if status == 403 {
        // A valid token for the wrong tenant is refused with 403 too.
        "the platform refused access (403); check that the token named by token_env has the \
         rights needed, and the tenant_id and tenant_unit_id settings"
            .to_owned()
    } else {
        format!("the platform refused the token ({status}); check the variable named by token_env")
    }
}

fn problems_count(problems: &[DraftProblem]) -> String {
    match problems.len() {
        1 => "1 problem".to_owned(),
        n => format!("{n} problems"),
    }
}

fn problems_text(problems: &[DraftProblem]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// One problem a platform's validation found in a draft, in the platform's own terms, and
/// where it is in the definition when the provider could tell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DraftProblem {
    /// The definition-format path of the offending value (`definition.nodes[2].data.prompt`).
    pub path: Option<String>,
    /// What the problem is about: a node, an edge, the whole graph...
    pub kind: String,
    /// The id of the node or edge, when it is about one.
    pub id: Option<String>,
    /// The field within it, as the platform names it (`data.prompt`).
    pub field: Option<String>,
    pub message: String,
}

impl std::fmt::Display for DraftProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.path, &self.field) {
            (Some(path), _) => write!(f, "{path}: ")?,
            (None, Some(field)) => write!(f, "{field}: ")?,
            (None, None) => {}
        }
        f.write_str(&self.message)?;
        match &self.id {
            Some(id) => write!(f, " ({} '{id}')", self.kind),
            None => write!(f, " ({})", self.kind),
        }
    }
}

impl ProviderError {
    /// Whether the request's outcome is unknown: it may or may not have happened.
    pub fn outcome_unknown(&self) -> bool {
        matches!(
            self,
            ProviderError::Transport { .. } | ProviderError::Server { .. }
        )
    }
}

pub type Result<T, E = ProviderError> = std::result::Result<T, E>;

/// One platform's API, as the engine uses it. Every method is one logical operation; the
/// implementation decides how many requests it takes.
pub trait Provider: Send + Sync {
    fn kind(&self) -> ProviderKind;

    fn capabilities(&self) -> Capabilities {
        self.kind().capabilities()
    }

    /// Every agent on the platform (all pages), managed or not, archived or not, in the order
    /// the platform created them, oldest first.
    fn list_agents(&self) -> impl Future<Output = Result<Vec<RemoteAgent>>> + Send;

    /// The agents that claim `key` (by their marker; without markers, by the key's name, which
    /// managed names make unique), oldest first (the order the platform created them, which
    /// every caller sees alike): how a run that just created an agent finds the twin another
    /// run created at the same time. `name` is the name both were created with,
    /// for platforms that can narrow the search by name; without it every agent is listed.
    fn find_agents(
        &self,
        key: &Key,
        name: Option<&str>,
    ) -> impl Future<Output = Result<Vec<RemoteAgent>>> + Send;

    /// The draft and live content of one agent.
    fn read_content(&self, id: &str) -> impl Future<Output = Result<RemoteContent>> + Send;

    /// Creates an agent with the given fields, carrying agentsync's marker from the very first
    /// request, so it is never unowned.
    fn create_agent(
        &self,
        marker: &Marker,
        fields: &Document,
    ) -> impl Future<Output = Result<RemoteAgent>> + Send;

    /// Sets the given fields (and only those) on an agent. The marker is the one the agent
    /// carries after the update, for platforms that keep it among the fields.
    fn update_agent(
        &self,
        id: &str,
        marker: &Marker,
        fields: &Document,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Puts (or rewrites) agentsync's marker on an existing agent, keeping its other metadata.
    fn claim_agent(&self, id: &str, marker: &Marker) -> impl Future<Output = Result<()>> + Send;

    fn set_lifecycle(
        &self,
        id: &str,
        lifecycle: Lifecycle,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Archives or restores an agent and rewrites its marker, in one write where the platform
    /// can. Where it takes two, they go in the order that leaves an active agent behind when
    /// the second fails: the marker before an archive, after a restore.
    fn set_lifecycle_and_marker(
        &self,
        id: &str,
        lifecycle: Lifecycle,
        marker: &Marker,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Replaces the agent's draft content. A content is text: a provider whose wire body is
    /// that text sends it as it is, without building a tree.
    fn write_draft(&self, id: &str, content: &Content) -> impl Future<Output = Result<()>> + Send;

    /// Publishes the current draft; returns the new live version's name. A platform that can
    /// validate checks the draft first and refuses an invalid one ([`ProviderError::DraftInvalid`]).
    fn publish(&self, id: &str) -> impl Future<Output = Result<String>> + Send;

    /// Removes the agent and its content permanently.
    fn delete_agent(&self, id: &str) -> impl Future<Output = Result<()>> + Send;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send>(_: &T) {}

    fn every_provider() -> Vec<AnyProvider> {
        let url = reqwest::Url::parse("http://127.0.0.1:9").expect("a URL");
        ProviderKind::ALL
            .iter()
            .map(|&kind| AnyProvider::connect(kind, Account::new(url.clone())).expect("set up"))
            .collect()
    }

    #[test]
    fn every_operation_of_every_provider_can_run_on_a_multi_threaded_runtime() {
        let key = Marker::new(Key::parse("k").expect("a key"), false);
        let fields = Document::new();
        for provider in &every_provider() {
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

    #[test]
    fn every_platform_connects_as_itself_and_is_played_by_its_own_simulator() {
        for (provider, &kind) in every_provider().iter().zip(ProviderKind::ALL) {
            assert_eq!(provider.kind(), kind);
            assert_eq!(ProviderKind::from_name(kind.name()), Some(kind));
            assert_eq!(kind.simulator().name(), kind.name(), "{kind}'s simulator");
        }
        let names: std::collections::BTreeSet<_> =
            ProviderKind::ALL.iter().map(|k| k.name()).collect();
        assert_eq!(
            names.len(),
            ProviderKind::ALL.len(),
            "platform names are unique"
        );
    }
}
