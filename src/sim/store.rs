//! A platform's state in memory, and its hand-off to the state file: after each change, or when
//! flushed (see [`Saving`]).

use std::sync::atomic::{AtomicBool, Ordering};
use std::{future::Future, pin::Pin};

use serde::{Serialize, de::DeserializeOwned};
use serde_json::Value;
use tokio::sync::RwLock;

use super::{SimError, options::Saving, persist::StateFile};

/// What a platform's state must offer to be kept by a [`Store`].
pub(crate) trait PlatformState:
    Clone + Default + Serialize + DeserializeOwned + Send + Sync + 'static
{
}

impl<T: Clone + Default + Serialize + DeserializeOwned + Send + Sync + 'static> PlatformState
    for T
{
}

/// The state of one simulated platform.
///
/// Writes are serialized and, with a state file, saved before they become visible: a change
/// that could not be saved is not applied, so memory and file never disagree.
#[derive(Debug)]
pub(crate) struct Store<T> {
    state: RwLock<T>,
    file: Option<StateFile>,
    saving: Saving,
    /// Some change is not in the file yet (only with [`Saving::OnFlush`]).
    unsaved: AtomicBool,
}

impl<T: PlatformState> Store<T> {
    /// Loads the state file, if any (missing: empty state).
    pub(crate) fn open(file: Option<StateFile>, saving: Saving) -> Result<Store<T>, SimError> {
        let state = match &file {
            Some(file) => file.load()?,
            None => T::default(),
        };
        Ok(Store {
            state: RwLock::new(state),
            file,
            saving,
            unsaved: AtomicBool::new(false),
        })
    }

    pub(crate) async fn read<R>(&self, read: impl FnOnce(&T) -> R) -> R {
        read(&*self.state.read().await)
    }

    /// Applies `change`; an `Err` from it leaves the state as it was.
    ///
    /// `change` must return `Err` before it modifies anything. It runs on the live state. With
    /// [`Saving::EveryChange`], the write lock is held until the state is saved, so no reader
    /// sees a change before it is saved; should the save fail, the state is read back from the
    /// file, which holds the state as it was (every state readers saw was saved first). Copying
    /// the state per write for that rare case made each write cost as much as the whole state.
    /// With [`Saving::OnFlush`], the change is saved by the next [`Store::flush`].
    pub(crate) async fn write<R, E>(
        &self,
        change: impl FnOnce(&mut T) -> Result<R, E>,
    ) -> Result<R, E>
    where
        E: From<SimError>,
    {
        let mut state = self.state.write().await;
        let answer = change(&mut state)?;
        let Some(file) = &self.file else {
            return Ok(answer);
        };
        if self.saving == Saving::OnFlush {
            self.unsaved.store(true, Ordering::SeqCst);
            return Ok(answer);
        }
        if let Err(err) = save(file, &*state).await {
            match file.load() {
                Ok(before) => *state = before,
                // Memory is now ahead of the file; the next successful save catches it up.
                Err(reload) => tracing::error!(
                    error = %reload,
                    "the state file could not be read back after a failed save"
                ),
            }
            return Err(err.into());
        }
        Ok(answer)
    }

    /// Saves the changes not saved yet (with [`Saving::OnFlush`]; otherwise there are none).
    pub(crate) async fn flush(&self) -> Result<(), SimError> {
        let Some(file) = &self.file else {
            return Ok(());
        };
        // Held while saving: no change slips in between the encoding and the flag.
        let state = self.state.read().await;
        if !self.unsaved.swap(false, Ordering::SeqCst) {
            return Ok(());
        }
        let saved = save(file, &*state).await;
        if saved.is_err() {
            self.unsaved.store(true, Ordering::SeqCst);
        }
        saved
    }
}

/// Writes `state` to `file`, atomically, off the async threads.
async fn save<T: Serialize>(file: &StateFile, state: &T) -> Result<(), SimError> {
    let bytes = file.encode(state)?;
    let file = file.clone();
    let file_path = file.path().to_path_buf();
    tokio::task::spawn_blocking(move || file.save(&bytes))
        .await
        .map_err(|join| SimError::StateWrite {
            path: file_path,
            source: std::io::Error::other(join.to_string()),
        })?
}

/// A platform's state without knowing its type: as JSON for `GET /_sim/state`, and saved on
/// flush.
pub(crate) trait StateHandle: Send + Sync {
    fn snapshot(&self) -> Pin<Box<dyn Future<Output = Value> + Send + '_>>;
    /// [`Store::flush`].
    fn flush(&self) -> Pin<Box<dyn Future<Output = Result<(), SimError>> + Send + '_>>;
}

impl<T: PlatformState> StateHandle for Store<T> {
    fn snapshot(&self) -> Pin<Box<dyn Future<Output = Value> + Send + '_>> {
        Box::pin(async move {
            self.read(|state| serde_json::to_value(state).unwrap_or(Value::Null))
                .await
        })
    }

    fn flush(&self) -> Pin<Box<dyn Future<Output = Result<(), SimError>> + Send + '_>> {
        Box::pin(Store::flush(self))
    }
}
