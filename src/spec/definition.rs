//! One definition file's tree -> a [`Definition`], collecting every problem on the way.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use serde_json::Value as Json;

use super::error::{Problem, SpecError};
use super::files::{self, Boundary, ReadError, Refused};
use super::interpolate::{InterpolationError, interpolate};
use super::schema::{COMMON_FIELDS, DefinitionSchema, Field, Kind};
use crate::model::content::Content;
use crate::model::{Definition, Document, FieldPath, Key, Lifecycle, Segment};
use crate::text::diagnostic::{Located, SourceFile, suggest};
use crate::text::json_include::{self, JsonInclude};
use crate::text::json_text::{JsonText, TextWriter};
use crate::text::yaml::{self, Entry, Node, Span, Value};

/// Where a `${agent:KEY}` was written, for the cross-file checks.
#[derive(Debug, Clone)]
pub struct ReferenceSite {
    pub target: Key,
    pub field: FieldPath,
    pub source: SourceFile,
    pub span: Span,
}

/// What checking one file gave.
#[derive(Debug, Default)]
pub struct Checked {
    /// The file's text, once read. A directory's load lets it go from the first file of each
    /// key, the only place no duplicate key is ever shown.
    pub source: Option<SourceFile>,
    pub definition: Option<Definition>,
    /// The key, when it could be read even if the file has other problems.
    pub key: Option<(Key, Span)>,
    pub problems: Vec<Problem>,
    pub references: Vec<ReferenceSite>,
    /// Files pulled in by `graph_file`, which are therefore not definitions themselves.
    pub includes: Vec<Include>,
    /// The file's top level has `kind`: it means to be a definition, and so it may not be
    /// included by another (see [`super::load`]).
    pub has_kind: bool,
}

/// A file a definition includes.
#[derive(Debug, Clone, PartialEq)]
pub struct Include {
    /// Where it lies, every symlink followed.
    pub resolved: PathBuf,
    /// The field that names it (`flow.graph_file`), and where its value stands in the
    /// definition.
    pub field: String,
    pub span: Span,
}

/// What the checker needs from outside: where the file is, and the environment.
pub struct Context<'a> {
    pub schema: &'a DefinitionSchema,
    /// The file's directory on disk, for `graph_file`.
    pub dir: &'a Path,
    /// Where included files must lie.
    pub boundary: &'a Boundary,
    pub env: &'a dyn Fn(&str) -> Option<String>,
    /// Where to note the files included, when the load remembers ([`super::reads`]).
    pub reads: Option<&'a super::reads::Reads>,
    /// The files this definition includes, read (and parsed, for JSON) ahead on a parsing
    /// thread; one not found here is read when the checker comes to it.
    pub read_ahead: Option<&'a ReadAhead>,
}

/// A definition's included files, read and parsed by [`read_ahead`] before it is checked.
/// Reading and parsing large JSON graph files is most of the work of a load, and the checker
/// runs on one thread while the parsing threads run on every core.
#[derive(Default)]
pub struct ReadAhead(RefCell<HashMap<PathBuf, Included>>);

/// An included file as [`Checker::include`] would have read it.
struct Included {
    read: IncludeRead,
    /// For a `.json` file read, what the JSON path made of it.
    json: Option<Result<JsonInclude, serde_json::Error>>,
}

/// An included file where it lies (every symlink followed) and its text, or why it is not read.
pub(super) type IncludeRead = Result<(PathBuf, String), IncludeFailure>;

/// Why an included file is not read.
#[derive(Debug)]
pub(super) enum IncludeFailure {
    Refused(Refused),
    Read(ReadError),
}

/// Reads the file at `path` (as a definition names it, joined to its directory) if it lies
/// inside `boundary` and is a regular file. The file read is the resolved path, so a symlink
/// swapped after the check is not followed to somewhere else.
pub(super) fn read_include(boundary: &Boundary, path: &Path) -> IncludeRead {
    let resolved = boundary.resolve(path).map_err(IncludeFailure::Refused)?;
    let text = files::read_text(&resolved).map_err(IncludeFailure::Read)?;
    Ok((resolved, text))
}

/// The problem an include that was not read is.
fn include_error(field: String, path: PathBuf, failure: IncludeFailure) -> SpecError {
    match failure {
        IncludeFailure::Refused(Refused::Outside) => SpecError::IncludeOutside { field, path },
        IncludeFailure::Refused(Refused::Unresolved(source)) => SpecError::IncludeRead {
            field,
            path,
            source: ReadError::Io(source),
        },
        IncludeFailure::Read(ReadError::NotAFile { found }) => {
            SpecError::IncludeNotAFile { field, path, found }
        }
        IncludeFailure::Read(ReadError::TooLarge { size }) => SpecError::IncludeTooLarge {
            field,
            path,
            size,
            limit: files::MAX_FILE_BYTES,
        },
        IncludeFailure::Read(source) => SpecError::IncludeRead {
            field,
            path,
            source,
        },
    }
}

impl ReadAhead {
    fn take(&self, path: &Path) -> Option<Included> {
        self.0.borrow_mut().remove(path)
    }

    /// The files read ahead.
    #[cfg(test)]
    pub fn paths(&self) -> Vec<PathBuf> {
        self.0.borrow().keys().cloned().collect()
    }
}

/// Reads and parses the files that `root` (a definition's tree, in a file in `dir`) includes
/// where `schema` allows includes, as the checker will want them.
pub fn read_ahead(
    root: &Node,
    schema: &DefinitionSchema,
    dir: &Path,
    boundary: &Boundary,
) -> ReadAhead {
    fn walk(
        node: &Node,
        fields: &'static [Field],
        (dir, boundary): (&Path, &Boundary),
        found: &mut HashMap<PathBuf, Included>,
    ) {
        let Value::Map(entries) = &node.value else {
            return;
        };
        for entry in entries {
            match (
                fields.iter().find(|f| f.name == entry.key).map(|f| f.kind),
                &entry.value.value,
            ) {
                (Some(Kind::Include { .. }), Value::String(relative)) => {
                    let path = dir.join(relative);
                    let read = read_include(boundary, &path);
                    let json = match &read {
                        Ok((_, text)) if is_json(&path) => Some(json_include::parse(text)),
                        _ => None,
                    };
                    found.insert(path, Included { read, json });
                }
                (Some(Kind::Nested(inner)), _) => {
                    walk(&entry.value, inner, (dir, boundary), found);
                }
                _ => {}
            }
        }
    }
    let mut found = HashMap::new();
    walk(root, schema.fields, (dir, boundary), &mut found);
    ReadAhead(RefCell::new(found))
}

/// Whether an included file is read as JSON.
fn is_json(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
}

/// A definition's text as a YAML tree (or why it is not one).
pub type Parsed = Result<Option<Node>, yaml::YamlError>;

/// Parses a definition's text. Below its bulk fields (see
/// [`DefinitionSchema::bulk_fields`]), one-line JSON flows are kept as text
/// ([`yaml::parse_keeping_json`]): [`Checker::text_at`] writes them as they are.
pub fn parse(text: &str, schema: &DefinitionSchema) -> Parsed {
    let bulk = schema.bulk_fields();
    let bulk: Vec<&[&str]> = bulk.iter().map(Vec::as_slice).collect();
    yaml::parse_keeping_json(text, &bulk)
}

/// Checks a definition whose text has been read.
pub fn check(source: &SourceFile, cx: &Context<'_>) -> Checked {
    check_parsed(source, parse(&source.text, cx.schema), cx)
}

/// [`check`] for a text already parsed: parsing needs nothing but the text, so a directory's
/// files can be parsed on several threads, then checked in order.
pub fn check_parsed(source: &SourceFile, parsed: Parsed, cx: &Context<'_>) -> Checked {
    let mut checker = Checker {
        cx,
        out: Checked::default(),
        sensitive: BTreeSet::new(),
        env_texts: BTreeMap::new(),
        escaped_references: Vec::new(),
        included_text: None,
    };
    let definition = checker.definition(source, parsed);
    let mut out = checker.out;
    out.source = Some(source.clone());
    out.definition = if out.problems.is_empty() {
        definition
    } else {
        None
    };
    let agent = out.key.as_ref().map(|(k, _)| k.to_string());
    for problem in &mut out.problems {
        problem.agent.clone_from(&agent);
    }
    out
}

struct Checker<'c, 'a> {
    cx: &'c Context<'a>,
    out: Checked,
    sensitive: BTreeSet<FieldPath>,
    env_texts: BTreeMap<FieldPath, String>,
    /// Where `$${agent:NAME}` left a literal `${agent:NAME}`: the name, the field and its place.
    escaped_references: Vec<(String, FieldPath, SourceFile, Span)>,
    /// A JSON include read as text (the fast path), and where it goes in the content: the
    /// content itself (`None`) or one of its members. Its place in the tree holds `null`.
    included_text: Option<(Option<String>, JsonText)>,
}

impl Checker<'_, '_> {
    fn problem(&mut self, source: &SourceFile, span: Span, error: SpecError) {
        self.out.problems.push(Located::at(source, span, error));
    }

    fn definition(&mut self, source: &SourceFile, parsed: Parsed) -> Option<Definition> {
        let root = match parsed {
            Ok(Some(root)) => root,
            Ok(None) => {
                self.out
                    .problems
                    .push(Located::file(&source.path, SpecError::Empty));
                return None;
            }
            Err(err) => {
                self.problem(source, err.span(), SpecError::Yaml(err));
                return None;
            }
        };
        let entries = match &root.value {
            Value::Map(entries) => entries,
            Value::Null => {
                self.out
                    .problems
                    .push(Located::file(&source.path, SpecError::Empty));
                return None;
            }
            other => {
                let found = other.type_name();
                self.problem(source, root.span, SpecError::NotAMapping { found });
                return None;
            }
        };

        self.out.has_kind = root.get("kind").is_some();
        // The key first, so that every other problem can name the agent.
        let key = self.key(source, &root);
        self.kind(source, &root);
        let lifecycle = self.lifecycle(source, &root);
        let publish = self.flag(source, &root, "publish");
        let protect = self.flag(source, &root, "protect").unwrap_or(false);
        let previous_names = self.names(source, &root, "previous_names");

        let provider_entries: Vec<&Entry> = entries
            .iter()
            .filter(|e| !COMMON_FIELDS.iter().any(|f| f.name == e.key))
            .collect();
        let mut fields = self.fields(
            source,
            &root,
            &provider_entries,
            self.cx.schema.fields,
            &FieldPath::root(),
            COMMON_FIELDS,
        );
        let content = self
            .cx
            .schema
            .content_field
            .and_then(|name| fields.remove(name))
            .and_then(|value| match (value, self.included_text.take()) {
                (Json::Object(map), None) => Some(Content::new(&map)),
                (Json::Object(map), Some((Some(member), text))) => {
                    Some(Content::with_member(&map, &member, &text))
                }
                (Json::Null, Some((None, text))) => Content::from_json_text(text),
                _ => None,
            });
        self.check_escaped_references();
        Some(Definition {
            key: key?,
            file: source.path.clone(),
            fields,
            content,
            lifecycle,
            publish,
            protect,
            previous_names,
            sensitive: std::mem::take(&mut self.sensitive),
            env_texts: std::mem::take(&mut self.env_texts),
            references: self
                .out
                .references
                .iter()
                .map(|r| r.target.clone())
                .collect(),
        })
    }

    /// Resolving a reference replaces every `${agent:KEY}` of its key in the flow: a literal one
    /// left by `$${agent:KEY}` would be replaced too. Refused rather than sent wrong.
    fn check_escaped_references(&mut self) {
        for (name, field, source, span) in std::mem::take(&mut self.escaped_references) {
            let referenced = self
                .out
                .references
                .iter()
                .any(|site| site.target.to_string() == name);
            if referenced {
                let error = SpecError::EscapedReferenceClash {
                    field: field.to_string(),
                    key: name,
                };
                self.problem(&source, span, error);
            }
        }
    }

    fn key(&mut self, source: &SourceFile, root: &Node) -> Option<Key> {
        let Some(entry) = root.get("key") else {
            let error = SpecError::MissingField {
                field: "key".into(),
            };
            self.problem(source, root.span, error);
            return None;
        };
        let text = self.string(source, entry, "key")?;
        match Key::parse(&text) {
            Ok(key) => {
                self.out.key = Some((key.clone(), entry.value.span));
                Some(key)
            }
            Err(reason) => {
                let error = SpecError::InvalidKey { key: text, reason };
                self.problem(source, entry.value.span, error);
                None
            }
        }
    }

    fn kind(&mut self, source: &SourceFile, root: &Node) {
        match root.get("kind") {
            None => self.problem(source, root.span, SpecError::MissingKind),
            Some(entry) => match &entry.value.value {
                Value::String(kind) if kind == "agent" => {}
                other => {
                    let found = match other {
                        Value::String(s) => s.clone(),
                        other => other.type_name().to_string(),
                    };
                    self.problem(source, entry.value.span, SpecError::WrongKind { found });
                }
            },
        }
    }

    fn lifecycle(&mut self, source: &SourceFile, root: &Node) -> Option<Lifecycle> {
        let entry = root.get("status")?;
        let status = self.one_of(source, entry, "status", &["active", "archived"])?;
        Some(if status == "archived" {
            Lifecycle::Archived
        } else {
            Lifecycle::Active
        })
    }

    fn flag(&mut self, source: &SourceFile, root: &Node, name: &str) -> Option<bool> {
        let entry = root.get(name)?;
        match entry.value.value {
            Value::Bool(b) => Some(b),
            Value::Null => None,
            ref other => {
                self.wrong_type(source, entry, name, "a boolean", other);
                None
            }
        }
    }

    /// A list of non-empty strings at the top level (`previous_names`).
    fn names(&mut self, source: &SourceFile, root: &Node, name: &str) -> Vec<String> {
        let Some(entry) = root.get(name) else {
            return Vec::new();
        };
        match &entry.value.value {
            Value::Null => Vec::new(),
            Value::Seq(items) => {
                let mut names = Vec::new();
                for item in items {
                    match &item.value {
                        Value::String(text) if !text.trim().is_empty() => names.push(text.clone()),
                        other => {
                            let error = SpecError::WrongType {
                                field: name.to_string(),
                                expected: "a list of names",
                                found: other.type_name(),
                            };
                            self.problem(source, item.span, error);
                        }
                    }
                }
                names
            }
            other => {
                self.wrong_type(source, entry, name, "a list of names", other);
                Vec::new()
            }
        }
    }

    fn wrong_type(
        &mut self,
        source: &SourceFile,
        entry: &Entry,
        field: &str,
        expected: &'static str,
        found: &Value,
    ) {
        let error = SpecError::WrongType {
            field: field.to_string(),
            expected,
            found: found.type_name(),
        };
        self.problem(source, entry.value.span, error);
    }

    /// A plain string field (no substitution: `key`, `kind`, `status` are agentsync's own).
    fn string(&mut self, source: &SourceFile, entry: &Entry, field: &str) -> Option<String> {
        match &entry.value.value {
            Value::String(text) => Some(text.clone()),
            other => {
                self.wrong_type(source, entry, field, "a string", other);
                None
            }
        }
    }

    fn one_of(
        &mut self,
        source: &SourceFile,
        entry: &Entry,
        field: &str,
        allowed: &'static [&'static str],
    ) -> Option<String> {
        let text = self.string(source, entry, field)?;
        if allowed.contains(&text.as_str()) {
            return Some(text);
        }
        let suggestion = suggest(&text, allowed.iter().copied()).map(str::to_string);
        let error = SpecError::NotAllowed {
            field: field.to_string(),
            value: text,
            allowed,
            suggestion,
        };
        self.problem(source, entry.value.span, error);
        None
    }

    /// Checks a mapping's entries against `schema`; `also_known` are fields handled elsewhere
    /// that a misspelling may still be close to.
    fn fields(
        &mut self,
        source: &SourceFile,
        parent: &Node,
        entries: &[&Entry],
        schema: &'static [Field],
        path: &FieldPath,
        also_known: &'static [Field],
    ) -> Document {
        let mut doc = Document::new();
        let known = || {
            also_known
                .iter()
                .chain(schema.iter())
                .map(|f| f.name)
                .collect::<Vec<_>>()
        };
        for entry in entries {
            let Some(field) = schema.iter().find(|f| f.name == entry.key) else {
                let suggestion = suggest(&entry.key, known()).map(str::to_string);
                let error = SpecError::UnknownField {
                    field: entry.key.clone(),
                    suggestion,
                    known: known(),
                };
                self.problem(source, entry.key_span, error);
                continue;
            };
            if matches!(entry.value.value, Value::Null) {
                // `field: null` (or `field:`) is the same as leaving the field out.
                continue;
            }
            let field_path = path.field(field.name);
            let name = match field.kind {
                Kind::Include { into } => into,
                _ => field.name,
            };
            if let Some(value) = self.field(source, entry, field, &field_path) {
                if path.is_root() && self.is_blank_name(field, &value) {
                    let error = SpecError::EmptyName {
                        field: field_path.to_string(),
                    };
                    self.problem(source, entry.value.span, error);
                }
                doc.insert(name.to_string(), value);
            }
        }
        for field in schema {
            let present = |name: &str| entries.iter().any(|e| e.key == name);
            if let Kind::Include { into } = field.kind {
                let path_text = |name: &str| path.field(name).to_string();
                if present(field.name) && present(into) {
                    let span = parent.get(field.name).map_or(parent.span, |e| e.key_span);
                    let error = SpecError::Exclusive {
                        field: path_text(field.name),
                        other: path_text(into),
                    };
                    self.problem(source, span, error);
                } else if !present(field.name) && !present(into) && !path.is_root() {
                    let error = SpecError::NeedsOneOf {
                        field: path.to_string(),
                        one: into.to_string(),
                        other: field.name.to_string(),
                    };
                    self.problem(source, parent.span, error);
                }
            }
            if field.required && !present(field.name) {
                let error = SpecError::MissingField {
                    field: path.field(field.name).to_string(),
                };
                self.problem(source, parent.span, error);
            }
        }
        if path.is_root() {
            self.requirements(source, entries, &doc);
        }
        doc
    }

    /// The fields the schema's requirements ask for, given the values `doc` holds: each one
    /// missing is a problem at the value that asks for it.
    fn requirements(&mut self, source: &SourceFile, entries: &[&Entry], doc: &Document) {
        for requirement in self.cx.schema.requirements {
            if doc.get(requirement.field).and_then(Json::as_str) != Some(requirement.value) {
                continue;
            }
            let span = entries
                .iter()
                .find(|e| e.key == requirement.field)
                .map_or(Span::default(), |e| e.value.span);
            for &needed in requirement.needs {
                if !doc.contains_key(needed) {
                    let error = SpecError::RequiredBy {
                        field: needed.to_owned(),
                        when: requirement.field,
                        value: requirement.value,
                    };
                    self.problem(source, span, error);
                }
            }
        }
    }

    /// Whether `value` is the name field's, and empty or only spaces: every platform refuses
    /// to create an agent without a name, so it is refused here, before anything is sent.
    fn is_blank_name(&self, field: &Field, value: &Json) -> bool {
        self.cx.schema.name_field == Some(field.name)
            && value.as_str().is_some_and(|name| name.trim().is_empty())
    }

    fn field(
        &mut self,
        source: &SourceFile,
        entry: &Entry,
        field: &Field,
        path: &FieldPath,
    ) -> Option<Json> {
        let node = &entry.value;
        let name = path.to_string();
        let expect = |checker: &mut Self, expected: &'static str| {
            checker.wrong_type(source, entry, &name, expected, &node.value);
            None
        };
        match (field.kind, &node.value) {
            (Kind::String, Value::String(_))
            | (Kind::Bool, Value::Bool(_))
            | (Kind::Integer, Value::Int(_))
            | (Kind::Number, Value::Int(_) | Value::Float(_)) => self.json(source, node, path),
            (Kind::String, _) => expect(self, "a string"),
            (Kind::Bool, _) => expect(self, "a boolean"),
            (Kind::Integer, _) => expect(self, "an integer"),
            (Kind::Number, _) => expect(self, "a number"),
            (Kind::OneOf(allowed), _) => {
                self.one_of(source, entry, &name, allowed).map(Json::String)
            }
            (Kind::Tags, Value::Seq(items)) => {
                let mut tags = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    match &item.value {
                        Value::String(tag) if !tag.contains(',') && !tag.trim().is_empty() => {
                            tags.push(Json::String(tag.trim().to_string()));
                        }
                        _ => {
                            let error = SpecError::InvalidValue {
                                field: path.index(i).to_string(),
                                message: "a tag must be a non-empty string without commas".into(),
                            };
                            self.problem(source, item.span, error);
                        }
                    }
                }
                Some(Json::Array(tags))
            }
            (Kind::Tags, _) => expect(self, "a list of strings"),
            (Kind::Mapping, Value::Map(_)) if self.included_text.is_none() => {
                match self.bulk_place(path) {
                    // The bulk of the content (a graph): written as text, never as a tree.
                    Some(place) => self.bulk_text(source, node, path, place),
                    None => self.json(source, node, path),
                }
            }
            (Kind::Mapping | Kind::Any, Value::Map(_)) | (Kind::Any, _) => {
                self.json(source, node, path)
            }
            (Kind::Mapping, _) => expect(self, "a mapping"),
            (Kind::MappingReserving(reserved), Value::Map(entries)) => {
                for inner in entries
                    .iter()
                    .filter(|e| reserved.contains(&e.key.as_str()))
                {
                    let error = SpecError::Reserved {
                        field: path.field(&inner.key).to_string(),
                    };
                    self.problem(source, inner.key_span, error);
                }
                self.json(source, node, path)
            }
            (Kind::MappingReserving(_), _) => expect(self, "a mapping"),
            (Kind::MappingOfMappings, Value::Map(entries)) => {
                for inner in entries {
                    if !matches!(inner.value.value, Value::Map(_)) {
                        self.wrong_type(
                            source,
                            inner,
                            &path.field(&inner.key).to_string(),
                            "a mapping",
                            &inner.value.value,
                        );
                    }
                }
                self.json(source, node, path)
            }
            (Kind::MappingOfMappings, _) => expect(self, "a mapping"),
            (Kind::Nested(fields), Value::Map(entries)) => {
                let entries: Vec<&Entry> = entries.iter().collect();
                Some(Json::Object(self.fields(
                    source,
                    node,
                    &entries,
                    fields,
                    path,
                    &[],
                )))
            }
            (Kind::Nested(_), _) => expect(self, "a mapping"),
            (Kind::Include { into }, Value::String(relative)) => {
                let into_path = path_parent(path).field(into);
                self.include(source, node.span, relative, path, &into_path)
            }
            (Kind::Include { .. }, _) => expect(self, "a file path"),
        }
    }

    /// Reads an included file (`graph_file`, `definition_file`) and checks its content like
    /// inline YAML.
    fn include(
        &mut self,
        source: &SourceFile,
        span: Span,
        relative: &str,
        field: &FieldPath,
        into: &FieldPath,
    ) -> Option<Json> {
        let field = field.to_string();
        let on_disk = self.cx.dir.join(relative);
        let shown = source
            .path
            .parent()
            .map_or_else(|| PathBuf::from(relative), |p| p.join(relative));
        let ahead = self.cx.read_ahead.and_then(|ahead| ahead.take(&on_disk));
        let (read, json) = match ahead {
            Some(included) => (included.read, included.json),
            None => (read_include(self.cx.boundary, &on_disk), None),
        };
        if let Some(reads) = self.cx.reads {
            let read = read.as_ref().ok();
            reads.include(
                &on_disk,
                read.map(|(path, text)| (path.as_path(), text.as_str())),
            );
        }
        let (resolved, text) = match read {
            Ok(read) => read,
            Err(failure) => {
                self.problem(source, span, include_error(field, shown, failure));
                return None;
            }
        };
        self.out.includes.push(Include {
            resolved,
            field: field.clone(),
            span,
        });
        let is_json = is_json(&on_disk);
        if is_json {
            // JSON is YAML, but its own parser gives the messages JSON users know, and is
            // several times faster on the large graphs editors export.
            match json.unwrap_or_else(|| json_include::parse(&text)) {
                Ok(JsonInclude::Text(read)) => {
                    if let Some(place) = self.place_in_content(into) {
                        self.included_text = Some((place, read));
                        return Some(Json::Null);
                    }
                    // Not in the content (no schema has such an include): as a tree.
                    return serde_json::from_str(&read.compact).ok();
                }
                Ok(JsonInclude::NeedsYamlPath) => {}
                Err(err) => {
                    let error = SpecError::IncludeParse {
                        field,
                        path: shown,
                        format: "JSON",
                        message: err.to_string(),
                    };
                    self.problem(source, span, error);
                    return None;
                }
            }
        }
        let included = SourceFile::new(shown.clone(), text);
        let parsed = if is_json {
            yaml::parse_json(&included.text)
        } else {
            yaml::parse(&included.text)
        };
        match parsed {
            Ok(Some(node)) => self.included_value(&included, node, into),
            Ok(None) => Some(Json::Object(Document::new())),
            Err(err) => {
                let span = err.span();
                let error = match err {
                    // Valid JSON or YAML, with a value that cannot be taken as written.
                    yaml::YamlError::IntegerTooLarge { .. }
                    | yaml::YamlError::ControlCharacter { .. } => SpecError::IncludeValue {
                        field,
                        path: shown,
                        source: err,
                    },
                    err => SpecError::IncludeParse {
                        field,
                        path: shown,
                        format: if is_json { "JSON" } else { "YAML" },
                        message: err.to_string(),
                    },
                };
                self.problem(&included, span, error);
                None
            }
        }
    }

    /// An included file's value, checked as the field it stands for (`into`) would be written
    /// inline: a graph file holding a string or a list is refused as `graph: hello` is.
    fn included_value(
        &mut self,
        included: &SourceFile,
        node: Node,
        into: &FieldPath,
    ) -> Option<Json> {
        let (Some(field), Some(Segment::Field(name))) =
            (self.field_at(into), into.segments().last())
        else {
            return self.json(included, &node, into);
        };
        let entry = Entry {
            key: name.clone(),
            key_span: node.span,
            value: node,
        };
        self.field(included, &entry, field, into)
    }

    /// The schema's field at `path` (through nested fields), if it has one.
    fn field_at(&self, path: &FieldPath) -> Option<&'static Field> {
        let mut fields = self.cx.schema.fields;
        let mut found: Option<&'static Field> = None;
        for segment in path.segments() {
            if let Some(parent) = found {
                let Kind::Nested(inner) = parent.kind else {
                    return None;
                };
                fields = inner;
            }
            let Segment::Field(name) = segment else {
                return None;
            };
            found = Some(fields.iter().find(|f| f.name == name)?);
        }
        found
    }

    /// The bulk of a content (a graph, inline or from a file) at `path`, written as text for
    /// its `place` in the content, never as a tree; it holds `null` in the tree until then.
    fn bulk_text(
        &mut self,
        source: &SourceFile,
        node: &Node,
        path: &FieldPath,
        place: Option<String>,
    ) -> Option<Json> {
        // Most of the file, as text: its buffer grows once.
        let mut writer = TextWriter::with_capacity(source.text.len());
        self.text_at(source, node, &mut path.clone(), &mut writer);
        self.included_text = Some((place, writer.finish()));
        Some(Json::Null)
    }

    /// Where `path` stands in the content: the content itself (`Some(None)`), one of its
    /// members (`Some(Some(name))`), or elsewhere (`None`).
    fn place_in_content(&self, path: &FieldPath) -> Option<Option<String>> {
        let content = FieldPath::root().field(self.cx.schema.content_field?);
        if *path == content {
            return Some(None);
        }
        match path.segments().split_last() {
            Some((Segment::Field(name), parent)) if parent == content.segments() => {
                Some(Some(name.clone()))
            }
            _ => None,
        }
    }

    /// Where `path` stands in the content when it is the field an include fills (`graph`,
    /// `definition`): the bulk of a content, written as text rather than as a tree.
    fn bulk_place(&self, path: &FieldPath) -> Option<Option<String>> {
        let place = self.place_in_content(path)?;
        let Segment::Field(name) = path.segments().last()? else {
            return None;
        };
        let siblings = match &place {
            None => self.cx.schema.fields,
            Some(_) => {
                let content = self.cx.schema.content_field?;
                match self
                    .cx
                    .schema
                    .fields
                    .iter()
                    .find(|f| f.name == content)?
                    .kind
                {
                    Kind::Nested(fields) => fields,
                    _ => return None,
                }
            }
        };
        siblings
            .iter()
            .any(|f| matches!(f.kind, Kind::Include { into } if into == name))
            .then_some(place)
    }

    /// Writes a subtree as JSON text, substituting `${...}` in every string; extends and
    /// shortens one path in place on the way down and up (graphs have thousands of nodes, and
    /// copying the path at each was most of the load time).
    fn text_at(
        &mut self,
        source: &SourceFile,
        node: &Node,
        path: &mut FieldPath,
        writer: &mut TextWriter,
    ) {
        match &node.value {
            Value::Null | Value::Bool(_) | Value::Int(_) | Value::Float(_) => {
                if !node.value.write_json_word(writer) {
                    let error = SpecError::InvalidValue {
                        field: path.to_string(),
                        message: "infinity and NaN cannot be sent to the platform".into(),
                    };
                    self.problem(source, node.span, error);
                    // The definition is refused; the text only has to stay JSON.
                    writer.null();
                }
            }
            // Most strings have nothing to substitute: written as they are, not copied first.
            Value::String(text) if !text.contains("${") => writer.string(text),
            Value::String(text) => match self.substitute(source, node.span, text, path) {
                Some(text) => writer.string(&text),
                None => writer.null(),
            },
            // Checked and written as text already, by the same writer.
            Value::Json(text) => writer.compact_value(text),
            Value::Seq(items) => {
                let mut array = writer.begin_array();
                for (i, item) in items.iter().enumerate() {
                    writer.element(&mut array);
                    path.push_index(i);
                    self.text_at(source, item, path, writer);
                    path.pop();
                }
                writer.end_array(array);
            }
            Value::Map(entries) => {
                let mut object = writer.begin_object();
                for entry in entries {
                    writer.member(&mut object, &entry.key);
                    path.push_field(&entry.key);
                    self.text_at(source, &entry.value, path, writer);
                    path.pop();
                }
                writer.end_object(object);
            }
        }
    }

    /// Converts a subtree to JSON, substituting `${...}` in every string; `None` when some
    /// value in it is a problem (already recorded). Written as text by [`Checker::text_at`] and
    /// read back, so that one walk over YAML holds the rules; these subtrees are small (the
    /// bulk of a content stays text).
    fn json(&mut self, source: &SourceFile, node: &Node, path: &FieldPath) -> Option<Json> {
        let problems = self.out.problems.len();
        let mut writer = TextWriter::default();
        self.text_at(source, node, &mut path.clone(), &mut writer);
        if self.out.problems.len() > problems {
            return None;
        }
        let text = writer.finish().compact;
        let mut deserializer = serde_json::Deserializer::from_str(&text);
        // As deep as the YAML loader allows (`yaml::MAX_DEPTH`), deeper than serde_json's default.
        deserializer.disable_recursion_limit();
        serde::Deserialize::deserialize(&mut deserializer).ok()
    }

    fn substitute(
        &mut self,
        source: &SourceFile,
        span: Span,
        text: &str,
        path: &FieldPath,
    ) -> Option<String> {
        // Named only when something is wrong: most strings are fine, and there are many.
        let field = || path.to_string();
        match interpolate(text, self.cx.env) {
            Ok(done) => {
                if done.sensitive {
                    self.sensitive.insert(path.clone());
                    self.env_texts.insert(path.clone(), text.to_string());
                }
                if done.references.is_empty() && done.escaped_references.is_empty() {
                    return Some(done.text);
                }
                let in_content = self.cx.schema.content_field.is_some_and(|content| {
                    matches!(path.segments().first(), Some(Segment::Field(first)) if first == content)
                });
                // Only the flow is resolved, so only there can a literal be taken for a reference.
                if in_content {
                    for name in done.escaped_references {
                        self.escaped_references
                            .push((name, path.clone(), source.clone(), span));
                    }
                }
                if done.references.is_empty() {
                    return Some(done.text);
                }
                if !in_content {
                    let error = SpecError::ReferenceOutsideContent { field: field() };
                    self.problem(source, span, error);
                    return None;
                }
                for target in done.references {
                    self.out.references.push(ReferenceSite {
                        target,
                        field: path.clone(),
                        source: source.clone(),
                        span,
                    });
                }
                Some(done.text)
            }
            Err(InterpolationError::MissingEnv(var)) => {
                let error = SpecError::MissingEnv {
                    field: field(),
                    var,
                };
                self.problem(source, span, error);
                None
            }
            Err(InterpolationError::Malformed(message)) => {
                let error = SpecError::Interpolation {
                    field: field(),
                    message,
                };
                self.problem(source, span, error);
                None
            }
        }
    }
}

fn path_parent(path: &FieldPath) -> FieldPath {
    let segments = path.segments();
    let mut parent = FieldPath::root();
    for segment in &segments[..segments.len().saturating_sub(1)] {
        parent = match segment {
            crate::model::Segment::Field(name) => parent.field(name),
            crate::model::Segment::Index(i) => parent.index(*i),
        };
    }
    parent
}
