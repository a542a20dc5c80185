//! Writing an export: every file is staged in a hidden directory inside the definitions
//! directory (same file system), each staged definition is loaded back through the loader and
//! compared with what the platform holds, then each file is renamed into place, so that no
//! reader ever sees half a file.
//!
//! A definition that does not load back is not written (the repository would stop validating);
//! one that loads but differs is written, and the difference is reported by field path.

use std::path::{Path, PathBuf};

use super::{Export, ExportError, ExportedAgent};
use crate::model::diff;
use crate::model::{FieldPath, Key};
use crate::spec::{self, schema::DefinitionSchema};

/// What writing an export did.
#[derive(Debug, Default)]
pub struct Outcome {
    /// The agents whose files are in place.
    pub written: Vec<Key>,
    /// Agents not written because their definition would not load: the problems found.
    pub refused: Vec<(Key, Vec<String>)>,
    /// Agents written whose definition loads as something else than the platform holds: the
    /// field paths that differ.
    pub differences: Vec<(Key, Vec<String>)>,
}

impl Outcome {
    /// Every agent was written and loads back as the platform holds it.
    pub fn complete(&self) -> bool {
        self.refused.is_empty() && self.differences.is_empty()
    }
}

/// Stages, checks and writes every file of `export` under `dir`.
pub fn write(
    export: &Export,
    dir: &Path,
    schema: &'static DefinitionSchema,
) -> Result<Outcome, ExportError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ExportError::Write { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let staging = dir.join(format!(".agentsync-export-{}", std::process::id()));
    let result = stage_check_commit(export, dir, &staging, schema);
    if staging.exists()
        && let Err(err) = std::fs::remove_dir_all(&staging)
    {
        tracing::warn!(dir = %staging.display(), error = %err, "could not remove the export's staging directory");
    }
    result
}

fn staged_path(staging: &Path, dir: &Path, path: &Path) -> PathBuf {
    match path.strip_prefix(dir) {
        Ok(relative) => staging.join(relative),
        // Every file lies under `dir`; a name alone keeps this total.
        Err(_) => staging.join(path.file_name().unwrap_or_default()),
    }
}

fn stage_check_commit(
    export: &Export,
    dir: &Path,
    staging: &Path,
    schema: &'static DefinitionSchema,
) -> Result<Outcome, ExportError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ExportError::Write { path, source }
    };
    for agent in &export.agents {
        for file in &agent.files {
            let staged = staged_path(staging, dir, &file.path);
            if let Some(parent) = staged.parent() {
                std::fs::create_dir_all(parent).map_err(io(parent))?;
            }
            std::fs::write(&staged, &file.text).map_err(io(&file.path))?;
        }
    }

    // The placeholders resolve to the values they stand for, so the check sees what `plan`
    // will see once the user has set the variables; the references kept from the files
    // replaced, to the values they had.
    let env = |name: &str| {
        let new = export.variables.iter().find(|v| v.name == name);
        new.map(|v| &v.value)
            .or_else(|| {
                export
                    .kept
                    .iter()
                    .find(|k| k.name == name)
                    .map(|k| &k.value)
            })
            .map(|value| value.expose().to_string())
    };
    let mut outcome = Outcome::default();
    for agent in &export.agents {
        let Some(definition_file) = agent.files.first() else {
            continue;
        };
        let staged = staged_path(staging, dir, &definition_file.path);
        let checked = spec::load_file(
            &staged,
            &spec::LoadOptions {
                dir: staging,
                root: staging,
                display_root: staging,
                schema,
                env: &env,
            },
        );
        match checked.definition {
            Some(loaded) if checked.problems.is_empty() => {
                let differs = differences(agent, &loaded, schema);
                if !differs.is_empty() {
                    outcome.differences.push((agent.key.clone(), differs));
                }
            }
            _ => {
                let problems = checked
                    .problems
                    .iter()
                    .map(|p| match p.span {
                        Some(span) => format!("line {}: {}", span.line, p.error),
                        None => p.error.to_string(),
                    })
                    .collect();
                outcome.refused.push((agent.key.clone(), problems));
            }
        }
    }

    for agent in &export.agents {
        if outcome.refused.iter().any(|(key, _)| *key == agent.key) {
            continue;
        }
        for file in &agent.files {
            if let Some(parent) = file.path.parent() {
                std::fs::create_dir_all(parent).map_err(io(parent))?;
            }
            let staged = staged_path(staging, dir, &file.path);
            std::fs::rename(&staged, &file.path).map_err(io(&file.path))?;
        }
        outcome.written.push(agent.key.clone());
    }
    Ok(outcome)
}

/// The field paths where the loaded definition is not what the platform holds.
fn differences(
    agent: &ExportedAgent,
    loaded: &crate::model::Definition,
    schema: &DefinitionSchema,
) -> Vec<String> {
    let expected = &agent.expected;
    let none = Default::default();
    let mut paths: Vec<String> = diff::diff_documents(
        Some(&expected.fields),
        &loaded.fields,
        &FieldPath::root(),
        &none,
    )
    .into_iter()
    .map(|c| c.path.to_string())
    .collect();
    let content_path = FieldPath::root().field(schema.content_field.unwrap_or("content"));
    match (&expected.content, &loaded.content) {
        (Some(want), Some(got)) => paths.extend(
            diff::diff_documents(Some(want), &got.document(), &content_path, &none)
                .into_iter()
                .map(|c| c.path.to_string()),
        ),
        (None, None) => {}
        _ => paths.push(content_path.to_string()),
    }
    if loaded.lifecycle != Some(expected.lifecycle) {
        paths.push("status".into());
    }
    if loaded.publish != expected.publish {
        paths.push("publish".into());
    }
    if loaded.protect != expected.protect {
        paths.push("protect".into());
    }
    paths
}
