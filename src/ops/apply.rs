//! `apply`: plan (or check a saved plan against a fresh one), confirm, execute, report.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::error::OpsError;
use super::lock::{self, RunLock};
use super::plan::{PlanOptions, plan_in};
use super::saved::SavedPlan;
use super::workspace;
use crate::apply::{self, Report};
use crate::plan::Plan;

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

/// What apply did: the plan it carried out, and the outcome of every action (none when the
/// plan had nothing to do).
pub struct Applied {
    pub plan: Plan,
    pub report: Option<Report>,
}

/// Makes the platform match the definitions. `confirm` sees the plan before anything is
/// written and says whether to go on (it is not asked when there is nothing to do).
pub async fn apply(
    options: &ApplyOptions,
    env: &dyn Fn(&str) -> Option<String>,
    confirm: impl FnOnce(&Plan) -> Result<bool, OpsError>,
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
    let workspace = workspace::load(&plan_options.workspace, env)?;
    // Held from before observing until the last write: a second apply plans only after this
    // one is done, so it sees what this one made.
    let _lock = if workspace.loaded.is_valid() {
        Some(RunLock::acquire(&lock::path_for(&workspace.config), options.lock_timeout).await?)
    } else {
        None
    };
    let planned = plan_in(workspace, &plan_options, env).await?;
    let result = async {
        if let Some(saved) = &saved {
            saved.check_fresh(&planned.plan, &planned.observed)?;
        }
        if planned.plan.is_empty() {
            return Ok(None);
        }
        if !confirm(&planned.plan)? {
            return Err(OpsError::Cancelled);
        }
        let ids = apply::known_ids(&planned.plan);
        let report = apply::execute(
            Arc::clone(&planned.connection.provider),
            &planned.plan,
            &planned.workspace.loaded.desired,
            ids,
            planned.workspace.config.concurrency as usize,
            &plan_options.progress,
        )
        .await;
        Ok(Some(report))
    }
    .await;
    let plan = planned.plan.clone();
    planned.connection.close().await;
    Ok(Applied {
        plan,
        report: result?,
    })
}
