//! The repository as a command sees it: the configuration in force and the definitions it names.

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
}

/// The configuration and everything its definitions directory holds.
#[derive(Debug)]
pub struct Workspace {
    pub config: Config,
    pub loaded: Loaded,
}

/// Reads the configuration, then every definition (offline; nothing is written).
pub fn load(
    options: &WorkspaceOptions,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Workspace, ConfigError> {
    let config = Config::load(&config::LoadOptions {
        path: options.config.as_deref(),
        cwd: &options.cwd,
        overrides: &options.overrides,
        env,
    })?;
    let loaded = spec::load(&spec::LoadOptions {
        dir: &config.definitions,
        display_root: &options.cwd,
        schema: config.provider.definition_schema(),
        env,
    });
    Ok(Workspace { config, loaded })
}

/// The process environment, as the loaders want to read it.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}
