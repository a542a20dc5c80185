//! `agentsync schema`: the JSON Schemas of definition files and of `agentsync.yaml`, for
//! editors (the YAML language server) and for checks in other tools.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::exit::ExitStatus;
use super::{CliError, CliResult, Reporter};
use crate::json_schema;
use crate::provider::ProviderKind;

#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// Which schema: a definition file's, the configuration's, or every file (`all`, with
    /// `--out DIR`)
    #[arg(value_enum, default_value_t = SchemaKind::Definition)]
    pub kind: SchemaKind,

    /// Only this platform's definition format [default: any platform's]
    #[arg(long, value_name = "NAME", value_enum)]
    pub provider: Option<ProviderKind>,

    /// Write to FILE (to a directory with `all`) instead of printing
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SchemaKind {
    Definition,
    Config,
    All,
}

pub fn run(args: SchemaArgs, reporter: &Reporter) -> CliResult {
    let write = |path: &PathBuf, text: &str| -> Result<(), CliError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| CliError::Write {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        std::fs::write(path, text).map_err(|source| CliError::Write {
            path: path.clone(),
            source,
        })
    };
    match (args.kind, &args.out) {
        (SchemaKind::All, None) => return Err(CliError::SchemaAllNeedsADirectory),
        (SchemaKind::All, Some(dir)) => json_schema::files()
            .into_iter()
            .try_for_each(|(name, schema)| write(&dir.join(name), &json_schema::text(&schema)))?,
        (kind, out) => {
            let schema = match (kind, args.provider) {
                (SchemaKind::Config, _) => json_schema::config(),
                (_, Some(provider)) => json_schema::definition(provider),
                (_, None) => json_schema::definitions(),
            };
            let text = json_schema::text(&schema);
            match out {
                Some(path) => write(path, &text)?,
                None => reporter.print(&text),
            }
        }
    }
    Ok(ExitStatus::Success)
}
