//! `agentsync plan`: show what apply would do; optionally save it for `apply FILE`.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::{GlobalArgs, Reporter};
use crate::exit::ExitStatus;
use crate::ops::plan::{PlanOptions, plan};
use crate::ops::saved::SavedPlan;
use crate::ops::workspace::process_env;
use crate::plan::Plan;
use crate::render;

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// How to print the plan
    #[arg(long, value_enum, default_value_t = PlanFormat::Text, value_name = "FORMAT")]
    pub output: PlanFormat,

    /// Save the plan to FILE, for `agentsync apply FILE`
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Exit 0 when there is nothing to do, 2 when there are changes, 1 on error
    #[arg(long)]
    pub detailed_exitcode: bool,

    /// Take over unmanaged agents whose name matches a new definition
    #[arg(long)]
    pub adopt: bool,

    /// Prune more agents than max_prune allows (default: half of the managed agents)
    #[arg(long)]
    pub allow_mass_prune: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    Text,
    Json,
    Markdown,
}

/// The plan in the chosen format.
pub fn rendered(plan: &Plan, format: PlanFormat) -> String {
    match format {
        PlanFormat::Text => render::text(plan),
        PlanFormat::Json => render::json(plan),
        PlanFormat::Markdown => render::markdown(plan),
    }
}

pub async fn run(args: PlanArgs, global: &GlobalArgs, reporter: &Reporter) -> ExitStatus {
    let workspace = match global.workspace_options() {
        Ok(options) => options,
        Err(err) => {
            reporter.error(&err);
            return ExitStatus::Failure;
        }
    };
    let options = PlanOptions {
        workspace,
        adopt: args.adopt,
        allow_mass_prune: args.allow_mass_prune,
        progress: super::progress::for_terminal(global.quiet),
    };
    let planned = match plan(&options, &process_env).await {
        Ok(planned) => planned,
        Err(err) => {
            reporter.ops_error(&err);
            return ExitStatus::Failure;
        }
    };
    // Taken apart, not copied: what was observed can be every agent's flow, twice.
    let crate::ops::plan::Planned {
        plan,
        observed,
        connection,
        ..
    } = planned;
    connection.close().await;
    reporter.print(&rendered(&plan, args.output));
    if let Some(path) = &args.out {
        if let Err(err) = SavedPlan::new(&plan, &observed, args.adopt).write(path) {
            reporter.ops_error(&err);
            return ExitStatus::Failure;
        }
        tracing::info!(path = %path.display(), "plan saved");
    }
    if args.detailed_exitcode && !plan.is_empty() {
        ExitStatus::Changes
    } else {
        ExitStatus::Success
    }
}
