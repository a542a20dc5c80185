//! agentsync's ownership marker in an agent's `extend_properties`:
//! `{"agentsync": {"key": "<key>"}}`. One function writes it, one reads it; the rest of the
//! agent's properties are never touched.

use serde_json::{Map, Value};

use crate::model::{InvalidKey, Key};

/// The entry of `extend_properties` that agentsync owns.
const MARKER: &str = "agentsync";
const KEY: &str = "key";

/// Why a marker could not be read; the agent is then treated as unmanaged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MalformedMarker {
    #[error("`{MARKER}` is not an object")]
    NotAnObject,
    #[error("`{MARKER}.{KEY}` is missing or not a string")]
    NoKey,
    #[error("`{MARKER}.{KEY}` is '{key}', which {reason}")]
    BadKey { key: String, reason: InvalidKey },
}

/// Puts the marker for `key` into `properties`, keeping every other entry (and any other entry
/// of an existing marker object, which a later agentsync may use).
pub fn write(properties: &mut Map<String, Value>, key: &Key) {
    let marker = properties
        .entry(MARKER)
        .or_insert_with(|| Value::Object(Map::new()));
    if !marker.is_object() {
        *marker = Value::Object(Map::new());
    }
    if let Value::Object(marker) = marker {
        marker.insert(KEY.to_owned(), Value::String(key.as_str().to_owned()));
    }
}

/// The key an agent's `extend_properties` carries: `None` when there is no marker (properties
/// absent, `null`, not an object, or without the entry), an error when the marker is there but
/// unreadable.
pub fn read(properties: Option<&Value>) -> Result<Option<Key>, MalformedMarker> {
    let Some(marker) = properties
        .and_then(Value::as_object)
        .and_then(|properties| properties.get(MARKER))
    else {
        return Ok(None);
    };
    let marker = marker.as_object().ok_or(MalformedMarker::NotAnObject)?;
    let key = marker
        .get(KEY)
        .and_then(Value::as_str)
        .ok_or(MalformedMarker::NoKey)?;
    Key::parse(key)
        .map(Some)
        .map_err(|reason| MalformedMarker::BadKey {
            key: key.to_owned(),
            reason,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key(text: &str) -> Key {
        Key::parse(text).expect("a valid key")
    }

    #[test]
    fn a_written_marker_reads_back_as_its_key() {
        let mut properties = Map::new();
        write(&mut properties, &key("support-bot"));
        assert_eq!(
            Value::Object(properties.clone()),
            json!({"agentsync": {"key": "support-bot"}})
        );
        assert_eq!(
            read(Some(&Value::Object(properties))),
            Ok(Some(key("support-bot")))
        );
    }

    #[test]
    fn writing_keeps_the_other_properties() {
        let mut properties = json!({"team": "billing", "agentsync": {"key": "old", "since": 1}})
            .as_object()
            .cloned()
            .expect("an object");
        write(&mut properties, &key("new"));
        assert_eq!(
            Value::Object(properties),
            json!({"team": "billing", "agentsync": {"key": "new", "since": 1}})
        );
    }

    #[test]
    fn no_marker_means_unmanaged() {
        assert_eq!(read(None), Ok(None));
        assert_eq!(read(Some(&Value::Null)), Ok(None));
        assert_eq!(read(Some(&json!({}))), Ok(None));
        assert_eq!(read(Some(&json!({"other": 1}))), Ok(None));
        assert_eq!(read(Some(&json!("text"))), Ok(None));
    }

    #[test]
    fn a_malformed_marker_says_what_is_wrong() {
        assert_eq!(
            read(Some(&json!({"agentsync": "x"}))),
            Err(MalformedMarker::NotAnObject)
        );
        assert_eq!(
            read(Some(&json!({"agentsync": {}}))),
            Err(MalformedMarker::NoKey)
        );
        assert_eq!(
            read(Some(&json!({"agentsync": {"key": 3}}))),
            Err(MalformedMarker::NoKey)
        );
        assert!(matches!(
            read(Some(&json!({"agentsync": {"key": "Not A Key"}}))),
            Err(MalformedMarker::BadKey { .. })
        ));
    }
}
