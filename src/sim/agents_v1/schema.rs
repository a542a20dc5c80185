//! The request models of Agents v1 as the contract describes them: the writable fields and
//! their types (item 9), the fields each architecture requires (item 7, the docs' table), and
//! the query parameters of each route (item 5).

use serde_json::{Map, Value};

use super::envelope::Detail;
use crate::sim::fastapi::Query;

/// The JSON type a writable field must have. `null` is never one (item 8: a field left out is
/// not managed, so `null` can only be a client's bug).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Text,
    OneOf(&'static [&'static str]),
    /// A number from 0 to 2.
    Temperature,
    Bool,
    TextList,
}

pub(crate) const ARCHITECTURES: &[&str] = &["pipeline", "realtime", "text"];
pub(crate) const MODES: &[&str] = &["public", "private", "commercial"];
/// The mode of an agent created without one; the only one a member may update or delete.
pub(crate) const PRIVATE: &str = "private";
const MAX_TEMPERATURE: f64 = 2.0;

/// The writable fields, in the order an agent is answered (the docs' get, `realtimeProvider`
/// after `voiceId`).
pub(crate) const FIELDS: &[(&str, Kind)] = &[
    ("name", Kind::Text),
    ("agentArchitecture", Kind::OneOf(ARCHITECTURES)),
    ("model", Kind::Text),
    ("stt", Kind::Text),
    ("tts", Kind::Text),
    ("voiceId", Kind::Text),
    ("realtimeProvider", Kind::Text),
    ("systemPrompt", Kind::Text),
    ("language", Kind::Text),
    ("mode", Kind::OneOf(MODES)),
    ("active", Kind::Bool),
    ("temperature", Kind::Temperature),
    ("enabledFunctions", Kind::TextList),
    ("enabledCustomFunctions", Kind::TextList),
];

/// Required whatever the architecture.
const ALWAYS_REQUIRED: [&str; 3] = ["name", "agentArchitecture", "systemPrompt"];

/// What an architecture requires beyond [`ALWAYS_REQUIRED`] (none for an unknown one, which
/// is refused on its own).
fn required_by(architecture: &str) -> &'static [&'static str] {
    match architecture {
        "pipeline" => &["model", "stt", "tts"],
        "realtime" => &["realtimeProvider"],
        "text" => &["model"],
        _ => &[],
    }
}

/// Checks each field of a body on its own: a writable field, of its type. Problems come in the
/// body's order.
pub(crate) fn check_fields(body: &Map<String, Value>) -> Vec<Detail> {
    body.iter()
        .filter_map(|(name, value)| {
            let Some((_, kind)) = FIELDS.iter().find(|(field, _)| field == name) else {
                return Some(Detail::new(name, "is not a writable field of an agent"));
            };
            let problem = wrong_type(*kind, value)?;
            let problem = if value.is_null() {
                format!("{problem}, not null (leave the field out instead)")
            } else {
                problem
            };
            Some(Detail::new(name, problem))
        })
        .collect()
}

/// What is wrong with `value` for `kind`, if anything.
fn wrong_type(kind: Kind, value: &Value) -> Option<String> {
    let fits = match kind {
        Kind::Text => value.is_string(),
        Kind::OneOf(allowed) => value.as_str().is_some_and(|text| allowed.contains(&text)),
        Kind::Temperature => value
            .as_f64()
            .is_some_and(|number| (0.0..=MAX_TEMPERATURE).contains(&number)),
        Kind::Bool => value.is_boolean(),
        Kind::TextList => value
            .as_array()
            .is_some_and(|items| items.iter().all(Value::is_string)),
    };
    if fits {
        return None;
    }
    Some(match kind {
        Kind::Text => "must be a string".to_owned(),
        Kind::OneOf(allowed) => format!("must be one of {}", allowed.join(", ")),
        Kind::Temperature => format!("must be a number from 0 to {MAX_TEMPERATURE}"),
        Kind::Bool => "must be true or false".to_owned(),
        Kind::TextList => "must be a list of strings".to_owned(),
    })
}

/// The required fields that a whole agent (a create's body, or an agent with an update merged
/// in) lacks: absent, or a blank string. A field of the wrong type is not reported here but by
/// [`check_fields`].
pub(crate) fn missing(agent: &Map<String, Value>) -> Vec<Detail> {
    let architecture = agent
        .get("agentArchitecture")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let by_architecture = required_by(architecture);
    FIELDS
        .iter()
        .filter_map(|(name, _)| {
            let always = ALWAYS_REQUIRED.contains(name);
            if !always && !by_architecture.contains(name) {
                return None;
            }
            match agent.get(*name) {
                Some(Value::String(text)) if text.trim().is_empty() => {
                    Some(Detail::new(name, "must not be blank"))
                }
                Some(_) => None,
                None if always => Some(Detail::new(name, "is required")),
                None => Some(Detail::new(
                    name,
                    format!("is required for a {architecture} agent"),
                )),
            }
        })
        .collect()
}

/// `GET /v1/agents`: `page` from 1 (default 1), `limit` from 1 to 100 (default 20), and the
/// documented `mode` filter.
pub(crate) const LIST_QUERY: &[&str] = &["page", "limit", "mode"];
pub(crate) const DEFAULT_LIMIT: u32 = 20;
pub(crate) const MAX_LIMIT: u32 = 100;

/// Routes that declare no query parameter.
pub(crate) const NO_QUERY: &[&str] = &[];

/// Refuses the query parameters a route does not declare.
pub(crate) fn check_query_names(query: &Query, allowed: &[&str]) -> Vec<Detail> {
    query
        .names()
        .filter(|name| !allowed.contains(name))
        .map(|name| Detail::new(name, "is not a query parameter of this route"))
        .collect()
}

/// An integer query parameter from `min` to `max` (`default` when absent, and when invalid,
/// which is reported).
pub(crate) fn query_int(
    query: &Query,
    name: &str,
    default: u32,
    (min, max): (u32, Option<u32>),
    details: &mut Vec<Detail>,
) -> u32 {
    let Some(raw) = query.get(name) else {
        return default;
    };
    let parsed = raw.trim().parse::<i64>().ok();
    let in_range = parsed
        .filter(|value| *value >= i64::from(min) && max.is_none_or(|max| *value <= i64::from(max)));
    match in_range.and_then(|value| u32::try_from(value).ok()) {
        Some(value) => value,
        None => {
            let range = match max {
                Some(max) => format!("an integer from {min} to {max}"),
                None => format!("an integer of {min} or more"),
            };
            details.push(Detail::new(name, format!("must be {range}, not `{raw}`")));
            default
        }
    }
}

/// A query parameter restricted to some strings; `None` when absent, and when invalid, which
/// is reported.
pub(crate) fn query_one_of(
    query: &Query,
    name: &str,
    allowed: &'static [&'static str],
    details: &mut Vec<Detail>,
) -> Option<&'static str> {
    let raw = query.get(name)?;
    let found = allowed.iter().copied().find(|candidate| *candidate == raw);
    if found.is_none() {
        details.push(Detail::new(
            name,
            format!("must be one of {}, not `{raw}`", allowed.join(", ")),
        ));
    }
    found
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn object(value: Value) -> Map<String, Value> {
        value.as_object().cloned().expect("an object")
    }

    fn fields_of(details: &[Detail]) -> Vec<&str> {
        details.iter().map(|detail| detail.field.as_str()).collect()
    }

    #[test]
    fn each_architecture_requires_the_fields_of_the_docs_table() {
        let base = json!({ "name": "A", "systemPrompt": "p" });
        let lacks = |architecture: &str| {
            let mut agent = object(base.clone());
            agent.insert("agentArchitecture".to_owned(), json!(architecture));
            fields_of(&missing(&agent))
                .into_iter()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        assert_eq!(lacks("pipeline"), ["model", "stt", "tts"]);
        assert_eq!(lacks("realtime"), ["realtimeProvider"]);
        assert_eq!(lacks("text"), ["model"]);
        assert_eq!(
            fields_of(&missing(&Map::new())),
            ["name", "agentArchitecture", "systemPrompt"],
            "without an architecture only the fields every one requires are known"
        );
    }

    #[test]
    fn a_missing_field_says_which_architecture_requires_it_and_a_blank_one_counts_as_missing() {
        let agent = object(json!({
            "name": " ", "agentArchitecture": "realtime", "systemPrompt": "p", "model": ""
        }));
        assert_eq!(
            missing(&agent),
            [
                Detail::new("name", "must not be blank"),
                Detail::new("realtimeProvider", "is required for a realtime agent"),
            ],
            "a blank model is fine where no model is required"
        );
    }

    #[test]
    fn every_writable_field_is_type_checked_and_null_is_refused() {
        let body = object(json!({
            "name": 5,
            "agentArchitecture": "voice",
            "mode": "secret",
            "temperature": 2.5,
            "active": "yes",
            "enabledFunctions": ["a", 1],
            "enabledCustomFunctions": "a",
            "language": null,
            "id": "agent_x",
        }));
        assert_eq!(
            check_fields(&body),
            [
                Detail::new("name", "must be a string"),
                Detail::new(
                    "agentArchitecture",
                    "must be one of pipeline, realtime, text"
                ),
                Detail::new("mode", "must be one of public, private, commercial"),
                Detail::new("temperature", "must be a number from 0 to 2"),
                Detail::new("active", "must be true or false"),
                Detail::new("enabledFunctions", "must be a list of strings"),
                Detail::new("enabledCustomFunctions", "must be a list of strings"),
                Detail::new(
                    "language",
                    "must be a string, not null (leave the field out instead)"
                ),
                Detail::new("id", "is not a writable field of an agent"),
            ]
        );
    }

    #[test]
    fn a_temperature_from_0_to_2_and_empty_lists_are_accepted() {
        for temperature in [json!(0), json!(0.7), json!(2), json!(2.0)] {
            let body = object(json!({ "temperature": temperature, "enabledFunctions": [] }));
            assert_eq!(check_fields(&body), [], "{temperature}");
        }
        let below = object(json!({ "temperature": -0.1 }));
        assert_eq!(fields_of(&check_fields(&below)), ["temperature"]);
    }

    #[test]
    fn limit_is_an_integer_from_1_to_100_and_page_from_1() {
        let read = |raw: &str| {
            let query = Query::parse(Some(raw));
            let mut details = Vec::new();
            let page = query_int(&query, "page", 1, (1, None), &mut details);
            let limit = query_int(
                &query,
                "limit",
                DEFAULT_LIMIT,
                (1, Some(MAX_LIMIT)),
                &mut details,
            );
            (page, limit, fields_of(&details).join(","))
        };
        assert_eq!(read(""), (1, 20, String::new()));
        assert_eq!(read("page=3&limit=100"), (3, 100, String::new()));
        assert_eq!(read("limit=1"), (1, 1, String::new()));
        assert_eq!(read("limit=0").2, "limit");
        assert_eq!(read("limit=101").2, "limit");
        assert_eq!(read("limit=ten").2, "limit");
        assert_eq!(read("limit=1.5").2, "limit");
        assert_eq!(read("page=0").2, "page");
        assert_eq!(read("page=-1&limit=-1").2, "page,limit");
    }
}
