//! One sync, idempotent: load -> observe -> plan -> apply, for every target in force, the
//! targets side by side. Never prompts. A target that fails does not stop the others; the sync
//! then fails with each target's error, and the error policy retries it.
//!
//! A definitions directory that is missing (or cannot be read) fails its target's sync before
//! anything is requested: it is never taken for "every definition removed", so nothing is
//! planned, applied or pruned until it is back.
//!
//! Unlike `ops::plan`, a definition that fails to load does not stop the sync: the valid ones
//! are applied, and the broken ones' keys go to `plan::compute` so their agents are neither
//! updated nor pruned. A broken file whose key cannot be read turns prune off for the sync.
//!
//! A sync after file events is incremental when the previous sync succeeded: the definitions
//! are all loaded again (local, no requests), compared with what the platform was last made to
//! match, and only the changed ones (with the agents they reference, for their ids) are
//! observed, planned and applied; every other key is held like a broken one, so it is neither
//! touched nor pruned. Requests then grow with the change, not the repository: one list per
//! 100 agents, plus reads and writes for the changed agents. Nothing changed: no request.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;

use tracing::Instrument as _;

use super::WatchError;
use super::gate::{Gate, Gated};
use crate::config::{Config, Prune};
use crate::engine::apply::Report;
use crate::engine::progress::Progress;
use crate::model::{Desired, Key};
use crate::ops::connect::{Connection, connect};
use crate::ops::observe::observe;
use crate::ops::workspace::{self, Workspace, WorkspaceOptions};

/// A platform connection kept across syncs (one HTTP pool; one embedded simulator), made
/// again when the settings it was made from change.
#[derive(Default)]
pub struct Link {
    current: Option<(String, Connection)>,
    /// The definitions the platform was last made to match in full; `None` after a failure
    /// or a reconnection, which makes the next sync a full one.
    last: Option<Desired>,
    /// What the last load made of each definition file: a sync checks only the files that
    /// changed since.
    memo: crate::spec::LoadMemo,
}

impl Link {
    async fn get(
        &mut self,
        config: &Config,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<&Connection, WatchError> {
        let identity = format!(
            "{:?}|{:?}|{:?}|{:?}|{:?}",
            config.endpoint, config.token_env, config.tenant_id, config.tenant_unit_id, config.root
        );
        let stale = self.current.as_ref().is_some_and(|(id, _)| *id != identity);
        if stale {
            self.close().await;
        }
        if self.current.is_none() {
            let connection = connect(config, env).await.map_err(WatchError::Connect)?;
            self.current = Some((identity, connection));
        }
        match &self.current {
            Some((_, connection)) => Ok(connection),
            None => Err(WatchError::NotConnected),
        }
    }

    /// Forget the connection (after SIGHUP, or at exit).
    pub async fn close(&mut self) {
        self.last = None;
        if let Some((_, connection)) = self.current.take() {
            connection.close().await;
        }
    }
}

/// One [`Link`] per target, by target name (`""` when the configuration names no targets).
#[derive(Default)]
pub struct Links {
    by_target: BTreeMap<String, Link>,
}

impl Links {
    /// Each configuration with its target's link (made if new), to be used side by side.
    fn for_targets(&mut self, configs: Vec<Config>) -> Vec<(Config, &mut Link)> {
        let name = |config: &Config| config.target.clone().unwrap_or_default();
        for config in &configs {
            self.by_target.entry(name(config)).or_default();
        }
        let mut links: BTreeMap<&String, &mut Link> = self.by_target.iter_mut().collect();
        // Target names are unique (they are the keys of `targets:`), so each finds its link.
        configs
            .into_iter()
            .filter_map(|config| {
                let link = links.remove(&name(&config))?;
                Some((config, link))
            })
            .collect()
    }

    /// Forget every connection (after SIGHUP, or at exit).
    pub async fn close(&mut self) {
        for link in self.by_target.values_mut() {
            link.close().await;
        }
        self.by_target.clear();
    }
}

/// What one sync of every target did: the targets that synced, together, and each one that
/// failed.
#[derive(Debug, Default)]
pub struct Round {
    pub synced: Synced,
    /// Every target synced, by name ([`target_name`]), with the error that stopped it if any.
    pub targets: Vec<(String, Option<WatchError>)>,
}

impl Round {
    /// The targets that failed, with why.
    pub fn failures(&self) -> impl Iterator<Item = (&str, &WatchError)> {
        self.targets
            .iter()
            .filter_map(|(name, error)| Some((name.as_str(), error.as_ref()?)))
    }
}

/// A target's name in logs and metrics; `default` when the configuration names no targets.
pub fn target_name(config: &Config) -> String {
    config
        .target
        .clone()
        .unwrap_or_else(|| "default".to_string())
}

/// What one sync found and did.
#[derive(Debug, Default)]
pub struct Synced {
    /// Definition files that failed to load (each already logged with its position).
    pub broken: usize,
    /// Prune was turned off for this sync because a broken file's key could not be read.
    pub prune_suspended: bool,
    /// What was done, every target's actions together.
    pub report: Option<Report>,
    /// Only changed definitions were observed and planned.
    pub incremental: bool,
    /// Definition files read, and how many of them were unchanged since the last sync (not
    /// checked again: [`crate::spec::memo`]).
    pub files: usize,
    pub unchanged: usize,
}

impl Synced {
    /// Adds another target's sync to this one.
    fn merge(&mut self, other: Synced) {
        self.broken += other.broken;
        self.prune_suspended |= other.prune_suspended;
        self.incremental |= other.incremental;
        self.files += other.files;
        self.unchanged += other.unchanged;
        self.report = match (self.report.take(), other.report) {
            (Some(mut mine), Some(theirs)) => {
                mine.agents.extend(theirs.agents);
                Some(mine)
            }
            (mine, theirs) => mine.or(theirs),
        };
    }
}

impl Synced {
    /// Every action done.
    pub fn succeeded(&self) -> bool {
        self.report.as_ref().is_none_or(Report::succeeded)
    }
}

/// Runs one sync of every target in `configs` (the targets in force, read by the caller so it
/// can watch their directories before their files are read). Targets on different platforms
/// sync side by side: a slow or unreachable platform does not delay the others' work within
/// the sync (though the next sync starts once every target is done).
pub async fn reconcile(
    options: &WorkspaceOptions,
    configs: Vec<Config>,
    adopt: bool,
    links: &mut Links,
    gate: &Arc<Gate>,
    incremental: bool,
    env: &dyn Fn(&str) -> Option<String>,
) -> Round {
    // Targets that share a platform share its run lock: those sync one after the other, lest
    // one wait out the lock timeout while the other holds it.
    let mut by_lock: BTreeMap<PathBuf, Vec<(Config, &mut Link)>> = BTreeMap::new();
    for (config, link) in links.for_targets(configs) {
        by_lock
            .entry(crate::ops::lock::path_for(&config))
            .or_default()
            .push((config, link));
    }
    let syncs = by_lock.into_values().map(|group| async move {
        let mut results = Vec::with_capacity(group.len());
        for (config, link) in group {
            // Syncs interleave in the log; each line says which target it is about.
            let span = match &config.target {
                Some(target) => tracing::info_span!("target", name = %target),
                None => tracing::Span::none(),
            };
            let target = target_name(&config);
            let result = async {
                let memo = &mut link.memo;
                let workspace = off_the_runtime(|| {
                    workspace::load_definitions_remembering(config, options, env, memo)
                });
                reconcile_target(workspace, adopt, link, gate, incremental, env).await
            }
            .instrument(span)
            .await;
            results.push((target, result));
        }
        results
    });
    let mut round = Round::default();
    for (target, result) in futures_util::future::join_all(syncs)
        .await
        .into_iter()
        .flatten()
    {
        match result {
            Ok(one) => {
                round.synced.merge(one);
                round.targets.push((target, None));
            }
            Err(err) => round.targets.push((target, Some(err))),
        }
    }
    round
}

/// Runs `work` (loading a directory: reading, parsing and checking every file, on threads of
/// its own and this one) so that the runtime's other tasks (the health and metrics server,
/// connections in flight) move to another worker meanwhile; on a single-threaded runtime there
/// is none to move them to, and `work` simply runs.
fn off_the_runtime<T>(work: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current().map(|runtime| runtime.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(work),
        _ => work(),
    }
}

/// Runs one sync of one target.
async fn reconcile_target(
    workspace: Workspace,
    adopt: bool,
    link: &mut Link,
    gate: &Arc<Gate>,
    incremental: bool,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Synced, WatchError> {
    let result = sync(workspace, adopt, link, gate, incremental, env).await;
    // Only a sync that fully succeeded with every definition loaded is a base for the next
    // incremental one: with a broken file, what its key last held is not known.
    link.last = match &result {
        Ok((synced, Some(desired))) if synced.succeeded() => Some(desired.clone()),
        _ => None,
    };
    result.map(|(synced, _)| synced)
}

async fn sync(
    workspace: Workspace,
    adopt: bool,
    link: &mut Link,
    gate: &Arc<Gate>,
    incremental: bool,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(Synced, Option<Desired>), WatchError> {
    let loaded = &workspace.loaded;
    if directory_missing(loaded) {
        return Err(WatchError::DefinitionsMissing {
            dir: workspace.config.definitions.clone(),
        });
    }
    for problem in &loaded.problems {
        tracing::error!(problem = %problem, "definition not applied");
    }
    let broken = crate::spec::broken_keys(loaded);
    // Prune needs to know every key the directory defines; a file whose key is unreadable
    // (or a directory that could not be read) might hold any of them.
    let keys_unknown = loaded.broken.iter().any(|b| b.key.is_none())
        || (loaded.files == 0 && !loaded.problems.is_empty());
    let config = &workspace.config;
    // The same lock as `apply`: a daemon and a one-shot apply never write at the same time.
    let _lock = crate::ops::lock::RunLock::acquire(
        &crate::ops::lock::path_for(config),
        crate::ops::lock::DEFAULT_TIMEOUT,
    )
    .await
    .map_err(WatchError::Lock)?;
    let prune_suspended = keys_unknown && config.prune != Prune::Off;
    if prune_suspended {
        tracing::warn!(
            "prune is suspended for this sync: a definition file's key could not be read"
        );
    }

    // Keys the plan must neither touch nor prune: the broken ones, and in an incremental sync
    // every unchanged one.
    let mut held = broken.clone();
    let scope = match (&link.last, incremental) {
        (Some(last), true) => Some(changed(last, &loaded.desired, &broken)),
        _ => None,
    };
    let all = &loaded.desired;
    let (desired, removed): (Desired, usize) = match &scope {
        Some((keys, removed)) => {
            held.extend(all.keys().filter(|k| !keys.contains(*k)).cloned());
            let subset = all
                .iter()
                .filter(|(k, _)| keys.contains(*k))
                .map(|(k, d)| (k.clone(), d.clone()))
                .collect();
            (subset, *removed)
        }
        None => (all.clone(), 0),
    };
    let base = loaded.problems.is_empty().then(|| all.clone());
    let synced = |report| Synced {
        broken: loaded.broken.len(),
        prune_suspended,
        report,
        incremental: scope.is_some(),
        files: loaded.files,
        unchanged: loaded.recalled,
    };
    if scope.is_some() && desired.is_empty() && removed == 0 {
        tracing::debug!("no definition changed; nothing to sync");
        return Ok((synced(None), base));
    }

    let connection = link.get(config, env).await?;
    let provider = Arc::new(Gated::new(
        Arc::clone(&connection.provider),
        Arc::clone(gate),
    ));
    let concurrency = config.concurrency as usize;
    let observed = observe(
        Arc::clone(&provider),
        &desired,
        concurrency,
        config.provider.definition_schema().name_field,
        // A daemon's output is its log: no progress is drawn.
        &Progress::silent(),
    )
    .await
    .map_err(WatchError::Observe)?;
    let mut settings = crate::ops::plan::settings(config, adopt);
    if keys_unknown {
        settings.prune = Prune::Off;
    }
    // As for `apply`: a sync prunes at most `max_prune` agents; beyond, a person decides
    // (`apply --allow-mass-prune`, or a fix to the repository).
    let plan = crate::ops::plan::decide(
        &desired,
        &held,
        &observed,
        &settings,
        Some(config.max_prune),
    )
    .map_err(WatchError::Plan)?;
    let report = if plan.is_empty() {
        None
    } else {
        let progress = Progress::silent();
        Some(crate::ops::apply::execute(provider, &plan, &desired, config, &progress).await)
    };
    // The embedded simulator saves when told (once per sync, not per change).
    connection.flush().await.map_err(WatchError::Save)?;
    Ok((synced(report), base))
}

/// The definitions directory could not be listed (it is missing, or not readable).
fn directory_missing(loaded: &crate::spec::Loaded) -> bool {
    loaded
        .problems
        .iter()
        .any(|p| matches!(p.error, crate::spec::SpecError::NoDefinitionsDir { .. }))
}

/// The keys to sync after a file change: definitions added or changed since `last`, with the
/// agents they reference (transitively; planning needs their ids); and how many keys were
/// removed (files gone, not broken), which prune may act on.
fn changed(last: &Desired, now: &Desired, broken: &BTreeSet<Key>) -> (BTreeSet<Key>, usize) {
    let mut keys: BTreeSet<Key> = now
        .iter()
        .filter(|(k, d)| last.get(*k) != Some(*d))
        .map(|(k, _)| k.clone())
        .collect();
    let mut pending: Vec<Key> = keys.iter().cloned().collect();
    while let Some(key) = pending.pop() {
        for reference in now.get(&key).map(|d| &d.references).into_iter().flatten() {
            if now.contains_key(reference) && keys.insert(reference.clone()) {
                pending.push(reference.clone());
            }
        }
    }
    let removed = last
        .keys()
        .filter(|k| !now.contains_key(*k) && !broken.contains(*k))
        .count();
    (keys, removed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn other_tasks_run_while_a_directory_loads() {
        // On the runtime's one worker, as a daemon's sync runs.
        let sync = tokio::spawn(async {
            let (ran, wait) = std::sync::mpsc::channel();
            let task = tokio::spawn(async move {
                let _ = ran.send(());
            });
            // Were the worker held by the work, the task could only run after it.
            let seen = off_the_runtime(|| wait.recv_timeout(Duration::from_secs(20)).is_ok());
            task.await.expect("the task ends");
            seen
        });
        assert!(
            sync.await.expect("the sync ends"),
            "the task ran while the work blocked"
        );
    }

    #[tokio::test]
    async fn on_a_single_threaded_runtime_the_work_simply_runs() {
        assert_eq!(off_the_runtime(|| 7), 7);
    }
}
