//! JSON text read in one pass into the two texts a [`Content`](super::Content) is made of: its
//! compact text and its canonical text, without building a tree.
//!
//! The canonical text follows the same rules as the digest of a tree (`CanonicalWriter`):
//! members sorted by name, `null` members dropped, integral floats below 1e15 written as
//! integers. A property test holds that both give the same bytes.

use std::fmt::Write as _;

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
    let mut state = State::default();
    let mut deserializer = serde_json::Deserializer::from_str(text);
    ValueSeed { state: &mut state }.deserialize(&mut deserializer)?;
    deserializer.end()?;
    let compact = String::from_utf8(state.compact)
        .map_err(|_| serde::de::Error::custom("the compact text of a JSON value is not UTF-8"))?;
    Ok(JsonText {
        is_object: compact.starts_with('{'),
        compact,
        canonical: state.canonical,
        dollar: state.dollar,
        duplicate_key: state.duplicate_key,
        huge_integer: state.huge_integer,
    })
}

#[derive(Default)]
struct State {
    compact: Vec<u8>,
    canonical: Vec<u8>,
    /// Reused to reorder the members of each object.
    scratch: Vec<u8>,
    dollar: bool,
    duplicate_key: bool,
    huge_integer: bool,
}

impl State {
    fn both(&mut self, bytes: &[u8]) {
        self.compact.extend_from_slice(bytes);
        self.canonical.extend_from_slice(bytes);
    }

    fn string(&mut self, text: &str) {
        let start = self.compact.len();
        // Escaping into a `Vec` cannot fail.
        let _ = serde_json::to_writer(&mut self.compact, text);
        self.canonical.extend_from_slice(&self.compact[start..]);
    }

    fn number(&mut self, number: &serde_json::Number) {
        let _ = serde_json::to_writer(&mut self.compact, number);
        let mut canonical = String::new();
        let _ = match number.as_f64() {
            Some(f) if number.is_f64() && f.fract() == 0.0 && f.abs() < 1e15 => {
                write!(canonical, "{}", f as i64)
            }
            _ => write!(canonical, "{number}"),
        };
        self.canonical.extend_from_slice(canonical.as_bytes());
    }
}

struct ValueSeed<'s> {
    state: &'s mut State,
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

impl Name<'_> {
    fn as_str(&self) -> &str {
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
        self.state.both(b"null");
        Ok(())
    }

    fn visit_bool<E>(self, b: bool) -> Result<(), E> {
        self.state.both(if b { b"true" } else { b"false" });
        Ok(())
    }

    fn visit_i64<E>(self, n: i64) -> Result<(), E> {
        self.state.number(&n.into());
        Ok(())
    }

    fn visit_u64<E>(self, n: u64) -> Result<(), E> {
        self.state.huge_integer |= i64::try_from(n).is_err();
        self.state.number(&n.into());
        Ok(())
    }

    fn visit_f64<E: serde::de::Error>(self, n: f64) -> Result<(), E> {
        let number = serde_json::Number::from_f64(n)
            .ok_or_else(|| E::custom("infinity and NaN are not JSON"))?;
        self.state.number(&number);
        Ok(())
    }

    fn visit_str<E>(self, text: &str) -> Result<(), E> {
        self.state.dollar |= text.contains('$');
        self.state.string(text);
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.state.both(b"[");
        let mut first = true;
        loop {
            let comma = (self.state.compact.len(), self.state.canonical.len());
            if !first {
                self.state.both(b",");
            }
            let seed = ValueSeed {
                state: &mut *self.state,
            };
            if seq.next_element_seed(seed)?.is_none() {
                // No element: take back the comma written for it.
                self.state.compact.truncate(comma.0);
                self.state.canonical.truncate(comma.1);
                break;
            }
            first = false;
        }
        self.state.both(b"]");
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.state.compact.push(b'{');
        // Each member's canonical text (`"name":value`) goes after `start`, in the order read;
        // they are put in name order once the object is complete.
        let start = self.state.canonical.len();
        // `None` for a `null` member: the same as an absent one, but its name still counts
        // when looking for names written twice.
        let mut members: Vec<(Name<'de>, Option<std::ops::Range<usize>>)> = Vec::new();
        while let Some(name) = map.next_key_seed(NameSeed)? {
            if !members.is_empty() {
                self.state.compact.push(b',');
            }
            let from = self.state.canonical.len();
            self.state.string(name.as_str());
            self.state.both(b":");
            let value_at = self.state.canonical.len();
            map.next_value_seed(ValueSeed {
                state: &mut *self.state,
            })?;
            if &self.state.canonical[value_at..] == b"null" {
                self.state.canonical.truncate(from);
                members.push((name, None));
            } else {
                members.push((name, Some(from..self.state.canonical.len())));
            }
        }
        self.state.compact.push(b'}');
        members.sort_unstable_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
        if members
            .windows(2)
            .any(|w| w[0].0.as_str() == w[1].0.as_str())
        {
            self.state.duplicate_key = true;
        }
        let state = &mut *self.state;
        state.scratch.clear();
        state.scratch.push(b'{');
        for (i, range) in members.iter().filter_map(|(_, r)| r.as_ref()).enumerate() {
            if i > 0 {
                state.scratch.push(b',');
            }
            state
                .scratch
                .extend_from_slice(&state.canonical[range.clone()]);
        }
        state.scratch.push(b'}');
        state.canonical.truncate(start);
        state.canonical.extend_from_slice(&state.scratch);
        Ok(())
    }
}
