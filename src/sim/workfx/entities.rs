//! workfx's objects as the simulator keeps them (agents, their draft and published flows), and
//! how they look on the wire, field for field in the order the vendor docs show.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::sim::FlowOrder;

/// Who the simulator says made a change: it has no users, only a token.
const SIM_USER: &str = "agentsync-sim";
const SIM_ROLE: &str = "admin";

pub(crate) const ACTIVE: &str = "ACTIVE";
pub(crate) const DRAFT_VERSION: &str = "draft";
const OWNER_TYPE: &str = "agent";
const DEFAULT_MODE: &str = "job";
const DEFAULT_TYPE: &str = "single-agent";
const DEFAULT_ICON_BACKGROUND: &str = "#FFF";

/// The tenant and tenant unit a request acts for; objects are visible only in their own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Scope {
    pub tenant_id: String,
    pub tenant_unit_id: String,
}

/// Who changed an object, and when.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Stamps {
    created_by: String,
    updated_by: String,
    created_by_role: String,
    updated_by_role: String,
    created_time: String,
    updated_time: String,
}

impl Stamps {
    fn new(now: &str) -> Stamps {
        Stamps {
            created_by: SIM_USER.to_owned(),
            updated_by: SIM_USER.to_owned(),
            created_by_role: SIM_ROLE.to_owned(),
            updated_by_role: SIM_ROLE.to_owned(),
            created_time: now.to_owned(),
            updated_time: now.to_owned(),
        }
    }

    fn touch(&mut self, now: &str) {
        SIM_USER.clone_into(&mut self.updated_by);
        SIM_ROLE.clone_into(&mut self.updated_by_role);
        now.clone_into(&mut self.updated_time);
    }

    fn write_into(&self, object: &mut Map<String, Value>) {
        object.insert("created_by".into(), json!(self.created_by));
        object.insert("updated_by".into(), json!(self.updated_by));
        object.insert("created_by_role".into(), json!(self.created_by_role));
        object.insert("updated_by_role".into(), json!(self.updated_by_role));
        object.insert("created_time".into(), json!(self.created_time));
        object.insert("updated_time".into(), json!(self.updated_time));
    }
}

/// Every workfx agent the simulator holds, of every tenant.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct WorkfxState {
    /// Creation order, which "recent" and "oldest" sort by (timestamps may tie).
    next_seq: u64,
    agents: BTreeMap<Uuid, AgentRecord>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct AgentRecord {
    seq: u64,
    pub agent: Agent,
    pub draft: Option<Flow>,
    /// Published versions, oldest first; version `n` is at index `n - 1`.
    pub versions: Vec<Flow>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Agent {
    pub id: Uuid,
    pub code: String,
    pub tenant_id: String,
    pub tenant_unit_id: String,
    pub name: String,
    pub description: Option<String>,
    pub icon_type: Option<String>,
    pub icon: Option<String>,
    pub icon_background: Option<String>,
    pub mode: Option<String>,
    #[serde(rename = "type")]
    pub agent_type: Option<String>,
    pub tags: Vec<String>,
    pub is_favorite: bool,
    pub extend_properties: Value,
    pub status: String,
    pub ab_test_id: Option<String>,
    pub ab_test_enabled: bool,
    pub usage_guide: Option<String>,
    /// Also the id of the agent's draft flow, once written.
    pub definition_id: Uuid,
    stamps: Stamps,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Flow {
    id: Uuid,
    owner_id: Uuid,
    pub version: String,
    tenant_id: String,
    tenant_unit_id: String,
    content: FlowContent,
    stamps: Stamps,
}

/// What a client writes into a draft, and what publishing copies.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct FlowContent {
    pub mode: Option<String>,
    pub graph: Value,
    pub features: Option<Value>,
    pub flow_variables: Option<Value>,
    pub conversation_variables: Option<Value>,
}

impl FlowContent {
    /// From a validated `FlowDraftVersionCreateRequest`: the draft is replaced whole, so what
    /// the body leaves out is reset, not kept.
    pub(crate) fn from_request(fields: &Map<String, Value>) -> FlowContent {
        let object = |name: &str| fields.get(name).filter(|value| !value.is_null()).cloned();
        FlowContent {
            mode: text(fields, "mode"),
            graph: object("graph").unwrap_or_else(|| json!({})),
            features: object("features"),
            flow_variables: object("flow_variables"),
            conversation_variables: object("conversation_variables"),
        }
    }
}

fn text(fields: &Map<String, Value>, name: &str) -> Option<String> {
    fields.get(name).and_then(Value::as_str).map(str::to_owned)
}

/// Tags arrive as a list or as one (possibly comma-separated) string.
fn tags(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::String(text)) => text
            .split(',')
            .map(str::trim)
            .filter(|tag| !tag.is_empty())
            .map(str::to_owned)
            .collect(),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

impl Agent {
    /// From a validated create request; `null` counts as absent, so defaults apply.
    pub(crate) fn create(fields: &Map<String, Value>, scope: &Scope, now: &str) -> Agent {
        Agent {
            id: Uuid::new_v4(),
            code: String::new(),
            tenant_id: scope.tenant_id.clone(),
            tenant_unit_id: scope.tenant_unit_id.clone(),
            name: text(fields, "name").unwrap_or_default(),
            description: Some(text(fields, "description").unwrap_or_default()),
            icon_type: text(fields, "icon_type"),
            icon: text(fields, "icon"),
            icon_background: text(fields, "icon_background")
                .or_else(|| Some(DEFAULT_ICON_BACKGROUND.to_owned())),
            mode: text(fields, "mode").or_else(|| Some(DEFAULT_MODE.to_owned())),
            agent_type: text(fields, "type").or_else(|| Some(DEFAULT_TYPE.to_owned())),
            tags: tags(fields.get("tags")),
            is_favorite: fields
                .get("is_favorite")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            extend_properties: fields
                .get("extend_properties")
                .filter(|value| value.is_object())
                .cloned()
                .unwrap_or_else(|| json!({})),
            status: ACTIVE.to_owned(),
            ab_test_id: None,
            ab_test_enabled: false,
            usage_guide: None,
            definition_id: Uuid::new_v4(),
            stamps: Stamps::new(now),
        }
    }

    /// A partial update from a validated PUT body: fields the body does not name keep their
    /// value; a nullable field given `null` is cleared; `extend_properties` is replaced whole.
    pub(crate) fn update(&mut self, fields: &Map<String, Value>, now: &str) {
        for (name, value) in fields {
            let text = value.as_str().map(str::to_owned);
            match name.as_str() {
                "name" => self.name = text.unwrap_or_default(),
                "description" => self.description = text,
                "icon_type" => self.icon_type = text,
                "icon" => self.icon = text,
                "icon_background" => self.icon_background = text,
                "tags" => self.tags = tags(Some(value)),
                "is_favorite" => self.is_favorite = value.as_bool().unwrap_or(self.is_favorite),
                "status" => self.status = text.unwrap_or_else(|| self.status.clone()),
                "ab_test_id" => self.ab_test_id = text,
                "ab_test_enabled" => {
                    self.ab_test_enabled = value.as_bool().unwrap_or(self.ab_test_enabled)
                }
                "extend_properties" => self.extend_properties = value.clone(),
                "usage_guide" => self.usage_guide = text,
                // The schema refused anything else before we got here.
                _ => {}
            }
        }
        self.stamps.touch(now);
    }

    /// An update under [`crate::sim::UpdateReading::Replace`]: every field of the update model
    /// that the body leaves out takes its documented default first (`name`, which shows none,
    /// is kept), then the body applies as in [`Agent::update`].
    pub(crate) fn replace(&mut self, fields: &Map<String, Value>, now: &str) {
        let left_out = |name: &str| !fields.contains_key(name);
        for (name, field) in [
            ("description", &mut self.description),
            ("icon_type", &mut self.icon_type),
            ("icon", &mut self.icon),
            ("icon_background", &mut self.icon_background),
            ("ab_test_id", &mut self.ab_test_id),
            ("usage_guide", &mut self.usage_guide),
        ] {
            if left_out(name) {
                *field = None;
            }
        }
        if left_out("tags") {
            self.tags.clear();
        }
        if left_out("is_favorite") {
            self.is_favorite = false;
        }
        if left_out("status") {
            ACTIVE.clone_into(&mut self.status);
        }
        if left_out("ab_test_enabled") {
            self.ab_test_enabled = false;
        }
        if left_out("extend_properties") {
            self.extend_properties = json!({});
        }
        self.update(fields, now);
    }

    fn in_scope(&self, scope: &Scope) -> bool {
        self.tenant_id == scope.tenant_id && self.tenant_unit_id == scope.tenant_unit_id
    }

    /// The wire form: tags as ONE comma-separated string, as the docs show (`"tags": "test_tag"`).
    pub(crate) fn to_json(&self) -> Value {
        let mut object = Map::new();
        object.insert("icon_type".into(), json!(self.icon_type));
        object.insert("icon".into(), json!(self.icon));
        object.insert("icon_background".into(), json!(self.icon_background));
        self.stamps.write_into(&mut object);
        object.insert("mode".into(), json!(self.mode));
        object.insert("type".into(), json!(self.agent_type));
        object.insert("name".into(), json!(self.name));
        object.insert("description".into(), json!(self.description));
        object.insert(
            "abilities".into(),
            json!({ "file_upload": { "enabled": true } }),
        );
        object.insert("tags".into(), json!(self.tags.join(",")));
        object.insert("is_favorite".into(), json!(self.is_favorite));
        object.insert("extend_properties".into(), self.extend_properties.clone());
        object.insert("id".into(), json!(self.id));
        object.insert("tenant_id".into(), json!(self.tenant_id));
        object.insert("tenant_unit_id".into(), json!(self.tenant_unit_id));
        object.insert("status".into(), json!(self.status));
        object.insert("code".into(), json!(self.code));
        object.insert("definition_id".into(), json!(self.definition_id));
        object.insert("definition_type".into(), json!("flow"));
        object.insert("ab_test_id".into(), json!(self.ab_test_id));
        object.insert("ab_test_enabled".into(), json!(self.ab_test_enabled));
        object.insert("usage_guide".into(), json!(self.usage_guide));
        object.insert("visibility".into(), json!({}));
        object.insert("agent_definition_entity".into(), json!({}));
        object.insert("variables".into(), json!([]));
        let icon_url = match self.icon_type.as_deref() {
            Some("url") => self.icon.clone(),
            _ => None,
        };
        object.insert("icon_url".into(), json!(icon_url));
        Value::Object(object)
    }
}

impl Flow {
    /// The wire form, borrowed: a list of flows is written without copying their graphs.
    pub(crate) fn wire(&self) -> FlowWire<'_> {
        FlowWire(self)
    }
}

/// A flow as the wire shows it (`FlowResponse`), serialized from the stored flow.
pub(crate) struct FlowWire<'a>(&'a Flow);

impl Serialize for FlowWire<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let flow = self.0;
        let stamps = &flow.stamps;
        let mut map = serializer.serialize_map(Some(17))?;
        map.serialize_entry("created_by", &stamps.created_by)?;
        map.serialize_entry("updated_by", &stamps.updated_by)?;
        map.serialize_entry("created_by_role", &stamps.created_by_role)?;
        map.serialize_entry("updated_by_role", &stamps.updated_by_role)?;
        map.serialize_entry("created_time", &stamps.created_time)?;
        map.serialize_entry("updated_time", &stamps.updated_time)?;
        map.serialize_entry("owner_id", &flow.owner_id)?;
        map.serialize_entry("owner_type", OWNER_TYPE)?;
        map.serialize_entry("mode", &flow.content.mode)?;
        map.serialize_entry("version", &flow.version)?;
        map.serialize_entry("graph", &flow.content.graph)?;
        map.serialize_entry("features", &flow.content.features)?;
        map.serialize_entry("flow_variables", &flow.content.flow_variables)?;
        map.serialize_entry(
            "conversation_variables",
            &flow.content.conversation_variables,
        )?;
        map.serialize_entry("id", &flow.id)?;
        map.serialize_entry("tenant_id", &flow.tenant_id)?;
        map.serialize_entry("tenant_unit_id", &flow.tenant_unit_id)?;
        map.end()
    }
}

impl AgentRecord {
    /// Creates or replaces the draft; a replaced draft keeps its id and creation stamps.
    pub(crate) fn write_draft(&mut self, content: FlowContent, now: &str) -> &Flow {
        let agent = &self.agent;
        let draft = self.draft.get_or_insert_with(|| Flow {
            id: agent.definition_id,
            owner_id: agent.id,
            version: DRAFT_VERSION.to_owned(),
            tenant_id: agent.tenant_id.clone(),
            tenant_unit_id: agent.tenant_unit_id.clone(),
            content: content.clone(),
            stamps: Stamps::new(now),
        });
        draft.content = content;
        draft.stamps.touch(now);
        draft
    }

    /// Copies the draft into the next version ("1", "2", ...); `None` without a draft.
    pub(crate) fn publish(&mut self, now: &str) -> Option<&Flow> {
        let draft = self.draft.as_ref()?;
        let version = Flow {
            id: Uuid::new_v4(),
            owner_id: draft.owner_id,
            version: (self.versions.len() + 1).to_string(),
            tenant_id: draft.tenant_id.clone(),
            tenant_unit_id: draft.tenant_unit_id.clone(),
            content: draft.content.clone(),
            stamps: Stamps::new(now),
        };
        self.versions.push(version);
        self.versions.last()
    }

    /// Newest first, in `order`: the draft first, then the published versions, newest first;
    /// or by creation, where the draft (created before every version published from it) comes
    /// after them; or, breaking the docs, oldest first.
    pub(crate) fn flows_newest_first(&self, order: FlowOrder) -> Vec<&Flow> {
        let versions = self.versions.iter().rev();
        match order {
            FlowOrder::DraftFirst => self.draft.iter().chain(versions).collect(),
            FlowOrder::ByCreation => versions.chain(self.draft.iter()).collect(),
            FlowOrder::OldestFirst => self.versions.iter().chain(self.draft.iter()).collect(),
        }
    }
}

/// What the agent list can be narrowed to; `None` means "any".
#[derive(Debug, Default)]
pub(crate) struct AgentFilter {
    pub name: Option<String>,
    pub tags: Vec<String>,
    pub mode: Option<String>,
    pub agent_type: Option<String>,
    pub ids: Vec<String>,
    pub is_favorite: Option<bool>,
    pub exclude_draft: bool,
}

impl AgentFilter {
    fn accepts(&self, record: &AgentRecord) -> bool {
        let agent = &record.agent;
        let name_matches = self.name.as_ref().is_none_or(|needle| {
            agent
                .name
                .to_lowercase()
                .contains(needle.to_lowercase().as_str())
        });
        let tags_match =
            self.tags.is_empty() || self.tags.iter().any(|tag| agent.tags.contains(tag));
        name_matches
            && tags_match
            && self
                .mode
                .as_ref()
                .is_none_or(|mode| agent.mode.as_ref() == Some(mode))
            && self
                .agent_type
                .as_ref()
                .is_none_or(|kind| agent.agent_type.as_ref() == Some(kind))
            && (self.ids.is_empty() || self.ids.contains(&agent.id.to_string()))
            && self
                .is_favorite
                .is_none_or(|favorite| agent.is_favorite == favorite)
            && !(self.exclude_draft && record.versions.is_empty())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Order {
    Recent,
    Oldest,
}

impl WorkfxState {
    pub(crate) fn agent(&self, scope: &Scope, id: Uuid) -> Option<&AgentRecord> {
        self.agents
            .get(&id)
            .filter(|record| record.agent.in_scope(scope))
    }

    pub(crate) fn agent_mut(&mut self, scope: &Scope, id: Uuid) -> Option<&mut AgentRecord> {
        self.agents
            .get_mut(&id)
            .filter(|record| record.agent.in_scope(scope))
    }

    pub(crate) fn agent_by_code(&self, scope: &Scope, code: &str) -> Option<&AgentRecord> {
        self.agents
            .values()
            .find(|record| record.agent.code == code && record.agent.in_scope(scope))
    }

    /// Adds a new agent, giving it a code no other agent has (in any tenant).
    pub(crate) fn insert(&mut self, mut agent: Agent) -> &AgentRecord {
        agent.code = loop {
            let candidate = Uuid::new_v4().simple().to_string()[..12].to_owned();
            if !self
                .agents
                .values()
                .any(|record| record.agent.code == candidate)
            {
                break candidate;
            }
        };
        let seq = self.next_seq;
        self.next_seq += 1;
        let id = agent.id;
        self.agents.entry(id).or_insert(AgentRecord {
            seq,
            agent,
            draft: None,
            versions: Vec::new(),
        })
    }

    /// Removes an agent and its flows; false when there is none in this scope.
    pub(crate) fn remove(&mut self, scope: &Scope, id: Uuid) -> bool {
        if self.agent(scope, id).is_none() {
            return false;
        }
        self.agents.remove(&id).is_some()
    }

    pub(crate) fn list(
        &self,
        scope: &Scope,
        filter: &AgentFilter,
        order: Order,
    ) -> Vec<&AgentRecord> {
        let mut found: Vec<&AgentRecord> = self
            .agents
            .values()
            .filter(|record| record.agent.in_scope(scope) && filter.accepts(record))
            .collect();
        found.sort_by_key(|record| record.seq);
        if order == Order::Recent {
            found.reverse();
        }
        found
    }
}
