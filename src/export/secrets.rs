//! Which exported values are secrets, and the `${env:...}` placeholders that stand for them.
//!
//! A value is a secret when the key it sits under names one (`token`, `secret`, `password`,
//! `api_key`, `authorization`, ...), or when it is the `value` beside a `name` that does (the
//! `[{name: API_KEY, value: ...}]` shape of variables and headers). Only strings are secrets:
//! `max_tokens: 512` is not one, and neither is a mapping (`authorization: {type: no-auth}` is
//! looked into instead). Platform templates (`{{#env.TOKEN#}}`) are references, not secrets.

use std::collections::BTreeMap;

use crate::model::{FieldPath, Key};
use crate::spec::interpolate::is_env_name;

/// Last words of a key that name a secret.
const SECRET_WORDS: &[&str] = &[
    "token",
    "secret",
    "password",
    "passwd",
    "passphrase",
    "pwd",
    "credential",
    "credentials",
    "apikey",
    "authorization",
    "cookie",
];

/// Last two words of a key that name a secret (`api_key`, `x-api-key`, `privateKey`).
const SECRET_PAIRS: &[(&str, &str)] = &[
    ("api", "key"),
    ("private", "key"),
    ("access", "key"),
    ("secret", "key"),
    ("signing", "key"),
    ("encryption", "key"),
    ("client", "secret"),
    ("session", "id"),
];

/// Keys that name the variable or header whose `value` sits beside them.
const NAME_KEYS: &[&str] = &["name", "key", "variable", "header"];

/// The key that holds the value in a `{name: ..., value: ...}` object.
pub const VALUE_KEY: &str = "value";

/// The words of a key: split at `_`, `-`, `.`, spaces and lowercase-to-uppercase changes.
fn words(key: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut previous_lower = false;
    for c in key.chars() {
        if !c.is_alphanumeric() {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            previous_lower = false;
            continue;
        }
        if c.is_uppercase() && previous_lower && !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
        previous_lower = c.is_lowercase() || c.is_ascii_digit();
        current.extend(c.to_lowercase());
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// Whether a key names a secret: its last word is one of `SECRET_WORDS`, or its last two words
/// are one of `SECRET_PAIRS`. `token_type`, `max_tokens` and `secret_name` are not secrets.
pub fn names_secret(key: &str) -> bool {
    let words = words(key);
    let Some(last) = words.last() else {
        return false;
    };
    if SECRET_WORDS.contains(&last.as_str()) {
        return true;
    }
    words.len() >= 2 && {
        let before = &words[words.len() - 2];
        SECRET_PAIRS.iter().any(|(a, b)| before == a && last == b)
    }
}

/// Whether a string under a secret key holds a secret (and not nothing, or a template).
pub fn is_secret_value(text: &str) -> bool {
    !text.trim().is_empty() && !text.contains("{{")
}

/// The name of the variable or header an object describes, when it names a secret and the
/// object has a [`VALUE_KEY`] beside it.
pub fn named_secret(object: &serde_json::Map<String, serde_json::Value>) -> Option<&str> {
    if !object.contains_key(VALUE_KEY) {
        return None;
    }
    NAME_KEYS
        .iter()
        .filter_map(|k| object.get(*k).and_then(serde_json::Value::as_str))
        .find(|name| names_secret(name))
}

/// One environment variable the user must set for the exported definitions to load.
#[derive(Clone)]
pub struct Variable {
    pub name: String,
    /// The agent and the place in its definition where the placeholder stands.
    pub key: Key,
    pub path: FieldPath,
    /// The value it must hold: never printed, never written; kept to check the export.
    pub value: crate::http::Secret,
}

impl std::fmt::Debug for Variable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Variable")
            .field("name", &self.name)
            .field("key", &self.key)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// Hands out variable names, one per agent, secret name and value: the same secret used twice
/// in one agent is one variable.
#[derive(Debug, Default)]
pub struct Placeholders {
    pub variables: Vec<Variable>,
    by_use: BTreeMap<(Key, String, String), usize>,
}

impl Placeholders {
    /// The placeholder for `value`, a secret named `secret` at `path` in agent `key`.
    pub fn placeholder(
        &mut self,
        key: &Key,
        secret: &str,
        path: &FieldPath,
        value: &str,
    ) -> String {
        let use_ = (key.clone(), secret.to_string(), value.to_string());
        if let Some(&index) = self.by_use.get(&use_) {
            return format!("${{env:{}}}", self.variables[index].name);
        }
        let base = variable_base(key, secret);
        let mut name = base.clone();
        let mut n = 2;
        while self.variables.iter().any(|v| v.name == name) {
            name = format!("{base}_{n}");
            n += 1;
        }
        self.by_use.insert(use_, self.variables.len());
        self.variables.push(Variable {
            name: name.clone(),
            key: key.clone(),
            path: path.clone(),
            value: crate::http::Secret::new(value),
        });
        format!("${{env:{name}}}")
    }
}

/// `SUPPORT_BOT_API_KEY` for the secret `api_key` of agent `support-bot`: uppercase letters,
/// digits and single underscores, never starting with a digit.
fn variable_base(key: &Key, secret: &str) -> String {
    let mut name = String::new();
    for part in [key.as_str(), secret] {
        for word in words(part) {
            let word: String = word
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .map(|c| c.to_ascii_uppercase())
                .collect();
            if word.is_empty() {
                continue;
            }
            if !name.is_empty() {
                name.push('_');
            }
            name.push_str(&word);
        }
    }
    if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        name.insert_str(0, "AGENT_");
    }
    debug_assert!(is_env_name(&name), "{name}");
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_naming_secrets_are_recognized_by_their_last_words() {
        for key in [
            "token",
            "api_key",
            "apiKey",
            "OPENAI_API_KEY",
            "x-api-key",
            "Authorization",
            "client_secret",
            "db_password",
            "privateKey",
            "BILLING_API_TOKEN",
        ] {
            assert!(names_secret(key), "{key}");
        }
        for key in [
            "max_tokens",
            "token_type",
            "secret_name",
            "key",
            "name",
            "SUPPORT_API_BASE",
            "password_hint",
            "monkey",
        ] {
            assert!(!names_secret(key), "{key}");
        }
    }

    #[test]
    fn templates_and_blanks_are_not_secret_values() {
        assert!(is_secret_value("sk-live-123"));
        assert!(!is_secret_value("  "));
        assert!(!is_secret_value("Bearer {{#env.TOKEN#}}"));
    }

    #[test]
    fn a_name_beside_a_value_can_name_the_secret() {
        let object = serde_json::json!({"name": "API_KEY", "value": "x"});
        assert_eq!(named_secret(object.as_object().unwrap()), Some("API_KEY"));
        let object = serde_json::json!({"name": "REGION", "value": "x"});
        assert_eq!(named_secret(object.as_object().unwrap()), None);
    }

    #[test]
    fn variables_are_named_after_the_agent_and_the_secret_and_never_clash() {
        let mut placeholders = Placeholders::default();
        let key = Key::parse("2fa-bot").unwrap();
        let path = FieldPath::root().field("flow");
        assert_eq!(
            placeholders.placeholder(&key, "apiKey", &path, "a"),
            "${env:AGENT_2FA_BOT_API_KEY}"
        );
        assert_eq!(
            placeholders.placeholder(&key, "api_key", &path, "b"),
            "${env:AGENT_2FA_BOT_API_KEY_2}"
        );
        assert_eq!(
            placeholders.placeholder(&key, "apiKey", &path, "a"),
            "${env:AGENT_2FA_BOT_API_KEY}",
            "the same secret is one variable"
        );
        assert_eq!(placeholders.variables.len(), 2);
        assert!(!format!("{:?}", placeholders.variables).contains("\"a\""));
    }
}
