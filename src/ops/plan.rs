//! `plan`: load, connect, observe, compute, for every target in force; with one remote target,
//! loading and observing overlap. Writes nothing to the platform.

use std::collections::BTreeSet;
use std::sync::Arc;

use tokio::runtime::{Handle, RuntimeFlavor};
use tokio::sync::mpsc;

use super::connect::{Connection, connect};
use super::error::OpsError;
use super::observe::{self, Wanted, observe};
use super::workspace::{self, Workspace, WorkspaceOptions};
use crate::config::{Config, Endpoint, MaxPrune};
use crate::engine::plan::{self, ActionKind, Observed, Plan, Settings};
use crate::engine::progress::Progress;
use crate::model::{Desired, Key};
use crate::provider::ProviderError;

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
/// a problem), observes each target's platform and computes its plan. With one remote target,
/// the loading overlaps the reads (`plan_streaming`); then a broken definition is still what
/// is reported, but the platform may have been read (never written).
pub async fn plan(
    options: &PlanOptions,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<Planned>, OpsError> {
    let configs = workspace::configs(&options.workspace, env)?;
    plan_targets(configs, options, env).await
}

/// [`plan()`] for the configurations already read (apply takes the run locks in between).
pub async fn plan_targets(
    mut configs: Vec<Config>,
    options: &PlanOptions,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<Planned>, OpsError> {
    let multi_threaded = Handle::try_current()
        .is_ok_and(|runtime| runtime.runtime_flavor() == RuntimeFlavor::MultiThread);
    // An embedded simulator is started only for valid definitions: starting it creates its
    // state directory, and a broken file must leave the repository as it was.
    let remote = configs
        .first()
        .is_some_and(|c| matches!(c.endpoint, Endpoint::Url(_)));
    if configs.len() == 1
        && multi_threaded
        && remote
        && let Some(config) = configs.pop()
    {
        let target = config.target.clone();
        return plan_streaming(config, options, env)
            .await
            .map(|planned| vec![planned])
            .map_err(|err| OpsError::in_target(target, err));
    }
    let workspaces = workspace::load_all(configs, &options.workspace, env);
    plan_in(workspaces, options, env).await
}

/// One target's plan, its definitions loading on this thread while a task lists the agents and
/// reads each managed agent's content as soon as its definition is checked: the load is hidden
/// behind the requests. The requests are those of [`plan_in`]; only their order differs.
///
/// A broken definition is still what is reported when there is one, over a failed connection
/// or read: those wait until the definitions are known to be valid. Nothing is written before.
/// Needs a multi-threaded runtime (the load blocks this thread; the task runs on another).
async fn plan_streaming(
    config: Config,
    options: &PlanOptions,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Planned, OpsError> {
    let schema = config.provider.definition_schema();
    // Connecting sends no request; the task reading the platform starts with it.
    let (wanted, receiver) = mpsc::unbounded_channel();
    let started = connect(&config, env).await.map(|connection| {
        let reading = tokio::spawn(observe::observe_streaming(
            Arc::clone(&connection.provider),
            receiver,
            config.concurrency as usize,
            schema.name_field,
            options.progress.clone(),
        ));
        (connection, reading)
    });
    let workspace = tokio::task::block_in_place(|| {
        workspace::load_definitions(config, &options.workspace, env, &mut |definition| {
            if definition.content.is_some() {
                // The task is gone only when it failed; its error is reported below.
                let _ = wanted.send(Wanted::Content(definition.key.clone()));
            }
        })
    });
    if !workspace.loaded.is_valid() {
        if let Ok((connection, reading)) = started {
            reading.abort();
            connection.close().await;
        }
        return Err(OpsError::InvalidDefinitions(Box::new(workspace.loaded)));
    }
    let (connection, reading) = started?;
    let with_flows = workspace
        .loaded
        .desired
        .values()
        .filter(|d| d.content.is_some())
        .map(|d| {
            (
                d.key.clone(),
                observe::name_of(&d.fields, schema.name_field),
            )
        })
        .collect();
    let _ = wanted.send(Wanted::Done(with_flows));
    let observed = match reading.await {
        Ok(Ok(mut observed)) => {
            observed.share_contents(&workspace.loaded.desired);
            observed
        }
        Ok(Err(err)) => {
            connection.close().await;
            return Err(OpsError::Observe(err));
        }
        // The reading task stopped before it answered: its reads must not look like "no draft".
        Err(err) => {
            connection.close().await;
            return Err(OpsError::Observe(ProviderError::Protocol {
                what: "the agents' contents".into(),
                message: format!("the reads stopped before they finished: {err}"),
            }));
        }
    };
    conclude(workspace, connection, observed, options).await
}

/// [`plan()`] for workspaces already loaded (apply, when it must wait for the run locks, loads
/// first so that a broken definition is reported at once). Targets are planned one after the
/// other; on an error, the connections already made are closed.
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
    conclude(workspace, connection, observed, options).await
}

/// The plan of what was observed; the connection is closed on an error.
async fn conclude(
    workspace: Workspace,
    connection: Connection,
    observed: Observed,
    options: &PlanOptions,
) -> Result<Planned, OpsError> {
    let config = &workspace.config;
    let broken: BTreeSet<_> = crate::spec::broken_keys(&workspace.loaded);
    let plan = match decide(
        &workspace.loaded.desired,
        &broken,
        &observed,
        &settings(config, options.adopt),
        (!options.allow_mass_prune).then_some(config.max_prune),
    ) {
        Ok(plan) => plan,
        Err(err) => {
            connection.close().await;
            return Err(err);
        }
    };
    Ok(Planned {
        workspace,
        observed,
        plan,
        connection,
    })
}

/// The settings a target is planned with: the one place they are made, for `plan`, `apply`,
/// `status` and the daemon.
pub fn settings(config: &Config, adopt: bool) -> Settings {
    Settings {
        publish: config.publish,
        prune: config.prune,
        adopt,
        capabilities: config.provider.capabilities(),
        schema: config.provider.definition_schema(),
    }
}

/// A target's plan from what was observed: the one decision of `plan`, `apply` and the
/// daemon. `held` keys are neither touched nor pruned. With `max_prune`, a plan that prunes
/// more agents than it allows is refused.
pub fn decide(
    desired: &Desired,
    held: &BTreeSet<Key>,
    observed: &Observed,
    settings: &Settings,
    max_prune: Option<MaxPrune>,
) -> Result<Plan, OpsError> {
    let plan = plan::compute(desired, held, observed, settings).map_err(OpsError::Conflicts)?;
    if let Some(max_prune) = max_prune {
        check_prune_limit(&plan, observed, max_prune)?;
    }
    Ok(plan)
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
