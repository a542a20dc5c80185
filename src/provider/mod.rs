//! The platforms agentsync serves: the [`Provider`] contract the engine talks through, the HTTP
//! client every platform's API goes through ([`http`]), and one module per platform that
//! implements it.
//!
//! The engine (observe, plan, apply, render) sees agents only as provider-neutral documents in
//! the definition format's own field names. Only `provider/<platform>` knows its platform's
//! endpoints and field names.

pub mod agent_workflows;
pub mod any;
pub mod http;
pub mod marker;
pub mod workfx;

use std::future::Future;

use serde::{Deserialize, Serialize};

use crate::model::content::Content;
use crate::model::{Document, Key, Lifecycle, Marker};
use crate::spec::schema::DefinitionSchema;

/// Requests in flight at once, unless configured (`concurrency:`; a platform's settings start
/// from it too).
pub const DEFAULT_CONCURRENCY: u32 = 8;

/// The platforms a configuration can name in `provider:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProviderKind {
    Workfx,
    AgentWorkflows,
}

impl ProviderKind {
    pub const ALL: &[ProviderKind] = &[ProviderKind::Workfx, ProviderKind::AgentWorkflows];

    pub fn name(self) -> &'static str {
        match self {
            ProviderKind::Workfx => "workfx",
            ProviderKind::AgentWorkflows => "agent-workflows",
        }
    }

    pub fn from_name(name: &str) -> Option<ProviderKind> {
        Self::ALL.iter().copied().find(|p| p.name() == name)
    }

    /// The fields a definition for this platform may have.
    pub fn definition_schema(self) -> &'static DefinitionSchema {
        match self {
            ProviderKind::Workfx => &workfx::definition::SCHEMA,
            ProviderKind::AgentWorkflows => &agent_workflows::definition::SCHEMA,
        }
    }

    /// What the platform can do. Known without a connection, so that the configuration can
    /// refuse what a platform cannot do (`prune: delete` where nothing can be deleted).
    pub fn capabilities(self) -> Capabilities {
        match self {
            ProviderKind::Workfx => Capabilities {
                drafts: true,
                publish: true,
                versions: true,
                archive: true,
                delete: true,
                validation: false,
                tenancy: true,
            },
            ProviderKind::AgentWorkflows => Capabilities {
                drafts: true,
                publish: true,
                versions: true,
                archive: true,
                delete: false,
                validation: true,
                tenancy: false,
            },
        }
    }
}

impl std::fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What a platform can do; the planner only proposes what the platform supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Capabilities {
    /// Content has an editable draft beside the published version.
    pub drafts: bool,
    pub publish: bool,
    /// Published versions are listed (the live version can be read).
    pub versions: bool,
    pub archive: bool,
    pub delete: bool,
    /// The platform can check a draft before publishing it.
    pub validation: bool,
    /// Requests carry a tenant (`tenant_id`, `tenant_unit_id`).
    pub tenancy: bool,
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

    /// The agents whose marker claims `key`, oldest first (the order the platform created
    /// them, which every caller sees alike): how a run that just created an agent finds the
    /// twin another run created at the same time. `name` is the name both were created with,
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
