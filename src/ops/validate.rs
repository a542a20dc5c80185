//! `validate`: load the configuration and every definition offline, and report every problem.

use super::workspace::{self, Workspace, WorkspaceOptions};
use crate::config::ConfigError;

/// Loads every target in force and returns them, problems included; nothing touches the
/// network.
pub fn validate(
    options: &WorkspaceOptions,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<Workspace>, ConfigError> {
    workspace::load(options, env)
}
