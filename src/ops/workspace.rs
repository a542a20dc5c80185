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
    Ok(load_all(configs(options, env)?, options, env))
}

/// Every target's definitions, for configurations already read.
pub fn load_all(
    configs: Vec<Config>,
    options: &WorkspaceOptions,
    env: &dyn Fn(&str) -> Option<String>,
) -> Vec<Workspace> {
    configs
        .into_iter()
        .map(|config| load_definitions(config, options, env, &mut |_| {}))
        .collect()
}

/// The configuration of every target in force.
pub fn configs(
    options: &WorkspaceOptions,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<Config>, ConfigError> {
    Config::load_targets(&config::LoadOptions {
        path: options.config.as_deref(),
        cwd: &options.cwd,
        overrides: &options.overrides,
        env,
        target: options.target.as_deref(),
    })
}

/// One target's definitions, telling `checked` about each as it is checked
/// ([`spec::load_reporting`]).
pub fn load_definitions(
    config: Config,
    options: &WorkspaceOptions,
    env: &dyn Fn(&str) -> Option<String>,
    checked: &mut dyn FnMut(&crate::model::Definition),
) -> Workspace {
    let loaded = spec::load_reporting(&load_options(&config, options, env), checked);
    Workspace { config, loaded }
}

/// [`load_definitions`] for a caller that loads again and again (the watch daemon): files
/// unchanged since the last load are not checked again ([`spec::memo`]).
pub fn load_definitions_remembering(
    config: Config,
    options: &WorkspaceOptions,
    env: &dyn Fn(&str) -> Option<String>,
    memo: &mut spec::LoadMemo,
) -> Workspace {
    let loaded = spec::load_remembering(&load_options(&config, options, env), memo, &mut |_| {});
    Workspace { config, loaded }
}

/// How a target's definitions are loaded: from its directory, against its platform's format.
fn load_options<'a>(
    config: &'a Config,
    options: &'a WorkspaceOptions,
    env: &'a dyn Fn(&str) -> Option<String>,
) -> spec::LoadOptions<'a> {
    spec::LoadOptions {
        dir: &config.definitions,
        root: &config.root,
        display_root: &options.cwd,
        schema: config.provider.definition_schema(),
        env,
    }
}

/// The process environment, as the loaders want to read it.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}
