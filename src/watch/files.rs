//! File events under the definitions directories (one per target), as a channel the loop can
//! wait on.
//!
//! The directory is watched (recursively), not each file, so editors that save by writing a
//! temporary file and renaming it over the original are seen like any other change. Its
//! parents are watched too, each on its own (not recursively): a watch follows a directory's
//! inode, not its path, so when the directory is removed and made again, or another one is
//! renamed into its place (`git checkout`, `mv`, git-sync's symlink swap), only the parent sees
//! it. Such an event on the way to a directory marks the watch stale, and the next
//! [`FileWatch::follow`] (at the start of the sync that event triggers) watches the directory
//! now at that path. A directory that is missing is not watched; its parents are, so its
//! return triggers a sync.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use notify::event::{EventKind, ModifyKind};
use notify::{Event, RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::mpsc;

use super::WatchError;

/// A watch on the definitions directories; events arrive on the receiver given at creation.
pub struct FileWatch {
    watcher: RecommendedWatcher,
    /// The directories as followed last, with what each path named then.
    watching: Vec<Followed>,
    /// Every path given to the watcher (directories and their parents), to unwatch.
    watched: Vec<PathBuf>,
    /// The directories, as the event handler filters by them.
    dirs: Arc<RwLock<Vec<PathBuf>>>,
    /// Set by the event handler when something on the way to a directory changed.
    stale: Arc<AtomicBool>,
}

/// A directory to follow, and what its path and its parents' paths named when it was followed.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Followed {
    dir: PathBuf,
    resolved: Option<PathBuf>,
    identities: Vec<Option<Identity>>,
}

impl Followed {
    fn now(dir: PathBuf) -> Followed {
        Followed {
            resolved: dir.canonicalize().ok(),
            identities: dir.ancestors().map(identity).collect(),
            dir,
        }
    }
}

/// Which file a path names (device and inode), where the platform tells.
type Identity = (u64, u64);

#[cfg(unix)]
fn identity(path: &Path) -> Option<Identity> {
    use std::os::unix::fs::MetadataExt;
    path.metadata().ok().map(|m| (m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn identity(path: &Path) -> Option<Identity> {
    path.metadata().ok().map(|_| (0, 0))
}

impl FileWatch {
    pub fn new() -> Result<(FileWatch, mpsc::UnboundedReceiver<()>), WatchError> {
        let (sender, receiver) = mpsc::unbounded_channel();
        let dirs: Arc<RwLock<Vec<PathBuf>>> = Arc::default();
        let stale = Arc::new(AtomicBool::new(false));
        let (seen_dirs, seen_stale) = (Arc::clone(&dirs), Arc::clone(&stale));
        let watcher = notify::recommended_watcher(move |event: notify::Result<Event>| {
            let effect = match &event {
                Ok(event) => {
                    let dirs = seen_dirs.read().unwrap_or_else(|e| e.into_inner());
                    effect(event, &dirs)
                }
                Err(err) => {
                    // A watch may have been lost (too many watches, say): watch again at the
                    // next sync, and sync now.
                    tracing::warn!(error = %err, "file watch error");
                    Effect::Refollow
                }
            };
            if effect == Effect::Refollow {
                seen_stale.store(true, Ordering::SeqCst);
            }
            if effect != Effect::None {
                // The loop owns the receiver; once it is gone nobody is listening.
                let _ = sender.send(());
            }
        })
        .map_err(WatchError::Notify)?;
        Ok((
            FileWatch {
                watcher,
                watching: Vec::new(),
                watched: Vec::new(),
                dirs,
                stale,
            },
            receiver,
        ))
    }

    /// Watches `dirs` and their parents, unless that is done already and nothing on the way
    /// to them has changed since. A directory that is missing is left out (its parents are
    /// watched, so its return is seen); the error is that of a directory that exists and
    /// cannot be watched.
    pub fn follow(&mut self, dirs: &[PathBuf]) -> Result<(), WatchError> {
        let dirs: Vec<PathBuf> = dirs
            .iter()
            .map(|dir| std::path::absolute(dir).unwrap_or_else(|_| dir.clone()))
            .collect();
        let wanted: Vec<Followed> = dirs.iter().cloned().map(Followed::now).collect();
        // Cleared before the watches are set: an event while they are set marks them stale
        // again, and the next sync sets them once more.
        let stale = self.stale.swap(false, Ordering::SeqCst);
        if !stale && wanted == self.watching {
            return Ok(());
        }
        *self.dirs.write().unwrap_or_else(|e| e.into_inner()) = dirs.clone();
        // Old watches go first: the watcher knows watches by path, and one set again on a path
        // whose old watch is still there would leave the old directory's events coming in
        // under the new one's name.
        for path in self.watched.drain(..) {
            let _ = self.watcher.unwatch(&path);
        }
        self.watching = wanted;
        let parents: std::collections::BTreeSet<&Path> = dirs
            .iter()
            .flat_map(|dir| dir.ancestors().skip(1))
            .collect();
        for parent in parents {
            // A parent that cannot be watched (missing, or not readable) only costs promptness.
            if self
                .watcher
                .watch(parent, RecursiveMode::NonRecursive)
                .is_ok()
            {
                self.watched.push(parent.to_path_buf());
            }
        }
        let mut result = Ok(());
        for dir in &dirs {
            if !dir.is_dir() {
                tracing::warn!(dir = %dir.display(), "the definitions directory is missing; watching its parents for its return");
                continue;
            }
            match self.watcher.watch(dir, RecursiveMode::Recursive) {
                Ok(()) => {
                    self.watched.push(dir.clone());
                    tracing::info!(dir = %dir.display(), "watching definitions");
                }
                Err(err) => {
                    // Gone between the check and the watch: its parents see its return.
                    if !dir.is_dir() {
                        continue;
                    }
                    // Try again at the next sync.
                    self.stale.store(true, Ordering::SeqCst);
                    if result.is_ok() {
                        result = Err(WatchError::Notify(err));
                    }
                }
            }
        }
        result
    }
}

/// What an event calls for, the least first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Effect {
    None,
    /// A definition may have changed: sync.
    Sync,
    /// A directory, or a directory on the way to it, was made, removed or renamed: watch again,
    /// then sync.
    Refollow,
}

/// What `event` calls for, given the directories followed. Reads are not changes; editors'
/// swap and backup files are not definitions; a parent's other entries are none of ours.
fn effect(event: &Event, dirs: &[PathBuf]) -> Effect {
    if matches!(event.kind, EventKind::Access(_)) {
        return Effect::None;
    }
    if event.paths.is_empty() || event.need_rescan() {
        // The watcher lost track (its queue overflowed): anything may have changed.
        return Effect::Refollow;
    }
    let structural = matches!(
        event.kind,
        EventKind::Create(_)
            | EventKind::Remove(_)
            | EventKind::Modify(ModifyKind::Name(_))
            | EventKind::Modify(ModifyKind::Any)
            | EventKind::Any
            | EventKind::Other
    );
    let mut found = Effect::None;
    for path in &event.paths {
        for dir in dirs {
            let one = if dir.starts_with(path) {
                // The directory itself, or a directory on the way to it.
                if structural {
                    Effect::Refollow
                } else if path == dir {
                    Effect::Sync
                } else {
                    Effect::None
                }
            } else if let Ok(inside) = path.strip_prefix(dir) {
                if scratch(inside) {
                    Effect::None
                } else {
                    Effect::Sync
                }
            } else {
                Effect::None
            };
            found = found.max(one);
        }
    }
    found
}

/// `inside`: a path relative to the definitions directory.
fn scratch(inside: &Path) -> bool {
    let name = inside
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    // The embedded simulator's state and git's own files change on every sync or fetch; were
    // the definitions directory the repository root, they would otherwise trigger syncs forever.
    let private = inside.components().any(|c| {
        let c = c.as_os_str();
        c == ".git" || c == ".agentsync"
    });
    private
        || name.ends_with('~')
        || name.ends_with(".swp")
        || name.ends_with(".swx")
        || name.starts_with(".#")
}

#[cfg(test)]
mod tests {
    use super::*;
    use notify::event::{CreateKind, DataChange, MetadataKind, RemoveKind, RenameMode};

    fn event(kind: EventKind, path: &str) -> Event {
        Event::new(kind).add_path(PathBuf::from(path))
    }

    fn dirs() -> Vec<PathBuf> {
        vec![PathBuf::from("/repo/agents")]
    }

    #[test]
    fn a_directory_on_the_way_made_removed_or_renamed_calls_for_a_new_watch() {
        let renamed = EventKind::Modify(ModifyKind::Name(RenameMode::To));
        for (kind, path) in [
            (EventKind::Create(CreateKind::Folder), "/repo/agents"),
            (EventKind::Remove(RemoveKind::Folder), "/repo/agents"),
            (renamed, "/repo/agents"),
            (renamed, "/repo"),
        ] {
            assert_eq!(
                effect(&event(kind, path), &dirs()),
                Effect::Refollow,
                "{path}"
            );
        }
    }

    #[test]
    fn a_change_inside_calls_for_a_sync_and_the_parents_other_entries_for_nothing() {
        let written = EventKind::Modify(ModifyKind::Data(DataChange::Any));
        assert_eq!(
            effect(&event(written, "/repo/agents/a.yaml"), &dirs()),
            Effect::Sync
        );
        let made = EventKind::Create(CreateKind::File);
        assert_eq!(
            effect(&event(made, "/repo/README.md"), &dirs()),
            Effect::None
        );
        assert_eq!(
            effect(&event(made, "/repo/agents.new"), &dirs()),
            Effect::None
        );
        let touched = EventKind::Modify(ModifyKind::Metadata(MetadataKind::Any));
        assert_eq!(effect(&event(touched, "/repo"), &dirs()), Effect::None);
        assert_eq!(
            effect(&event(made, "/repo/agents/.a.yaml.swp"), &dirs()),
            Effect::None
        );
    }

    #[test]
    fn private_names_count_only_inside_the_directory() {
        let dirs = vec![PathBuf::from("/home/me/.agentsync/repo/agents")];
        let written = EventKind::Modify(ModifyKind::Data(DataChange::Any));
        assert_eq!(
            effect(
                &event(written, "/home/me/.agentsync/repo/agents/a.yaml"),
                &dirs
            ),
            Effect::Sync
        );
    }
}
