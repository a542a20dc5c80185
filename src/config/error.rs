//! What can be wrong with a configuration: [`ConfigError`], and each located
//! [`ConfigProblem`] with its label and help.

use std::path::PathBuf;

use super::FILE_NAME;
use super::settings::{SETTINGS, TARGETS};
use crate::text::diagnostic::{Explain, Located};
use crate::text::yaml;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("no {FILE_NAME} found in {} or any directory above it", start.display())]
    NotFound { start: PathBuf },
    #[error("cannot read the configuration {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the configuration has {} problem{}", problems.len(), if problems.len() == 1 { "" } else { "s" })]
    Invalid {
        problems: Vec<Located<ConfigProblem>>,
    },
}

impl ConfigError {
    pub fn help(&self) -> Option<&'static str> {
        match self {
            ConfigError::NotFound { .. } => Some(
                "run agentsync inside a repository that has agentsync.yaml, or pass --config FILE",
            ),
            _ => None,
        }
    }
}

/// One thing wrong in the configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigProblem {
    #[error("{0}")]
    Yaml(#[from] yaml::YamlError),
    #[error("the configuration is empty")]
    Empty,
    #[error("the top level is {found}, but the configuration is a mapping of settings")]
    NotAMapping { found: &'static str },
    #[error("unknown setting '{key}'{}", suggestion.as_ref().map(|s| format!(", did you mean '{s}'?")).unwrap_or_default())]
    UnknownKey {
        key: String,
        suggestion: Option<String>,
    },
    #[error("missing required setting '{key}'")]
    Missing { key: &'static str },
    #[error("setting '{key}' {message}")]
    Invalid { key: &'static str, message: String },
    #[error("{origin} sets '{key}' for one target, but {count} targets are in force")]
    OverrideNeedsTarget {
        origin: String,
        key: &'static str,
        count: usize,
    },
    #[error("no target is named '{name}'{}", suggestion.as_ref().map(|s| format!(", did you mean '{s}'?")).unwrap_or_default())]
    UnknownTarget {
        name: String,
        suggestion: Option<String>,
        known: Vec<String>,
    },
    #[error("--target {name} was given, but the configuration has no 'targets:'")]
    NoTargets { name: String },
    #[error(
        "target name '{name}' must be lowercase letters, digits and dashes, starting with a letter or digit"
    )]
    BadTargetName { name: String },
    #[error("'targets' {message}")]
    BadTargets { message: String },
    #[error("setting '{key}' belongs to the whole configuration, not to one target")]
    TopLevelOnly { key: String },
    #[error("state_dir {} is inside the definitions of target '{target}'", state_dir.display())]
    StateInDefinitions { state_dir: PathBuf, target: String },
    #[error("targets '{first}' and '{second}' share definitions: {} is inside {}", inner.display(), outer.display())]
    SharedDefinitions {
        first: String,
        second: String,
        inner: PathBuf,
        outer: PathBuf,
    },
}

impl Explain for ConfigProblem {
    fn label(&self) -> Option<String> {
        match self {
            ConfigProblem::UnknownKey { .. } => Some("unknown setting".into()),
            ConfigProblem::Invalid { .. } => Some("invalid value".into()),
            ConfigProblem::BadTargetName { .. } => Some("invalid name".into()),
            ConfigProblem::TopLevelOnly { .. } => Some("top-level setting".into()),
            _ => None,
        }
    }

    fn help(&self) -> Option<String> {
        match self {
            ConfigProblem::UnknownKey { .. } => Some(format!(
                "the settings are: {}, and {TARGETS} at the top level",
                SETTINGS
                    .iter()
                    .map(|s| s.key)
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            ConfigProblem::Missing { key } => SETTINGS
                .iter()
                .find(|s| s.key == *key)
                .map(|s| format!("add '{key}: ...' ({})", s.doc)),
            ConfigProblem::Invalid { key, .. } => SETTINGS
                .iter()
                .find(|s| s.key == *key)
                .map(|s| format!("{key}: {}", s.doc)),
            ConfigProblem::OverrideNeedsTarget { .. } => {
                Some("choose the target it is for with --target NAME".into())
            }
            ConfigProblem::UnknownTarget { known, .. } => {
                Some(format!("the targets are: {}", known.join(", ")))
            }
            ConfigProblem::NoTargets { .. } => Some(
                "leave out --target, or name the targets under 'targets:' in agentsync.yaml"
                    .into(),
            ),
            ConfigProblem::BadTargets { .. } => Some(
                "write 'targets:' as a mapping from target names to settings, e.g. 'targets: {voice: {provider: agent-workflows, endpoint: embedded}}'"
                    .into(),
            ),
            ConfigProblem::SharedDefinitions { .. } => Some(
                "give each target its own 'definitions' directory; one may not contain another"
                    .into(),
            ),
            ConfigProblem::TopLevelOnly { key } => Some(format!(
                "move '{key}' out of 'targets:' to the top level of agentsync.yaml"
            )),
            ConfigProblem::StateInDefinitions { .. } => Some(
                "agentsync writes its locks there on every run, which the watch daemon would take for edits: choose a directory outside every 'definitions'"
                    .into(),
            ),
            _ => None,
        }
    }
}
