//! Agents v1's agents as the simulator keeps them, and how they look on the wire: the full
//! agent of get, create and update (contract item 6), and the list's summary (item 5).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::schema::{self, PRIVATE};

/// Every agent the simulator holds.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct AgentsV1State {
    /// How many agents were ever created. Each id is made from this count, so an id is never
    /// given twice, even after its agent was deleted.
    created: u64,
    /// Oldest first: the list's order.
    agents: Vec<Agent>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Agent {
    pub id: String,
    /// Every writable field ever set, by its name on the wire, as sent (the schema checked
    /// each before it got here; `temperature` keeps the number it was sent as).
    fields: Map<String, Value>,
    created_at: String,
    updated_at: String,
}

impl Agent {
    fn text(&self, name: &str) -> &str {
        self.fields
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    pub(crate) fn architecture(&self) -> &str {
        self.text("agentArchitecture")
    }

    pub(crate) fn mode(&self) -> &str {
        self.text("mode")
    }

    /// Whether a member (not an owner or admin) may update or delete it: a private agent only.
    pub(crate) fn members_may_change(&self) -> bool {
        self.mode() == PRIVATE
    }

    /// The fields this agent would have with `update` merged in: the fields it sends replace
    /// those of the agent, the others are kept.
    pub(crate) fn merged(&self, update: Map<String, Value>) -> Map<String, Value> {
        let mut fields = self.fields.clone();
        fields.extend(update);
        fields
    }

    /// Replaces the fields with `fields` (the agent merged with an update that was checked).
    pub(crate) fn update(&mut self, fields: Map<String, Value>, now: &str) {
        self.fields = fields;
        now.clone_into(&mut self.updated_at);
    }

    /// The full agent: its id, the fields set in the docs' order, and the timestamps.
    pub(crate) fn to_json(&self) -> Value {
        let mut answer = Map::new();
        answer.insert("id".to_owned(), json!(self.id));
        for (name, _) in schema::FIELDS {
            if let Some(value) = self.fields.get(*name) {
                answer.insert((*name).to_owned(), value.clone());
            }
        }
        answer.insert("createdAt".to_owned(), json!(self.created_at));
        answer.insert("updatedAt".to_owned(), json!(self.updated_at));
        Value::Object(answer)
    }

    /// An item of the list: only what the docs show there.
    pub(crate) fn summary_json(&self) -> Value {
        json!({
            "id": self.id,
            "name": self.fields.get("name"),
            "mode": self.fields.get("mode"),
            "agentArchitecture": self.fields.get("agentArchitecture"),
            "active": self.fields.get("active"),
            "createdAt": self.created_at,
        })
    }
}

impl AgentsV1State {
    pub(crate) fn get(&self, id: &str) -> Option<&Agent> {
        self.agents.iter().find(|agent| agent.id == id)
    }

    pub(crate) fn get_mut(&mut self, id: &str) -> Option<&mut Agent> {
        self.agents.iter_mut().find(|agent| agent.id == id)
    }

    /// Adds an agent with the fields of a create that was checked, under a new id. It is
    /// inactive whatever the create said (contract item 7), and private unless it said
    /// otherwise.
    pub(crate) fn insert(&mut self, mut fields: Map<String, Value>, now: &str) -> &Agent {
        self.created += 1;
        fields.entry("mode").or_insert_with(|| Value::from(PRIVATE));
        fields.insert("active".to_owned(), Value::Bool(false));
        self.agents.push(Agent {
            id: agent_id(self.created),
            fields,
            created_at: now.to_owned(),
            updated_at: now.to_owned(),
        });
        &self.agents[self.agents.len() - 1]
    }

    /// Removes an agent for good; false when there is none with this id.
    pub(crate) fn remove(&mut self, id: &str) -> bool {
        let before = self.agents.len();
        self.agents.retain(|agent| agent.id != id);
        self.agents.len() < before
    }

    /// The agents of one mode, or all, oldest first.
    pub(crate) fn list<'a>(&'a self, mode: Option<&'a str>) -> impl Iterator<Item = &'a Agent> {
        self.agents
            .iter()
            .filter(move |agent| mode.is_none_or(|mode| agent.mode() == mode))
    }
}

/// The ids' suffixes are the numbers below this, written in 10 base-36 digits.
const ID_SPACE: u128 = 36u128.pow(10);
/// Coprime with 36, so that `n * ID_STEP + ID_OFFSET` (mod [`ID_SPACE`]) gives each `n` its
/// own suffix.
const ID_STEP: u128 = 0x5_DEEC_E66D;
const ID_OFFSET: u128 = 1_234_567_890_123;

/// The id of the `n`th agent created: `agent_` and 10 lowercase letters and digits (contract
/// item 4). Always the same for the same `n`, distinct for distinct `n`, and not in creation
/// order, so that a client that sorts by id is not mistaken for one that keeps the list's
/// order.
fn agent_id(n: u64) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut rest = (u128::from(n) * ID_STEP + ID_OFFSET) % ID_SPACE;
    let mut suffix = [b'0'; 10];
    for digit in suffix.iter_mut().rev() {
        *digit = DIGITS[(rest % 36) as usize];
        rest /= 36;
    }
    format!("agent_{}", String::from_utf8_lossy(&suffix))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn fields(value: Value) -> Map<String, Value> {
        value.as_object().cloned().expect("an object")
    }

    #[test]
    fn ids_are_agent_and_lowercase_letters_and_digits_each_one_distinct() {
        let ids: BTreeSet<String> = (1..=20_000).map(agent_id).collect();
        assert_eq!(ids.len(), 20_000);
        for id in &ids {
            let suffix = id.strip_prefix("agent_").expect("the prefix");
            assert_eq!(suffix.len(), 10, "{id}");
            assert!(
                suffix
                    .bytes()
                    .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit()),
                "{id}"
            );
        }
        assert_eq!(agent_id(7), agent_id(7));
    }

    #[test]
    fn an_id_is_not_given_again_after_its_agent_is_deleted() {
        let mut state = AgentsV1State::default();
        let first = state.insert(Map::new(), "t").id.clone();
        assert!(state.remove(&first));
        assert!(!state.remove(&first), "already gone");
        let second = state.insert(Map::new(), "t").id.clone();
        assert_ne!(first, second);
    }

    #[test]
    fn a_new_agent_is_inactive_whatever_it_was_sent_and_private_unless_told() {
        let mut state = AgentsV1State::default();
        let made = state
            .insert(fields(json!({ "active": true })), "t")
            .to_json();
        assert_eq!(
            (&made["active"], &made["mode"]),
            (&json!(false), &json!("private"))
        );
        let public = state.insert(fields(json!({ "mode": "public" })), "t");
        assert_eq!(public.to_json()["mode"], "public");
        assert!(!public.members_may_change());
    }

    #[test]
    fn an_agent_is_answered_in_the_docs_order_with_only_the_fields_ever_set() {
        let mut state = AgentsV1State::default();
        let body = fields(json!({
            "temperature": 1, "systemPrompt": "p", "name": "A", "agentArchitecture": "text",
            "model": "m",
        }));
        let agent = state.insert(body, "t0").clone();
        let answer = agent.to_json();
        let keys: Vec<&str> = answer
            .as_object()
            .expect("an object")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "id",
                "name",
                "agentArchitecture",
                "model",
                "systemPrompt",
                "mode",
                "active",
                "temperature",
                "createdAt",
                "updatedAt"
            ]
        );
        assert_eq!(answer["temperature"], json!(1), "kept as it was sent");
        let summary = agent.summary_json();
        assert_eq!(
            summary,
            json!({ "id": agent.id, "name": "A", "mode": "private", "agentArchitecture": "text", "active": false, "createdAt": "t0" })
        );
    }

    #[test]
    fn an_update_merges_the_fields_it_sends_and_keeps_the_others() {
        let mut state = AgentsV1State::default();
        let id = state
            .insert(fields(json!({ "name": "A", "language": "en" })), "t0")
            .id
            .clone();
        let agent = state.get_mut(&id).expect("the agent");
        let merged = agent.merged(fields(json!({ "language": "de", "active": true })));
        agent.update(merged, "t1");
        let answer = agent.to_json();
        assert_eq!(
            (&answer["name"], &answer["language"], &answer["active"]),
            (&json!("A"), &json!("de"), &json!(true))
        );
        assert_eq!(
            (&answer["createdAt"], &answer["updatedAt"]),
            (&json!("t0"), &json!("t1"))
        );
    }
}
