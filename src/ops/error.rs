//! What can stop a command that talks to the platform, with what the user needs to act.

use std::path::PathBuf;

use crate::config::ConfigError;
use crate::engine::plan::PlanError;
use crate::provider::ProviderError;
use crate::sim::SimError;
use crate::spec::Loaded;

#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The definitions have problems; nothing was read from or written to the platform.
    #[error("the definitions have {} problem{}", .0.problems.len(), if .0.problems.len() == 1 { "" } else { "s" })]
    InvalidDefinitions(Box<Loaded>),
    #[error("the token variable {var} named by token_env is not set")]
    MissingToken { var: String },
    /// Set but blank, as CI systems pass a secret that is missing: sending it would only
    /// earn a 401.
    #[error(
        "the token variable {var} named by token_env is empty; set it to the platform's API token (in CI, check that the secret exists and is passed to this job)"
    )]
    EmptyToken { var: String },
    #[error("cannot set up the platform client")]
    Setup(#[source] crate::provider::http::SetupError),
    #[error("cannot start the embedded simulator")]
    Embedded(#[source] SimError),
    #[error("cannot read the platform's state")]
    Observe(#[source] ProviderError),
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Conflicts(Vec<PlanError>),
    #[error("cannot read the saved plan {}", path.display())]
    SavedPlanRead {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} is not a plan saved by this version of agentsync: {message}", path.display())]
    SavedPlanFormat { path: PathBuf, message: String },
    #[error("cannot write the plan to {}", path.display())]
    SavedPlanWrite {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the saved plan is stale: {reason}; run plan again")]
    StalePlan { reason: String },
    #[error(
        "the plan would prune {pruned} of {managed} managed agents, more than the limit of {limit} ({setting}); nothing was changed. If that is intended, run again with --allow-mass-prune, or raise max_prune in agentsync.yaml"
    )]
    MassPrune {
        pruned: usize,
        managed: usize,
        limit: usize,
        setting: crate::config::MaxPrune,
    },
    #[error("another agentsync process{} is applying to this target (lock {}); waited {}s for it. Let it finish and run again, or wait longer with --lock-timeout", pid.map(|p| format!(" (pid {p})")).unwrap_or_default(), path.display(), waited.as_secs_f64())]
    Locked {
        path: PathBuf,
        pid: Option<u32>,
        waited: std::time::Duration,
    },
    #[error("cannot take the lock {}; if its directory cannot hold files, set state_dir in agentsync.yaml (or AGENTSYNC_STATE_DIR, --state-dir) to one that can", path.display())]
    Lock {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the state directory {} is not writable, so agentsync cannot keep its run lock and state there; set state_dir in agentsync.yaml (or AGENTSYNC_STATE_DIR, --state-dir) to a writable directory, such as a volume beside a read-only checkout", dir.display())]
    StateNotWritable {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("apply needs confirmation: run it on a terminal, or pass --yes")]
    NotConfirmable,
    #[error("apply was cancelled; nothing was changed")]
    Cancelled,
    #[error(transparent)]
    Export(#[from] crate::export::ExportError),
    /// An error in one of several named targets. (Not a `#[source]`: the message already
    /// holds the error, and its own causes are rendered from it.)
    #[error("target '{target}': {error}")]
    Target {
        target: String,
        error: Box<OpsError>,
    },
}

impl OpsError {
    /// `err`, naming the target it happened in when the configuration names targets.
    pub fn in_target(target: Option<String>, err: OpsError) -> OpsError {
        match (target, err) {
            (_, err @ OpsError::Target { .. }) | (None, err) => err,
            (Some(target), err) => OpsError::Target {
                target,
                error: Box::new(err),
            },
        }
    }
}
