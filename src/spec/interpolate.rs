//! `${env:NAME}` and `${agent:KEY}` inside string values.
//!
//! `${env:NAME}` is replaced at load time and marks the value sensitive. `${agent:KEY}` stays in
//! the text (only apply knows remote ids) and is recorded as a reference. `$${` writes a literal
//! `${`. Any other `${...}` is left alone: flows carry template syntax of their own.

use crate::model::Key;

/// A string after substitution.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Interpolated {
    pub text: String,
    /// Whether any part came from the environment.
    pub sensitive: bool,
    /// The keys named by `${agent:KEY}`, in order of appearance.
    pub references: Vec<Key>,
    /// What `$${agent:NAME}` escaped, in order of appearance: the literal `${agent:NAME}` it
    /// leaves reads like a reference to NAME.
    pub escaped_references: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InterpolationError {
    MissingEnv(String),
    /// The text is malformed; the message says how.
    Malformed(String),
}

const ENV: &str = "${env:";
const AGENT: &str = "${agent:";

/// Substitutes `text`, looking variables up with `env`.
pub fn interpolate(
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Interpolated, InterpolationError> {
    let mut out = Interpolated::default();
    if !text.contains("${") {
        out.text = text.to_string();
        return Ok(out);
    }
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.text.push_str(&rest[..at]);
        let tail = &rest[at..];
        if let Some(after) = tail.strip_prefix("$${") {
            out.text.push_str("${");
            if let Some(name) = after.strip_prefix("agent:").and_then(|a| a.split_once('}')) {
                out.escaped_references.push(name.0.to_owned());
            }
            rest = after;
        } else if let Some(after) = tail.strip_prefix(ENV) {
            let (name, after) = closed(after, ENV)?;
            if !is_env_name(name) {
                return Err(InterpolationError::Malformed(format!(
                    "'{name}' is not an environment variable name"
                )));
            }
            let value = env(name).ok_or_else(|| InterpolationError::MissingEnv(name.into()))?;
            out.text.push_str(&value);
            out.sensitive = true;
            rest = after;
        } else if let Some(after) = tail.strip_prefix(AGENT) {
            let (key, after) = closed(after, AGENT)?;
            let key = Key::parse(key).map_err(|reason| {
                InterpolationError::Malformed(format!("${{agent:{key}}}: the key {reason}"))
            })?;
            out.text.push_str(&tail[..tail.len() - after.len()]);
            out.references.push(key);
            rest = after;
        } else {
            out.text.push('$');
            rest = &tail[1..];
        }
    }
    out.text.push_str(rest);
    Ok(out)
}

/// Splits `name}rest` into `name` and `rest`.
fn closed<'a>(after: &'a str, opener: &str) -> Result<(&'a str, &'a str), InterpolationError> {
    let end = after.find('}').ok_or_else(|| {
        InterpolationError::Malformed(format!("'{opener}' is never closed by '}}'"))
    })?;
    Ok((&after[..end], &after[end + 1..]))
}

/// Whether `name` is a portable environment variable name: `[A-Za-z_][A-Za-z0-9_]*`.
pub fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn env(name: &str) -> Option<String> {
        (name == "API_BASE").then(|| "https://api.example.com".to_string())
    }

    #[test]
    fn an_escaped_agent_reference_is_literal_text_and_is_noted_as_escaped() {
        let out = interpolate("call $${agent:billing} or ${agent:refunds}", &env).unwrap();
        assert_eq!(out.text, "call ${agent:billing} or ${agent:refunds}");
        assert_eq!(out.escaped_references, ["billing"]);
        assert_eq!(out.references.len(), 1);
        // Other escapes are not agent references.
        assert!(
            interpolate("$${env:X} $${other}", &env)
                .unwrap()
                .escaped_references
                .is_empty()
        );
    }

    #[test]
    fn env_references_are_replaced_and_mark_the_value_sensitive() {
        let out = interpolate("${env:API_BASE}/v1", &env).unwrap();
        assert_eq!(out.text, "https://api.example.com/v1");
        assert!(out.sensitive);
    }

    #[test]
    fn a_missing_variable_is_named() {
        assert_eq!(
            interpolate("${env:NOPE}", &env),
            Err(InterpolationError::MissingEnv("NOPE".into()))
        );
    }

    #[test]
    fn agent_references_stay_in_the_text_and_are_recorded() {
        let out = interpolate("call ${agent:billing-bot} now", &env).unwrap();
        assert_eq!(out.text, "call ${agent:billing-bot} now");
        assert_eq!(out.references, vec![Key::parse("billing-bot").unwrap()]);
        assert!(!out.sensitive);
    }

    #[test]
    fn other_templates_and_escapes_are_left_for_the_platform() {
        let out = interpolate("{{#sys.query#}} ${name} $${env:X} $5", &env).unwrap();
        assert_eq!(out.text, "{{#sys.query#}} ${name} ${env:X} $5");
        assert!(!out.sensitive);
    }

    #[test]
    fn unclosed_references_are_errors() {
        assert!(matches!(
            interpolate("${env:API_BASE", &env),
            Err(InterpolationError::Malformed(_))
        ));
        assert!(matches!(
            interpolate("${agent:Bad_Key}", &env),
            Err(InterpolationError::Malformed(_))
        ));
    }

    proptest! {
        #[test]
        fn interpolation_never_panics(text in "\\PC*") {
            let _ = interpolate(&text, &env);
        }

        #[test]
        fn text_without_references_is_unchanged(text in "[^$]*") {
            prop_assert_eq!(interpolate(&text, &env).unwrap().text, text);
        }
    }
}
