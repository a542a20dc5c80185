//! `status`: one line per managed agent of every target in force: its remote id, whether it is
//! in step with its definition, whether its draft is ahead of the live version, and the live
//! version. Reads only (a list, and the content of each managed agent, concurrently); writes
//! nothing anywhere.
//!
//! "In step" is the planner's own judgement: the agent is in sync when the plan for it has no
//! action, so `status` and `plan` can never disagree.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;

use super::connect::connect;
use super::error::OpsError;
use super::observe::with_content;
use super::workspace::{self, Workspace, WorkspaceOptions};
use crate::engine::plan::{ActionKind, Observed, ObservedAgent};
use crate::model::Key;
use crate::provider::{Provider, ProviderError, ProviderKind, RemoteContent};
use serde::Serialize;

/// The version of `status --output json`.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, Default)]
pub struct StatusOptions {
    pub workspace: WorkspaceOptions,
}

/// Whether an agent is as its definition wants it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Sync {
    /// The plan has nothing to do for it.
    InSync,
    /// The plan has actions for it (listed beside).
    Differs,
    /// Defined, not on the platform yet.
    NotCreated,
    /// Managed on the platform, but no definition has its key.
    NotInRepository,
    /// Its definition does not load; nothing is planned for it.
    InvalidDefinition,
}

/// Where the agent's draft stands against its live version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Draft {
    /// The draft is what is live.
    SameAsLive,
    /// The draft has changes that are not live.
    AheadOfLive,
    /// There is a draft and nothing was ever published.
    Unpublished,
    /// No content at all.
    None,
}

/// One managed (or defined) agent.
#[derive(Debug, Clone, Serialize)]
pub struct AgentStatus {
    pub key: Key,
    pub id: Option<String>,
    /// The definition file, relative to the current directory.
    pub file: Option<PathBuf>,
    pub sync: Sync,
    /// What the plan would do, when it differs.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<ActionKind>,
    /// `None` when the agent's content was not read (not on the platform, or the platform has
    /// no versioned content).
    pub draft: Option<Draft>,
    pub live_version: Option<String>,
}

/// One target's agents.
#[derive(Debug, Clone, Serialize)]
pub struct TargetStatus {
    pub target: Option<String>,
    pub provider: ProviderKind,
    pub agents: Vec<AgentStatus>,
    /// Agents on the platform that agentsync does not manage (`export` writes definitions for
    /// them).
    pub unmanaged: usize,
}

/// The status of every target in force.
pub async fn status(
    options: &StatusOptions,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<TargetStatus>, OpsError> {
    let mut targets = Vec::new();
    for workspace in workspace::load(&options.workspace, env)? {
        targets.push(target_status(workspace, env).await?);
    }
    Ok(targets)
}

async fn target_status(
    workspace: Workspace,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<TargetStatus, OpsError> {
    let config = &workspace.config;
    let schema = config.provider.definition_schema();
    let connection = connect(config, env).await?;
    let observed = observe_managed(
        Arc::clone(&connection.provider),
        config.concurrency as usize,
        schema.content_field.is_some(),
    )
    .await;
    connection.close().await;
    let observed = observed.map_err(OpsError::Observe)?;

    let loaded = &workspace.loaded;
    let broken = crate::spec::broken_keys(loaded);
    let plan = super::plan::decide(
        &loaded.desired,
        &broken,
        &observed,
        &super::plan::settings(config, false),
        None,
    )?;
    let actions: BTreeMap<&Key, Vec<ActionKind>> = plan
        .changes
        .iter()
        .map(|c| (&c.key, c.actions.iter().map(|a| a.kind).collect()))
        .collect();
    let remote: BTreeMap<&Key, &ObservedAgent> = observed
        .agents
        .iter()
        .filter_map(|a| a.agent.key.as_ref().map(|k| (k, a)))
        .collect();
    let broken_files: BTreeMap<&Key, &PathBuf> = loaded
        .broken
        .iter()
        .filter_map(|b| b.key.as_ref().map(|k| (k, &b.file)))
        .collect();

    let keys: BTreeSet<&Key> = loaded
        .desired
        .keys()
        .chain(remote.keys().copied())
        .chain(broken_files.keys().copied())
        .collect();
    let agents = keys
        .into_iter()
        .map(|key| {
            let observed = remote.get(key);
            let planned = actions.get(key).cloned().unwrap_or_default();
            let sync = if broken.contains(key) {
                Sync::InvalidDefinition
            } else if !loaded.desired.contains_key(key) {
                Sync::NotInRepository
            } else if observed.is_none() {
                Sync::NotCreated
            } else if planned.is_empty() {
                Sync::InSync
            } else {
                Sync::Differs
            };
            let content = observed.and_then(|a| a.content.as_ref());
            AgentStatus {
                key: key.clone(),
                id: observed.map(|a| a.agent.id.clone()),
                file: loaded
                    .desired
                    .get(key)
                    .map(|d| d.file.clone())
                    .or_else(|| broken_files.get(key).map(|f| (*f).clone())),
                actions: if sync == Sync::Differs || sync == Sync::NotInRepository {
                    planned
                } else {
                    Vec::new()
                },
                sync,
                draft: content.map(draft_of),
                live_version: content.and_then(|c| c.live_version.clone()),
            }
        })
        .collect();
    Ok(TargetStatus {
        target: config.target.clone(),
        provider: config.provider,
        agents,
        unmanaged: observed
            .agents
            .iter()
            .filter(|a| a.agent.key.is_none())
            .count(),
    })
}

fn draft_of(content: &RemoteContent) -> Draft {
    match (&content.draft, &content.live) {
        (None, None) => Draft::None,
        (Some(_), None) => Draft::Unpublished,
        (None, Some(_)) => Draft::SameAsLive,
        (Some(draft), Some(live)) if draft.same_as(live) => Draft::SameAsLive,
        (Some(_), Some(_)) => Draft::AheadOfLive,
    }
}

/// Lists every agent, and reads the content of the managed ones (all of them: the draft column
/// needs it even where the definition leaves content alone).
async fn observe_managed<P: Provider + 'static>(
    provider: Arc<P>,
    concurrency: usize,
    has_content: bool,
) -> Result<Observed, ProviderError> {
    let agents = provider.list_agents().await?;
    with_content(provider, agents, concurrency, |agent| {
        has_content && agent.key.is_some()
    })
    .await
}
