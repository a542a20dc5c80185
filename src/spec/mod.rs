//! Definition files -> the desired state: reading the directory, checking every file, and the
//! checks that span files (duplicate keys, `${agent:KEY}` references).
//!
//! Loading never stops at the first problem: every file is checked and every problem is
//! returned, so one `validate` run shows the user all there is to fix.

pub mod definition;
pub mod error;
pub mod files;
pub mod interpolate;
pub mod memo;
pub mod reads;
pub mod schema;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

use crate::model::{Definition, Desired, Key};
use crate::text::diagnostic::{Located, SourceFile};

pub use definition::{Checked, ReferenceSite};
pub use error::{Problem, SpecError};
use files::{Boundary, ReadError, Refused};
pub use memo::LoadMemo;
use schema::DefinitionSchema;

/// Where to load from, and how.
pub struct LoadOptions<'a> {
    /// The definitions directory on disk.
    pub dir: &'a Path,
    /// The repository: the directory holding `agentsync.yaml`. Every file read (definitions,
    /// symlinks followed, and what they include) must lie inside it, or inside `dir` when `dir`
    /// is not in it ([`files::Boundary`]).
    pub root: &'a Path,
    /// Paths in messages are shown relative to this (the configuration's directory).
    pub display_root: &'a Path,
    pub schema: &'a DefinitionSchema,
    /// Looks up `${env:NAME}`; the process environment in production, a map in tests.
    pub env: &'a dyn Fn(&str) -> Option<String>,
}

/// A definition file that did not load, and the key it claims if that much could be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    pub file: PathBuf,
    pub key: Option<Key>,
}

/// Everything the definitions directory holds.
#[derive(Debug, Default)]
pub struct Loaded {
    /// The definitions that loaded without a problem.
    pub desired: Desired,
    pub problems: Vec<Problem>,
    /// Files that did not load. Their agents must never be treated as removed.
    pub broken: Vec<Broken>,
    /// How many definition files were read.
    pub files: usize,
    /// How many of them were unchanged since the last load, and recalled rather than checked
    /// ([`load_remembering`]).
    pub recalled: usize,
}

impl Loaded {
    pub fn is_valid(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Loads and checks every `*.yaml` / `*.yml` under the directory.
pub fn load(options: &LoadOptions<'_>) -> Loaded {
    load_reporting(options, &mut |_| {})
}

/// [`load`], telling `checked` about each definition as soon as its file is checked, before
/// the directory is done: a plan starts reading what a definition needs while the others load.
/// What `checked` sees may still be refused at the end (a key defined twice, a broken
/// reference); only the returned [`Loaded`] decides.
pub fn load_reporting(options: &LoadOptions<'_>, checked: &mut dyn FnMut(&Definition)) -> Loaded {
    load_with(options, None, checked)
}

/// [`load_reporting`], recalling from `memo` each file that has not changed since the load
/// that left it there (see [`memo`]), and leaving in it what this load made of each file.
pub fn load_remembering(
    options: &LoadOptions<'_>,
    memo: &mut LoadMemo,
    checked: &mut dyn FnMut(&Definition),
) -> Loaded {
    let last = std::mem::take(memo);
    let mut remembering = Remembering {
        last: last.for_load(options),
        next: memo::NextMemo::new(options),
    };
    let mut loaded = load_with(options, Some(&mut remembering), checked);
    let next = remembering.next;
    loaded.recalled = next.recalled();
    *memo = next.finish(last);
    loaded
}

/// A load that remembers: the last load's memo (if made under the same options) and the next.
struct Remembering<'m> {
    last: Option<&'m LoadMemo>,
    next: memo::NextMemo,
}

fn load_with(
    options: &LoadOptions<'_>,
    remembering: Option<&mut Remembering<'_>>,
    checked: &mut dyn FnMut(&Definition),
) -> Loaded {
    // Said once per process: a daemon loads at every sync.
    static SAID: std::sync::Once = std::sync::Once::new();
    if crate::text::reference_readers() {
        SAID.call_once(|| {
            tracing::info!(
                "every definition is read by the reference readers (saphyr, serde_json)"
            );
        });
    }
    let mut loaded = Loaded::default();
    // Resolved once: each file read then costs one path resolution.
    let boundary = Boundary::new(options.root, options.dir);
    let files = match walk_definitions(options.dir, &boundary) {
        Ok(walked) => {
            for (path, error) in walked.refused {
                let shown = display(options.display_root, &path);
                loaded.broken.push(Broken {
                    file: shown.clone(),
                    key: None,
                });
                loaded.problems.push(Located::file(shown, error));
            }
            walked.files
        }
        Err(_) => {
            let shown = display(options.display_root, options.dir);
            let error = SpecError::NoDefinitionsDir {
                path: shown.clone(),
            };
            loaded.problems.push(Located::file(shown, error));
            return loaded;
        }
    };
    let mut checked = load_files(files, options, &boundary, remembering, checked);
    separate_includes(&mut checked, options.display_root);

    loaded.files = checked.len();
    let mut first_file: BTreeMap<Key, PathBuf> = BTreeMap::new();
    let mut references = Vec::new();
    for (path, mut result) in checked {
        let display_file = display(options.display_root, &path);
        if let Some((key, span)) = &result.key {
            match first_file.get(key) {
                Some(other) => {
                    let error = SpecError::DuplicateKey {
                        key: key.to_string(),
                        other: other.clone(),
                    };
                    let located = match &result.source {
                        Some(source) => Located::at(source, *span, error),
                        None => Located::file(display_file.clone(), error),
                    };
                    result.problems.push(located.with_agent(Some(key.as_str())));
                    result.definition = None;
                }
                None => {
                    first_file.insert(key.clone(), display_file.clone());
                }
            }
        }
        references.extend(result.references.iter().cloned().map(|r| {
            let owner = result.key.as_ref().map(|(k, _)| k.clone());
            (owner, r)
        }));
        match result.definition {
            Some(definition) => {
                loaded.desired.insert(definition.key.clone(), definition);
            }
            None => loaded.broken.push(Broken {
                file: display_file,
                key: result.key.map(|(k, _)| k),
            }),
        }
        loaded.problems.extend(result.problems);
    }
    loaded
        .problems
        .extend(check_references(&loaded.desired, &first_file, &references));
    loaded
}

/// A file that a definition includes (`graph_file`) and that has no `kind` is part of that
/// definition, not a definition itself: it is taken out of `checked`. One that has `kind` is a
/// definition of its own, and including it is a problem of the definition that does.
/// Only YAML files can be both, so a load whose includes are all JSON resolves no path here.
fn separate_includes(checked: &mut Vec<(PathBuf, Checked)>, display_root: &Path) {
    let mut sites: HashMap<&Path, Vec<(usize, usize)>> = HashMap::new();
    for (index, (_, result)) in checked.iter().enumerate() {
        for (site, include) in result.includes.iter().enumerate() {
            if is_definition_file(&include.resolved) {
                sites
                    .entry(&include.resolved)
                    .or_default()
                    .push((index, site));
            }
        }
    }
    if sites.is_empty() {
        return;
    }
    let mut parts = HashSet::new();
    let mut refused = Vec::new();
    for (index, (path, result)) in checked.iter().enumerate() {
        let Some(including) = path
            .canonicalize()
            .ok()
            .and_then(|p| sites.get(p.as_path()))
        else {
            continue;
        };
        if result.has_kind {
            let shown = display(display_root, path);
            refused.extend(
                including
                    .iter()
                    .map(|&(at, site)| (at, site, shown.clone())),
            );
        } else {
            parts.insert(index);
        }
    }
    for (at, site, path) in refused {
        let (file, result) = &mut checked[at];
        let include = &result.includes[site];
        let error = SpecError::IncludesADefinition {
            field: include.field.clone(),
            path,
        };
        let located = match &result.source {
            Some(source) => Located::at(source, include.span, error),
            None => Located::file(display(display_root, file), error),
        };
        let agent = result.key.as_ref().map(|(key, _)| key.to_string());
        result.problems.push(located.with_agent(agent.as_deref()));
        result.definition = None;
    }
    let mut index = 0;
    checked.retain(|_| {
        index += 1;
        !parts.contains(&(index - 1))
    });
}

/// Loads one file on its own (watch mode re-reads only what changed). Cross-file checks are
/// the caller's: see [`check_references`] and the duplicate check in [`load`].
pub fn load_file(path: &Path, options: &LoadOptions<'_>) -> Checked {
    let boundary = Boundary::new(options.root, options.dir);
    match read_source(path, options.display_root) {
        Ok(source) => {
            let parsed = definition::parse(&source.text, options.schema);
            let cx = (options.env, &boundary);
            check_source(path, &source, parsed, options, cx, None, None)
        }
        Err(problem) => Checked {
            problems: vec![*problem],
            ..Checked::default()
        },
    }
}

/// Below this many files, parsing on one thread is quicker than starting others.
const PARALLEL_FROM: usize = 32;

/// How many parsed files a parsing thread may have waiting to be checked: enough to keep it
/// busy, few enough that the trees waiting stay small.
const PARSED_AHEAD: usize = 4;

/// Reads, parses and checks every file, in the order of `files`. For large directories the
/// reading and YAML parsing (most of the loading time, and needing neither the environment nor
/// the other files) run on as many threads as there are cores, file `i` on thread
/// `i % threads`, while this thread checks the parsed files in order. Bounded queues keep only
/// a few parsed trees alive at once.
fn load_files(
    files: Vec<PathBuf>,
    options: &LoadOptions<'_>,
    boundary: &Boundary,
    mut remembering: Option<&mut Remembering<'_>>,
    report: &mut dyn FnMut(&Definition),
) -> Vec<(PathBuf, Checked)> {
    let parse_options = ParseOptions {
        display_root: options.display_root,
        boundary,
        schema: options.schema,
        digest: remembering.is_some(),
        last: remembering.as_ref().and_then(|r| r.last),
    };
    let mut keys_seen = HashSet::new();
    let mut check = |path: &Path, read: Result<Read, Box<Problem>>| {
        let mut result = check_read(path, read, options, boundary, remembering.as_deref_mut());
        if let Some(definition) = &result.definition {
            report(definition);
        }
        // A text is kept only where a duplicate key may have to be shown in it, which is never
        // in the first file of a key: held until the last file is checked, the texts were half
        // of a large repository's peak memory. Nor where it includes a file that may turn out
        // to be a definition ([`separate_includes`] shows the include there).
        if result
            .key
            .as_ref()
            .is_some_and(|(key, _)| keys_seen.insert(key.clone()))
            && !result
                .includes
                .iter()
                .any(|include| is_definition_file(&include.resolved))
        {
            result.source = None;
        }
        result
    };
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    if threads < 2 || files.len() < PARALLEL_FROM {
        return files
            .into_iter()
            .map(|path| {
                let checked = check(&path, read_and_parse(&path, parse_options));
                (path, checked)
            })
            .collect();
    }
    std::thread::scope(|scope| {
        let queues: Vec<_> = (0..threads)
            .map(|thread| {
                let (parsed, queue) = std::sync::mpsc::sync_channel(PARSED_AHEAD);
                let mine: Vec<PathBuf> = files
                    .iter()
                    .skip(thread)
                    .step_by(threads)
                    .cloned()
                    .collect();
                scope.spawn(move || {
                    for path in mine {
                        if parsed.send(read_and_parse(&path, parse_options)).is_err() {
                            return;
                        }
                    }
                });
                queue
            })
            .collect();
        let mut checked = Vec::with_capacity(files.len());
        for (index, path) in files.into_iter().enumerate() {
            // A closed queue means its thread panicked; the scope carries the panic on.
            let Ok(read) = queues[index % threads].recv() else {
                break;
            };
            let result = check(&path, read);
            checked.push((path, result));
        }
        checked
    })
}

/// A definition file read, and parsed unless the last load's memo may already know it.
struct Read {
    source: SourceFile,
    /// The text's digest, when the load remembers.
    digest: Option<reads::TextDigest>,
    /// `None` when the memo knows this text and its includes: parsing waits until the memo is
    /// found stale.
    parsed: Option<definition::Parsed>,
    /// The files the parsed definition includes, read and parsed on this thread too.
    ahead: Option<definition::ReadAhead>,
}

fn read_and_parse(path: &Path, options: ParseOptions<'_>) -> Result<Read, Box<Problem>> {
    let source = read_source(path, options.display_root)?;
    let digest = options.digest.then(|| reads::digest(&source.text));
    let known = match (options.last, &digest) {
        (Some(last), Some(digest)) => last.knows(path, digest, options.boundary),
        _ => false,
    };
    let parsed = (!known).then(|| definition::parse(&source.text, options.schema));
    let ahead = match &parsed {
        Some(Ok(Some(root))) => Some(definition::read_ahead(
            root,
            options.schema,
            path.parent().unwrap_or(Path::new(".")),
            options.boundary,
        )),
        _ => None,
    };
    Ok(Read {
        source,
        digest,
        parsed,
        ahead,
    })
}

/// What the parsing threads need of the load (the environment stays with the checker: it
/// need not be `Sync`).
#[derive(Clone, Copy)]
struct ParseOptions<'a> {
    display_root: &'a Path,
    boundary: &'a Boundary,
    schema: &'a DefinitionSchema,
    /// The load remembers: each text is digested, to compare with the memo and to remember.
    digest: bool,
    /// The last load's memo: a file it knows is not parsed.
    last: Option<&'a LoadMemo>,
}

/// Checks a file read by [`read_and_parse`], or recalls its check from the memo.
fn check_read(
    path: &Path,
    read: Result<Read, Box<Problem>>,
    options: &LoadOptions<'_>,
    boundary: &Boundary,
    remembering: Option<&mut Remembering<'_>>,
) -> Checked {
    let Read {
        source,
        digest,
        parsed,
        ahead,
    } = match read {
        Ok(read) => read,
        Err(problem) => {
            return Checked {
                problems: vec![*problem],
                ..Checked::default()
            };
        }
    };
    let (Some(remembering), Some(digest)) = (remembering, digest) else {
        let parsed = parsed.unwrap_or_else(|| definition::parse(&source.text, options.schema));
        return check_source(
            path,
            &source,
            parsed,
            options,
            (options.env, boundary),
            None,
            ahead.as_ref(),
        );
    };
    if parsed.is_none() {
        let recalled = remembering
            .last
            .and_then(|last| last.recall(path, options.env));
        if let Some(mut checked) = recalled {
            checked.source = Some(source);
            remembering.next.keep(path);
            return checked;
        }
    }
    let parsed = parsed.unwrap_or_else(|| definition::parse(&source.text, options.schema));
    let reads = reads::Reads::default();
    let env = memo::noting_env(options.env, &reads);
    let checked = check_source(
        path,
        &source,
        parsed,
        options,
        (&env, boundary),
        Some(&reads),
        ahead.as_ref(),
    );
    remembering.next.remember(path, digest, &reads, &checked);
    checked
}

/// A definition file's text, or the problem that kept it from being read.
fn read_source(path: &Path, display_root: &Path) -> Result<SourceFile, Box<Problem>> {
    let shown = display(display_root, path);
    let text = match files::read_text(path) {
        Ok(text) => text,
        Err(err) => {
            let error = match err {
                ReadError::Io(source) => SpecError::Read { source },
                ReadError::NotAFile { found } => SpecError::NotAFile { found },
                ReadError::TooLarge { size } => SpecError::TooLarge {
                    size,
                    limit: files::MAX_FILE_BYTES,
                },
                ReadError::NotUtf8 => SpecError::NotUtf8,
            };
            return Err(Box::new(Located::file(shown, error)));
        }
    };
    Ok(SourceFile::new(shown, text))
}

/// How `${env:NAME}` is looked up.
type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

fn check_source(
    path: &Path,
    source: &SourceFile,
    parsed: definition::Parsed,
    options: &LoadOptions<'_>,
    (env, boundary): (Env<'_>, &Boundary),
    reads: Option<&reads::Reads>,
    read_ahead: Option<&definition::ReadAhead>,
) -> Checked {
    let dir = path.parent().unwrap_or(Path::new("."));
    definition::check_parsed(
        source,
        parsed,
        &definition::Context {
            schema: options.schema,
            dir,
            boundary,
            env,
            reads,
            read_ahead,
        },
    )
}

/// Every reference names a defined agent, and references never loop (agents are created in
/// reference order).
pub fn check_references(
    desired: &Desired,
    known: &BTreeMap<Key, PathBuf>,
    sites: &[(Option<Key>, ReferenceSite)],
) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (owner, site) in sites {
        if !known.contains_key(&site.target) {
            let error = SpecError::UnknownReference {
                field: site.field.to_string(),
                target: site.target.to_string(),
            };
            problems.push(
                Located::at(&site.source, site.span, error)
                    .with_agent(owner.as_ref().map(Key::as_str)),
            );
        }
    }
    if let Some(cycle) = find_cycle(desired) {
        let first = &cycle[0];
        let file = desired
            .get(first)
            .map(|d| d.file.clone())
            .unwrap_or_default();
        let error = SpecError::ReferenceCycle {
            cycle: cycle.iter().map(Key::to_string).collect(),
        };
        problems.push(Located::file(file, error).with_agent(Some(first.as_str())));
    }
    problems
}

/// A reference cycle, as the keys along it with the first repeated at the end.
pub fn find_cycle(desired: &Desired) -> Option<Vec<Key>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Visiting,
        Done,
    }
    let mut marks: BTreeMap<&Key, Mark> = BTreeMap::new();
    for start in desired.keys() {
        if marks.contains_key(start) {
            continue;
        }
        // Iterative depth-first search: a long reference chain must not exhaust the stack.
        let mut stack: Vec<(&Key, Vec<&Key>)> = vec![(start, refs(desired, start))];
        let mut path: Vec<&Key> = vec![start];
        marks.insert(start, Mark::Visiting);
        while let Some((node, pending)) = stack.last_mut() {
            let node = *node;
            match pending.pop() {
                Some(next) => match marks.get(next) {
                    Some(Mark::Visiting) => {
                        let from = path.iter().position(|k| *k == next).unwrap_or(0);
                        let mut cycle: Vec<Key> =
                            path[from..].iter().map(|k| (*k).clone()).collect();
                        cycle.push(next.clone());
                        return Some(cycle);
                    }
                    Some(Mark::Done) => {}
                    None => {
                        marks.insert(next, Mark::Visiting);
                        path.push(next);
                        stack.push((next, refs(desired, next)));
                    }
                },
                None => {
                    marks.insert(node, Mark::Done);
                    path.pop();
                    stack.pop();
                }
            }
        }
    }
    None
}

fn refs<'a>(desired: &'a Desired, key: &Key) -> Vec<&'a Key> {
    desired
        .get(key)
        .map(|d| {
            d.references
                .iter()
                .filter(|r| desired.contains_key(*r))
                .collect()
        })
        .unwrap_or_default()
}

/// What walking the definitions directory found.
pub struct Walked {
    /// The definition files, in a stable order.
    pub files: Vec<PathBuf>,
    /// Entries that look like definitions but cannot be read as one: a symlink leading outside
    /// the repository, nowhere or in a loop; a named pipe called `x.yaml`.
    pub refused: Vec<(PathBuf, SpecError)>,
}

/// The definition files under `dir`, in a stable order, as a load finds them when `dir` is
/// its repository ([`walk_definitions`]); what it refuses is left out.
pub fn definition_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    walk_definitions(dir, &Boundary::new(dir, dir)).map(|walked| walked.files)
}

/// The definition files under `dir`, in a stable order; hidden entries are skipped. Symlinks
/// are followed where they lead inside `boundary` (files and directories alike), and refused
/// with a reason where they do not: a definition is never skipped without a word. An error
/// only when `dir` itself cannot be read.
pub fn walk_definitions(dir: &Path, boundary: &Boundary) -> std::io::Result<Walked> {
    if !dir.is_dir() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "not a directory",
        ));
    }
    let hidden = |path: &Path| {
        path.file_name()
            .is_some_and(|name| name.to_string_lossy().starts_with('.'))
    };
    let mut walked = Walked {
        files: Vec::new(),
        refused: Vec::new(),
    };
    let mut walker = walkdir::WalkDir::new(dir)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !hidden(e.path()));
    while let Some(entry) = walker.next() {
        let entry = match entry {
            Ok(entry) => entry,
            Err(err) if err.depth() == 0 => return Err(std::io::Error::other(err)),
            Err(err) => {
                if let Some(refused) = unwalkable(err, &hidden) {
                    walked.refused.push(refused);
                }
                continue;
            }
        };
        let file_type = entry.file_type();
        let looks_like_one = file_type.is_dir() || is_definition_file(entry.path());
        if entry.depth() > 0 && entry.path_is_symlink() && looks_like_one {
            let found = if file_type.is_dir() {
                "a directory"
            } else {
                "a file"
            };
            let refusal = match boundary.resolve(entry.path()) {
                Ok(_) => None,
                Err(Refused::Outside) => Some(SpecError::SymlinkOutside { found }),
                Err(Refused::Unresolved(err)) => Some(SpecError::SymlinkUnfollowable {
                    reason: unfollowable(&err),
                }),
            };
            if let Some(error) = refusal {
                if file_type.is_dir() {
                    walker.skip_current_dir();
                }
                walked.refused.push((entry.into_path(), error));
                continue;
            }
        }
        if file_type.is_dir() || !is_definition_file(entry.path()) {
            continue;
        }
        if file_type.is_file() {
            walked.files.push(entry.into_path());
        } else {
            let found = files::kind_of(file_type);
            walked
                .refused
                .push((entry.into_path(), SpecError::NotAFile { found }));
        }
    }
    Ok(walked)
}

/// What an entry the walk could not follow is, if it may be a definition (a dangling
/// `notes.txt` is none of the loader's business; a loop of directories may hide some).
fn unwalkable(err: walkdir::Error, hidden: &dyn Fn(&Path) -> bool) -> Option<(PathBuf, SpecError)> {
    let path = err.path()?.to_path_buf();
    if hidden(&path) {
        return None;
    }
    if err.loop_ancestor().is_some() {
        let reason = "it leads in a loop";
        return Some((path, SpecError::SymlinkUnfollowable { reason }));
    }
    if !is_definition_file(&path) {
        return None;
    }
    let is_symlink = path
        .symlink_metadata()
        .is_ok_and(|m| m.file_type().is_symlink());
    let io = err.into_io_error()?;
    let error = if is_symlink {
        SpecError::SymlinkUnfollowable {
            reason: unfollowable(&io),
        }
    } else {
        SpecError::Read { source: io }
    };
    Some((path, error))
}

/// Why a symlink could not be followed, as messages say it.
fn unfollowable(err: &std::io::Error) -> &'static str {
    #[cfg(unix)]
    if err.raw_os_error() == Some(libc::ELOOP) {
        return "it leads in a loop";
    }
    if err.kind() == std::io::ErrorKind::NotFound {
        "it leads to a file that does not exist"
    } else {
        "its target cannot be read"
    }
}

/// Whether a path has a definition file's extension.
pub fn is_definition_file(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"))
}

/// `path` relative to `root` when it lies inside it, for messages.
pub fn display(root: &Path, path: &Path) -> PathBuf {
    path.strip_prefix(root)
        .map(Path::to_path_buf)
        .unwrap_or_else(|_| path.to_path_buf())
}

/// Keys defined by files that failed to load: what prune must leave alone.
pub fn broken_keys(loaded: &Loaded) -> BTreeSet<Key> {
    loaded.broken.iter().filter_map(|b| b.key.clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn check_text(text: &str) -> Checked {
        let source = SourceFile::new("agents/x.yaml", text);
        let env = |name: &str| (name == "SET").then(|| "value".to_string());
        definition::check(
            &source,
            &definition::Context {
                schema: crate::provider::ProviderKind::Workfx.definition_schema(),
                dir: Path::new("/nonexistent"),
                boundary: &Boundary::new(Path::new("/nonexistent"), Path::new("/nonexistent")),
                env: &env,
                reads: None,
                read_ahead: None,
            },
        )
    }

    /// Loads the workfx definitions in `dir`, with no environment.
    fn load_workfx_directory(dir: &Path) -> Loaded {
        let env = |_: &str| None;
        load(&LoadOptions {
            dir,
            root: dir,
            display_root: dir,
            schema: crate::provider::ProviderKind::Workfx.definition_schema(),
            env: &env,
        })
    }

    #[test]
    fn a_large_directory_loads_every_file_and_every_problem_as_one_thread_would() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let count = PARALLEL_FROM * 2 + 1;
        for i in 0..count {
            let text = if i == 7 {
                "kind: agent\nkey: broken-7\nnmae: typo\n".to_string()
            } else {
                format!("kind: agent\nkey: agent-{i:03}\nname: Agent {i}\n")
            };
            std::fs::write(dir.path().join(format!("agent-{i:03}.yaml")), text).expect("write");
        }
        let loaded = load_workfx_directory(dir.path());
        assert_eq!(loaded.files, count);
        assert_eq!(loaded.desired.len(), count - 1);
        assert_eq!(loaded.problems.len(), 2, "{:?}", loaded.problems);
        assert!(
            loaded
                .problems
                .iter()
                .all(|p| p.file == Path::new("agent-007.yaml"))
        );
        assert_eq!(loaded.broken.len(), 1);
    }

    #[test]
    fn every_later_file_of_a_key_in_a_large_directory_is_shown_at_its_key_line() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let count = PARALLEL_FROM * 2;
        for i in 0..count {
            let key = if i % 10 == 3 { 3 } else { i };
            let text = format!("kind: agent\nkey: agent-{key:03}\nname: Agent {i}\n");
            std::fs::write(dir.path().join(format!("file-{i:03}.yaml")), text).expect("write");
        }
        let loaded = load_workfx_directory(dir.path());
        let shown: Vec<_> = loaded
            .problems
            .iter()
            .map(|p| {
                let line = p.span.map(|s| s.line);
                let has_text = p
                    .source
                    .as_ref()
                    .is_some_and(|s| s.text.contains("agent-003"));
                (p.file.display().to_string(), line, has_text)
            })
            .collect();
        let later: Vec<_> = (1..count / 10 + 1)
            .map(|n| n * 10 + 3)
            .filter(|i| *i < count)
            .map(|i| (format!("file-{i:03}.yaml"), Some(2), true))
            .collect();
        assert_eq!(shown, later);
        assert_eq!(
            loaded.desired[&Key::parse("agent-003").expect("a key")].file,
            Path::new("file-003.yaml")
        );
    }

    #[test]
    fn included_files_read_ahead_on_the_parsing_threads_load_as_the_checker_reads_them() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let count = PARALLEL_FROM + 8;
        for i in 0..count {
            let key = format!("agent-{i:03}");
            let graph = match i % 4 {
                0 => r#"{"nodes": [{"id": "n1", "data": {"x": 1.5}}], "edges": []}"#.to_string(),
                1 => "{\"nodes\": [,]}".to_string(),
                2 => String::new(),
                _ => r#"{"nodes": [{"id": "n1", "agent_id": "${agent:agent-000}"}]}"#.to_string(),
            };
            if i % 4 != 2 {
                std::fs::write(dir.path().join(format!("{key}.json")), graph).expect("write");
            }
            let text = format!(
                "kind: agent\nkey: {key}\nname: A\nflow:\n  mode: chat\n  graph_file: {key}.json\n"
            );
            std::fs::write(dir.path().join(format!("{key}.yaml")), text).expect("write");
        }
        let env = |_: &str| None;
        let options = LoadOptions {
            dir: dir.path(),
            root: dir.path(),
            display_root: dir.path(),
            schema: crate::provider::ProviderKind::Workfx.definition_schema(),
            env: &env,
        };
        let loaded = load(&options);
        assert_eq!(loaded.files, count);
        let shown = |problems: &[Problem]| -> Vec<String> {
            let mut shown: Vec<String> = problems.iter().map(ToString::to_string).collect();
            shown.sort();
            shown
        };
        let mut alone_problems = Vec::new();
        for i in 0..count {
            let key = format!("agent-{i:03}");
            // One file on its own, read by the checker itself.
            let alone = load_file(&dir.path().join(format!("{key}.yaml")), &options);
            let in_load = loaded.desired.get(&Key::parse(&key).expect("a key"));
            assert_eq!(alone.definition.as_ref(), in_load, "{key}");
            alone_problems.extend(alone.problems);
        }
        assert_eq!(shown(&loaded.problems), shown(&alone_problems));
        assert_eq!(
            loaded.desired.len(),
            count / 2,
            "the broken and missing graphs"
        );
    }

    #[test]
    fn a_definition_s_included_files_are_read_ahead_as_its_schema_places_them() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        std::fs::write(dir.path().join("g.json"), r#"{"nodes": []}"#).expect("write");
        let tree = crate::text::yaml::parse(
            "kind: agent\nflow:\n  graph_file: g.json\ngraph_file: no.json\n",
        )
        .expect("YAML")
        .expect("a document");
        let schema = crate::provider::ProviderKind::Workfx.definition_schema();
        let boundary = Boundary::new(dir.path(), dir.path());
        let ahead = definition::read_ahead(&tree, schema, dir.path(), &boundary);
        // Only where the schema has an include: `flow.graph_file`, not a top-level one.
        assert_eq!(ahead.paths(), vec![dir.path().join("g.json")]);
    }

    /// Loads `graph` (which has `nodes` and `edges`) once from a JSON `graph_file` and once
    /// written inline (JSON is YAML), on one line; asserts that written inline as editors and
    /// the benchmark write it, a node per line, it loads the same.
    fn graph_from_file_and_inline(
        graph: &str,
    ) -> (
        Option<crate::model::Definition>,
        Option<crate::model::Definition>,
    ) {
        let dir = tempfile::tempdir().expect("a temporary directory");
        std::fs::write(dir.path().join("graph.json"), graph).expect("write the graph");
        let env = |name: &str| (name == "SET").then(|| "value".to_string());
        let check = |text: String| {
            let source = SourceFile::new("x.yaml", text);
            let cx = definition::Context {
                schema: crate::provider::ProviderKind::Workfx.definition_schema(),
                dir: dir.path(),
                boundary: &Boundary::new(dir.path(), dir.path()),
                env: &env,
                reads: None,
                read_ahead: None,
            };
            let checked = definition::check(&source, &cx);
            assert!(checked.problems.is_empty(), "{:?}", checked.problems);
            checked.definition.map(|mut d| {
                d.file = PathBuf::new();
                d
            })
        };
        let head = "kind: agent\nkey: k\nname: K\nflow:\n  mode: chat\n";
        let from_file = check(format!("{head}  graph_file: graph.json\n"));
        let inline = check(format!("{head}  graph: {}\n", graph.replace('\n', " ")));
        let tree: serde_json::Value = serde_json::from_str(graph).expect("a JSON graph");
        let mut per_line = format!("{head}  graph:\n");
        for list in ["nodes", "edges"] {
            let items = tree[list].as_array().expect("a list");
            if items.is_empty() {
                per_line.push_str(&format!("    {list}: []\n"));
                continue;
            }
            per_line.push_str(&format!("    {list}:\n"));
            for item in items {
                per_line.push_str(&format!("      - {item}\n"));
            }
        }
        assert_eq!(check(per_line), inline, "a node per line");
        (from_file, inline)
    }

    #[test]
    fn a_json_graph_file_with_references_and_secrets_loads_as_it_would_inline() {
        let graph = r#"{"nodes": [{"id": "a", "data": {"prompt": "call ${agent:other} with ${env:SET}", "price": "$$5"}}], "edges": []}"#;
        let (from_file, inline) = graph_from_file_and_inline(graph);
        let from_file = from_file.expect("a definition");
        assert!(!from_file.sensitive.is_empty(), "the secret is marked");
        assert_eq!(from_file.references.len(), 1);
        assert_eq!(Some(from_file), inline);
    }

    #[test]
    fn a_workflow_definition_written_a_node_per_line_loads_as_written_on_one_line() {
        let env = |_: &str| None;
        let dir = tempfile::tempdir().expect("a temporary directory");
        let check = |text: String| {
            let cx = definition::Context {
                schema: crate::provider::ProviderKind::AgentWorkflows.definition_schema(),
                dir: dir.path(),
                boundary: &Boundary::new(dir.path(), dir.path()),
                env: &env,
                reads: None,
                read_ahead: None,
            };
            let checked = definition::check(&SourceFile::new("x.yaml", text), &cx);
            assert!(checked.problems.is_empty(), "{:?}", checked.problems);
            checked.definition.and_then(|d| d.content)
        };
        let head = "kind: agent\nkey: k\nname: K\n";
        let nodes = [
            r#"{"id": "a", "type": "say", "data": {"text": "hi\n", "n": 1.50}}"#,
            "[1, true]",
        ];
        let one_line = check(format!(
            "{head}definition: {{\"nodes\": [{}], \"edges\": []}}\n",
            nodes.join(", ")
        ));
        let per_line = check(format!(
            "{head}definition:\n  nodes:\n{}  edges: []\n",
            nodes.map(|node| format!("  - {node}\n")).concat()
        ));
        let per_line = per_line.expect("a content");
        assert_eq!(
            per_line.text(),
            r#"{"nodes":[{"id":"a","type":"say","data":{"text":"hi\n","n":1.5}},[1,true]],"edges":[]}"#
        );
        assert_eq!(Some(per_line), one_line);
    }

    /// No `$`: a graph file holding one goes through the YAML path whole. Integers stay within
    /// 64 signed bits, the loader's (beyond them both paths refuse the file).
    fn json_value() -> impl Strategy<Value = serde_json::Value> {
        fn within_i64(value: serde_json::Value) -> serde_json::Value {
            use serde_json::Value as J;
            match value {
                J::Number(n) if n.is_u64() && n.as_i64().is_none() => J::from(i64::MAX),
                J::Array(items) => J::Array(items.into_iter().map(within_i64).collect()),
                J::Object(members) => J::Object(
                    members
                        .into_iter()
                        .map(|(name, value)| (name, within_i64(value)))
                        .collect(),
                ),
                other => other,
            }
        }
        crate::arbitrary::json_value("[a-z]{1,4}", "[a-zA-Z0-9 _.:#\\\\\"]{0,8}")
            .prop_map(within_i64)
    }

    proptest! {
        /// The JSON fast path and the YAML path read any graph the same.
        #[test]
        fn a_json_graph_file_loads_as_the_same_text_inline(
            nodes in prop::collection::vec(json_value(), 0..4),
        ) {
            let graph = serde_json::json!({"nodes": nodes, "edges": []});
            let (from_file, inline) = graph_from_file_and_inline(&graph.to_string());
            let text = |d: &Option<crate::model::Definition>| {
                d.as_ref().and_then(|d| d.content.as_ref()).map(|c| c.text().to_string())
            };
            // Same digest (`==` on contents) and the same text, member for member.
            prop_assert_eq!(text(&from_file), text(&inline));
            prop_assert_eq!(from_file, inline);
        }

        #[test]
        fn checking_any_text_never_panics(text in "\\PC{0,400}") {
            let _ = check_text(&text);
        }

        #[test]
        fn checking_yaml_shaped_text_never_panics(
            lines in prop::collection::vec(
                prop_oneof![
                    Just("kind: agent".to_string()),
                    "key: [a-zA-Z0-9_-]{0,8}",
                    "name: .{0,10}",
                    Just("flow:".to_string()),
                    "  graph: \\{.{0,10}\\}",
                    Just("  graph:".to_string()),
                    Just("    nodes:".to_string()),
                    "    - [\\{\\[][a-z0-9\"$\\\\:, \\[\\]{}\u{e9}.-]{0,16}",
                    "  [a-z_]{1,8}: .{0,12}",
                    "tags: \\[.{0,10}\\]",
                    ".{0,16}",
                ],
                0..12,
            )
        ) {
            let checked = check_text(&lines.join("\n"));
            // Either a definition or at least one problem, never neither.
            prop_assert!(checked.definition.is_some() || !checked.problems.is_empty());
        }
    }

    #[test]
    fn a_field_that_a_value_requires_is_missing_at_that_value() {
        use crate::spec::schema::{DefinitionSchema, Field, Kind, Requirement};
        const FIELDS: &[Field] = &[
            Field::required("name", Kind::String, ""),
            Field::required("kind_of", Kind::OneOf(&["voice", "text"]), ""),
            Field::optional("voice", Kind::String, ""),
        ];
        static SCHEMA: DefinitionSchema = DefinitionSchema {
            fields: FIELDS,
            content_field: None,
            name_field: Some("name"),
            requirements: &[Requirement {
                field: "kind_of",
                value: "voice",
                needs: &["voice"],
            }],
        };
        let check = |text: &str| {
            let source = SourceFile::new("agents/x.yaml", text);
            let env = |_: &str| None;
            definition::check(
                &source,
                &definition::Context {
                    schema: &SCHEMA,
                    dir: Path::new("/nonexistent"),
                    boundary: &Boundary::new(Path::new("/nonexistent"), Path::new("/nonexistent")),
                    env: &env,
                    reads: None,
                    read_ahead: None,
                },
            )
        };
        let missing = check("kind: agent\nkey: a\nname: A\nkind_of: voice\n");
        let messages: Vec<String> = missing
            .problems
            .iter()
            .map(|p| p.error.to_string())
            .collect();
        assert_eq!(
            messages,
            ["missing field 'voice', which kind_of 'voice' requires"]
        );
        assert_eq!(
            missing.problems[0].span.map(|s| s.line),
            Some(4),
            "at the value that asks for it"
        );
        assert!(
            check("kind: agent\nkey: a\nname: A\nkind_of: voice\nvoice: v\n")
                .problems
                .is_empty()
        );
        assert!(
            check("kind: agent\nkey: a\nname: A\nkind_of: text\n")
                .problems
                .is_empty()
        );
    }
}
