//! What can be wrong with a definition file; each variant carries what the message needs.

use std::path::PathBuf;

use super::files::ReadError;
use crate::text::diagnostic::{Explain, Located};
use crate::text::yaml::YamlError;

/// A problem found in the definitions, with its place.
pub type Problem = Located<SpecError>;

#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("cannot read the file")]
    Read {
        #[source]
        source: std::io::Error,
    },
    #[error("the file is {size} bytes, more than the {limit} bytes a definition may have")]
    TooLarge { size: u64, limit: u64 },
    #[error("the file is not valid UTF-8 text")]
    NotUtf8,
    #[error("the file is {found}, not a regular file")]
    NotAFile { found: &'static str },
    #[error("the file is a symlink to {found} outside the repository")]
    SymlinkOutside { found: &'static str },
    #[error("the symlink cannot be followed: {reason}")]
    SymlinkUnfollowable { reason: &'static str },
    #[error("{0}")]
    Yaml(#[from] YamlError),
    #[error("the file is empty")]
    Empty,
    #[error("the top level is {found}, but a definition is a mapping of fields")]
    NotAMapping { found: &'static str },
    #[error("missing field 'kind'")]
    MissingKind,
    #[error("kind '{found}' is not supported here")]
    WrongKind { found: String },
    #[error("missing required field '{field}'")]
    MissingField { field: String },
    #[error("missing field '{field}', which {when} '{value}' requires")]
    RequiredBy {
        field: String,
        when: &'static str,
        value: &'static str,
    },
    #[error("unknown field '{field}'{}", did_you_mean(suggestion))]
    UnknownField {
        field: String,
        suggestion: Option<String>,
        known: Vec<&'static str>,
    },
    #[error("field '{field}' must be {expected}, found {found}")]
    WrongType {
        field: String,
        expected: &'static str,
        found: &'static str,
    },
    #[error("field '{field}' has the value '{value}', which is not one of {}{}", allowed.join(", "), did_you_mean(suggestion))]
    NotAllowed {
        field: String,
        value: String,
        allowed: &'static [&'static str],
        suggestion: Option<String>,
    },
    #[error("field '{field}': {message}")]
    InvalidValue { field: String, message: String },
    #[error("key '{key}' {reason}")]
    InvalidKey {
        key: String,
        reason: crate::model::InvalidKey,
    },
    #[error("key '{key}' is also defined in {}", other.display())]
    DuplicateKey { key: String, other: PathBuf },
    #[error("field '{field}' uses ${{env:{var}}}, but the environment variable {var} is not set")]
    MissingEnv { field: String, var: String },
    #[error("field '{field}': {message}")]
    Interpolation { field: String, message: String },
    #[error("fields '{field}' and '{other}' cannot both be set")]
    Exclusive { field: String, other: String },
    #[error("field '{field}' needs '{one}' or '{other}'")]
    NeedsOneOf {
        field: String,
        one: String,
        other: String,
    },
    #[error("{field} '{}' cannot be read", path.display())]
    IncludeRead {
        field: String,
        path: PathBuf,
        #[source]
        source: ReadError,
    },
    #[error("{field} '{}': {source}", path.display())]
    IncludeValue {
        field: String,
        path: PathBuf,
        source: YamlError,
    },
    #[error("{field} '{}' lies outside the repository", path.display())]
    IncludeOutside { field: String, path: PathBuf },
    #[error("{field} '{}' is {found}, not a regular file", path.display())]
    IncludeNotAFile {
        field: String,
        path: PathBuf,
        found: &'static str,
    },
    #[error("{field} '{}' is {size} bytes, more than the {limit} bytes a file may have", path.display())]
    IncludeTooLarge {
        field: String,
        path: PathBuf,
        size: u64,
        limit: u64,
    },
    #[error("{field} '{}' is a definition of its own (it has 'kind'), so it cannot also be included", path.display())]
    IncludesADefinition { field: String, path: PathBuf },
    #[error("field '{field}' is empty")]
    EmptyName { field: String },
    #[error("{field} '{}' is not valid {format}: {message}", path.display())]
    IncludeParse {
        field: String,
        path: PathBuf,
        format: &'static str,
        message: String,
    },
    #[error("${{agent:{target}}} in field '{field}' refers to no agent defined in this repository")]
    UnknownReference { field: String, target: String },
    #[error("${{agent:...}} references form a cycle: {}", cycle.join(" -> "))]
    ReferenceCycle { cycle: Vec<String> },
    #[error("field '{field}' uses ${{agent:...}}, which only resolves inside the flow")]
    ReferenceOutsideContent { field: String },
    #[error(
        "field '{field}' escapes $${{agent:{key}}} to a literal ${{agent:{key}}}, but the definition also references agent '{key}', and the two cannot be told apart when its id is filled in; write the literal differently, or reference the agent from another definition"
    )]
    EscapedReferenceClash { field: String, key: String },
    #[error("field '{field}' is reserved: agentsync keeps its ownership marker there")]
    Reserved { field: String },
    #[error("the definitions directory {} does not exist", path.display())]
    NoDefinitionsDir { path: PathBuf },
}

fn did_you_mean(suggestion: &Option<String>) -> String {
    suggestion
        .as_ref()
        .map(|s| format!(", did you mean '{s}'?"))
        .unwrap_or_default()
}

impl Explain for SpecError {
    fn label(&self) -> Option<String> {
        Some(
            match self {
                SpecError::Yaml(_) => "here",
                SpecError::UnknownField { .. } => "unknown field",
                SpecError::WrongType { expected, .. } => {
                    return Some(format!("expected {expected}"));
                }
                SpecError::NotAllowed { .. } => "not an allowed value",
                SpecError::MissingField { .. } | SpecError::NeedsOneOf { .. } => "in this mapping",
                SpecError::InvalidKey { .. } => "invalid key",
                SpecError::DuplicateKey { .. } => "duplicate key",
                SpecError::MissingEnv { var, .. } => return Some(format!("{var} is not set")),
                SpecError::UnknownReference { .. } => "unknown agent",
                SpecError::Reserved { .. } => "reserved",
                SpecError::IncludeOutside { .. } => "outside the repository",
                SpecError::IncludesADefinition { .. } => "a definition",
                SpecError::EmptyName { .. } => "empty",
                _ => return None,
            }
            .to_string(),
        )
    }

    fn help(&self) -> Option<String> {
        match self {
            SpecError::Read { .. } => Some("check that the file exists and is readable".into()),
            SpecError::TooLarge { .. } => {
                Some("move large graphs into a graph_file, or split the agent".into())
            }
            SpecError::Empty => Some(
                "a definition needs at least 'kind: agent', 'key' and 'name'; delete the file if it is not wanted"
                    .into(),
            ),
            SpecError::MissingKind => Some("add 'kind: agent' at the top of the file".into()),
            SpecError::WrongKind { .. } => Some("use 'kind: agent'".into()),
            SpecError::MissingField { field } => Some(format!("add '{field}: ...' to the definition")),
            SpecError::UnknownField { known, .. } => {
                Some(format!("the fields allowed here are: {}", known.join(", ")))
            }
            SpecError::WrongType { expected, found, .. } if *expected == "a string" && *found != "a mapping" && *found != "a list" => {
                Some("put the value in quotes to make it a string".into())
            }
            SpecError::InvalidKey { .. } => Some(
                "keys identify agents across renames; use something like 'support-bot'".into(),
            ),
            SpecError::DuplicateKey { .. } => {
                Some("each key names one agent; rename one of them or remove a file".into())
            }
            SpecError::MissingEnv { var, .. } => Some(format!(
                "export {var}=... before running agentsync, or remove the reference"
            )),
            SpecError::Interpolation { .. } => Some(
                "write ${env:NAME} or ${agent:KEY}; write $${ for a literal ${".into(),
            ),
            SpecError::Exclusive { .. } => Some("keep one of the two".into()),
            SpecError::IncludeRead { field, .. } => Some(format!(
                "{field} is relative to the definition file's directory"
            )),
            SpecError::IncludeOutside { field, .. } => Some(format!(
                "{field} must name a file inside the repository (the directory holding agentsync.yaml), also once symlinks are followed; copy the file into the repository"
            )),
            SpecError::IncludeNotAFile { field, .. } => {
                Some(format!("point {field} at a JSON or YAML file"))
            }
            SpecError::IncludeTooLarge { .. } => {
                Some("split the agent, or trim the graph".into())
            }
            SpecError::IncludesADefinition { field, .. } => Some(format!(
                "a file named by {field} holds only what it stands for; include another file, or remove 'kind' from it if it is no definition"
            )),
            SpecError::NotAFile { .. } => {
                Some("definitions are regular files; remove it or rename it".into())
            }
            SpecError::SymlinkOutside { .. } => Some(
                "definitions are read only from inside the repository (the directory holding agentsync.yaml); replace the symlink with the file".into(),
            ),
            SpecError::SymlinkUnfollowable { .. } => {
                Some("point the symlink at a file that exists, or remove it".into())
            }
            SpecError::EmptyName { .. } => {
                Some("the platform needs a name to show; write one, like 'Support Bot'".into())
            }
            SpecError::Reserved { .. } => {
                Some("remove it: agentsync writes and reads that entry itself".into())
            }
            SpecError::UnknownReference { .. } => {
                Some("define that agent in this repository, or fix the key".into())
            }
            SpecError::ReferenceCycle { .. } => {
                Some("agents are created in reference order, so references cannot loop".into())
            }
            SpecError::NoDefinitionsDir { .. } => Some(
                "create it, or set 'definitions' in agentsync.yaml (or --definitions)".into(),
            ),
            _ => None,
        }
    }
}
