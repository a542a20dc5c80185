//! The definition format of Agents v1 agents: the platform's own field names, and the fields
//! each architecture needs ("Required Fields by Architecture").

use crate::spec::schema::{DefinitionSchema, Field, Kind, Requirement};

/// The architectures, as `agentArchitecture` names them.
pub const ARCHITECTURES: &[&str] = &["pipeline", "realtime", "text"];

const AGENT_FIELDS: &[Field] = &[
    Field::required("name", Kind::String, "the agent's display name"),
    Field::required(
        "agentArchitecture",
        Kind::OneOf(ARCHITECTURES),
        "pipeline (speech to text, a model, text to speech), realtime (a speech-to-speech model) or text (chat only); set at creation only",
    )
    .fixed(),
    Field::required(
        "systemPrompt",
        Kind::String,
        "the instructions the model follows",
    ),
    Field::optional(
        "model",
        Kind::String,
        "the language model, e.g. gpt-4o (pipeline and text)",
    ),
    Field::optional("stt", Kind::String, "the speech-to-text provider (pipeline)"),
    Field::optional("tts", Kind::String, "the text-to-speech provider (pipeline)"),
    Field::optional("voiceId", Kind::String, "the voice, as the voice provider names it"),
    Field::optional(
        "realtimeProvider",
        Kind::String,
        "the speech-to-speech provider, e.g. openai (realtime)",
    ),
    Field::optional("language", Kind::String, "the language, e.g. en"),
    Field::optional(
        "mode",
        Kind::OneOf(&["public", "private", "commercial"]),
        "who may use the agent; only org owners and admins may change public and commercial agents",
    ),
    Field::optional("temperature", Kind::Number, "the model's temperature, 0 to 2"),
    Field::optional(
        "active",
        Kind::Bool,
        "whether the agent answers; a new agent is inactive until this says true",
    ),
    Field::optional("enabledFunctions", Kind::Tags, "built-in functions the agent may call"),
    Field::optional(
        "enabledCustomFunctions",
        Kind::Tags,
        "custom functions the agent may call",
    ),
];

/// The Agents v1 definition format.
pub const SCHEMA: DefinitionSchema = DefinitionSchema {
    fields: AGENT_FIELDS,
    content_field: None,
    name_field: Some("name"),
    requirements: &[
        Requirement {
            field: "agentArchitecture",
            value: "pipeline",
            needs: &["model", "stt", "tts"],
        },
        Requirement {
            field: "agentArchitecture",
            value: "realtime",
            needs: &["realtimeProvider"],
        },
        Requirement {
            field: "agentArchitecture",
            value: "text",
            needs: &["model"],
        },
    ],
};
