//! Random JSON values for property tests, shared so that every test explores the same kinds of
//! value: `null`s, booleans, integers up to `u64`, fractional and integral floats, and strings
//! and names drawn from what each test needs; and texts with one character changed.

use proptest::prelude::*;
use serde_json::{Value, json};

/// Values nested up to 4 deep, with member names matching `names` and strings matching
/// `strings` (regular expressions, as proptest reads them).
pub fn json_value(names: &'static str, strings: &'static str) -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        (-1e6f64..1e6).prop_map(|f| json!(f)),
        (-1000i32..1000).prop_map(|n| json!(f64::from(n))),
        strings.prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 5, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(names, inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// `value` as JSON text, pretty-printed (as editors export) or compact.
pub fn json_text(value: &impl serde::Serialize, pretty: bool) -> String {
    let text = if pretty {
        serde_json::to_string_pretty(value)
    } else {
        serde_json::to_string(value)
    };
    text.expect("JSON values and documents always serialize")
}

/// Puts `put` into `text` before the character that `at` picks, or takes that character out:
/// most texts so changed are broken, which is what a reader's fast path must give up on.
pub fn change_one_character(text: &mut String, at: prop::sample::Index, put: Option<char>) {
    let boundaries: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
    if boundaries.is_empty() {
        if let Some(c) = put {
            text.push(c);
        }
        return;
    }
    let place = boundaries[at.index(boundaries.len())];
    match put {
        Some(c) => text.insert(place, c),
        None => {
            text.remove(place);
        }
    }
}
