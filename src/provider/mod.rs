//! The platforms agentsync serves: the [`Provider`] contract the engine talks through, and one
//! module per platform that implements it.
//!
//! The engine (observe, plan, apply, render) sees agents only as provider-neutral documents in
//! the definition format's own field names. Only `provider/<platform>` knows its platform's
//! endpoints and field names.

pub mod workfx;

use std::future::Future;

use serde::{Deserialize, Serialize};

use crate::model::{Document, Key, Lifecycle, Marker};
use crate::spec::schema::DefinitionSchema;

/// The platforms a configuration can name in `provider:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProviderKind {
    Workfx,
}

impl ProviderKind {
    pub const ALL: &[ProviderKind] = &[ProviderKind::Workfx];

    pub fn name(self) -> &'static str {
        match self {
            ProviderKind::Workfx => "workfx",
        }
    }

    pub fn from_name(name: &str) -> Option<ProviderKind> {
        Self::ALL.iter().copied().find(|p| p.name() == name)
    }

    /// The fields a definition for this platform may have.
    pub fn definition_schema(self) -> &'static DefinitionSchema {
        match self {
            ProviderKind::Workfx => &workfx::definition::SCHEMA,
        }
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
}

/// An agent as the platform lists it, in the definition format's field names.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteAgent {
    /// The platform's id for the agent.
    pub id: String,
    /// The key from agentsync's ownership marker; `None` for agents agentsync does not manage.
    pub key: Option<Key>,
    /// The marker says `protect: true`: never archived or deleted by agentsync.
    pub protected: bool,
    /// Every agent field the definition format knows, canonicalized (tags as a list, ...).
    pub fields: Document,
    pub lifecycle: Lifecycle,
}

/// An agent's versioned content (its flow), in the definition format's field names.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RemoteContent {
    /// The editable draft; `None` until one is written.
    pub draft: Option<Document>,
    /// The live (published) version; `None` if never published.
    pub live: Option<Document>,
    /// The platform's name for the live version ("3").
    pub live_version: Option<String>,
}

/// Why a request to the platform failed.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error("the platform refused the token ({status}); check the variable named by token_env")]
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
    #[error("the token variable {var} is not set")]
    MissingToken { var: String },
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

    fn capabilities(&self) -> Capabilities;

    /// Every agent on the platform (all pages), managed or not, archived or not.
    fn list_agents(&self) -> impl Future<Output = Result<Vec<RemoteAgent>>> + Send;

    /// The draft and live content of one agent.
    fn read_content(&self, id: &str) -> impl Future<Output = Result<RemoteContent>> + Send;

    /// Creates an agent with the given fields, carrying agentsync's marker from the very first
    /// request, so it is never unowned.
    fn create_agent(
        &self,
        marker: &Marker,
        fields: &Document,
    ) -> impl Future<Output = Result<RemoteAgent>> + Send;

    /// Sets the given fields (and only those) on an agent.
    fn update_agent(&self, id: &str, fields: &Document) -> impl Future<Output = Result<()>> + Send;

    /// Puts (or rewrites) agentsync's marker on an existing agent, keeping its other metadata.
    fn claim_agent(&self, id: &str, marker: &Marker) -> impl Future<Output = Result<()>> + Send;

    fn set_lifecycle(
        &self,
        id: &str,
        lifecycle: Lifecycle,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Replaces the agent's draft content.
    fn write_draft(&self, id: &str, content: &Document) -> impl Future<Output = Result<()>> + Send;

    /// Publishes the current draft; returns the new live version's name.
    fn publish(&self, id: &str) -> impl Future<Output = Result<String>> + Send;

    /// Removes the agent and its content permanently.
    fn delete_agent(&self, id: &str) -> impl Future<Output = Result<()>> + Send;
}
