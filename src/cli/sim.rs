//! `agentsync sim`: serve the embedded simulator until stopped.

use clap::Args;

use super::Reporter;
use crate::exit::ExitStatus;

#[derive(Debug, Args)]
pub struct SimArgs {}

pub async fn run(_args: SimArgs, reporter: &Reporter) -> ExitStatus {
    reporter.out("the simulator is being built");
    ExitStatus::Failure
}
