//! One sync, idempotent: load -> observe -> plan -> apply. Never prompts.
//!
//! Unlike `ops::plan`, a definition that fails to load does not stop the sync: the valid ones
//! are applied, and the broken ones' keys go to `plan::compute` so their agents are neither
//! updated nor pruned. A broken file whose key cannot be read turns prune off for the sync.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::WatchError;
use super::gate::{Gate, Gated};
use crate::apply::{self, Report};
use crate::config::{Config, Prune};
use crate::ops::connect::{Connection, connect};
use crate::ops::observe::observe;
use crate::ops::workspace::{self, WorkspaceOptions};
use crate::plan::{self, Plan, Settings};
use crate::provider::Provider;

/// A platform connection kept across syncs (one HTTP pool; one embedded simulator), made
/// again when the settings it was made from change.
#[derive(Default)]
pub struct Link {
    current: Option<(String, Connection)>,
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
        if let Some((_, connection)) = self.current.take() {
            connection.close().await;
        }
    }
}

/// What one sync found and did.
#[derive(Debug, Default)]
pub struct Synced {
    /// Definition files that failed to load (each already logged with its position).
    pub broken: usize,
    /// Prune was turned off for this sync because a broken file's key could not be read.
    pub prune_suspended: bool,
    pub plan: Option<Plan>,
    pub report: Option<Report>,
    /// The definitions directory the sync read (the watcher follows it).
    pub definitions: std::path::PathBuf,
}

impl Synced {
    /// Every action done.
    pub fn succeeded(&self) -> bool {
        self.report.as_ref().is_none_or(Report::succeeded)
    }
}

/// Runs one sync.
pub async fn reconcile(
    options: &WorkspaceOptions,
    adopt: bool,
    link: &mut Link,
    gate: &Arc<Gate>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Synced, WatchError> {
    let workspace = workspace::load(options, env).map_err(WatchError::Config)?;
    let loaded = &workspace.loaded;
    for problem in &loaded.problems {
        tracing::error!(problem = %problem, "definition not applied");
    }
    let broken = crate::spec::broken_keys(loaded);
    // Prune needs to know every key the directory defines; a file whose key is unreadable
    // (or a directory that could not be read) might hold any of them.
    let keys_unknown = loaded.broken.iter().any(|b| b.key.is_none())
        || (loaded.files == 0 && !loaded.problems.is_empty());
    let config = &workspace.config;
    let prune_suspended = keys_unknown && config.prune != Prune::Off;
    if prune_suspended {
        tracing::warn!(
            "prune is suspended for this sync: a definition file's key could not be read"
        );
    }

    let connection = link.get(config, env).await?;
    let provider = Arc::new(Gated::new(
        Arc::clone(&connection.provider),
        Arc::clone(gate),
    ));
    let concurrency = config.concurrency as usize;
    let observed = observe(Arc::clone(&provider), &loaded.desired, concurrency)
        .await
        .map_err(WatchError::Observe)?;
    let settings = Settings {
        publish: config.publish,
        prune: if keys_unknown {
            Prune::Off
        } else {
            config.prune
        },
        adopt,
        capabilities: provider.capabilities(),
    };
    let broken_set: BTreeSet<_> = broken;
    let plan = plan::compute(&loaded.desired, &broken_set, &observed, &settings)
        .map_err(WatchError::Conflicts)?;
    let report = if plan.is_empty() {
        None
    } else {
        let ids = apply::known_ids(&plan);
        Some(apply::execute(provider, &plan, &loaded.desired, ids, concurrency).await)
    };
    Ok(Synced {
        broken: loaded.broken.len(),
        prune_suspended,
        plan: Some(plan),
        report,
        definitions: config.definitions.clone(),
    })
}
