//! Remote agents -> definition files, for `agentsync export`: which agents, under which keys, in
//! which files, with which text.
//!
//! Provider-neutral: agents come as [`RemoteAgent`] and [`RemoteContent`] documents, already in
//! the definition format's field names, and the provider's [`DefinitionSchema`] says how they are
//! laid out in a file (which field is the content, which ones may live in a file of their own).
//! Pure: [`crate::ops::export`] reads the platform and [`mod@write`] writes the files.
//!
//! What makes the export lossless (a `plan --adopt` right after it shows only `adopt`):
//! - every field the platform holds and the format knows is written, `status` included;
//! - the content written is the draft (or the live version when there is no draft); when the
//!   draft is not what is live, `publish: false` keeps the next apply from publishing it;
//! - strings the loader would interpolate have `${` written as `$${`;
//! - secrets become `${env:NAME}` placeholders, listed for the user to set;
//! - the YAML writer ([`crate::text::yaml_emit`]) quotes whatever would read back differently.
//!
//! [`mod@write`] then loads every file it wrote back through the loader and compares.

pub mod keys;
pub mod secrets;
pub mod write;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

pub use keys::KeyFrom;
use secrets::{FromEnv, Known, Placeholders, Shared, Variable};

use crate::model::{Document, FieldPath, Key, Lifecycle};
use crate::provider::{Capabilities, RemoteAgent, RemoteContent};
use crate::spec::schema::{COMMON_FIELDS, DefinitionSchema, Field, Kind};

/// A graph (or any field that may live in a file of its own) longer than this many YAML lines
/// is written to its own JSON file.
pub const INLINE_LINES: usize = 300;

/// Why an export cannot be made or written. Nothing is written when any of these comes before
/// the first file.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("no agent on {platform} is named {} or has that id; nothing was written", quote_list(.values))]
    UnknownOnly {
        platform: String,
        values: Vec<String>,
    },
    #[error("--key-from code: {platform} has no code for {}; use --key-from name; nothing was written", quote_list(.agents))]
    NoCode {
        platform: String,
        agents: Vec<String>,
    },
    #[error("{} would be overwritten: {}; nothing was written. Run again with --force to overwrite {}", plural(.files.len(), "file"), path_list(.files), if .files.len() == 1 { "it" } else { "them" })]
    WouldOverwrite { files: Vec<PathBuf> },
    #[error(
        "--dir names one directory, but {count} targets are in force; choose one with --target NAME"
    )]
    DirNeedsTarget { count: usize },
    #[error(
        "agent '{key}': a secret would be written in clear at {path}, a field that cannot hold an ${{env:...}} reference; nothing was written. Remove the secret from the agent on the platform, or write its definition by hand"
    )]
    SecretInClear { key: Key, path: FieldPath },
    #[error("cannot write {}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read the directory {}", path.display())]
    ReadDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

fn quote_list(values: &[String]) -> String {
    values
        .iter()
        .map(|v| format!("'{v}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn path_list(files: &[PathBuf]) -> String {
    files
        .iter()
        .map(|f| f.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// One agent as the platform holds it; `content` when it was read.
#[derive(Debug, Clone)]
pub struct Remote {
    pub agent: RemoteAgent,
    pub content: Option<RemoteContent>,
}

/// A definition already in the directory (it may not load; its key was read).
#[derive(Debug, Clone)]
pub struct Existing {
    pub key: Key,
    /// The file, absolute.
    pub file: PathBuf,
    /// Its name field, when it loaded: an unmanaged agent of that name is what `plan --adopt`
    /// would pair it with.
    pub name: Option<String>,
    /// The strings it took from the environment, when it loaded: a file export rewrites keeps
    /// them as they are written.
    pub from_env: Vec<FromEnv>,
    /// The variables those strings name, with their values: no file may hold these in clear.
    pub env: Vec<Known>,
}

/// What to export, and where.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub schema: &'static DefinitionSchema,
    pub capabilities: Capabilities,
    /// The platform's name, for messages.
    pub platform: &'a str,
    /// The definitions directory, absolute.
    pub dir: &'a Path,
    pub existing: &'a [Existing],
    /// Every file under the directory, absolute: what a new file must not silently replace.
    pub occupied: &'a BTreeSet<PathBuf>,
    pub key_from: KeyFrom,
    /// Names or ids (`--only`); `None`: every agent not defined yet (every agent with
    /// `force`).
    pub only: Option<&'a [String]>,
    pub force: bool,
    /// The definition JSON Schema, absolute, for the editor line of each file.
    pub schema_file: Option<&'a Path>,
    pub inline_lines: usize,
}

/// Which agents an export takes, under which keys and files, before their content is read.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub chosen: Vec<Chosen>,
    /// Agents left out because a definition already has them.
    pub skipped: Vec<Skipped>,
}

/// An agent the export takes.
#[derive(Debug, Clone)]
pub struct Chosen {
    pub id: String,
    pub key: Key,
    /// The definition file: the existing one for the key, or a new one.
    pub file: PathBuf,
    /// The agent already carries agentsync's marker: no adoption needed.
    pub managed: bool,
}

/// An agent left out because the directory already defines it.
#[derive(Debug, Clone)]
pub struct Skipped {
    pub id: String,
    pub name: Option<String>,
    pub key: Key,
    pub file: PathBuf,
}

/// Everything an export writes.
#[derive(Debug, Default)]
pub struct Export {
    pub agents: Vec<ExportedAgent>,
    pub skipped: Vec<Skipped>,
    /// The variables the placeholders name, in order of appearance.
    pub variables: Vec<Variable>,
    /// The variables the existing definitions name, which the files may keep referring to.
    pub kept: Vec<Known>,
    /// Things left out, per agent: fields the definition format does not know.
    pub warnings: Vec<String>,
}

/// One agent's files, and what its definition must load as.
#[derive(Debug, Clone)]
pub struct ExportedAgent {
    pub key: Key,
    pub id: String,
    pub name: Option<String>,
    pub managed: bool,
    /// The definition first, then any file it includes.
    pub files: Vec<OutFile>,
    pub expected: Expected,
}

/// A file to write.
#[derive(Debug, Clone)]
pub struct OutFile {
    /// Absolute.
    pub path: PathBuf,
    pub text: String,
    /// A file is already there (only written with `--force`).
    pub exists: bool,
}

/// What the exported definition must load as, placeholders resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Expected {
    pub fields: Document,
    pub content: Option<Document>,
    pub lifecycle: Lifecycle,
    pub publish: Option<bool>,
    pub protect: bool,
}

fn name_of<'d>(fields: &'d Document, schema: &DefinitionSchema) -> Option<&'d str> {
    fields.get(schema.name_field?).and_then(Value::as_str)
}

/// Chooses the agents, their keys and their files. Agents that carry agentsync's marker keep
/// their key; an unmanaged agent that `plan --adopt` would pair with a definition not applied
/// yet (same name, first come) takes that definition's key and file; every other agent gets a
/// new key from its name or code.
pub fn select(request: &Request<'_>, remote: &[Remote]) -> Result<Selection, ExportError> {
    let schema = request.schema;
    let existing: BTreeMap<&Key, &Existing> =
        request.existing.iter().map(|e| (&e.key, e)).collect();
    let managed_keys: BTreeSet<&Key> = remote.iter().filter_map(|r| r.agent.key.as_ref()).collect();

    // The same pairing as the planner's: definitions in key order, each taking the first
    // unmanaged agent of its name not taken yet.
    let mut claimed: BTreeMap<usize, &Existing> = BTreeMap::new();
    for definition in existing.values() {
        if managed_keys.contains(&definition.key) {
            continue;
        }
        let Some(name) = &definition.name else {
            continue;
        };
        if let Some(index) = remote.iter().enumerate().position(|(i, r)| {
            r.agent.key.is_none()
                && !claimed.contains_key(&i)
                && name_of(&r.agent.fields, schema) == Some(name.as_str())
        }) {
            claimed.insert(index, definition);
        }
    }

    let mut unknown: Vec<String> = Vec::new();
    let mut wanted: BTreeSet<usize> = BTreeSet::new();
    for value in request.only.unwrap_or_default() {
        let matches: Vec<usize> = remote
            .iter()
            .enumerate()
            .filter(|(_, r)| {
                r.agent.id == *value || name_of(&r.agent.fields, schema) == Some(value.as_str())
            })
            .map(|(i, _)| i)
            .collect();
        if matches.is_empty() {
            unknown.push(value.clone());
        }
        wanted.extend(matches);
    }
    if !unknown.is_empty() {
        return Err(ExportError::UnknownOnly {
            platform: request.platform.to_string(),
            values: unknown,
        });
    }

    let mut taken: BTreeSet<Key> = existing.keys().map(|k| (*k).clone()).collect();
    taken.extend(managed_keys.iter().map(|k| (*k).clone()));
    let mut selection = Selection::default();
    let mut no_code = Vec::new();
    for (index, r) in remote.iter().enumerate() {
        let agent = &r.agent;
        let known: Option<(Key, Option<PathBuf>)> = match (&agent.key, claimed.get(&index)) {
            (Some(key), _) => Some((key.clone(), existing.get(key).map(|e| e.file.clone()))),
            (None, Some(definition)) => {
                Some((definition.key.clone(), Some(definition.file.clone())))
            }
            (None, None) => None,
        };
        let defined = known.as_ref().is_some_and(|(_, file)| file.is_some());
        let chosen = if request.only.is_none() {
            request.force || !defined
        } else {
            wanted.contains(&index)
        };
        if !chosen {
            if let Some((key, Some(file))) = known {
                selection.skipped.push(Skipped {
                    id: agent.id.clone(),
                    name: name_of(&agent.fields, schema).map(str::to_string),
                    key,
                    file,
                });
            }
            continue;
        }
        let (key, file) = match known {
            Some((key, Some(file))) => (key, file),
            Some((key, None)) => {
                let file = request.dir.join(format!("{key}.yaml"));
                (key, file)
            }
            None => {
                let source = match request.key_from {
                    KeyFrom::Name => name_of(&agent.fields, schema).unwrap_or(&agent.id),
                    KeyFrom::Code => match &agent.code {
                        Some(code) => code,
                        None => {
                            no_code.push(agent.id.clone());
                            continue;
                        }
                    },
                };
                let free = |key: &Key| {
                    !["yaml", "yml"].iter().any(|ext| {
                        request
                            .occupied
                            .contains(&request.dir.join(format!("{key}.{ext}")))
                    })
                };
                let key = keys::unique(&keys::slugify(source), &mut taken, free);
                let file = request.dir.join(format!("{key}.yaml"));
                (key, file)
            }
        };
        selection.chosen.push(Chosen {
            id: agent.id.clone(),
            key,
            file,
            managed: agent.key.is_some(),
        });
    }
    if !no_code.is_empty() {
        return Err(ExportError::NoCode {
            platform: request.platform.to_string(),
            agents: no_code,
        });
    }
    Ok(selection)
}

/// Builds the files of every chosen agent (`remote` holds their content when the format has
/// one), and refuses, listing them all, when any would replace a file without `force`.
pub fn build(
    request: &Request<'_>,
    selection: Selection,
    remote: &[Remote],
) -> Result<Export, ExportError> {
    let mut export = Export {
        skipped: selection.skipped,
        ..Export::default()
    };
    let drafts: Vec<Draft> = selection
        .chosen
        .iter()
        .filter_map(|chosen| {
            let r = remote.iter().find(|r| r.agent.id == chosen.id)?;
            Some(draft(request, chosen, r, &mut export.warnings))
        })
        .collect();

    // Secrets out, in two passes: the first finds the values under secret names, so that the
    // second can also replace them wherever else they appear, in any agent.
    let known: Vec<&Known> = request.existing.iter().flat_map(|e| &e.env).collect();
    let mut shared = Shared::from_env(known.iter().copied());
    let mut placeholders = Placeholders::default();
    for draft in &drafts {
        walk(request, draft, &mut placeholders, &shared);
    }
    shared.add_found(&placeholders.variables);
    for draft in drafts {
        let root = walk(request, &draft, &mut placeholders, &shared);
        // agentsync's own fields hold words of the format and the key, a slug: no secrets.
        let provider_fields: Map<String, Value> = root
            .iter()
            .filter(|(name, _)| !COMMON_FIELDS.iter().any(|f| f.name == name.as_str()))
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect();
        if let Some(path) = exposed(&provider_fields, &shared, &FieldPath::root()) {
            return Err(ExportError::SecretInClear {
                key: draft.chosen.key.clone(),
                path,
            });
        }
        export.agents.push(finish(request, draft, root));
    }
    export.variables = placeholders.variables;
    export.kept = known.into_iter().cloned().collect();
    let mut clobbered: Vec<PathBuf> = export
        .agents
        .iter()
        .flat_map(|a| &a.files)
        .filter(|f| f.exists)
        .map(|f| f.path.clone())
        .collect();
    clobbered.sort();
    clobbered.dedup();
    if !request.force && !clobbered.is_empty() {
        return Err(ExportError::WouldOverwrite { files: clobbered });
    }
    Ok(export)
}

/// One agent's document before its secrets are taken out.
struct Draft {
    chosen: Chosen,
    root: Map<String, Value>,
    publish_note: Option<String>,
    expected: Expected,
    name: Option<String>,
}

fn draft(
    request: &Request<'_>,
    chosen: &Chosen,
    remote: &Remote,
    warnings: &mut Vec<String>,
) -> Draft {
    let schema = request.schema;
    let agent = &remote.agent;
    let content_field = schema.content_field;

    // The content written is the draft, which is what the next edit starts from; when it is not
    // what is live, `publish: false` keeps the next apply from publishing it.
    let content = content_field.and(remote.content.as_ref()).and_then(|c| {
        let written = c.draft.clone().or_else(|| c.live.clone())?;
        let live_differs = match &c.live {
            Some(live) => !live.same_as(&written),
            None => true,
        };
        let note = live_differs.then(|| match &c.live_version {
            Some(version) => format!(
                "the draft differs from the live version ({version}); set publish: true to publish it"
            ),
            None => "never published; set publish: true to publish the draft".to_string(),
        });
        Some((written.document(), note))
    });
    let publish_note = content
        .as_ref()
        .and_then(|(_, note)| note.clone())
        .filter(|_| request.capabilities.publish);

    // The fields the format knows, in the format's order, then agentsync's own, then the
    // content: the order of the examples, so exported files read like hand-written ones.
    let mut fields = Document::new();
    for field in schema.fields {
        if Some(field.name) == content_field {
            continue;
        }
        if let Some(value) = agent.fields.get(field.name) {
            fields.insert(field.name.to_string(), value.clone());
        }
    }
    for name in agent.fields.keys() {
        if !schema.fields.iter().any(|f| f.name == name) {
            warnings.push(format!(
                "agent '{}': the platform's field '{name}' is not in the definition format; it was left out",
                chosen.key
            ));
        }
    }

    let mut root = Map::new();
    root.insert("kind".into(), Value::String("agent".into()));
    root.insert("key".into(), Value::String(chosen.key.to_string()));
    for (name, value) in &fields {
        root.insert(name.clone(), value.clone());
    }
    root.insert(
        "status".into(),
        Value::String(
            match agent.lifecycle {
                Lifecycle::Active => "active",
                Lifecycle::Archived => "archived",
            }
            .into(),
        ),
    );
    let publish = publish_note.as_ref().map(|_| false);
    if let Some(publish) = publish {
        root.insert("publish".into(), Value::Bool(publish));
    }
    if agent.protected {
        root.insert("protect".into(), Value::Bool(true));
    }
    if let (Some(name), Some((content, _))) = (content_field, &content) {
        root.insert(name.to_string(), Value::Object(content.clone()));
    }
    Draft {
        chosen: chosen.clone(),
        root,
        publish_note,
        name: name_of(&agent.fields, schema).map(str::to_string),
        expected: Expected {
            fields,
            content: content.map(|(c, _)| c),
            lifecycle: agent.lifecycle,
            publish,
            protect: agent.protected,
        },
    }
}

/// The draft's document with secrets out and `${` escaped, only in the fields the loader
/// interpolates; agentsync's own fields are not in the provider's list, and are left as they are.
fn walk(
    request: &Request<'_>,
    draft: &Draft,
    placeholders: &mut Placeholders,
    shared: &Shared,
) -> Map<String, Value> {
    let chosen = &draft.chosen;
    // A file that replaces the definition of this key keeps the references it had.
    let replaced = request
        .existing
        .iter()
        .find(|e| e.key == chosen.key && e.file == chosen.file);
    let mut walker = Walker {
        key: &chosen.key,
        placeholders,
        kept: replaced.map_or(&[][..], |e| e.from_env.as_slice()),
        own: replaced.map_or(&[][..], |e| e.env.as_slice()),
        shared,
    };
    walker.fields(&draft.root, request.schema.fields, &FieldPath::root())
}

/// The first place in `map`, names included, where a secret stands in clear: one the walker
/// could not replace, because the loader does not interpolate that field.
fn exposed(map: &Map<String, Value>, shared: &Shared, path: &FieldPath) -> Option<FieldPath> {
    map.iter().find_map(|(name, value)| {
        let path = path.field(name);
        if shared.exposes(name) {
            return Some(path);
        }
        exposed_value(value, shared, &path)
    })
}

fn exposed_value(value: &Value, shared: &Shared, path: &FieldPath) -> Option<FieldPath> {
    match value {
        // A reference the walker wrote is a name, never a value.
        Value::String(text) if shared.exposes(text) => Some(path.clone()),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| exposed_value(item, shared, &path.index(i))),
        Value::Object(map) => exposed(map, shared, path),
        _ => None,
    }
}

/// The files of an agent whose document is ready.
fn finish(request: &Request<'_>, draft: Draft, root: Map<String, Value>) -> ExportedAgent {
    let chosen = draft.chosen;
    // Large parts that the format lets live in their own file go there.
    let dir = chosen.file.parent().unwrap_or(request.dir).to_path_buf();
    let stem = chosen.file.file_stem().map_or_else(
        || chosen.key.to_string(),
        |s| s.to_string_lossy().into_owned(),
    );
    let mut included = Vec::new();
    let root = externalize(
        root,
        request.schema.fields,
        &dir,
        &stem,
        request.inline_lines,
        &mut included,
    );

    let mut header = Vec::new();
    if let Some(schema_file) = request.schema_file {
        header.push(format!(
            "yaml-language-server: $schema={}",
            relative(&dir, schema_file).display()
        ));
    }
    let comments: Vec<(&str, &str)> = draft
        .publish_note
        .as_deref()
        .map(|note| vec![("publish", note)])
        .unwrap_or_default();
    let text = crate::text::yaml_emit::document(&header, &root, &comments);

    let mut files = vec![OutFile {
        exists: request.occupied.contains(&chosen.file),
        path: chosen.file.clone(),
        text,
    }];
    for (path, value) in included {
        let text = serde_json::to_string_pretty(&value).unwrap_or_default() + "\n";
        files.push(OutFile {
            exists: request.occupied.contains(&path),
            path,
            text,
        });
    }
    ExportedAgent {
        key: chosen.key,
        id: chosen.id,
        name: draft.name,
        managed: chosen.managed,
        files,
        expected: draft.expected,
    }
}

/// Rewrites values for the file: secrets become placeholders and `${` is escaped, in exactly
/// the fields the loader interpolates (not in `OneOf`, `Tags`, `Bool`, nor agentsync's own).
struct Walker<'a> {
    key: &'a Key,
    placeholders: &'a mut Placeholders,
    /// What the definition this file replaces took from the environment.
    kept: &'a [FromEnv],
    /// The variables it named.
    own: &'a [Known],
    shared: &'a Shared,
}

impl Walker<'_> {
    fn fields(
        &mut self,
        map: &Map<String, Value>,
        fields: &[Field],
        path: &FieldPath,
    ) -> Map<String, Value> {
        map.iter()
            .map(|(name, value)| {
                let value = match fields.iter().find(|f| f.name == name) {
                    Some(field) => self.field(field, value, &path.field(name)),
                    None => value.clone(),
                };
                (name.clone(), value)
            })
            .collect()
    }

    fn field(&mut self, field: &Field, value: &Value, path: &FieldPath) -> Value {
        match (field.kind, value) {
            (Kind::Nested(inner), Value::Object(map)) => {
                Value::Object(self.fields(map, inner, path))
            }
            (
                Kind::String
                | Kind::Mapping
                | Kind::MappingReserving(_)
                | Kind::MappingOfMappings
                | Kind::Any,
                value,
            ) => self.value(value, path, None),
            _ => value.clone(),
        }
    }

    /// `secret` names the secret the value is, when the key above it names one.
    fn value(&mut self, value: &Value, path: &FieldPath, secret: Option<&str>) -> Value {
        match value {
            Value::String(text) => Value::String(self.string(text, path, secret)),
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| self.value(item, &path.index(i), secret))
                    .collect(),
            ),
            Value::Object(map) => {
                let beside = secrets::named_secret(map).map(str::to_string);
                Value::Object(
                    map.iter()
                        .map(|(k, v)| {
                            let secret = if secrets::names_secret(k) {
                                Some(k.as_str())
                            } else if k == secrets::VALUE_KEY {
                                beside.as_deref()
                            } else {
                                None
                            };
                            (k.clone(), self.value(v, &path.field(k), secret))
                        })
                        .collect(),
                )
            }
            other => other.clone(),
        }
    }
}

impl Walker<'_> {
    /// A string as the file writes it. What the replaced definition took from the environment
    /// is written as it was (at its place, or wherever its value is); then a variable's value
    /// (one the file named, or a long one any file named) is its reference; then a secret by its name becomes a placeholder; the rest is escaped,
    /// with any secret inside it as its reference.
    fn string(&mut self, text: &str, path: &FieldPath, secret: Option<&str>) -> String {
        let kept = self
            .kept
            .iter()
            .find(|k| k.path == *path && k.value.expose() == text)
            .or_else(|| self.kept.iter().find(|k| k.value.expose() == text));
        if let Some(kept) = kept {
            return kept.written.clone();
        }
        if let Some(own) = self.own.iter().find(|k| k.value.expose() == text) {
            return format!("${{env:{}}}", own.name);
        }
        if let Some(reference) = self.shared.env_whole(text) {
            return reference.to_string();
        }
        match secret {
            Some(name) if secrets::is_secret_value(text) => {
                self.placeholders.placeholder(self.key, name, path, text)
            }
            _ => self.shared.rewrite(text),
        }
    }
}

/// `${` as the loader reads it back literally: `$${`.
pub fn escape(text: &str) -> String {
    text.replace("${", "$${")
}

/// Moves every field that the format lets live in a file of its own (`Include { into }`) there,
/// when its YAML would be longer than `limit` lines.
fn externalize(
    map: Map<String, Value>,
    fields: &[Field],
    dir: &Path,
    stem: &str,
    limit: usize,
    included: &mut Vec<(PathBuf, Value)>,
) -> Map<String, Value> {
    let mut out = Map::new();
    for (name, value) in map {
        let include = fields.iter().find_map(|f| match f.kind {
            Kind::Include { into } if into == name => Some(f.name),
            _ => None,
        });
        let nested = fields.iter().find_map(|f| match f.kind {
            Kind::Nested(inner) if f.name == name => Some(inner),
            _ => None,
        });
        match (include, nested, value) {
            (Some(include), _, value) if yaml_lines(&value) > limit => {
                let file = format!("{stem}.{name}.json");
                included.push((dir.join(&file), value));
                out.insert(include.to_string(), Value::String(file));
            }
            (_, Some(inner), Value::Object(map)) => {
                let map = externalize(map, inner, dir, stem, limit, included);
                out.insert(name, Value::Object(map));
            }
            (_, _, value) => {
                out.insert(name, value);
            }
        }
    }
    out
}

fn yaml_lines(value: &Value) -> usize {
    crate::text::yaml_emit::to_string(value).lines().count()
}

/// `to` as seen from the directory `from` (both absolute): `../../schemas/agent.schema.json`.
pub fn relative(from: &Path, to: &Path) -> PathBuf {
    let from: Vec<_> = from.components().collect();
    let to_parts: Vec<_> = to.components().collect();
    let common = from
        .iter()
        .zip(&to_parts)
        .take_while(|(a, b)| a == b)
        .count();
    let mut out = PathBuf::new();
    for _ in common..from.len() {
        out.push("..");
    }
    for part in &to_parts[common..] {
        out.push(part.as_os_str());
    }
    out
}

#[cfg(test)]
mod tests;
