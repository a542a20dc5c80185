//! Structural comparison of canonical documents: when two values count as equal, and which
//! field paths differ.
//!
//! Canonical means: key order is ignored, `null` equals absent, and numbers compare by value
//! (`30` equals `30.0`). Providers drop server-owned fields and normalize encodings (tags as a
//! list) before documents get here.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::model::{Document, FieldPath};

/// How a field differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    Add,
    Remove,
    Modify,
}

/// One difference, at the deepest path where the two sides still have the same shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldChange {
    pub path: FieldPath,
    pub kind: ChangeKind,
    /// The value now (remote); `None` when absent or sensitive.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<Value>,
    /// The value wanted (definition); `None` when absent or sensitive.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<Value>,
    /// The wanted value came from the environment: neither side is ever shown.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sensitive: bool,
}

/// Whether two values are the same once canonical.
pub fn equivalent(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(i), Some(j)) => i == j,
            _ => x.as_f64() == y.as_f64(),
        },
        (Value::Array(xs), Value::Array(ys)) => {
            xs.len() == ys.len() && xs.iter().zip(ys).all(|(x, y)| equivalent(x, y))
        }
        (Value::Object(x), Value::Object(y)) => documents_equivalent(x, y),
        _ => a == b,
    }
}

/// Whether two documents are the same once canonical (`null` members count as absent).
///
/// Allocation-free: planning compares every managed agent's content (graphs of hundreds of
/// nodes) twice, so this is the planner's hottest loop.
pub fn documents_equivalent(a: &Document, b: &Document) -> bool {
    // Documents read back from a platform usually list their members in the order they were
    // written: then members pair up by position, and no key is hashed.
    if a.len() == b.len() && a.keys().zip(b.keys()).all(|(x, y)| x == y) {
        return a.values().zip(b.values()).all(|(x, y)| equivalent(x, y));
    }
    let present = |d: &Document, k: &str| d.get(k).is_some_and(|v| !v.is_null());
    // Every member of `a` has an equivalent one in `b`...
    let a_in_b = a.iter().all(|(k, x)| match b.get(k) {
        _ if x.is_null() => !present(b, k),
        Some(y) if !y.is_null() => equivalent(x, y),
        _ => false,
    });
    // ...and `b` has no member that `a` lacks.
    a_in_b && b.iter().all(|(k, y)| y.is_null() || present(a, k))
}

/// The differences from `before` to `after`, under `base`. Paths listed in `sensitive` (or
/// inside one) have their values withheld.
pub fn diff(
    before: Option<&Value>,
    after: Option<&Value>,
    base: &FieldPath,
    sensitive: &BTreeSet<FieldPath>,
) -> Vec<FieldChange> {
    let mut changes = Vec::new();
    walk(before, after, base, &mut changes);
    withhold(&mut changes, sensitive);
    changes
}

/// [`diff`] of two documents, without copying either.
pub fn diff_documents(
    before: Option<&Document>,
    after: &Document,
    base: &FieldPath,
    sensitive: &BTreeSet<FieldPath>,
) -> Vec<FieldChange> {
    let mut changes = Vec::new();
    match before {
        Some(before) if documents_equivalent(before, after) => {}
        Some(before) => walk_objects(before, after, base, &mut changes),
        // What `walk` does with a new object: member by member near the root, whole below.
        None if base.segments().len() < 2 && has_members(after) => {
            for (key, value) in after {
                walk(None, Some(value), &base.field(key), &mut changes);
            }
        }
        None => walk(
            None,
            Some(&Value::Object(after.clone())),
            base,
            &mut changes,
        ),
    }
    withhold(&mut changes, sensitive);
    changes
}

/// Marks the changes at or around a sensitive path, and drops their values.
fn withhold(changes: &mut [FieldChange], sensitive: &BTreeSet<FieldPath>) {
    if sensitive.is_empty() {
        return;
    }
    for change in changes {
        let secret = sensitive
            .iter()
            .any(|s| change.path.starts_with(s) || s.starts_with(&change.path));
        if secret {
            change.sensitive = true;
            change.before = None;
            change.after = None;
        }
    }
}

/// `walk` of two objects already known to differ.
fn walk_objects(before: &Document, after: &Document, path: &FieldPath, out: &mut Vec<FieldChange>) {
    for (key, value) in before {
        walk(Some(value), after.get(key), &path.field(key), out);
    }
    for (key, value) in after.iter().filter(|(k, _)| !before.contains_key(*k)) {
        walk(None, Some(value), &path.field(key), out);
    }
}

fn walk(
    before: Option<&Value>,
    after: Option<&Value>,
    path: &FieldPath,
    out: &mut Vec<FieldChange>,
) {
    let before = before.filter(|v| !v.is_null());
    let after = after.filter(|v| !v.is_null());
    match (before, after) {
        (None, None) => {}
        (Some(b), Some(a)) if equivalent(b, a) => {}
        // A new or removed agent or flow reads better field by field than as one blob.
        (None, Some(Value::Object(a))) if path.segments().len() < 2 && has_members(a) => {
            for (key, value) in a {
                walk(None, Some(value), &path.field(key), out);
            }
        }
        (Some(Value::Object(b)), None) if path.segments().len() < 2 && has_members(b) => {
            for (key, value) in b {
                walk(Some(value), None, &path.field(key), out);
            }
        }
        (Some(Value::Object(b)), Some(Value::Object(a))) => walk_objects(b, a, path, out),
        (Some(Value::Array(b)), Some(Value::Array(a))) => {
            for i in 0..b.len().max(a.len()) {
                match (b.get(i), a.get(i)) {
                    (Some(before), Some(after)) => {
                        walk(Some(before), Some(after), &path.index(i), out)
                    }
                    // In a list, a null element is an element: the lengths differ.
                    (before, after) => out.push(FieldChange {
                        path: path.index(i),
                        kind: if before.is_none() {
                            ChangeKind::Add
                        } else {
                            ChangeKind::Remove
                        },
                        before: before.cloned(),
                        after: after.cloned(),
                        sensitive: false,
                    }),
                }
            }
        }
        (before, after) => out.push(FieldChange {
            path: path.clone(),
            kind: match (before, after) {
                (None, _) => ChangeKind::Add,
                (_, None) => ChangeKind::Remove,
                _ => ChangeKind::Modify,
            },
            before: before.cloned(),
            after: after.cloned(),
            sensitive: false,
        }),
    }
}

/// Whether an object has a member that is not null (one that a walk would report).
fn has_members(object: &Document) -> bool {
    object.values().any(|v| !v.is_null())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn root() -> FieldPath {
        FieldPath::root()
    }

    #[test]
    fn numbers_compare_by_value_and_null_equals_absent() {
        assert!(equivalent(
            &json!({"t": 30, "x": null}),
            &json!({"t": 30.0})
        ));
        assert!(!equivalent(&json!({"t": 30}), &json!({"t": 31})));
        assert!(equivalent(
            &json!({"a": 1, "b": 2}),
            &json!({"b": 2, "a": 1})
        ));
    }

    #[test]
    fn changes_are_reported_at_the_deepest_differing_path() {
        let before = json!({"graph": {"nodes": [{"data": {"prompt": "a"}}, {"id": 2}]}});
        let after = json!({"graph": {"nodes": [{"data": {"prompt": "b"}}]}, "mode": "chat"});
        let changes = diff(
            Some(&before),
            Some(&after),
            &root().field("flow"),
            &BTreeSet::new(),
        );
        let paths: Vec<String> = changes.iter().map(|c| c.path.to_string()).collect();
        assert_eq!(
            paths,
            [
                "flow.graph.nodes[0].data.prompt",
                "flow.graph.nodes[1]",
                "flow.mode"
            ]
        );
        assert_eq!(changes[1].kind, ChangeKind::Remove);
        assert_eq!(changes[2].kind, ChangeKind::Add);
    }

    #[test]
    fn sensitive_values_are_withheld_on_both_sides() {
        let sensitive = BTreeSet::from([root().field("vars").field("TOKEN")]);
        let changes = diff(
            Some(&json!({"vars": {"TOKEN": "old-secret"}})),
            Some(&json!({"vars": {"TOKEN": "new-secret"}})),
            &root(),
            &sensitive,
        );
        assert_eq!(changes.len(), 1);
        assert!(changes[0].sensitive && changes[0].before.is_none() && changes[0].after.is_none());
    }

    /// Few names, so that two random objects often share members.
    fn arb_json() -> impl Strategy<Value = Value> {
        crate::arbitrary::json_value("[a-c]", "[a-z]{0,6}")
    }

    #[test]
    fn member_order_and_null_members_do_not_matter() {
        let a = json!({"x": 1, "y": null, "z": [1, {"q": 2}]});
        let reordered = json!({"z": [1, {"q": 2}], "x": 1.0});
        let same_order_other_value = json!({"x": 1, "y": null, "z": [1, {"q": 3}]});
        assert!(equivalent(&a, &reordered));
        assert!(equivalent(&reordered, &a));
        assert!(!equivalent(&a, &same_order_other_value));
        assert!(!equivalent(&json!({"x": null}), &json!({"x": 0})));
    }

    proptest! {
        #[test]
        fn a_value_has_no_differences_with_itself(v in arb_json()) {
            prop_assert!(equivalent(&v, &v));
            prop_assert!(diff(Some(&v), Some(&v), &root(), &BTreeSet::new()).is_empty());
        }

        #[test]
        fn differences_are_found_exactly_when_values_are_not_equivalent(a in arb_json(), b in arb_json()) {
            let changes = diff(Some(&a), Some(&b), &root(), &BTreeSet::new());
            prop_assert_eq!(changes.is_empty(), equivalent(&a, &b) || (a.is_null() && b.is_null()));
        }
    }
}
