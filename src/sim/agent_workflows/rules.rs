//! The simulator's validation of a definition (contract item 9), shared by
//! `POST /workflow/{id}/validate` and the check before a publish.
//!
//! Errors come in the order of the rules: the `nodes` and `edges` lists; then each node in
//! order (its id, its type, what its type requires); the number of `start` nodes; each edge in
//! order (source, then target); the trigger paths. A value that is not what a rule expects
//! (a node that is not an object, a `data` that is not an object, a prompt that is not a
//! string) fails that rule rather than being skipped, so an invalid draft is never published.

use std::collections::HashSet;

use serde_json::{Value, json};

const NODE_TYPES: [&str; 5] = ["start", "agent", "tool", "transfer", "end"];

/// One validation error, as `{kind, id, field, message}` on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    kind: &'static str,
    id: Option<String>,
    field: &'static str,
    message: String,
}

impl Problem {
    fn new(kind: &'static str, id: Option<&str>, field: &'static str, message: String) -> Problem {
        Problem {
            kind,
            id: id.map(str::to_owned),
            field,
            message,
        }
    }

    fn to_json(&self) -> Value {
        json!({ "kind": self.kind, "id": self.id, "field": self.field, "message": self.message })
    }
}

/// The answer of a validation: `{"is_valid", "errors"}`.
pub(crate) fn report(problems: &[Problem]) -> Value {
    json!({
        "is_valid": problems.is_empty(),
        "errors": problems.iter().map(Problem::to_json).collect::<Vec<_>>(),
    })
}

/// A non-empty string at `field` of `object` (`None` when absent, another type, or empty).
fn non_empty<'a>(object: &'a Value, field: &str) -> Option<&'a str> {
    object
        .get(field)
        .and_then(Value::as_str)
        .filter(|text| !text.is_empty())
}

/// Every problem of `definition` (the open draft, or the live definition).
pub(crate) fn check(definition: &Value) -> Vec<Problem> {
    let mut problems = Vec::new();
    let list = |field: &'static str, problems: &mut Vec<Problem>| {
        let items = definition.get(field).and_then(Value::as_array);
        if items.is_none() {
            problems.push(Problem::new(
                "workflow",
                None,
                field,
                format!("The definition must have a `{field}` list"),
            ));
        }
        items.map_or(&[][..], Vec::as_slice)
    };
    let nodes = list("nodes", &mut problems);
    let edges = list("edges", &mut problems);

    let mut node_ids = HashSet::new();
    let mut starts = 0;
    for node in nodes {
        let id = non_empty(node, "id");
        match id {
            None => problems.push(Problem::new(
                "node",
                None,
                "id",
                "Every node must be an object with a non-empty string id".to_owned(),
            )),
            Some(id) if !node_ids.insert(id) => problems.push(Problem::new(
                "node",
                Some(id),
                "id",
                format!("Node id {id:?} is used by more than one node"),
            )),
            Some(_) => {}
        }
        let data = node.get("data").unwrap_or(&Value::Null);
        match node.get("type").and_then(Value::as_str) {
            Some("start") => starts += 1,
            Some("agent") if non_empty(data, "prompt").is_none() => problems.push(Problem::new(
                "node",
                id,
                "data.prompt",
                "Prompt is required".to_owned(),
            )),
            Some("transfer") if non_empty(data, "phone_number").is_none() => {
                problems.push(Problem::new(
                    "node",
                    id,
                    "data.phone_number",
                    "Phone number is required".to_owned(),
                ))
            }
            Some(kind) if NODE_TYPES.contains(&kind) => {}
            _ => problems.push(Problem::new(
                "node",
                id,
                "type",
                format!("Node type must be one of {}", NODE_TYPES.join(", ")),
            )),
        }
    }
    if starts != 1 {
        problems.push(Problem::new(
            "workflow",
            None,
            "nodes",
            format!("The workflow must have exactly one start node, not {starts}"),
        ));
    }

    for edge in edges {
        let edge_id = edge.get("id").and_then(Value::as_str);
        for end in ["source", "target"] {
            if !non_empty(edge, end).is_some_and(|node| node_ids.contains(node)) {
                problems.push(Problem::new(
                    "edge",
                    edge_id,
                    end,
                    format!("The edge's {end} must be the id of a node of this workflow"),
                ));
            }
        }
    }

    // The first node to use a trigger path keeps it; each later one is reported.
    let mut trigger_paths = HashSet::new();
    for node in nodes {
        let path = node
            .get("data")
            .and_then(|data| data.get("trigger_path"))
            .and_then(Value::as_str);
        if let Some(path) = path
            && !trigger_paths.insert(path)
        {
            problems.push(Problem::new(
                "trigger",
                non_empty(node, "id"),
                "data.trigger_path",
                format!("Trigger path {path:?} is used by more than one node"),
            ));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(definition: Value) -> Vec<(&'static str, Option<String>, &'static str)> {
        check(&definition)
            .into_iter()
            .map(|problem| (problem.kind, problem.id, problem.field))
            .collect()
    }

    #[test]
    fn a_minimal_valid_definition_has_no_problems() {
        let definition = json!({
            "nodes": [
                { "id": "s", "type": "start" },
                { "id": "a", "type": "agent", "data": { "prompt": "Hello" } },
            ],
            "edges": [{ "id": "e", "source": "s", "target": "a" }],
        });
        assert_eq!(check(&definition), []);
        assert_eq!(report(&[]), json!({ "is_valid": true, "errors": [] }));
    }

    #[test]
    fn an_empty_definition_lacks_both_lists_and_its_start_node() {
        assert_eq!(
            fields(json!({})),
            [
                ("workflow", None, "nodes"),
                ("workflow", None, "edges"),
                ("workflow", None, "nodes"),
            ]
        );
    }

    #[test]
    fn a_node_that_is_not_an_object_fails_the_id_and_type_rules() {
        assert_eq!(
            fields(json!({ "nodes": [{ "id": "s", "type": "start" }, 3], "edges": [] })),
            [("node", None, "id"), ("node", None, "type")]
        );
    }
}
