//! The state file: a versioned envelope, read once at start, replaced atomically after each change.
//!
//! ```json
//! {"format_version": 1, "platform": "workfx", "state": { ... the platform's own state ... }}
//! ```
//!
//! A save writes a temporary file beside the target, syncs it, renames it over the target and
//! syncs the directory: a crash at any moment leaves either the previous or the new file, never
//! a torn one. A file that cannot be read or understood stops the start and is never written.

use std::{
    fs::{self, File},
    io::{self, Write},
    path::{Path, PathBuf},
    sync::atomic::{AtomicU64, Ordering},
};

use serde::{Serialize, de::DeserializeOwned};
use serde_json::Value;

use super::SimError;

pub(crate) const FORMAT_VERSION: u64 = 1;

/// Where one simulator keeps its state, and for which platform.
#[derive(Debug, Clone)]
pub(crate) struct StateFile {
    path: PathBuf,
    platform: &'static str,
}

#[derive(Serialize)]
struct Envelope<'a, T> {
    format_version: u64,
    platform: &'a str,
    state: &'a T,
}

impl StateFile {
    pub(crate) fn new(path: PathBuf, platform: &'static str) -> StateFile {
        StateFile { path, platform }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The saved state; the platform's empty state when the file does not exist yet.
    pub(crate) fn load<T: DeserializeOwned + Default>(&self) -> Result<T, SimError> {
        let text = match fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                self.check_directory()?;
                return Ok(T::default());
            }
            Err(source) => {
                return Err(SimError::StateRead {
                    path: self.path.clone(),
                    source,
                });
            }
        };
        let parse_error = |source| SimError::StateParse {
            path: self.path.clone(),
            source,
        };
        let invalid = |reason: String| SimError::StateInvalid {
            path: self.path.clone(),
            reason,
        };
        let mut document: Value = serde_json::from_str(&text).map_err(parse_error)?;
        let Some(envelope) = document.as_object_mut() else {
            return Err(invalid("it is not a JSON object".to_owned()));
        };
        match envelope.get("format_version").and_then(Value::as_u64) {
            Some(FORMAT_VERSION) => {}
            Some(other) => {
                return Err(invalid(format!(
                    "its format_version is {other}, and this agentsync reads version {FORMAT_VERSION}"
                )));
            }
            None => return Err(invalid("it has no integer format_version".to_owned())),
        }
        match envelope.get("platform").and_then(Value::as_str) {
            Some(platform) if platform == self.platform => {}
            Some(other) => {
                return Err(invalid(format!(
                    "it holds state for platform {other}, not {}",
                    self.platform
                )));
            }
            None => return Err(invalid("it names no platform".to_owned())),
        }
        let state = envelope.remove("state").unwrap_or(Value::Null);
        serde_json::from_value(state).map_err(parse_error)
    }

    /// A missing file is fine; a missing directory would only fail at the first save, too late.
    fn check_directory(&self) -> Result<(), SimError> {
        if directory_of(&self.path).is_dir() {
            Ok(())
        } else {
            Err(SimError::StateDirectoryMissing {
                path: self.path.clone(),
            })
        }
    }

    pub(crate) fn encode<T: Serialize>(&self, state: &T) -> Result<Vec<u8>, SimError> {
        let envelope = Envelope {
            format_version: FORMAT_VERSION,
            platform: self.platform,
            state,
        };
        let mut bytes = serde_json::to_vec_pretty(&envelope).map_err(SimError::StateEncode)?;
        bytes.push(b'\n');
        Ok(bytes)
    }

    /// Blocking: call it from a blocking task.
    pub(crate) fn save(&self, bytes: &[u8]) -> Result<(), SimError> {
        write_atomically(&self.path, bytes).map_err(|source| SimError::StateWrite {
            path: self.path.clone(),
            source,
        })
    }
}

fn directory_of(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    // Distinct names, so that two saves in flight (two simulators sharing a file by mistake)
    // never write into the same temporary file.
    static SAVES: AtomicU64 = AtomicU64::new(0);
    let directory = directory_of(path);
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| "state".to_owned());
    let temporary = directory.join(format!(
        ".{name}.tmp-{}-{}",
        std::process::id(),
        SAVES.fetch_add(1, Ordering::Relaxed)
    ));
    let written = (|| {
        let mut file = File::create(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&temporary, path)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&temporary);
    }
    written?;
    sync_directory(directory)
}

/// Makes the rename itself durable.
#[cfg(unix)]
fn sync_directory(directory: &Path) -> io::Result<()> {
    File::open(directory)?.sync_all()
}

#[cfg(not(unix))]
fn sync_directory(_directory: &Path) -> io::Result<()> {
    Ok(())
}
