//! An agent's versioned content (its flow) as the engine holds it: compact JSON text and, once
//! asked for, the SHA-256 digest of its canonical form, shared by reference.
//!
//! Contents are the bulk of what a run holds (a graph of hundreds of nodes per agent, read up
//! to three times: the definition, the draft and the live version). A `serde_json` tree costs
//! about ten times its text, so a content keeps only its text, and is parsed back into a
//! [`Document`] where a caller needs the tree: resolving references, showing a change,
//! sending a write whose members a platform names otherwise (drafts go as the text). Comparing two
//! contents compares their texts, then their members' texts, then (only when those differ) their
//! digests, so a run that changes nothing never builds a tree of what it observed, and mostly
//! never canonicalizes it.

use std::fmt;
use std::ops::Range;
use std::sync::{Arc, OnceLock};

use crate::model::Document;
use crate::text::json_text::{self, JsonText, TextWriter};

/// A content: immutable, cheap to clone (one reference count), equal to another when their
/// canonical forms are equal.
#[derive(Clone)]
pub struct Content(Arc<Inner>);

struct Inner {
    /// Compact JSON of the document, members in their original order, `null`s kept: what is
    /// sent, shown and exported is what was written.
    text: Box<str>,
    /// Where each member (`"name":value`) lies in `text`.
    members: Box<[Range<usize>]>,
    /// Made from `text` when first asked for: equal texts need no digest to be compared, and
    /// canonical text costs about as much as reading the text in the first place.
    digest: OnceLock<Digest>,
}

/// SHA-256 of a document's canonical form: members sorted by name, `null` members dropped
/// (absent and `null` mean the same), integral numbers written as integers (`30.0` is `30`),
/// and an object of a kilobyte or more standing as the digest of its own canonical text
/// ([`json_text`] says why).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Digest([u8; 32]);

impl Digest {
    /// Lowercase hex, as fingerprints write it.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|byte| format!("{byte:02x}")).collect()
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({})", &self.to_hex()[..12])
    }
}

impl Content {
    /// The content of `document`.
    pub fn new(document: &Document) -> Content {
        let mut writer = TextWriter::default();
        write_document(&mut writer, document, None);
        Content::written(writer.finish())
    }

    /// The content of a JSON object read by [`json_text::read`], without a tree; `None` when
    /// the value is not an object.
    pub fn from_json_text(json: JsonText) -> Option<Content> {
        json.is_object.then(|| Content::written(json))
    }

    /// The content of an object's compact text: one [`TextWriter`] holds the rules, for trees
    /// and for text alike.
    fn written(json: JsonText) -> Content {
        Content(Arc::new(Inner {
            text: json.compact.into_boxed_str(),
            members: json.members.into_boxed_slice(),
            digest: OnceLock::new(),
        }))
    }

    /// The content of `base` with its member `name` replaced by `member`, read as text: a
    /// document whose bulk (a graph from a file) was never a tree. The member keeps its place
    /// among `base`'s members.
    pub fn with_member(base: &Document, name: &str, member: &JsonText) -> Content {
        // The member is most of the text (a graph): the buffer grows once.
        let mut writer = TextWriter::with_capacity(member.compact.len() + 1024);
        write_document(&mut writer, base, Some((name, member)));
        Content::written(writer.finish())
    }

    /// The document, parsed from the text this content was made with.
    pub fn document(&self) -> Document {
        let mut deserializer = serde_json::Deserializer::from_str(&self.0.text);
        // Definitions may nest deeper than serde_json's default limit (the YAML loader allows
        // `yaml::MAX_DEPTH`); the text is this type's own, so its depth is already bounded.
        deserializer.disable_recursion_limit();
        serde::Deserialize::deserialize(&mut deserializer)
            .expect("a content's text is JSON that `Content::new` wrote")
    }

    /// Compact JSON, members in the order they were written.
    pub fn text(&self) -> &str {
        &self.0.text
    }

    /// The digest of the canonical form, made on first use.
    pub fn digest(&self) -> Digest {
        *self.0.digest.get_or_init(|| {
            Digest(
                json_text::digest(&self.0.text)
                    .expect("a content's text is JSON that `TextWriter` wrote"),
            )
        })
    }

    /// Whether both say the same once canonical. The same text, or the same member texts in
    /// another order (a platform sends a flow's members in its own order), says the same;
    /// other texts are compared by digest.
    pub fn same_as(&self, other: &Content) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
            || self.0.text == other.0.text
            || self.non_null_members() == other.non_null_members()
            || self.digest() == other.digest()
    }

    /// The texts of the members whose value is not `null`, sorted (by name first, since each
    /// starts with its name; a document names a member once).
    fn non_null_members(&self) -> Vec<&str> {
        // Only a `null` value ends a member's compact text with `:null`.
        let mut members: Vec<&str> = self
            .0
            .members
            .iter()
            .filter_map(|range| self.0.text.get(range.clone()))
            .filter(|member| !member.ends_with(":null"))
            .collect();
        members.sort_unstable();
        members
    }

    /// Becomes `other` when both say the same, so that one copy is held instead of two (an
    /// observed draft equal to its definition, a live version equal to its draft).
    pub fn share_with(&mut self, other: &Content) {
        if self.same_as(other) {
            *self = other.clone();
        }
    }
}

impl PartialEq for Content {
    fn eq(&self, other: &Content) -> bool {
        self.same_as(other)
    }
}

impl fmt::Debug for Content {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.text)
    }
}

/// Writes `document` as text, with its member `replaced.0` written as `replaced.1` instead.
fn write_document(
    writer: &mut TextWriter,
    document: &Document,
    replaced: Option<(&str, &JsonText)>,
) {
    let mut object = writer.begin_object();
    for (name, value) in document {
        writer.member(&mut object, name.as_str());
        match replaced {
            Some((replaced_name, text)) if replaced_name == name => writer.text(text),
            _ => writer.value(value),
        }
    }
    writer.end_object(object);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::{Value, json};

    fn content(value: Value) -> Content {
        Content::new(value.as_object().expect("an object"))
    }

    #[test]
    fn member_order_nulls_and_number_encoding_do_not_change_the_digest() {
        let a = content(json!({"b": 30, "a": [1, {"y": null, "x": 2.0}]}));
        let b = content(json!({"a": [1, {"x": 2}], "b": 30.0}));
        assert!(a.same_as(&b));
        assert_ne!(
            a.text(),
            b.text(),
            "each keeps the text it was written with"
        );
    }

    #[test]
    fn a_different_value_or_list_order_changes_the_digest() {
        let base = content(json!({"a": [1, 2], "s": "x"}));
        assert!(!base.same_as(&content(json!({"a": [2, 1], "s": "x"}))));
        assert!(!base.same_as(&content(json!({"a": [1, 2], "s": "y"}))));
        assert!(!base.same_as(&content(json!({"a": [1, 2], "s": "x", "t": false}))));
        // A string that looks like a number is not the number.
        assert!(!content(json!({"n": 1})).same_as(&content(json!({"n": "1"}))));
    }

    #[test]
    fn the_document_reads_back_in_its_original_order_with_its_nulls() {
        let original = json!({"z": 1, "a": null, "m": {"y": [true, "t"], "b": 0.5}});
        let read = content(original.clone()).document();
        assert_eq!(Value::Object(read.clone()), original);
        assert_eq!(read.keys().collect::<Vec<_>>(), ["z", "a", "m"]);
    }

    #[test]
    fn a_document_nested_deeper_than_serde_json_allows_by_default_reads_back() {
        let mut value = json!("leaf");
        for _ in 0..200 {
            value = json!({ "n": value });
        }
        let deep = content(json!({ "root": value }));
        assert_eq!(content(Value::Object(deep.document())), deep);
    }

    #[test]
    fn reading_text_notes_dollars_repeated_names_and_huge_integers() {
        let read = |text: &str| json_text::read(text).unwrap();
        assert!(read(r#"{"p": "${env:X}"}"#).dollar);
        assert!(
            !read(r#"{"$schema": "x"}"#).dollar,
            "names are not interpolated"
        );
        assert!(read(r#"{"a": 1, "b": {"a": null, "a": 2}}"#).duplicate_key);
        assert!(!read(r#"{"a": {"a": 1}}"#).duplicate_key);
        assert!(read(r#"{"n": 18446744073709551615}"#).huge_integer);
        assert!(!read("[1]").is_object);
        assert!(json_text::read("{} []").is_err());
        assert!(json_text::read("{\"a\": }").is_err());
    }

    #[test]
    fn contents_of_the_same_text_are_the_same_without_a_digest() {
        let a = content(json!({"b": 1, "a": {"c": [1.0], "d": null}}));
        let b = content(json!({"b": 1, "a": {"c": [1.0], "d": null}}));
        assert!(a.same_as(&b));
        assert!(a.0.digest.get().is_none() && b.0.digest.get().is_none());
        let reordered = content(json!({"a": {"c": [1.0], "d": null}, "z": null, "b": 1}));
        assert!(a.same_as(&reordered), "the same members in another order");
        assert!(a.0.digest.get().is_none() && reordered.0.digest.get().is_none());
        let canonical = content(json!({"a": {"c": [1]}, "b": 1}));
        assert!(a.same_as(&canonical), "other texts are compared by digest");
        assert!(a.0.digest.get().is_some());
        assert!(!a.same_as(&content(json!({"b": 1, "a": {"c": [2.0]}}))));
    }

    #[test]
    fn sharing_keeps_one_copy_only_when_both_say_the_same() {
        let definition = content(json!({"a": 1}));
        let mut same = content(json!({"a": 1.0}));
        same.share_with(&definition);
        assert!(Arc::ptr_eq(&same.0, &definition.0));
        let mut other = content(json!({"a": 2}));
        other.share_with(&definition);
        assert!(!Arc::ptr_eq(&other.0, &definition.0));
    }

    /// Short strings of every kind of character, and sometimes long ones, so that objects
    /// reach the size at which they are hashed alone.
    fn json_value() -> impl Strategy<Value = Value> {
        crate::arbitrary::json_value(
            "[a-z]{1,4}",
            "[a-z ${}:\"\\\\\u{e9}\u{1}]{0,8}|[a-z\"\u{e9}]{300,500}",
        )
    }

    proptest! {
        /// The digest agrees with the planner's structural equivalence, both ways.
        #[test]
        fn same_digest_exactly_when_the_diff_finds_the_documents_equivalent(
            a in prop::collection::btree_map("[a-z]{1,3}", json_value(), 0..4),
            b in prop::collection::btree_map("[a-z]{1,3}", json_value(), 0..4),
        ) {
            let a: Document = a.into_iter().collect();
            let b: Document = b.into_iter().collect();
            let reversed: Document = a.iter().rev().map(|(k, v)| (k.clone(), v.clone())).collect();
            prop_assert!(Content::new(&a).same_as(&Content::new(&reversed)));
            prop_assert_eq!(
                Content::new(&a).same_as(&Content::new(&b)),
                crate::model::diff::documents_equivalent(&a, &b)
            );
            let (a, b) = (Content::new(&a), Content::new(&b));
            prop_assert_eq!(a.same_as(&b), a.digest() == b.digest());
        }

        /// Reading JSON text without a tree gives the content the tree gives, text and digest.
        #[test]
        fn a_content_read_from_text_is_the_content_of_its_document(
            a in prop::collection::btree_map("[a-z\"]{1,3}", json_value(), 0..4),
            pretty in any::<bool>(),
        ) {
            let a: Document = a.into_iter().rev().collect();
            let text = crate::arbitrary::json_text(&a, pretty);
            let read = json_text::read(&text).unwrap();
            prop_assert!(!read.duplicate_key);
            let from_text = Content::from_json_text(read).unwrap();
            let from_tree = Content::new(&a);
            prop_assert_eq!(from_text.text(), from_tree.text());
            prop_assert_eq!(from_text.digest(), from_tree.digest());
        }

        /// A member read as text takes its place in a document as if it had been a tree.
        #[test]
        fn a_member_read_as_text_gives_the_content_of_the_whole_document(
            before in prop::collection::btree_map("[a-m]{1,3}", json_value(), 0..3),
            member in prop::collection::btree_map("[a-z]{1,3}", json_value(), 0..4),
            after in prop::collection::btree_map("[n-z]{1,3}", json_value(), 0..3),
        ) {
            let member = Value::Object(member.into_iter().collect());
            let whole: Document = before.clone().into_iter()
                .chain([("graph".to_string(), member.clone())])
                .chain(after.clone())
                .collect();
            let base: Document = before.into_iter()
                .chain([("graph".to_string(), Value::Null)])
                .chain(after)
                .collect();
            let read = json_text::read(&member.to_string()).unwrap();
            let composed = Content::with_member(&base, "graph", &read);
            let from_tree = Content::new(&whole);
            prop_assert_eq!(composed.text(), from_tree.text());
            prop_assert_eq!(composed.digest(), from_tree.digest());
            // Its members are found where they lie: the whole text is them, in order.
            let members: Vec<&str> = composed.0.members.iter().map(|r| &composed.0.text[r.clone()]).collect();
            prop_assert_eq!(format!("{{{}}}", members.join(",")), composed.text());
        }

        #[test]
        fn the_text_reads_back_as_the_same_document(
            a in prop::collection::btree_map("[a-z]{1,3}", json_value(), 0..4),
        ) {
            let a: Document = a.into_iter().collect();
            prop_assert_eq!(Content::new(&a).document(), a);
        }
    }
}
