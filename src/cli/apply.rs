//! `agentsync apply`: make the platform match the definitions, after showing the plan.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use clap::Args;

use super::exit::ExitStatus;
use super::plan::{PlanningArgs, target_plans};
use super::{CliResult, GlobalArgs, Reporter};
use crate::engine::apply::{Outcome, Report};
use crate::engine::render::{TargetPlan, Targets, printable};
use crate::ops::OpsError;
use crate::ops::apply::{ApplyOptions, apply};
use crate::ops::workspace::process_env;

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// A plan saved by `plan --out`; refused if the platform changed since it was made
    #[arg(value_name = "PLAN")]
    pub saved: Option<PathBuf>,

    /// Apply without asking for confirmation
    #[arg(long, short = 'y')]
    pub yes: bool,

    #[command(flatten)]
    pub planning: PlanningArgs,

    /// How long to wait for another agentsync process applying to the same target (10s, 500ms, 2m; 0s: not at all)
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = super::duration::duration)]
    pub lock_timeout: std::time::Duration,
}

pub async fn run(args: ApplyArgs, global: &GlobalArgs, reporter: &Reporter) -> CliResult {
    let plan = args.planning.options(global)?;
    let options = ApplyOptions {
        plan,
        saved: args.saved.clone(),
        lock_timeout: args.lock_timeout,
    };
    let yes = args.yes;
    let confirm = |planned: &[crate::ops::plan::Planned]| {
        reporter.print(&Targets(&target_plans(planned)).text());
        if yes {
            return Ok(true);
        }
        if !std::io::stdin().is_terminal() {
            return Err(OpsError::NotConfirmable);
        }
        Ok(ask("Apply these changes? Only 'yes' is accepted: "))
    };
    let applied = apply(&options, &process_env, confirm).await?;
    let shown: Vec<TargetPlan<'_>> = applied
        .targets
        .iter()
        .map(|t| TargetPlan {
            target: t.target.as_deref(),
            provider: t.provider.name(),
            plan: &t.plan,
        })
        .collect();
    if applied.targets.iter().all(|t| t.report.is_none()) {
        reporter.print(&Targets(&shown).text());
        return Ok(ExitStatus::Success);
    }
    let named = applied.targets.iter().any(|t| t.target.is_some());
    for target in &applied.targets {
        let Some(report) = &target.report else {
            continue;
        };
        if named {
            reporter.print(&format!(
                "\n== target {} ({}) ==\n",
                printable(target.target.as_deref().unwrap_or(target.provider.name())),
                target.provider
            ));
        }
        reporter.print(&report_text(report));
    }
    Ok(if applied.succeeded() {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}

fn ask(question: &str) -> bool {
    eprint!("{question}");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer).is_ok() && answer.trim() == "yes"
}

/// One line per action with its outcome, then the totals.
pub fn report_text(report: &Report) -> String {
    let mut out = String::from("\n");
    for agent in &report.agents {
        for action in &agent.actions {
            let outcome = match &action.outcome {
                Outcome::Done => "done".to_string(),
                // A failure carries the platform's own message: escaped for the terminal.
                Outcome::Failed(why) => format!("FAILED: {}", printable(why)),
                Outcome::Skipped(why) => format!("skipped: {}", printable(why)),
            };
            out.push_str(&format!(
                "{} {}: {}\n",
                agent.key,
                action.kind.name(),
                outcome
            ));
        }
    }
    let done = report.count(|o| matches!(o, Outcome::Done));
    let failed = report.count(|o| matches!(o, Outcome::Failed(_)));
    let skipped = report.count(|o| matches!(o, Outcome::Skipped(_)));
    if report.succeeded() {
        out.push_str(&format!("\nApply complete: {done} actions done.\n"));
    } else {
        out.push_str(&format!(
            "\nApply incomplete: {done} done, {failed} failed, {skipped} skipped. Run apply again once the cause is fixed.\n"
        ));
    }
    out
}
