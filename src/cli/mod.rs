//! The command line: clap definitions, one file per command, and how results reach the terminal.
//!
//! Each `cli/<verb>.rs` turns its arguments into an options struct and calls one core function
//! in [`crate::ops`] (or [`crate::sim`]); nothing outside this module knows clap.

pub mod apply;
pub mod completions;
mod duration;
mod error;
pub mod exit;
pub mod export;
mod global;
pub mod plan;
mod platform;
pub mod progress;
mod report;
pub mod schema;
pub mod sim;
pub mod status;
pub mod validate;
pub mod watch;

use std::ffi::OsString;

use clap::{Parser, Subcommand};

pub use error::{CliError, CliResult};
pub use global::{GlobalArgs, LogFormat, LoggingOptions};
pub use report::Reporter;

use exit::ExitStatus;

/// `agentsync`: keep AI agents on hosted platforms in step with a git repository.
#[derive(Debug, Parser)]
#[command(name = "agentsync", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check the configuration and every definition, offline; report every problem found.
    Validate(validate::ValidateArgs),
    /// Show what apply would do, without changing anything.
    Plan(plan::PlanArgs),
    /// Make the platform match the definitions, after showing the plan.
    Apply(apply::ApplyArgs),
    /// Serve the embedded platform simulator on loopback until stopped.
    Sim(sim::SimArgs),
    /// Keep the platform in step continuously: on file changes and on an interval.
    Watch(watch::WatchArgs),
    /// One line per managed agent: in sync or not, draft ahead of live or not, live version.
    Status(status::StatusArgs),
    /// Write a definition file for each agent on the platform, to adopt agents made by hand.
    Export(export::ExportArgs),
    /// Print the JSON Schema of definition files or of agentsync.yaml, for editors.
    Schema(schema::SchemaArgs),
    /// Print a shell completion script (bash, zsh, fish, ...).
    Completions(completions::CompletionsArgs),
    /// Print the manual page (roff), or write one per command with --out DIR.
    Man(completions::ManArgs),
}

/// A command line that could not be parsed, or a request for help or the version.
#[derive(Debug)]
pub struct UsageError(clap::Error);

impl UsageError {
    /// Prints the message (help and version to stdout, errors to stderr) and tells how to exit.
    ///
    /// A usage error exits 1, not clap's 2: under `plan --detailed-exitcode`, 2 means "changes",
    /// and a mistyped flag in a CI script must never read as that.
    pub fn print(&self) -> ExitStatus {
        let _ = self.0.print();
        if self.0.use_stderr() {
            ExitStatus::Failure
        } else {
            ExitStatus::Success
        }
    }
}

impl Cli {
    /// Parses the process's own arguments.
    pub fn from_env() -> Result<Cli, UsageError> {
        Cli::try_parse().map_err(UsageError)
    }

    /// Parses the given arguments (the first is the program name).
    pub fn from_args<I, T>(args: I) -> Result<Cli, UsageError>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        Cli::try_parse_from(args).map_err(UsageError)
    }

    /// How `main` should set up logging for this invocation.
    pub fn logging(&self) -> LoggingOptions {
        let default_level = match self.command {
            // A daemon's log is its output: one line per action is wanted by default.
            Command::Sim(_) | Command::Watch(_) => tracing::Level::INFO,
            Command::Validate(_)
            | Command::Plan(_)
            | Command::Apply(_)
            | Command::Status(_)
            | Command::Export(_)
            | Command::Schema(_)
            | Command::Completions(_)
            | Command::Man(_) => tracing::Level::WARN,
        };
        self.global.logging(default_level)
    }

    /// Runs the command; everything it has to say is printed by the time it returns, its
    /// error (if any) here, in one place.
    pub async fn run(self) -> ExitStatus {
        let reporter = Reporter::new(self.global.color());
        let result = match self.command {
            Command::Validate(args) => validate::run(args, &self.global, &reporter),
            Command::Plan(args) => plan::run(args, &self.global, &reporter).await,
            Command::Apply(args) => apply::run(args, &self.global, &reporter).await,
            Command::Sim(args) => sim::run(args, &reporter).await,
            Command::Watch(args) => watch::run(args, &self.global).await,
            Command::Status(args) => status::run(args, &self.global, &reporter).await,
            Command::Export(args) => export::run(args, &self.global, &reporter).await,
            Command::Schema(args) => schema::run(args, &reporter),
            Command::Completions(args) => completions::completions(args, &reporter),
            Command::Man(args) => completions::man(args, &reporter),
        };
        result.unwrap_or_else(|err| {
            reporter.cli_error(&err);
            ExitStatus::Failure
        })
    }
}
