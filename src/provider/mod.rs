//! The platforms agentsync serves, and what each one contributes.

pub mod workfx;

use serde::{Deserialize, Serialize};

use crate::spec::schema::DefinitionSchema;

/// The platforms a configuration can name in `provider:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProviderKind {
    Workfx,
}

impl ProviderKind {
    pub const ALL: &[ProviderKind] = &[ProviderKind::Workfx];

    pub fn name(self) -> &'static str {
        match self {
            ProviderKind::Workfx => "workfx",
        }
    }

    pub fn from_name(name: &str) -> Option<ProviderKind> {
        Self::ALL.iter().copied().find(|p| p.name() == name)
    }

    /// The fields a definition for this platform may have.
    pub fn definition_schema(self) -> &'static DefinitionSchema {
        match self {
            ProviderKind::Workfx => &workfx::definition::SCHEMA,
        }
    }
}
