//! `agentsync plan`: show what apply would do; optionally save it for `apply FILE`.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::exit::ExitStatus;
use super::{CliError, CliResult, GlobalArgs, Reporter};
use crate::engine::render::{TargetPlan, Targets};
use crate::ops::plan::{PlanOptions, Planned, plan};
use crate::ops::saved::SavedPlan;
use crate::ops::workspace::process_env;

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

    #[command(flatten)]
    pub planning: PlanningArgs,
}

/// The flags that decide a plan, shared by `plan` and `apply`.
#[derive(Debug, Args)]
pub struct PlanningArgs {
    /// Take over unmanaged agents whose name matches a new definition
    #[arg(long)]
    pub adopt: bool,

    /// Prune more agents than max_prune allows (default: half of the managed agents)
    #[arg(long)]
    pub allow_mass_prune: bool,
}

impl PlanningArgs {
    /// The options of a plan: the one place `cli` builds them, for `plan` and `apply` alike.
    pub fn options(&self, global: &GlobalArgs) -> Result<PlanOptions, CliError> {
        Ok(PlanOptions {
            workspace: global.workspace_options()?,
            adopt: self.adopt,
            allow_mass_prune: self.allow_mass_prune,
            progress: super::progress::for_terminal(global.quiet),
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    Text,
    Json,
    Markdown,
}

/// The plans in the chosen format.
pub fn rendered(targets: Targets<'_>, format: PlanFormat) -> String {
    match format {
        PlanFormat::Text => targets.text(),
        PlanFormat::Json => targets.json(),
        PlanFormat::Markdown => targets.markdown(),
    }
}

/// Each target's plan, as the renderer takes them.
pub fn target_plans(planned: &[Planned]) -> Vec<TargetPlan<'_>> {
    planned
        .iter()
        .map(|p| TargetPlan {
            target: p.workspace.config.target.as_deref(),
            provider: p.workspace.config.provider.name(),
            plan: &p.plan,
        })
        .collect()
}

pub async fn run(args: PlanArgs, global: &GlobalArgs, reporter: &Reporter) -> CliResult {
    let options = args.planning.options(global)?;
    let planned = plan(&options, &process_env).await?;
    let shown = target_plans(&planned);
    let targets = Targets(&shown);
    if args.output == PlanFormat::Json {
        // Written as it is made: the JSON of a large first plan is as large as the contents.
        reporter
            .write_with(|out| targets.write_json(out))
            .map_err(CliError::Stdout)?;
    } else {
        reporter.print(&rendered(targets, args.output));
    }
    let has_changes = !targets.is_empty();
    let saved = args
        .out
        .as_ref()
        .map(|path| (path, SavedPlan::new(&planned, args.planning.adopt)));
    for one in planned {
        one.connection.close().await;
    }
    if let Some((path, saved)) = saved {
        saved.write(path)?;
        tracing::info!(path = %path.display(), "plan saved");
    }
    Ok(if args.detailed_exitcode && has_changes {
        ExitStatus::Changes
    } else {
        ExitStatus::Success
    })
}
