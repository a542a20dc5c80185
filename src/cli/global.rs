//! Options every command takes: configuration file, overrides, verbosity, log format, colour.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::{Args, ValueEnum};

use crate::config::Overrides;
use crate::ops::workspace::WorkspaceOptions;

#[derive(Debug, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// The configuration file [default: agentsync.yaml, searched from the current directory up]
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Only this target of the configuration's `targets:` [default: every target]
    #[arg(
        long,
        short = 't',
        global = true,
        value_name = "NAME",
        env = "AGENTSYNC_TARGET"
    )]
    pub target: Option<String>,

    /// The platform endpoint: a URL, or `embedded` for the built-in simulator
    #[arg(long, global = true, value_name = "URL")]
    pub endpoint: Option<String>,

    /// The definitions directory, relative to the configuration file
    #[arg(long, global = true, value_name = "DIR")]
    pub definitions: Option<PathBuf>,

    /// Requests in flight at once
    #[arg(long, global = true, value_name = "N")]
    pub concurrency: Option<u32>,

    /// A writable directory for run locks and the embedded simulator's state, relative to the
    /// configuration file [default: .agentsync]
    #[arg(long, global = true, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,

    /// More output: -v for info, -vv for debug, -vvv for trace
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,

    /// Less output: errors only
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// Log line format on stderr
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text, value_name = "FORMAT")]
    pub log_format: LogFormat,

    /// Never colour the output (also: the NO_COLOR environment variable)
    #[arg(long, global = true)]
    pub no_color: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// What `main` needs to set up tracing; plain data, so `main` stays free of clap.
#[derive(Debug, Clone)]
pub struct LoggingOptions {
    pub level: tracing::Level,
    pub format: LogFormat,
    pub color: bool,
}

impl GlobalArgs {
    /// The configuration overrides given on the command line (they beat `AGENTSYNC_*` variables).
    pub fn overrides(&self) -> Overrides {
        Overrides {
            endpoint: self.endpoint.clone(),
            definitions: self.definitions.clone(),
            concurrency: self.concurrency,
            state_dir: self.state_dir.clone(),
        }
    }

    /// Where the configuration is and what overrides it, from the current directory.
    pub fn workspace_options(&self) -> Result<WorkspaceOptions, super::CliError> {
        Ok(WorkspaceOptions {
            config: self.config.clone(),
            cwd: std::env::current_dir().map_err(super::CliError::WorkingDirectory)?,
            overrides: self.overrides(),
            target: self.target.clone(),
        })
    }

    /// Whether stdout and stderr may carry colour.
    pub fn color(&self) -> bool {
        !self.no_color
            && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            && std::io::stderr().is_terminal()
    }

    pub(super) fn logging(&self, default_level: tracing::Level) -> LoggingOptions {
        use tracing::Level;
        let level = if self.quiet {
            Level::ERROR
        } else {
            match (default_level, self.verbose) {
                (default, 0) => default,
                (Level::INFO, 1) | (_, 2) => Level::DEBUG,
                (_, 1) => Level::INFO,
                _ => Level::TRACE,
            }
        };
        LoggingOptions {
            level,
            format: self.log_format,
            color: self.color(),
        }
    }
}
