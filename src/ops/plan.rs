//! `plan`: load, connect, observe, compute. Writes nothing to the platform.

use std::collections::BTreeSet;

use super::connect::{Connection, connect};
use super::error::OpsError;
use super::observe::observe;
use super::workspace::{self, Workspace, WorkspaceOptions};
use crate::config::MaxPrune;
use crate::plan::{self, ActionKind, Observed, Plan, Settings};
use crate::progress::Progress;
use crate::provider::Provider;

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

/// A plan, and everything it was made from (apply goes on from here).
pub struct Planned {
    pub workspace: Workspace,
    pub observed: Observed,
    pub plan: Plan,
    pub connection: Connection,
}

/// Loads and checks the definitions (refusing to go on when any has a problem), then observes
/// the platform and computes the plan.
pub async fn plan(
    options: &PlanOptions,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Planned, OpsError> {
    let workspace = workspace::load(&options.workspace, env)?;
    plan_in(workspace, options, env).await
}

/// [`plan`] for a workspace already loaded (apply takes the run lock in between).
pub async fn plan_in(
    workspace: Workspace,
    options: &PlanOptions,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Planned, OpsError> {
    if !workspace.loaded.is_valid() {
        return Err(OpsError::InvalidDefinitions(Box::new(workspace.loaded)));
    }
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
        capabilities: connection.provider.capabilities(),
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
