//! The fast path for a JSON include (`graph_file: flows/x.json`): parsed by serde_json straight
//! into a document, when the file needs nothing that only the YAML path gives.
//!
//! Editors export large graphs as JSON, and the YAML parser, which keeps a position for every
//! value, reads them several times slower. The YAML path stays the reference: a file with a
//! `$` in a string (it may hold `${...}`, whose problems are reported at their line) or with a
//! key written twice (reported at the second one) goes through it.

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// What reading a JSON include gave.
#[derive(Debug)]
pub enum JsonInclude {
    /// The file's value, as the YAML path would have made it.
    Value(Value),
    /// The file is JSON, but only the YAML path reads it right (see the module's note).
    NeedsYamlPath,
}

/// Parses `text`; a syntax error is serde_json's, with its line and column.
pub fn parse(text: &str) -> Result<JsonInclude, serde_json::Error> {
    let mut found = Found::default();
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let value = ValueSeed { found: &mut found }.deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(if found.dollar || found.duplicate_key {
        JsonInclude::NeedsYamlPath
    } else {
        JsonInclude::Value(value)
    })
}

/// What the parse saw that sends the file to the YAML path.
#[derive(Debug, Default)]
struct Found {
    dollar: bool,
    duplicate_key: bool,
}

/// Builds a `serde_json::Value`, noting what [`Found`] records on the way.
struct ValueSeed<'f> {
    found: &'f mut Found,
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }

    fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
        Ok(Value::from(n))
    }

    fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
        // The YAML path reads integers as i64; a larger one is a float there.
        Ok(i64::try_from(n).map_or_else(|_| Value::from(n as f64), Value::from))
    }

    fn visit_f64<E>(self, n: f64) -> Result<Value, E> {
        Ok(Value::from(n))
    }

    fn visit_str<E>(self, text: &str) -> Result<Value, E> {
        self.found.dollar |= text.contains('$');
        Ok(Value::String(text.to_owned()))
    }

    fn visit_string<E>(self, text: String) -> Result<Value, E> {
        self.found.dollar |= text.contains('$');
        Ok(Value::String(text))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element_seed(ValueSeed {
            found: &mut *self.found,
        })? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value_seed(ValueSeed {
                found: &mut *self.found,
            })?;
            if object.insert(key, value).is_some() {
                self.found.duplicate_key = true;
            }
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn value(text: &str) -> Value {
        match parse(text).expect("valid JSON") {
            JsonInclude::Value(value) => value,
            JsonInclude::NeedsYamlPath => panic!("expected the fast path for {text}"),
        }
    }

    #[test]
    fn a_plain_graph_is_read_with_its_members_in_order() {
        let read =
            value(r#"{"nodes": [{"id": "n1", "x": 1.5, "on": true, "n": null}], "edges": []}"#);
        assert_eq!(
            read,
            json!({"nodes": [{"id": "n1", "x": 1.5, "on": true, "n": null}], "edges": []})
        );
        let keys: Vec<_> = read.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["nodes", "edges"]);
    }

    #[test]
    fn a_dollar_or_a_repeated_key_sends_the_file_to_the_yaml_path() {
        for text in [
            r#"{"prompt": "call ${agent:x}"}"#,
            r#"{"prompt": "costs $5"}"#,
            r#"{"a": 1, "a": 2}"#,
            r#"[{"k": 1, "k": 1}]"#,
        ] {
            assert!(
                matches!(parse(text), Ok(JsonInclude::NeedsYamlPath)),
                "{text}"
            );
        }
        // A `$` in a key is not interpolated on either path.
        assert_eq!(value(r#"{"$schema": "x"}"#), json!({"$schema": "x"}));
    }

    #[test]
    fn a_syntax_error_says_where() {
        let err = parse("{\n  \"a\": 1,\n}").expect_err("a trailing comma");
        assert_eq!((err.line(), err.column()), (3, 1));
        assert!(parse("{} {}").is_err(), "trailing content is refused");
    }
}
