//! `plan`: load, connect, observe, compute, for every target in force. Writes nothing to the
//! platform.

use std::collections::BTreeSet;

use super::connect::{Connection, connect};
use super::error::OpsError;
use super::observe::observe;
use super::workspace::{self, Workspace, WorkspaceOptions};
use crate::config::MaxPrune;
use crate::plan::{self, ActionKind, Observed, Plan, Settings};
use crate::progress::Progress;

#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    pub workspace: WorkspaceOptions,
    /// Take over unmanaged agents whose name matches a new definition.
    pub adopt: bool,
    /// Prune more agents than `max_prune` allows.
    pub allow_mass_prune: bool,
    /// Where observe (and apply, for `ops::apply`) report how far they have got.
    pub progress: Progress,
}

/// One target's plan, and everything it was made from (apply goes on from here).
pub struct Planned {
    pub workspace: Workspace,
    pub observed: Observed,
    pub plan: Plan,
    pub connection: Connection,
}

/// Loads and checks the definitions of every target in force (refusing to go on when any has
/// a problem), then observes each target's platform and computes its plan.
pub async fn plan(
    options: &PlanOptions,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<Planned>, OpsError> {
    let workspaces = workspace::load(&options.workspace, env)?;
    plan_in(workspaces, options, env).await
}

/// [`plan`] for workspaces already loaded (apply takes the run locks in between). Targets are
/// planned one after the other; on an error, the connections already made are closed.
pub async fn plan_in(
    workspaces: Vec<Workspace>,
    options: &PlanOptions,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<Planned>, OpsError> {
    if let Some(invalid) = workspaces.iter().position(|w| !w.loaded.is_valid()) {
        let loaded = workspaces.into_iter().nth(invalid).map(|w| w.loaded);
        return Err(OpsError::InvalidDefinitions(Box::new(
            loaded.unwrap_or_default(),
        )));
    }
    let mut planned = Vec::with_capacity(workspaces.len());
    for workspace in workspaces {
        let target = workspace.config.target.clone();
        match plan_target(workspace, options, env).await {
            Ok(one) => planned.push(one),
            Err(err) => {
                for one in planned {
                    one.connection.close().await;
                }
                return Err(OpsError::in_target(target, err));
            }
        }
    }
    Ok(planned)
}

/// One target's plan, its definitions already checked.
async fn plan_target(
    workspace: Workspace,
    options: &PlanOptions,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Planned, OpsError> {
    let config = &workspace.config;
    let connection = connect(config, env).await?;
    let concurrency = config.concurrency as usize;
    let provider = std::sync::Arc::clone(&connection.provider);
    let observed = match observe(
        provider,
        &workspace.loaded.desired,
        concurrency,
        config.provider.definition_schema().name_field,
        &options.progress,
    )
    .await
    {
        Ok(observed) => observed,
        Err(err) => {
            connection.close().await;
            return Err(OpsError::Observe(err));
        }
    };
    let settings = Settings {
        publish: config.publish,
        prune: config.prune,
        adopt: options.adopt,
        capabilities: config.provider.capabilities(),
        schema: config.provider.definition_schema(),
    };
    let broken: BTreeSet<_> = crate::spec::broken_keys(&workspace.loaded);
    let plan = match plan::compute(&workspace.loaded.desired, &broken, &observed, &settings) {
        Ok(plan) => plan,
        Err(conflicts) => {
            connection.close().await;
            return Err(OpsError::Conflicts(conflicts));
        }
    };
    if !options.allow_mass_prune
        && let Err(err) = check_prune_limit(&plan, &observed, config.max_prune)
    {
        connection.close().await;
        return Err(err);
    }
    Ok(Planned {
        workspace,
        observed,
        plan,
        connection,
    })
}

/// Refuses a plan that prunes more agents than `max_prune` allows: many definitions gone at
/// once is more often a mistake (a bad merge, a wrong directory) than a wish.
fn check_prune_limit(
    plan: &Plan,
    observed: &Observed,
    max_prune: MaxPrune,
) -> Result<(), OpsError> {
    let pruned = plan
        .changes
        .iter()
        .filter(|c| c.file.is_none())
        .filter(|c| {
            c.actions
                .iter()
                .any(|a| matches!(a.kind, ActionKind::Archive | ActionKind::Delete))
        })
        .count();
    let managed = observed
        .agents
        .iter()
        .filter(|a| a.agent.key.is_some())
        .count();
    let limit = max_prune.limit(managed);
    if pruned > limit {
        return Err(OpsError::MassPrune {
            pruned,
            managed,
            limit,
            setting: max_prune,
        });
    }
    Ok(())
}
