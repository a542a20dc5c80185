//! A stable digest of what was observed for an agent, so a saved plan can tell whether the
//! platform changed since it was made.

use std::fmt::Write as _;

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::plan::ObservedAgent;

/// SHA-256 over the canonical JSON of the agent's fields, lifecycle and content. A digest, not
/// the values: a saved plan must not carry what the platform holds in clear.
pub fn of_agent(agent: &ObservedAgent) -> String {
    let content = agent.content.as_ref().map(|c| {
        serde_json::json!({
            "draft": c.draft.as_ref().map(|d| d.digest().to_hex()),
            "live": c.live.as_ref().map(|l| l.digest().to_hex()),
            "live_version": c.live_version,
        })
    });
    let doc = serde_json::json!({
        "id": agent.agent.id,
        "key": agent.agent.key,
        "fields": Value::Object(agent.agent.fields.clone()),
        "lifecycle": agent.agent.lifecycle,
        "content": content,
    });
    let mut canonical = String::new();
    write_canonical(&mut canonical, &doc);
    let digest = Sha256::digest(canonical.as_bytes());
    digest
        .iter()
        .fold(String::with_capacity(64), |mut hex, byte| {
            let _ = write!(hex, "{byte:02x}");
            hex
        })
}

/// JSON with keys sorted, `null` members dropped and integral floats written as integers.
fn write_canonical(out: &mut String, value: &Value) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().filter(|k| !map[*k].is_null()).collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(out, &map[key]);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(out, item);
            }
            out.push(']');
        }
        Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() < 1e15 => {
                let _ = write!(out, "{}", f as i64);
            }
            _ => out.push_str(&n.to_string()),
        },
        other => out.push_str(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn key_order_and_number_encoding_do_not_change_the_canonical_form() {
        let mut a = String::new();
        let mut b = String::new();
        write_canonical(&mut a, &json!({"b": 30, "a": [1, {"y": null, "x": 2.0}]}));
        write_canonical(&mut b, &json!({"a": [1, {"x": 2}], "b": 30.0}));
        assert_eq!(a, b);
    }
}
