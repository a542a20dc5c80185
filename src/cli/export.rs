//! `agentsync export`: write a definition file for each agent on the platform, so that agents
//! made by hand can be adopted (`plan --adopt`, then `apply --adopt`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use super::exit::ExitStatus;
use super::{CliResult, GlobalArgs, Reporter};
use crate::engine::render::printable;
use crate::export::KeyFrom;
use crate::ops::export::{ExportOptions, TargetExport, export};
use crate::ops::workspace::process_env;

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// What new keys are made from: the agent's name (slugified) or its platform code
    #[arg(long, value_enum, default_value_t = KeySource::Name, value_name = "FROM")]
    pub key_from: KeySource,

    /// Export only these agents, by name or remote id (repeatable) [default: every agent that
    /// has no definition yet]
    #[arg(long, value_name = "NAME_OR_ID", num_args = 1.., action = clap::ArgAction::Append)]
    pub only: Vec<String>,

    /// Write here instead of the configuration's definitions directory
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,

    /// Overwrite files that exist (without it, nothing is written when any would be)
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KeySource {
    Name,
    Code,
}

pub async fn run(args: ExportArgs, global: &GlobalArgs, reporter: &Reporter) -> CliResult {
    let workspace = global.workspace_options()?;
    let cwd = workspace.cwd.clone();
    let options = ExportOptions {
        workspace,
        key_from: match args.key_from {
            KeySource::Name => KeyFrom::Name,
            KeySource::Code => KeyFrom::Code,
        },
        only: args.only,
        dir: args.dir,
        force: args.force,
    };
    let done = export(&options, &process_env).await?;
    reporter.print(&summary(&done, &cwd));
    for target in &done {
        for warning in &target.export.warnings {
            // It names the platform's fields: escaped for the terminal.
            eprintln!("warning: {}", printable(warning));
        }
        for (key, problems) in &target.outcome.refused {
            eprintln!(
                "error: agent '{key}' was not written: its definition would not load ({}); export it again once the definition format can hold it, or write its file by hand",
                printable(&problems.join("; "))
            );
        }
        for (key, paths) in &target.outcome.differences {
            eprintln!(
                "error: agent '{key}' was written, but its file loads with different values at {}; check them before apply",
                printable(&paths.join(", "))
            );
        }
    }
    Ok(if done.iter().all(|t| t.outcome.complete()) {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}

fn shown(cwd: &Path, path: &Path) -> String {
    crate::spec::display(cwd, path).display().to_string()
}

/// One line per file written, the agents skipped, the variables to set, and what comes next.
pub fn summary(done: &[TargetExport], cwd: &Path) -> String {
    let mut out = String::new();
    let several = done.len() > 1;
    let mut to_adopt = 0;
    for target in done {
        if several {
            let _ = writeln!(out, "== {} ({})", target.target, target.provider);
        }
        for agent in &target.export.agents {
            if !target.outcome.written.contains(&agent.key) {
                continue;
            }
            let files: Vec<String> = agent.files.iter().map(|f| shown(cwd, &f.path)).collect();
            let replaced = agent.files.iter().any(|f| f.exists);
            let how = if agent.managed {
                "managed"
            } else {
                to_adopt += 1;
                "to adopt"
            };
            let _ = writeln!(
                out,
                "{} {}  {}  (agent {}, {how})",
                if replaced { "~" } else { "+" },
                agent.key,
                files.join(", "),
                printable(&agent.id),
            );
        }
        for skipped in &target.export.skipped {
            let _ = writeln!(
                out,
                "= {}  {}  (agent {}: already defined; --only {} --force exports it again)",
                skipped.key,
                shown(cwd, &skipped.file),
                printable(&skipped.id),
                printable(&skipped.id),
            );
        }
        let written = target.outcome.written.len();
        let _ = writeln!(
            out,
            "Exported {written} agent{} to {}.",
            if written == 1 { "" } else { "s" },
            shown(cwd, &target.dir),
        );
        if several {
            out.push('\n');
        }
    }
    let variables: Vec<_> = done.iter().flat_map(|t| &t.export.variables).collect();
    if !variables.is_empty() {
        let width = variables.iter().map(|v| v.name.len()).max().unwrap_or(0);
        out.push_str(
            "\nSecrets were not written. Set these variables (to the values on the platform) before plan or apply:\n",
        );
        for variable in variables {
            let _ = writeln!(
                out,
                "  {:width$}  {}: {}",
                variable.name,
                variable.key,
                printable(&variable.path.to_string())
            );
        }
    }
    if to_adopt > 0 {
        out.push_str(
            "\nNext: `agentsync plan --adopt` lists the agents to take over (only adopt actions), and `agentsync apply --adopt` takes them.\n",
        );
    }
    out
}
