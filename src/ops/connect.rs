//! From a configuration to a provider that talks to its platform; for `endpoint: embedded`,
//! the simulator started in-process first.

use std::sync::Arc;

use super::error::OpsError;
use crate::config::{Config, Endpoint};
use crate::http::{HttpSettings, Secret};
use crate::provider::workfx::{WorkfxProvider, WorkfxSettings};
use crate::sim::{RunningSim, SimOptions};

/// Where the embedded simulator keeps its state, under the configuration's directory.
pub const EMBEDDED_STATE: &str = ".agentsync/embedded-state.json";

/// A provider ready to use, and the embedded simulator behind it when there is one.
pub struct Connection {
    pub provider: Arc<WorkfxProvider>,
    embedded: Option<RunningSim>,
}

impl Connection {
    /// Stops the embedded simulator, if any (its state is saved after every change already).
    pub async fn close(self) {
        if let Some(sim) = self.embedded {
            sim.shutdown().await;
        }
    }
}

/// Connects to the configured platform. The token is read from the variable `token_env`
/// names; the embedded simulator needs none.
pub async fn connect(
    config: &Config,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Connection, OpsError> {
    let (base, embedded) = match &config.endpoint {
        Endpoint::Url(url) => (url.clone(), None),
        Endpoint::Embedded => {
            let sim = start_embedded(config).await?;
            let url = sim.base_url();
            let base = reqwest::Url::parse(&url)
                .map_err(|_| OpsError::Setup(crate::http::SetupError::Endpoint { url }))?;
            (base, Some(sim))
        }
    };
    let token = match (&config.token_env, &config.endpoint) {
        (Some(var), Endpoint::Url(_)) => {
            Some(Secret::new(env(var).ok_or_else(|| {
                OpsError::MissingToken { var: var.clone() }
            })?))
        }
        // The embedded simulator asks for no token; one that is set is still sent.
        (Some(var), Endpoint::Embedded) => env(var).map(Secret::new),
        (None, _) => None,
    };
    let provider = WorkfxProvider::new(WorkfxSettings {
        base_url: base,
        token,
        tenant_id: config.tenant_id.clone(),
        tenant_unit_id: config.tenant_unit_id.clone(),
        http: HttpSettings::with_max_in_flight(config.concurrency as usize),
    })
    .map_err(OpsError::Setup)?;
    Ok(Connection {
        provider: Arc::new(provider),
        embedded,
    })
}

async fn start_embedded(config: &Config) -> Result<RunningSim, OpsError> {
    let state = config.root.join(EMBEDDED_STATE);
    if let Some(dir) = state.parent() {
        std::fs::create_dir_all(dir).map_err(|source| {
            OpsError::Embedded(crate::sim::SimError::StateWrite {
                path: dir.to_path_buf(),
                source,
            })
        })?;
    }
    let options = SimOptions {
        state_file: Some(state),
        ..SimOptions::loopback()
    };
    crate::sim::start(options).await.map_err(OpsError::Embedded)
}
