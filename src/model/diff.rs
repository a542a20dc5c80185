//! Structural comparison of canonical documents: when two values count as equal, and which
//! field paths differ.
//!
//! Canonical means: key order is ignored, `null` equals absent, and numbers compare by value
//! (`30` equals `30.0`). Providers drop server-owned fields and normalize encodings (tags as a
//! list) before documents get here.

use std::collections::BTreeSet;
use std::ops::Range;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

use crate::model::content::Content;
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
    pub before: Option<ShownValue>,
    /// The value wanted (definition); `None` when absent or sensitive.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<ShownValue>,
    /// The wanted value came from the environment: neither side is ever shown.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sensitive: bool,
}

/// A value as a change holds it: its compact JSON text. A change may hold a whole graph (each
/// new agent's content does), which as a `serde_json` tree costs about ten times its text, and
/// is only ever shown or saved. A member of a content is not even copied: it is held as its
/// place in the content's own text.
#[derive(Debug, Clone)]
pub struct ShownValue(Shown);

#[derive(Debug, Clone)]
enum Shown {
    Text(Box<RawValue>),
    /// The member's value lies at `range` of the content's text.
    InContent {
        content: Content,
        range: Range<usize>,
    },
}

impl ShownValue {
    pub fn new(value: &Value) -> ShownValue {
        // A `Value` always serializes (its keys are strings).
        ShownValue(Shown::Text(
            serde_json::value::to_raw_value(value).unwrap_or_else(|_| RawValue::NULL.to_owned()),
        ))
    }

    /// Compact JSON.
    pub fn text(&self) -> &str {
        match &self.0 {
            Shown::Text(raw) => raw.get(),
            Shown::InContent { content, range } => &content.text()[range.clone()],
        }
    }

    /// The value, when it is a string.
    pub fn as_string(&self) -> Option<String> {
        self.text()
            .starts_with('"')
            .then(|| serde_json::from_str(self.text()).ok())
            .flatten()
    }

    /// How many elements or members the value has, when it is a list or an object; counted
    /// without building either.
    pub fn members(&self) -> Option<usize> {
        use serde::de::{Deserializer as _, IgnoredAny, MapAccess, SeqAccess, Visitor};
        struct Count;
        impl<'de> Visitor<'de> for Count {
            type Value = Option<usize>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Option<usize>, A::Error> {
                let mut count = 0;
                while seq.next_element::<IgnoredAny>()?.is_some() {
                    count += 1;
                }
                Ok(Some(count))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<usize>, A::Error> {
                let mut count = 0;
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {
                    count += 1;
                }
                Ok(Some(count))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Option<usize>, E> {
                Ok(None)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Option<usize>, E> {
                Ok(None)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Option<usize>, E> {
                Ok(None)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Option<usize>, E> {
                Ok(None)
            }
            fn visit_str<E>(self, _: &str) -> Result<Option<usize>, E> {
                Ok(None)
            }
            fn visit_unit<E>(self) -> Result<Option<usize>, E> {
                Ok(None)
            }
        }
        let mut deserializer = serde_json::Deserializer::from_str(self.text());
        // A content may nest deeper than serde_json's default limit (see `Content::document`).
        deserializer.disable_recursion_limit();
        deserializer.deserialize_any(Count).ok().flatten()
    }
}

impl Serialize for ShownValue {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            Shown::Text(raw) => raw.serialize(serializer),
            // A slice of a content's text, which serde_json wrote: a raw value once checked.
            Shown::InContent { .. } => {
                let raw: &RawValue =
                    serde_json::from_str(self.text()).map_err(serde::ser::Error::custom)?;
                raw.serialize(serializer)
            }
        }
    }
}

impl<'de> Deserialize<'de> for ShownValue {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<ShownValue, D::Error> {
        Box::<RawValue>::deserialize(deserializer).map(|raw| ShownValue(Shown::Text(raw)))
    }
}

impl PartialEq for ShownValue {
    fn eq(&self, other: &ShownValue) -> bool {
        self.text() == other.text()
    }
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

/// [`diff_documents`] of no document and `after`'s, under a base one field deep (a content's
/// place in a definition): a change per member, each holding its place in `after`'s text. The
/// content is never parsed into a tree, and no member is copied.
pub fn new_content(
    after: &Content,
    base: &FieldPath,
    sensitive: &BTreeSet<FieldPath>,
) -> Vec<FieldChange> {
    let members = match member_ranges(after.text()) {
        Some(members) if base.segments().len() == 1 && !members.is_empty() => members,
        // Not the shape this reads (or no member to show): as a tree.
        _ => return diff_documents(None, &after.document(), base, sensitive),
    };
    let mut changes: Vec<FieldChange> = members
        .into_iter()
        .map(|(name, range)| FieldChange {
            path: base.field(&name),
            kind: ChangeKind::Add,
            before: None,
            after: Some(ShownValue(Shown::InContent {
                content: after.clone(),
                range,
            })),
            sensitive: false,
        })
        .collect();
    withhold(&mut changes, sensitive);
    changes
}

/// The members of the JSON object `text` that are not `null`, in order, with where each value
/// lies in `text`.
fn member_ranges(text: &str) -> Option<Vec<(String, Range<usize>)>> {
    use serde::de::{Deserializer as _, MapAccess, Visitor};
    struct Members<'t>(&'t str);
    impl<'de> Visitor<'de> for Members<'de> {
        type Value = Vec<(String, Range<usize>)>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut members = Vec::new();
            while let Some((name, value)) = map.next_entry::<String, &'de RawValue>()? {
                let text = value.get();
                if text != "null" {
                    // A borrowed raw value is a slice of the text being read.
                    let start = text.as_ptr() as usize - self.0.as_ptr() as usize;
                    members.push((name, start..start + text.len()));
                }
            }
            Ok(members)
        }
    }
    let mut deserializer = serde_json::Deserializer::from_str(text);
    deserializer.disable_recursion_limit();
    deserializer.deserialize_map(Members(text)).ok()
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
                        before: before.map(ShownValue::new),
                        after: after.map(ShownValue::new),
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
            before: before.map(ShownValue::new),
            after: after.map(ShownValue::new),
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

        /// A new content's changes, read from its text, are those of its tree: same paths,
        /// values, withheld secrets and JSON.
        #[test]
        fn a_new_content_read_from_its_text_changes_as_its_tree_does(
            members in prop::collection::vec(("[a-z]{1,3}", arb_json()), 0..5),
            secret in any::<prop::sample::Index>(),
        ) {
            let document: Document = members.into_iter().collect();
            let content = Content::new(&document);
            let base = root().field("flow");
            let mut sensitive = BTreeSet::new();
            if let Some(name) = document.keys().nth(secret.index(document.len().max(1))) {
                sensitive.insert(base.field(name));
            }
            let from_text = new_content(&content, &base, &sensitive);
            let from_tree = diff_documents(None, &content.document(), &base, &sensitive);
            prop_assert_eq!(&from_text, &from_tree);
            prop_assert_eq!(
                serde_json::to_string(&from_text).unwrap(),
                serde_json::to_string(&from_tree).unwrap()
            );
        }
    }

    #[test]
    fn a_shown_value_counts_members_and_reads_strings_without_a_tree() {
        let list = ShownValue::new(&json!([1, {"a": [2, 3]}, null]));
        assert_eq!(list.members(), Some(3));
        assert_eq!(
            ShownValue::new(&json!({"a": 1, "b": {}})).members(),
            Some(2)
        );
        assert_eq!(ShownValue::new(&json!("x")).members(), None);
        assert_eq!(
            ShownValue::new(&json!("a\nb")).as_string().as_deref(),
            Some("a\nb")
        );
        assert_eq!(ShownValue::new(&json!(1)).as_string(), None);
        // Saved and read back (a saved plan), it is the same.
        let saved = serde_json::to_string(&list).unwrap();
        assert_eq!(serde_json::from_str::<ShownValue>(&saved).unwrap(), list);
    }
}
