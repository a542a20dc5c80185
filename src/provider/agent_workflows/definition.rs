//! The definition format of Agent Workflows voice agents: which fields such a definition may
//! set.

use crate::provider::marker;
use crate::spec::schema::{DefinitionSchema, Field, Kind};

const AGENT_FIELDS: &[Field] = &[
    Field::required("name", Kind::String, "the agent's display name"),
    Field::optional(
        "folder",
        Kind::Integer,
        "the id of the folder the agent sits in; left out, the folder is left alone",
    ),
    Field::optional(
        "configuration",
        Kind::MappingReserving(&[marker::RESERVED]),
        "configuration overrides (voice, language, ...), managed whole and applied at once; not versioned",
    ),
    Field::optional(
        "definition",
        Kind::Mapping,
        "the workflow graph (nodes and edges): edited as a draft, then published",
    ),
    Field::optional(
        "definition_file",
        Kind::Include { into: "definition" },
        "a JSON or YAML file holding the workflow graph, relative to this file",
    ),
];

/// The Agent Workflows definition format.
pub const SCHEMA: DefinitionSchema = DefinitionSchema {
    fields: AGENT_FIELDS,
    content_field: Some("definition"),
    name_field: Some("name"),
    requirements: &[],
};
