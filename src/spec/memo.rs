//! What a load made of each definition file, kept for the next load: a file is checked again
//! only if its text, a file it includes or an environment variable it read has changed since.
//!
//! A watch daemon loads its whole directory at every sync, and most syncs follow an edit to
//! one file. Checking is the costly part of loading (a large graph is parsed, canonicalized
//! and hashed), while telling that a file is unchanged costs one read and one SHA-256 of its
//! bytes. Whether a file is unchanged is decided by its bytes, never by its time stamps, which
//! may not move when a file is replaced. Files with problems are not remembered: they are
//! checked, and their problems reported, at every load.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::LoadOptions;
use super::definition::{Checked, Include, ReferenceSite, read_include};
use super::files::Boundary;
use super::reads::{Reads, ReadsMade, TextDigest, digest};
use crate::model::{Definition, Key};
use crate::text::yaml::Span;

/// The definitions a load left behind, by file on disk. Empty at first; each load through
/// [`load_remembering`](super::load_remembering) replaces what it holds.
#[derive(Default)]
pub struct LoadMemo {
    /// What the entries were made under; a load under anything else starts afresh.
    under: Option<Under>,
    files: HashMap<PathBuf, Remembered>,
}

/// The options that shape a check beyond the files themselves.
#[derive(PartialEq)]
struct Under {
    dir: PathBuf,
    root: PathBuf,
    display_root: PathBuf,
    /// The schema, by address: schemas are statics, one per platform.
    schema: usize,
}

impl Under {
    fn of(options: &LoadOptions<'_>) -> Under {
        Under {
            dir: options.dir.to_path_buf(),
            root: options.root.to_path_buf(),
            display_root: options.display_root.to_path_buf(),
            schema: std::ptr::from_ref(options.schema) as usize,
        }
    }
}

/// One file's clean check, and what it was made from.
struct Remembered {
    text: TextDigest,
    reads: ReadsMade,
    definition: Definition,
    key: Option<(Key, Span)>,
    references: Vec<ReferenceSite>,
    includes: Vec<Include>,
}

impl LoadMemo {
    /// The memo to consult for a load with `options`: nothing, if it was made under others.
    pub(super) fn for_load(&self, options: &LoadOptions<'_>) -> Option<&LoadMemo> {
        (self.under.as_ref() == Some(&Under::of(options))).then_some(self)
    }

    /// Whether `path`'s text is the one remembered, and so are the files it includes: then it
    /// need not be parsed, unless the environment it read has changed ([`LoadMemo::recall`]
    /// says). Called on the parsing threads, which read the includes side by side, as the
    /// checker does: each still inside `boundary`, and where it lay.
    pub(super) fn knows(&self, path: &Path, text: &TextDigest, boundary: &Boundary) -> bool {
        self.files.get(path).is_some_and(|r| {
            r.text == *text
                && r.reads.includes.iter().all(|(include, resolved, bytes)| {
                    read_include(boundary, include)
                        .is_ok_and(|(now, text)| now == *resolved && digest(&text) == *bytes)
                })
        })
    }

    /// The remembered check of `path`, which [`LoadMemo::knows`], if the environment it read
    /// is as it was.
    pub(super) fn recall(
        &self,
        path: &Path,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Option<Checked> {
        let remembered = self.files.get(path)?;
        let same_env = remembered
            .reads
            .env
            .iter()
            .all(|(name, value)| env(name).as_deref().map(digest) == *value);
        same_env.then(|| Checked {
            source: None,
            definition: Some(remembered.definition.clone()),
            key: remembered.key.clone(),
            problems: Vec::new(),
            references: remembered.references.clone(),
            includes: remembered.includes.clone(),
            // A clean check is a definition's.
            has_kind: true,
        })
    }
}

/// Collects the files of one load into the memo that replaces the last.
pub(super) struct NextMemo {
    under: Under,
    files: HashMap<PathBuf, Remembered>,
    /// Files whose check was recalled from the last memo.
    kept: Vec<PathBuf>,
}

impl NextMemo {
    pub(super) fn new(options: &LoadOptions<'_>) -> NextMemo {
        NextMemo {
            under: Under::of(options),
            files: HashMap::new(),
            kept: Vec::new(),
        }
    }

    /// Remembers `checked`, made from a text with digest `text` and what `reads` noted, if it
    /// is clean and repeatable.
    pub(super) fn remember(
        &mut self,
        path: &Path,
        text: TextDigest,
        reads: &Reads,
        checked: &Checked,
    ) {
        let reads = reads.0.take();
        let Some(definition) = &checked.definition else {
            return;
        };
        if !checked.problems.is_empty() || reads.unreadable {
            return;
        }
        self.files.insert(
            path.to_path_buf(),
            Remembered {
                text,
                reads,
                definition: definition.clone(),
                key: checked.key.clone(),
                references: checked.references.clone(),
                includes: checked.includes.clone(),
            },
        );
    }

    /// Remembers again a check that was recalled.
    pub(super) fn keep(&mut self, path: &Path) {
        self.kept.push(path.to_path_buf());
    }

    /// How many checks were recalled.
    pub(super) fn recalled(&self) -> usize {
        self.kept.len()
    }

    /// The memo that replaces `last`: what this load checked, and what it recalled from
    /// `last` (moved, not copied).
    pub(super) fn finish(mut self, mut last: LoadMemo) -> LoadMemo {
        for path in self.kept {
            if let Some(remembered) = last.files.remove(&path) {
                self.files.insert(path, remembered);
            }
        }
        LoadMemo {
            under: Some(self.under),
            files: self.files,
        }
    }
}

/// `env`, noting every lookup in `reads`.
pub(super) fn noting_env<'a>(
    env: &'a dyn Fn(&str) -> Option<String>,
    reads: &'a Reads,
) -> impl Fn(&str) -> Option<String> + 'a {
    move |name| {
        let value = env(name);
        reads.env(name, value.as_deref());
        value
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::super::{LoadOptions, Loaded, load, load_remembering};
    use super::LoadMemo;
    use crate::provider::ProviderKind;

    /// A definitions directory, and the environment its loads see.
    struct Repo {
        dir: tempfile::TempDir,
        env: HashMap<String, String>,
    }

    impl Repo {
        fn new() -> Repo {
            Repo {
                dir: tempfile::tempdir().expect("a temporary directory"),
                env: HashMap::new(),
            }
        }

        fn write(&self, name: &str, text: &str) {
            std::fs::write(self.dir.path().join(name), text).expect("write");
        }

        fn load(&self, memo: Option<&mut LoadMemo>) -> Loaded {
            let env = |name: &str| self.env.get(name).cloned();
            let options = LoadOptions {
                dir: self.dir.path(),
                root: self.dir.path(),
                display_root: self.dir.path(),
                schema: ProviderKind::Workfx.definition_schema(),
                env: &env,
            };
            match memo {
                Some(memo) => load_remembering(&options, memo, &mut |_| {}),
                None => load(&options),
            }
        }

        /// Loads through `memo`, and checks the result against a load without one.
        fn load_remembering(&self, memo: &mut LoadMemo) -> Loaded {
            let remembered = self.load(Some(memo));
            let fresh = self.load(None);
            assert_eq!(remembered.desired, fresh.desired);
            let shown = |loaded: &Loaded| -> Vec<String> {
                loaded.problems.iter().map(ToString::to_string).collect()
            };
            assert_eq!(shown(&remembered), shown(&fresh));
            assert_eq!(remembered.broken, fresh.broken);
            assert_eq!(remembered.files, fresh.files);
            remembered
        }
    }

    fn agent(key: &str, name: &str) -> String {
        format!("kind: agent\nkey: {key}\nname: {name}\n")
    }

    #[test]
    fn an_unchanged_file_is_recalled_and_an_edited_or_new_one_is_checked() {
        // Enough files to be parsed on several threads, and few enough for one.
        for count in [3, super::super::PARALLEL_FROM + 5] {
            let repo = Repo::new();
            for i in 0..count {
                repo.write(&format!("a{i:02}.yaml"), &agent(&format!("a{i:02}"), "A"));
            }
            let mut memo = LoadMemo::default();
            assert_eq!(repo.load_remembering(&mut memo).recalled, 0);
            assert_eq!(repo.load_remembering(&mut memo).recalled, count);

            repo.write("a01.yaml", &agent("a01", "Renamed"));
            repo.write("new.yaml", &agent("new", "New"));
            let loaded = repo.load_remembering(&mut memo);
            assert_eq!(loaded.recalled, count - 1);
            assert_eq!(loaded.desired.len(), count + 1);

            std::fs::remove_file(repo.dir.path().join("a02.yaml")).expect("remove");
            let loaded = repo.load_remembering(&mut memo);
            assert_eq!(loaded.recalled, count);
            assert!(!loaded.desired.keys().any(|k| k.as_str() == "a02"));
        }
    }

    #[test]
    fn a_definition_is_checked_again_when_its_graph_file_or_an_environment_variable_changes() {
        let mut repo = Repo::new();
        repo.write(
            "file.yaml",
            "kind: agent\nkey: file\nname: F\nflow:\n  graph_file: graph.json\n",
        );
        repo.write("graph.json", r#"{"nodes": [{"id": "n1"}], "edges": []}"#);
        repo.write(
            "env.yaml",
            "kind: agent\nkey: env\nname: E\nflow:\n  graph: {}\n  flow_variables:\n    API: \"${env:API}\"\n",
        );
        repo.env.insert("API".into(), "one".into());
        let mut memo = LoadMemo::default();
        repo.load_remembering(&mut memo);
        assert_eq!(
            repo.load_remembering(&mut memo).recalled,
            3 - 1,
            "the graph file is no definition"
        );

        repo.write("graph.json", r#"{"nodes": [{"id": "n2"}], "edges": []}"#);
        assert_eq!(repo.load_remembering(&mut memo).recalled, 1);
        repo.env.insert("API".into(), "two".into());
        assert_eq!(repo.load_remembering(&mut memo).recalled, 1);
        repo.env.remove("API");
        let loaded = repo.load_remembering(&mut memo);
        assert_eq!(
            (loaded.recalled, loaded.problems.len()),
            (1, 1),
            "an unset variable is a problem"
        );
    }

    #[test]
    fn a_recalled_definition_still_keeps_the_yaml_file_it_includes_from_being_a_definition() {
        let repo = Repo::new();
        repo.write(
            "a.yaml",
            "kind: agent\nkey: a\nname: A\nflow:\n  graph_file: a.graph.yaml\n",
        );
        repo.write("a.graph.yaml", "nodes: []\nedges: []\n");
        let mut memo = LoadMemo::default();
        repo.load_remembering(&mut memo);
        let loaded = repo.load_remembering(&mut memo);
        assert_eq!((loaded.recalled, loaded.files), (1, 1));
    }

    #[cfg(unix)]
    #[test]
    fn a_graph_file_swapped_for_a_symlink_outside_is_refused_even_with_the_same_bytes() {
        let repo = Repo::new();
        let graph = r#"{"nodes": [], "edges": []}"#;
        repo.write(
            "a.yaml",
            "kind: agent\nkey: a\nname: A\nflow:\n  graph_file: g.json\n",
        );
        repo.write("g.json", graph);
        let mut memo = LoadMemo::default();
        repo.load_remembering(&mut memo);
        assert_eq!(repo.load_remembering(&mut memo).recalled, 1);

        let outside = tempfile::tempdir().expect("a temporary directory");
        std::fs::write(outside.path().join("g.json"), graph).expect("write");
        std::fs::remove_file(repo.dir.path().join("g.json")).expect("remove");
        std::os::unix::fs::symlink(
            outside.path().join("g.json"),
            repo.dir.path().join("g.json"),
        )
        .expect("symlink");
        let loaded = repo.load_remembering(&mut memo);
        assert_eq!(loaded.recalled, 0);
        let problems: Vec<String> = loaded.problems.iter().map(ToString::to_string).collect();
        assert!(
            problems.len() == 1 && problems[0].contains("lies outside the repository"),
            "{problems:?}"
        );
    }

    #[test]
    fn a_file_with_a_problem_is_checked_and_reported_at_every_load() {
        let repo = Repo::new();
        repo.write("good.yaml", &agent("good", "G"));
        repo.write("typo.yaml", "kind: agent\nkey: typo\nnmae: T\n");
        repo.write(
            "missing.yaml",
            "kind: agent\nkey: missing\nname: M\nflow:\n  graph_file: nowhere.json\n",
        );
        let mut memo = LoadMemo::default();
        for _ in 0..2 {
            let loaded = repo.load_remembering(&mut memo);
            assert_eq!(loaded.problems.len(), 3, "{:?}", loaded.problems);
        }
        assert_eq!(repo.load_remembering(&mut memo).recalled, 1);

        // Once the include exists, its definition loads.
        repo.write("nowhere.json", "{}");
        assert!(
            repo.load_remembering(&mut memo)
                .desired
                .keys()
                .any(|k| k.as_str() == "missing")
        );
    }

    #[test]
    fn problems_across_files_are_found_again_among_recalled_files() {
        let repo = Repo::new();
        repo.write("one.yaml", &agent("same", "One"));
        repo.write("two.yaml", &agent("same", "Two"));
        repo.write(
            "router.yaml",
            "kind: agent\nkey: router\nname: R\nflow:\n  graph:\n    target: \"${agent:nobody}\"\n",
        );
        let mut memo = LoadMemo::default();
        repo.load_remembering(&mut memo);
        let loaded = repo.load_remembering(&mut memo);
        assert_eq!(loaded.recalled, 3, "each file alone is clean");
        let problems: Vec<String> = loaded.problems.iter().map(ToString::to_string).collect();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems.iter().any(|p| p.contains("same")), "{problems:?}");
        assert!(
            problems.iter().any(|p| p.contains("nobody")),
            "{problems:?}"
        );
    }

    #[test]
    fn a_memo_made_for_another_directory_is_not_consulted() {
        let (first, second) = (Repo::new(), Repo::new());
        first.write("a.yaml", &agent("a", "First"));
        second.write("a.yaml", &agent("a", "First"));
        let mut memo = LoadMemo::default();
        first.load_remembering(&mut memo);
        assert_eq!(second.load_remembering(&mut memo).recalled, 0);
        assert_eq!(second.load_remembering(&mut memo).recalled, 1);
    }
}
