//! File events under the definitions directory, as a channel the loop can wait on.
//!
//! The directory is watched (recursively), not each file, so editors that save by writing a
//! temporary file and renaming it over the original are seen like any other change. Each
//! symlink on the way to the directory has its parent watched too: `git-sync` publishes a new
//! checkout by swapping a symlink, which changes no file inside the old checkout.

use std::path::{Path, PathBuf};

use notify::{Event, EventKind, RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::mpsc;

use super::WatchError;

/// A watch on one definitions directory; events arrive on the receiver given at creation.
pub struct FileWatch {
    watcher: RecommendedWatcher,
    /// The directory as configured, and where it resolved to when the watch was set.
    watching: Option<(PathBuf, PathBuf)>,
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
                watching: None,
                extra: Vec::new(),
            },
            receiver,
        ))
    }

    /// Watches `dir`, unless it is already watched and still resolves to the same place.
    pub fn follow(&mut self, dir: &Path) -> Result<(), WatchError> {
        let resolved = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
        if let Some((watched, target)) = &self.watching
            && watched == dir
            && *target == resolved
        {
            return Ok(());
        }
        if let Some((watched, _)) = self.watching.take() {
            let _ = self.watcher.unwatch(&watched);
        }
        for path in self.extra.drain(..) {
            let _ = self.watcher.unwatch(&path);
        }
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
        self.watching = Some((dir.to_path_buf(), resolved));
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
