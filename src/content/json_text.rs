//! JSON text read in one pass into the two texts a [`Content`](super::Content) is made of: its
//! compact text and its canonical text, without building a tree.
//!
//! `TextWriter` is the one place that says what canonical means: members sorted by name, `null`
//! members dropped, integral floats below 1e15 written as integers. It is driven by the JSON
//! reader here, by the definition loader over a YAML tree, and by [`TextWriter::value`] over a
//! `serde_json` tree.

use std::io::Write as _;
use std::ops::Range;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// A JSON value as compact and canonical text, and what was seen on the way.
#[derive(Debug, Default)]
pub struct JsonText {
    /// Compact JSON, members in their order, `null`s kept.
    pub compact: String,
    pub canonical: Vec<u8>,
    /// Some string value holds a `$` (it may hold a `${...}` to interpolate).
    pub dollar: bool,
    /// Some mapping names a member twice.
    pub duplicate_key: bool,
    /// Some integer is above `i64::MAX` (the YAML loader reads those as floats).
    pub huge_integer: bool,
    /// The value is an object (a document).
    pub is_object: bool,
}

/// Reads `text`, which must hold exactly one JSON value.
pub fn read(text: &str) -> Result<JsonText, serde_json::Error> {
    let mut writer = TextWriter::default();
    let mut deserializer = serde_json::Deserializer::from_str(text);
    ValueSeed {
        writer: &mut writer,
    }
    .deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(writer.finish())
}

/// Writes one JSON value, piece by piece, as compact and as canonical text: what a reader of
/// JSON text (below) or of a YAML tree (the definition loader) calls as it walks the value.
#[derive(Default)]
pub struct TextWriter {
    compact: Vec<u8>,
    canonical: Vec<u8>,
    /// Reused to reorder the members of each object.
    scratch: Vec<u8>,
    dollar: bool,
    duplicate_key: bool,
    huge_integer: bool,
}

/// An object being written: where its canonical text starts, and its members so far (`None`
/// for a `null` member: the same as an absent one, but its name still counts when looking for
/// names written twice).
pub struct ObjectMark<K> {
    start: usize,
    members: Vec<(K, Option<Range<usize>>)>,
    /// The member whose value is being written: its name, where its canonical text starts, and
    /// where its value's does.
    open: Option<(K, usize, usize)>,
}

/// An array being written: whether an element was written yet.
pub struct ArrayMark {
    empty: bool,
}

impl TextWriter {
    /// The texts written, and what was seen on the way.
    pub fn finish(self) -> JsonText {
        // Only `serde_json`'s escaping and ASCII punctuation were written.
        let compact = String::from_utf8(self.compact).unwrap_or_default();
        JsonText {
            is_object: compact.starts_with('{'),
            compact,
            canonical: self.canonical,
            dollar: self.dollar,
            duplicate_key: self.duplicate_key,
            huge_integer: self.huge_integer,
        }
    }

    fn both(&mut self, bytes: &[u8]) {
        self.compact.extend_from_slice(bytes);
        self.canonical.extend_from_slice(bytes);
    }

    pub fn null(&mut self) {
        self.both(b"null");
    }

    pub fn bool(&mut self, b: bool) {
        self.both(if b { b"true" } else { b"false" });
    }

    pub fn string(&mut self, text: &str) {
        self.dollar |= text.contains('$');
        self.escaped(text);
    }

    fn escaped(&mut self, text: &str) {
        let start = self.compact.len();
        // Escaping into a `Vec` cannot fail.
        let _ = serde_json::to_writer(&mut self.compact, text);
        self.canonical.extend_from_slice(&self.compact[start..]);
    }

    pub fn number(&mut self, number: &serde_json::Number) {
        self.huge_integer |= number.is_u64() && number.as_i64().is_none();
        let _ = serde_json::to_writer(&mut self.compact, number);
        let _ = match number.as_f64() {
            Some(f) if number.is_f64() && f.fract() == 0.0 && f.abs() < 1e15 => {
                write!(self.canonical, "{}", f as i64)
            }
            _ => write!(self.canonical, "{number}"),
        };
    }

    /// A whole tree.
    pub fn value(&mut self, value: &serde_json::Value) {
        use serde_json::Value;
        match value {
            Value::Null => self.null(),
            Value::Bool(b) => self.bool(*b),
            Value::Number(n) => self.number(n),
            Value::String(text) => self.string(text),
            Value::Array(items) => {
                let mut array = self.begin_array();
                for item in items {
                    self.element(&mut array);
                    self.value(item);
                }
                self.end_array(array);
            }
            Value::Object(members) => {
                let mut object = self.begin_object::<&str>();
                for (name, value) in members {
                    self.member(&mut object, name.as_str());
                    self.value(value);
                }
                self.end_object(object);
            }
        }
    }

    /// A value another writer wrote.
    pub fn text(&mut self, json: &JsonText) {
        self.compact.extend_from_slice(json.compact.as_bytes());
        self.canonical.extend_from_slice(&json.canonical);
        self.dollar |= json.dollar;
        self.duplicate_key |= json.duplicate_key;
        self.huge_integer |= json.huge_integer;
    }

    pub fn begin_array(&mut self) -> ArrayMark {
        self.both(b"[");
        ArrayMark { empty: true }
    }

    /// Before each element.
    pub fn element(&mut self, array: &mut ArrayMark) {
        if !array.empty {
            self.both(b",");
        }
        array.empty = false;
    }

    pub fn end_array(&mut self, _array: ArrayMark) {
        self.both(b"]");
    }

    pub fn begin_object<K>(&mut self) -> ObjectMark<K> {
        self.compact.push(b'{');
        ObjectMark {
            start: self.canonical.len(),
            members: Vec::new(),
            open: None,
        }
    }

    /// Before each member's value.
    pub fn member<K: AsRef<str>>(&mut self, object: &mut ObjectMark<K>, name: K) {
        self.close_member(object);
        if !object.members.is_empty() {
            self.compact.push(b',');
        }
        let from = self.canonical.len();
        self.escaped(name.as_ref());
        self.both(b":");
        object.open = Some((name, from, self.canonical.len()));
    }

    fn close_member<K>(&mut self, object: &mut ObjectMark<K>) {
        if let Some((name, from, value_at)) = object.open.take() {
            if &self.canonical[value_at..] == b"null" {
                self.canonical.truncate(from);
                object.members.push((name, None));
            } else {
                object
                    .members
                    .push((name, Some(from..self.canonical.len())));
            }
        }
    }

    pub fn end_object<K: AsRef<str>>(&mut self, mut object: ObjectMark<K>) {
        self.close_member(&mut object);
        self.compact.push(b'}');
        let members = &mut object.members;
        members.sort_unstable_by(|a, b| a.0.as_ref().cmp(b.0.as_ref()));
        if members
            .windows(2)
            .any(|w| w[0].0.as_ref() == w[1].0.as_ref())
        {
            self.duplicate_key = true;
        }
        self.scratch.clear();
        self.scratch.push(b'{');
        for (i, range) in members.iter().filter_map(|(_, r)| r.as_ref()).enumerate() {
            if i > 0 {
                self.scratch.push(b',');
            }
            self.scratch
                .extend_from_slice(&self.canonical[range.clone()]);
        }
        self.scratch.push(b'}');
        self.canonical.truncate(object.start);
        self.canonical.extend_from_slice(&self.scratch);
    }
}

struct ValueSeed<'w> {
    writer: &'w mut TextWriter,
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

/// A member's name, borrowed from the text when it has no escape.
enum Name<'de> {
    Borrowed(&'de str),
    Owned(String),
}

impl AsRef<str> for Name<'_> {
    fn as_ref(&self) -> &str {
        match self {
            Name::Borrowed(text) => text,
            Name::Owned(text) => text,
        }
    }
}

struct NameSeed;

impl<'de> DeserializeSeed<'de> for NameSeed {
    type Value = Name<'de>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Name<'de>, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for NameSeed {
    type Value = Name<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a member name")
    }

    fn visit_borrowed_str<E>(self, text: &'de str) -> Result<Name<'de>, E> {
        Ok(Name::Borrowed(text))
    }

    fn visit_str<E>(self, text: &str) -> Result<Name<'de>, E> {
        Ok(Name::Owned(text.to_owned()))
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        self.writer.null();
        Ok(())
    }

    fn visit_bool<E>(self, b: bool) -> Result<(), E> {
        self.writer.bool(b);
        Ok(())
    }

    fn visit_i64<E>(self, n: i64) -> Result<(), E> {
        self.writer.number(&n.into());
        Ok(())
    }

    fn visit_u64<E>(self, n: u64) -> Result<(), E> {
        self.writer.number(&n.into());
        Ok(())
    }

    fn visit_f64<E: serde::de::Error>(self, n: f64) -> Result<(), E> {
        let number = serde_json::Number::from_f64(n)
            .ok_or_else(|| E::custom("infinity and NaN are not JSON"))?;
        self.writer.number(&number);
        Ok(())
    }

    fn visit_str<E>(self, text: &str) -> Result<(), E> {
        self.writer.string(text);
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut array = self.writer.begin_array();
        // The separator is written once an element is known to follow: elements are read
        // straight into the text, so the next one is first peeked at by `next_element_seed`.
        loop {
            let before = (self.writer.compact.len(), self.writer.canonical.len());
            let was_empty = array.empty;
            self.writer.element(&mut array);
            let seed = ValueSeed {
                writer: &mut *self.writer,
            };
            if seq.next_element_seed(seed)?.is_none() {
                self.writer.compact.truncate(before.0);
                self.writer.canonical.truncate(before.1);
                array.empty = was_empty;
                break;
            }
        }
        self.writer.end_array(array);
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut object = self.writer.begin_object::<Name<'de>>();
        while let Some(name) = map.next_key_seed(NameSeed)? {
            self.writer.member(&mut object, name);
            map.next_value_seed(ValueSeed {
                writer: &mut *self.writer,
            })?;
        }
        self.writer.end_object(object);
        Ok(())
    }
}
