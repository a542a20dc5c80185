//! agentsync's ownership marker, `{"agentsync": {"key": "<key>", "protect": true}}`, in
//! whichever free-form object a platform stores verbatim (workfx: `extend_properties`; Agent
//! Workflows: `configuration`). One function writes it, one reads it, one removes it; the rest
//! of the object is never touched.
//!
//! A `protect` that is not a boolean (`"yes"`, `1`, `null`: a hand edit) reads as protected:
//! prune must never remove an agent that someone meant to keep. It is logged as a warning that
//! names the agent and what to do.
//!
//! Two more entries record what agentsync did to the agent, each written only when set:
//! `"pruned": true` (archived by `prune: archive` because its definition was gone; restored
//! when it comes back) and `"duplicate_of": "<id>"` (the losing twin of two runs that created
//! one key at once: archived, and read as claiming no key).

use serde_json::{Map, Value};

use crate::model::{InvalidKey, Key, Marker};

/// The entry of `extend_properties` that agentsync owns.
const MARKER: &str = "agentsync";
const KEY: &str = "key";
const PROTECT: &str = "protect";
const PRUNED: &str = "pruned";
const DUPLICATE_OF: &str = "duplicate_of";

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

/// Puts the marker into `properties`, keeping every other entry (and any other entry of an
/// existing marker object, which a later agentsync may use). `protect` is written only when set.
pub fn write(properties: &mut Map<String, Value>, written: &Marker) {
    let key = &written.key;
    let marker = properties
        .entry(MARKER)
        .or_insert_with(|| Value::Object(Map::new()));
    if !marker.is_object() {
        *marker = Value::Object(Map::new());
    }
    if let Value::Object(marker) = marker {
        marker.insert(KEY.to_owned(), Value::String(key.as_str().to_owned()));
        if written.protect {
            marker.insert(PROTECT.to_owned(), Value::Bool(true));
        } else {
            marker.remove(PROTECT);
        }
        write_history(marker, written);
    }
}

/// The entries that say what agentsync did to the agent: present only when set.
fn write_history(marker: &mut Map<String, Value>, written: &Marker) {
    if written.pruned {
        marker.insert(PRUNED.to_owned(), Value::Bool(true));
    } else {
        marker.remove(PRUNED);
    }
    match &written.duplicate_of {
        Some(winner) => {
            marker.insert(DUPLICATE_OF.to_owned(), Value::String(winner.clone()));
        }
        None => {
            marker.remove(DUPLICATE_OF);
        }
    }
}

/// Whether the marker entry says `"pruned": true`.
fn read_pruned(marker: &Map<String, Value>) -> bool {
    marker.get(PRUNED).and_then(Value::as_bool).unwrap_or(false)
}

/// The winner's id a losing twin names; anything but a non-empty string is none.
fn read_duplicate_of(marker: &Map<String, Value>) -> Option<String> {
    marker
        .get(DUPLICATE_OF)
        .and_then(Value::as_str)
        .filter(|id| !id.is_empty())
        .map(str::to_owned)
}

/// The marker of agent `id`, for listing: a malformed one reads as unmanaged (and is logged),
/// since failing the whole list for one odd agent would stop every other agent's sync. A
/// `protect` that is not a boolean reads as protected, and is logged.
///
/// The losing twin of a race of creates (`duplicate_of`) reads as unmanaged too: it no longer
/// claims its key, so the winner alone is the agent of that key.
pub fn read_or_unmanaged(object: Option<&Value>, id: &str) -> Option<Marker> {
    match read(object) {
        Ok(Some(marker)) if marker.duplicate_of.is_some() => {
            tracing::debug!(
                agent = id,
                key = %marker.key,
                "this agent is the archived twin of another agent of its key; it claims no key"
            );
            None
        }
        Ok(marker) => {
            if let Some(value) = odd_protect(object) {
                tracing::warn!(
                    agent = id,
                    protect = %value,
                    "the agentsync marker's `protect` of this agent is not true or false; the agent is treated as protected and is never archived or deleted. Set `protect` to true or false (a JSON boolean) in the marker on the platform, or apply a definition with this key, which rewrites the marker"
                );
            }
            marker
        }
        Err(malformed) => {
            tracing::warn!(
                agent = id,
                problem = %malformed,
                "the agentsync marker of this agent is malformed; treating it as unmanaged"
            );
            None
        }
    }
}

/// Takes the marker out of `object`, so that what is left is the user's own.
pub fn strip(object: &mut Map<String, Value>) {
    object.remove(MARKER);
}

/// The name of the entry agentsync owns, which a definition may not set itself.
pub const RESERVED: &str = MARKER;

/// The key an agent's free-form object carries: `None` when there is no marker (properties
/// absent, `null`, not an object, or without the entry), an error when the marker is there but
/// unreadable.
pub fn read(properties: Option<&Value>) -> Result<Option<Marker>, MalformedMarker> {
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
    let protect = match marker.get(PROTECT) {
        None => false,
        Some(Value::Bool(protect)) => *protect,
        // Failing safe: a hand edit that is not a boolean still meant something.
        Some(_) => true,
    };
    Key::parse(key)
        .map(|key| {
            Some(Marker {
                pruned: read_pruned(marker),
                duplicate_of: read_duplicate_of(marker),
                ..Marker::new(key, protect)
            })
        })
        .map_err(|reason| MalformedMarker::BadKey {
            key: key.to_owned(),
            reason,
        })
}

/// The marker's `protect`, as compact JSON, when it is there and not a boolean.
pub fn odd_protect(properties: Option<&Value>) -> Option<String> {
    let protect = properties?
        .as_object()?
        .get(MARKER)?
        .as_object()?
        .get(PROTECT)?;
    (!protect.is_boolean()).then(|| protect.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn owner(text: &str) -> Marker {
        Marker::new(Key::parse(text).expect("a valid key"), false)
    }

    #[test]
    fn protection_is_written_only_when_set_and_reads_back() {
        let mut properties = Map::new();
        let protected = Marker {
            protect: true,
            ..owner("bot")
        };
        write(&mut properties, &protected);
        assert_eq!(
            Value::Object(properties.clone()),
            json!({"agentsync": {"key": "bot", "protect": true}})
        );
        assert_eq!(
            read(Some(&Value::Object(properties.clone()))),
            Ok(Some(protected))
        );
        write(&mut properties, &owner("bot"));
        assert_eq!(
            Value::Object(properties),
            json!({"agentsync": {"key": "bot"}})
        );
    }

    #[test]
    fn pruned_and_duplicate_of_are_written_only_when_set_and_read_back() {
        let mut properties = Map::new();
        let pruned = Marker {
            pruned: true,
            ..owner("bot")
        };
        write(&mut properties, &pruned);
        assert_eq!(
            Value::Object(properties.clone()),
            json!({"agentsync": {"key": "bot", "pruned": true}})
        );
        assert_eq!(
            read(Some(&Value::Object(properties.clone()))),
            Ok(Some(pruned))
        );
        write(&mut properties, &owner("bot"));
        assert_eq!(
            Value::Object(properties.clone()),
            json!({"agentsync": {"key": "bot"}})
        );
        let twin = Marker {
            duplicate_of: Some("7".into()),
            ..owner("bot")
        };
        write(&mut properties, &twin);
        let object = Value::Object(properties);
        assert_eq!(
            object,
            json!({"agentsync": {"key": "bot", "duplicate_of": "7"}})
        );
        assert_eq!(read(Some(&object)), Ok(Some(twin)));
        assert_eq!(
            read_or_unmanaged(Some(&object), "8"),
            None,
            "a twin claims no key"
        );
    }

    #[test]
    fn a_written_marker_reads_back_as_its_key() {
        let mut properties = Map::new();
        write(&mut properties, &owner("support-bot"));
        assert_eq!(
            Value::Object(properties.clone()),
            json!({"agentsync": {"key": "support-bot"}})
        );
        assert_eq!(
            read(Some(&Value::Object(properties))),
            Ok(Some(owner("support-bot")))
        );
    }

    #[test]
    fn writing_keeps_the_other_properties() {
        let mut properties = json!({"team": "billing", "agentsync": {"key": "old", "since": 1}})
            .as_object()
            .cloned()
            .expect("an object");
        write(&mut properties, &owner("new"));
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

    #[test]
    fn a_protect_that_is_not_a_boolean_reads_as_protected_and_is_named() {
        for odd in [
            json!("yes"),
            json!("false"),
            json!(0),
            json!(null),
            json!({}),
        ] {
            let properties = json!({"agentsync": {"key": "bot", "protect": odd}});
            assert_eq!(
                read(Some(&properties)),
                Ok(Some(Marker {
                    protect: true,
                    ..owner("bot")
                })),
                "{odd}"
            );
            assert_eq!(odd_protect(Some(&properties)), Some(odd.to_string()));
            assert_eq!(
                read_or_unmanaged(Some(&properties), "id-1").map(|m| m.protect),
                Some(true)
            );
        }
        for (value, protect) in [(json!(true), true), (json!(false), false)] {
            let properties = json!({"agentsync": {"key": "bot", "protect": value}});
            assert_eq!(
                read(Some(&properties)).map(|m| m.map(|m| m.protect)),
                Ok(Some(protect))
            );
            assert_eq!(odd_protect(Some(&properties)), None);
        }
        assert_eq!(
            odd_protect(Some(&json!({"agentsync": {"key": "bot"}}))),
            None
        );
    }

    #[test]
    fn writing_a_marker_replaces_an_odd_protect_with_a_boolean() {
        let mut properties = json!({"agentsync": {"key": "bot", "protect": "yes"}})
            .as_object()
            .cloned()
            .expect("an object");
        write(&mut properties, &owner("bot"));
        assert_eq!(
            Value::Object(properties),
            json!({"agentsync": {"key": "bot"}})
        );
    }
}
