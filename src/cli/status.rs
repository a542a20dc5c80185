//! `agentsync status`: one line per managed agent, for a person at a terminal, or JSON for a
//! script.

use std::fmt::Write as _;

use clap::{Args, ValueEnum};
use serde_json::json;

use super::exit::ExitStatus;
use super::{CliResult, GlobalArgs, Reporter};
use crate::engine::render::printable;
use crate::ops::status::{Draft, FORMAT_VERSION, StatusOptions, Sync, TargetStatus, status};
use crate::ops::workspace::process_env;

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// How to print the status
    #[arg(long, value_enum, default_value_t = StatusFormat::Text, value_name = "FORMAT")]
    pub output: StatusFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusFormat {
    Text,
    Json,
}

pub async fn run(args: StatusArgs, global: &GlobalArgs, reporter: &Reporter) -> CliResult {
    let workspace = global.workspace_options()?;
    let targets = status(&StatusOptions { workspace }, &process_env).await?;
    reporter.print(&match args.output {
        StatusFormat::Text => table(&targets),
        StatusFormat::Json => json(&targets),
    });
    Ok(ExitStatus::Success)
}

/// The versioned JSON document.
pub fn json(targets: &[TargetStatus]) -> String {
    let document = json!({ "format_version": FORMAT_VERSION, "targets": targets });
    serde_json::to_string_pretty(&document).unwrap_or_default() + "\n"
}

fn sync_text(sync: Sync, actions: &[crate::engine::plan::ActionKind]) -> String {
    match sync {
        Sync::InSync => "in sync".into(),
        Sync::Differs => format!(
            "differs: {}",
            actions
                .iter()
                .map(|a| a.name())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Sync::NotCreated => "not created".into(),
        Sync::NotInRepository if actions.is_empty() => "not in repository".into(),
        Sync::NotInRepository => format!(
            "not in repository: {}",
            actions
                .iter()
                .map(|a| a.name())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Sync::InvalidDefinition => "invalid definition".into(),
    }
}

fn draft_text(draft: Option<Draft>) -> &'static str {
    match draft {
        Some(Draft::SameAsLive) => "= live",
        Some(Draft::AheadOfLive) => "ahead of live",
        Some(Draft::Unpublished) => "unpublished",
        Some(Draft::None) | None => "-",
    }
}

/// A table per target: KEY, ID, SYNC, DRAFT, LIVE; then the unmanaged agents' count.
pub fn table(targets: &[TargetStatus]) -> String {
    let mut out = String::new();
    let several = targets.len() > 1;
    for target in targets {
        if several {
            let _ = writeln!(
                out,
                "== {} ({})",
                printable(target.target.as_deref().unwrap_or(target.provider.name())),
                target.provider
            );
        }
        let rows: Vec<[String; 5]> = target
            .agents
            .iter()
            .map(|a| {
                // The id and the version are the platform's words: escaped for the terminal.
                let shown = |value: &Option<String>| {
                    value
                        .as_deref()
                        .map_or_else(|| "-".into(), |v| printable(v).into_owned())
                };
                [
                    a.key.to_string(),
                    shown(&a.id),
                    sync_text(a.sync, &a.actions),
                    draft_text(a.draft).to_string(),
                    shown(&a.live_version),
                ]
            })
            .collect();
        if rows.is_empty() {
            out.push_str("No managed agents and no definitions.\n");
        } else {
            let header = ["KEY", "ID", "SYNC", "DRAFT", "LIVE"].map(String::from);
            let mut widths = [0usize; 5];
            for row in std::iter::once(&header).chain(&rows) {
                for (width, cell) in widths.iter_mut().zip(row) {
                    *width = (*width).max(cell.chars().count());
                }
            }
            for row in std::iter::once(&header).chain(&rows) {
                let mut line = String::new();
                for (i, (cell, width)) in row.iter().zip(widths).enumerate() {
                    if i + 1 == row.len() {
                        line.push_str(cell);
                    } else {
                        let _ = write!(line, "{cell:width$}  ");
                    }
                }
                out.push_str(line.trim_end());
                out.push('\n');
            }
        }
        let in_sync = target
            .agents
            .iter()
            .filter(|a| a.sync == Sync::InSync)
            .count();
        let _ = write!(out, "{in_sync} of {} in sync", target.agents.len());
        match target.unmanaged {
            0 => out.push_str(".\n"),
            n => {
                let _ = writeln!(
                    out,
                    "; {n} unmanaged agent{} on the platform (`agentsync export` writes definitions for them).",
                    if n == 1 { "" } else { "s" }
                );
            }
        }
        if several {
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::status::AgentStatus;
    use crate::provider::ProviderKind;

    #[test]
    fn the_platforms_ids_and_versions_reach_the_terminal_escaped() {
        let targets = [TargetStatus {
            target: None,
            provider: ProviderKind::Workfx,
            agents: vec![AgentStatus {
                key: crate::model::Key::parse("a").unwrap(),
                id: Some("id\u{1b}[2K".into()),
                file: None,
                sync: Sync::InSync,
                actions: Vec::new(),
                draft: Some(Draft::SameAsLive),
                live_version: Some("1\r\u{1b}[1A".into()),
            }],
            unmanaged: 0,
        }];
        let text = table(&targets);
        assert!(!text.contains('\u{1b}') && !text.contains('\r'), "{text:?}");
        assert!(
            text.contains("id\\u001b[2K") && text.contains("1\\r\\u001b[1A"),
            "{text}"
        );
    }
}
