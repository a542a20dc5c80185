//! The repository as a command sees it: the targets in force, each with its configuration and
//! the definitions its directory holds.

use std::path::PathBuf;

use crate::config::{self, Config, ConfigError, Overrides};
use crate::spec::{self, Loaded};

/// How to find the workspace.
#[derive(Debug, Clone, Default)]
pub struct WorkspaceOptions {
    /// `--config FILE`, relative to `cwd`.
    pub config: Option<PathBuf>,
    pub cwd: PathBuf,
    pub overrides: Overrides,
    /// `--target NAME`: only that target; otherwise every target.
    pub target: Option<String>,
}

/// One target's configuration and everything its definitions directory holds.
#[derive(Debug)]
pub struct Workspace {
    pub config: Config,
    pub loaded: Loaded,
}

/// Reads the configuration, then every target's definitions (offline; nothing is written).
pub fn load(
    options: &WorkspaceOptions,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<Workspace>, ConfigError> {
    let configs = Config::load_targets(&config::LoadOptions {
        path: options.config.as_deref(),
        cwd: &options.cwd,
        overrides: &options.overrides,
        env,
        target: options.target.as_deref(),
    })?;
    Ok(configs
        .into_iter()
        .map(|config| {
            let loaded = spec::load(&spec::LoadOptions {
                dir: &config.definitions,
                display_root: &options.cwd,
                schema: config.provider.definition_schema(),
                env,
            });
            Workspace { config, loaded }
        })
        .collect())
}

/// The process environment, as the loaders want to read it.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}
