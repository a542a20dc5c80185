//! `apply`: plan (or check a saved plan against a fresh one), confirm, execute, report; for
//! every target in force.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::error::OpsError;
use super::lock::{self, RunLock};
use super::plan::{PlanOptions, Planned, plan_in, plan_targets};
use super::saved::SavedPlan;
use super::workspace;
use crate::config::Config;
use crate::engine::apply::{self, Report};
use crate::engine::plan::Plan;
use crate::engine::progress::Progress;
use crate::model::Desired;
use crate::provider::{Provider, ProviderKind};

#[derive(Debug, Clone)]
pub struct ApplyOptions {
    pub plan: PlanOptions,
    /// A plan saved by `plan --out`; apply refuses if the platform changed since.
    pub saved: Option<PathBuf>,
    /// How long to wait for another process applying to the same target.
    pub lock_timeout: Duration,
}

impl Default for ApplyOptions {
    fn default() -> ApplyOptions {
        ApplyOptions {
            plan: PlanOptions::default(),
            saved: None,
            lock_timeout: lock::DEFAULT_TIMEOUT,
        }
    }
}

/// What apply did in one target: the plan it carried out, and the outcome of every action
/// (none when the plan had nothing to do).
pub struct TargetApplied {
    pub target: Option<String>,
    pub provider: ProviderKind,
    pub plan: Plan,
    pub report: Option<Report>,
}

/// What apply did, target by target.
pub struct Applied {
    pub targets: Vec<TargetApplied>,
}

impl Applied {
    /// Every action of every target was done.
    pub fn succeeded(&self) -> bool {
        self.targets
            .iter()
            .all(|t| t.report.as_ref().is_none_or(Report::succeeded))
    }
}

/// Makes the platforms match the definitions, for every target in force. `confirm` sees the
/// plans before anything is written and says whether to go on (it is not asked when there is
/// nothing to do). Targets are applied one after the other.
pub async fn apply(
    options: &ApplyOptions,
    env: &dyn Fn(&str) -> Option<String>,
    confirm: impl FnOnce(&[Planned]) -> Result<bool, OpsError>,
) -> Result<Applied, OpsError> {
    let mut plan_options = options.plan.clone();
    let saved = match &options.saved {
        Some(path) => {
            let saved = SavedPlan::read(path)?;
            plan_options.adopt = saved.adopt;
            Some(saved)
        }
        None => None,
    };
    let configs = workspace::configs(&plan_options.workspace, env)?;
    // Held from before observing until the last write: a second apply plans only after this
    // one is done, so it sees what this one made. Taken in path order, so that two runs over
    // overlapping targets cannot each hold one lock and wait for the other.
    let paths: BTreeSet<PathBuf> = configs.iter().map(lock::path_for).collect();
    let (planned, locks) = match take_free(&paths).await {
        // The usual case: loading and reading overlap, as for `plan`.
        Some(locks) => (plan_targets(configs, &plan_options, env).await?, locks),
        // A lock cannot be taken now: a broken definition is reported without waiting for it.
        None => {
            let workspaces = workspace::load_all(configs, &plan_options.workspace, env);
            let mut locks = Vec::new();
            if workspaces.iter().all(|w| w.loaded.is_valid()) {
                for path in &paths {
                    locks.push(RunLock::acquire(path, options.lock_timeout).await?);
                }
            }
            (plan_in(workspaces, &plan_options, env).await?, locks)
        }
    };
    let result = match execute_all(&planned, saved.as_ref(), confirm, &plan_options.progress).await
    {
        // An embedded simulator saves when told: what it could not save did not happen.
        Ok(reports) => flush_all(&planned).await.map(|()| reports),
        Err(err) => Err(err),
    };
    let mut targets = Vec::with_capacity(planned.len());
    let mut reports = match result {
        Ok(reports) => reports.into_iter(),
        Err(err) => {
            for one in planned {
                one.connection.close().await;
            }
            return Err(err);
        }
    };
    for one in planned {
        targets.push(TargetApplied {
            target: one.workspace.config.target.clone(),
            provider: one.workspace.config.provider,
            plan: one.plan,
            report: reports.next().flatten(),
        });
        one.connection.close().await;
    }
    drop(locks);
    Ok(Applied { targets })
}

/// Saves every embedded simulator's state; the first failure.
async fn flush_all(planned: &[Planned]) -> Result<(), OpsError> {
    for one in planned {
        one.connection.flush().await?;
    }
    Ok(())
}

/// Every lock in `paths` if each can be taken at once (in order, none waited for); `None`,
/// holding none, if one cannot: another run holds it, or the lock file cannot be written (a
/// read-only checkout). Then the caller loads first, so that a broken definition is what is
/// reported, and only valid definitions meet the lock again (and its error, if it has one).
async fn take_free(paths: &BTreeSet<PathBuf>) -> Option<Vec<RunLock>> {
    let mut locks = Vec::with_capacity(paths.len());
    for path in paths {
        locks.push(RunLock::acquire(path, Duration::ZERO).await.ok()?);
    }
    Some(locks)
}

/// Carries out one target's plan, its agents `config.concurrency` at a time: the one executor
/// of `apply` and the daemon.
pub async fn execute<P: Provider + 'static>(
    provider: Arc<P>,
    plan: &Plan,
    desired: &Desired,
    config: &Config,
    progress: &Progress,
) -> Report {
    let ids = apply::known_ids(plan);
    apply::execute(
        provider,
        plan,
        desired,
        ids,
        config.concurrency as usize,
        progress,
    )
    .await
}

/// Checks a saved plan, asks for confirmation, then executes each target's plan: one report
/// per target (`None` where there was nothing to do).
async fn execute_all(
    planned: &[Planned],
    saved: Option<&SavedPlan>,
    confirm: impl FnOnce(&[Planned]) -> Result<bool, OpsError>,
    progress: &Progress,
) -> Result<Vec<Option<Report>>, OpsError> {
    if let Some(saved) = saved {
        saved.check_fresh(planned)?;
    }
    if planned.iter().all(|p| p.plan.is_empty()) {
        return Ok(planned.iter().map(|_| None).collect());
    }
    if !confirm(planned)? {
        return Err(OpsError::Cancelled);
    }
    let mut reports = Vec::with_capacity(planned.len());
    for one in planned {
        if one.plan.is_empty() {
            reports.push(None);
            continue;
        }
        let report = execute(
            Arc::clone(&one.connection.provider),
            &one.plan,
            &one.workspace.loaded.desired,
            &one.workspace.config,
            progress,
        )
        .await;
        reports.push(Some(report));
    }
    Ok(reports)
}
