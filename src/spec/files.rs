//! Which files a load may read, and how: inside the repository (after following symlinks),
//! regular files only, opened without blocking, and no larger than [`MAX_FILE_BYTES`].
//!
//! Definitions come from a repository that anyone who can open a pull request writes to, and
//! `validate` runs in CI beside secrets. A `graph_file: /proc/self/environ` or a symlink to
//! `/etc/shadow` must not be read (a problem's snippet would show its bytes, and `apply` would
//! send them), and a named pipe must not hang the run or the daemon.

use std::fs::{File, FileType};
use std::io::Read as _;
use std::path::{Path, PathBuf};

/// Definitions and included files larger than this are refused before they are read.
pub const MAX_FILE_BYTES: u64 = 8 * 1024 * 1024;

/// Why a file's text could not be had.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot read the file")]
    Io(#[from] std::io::Error),
    #[error("the file is {found}, not a regular file")]
    NotAFile { found: &'static str },
    #[error("the file is {size} bytes, more than the {MAX_FILE_BYTES} allowed")]
    TooLarge { size: u64 },
    #[error("the file is not valid UTF-8 text")]
    NotUtf8,
}

/// Reads a regular file's text, refusing anything else (a directory, a named pipe, a device)
/// and a file larger than [`MAX_FILE_BYTES`] before reading it.
pub fn read_text(path: &Path) -> Result<String, ReadError> {
    // Opened once, then measured and read: a repository of graphs is thousands of files.
    let file = open_without_blocking(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(ReadError::NotAFile {
            found: kind_of(meta.file_type()),
        });
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(ReadError::TooLarge { size: meta.len() });
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    // The limit holds for a file that grows while it is read, too.
    file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(ReadError::TooLarge {
            size: bytes.len() as u64,
        });
    }
    String::from_utf8(bytes).map_err(|_| ReadError::NotUtf8)
}

/// Opens for reading without waiting for a writer: opening a named pipe otherwise blocks until
/// one comes, which is never. The type is checked on the open file, so a file swapped for a
/// pipe after a check is caught too.
fn open_without_blocking(path: &Path) -> std::io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.custom_flags(libc::O_NONBLOCK);
    }
    options.open(path)
}

/// What a file that is not a regular file is, as messages say it.
pub fn kind_of(file_type: FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if file_type.is_fifo() {
            return "a named pipe";
        }
        if file_type.is_socket() {
            return "a socket";
        }
        if file_type.is_block_device() || file_type.is_char_device() {
            return "a device";
        }
    }
    if file_type.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}

/// The directory every file a load reads must lie in, symlinks followed: the repository,
/// which is the directory holding `agentsync.yaml` (so that `graph_file: ../flows/x.json` from
/// `agents/` reads `flows/` beside it), or the definitions directory itself when that lies
/// outside the repository (`--definitions /elsewhere`: then nothing beyond it is read).
#[derive(Debug, Clone)]
pub struct Boundary {
    /// Canonical: resolved once per load, so each file costs one `canonicalize`.
    root: PathBuf,
}

/// Why a path may not be read.
#[derive(Debug)]
pub enum Refused {
    /// It resolves outside the [`Boundary`].
    Outside,
    /// It cannot be resolved: missing, a dangling symlink, a loop of symlinks.
    Unresolved(std::io::Error),
}

impl Boundary {
    /// The boundary of a load from `dir` in the repository at `root` (see [`Boundary`]).
    pub fn new(root: &Path, dir: &Path) -> Boundary {
        let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
        let root = match root.canonicalize() {
            Ok(root) if dir.starts_with(&root) => root,
            _ => dir,
        };
        Boundary { root }
    }

    /// The file `path` stands for, every symlink followed, when it lies inside the boundary.
    pub fn resolve(&self, path: &Path) -> Result<PathBuf, Refused> {
        let resolved = path.canonicalize().map_err(Refused::Unresolved)?;
        if resolved.starts_with(&self.root) {
            Ok(resolved)
        } else {
            Err(Refused::Outside)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_resolves_inside_the_repository_or_is_refused() {
        let repo = tempfile::tempdir().expect("a temporary directory");
        let agents = repo.path().join("agents");
        std::fs::create_dir_all(&agents).expect("create agents/");
        std::fs::write(repo.path().join("flow.json"), "{}").expect("write");
        let boundary = Boundary::new(repo.path(), &agents);
        assert!(boundary.resolve(&agents.join("../flow.json")).is_ok());
        assert!(matches!(
            boundary.resolve(&agents.join("../..")),
            Err(Refused::Outside)
        ));
        assert!(matches!(
            boundary.resolve(&agents.join("missing.json")),
            Err(Refused::Unresolved(_))
        ));
        // Definitions outside the repository: nothing beyond their own directory.
        let elsewhere = tempfile::tempdir().expect("a temporary directory");
        let boundary = Boundary::new(repo.path(), elsewhere.path());
        assert!(matches!(
            boundary.resolve(&repo.path().join("flow.json")),
            Err(Refused::Outside)
        ));
    }

    #[test]
    fn a_directory_is_refused_as_no_regular_file() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        assert!(matches!(
            read_text(dir.path()),
            Err(ReadError::NotAFile {
                found: "a directory"
            })
        ));
    }
}
