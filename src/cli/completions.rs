//! `agentsync completions SHELL` and `agentsync man`: shell completion scripts (clap_complete)
//! and manual pages (clap_mangen), made from the command line's own definition so they never
//! fall behind it.

use std::path::PathBuf;

use clap::{Args, CommandFactory};
use clap_complete::Shell;

use super::exit::ExitStatus;
use super::{Cli, CliError, CliResult, Reporter};

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete in
    #[arg(value_enum)]
    pub shell: Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write one page per command (agentsync.1, agentsync-plan.1, ...) into DIR instead of
    /// printing the main page
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// The completion script for `shell`, as text.
pub fn script(shell: Shell) -> String {
    let mut command = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut command, "agentsync", &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// The main manual page, as roff.
pub fn page() -> Result<String, std::io::Error> {
    let mut out = Vec::new();
    clap_mangen::Man::new(Cli::command()).render(&mut out)?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}

pub fn completions(args: CompletionsArgs, reporter: &Reporter) -> CliResult {
    reporter.print(&script(args.shell));
    Ok(ExitStatus::Success)
}

pub fn man(args: ManArgs, reporter: &Reporter) -> CliResult {
    match &args.out {
        Some(dir) => std::fs::create_dir_all(dir)
            .and_then(|()| clap_mangen::generate_to(Cli::command(), dir))
            .map_err(|source| CliError::Write {
                path: dir.clone(),
                source,
            })?,
        None => reporter.print(&page().map_err(CliError::Manual)?),
    }
    Ok(ExitStatus::Success)
}
