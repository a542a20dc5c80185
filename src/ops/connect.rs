//! From a target's configuration to a provider that talks to its platform; for
//! `endpoint: embedded`, that platform's simulator started in-process first.

use std::path::PathBuf;
use std::sync::Arc;

use super::error::OpsError;
use crate::config::{Config, Endpoint};
use crate::provider::http::Secret;
use crate::provider::{Account, AnyProvider};
use crate::sim::{RunningSim, Saving, SimOptions};

/// The embedded simulator's state file, in the state directory, when the configuration names
/// no targets.
pub const EMBEDDED_STATE: &str = "embedded-state.json";

/// The embedded simulator's state file of a target, in the state directory: one per target,
/// so that targets never see each other's agents.
pub fn embedded_state(config: &Config) -> PathBuf {
    match &config.target {
        None => config.state_dir.join(EMBEDDED_STATE),
        Some(name) => config.state_dir.join(format!("embedded-{name}.json")),
    }
}

/// A provider ready to use, and the embedded simulator behind it when there is one.
pub struct Connection {
    pub provider: Arc<AnyProvider>,
    embedded: Option<RunningSim>,
}

impl Connection {
    /// Saves what the embedded simulator has not saved yet (it saves when told, not per
    /// change); nothing to do for a remote platform.
    pub async fn flush(&self) -> Result<(), OpsError> {
        match &self.embedded {
            Some(sim) => sim.flush().await.map_err(OpsError::Embedded),
            None => Ok(()),
        }
    }

    /// Stops the embedded simulator, if any, saving what it has not saved yet. Runs that wrote
    /// flush first and report a failure; here it can only be logged.
    pub async fn close(self) {
        if let Some(sim) = self.embedded
            && let Err(err) = sim.shutdown().await
        {
            tracing::error!(error = %err, "the embedded simulator's state could not be saved");
        }
    }
}

/// Connects to the target's platform. The token is read from the variable `token_env` names;
/// the embedded simulator needs none.
pub async fn connect(
    config: &Config,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Connection, OpsError> {
    let (base, embedded) = match &config.endpoint {
        Endpoint::Url(url) => (url.clone(), None),
        Endpoint::Embedded => {
            let sim = start_embedded(config).await?;
            let url = sim.base_url();
            let base = reqwest::Url::parse(&url).map_err(|_| {
                OpsError::Setup(crate::provider::http::SetupError::Endpoint { url })
            })?;
            (base, Some(sim))
        }
    };
    let token = token(config, env)?;
    let account = Account {
        base_url: base,
        token,
        tenant_id: config.tenant_id.clone(),
        tenant_unit_id: config.tenant_unit_id.clone(),
        concurrency: config.concurrency as usize,
    };
    let provider = AnyProvider::connect(config.provider, account).map_err(OpsError::Setup)?;
    Ok(Connection {
        provider: Arc::new(provider),
        embedded,
    })
}

/// The token to send, from the variable `token_env` names; refused before any request when
/// a real platform would refuse it (unset, empty or blank). The embedded simulator asks for no
/// token: one that is set is still sent, a blank one is not.
fn token(
    config: &Config,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<Secret>, OpsError> {
    let Some(var) = &config.token_env else {
        return Ok(None);
    };
    let value = env(var).filter(|v| !v.trim().is_empty());
    match (&config.endpoint, value) {
        (_, Some(value)) => Ok(Some(Secret::new(value))),
        (Endpoint::Embedded, None) => Ok(None),
        (Endpoint::Url(_), None) if env(var).is_some() => {
            Err(OpsError::EmptyToken { var: var.clone() })
        }
        (Endpoint::Url(_), None) => Err(OpsError::MissingToken { var: var.clone() }),
    }
}

async fn start_embedded(config: &Config) -> Result<RunningSim, OpsError> {
    let state = embedded_state(config);
    std::fs::create_dir_all(&config.state_dir).map_err(|source| match source.kind() {
        std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem => {
            OpsError::StateNotWritable {
                dir: config.state_dir.clone(),
                source,
            }
        }
        _ => OpsError::Embedded(crate::sim::SimError::StateWrite {
            path: config.state_dir.clone(),
            source,
        }),
    })?;
    let options = SimOptions {
        state_file: Some(state),
        // One run talks to it: saved at the end of each apply or sync, not per change.
        saving: Saving::OnFlush,
        platform: config.provider.simulator(),
        ..SimOptions::loopback()
    };
    crate::sim::start(options).await.map_err(OpsError::Embedded)
}
