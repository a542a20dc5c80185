//! Provider-neutral types: agent keys, field paths, and the desired state read from definitions.
//!
//! Documents are canonical JSON (`serde_json::Value`); their field names are the definition
//! format's own, and only a provider maps them to its platform's payloads. An agent's flow is
//! a [`content::Content`]: its JSON text, compared by canonical form. [`diff`] says when two
//! documents count as equal and which fields differ.

pub mod content;
pub mod diff;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use content::Content;

/// A JSON object: the fields of an agent, or of its flow.
pub type Document = serde_json::Map<String, Value>;

/// An agent's identity across renames: `[a-z0-9][a-z0-9-]*`, stored on the remote agent.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Key(String);

/// Keys longer than this are refused: they end up in URLs, labels and platform metadata.
pub const MAX_KEY_LEN: usize = 63;

impl Key {
    /// Checks the key's form; the error says what is wrong with it.
    pub fn parse(text: &str) -> Result<Key, InvalidKey> {
        let mut chars = text.chars();
        let first_ok = chars
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
        let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !first_ok || !rest_ok {
            return Err(InvalidKey::Form);
        }
        if text.len() > MAX_KEY_LEN {
            return Err(InvalidKey::TooLong);
        }
        Ok(Key(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Key {
    type Error = InvalidKey;
    fn try_from(text: String) -> Result<Key, InvalidKey> {
        Key::parse(&text)
    }
}

impl From<Key> for String {
    fn from(key: Key) -> String {
        key.0
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvalidKey {
    #[error("must match [a-z0-9][a-z0-9-]*: lowercase letters, digits and dashes")]
    Form,
    #[error("must be at most {MAX_KEY_LEN} characters")]
    TooLong,
}

/// A place inside a document, written as users read it: `flow.graph.nodes[3].data.prompt`.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct FieldPath(Vec<Segment>);

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Segment {
    Field(String),
    Index(usize),
}

impl FieldPath {
    pub fn root() -> FieldPath {
        FieldPath(Vec::new())
    }

    pub fn field(&self, name: &str) -> FieldPath {
        let mut path = self.clone();
        path.0.push(Segment::Field(name.to_string()));
        path
    }

    pub fn index(&self, index: usize) -> FieldPath {
        let mut path = self.clone();
        path.0.push(Segment::Index(index));
        path
    }

    pub fn segments(&self) -> &[Segment] {
        &self.0
    }

    /// Descends into a field in place: a walk over a large tree pushes and pops one path
    /// instead of copying it at every node.
    pub fn push_field(&mut self, name: &str) {
        self.0.push(Segment::Field(name.to_string()));
    }

    /// Descends into a list element in place (see [`FieldPath::push_field`]).
    pub fn push_index(&mut self, index: usize) {
        self.0.push(Segment::Index(index));
    }

    /// Goes back up one level after a `push_*`.
    pub fn pop(&mut self) {
        self.0.pop();
    }

    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `self` is `other` or lies inside it.
    pub fn starts_with(&self, other: &FieldPath) -> bool {
        self.0.starts_with(&other.0)
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Field(name) if i == 0 => write!(f, "{name}")?,
                Segment::Field(name) => write!(f, ".{name}")?,
                Segment::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

impl From<FieldPath> for String {
    fn from(path: FieldPath) -> String {
        path.to_string()
    }
}

impl TryFrom<String> for FieldPath {
    type Error = String;
    /// Reads back what `Display` wrote (field names hold no `.` or `[`).
    fn try_from(text: String) -> Result<FieldPath, String> {
        let mut path = FieldPath::root();
        for part in text.split('.').filter(|p| !p.is_empty()) {
            let (name, mut rest) = part.split_at(part.find('[').unwrap_or(part.len()));
            if !name.is_empty() {
                path = path.field(name);
            }
            while let Some(stripped) = rest.strip_prefix('[') {
                let end = stripped
                    .find(']')
                    .ok_or_else(|| format!("unclosed index in '{text}'"))?;
                let index = stripped[..end]
                    .parse()
                    .map_err(|_| format!("bad index in '{text}'"))?;
                path = path.index(index);
                rest = &stripped[end + 1..];
            }
        }
        Ok(path)
    }
}

/// What agentsync records on a remote agent it manages: the definition's key, and whether the
/// agent is protected (so that prune can honour `protect: true` after the file is gone).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marker {
    pub key: Key,
    pub protect: bool,
    /// agentsync archived the agent because its definition was gone (`prune: archive`), so it
    /// restores the agent when the definition comes back.
    pub pruned: bool,
    /// The agent lost a race of two runs creating one key: it is a twin of the agent with this
    /// id, archived, and claims no key any more.
    pub duplicate_of: Option<String>,
}

impl Marker {
    /// The marker of an agent that agentsync manages as `key`, neither pruned nor a twin.
    pub fn new(key: Key, protect: bool) -> Marker {
        Marker {
            key,
            protect,
            pruned: false,
            duplicate_of: None,
        }
    }
}

/// Whether an agent should be live or archived. Left out of a definition, it is not managed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lifecycle {
    Active,
    Archived,
}

/// One agent as its definition file wants it.
#[derive(Debug, Clone, PartialEq)]
pub struct Definition {
    pub key: Key,
    /// The definition file, as the user would name it (relative to the configuration).
    pub file: PathBuf,
    /// The agent's fields that the file sets. A field left out is not managed.
    pub fields: Document,
    /// The agent's versioned content (its flow), managed whole when present.
    pub content: Option<Content>,
    pub lifecycle: Option<Lifecycle>,
    /// Overrides the configuration's `publish` for this agent.
    pub publish: Option<bool>,
    /// Never archived or deleted by agentsync.
    pub protect: bool,
    /// Names the agent had before a rename (`previous_names:`): an unmanaged agent of one of
    /// them is this definition's for `--adopt` and for the name checks.
    pub previous_names: Vec<String>,
    /// Paths whose values came from `${env:...}`: shown as `(sensitive)`, never in clear.
    pub sensitive: BTreeSet<FieldPath>,
    /// The text as written at each of those paths, `${env:...}` and all: what `export` writes
    /// back there, so that a file it rewrites keeps its references and never holds the values.
    pub env_texts: BTreeMap<FieldPath, String>,
    /// Agents whose remote ids the content refers to with `${agent:KEY}`.
    pub references: BTreeSet<Key>,
}

/// Every definition found, by key.
pub type Desired = BTreeMap<Key, Definition>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_lowercase_letters_digits_and_dashes() {
        assert!(Key::parse("support-bot").is_ok());
        assert!(Key::parse("2fa-helper").is_ok());
        assert_eq!(Key::parse("Support"), Err(InvalidKey::Form));
        assert_eq!(Key::parse("-lead"), Err(InvalidKey::Form));
        assert_eq!(Key::parse(""), Err(InvalidKey::Form));
        assert_eq!(Key::parse("a_b"), Err(InvalidKey::Form));
        assert_eq!(Key::parse(&"a".repeat(64)), Err(InvalidKey::TooLong));
    }

    #[test]
    fn field_paths_read_as_users_write_them_and_parse_back() {
        let path = FieldPath::root()
            .field("flow")
            .field("graph")
            .field("nodes")
            .index(3)
            .field("data");
        assert_eq!(path.to_string(), "flow.graph.nodes[3].data");
        assert_eq!(FieldPath::try_from(path.to_string()), Ok(path));
        let nested = FieldPath::root().field("m").index(0).index(2);
        assert_eq!(FieldPath::try_from(nested.to_string()), Ok(nested));
    }
}
