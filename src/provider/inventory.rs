//! The inventory: agentsync's record of the agents it manages, kept on the platform itself, for
//! platforms whose agents have nowhere to hold a marker (Agents v1). A provider keeps the
//! document in one record of the platform's own (as Kubernetes ApplySet keeps its inventory on
//! a parent object), so that a fresh clone on a new machine finds what the last run left; this
//! module is the document and the rules of reading it, the same for every such platform.
//!
//! A create is announced first (`pending`: the key and the name it is created with), then
//! recorded with its id: a run killed in between leaves the announcement, and the next run
//! takes the agent of that name as the key's own instead of creating a second one.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value, json};

use crate::model::{Key, Marker};

/// The document's own field, holding its format version: a document without it is not an
/// inventory, one with a higher version was written by a newer agentsync.
pub const FORMAT_FIELD: &str = "agentsync_inventory";
pub const FORMAT: u64 = 1;

/// What agentsync manages on one platform account.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inventory {
    /// Every managed agent, by key.
    pub agents: BTreeMap<Key, Entry>,
    /// Creates announced and not yet recorded: the key, and the name the agent is created with.
    pub pending: BTreeMap<Key, String>,
}

/// One managed agent: its id, and what a marker would say of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub id: String,
    pub protect: bool,
    pub pruned: bool,
}

/// Why a text is not an inventory agentsync can rely on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InventoryError {
    #[error("it is not JSON ({0})")]
    NotJson(String),
    #[error("it is not an agentsync inventory (no \"{FORMAT_FIELD}\" format number)")]
    NotAnInventory,
    #[error(
        "it was written by a newer agentsync (format {0}, this one reads {FORMAT}); upgrade agentsync"
    )]
    Newer(u64),
    #[error("{0}")]
    Malformed(String),
}

impl Inventory {
    /// Reads a document, strictly: anything that is not exactly the format is refused, since a
    /// wrong reading could prune an agent agentsync does not manage.
    pub fn parse(text: &str) -> Result<Inventory, InventoryError> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| InventoryError::NotJson(e.to_string()))?;
        let Value::Object(document) = value else {
            return Err(InventoryError::NotAnInventory);
        };
        match document.get(FORMAT_FIELD).and_then(Value::as_u64) {
            None => return Err(InventoryError::NotAnInventory),
            Some(FORMAT) => {}
            Some(newer) => return Err(InventoryError::Newer(newer)),
        }
        let malformed = |what: String| InventoryError::Malformed(what);
        let mut inventory = Inventory::default();
        for (name, value) in &document {
            match name.as_str() {
                FORMAT_FIELD => {}
                "agents" => {
                    let Value::Object(agents) = value else {
                        return Err(malformed("\"agents\" is not an object".into()));
                    };
                    for (key, entry) in agents {
                        let key = parse_key(key)?;
                        let entry = parse_entry(&key, entry)?;
                        if inventory.agents.values().any(|e| e.id == entry.id) {
                            return Err(malformed(format!(
                                "agent {} is recorded under two keys",
                                entry.id
                            )));
                        }
                        inventory.agents.insert(key, entry);
                    }
                }
                "pending" => {
                    let Value::Object(pending) = value else {
                        return Err(malformed("\"pending\" is not an object".into()));
                    };
                    for (key, name) in pending {
                        let key = parse_key(key)?;
                        let Some(name) = name.as_str().filter(|n| !n.is_empty()) else {
                            return Err(malformed(format!(
                                "the pending name of '{key}' is not a name"
                            )));
                        };
                        inventory.pending.insert(key, name.to_owned());
                    }
                }
                other => return Err(malformed(format!("unknown field \"{other}\""))),
            }
        }
        Ok(inventory)
    }

    /// The document as compact JSON text, keys in order.
    pub fn to_text(&self) -> String {
        let agents: Map<String, Value> = self
            .agents
            .iter()
            .map(|(key, entry)| {
                let mut object = Map::new();
                object.insert("id".into(), json!(entry.id));
                if entry.protect {
                    object.insert("protect".into(), json!(true));
                }
                if entry.pruned {
                    object.insert("pruned".into(), json!(true));
                }
                (key.to_string(), Value::Object(object))
            })
            .collect();
        let mut document = Map::new();
        document.insert(FORMAT_FIELD.into(), json!(FORMAT));
        document.insert("agents".into(), Value::Object(agents));
        if !self.pending.is_empty() {
            let pending: Map<String, Value> = self
                .pending
                .iter()
                .map(|(key, name)| (key.to_string(), json!(name)))
                .collect();
            document.insert("pending".into(), Value::Object(pending));
        }
        Value::Object(document).to_string()
    }

    /// The marker the inventory gives the agent `id`, if it manages it.
    pub fn marker_of(&self, id: &str) -> Option<Marker> {
        self.markers().remove(id)
    }

    /// The marker of every agent it manages, by id: looked up once per agent listed, so an
    /// index rather than a search of every entry each time.
    pub fn markers(&self) -> HashMap<&str, Marker> {
        self.agents
            .iter()
            .map(|(key, entry)| {
                let marker = Marker {
                    key: key.clone(),
                    protect: entry.protect,
                    pruned: entry.pruned,
                    duplicate_of: None,
                };
                (entry.id.as_str(), marker)
            })
            .collect()
    }

    /// Records `marker` for the agent `id` (a create, an adoption, a change of `protect` or
    /// `pruned`), ending the key's announcement if it had one.
    pub fn record(&mut self, id: &str, marker: &Marker) {
        self.agents
            .retain(|key, entry| entry.id != id || *key == marker.key);
        self.pending.remove(&marker.key);
        self.agents.insert(
            marker.key.clone(),
            Entry {
                id: id.to_owned(),
                protect: marker.protect,
                pruned: marker.pruned,
            },
        );
    }

    /// Forgets the agent `id` (deleted).
    pub fn forget(&mut self, id: &str) {
        self.agents.retain(|_, entry| entry.id != id);
    }

    /// Keeps only the entries whose agent still exists: an agent deleted by hand, or by a run
    /// killed before it could forget it, is no longer managed (its definition, if any, is
    /// planned as a create). Whether anything was dropped.
    pub fn keep_existing(&mut self, exists: impl Fn(&str) -> bool) -> bool {
        let before = self.agents.len();
        self.agents.retain(|_, entry| exists(&entry.id));
        self.agents.len() != before
    }

    /// The announced creates that a run finished and did not record: for each pending key,
    /// the one agent named as announced that no entry claims. Two such agents are a problem
    /// ([`Ambiguous`]): nothing says which one is the key's.
    pub fn recover<'a>(
        &self,
        agents: impl Iterator<Item = (&'a str, &'a str)> + Clone,
    ) -> Result<Vec<(Key, String)>, Ambiguous> {
        let claimed = self.markers();
        let mut recovered = Vec::new();
        for (key, name) in &self.pending {
            if self.agents.contains_key(key) {
                continue;
            }
            let ids: Vec<String> = agents
                .clone()
                .filter(|(id, agent_name)| agent_name == name && !claimed.contains_key(id))
                .map(|(id, _)| id.to_owned())
                .collect();
            match ids.len() {
                0 => {}
                1 => recovered.push((key.clone(), ids[0].clone())),
                _ => {
                    return Err(Ambiguous {
                        key: key.clone(),
                        ids,
                    });
                }
            }
        }
        Ok(recovered)
    }
}

/// An announced create that more than one agent could be: the key, and the agents' ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ambiguous {
    pub key: Key,
    pub ids: Vec<String>,
}

fn parse_key(text: &str) -> Result<Key, InventoryError> {
    Key::parse(text).map_err(|_| InventoryError::Malformed(format!("'{text}' is not a key")))
}

fn parse_entry(key: &Key, value: &Value) -> Result<Entry, InventoryError> {
    let malformed = |what: &str| InventoryError::Malformed(format!("the entry of '{key}' {what}"));
    let Value::Object(object) = value else {
        return Err(malformed("is not an object"));
    };
    let flag = |name: &str| match object.get(name) {
        None => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(malformed(&format!(
            "has a \"{name}\" that is not true or false"
        ))),
    };
    let id = match object.get("id") {
        Some(Value::String(id)) if !id.is_empty() => id.clone(),
        _ => return Err(malformed("has no id")),
    };
    if let Some(other) = object
        .keys()
        .find(|name| !matches!(name.as_str(), "id" | "protect" | "pruned"))
    {
        return Err(malformed(&format!("has an unknown field \"{other}\"")));
    }
    Ok(Entry {
        id,
        protect: flag("protect")?,
        pruned: flag("pruned")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn key(text: &str) -> Key {
        Key::parse(text).expect("a key")
    }

    #[test]
    fn a_document_reads_back_as_it_was_written() {
        let mut inventory = Inventory::default();
        inventory.record("agent_1", &Marker::new(key("a"), true));
        inventory.pending.insert(key("b"), "B".into());
        let text = inventory.to_text();
        assert_eq!(
            text,
            r#"{"agentsync_inventory":1,"agents":{"a":{"id":"agent_1","protect":true}},"pending":{"b":"B"}}"#
        );
        assert_eq!(Inventory::parse(&text), Ok(inventory));
    }

    #[test]
    fn anything_but_the_format_is_refused() {
        let refused = |text: &str| Inventory::parse(text).expect_err(text);
        assert!(matches!(refused("not json"), InventoryError::NotJson(_)));
        assert_eq!(refused(r#"{"agents": {}}"#), InventoryError::NotAnInventory);
        assert_eq!(refused(r#"[1]"#), InventoryError::NotAnInventory);
        assert_eq!(
            refused(r#"{"agentsync_inventory": 2}"#),
            InventoryError::Newer(2)
        );
        for text in [
            r#"{"agentsync_inventory": 1, "agents": []}"#,
            r#"{"agentsync_inventory": 1, "agents": {"A B": {"id": "x"}}}"#,
            r#"{"agentsync_inventory": 1, "agents": {"a": {"id": ""}}}"#,
            r#"{"agentsync_inventory": 1, "agents": {"a": {"id": "x", "protect": "yes"}}}"#,
            r#"{"agentsync_inventory": 1, "agents": {"a": {"id": "x", "owner": 1}}}"#,
            r#"{"agentsync_inventory": 1, "agents": {"a": {"id": "x"}, "b": {"id": "x"}}}"#,
            r#"{"agentsync_inventory": 1, "pending": {"a": 3}}"#,
            r#"{"agentsync_inventory": 1, "extra": true}"#,
        ] {
            assert!(
                matches!(refused(text), InventoryError::Malformed(_)),
                "{text}"
            );
        }
    }

    #[test]
    fn an_announced_create_is_recovered_from_the_one_unclaimed_agent_of_its_name() {
        let mut inventory = Inventory::default();
        inventory.record("agent_1", &Marker::new(key("a"), false));
        inventory.pending.insert(key("b"), "Bee".into());
        // `agent_1` is named "Bee" too, but it is `a`'s.
        let agents = [("agent_1", "Bee"), ("agent_2", "Bee"), ("agent_3", "Cee")];
        assert_eq!(
            inventory.recover(agents.iter().copied()),
            Ok(vec![(key("b"), "agent_2".to_owned())])
        );
        // Never made (the run died before the create): nothing to recover.
        assert_eq!(
            inventory.recover([("agent_1", "Bee")].into_iter()),
            Ok(vec![])
        );
        // Two candidates: nothing says which.
        let twins = [("agent_2", "Bee"), ("agent_4", "Bee")];
        assert_eq!(
            inventory.recover(twins.iter().copied()),
            Err(Ambiguous {
                key: key("b"),
                ids: vec!["agent_2".to_owned(), "agent_4".to_owned()]
            })
        );
    }

    #[test]
    fn recording_moves_a_key_out_of_pending_and_forgetting_drops_it() {
        let mut inventory = Inventory::default();
        inventory.pending.insert(key("a"), "A".into());
        inventory.record("agent_1", &Marker::new(key("a"), false));
        assert!(inventory.pending.is_empty());
        assert_eq!(
            inventory.marker_of("agent_1").map(|m| m.key),
            Some(key("a"))
        );
        assert!(inventory.keep_existing(|id| id != "agent_1"));
        assert_eq!(inventory, Inventory::default());
    }

    proptest! {
        #[test]
        fn every_inventory_reads_back_as_written(
            entries in proptest::collection::btree_map("[a-z][a-z0-9-]{0,8}", ("[a-z0-9_]{1,12}", any::<bool>(), any::<bool>()), 0..8),
            pending in proptest::collection::btree_map("[a-z][a-z0-9-]{0,8}", "\\PC{1,12}", 0..4),
        ) {
            let mut inventory = Inventory::default();
            for (i, (k, (id, protect, pruned))) in entries.into_iter().enumerate() {
                inventory.agents.insert(key(&k), Entry { id: format!("{id}{i}"), protect, pruned });
            }
            for (k, name) in pending {
                inventory.pending.insert(key(&k), name);
            }
            prop_assert_eq!(Inventory::parse(&inventory.to_text()), Ok(inventory));
        }
    }
}
