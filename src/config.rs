//! `agentsync.yaml` -> [`Config`]: finding the file, checking it, applying overrides.

use std::path::PathBuf;

/// Values that beat the configuration file: command-line flags, then `AGENTSYNC_*` variables.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub endpoint: Option<String>,
    pub definitions: Option<PathBuf>,
    pub concurrency: Option<u32>,
}
