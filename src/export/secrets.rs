//! Which exported values are secrets, and the `${env:...}` placeholders that stand for them.
//!
//! A value is a secret when the key it sits under names one (`token`, `secret`, `password`,
//! `api_key`, `authorization`, ...), or when it is the `value` beside a `name` that does (the
//! `[{name: API_KEY, value: ...}]` shape of variables and headers). Only strings are secrets:
//! `max_tokens: 512` is not one, and neither is a mapping (`authorization: {type: no-auth}` is
//! looked into instead). Platform templates (`{{#env.TOKEN#}}`) are references, not secrets.
//!
//! A file that export rewrites keeps the `${env:...}` references it had ([`FromEnv`]), and no
//! value a reference stands for, nor any value found to be a secret, is written anywhere in
//! clear ([`Shared`]).

use std::collections::BTreeMap;

use crate::model::{FieldPath, Key};
use crate::provider::http::Secret;
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
    pub value: Secret,
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

/// A string that an existing definition took from the environment.
#[derive(Debug, Clone)]
pub struct FromEnv {
    /// Where it stands in the definition.
    pub path: FieldPath,
    /// As the file writes it: `${env:QA_S1}`, `Bearer ${env:QA_S1}`.
    pub written: String,
    /// What it loads as.
    pub value: Secret,
}

/// An environment variable that an existing definition names, and its value.
#[derive(Debug, Clone)]
pub struct Known {
    pub name: String,
    pub value: Secret,
}

/// Secrets shorter than this are not looked for inside longer strings: a two-letter value
/// would turn up in every prompt. A variable's value this short is not looked for in other
/// agents either (only in the file that named it): `${env:DEBUG}` set to `1` must not make
/// every other agent's `"1"` depend on that variable.
pub const MIN_INSIDE: usize = 8;

/// The secret values an export knows (the environment's values that existing definitions
/// read, then the values found under secret names), each with the reference that stands for it.
#[derive(Debug, Default)]
pub struct Shared {
    /// From the environment: these win over a new placeholder.
    env: Vec<(Secret, String)>,
    /// Found under secret names by this export.
    found: Vec<(Secret, String)>,
}

impl Shared {
    /// The values existing definitions took from these variables, those of [`MIN_INSIDE`]
    /// characters or more.
    pub fn from_env<'k>(known: impl IntoIterator<Item = &'k Known>) -> Shared {
        let mut shared = Shared::default();
        for k in known {
            if k.value.expose().chars().count() >= MIN_INSIDE {
                shared.env.push((k.value.clone(), reference(&k.name)));
            }
        }
        shared
    }

    /// Adds the values that placeholders stand for.
    pub fn add_found(&mut self, variables: &[Variable]) {
        for v in variables {
            self.found.push((v.value.clone(), reference(&v.name)));
        }
    }

    fn all(&self) -> impl Iterator<Item = &(Secret, String)> {
        self.env.iter().chain(&self.found)
    }

    /// The reference to a variable of the environment whose value is exactly `text`.
    pub fn env_whole(&self, text: &str) -> Option<&str> {
        self.env
            .iter()
            .find(|(value, _)| value.expose() == text)
            .map(|(_, reference)| reference.as_str())
    }

    /// `text` as the file writes it: `${` escaped, and every secret in it (a whole string of
    /// any length, or [`MIN_INSIDE`] characters or more inside it) as its reference.
    pub fn rewrite(&self, text: &str) -> String {
        if let Some((_, reference)) = self.all().find(|(value, _)| value.expose() == text) {
            return reference.clone();
        }
        let mut out = String::new();
        let mut rest = text;
        while let Some((at, value, reference)) = self.first_inside(rest) {
            out.push_str(&super::escape(&rest[..at]));
            out.push_str(reference);
            rest = &rest[at + value.len()..];
        }
        out.push_str(&super::escape(rest));
        out
    }

    /// Whether `text` holds a secret in clear (as [`Shared::rewrite`] finds them).
    pub fn exposes(&self, text: &str) -> bool {
        self.all().any(|(value, _)| value.expose() == text) || self.first_inside(text).is_some()
    }

    /// The first secret inside `text`, the longest of those that start there.
    fn first_inside<'s>(&'s self, text: &str) -> Option<(usize, &'s str, &'s str)> {
        self.all()
            .map(|(value, reference)| (value.expose(), reference.as_str()))
            .filter(|(value, _)| value.chars().count() >= MIN_INSIDE)
            .filter_map(|(value, reference)| text.find(value).map(|at| (at, value, reference)))
            .min_by(|a, b| a.0.cmp(&b.0).then(b.1.len().cmp(&a.1.len())))
    }
}

fn reference(name: &str) -> String {
    format!("${{env:{name}}}")
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
            value: Secret::new(value),
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
