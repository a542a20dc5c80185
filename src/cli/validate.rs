//! `agentsync validate`: check configuration and definitions offline.

use clap::Args;

use super::exit::ExitStatus;
use super::{CliResult, GlobalArgs, Reporter};
use crate::ops::validate::validate;
use crate::ops::workspace::process_env;

#[derive(Debug, Args)]
pub struct ValidateArgs {}

pub fn run(_args: ValidateArgs, global: &GlobalArgs, reporter: &Reporter) -> CliResult {
    let options = global.workspace_options()?;
    let workspaces = validate(&options, &process_env)?;
    let mut status = ExitStatus::Success;
    for workspace in &workspaces {
        let loaded = &workspace.loaded;
        if !loaded.is_valid() {
            reporter.spec_problems(loaded);
            status = ExitStatus::Failure;
            continue;
        }
        let dir = crate::spec::display(&options.cwd, &workspace.config.definitions);
        let target = match &workspace.config.target {
            Some(name) => format!("target {name}, {}", workspace.config.provider),
            None => workspace.config.provider.to_string(),
        };
        reporter.out(&format!(
            "valid: {} definition{} in {} ({target})",
            loaded.desired.len(),
            if loaded.desired.len() == 1 { "" } else { "s" },
            dir.display(),
        ));
    }
    Ok(status)
}
