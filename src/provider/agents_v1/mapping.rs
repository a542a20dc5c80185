//! Agents v1's wire JSON to and from definition-format documents: the only place, with
//! `definition.rs`, that knows the platform's field names. The definition format uses the
//! platform's own names, so a field maps to itself; what this decides is which fields are
//! written (contract 9), which are the server's, and how the inventory agent is recognized.

use serde_json::{Map, Value, json};

use super::api::WireObject;
use crate::model::{Document, Lifecycle};
use crate::provider::{ProviderError, RemoteAgent, Result};

pub const ID: &str = "id";
pub const NAME: &str = "name";
pub const ACTIVE: &str = "active";
pub const ARCHITECTURE: &str = "agentArchitecture";
pub const CREATED_AT: &str = "createdAt";
const SYSTEM_PROMPT: &str = "systemPrompt";

/// The fields agentsync writes and compares (contract 9); the rest (`id`, `createdAt`,
/// `updatedAt`, ...) are the server's.
pub const WRITABLE: &[&str] = &[
    "name",
    "agentArchitecture",
    "model",
    "stt",
    "tts",
    "voiceId",
    "realtimeProvider",
    "systemPrompt",
    "language",
    "mode",
    "temperature",
    "active",
    "enabledFunctions",
    "enabledCustomFunctions",
];

/// The fields only a create may send (contract 8: the architecture cannot change).
const CREATE_ONLY: &[&str] = &["agentArchitecture"];

/// The inventory agent (contract 12): its name, and what it is made of.
pub const INVENTORY_NAME: &str = "agentsync-inventory";

/// The body that creates the inventory agent holding `document`: the plainest agent there is,
/// private and inactive, so that it answers nobody.
pub fn inventory_create_body(document: &str) -> Value {
    json!({
        NAME: INVENTORY_NAME,
        ARCHITECTURE: "text",
        "model": "gpt-4o-mini",
        "mode": "private",
        ACTIVE: false,
        SYSTEM_PROMPT: document,
    })
}

/// The body that rewrites the inventory's document.
pub fn inventory_update_body(document: &str) -> Value {
    json!({ SYSTEM_PROMPT: document })
}

/// The inventory document an agent holds.
pub fn inventory_document(wire: &WireObject) -> Option<&str> {
    wire.get(SYSTEM_PROMPT).and_then(Value::as_str)
}

pub fn agent_id(wire: &WireObject) -> Option<&str> {
    wire.get(ID)
        .and_then(Value::as_str)
        .filter(|id| !id.is_empty())
}

pub fn agent_name(wire: &WireObject) -> Option<&str> {
    wire.get(NAME).and_then(Value::as_str)
}

/// Whether the agent answers as active.
pub fn is_active(wire: &WireObject) -> bool {
    wire.get(ACTIVE).and_then(Value::as_bool).unwrap_or(false)
}

/// The definition-format fields of an agent (full, or a list's summary): the writable ones it
/// carries, without nulls.
pub fn fields_from_wire(wire: &WireObject) -> Document {
    WRITABLE
        .iter()
        .filter_map(|&name| {
            wire.get(name)
                .filter(|value| !value.is_null())
                .map(|value| (name.to_owned(), value.clone()))
        })
        .collect()
}

/// An agent as the engine sees it, unmanaged (the inventory says who manages it).
pub fn agent_from_wire(wire: &WireObject, what: &str) -> Result<RemoteAgent> {
    let id = agent_id(wire).ok_or_else(|| ProviderError::Protocol {
        what: what.to_owned(),
        message: "an agent without an id".to_owned(),
    })?;
    Ok(RemoteAgent {
        id: id.to_owned(),
        key: None,
        code: None,
        protected: false,
        pruned: false,
        unrecorded: false,
        // The platform has no archive: every agent is as live as its `active` says.
        lifecycle: Lifecycle::Active,
        fields: fields_from_wire(wire),
    })
}

/// The body of a create: the definition's writable fields.
pub fn create_body(fields: &Document) -> Value {
    Value::Object(writable(fields, true))
}

/// The body of an update: the definition's writable fields but the architecture; `None` when
/// nothing is left to send.
pub fn update_body(fields: &Document) -> Option<Value> {
    let body = writable(fields, false);
    (!body.is_empty()).then_some(Value::Object(body))
}

fn writable(fields: &Document, create: bool) -> Map<String, Value> {
    fields
        .iter()
        .filter(|(name, value)| {
            WRITABLE.contains(&name.as_str())
                && (create || !CREATE_ONLY.contains(&name.as_str()))
                && !value.is_null()
        })
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::agents_v1::definition::SCHEMA;
    use crate::spec::schema::Kind;

    fn sample(kind: Kind) -> Value {
        match kind {
            Kind::String => json!("a value"),
            Kind::OneOf(values) => json!(values[0]),
            Kind::Number => json!(0.5),
            Kind::Bool => json!(true),
            Kind::Tags => json!(["web_search"]),
            other => panic!("no sample for {other:?}: add one, and map the field"),
        }
    }

    #[test]
    fn every_definition_field_is_mapped_to_and_from_the_wire() {
        let fields: Document = SCHEMA
            .fields
            .iter()
            .map(|field| (field.name.to_owned(), sample(field.kind)))
            .collect();
        // What a create sends, as the platform then answers it with its own fields beside.
        let Value::Object(mut answer) = create_body(&fields) else {
            panic!("an object");
        };
        answer.insert(ID.into(), json!("agent_1"));
        answer.insert(CREATED_AT.into(), json!("2026-01-01T00:00:00Z"));
        let agent = agent_from_wire(&answer, "test").expect("an agent");
        assert_eq!(agent.fields, fields, "every field is mapped both ways");
        // An update sends every field but the one set at creation only.
        let update = update_body(&fields).expect("a body");
        for field in SCHEMA.fields {
            let sent = update.get(field.name).is_some();
            assert_eq!(sent, !field.fixed, "{}", field.name);
        }
    }

    #[test]
    fn the_inventory_agent_is_private_inactive_and_holds_the_document() {
        let body = inventory_create_body("{}");
        assert_eq!(body["name"], INVENTORY_NAME);
        assert_eq!(
            (body["mode"].clone(), body["active"].clone()),
            (json!("private"), json!(false))
        );
        let Value::Object(wire) = body else {
            panic!("an object");
        };
        assert_eq!(inventory_document(&wire), Some("{}"));
    }
}
