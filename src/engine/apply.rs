//! Executes a [`Plan`] against a provider: agents in reference order, independent agents side by
//! side up to the concurrency limit, each agent's actions in sequence; a [`Report`] of every
//! action and its outcome, and a [`Progress`] step per action.
//!
//! One agent failing does not stop the others; agents that reference a failed agent are skipped.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use tokio::task::JoinSet;
use tracing::Instrument as _;

use crate::engine::plan::{
    Action, ActionKind, AgentPlan, PROTECT, PRUNED, Plan, resolve_references,
};
use crate::engine::progress::{Phase, Progress};
use crate::model::content::Content;
use crate::model::{Definition, Desired, Document, Key, Lifecycle, Marker};
use crate::provider::{Provider, ProviderError};

/// How one action ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", content = "detail", rename_all = "lowercase")]
pub enum Outcome {
    Done,
    Failed(String),
    Skipped(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActionReport {
    pub kind: ActionKind,
    #[serde(flatten)]
    pub outcome: Outcome,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgentReport {
    pub key: Key,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub actions: Vec<ActionReport>,
}

/// Every action of the plan and how it ended, in plan order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    pub agents: Vec<AgentReport>,
}

impl Report {
    pub fn succeeded(&self) -> bool {
        self.count(|o| matches!(o, Outcome::Done)) == self.total()
    }

    pub fn total(&self) -> usize {
        self.agents.iter().map(|a| a.actions.len()).sum()
    }

    pub fn count(&self, pick: impl Fn(&Outcome) -> bool) -> usize {
        self.agents
            .iter()
            .flat_map(|a| &a.actions)
            .filter(|a| pick(&a.outcome))
            .count()
    }
}

/// The ids known before apply starts (every existing agent the plan touches), by key.
pub fn known_ids(plan: &Plan) -> BTreeMap<Key, String> {
    plan.changes
        .iter()
        .filter_map(|c| c.id.clone().map(|id| (c.key.clone(), id)))
        .collect()
}

/// Runs the plan. `ids` maps keys to remote ids for every agent that exists, including
/// agents without actions that others reference.
///
/// Up to `concurrency` agents run at once, each one's actions in order. An agent starts as soon
/// as every agent of the plan it references is done (not when a whole "wave" is), so one slow
/// agent holds up only the agents that reference it.
pub async fn execute<P: Provider + 'static>(
    provider: Arc<P>,
    plan: &Plan,
    desired: &Desired,
    ids: BTreeMap<Key, String>,
    concurrency: usize,
    progress: &Progress,
) -> Report {
    let agents: Vec<&AgentPlan> = plan
        .changes
        .iter()
        .filter(|c| !c.actions.is_empty())
        .collect();
    let _phase = progress.phase(Phase::Apply, agents.iter().map(|a| a.actions.len()).sum());
    let mut order = DependencyOrder::new(&agents);
    let ids = Arc::new(Mutex::new(ids));
    let mut reports: Vec<Option<AgentReport>> = vec![None; agents.len()];
    let mut running = JoinSet::new();
    let mut running_index: HashMap<tokio::task::Id, usize> = HashMap::new();
    loop {
        while running.len() < concurrency.max(1) {
            let Some(index) = order.next_ready() else {
                break;
            };
            let agent = agents[index];
            let failed = order.failed_dependencies(index);
            if !failed.is_empty() {
                let reason = format!(
                    "it references {}, which failed",
                    failed
                        .iter()
                        .map(|i| agents[*i].key.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                for _ in &agent.actions {
                    progress.step(Phase::Apply);
                }
                reports[index] = Some(skipped(agent, &reason));
                order.done(index, false);
                continue;
            }
            let provider = Arc::clone(&provider);
            let ids = Arc::clone(&ids);
            let owned = for_execution(agent);
            let definition = desired.get(&agent.key).cloned();
            let progress = progress.clone();
            // In the caller's span: the daemon names the target its lines are about.
            let handle = running.spawn(
                async move {
                    run_agent(
                        provider.as_ref(),
                        &owned,
                        definition.as_ref(),
                        &ids,
                        &progress,
                    )
                    .await
                }
                .in_current_span(),
            );
            running_index.insert(handle.id(), index);
        }
        let Some(joined) = running.join_next_with_id().await else {
            break;
        };
        let (index, report) = match joined {
            Ok((id, report)) => (running_index.remove(&id), report),
            Err(err) => {
                tracing::error!(error = %err, "an apply task ended abnormally");
                let index = running_index.remove(&err.id());
                let report = index.map(|i| ended_abnormally(agents[i], &err.to_string()));
                match (index, report) {
                    (Some(index), Some(report)) => (Some(index), report),
                    _ => continue,
                }
            }
        };
        let Some(index) = index else { continue };
        let succeeded = report
            .actions
            .iter()
            .all(|a| matches!(a.outcome, Outcome::Done));
        order.done(index, succeeded);
        reports[index] = Some(report);
    }
    // Only a cycle of references (which validation refuses) leaves agents never ready.
    for (index, report) in reports.iter_mut().enumerate() {
        if report.is_none() {
            *report = Some(skipped(
                agents[index],
                "its references could not be put in an order",
            ));
        }
    }
    Report {
        agents: reports.into_iter().flatten().collect(),
    }
}

/// Which agents of a plan may start: an agent is ready once every agent of the plan it
/// references is done; it learns which of them failed.
struct DependencyOrder {
    /// For each agent, how many agents it references are not done yet.
    waiting_for: Vec<usize>,
    /// For each agent, the agents that reference it.
    dependants: Vec<Vec<usize>>,
    /// For each agent, the agents it references that failed or were skipped.
    failed: Vec<Vec<usize>>,
    ready: VecDeque<usize>,
}

impl DependencyOrder {
    fn new(agents: &[&AgentPlan]) -> DependencyOrder {
        let position: HashMap<&Key, usize> = agents
            .iter()
            .enumerate()
            .map(|(i, a)| (&a.key, i))
            .collect();
        let mut waiting_for = vec![0; agents.len()];
        let mut dependants = vec![Vec::new(); agents.len()];
        for (index, agent) in agents.iter().enumerate() {
            // Agents without actions already exist: nothing to wait for.
            let references: BTreeSet<usize> = agent
                .depends_on
                .iter()
                .filter_map(|key| position.get(key).copied())
                .filter(|referenced| *referenced != index)
                .collect();
            waiting_for[index] = references.len();
            for referenced in references {
                dependants[referenced].push(index);
            }
        }
        // Plan order first: it lists agents after those they reference.
        let ready = (0..agents.len()).filter(|i| waiting_for[*i] == 0).collect();
        DependencyOrder {
            waiting_for,
            dependants,
            failed: vec![Vec::new(); agents.len()],
            ready,
        }
    }

    fn next_ready(&mut self) -> Option<usize> {
        self.ready.pop_front()
    }

    fn failed_dependencies(&self, index: usize) -> &[usize] {
        &self.failed[index]
    }

    /// The agent is done; its dependants that were waiting only for it become ready.
    fn done(&mut self, index: usize, succeeded: bool) {
        for dependant in std::mem::take(&mut self.dependants[index]) {
            if !succeeded {
                self.failed[dependant].push(index);
            }
            self.waiting_for[dependant] -= 1;
            if self.waiting_for[dependant] == 0 {
                self.ready.push_back(dependant);
            }
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panicking task cannot leave these maps half-updated (single inserts), so poisoning
    // carries no information here.
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn skipped(agent: &AgentPlan, reason: &str) -> AgentReport {
    AgentReport {
        key: agent.key.clone(),
        id: agent.id.clone(),
        actions: agent
            .actions
            .iter()
            .map(|a| ActionReport {
                kind: a.kind,
                outcome: Outcome::Skipped(reason.to_string()),
            })
            .collect(),
    }
}

/// The report of an agent whose task panicked or was cancelled: every action failed, as far
/// as anyone can tell (re-running apply observes what happened).
fn ended_abnormally(agent: &AgentPlan, why: &str) -> AgentReport {
    AgentReport {
        key: agent.key.clone(),
        id: agent.id.clone(),
        actions: agent
            .actions
            .iter()
            .map(|a| ActionReport {
                kind: a.kind,
                outcome: Outcome::Failed(format!("the apply task ended abnormally: {why}")),
            })
            .collect(),
    }
}

async fn run_agent<P: Provider>(
    provider: &P,
    agent: &AgentPlan,
    definition: Option<&Definition>,
    ids: &Mutex<BTreeMap<Key, String>>,
    progress: &Progress,
) -> AgentReport {
    let mut id = agent.id.clone();
    let mut actions = Vec::new();
    let mut failure: Option<String> = None;
    for action in &agent.actions {
        if failure.is_some() {
            actions.push(ActionReport {
                kind: action.kind,
                outcome: Outcome::Skipped("an earlier action of this agent failed".into()),
            });
            progress.step(Phase::Apply);
            continue;
        }
        let result = run_action(provider, action.kind, agent, definition, &mut id, ids).await;
        let outcome = match result {
            Ok(()) => {
                tracing::info!(agent = %agent.key, action = action.kind.name(), outcome = "done", "applied");
                Outcome::Done
            }
            Err(err) => {
                let message = err.to_string();
                tracing::error!(agent = %agent.key, action = action.kind.name(), outcome = "failed", error = %message, "apply failed");
                failure = Some(message.clone());
                Outcome::Failed(message)
            }
        };
        actions.push(ActionReport {
            kind: action.kind,
            outcome,
        });
        progress.step(Phase::Apply);
    }
    AgentReport {
        key: agent.key.clone(),
        id,
        actions,
    }
}

/// Why an action could not run.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error(transparent)]
    Provider(#[from] ProviderError),
    #[error("the plan has no definition for this agent's {0}")]
    NoDefinition(&'static str),
    #[error("the agent has no id on the platform yet")]
    NoId,
    #[error("references agents that have no id yet: {0}")]
    UnresolvedReferences(String),
}

async fn run_action<P: Provider>(
    provider: &P,
    kind: ActionKind,
    agent: &AgentPlan,
    definition: Option<&Definition>,
    id: &mut Option<String>,
    ids: &Mutex<BTreeMap<Key, String>>,
) -> Result<(), ApplyError> {
    let need_definition = |what| definition.ok_or(ApplyError::NoDefinition(what));
    if kind == ActionKind::Create {
        let definition = need_definition("fields")?;
        let created_id =
            create_once(provider, &marker(agent, definition), &definition.fields).await?;
        let created_id =
            settle_twins(provider, &marker(agent, definition), definition, created_id).await?;
        lock(ids).insert(agent.key.clone(), created_id.clone());
        *id = Some(created_id);
        return Ok(());
    }
    let remote_id = id.clone().ok_or(ApplyError::NoId)?;
    match kind {
        ActionKind::Create => Ok(()),
        ActionKind::Adopt => Ok(provider
            .claim_agent(&remote_id, &marker(agent, need_definition("marker")?))
            .await?),
        // A restore of an agent prune archived clears `pruned`, after the restore itself.
        ActionKind::Restore if sets_pruned(agent, kind) => Ok(provider
            .set_lifecycle_and_marker(
                &remote_id,
                Lifecycle::Active,
                &marker(agent, need_definition("marker")?),
            )
            .await?),
        ActionKind::Restore => Ok(provider
            .set_lifecycle(&remote_id, Lifecycle::Active)
            .await?),
        // An archive by prune records `pruned` in the marker; prune never touches a protected
        // agent, so the marker it writes is unprotected.
        ActionKind::Archive if sets_pruned(agent, kind) => {
            let pruned = Marker {
                pruned: true,
                ..Marker::new(agent.key.clone(), false)
            };
            Ok(provider
                .set_lifecycle_and_marker(&remote_id, Lifecycle::Archived, &pruned)
                .await?)
        }
        ActionKind::Archive => Ok(provider
            .set_lifecycle(&remote_id, Lifecycle::Archived)
            .await?),
        ActionKind::Delete => Ok(provider.delete_agent(&remote_id).await?),
        ActionKind::Update => {
            let definition = need_definition("fields")?;
            let fields = changed_fields(agent, definition);
            provider
                .update_agent(&remote_id, &marker(agent, definition), &fields)
                .await?;
            if changes_marker(agent) {
                provider
                    .claim_agent(&remote_id, &marker(agent, definition))
                    .await?;
            }
            Ok(())
        }
        ActionKind::UpdateDraft => {
            let resolved = resolved_content(need_definition("content")?, ids)?;
            Ok(write_draft_retrying(provider, &agent.key, &remote_id, &resolved).await?)
        }
        ActionKind::Publish => {
            let wanted = match definition.and_then(|d| d.content.as_ref()) {
                Some(_) => Some(resolved_content(need_definition("content")?, ids)?),
                None => None,
            };
            let wanted = wanted.as_deref();
            Ok(publish_once(provider, &agent.key, &remote_id, wanted).await?)
        }
    }
}

/// The definition's content with its `${agent:KEY}` references resolved to the ids known now.
fn resolved_content<'d>(
    definition: &'d Definition,
    ids: &Mutex<BTreeMap<Key, String>>,
) -> Result<std::borrow::Cow<'d, Content>, ApplyError> {
    let content = definition
        .content
        .as_ref()
        .ok_or(ApplyError::NoDefinition("content"))?;
    let (resolved, pending) = {
        let ids = lock(ids);
        let by_ref: BTreeMap<&Key, &str> = ids.iter().map(|(k, v)| (k, v.as_str())).collect();
        resolve_references(content, &definition.references, &by_ref)
    };
    if pending {
        let missing: Vec<String> = definition
            .references
            .iter()
            .filter(|r| !lock(ids).contains_key(*r))
            .map(Key::to_string)
            .collect();
        return Err(ApplyError::UnresolvedReferences(missing.join(", ")));
    }
    Ok(resolved)
}

/// Attempts of one non-idempotent write whose outcome stays unknown (the first included).
const WRITE_ATTEMPTS: u32 = 4;

/// The wait before the second attempt of a write; it doubles with each attempt.
const WRITE_BACKOFF: std::time::Duration = std::time::Duration::from_millis(100);

async fn backoff(attempt: u32) {
    tokio::time::sleep(WRITE_BACKOFF * 2u32.saturating_pow(attempt.saturating_sub(1))).await;
}

/// Creates the agent exactly once. A create whose answer was lost (dropped connection, 5xx)
/// may have happened: the agents are listed again and one carrying the marker's key is taken
/// as ours; only when none is found is the create sent again. The HTTP layer never repeats a
/// POST, so this is the one place that decides.
async fn create_once<P: Provider>(
    provider: &P,
    marker: &Marker,
    fields: &Document,
) -> Result<String, ProviderError> {
    let mut attempt = 1;
    loop {
        let err = match provider.create_agent(marker, fields).await {
            Ok(created) => return Ok(created.id),
            Err(err) if err.outcome_unknown() => err,
            Err(err) => return Err(err),
        };
        tracing::warn!(agent = %marker.key, error = %err, "the outcome of the create is unknown; looking for the agent before trying again");
        let existing = provider
            .list_agents()
            .await?
            .into_iter()
            .find(|a| a.key.as_ref() == Some(&marker.key));
        if let Some(found) = existing {
            tracing::info!(agent = %marker.key, id = %found.id, "the create had happened; using the agent it made");
            return Ok(found.id);
        }
        if attempt >= WRITE_ATTEMPTS {
            return Err(err);
        }
        backoff(attempt).await;
        attempt += 1;
    }
}

/// Two runs that plan the same new agent at once (two clones of a repository, no shared
/// lock) both create it. After its create, each run looks the key up again; the platform lists
/// agents oldest first, so both see the same winner, the oldest twin, and the run whose agent
/// is later retires its own (and only its own) and goes on with the winner's id: its draft and
/// publish go there. A run that created the oldest keeps it; a later twin is always created
/// after it, so that twin's run sees it and yields. The retired twin is archived and marked
/// `duplicate_of` the winner in one write (so it claims the key no longer, even if what follows
/// fails), then deleted where the platform can.
async fn settle_twins<P: Provider>(
    provider: &P,
    marker: &Marker,
    definition: &Definition,
    mine: String,
) -> Result<String, ProviderError> {
    let name = provider
        .kind()
        .definition_schema()
        .name_field
        .and_then(|field| definition.fields.get(field))
        .and_then(serde_json::Value::as_str);
    let found = match provider.find_agents(&marker.key, name).await {
        Ok(found) => found,
        Err(err) => {
            tracing::warn!(agent = %marker.key, id = %mine, error = %err, "could not look for a twin a concurrent run may have created; keeping this agent");
            return Ok(mine);
        }
    };
    let Some(winner) = found.first().map(|a| a.id.clone()) else {
        return Ok(mine);
    };
    if winner == mine {
        return Ok(mine);
    }
    if !found.iter().any(|a| a.id == mine) {
        // The platform does not list the agent just made: which twin is older is unknown.
        tracing::warn!(agent = %marker.key, id = %mine, other = %winner, "another agent claims this key, and the one just created is not listed yet; keeping it (a later plan names both)");
        return Ok(mine);
    }
    tracing::info!(agent = %marker.key, id = %mine, winner = %winner, "a concurrent run created this agent first; retiring the twin this run made and using the first");
    let twin = Marker {
        duplicate_of: Some(winner.clone()),
        ..Marker::new(marker.key.clone(), false)
    };
    provider
        .set_lifecycle_and_marker(&mine, crate::model::Lifecycle::Archived, &twin)
        .await?;
    if provider.capabilities().delete
        && let Err(err) = provider.delete_agent(&mine).await
    {
        tracing::warn!(agent = %marker.key, id = %mine, error = %err, "the archived twin could not be deleted; it claims no key and is left archived");
    }
    Ok(winner)
}

/// Publishes the draft exactly once. A publish whose answer was lost is checked against the
/// versions: when the live version now holds the draft, it happened (a second publish would
/// make a duplicate version); otherwise it is sent again.
///
/// A publish refused as a conflict (409: a platform whose publish closes the draft, where
/// another run published the same agent since this run wrote its draft) is done when the live
/// version is `wanted`, the content this run wrote.
async fn publish_once<P: Provider>(
    provider: &P,
    key: &Key,
    id: &str,
    wanted: Option<&Content>,
) -> Result<(), ProviderError> {
    let mut attempt = 1;
    loop {
        let err = match provider.publish(id).await {
            Ok(_) => return Ok(()),
            Err(err) if err.outcome_unknown() => err,
            Err(err @ ProviderError::Rejected { status: 409, .. }) => {
                return published_meanwhile(provider, key, id, wanted, err).await;
            }
            Err(err) => return Err(err),
        };
        tracing::warn!(agent = %key, id, error = %err, "the outcome of the publish is unknown; reading the versions before trying again");
        let content = provider.read_content(id).await?;
        if content.live.is_some() && content.live == content.draft {
            tracing::info!(
                agent = id,
                version = content.live_version.as_deref().unwrap_or("?"),
                "the publish had happened"
            );
            return Ok(());
        }
        if attempt >= WRITE_ATTEMPTS {
            return Err(err);
        }
        backoff(attempt).await;
        attempt += 1;
    }
}

/// The end of a publish refused as a conflict: done when the live version already says
/// `wanted` (another run published it), else the refusal.
async fn published_meanwhile<P: Provider>(
    provider: &P,
    key: &Key,
    id: &str,
    wanted: Option<&Content>,
    refused: ProviderError,
) -> Result<(), ProviderError> {
    let Some(wanted) = wanted else {
        return Err(refused);
    };
    let content = provider.read_content(id).await?;
    if content
        .live
        .as_ref()
        .is_some_and(|live| live.same_as(wanted))
    {
        tracing::info!(agent = %key, id, "the platform refused the publish, but the live version already is this content (another run published it)");
        return Ok(());
    }
    Err(refused)
}

/// Writes the draft, again when the outcome is unknown: a draft write replaces the draft
/// whole, so repeating it changes nothing more than doing it once.
async fn write_draft_retrying<P: Provider>(
    provider: &P,
    key: &Key,
    id: &str,
    content: &Content,
) -> Result<(), ProviderError> {
    let mut attempt = 1;
    loop {
        match provider.write_draft(id, content).await {
            Err(err) if err.outcome_unknown() && attempt < WRITE_ATTEMPTS => {
                tracing::warn!(agent = %key, id, error = %err, "the outcome of the draft write is unknown; writing it again");
                backoff(attempt).await;
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// What agentsync records on the agent: its key, and whether it is protected.
fn marker(agent: &AgentPlan, definition: &Definition) -> Marker {
    Marker::new(agent.key.clone(), definition.protect)
}

/// What running `agent` reads of its plan: every action, with the changes of updates, archives
/// and restores only. The others' changes (for a create or a draft, every value of the content) are for
/// showing the plan, and would be copied into each task for nothing.
fn for_execution(agent: &AgentPlan) -> AgentPlan {
    let actions = agent
        .actions
        .iter()
        .map(|action| Action {
            kind: action.kind,
            reason: action.reason.clone(),
            // Updates need their field changes; an archive or a restore only says whether it
            // changes the marker's `pruned`.
            changes: match action.kind {
                ActionKind::Update | ActionKind::Archive | ActionKind::Restore => {
                    action.changes.clone()
                }
                _ => Vec::new(),
            },
        })
        .collect();
    AgentPlan {
        key: agent.key.clone(),
        id: agent.id.clone(),
        file: agent.file.clone(),
        actions,
        depends_on: agent.depends_on.clone(),
    }
}

/// Whether the update rewrites the marker: turns `protect` on or off, or clears `pruned` (they
/// live in the marker, not in the fields).
fn changes_marker(agent: &AgentPlan) -> bool {
    let root = crate::model::FieldPath::root();
    let (protect, pruned) = (root.field(PROTECT), root.field(PRUNED));
    agent
        .actions
        .iter()
        .filter(|a| a.kind == ActionKind::Update)
        .flat_map(|a| &a.changes)
        .any(|c| c.path == protect || c.path == pruned)
}

/// Whether the agent's `kind` action changes the marker's `pruned` (an archive by prune, or
/// the restore when the definition is back).
fn sets_pruned(agent: &AgentPlan, kind: ActionKind) -> bool {
    let pruned = crate::model::FieldPath::root().field(PRUNED);
    agent
        .actions
        .iter()
        .filter(|a| a.kind == kind)
        .flat_map(|a| &a.changes)
        .any(|c| c.path == pruned)
}

/// The top-level fields an update action changes, with their wanted values.
fn changed_fields(agent: &AgentPlan, definition: &Definition) -> Document {
    let names: BTreeSet<String> = agent
        .actions
        .iter()
        .filter(|a| a.kind == ActionKind::Update)
        .flat_map(|a| &a.changes)
        .filter_map(|c| match c.path.segments().first() {
            Some(crate::model::Segment::Field(name)) => Some(name.clone()),
            _ => None,
        })
        .collect();
    definition
        .fields
        .iter()
        .filter(|(k, _)| names.contains(*k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}
