//! workfx's wire JSON to and from definition-format documents: the only place, with
//! `definition.rs`, that knows workfx's field names.
//!
//! Reading keeps the fields the definition format knows, drops `null`s (workfx treats them as
//! unset) and everything server-owned, and reads tags from a list, one string, or a
//! comma-separated string, always answering a list. Writing sends tags as a list.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::api::{FlowVersion, GRAPH, WireFlow, WireObject};
use crate::model::content::Content;
use crate::model::{Document, Lifecycle, Marker};
use crate::provider::{ProviderError, RemoteAgent, RemoteContent, Result, marker};
use crate::text::json_text;

/// Agent fields: (definition name, workfx name). Today they are the same; the table is where
/// they would part.
const AGENT_FIELDS: &[(&str, &str)] = &[
    ("name", "name"),
    ("description", "description"),
    ("type", "type"),
    ("mode", "mode"),
    ("icon", "icon"),
    ("icon_type", "icon_type"),
    ("icon_background", "icon_background"),
    ("tags", "tags"),
    ("is_favorite", "is_favorite"),
];

/// Fields the documented update model lacks: workfx sets them at creation only.
const CREATE_ONLY: &[&str] = &["mode", "type"];

/// The fields of workfx's documented update model (`PUT /agents/{id}`), in its names.
///
/// The docs show this model's defaults (`status: ACTIVE`, `extend_properties: {}`, ...) where
/// the create model shows its own, and do not say whether a field a body leaves out keeps its
/// value. So every update sends every one of these fields the agent has, as last listed (or
/// read), with the change applied: correct whether the platform merges or replaces (an
/// update of a description must not un-archive the agent, nor erase agentsync's marker).
/// `docs/workfx-contract.md`, "Updates".
pub const UPDATE_FIELDS: &[&str] = &[
    "icon_type",
    "icon",
    "icon_background",
    "name",
    "description",
    "tags",
    "is_favorite",
    "status",
    "ab_test_id",
    "ab_test_enabled",
    "extend_properties",
    "usage_guide",
];

/// Flow fields: (definition name, workfx name).
const CONTENT_FIELDS: &[(&str, &str)] = &[
    ("mode", "mode"),
    ("graph", "graph"),
    ("features", "features"),
    ("flow_variables", "flow_variables"),
    ("conversation_variables", "conversation_variables"),
];

const ID: &str = "id";
/// The server-generated short identifier (assumption 11: server-owned, never sent).
const CODE: &str = "code";
const TAGS: &str = "tags";
const STATUS: &str = "status";
const ACTIVE: &str = "ACTIVE";
const ARCHIVED: &str = "ARCHIVED";
const EXTEND_PROPERTIES: &str = "extend_properties";
const VERSION: &str = "version";
const DRAFT_VERSION: &str = "draft";

/// The platform's id of an agent.
pub fn agent_id(wire: &WireObject) -> Option<&str> {
    wire.get(ID)
        .and_then(Value::as_str)
        .filter(|id| !id.is_empty())
}

/// An agent as the engine sees it. `what` names the answer it came in, for errors.
pub fn agent_from_wire(wire: &WireObject, what: &str) -> Result<RemoteAgent> {
    let id = agent_id(wire).ok_or_else(|| ProviderError::Protocol {
        what: what.to_owned(),
        message: "an agent without an id".to_owned(),
    })?;
    let marker = marker::read_or_unmanaged(wire.get(EXTEND_PROPERTIES), id);
    let mut fields = Document::new();
    for (name, wire_name) in AGENT_FIELDS {
        let value = match wire.get(*wire_name) {
            None | Some(Value::Null) => continue,
            Some(value) if *name == TAGS => match tags_from_wire(value) {
                Some(tags) => tags,
                None => continue,
            },
            Some(value) => value.clone(),
        };
        fields.insert((*name).to_owned(), value);
    }
    Ok(RemoteAgent {
        id: id.to_owned(),
        protected: marker.as_ref().is_some_and(|m| m.protect),
        pruned: marker.as_ref().is_some_and(|m| m.pruned),
        unrecorded: false,
        key: marker.map(|m| m.key),
        code: wire
            .get(CODE)
            .and_then(Value::as_str)
            .filter(|code| !code.is_empty())
            .map(str::to_owned),
        fields,
        lifecycle: lifecycle_from_wire(id, wire.get(STATUS)),
    })
}

/// Tags as a list of trimmed, non-empty strings, from a list, one string, or a comma-separated
/// string (assumption 9); `None` for anything else.
pub fn tags_from_wire(value: &Value) -> Option<Value> {
    let tags: Vec<Value> = match value {
        Value::String(text) => text
            .split(',')
            .map(str::trim)
            .filter(|tag| !tag.is_empty())
            .map(|tag| Value::String(tag.to_owned()))
            .collect(),
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::trim)
            .filter(|tag| !tag.is_empty())
            .map(|tag| Value::String(tag.to_owned()))
            .collect(),
        _ => return None,
    };
    Some(Value::Array(tags))
}

/// An unknown status is read as active (and logged): failing the whole list for one odd agent
/// would stop every other agent's sync.
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

fn lifecycle_to_wire(lifecycle: Lifecycle) -> &'static str {
    match lifecycle {
        Lifecycle::Active => ACTIVE,
        Lifecycle::Archived => ARCHIVED,
    }
}

/// Copies the definition fields of `fields` that workfx knows into a body, under their workfx
/// names; tags become a list. An unknown field is a bug upstream: logged and left out.
fn agent_fields_to_wire(fields: &Document) -> WireObject {
    let mut body = WireObject::new();
    for (name, value) in fields {
        let Some((_, wire_name)) = AGENT_FIELDS.iter().find(|(known, _)| known == name) else {
            tracing::warn!(field = %name, "workfx has no such agent field; not sent");
            continue;
        };
        let value = if name == TAGS {
            tags_from_wire(value).unwrap_or_else(|| value.clone())
        } else {
            value.clone()
        };
        body.insert((*wire_name).to_owned(), value);
    }
    body
}

/// The body of `POST /agents`: the fields, and the marker from the very first request.
pub fn create_body(owner: &Marker, fields: &Document) -> Value {
    let mut body = agent_fields_to_wire(fields);
    let mut properties = Map::new();
    marker::write(&mut properties, owner);
    body.insert(EXTEND_PROPERTIES.to_owned(), Value::Object(properties));
    Value::Object(body)
}

/// What `agent` (as listed or read) holds of the update model ([`UPDATE_FIELDS`]): the base of
/// its next update. `null`s are left out (they are the defaults), tags become a list.
pub fn update_base(mut agent: WireObject) -> WireObject {
    agent.retain(|name, value| !value.is_null() && UPDATE_FIELDS.contains(&name.as_str()));
    if let Some(tags) = agent.get(TAGS).and_then(tags_from_wire) {
        agent.insert(TAGS.to_owned(), tags);
    }
    agent
}

/// Refuses, before anything is sent, an update naming a field workfx cannot change on an
/// existing agent. `what` names the agent, for errors.
pub fn check_updatable(fields: &Document, what: &str) -> Result<()> {
    match fields
        .keys()
        .find(|name| CREATE_ONLY.contains(&name.as_str()))
    {
        Some(field) => Err(ProviderError::Rejected {
            what: what.to_owned(),
            status: 422,
            message: format!(
                "workfx cannot change the {field} of an existing agent (its update model has no \
                 `{field}`); nothing was sent. Recreate the agent to change it"
            ),
        }),
        None => Ok(()),
    }
}

/// The body of `PUT /agents/{id}` that sets `fields` on an agent whose update base is `base`
/// ([`update_base`]), with `owner`'s marker in its `extend_properties` (the agent's others
/// kept). Checked by [`check_updatable`] first.
pub fn update_body(mut base: WireObject, owner: &Marker, fields: &Document) -> WireObject {
    base.extend(agent_fields_to_wire(fields));
    with_marker(base, owner)
}

fn with_marker(mut base: WireObject, owner: &Marker) -> WireObject {
    let mut properties = match base.remove(EXTEND_PROPERTIES) {
        Some(Value::Object(properties)) => properties,
        _ => Map::new(),
    };
    marker::write(&mut properties, owner);
    base.insert(EXTEND_PROPERTIES.to_owned(), Value::Object(properties));
    base
}

/// The body that puts `owner`'s marker on `agent` (as read), keeping its other
/// `extend_properties` and every other field of the update model.
pub fn claim_body(agent: WireObject, owner: &Marker) -> WireObject {
    with_marker(update_base(agent), owner)
}

/// The body that archives or restores an agent whose update base is `base` (assumption 8).
pub fn lifecycle_body(mut base: WireObject, lifecycle: Lifecycle) -> WireObject {
    base.insert(
        STATUS.to_owned(),
        Value::String(lifecycle_to_wire(lifecycle).to_owned()),
    );
    base
}

/// The problem with a created agent's answer: `None` when it carries `owner`'s key.
pub fn marker_lost(created: &RemoteAgent, owner: &Marker) -> Option<String> {
    (created.key.as_ref() != Some(&owner.key)).then(|| {
        format!(
            "agent {} was created, but the platform kept none of agentsync's marker in its \
             `{EXTEND_PROPERTIES}`, so agentsync could not recognise it later and would create it \
             again; delete it on the platform and report this",
            created.id
        )
    })
}

/// [`lifecycle_body`] and [`claim_body`] in one body: the status and the marker change in the
/// same write.
pub fn lifecycle_claim_body(agent: WireObject, lifecycle: Lifecycle, owner: &Marker) -> WireObject {
    lifecycle_body(claim_body(agent, owner), lifecycle)
}

/// The body of a draft write: the content, whole.
pub fn content_body(content: &Document) -> Value {
    let mut body = WireObject::new();
    for (name, value) in content {
        match CONTENT_FIELDS.iter().find(|(known, _)| known == name) {
            Some((_, wire_name)) => {
                body.insert((*wire_name).to_owned(), value.clone());
            }
            None => tracing::warn!(field = %name, "workfx has no such flow field; not sent"),
        }
    }
    Value::Object(body)
}

/// The body of a draft write, as JSON text: [`content_body_text`] when it can be, else the
/// content's tree through [`content_body`].
pub fn draft_body(content: &Content) -> Cow<'_, str> {
    match content_body_text(content) {
        Some(text) => Cow::Borrowed(text),
        None => Cow::Owned(content_body(&content.document()).to_string()),
    }
}

/// The draft body as text: the content's own text when every member is a flow field that
/// workfx names as the definition does (then the body is the content, member for member);
/// `None` when a member needs renaming or dropping ([`content_body`] does that on a tree).
pub fn content_body_text(content: &Content) -> Option<&str> {
    let members: BTreeMap<String, &RawValue> = serde_json::from_str(content.text()).ok()?;
    members
        .keys()
        .all(|name| {
            CONTENT_FIELDS
                .iter()
                .any(|(known, wire)| known == name && wire == name)
        })
        .then(|| content.text())
}

/// A flow's content in definition names, without `null`s or server-owned fields. Its graph goes
/// from the answer's text to the content's text and digest without becoming a tree.
pub fn content_from_wire(mut wire: WireFlow) -> Result<Content> {
    let graph = wire
        .graph
        .take()
        .filter(|graph| graph.get() != "null")
        .map(|graph| json_text::read(graph.get()))
        .transpose()
        .map_err(|err| ProviderError::Protocol {
            what: "a flow's graph".to_owned(),
            message: err.to_string(),
        })?;
    // The graph keeps its place among the content's members; `null` holds it until then.
    let mut base = Document::new();
    let mut graph_name = None;
    for (name, wire_name) in CONTENT_FIELDS {
        if *wire_name == GRAPH {
            if graph.is_some() {
                base.insert((*name).to_owned(), Value::Null);
                graph_name = Some(*name);
            }
            continue;
        }
        match wire.fields.remove(*wire_name) {
            None | Some(Value::Null) => {}
            Some(value) => {
                base.insert((*name).to_owned(), value);
            }
        }
    }
    Ok(match (graph_name, &graph) {
        (Some(name), Some(graph)) => Content::with_member(&base, name, graph),
        _ => Content::new(&base),
    })
}

/// The draft and the live content among `flows`, as [`pick_versions`] chooses them, moved out
/// of the answer.
pub fn content_from_flows(mut flows: Vec<WireFlow>) -> Result<RemoteContent> {
    let (draft, live) = version_positions(&flows);
    // A live version published from the draft and not edited since is usually sent in the
    // same words as the draft; then it is the draft's content, and its graph is not read.
    let live_is_draft =
        matches!((draft, live), (Some(d), Some((_, l))) if same_on_the_wire(&flows[d], &flows[l]));
    let mut take = |index: usize| content_from_wire(std::mem::take(&mut flows[index]));
    let draft = draft.map(&mut take).transpose()?;
    let live_content = match (&draft, live) {
        (Some(draft), Some(_)) if live_is_draft => Some(draft.clone()),
        _ => live.map(|(_, index)| take(index)).transpose()?,
    };
    Ok(RemoteContent::from_contents(
        draft,
        live_content,
        live.map(|(number, _)| number.to_string()),
    ))
}

/// Whether two flows hold the same content in the same words: every content field equal, and
/// the graphs the same text. (Equal contents written differently are found equal later, by
/// digest; this only spares reading a graph twice.)
fn same_on_the_wire(a: &WireFlow, b: &WireFlow) -> bool {
    CONTENT_FIELDS.iter().all(|(_, wire_name)| {
        if *wire_name == GRAPH {
            a.graph.as_ref().map(|g| g.get()) == b.graph.as_ref().map(|g| g.get())
        } else {
            let field = |flow| -> Option<&Value> {
                let flow: &WireFlow = flow;
                flow.fields.get(*wire_name).filter(|v| !v.is_null())
            };
            field(a) == field(b)
        }
    })
}

fn version(flow: &WireFlow) -> Option<&str> {
    flow.fields.get(VERSION).and_then(Value::as_str)
}

fn published_number(flow: &WireFlow) -> Option<u64> {
    version(flow)
        .filter(|version| *version != DRAFT_VERSION)
        .and_then(|version| version.parse().ok())
}

/// The version a publish answered. `what` names the request, for errors.
pub fn published_version(flow: &FlowVersion, what: &str) -> Result<String> {
    match flow.version.as_ref().and_then(Value::as_str) {
        Some(version) if version != DRAFT_VERSION => Ok(version.to_owned()),
        _ => Err(ProviderError::Protocol {
            what: what.to_owned(),
            message: "a published flow without a version".to_owned(),
        }),
    }
}

/// The draft and the live flow among `flows`: the item whose version is "draft", and the
/// published one with the highest version number, with its version (assumption 6).
pub fn pick_versions(flows: &[WireFlow]) -> (Option<&WireFlow>, Option<(String, &WireFlow)>) {
    let (draft, live) = version_positions(flows);
    (
        draft.map(|index| &flows[index]),
        live.map(|(number, index)| (number.to_string(), &flows[index])),
    )
}

/// Where [`pick_versions`]'s choices are in `flows`: the draft's index, and the live version's
/// number and index. The one place that says which flows are the draft and the live one.
fn version_positions(flows: &[WireFlow]) -> (Option<usize>, Option<(u64, usize)>) {
    let draft = flows
        .iter()
        .position(|flow| version(flow) == Some(DRAFT_VERSION));
    let live = flows
        .iter()
        .enumerate()
        .filter_map(|(index, flow)| published_number(flow).map(|number| (number, index)))
        .max_by_key(|(number, _)| *number);
    (draft, live)
}

/// What the first page of an agent's flows tells, when more pages follow it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FirstPage {
    /// It holds the draft and the newest version: all that [`pick_versions`] needs.
    Enough,
    /// It holds the newest versions but not the draft, which may be on any later page ("newest
    /// first" by creation puts the draft after the versions published from it): read it.
    DraftElsewhere,
    /// Something else (versions out of order, an unknown version, no version): read every page.
    Unordered,
}

/// Reads a first page of flows. The published versions on it must be newest first, whatever
/// the draft's place; then the newest of them is the live version (assumption 6).
pub fn first_page(flows: &[WireFlow]) -> FirstPage {
    let mut drafts = 0;
    let mut published = Vec::with_capacity(flows.len());
    for flow in flows {
        match (version(flow), published_number(flow)) {
            (Some(DRAFT_VERSION), _) => drafts += 1,
            (_, Some(number)) => published.push(number),
            _ => return FirstPage::Unordered,
        }
    }
    let newest_first = published.windows(2).all(|pair| pair[0] > pair[1]);
    match (drafts, published.is_empty()) {
        _ if !newest_first || drafts > 1 => FirstPage::Unordered,
        (_, true) => FirstPage::Unordered,
        (1, false) => FirstPage::Enough,
        _ => FirstPage::DraftElsewhere,
    }
}

/// What tells one flow from another in a list: its version ("draft", "3"), else its id.
pub fn flow_identity(flow: &WireFlow) -> Option<&str> {
    version(flow).or_else(|| flow.fields.get(ID).and_then(Value::as_str))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::workfx::definition::SCHEMA;
    use crate::spec::schema::Kind;
    use serde_json::json;

    fn object(value: Value) -> WireObject {
        value.as_object().cloned().expect("an object")
    }

    fn key(text: &str) -> crate::model::Key {
        crate::model::Key::parse(text).expect("a valid key")
    }

    fn owner(text: &str) -> Marker {
        Marker::new(key(text), false)
    }

    #[test]
    fn every_definition_field_is_mapped() {
        for field in SCHEMA.fields {
            if Some(field.name) == SCHEMA.content_field {
                let Kind::Nested(flow_fields) = field.kind else {
                    panic!("the content field is nested");
                };
                for flow_field in flow_fields {
                    let included = matches!(flow_field.kind, Kind::Include { .. });
                    assert!(
                        included
                            || CONTENT_FIELDS
                                .iter()
                                .any(|(name, _)| *name == flow_field.name),
                        "flow.{} is not mapped",
                        flow_field.name
                    );
                }
            } else {
                assert!(
                    AGENT_FIELDS.iter().any(|(name, _)| *name == field.name),
                    "{} is not mapped",
                    field.name
                );
            }
        }
    }

    #[test]
    fn tags_read_from_a_list_a_string_or_a_comma_separated_string() {
        assert_eq!(tags_from_wire(&json!("a")), Some(json!(["a"])));
        assert_eq!(tags_from_wire(&json!(" a, b ,,")), Some(json!(["a", "b"])));
        assert_eq!(tags_from_wire(&json!("")), Some(json!([])));
        assert_eq!(
            tags_from_wire(&json!([" a ", "", "b"])),
            Some(json!(["a", "b"]))
        );
        assert_eq!(tags_from_wire(&json!(3)), None);
    }

    #[test]
    fn an_agent_reads_as_its_definition_fields_without_nulls_or_server_fields() {
        let wire = object(json!({
            "id": "a1", "code": "c", "tenant_id": "t", "created_time": "x", "icon_url": null,
            "name": "Bot", "description": null, "mode": "flow-chat", "tags": "x,y",
            "is_favorite": false, "status": "ARCHIVED",
            "extend_properties": {"agentsync": {"key": "bot"}, "other": 1},
        }));
        let agent = agent_from_wire(&wire, "the agent list").expect("an agent");
        assert_eq!(agent.id, "a1");
        assert_eq!(agent.key, Some(key("bot")));
        assert_eq!(agent.lifecycle, Lifecycle::Archived);
        assert_eq!(
            Value::Object(agent.fields),
            json!({"name": "Bot", "mode": "flow-chat", "tags": ["x", "y"], "is_favorite": false})
        );
    }

    #[test]
    fn an_agent_with_a_malformed_marker_is_unmanaged() {
        let wire =
            object(json!({"id": "a1", "status": "ACTIVE", "extend_properties": {"agentsync": 1}}));
        assert_eq!(agent_from_wire(&wire, "x").expect("an agent").key, None);
    }

    #[test]
    fn an_agent_without_an_id_is_a_protocol_error() {
        let wire = object(json!({"name": "x"}));
        assert!(matches!(
            agent_from_wire(&wire, "x"),
            Err(ProviderError::Protocol { .. })
        ));
    }

    #[test]
    fn creating_sends_the_marker_and_tags_as_a_list() {
        let fields = object(json!({"name": "Bot", "tags": ["a", "b"]}));
        assert_eq!(
            create_body(&owner("bot"), &fields),
            json!({"name": "Bot", "tags": ["a", "b"], "extend_properties": {"agentsync": {"key": "bot"}}})
        );
    }

    #[test]
    fn updating_mode_or_type_is_refused_before_sending() {
        for field in ["mode", "type"] {
            let fields = object(json!({ field: "x", "name": "Bot" }));
            let Err(ProviderError::Rejected { message, .. }) = check_updatable(&fields, "agent a1")
            else {
                panic!("{field} is refused");
            };
            assert!(
                message.contains(&format!("cannot change the {field}")),
                "{message}"
            );
        }
    }

    #[test]
    fn claiming_keeps_the_other_properties_and_every_updatable_field() {
        let agent = object(json!({
            "id": "a1", "code": "c", "name": "Legacy", "status": "ARCHIVED", "tags": "x,y",
            "description": null, "extend_properties": {"team": "billing"},
        }));
        assert_eq!(
            Value::Object(claim_body(agent, &owner("bot"))),
            json!({
                "name": "Legacy", "status": "ARCHIVED", "tags": ["x", "y"],
                "extend_properties": {"team": "billing", "agentsync": {"key": "bot"}},
            })
        );
    }

    #[test]
    fn an_update_sends_the_agent_as_listed_with_the_change_and_the_marker() {
        let listed = object(json!({
            "id": "a1", "created_time": "x", "name": "Bot", "description": "old",
            "status": "ARCHIVED", "is_favorite": true, "tags": "a", "icon_url": null,
            "mode": "chat", "extend_properties": {"team": "billing", "agentsync": {"key": "bot"}},
        }));
        let body = update_body(
            update_base(listed),
            &owner("bot"),
            &object(json!({"description": "new"})),
        );
        assert_eq!(
            Value::Object(body),
            json!({
                "name": "Bot", "description": "new", "status": "ARCHIVED", "is_favorite": true,
                "tags": ["a"], "extend_properties": {"team": "billing", "agentsync": {"key": "bot"}},
            })
        );
    }

    #[test]
    fn archiving_sends_the_agent_as_listed_with_its_status_changed() {
        let base = update_base(object(
            json!({"name": "Bot", "extend_properties": {"x": 1}}),
        ));
        assert_eq!(
            Value::Object(lifecycle_body(base, Lifecycle::Archived)),
            json!({"name": "Bot", "extend_properties": {"x": 1}, "status": "ARCHIVED"})
        );
    }

    fn flow(version: &str) -> WireFlow {
        let text =
            json!({"version": version, "id": version, "graph": {"v": version}, "features": null});
        serde_json::from_str(&text.to_string()).expect("a flow")
    }

    #[test]
    fn the_draft_and_the_highest_published_version_are_picked() {
        let flows = [flow("draft"), flow("10"), flow("9")];
        let (draft, live) = pick_versions(&flows);
        assert_eq!(draft.and_then(version), Some("draft"));
        assert_eq!(live.map(|(name, _)| name), Some("10".to_owned()));
        let (draft, live) = pick_versions(&flows[1..]);
        assert!(draft.is_none());
        assert_eq!(live.map(|(name, _)| name), Some("10".to_owned()));
        assert!(matches!(pick_versions(&[]), (None, None)));
    }

    #[test]
    fn a_publish_answer_is_read_for_its_version_alone() {
        let published: FlowVersion =
            serde_json::from_value(json!({"version": "3", "graph": {"nodes": [{"id": "n"}]}}))
                .expect("a flow answer");
        assert_eq!(
            published_version(&published, "x").ok(),
            Some("3".to_owned())
        );
        let draft: FlowVersion =
            serde_json::from_value(json!({"version": "draft"})).expect("a flow answer");
        assert!(published_version(&draft, "x").is_err());
    }

    #[test]
    fn the_content_of_the_draft_and_the_live_version_is_moved_out_of_the_flows() {
        let content = content_from_flows(vec![flow("draft"), flow("2"), flow("1")]).expect("read");
        assert_eq!(
            content.draft.map(|d| Value::Object(d.document())),
            Some(json!({"graph": {"v": "draft"}}))
        );
        assert_eq!(
            content.live.map(|l| Value::Object(l.document())),
            Some(json!({"graph": {"v": "2"}}))
        );
        assert_eq!(content.live_version.as_deref(), Some("2"));
        assert_eq!(
            content_from_flows(Vec::new()).expect("read"),
            RemoteContent::default()
        );
    }

    #[test]
    fn a_live_version_sent_in_the_draft_s_words_is_the_draft_s_content_and_any_other_field_counts()
    {
        let wire = |value: Value| -> WireFlow {
            serde_json::from_str(&value.to_string()).expect("a flow")
        };
        let graph = json!({"nodes": [{"id": "n", "data": {"b": 1, "a": 2}}]});
        let draft = json!({"version": "draft", "id": "d", "mode": "chat", "graph": graph});
        let live = json!({"version": "1", "id": "l", "mode": "chat", "graph": graph});
        let read = content_from_flows(vec![wire(draft.clone()), wire(live.clone())]).expect("read");
        assert_eq!(read.live, read.draft);
        assert_eq!(read.live_version.as_deref(), Some("1"));

        // The same graph text with another mode is another content.
        let mut other_mode = live.clone();
        other_mode["mode"] = json!("workflow");
        let read = content_from_flows(vec![wire(draft.clone()), wire(other_mode)]).expect("read");
        assert_ne!(read.live, read.draft);
        assert_eq!(
            read.live.map(|l| l.document()["mode"].clone()),
            Some(json!("workflow"))
        );

        // Equal graphs in other words are still found equal, by reading both.
        let mut reordered = live;
        reordered["graph"] = json!({"nodes": [{"data": {"a": 2, "b": 1}, "id": "n"}]});
        let read = content_from_flows(vec![wire(draft), wire(reordered)]).expect("read");
        assert_eq!(read.live, read.draft);
    }

    #[test]
    fn a_draft_of_flow_fields_is_sent_as_the_content_s_own_text_and_anything_else_as_a_tree() {
        let content = |value: Value| Content::new(value.as_object().expect("an object"));
        let flow =
            content(json!({"mode": "chat", "graph": {"nodes": [{"id": "n"}]}, "features": {}}));
        assert_eq!(content_body_text(&flow), Some(flow.text()));
        // A member workfx does not know is dropped, which only the tree path does.
        let odd = content(json!({"mode": "chat", "colour": "red"}));
        assert_eq!(content_body_text(&odd), None);
        assert_eq!(content_body(&odd.document()), json!({"mode": "chat"}));
        assert_eq!(draft_body(&flow), flow.text());
        assert_eq!(draft_body(&odd), r#"{"mode":"chat"}"#);
    }

    #[test]
    fn a_first_page_suffices_only_with_the_draft_and_versions_newest_first() {
        assert_eq!(first_page(&[flow("draft"), flow("3")]), FirstPage::Enough);
        assert_eq!(first_page(&[flow("3"), flow("draft")]), FirstPage::Enough);
        assert_eq!(
            first_page(&[flow("3"), flow("2")]),
            FirstPage::DraftElsewhere
        );
        assert_eq!(first_page(&[flow("2"), flow("3")]), FirstPage::Unordered);
        assert_eq!(first_page(&[flow("draft")]), FirstPage::Unordered);
        assert_eq!(
            first_page(&[flow("draft"), flow("beta")]),
            FirstPage::Unordered
        );
        assert_eq!(
            first_page(&[flow("draft"), flow("draft")]),
            FirstPage::Unordered
        );
        assert_eq!(first_page(&[]), FirstPage::Unordered);
    }

    #[test]
    fn content_reads_without_nulls_or_server_fields() {
        assert_eq!(
            Value::Object(
                content_from_wire(flow("draft"))
                    .expect("a content")
                    .document()
            ),
            json!({"graph": {"v": "draft"}})
        );
    }
}
