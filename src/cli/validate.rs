//! `agentsync validate`: check configuration and definitions offline.

use clap::Args;

use super::{GlobalArgs, Reporter};
use crate::exit::ExitStatus;
use crate::ops::validate::validate;
use crate::ops::workspace::process_env;

#[derive(Debug, Args)]
pub struct ValidateArgs {}

pub fn run(_args: ValidateArgs, global: &GlobalArgs, reporter: &Reporter) -> ExitStatus {
    let options = match global.workspace_options() {
        Ok(options) => options,
        Err(err) => {
            reporter.error(&err);
            return ExitStatus::Failure;
        }
    };
    let workspace = match validate(&options, &process_env) {
        Ok(workspace) => workspace,
        Err(err) => {
            reporter.config_error(&err);
            return ExitStatus::Failure;
        }
    };
    let loaded = &workspace.loaded;
    if loaded.is_valid() {
        let dir = crate::spec::display(&options.cwd, &workspace.config.definitions);
        reporter.out(&format!(
            "valid: {} definition{} in {} ({})",
            loaded.desired.len(),
            if loaded.desired.len() == 1 { "" } else { "s" },
            dir.display(),
            workspace.config.provider.name(),
        ));
        return ExitStatus::Success;
    }
    reporter.spec_problems(loaded);
    ExitStatus::Failure
}
