//! JSON Schemas for definition files and for `agentsync.yaml`, made from the same data the
//! loaders check against: each provider's [`DefinitionSchema`] (plus agentsync's own
//! [`COMMON_FIELDS`]) and the configuration's [`SETTINGS`] table. A field or a setting added
//! there is in the schema with no other change.
//!
//! Draft 7, the draft the YAML language server (and most editors) read best. The files:
//! - `agent.<provider>.schema.json`: the definition format of one platform;
//! - `agent.schema.json`: any platform's (`anyOf` the above: a definition does not say its
//!   platform, the target that loads it does), what the examples point at;
//! - `agentsync.schema.json`: the configuration, `targets:` included.
//!
//! The schemas follow the loaders: unknown fields are refused, `field: null` is the same as
//! leaving the field out, a field that may live in its own file (`graph_file`) excludes its
//! inline form. What only the loader can check (a `${agent:KEY}` that names a defined agent,
//! required settings that may come from the environment) is left to `agentsync validate`.

use serde_json::{Map, Value, json};

use crate::config::settings::{SETTINGS, SettingValue, TARGETS};
use crate::model::MAX_KEY_LEN;
use crate::provider::ProviderKind;
use crate::spec::schema::{COMMON_FIELDS, DefinitionSchema, Field, Kind};

const DRAFT: &str = "http://json-schema.org/draft-07/schema#";

/// The file every definition can point at, whatever its platform.
pub const DEFINITION_FILE: &str = "agent.schema.json";
/// The configuration's schema file.
pub const CONFIG_FILE: &str = "agentsync.schema.json";

/// The file name of one platform's definition schema.
pub fn definition_file(kind: ProviderKind) -> String {
    format!("{}.schema.json", kind.name())
}

/// Every schema file, by name, as `agentsync schema all` writes them.
pub fn files() -> Vec<(String, Value)> {
    let mut files = vec![(DEFINITION_FILE.to_string(), definitions())];
    files.extend(
        ProviderKind::ALL
            .iter()
            .map(|kind| (definition_file(*kind), definition(*kind))),
    );
    files.push((CONFIG_FILE.to_string(), config()));
    files
}

/// A schema as it is written to a file: pretty, with a final newline.
pub fn text(schema: &Value) -> String {
    serde_json::to_string_pretty(schema).unwrap_or_default() + "\n"
}

/// The definition format of one platform.
pub fn definition(kind: ProviderKind) -> Value {
    let mut schema = agent(kind.definition_schema());
    if let Value::Object(map) = &mut schema {
        let mut head = Map::new();
        head.insert("$schema".into(), json!(DRAFT));
        head.insert(
            "title".into(),
            json!(format!("agentsync agent definition ({})", kind.name())),
        );
        head.extend(std::mem::take(map));
        *map = head;
    }
    schema
}

/// The definition format of any platform: one of the platforms' formats.
pub fn definitions() -> Value {
    let definitions: Map<String, Value> = ProviderKind::ALL
        .iter()
        .map(|kind| (kind.name().to_string(), agent(kind.definition_schema())))
        .collect();
    let any_of: Vec<Value> = ProviderKind::ALL
        .iter()
        .map(|kind| json!({ "$ref": format!("#/definitions/{}", kind.name()) }))
        .collect();
    json!({
        "$schema": DRAFT,
        "title": "agentsync agent definition",
        "description": format!(
            "One agent, for any of the platforms agentsync serves ({}); the target that loads the file decides which format applies.",
            ProviderKind::ALL.iter().map(|k| k.name()).collect::<Vec<_>>().join(", ")
        ),
        "definitions": definitions,
        "anyOf": any_of,
    })
}

/// A definition: agentsync's own fields, then the provider's.
fn agent(schema: &DefinitionSchema) -> Value {
    let fields: Vec<&Field> = COMMON_FIELDS.iter().chain(schema.fields).collect();
    let mut agent = object(&fields, true);
    // A value that needs other fields: `if` it is there, `then` they are.
    let needs = schema.requirements.iter().map(|r| {
        json!({
            "if": { "properties": { r.field: { "const": r.value } }, "required": [r.field] },
            "then": { "required": r.needs },
        })
    });
    if let Value::Object(map) = &mut agent {
        let rules = map.entry("allOf").or_insert_with(|| json!([]));
        if let Value::Array(rules) = rules {
            rules.extend(needs);
            if rules.is_empty() {
                map.remove("allOf");
            }
        }
    }
    agent
}

/// A mapping with exactly `fields`.
fn object(fields: &[&Field], root: bool) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    let mut rules = Vec::new();
    for field in fields {
        let mut property = kind(field.kind);
        if field.name == "key" && root {
            // The key's form is checked by `model::Key`, not by its kind.
            property = json!({
                "type": "string",
                "pattern": "^[a-z0-9][a-z0-9-]*$",
                "maxLength": MAX_KEY_LEN,
            });
        }
        if field.required {
            required.push(json!(field.name));
        } else {
            property = nullable(property);
        }
        if let Value::Object(map) = &mut property {
            map.insert("description".into(), json!(field.doc));
        }
        properties.insert(field.name.to_string(), property);
        if let Kind::Include { into } = field.kind {
            // Not both; below the top level, one of them (a flow needs its graph).
            rules.push(json!({ "not": { "required": [field.name, into] } }));
            if !root {
                rules.push(json!({
                    "anyOf": [{ "required": [field.name] }, { "required": [into] }]
                }));
            }
        }
    }
    let mut schema = Map::new();
    schema.insert("type".into(), json!("object"));
    schema.insert("properties".into(), Value::Object(properties));
    if !required.is_empty() {
        schema.insert("required".into(), Value::Array(required));
    }
    schema.insert("additionalProperties".into(), json!(false));
    if !rules.is_empty() {
        schema.insert("allOf".into(), Value::Array(rules));
    }
    Value::Object(schema)
}

/// What a field of this kind may hold.
fn kind(kind: Kind) -> Value {
    match kind {
        Kind::String => json!({ "type": "string" }),
        Kind::Bool => json!({ "type": "boolean" }),
        Kind::Integer => json!({ "type": "integer" }),
        Kind::Number => json!({ "type": "number" }),
        Kind::OneOf(values) => json!({ "type": "string", "enum": values }),
        Kind::Tags => json!({
            "type": "array",
            "items": { "type": "string", "pattern": "^[^,]*[^,\\s][^,]*$" },
        }),
        Kind::Mapping => json!({ "type": "object" }),
        Kind::MappingReserving(reserved) => json!({
            "type": "object",
            "propertyNames": { "not": { "enum": reserved } },
        }),
        Kind::MappingOfMappings => json!({
            "type": "object",
            "additionalProperties": { "type": "object" },
        }),
        Kind::Any => json!({}),
        Kind::Nested(fields) => {
            let fields: Vec<&Field> = fields.iter().collect();
            object(&fields, false)
        }
        Kind::Include { .. } => json!({ "type": "string", "minLength": 1 }),
    }
}

/// `null` allowed too: the loaders read `field: null` as the field left out.
fn nullable(schema: Value) -> Value {
    let Value::Object(mut map) = schema else {
        return schema;
    };
    if map.is_empty() {
        // Any value: null included.
        return Value::Object(map);
    }
    if let Some(Value::Array(values)) = map.get_mut("enum") {
        values.push(Value::Null);
    }
    match map.get("type").cloned() {
        Some(Value::String(t)) => {
            map.insert("type".into(), json!([t, "null"]));
            Value::Object(map)
        }
        _ if map.contains_key("enum") => Value::Object(map),
        _ => json!({ "anyOf": [Value::Object(map), { "type": "null" }] }),
    }
}

/// `agentsync.yaml`: every setting at the top level and in each target.
pub fn config() -> Value {
    let settings: Map<String, Value> = SETTINGS
        .iter()
        .map(|s| {
            let mut property = nullable(setting(s.value));
            if let Value::Object(map) = &mut property {
                map.insert(
                    "description".into(),
                    json!(format!("{} (environment: {})", s.doc, s.env)),
                );
            }
            (s.key.to_string(), property)
        })
        .collect();
    // Settings of the whole repository (the state directory) are refused inside a target.
    let per_target: Map<String, Value> = settings
        .iter()
        .filter(|(key, _)| SETTINGS.iter().any(|s| s.key == *key && !s.top_level))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    let target = json!({
        "type": "object",
        "properties": per_target,
        "additionalProperties": false,
    });
    let mut top = settings;
    top.insert(
        TARGETS.into(),
        json!({
            "type": ["object", "null"],
            "description": "several platforms or accounts, by name: each target's settings, with the top-level settings as their defaults",
            "propertyNames": { "pattern": "^[a-z0-9][a-z0-9-]*$" },
            "additionalProperties": target,
        }),
    );
    json!({
        "$schema": DRAFT,
        "title": "agentsync configuration (agentsync.yaml)",
        "type": "object",
        "properties": top,
        "additionalProperties": false,
    })
}

fn setting(value: SettingValue) -> Value {
    match value {
        SettingValue::Provider => json!({
            "type": "string",
            "enum": ProviderKind::ALL.iter().map(|k| k.name()).collect::<Vec<_>>(),
        }),
        SettingValue::Endpoint => json!({
            "type": "string",
            "anyOf": [{ "const": "embedded" }, { "pattern": "^https?://[^/\\s]+" }],
        }),
        SettingValue::Text => json!({ "type": "string", "minLength": 1, "pattern": "\\S" }),
        SettingValue::EnvName => json!({ "type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$" }),
        SettingValue::Bool => json!({ "type": "boolean" }),
        SettingValue::Prune => json!({ "enum": [false, "off", "false", "archive", "delete"] }),
        SettingValue::CountOrShare => json!({
            "anyOf": [
                { "type": "integer", "minimum": 0 },
                { "type": "string", "pattern": "^\\s*([0-9]+|(100|[0-9]{1,2})\\s*%)\\s*$" },
            ],
        }),
        SettingValue::Integer { min, max } => {
            json!({ "type": "integer", "minimum": min, "maximum": max })
        }
    }
}

/// A value of every shape `setting` allows, for the test that keeps the schema and the
/// checker in step.
pub fn setting_examples(value: SettingValue) -> Vec<Value> {
    match value {
        SettingValue::Provider => ProviderKind::ALL.iter().map(|k| json!(k.name())).collect(),
        SettingValue::Endpoint => vec![json!("embedded"), json!("https://api.example.com")],
        SettingValue::Text => vec![json!("x")],
        SettingValue::EnvName => vec![json!("WORKFX_TOKEN")],
        SettingValue::Bool => vec![json!(true), json!(false)],
        SettingValue::Prune => vec![json!(false), json!("off"), json!("archive")],
        SettingValue::CountOrShare => vec![json!(3), json!("20%")],
        SettingValue::Integer { min, max } => vec![json!(min), json!(max)],
    }
}
