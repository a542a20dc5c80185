//! Why a command failed: the one error type of `cli`. Command functions return it, and
//! [`Cli::run`](super::Cli::run) prints it in one place, through the
//! [`Reporter`](super::Reporter).

use std::path::PathBuf;

use crate::config::ConfigError;
use crate::ops::OpsError;
use crate::sim::SimError;
use crate::watch::WatchError;

use super::exit::ExitStatus;

/// How a command ended: a status, or an error for [`Cli::run`](super::Cli::run) to print.
pub type CliResult = Result<ExitStatus, CliError>;

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// An operation failed; printed with the snippets and the target it carries.
    #[error(transparent)]
    Ops(#[from] OpsError),
    /// The configuration could not be used; printed with each of its problems.
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("the working directory cannot be read")]
    WorkingDirectory(#[source] std::io::Error),
    #[error("could not write to standard output")]
    Stdout(#[source] std::io::Error),
    #[error("cannot write {}", .path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot make the manual page")]
    Manual(#[source] std::io::Error),
    #[error("`schema all` writes several files: give the directory with --out DIR")]
    SchemaAllNeedsADirectory,
    #[error(transparent)]
    Sim(#[from] SimError),
    #[error(transparent)]
    Watch(#[from] WatchError),
}
