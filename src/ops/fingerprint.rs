//! A stable digest of what was observed for an agent, so a saved plan can tell whether the
//! platform changed since it was made.

use serde_json::Value;

use crate::engine::plan::ObservedAgent;
use crate::model::content::Content;

/// SHA-256 over the canonical JSON of the agent's fields, lifecycle and content (the same
/// canonical form as a content's digest). A digest, not the values: a saved plan must not
/// carry what the platform holds in clear.
pub fn of_agent(agent: &ObservedAgent) -> String {
    let content = agent.content.as_ref().map(|c| {
        serde_json::json!({
            "draft": c.draft.as_ref().map(|d| d.digest().to_hex()),
            "live": c.live.as_ref().map(|l| l.digest().to_hex()),
            "live_version": c.live_version,
        })
    });
    let doc = serde_json::json!({
        "id": agent.agent.id,
        "key": agent.agent.key,
        "fields": Value::Object(agent.agent.fields.clone()),
        "lifecycle": agent.agent.lifecycle,
        "content": content,
    });
    let Value::Object(doc) = doc else {
        unreachable!("`json!` of braces is an object")
    };
    Content::new(&doc).digest().to_hex()
}
