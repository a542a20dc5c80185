//! `agentsync validate`: check configuration and definitions offline.

use clap::Args;

use super::{GlobalArgs, Reporter};
use crate::exit::ExitStatus;

#[derive(Debug, Args)]
pub struct ValidateArgs {}

pub fn run(_args: ValidateArgs, _global: &GlobalArgs, _reporter: &Reporter) -> ExitStatus {
    ExitStatus::Failure
}
