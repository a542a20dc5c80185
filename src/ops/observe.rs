//! Reads what the platform holds: every agent, then the content of the agents the plan can
//! touch, concurrently up to the configured limit, with a [`Progress`] step per content read.
//!
//! Requests: the provider's list, then exactly one content read per agent that needs one
//! (nothing is read twice in a run).

use std::collections::BTreeSet;
use std::sync::Arc;

use serde_json::Value;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::model::Desired;
use crate::plan::{Observed, ObservedAgent};
use crate::progress::{Phase, Progress};
use crate::provider::{Provider, ProviderError, RemoteAgent};

/// Lists every agent, then reads content for managed agents whose definition has a flow, and
/// for unmanaged agents a new definition may adopt (same name). Nothing else is read.
pub async fn observe<P: Provider + 'static>(
    provider: Arc<P>,
    desired: &Desired,
    concurrency: usize,
    name_field: Option<&str>,
    progress: &Progress,
) -> Result<Observed, ProviderError> {
    let name_of = |fields: &crate::model::Document| {
        name_field
            .and_then(|f| fields.get(f))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
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
    let semaphore = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut reads = JoinSet::new();
    for index in to_read {
        let provider = Arc::clone(&provider);
        let semaphore = Arc::clone(&semaphore);
        let progress = progress.clone();
        let id = agents[index].id.clone();
        reads.spawn(async move {
            let _permit = semaphore.acquire_owned().await.ok();
            let content = provider.read_content(&id).await;
            progress.step(Phase::Observe);
            (index, content)
        });
    }
    let mut observed: Vec<ObservedAgent> = agents
        .into_iter()
        .map(|agent| ObservedAgent {
            agent,
            content: None,
        })
        .collect();
    while let Some(joined) = reads.join_next().await {
        // A read that never finished must not look like "no draft": that would plan a write.
        let (index, content) = joined.map_err(|err| ProviderError::Protocol {
            what: "an agent's content".into(),
            message: format!("the read stopped before it finished: {err}"),
        })?;
        observed[index].content = Some(content?);
    }
    Ok(Observed { agents: observed })
}
