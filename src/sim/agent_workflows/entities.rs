//! Agent Workflows' objects as the simulator keeps them (workflows, their open draft and their
//! published versions), and how they look on the wire, field for field in the contract's order.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

/// The author of every version: the simulator has no users, only a token.
const SIM_AUTHOR: &str = "agentsync-sim";

/// Every workflow the simulator holds.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct AgentWorkflowsState {
    /// The last id given out. Kept apart from the map so that an id is never given twice, even
    /// if a workflow were ever removed (the API has no delete today).
    last_id: u64,
    workflows: BTreeMap<u64, Workflow>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Status {
    Active,
    Archived,
}

impl Status {
    /// From a value the schema already checked; anything but `archived` is `active`.
    pub(crate) fn parse(text: &str) -> Status {
        if text == "archived" {
            Status::Archived
        } else {
            Status::Active
        }
    }
}

/// What the list (and the summary) may be narrowed to: `?status=active|archived|all`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StatusFilter {
    Only(Status),
    All,
}

impl StatusFilter {
    /// From a value the query check already accepted.
    pub(crate) fn parse(text: &str) -> StatusFilter {
        match text {
            "all" => StatusFilter::All,
            other => StatusFilter::Only(Status::parse(other)),
        }
    }

    fn accepts(self, status: Status) -> bool {
        match self {
            StatusFilter::All => true,
            StatusFilter::Only(wanted) => wanted == status,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Workflow {
    pub id: u64,
    uuid: Uuid,
    pub name: String,
    pub status: Status,
    pub folder_id: Option<u64>,
    created_at: String,
    updated_at: String,
    /// Stored and answered verbatim (agentsync keeps its marker in it).
    pub configuration: Value,
    /// The open draft, if any.
    pub draft: Option<Value>,
    /// Published versions, oldest first: version `n` is at index `n - 1`, the last one is live.
    versions: Vec<Version>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Version {
    version: u64,
    created_at: String,
    author: String,
    definition: Value,
}

/// What a new workflow starts from (create and duplicate).
#[derive(Debug)]
pub(crate) struct NewWorkflow {
    pub name: String,
    pub draft: Value,
    pub configuration: Value,
    pub folder_id: Option<u64>,
}

impl Workflow {
    pub(crate) fn live(&self) -> Option<&Version> {
        self.versions.last()
    }

    /// The definition that validation checks and `node_count` / `trigger_paths` describe:
    /// the open draft, else the live one.
    pub(crate) fn current_definition(&self) -> Option<&Value> {
        self.draft
            .as_ref()
            .or_else(|| self.live().map(|version| &version.definition))
    }

    pub(crate) fn touch(&mut self, now: &str) {
        now.clone_into(&mut self.updated_at);
    }

    /// Opens a draft equal to the live definition; false (and nothing changes) when a draft is
    /// already open. Without a live version there is nothing to copy, but then a draft is
    /// always open: only publishing closes one, and publishing makes a live version.
    pub(crate) fn open_draft(&mut self, now: &str) -> bool {
        if self.draft.is_some() {
            return false;
        }
        self.draft = Some(
            self.live()
                .map(|version| version.definition.clone())
                .unwrap_or_else(|| json!({})),
        );
        self.touch(now);
        true
    }

    /// Makes the open draft the next version and closes it; false (and nothing changes)
    /// without a draft. Validity is the caller's to check first.
    pub(crate) fn publish(&mut self, now: &str) -> bool {
        let Some(definition) = self.draft.take() else {
            return false;
        };
        self.versions.push(Version {
            version: self.versions.len() as u64 + 1,
            created_at: now.to_owned(),
            author: SIM_AUTHOR.to_owned(),
            definition,
        });
        self.touch(now);
        true
    }

    /// The published versions, newest first.
    pub(crate) fn versions_newest_first(&self) -> impl Iterator<Item = &Version> {
        self.versions.iter().rev()
    }

    pub(crate) fn version_count(&self) -> usize {
        self.versions.len()
    }

    /// The nodes of the current definition; none when it has no `nodes` list.
    fn nodes(&self) -> &[Value] {
        self.current_definition()
            .and_then(|definition| definition.get("nodes"))
            .and_then(Value::as_array)
            .map_or(&[], Vec::as_slice)
    }

    fn trigger_paths(&self) -> Vec<&str> {
        self.nodes()
            .iter()
            .filter_map(|node| node.get("data")?.get("trigger_path")?.as_str())
            .collect()
    }

    /// An entry of `GET /workflow/fetch`: no configuration, no definition.
    pub(crate) fn list_json(&self) -> Value {
        json!({
            "id": self.id,
            "name": self.name,
            "uuid": self.uuid,
            "status": self.status,
            "folder_id": self.folder_id,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "node_count": self.nodes().len(),
        })
    }

    /// `GET /workflow/fetch/{id}` and the answer of every write that returns the agent.
    pub(crate) fn to_json(&self) -> Value {
        let live = self.live();
        json!({
            "id": self.id,
            "uuid": self.uuid,
            "name": self.name,
            "status": self.status,
            "folder_id": self.folder_id,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "node_count": self.nodes().len(),
            "definition": live.map(|version| &version.definition),
            "draft_definition": self.draft,
            "published_version": live.map(|version| version.version),
            "configuration": self.configuration,
            "trigger_paths": self.trigger_paths(),
        })
    }

    /// `GET /workflow/summary`: what a dropdown needs.
    pub(crate) fn summary_json(&self) -> Value {
        json!({ "id": self.id, "name": self.name })
    }
}

impl Version {
    pub(crate) fn to_json(&self, is_published: bool) -> Value {
        json!({
            "version": self.version,
            "created_at": self.created_at,
            "author": self.author,
            "is_published": is_published,
            "definition": self.definition,
        })
    }

    pub(crate) fn number(&self) -> u64 {
        self.version
    }
}

impl AgentWorkflowsState {
    /// `id` as the path gave it: one that cannot be an id (0, negative) names nothing.
    pub(crate) fn get(&self, id: i64) -> Option<&Workflow> {
        self.workflows.get(&u64::try_from(id).ok()?)
    }

    pub(crate) fn get_mut(&mut self, id: i64) -> Option<&mut Workflow> {
        self.workflows.get_mut(&u64::try_from(id).ok()?)
    }

    /// Adds a workflow under the next id: `active`, nothing published.
    pub(crate) fn insert(&mut self, new: NewWorkflow, now: &str) -> &Workflow {
        self.last_id += 1;
        let id = self.last_id;
        self.workflows.entry(id).or_insert(Workflow {
            id,
            uuid: Uuid::new_v4(),
            name: new.name,
            status: Status::Active,
            folder_id: new.folder_id,
            created_at: now.to_owned(),
            updated_at: now.to_owned(),
            configuration: new.configuration,
            draft: Some(new.draft),
            versions: Vec::new(),
        })
    }

    /// The workflows the filter accepts, by id.
    pub(crate) fn list(&self, filter: StatusFilter) -> impl Iterator<Item = &Workflow> {
        self.workflows
            .values()
            .filter(move |workflow| filter.accepts(workflow.status))
    }

    pub(crate) fn count(&self, status: Status) -> usize {
        self.list(StatusFilter::Only(status)).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workflow(draft: Value) -> Workflow {
        let mut state = AgentWorkflowsState::default();
        let new = NewWorkflow {
            name: "w".to_owned(),
            draft,
            configuration: json!({}),
            folder_id: None,
        };
        state.insert(new, "t0").clone()
    }

    #[test]
    fn publishing_closes_the_draft_and_numbers_versions_from_one() {
        let mut w = workflow(json!({ "nodes": [] }));
        assert!(w.publish("t1"));
        assert!(w.draft.is_none());
        assert!(!w.publish("t2"), "no draft, nothing to publish");
        assert!(w.open_draft("t3"));
        assert!(!w.open_draft("t4"), "a draft is already open");
        assert!(w.publish("t5"));
        let numbers: Vec<u64> = w.versions_newest_first().map(Version::number).collect();
        assert_eq!(numbers, [2, 1]);
    }

    #[test]
    fn node_count_and_trigger_paths_describe_the_draft_when_one_is_open() {
        let mut w = workflow(json!({ "nodes": [
            { "id": "a", "data": { "trigger_path": "/a" } },
            { "id": "b", "data": { "trigger_path": 7 } },
        ] }));
        assert_eq!(w.to_json()["node_count"], 2);
        assert_eq!(w.to_json()["trigger_paths"], json!(["/a"]));
        w.publish("t1");
        w.open_draft("t2");
        w.draft = Some(json!({ "nodes": "not a list" }));
        assert_eq!(w.to_json()["node_count"], 0);
        assert_eq!(w.to_json()["trigger_paths"], json!([]));
    }

    #[test]
    fn ids_count_on_from_the_last_one_given() {
        let mut state = AgentWorkflowsState::default();
        let new = || NewWorkflow {
            name: "w".to_owned(),
            draft: json!({}),
            configuration: json!({}),
            folder_id: None,
        };
        assert_eq!(state.insert(new(), "t").id, 1);
        state.workflows.clear();
        assert_eq!(state.insert(new(), "t").id, 2);
        assert!(state.get(0).is_none() && state.get(-2).is_none());
    }
}
