//! Desired x Observed -> [`Plan`]: per agent, the actions that make the platform match the
//! definitions, each with its reason and its field-level changes.
//!
//! Pure: no I/O, no clock, no randomness. Planning a state against itself gives no actions.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config::Prune;
use crate::model::content::Content;
use crate::model::diff::{self, FieldChange};
use crate::model::{Definition, Desired, Document, FieldPath, Key, Lifecycle};
use crate::provider::{Capabilities, RemoteAgent, RemoteContent};
use crate::spec::schema::DefinitionSchema;

/// The version of the plan's JSON form (`plan --output json`, saved plans).
pub const FORMAT_VERSION: u32 = 1;

/// The field path under which a change of `protect` is shown.
pub const PROTECT: &str = "protect";

/// The field path under which a change of the marker's `pruned` is shown: set by an archive
/// that prune makes, cleared by the restore when the definition comes back.
pub const PRUNED: &str = "pruned";
/// Shown for an agent whose ownership record a killed run did not write.
pub const RECORDED: &str = "recorded";

/// Why an agent that prune archived is restored.
pub const RESTORED_AFTER_PRUNE: &str = "archived by prune; its definition is back";

/// Shown where a value depends on an id the platform has not given yet.
pub const KNOWN_AFTER_APPLY: &str = "(known after apply)";

/// What the platform holds, as far as planning needs it.
#[derive(Debug, Clone, Default)]
pub struct Observed {
    pub agents: Vec<ObservedAgent>,
}

impl Observed {
    /// Keeps one copy of every observed content that says the same as its definition: after a
    /// run that changes nothing, the draft, the live version and the definition are one text.
    pub fn share_contents(&mut self, desired: &Desired) {
        for observed in &mut self.agents {
            observed.share_content(desired);
        }
    }
}

impl ObservedAgent {
    /// [`Observed::share_contents`] for one agent, as soon as its content is read.
    pub fn share_content(&mut self, desired: &Desired) {
        let wanted = self
            .agent
            .key
            .as_ref()
            .and_then(|key| desired.get(key))
            .and_then(|definition| definition.content.as_ref());
        if let (Some(wanted), Some(content)) = (wanted, &mut self.content) {
            for side in [&mut content.draft, &mut content.live]
                .into_iter()
                .flatten()
            {
                side.share_with(wanted);
            }
        }
    }
}

/// One remote agent, with its content when it was read (managed agents and adoption
/// candidates; content is `None` when it was not read).
#[derive(Debug, Clone)]
pub struct ObservedAgent {
    pub agent: RemoteAgent,
    pub content: Option<RemoteContent>,
}

/// The settings that shape a plan.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub publish: bool,
    pub prune: Prune,
    /// Take over unmanaged agents whose name matches a new definition.
    pub adopt: bool,
    pub capabilities: Capabilities,
    /// The provider's definition format: which field is the content, which one the name.
    pub schema: &'static DefinitionSchema,
}

/// The things agentsync can do to an agent, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ActionKind {
    Create,
    Adopt,
    Restore,
    Update,
    UpdateDraft,
    Publish,
    Archive,
    Delete,
}

impl ActionKind {
    pub fn name(self) -> &'static str {
        match self {
            ActionKind::Create => "create",
            ActionKind::Adopt => "adopt",
            ActionKind::Restore => "restore",
            ActionKind::Update => "update",
            ActionKind::UpdateDraft => "update-draft",
            ActionKind::Publish => "publish",
            ActionKind::Archive => "archive",
            ActionKind::Delete => "delete",
        }
    }
}

/// One action, why it is needed, and what it changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Action {
    pub kind: ActionKind,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<FieldChange>,
}

/// Everything planned for one agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentPlan {
    pub key: Key,
    /// The platform's id, when the agent exists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The definition file; `None` for an agent whose file is gone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<PathBuf>,
    pub actions: Vec<Action>,
    /// Agents that must exist first (`${agent:KEY}` references).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<Key>,
}

/// Something the user should know that is not a change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Note {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<Key>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub message: String,
}

/// What apply would do, agent by agent, in an order that respects references.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub format_version: u32,
    pub changes: Vec<AgentPlan>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<Note>,
}

/// Counts of actions by kind, for the summary line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub create: usize,
    pub adopt: usize,
    pub update: usize,
    pub update_draft: usize,
    pub publish: usize,
    pub archive: usize,
    pub restore: usize,
    pub delete: usize,
}

impl Summary {
    /// Both counts together (the plans of several targets).
    pub fn plus(&self, other: &Summary) -> Summary {
        Summary {
            create: self.create + other.create,
            adopt: self.adopt + other.adopt,
            update: self.update + other.update,
            update_draft: self.update_draft + other.update_draft,
            publish: self.publish + other.publish,
            archive: self.archive + other.archive,
            restore: self.restore + other.restore,
            delete: self.delete + other.delete,
        }
    }
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.changes.iter().all(|c| c.actions.is_empty())
    }

    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for action in self.changes.iter().flat_map(|c| &c.actions) {
            *match action.kind {
                ActionKind::Create => &mut s.create,
                ActionKind::Adopt => &mut s.adopt,
                ActionKind::Update => &mut s.update,
                ActionKind::UpdateDraft => &mut s.update_draft,
                ActionKind::Publish => &mut s.publish,
                ActionKind::Archive => &mut s.archive,
                ActionKind::Restore => &mut s.restore,
                ActionKind::Delete => &mut s.delete,
            } += 1;
        }
        s
    }
}

/// Why no plan can be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlanError {
    #[error("key '{key}' is claimed by more than one agent on the platform: {}; remove the marker from all but one", ids.join(", "))]
    DuplicateRemoteKey { key: Key, ids: Vec<String> },
    /// Where agents carry no marker, a definition is told from the others by its name.
    #[error("agent '{key}': {} agents on the platform are named {name:?} ({}); where agents carry no marker, agentsync needs the names it manages to be unique: rename or delete all but one", ids.len(), ids.join(", "))]
    SharedName {
        key: Key,
        name: String,
        ids: Vec<String>,
    },
    #[error(
        "agent '{key}': an agent named {name:?} ({id}) is on the platform, and agentsync does not manage it; a second one cannot be made beside it. `apply --adopt` takes it over, or give the definition another name"
    )]
    UnmanagedNamesake { key: Key, name: String, id: String },
    #[error("agent '{key}': {field} cannot be honoured: {why}; remove it from the definition")]
    Unsupported {
        key: Key,
        field: &'static str,
        why: &'static str,
    },
}

/// Computes the plan. `broken` holds keys of definitions that failed to load: never pruned.
pub fn compute(
    desired: &Desired,
    broken: &BTreeSet<Key>,
    observed: &Observed,
    settings: &Settings,
) -> Result<Plan, Vec<PlanError>> {
    let managed = managed_by_key(observed)?;
    unsupported(desired, settings)?;
    if !settings.capabilities.markers {
        unique_names(desired, &managed, observed, settings)?;
    }
    let mut notes = Vec::new();

    // Which remote agent each definition maps to, adoptions included.
    let mut targets: BTreeMap<&Key, (&ObservedAgent, bool)> = BTreeMap::new();
    let mut candidates = AdoptionCandidates::new(observed, settings);
    for (key, definition) in desired {
        if let Some(agent) = managed.get(key) {
            targets.insert(key, (agent, false));
        } else if let Some((name, candidate)) = name_of(&definition.fields, settings)
            .into_iter()
            .chain(definition.previous_names.iter().map(String::as_str))
            .find_map(|name| Some((name, candidates.pick(name, definition)?)))
        {
            if settings.adopt {
                targets.insert(key, (candidate, true));
                candidates.take(name, candidate);
            } else {
                notes.push(Note {
                    key: Some(key.clone()),
                    id: Some(candidate.agent.id.clone()),
                    message: format!(
                        "an agent named {:?} exists but is not managed by agentsync; it is left alone (apply --adopt takes it over)",
                        name
                    ),
                });
            }
        }
    }
    let ids: BTreeMap<&Key, &str> = targets
        .iter()
        .map(|(k, (a, _))| (*k, a.agent.id.as_str()))
        .collect();

    let mut changes = Vec::new();
    for key in creation_order(desired) {
        let definition = &desired[key];
        let actions = match targets.get(key) {
            None => create_actions(definition, &ids, settings),
            Some((agent, adopt)) => {
                update_actions(definition, agent, *adopt, &ids, settings, &mut notes)
            }
        };
        changes.push(AgentPlan {
            key: key.clone(),
            id: targets.get(key).map(|(a, _)| a.agent.id.clone()),
            file: Some(definition.file.clone()),
            actions,
            depends_on: definition
                .references
                .iter()
                .filter(|r| *r != key)
                .cloned()
                .collect(),
        });
    }

    // An empty definitions directory is far more likely a mistake (a wrong path, a bad
    // checkout) than a wish to remove every agent: it never prunes.
    let prune_guarded = desired.is_empty() && broken.is_empty() && settings.prune != Prune::Off;
    let prune_settings = Settings {
        prune: if prune_guarded {
            Prune::Off
        } else {
            settings.prune
        },
        ..*settings
    };
    if prune_guarded && !managed.is_empty() {
        notes.push(Note {
            key: None,
            id: None,
            message: "the definitions directory holds no definition, so nothing is pruned".into(),
        });
    }
    for (key, agent) in &managed {
        if desired.contains_key(*key) || broken.contains(*key) {
            continue;
        }
        let (actions, note) = prune_actions(agent, &prune_settings);
        if let Some(message) = note {
            notes.push(Note {
                key: Some((*key).clone()),
                id: Some(agent.agent.id.clone()),
                message,
            });
        }
        if !actions.is_empty() {
            changes.push(AgentPlan {
                key: (*key).clone(),
                id: Some(agent.agent.id.clone()),
                file: None,
                actions,
                depends_on: Vec::new(),
            });
        }
    }
    let writes = changes.iter().any(|c| {
        c.actions
            .iter()
            .any(|a| matches!(a.kind, ActionKind::Create | ActionKind::Update))
    });
    if writes && !settings.capabilities.publish {
        notes.push(Note {
            key: None,
            id: None,
            message: "this platform has no drafts: each create and update is live the moment it is applied".to_owned(),
        });
    }
    Ok(Plan {
        format_version: FORMAT_VERSION,
        changes,
        notes,
    })
}

fn managed_by_key(observed: &Observed) -> Result<BTreeMap<&Key, &ObservedAgent>, Vec<PlanError>> {
    let mut by_key: BTreeMap<&Key, Vec<&ObservedAgent>> = BTreeMap::new();
    for agent in &observed.agents {
        if let Some(key) = &agent.agent.key {
            by_key.entry(key).or_default().push(agent);
        }
    }
    let errors: Vec<PlanError> = by_key
        .iter()
        .filter(|(_, agents)| agents.len() > 1)
        .map(|(key, agents)| PlanError::DuplicateRemoteKey {
            key: (*key).clone(),
            ids: agents.iter().map(|a| a.agent.id.clone()).collect(),
        })
        .collect();
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(by_key
        .into_iter()
        .map(|(k, mut v)| (k, v.remove(0)))
        .collect())
}

/// What a definition asks for that its platform cannot do: refused, never left out in silence.
fn unsupported(desired: &Desired, settings: &Settings) -> Result<(), Vec<PlanError>> {
    let caps = settings.capabilities;
    let errors: Vec<PlanError> = desired
        .values()
        .flat_map(|definition| {
            let archived = (definition.lifecycle == Some(Lifecycle::Archived) && !caps.archive)
                .then(|| PlanError::Unsupported {
                    key: definition.key.clone(),
                    field: "status: archived",
                    why: "this platform cannot archive agents (`active: false` stops one answering, where the platform has it)",
                });
            let held = (definition.publish == Some(false) && !caps.publish).then(|| {
                PlanError::Unsupported {
                    key: definition.key.clone(),
                    field: "publish: false",
                    why: "this platform has no drafts, so every update is live the moment it is applied",
                }
            });
            archived.into_iter().chain(held)
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Where agents carry no marker, the names agentsync manages must tell agents apart: a
/// definition's name borne by two agents, or (without `--adopt`) by an agent agentsync does not
/// manage while the definition has none of its own, is refused.
fn unique_names(
    desired: &Desired,
    managed: &BTreeMap<&Key, &ObservedAgent>,
    observed: &Observed,
    settings: &Settings,
) -> Result<(), Vec<PlanError>> {
    let mut by_name: BTreeMap<&str, Vec<&ObservedAgent>> = BTreeMap::new();
    for agent in &observed.agents {
        if let Some(name) = name_of(&agent.agent.fields, settings) {
            by_name.entry(name).or_default().push(agent);
        }
    }
    let mut errors = Vec::new();
    for (key, definition) in desired {
        let Some(name) = name_of(&definition.fields, settings) else {
            continue;
        };
        // Where the definition's own name is nobody's, one of its previous names may be.
        let name = std::iter::once(name)
            .chain(definition.previous_names.iter().map(String::as_str))
            .find(|name| by_name.contains_key(name))
            .unwrap_or(name);
        let namesakes = by_name.get(name).map_or(&[][..], Vec::as_slice);
        let own = managed.get(key).map(|agent| agent.agent.id.as_str());
        match namesakes {
            [] => {}
            [one] if Some(one.agent.id.as_str()) == own => {}
            [one] if one.agent.key.is_none() && own.is_none() && !settings.adopt => {
                errors.push(PlanError::UnmanagedNamesake {
                    key: key.clone(),
                    name: name.to_owned(),
                    id: one.agent.id.clone(),
                });
            }
            [_] => {}
            several => errors.push(PlanError::SharedName {
                key: key.clone(),
                name: name.to_owned(),
                ids: several.iter().map(|a| a.agent.id.clone()).collect(),
            }),
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

fn name_of<'d>(fields: &'d Document, settings: &Settings) -> Option<&'d str> {
    fields
        .get(settings.schema.name_field?)
        .and_then(Value::as_str)
}

/// The unmanaged agents a new definition may adopt, by name, in list order, each taken at most
/// once. Indexed once, so that matching N definitions against M agents costs N + M lookups,
/// not N x M comparisons.
struct AdoptionCandidates<'o> {
    by_name: HashMap<&'o str, Vec<&'o ObservedAgent>>,
}

impl<'o> AdoptionCandidates<'o> {
    fn new(observed: &'o Observed, settings: &Settings) -> AdoptionCandidates<'o> {
        let mut by_name: HashMap<&str, Vec<&ObservedAgent>> = HashMap::new();
        for agent in observed.agents.iter().filter(|a| a.agent.key.is_none()) {
            if let Some(name) = name_of(&agent.agent.fields, settings) {
                by_name.entry(name).or_default().push(agent);
            }
        }
        AdoptionCandidates { by_name }
    }

    /// The candidate for `definition`, named `name`. Several unmanaged agents may share a name
    /// (`export` writes a definition for each): the one whose fields and draft already equal
    /// the definition is its own; otherwise the first listed.
    fn pick(&self, name: &str, definition: &Definition) -> Option<&'o ObservedAgent> {
        let candidates = self.by_name.get(name)?;
        let same = |candidate: &ObservedAgent| {
            let fields_same = definition.fields.iter().all(|(k, v)| {
                candidate
                    .agent
                    .fields
                    .get(k)
                    .is_some_and(|r| diff::equivalent(r, v))
            });
            let content_same = match (&definition.content, &candidate.content) {
                (None, _) => true,
                (Some(want), Some(content)) => {
                    content.draft.as_ref().is_some_and(|d| d.same_as(want))
                }
                (Some(_), None) => false,
            };
            fields_same && content_same
        };
        let first = candidates.first().copied()?;
        Some(
            candidates
                .iter()
                .copied()
                .find(|c| same(c))
                .unwrap_or(first),
        )
    }

    /// `agent`, named `name`, is adopted: no other definition may take it.
    fn take(&mut self, name: &str, agent: &ObservedAgent) {
        if let Some(candidates) = self.by_name.get_mut(name) {
            candidates.retain(|c| c.agent.id != agent.agent.id);
        }
    }
}

/// Keys in an order where every agent comes after the agents it references.
pub fn creation_order(desired: &Desired) -> Vec<&Key> {
    let mut order = Vec::with_capacity(desired.len());
    let mut placed: BTreeSet<&Key> = BTreeSet::new();
    // Validation refuses cycles; the bound keeps this loop finite whatever it is given.
    for _ in 0..=desired.len() {
        let before = order.len();
        for (key, definition) in desired {
            if placed.contains(key) {
                continue;
            }
            let ready = definition
                .references
                .iter()
                .all(|r| r == key || placed.contains(r) || !desired.contains_key(r));
            if ready {
                placed.insert(key);
                order.push(key);
            }
        }
        if order.len() == desired.len() || order.len() == before {
            break;
        }
    }
    for key in desired.keys() {
        if !placed.contains(key) {
            order.push(key);
        }
    }
    order
}

/// The definition's content with every `${agent:KEY}` the loader recorded as a reference
/// (`references`) replaced by the remote id, or by [`KNOWN_AFTER_APPLY`] where the agent does
/// not exist yet; the content itself, uncopied, when it holds no reference (most do not, and
/// contents can be large graphs). A `${agent:KEY}` the loader did not record is literal text
/// (the file wrote it escaped, `$${agent:KEY}`) and is left as it is.
pub fn resolve_references<'c>(
    content: &'c Content,
    references: &BTreeSet<Key>,
    ids: &BTreeMap<&Key, &str>,
) -> (Cow<'c, Content>, bool) {
    // JSON escapes none of the opening's characters: text without it holds no reference, and
    // the content is not parsed.
    if references.is_empty() || !content.text().contains(REFERENCE_OPENING) {
        return (Cow::Borrowed(content), false);
    }
    let (resolved, pending) = resolve_document_references(&content.document(), references, ids);
    (Cow::Owned(Content::new(&resolved)), pending)
}

/// [`resolve_references`] on a parsed document.
fn resolve_document_references(
    content: &Document,
    references: &BTreeSet<Key>,
    ids: &BTreeMap<&Key, &str>,
) -> (Document, bool) {
    let mut pending = false;
    let mut resolver = Resolver {
        references,
        ids,
        pending: &mut pending,
    };
    let resolved = content
        .iter()
        .map(|(k, v)| (k.clone(), resolver.value(v)))
        .collect();
    (resolved, pending)
}

/// What resolving a content needs, and whether some id is not known yet.
struct Resolver<'a> {
    references: &'a BTreeSet<Key>,
    ids: &'a BTreeMap<&'a Key, &'a str>,
    pending: &'a mut bool,
}

const REFERENCE_OPENING: &str = "${agent:";

impl Resolver<'_> {
    fn value(&mut self, value: &Value) -> Value {
        match value {
            Value::String(text) if text.contains(REFERENCE_OPENING) => {
                Value::String(self.text(text))
            }
            Value::Array(items) => Value::Array(items.iter().map(|v| self.value(v)).collect()),
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), self.value(v)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    fn text(&mut self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(at) = rest.find(REFERENCE_OPENING) {
            out.push_str(&rest[..at]);
            let after = &rest[at + REFERENCE_OPENING.len()..];
            let Some(end) = after.find('}') else {
                out.push_str(&rest[at..]);
                return out;
            };
            let reference = Key::parse(&after[..end])
                .ok()
                .filter(|key| self.references.contains(key));
            match reference {
                // Not a reference the loader recorded: literal text, kept.
                None => out.push_str(&rest[at..at + REFERENCE_OPENING.len() + end + 1]),
                Some(key) => match self.ids.get(&key) {
                    Some(id) => out.push_str(id),
                    None => {
                        *self.pending = true;
                        out.push_str(KNOWN_AFTER_APPLY);
                    }
                },
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        out
    }
}

/// Says which referenced agents' ids are not known until they are created.
fn with_pending(
    reason: &str,
    pending: bool,
    definition: &Definition,
    ids: &BTreeMap<&Key, &str>,
) -> String {
    if !pending {
        return reason.to_string();
    }
    let waiting: Vec<String> = definition
        .references
        .iter()
        .filter(|r| !ids.contains_key(r))
        .map(|r| format!("${{agent:{r}}}"))
        .collect();
    format!("{reason}; {} {KNOWN_AFTER_APPLY}", waiting.join(", "))
}

fn publishes(definition: &Definition, settings: &Settings) -> bool {
    settings.capabilities.publish && definition.publish.unwrap_or(settings.publish)
}

fn create_actions(
    definition: &Definition,
    ids: &BTreeMap<&Key, &str>,
    settings: &Settings,
) -> Vec<Action> {
    let root = FieldPath::root();
    let mut actions = vec![Action {
        kind: ActionKind::Create,
        reason: "not on the platform".into(),
        changes: diff::diff_documents(None, &definition.fields, &root, &definition.sensitive),
    }];
    if let Some(content) = &definition.content {
        let (resolved, pending) = resolve_references(content, &definition.references, ids);
        let changes = content_changes(None, &resolved, definition, settings);
        actions.push(Action {
            kind: ActionKind::UpdateDraft,
            reason: with_pending("new agent", pending, definition, ids),
            changes,
        });
        if publishes(definition, settings) {
            actions.push(Action {
                kind: ActionKind::Publish,
                reason: "never published".into(),
                changes: Vec::new(),
            });
        }
    }
    if definition.lifecycle == Some(Lifecycle::Archived) && settings.capabilities.archive {
        actions.push(Action {
            kind: ActionKind::Archive,
            reason: "status: archived".into(),
            changes: Vec::new(),
        });
    }
    actions
}

/// Where content changes are shown: under the definition's own name for its content.
fn content_path(settings: &Settings) -> FieldPath {
    FieldPath::root().field(settings.schema.content_field.unwrap_or("content"))
}

/// The changes from `before` to `after`; the only place a plan parses contents, and only
/// where they differ.
fn content_changes(
    before: Option<&Content>,
    after: &Content,
    definition: &Definition,
    settings: &Settings,
) -> Vec<FieldChange> {
    match before {
        Some(before) if before.same_as(after) => Vec::new(),
        Some(before) => diff::diff_documents(
            Some(&before.document()),
            &after.document(),
            &content_path(settings),
            &definition.sensitive,
        ),
        None => diff::new_content(after, &content_path(settings), &definition.sensitive),
    }
}

fn update_actions(
    definition: &Definition,
    observed: &ObservedAgent,
    adopt: bool,
    ids: &BTreeMap<&Key, &str>,
    settings: &Settings,
    notes: &mut Vec<Note>,
) -> Vec<Action> {
    let remote = &observed.agent;
    let mut actions = Vec::new();
    if adopt {
        actions.push(Action {
            kind: ActionKind::Adopt,
            reason: format!("unmanaged agent {} has the same name", remote.id),
            changes: Vec::new(),
        });
    }
    // An agent prune archived comes back with its definition, unless the definition itself
    // asks for it archived; an agent archived on purpose (no `pruned` in its marker) stays
    // archived while the definition leaves the status unmanaged.
    let archived = remote.lifecycle == Lifecycle::Archived;
    let restored_after_prune =
        archived && remote.pruned && definition.lifecycle != Some(Lifecycle::Archived);
    if archived && (definition.lifecycle == Some(Lifecycle::Active) || restored_after_prune) {
        actions.push(Action {
            kind: ActionKind::Restore,
            reason: if remote.pruned {
                RESTORED_AFTER_PRUNE.into()
            } else {
                "status: active, archived on the platform".into()
            },
            changes: if remote.pruned {
                vec![pruned_change(true, false)]
            } else {
                Vec::new()
            },
        });
    }

    // Only the fields the file sets are compared: the rest is not managed.
    let current: Document = definition
        .fields
        .keys()
        .filter_map(|k| remote.fields.get(k).map(|v| (k.clone(), v.clone())))
        .collect();
    let mut field_changes = diff::diff_documents(
        Some(&current),
        &definition.fields,
        &FieldPath::root(),
        &definition.sensitive,
    );
    // A field the platform sets at creation only cannot be updated: planning the update would
    // only fail at apply. It is left out, and the plan says so.
    let fixed: BTreeSet<&str> = field_changes
        .iter()
        .filter_map(|c| match c.path.segments().first() {
            Some(crate::model::Segment::Field(name)) => settings.schema.field(name),
            _ => None,
        })
        .filter(|field| field.fixed)
        .map(|field| field.name)
        .collect();
    for name in &fixed {
        notes.push(Note {
            key: Some(definition.key.clone()),
            id: Some(remote.id.clone()),
            message: format!(
                "'{name}' differs from the definition, but the platform sets it at creation only; it is left as it is (to change it, create the agent anew under a new key)"
            ),
        });
    }
    field_changes.retain(|c| {
        !matches!(c.path.segments().first(), Some(crate::model::Segment::Field(name)) if fixed.contains(name.as_str()))
    });
    // An adoption writes the marker, protection included; otherwise a change of `protect`
    // rewrites it.
    if !adopt && definition.protect != remote.protected {
        field_changes.push(FieldChange {
            path: FieldPath::root().field(PROTECT),
            kind: diff::ChangeKind::Modify,
            before: Some(diff::ShownValue::new(&Value::Bool(remote.protected))),
            after: Some(diff::ShownValue::new(&Value::Bool(definition.protect))),
            sensitive: false,
        });
    }
    // A `pruned` that no restore clears (the agent is active, or the definition now asks for
    // it archived, which makes it archived on purpose) is cleared by rewriting the marker.
    let restores = actions.iter().any(|a| a.kind == ActionKind::Restore);
    if !adopt && remote.pruned && !restores {
        field_changes.push(pruned_change(true, false));
    }
    // A create a killed run made and did not record: the update records it.
    if !adopt && remote.unrecorded {
        field_changes.push(FieldChange {
            path: FieldPath::root().field(RECORDED),
            kind: diff::ChangeKind::Modify,
            before: Some(diff::ShownValue::new(&Value::Bool(false))),
            after: Some(diff::ShownValue::new(&Value::Bool(true))),
            sensitive: false,
        });
    }
    if !field_changes.is_empty() {
        actions.push(Action {
            kind: ActionKind::Update,
            reason: "agent fields differ from the definition".into(),
            changes: field_changes,
        });
    }

    if let Some(content) = &definition.content {
        let (resolved, pending) = resolve_references(content, &definition.references, ids);
        let no_content = RemoteContent::default();
        let remote_content = observed.content.as_ref().unwrap_or(&no_content);
        let draft_same = !pending
            && remote_content
                .draft
                .as_ref()
                .is_some_and(|d| d.same_as(&resolved));
        let live_same = !pending
            && remote_content
                .live
                .as_ref()
                .is_some_and(|l| l.same_as(&resolved));
        let publish = publishes(definition, settings) && !live_same;
        // A publish copies the draft, so the draft must equal the definition first.
        if !draft_same {
            let reason = if remote_content.draft.is_none() {
                "no draft on the platform"
            } else if live_same {
                "the draft was changed on the platform; the live version still matches"
            } else {
                "the draft differs from the definition"
            };
            actions.push(Action {
                kind: ActionKind::UpdateDraft,
                reason: with_pending(reason, pending, definition, ids),
                changes: content_changes(
                    remote_content.draft.as_ref(),
                    &resolved,
                    definition,
                    settings,
                ),
            });
        }
        if publish {
            let reason = match &remote_content.live_version {
                Some(version) => {
                    format!("the live version ({version}) differs from the definition")
                }
                None => "never published".into(),
            };
            actions.push(Action {
                kind: ActionKind::Publish,
                reason,
                changes: content_changes(
                    remote_content.live.as_ref(),
                    &resolved,
                    definition,
                    settings,
                ),
            });
        }
    }

    // With `protect: true` and `status: archived` the definition asks for both; not archiving
    // is the safe reading.
    if definition.lifecycle == Some(Lifecycle::Archived)
        && remote.lifecycle == Lifecycle::Active
        && !definition.protect
        && settings.capabilities.archive
    {
        actions.push(Action {
            kind: ActionKind::Archive,
            reason: "status: archived".into(),
            changes: Vec::new(),
        });
    }
    actions
}

/// The change of the marker's `pruned`, shown as a field change (like `protect`).
fn pruned_change(before: bool, after: bool) -> FieldChange {
    FieldChange {
        path: FieldPath::root().field(PRUNED),
        kind: diff::ChangeKind::Modify,
        before: Some(diff::ShownValue::new(&Value::Bool(before))),
        after: Some(diff::ShownValue::new(&Value::Bool(after))),
        sensitive: false,
    }
}

fn prune_actions(agent: &ObservedAgent, settings: &Settings) -> (Vec<Action>, Option<String>) {
    let archived = agent.agent.lifecycle == Lifecycle::Archived;
    if agent.agent.protected && settings.prune != Prune::Off {
        return (
            Vec::new(),
            Some("not in the repository, but protected (protect: true); not pruned".into()),
        );
    }
    match settings.prune {
        Prune::Off => (
            Vec::new(),
            Some("not in the repository; left alone (prune is off)".into()),
        ),
        Prune::Archive if archived => (Vec::new(), None),
        Prune::Archive if settings.capabilities.archive => (
            // The marker records that prune archived it, in the same write where the
            // platform allows, so that the agent comes back with its definition.
            vec![Action {
                kind: ActionKind::Archive,
                reason: "not in the repository (prune: archive)".into(),
                changes: vec![pruned_change(false, true)],
            }],
            None,
        ),
        Prune::Delete if settings.capabilities.delete => (
            vec![Action {
                kind: ActionKind::Delete,
                reason: "not in the repository (prune: delete)".into(),
                changes: Vec::new(),
            }],
            None,
        ),
        _ => (
            Vec::new(),
            Some("not in the repository; the platform cannot prune it".into()),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const CAPS: Capabilities = Capabilities {
        publish: true,
        archive: true,
        delete: true,
        tenancy: true,
        markers: true,
    };

    fn settings() -> Settings {
        Settings {
            publish: true,
            prune: Prune::Off,
            adopt: false,
            capabilities: CAPS,
            schema: &crate::provider::workfx::definition::SCHEMA,
        }
    }

    fn key(k: &str) -> Key {
        Key::parse(k).unwrap()
    }

    fn definition(k: &str, prompt: &str) -> Definition {
        let content = json!({"mode": "chat", "graph": {"nodes": [{"data": {"prompt": prompt}}]}});
        Definition {
            key: key(k),
            file: PathBuf::from(format!("agents/{k}.yaml")),
            fields: json!({"name": k, "tags": ["a"]})
                .as_object()
                .unwrap()
                .clone(),
            content: content.as_object().map(Content::new),
            lifecycle: None,
            publish: None,
            protect: false,
            previous_names: Vec::new(),
            sensitive: BTreeSet::new(),
            env_texts: Default::default(),
            references: BTreeSet::new(),
        }
    }

    fn desired(definitions: Vec<Definition>) -> Desired {
        definitions
            .into_iter()
            .map(|d| (d.key.clone(), d))
            .collect()
    }

    /// The platform as it is right after a successful apply of `desired`.
    fn applied(desired: &Desired) -> Observed {
        let agents = desired
            .values()
            .map(|d| ObservedAgent {
                agent: RemoteAgent {
                    id: format!("id-{}", d.key),
                    key: Some(d.key.clone()),
                    code: None,
                    protected: d.protect,
                    pruned: false,
                    unrecorded: false,
                    fields: d.fields.clone(),
                    lifecycle: d.lifecycle.unwrap_or(Lifecycle::Active),
                },
                content: Some(RemoteContent {
                    draft: d.content.clone(),
                    live: d.content.clone(),
                    live_version: Some("1".into()),
                }),
            })
            .collect();
        Observed { agents }
    }

    fn kinds(plan: &Plan, k: &str) -> Vec<ActionKind> {
        plan.changes
            .iter()
            .find(|c| c.key.as_str() == k)
            .map(|c| c.actions.iter().map(|a| a.kind).collect())
            .unwrap_or_default()
    }

    #[test]
    fn a_new_definition_is_created_drafted_and_published() {
        let want = desired(vec![definition("a", "hi")]);
        let plan = compute(&want, &BTreeSet::new(), &Observed::default(), &settings()).unwrap();
        use ActionKind::*;
        assert_eq!(kinds(&plan, "a"), [Create, UpdateDraft, Publish]);
    }

    #[test]
    fn an_observed_content_equal_to_its_definition_is_held_once() {
        let want = desired(vec![definition("a", "hi"), definition("b", "hello")]);
        let mut observed = applied(&want);
        // As read from the platform: equal to the definitions, but copies of their own.
        let copy = |d: &Definition| d.content.as_ref().map(|c| Content::new(&c.document()));
        observed.agents[0].content.as_mut().unwrap().draft = copy(&want[&key("a")]);
        observed.agents[0].content.as_mut().unwrap().live = copy(&want[&key("a")]);
        let edited = definition("b", "edited by hand").content;
        observed.agents[1]
            .content
            .as_mut()
            .unwrap()
            .draft
            .clone_from(&edited);
        observed.share_contents(&want);

        let text_of = |c: &Option<Content>| c.as_ref().map(|c| c.text().as_ptr());
        let content_a = observed.agents[0].content.as_ref().unwrap();
        assert_eq!(text_of(&content_a.draft), text_of(&want[&key("a")].content));
        assert_eq!(text_of(&content_a.live), text_of(&want[&key("a")].content));
        let content_b = observed.agents[1].content.as_ref().unwrap();
        assert_eq!(
            text_of(&content_b.draft),
            text_of(&edited),
            "a draft that differs stays"
        );
        let plan = compute(&want, &BTreeSet::new(), &observed, &settings()).unwrap();
        assert_eq!(kinds(&plan, "a"), []);
        assert_eq!(kinds(&plan, "b"), [ActionKind::UpdateDraft]);
    }

    #[test]
    fn planning_the_applied_state_gives_no_actions() {
        let want = desired(vec![definition("a", "hi"), definition("b", "yo")]);
        let plan = compute(&want, &BTreeSet::new(), &applied(&want), &settings()).unwrap();
        assert!(plan.is_empty(), "{plan:#?}");
    }

    #[test]
    fn a_draft_edited_on_the_platform_is_repaired_without_a_publish() {
        let want = desired(vec![definition("a", "hi")]);
        let mut observed = applied(&want);
        let content = observed.agents[0].content.as_mut().unwrap();
        content.draft = definition("a", "edited by hand").content;
        let plan = compute(&want, &BTreeSet::new(), &observed, &settings()).unwrap();
        assert_eq!(kinds(&plan, "a"), [ActionKind::UpdateDraft]);
    }

    #[test]
    fn a_changed_prompt_updates_the_draft_and_publishes_once() {
        let observed = applied(&desired(vec![definition("a", "hi")]));
        let want = desired(vec![definition("a", "hello")]);
        let plan = compute(&want, &BTreeSet::new(), &observed, &settings()).unwrap();
        assert_eq!(
            kinds(&plan, "a"),
            [ActionKind::UpdateDraft, ActionKind::Publish]
        );
        let change = &plan.changes[0].actions[0].changes[0];
        assert_eq!(change.path.to_string(), "flow.graph.nodes[0].data.prompt");
    }

    #[test]
    fn publishing_off_only_updates_the_draft() {
        let observed = applied(&desired(vec![definition("a", "hi")]));
        let mut changed = definition("a", "hello");
        changed.publish = Some(false);
        let plan = compute(
            &desired(vec![changed]),
            &BTreeSet::new(),
            &observed,
            &settings(),
        )
        .unwrap();
        assert_eq!(kinds(&plan, "a"), [ActionKind::UpdateDraft]);
    }

    #[test]
    fn only_fields_the_file_sets_are_compared() {
        let want = desired(vec![definition("a", "hi")]);
        let mut observed = applied(&want);
        observed.agents[0]
            .agent
            .fields
            .insert("description".into(), json!("set by hand"));
        let plan = compute(&want, &BTreeSet::new(), &observed, &settings()).unwrap();
        assert!(plan.is_empty());
    }

    #[test]
    fn a_removed_definition_is_listed_archived_or_deleted_by_prune_mode() {
        let observed = applied(&desired(vec![
            definition("gone", "x"),
            definition("kept", "y"),
        ]));
        let none = desired(vec![definition("kept", "y")]);
        let off = compute(&none, &BTreeSet::new(), &observed, &settings()).unwrap();
        assert!(off.is_empty());
        assert!(off.notes[0].message.contains("not in the repository"));
        for (prune, kind) in [
            (Prune::Archive, ActionKind::Archive),
            (Prune::Delete, ActionKind::Delete),
        ] {
            let s = Settings {
                prune,
                ..settings()
            };
            let plan = compute(&none, &BTreeSet::new(), &observed, &s).unwrap();
            assert_eq!(kinds(&plan, "gone"), [kind]);
        }
    }

    #[test]
    fn an_archive_by_prune_records_pruned_in_the_marker() {
        let observed = applied(&desired(vec![definition("gone", "x")]));
        let s = Settings {
            prune: Prune::Archive,
            ..settings()
        };
        let kept = desired(vec![definition("kept", "y")]);
        let plan = compute(&kept, &BTreeSet::new(), &observed, &s).unwrap();
        let gone = plan.changes.iter().find(|c| c.key == key("gone")).unwrap();
        assert_eq!(gone.actions[0].kind, ActionKind::Archive);
        assert_eq!(gone.actions[0].changes, [pruned_change(false, true)]);
    }

    /// The platform after `prune: archive` archived `a`, with `pruned` in its marker when
    /// `by_prune`.
    fn archived_by(by_prune: bool) -> Observed {
        let mut observed = applied(&desired(vec![definition("a", "hi")]));
        observed.agents[0].agent.lifecycle = Lifecycle::Archived;
        observed.agents[0].agent.pruned = by_prune;
        observed
    }

    #[test]
    fn an_agent_archived_by_prune_is_restored_when_its_definition_is_back() {
        let want = desired(vec![definition("a", "hi")]);
        let plan = compute(&want, &BTreeSet::new(), &archived_by(true), &settings()).unwrap();
        assert_eq!(kinds(&plan, "a"), [ActionKind::Restore]);
        let restore = &plan.changes[0].actions[0];
        assert_eq!(restore.reason, RESTORED_AFTER_PRUNE);
        assert_eq!(restore.changes, [pruned_change(true, false)]);
    }

    #[test]
    fn an_agent_archived_on_purpose_stays_archived_while_status_is_not_managed() {
        let want = desired(vec![definition("a", "hi")]);
        let plan = compute(&want, &BTreeSet::new(), &archived_by(false), &settings()).unwrap();
        assert!(plan.is_empty(), "{plan:#?}");
    }

    #[test]
    fn a_returning_definition_that_says_archived_keeps_it_archived_and_clears_pruned() {
        let mut archived = definition("a", "hi");
        archived.lifecycle = Some(Lifecycle::Archived);
        let plan = compute(
            &desired(vec![archived]),
            &BTreeSet::new(),
            &archived_by(true),
            &settings(),
        )
        .unwrap();
        assert_eq!(kinds(&plan, "a"), [ActionKind::Update]);
        assert_eq!(
            plan.changes[0].actions[0].changes,
            [pruned_change(true, false)]
        );
    }

    #[test]
    fn an_active_agent_still_marked_pruned_has_the_mark_cleared() {
        let want = desired(vec![definition("a", "hi")]);
        let mut observed = applied(&want);
        observed.agents[0].agent.pruned = true;
        let plan = compute(&want, &BTreeSet::new(), &observed, &settings()).unwrap();
        assert_eq!(kinds(&plan, "a"), [ActionKind::Update]);
    }

    #[test]
    fn an_empty_definitions_directory_never_prunes() {
        let observed = applied(&desired(vec![definition("a", "x")]));
        let s = Settings {
            prune: Prune::Delete,
            ..settings()
        };
        let plan = compute(&Desired::new(), &BTreeSet::new(), &observed, &s).unwrap();
        assert!(plan.is_empty());
        assert!(plan.notes[0].message.contains("nothing is pruned"));
    }

    #[test]
    fn a_protected_agent_is_not_pruned() {
        let mut kept = definition("kept", "x");
        kept.protect = true;
        let observed = applied(&desired(vec![kept, definition("other", "y")]));
        let s = Settings {
            prune: Prune::Delete,
            ..settings()
        };
        let rest = desired(vec![definition("other", "y")]);
        let plan = compute(&rest, &BTreeSet::new(), &observed, &s).unwrap();
        assert!(plan.is_empty());
        assert!(plan.notes[0].message.contains("protected"));
    }

    #[test]
    fn a_definition_that_failed_to_load_is_never_pruned() {
        let observed = applied(&desired(vec![definition("broken", "x")]));
        let s = Settings {
            prune: Prune::Delete,
            ..settings()
        };
        let plan = compute(
            &Desired::new(),
            &BTreeSet::from([key("broken")]),
            &observed,
            &s,
        )
        .unwrap();
        assert!(plan.is_empty());
    }

    #[test]
    fn two_remote_agents_claiming_one_key_are_an_error_naming_both() {
        let want = desired(vec![definition("a", "hi")]);
        let mut observed = applied(&want);
        let mut twin = observed.agents[0].clone();
        twin.agent.id = "id-twin".into();
        observed.agents.push(twin);
        let errors = compute(&want, &BTreeSet::new(), &observed, &settings()).unwrap_err();
        assert_eq!(
            errors[0].to_string(),
            "key 'a' is claimed by more than one agent on the platform: id-a, id-twin; remove the marker from all but one"
        );
    }

    #[test]
    fn an_unmanaged_namesake_is_left_alone_unless_adopting() {
        let want = desired(vec![definition("a", "hi")]);
        let mut observed = applied(&want);
        observed.agents[0].agent.key = None;
        let plan = compute(&want, &BTreeSet::new(), &observed, &settings()).unwrap();
        assert_eq!(kinds(&plan, "a")[0], ActionKind::Create);
        assert!(plan.notes[0].message.contains("apply --adopt"));
        let adopting = Settings {
            adopt: true,
            ..settings()
        };
        let plan = compute(&want, &BTreeSet::new(), &observed, &adopting).unwrap();
        assert_eq!(kinds(&plan, "a"), [ActionKind::Adopt]);
    }

    #[test]
    fn namesakes_are_adopted_by_the_definitions_that_match_them() {
        // Two unmanaged agents named "Bot", exported as "bot" and "bot-2"; the platform lists
        // the second one's agent first.
        let mut first = definition("bot", "one");
        let mut second = definition("bot-2", "two");
        for d in [&mut first, &mut second] {
            d.fields.insert("name".into(), json!("Bot"));
        }
        let want = desired(vec![first, second]);
        let mut observed = applied(&want);
        observed.agents.reverse();
        for agent in &mut observed.agents {
            agent.agent.key = None;
        }
        let adopting = Settings {
            adopt: true,
            ..settings()
        };
        let plan = compute(&want, &BTreeSet::new(), &observed, &adopting).unwrap();
        assert_eq!(kinds(&plan, "bot"), [ActionKind::Adopt]);
        assert_eq!(kinds(&plan, "bot-2"), [ActionKind::Adopt]);
    }

    #[test]
    fn references_order_creation_and_show_known_after_apply() {
        let mut router = definition("router", "${agent:leaf}");
        router.references.insert(key("leaf"));
        let want = desired(vec![router, definition("leaf", "hi")]);
        let plan = compute(&want, &BTreeSet::new(), &Observed::default(), &settings()).unwrap();
        let order: Vec<&str> = plan.changes.iter().map(|c| c.key.as_str()).collect();
        assert_eq!(order, ["leaf", "router"]);
        assert_eq!(plan.changes[1].depends_on, [key("leaf")]);
        let text = serde_json::to_string(&plan.changes[1].actions[1]).unwrap();
        assert!(text.contains(KNOWN_AFTER_APPLY), "{text}");
    }

    #[test]
    fn resolved_references_compare_equal_to_the_remote_ids() {
        let mut router = definition("router", "${agent:leaf}");
        router.references.insert(key("leaf"));
        let want = desired(vec![router, definition("leaf", "hi")]);
        let mut observed = applied(&want);
        for agent in &mut observed.agents {
            if agent.agent.key == Some(key("router")) {
                let resolved = definition("router", "id-leaf").content;
                let content = agent.content.as_mut().unwrap();
                content.draft.clone_from(&resolved);
                content.live = resolved;
            }
        }
        let plan = compute(&want, &BTreeSet::new(), &observed, &settings()).unwrap();
        assert!(plan.is_empty(), "{plan:#?}");
    }

    #[test]
    fn status_archived_archives_and_active_restores_but_protect_blocks_archive() {
        let mut archived = definition("a", "hi");
        archived.lifecycle = Some(Lifecycle::Archived);
        let observed = applied(&desired(vec![definition("a", "hi")]));
        let plan = compute(
            &desired(vec![archived.clone()]),
            &BTreeSet::new(),
            &observed,
            &settings(),
        )
        .unwrap();
        assert_eq!(kinds(&plan, "a"), [ActionKind::Archive]);
        archived.protect = true;
        let plan = compute(
            &desired(vec![archived.clone()]),
            &BTreeSet::new(),
            &observed,
            &settings(),
        )
        .unwrap();
        // Only the marker changes (protect on); nothing is archived.
        assert_eq!(kinds(&plan, "a"), [ActionKind::Update]);

        let mut active = definition("a", "hi");
        active.lifecycle = Some(Lifecycle::Active);
        let mut observed = applied(&desired(vec![definition("a", "hi")]));
        observed.agents[0].agent.lifecycle = Lifecycle::Archived;
        let plan = compute(
            &desired(vec![active]),
            &BTreeSet::new(),
            &observed,
            &settings(),
        )
        .unwrap();
        assert_eq!(kinds(&plan, "a"), [ActionKind::Restore]);
    }

    #[test]
    fn a_field_set_at_creation_only_is_noted_and_left_out_of_the_update() {
        let mut before = definition("a", "p");
        before.fields.insert("mode".into(), json!("flow-chat"));
        let observed = applied(&desired(vec![before.clone()]));
        let mut after = before;
        after.fields.insert("mode".into(), json!("flow-job"));
        after.fields.insert("name".into(), json!("renamed"));
        let plan = compute(
            &desired(vec![after]),
            &BTreeSet::new(),
            &observed,
            &settings(),
        )
        .expect("a plan");
        let update = &plan.changes[0].actions[0];
        assert_eq!(update.kind, ActionKind::Update);
        let paths: Vec<String> = update.changes.iter().map(|c| c.path.to_string()).collect();
        assert_eq!(paths, ["name"]);
        assert_eq!(plan.notes.len(), 1);
        assert!(
            plan.notes[0].message.starts_with("'mode' differs"),
            "{:?}",
            plan.notes
        );
    }

    #[test]
    fn an_escaped_reference_stays_literal_text_whether_or_not_the_agent_exists() {
        // `$${agent:leaf}` in a file loads as the text `${agent:leaf}`, recorded as no reference.
        let content = json!({"prompt": "say ${agent:leaf} or ${agent:gone}; call ${agent:real}"});
        let content = Content::new(content.as_object().unwrap());
        let references: BTreeSet<Key> = [key("real")].into_iter().collect();
        let (leaf, real) = (key("leaf"), key("real"));
        let ids: BTreeMap<&Key, &str> = [(&leaf, "id-leaf"), (&real, "id-real")]
            .into_iter()
            .collect();
        let (resolved, pending) = resolve_references(&content, &references, &ids);
        assert!(!pending);
        assert_eq!(
            resolved.document()["prompt"],
            "say ${agent:leaf} or ${agent:gone}; call id-real"
        );
    }

    /// An unmanaged agent named `name`, as someone made it by hand.
    fn unmanaged(id: &str, name: &str) -> ObservedAgent {
        ObservedAgent {
            agent: RemoteAgent {
                id: id.into(),
                key: None,
                code: None,
                protected: false,
                pruned: false,
                unrecorded: false,
                fields: json!({ "name": name }).as_object().unwrap().clone(),
                lifecycle: Lifecycle::Active,
            },
            content: None,
        }
    }

    fn without_markers() -> Settings {
        Settings {
            capabilities: Capabilities {
                markers: false,
                publish: false,
                ..CAPS
            },
            ..settings()
        }
    }

    #[test]
    fn without_markers_a_name_borne_by_two_agents_is_refused_naming_both() {
        let wanted = desired(vec![definition("a", "p")]);
        let mut observed = applied(&wanted);
        observed.agents.push(unmanaged("id-2", "a"));
        let errors = compute(&wanted, &BTreeSet::new(), &observed, &without_markers())
            .expect_err("two agents named a");
        assert_eq!(
            errors.iter().map(ToString::to_string).collect::<Vec<_>>(),
            [
                "agent 'a': 2 agents on the platform are named \"a\" (id-a, id-2); where agents carry no marker, agentsync needs the names it manages to be unique: rename or delete all but one"
            ]
        );
        // Where agents carry markers, the namesake is simply someone else's.
        assert!(compute(&wanted, &BTreeSet::new(), &observed, &settings()).is_ok());
    }

    #[test]
    fn without_markers_an_unmanaged_namesake_refuses_the_create_unless_adopted() {
        let wanted = desired(vec![definition("a", "p")]);
        let observed = Observed {
            agents: vec![unmanaged("id-9", "a")],
        };
        let errors = compute(&wanted, &BTreeSet::new(), &observed, &without_markers())
            .expect_err("an unmanaged namesake");
        assert!(matches!(&errors[..], [PlanError::UnmanagedNamesake { id, .. }] if id == "id-9"));
        let adopting = Settings {
            adopt: true,
            ..without_markers()
        };
        let plan = compute(&wanted, &BTreeSet::new(), &observed, &adopting).expect("a plan");
        assert!(kinds(&plan, "a").contains(&ActionKind::Adopt), "{plan:?}");
    }

    #[test]
    fn without_drafts_a_plan_that_writes_says_it_is_live_at_once() {
        let wanted = desired(vec![definition("a", "p")]);
        let plan = compute(
            &wanted,
            &BTreeSet::new(),
            &Observed::default(),
            &without_markers(),
        )
        .expect("a plan");
        assert!(
            plan.notes
                .iter()
                .any(|n| n.message.contains("live the moment it is applied"))
        );
        let settled = compute(
            &wanted,
            &BTreeSet::new(),
            &applied(&wanted),
            &without_markers(),
        )
        .expect("a plan");
        assert!(settled.notes.is_empty(), "{:?}", settled.notes);
    }
}
