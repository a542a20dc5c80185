//! The definition format of workfx agents: which fields a workfx definition may set.

use crate::spec::schema::{DefinitionSchema, Field, Kind};

/// The agent modes workfx documents: the list filter's values, and the create model's own
/// examples (`chat`, `job`; an agent created without a mode is a `job`), so that every agent
/// the platform holds can be written as a definition (`export`).
const MODES: &[&str] = &[
    "chat",
    "job",
    "flow-chat",
    "flow-job",
    "instruction-chat",
    "multi-agent-flow-chat",
    "multi-agent-flow-job",
    "multi-agent-instruction-chat",
];

const FLOW_FIELDS: &[Field] = &[
    Field::optional("mode", Kind::String, "flow mode, e.g. chat or job"),
    Field::optional("graph", Kind::Mapping, "the flow graph: nodes and edges"),
    Field::optional(
        "graph_file",
        Kind::Include { into: "graph" },
        "a JSON or YAML file holding the graph, relative to this file",
    ),
    Field::optional("features", Kind::Mapping, "additional features of the flow"),
    Field::optional(
        "flow_variables",
        Kind::Mapping,
        "environment variables of the flow",
    ),
    Field::optional(
        "conversation_variables",
        Kind::MappingOfMappings,
        "conversation variables of the flow",
    ),
];

const AGENT_FIELDS: &[Field] = &[
    Field::required("name", Kind::String, "the agent's display name"),
    Field::optional("description", Kind::String, "what the agent does"),
    // workfx's update model has no `type` or `mode`: they are set at creation only.
    Field::optional(
        "type",
        Kind::OneOf(&["single-agent", "multi-agent"]),
        "agent type (set at creation only)",
    )
    .fixed(),
    Field::optional(
        "mode",
        Kind::OneOf(MODES),
        "agent mode (set at creation only)",
    )
    .fixed(),
    Field::optional("icon", Kind::String, "emoji, URL or gallery key"),
    Field::optional(
        "icon_type",
        Kind::OneOf(&["emoji", "url"]),
        "how to read icon",
    ),
    Field::optional(
        "icon_background",
        Kind::String,
        "hex colour behind the icon",
    ),
    Field::optional("tags", Kind::Tags, "labels, as a list"),
    Field::optional("is_favorite", Kind::Bool, "marked as favourite"),
    Field::optional(
        "flow",
        Kind::Nested(FLOW_FIELDS),
        "the agent's flow, managed whole; left out, flows are left alone",
    ),
];

/// The workfx definition format.
pub const SCHEMA: DefinitionSchema = DefinitionSchema {
    fields: AGENT_FIELDS,
    content_field: Some("flow"),
    name_field: Some("name"),
    requirements: &[],
};
