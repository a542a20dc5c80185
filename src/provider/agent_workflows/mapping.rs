//! Agent Workflows' wire JSON to and from definition-format documents: the only place, with
//! `definition.rs`, that knows the platform's field names.
//!
//! Reading keeps `name`, `folder` (from `folder_id`, when set) and `configuration` without
//! agentsync's marker; the definition graph is content, read from `draft_definition` (the open
//! draft) and `definition` (the live version).

use serde_json::{Map, Value, json};

use super::api::WireObject;
use crate::model::content::Content;
use crate::model::{Document, Lifecycle, Marker};
use crate::provider::{ProviderError, RemoteAgent, RemoteContent, Result, marker};

const ID: &str = "id";
const NAME: &str = "name";
const STATUS: &str = "status";
const ACTIVE: &str = "active";
const ARCHIVED: &str = "archived";
const FOLDER_ID: &str = "folder_id";
const CONFIGURATION: &str = "configuration";
const LIVE_DEFINITION: &str = "definition";
const DRAFT_DEFINITION: &str = "draft_definition";
const PUBLISHED_VERSION: &str = "published_version";
const VERSION: &str = "version";

/// Definition-format names of the agent fields.
const FOLDER: &str = "folder";

/// The graph a new agent is created with: the create call requires one (contract 5), and the
/// definition's own graph is written as the draft right after.
pub fn empty_graph() -> Value {
    json!({"nodes": [], "edges": []})
}

/// The platform's id of an agent, as text: ids are integers on the wire (contract 2).
pub fn agent_id(wire: &WireObject) -> Option<String> {
    match wire.get(ID)? {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

/// The name of a listed (or full) agent.
pub fn agent_name(wire: &WireObject) -> Option<&str> {
    wire.get(NAME).and_then(Value::as_str)
}

fn require_id(wire: &WireObject, what: &str) -> Result<String> {
    agent_id(wire).ok_or_else(|| ProviderError::Protocol {
        what: what.to_owned(),
        message: "an agent without an id".to_owned(),
    })
}

/// A full agent (`GET /workflow/fetch/{id}`) as the engine sees it.
pub fn agent_from_wire(wire: &WireObject, what: &str) -> Result<RemoteAgent> {
    let id = require_id(wire, what)?;
    let marker = marker::read_or_unmanaged(wire.get(CONFIGURATION), &id);
    let mut fields = Document::new();
    if let Some(name) = wire.get(NAME).filter(|v| !v.is_null()) {
        fields.insert(NAME.to_owned(), name.clone());
    }
    if let Some(folder) = wire.get(FOLDER_ID).filter(|v| !v.is_null()) {
        fields.insert(FOLDER.to_owned(), folder.clone());
    }
    let mut configuration = wire
        .get(CONFIGURATION)
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    marker::strip(&mut configuration);
    fields.insert(CONFIGURATION.to_owned(), Value::Object(configuration));
    Ok(RemoteAgent {
        lifecycle: lifecycle_from_wire(&id, wire.get(STATUS)),
        protected: marker.as_ref().is_some_and(|m| m.protect),
        pruned: marker.as_ref().is_some_and(|m| m.pruned),
        unrecorded: false,
        key: marker.map(|m| m.key),
        // Integer ids and a uuid: nothing that reads as a short code.
        code: None,
        id,
        fields,
    })
}

/// Whether the agent has an open draft.
pub fn has_open_draft(wire: &WireObject) -> bool {
    wire.get(DRAFT_DEFINITION).is_some_and(Value::is_object)
}

/// The content of a full agent. With no draft open, the editable state IS the live version:
/// the draft reads as the live definition, so that an agent whose live version matches its
/// definition plans nothing.
pub fn content_from_wire(wire: &WireObject) -> RemoteContent {
    let live = graph_of(wire, LIVE_DEFINITION);
    let draft = graph_of(wire, DRAFT_DEFINITION).or_else(|| live.clone());
    let live_version = live
        .as_ref()
        .and_then(|_| version_of(wire.get(PUBLISHED_VERSION)));
    RemoteContent::from_documents(draft, live, live_version)
}

fn graph_of(wire: &WireObject, name: &str) -> Option<Document> {
    wire.get(name).and_then(Value::as_object).cloned()
}

/// Whether the full agent says which version is live (or that none is).
pub fn tells_live_version(wire: &WireObject) -> bool {
    wire.contains_key(PUBLISHED_VERSION) || !wire.get(LIVE_DEFINITION).is_some_and(Value::is_object)
}

/// The `version` of an item of the version list.
pub fn version_name(version: &WireObject) -> Option<String> {
    version_of(version.get(VERSION))
}

fn version_of(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

/// The live version's name after a publish. `what` names the call, for errors.
pub fn published_version(wire: &WireObject, what: &str) -> Result<String> {
    version_of(wire.get(PUBLISHED_VERSION)).ok_or_else(|| ProviderError::Protocol {
        what: what.to_owned(),
        message: format!("the answer has no `{PUBLISHED_VERSION}`"),
    })
}

/// An unknown status is read as active (and logged), as for workfx: one odd agent must not
/// stop every other agent's sync.
fn lifecycle_from_wire(id: &str, status: Option<&Value>) -> Lifecycle {
    match status.and_then(Value::as_str) {
        Some(ARCHIVED) => Lifecycle::Archived,
        Some(ACTIVE) => Lifecycle::Active,
        other => {
            tracing::warn!(agent = id, status = ?other, "unknown agent status; reading it as active");
            Lifecycle::Active
        }
    }
}

/// `configuration` as sent: the definition's (or the agent's current one), with the marker.
pub fn configuration_with_marker(configuration: Option<&Value>, owner: &Marker) -> Value {
    let mut object = configuration
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    marker::write(&mut object, owner);
    Value::Object(object)
}

/// The body of `POST /workflow/create/definition`: the name, an empty graph, and the
/// configuration carrying the marker from the very first request.
pub fn create_body(owner: &Marker, fields: &Document) -> Value {
    json!({
        NAME: fields.get(NAME).cloned().unwrap_or(Value::Null),
        LIVE_DEFINITION: empty_graph(),
        CONFIGURATION: configuration_with_marker(fields.get(CONFIGURATION), owner),
    })
}

/// The body of `PUT /workflow/{id}` for the `name` and `configuration` among `fields`; `None`
/// when neither changes.
pub fn update_body(owner: &Marker, fields: &Document) -> Option<Value> {
    let mut body = Map::new();
    if let Some(name) = fields.get(NAME) {
        body.insert(NAME.to_owned(), name.clone());
    }
    if let Some(configuration) = fields.get(CONFIGURATION) {
        body.insert(
            CONFIGURATION.to_owned(),
            configuration_with_marker(Some(configuration), owner),
        );
    }
    (!body.is_empty()).then_some(Value::Object(body))
}

/// The body that puts the marker on `agent`, keeping the rest of its configuration.
pub fn claim_body(agent: &WireObject, owner: &Marker) -> Value {
    json!({ CONFIGURATION: configuration_with_marker(agent.get(CONFIGURATION), owner) })
}

/// The body of `PUT /workflow/{id}/folder` when `fields` sets the folder.
pub fn folder_body(fields: &Document) -> Option<Value> {
    fields
        .get(FOLDER)
        .map(|folder| json!({ FOLDER_ID: folder }))
}

/// Where a validation error sits in the definition: `definition.nodes[2].data.prompt` for a
/// node's field, `definition.edges[0].target` for an edge's; `None` when the graph in `draft`
/// has no item with that id. The platform's kinds and the graph's layout (`nodes` and `edges`,
/// each item with an `id`) are the documented ones.
pub fn locate(
    draft: &Document,
    kind: &str,
    id: Option<&str>,
    field: Option<&str>,
) -> Option<String> {
    let list = match kind {
        "node" | "trigger" => "nodes",
        "edge" => "edges",
        _ => {
            return Some(match field {
                Some(field) => format!("{LIVE_DEFINITION}.{field}"),
                None => LIVE_DEFINITION.to_owned(),
            });
        }
    };
    let id = id?;
    let index = draft
        .get(list)?
        .as_array()?
        .iter()
        .position(|item| item.get(ID).and_then(Value::as_str) == Some(id))?;
    let item = format!("{LIVE_DEFINITION}.{list}[{index}]");
    Some(match field {
        Some(field) if !field.is_empty() => format!("{item}.{field}"),
        _ => item,
    })
}

/// The graph of the draft (or, with none open, of the live version), for [`locate`].
pub fn draft_graph(wire: &WireObject) -> Option<Document> {
    graph_of(wire, DRAFT_DEFINITION).or_else(|| graph_of(wire, LIVE_DEFINITION))
}

/// The body of a draft write: the graph, whole, as the content's own text (no tree is built).
pub fn draft_body(content: &Content) -> String {
    format!("{{\"{LIVE_DEFINITION}\":{}}}", content.text())
}

/// The body that archives or restores an agent (contract 11).
pub fn lifecycle_body(lifecycle: Lifecycle) -> Value {
    let status = match lifecycle {
        Lifecycle::Active => ACTIVE,
        Lifecycle::Archived => ARCHIVED,
    };
    json!({ STATUS: status })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Key;
    use crate::provider::agent_workflows::definition::SCHEMA;
    use crate::spec::schema::Kind;

    fn owner(key: &str, protect: bool) -> Marker {
        Marker::new(Key::parse(key).expect("a key"), protect)
    }

    fn wire(value: Value) -> WireObject {
        value.as_object().cloned().expect("an object")
    }

    /// A value of `kind`, as a definition would hold it.
    fn sample(kind: Kind) -> Value {
        match kind {
            Kind::String => json!("a value"),
            Kind::Integer => json!(42),
            Kind::Mapping | Kind::MappingReserving(_) => json!({"voice": "alloy"}),
            other => panic!("no sample for {other:?}: add one, and map the field"),
        }
    }

    #[test]
    fn every_definition_field_is_mapped_to_and_from_the_wire() {
        let owner = owner("lead", false);
        let mut fields = Document::new();
        for field in SCHEMA.fields {
            match field.kind {
                // An include becomes the field it names, checked with that field.
                Kind::Include { into } => assert!(
                    SCHEMA.fields.iter().any(|f| f.name == into),
                    "{} includes into a field that does not exist",
                    field.name
                ),
                _ if Some(field.name) == SCHEMA.content_field => {
                    let graph = json!({"nodes": [{"id": "start"}], "edges": []});
                    let content = Content::new(graph.as_object().expect("an object"));
                    let sent: WireObject =
                        serde_json::from_str(&draft_body(&content)).expect("JSON");
                    let read = content_from_wire(&wire(json!({
                        DRAFT_DEFINITION: sent[field.name].clone(),
                    })));
                    assert_eq!(read.draft, Some(content), "{} is not read back", field.name);
                }
                kind => {
                    fields.insert(field.name.to_owned(), sample(kind));
                }
            }
        }
        // What a create, an update and a folder move send, as the platform then answers it.
        let mut answer = wire(create_body(&owner, &fields));
        for body in [update_body(&owner, &fields), folder_body(&fields)]
            .into_iter()
            .flatten()
        {
            answer.extend(wire(body));
        }
        answer.insert(ID.to_owned(), json!(7));
        answer.insert(STATUS.to_owned(), json!(ACTIVE));
        let agent = agent_from_wire(&answer, "test").expect("an agent");
        for (name, value) in &fields {
            assert_eq!(
                agent.fields.get(name),
                Some(value),
                "{name} is not mapped both ways"
            );
        }
        assert_eq!(agent.key, Some(owner.key));
    }

    #[test]
    fn a_draft_body_wraps_the_content_s_own_text() {
        let graph = json!({"nodes": [{"id": "start", "text": "say \"hi\""}], "edges": []});
        let content = Content::new(graph.as_object().expect("an object"));
        let body: Value = serde_json::from_str(&draft_body(&content)).expect("JSON");
        assert_eq!(body, json!({ "definition": graph }));
    }

    #[test]
    fn an_agent_reads_with_its_marker_taken_out_of_its_configuration() {
        let agent = agent_from_wire(
            &wire(json!({
                "id": 7, "name": "Lead", "status": "archived", "folder_id": 3,
                "configuration": {"voice": "alloy", "agentsync": {"key": "lead", "protect": true}},
            })),
            "test",
        )
        .expect("an agent");
        assert_eq!(agent.id, "7");
        assert_eq!(agent.key, Some(Key::parse("lead").expect("a key")));
        assert!(agent.protected);
        assert_eq!(agent.lifecycle, Lifecycle::Archived);
        assert_eq!(
            Value::Object(agent.fields),
            json!({"name": "Lead", "folder": 3, "configuration": {"voice": "alloy"}})
        );
    }

    #[test]
    fn an_agent_without_a_folder_or_configuration_reads_as_uncategorized_and_empty() {
        let agent = agent_from_wire(
            &wire(json!({"id": 1, "name": "A", "folder_id": null})),
            "test",
        )
        .expect("an agent");
        assert_eq!(agent.key, None);
        assert_eq!(
            Value::Object(agent.fields),
            json!({"name": "A", "configuration": {}})
        );
    }

    #[test]
    fn with_no_draft_open_the_draft_reads_as_the_live_version() {
        let content = content_from_wire(&wire(json!({
            "definition": {"nodes": [1]}, "draft_definition": null, "published_version": 4,
        })));
        assert_eq!(content.draft, content.live);
        assert_eq!(content.live_version.as_deref(), Some("4"));
        let content = content_from_wire(&wire(json!({
            "definition": null, "draft_definition": {"nodes": []}, "published_version": null,
        })));
        assert_eq!(content.live, None);
        assert_eq!(content.live_version, None);
        assert!(content.draft.is_some());
    }

    #[test]
    fn writes_carry_the_marker_in_the_configuration() {
        let mut fields = Document::new();
        fields.insert("name".into(), json!("Lead"));
        fields.insert("configuration".into(), json!({"voice": "alloy"}));
        assert_eq!(
            create_body(&owner("lead", false), &fields),
            json!({
                "name": "Lead",
                "definition": {"nodes": [], "edges": []},
                "configuration": {"voice": "alloy", "agentsync": {"key": "lead"}},
            })
        );
        assert_eq!(
            update_body(&owner("lead", true), &fields),
            Some(json!({
                "name": "Lead",
                "configuration": {"voice": "alloy", "agentsync": {"key": "lead", "protect": true}},
            }))
        );
        let only_folder: Document = [("folder".to_owned(), json!(5))].into_iter().collect();
        assert_eq!(update_body(&owner("lead", false), &only_folder), None);
        assert_eq!(folder_body(&only_folder), Some(json!({"folder_id": 5})));
    }

    #[test]
    fn validation_errors_are_located_in_the_definition() {
        let graph = wire(json!({
            "nodes": [{"id": "start"}, {"id": "greet", "type": "agent"}],
            "edges": [{"id": "e1", "source": "start", "target": "nowhere"}],
        }));
        assert_eq!(
            locate(&graph, "node", Some("greet"), Some("data.prompt")).as_deref(),
            Some("definition.nodes[1].data.prompt")
        );
        assert_eq!(
            locate(&graph, "edge", Some("e1"), Some("target")).as_deref(),
            Some("definition.edges[0].target")
        );
        assert_eq!(
            locate(&graph, "workflow", None, Some("nodes")).as_deref(),
            Some("definition.nodes")
        );
        assert_eq!(locate(&graph, "node", Some("gone"), Some("id")), None);
    }

    #[test]
    fn claiming_keeps_the_rest_of_the_configuration() {
        let agent = wire(json!({"configuration": {"voice": "alloy"}}));
        assert_eq!(
            claim_body(&agent, &owner("lead", false)),
            json!({"configuration": {"voice": "alloy", "agentsync": {"key": "lead"}}})
        );
    }
}
