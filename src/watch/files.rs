//! File events under the definitions directories (one per target), as a channel the loop can
//! wait on.
//!
//! The directory is watched (recursively), not each file, so editors that save by writing a
//! temporary file and renaming it over the original are seen like any other change. Each
//! symlink on the way to the directory has its parent watched too: `git-sync` publishes a new
//! checkout by swapping a symlink, which changes no file inside the old checkout.

use std::path::{Path, PathBuf};

use notify::{Event, EventKind, RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::mpsc;

use super::WatchError;

/// A watch on the definitions directories; events arrive on the receiver given at creation.
pub struct FileWatch {
    watcher: RecommendedWatcher,
    /// Each directory as configured, and where it resolved to when the watch was set.
    watching: Vec<(PathBuf, PathBuf)>,
    extra: Vec<PathBuf>,
}

impl FileWatch {
    pub fn new() -> Result<(FileWatch, mpsc::UnboundedReceiver<()>), WatchError> {
        let (sender, receiver) = mpsc::unbounded_channel();
        let watcher = notify::recommended_watcher(move |event: notify::Result<Event>| {
            match event {
                Ok(event) if relevant(&event) => {
                    // The loop owns the receiver; once it is gone nobody is listening.
                    let _ = sender.send(());
                }
                Ok(_) => {}
                Err(err) => tracing::warn!(error = %err, "file watch error"),
            }
        })
        .map_err(WatchError::Notify)?;
        Ok((
            FileWatch {
                watcher,
                watching: Vec::new(),
                extra: Vec::new(),
            },
            receiver,
        ))
    }

    /// Watches `dirs`, unless they are already watched and still resolve to the same places.
    pub fn follow(&mut self, dirs: &[PathBuf]) -> Result<(), WatchError> {
        let wanted: Vec<(PathBuf, PathBuf)> = dirs
            .iter()
            .map(|dir| {
                let resolved = dir.canonicalize().unwrap_or_else(|_| dir.clone());
                (dir.clone(), resolved)
            })
            .collect();
        if wanted == self.watching {
            return Ok(());
        }
        for (watched, _) in self.watching.drain(..) {
            let _ = self.watcher.unwatch(&watched);
        }
        for path in self.extra.drain(..) {
            let _ = self.watcher.unwatch(&path);
        }
        for (dir, _) in &wanted {
            self.watcher
                .watch(dir, RecursiveMode::Recursive)
                .map_err(WatchError::Notify)?;
            for link in dir.ancestors().filter(|p| is_symlink(p)) {
                if let Some(parent) = link.parent()
                    && self
                        .watcher
                        .watch(parent, RecursiveMode::NonRecursive)
                        .is_ok()
                {
                    self.extra.push(parent.to_path_buf());
                }
            }
            tracing::info!(dir = %dir.display(), "watching definitions");
        }
        self.watching = wanted;
        Ok(())
    }
}

fn is_symlink(path: &Path) -> bool {
    path.symlink_metadata()
        .is_ok_and(|m| m.file_type().is_symlink())
}

/// Reads are not changes; editors' swap and backup files are not definitions.
fn relevant(event: &Event) -> bool {
    if matches!(event.kind, EventKind::Access(_)) {
        return false;
    }
    event.paths.is_empty() || event.paths.iter().any(|p| !scratch(p))
}

fn scratch(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    // The embedded simulator's state and git's own files change on every sync or fetch; were
    // the definitions directory the repository root, they would otherwise trigger syncs forever.
    let private = path.components().any(|c| {
        let c = c.as_os_str();
        c == ".git" || c == ".agentsync"
    });
    private
        || name.ends_with('~')
        || name.ends_with(".swp")
        || name.ends_with(".swx")
        || name.starts_with(".#")
}
