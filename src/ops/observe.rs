//! Reads what the platform holds: every agent, then the content of the agents the plan can
//! touch, concurrently up to the configured limit, with a [`Progress`] step per content read.
//!
//! Requests: the provider's list, then exactly one content read per agent that needs one
//! (nothing is read twice in a run).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use serde_json::Value;
use tokio::sync::Semaphore;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::task::JoinSet;
use tracing::Instrument as _;

use crate::engine::plan::{Observed, ObservedAgent};
use crate::engine::progress::{Phase, Progress};
use crate::model::{Desired, Key};
use crate::provider::{Provider, ProviderError, RemoteAgent, RemoteContent};

/// Lists every agent, then reads content for managed agents whose definition has a flow, and
/// for unmanaged agents a new definition may adopt (same name). Nothing else is read.
pub async fn observe<P: Provider + 'static>(
    provider: Arc<P>,
    desired: &Desired,
    concurrency: usize,
    name_field: Option<&str>,
    progress: &Progress,
) -> Result<Observed, ProviderError> {
    let name_of = |fields: &crate::model::Document| name_of(fields, name_field);
    let agents = provider.list_agents().await?;
    let managed_keys: BTreeSet<_> = agents.iter().filter_map(|a| a.key.clone()).collect();
    let adoptable_names: BTreeSet<String> = desired
        .values()
        .filter(|d| !managed_keys.contains(&d.key) && d.content.is_some())
        .filter_map(|d| name_of(&d.fields))
        .collect();
    let wants_content = |agent: &RemoteAgent| match &agent.key {
        Some(key) => desired.get(key).is_some_and(|d| d.content.is_some()),
        None => name_of(&agent.fields).is_some_and(|n| adoptable_names.contains(&n)),
    };

    let mut observed =
        with_content_reporting(provider, agents, concurrency, wants_content, progress).await?;
    // A content that says the same as its definition is held once, for the rest of the run.
    observed.share_contents(desired);
    Ok(observed)
}

/// Reads the content of the `agents` that `wanted` picks, concurrently up to `concurrency`
/// (`observe`, `export` and `status` each pick their own).
pub async fn with_content<P: Provider + 'static>(
    provider: Arc<P>,
    agents: Vec<RemoteAgent>,
    concurrency: usize,
    wanted: impl Fn(&RemoteAgent) -> bool,
) -> Result<Observed, ProviderError> {
    with_content_reporting(provider, agents, concurrency, wanted, &Progress::silent()).await
}

/// [`with_content`], with a progress step per read.
pub async fn with_content_reporting<P: Provider + 'static>(
    provider: Arc<P>,
    agents: Vec<RemoteAgent>,
    concurrency: usize,
    wanted: impl Fn(&RemoteAgent) -> bool,
    progress: &Progress,
) -> Result<Observed, ProviderError> {
    let to_read: Vec<usize> = agents
        .iter()
        .enumerate()
        .filter(|(_, agent)| wanted(agent))
        .map(|(index, _)| index)
        .collect();
    let _phase = progress.phase(Phase::Observe, to_read.len());
    let mut reads = Reads::new(provider, concurrency, progress);
    for index in to_read {
        reads.start(index, &agents[index].id);
    }
    reads.finish(agents).await
}

/// What the loader tells [`observe_streaming`] while it loads.
#[derive(Debug)]
pub enum Wanted {
    /// A definition with a flow was checked: its agent's content is needed, if it is managed.
    Content(Key),
    /// The loading is done; these are the definitions with a flow, with their names, for the
    /// unmanaged agents a new definition may adopt.
    Done(Vec<(Key, Option<String>)>),
}

/// [`observe`] while the definitions are still loading: the list goes out at once, and each
/// managed agent's content is read as soon as `wanted` says its definition has a flow. Reads
/// exactly what [`observe`] would, once `wanted` has said everything (`Done`, or closed).
pub async fn observe_streaming<P: Provider + 'static>(
    provider: Arc<P>,
    mut wanted: UnboundedReceiver<Wanted>,
    concurrency: usize,
    name_field: Option<&'static str>,
    progress: Progress,
) -> Result<Observed, ProviderError> {
    let agents = provider.list_agents().await?;
    let managed: HashMap<Key, usize> = agents
        .iter()
        .enumerate()
        .filter_map(|(index, agent)| agent.key.clone().map(|key| (key, index)))
        .collect();
    // Every managed agent might need its content read; once loading is done, the reads
    // started are the true total.
    let _phase = progress.phase(Phase::Observe, managed.len());
    let mut reads = Reads::new(provider, concurrency, &progress);
    let mut started = HashSet::new();
    while let Some(message) = wanted.recv().await {
        match message {
            Wanted::Content(key) => {
                if let Some(&index) = managed.get(&key)
                    && started.insert(index)
                {
                    reads.start(index, &agents[index].id);
                }
            }
            Wanted::Done(definitions) => {
                let adoptable: BTreeSet<String> = definitions
                    .into_iter()
                    .filter(|(key, _)| !managed.contains_key(key))
                    .filter_map(|(_, name)| name)
                    .collect();
                for (index, agent) in agents.iter().enumerate() {
                    let candidate = agent.key.is_none()
                        && name_of(&agent.fields, name_field)
                            .is_some_and(|n| adoptable.contains(&n));
                    if candidate && started.insert(index) {
                        reads.start(index, &agent.id);
                    }
                }
                progress.set_total(Phase::Observe, started.len());
                break;
            }
        }
    }
    reads.finish(agents).await
}

/// The agent's name, as the definition format's name field holds it (for adoption).
pub fn name_of(fields: &crate::model::Document, name_field: Option<&str>) -> Option<String> {
    name_field
        .and_then(|f| fields.get(f))
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// Content reads in flight, at most `concurrency` at once, each a progress step.
struct Reads<P> {
    provider: Arc<P>,
    semaphore: Arc<Semaphore>,
    progress: Progress,
    set: JoinSet<(usize, Result<RemoteContent, ProviderError>)>,
}

impl<P: Provider + 'static> Reads<P> {
    fn new(provider: Arc<P>, concurrency: usize, progress: &Progress) -> Reads<P> {
        Reads {
            provider,
            semaphore: Arc::new(Semaphore::new(concurrency.max(1))),
            progress: progress.clone(),
            set: JoinSet::new(),
        }
    }

    /// Reads the content of `agents[index]`, whose id is `id`.
    fn start(&mut self, index: usize, id: &str) {
        let provider = Arc::clone(&self.provider);
        let semaphore = Arc::clone(&self.semaphore);
        let progress = self.progress.clone();
        let id = id.to_owned();
        self.set.spawn(
            async move {
                let _permit = semaphore.acquire_owned().await.ok();
                let content = provider.read_content(&id).await;
                progress.step(Phase::Observe);
                (index, content)
            }
            .in_current_span(),
        );
    }

    /// Every agent, with the content read for it.
    async fn finish(mut self, agents: Vec<RemoteAgent>) -> Result<Observed, ProviderError> {
        let mut observed: Vec<ObservedAgent> = agents
            .into_iter()
            .map(|agent| ObservedAgent {
                agent,
                content: None,
            })
            .collect();
        while let Some(joined) = self.set.join_next().await {
            // A read that never finished must not look like "no draft": that would plan a write.
            let (index, content) = joined.map_err(|err| ProviderError::Protocol {
                what: "an agent's content".into(),
                message: format!("the read stopped before it finished: {err}"),
            })?;
            observed[index].content = Some(content?);
        }
        Ok(Observed { agents: observed })
    }
}
