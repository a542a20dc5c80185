//! `export`: read the agents of every target in force and write a definition file for each, so
//! that agents made by hand can be brought under agentsync (`plan --adopt`, `apply --adopt`).
//!
//! Nothing is written until every target has been read, every `--only` value has matched an
//! agent, and no file would be replaced without `--force`. Unmanaged agents stay unmanaged until
//! the user applies with `--adopt`: export writes files, never to the platform.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::connect::connect;
use super::error::OpsError;
use super::observe::with_content;
use super::workspace::{self, WorkspaceOptions};
use crate::config::Config;
use crate::export::secrets::{FromEnv, Known};
use crate::export::{self, Existing, Export, ExportError, KeyFrom, Remote, Request, write};
use crate::model::Definition;
use crate::provider::http::Secret;
use crate::provider::{Provider, ProviderError, ProviderKind};
use crate::spec;
use crate::spec::interpolate::interpolate;

/// Where the definition JSON Schemas are looked for, relative to the configuration's
/// directory (`agentsync schema all --out schemas` writes them): exported files carry the line
/// that points editors at the platform's own schema, or else at the one for any platform.
pub const SCHEMA_DIR: &str = "schemas";

#[derive(Debug, Clone, Default)]
pub struct ExportOptions {
    pub workspace: WorkspaceOptions,
    pub key_from: KeyFrom,
    /// Names or ids of the agents to export; empty: every agent not defined yet.
    pub only: Vec<String>,
    /// Where to write, relative to the current directory; default: the target's definitions.
    pub dir: Option<PathBuf>,
    /// Replace files that exist.
    pub force: bool,
}

/// What the export did for one target.
#[derive(Debug)]
pub struct TargetExport {
    /// The target's label (its name, or the provider's).
    pub target: String,
    pub provider: ProviderKind,
    /// Where the files went, absolute.
    pub dir: PathBuf,
    pub export: Export,
    pub outcome: write::Outcome,
}

/// One target, read and ready to build.
struct Read {
    config: Config,
    dir: PathBuf,
    existing: Vec<Existing>,
    occupied: BTreeSet<PathBuf>,
    remote: Vec<Remote>,
    schema_file: Option<PathBuf>,
    /// The `--only` values that name an agent of this target.
    only: Option<Vec<String>>,
}

/// Exports the agents of every target in force.
pub async fn export(
    options: &ExportOptions,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<TargetExport>, OpsError> {
    let workspaces = workspace::load(&options.workspace, env)?;
    if options.dir.is_some() && workspaces.len() > 1 {
        return Err(ExportError::DirNeedsTarget {
            count: workspaces.len(),
        }
        .into());
    }

    // Read every target before deciding anything: an `--only` value may name an agent of any.
    let mut reads = Vec::new();
    for workspace in workspaces {
        let config = workspace.config;
        let dir = match &options.dir {
            Some(dir) => options.workspace.cwd.join(dir),
            None => config.definitions.clone(),
        };
        let existing = existing_definitions(&dir, &config.root, config.provider, env);
        let occupied = files_under(&dir)?;
        let remote = read_platform(&config, options, env).await?;
        let schemas = config.root.join(SCHEMA_DIR);
        let schema_file = [
            crate::json_schema::definition_file(config.provider),
            crate::json_schema::DEFINITION_FILE.to_string(),
        ]
        .into_iter()
        .map(|name| schemas.join(name))
        .find(|path| path.is_file());
        let only = (!options.only.is_empty()).then(|| {
            options
                .only
                .iter()
                .filter(|value| names_any(&remote, config.provider, value))
                .cloned()
                .collect()
        });
        reads.push(Read {
            only,
            config,
            dir,
            existing,
            occupied,
            remote,
            schema_file,
        });
    }

    let unknown: Vec<String> = options
        .only
        .iter()
        .filter(|value| {
            !reads
                .iter()
                .any(|read| names_any(&read.remote, read.config.provider, value))
        })
        .cloned()
        .collect();
    if !unknown.is_empty() {
        let platform = reads
            .iter()
            .map(|r| r.config.label().to_string())
            .collect::<Vec<_>>()
            .join(" or ");
        return Err(ExportError::UnknownOnly {
            platform,
            values: unknown,
        }
        .into());
    }

    // Build everything, and refuse before writing anything if any file would be replaced.
    let mut built = Vec::new();
    let mut clobbered = Vec::new();
    for read in &reads {
        let request = request_for(read, options);
        let selection = export::select(&request, &read.remote)?;
        match export::build(&request, selection, &read.remote) {
            Ok(export) => built.push(export),
            Err(ExportError::WouldOverwrite { files }) => clobbered.extend(files),
            Err(other) => return Err(other.into()),
        }
    }
    if !clobbered.is_empty() {
        return Err(ExportError::WouldOverwrite { files: clobbered }.into());
    }

    let mut done = Vec::new();
    for (read, export) in reads.into_iter().zip(built) {
        let schema = read.config.provider.definition_schema();
        let outcome = write::write(&export, &read.dir, schema)?;
        done.push(TargetExport {
            target: read.config.label().to_string(),
            provider: read.config.provider,
            dir: read.dir,
            export,
            outcome,
        });
    }
    Ok(done)
}

/// Whether `value` is the id or the name of one of the agents.
fn names_any(remote: &[Remote], provider: ProviderKind, value: &str) -> bool {
    let name_field = provider.definition_schema().name_field;
    remote.iter().any(|r| {
        r.agent.id == value
            || name_field
                .and_then(|f| r.agent.fields.get(f))
                .and_then(serde_json::Value::as_str)
                == Some(value)
    })
}

fn request_for<'a>(read: &'a Read, options: &'a ExportOptions) -> Request<'a> {
    Request {
        schema: read.config.provider.definition_schema(),
        capabilities: read.config.provider.capabilities(),
        platform: read.config.label(),
        dir: &read.dir,
        existing: &read.existing,
        occupied: &read.occupied,
        key_from: options.key_from,
        // Only the values that name agents of this target: the others were checked above.
        only: read.only.as_deref(),
        force: options.force,
        schema_file: read.schema_file.as_deref(),
        inline_lines: export::INLINE_LINES,
    }
}

/// Lists the target's agents and reads the content of each (concurrently, up to the
/// configured limit), when the definition format has content.
async fn read_platform(
    config: &Config,
    options: &ExportOptions,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<Remote>, OpsError> {
    let connection = connect(config, env).await?;
    let provider = Arc::clone(&connection.provider);
    let result = async {
        let agents = provider.list_agents().await?;
        let schema = config.provider.definition_schema();
        let name_field = schema.name_field;
        // Only the agents an export may take need their content: all of them, or the ones
        // `--only` names.
        let wanted = |agent: &crate::provider::RemoteAgent| {
            schema.content_field.is_some()
                && (options.only.is_empty()
                    || options.only.iter().any(|v| {
                        agent.id == *v
                            || name_field
                                .and_then(|f| agent.fields.get(f))
                                .and_then(serde_json::Value::as_str)
                                == Some(v.as_str())
                    }))
        };
        let observed = with_content(
            Arc::clone(&provider),
            agents,
            config.concurrency as usize,
            wanted,
        )
        .await?;
        let remote: Vec<Remote> = observed
            .agents
            .into_iter()
            .map(|o| Remote {
                agent: o.agent,
                content: o.content,
            })
            .collect();
        Ok::<_, ProviderError>(remote)
    }
    .await;
    connection.close().await;
    result.map_err(OpsError::Observe)
}

/// The definitions already in `dir`, by key (those that fail to load too, when their key can be
/// read): an exported agent must not take a key that one of them has.
fn existing_definitions(
    dir: &Path,
    root: &Path,
    provider: ProviderKind,
    env: &dyn Fn(&str) -> Option<String>,
) -> Vec<Existing> {
    if !dir.is_dir() {
        return Vec::new();
    }
    let schema = provider.definition_schema();
    // An empty display root keeps the paths absolute.
    let loaded = spec::load(&spec::LoadOptions {
        dir,
        root,
        display_root: Path::new(""),
        schema,
        env,
    });
    let mut existing: Vec<Existing> = loaded
        .desired
        .values()
        .map(|d| {
            let (from_env, env) = from_env(d, env);
            Existing {
                key: d.key.clone(),
                file: d.file.clone(),
                name: schema
                    .name_field
                    .and_then(|f| d.fields.get(f))
                    .and_then(serde_json::Value::as_str)
                    .map(str::to_string),
                from_env,
                env,
            }
        })
        .collect();
    existing.extend(loaded.broken.iter().filter_map(|b| {
        Some(Existing {
            key: b.key.clone()?,
            file: b.file.clone(),
            name: None,
            from_env: Vec::new(),
            env: Vec::new(),
        })
    }));
    existing
}

/// What a loaded definition took from the environment: each string as written and as loaded,
/// and each variable named with its value (read again through the one interpolation).
fn from_env(
    definition: &Definition,
    env: &dyn Fn(&str) -> Option<String>,
) -> (Vec<FromEnv>, Vec<Known>) {
    let mut strings = Vec::new();
    let known = std::cell::RefCell::new(Vec::<Known>::new());
    let recording = |name: &str| {
        let value = env(name)?;
        let mut known = known.borrow_mut();
        if !known.iter().any(|k| k.name == name) {
            known.push(Known {
                name: name.to_string(),
                value: Secret::new(value.clone()),
            });
        }
        Some(value)
    };
    for (path, written) in &definition.env_texts {
        // It loaded a moment ago with this environment; it cannot fail now.
        if let Ok(done) = interpolate(written, &recording) {
            strings.push(FromEnv {
                path: path.clone(),
                written: written.clone(),
                value: Secret::new(done.text),
            });
        }
    }
    (strings, known.into_inner())
}

/// Every file under `dir` (none when it does not exist yet).
fn files_under(dir: &Path) -> Result<BTreeSet<PathBuf>, OpsError> {
    let mut files = BTreeSet::new();
    if !dir.exists() {
        return Ok(files);
    }
    for entry in walkdir::WalkDir::new(dir) {
        let entry = entry.map_err(|err| ExportError::ReadDir {
            path: dir.to_path_buf(),
            source: std::io::Error::other(err),
        })?;
        if !entry.file_type().is_dir() {
            files.insert(entry.into_path());
        }
    }
    Ok(files)
}
